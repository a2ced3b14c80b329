'use strict';

const assert = require('node:assert/strict');

/** Receives until `pred` holds, failing after `timeoutMs`; returns the
 * message that matched and what came before it. */
async function receiveUntil(mbox, pred, timeoutMs = 5000) {
  const seen = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    assert.ok(left > 0, `no matching message within ${timeoutMs} ms; saw ${JSON.stringify(seen.map(brief))}`);
    const m = await mbox.receive({ timeoutMs: left });
    assert.ok(m !== null, `no matching message within ${timeoutMs} ms; saw ${JSON.stringify(seen.map(brief))}`);
    if (pred(m)) return { match: m, before: seen };
    seen.push(m);
  }
}

function brief(m) {
  if (m.kind === 'data') return { kind: m.kind, sender: m.sender, len: m.data.length };
  if (m.kind === 'membership') return { kind: m.kind, group: m.group, cause: m.cause, members: m.members };
  return m;
}

/** Waits for the view of `group` with exactly `n` members. */
function viewOf(mbox, group, n, timeoutMs) {
  return receiveUntil(mbox, (m) => m.kind === 'membership' && m.group === group && m.members.length === n,
    timeoutMs).then((r) => r.match);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { receiveUntil, viewOf, sleep, brief };

// A chat client: `node examples/chat.js [daemon] [name]`. Lines typed go to
// the group 'chat'; what the others say and who comes and goes is printed.
'use strict';

const readline = require('node:readline');
const { connect, Service } = require('..');

async function main() {
  const [daemon = '4803', name] = process.argv.slice(2);
  const mbox = await connect({ daemon, name });
  await mbox.join('chat');
  mbox.on('message', (m) => console.log(`<${m.sender}> ${m.data.toString()}`));
  mbox.on('membership', (m) => {
    if (m.kind === 'membership') console.log(`* ${m.group}: ${m.members.join(' ')} (${m.cause})`);
  });
  mbox.on('error', (e) => console.error(`spread: ${e.name} ${e.message}`));
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    mbox.multicast('chat', line, { service: Service.Agreed }).catch((e) => console.error(e.message));
  });
  lines.on('close', () => mbox.close());
}

main().catch((e) => {
  console.error(`${e.name}: ${e.message}`);
  process.exit(1);
});

// A chat client in TypeScript: `npx tsx examples/chat.ts [daemon] [name]`
// (or compile with tsc). Lines typed go to the group 'chat'; what the
// others say and who comes and goes is printed.
import * as readline from 'node:readline';
import { connect, Message, Service } from '..';

function show(m: Message): string | null {
  switch (m.kind) {
    case 'data':
      return `<${m.sender}> ${m.data.toString('utf8')}`;
    case 'membership':
      return `* ${m.group}: ${m.members.join(' ')} (${m.cause}${m.changedMember ? ` of ${m.changedMember}` : ''})`;
    default:
      return null;
  }
}

async function main(): Promise<void> {
  const [daemon = '4803', name] = process.argv.slice(2);
  const mbox = await connect(name === undefined ? { daemon } : { daemon, name });
  await mbox.join('chat');
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    mbox.multicast('chat', line, { service: Service.Agreed }).catch((e: unknown) => console.error(e));
  });
  lines.on('close', () => void mbox.close());
  for await (const m of mbox) {
    const text = show(m);
    if (text !== null) console.log(text);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

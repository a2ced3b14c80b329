// Compiled with `tsc --strict --noEmit` in CI: every use of the types
// here must type-check, and the @ts-expect-error lines must not.
import {
  connect, Mailbox, Message, MembershipMessage, Service, SpreadError, SpreadErrorName, strerror,
} from '../..';

function describe(m: Message): string {
  switch (m.kind) {
    case 'data':
      return `${m.sender} -> ${m.groups.join(',')} [${m.service}/${m.type}]: ${m.data.toString('utf8')}`;
    case 'membership': {
      const ids: number[] = [m.groupId.procId, m.groupId.time, m.groupId.index];
      const sets: string[][] = m.vsSets;
      return `${m.group}: ${m.members.length} members after ${m.cause}` +
        ` ${m.changedMember ?? ''} ${ids.join('.')} ${sets.length} ${m.localVsSet}`;
    }
    case 'transition':
      return `transition in ${m.group} from ${m.groupId.index}`;
    case 'selfLeave':
      return `left ${m.group}`;
    case 'reject':
      return `rejected ${m.oldType} to ${m.groups.join(',')}`;
    default: {
      const never: never = m;
      return never;
    }
  }
}

async function main(): Promise<void> {
  const mbox: Mailbox = await connect({ daemon: '4803', name: 'alice', membership: true });
  const other = await connect('4803@127.0.0.1');
  await mbox.join('chat');
  const bytes: number = await mbox.multicast('chat', 'hello', { service: Service.Agreed, type: 0 });
  await mbox.multicast(['chat', 'log'], Buffer.from([1, 2]), { service: 'safe', selfDiscard: true });
  await mbox.multicast('chat', new Uint8Array(3));
  const first: Message = await mbox.receive();
  const maybe: Message | null = await mbox.receive({ timeoutMs: 500 });
  // @ts-expect-error a receive with a timeout may give null
  const notNull: Message = await mbox.receive({ timeoutMs: 500 });
  mbox.on('message', (m) => {
    const data: Buffer = m.data;
    console.log(data.length, m.sender);
  });
  mbox.on('membership', (m) => {
    if (m.kind === 'membership') {
      const v: MembershipMessage = m;
      console.log(v.members);
    }
  });
  mbox.on('error', (e: SpreadError) => {
    const name: SpreadErrorName = e.name;
    console.log(e.code, name, e.codeName, strerror(e.code));
  });
  for await (const m of mbox) {
    console.log(describe(m));
    if (m.kind === 'data') break;
  }
  // @ts-expect-error the data must be bytes or text
  await mbox.multicast('chat', 42);
  // @ts-expect-error there is no 'data' kind-specific event name 'data'
  mbox.on('data', () => {});
  try {
    await mbox.join('#bad#name');
  } catch (e) {
    if (e instanceof SpreadError && e.name === 'ILLEGAL_GROUP') console.log(e.code);
  }
  console.log(bytes, first, maybe, notNull, mbox.privateGroup, mbox.fd, mbox.poll(), mbox.closed);
  mbox.unref().ref();
  other.kill();
  await mbox.leave('chat');
  await mbox.close();
}

void main();

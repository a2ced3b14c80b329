// The Flush types, compiled with `tsc --strict --noEmit` in CI: every use
// here must type-check, and the @ts-expect-error lines must not.
import {
  connectFlush, FlushMailbox, FlushMessage, FlushViewMessage, FL_MIN_LEGAL_MESS_TYPE, Service, SpreadError,
  SpreadErrorName,
} from '../..';

function show(m: FlushMessage): string {
  switch (m.kind) {
    case 'data':
      return `${m.sender} -> ${m.groups.join(',')} [${m.service}/${m.type}] ${m.data.length} (${m.more} more)`;
    case 'flushRequest':
      return `flush ${m.group}`;
    case 'view': {
      const ids: number[] = [m.groupId.procId, m.groupId.time, m.groupId.index];
      return `${m.group}: ${m.members.join(' ')}, I am #${m.myIndex}, ${m.cause} of ${m.vsSet.join(' ')} ${ids}`;
    }
    case 'transition':
      return `transition in ${m.group}`;
    case 'selfLeave':
      return `left ${m.group}`;
    case 'reject':
      return `rejected ${m.oldType}`;
    default: {
      const never: never = m;
      return never;
    }
  }
}

async function flushMain(): Promise<void> {
  const fl: FlushMailbox = await connectFlush({ daemon: '4803', name: 'alice', timeoutMs: 1000 });
  const other = await connectFlush('4803');
  // @ts-expect-error a Flush mailbox always receives membership messages
  await connectFlush({ membership: false });
  await fl.join('chat');
  for await (const m of fl) {
    console.log(show(m));
    if (m.kind === 'flushRequest') await fl.flush(m.group);
    if (m.kind === 'view') {
      const v: FlushViewMessage = m;
      const n: number = await fl.multicast(v.group, 'hello', { service: Service.Agreed, type: 1 });
      await fl.multicast(v.group, ['scat', Buffer.from('tered')], { service: 'safe' });
      await fl.subgroupcast(v.group, v.members, new Uint8Array(2));
      await fl.unicast(v.group, v.members[0] ?? fl.privateGroup, 'hi', { type: FL_MIN_LEGAL_MESS_TYPE });
      // @ts-expect-error receivers are a list of names
      await fl.subgroupcast(v.group, v.members[0], 'x');
      console.log(n);
      break;
    }
  }
  const maybe: FlushMessage | null = await fl.receive({ timeoutMs: 0 });
  // @ts-expect-error a receive with a timeout may give null
  const notNull: FlushMessage = await fl.receive({ timeoutMs: 500 });
  try {
    await fl.flush('chat');
  } catch (e) {
    if (e instanceof SpreadError) {
      const name: SpreadErrorName = e.name;
      if (name === 'ILLEGAL_STATE' || name === 'ILLEGAL_RECEIVERS') console.log(e.code);
    }
  }
  console.log(maybe, notNull, fl.fd, fl.poll(), fl.moreMsgs(), fl.closed);
  await other.close();
  await fl.leave('chat');
  await fl.close();
}

void flushMain();

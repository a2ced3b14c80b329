// ESM entry point: the same objects as the CommonJS one (index.js).
import cjs from './index.js';

export const {
  connect,
  connectFlush,
  Mailbox,
  FlushMailbox,
  Service,
  Priority,
  SpreadError,
  strerror,
  MAX_GROUPS_PER_MESSAGE,
  MAX_MESSAGE_LEN,
  FL_MIN_LEGAL_MESS_TYPE,
} = cjs;
export default cjs;

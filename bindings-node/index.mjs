// ESM entry point: the same objects as the CommonJS one (index.js).
import cjs from './index.js';

export const {
  connect,
  Mailbox,
  Service,
  Priority,
  SpreadError,
  strerror,
  MAX_GROUPS_PER_MESSAGE,
  MAX_MESSAGE_LEN,
} = cjs;
export default cjs;

/**
 * Hooks shared between the offline module (XEP-0160) and the presence module.
 *
 * Initial presence with priority ≥ 0 is signalled by `userAvailable` (src/core/server-hooks.ts);
 * the offline module reads the session's priority from the session table (the presence
 * module sets it with `sessions.setPriority` **before** running `userAvailable`). A later
 * presence that raises the priority from negative to ≥ 0 is not an initial presence, so the
 * presence module runs {@link resendOfflineMessages} for it (MongooseIM's
 * `resend_offline_messages`, reference §5.1).
 * @module
 */
import { defineHook } from '../../hooks/index.ts';
import type { Jid } from '../jid.ts';

/** Params of {@link resendOfflineMessages}. */
export interface ResendOfflineParams {
  /** The session's full JID. */
  readonly jid: Jid;
  readonly sid: string;
}

/**
 * A session's priority went from negative to ≥ 0 (RFC 6121 §4.7.2.3, §8.5.2.1.1): stored
 * messages may now be delivered to it. Tag = host type. Notification: acc is `undefined`;
 * stop only skips later handlers. Run by the presence module.
 */
export const resendOfflineMessages = defineHook<undefined, ResendOfflineParams>(
  'resendOfflineMessages',
  'A session can now take bare-JID messages (priority raised to >= 0); offline storage delivers (notification).',
);

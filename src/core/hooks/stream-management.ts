/**
 * Hooks shared between stream management (XEP-0198) and other modules (reference §5.2):
 * push notifications learn about messages the client may not have seen, MAM can remove what
 * is already archived before a dormant session's buffer is re-routed.
 * @module
 */
import { defineHook } from '../../hooks/index.ts';
import type { Acc } from '../acc.ts';
import type { Jid } from '../jid.ts';

/** Params of {@link unacknowledgedMessage}. */
export interface UnacknowledgedMessageParams {
  /** The message (stripped acc) that reached a connection whose socket is gone. */
  readonly acc: Acc;
  /** The full JID of the dormant session. */
  readonly jid: Jid;
}

/**
 * A message was buffered for a connection without a socket (stream management's dormant
 * state), or was in the buffer when the connection went dormant. Notification, tag = host
 * type; stop skips later handlers.
 */
export const unacknowledgedMessage = defineHook<undefined, UnacknowledgedMessageParams>(
  'unacknowledgedMessage',
  'A message is waiting in a dormant session (notification).',
);

/** Params of {@link filterUnacknowledgedMessages}. */
export interface FilterUnacknowledgedParams {
  /** The full JID of the session being torn down. */
  readonly jid: Jid;
  readonly reason: string;
}

/**
 * Fold over the unacknowledged stanzas a terminating session is about to re-route through
 * the router (another resource or offline storage). A handler returns the list without what
 * must not be re-routed (MAM: messages already archived). Tag = host type.
 */
export const filterUnacknowledgedMessages = defineHook<Acc[], FilterUnacknowledgedParams>(
  'filterUnacknowledgedMessages',
  'fold over the stanzas about to be re-routed; return the ones to keep',
);

/**
 * `cast` events other modules send to the presence module (tag {@link PRESENCE_CAST_TAG}), so
 * they need not import it. Today: the blocking module (XEP-0191) telling every session of the
 * user that its blocklist changed, so the presence state follows:
 *
 * - `blocked`: contacts that had seen this resource available (`available`, including
 *   directed-presence targets) and now match a blocked JID get `unavailable` (XEP-0191 §3.3)
 *   and leave `available`. `notified` lists the JIDs the blocking module already sent
 *   `unavailable` to itself (from every available resource), so they get no second one.
 * - `unblocked`: `from`/`both` subscribers who do not see this resource yet get its current
 *   presence when the privacy check now lets it through (XEP-0191 §3.4).
 *
 * The blocking module casts its own blocklist update first, then this event, to each session:
 * the session's blocklist is current when the presence module runs its privacy checks.
 *
 * Example (in the blocking module):
 * ```ts
 * for (const s of env.sessions.sessionsOf(user)) s.cast(PRESENCE_CAST_TAG, { kind: 'blocked', jids, notified });
 * ```
 * @module
 */

/** Tag of the casts (and calls) handled by the presence module. */
export const PRESENCE_CAST_TAG = 'presence';

/** Blocklist change, as seen by the presence module. JIDs are normalised strings (full, bare, domain, domain/resource). */
export type PresenceBlockingEvent =
  | { readonly kind: 'blocked'; readonly jids: readonly string[]; readonly notified: readonly string[] }
  | { readonly kind: 'unblocked' };

/** Type guard for {@link PresenceBlockingEvent}. */
export function isPresenceBlockingEvent(x: unknown): x is PresenceBlockingEvent {
  if (typeof x !== 'object' || x === null) return false;
  const k = (x as { kind?: unknown }).kind;
  if (k === 'unblocked') return true;
  return k === 'blocked' && Array.isArray((x as { jids?: unknown }).jids) && Array.isArray((x as { notified?: unknown }).notified);
}

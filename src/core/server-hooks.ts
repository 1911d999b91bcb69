/**
 * Server-level hook specs (reference §4.3) used by the router, the session manager and the IQ
 * handler registry. Connection (c2s) hooks live in `src/c2s`; modules define their own.
 *
 * Every hook is a fold with stop ({@link HookRegistry.run}); each spec's doc says what its
 * accumulator is, what its tag is (host type or global) and what `stop` means.
 * @module
 */
import { defineHook } from '../hooks/index.ts';
import type { Acc } from './acc.ts';
import type { Jid } from './jid.ts';

// ---------------------------------------------------------------- routing

/**
 * First router step, tag `global`. Acc = the stanza's {@link Acc}. **stop = drop** the stanza
 * silently (the handler answers the sender itself if it wants to).
 */
export const filterPacket = defineHook<Acc, undefined>('filterPacket', 'Global router filter; stop drops the stanza.');

/**
 * Before local delivery, tag = the **recipient's** host type; the acc has already been stripped
 * to the recipient's `lserver`/`hostType`. **stop = drop** (domain isolation, MAM, inbox and
 * the like sit here).
 */
export const filterLocalPacket = defineHook<Acc, undefined>('filterLocalPacket', 'Recipient-host-type filter before local delivery; stop drops.');

/** Params of the offline hooks: the message's sender and (bare or full) recipient. */
export interface OfflineParams {
  readonly from: Jid;
  readonly to: Jid;
}

/**
 * A chat/normal message for an existing user with no resource able to take it (RFC 6121
 * §8.5.2.1.1), tag = recipient host type. **stop = handled** (stored by an offline module, or
 * deliberately swallowed). When nobody stops, the session manager bounces
 * `service-unavailable` (MongooseIM's `bounce_offline_message` at priority 100).
 */
export const offlineMessage = defineHook<Acc, OfflineParams>('offlineMessage', 'Message for an unavailable user; stop = stored/handled, otherwise bounced.');

/**
 * A `groupchat` message to a bare JID with no available resource, tag = recipient host type.
 * **stop = handled**; when nobody stops, the message is dropped (RFC 6121 §8.5.2.1.1).
 */
export const offlineGroupchatMessage = defineHook<Acc, OfflineParams>('offlineGroupchatMessage', 'Groupchat message for an unavailable user; default drop.');

/** Params of {@link smFilterOfflineMessage}. */
export interface SmFilterOfflineParams {
  readonly acc: Acc;
  readonly from: Jid;
  readonly to: Jid;
}

/**
 * A message to a full JID whose session is gone, before it is handled as a bare-JID message,
 * tag = recipient host type. Acc = `drop` flag, initially `false`: a handler that sets it to
 * `true` (e.g. MAM, which already archived it) drops the message. stop = later handlers skip.
 */
export const smFilterOfflineMessage = defineHook<boolean, SmFilterOfflineParams>('smFilterOfflineMessage', 'Acc true drops a message to a gone full JID.');

/** The four presence subscription types (RFC 6121 §3). */
export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';

/** Params of {@link rosterInSubscription}. */
export interface RosterInSubscriptionParams {
  readonly acc: Acc;
  /** The contact's bare JID (the recipient, a local user). */
  readonly to: Jid;
  /** The sender (bare). */
  readonly from: Jid;
  readonly type: SubscriptionType;
}

/**
 * An inbound subscription presence for a local user (RFC 6121 §3.1.3, §3.2.3, §3.3.3, §3.4.3),
 * tag = recipient host type. Acc = deliver flag, **initially `true`**: the roster module sets it
 * to `false` when the stanza changes nothing and must not be delivered. (MongooseIM starts from
 * `false`, so without mod_roster subscription requests vanish; we deliver instead — a server
 * without a roster module still passes them on.) stop = later handlers skip.
 */
export const rosterInSubscription = defineHook<boolean, RosterInSubscriptionParams>('rosterInSubscription', 'Acc = deliver the subscription presence (default true).');

/** Params of {@link userAvailable}. */
export interface UserAvailableParams {
  readonly jid: Jid;
  readonly sid: string;
}

/**
 * A session sent its initial presence (RFC 6121 §4.2), tag = host type. Run by the presence
 * module (not the session manager). Notification: acc is `undefined`, stop only skips later
 * handlers.
 */
export const userAvailable = defineHook<undefined, UserAvailableParams>('userAvailable', 'Session became available (notification).');

/** Params of the session lifecycle hooks. */
export interface SmConnectionParams {
  readonly sid: string;
  readonly jid: Jid;
  readonly info: Readonly<Record<string, unknown>>;
  /** Why the session was removed (only for {@link smRemoveConnection}). */
  readonly reason?: string | undefined;
}

/** A session was registered (after replacements), tag = host type. Notification; stop skips later handlers. */
export const smRegisterConnection = defineHook<undefined, SmConnectionParams>('smRegisterConnection', 'Session registered (notification).');

/** A session was removed, tag = host type. Notification; stop skips later handlers. */
export const smRemoveConnection = defineHook<undefined, SmConnectionParams>('smRemoveConnection', 'Session removed (notification).');

// ---------------------------------------------------------------- accounts and domains

/** Acc of the removal hooks: names of the stores/modules that failed (must stay empty). */
export interface RemovalAcc {
  readonly failed: string[];
}

/** Params of {@link removeUser}. */
export interface RemoveUserParams {
  readonly jid: Jid;
}

/**
 * An account is being deleted, tag = host type: every module deletes the user's data and pushes
 * its name to `acc.failed` on failure. stop = later handlers skip (do not).
 */
export const removeUser = defineHook<RemovalAcc, RemoveUserParams>('removeUser', 'Delete all data of a user; failures go to acc.failed.');

/** Params of {@link removeDomain}. */
export interface RemoveDomainParams {
  readonly domain: string;
}

/**
 * A domain is being deleted (reference §7), tag = its host type: every store removes the
 * domain's data and pushes its name to `acc.failed` on failure.
 */
export const removeDomain = defineHook<RemovalAcc, RemoveDomainParams>('removeDomain', 'Delete all data of a domain; failures go to acc.failed.');

/** Params of {@link doesUserExist}. */
export interface DoesUserExistParams {
  readonly jid: Jid;
}

/**
 * Whether an account exists, tag = host type. Acc = the answer, initially `false`; the auth
 * module (or any user source) sets `true` and stops. Used for the offline fallback
 * (RFC 6121 §8.5.2.1.1 vs §8.5.1) when the session manager has no injected check.
 */
export const doesUserExist = defineHook<boolean, DoesUserExistParams>('doesUserExist', 'Acc = user exists (initially false); stop when known.');

// ---------------------------------------------------------------- service discovery (XEP-0030)

/** One disco identity. */
export interface DiscoIdentity {
  readonly category: string;
  readonly type: string;
  readonly name?: string | undefined;
  readonly lang?: string | undefined;
}

/** One disco item. */
export interface DiscoItem {
  readonly jid: string;
  readonly node?: string | undefined;
  readonly name?: string | undefined;
}

/** Params of every disco hook. */
export interface DiscoParams {
  /** Who asks. */
  readonly from: Jid;
  /** The queried entity (the domain for `discoLocal*`, a user's bare JID for `discoSm*`). */
  readonly to: Jid;
  /** The queried node, `undefined` for the entity itself. */
  readonly node: string | undefined;
  readonly lang: string | undefined;
}

/** Features of the server (domain JID), tag = host type. Acc = features; handlers push/return. stop = later handlers skip. */
export const discoLocalFeatures = defineHook<string[], DiscoParams>('discoLocalFeatures', 'Fold of the server features.');
/** Identities of the server, tag = host type. */
export const discoLocalIdentity = defineHook<DiscoIdentity[], DiscoParams>('discoLocalIdentity', 'Fold of the server identities.');
/** Items of the server (e.g. the MUC subdomain), tag = host type. */
export const discoLocalItems = defineHook<DiscoItem[], DiscoParams>('discoLocalItems', 'Fold of the server items.');
/** Features of a user's bare JID (answered by the server on the user's behalf), tag = host type. */
export const discoSmFeatures = defineHook<string[], DiscoParams>('discoSmFeatures', "Fold of a user account's features.");
/** Identities of a user's bare JID (`account/registered` and the like), tag = host type. */
export const discoSmIdentity = defineHook<DiscoIdentity[], DiscoParams>('discoSmIdentity', "Fold of a user account's identities.");
/** Items of a user's bare JID, tag = host type. */
export const discoSmItems = defineHook<DiscoItem[], DiscoParams>('discoSmItems', "Fold of a user account's items.");

/**
 * Hook specs and event shapes shared by the roster and presence modules (RFC 6121 §3–§4).
 * They live in core so that neither module imports the other: presence asks the roster
 * through these hooks, and the roster tells presence about changes with `cast` foreign
 * events tagged {@link ROSTER_EVENT_TAG}.
 * @module
 */
import { defineHook } from '../../hooks/index.ts';
import type { Acc } from '../acc.ts';
import type { Jid } from '../jid.ts';
import type { SubscriptionType } from '../server-hooks.ts';
import type { RosterSubscription } from '../storage/roster-store.ts';

/** What {@link rosterGetSubscriptionLists} folds: the user's contacts by subscription state (bare JID strings). */
export interface SubscriptionLists {
  /** The user sees their presence (subscription `to`). */
  readonly to: string[];
  /** They see the user's presence (subscription `from`). */
  readonly from: string[];
  readonly both: string[];
  /** Contacts whose subscription request the user has not answered yet (RFC 6121 §3.1.3: redelivered at login). */
  readonly pendingIn: string[];
}

/** A fresh, empty {@link SubscriptionLists} (the hook's initial acc). */
export function emptySubscriptionLists(): SubscriptionLists {
  return { to: [], from: [], both: [], pendingIn: [] };
}

/** Params of {@link rosterGetSubscriptionLists}. */
export interface SubscriptionListsParams {
  /** The user (bare JID). */
  readonly jid: Jid;
}

/**
 * The user's subscription lists, tag = host type. Run by the presence module on initial
 * presence (reference §5.1). Acc = {@link SubscriptionLists}, initially empty; the roster
 * module fills it. stop = later handlers skip.
 */
export const rosterGetSubscriptionLists = defineHook<SubscriptionLists, SubscriptionListsParams>(
  'rosterGetSubscriptionLists',
  'Fold of the user subscription lists (to/from/both/pendingIn).',
);

/** Params of {@link rosterOutSubscription}. */
export interface RosterOutSubscriptionParams {
  /** The client's subscription presence. */
  readonly acc: Acc;
  /** The user (bare JID). */
  readonly from: Jid;
  /** The contact (bare JID). */
  readonly to: Jid;
  readonly type: SubscriptionType;
}

/**
 * An outbound subscription presence from a local user (RFC 6121 §3.1.2, §3.2.2, §3.3.2,
 * §3.4.2), tag = the user's host type, run by the presence module before it routes the
 * stanza from the user's bare JID. Acc = route flag, **initially `true`**; the roster module
 * sets it to `false` when the stanza must not leave the server (a pre-approval, a `subscribed`
 * that changes nothing). stop = later handlers skip.
 */
export const rosterOutSubscription = defineHook<boolean, RosterOutSubscriptionParams>('rosterOutSubscription', 'Acc = route the outbound subscription presence (default true).');

/** The `cast` tag of roster change events sent to each of the user's sessions. */
export const ROSTER_EVENT_TAG = 'roster';

/**
 * Content of a {@link ROSTER_EVENT_TAG} cast: one roster item changed (RFC 6121 §2.1.6).
 * The presence module updates its subscription map and sends presence or `unavailable` to
 * the contact when the contact's visibility of the user changed (reference §5.1). The
 * roster module may add private fields (the roster push) to the same object.
 */
export interface RosterItemEvent {
  /** The contact (bare JID string). */
  readonly jid: string;
  /** The new state; `remove` when the item left the roster. */
  readonly subscription: RosterSubscription | 'remove';
}

/** Type guard for {@link RosterItemEvent} contents (foreign events are `unknown`). */
export function isRosterItemEvent(content: unknown): content is RosterItemEvent {
  return typeof content === 'object' && content !== null && typeof (content as RosterItemEvent).jid === 'string' && typeof (content as RosterItemEvent).subscription === 'string';
}

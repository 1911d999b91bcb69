/**
 * The presence subscription state machine of RFC 6121 Appendix A (§A.2 outbound, §A.3
 * inbound), with subscription pre-approval (§3.4). Pure functions over {@link RosterItem}:
 * they say what the new item is, whether the stanza is routed/delivered and whether the
 * server answers on the user's behalf.
 * @module
 */
import type { RosterItem } from '../../core/storage/roster-store.ts';
import type { SubscriptionType } from '../../core/server-hooks.ts';

/** Result of an outbound subscription presence from the user. */
export interface OutboundResult {
  /** The new item; `undefined` = no change; `null` = delete the (hidden) item. */
  readonly item: RosterItem | null | undefined;
  /** Route the stanza to the contact. */
  readonly route: boolean;
}

/** Result of an inbound subscription presence to the user. */
export interface InboundResult {
  /** The new item; `undefined` = no change. `null` = delete the (hidden) item. */
  readonly item: RosterItem | null | undefined;
  /** Deliver the stanza to the user's available resources. */
  readonly deliver: boolean;
  /** Answer the contact with `subscribed` on the user's behalf (already approved, or pre-approved). */
  readonly autoReply: boolean;
}

const blank = (jid: string): RosterItem => ({ jid, subscription: 'none', ask: 'none', pendingIn: false, approved: false, groups: [] });

const hasFrom = (i: RosterItem) => i.subscription === 'from' || i.subscription === 'both';
const hasTo = (i: RosterItem) => i.subscription === 'to' || i.subscription === 'both';

/**
 * An item the user never added and only exists to remember an unanswered inbound request
 * ("None + Pending In" created by the server, RFC 6121 §3.1.3): it is not shown in roster
 * results nor pushed. (The store has no "added by the user" flag, so a user-added item with no
 * name and no groups in that state is hidden too.)
 */
export function isHidden(i: RosterItem): boolean {
  return i.pendingIn && bare(i);
}

/** No subscription, no request either way, no approval, no name, no groups. */
function bare(i: RosterItem): boolean {
  return i.subscription === 'none' && i.ask === 'none' && !i.approved && i.name === undefined && i.groups.length === 0;
}

/** `next`, or `null` (delete it) when a hidden item lost its pending request and holds nothing else. */
function orDrop(prev: RosterItem, next: RosterItem): RosterItem | null {
  return isHidden(prev) && !next.pendingIn && bare(next) ? null : next;
}

/** RFC 6121 §A.2: the user sends `type` to the contact whose item is `item`. */
export function outbound(type: SubscriptionType, jid: string, item: RosterItem | undefined): OutboundResult {
  const cur = item ?? blank(jid);
  switch (type) {
    case 'subscribe': {
      // §3.1.2: always routed (the contact's server auto-replies when already subscribed).
      if (hasTo(cur) || cur.ask === 'subscribe') return { item: item === undefined ? cur : undefined, route: true };
      return { item: { ...cur, ask: 'subscribe' }, route: true };
    }
    case 'subscribed': {
      if (cur.pendingIn) {
        // §3.1.5: approve the pending request.
        return { item: { ...cur, pendingIn: false, approved: false, subscription: cur.subscription === 'to' ? 'both' : 'from' }, route: true };
      }
      if (hasFrom(cur)) return { item: undefined, route: false };
      // §3.4.2: pre-approval — recorded, and nothing is sent to the contact.
      if (cur.approved && item !== undefined) return { item: undefined, route: false };
      return { item: { ...cur, approved: true }, route: false };
    }
    case 'unsubscribe': {
      // §3.3.2: always routed.
      if (item === undefined) return { item: undefined, route: true };
      const sub = cur.subscription === 'both' ? 'from' : cur.subscription === 'to' ? 'none' : cur.subscription;
      if (sub === cur.subscription && cur.ask !== 'subscribe') return { item: undefined, route: true };
      return { item: { ...cur, subscription: sub, ask: 'none' }, route: true };
    }
    case 'unsubscribed': {
      // §3.2.2 (cancel) and §3.1.4 (decline): routed so the contact's server clears its side.
      if (item === undefined) return { item: undefined, route: true };
      const sub = cur.subscription === 'both' ? 'to' : cur.subscription === 'from' ? 'none' : cur.subscription;
      if (sub === cur.subscription && !cur.pendingIn && !cur.approved) return { item: undefined, route: true };
      return { item: orDrop(cur, { ...cur, subscription: sub, pendingIn: false, approved: false }), route: true };
    }
  }
}

/** RFC 6121 §A.3: the contact sends `type` to the user, whose item for the contact is `item`. */
export function inbound(type: SubscriptionType, jid: string, item: RosterItem | undefined): InboundResult {
  const none: InboundResult = { item: undefined, deliver: false, autoReply: false };
  switch (type) {
    case 'subscribe': {
      const cur = item ?? blank(jid);
      // §3.1.3: already subscribed → answer for the user, do not bother them.
      if (hasFrom(cur)) return { item: undefined, deliver: false, autoReply: true };
      if (cur.approved) {
        // §3.4: pre-approved → approve now on the user's behalf.
        return { item: { ...cur, approved: false, pendingIn: false, subscription: cur.subscription === 'to' ? 'both' : 'from' }, deliver: false, autoReply: true };
      }
      if (cur.pendingIn) return none;
      return { item: { ...cur, pendingIn: true }, deliver: true, autoReply: false };
    }
    case 'subscribed': {
      // §3.1.6: only an outstanding request of ours can be approved.
      if (item === undefined || item.ask !== 'subscribe') return none;
      return { item: { ...item, ask: 'none', subscription: item.subscription === 'from' ? 'both' : 'to' }, deliver: true, autoReply: false };
    }
    case 'unsubscribe': {
      // §3.3.3: the contact stops seeing the user's presence (and withdraws a pending request).
      if (item === undefined) return none;
      const sub = item.subscription === 'both' ? 'to' : item.subscription === 'from' ? 'none' : item.subscription;
      if (sub === item.subscription && !item.pendingIn) return none;
      return { item: orDrop(item, { ...item, subscription: sub, pendingIn: false }), deliver: true, autoReply: false };
    }
    case 'unsubscribed': {
      // §3.2.3 / §3.1.4: our subscription is cancelled or our request denied.
      if (item === undefined) return none;
      const sub = item.subscription === 'both' ? 'from' : item.subscription === 'to' ? 'none' : item.subscription;
      if (sub === item.subscription && item.ask !== 'subscribe') return none;
      return { item: { ...item, subscription: sub, ask: 'none' }, deliver: true, autoReply: false };
    }
  }
}

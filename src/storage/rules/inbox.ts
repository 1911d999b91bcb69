/**
 * Inbox update semantics shared by every adapter (the conformance suite checks them).
 * @module
 */
import type { InboxUpdate } from '../../core/storage/inbox-store.ts';

/** The box a conversation lands in after `update` (see {@link InboxUpdate.box}). */
export function nextInboxBox(existing: string | undefined, update: InboxUpdate): string {
  const box = update.box ?? 'inbox';
  return existing === undefined || existing === 'bin' ? box : existing;
}

/** The unread count after `update`. */
export function nextInboxUnread(existing: number | undefined, update: InboxUpdate): number {
  if (update.unread === 'reset') return 0;
  return (existing ?? 0) + (update.unread === 'increment' ? 1 : 0);
}

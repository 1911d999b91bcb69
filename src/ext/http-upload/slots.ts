/**
 * Upload slots (XEP-0363 §4): kept in memory for `slotLifetimeMs` on the server clock, each
 * named by an unguessable random id, used by at most one successful PUT. And the per-user
 * quota of requested bytes over a sliding window.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.ts';

/** 18 random bytes, base64url: 24 characters of `[A-Za-z0-9_-]`, 144 bits. */
export const SLOT_ID = /^[A-Za-z0-9_-]{24}$/;

/** One slot granted to a user. */
export interface Slot {
  readonly id: string;
  readonly filename: string;
  readonly size: number;
  /** The requested `content-type`, lowercased; the PUT must carry the same. */
  readonly contentType: string | undefined;
  /** Bare JID of the requester. */
  readonly owner: string;
  readonly expiresAt: number;
  /** `free` until a PUT starts; back to `free` when it fails; `used` once stored. */
  state: 'free' | 'uploading' | 'used';
}

/** What {@link SlotRegistry.lookup} finds. */
export type SlotLookup = { slot: Slot } | { error: 'unknown' | 'expired' };

export class SlotRegistry {
  readonly #slots = new Map<string, Slot>();
  readonly #clock: Clock;
  readonly #lifetimeMs: number;

  constructor(clock: Clock, lifetimeMs: number) {
    this.#clock = clock;
    this.#lifetimeMs = lifetimeMs;
  }

  create(req: { filename: string; size: number; contentType: string | undefined; owner: string }): Slot {
    this.#prune();
    const slot: Slot = { id: randomBytes(18).toString('base64url'), ...req, expiresAt: this.#clock.now() + this.#lifetimeMs, state: 'free' };
    this.#slots.set(slot.id, slot);
    return slot;
  }

  /** A slot in use stays found after its lifetime so that its upload can finish (and a second PUT gets 409). */
  lookup(id: string): SlotLookup {
    const slot = this.#slots.get(id);
    if (slot === undefined) return { error: 'unknown' };
    if (slot.state === 'free' && this.#clock.now() >= slot.expiresAt) {
      this.#slots.delete(id);
      return { error: 'expired' };
    }
    return { slot };
  }

  /** Used slots are kept until they expire, so that a replayed PUT is a 409, not a 404. */
  #prune(): void {
    const now = this.#clock.now();
    for (const [id, s] of this.#slots) if (s.state !== 'uploading' && now >= s.expiresAt) this.#slots.delete(id);
  }
}

/** Bytes requested per user over a sliding window. */
export class UploadQuota {
  readonly #used = new Map<string, { at: number; size: number }[]>();
  readonly #clock: Clock;
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(clock: Clock, limit: number, windowMs: number) {
    this.#clock = clock;
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Count `size` for `user` and return `undefined`, or return when enough of the window has passed to allow it. */
  take(user: string, size: number): Date | undefined {
    if (this.#limit === Infinity) return undefined;
    const now = this.#clock.now();
    const entries = (this.#used.get(user) ?? []).filter((e) => e.at + this.#windowMs > now);
    let total = entries.reduce((n, e) => n + e.size, 0);
    if (total + size <= this.#limit) {
      entries.push({ at: now, size });
      this.#used.set(user, entries);
      return undefined;
    }
    this.#used.set(user, entries);
    // The earliest time at which the entries still in the window leave room for `size`.
    for (const e of entries) {
      total -= e.size;
      if (total + size <= this.#limit) return new Date(e.at + this.#windowMs);
    }
    return new Date(now + this.#windowMs);
  }
}

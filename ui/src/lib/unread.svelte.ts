// Unread marks: a conversation is unread when the customer wrote after the agent last
// opened it. What each conversation was "seen" up to is kept in localStorage, per
// server and agent, as the `last_inbound_at` it had when opened (server time, so a
// wrong local clock does not matter).

import type { Conversation } from './types';
import { finiteOrNull } from './format';

export const SEEN_KEY_PREFIX = 'handoff-inbox.seen';
/** At most this many conversations are remembered (the most recently written ones). */
export const MAX_SEEN = 20_000;

/** Conversation id → the customer's last message time it was seen up to. */
export type SeenMap = Readonly<Record<number, number>>;

/** The storage key for one agent on one server: `handoff-inbox.seen:<server>:<agent id>`. */
export function seenKey(serverUrl: string, agentId: number): string {
  const server = serverUrl.trim().replace(/\/+$/, '').toLowerCase();
  return `${SEEN_KEY_PREFIX}:${server}:${agentId}`;
}

/** What was stored; entries that are not `id: time` are dropped, garbage reads as {}. */
export function parseSeen(raw: string | null): Record<number, number> {
  if (!raw) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return {};
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<number, number> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const id = Number(k);
    if (Number.isInteger(id) && typeof v === 'number' && Number.isFinite(v)) out[id] = v;
  }
  return out;
}

/** The customer wrote after the conversation was last opened (or it never was). */
export function isUnread(c: Pick<Conversation, 'id' | 'last_inbound_at'>, seen: SeenMap): boolean {
  const inbound = finiteOrNull(c.last_inbound_at);
  if (inbound === null) return false;
  const seenAt = seen[c.id];
  return seenAt === undefined || inbound > seenAt;
}

/** `seen` with the conversation seen up to `lastInboundAt`; null when nothing changes. */
export function withSeen(seen: SeenMap, conversationId: number, lastInboundAt: number | null | undefined): SeenMap | null {
  const inbound = finiteOrNull(lastInboundAt);
  if (inbound === null) return null;
  const before = seen[conversationId];
  if (before !== undefined && before >= inbound) return null;
  return { ...seen, [conversationId]: inbound };
}

/** Both sets of marks; the later time where both have one. */
export function mergeSeen(a: SeenMap, b: SeenMap): Record<number, number> {
  const out: Record<number, number> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const id = Number(k);
    const have = out[id];
    if (have === undefined || v > have) out[id] = v;
  }
  return out;
}

/** At most `max` entries: the ones with the latest times. */
export function pruneSeen(seen: SeenMap, max: number = MAX_SEEN): SeenMap {
  const entries = Object.entries(seen);
  if (entries.length <= max) return seen;
  entries.sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(entries.slice(0, Math.max(0, max)));
}

type Store = Pick<Storage, 'getItem' | 'setItem'>;

function defaultStorage(): Store | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** The seen marks of the logged-in agent (reactive), saved as they change. */
export class SeenStore {
  seen = $state.raw<SeenMap>({});
  private key: string | null = null;
  private readonly storage: Store | null;
  private unlisten: (() => void) | null = null;

  constructor(storage: Store | null = defaultStorage()) {
    this.storage = storage;
  }

  /** Start using the marks kept under `key` (after login); other tabs' changes are followed. */
  load(key: string): void {
    this.unload();
    this.key = key;
    this.seen = this.read();
    if (typeof window !== 'undefined') {
      const onStorage = (e: StorageEvent) => {
        if (e.key === this.key) this.seen = parseSeen(e.newValue);
      };
      window.addEventListener('storage', onStorage);
      this.unlisten = () => window.removeEventListener('storage', onStorage);
    }
  }

  /** Forget the marks in memory (logout); what is stored stays for the next login. */
  unload(): void {
    this.unlisten?.();
    this.unlisten = null;
    this.key = null;
    this.seen = {};
  }

  isUnread(c: Pick<Conversation, 'id' | 'last_inbound_at'>): boolean {
    return isUnread(c, this.seen);
  }

  /** The agent opened the conversation: seen up to the customer's last message. */
  mark(conversationId: number, lastInboundAt: number | null | undefined): void {
    if (this.key === null) return;
    // Another tab may have marked others meanwhile: start from what is stored.
    const next = withSeen(mergeSeen(this.read(), this.seen), conversationId, lastInboundAt);
    if (next === null) return;
    this.seen = pruneSeen(next);
    try {
      this.storage?.setItem(this.key, JSON.stringify(this.seen));
    } catch {
      // Quota, private mode: remembered for this session only.
    }
  }

  private read(): Record<number, number> {
    if (this.key === null) return {};
    try {
      return parseSeen(this.storage?.getItem(this.key) ?? null);
    } catch {
      return {};
    }
  }
}

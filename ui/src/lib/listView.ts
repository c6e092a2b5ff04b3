// What the conversation list shows: filters (with counts), sort orders, the SLA
// countdown of a row, and the agent's choice of filter and sort (kept in localStorage).

import type { Conversation, Priority } from './types';
import type { SeenMap } from './unread.svelte';
import { finiteOrNull, formatCountdown } from './format';

export type FilterId = 'all' | 'mine' | 'queue' | 'unassigned' | 'waiting_customer' | 'sla_risk';
export type SortId = 'newest' | 'oldest_waiting' | 'sla_due' | 'priority';

export interface FilterDef {
  id: FilterId;
  /** Short, for the tab. */
  label: string;
  /** In full, for tooltips, screen readers and the shortcut sheet. */
  description: string;
}

/** In tab order; the number keys 1..6 pick them. */
export const FILTERS: readonly FilterDef[] = [
  { id: 'all', label: 'All', description: 'All conversations' },
  { id: 'mine', label: 'Mine', description: 'Assigned to me' },
  { id: 'queue', label: 'Queue', description: 'Team queue: waiting for an agent' },
  { id: 'unassigned', label: 'Unassigned', description: 'Escalated, nobody assigned' },
  { id: 'waiting_customer', label: 'Awaiting', description: 'Waiting on the customer (mine, we wrote last)' },
  { id: 'sla_risk', label: 'SLA risk', description: 'SLA due within 10 minutes or breached' },
];

export const SORTS: readonly { id: SortId; label: string }[] = [
  { id: 'newest', label: 'Newest activity' },
  { id: 'oldest_waiting', label: 'Oldest waiting first' },
  { id: 'sla_due', label: 'SLA due soonest' },
  { id: 'priority', label: 'Priority' },
];

export const DEFAULT_FILTER: FilterId = 'all';
export const DEFAULT_SORT: SortId = 'newest';

/** An SLA due this close (or past due) puts a conversation "at risk". */
export const SLA_RISK_MS = 10 * 60_000;

export interface ViewContext {
  /** This agent; null before login. */
  agentId: number | null;
  now: number;
}

/** When the running SLA clock is due, if one runs (older servers: never). */
export function slaDueAt(c: Pick<Conversation, 'sla_due_at'>): number | null {
  return finiteOrNull(c.sla_due_at);
}

/** An SLA due within 10 minutes, or already breached. */
export function isSlaAtRisk(c: Pick<Conversation, 'sla_due_at'>, now: number): boolean {
  const due = slaDueAt(c);
  return due !== null && due - now <= SLA_RISK_MS;
}

/** Assigned to this agent. */
export function isMine(c: Pick<Conversation, 'assignee_id'>, agentId: number | null): boolean {
  return agentId !== null && c.assignee_id === agentId;
}

/** Mine, and the last message was ours (or the customer never wrote): the customer is to answer. */
export function isWaitingOnCustomer(
  c: Pick<Conversation, 'assignee_id' | 'last_message_at' | 'last_inbound_at'>,
  agentId: number | null,
): boolean {
  if (!isMine(c, agentId)) return false;
  const inbound = finiteOrNull(c.last_inbound_at);
  if (inbound === null) return true;
  const last = finiteOrNull(c.last_message_at);
  return last !== null && last > inbound;
}

export function matchesFilter(c: Conversation, filter: FilterId, ctx: ViewContext): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'mine':
      return isMine(c, ctx.agentId);
    case 'queue':
      return c.state === 'waiting';
    case 'unassigned':
      return (c.state === 'waiting' || c.state === 'assigned') && c.assignee_id === null;
    case 'waiting_customer':
      return isWaitingOnCustomer(c, ctx.agentId);
    case 'sla_risk':
      return isSlaAtRisk(c, ctx.now);
    default:
      return false;
  }
}

export type FilterCounts = Record<FilterId, number>;

function zeroCounts(): FilterCounts {
  return { all: 0, mine: 0, queue: 0, unassigned: 0, waiting_customer: 0, sla_risk: 0 };
}

/** How many conversations each filter shows; with `only`, just those that pass it (e.g. unread). */
export function filterCounts(
  list: readonly Conversation[],
  ctx: ViewContext,
  only: (c: Conversation) => boolean = () => true,
): FilterCounts {
  const counts = zeroCounts();
  for (const c of list) {
    if (!only(c)) continue;
    for (const f of FILTERS) if (matchesFilter(c, f.id, ctx)) counts[f.id] += 1;
  }
  return counts;
}

/** The counts of every tab, of all conversations and of the unread ones. */
export interface TabCounts {
  all: FilterCounts;
  unread: FilterCounts;
}

/**
 * `filterCounts` of the whole list and of the unread conversations (`seen`: the
 * unread marks, see unread.svelte.ts), in one pass: each conversation is looked at
 * once, for every filter. The tests are those of `matchesFilter` and `isUnread`,
 * written out: this runs over every conversation whenever the list changes.
 */
export function tabCounts(list: readonly Conversation[], ctx: ViewContext, seen: SeenMap): TabCounts {
  const all = zeroCounts();
  const unread = zeroCounts();
  const { agentId, now } = ctx;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    const assignee = c.assignee_id;
    const mine = agentId !== null && assignee === agentId;
    const queue = c.state === 'waiting';
    const unassigned = assignee === null && (queue || c.state === 'assigned');
    const inbound = finiteOrNull(c.last_inbound_at);
    let waitingCustomer = false;
    if (mine) {
      const last = finiteOrNull(c.last_message_at);
      waitingCustomer = inbound === null || (last !== null && last > inbound);
    }
    const due = finiteOrNull(c.sla_due_at);
    const slaRisk = due !== null && due - now <= SLA_RISK_MS;
    all.all += 1;
    if (mine) all.mine += 1;
    if (queue) all.queue += 1;
    if (unassigned) all.unassigned += 1;
    if (waitingCustomer) all.waiting_customer += 1;
    if (slaRisk) all.sla_risk += 1;
    if (inbound === null) continue;
    const seenAt = seen[c.id];
    if (seenAt !== undefined && inbound <= seenAt) continue;
    unread.all += 1;
    if (mine) unread.mine += 1;
    if (queue) unread.queue += 1;
    if (unassigned) unread.unassigned += 1;
    if (waitingCustomer) unread.waiting_customer += 1;
    if (slaRisk) unread.sla_risk += 1;
  }
  return { all, unread };
}

/** The latest activity: last message, else last update, else creation. */
export function activityAt(c: Conversation): number {
  return finiteOrNull(c.last_message_at) ?? finiteOrNull(c.updated_at) ?? finiteOrNull(c.created_at) ?? 0;
}

/**
 * Since when the customer has been waiting for us: their last message, when nothing
 * came after it; null when we spoke last (or they never wrote).
 */
export function waitingSince(c: Conversation): number | null {
  const inbound = finiteOrNull(c.last_inbound_at);
  if (inbound === null) return null;
  const last = finiteOrNull(c.last_message_at);
  return last === null || last <= inbound ? inbound : null;
}

const PRIORITY_RANK: Record<Priority, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

function priorityRank(p: Priority): number {
  return PRIORITY_RANK[p] ?? PRIORITY_RANK.normal;
}

type Compare = (a: Conversation, b: Conversation) => number;

/** Ties keep the order they came in (the server lists newest activity first too). */
const newestFirst: Compare = (a, b) => activityAt(b) - activityAt(a);

/** Customers waiting for an answer first, longest wait first; then the rest, least recently active first. */
const oldestWaitingFirst: Compare = (a, b) => {
  const wa = waitingSince(a);
  const wb = waitingSince(b);
  if (wa !== null && wb !== null) return wa - wb || a.id - b.id;
  if (wa !== null) return -1;
  if (wb !== null) return 1;
  return activityAt(a) - activityAt(b) || a.id - b.id;
};

/** Earliest SLA deadline first (breached ones first of all); without a running clock last, newest first. */
const slaDueSoonest: Compare = (a, b) => {
  const da = slaDueAt(a);
  const db = slaDueAt(b);
  if (da !== null && db !== null) return da - db || a.id - b.id;
  if (da !== null) return -1;
  if (db !== null) return 1;
  return newestFirst(a, b);
};

/** Urgent, high, normal, low; within a priority, oldest waiting first. */
const byPriority: Compare = (a, b) => priorityRank(a.priority) - priorityRank(b.priority) || oldestWaitingFirst(a, b);

const COMPARE: Record<SortId, Compare> = {
  newest: newestFirst,
  oldest_waiting: oldestWaitingFirst,
  sla_due: slaDueSoonest,
  priority: byPriority,
};

/** A sorted copy; the sort is stable, so ties keep the server's order. */
export function sortConversations(list: readonly Conversation[], sort: SortId): Conversation[] {
  const compare = COMPARE[sort] ?? newestFirst;
  return compare === newestFirst ? sortNewestFirst(list) : [...list].sort(compare);
}

/**
 * `newestFirst`, each conversation's activity worked out once. The server lists newest
 * activity first: then this is one pass and a copy.
 */
function sortNewestFirst(list: readonly Conversation[]): Conversation[] {
  const n = list.length;
  const keys = new Float64Array(n);
  let inOrder = true;
  for (let i = 0; i < n; i++) {
    keys[i] = activityAt(list[i]);
    if (i > 0 && keys[i] > keys[i - 1]) inOrder = false;
  }
  if (inOrder) return list.slice();
  const order = Array.from({ length: n }, (_, i) => i);
  // Ties by position: stable, as `Array.prototype.sort` is.
  order.sort((a, b) => keys[b] - keys[a] || a - b);
  return order.map((i) => list[i]);
}

/** The conversations a filter shows, in the chosen order. */
export function listView(list: readonly Conversation[], filter: FilterId, sort: SortId, ctx: ViewContext): Conversation[] {
  return sortConversations(
    list.filter((c) => matchesFilter(c, filter, ctx)),
    sort,
  );
}

/**
 * What `listView` gives, from a list already sorted (`sortConversations`): the sort is
 * stable, so filtering the sorted list keeps the same order as sorting the filtered
 * one. "All" is the sorted list itself (not copied: treat it as read-only).
 */
export function filterSorted(sorted: readonly Conversation[], filter: FilterId, ctx: ViewContext): readonly Conversation[] {
  if (filter === 'all') return sorted;
  return sorted.filter((c) => matchesFilter(c, filter, ctx));
}

/** A count for a small tab: 999, "1.2k", "12k", "1.5M" (exact numbers go in the accessible name). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '0';
  if (n < 1000) return String(Math.floor(n));
  const [value, unit] = n < 1_000_000 ? [n / 1000, 'k'] : [n / 1_000_000, 'M'];
  // One decimal below 10 ("2.5k"), rounded down so that it never overstates; "10k" above.
  const shown = value < 10 ? Math.floor(value * 10) / 10 : Math.floor(value);
  return `${shown}${unit}`;
}

// ---- SLA countdown of a row --------------------------------------------------

export type CountdownTone = 'ok' | 'warn' | 'breached';

export interface SlaCountdown {
  /** "12m", "1h 5m"; "-4m" once breached. */
  text: string;
  /** `warn` under 10 minutes left, `breached` once due. */
  tone: CountdownTone;
  dueAt: number;
}

/** The compact countdown a row shows for its SLA deadline; null without a running clock. */
export function slaCountdown(c: Pick<Conversation, 'sla_due_at'>, now: number): SlaCountdown | null {
  const dueAt = slaDueAt(c);
  if (dueAt === null) return null;
  const left = dueAt - now;
  if (left <= 0) return { text: `-${formatCountdown(-left)}`, tone: 'breached', dueAt };
  return { text: formatCountdown(left), tone: left < SLA_RISK_MS ? 'warn' : 'ok', dueAt };
}

/** "First response", "Resolution", else the kind humanised ("SLA" when unknown). */
export function slaKindLabel(kind: string | null | undefined): string {
  if (kind === 'first_response') return 'First response';
  if (kind === 'next_response') return 'Next response';
  if (kind === 'resolution') return 'Resolution';
  if (typeof kind !== 'string' || kind.trim() === '') return 'SLA';
  const words = kind.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// ---- the agent's choice, remembered ---------------------------------------------

export const LIST_PREFS_KEY = 'handoff-inbox.list-view';

export interface ListPrefs {
  filter: FilterId;
  sort: SortId;
}

export function isFilterId(value: unknown): value is FilterId {
  return FILTERS.some((f) => f.id === value);
}

export function isSortId(value: unknown): value is SortId {
  return SORTS.some((s) => s.id === value);
}

type Store = Pick<Storage, 'getItem' | 'setItem'>;

function defaultStorage(): Store | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** The filter and sort chosen last; the defaults for anything missing or unknown. */
export function loadListPrefs(storage: Store | null = defaultStorage()): ListPrefs {
  let raw: unknown = null;
  try {
    raw = JSON.parse(storage?.getItem(LIST_PREFS_KEY) ?? 'null');
  } catch {
    raw = null;
  }
  const obj = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  return {
    filter: isFilterId(obj.filter) ? obj.filter : DEFAULT_FILTER,
    sort: isSortId(obj.sort) ? obj.sort : DEFAULT_SORT,
  };
}

export function saveListPrefs(prefs: ListPrefs, storage: Store | null = defaultStorage()): void {
  try {
    storage?.setItem(LIST_PREFS_KEY, JSON.stringify({ filter: prefs.filter, sort: prefs.sort }));
  } catch {
    // Private mode, quota: the choice just is not remembered.
  }
}

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FILTER,
  DEFAULT_SORT,
  FILTERS,
  SORTS,
  LIST_PREFS_KEY,
  SLA_RISK_MS,
  filterCounts,
  filterSorted,
  formatCount,
  isSlaAtRisk,
  isWaitingOnCustomer,
  listView,
  loadListPrefs,
  matchesFilter,
  saveListPrefs,
  slaCountdown,
  slaKindLabel,
  sortConversations,
  tabCounts,
  waitingSince,
  type FilterId,
} from './listView';
import type { Conversation } from './types';
import { isUnread } from './unread.svelte';
import { conversation } from '../test/fixtures';

const ME = 7;
const NOW = 1_700_000_000_000;
const ctx = { agentId: ME, now: NOW };
const min = 60_000;

function conv(id: number, overrides: Partial<Conversation> = {}): Conversation {
  return conversation({
    id,
    state: 'assigned',
    assignee_id: ME,
    priority: 'normal',
    last_message_at: NOW - id * min,
    last_inbound_at: NOW - id * min,
    updated_at: NOW - id * min,
    created_at: NOW - 1000 * min,
    sla_due_at: null,
    ...overrides,
  });
}

const ids = (list: Conversation[]) => list.map((c) => c.id);

describe('filters', () => {
  const mineReplied = conv(1, { last_message_at: NOW - min, last_inbound_at: NOW - 5 * min });
  const mineCustomerLast = conv(2, { last_message_at: NOW - 2 * min, last_inbound_at: NOW - 2 * min });
  const mineNeverWrote = conv(3, { last_inbound_at: null, last_message_at: NOW - 3 * min });
  const othersAssigned = conv(4, { assignee_id: 8 });
  const queued = conv(5, { state: 'waiting', assignee_id: null });
  const queuedButTargeted = conv(6, { state: 'waiting', assignee_id: 8 });
  const assignedNobody = conv(7, { state: 'assigned', assignee_id: null });
  const bot = conv(8, { state: 'automation', assignee_id: null, active_handoff_id: null });
  const slaSoon = conv(9, { assignee_id: 8, sla_due_at: NOW + 9 * min });
  const slaBreached = conv(10, { assignee_id: 8, sla_due_at: NOW - min });
  const slaLater = conv(11, { assignee_id: 8, sla_due_at: NOW + 30 * min });
  const all = [
    mineReplied,
    mineCustomerLast,
    mineNeverWrote,
    othersAssigned,
    queued,
    queuedButTargeted,
    assignedNobody,
    bot,
    slaSoon,
    slaBreached,
    slaLater,
  ];
  const shown = (f: FilterId) => ids(all.filter((c) => matchesFilter(c, f, ctx)));

  it('All: everything', () => expect(shown('all')).toEqual(ids(all)));
  it('Mine: assigned to me only', () => expect(shown('mine')).toEqual([1, 2, 3]));
  it('Team queue: waiting, whoever it is meant for', () => expect(shown('queue')).toEqual([5, 6]));
  it('Unassigned: escalated (waiting or assigned) without an assignee; not bot conversations', () =>
    expect(shown('unassigned')).toEqual([5, 7]));
  it('Waiting on customer: mine, and we wrote last or they never wrote', () =>
    expect(shown('waiting_customer')).toEqual([1, 3]));
  it('SLA at risk: due within 10 minutes, or past due', () => expect(shown('sla_risk')).toEqual([9, 10]));

  it('without a logged-in agent nothing is "mine"', () => {
    const nobody = { agentId: null, now: NOW };
    expect(all.filter((c) => matchesFilter(c, 'mine', nobody))).toEqual([]);
    expect(all.filter((c) => matchesFilter(c, 'waiting_customer', nobody))).toEqual([]);
  });

  it('an unknown filter shows nothing', () => {
    expect(matchesFilter(mineReplied, 'bogus' as FilterId, ctx)).toBe(false);
  });

  it('counts per filter, and of those passing a predicate (unread)', () => {
    expect(filterCounts(all, ctx)).toEqual({
      all: 11,
      mine: 3,
      queue: 2,
      unassigned: 2,
      waiting_customer: 2,
      sla_risk: 2,
    });
    const unread = new Set([1, 5, 9]);
    expect(filterCounts(all, ctx, (c) => unread.has(c.id))).toEqual({
      all: 3,
      mine: 1,
      queue: 1,
      unassigned: 1,
      waiting_customer: 1,
      sla_risk: 1,
    });
    expect(filterCounts([], ctx)).toEqual({ all: 0, mine: 0, queue: 0, unassigned: 0, waiting_customer: 0, sla_risk: 0 });
  });

  it('tabCounts: the counts of all and of the unread conversations in one pass, as filterCounts has them', () => {
    // Unread: the customer wrote after the conversation was last seen (never seen, or seen earlier).
    const seen = { 1: NOW, 2: NOW - 10 * min, 4: NOW - 4 * min, 5: NOW - 6 * min, 9: NOW - 9 * min, 10: NOW };
    const odd = [
      conv(20, { last_inbound_at: Number.NaN, last_message_at: NOW }),
      conv(21, { last_message_at: Number.POSITIVE_INFINITY, last_inbound_at: NOW - 30 * min }),
      conv(22, { sla_due_at: Number.NaN, state: 'waiting', assignee_id: null }),
    ];
    for (const list of [all, odd, [...all, ...odd], []]) {
      for (const c of [ctx, { agentId: null, now: NOW }, { agentId: 8, now: NOW + 15 * min }]) {
        const counts = tabCounts(list, c, seen);
        expect(counts.all).toEqual(filterCounts(list, c));
        expect(counts.unread).toEqual(filterCounts(list, c, (x) => isUnread(x, seen)));
      }
    }
    expect(tabCounts(all, ctx, seen).unread.all).toBe(all.filter((c) => isUnread(c, seen)).length);
    expect(tabCounts(all, ctx, {}).unread).toEqual(filterCounts(all.filter((c) => c.id !== 3), ctx));
  });

  it('every filter has a label and a description; the ids are distinct', () => {
    expect(FILTERS).toHaveLength(6);
    expect(new Set(FILTERS.map((f) => f.id)).size).toBe(6);
    for (const f of FILTERS) {
      expect(f.label).not.toBe('');
      expect(f.description).not.toBe('');
    }
  });
});

describe('isWaitingOnCustomer / isSlaAtRisk / waitingSince', () => {
  it('equal times: the customer wrote last, so not waiting on them', () => {
    expect(isWaitingOnCustomer(conv(1, { last_message_at: NOW, last_inbound_at: NOW }), ME)).toBe(false);
    expect(isWaitingOnCustomer(conv(1, { last_message_at: NOW + 1, last_inbound_at: NOW }), ME)).toBe(true);
    expect(isWaitingOnCustomer(conv(1, { last_message_at: NOW + 1, last_inbound_at: NOW }), 8)).toBe(false);
  });

  it('SLA at risk: exactly 10 minutes left counts; missing or null (older servers) never does', () => {
    expect(isSlaAtRisk({ sla_due_at: NOW + SLA_RISK_MS }, NOW)).toBe(true);
    expect(isSlaAtRisk({ sla_due_at: NOW + SLA_RISK_MS + 1 }, NOW)).toBe(false);
    expect(isSlaAtRisk({ sla_due_at: null }, NOW)).toBe(false);
    expect(isSlaAtRisk({}, NOW)).toBe(false);
    expect(isSlaAtRisk({ sla_due_at: NaN }, NOW)).toBe(false);
  });

  it('waitingSince: the customer message nothing answered yet', () => {
    expect(waitingSince(conv(1, { last_inbound_at: NOW - 5 * min, last_message_at: NOW - 5 * min }))).toBe(NOW - 5 * min);
    expect(waitingSince(conv(1, { last_inbound_at: NOW - 5 * min, last_message_at: NOW - min }))).toBeNull();
    expect(waitingSince(conv(1, { last_inbound_at: null }))).toBeNull();
    expect(waitingSince(conv(1, { last_inbound_at: NOW - min, last_message_at: null }))).toBe(NOW - min);
  });
});

describe('sorting', () => {
  it('newest activity first (default); ties keep the order given; falls back to updated_at', () => {
    const list = [
      conv(1, { last_message_at: NOW - 10 * min }),
      conv(2, { last_message_at: NOW - min }),
      conv(3, { last_message_at: null, updated_at: NOW - 5 * min }),
      conv(4, { last_message_at: NOW - min }),
    ];
    expect(ids(sortConversations(list, 'newest'))).toEqual([2, 4, 3, 1]);
    expect(ids(sortConversations([list[3], list[1]], 'newest'))).toEqual([4, 2]);
    expect(DEFAULT_SORT).toBe('newest');
  });

  it('oldest waiting first: unanswered customers by how long they wait, then the rest by least recent activity', () => {
    const list = [
      conv(1, { last_inbound_at: NOW - 2 * min, last_message_at: NOW - 2 * min }), // waiting 2m
      conv(2, { last_inbound_at: NOW - 30 * min, last_message_at: NOW - min }), // answered
      conv(3, { last_inbound_at: NOW - 20 * min, last_message_at: NOW - 20 * min }), // waiting 20m
      conv(4, { last_inbound_at: null, last_message_at: NOW - 50 * min }), // never wrote
    ];
    expect(ids(sortConversations(list, 'oldest_waiting'))).toEqual([3, 1, 4, 2]);
  });

  it('SLA due soonest: breached first, then nearest deadline, then those without a clock (newest first)', () => {
    const list = [
      conv(1, { sla_due_at: NOW + 30 * min }),
      conv(2, { sla_due_at: null, last_message_at: NOW - 9 * min }),
      conv(3, { sla_due_at: NOW - 5 * min }),
      conv(4, { sla_due_at: NOW + 3 * min }),
      conv(5, { last_message_at: NOW - min }),
    ];
    expect(ids(sortConversations(list, 'sla_due'))).toEqual([3, 4, 1, 5, 2]);
  });

  it('priority: urgent > high > normal > low, then oldest waiting first', () => {
    const list = [
      conv(1, { priority: 'low', last_inbound_at: NOW - 60 * min, last_message_at: NOW - 60 * min }),
      conv(2, { priority: 'high', last_inbound_at: NOW - 2 * min, last_message_at: NOW - 2 * min }),
      conv(3, { priority: 'urgent', last_inbound_at: NOW - min, last_message_at: NOW - min }),
      conv(4, { priority: 'high', last_inbound_at: NOW - 9 * min, last_message_at: NOW - 9 * min }),
      conv(5, { priority: 'normal' }),
    ];
    expect(ids(sortConversations(list, 'priority'))).toEqual([3, 4, 2, 5, 1]);
  });

  it('newest first: ties keep the order given, in order already or not; missing times count as 0', () => {
    const list = [
      conv(1, { last_message_at: NOW - min }),
      conv(2, { last_message_at: NOW - 3 * min }),
      conv(3, { last_message_at: NOW - 3 * min }),
      conv(4, { last_message_at: null, updated_at: Number.NaN, created_at: Number.NaN }),
    ];
    expect(ids(sortConversations(list, 'newest'))).toEqual([1, 2, 3, 4]);
    const shuffled = [list[3], list[2], list[0], list[1]];
    expect(ids(sortConversations(shuffled, 'newest'))).toEqual([1, 3, 2, 4]);
    const nan = conv(5, { last_message_at: Number.NaN, updated_at: NOW - 2 * min });
    expect(ids(sortConversations([...shuffled, nan], 'newest'))).toEqual([1, 5, 3, 2, 4]);
  });

  it('does not modify the list it is given, and returns a copy even when it is in order', () => {
    const list = [conv(1), conv(2)];
    sortConversations(list, 'oldest_waiting');
    expect(ids(list)).toEqual([1, 2]);
    const reversed = [conv(2), conv(1)];
    sortConversations(reversed, 'newest');
    expect(ids(reversed)).toEqual([2, 1]);
    const inOrder = [conv(1), conv(2)];
    const sorted = sortConversations(inOrder, 'newest');
    expect(sorted).not.toBe(inOrder);
    expect(sorted).toEqual(inOrder);
  });

  it('filterSorted: filtering the sorted list gives what listView gives, for every filter and sort', () => {
    const list = [
      conv(1, { state: 'waiting', assignee_id: null, priority: 'low', sla_due_at: NOW + 5 * min }),
      conv(2, { assignee_id: 8, priority: 'urgent', last_message_at: NOW - 7 * min }),
      conv(3, { state: 'waiting', assignee_id: null, priority: 'urgent', last_message_at: NOW - 7 * min }),
      conv(4, { last_inbound_at: NOW - 20 * min, sla_due_at: NOW - min }),
      conv(5, { priority: 'high', last_inbound_at: null }),
      conv(6, { state: 'assigned', assignee_id: null, last_message_at: NOW - 7 * min, sla_due_at: NOW + 5 * min }),
    ];
    for (const sort of SORTS.map((s) => s.id)) {
      const sorted = sortConversations(list, sort);
      for (const f of FILTERS) {
        expect(ids([...filterSorted(sorted, f.id, ctx)])).toEqual(ids(listView(list, f.id, sort, ctx)));
      }
    }
  });

  it('listView: filter, then sort', () => {
    const list = [
      conv(1, { state: 'waiting', assignee_id: null, priority: 'low' }),
      conv(2, { assignee_id: 8, priority: 'urgent' }),
      conv(3, { state: 'waiting', assignee_id: null, priority: 'urgent' }),
    ];
    expect(ids(listView(list, 'queue', 'priority', ctx))).toEqual([3, 1]);
    expect(ids(listView(list, 'all', 'newest', ctx))).toEqual([1, 2, 3]);
  });
});

describe('formatCount', () => {
  it('exact below 1000, then compact and never rounded up', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1000)).toBe('1k');
    expect(formatCount(1667)).toBe('1.6k');
    expect(formatCount(9999)).toBe('9.9k');
    expect(formatCount(10_000)).toBe('10k');
    expect(formatCount(125_400)).toBe('125k');
    expect(formatCount(2_500_000)).toBe('2.5M');
    expect(formatCount(-1)).toBe('0');
    expect(formatCount(NaN)).toBe('0');
  });
});

describe('slaCountdown', () => {
  it('minutes left, rounded up; amber under 10 minutes; red and negative once breached', () => {
    expect(slaCountdown({ sla_due_at: NOW + 12 * min }, NOW)).toEqual({ text: '12m', tone: 'ok', dueAt: NOW + 12 * min });
    expect(slaCountdown({ sla_due_at: NOW + 10 * min }, NOW)?.tone).toBe('ok');
    expect(slaCountdown({ sla_due_at: NOW + 3 * min }, NOW)).toMatchObject({ text: '3m', tone: 'warn' });
    expect(slaCountdown({ sla_due_at: NOW + 2 * min + 10_000 }, NOW)?.text).toBe('3m');
    expect(slaCountdown({ sla_due_at: NOW + 5_000 }, NOW)).toMatchObject({ text: '1m', tone: 'warn' });
    expect(slaCountdown({ sla_due_at: NOW }, NOW)).toMatchObject({ text: '-1m', tone: 'breached' });
    expect(slaCountdown({ sla_due_at: NOW - 4 * min }, NOW)).toMatchObject({ text: '-4m', tone: 'breached' });
    expect(slaCountdown({ sla_due_at: NOW + 75 * min }, NOW)?.text).toBe('1h 15m');
  });

  it('no clock: nothing', () => {
    expect(slaCountdown({ sla_due_at: null }, NOW)).toBeNull();
    expect(slaCountdown({}, NOW)).toBeNull();
  });

  it('kind labels', () => {
    expect(slaKindLabel('first_response')).toBe('First response');
    expect(slaKindLabel('resolution')).toBe('Resolution');
    expect(slaKindLabel('on_hold_timer')).toBe('On hold timer');
    expect(slaKindLabel(null)).toBe('SLA');
    expect(slaKindLabel(undefined)).toBe('SLA');
  });
});

describe('list prefs', () => {
  function memory(initial: Record<string, string> = {}) {
    const data = new Map(Object.entries(initial));
    return {
      data,
      getItem: (k: string) => data.get(k) ?? null,
      setItem: (k: string, v: string) => void data.set(k, v),
    };
  }

  it('defaults when nothing is stored, or it is garbage', () => {
    expect(loadListPrefs(memory())).toEqual({ filter: DEFAULT_FILTER, sort: DEFAULT_SORT });
    expect(loadListPrefs(memory({ [LIST_PREFS_KEY]: '{not json' }))).toEqual({ filter: 'all', sort: 'newest' });
    expect(loadListPrefs(memory({ [LIST_PREFS_KEY]: '"mine"' }))).toEqual({ filter: 'all', sort: 'newest' });
    expect(loadListPrefs(memory({ [LIST_PREFS_KEY]: '{"filter":"nope","sort":"priority"}' }))).toEqual({
      filter: 'all',
      sort: 'priority',
    });
    expect(loadListPrefs(null)).toEqual({ filter: 'all', sort: 'newest' });
  });

  it('round-trips', () => {
    const store = memory();
    saveListPrefs({ filter: 'sla_risk', sort: 'sla_due' }, store);
    expect(JSON.parse(store.data.get(LIST_PREFS_KEY)!)).toEqual({ filter: 'sla_risk', sort: 'sla_due' });
    expect(loadListPrefs(store)).toEqual({ filter: 'sla_risk', sort: 'sla_due' });
  });

  it('a storage that throws is survived', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
    };
    expect(() => saveListPrefs({ filter: 'mine', sort: 'newest' }, broken)).not.toThrow();
    expect(loadListPrefs(broken)).toEqual({ filter: 'all', sort: 'newest' });
  });
});

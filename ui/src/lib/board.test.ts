import { describe, expect, it, vi } from 'vitest';
import {
  BoardLoader,
  applyConversation,
  assignCandidates,
  boardCountdown,
  boardCounts,
  clockOffset,
  compareBoardEntries,
  filterBoard,
  isAtRisk,
  isBreached,
  needsCover,
  serverTime,
  sortAgentLoads,
  sortBoardEntries,
  teamsWithoutCover,
  timelineKindLabel,
} from './board';
import { BackendError } from './errors';
import type { Board } from './types';
import { NOW, agentLoad, board, boardEntry, conversation, teamLoad } from '../test/fixtures';

const MIN = 60_000;

/** A promise to settle by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let pending promise callbacks run. */
async function flush() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('the board order', () => {
  const entries = [
    boardEntry({ conversation_id: 8, contact_name: 'h', sla_due_at: null, priority: 'low', requested_at: NOW - 90 * MIN }),
    boardEntry({ conversation_id: 4, contact_name: 'd', sla_due_at: NOW + 5 * MIN, priority: 'normal', requested_at: NOW - 9 * MIN }),
    boardEntry({ conversation_id: 2, contact_name: 'b', breached: true, at_risk: true, sla_due_at: NOW - 2 * MIN }),
    boardEntry({ conversation_id: 7, contact_name: 'g', sla_due_at: null, priority: 'high', requested_at: NOW - 5 * MIN }),
    boardEntry({ conversation_id: 3, contact_name: 'c', breached: true, at_risk: true, sla_due_at: null }),
    // Due a minute ago, but the server said "not breached" when it read the board.
    boardEntry({ conversation_id: 10, contact_name: 'j', breached: false, sla_due_at: NOW - MIN }),
    boardEntry({ conversation_id: 5, contact_name: 'e', sla_due_at: NOW + 5 * MIN, priority: 'urgent', requested_at: NOW - 3 * MIN }),
    boardEntry({ conversation_id: 9, contact_name: 'i', sla_due_at: null, priority: 'high', requested_at: NOW - 30 * MIN }),
    boardEntry({ conversation_id: 1, contact_name: 'a', breached: true, at_risk: true, sla_due_at: NOW - 10 * MIN }),
    boardEntry({ conversation_id: 6, contact_name: 'f', sla_due_at: NOW + 5 * MIN, priority: 'urgent', requested_at: NOW - 8 * MIN }),
  ];

  it('breached first (most overdue first), then nearest due, then priority, then the oldest request', () => {
    const order = sortBoardEntries(entries, NOW).map((e) => e.contact_name);
    expect(order).toEqual(['a', 'b', 'j', 'c', 'f', 'e', 'd', 'i', 'g', 'h']);
  });

  it('does not change the array it sorts, and is a total order', () => {
    const before = entries.map((e) => e.conversation_id);
    sortBoardEntries(entries, NOW);
    expect(entries.map((e) => e.conversation_id)).toEqual(before);
    // Identical but for the id: the id decides, both ways round.
    const x = boardEntry({ conversation_id: 20 });
    const y = boardEntry({ conversation_id: 21 });
    expect(compareBoardEntries(x, y, NOW)).toBeLessThan(0);
    expect(compareBoardEntries(y, x, NOW)).toBeGreaterThan(0);
  });

  it('a clock that runs out between two loads counts as breached', () => {
    const e = boardEntry({ sla_due_at: NOW + MIN, breached: false });
    expect(isBreached(e, NOW)).toBe(false);
    expect(isBreached(e, NOW + MIN)).toBe(true);
    expect(sortBoardEntries([boardEntry({ conversation_id: 2, breached: true, sla_due_at: null }), e], NOW + 2 * MIN)[0]).toBe(e);
  });
});

describe('risk, filters and counts', () => {
  const waitingSafe = boardEntry({ conversation_id: 1, status: 'waiting', team_id: 1, sla_due_at: NOW + 60 * MIN });
  const assignedRisky = boardEntry({ conversation_id: 2, status: 'assigned', assignee_id: 8, team_id: 2, at_risk: true, sla_due_at: NOW + 30 * MIN });
  // Due in 5 minutes, but its warning point (75% of the target) is 2 minutes ahead still.
  const waitingNear = boardEntry({
    conversation_id: 3,
    status: 'waiting',
    team_id: null,
    sla_due_at: NOW + 5 * MIN,
    sla_warn_at: NOW + 2 * MIN,
  });
  const assignedNoSla = boardEntry({ conversation_id: 4, status: 'assigned', assignee_id: 7, team_id: 1, sla_due_at: null });
  const all = [waitingSafe, assignedRisky, waitingNear, assignedNoSla];

  it("at risk: the server's rule (past the warning point, or breached), not \"due within ten minutes\"", () => {
    expect(isAtRisk(waitingSafe, NOW)).toBe(false);
    expect(isAtRisk(assignedRisky, NOW)).toBe(true);
    // Due in 5 minutes, its warning point still ahead: not at risk.
    expect(isAtRisk(waitingNear, NOW)).toBe(false);
    expect(isAtRisk(assignedNoSla, NOW)).toBe(false);
    expect(isAtRisk(boardEntry({ breached: true, sla_due_at: null }), NOW)).toBe(true);
  });

  it('at risk ticks locally between loads: once the clock passes sla_warn_at, and once it is due', () => {
    expect(isAtRisk(waitingNear, NOW + 2 * MIN - 1)).toBe(false);
    expect(isAtRisk(waitingNear, NOW + 2 * MIN)).toBe(true);
    expect(isAtRisk(waitingNear, NOW + 3 * MIN)).toBe(true);
    // Overdue, even without a warning point.
    const noWarning = boardEntry({ sla_due_at: NOW + 5 * MIN, sla_warn_at: null });
    expect(isAtRisk(noWarning, NOW + 4 * MIN)).toBe(false);
    expect(isAtRisk(noWarning, NOW + 5 * MIN)).toBe(true);
    expect(boardCounts([waitingNear], 'all', NOW + 2 * MIN).at_risk).toBe(1);
    expect(filterBoard([waitingNear], 'at_risk', 'all', NOW + 2 * MIN)).toHaveLength(1);
  });

  it('a 20-second SLA is not at risk after one second: only at its warning point (75%, 15 s)', () => {
    const requested = NOW;
    const short = boardEntry({ requested_at: requested, sla_due_at: requested + 20_000, sla_warn_at: requested + 15_000 });
    expect(isAtRisk(short, requested + 1_000)).toBe(false);
    expect(boardCountdown(short, requested + 1_000)).toMatchObject({ text: '19s', tone: 'ok' });
    expect(isAtRisk(short, requested + 15_000)).toBe(true);
    expect(boardCountdown(short, requested + 15_000)).toMatchObject({ text: '5s', tone: 'warn' });
    expect(boardCountdown(short, requested + 21_000)).toMatchObject({ text: '-1s', tone: 'breached' });
  });

  it('filters by status, risk and team', () => {
    const ids = (list: { conversation_id: number }[]) => list.map((e) => e.conversation_id);
    expect(ids(filterBoard(all, 'all', 'all', NOW))).toEqual([1, 2, 3, 4]);
    expect(ids(filterBoard(all, 'waiting', 'all', NOW))).toEqual([1, 3]);
    expect(ids(filterBoard(all, 'at_risk', 'all', NOW))).toEqual([2]);
    expect(ids(filterBoard(all, 'at_risk', 'all', NOW + 2 * MIN))).toEqual([2, 3]);
    expect(ids(filterBoard(all, 'all', 1, NOW))).toEqual([1, 4]);
    expect(ids(filterBoard(all, 'waiting', 'none', NOW))).toEqual([3]);
    expect(boardCounts(all, 'all', NOW)).toEqual({ all: 4, waiting: 2, at_risk: 1 });
    expect(boardCounts(all, 'all', NOW + 2 * MIN)).toEqual({ all: 4, waiting: 2, at_risk: 2 });
    expect(boardCounts(all, 2, NOW)).toEqual({ all: 1, waiting: 0, at_risk: 1 });
  });

  it('a team with a queue and nobody online needs cover; one without a queue does not', () => {
    expect(needsCover(teamLoad({ waiting: 3, online_agents: 0 }))).toBe(true);
    expect(needsCover(teamLoad({ waiting: 0, online_agents: 0 }))).toBe(false);
    expect(needsCover(teamLoad({ waiting: 3, online_agents: 1 }))).toBe(false);
    const teams = [
      teamLoad({ id: 1, name: 'Support', waiting: 2, online_agents: 0 }),
      teamLoad({ id: 2, name: 'Billing', waiting: 5, online_agents: 0 }),
      teamLoad({ id: 3, name: 'Sales', waiting: 9, online_agents: 2 }),
    ];
    expect(teamsWithoutCover(teams).map((t) => t.name)).toEqual(['Billing', 'Support']);
  });
});

describe('agents', () => {
  const agents = [
    agentLoad({ id: 1, name: 'Ana', availability: 'online', open_conversations: 4, capacity: 5, at_risk: 0 }),
    agentLoad({ id: 2, name: 'Ben', availability: 'away', open_conversations: 0, capacity: 5, at_risk: 0 }),
    agentLoad({ id: 3, name: 'Cleo', availability: 'online', open_conversations: 1, capacity: 5, at_risk: 2 }),
    agentLoad({ id: 4, name: 'Dev', availability: 'offline', open_conversations: 0, capacity: 3, at_risk: 0 }),
    agentLoad({ id: 5, name: 'Eve', availability: 'online', open_conversations: 1, capacity: 2, at_risk: 0 }),
    agentLoad({ id: 6, name: 'Olga', role: 'viewer', availability: 'online', open_conversations: 0 }),
  ];

  it('the panel: most at risk first, then the most loaded', () => {
    expect(sortAgentLoads(agents).map((a) => a.name)).toEqual(['Cleo', 'Ana', 'Eve', 'Ben', 'Dev', 'Olga']);
  });

  it('the picker: no viewers; online first, the least loaded first', () => {
    expect(assignCandidates(agents).map((a) => a.name)).toEqual(['Cleo', 'Eve', 'Ana', 'Ben', 'Dev']);
  });
});

describe('the countdown clock', () => {
  it('counts on the server clock: the offset between the board and the local clock', () => {
    // The server is 10 minutes ahead of this computer.
    const local = 1_000_000;
    const offset = clockOffset(local + 10 * MIN, local);
    expect(offset).toBe(10 * MIN);
    const entry = boardEntry({
      sla_due_at: local + 10 * MIN + 3 * MIN,
      sla_warn_at: local + 10 * MIN + MIN,
      sla_kind: 'first_response',
    });
    expect(boardCountdown(entry, serverTime(offset, local))).toMatchObject({
      text: '3m 00s',
      tone: 'ok',
      said: 'First response due in 3m 00s',
    });
    // Thirty local seconds later it still counts down from the server's time.
    expect(boardCountdown(entry, serverTime(offset, local + 30_000))?.text).toBe('2m 30s');
    // Past the warning point: the countdown turns to a warning.
    expect(boardCountdown(entry, serverTime(offset, local + MIN))).toMatchObject({ text: '2m 00s', tone: 'warn' });
    expect(boardCountdown(entry, serverTime(offset, local + 161_000))).toMatchObject({
      text: '19s',
      said: 'First response due in 19s',
    });
    expect(boardCountdown(entry, serverTime(offset, local + 4 * MIN))).toMatchObject({
      text: '-1m 00s',
      tone: 'breached',
      said: 'First response overdue by 1m 00s',
    });
    expect(boardCountdown(entry, serverTime(offset, local + 20 * MIN))?.text).toBe('-17m');
    expect(clockOffset(Number.NaN, local)).toBe(0);
  });

  it('ok until the warning point unless the server says at risk; no clock, no countdown', () => {
    expect(boardCountdown(boardEntry({ sla_due_at: NOW + 60 * MIN }), NOW)?.tone).toBe('ok');
    expect(boardCountdown(boardEntry({ sla_due_at: NOW + 60 * MIN, at_risk: true }), NOW)?.tone).toBe('warn');
    // Due in 5 minutes is not a warning by itself (the inbox list's 10-minute rule is not the board's).
    const near = boardEntry({ sla_due_at: NOW + 5 * MIN, sla_warn_at: NOW + 2 * MIN });
    expect(boardCountdown(near, NOW)).toMatchObject({ text: '5m 00s', tone: 'ok' });
    expect(boardCountdown(near, NOW + 2 * MIN)?.tone).toBe('warn');
    expect(boardCountdown(boardEntry({ sla_due_at: null }), NOW)).toBeNull();
  });
});

describe('applyConversation', () => {
  it('applies what the server returned and re-sorts', () => {
    const b = board({
      conversations: [
        boardEntry({ conversation_id: 1, sla_due_at: null, priority: 'normal' }),
        boardEntry({ conversation_id: 2, sla_due_at: null, priority: 'normal', requested_at: NOW - 60 * MIN }),
      ],
    });
    const next = applyConversation(b, conversation({ id: 1, priority: 'urgent', state: 'assigned', assignee_id: 8, team_id: 1 }), NOW);
    expect(next.conversations.map((e) => e.conversation_id)).toEqual([1, 2]);
    expect(next.conversations[0]).toMatchObject({ priority: 'urgent', status: 'assigned', assignee_id: 8 });
    // The old board is left as it was.
    expect(b.conversations[0].priority).toBe('normal');
  });

  it('a conversation back with automation leaves the board; an unknown one changes nothing', () => {
    const b = board();
    expect(applyConversation(b, conversation({ id: 1, state: 'automation' }), NOW).conversations).toEqual([]);
    expect(applyConversation(b, conversation({ id: 99 }), NOW)).toBe(b);
  });
});

describe('BoardLoader', () => {
  function setup() {
    const calls: ReturnType<typeof deferred<Board>>[] = [];
    const fetcher = vi.fn(() => {
      const d = deferred<Board>();
      calls.push(d);
      return d.promise;
    });
    const onBoard = vi.fn();
    const onError = vi.fn();
    let clock = 5_000;
    const loader = new BoardLoader(fetcher, { board: onBoard, error: onError }, () => clock);
    return { calls, fetcher, onBoard, onError, loader, tick: (ms: number) => (clock += ms) };
  }

  it('two changes during one fetch: exactly one trailing fetch', async () => {
    const { calls, fetcher, onBoard, loader } = setup();
    const first = loader.request();
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(loader.busy).toBe(true);

    // Two pokes while the first request is out: nothing more is sent yet.
    void loader.request();
    void loader.request();
    expect(fetcher).toHaveBeenCalledTimes(1);

    calls[0].resolve(board({ cursor: 1 }));
    await flush();
    expect(onBoard).toHaveBeenCalledTimes(1);
    expect(fetcher).toHaveBeenCalledTimes(2);

    calls[1].resolve(board({ cursor: 2 }));
    await first;
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(onBoard).toHaveBeenCalledTimes(2);
    expect(onBoard.mock.calls[1][0]).toMatchObject({ cursor: 2 });
    expect(loader.busy).toBe(false);
  });

  it('no change during a fetch: no trailing fetch; a later one fetches again', async () => {
    const { calls, fetcher, loader } = setup();
    const done = loader.request();
    calls[0].resolve(board());
    await done;
    expect(fetcher).toHaveBeenCalledTimes(1);
    void loader.request();
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('reports when each board arrived (for the clock offset)', async () => {
    const { calls, onBoard, loader, tick } = setup();
    const done = loader.request();
    tick(250);
    calls[0].resolve(board());
    await done;
    expect(onBoard).toHaveBeenCalledWith(expect.objectContaining({ now: NOW }), 5_250);
  });

  it('a failure is reported as a BackendError and the next request goes out', async () => {
    const { calls, fetcher, onError, onBoard, loader } = setup();
    const done = loader.request();
    calls[0].reject(new BackendError('forbidden', 'managers only'));
    await done;
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: 'forbidden' }));
    const again = loader.request();
    calls[1].resolve(board());
    await again;
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(onBoard).toHaveBeenCalledTimes(1);
  });

  it('after stop, answers are ignored and nothing more is fetched', async () => {
    const { calls, fetcher, onBoard, loader } = setup();
    const done = loader.request();
    void loader.request();
    loader.stop();
    calls[0].resolve(board());
    await done;
    expect(onBoard).not.toHaveBeenCalled();
    expect(fetcher).toHaveBeenCalledTimes(1);
    await loader.request();
    expect(fetcher).toHaveBeenCalledTimes(1);
  });
});

describe('timelineKindLabel', () => {
  it('names known kinds and humanises new ones', () => {
    expect(timelineKindLabel('sla_breached')).toBe('SLA breached');
    expect(timelineKindLabel('priority_changed')).toBe('Priority changed');
    expect(timelineKindLabel('bot_paused')).toBe('Bot paused');
    expect(timelineKindLabel('')).toBe('Event');
  });
});

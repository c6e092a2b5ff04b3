// The manager's board (`GET /v1/board`): the risk order, filters, who is overloaded
// and which team has nobody to take its queue, the countdown clock, and the loader
// that keeps the board live without flooding the server. No Svelte here: all of it
// is unit-tested (board.test.ts).

import { BackendError, toBackendError } from './errors';
import { formatCountdownPrecise } from './format';
import { slaKindLabel } from './listView';
import type { AgentLoad, Availability, Board, BoardEntry, Conversation, Priority, TeamLoad } from './types';

// ---- the risk order --------------------------------------------------------------

/** Lower is more pressing. */
export const PRIORITY_RANK: Record<Priority, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

function priorityRank(p: Priority): number {
  return PRIORITY_RANK[p] ?? PRIORITY_RANK.normal;
}

function finite(n: number | null | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n);
}

/** Breached: the server says so, or its running clock has run out since (at `now`, the server's clock). */
export function isBreached(e: Pick<BoardEntry, 'breached' | 'sla_due_at'>, now: number): boolean {
  return e.breached || (finite(e.sla_due_at) && e.sla_due_at <= now);
}

/** Past its SLA warning point (the policy's share of the target) at `now`, the server's time. */
export function isPastWarning(e: Pick<BoardEntry, 'sla_warn_at'>, now: number): boolean {
  return finite(e.sla_warn_at) && now >= e.sla_warn_at;
}

/**
 * At risk, as the server defines it: past the warning point of its running SLA clock, or
 * breached. `at_risk` says so at the last load; between two loads the warning point and
 * the deadline tick locally. (Not the inbox list's "due within 10 minutes": with a short
 * SLA target that would be almost always.)
 */
export function isAtRisk(
  e: Pick<BoardEntry, 'at_risk' | 'breached' | 'sla_due_at' | 'sla_warn_at'>,
  now: number,
): boolean {
  return e.at_risk || isBreached(e, now) || isPastWarning(e, now);
}

/** Waiting in a queue with nobody on it. */
export function isUnassigned(e: Pick<BoardEntry, 'status' | 'assignee_id'>): boolean {
  return e.status === 'waiting' || e.assignee_id === null;
}

/**
 * The server's order, for re-sorting after a local change: breached first (most overdue
 * first), then the nearest SLA deadline (none: last), then priority (urgent > high >
 * normal > low), then the longest waiting (oldest `requested_at`); the conversation id
 * last, so that the order is total.
 */
export function compareBoardEntries(a: BoardEntry, b: BoardEntry, now: number): number {
  const breachedA = isBreached(a, now);
  const breachedB = isBreached(b, now);
  if (breachedA !== breachedB) return breachedA ? -1 : 1;
  const dueA = finite(a.sla_due_at) ? a.sla_due_at : Number.POSITIVE_INFINITY;
  const dueB = finite(b.sla_due_at) ? b.sla_due_at : Number.POSITIVE_INFINITY;
  if (dueA !== dueB) return dueA < dueB ? -1 : 1;
  const byPriority = priorityRank(a.priority) - priorityRank(b.priority);
  if (byPriority !== 0) return byPriority;
  if (a.requested_at !== b.requested_at) return a.requested_at - b.requested_at;
  return a.conversation_id - b.conversation_id;
}

/** A sorted copy (see `compareBoardEntries`). */
export function sortBoardEntries(entries: readonly BoardEntry[], now: number): BoardEntry[] {
  return [...entries].sort((a, b) => compareBoardEntries(a, b, now));
}

// ---- filters ---------------------------------------------------------------------

export type BoardFilter = 'all' | 'waiting' | 'at_risk';

export const BOARD_FILTERS: readonly { id: BoardFilter; label: string; description: string }[] = [
  { id: 'all', label: 'All', description: 'every open handoff' },
  { id: 'waiting', label: 'Waiting', description: 'waiting in a queue for a person' },
  { id: 'at_risk', label: 'At risk', description: 'at risk of breaching an SLA, or breached' },
];

export function isBoardFilter(value: unknown): value is BoardFilter {
  return BOARD_FILTERS.some((f) => f.id === value);
}

/** `'all'`: every team; `'none'`: conversations in no team; else a team id. */
export type TeamFilter = 'all' | 'none' | number;

function inTeam(e: BoardEntry, team: TeamFilter): boolean {
  if (team === 'all') return true;
  if (team === 'none') return e.team_id === null;
  return e.team_id === team;
}

function matches(e: BoardEntry, filter: BoardFilter, now: number): boolean {
  if (filter === 'waiting') return e.status === 'waiting';
  if (filter === 'at_risk') return isAtRisk(e, now);
  return true;
}

/** The entries the filters let through, in the order given. */
export function filterBoard(
  entries: readonly BoardEntry[],
  filter: BoardFilter,
  team: TeamFilter,
  now: number,
): BoardEntry[] {
  return entries.filter((e) => inTeam(e, team) && matches(e, filter, now));
}

/** How many entries of the team each filter would show. */
export function boardCounts(entries: readonly BoardEntry[], team: TeamFilter, now: number): Record<BoardFilter, number> {
  const counts: Record<BoardFilter, number> = { all: 0, waiting: 0, at_risk: 0 };
  for (const e of entries) {
    if (!inTeam(e, team)) continue;
    counts.all += 1;
    if (e.status === 'waiting') counts.waiting += 1;
    if (isAtRisk(e, now)) counts.at_risk += 1;
  }
  return counts;
}

// ---- teams and agents --------------------------------------------------------------

/** A queue nobody can take: people waiting, nobody of the team online. */
export function needsCover(team: Pick<TeamLoad, 'waiting' | 'online_agents'>): boolean {
  return team.waiting > 0 && team.online_agents <= 0;
}

/** The teams with a queue and nobody online, most waiting first. */
export function teamsWithoutCover(teams: readonly TeamLoad[]): TeamLoad[] {
  return teams.filter(needsCover).sort((a, b) => b.waiting - a.waiting || a.name.localeCompare(b.name));
}

/** open / capacity (0..; above 1 is over capacity); an agent without capacity counts as full when busy. */
export function loadRatio(a: Pick<AgentLoad, 'open_conversations' | 'capacity'>): number {
  if (a.capacity > 0) return a.open_conversations / a.capacity;
  return a.open_conversations > 0 ? Number.POSITIVE_INFINITY : 0;
}

/** The agents panel's order: the most at-risk conversations first, then the most loaded, then by name. */
export function sortAgentLoads(agents: readonly AgentLoad[]): AgentLoad[] {
  return [...agents].sort(
    (a, b) =>
      b.at_risk - a.at_risk ||
      loadRatio(b) - loadRatio(a) ||
      b.open_conversations - a.open_conversations ||
      a.name.localeCompare(b.name),
  );
}

const AVAILABILITY_RANK: Record<Availability, number> = { online: 0, away: 1, offline: 2 };

/**
 * Who a conversation can be assigned to: everyone but viewers, online first, then away,
 * then offline; within each, the least loaded first, then by name.
 */
export function assignCandidates(agents: readonly AgentLoad[]): AgentLoad[] {
  return agents
    .filter((a) => a.role !== 'viewer')
    .sort(
      (a, b) =>
        (AVAILABILITY_RANK[a.availability] ?? 3) - (AVAILABILITY_RANK[b.availability] ?? 3) ||
        loadRatio(a) - loadRatio(b) ||
        a.name.localeCompare(b.name),
    );
}

// ---- the clock ------------------------------------------------------------------------

/**
 * How far the server's clock is ahead of this one (ms): the board's `now` against the
 * local time it arrived. Countdowns tick locally as `Date.now() + offset`.
 */
export function clockOffset(serverNow: number, receivedAt: number): number {
  return finite(serverNow) && finite(receivedAt) ? serverNow - receivedAt : 0;
}

/** The server's time now, from the local clock and the offset. */
export function serverTime(offset: number, localNow: number = Date.now()): number {
  return localNow + offset;
}

export type CountdownTone = 'ok' | 'warn' | 'breached';

export interface BoardCountdown {
  /** "19s", "4m 05s", "12m", "1h 5m"; "-3m" when overdue. */
  text: string;
  tone: CountdownTone;
  /** "First response due in 12m", "Resolution overdue by 3m". */
  said: string;
  dueAt: number;
}

/** The entry's SLA countdown at `now` (the server's time); null when no clock runs. */
export function boardCountdown(e: BoardEntry, now: number): BoardCountdown | null {
  if (!finite(e.sla_due_at)) return null;
  const label = slaKindLabel(e.sla_kind);
  const left = e.sla_due_at - now;
  if (left <= 0) {
    const by = formatCountdownPrecise(-left);
    return { text: `-${by}`, tone: 'breached', said: `${label} overdue by ${by}`, dueAt: e.sla_due_at };
  }
  const text = formatCountdownPrecise(left);
  // The server's rule (see `isAtRisk`), not a fixed window before the deadline.
  const tone: CountdownTone = e.at_risk || e.breached || isPastWarning(e, now) ? 'warn' : 'ok';
  return { text, tone, said: `${label} due in ${text}`, dueAt: e.sla_due_at };
}

// ---- local changes ------------------------------------------------------------------------

/**
 * The board with a conversation the server returned (after assigning it or changing its
 * priority) applied to its entry, re-sorted. Unknown or closed conversations: unchanged,
 * and a conversation back with automation leaves the board.
 */
export function applyConversation(board: Board, conversation: Conversation, now: number): Board {
  const i = board.conversations.findIndex((e) => e.conversation_id === conversation.id);
  if (i < 0) return board;
  if (conversation.state === 'automation') {
    return { ...board, conversations: board.conversations.filter((_, j) => j !== i) };
  }
  const before = board.conversations[i];
  const entry: BoardEntry = {
    ...before,
    status: conversation.state,
    priority: conversation.priority,
    assignee_id: conversation.assignee_id,
    team_id: conversation.team_id,
  };
  const conversations = board.conversations.slice();
  conversations[i] = entry;
  return { ...board, conversations: sortBoardEntries(conversations, now) };
}

// ---- the loader -------------------------------------------------------------------------------

export interface BoardLoaderHandlers {
  /** A board arrived; `receivedAt` is the local time it did (for `clockOffset`). */
  board(board: Board, receivedAt: number): void;
  error(error: BackendError): void;
}

/**
 * Loads the board, coalescing: at most one request in flight; asks made while one is
 * (any number of them) lead to exactly one more request once it is done, so the last
 * change is always seen and a burst of pokes costs two requests.
 */
export class BoardLoader {
  private readonly fetcher: () => Promise<Board>;
  private readonly handlers: BoardLoaderHandlers;
  private readonly clock: () => number;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(fetcher: () => Promise<Board>, handlers: BoardLoaderHandlers, clock: () => number = Date.now) {
    this.fetcher = fetcher;
    this.handlers = handlers;
    this.clock = clock;
  }

  /** True while a request is in flight. */
  get busy(): boolean {
    return this.running !== null;
  }

  /**
   * Load the board now, or once more after the request in flight. Resolves once a board
   * requested after this call has arrived (or failed); never rejects.
   */
  request(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Nothing more is asked for or reported (the view closed). */
  stop(): void {
    this.stopped = true;
    this.again = false;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      await this.once();
    } while (this.again && !this.stopped);
  }

  private async once(): Promise<void> {
    try {
      const board = await this.fetcher();
      if (!this.stopped) this.handlers.board(board, this.clock());
    } catch (err) {
      if (!this.stopped) this.handlers.error(toBackendError(err));
    }
  }
}

// ---- the timeline ---------------------------------------------------------------------------------

const TIMELINE_KINDS: Record<string, string> = {
  requested: 'Handoff requested',
  routed: 'Routed',
  assigned: 'Assigned',
  claimed: 'Claimed',
  transferred: 'Transferred',
  priority_changed: 'Priority changed',
  first_response: 'First response',
  sla_warning: 'SLA warning',
  sla_breached: 'SLA breached',
  resolved: 'Resolved',
  timed_out: 'Timed out in the queue',
  returned: 'Returned to automation',
};

/** A timeline event's kind in words (newer kinds humanised). */
export function timelineKindLabel(kind: string): string {
  if (Object.prototype.hasOwnProperty.call(TIMELINE_KINDS, kind)) return TIMELINE_KINDS[kind];
  const words = kind.replace(/[_-]+/g, ' ').trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : 'Event';
}

/** Timeline events that mark trouble (shown in the warning or danger style). */
export function timelineTone(kind: string): 'danger' | 'warn' | null {
  if (kind === 'sla_breached' || kind === 'timed_out') return 'danger';
  if (kind === 'sla_warning') return 'warn';
  return null;
}

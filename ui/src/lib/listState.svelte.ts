// The conversation list as the agent sees it: the chosen filter and sort, the rows
// they give, counts per filter (all and unread), the keyboard cursor, and the one
// clock the rows' countdowns tick on.

import type { Inbox } from './inbox.svelte';
import type { Conversation } from './types';
import {
  filterSorted,
  loadListPrefs,
  saveListPrefs,
  sortConversations,
  tabCounts,
  type FilterCounts,
  type FilterId,
  type SortId,
  type TabCounts,
  type ViewContext,
} from './listView';

/** Every row of the list is this tall (px); the list is windowed on it. */
export const ROW_HEIGHT = 76;
/** The rows' countdowns and times tick this often (one timer for the whole list). */
export const CLOCK_MS = 1000;
/** Which conversations are "at risk" is worked out again this often (not every tick). */
export const FILTER_CLOCK_MS = 15_000;

type Store = Pick<Storage, 'getItem' | 'setItem'>;

export class ListState {
  readonly inbox: Inbox;
  private readonly storage: Store | null | undefined;

  filter = $state<FilterId>('all');
  sort = $state<SortId>('newest');
  /** The row the keyboard is on (j/k, arrows); opened with Enter. */
  cursorId = $state<number | null>(null);
  /** Bumped to bring the cursor's row into view even when it did not move. */
  revealSeq = $state(0);
  /** The shared clock of the rows (countdowns, relative times). */
  now = $state(Date.now());

  /** `now` in coarse steps: filtering and counting 10 000 rows every second is wasted work. */
  readonly filterNow = $derived(Math.floor(this.now / FILTER_CLOCK_MS) * FILTER_CLOCK_MS);
  readonly ctx: ViewContext = $derived.by(() => ({ agentId: this.inbox.agentId, now: this.filterNow }));
  /**
   * Every conversation in the chosen order: sorted once per list the server sent (the
   * array is replaced on every change, never mutated) and per sort, not on every tick
   * of the clock or change of filter.
   */
  readonly sorted: readonly Conversation[] = $derived.by(() => sortConversations(this.inbox.conversations, this.sort));
  /** The rows: the conversations the filter shows, in the chosen order. */
  readonly items: readonly Conversation[] = $derived.by(() => filterSorted(this.sorted, this.filter, this.ctx));
  /** How many conversations each tab shows, all and unread: one pass over the list. */
  readonly tabCounts: TabCounts = $derived.by(() => tabCounts(this.inbox.conversations, this.ctx, this.inbox.seen.seen));
  readonly counts: FilterCounts = $derived(this.tabCounts.all);
  readonly unreadCounts: FilterCounts = $derived(this.tabCounts.unread);

  /** `storage` undefined: localStorage. */
  constructor(inbox: Inbox, storage?: Store | null) {
    this.inbox = inbox;
    this.storage = storage;
    const prefs = storage === undefined ? loadListPrefs() : loadListPrefs(storage);
    this.filter = prefs.filter;
    this.sort = prefs.sort;
  }

  private save(): void {
    const prefs = { filter: this.filter, sort: this.sort };
    if (this.storage === undefined) saveListPrefs(prefs);
    else saveListPrefs(prefs, this.storage);
  }

  setFilter(filter: FilterId): void {
    if (this.filter === filter) return;
    this.filter = filter;
    this.save();
  }

  setSort(sort: SortId): void {
    if (this.sort === sort) return;
    this.sort = sort;
    this.save();
  }

  /** Where the cursor's row is in `items`; -1 when it is not shown. */
  get cursorIndex(): number {
    const id = this.cursorId;
    return id === null ? -1 : this.items.findIndex((c) => c.id === id);
  }

  /** Put the cursor on a row (and bring it into view). */
  setCursor(id: number | null): void {
    this.cursorId = id;
    this.revealSeq += 1;
  }

  /**
   * Move the cursor `delta` rows (clamped to the list). From nowhere (or a row this
   * filter hides) it starts at the open conversation, else at the first row.
   * Returns the row it is on, or null for an empty list.
   */
  move(delta: number): Conversation | null {
    const items = this.items;
    if (items.length === 0) return null;
    let index = this.cursorIndex;
    if (index < 0) {
      const open = this.inbox.selectedId;
      index = open === null ? -1 : items.findIndex((c) => c.id === open);
      if (index < 0) {
        this.setCursor(items[0].id);
        return items[0];
      }
    }
    const next = items[Math.min(items.length - 1, Math.max(0, index + delta))];
    this.setCursor(next.id);
    return next;
  }

  /** The cursor to the first row (`g i`). */
  toTop(): Conversation | null {
    const first = this.items[0] ?? null;
    this.setCursor(first?.id ?? null);
    return first;
  }

  /** The cursor to the last row. */
  toBottom(): Conversation | null {
    const last = this.items[this.items.length - 1] ?? null;
    this.setCursor(last?.id ?? null);
    return last;
  }

  /** Open the conversation under the cursor; false when there is none. */
  openCursor(): boolean {
    const id = this.cursorId;
    if (id === null || !this.items.some((c) => c.id === id)) return false;
    void this.inbox.select(id);
    return true;
  }

  /** Starts the shared clock; returns the function that stops it. */
  startClock(): () => void {
    this.now = Date.now();
    const timer = setInterval(() => (this.now = Date.now()), CLOCK_MS);
    return () => clearInterval(timer);
  }
}

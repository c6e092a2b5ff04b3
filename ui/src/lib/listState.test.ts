import { afterEach, describe, expect, it, vi } from 'vitest';
import { ListState, FILTER_CLOCK_MS } from './listState.svelte';
import { Inbox } from './inbox.svelte';
import { LIST_PREFS_KEY } from './listView';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, conversation, detail } from '../test/fixtures';

const min = 60_000;

async function state(storage?: Pick<Storage, 'getItem' | 'setItem'> | null) {
  const backend = new FakeBackend({
    details: [
      detail({ conversation: conversation({ id: 1, last_message_at: NOW - min }) }),
      detail({ conversation: conversation({ id: 2, state: 'waiting', assignee_id: null, last_message_at: NOW - 2 * min }) }),
      detail({ conversation: conversation({ id: 3, last_message_at: NOW - 3 * min, sla_due_at: NOW + 11 * min }) }),
    ],
  });
  const inbox = new Inbox(backend);
  await inbox.start();
  return { inbox, list: new ListState(inbox, storage) };
}

const ids = (list: ListState) => list.items.map((c) => c.id);

describe('ListState', () => {
  afterEach(() => vi.useRealTimers());

  it('the cursor starts at the open conversation, else the first row, and stays within the list', async () => {
    const { inbox, list } = await state();
    expect(list.move(1)?.id).toBe(1); // from nowhere: the first row
    expect(list.move(5)?.id).toBe(3);
    expect(list.move(-10)?.id).toBe(1);

    list.cursorId = null;
    await inbox.select(2);
    expect(list.move(1)?.id).toBe(3); // from the open one
    expect(list.toTop()?.id).toBe(1);
    expect(list.toBottom()?.id).toBe(3);
  });

  it('a cursor on a row the filter hides starts again at the top', async () => {
    const { list } = await state();
    list.setCursor(1);
    list.setFilter('queue');
    expect(ids(list)).toEqual([2]);
    expect(list.cursorIndex).toBe(-1);
    expect(list.openCursor()).toBe(false);
    expect(list.move(1)?.id).toBe(2);
    expect(list.openCursor()).toBe(true);
  });

  it('an empty list has no cursor', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    const { list } = await state();
    list.setFilter('sla_risk');
    expect(list.items).toEqual([]);
    expect(list.move(1)).toBeNull();
    expect(list.toTop()).toBeNull();
    expect(list.cursorId).toBeNull();
  });

  it('setCursor asks for the row to be shown even when it does not move', async () => {
    const { list } = await state();
    const before = list.revealSeq;
    list.setCursor(1);
    list.setCursor(1);
    expect(list.revealSeq).toBe(before + 2);
  });

  it('filter and sort are saved to the storage given, and read back', async () => {
    const data = new Map<string, string>();
    const storage = { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v) };
    const { list } = await state(storage);
    list.setFilter('mine');
    list.setSort('priority');
    expect(JSON.parse(data.get(LIST_PREFS_KEY)!)).toEqual({ filter: 'mine', sort: 'priority' });
    const { list: again } = await state(storage);
    expect([again.filter, again.sort]).toEqual(['mine', 'priority']);
  });

  it('the shared clock ticks; "SLA at risk" follows it in coarse steps', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date', 'setInterval', 'clearInterval'] });
    const { list } = await state();
    const stop = list.startClock();
    expect(list.counts.sla_risk).toBe(0); // due in 11 minutes
    vi.advanceTimersByTime(min);
    expect(list.now).toBe(NOW + min);
    // Within 10 minutes now, once the coarse clock has caught up.
    vi.advanceTimersByTime(FILTER_CLOCK_MS);
    expect(list.counts.sla_risk).toBe(1);
    stop();
    vi.advanceTimersByTime(10 * min);
    expect(list.now).toBe(NOW + min + FILTER_CLOCK_MS);
  });
});

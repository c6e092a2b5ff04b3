import { afterEach, describe, expect, it, vi } from 'vitest';
import { tick } from 'svelte';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import ConversationList from './ConversationList.svelte';
import App from '../App.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { CLOCK_MS, ListState, ROW_HEIGHT } from '../lib/listState.svelte';
import { LIST_PREFS_KEY } from '../lib/listView';
import { seenKey } from '../lib/unread.svelte';
import type { Conversation, ConversationDetail } from '../lib/types';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, agent, conversation, detail, session } from '../test/fixtures';

const min = 60_000;

/** `n` conversations, newest first: "Customer 1" .. "Customer n". */
function many(n: number, overrides: (i: number) => Partial<Conversation> = () => ({})): Conversation[] {
  return Array.from({ length: n }, (_, i) =>
    conversation({
      id: i + 1,
      contact: { id: i + 1, wa_id: null, bsuid: null, name: `Customer ${i + 1}` },
      last_message_at: NOW - i * 1000,
      last_inbound_at: null,
      ...overrides(i),
    }),
  );
}

async function showList(conversations: Conversation[], threads: ConversationDetail[] = []) {
  const backend = new FakeBackend({ details: threads });
  backend.conversations = conversations;
  const inbox = new Inbox(backend);
  await inbox.start();
  const list = new ListState(inbox);
  const view = render(ConversationList, { inbox, list });
  return { backend, inbox, list, view, user: userEvent.setup() };
}

const rows = () => screen.queryAllByTestId('conversation-item');
const rowIds = () => rows().map((r) => Number(r.dataset.conversationId));
const row = (id: number) => rows().find((r) => r.dataset.conversationId === String(id))!;

describe('ConversationList: windowing', () => {
  it('with 10,000 conversations only a screenful of rows is in the DOM; scrolling swaps them', async () => {
    await showList(many(10_000));
    const listbox = screen.getByRole('listbox');

    const first = rowIds();
    expect(first.length).toBeGreaterThanOrEqual(8);
    expect(first.length).toBeLessThanOrEqual(30);
    expect(first[0]).toBe(1);
    // The whole list's height is kept, so the scrollbar is right.
    expect(listbox.firstElementChild).toHaveStyle({ height: `${10_000 * ROW_HEIGHT}px` });
    expect(row(1)).toHaveAttribute('aria-setsize', '10000');
    expect(row(1)).toHaveAttribute('aria-posinset', '1');

    listbox.scrollTop = 5000 * ROW_HEIGHT;
    await fireEvent.scroll(listbox);

    const later = rowIds();
    expect(later.length).toBeLessThanOrEqual(30);
    expect(later).toContain(5001);
    expect(later).not.toContain(1);
    expect(Math.min(...later)).toBeLessThanOrEqual(5001);
    expect(row(5001)).toHaveAttribute('aria-posinset', '5001');
    expect(listbox.firstElementChild).toHaveStyle({ paddingTop: `${(Math.min(...later) - 1) * ROW_HEIGHT}px` });
  });

  it('keys move the cursor and scroll its row into view (End, Home, arrows)', async () => {
    await showList(many(10_000));
    const listbox = screen.getByRole('listbox');
    listbox.focus();

    await fireEvent.keyDown(listbox, { key: 'End' });
    expect(listbox.scrollTop).toBeGreaterThan(9_000 * ROW_HEIGHT);
    expect(row(10_000)).toHaveAttribute('aria-selected', 'true');
    expect(listbox).toHaveAttribute('aria-activedescendant', row(10_000).id);

    await fireEvent.keyDown(listbox, { key: 'ArrowUp' });
    expect(row(9_999)).toHaveAttribute('aria-selected', 'true');
    expect(row(10_000)).toHaveAttribute('aria-selected', 'false');

    await fireEvent.keyDown(listbox, { key: 'Home' });
    expect(listbox.scrollTop).toBe(0);
    expect(row(1)).toHaveAttribute('aria-selected', 'true');
    expect(rowIds()).not.toContain(9_999);

    await fireEvent.keyDown(listbox, { key: 'PageDown' });
    const cursor = rows().find((r) => r.getAttribute('aria-selected') === 'true')!;
    expect(Number(cursor.dataset.conversationId)).toBeGreaterThan(2);
    expect(listbox).toHaveAttribute('aria-activedescendant', cursor.id);
  });

  it('Enter opens the row under the cursor', async () => {
    const convs = many(3);
    const { backend } = await showList(
      convs,
      convs.map((c) => detail({ conversation: c })),
    );
    const listbox = screen.getByRole('listbox');
    listbox.focus();
    await fireEvent.keyDown(listbox, { key: 'ArrowDown' });
    await fireEvent.keyDown(listbox, { key: 'ArrowDown' });
    await fireEvent.keyDown(listbox, { key: 'Enter' });
    expect(backend.getThread).toHaveBeenCalledWith(2);
    await waitFor(() => expect(row(2)).toHaveAttribute('aria-current', 'true'));
  });
});

describe('ConversationList: filters and sort', () => {
  function mixed(): Conversation[] {
    return [
      conversation({ id: 1, assignee_id: agent.id, last_message_at: NOW - min, last_inbound_at: NOW - 5 * min }),
      conversation({ id: 2, state: 'waiting', assignee_id: null, priority: 'urgent', last_message_at: NOW - 2 * min, last_inbound_at: NOW - 2 * min }),
      // The customer waits for an answer here (not in 1, where we wrote last).
      conversation({ id: 3, assignee_id: 8, sla_due_at: NOW - min, last_message_at: NOW - 3 * min, last_inbound_at: NOW - 3 * min }),
      conversation({ id: 4, state: 'assigned', assignee_id: null, priority: 'high', last_message_at: NOW - 4 * min, last_inbound_at: NOW - 4 * min }),
    ];
  }

  it('a tablist with a labelled tab per filter, each with its count', async () => {
    await showList(mixed());
    const tablist = screen.getByRole('tablist', { name: 'Filter conversations' });
    const tabs = within(tablist).getAllByRole('tab');
    expect(tabs.map((t) => t.dataset.filter)).toEqual(['all', 'mine', 'queue', 'unassigned', 'waiting_customer', 'sla_risk']);
    expect(tabs.map((t) => within(t).getByTestId('filter-count').textContent)).toEqual(['4', '1', '1', '2', '1', '1']);
    expect(screen.getByRole('tab', { name: /^All: 4 conversations/ })).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByRole('tab', { name: /^Mine: 1 conversation\b/ })).toHaveAttribute('aria-selected', 'false');
    const panel = screen.getByRole('tabpanel');
    expect(panel).toHaveAttribute('aria-labelledby', tabs[0].id);
    for (const tab of tabs) expect(tab).toHaveAttribute('aria-controls', panel.id);
    // Roving tabindex: one tab stop.
    expect(tabs.map((t) => t.tabIndex)).toEqual([0, -1, -1, -1, -1, -1]);
  });

  it('choosing a filter shows only its conversations, and is remembered', async () => {
    const { user, view } = await showList(mixed());
    await user.click(screen.getByRole('tab', { name: /^Unassigned/ }));
    expect(rowIds()).toEqual([2, 4]);
    expect(screen.getByRole('tab', { name: /^Unassigned/ })).toHaveAttribute('aria-selected', 'true');
    expect(JSON.parse(localStorage.getItem(LIST_PREFS_KEY)!)).toMatchObject({ filter: 'unassigned' });

    await user.click(screen.getByRole('tab', { name: /^SLA risk/ }));
    expect(rowIds()).toEqual([3]);

    view.unmount();
    await showList(mixed());
    expect(screen.getByRole('tab', { name: /^SLA risk/ })).toHaveAttribute('aria-selected', 'true');
    expect(rowIds()).toEqual([3]);
  });

  it('arrow keys move between tabs and choose them', async () => {
    const { user } = await showList(mixed());
    screen.getByRole('tab', { name: /^All/ }).focus();
    await user.keyboard('{ArrowRight}');
    expect(screen.getByRole('tab', { name: /^Mine/ })).toHaveFocus();
    expect(screen.getByRole('tab', { name: /^Mine/ })).toHaveAttribute('aria-selected', 'true');
    expect(rowIds()).toEqual([1]);
    await user.keyboard('{ArrowLeft}{ArrowLeft}');
    expect(screen.getByRole('tab', { name: /^SLA risk/ })).toHaveFocus();
    await user.keyboard('{Home}');
    expect(screen.getByRole('tab', { name: /^All/ })).toHaveAttribute('aria-selected', 'true');
  });

  it('a filter nothing matches says so', async () => {
    const { user } = await showList([conversation({ id: 1, assignee_id: 8 })]);
    await user.click(screen.getByRole('tab', { name: /^Mine/ }));
    expect(screen.getByTestId('filter-empty')).toHaveTextContent('Assigned to me');
    expect(rows()).toHaveLength(0);
  });

  it('the sort select orders the rows, and is remembered', async () => {
    const { user } = await showList(mixed());
    const select = screen.getByRole('combobox', { name: 'Sort conversations' });
    expect(select).toHaveValue('newest');
    expect(rowIds()).toEqual([1, 2, 3, 4]);
    await user.selectOptions(select, 'priority');
    // urgent, high, then the two normal ones: the customer waiting for us first
    expect(rowIds()).toEqual([2, 4, 3, 1]);
    await user.selectOptions(select, 'oldest_waiting');
    expect(rowIds()).toEqual([4, 3, 2, 1]);
    await user.selectOptions(select, 'sla_due');
    expect(rowIds()[0]).toBe(3);
    expect(JSON.parse(localStorage.getItem(LIST_PREFS_KEY)!)).toMatchObject({ sort: 'sla_due' });
  });
});

describe('ConversationList: unread', () => {
  function threads() {
    return [
      detail({ conversation: conversation({ id: 1, last_inbound_at: NOW - 5 * min, last_message_at: NOW - min }) }),
      detail({ conversation: conversation({ id: 2, last_inbound_at: null, last_message_at: NOW - 2 * min }) }),
      detail({
        conversation: conversation({ id: 3, state: 'waiting', assignee_id: null, last_inbound_at: NOW - 3 * min, last_message_at: NOW - 3 * min }),
      }),
    ];
  }

  it('the customer wrote and nobody opened it: a dot, a bold name, counts in the tabs', async () => {
    const d = threads();
    await showList(
      d.map((x) => x.conversation),
      d,
    );
    expect(row(1)).toHaveAttribute('data-unread', 'true');
    expect(row(1)).toHaveClass('unread');
    expect(within(row(1)).getByTestId('unread-dot')).toBeInTheDocument();
    expect(row(1)).toHaveTextContent('Unread:');
    expect(row(2)).toHaveAttribute('data-unread', 'false');
    expect(within(row(2)).queryByTestId('unread-dot')).not.toBeInTheDocument();
    expect(row(2)).not.toHaveClass('unread');

    expect(within(screen.getByRole('tab', { name: /^All/ })).getByTestId('filter-unread')).toHaveTextContent('2');
    expect(within(screen.getByRole('tab', { name: /^Queue/ })).getByTestId('filter-unread')).toHaveTextContent('1');
    expect(screen.getByRole('tab', { name: /^All/ })).toHaveAccessibleName('All: 3 conversations, 2 unread');
    expect(within(screen.getByRole('tab', { name: /^Mine/ })).getByTestId('filter-unread')).toHaveTextContent('1');
  });

  it('opening it marks it seen (kept per server and agent); a newer customer message makes it unread again', async () => {
    const d = threads();
    const { backend, inbox, user } = await showList(
      d.map((x) => x.conversation),
      d,
    );
    await user.click(row(1));
    await waitFor(() => expect(row(1)).toHaveAttribute('data-unread', 'false'));
    expect(within(screen.getByRole('tab', { name: /^All/ })).getByTestId('filter-unread')).toHaveTextContent('1');
    const stored = JSON.parse(localStorage.getItem(seenKey(session.server_url, agent.id))!);
    expect(stored).toEqual({ 1: NOW - 5 * min });

    // Open another one; the customer of conversation 1 writes again.
    await user.click(row(2));
    backend.conversations[0] = { ...backend.conversations[0], last_inbound_at: NOW + min, last_message_at: NOW + min };
    await inbox.refreshList();
    await tick();
    expect(row(1)).toHaveAttribute('data-unread', 'true');

    // While a conversation is open, what the customer writes there is seen at once.
    await user.click(row(1));
    const t = backend.threads.get(1)!;
    backend.threads.set(1, { ...t, conversation: { ...t.conversation, last_inbound_at: NOW + 2 * min } });
    backend.conversations[0] = { ...backend.conversations[0], last_inbound_at: NOW + 2 * min, last_message_at: NOW + 2 * min };
    backend.emitChange([1]);
    await waitFor(() => expect(backend.getThread).toHaveBeenCalledTimes(4));
    await waitFor(() => expect(row(1)).toHaveAttribute('data-unread', 'false'));
  });
});

describe('ConversationList: SLA countdown', () => {
  afterEach(() => vi.useRealTimers());

  it('each row counts down on one shared timer: amber under 10 minutes, red and negative once breached', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date', 'setInterval', 'clearInterval'] });
    const intervals = vi.spyOn(globalThis, 'setInterval');
    await showList([
      conversation({ id: 1, sla_due_at: NOW + 12 * min, sla_kind: 'first_response', last_message_at: NOW - min }),
      conversation({ id: 2, sla_due_at: NOW + 3 * min, sla_kind: 'resolution', last_message_at: NOW - 2 * min }),
      conversation({ id: 3, sla_due_at: NOW - 4 * min, sla_kind: 'first_response', last_message_at: NOW - 3 * min }),
      conversation({ id: 4, sla_due_at: null, last_message_at: NOW - 4 * min }),
      conversation({ id: 5, last_message_at: NOW - 5 * min }),
    ]);
    const sla = (id: number) => within(row(id)).queryByTestId('row-sla');
    const text = (id: number) => within(row(id)).getByTestId('row-sla-text').textContent;

    expect(text(1)).toBe('12m');
    expect(sla(1)).toHaveAttribute('data-tone', 'ok');
    expect(text(2)).toBe('3m');
    expect(sla(2)).toHaveAttribute('data-tone', 'warn');
    expect(sla(2)).toHaveClass('tone-warn');
    expect(text(3)).toBe('-4m');
    expect(sla(3)).toHaveAttribute('data-tone', 'breached');
    expect(sla(3)).toHaveClass('tone-breached');
    expect(sla(1)).toHaveTextContent('First response due in 12m');
    expect(sla(2)).toHaveTextContent('Resolution due in 3m');
    expect(sla(3)).toHaveTextContent('First response overdue by 4m');
    expect(sla(4)).toBeNull();
    expect(sla(5)).toBeNull();

    // One timer for the whole list, not one per row.
    expect(intervals.mock.calls.filter(([, ms]) => ms === CLOCK_MS)).toHaveLength(1);

    vi.advanceTimersByTime(3 * min);
    await tick();
    expect(text(1)).toBe('9m');
    expect(sla(1)).toHaveAttribute('data-tone', 'warn');
    expect(text(2)).toBe('-1m');
    expect(sla(2)).toHaveAttribute('data-tone', 'breached');
    expect(text(3)).toBe('-7m');
  });
});

describe('ConversationList: colleagues on a row', () => {
  it('shows up to three colleagues viewing or typing, never me, and forgets those who left', async () => {
    const { backend } = await showList([conversation({ id: 1 }), conversation({ id: 2, last_message_at: NOW - 9 * min })]);
    const presence = (agent_id: number, agent_name: string, state: 'viewing' | 'typing' | 'left', conversation_id = 1) =>
      backend.emitLive({ type: 'presence', conversation_id, agent_id, agent_name, state });

    presence(8, 'Maya Ruiz', 'typing');
    presence(9, 'Ben Okafor', 'viewing');
    presence(agent.id, agent.name, 'viewing');
    await tick();
    let viewers = within(row(1)).getByTestId('row-viewers');
    expect(within(viewers).getAllByTestId('row-viewer').map((v) => v.dataset.agentId)).toEqual(['8', '9']);
    expect(viewers).toHaveAttribute('title', 'Maya is typing… · Ben is viewing');
    expect(within(row(2)).queryByTestId('row-viewers')).not.toBeInTheDocument();

    presence(10, 'Olga Kim', 'viewing');
    presence(11, 'Sam Lee', 'viewing');
    await tick();
    viewers = within(row(1)).getByTestId('row-viewers');
    expect(within(viewers).getAllByTestId('row-viewer')).toHaveLength(3);
    expect(viewers).toHaveTextContent('+1');

    for (const [id, name] of [
      [8, 'Maya Ruiz'],
      [9, 'Ben Okafor'],
      [10, 'Olga Kim'],
      [11, 'Sam Lee'],
    ] as const)
      presence(id, name, 'left');
    await tick();
    expect(within(row(1)).queryByTestId('row-viewers')).not.toBeInTheDocument();
  });
});

describe('ConversationList: roles', () => {
  it('a labelled listbox of options: the cursor is aria-selected, the open one aria-current', async () => {
    const user = userEvent.setup();
    const backend = new FakeBackend({
      details: [detail({ conversation: conversation({ id: 1 }) }), detail({ conversation: conversation({ id: 2, last_message_at: NOW - 9 * min }) })],
    });
    render(App, { backend });
    const listbox = await screen.findByRole('listbox', { name: 'All conversations, 2 conversations' });
    const options = within(listbox).getAllByRole('option');
    expect(options).toHaveLength(2);
    expect(options.every((o) => o.getAttribute('aria-selected') === 'false')).toBe(true);
    expect(listbox).toHaveAttribute('tabindex', '0');
    expect(listbox).not.toHaveAttribute('aria-activedescendant');

    await user.click(options[1]);
    expect(listbox).toHaveFocus();
    await waitFor(() => expect(options[1]).toHaveAttribute('aria-current', 'true'));
    expect(options[1]).toHaveAttribute('aria-selected', 'true');
    expect(listbox).toHaveAttribute('aria-activedescendant', options[1].id);

    await user.keyboard('{ArrowUp}');
    expect(options[0]).toHaveAttribute('aria-selected', 'true');
    expect(options[1]).toHaveAttribute('aria-selected', 'false');
    // Moving the cursor does not open anything.
    expect(options[1]).toHaveAttribute('aria-current', 'true');
    expect(listbox).toHaveAttribute('aria-activedescendant', options[0].id);

    expect(screen.getByRole('combobox', { name: 'Sort conversations' })).toBeInTheDocument();
  });
});

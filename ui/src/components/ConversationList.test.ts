import { describe, expect, it, vi, afterEach } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from '../App.svelte';
import ConversationList from './ConversationList.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { FakeBackend } from '../test/fakeBackend';
import { BackendError, friendlyMessage } from '../lib/errors';
import { NOW, agent, conversation, detail } from '../test/fixtures';

function threeConversations() {
  return [
    detail({
      conversation: conversation({ id: 3, state: 'waiting', priority: 'urgent', assignee_id: null, last_message_at: NOW - 60_000 }),
    }),
    detail({
      conversation: conversation({
        id: 2,
        state: 'assigned',
        assignee_id: agent.id,
        contact: { id: 2, wa_id: '4915112345678', bsuid: null, name: null },
        last_message_preview: 'Thanks!',
        last_message_at: NOW - 2 * 3_600_000,
      }),
    }),
    detail({
      conversation: conversation({
        id: 1,
        state: 'automation',
        priority: 'low',
        assignee_id: null,
        active_handoff_id: null,
        contact: { id: 1, wa_id: null, bsuid: 'US.1234567890', name: null },
        last_message_at: NOW - 3 * 3_600_000,
      }),
      handoffs: [],
    }),
  ];
}

describe('ConversationList', () => {
  afterEach(() => vi.useRealTimers());

  it('renders one row per conversation with id/state attributes, names, badges', async () => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
    const inbox = new Inbox(new FakeBackend({ details: threeConversations() }));
    await inbox.start();
    render(ConversationList, { inbox });

    const rows = screen.getAllByTestId('conversation-item');
    expect(rows.map((r) => r.dataset.conversationId)).toEqual(['3', '2', '1']);
    expect(rows.map((r) => r.dataset.state)).toEqual(['waiting', 'assigned', 'automation']);

    expect(within(rows[0]).getByText('Maria Lopez')).toBeInTheDocument();
    expect(within(rows[0]).getByText('Waiting')).toBeInTheDocument();
    expect(within(rows[0]).getByText('Urgent')).toBeInTheDocument();
    expect(within(rows[0]).getByText('1m')).toBeInTheDocument();

    expect(within(rows[1]).getByText('+4915112345678')).toBeInTheDocument();
    expect(within(rows[1]).getByText('Assigned to you')).toBeInTheDocument();
    expect(within(rows[1]).getByText('Thanks!')).toBeInTheDocument();
    expect(within(rows[1]).getByText('2h')).toBeInTheDocument();

    expect(within(rows[2]).getByText('US.1234567890')).toBeInTheDocument();
    expect(within(rows[2]).getByText('Bot')).toBeInTheDocument();
    expect(within(rows[2]).queryByText('Low')).not.toBeInTheDocument();
  });

  it('shows where automation stands for conversations back with the bot', async () => {
    const failed = detail({
      conversation: conversation({ id: 7, state: 'automation', assignee_id: null, active_handoff_id: null, workflow_status: 'failed' }),
      handoffs: [],
    });
    const resolved = detail({
      conversation: conversation({ id: 8, state: 'automation', assignee_id: null, active_handoff_id: null, workflow_status: 'resolved' }),
      handoffs: [],
    });
    const inbox = new Inbox(new FakeBackend({ details: [failed, resolved] }));
    await inbox.start();
    render(ConversationList, { inbox });
    const rows = screen.getAllByTestId('conversation-item');
    const byId = (id: string) => rows.find((r) => r.dataset.conversationId === id)!;
    expect(within(byId('7')).getByText('Automation failed')).toBeInTheDocument();
    expect(within(byId('8')).getByText('Resolved')).toBeInTheDocument();
    expect(within(byId('8')).queryByText('Bot')).not.toBeInTheDocument();
  });

  it('shows an empty state when there are no conversations', async () => {
    const inbox = new Inbox(new FakeBackend({ details: [] }));
    await inbox.start();
    render(ConversationList, { inbox });
    expect(screen.getByTestId('conversation-empty')).toHaveTextContent('No conversations');
    expect(screen.queryAllByTestId('conversation-item')).toHaveLength(0);
  });

  it('clicking a row opens that thread', async () => {
    const user = userEvent.setup();
    const backend = new FakeBackend({ details: threeConversations() });
    render(App, { backend });
    const rows = await screen.findAllByTestId('conversation-item');
    await user.click(rows[1]);

    const thread = await screen.findByTestId('thread');
    expect(thread).toHaveAttribute('data-conversation-id', '2');
    expect(backend.getThread).toHaveBeenCalledWith(2);
    await waitFor(() => expect(within(thread).getAllByTestId('message').length).toBeGreaterThan(0));
    expect(rows[1]).toHaveAttribute('aria-current', 'true');
  });

  it('search: typing shows hits with <mark>ed matches, a hit opens its thread, Escape clears', async () => {
    const user = userEvent.setup();
    const backend = new FakeBackend({ details: threeConversations() });
    render(App, { backend });
    await screen.findAllByTestId('conversation-item');

    const input = screen.getByRole('searchbox', { name: 'Search conversations' });
    await user.type(input, 'thank');
    const hits = await screen.findAllByTestId('search-hit');
    expect(backend.search).toHaveBeenLastCalledWith('thank');
    // Debounced: one search for the whole word, not one per key.
    expect(backend.search).toHaveBeenCalledTimes(1);
    expect(screen.queryAllByTestId('conversation-item')).toHaveLength(0);
    expect(hits).toHaveLength(1);
    expect(within(hits[0]).getByText('+4915112345678')).toBeInTheDocument();
    const mark = hits[0].querySelector('mark');
    expect(mark).toHaveTextContent('Thanks');
    expect(hits[0]).toHaveTextContent('Thanks!');
    expect(hits[0]).not.toHaveTextContent('[');

    await user.click(hits[0]);
    const thread = await screen.findByTestId('thread');
    expect(thread).toHaveAttribute('data-conversation-id', '2');
    expect(backend.getThread).toHaveBeenCalledWith(2);
    expect(screen.getByTestId('search-hit')).toHaveAttribute('aria-current', 'true');

    await user.click(input);
    await user.keyboard('{Escape}');
    expect(input).toHaveValue('');
    expect(screen.queryAllByTestId('search-hit')).toHaveLength(0);
    expect(screen.getAllByTestId('conversation-item')).toHaveLength(3);
  });

  it('search: Enter on a hit opens it; names unknown conversations; snippet text is never HTML', async () => {
    const user = userEvent.setup();
    const backend = new FakeBackend({ details: threeConversations() });
    backend.searchHits = [
      { conversation_id: 3, message_id: 77, snippet: '<b>my</b> [refund] is late' },
      { conversation_id: 99, message_id: 5, snippet: 'old [refund]' },
    ];
    render(App, { backend });
    await screen.findAllByTestId('conversation-item');

    await user.type(screen.getByRole('searchbox', { name: 'Search conversations' }), 'refund');
    const hits = await screen.findAllByTestId('search-hit');
    expect(within(hits[0]).getByText('Maria Lopez')).toBeInTheDocument();
    expect(hits[0]).toHaveTextContent('<b>my</b> refund is late');
    expect(hits[0].querySelector('b')).toBeNull();
    expect(hits[0].querySelectorAll('mark')).toHaveLength(1);
    expect(within(hits[1]).getByText('Conversation 99')).toBeInTheDocument();

    hits[0].focus();
    await user.keyboard('{Enter}');
    expect(await screen.findByTestId('thread')).toHaveAttribute('data-conversation-id', '3');

    // Escape on a hit clears too, back in the field.
    screen.getAllByTestId('search-hit')[0].focus();
    await user.keyboard('{Escape}');
    expect(screen.getByRole('searchbox', { name: 'Search conversations' })).toHaveFocus();
    expect(screen.getByRole('searchbox', { name: 'Search conversations' })).toHaveValue('');
  });

  it('search: "/" focuses the field; no matches; errors', async () => {
    const user = userEvent.setup();
    const backend = new FakeBackend({ details: threeConversations() });
    // "/" is an app-wide shortcut (lib/shortcuts.ts), handled by the App.
    render(App, { backend });
    await screen.findAllByTestId('conversation-item');
    const input = screen.getByRole('searchbox', { name: 'Search conversations' });

    await user.keyboard('/');
    expect(input).toHaveFocus();
    expect(input).toHaveValue('');

    await user.type(input, 'zzz');
    expect(await screen.findByTestId('search-empty')).toHaveTextContent('No matches');
    expect(input).toHaveValue('zzz');

    backend.failures.set('search', new BackendError('internal', 'fts broke'));
    await user.type(input, 'z');
    expect(await screen.findByTestId('search-error')).toHaveTextContent(friendlyMessage('internal'));
    expect(backend.search).toHaveBeenLastCalledWith('zzzz');
  });

  it('search: "/" typed in another text field stays there', async () => {
    const user = userEvent.setup();
    render(App, { backend: new FakeBackend({ details: threeConversations() }) });
    await screen.findAllByTestId('conversation-item');
    const other = document.createElement('textarea');
    document.body.appendChild(other);
    await user.click(other);
    await user.keyboard('/');
    expect(other).toHaveFocus();
    expect(other).toHaveValue('/');
    other.remove();
  });
});

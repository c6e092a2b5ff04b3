import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from './App.svelte';
import { BackendError } from './lib/errors';
import { FakeBackend } from './test/fakeBackend';
import { board, boardEntry, colleagues, conversation, detail, managerSession, message } from './test/fixtures';

// The metrics view draws with Chart.js; jsdom has no canvas (see Metrics.test.ts).
vi.mock('chart.js', () => {
  class Chart {
    static register = () => {};
    destroy() {}
  }
  return Object.fromEntries(
    ['BarController', 'BarElement', 'CategoryScale', 'Filler', 'Legend', 'LineController', 'LineElement', 'LinearScale', 'PointElement', 'Tooltip']
      .map((name) => [name, {}])
      .concat([['Chart', Chart]]),
  );
});

function backendWithTwo() {
  return new FakeBackend({
    details: [
      detail({ conversation: conversation({ id: 1 }) }),
      detail({ conversation: conversation({ id: 2, state: 'waiting', assignee_id: null }) }),
    ],
  });
}

describe('App', () => {
  it('shows the header with workspace, agent and a connection indicator', async () => {
    const backend = backendWithTwo();
    render(App, { backend });
    await screen.findByTestId('inbox');
    expect(screen.getByTestId('workspace-name')).toHaveTextContent('Acme Support');
    expect(screen.getByTestId('agent-name')).toHaveTextContent('Ana Agent');
    const connection = screen.getByTestId('connection');
    expect(connection).toHaveAttribute('data-connected', 'false');

    backend.emitConnection(true);
    await waitFor(() => expect(connection).toHaveAttribute('data-connected', 'true'));
    backend.emitConnection(false);
    await waitFor(() => expect(connection).toHaveAttribute('data-connected', 'false'));
  });

  it('changes availability through the backend', async () => {
    const user = userEvent.setup();
    const backend = backendWithTwo();
    render(App, { backend });
    await screen.findByTestId('inbox');
    const select = screen.getByLabelText('Availability');
    expect(select).toHaveAttribute('id', 'availability');
    expect(select).toHaveValue('online');
    await user.selectOptions(select, 'away');
    expect(backend.setAvailability).toHaveBeenCalledWith('away');
    await waitFor(() => expect(select).toHaveValue('away'));
  });

  it('reports keys and clicks as activity once signed in, not on the login screen', async () => {
    const user = userEvent.setup();
    const signedOut = new FakeBackend({ session: null });
    const { unmount } = render(App, { backend: signedOut });
    await screen.findByLabelText(/password/i);
    await user.keyboard('x');
    expect(signedOut.reportActivity).not.toHaveBeenCalled();
    unmount();

    const backend = backendWithTwo();
    render(App, { backend });
    await screen.findByTestId('inbox');
    await user.keyboard('j');
    await user.click(screen.getByTestId('agent-name'));
    await waitFor(() => expect(backend.reportActivity).toHaveBeenCalled());
  });

  it('reloads the list and the open thread when the backend signals a change', async () => {
    const user = userEvent.setup();
    const backend = backendWithTwo();
    render(App, { backend });
    await user.click((await screen.findAllByTestId('conversation-item'))[0]);
    await screen.findByTestId('thread');
    await waitFor(() => expect(screen.getAllByTestId('message')).toHaveLength(7));

    // a new customer message arrives and conversation 3 appears
    backend.threads.get(1)!.messages.push(message({ id: 50, text: 'Are you there?', sent_at: Date.now() }));
    const extra = detail({ conversation: conversation({ id: 3, state: 'waiting', assignee_id: null }) });
    backend.threads.set(3, extra);
    backend.conversations.unshift(extra.conversation);
    backend.emitChange([1]);

    await waitFor(() => expect(screen.getAllByTestId('conversation-item')).toHaveLength(3));
    await waitFor(() => expect(screen.getAllByTestId('message')).toHaveLength(8));
    expect(screen.getAllByTestId('message-text').at(-1)).toHaveTextContent('Are you there?');
  });

  it('an empty change list also reloads the open thread; other ids do not', async () => {
    const user = userEvent.setup();
    const backend = backendWithTwo();
    render(App, { backend });
    await user.click((await screen.findAllByTestId('conversation-item'))[0]);
    await waitFor(() => expect(backend.getThread).toHaveBeenCalledTimes(1));
    backend.emitChange([2]);
    await waitFor(() => expect(backend.listConversations).toHaveBeenCalledTimes(2));
    expect(backend.getThread).toHaveBeenCalledTimes(1);
    backend.emitChange([]);
    await waitFor(() => expect(backend.getThread).toHaveBeenCalledTimes(2));
  });

  it('opens the conversation named by onOpenConversation', async () => {
    const backend = backendWithTwo();
    render(App, { backend });
    await screen.findByTestId('inbox');
    backend.emitOpen(2);
    const thread = await screen.findByTestId('thread');
    expect(thread).toHaveAttribute('data-conversation-id', '2');
    await waitFor(() =>
      expect(within(thread).getByTestId('composer-blocked')).toHaveTextContent('Waiting for assignment'),
    );
  });

  it('logs out back to the login screen', async () => {
    const user = userEvent.setup();
    const backend = backendWithTwo();
    render(App, { backend });
    await screen.findByTestId('inbox');
    await user.click(document.querySelector('#logout')!);
    expect(backend.logout).toHaveBeenCalled();
    expect(await screen.findByLabelText('Password')).toBeInTheDocument();
    expect(screen.queryByTestId('inbox')).not.toBeInTheDocument();
  });

  it('returns to login with a notice when the token expired', async () => {
    const backend = backendWithTwo();
    backend.failures.set('listConversations', new BackendError('token_expired', 'jwt expired'));
    render(App, { backend });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'token_expired');
    expect(alert).toHaveTextContent('Your session has expired');
    expect(screen.getByLabelText('Password')).toBeInTheDocument();
  });

  it('shows an empty-selection placeholder before a conversation is chosen', async () => {
    render(App, { backend: backendWithTwo() });
    expect(await screen.findByText('No conversation selected')).toBeInTheDocument();
    expect(screen.queryByTestId('thread')).not.toBeInTheDocument();
  });
});

describe('App: mentions', () => {
  const mention = (conversation_id = 2, message_id = 77, by_name = 'Ben Okafor') =>
    ({ type: 'mentioned', conversation_id, message_id, by_name }) as const;

  it('shows "Ben mentioned you" with a button that opens the conversation', async () => {
    const user = userEvent.setup();
    const backend = backendWithTwo();
    render(App, { backend });
    await screen.findAllByTestId('conversation-item');
    const lists = backend.listConversations.mock.calls.length;

    backend.emitLive(mention());
    const toast = await screen.findByTestId('mention-toast');
    expect(toast).toHaveTextContent('Ben mentioned you');
    expect(toast).toHaveTextContent('In a note on the conversation with Maria Lopez');
    // Being mentioned may make a conversation visible: the list is reloaded.
    await waitFor(() => expect(backend.listConversations.mock.calls.length).toBeGreaterThan(lists));

    await user.click(within(toast).getByRole('button', { name: 'Open' }));
    const thread = await screen.findByTestId('thread');
    expect(thread).toHaveAttribute('data-conversation-id', '2');
    expect(screen.queryByTestId('mention-toast')).not.toBeInTheDocument();
  });

  it('can be dismissed, and a repeated event shows one toast', async () => {
    const user = userEvent.setup();
    const backend = backendWithTwo();
    render(App, { backend });
    await screen.findByTestId('inbox');
    backend.emitLive(mention());
    backend.emitLive(mention());
    backend.emitLive(mention(1, 78, 'Maya Ruiz'));
    await waitFor(() => expect(screen.getAllByTestId('mention-toast')).toHaveLength(2));
    expect(screen.getByTestId('mention-toasts')).toHaveAttribute('aria-live', 'polite');

    await user.click(screen.getByRole('button', { name: 'Dismiss mention by Ben' }));
    expect(screen.getAllByTestId('mention-toast')).toHaveLength(1);
    expect(screen.getByTestId('mention-toast')).toHaveTextContent('Maya mentioned you');
    expect(screen.queryByTestId('thread')).not.toBeInTheDocument();
  });

  it('opens a conversation the mention just made visible, even before the list has it', async () => {
    const user = userEvent.setup();
    const backend = backendWithTwo();
    backend.threads.set(3, detail({ conversation: conversation({ id: 3, assignee_id: 8 }) }));
    render(App, { backend });
    await screen.findAllByTestId('conversation-item');
    backend.emitLive(mention(3, 90));
    const toast = await screen.findByTestId('mention-toast');
    expect(toast).toHaveTextContent('In an internal note');
    await user.click(within(toast).getByRole('button', { name: 'Open' }));
    const thread = await screen.findByTestId('thread');
    expect(thread).toHaveAttribute('data-conversation-id', '3');
    // A later reload (the list still without it) keeps it open.
    backend.emitChange([]);
    await waitFor(() => expect(backend.getThread).toHaveBeenCalledTimes(2));
    expect(screen.getByTestId('thread')).toHaveAttribute('data-conversation-id', '3');
  });
});

describe('App: conversations that leave the inbox', () => {
  async function openFirst() {
    const user = userEvent.setup();
    const backend = new FakeBackend({
      details: [
        detail({ conversation: conversation({ id: 1 }) }),
        detail({ conversation: conversation({ id: 2, state: 'waiting', assignee_id: null }) }),
      ],
      agents: colleagues,
    });
    render(App, { backend });
    return { backend, user };
  }

  function drop(backend: FakeBackend, id: number) {
    backend.conversations = backend.conversations.filter((c) => c.id !== id);
    backend.threads.delete(id);
  }

  it('the open conversation gone from the list after a reload shows the placeholder, not an error', async () => {
    const { backend, user } = await openFirst();
    await user.click((await screen.findAllByTestId('conversation-item'))[1]);
    await screen.findByTestId('thread');

    drop(backend, 2); // a teammate claimed it from the queue
    backend.emitChange([]);

    expect(await screen.findByText('No conversation selected')).toBeInTheDocument();
    expect(screen.queryByTestId('thread')).not.toBeInTheDocument();
    expect(screen.getByTestId('conversation-gone')).toHaveTextContent('That conversation is no longer in your inbox.');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getAllByTestId('conversation-item')).toHaveLength(1);

    // Picking another one clears the notice.
    await user.click(screen.getAllByTestId('conversation-item')[0]);
    await screen.findByTestId('thread');
    expect(screen.queryByTestId('conversation-gone')).not.toBeInTheDocument();
  });

  it('selecting a conversation that has just gone shows the placeholder, not an error', async () => {
    const { backend, user } = await openFirst();
    const rows = await screen.findAllByTestId('conversation-item');
    backend.threads.delete(2);
    await user.click(rows[1]);
    expect(await screen.findByTestId('conversation-gone')).toBeInTheDocument();
    expect(screen.queryByTestId('thread')).not.toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('a claim lost to a teammate says who took it when the conversation leaves the list', async () => {
    const { backend, user } = await openFirst();
    await user.click((await screen.findAllByTestId('conversation-item'))[1]);
    const thread = await screen.findByTestId('thread');
    backend.failures.set(
      'claim',
      new BackendError('already_claimed', 'taken', { owner: { id: 8, name: 'Maya Ruiz' } }),
    );
    drop(backend, 2);
    await user.click(within(thread).getByRole('button', { name: 'Claim' }));
    const gone = await screen.findByTestId('conversation-gone');
    expect(gone).toHaveTextContent('Maya Ruiz took this conversation first.');
    expect(screen.queryByTestId('thread')).not.toBeInTheDocument();
  });

  it('a conversation transferred away says where it went', async () => {
    const { backend, user } = await openFirst();
    await user.click((await screen.findAllByTestId('conversation-item'))[0]);
    await screen.findByTestId('thread');
    backend.transfer.mockImplementationOnce(async () => {
      const moved = { ...backend.conversations[0], assignee_id: 8 };
      drop(backend, 1);
      return moved;
    });
    await user.click(screen.getByRole('button', { name: 'Transfer' }));
    const dialog = await screen.findByRole('dialog');
    await waitFor(() => expect(within(dialog).getAllByRole('option').length).toBeGreaterThan(1));
    await user.selectOptions(within(dialog).getByLabelText('Transfer to'), 'agent:8');
    await user.type(within(dialog).getByLabelText(/Note/), 'Yours now');
    await user.click(within(dialog).getByRole('button', { name: 'Transfer' }));
    expect(await screen.findByTestId('conversation-gone')).toHaveTextContent('Transferred to Maya Ruiz.');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});

describe('App: which thread is on screen (desktop notifications)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    delete (document as { visibilityState?: unknown }).visibilityState;
  });

  function setHidden(hidden: boolean) {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }

  it('tells the backend the open conversation while the window has focus, else null', async () => {
    const hasFocus = vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    const user = userEvent.setup();
    const backend = backendWithTwo();
    render(App, { backend });
    await user.click((await screen.findAllByTestId('conversation-item'))[0]);
    await screen.findByTestId('thread');
    await waitFor(() => expect(backend.setFocus).toHaveBeenLastCalledWith(1));

    // The window loses the focus: every conversation may notify.
    hasFocus.mockReturnValue(false);
    window.dispatchEvent(new Event('blur'));
    await waitFor(() => expect(backend.setFocus).toHaveBeenLastCalledWith(null));

    hasFocus.mockReturnValue(true);
    window.dispatchEvent(new Event('focus'));
    await waitFor(() => expect(backend.setFocus).toHaveBeenLastCalledWith(1));

    // Minimised / hidden.
    setHidden(true);
    await waitFor(() => expect(backend.setFocus).toHaveBeenLastCalledWith(null));
    setHidden(false);
    await waitFor(() => expect(backend.setFocus).toHaveBeenLastCalledWith(1));

    // Another conversation.
    await user.click(screen.getAllByTestId('conversation-item')[1]);
    await waitFor(() => expect(backend.setFocus).toHaveBeenLastCalledWith(2));

    // Signed out: nothing on screen.
    await user.click(screen.getByRole('button', { name: 'Log out' }));
    await screen.findByLabelText('Password');
    await waitFor(() => expect(backend.setFocus).toHaveBeenLastCalledWith(null));
  });

  it('without the focus, the open conversation is not reported', async () => {
    vi.spyOn(document, 'hasFocus').mockReturnValue(false);
    const user = userEvent.setup();
    const backend = backendWithTwo();
    render(App, { backend });
    await user.click((await screen.findAllByTestId('conversation-item'))[0]);
    await screen.findByTestId('thread');
    expect(backend.setFocus.mock.calls.every(([id]) => id === null)).toBe(true);
  });
});

describe('App: the manager console', () => {
  afterEach(() => {
    window.location.hash = '';
  });

  function managerBackend() {
    return new FakeBackend({
      session: managerSession,
      details: [
        detail({ conversation: conversation({ id: 1 }) }),
        detail({ conversation: conversation({ id: 2, state: 'waiting', assignee_id: null }) }),
      ],
      board: board({ conversations: [boardEntry({ conversation_id: 2, contact_name: 'Maria Lopez' })] }),
      agents: colleagues,
    });
  }

  it('a manager sees Inbox, Board and Metrics in the header, the inbox marked as the current page', async () => {
    render(App, { backend: managerBackend() });
    await screen.findByTestId('inbox');
    const nav = screen.getByRole('navigation', { name: 'Views' });
    expect(within(nav).getAllByRole('link').map((a) => a.textContent)).toEqual(['Inbox', 'Board', 'Metrics']);
    expect(screen.getByTestId('nav-inbox')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('nav-board')).toHaveAttribute('href', '#/board');
    expect(screen.getByTestId('nav-metrics')).toHaveAttribute('href', '#/metrics');
  });

  it('an agent sees no console links, and #/board still shows the inbox', async () => {
    window.location.hash = '#/board';
    const backend = backendWithTwo();
    render(App, { backend });
    await screen.findByTestId('inbox');
    expect(screen.queryByTestId('nav-board')).not.toBeInTheDocument();
    expect(screen.queryByTestId('nav-metrics')).not.toBeInTheDocument();
    expect(screen.queryByTestId('nav-inbox')).not.toBeInTheDocument();
    expect(screen.queryByTestId('board')).not.toBeInTheDocument();
    expect(await screen.findAllByTestId('conversation-item')).toHaveLength(2);
    expect(backend.board).not.toHaveBeenCalled();
  });

  it('the Board link opens the board (#/board); Open on a row goes back to the inbox on that conversation', async () => {
    const user = userEvent.setup();
    const backend = managerBackend();
    render(App, { backend });
    await screen.findByTestId('inbox');
    await user.click(screen.getByTestId('nav-board'));
    const row = await screen.findByTestId('board-row');
    expect(window.location.hash).toBe('#/board');
    expect(screen.getByTestId('nav-board')).toHaveAttribute('aria-current', 'page');
    expect(screen.queryByTestId('conversation-listbox')).not.toBeInTheDocument();

    await user.click(within(row).getByTestId('board-open'));
    const thread = await screen.findByTestId('thread');
    expect(thread).toHaveAttribute('data-conversation-id', '2');
    expect(window.location.hash).toBe('#/inbox');
    expect(screen.getByTestId('nav-inbox')).toHaveAttribute('aria-current', 'page');
  });

  it('the Metrics link loads the metrics view', async () => {
    const user = userEvent.setup();
    const backend = managerBackend();
    render(App, { backend });
    await screen.findByTestId('inbox');
    await user.click(screen.getByTestId('nav-metrics'));
    expect(await screen.findByTestId('kpi-rate')).toHaveTextContent('12.5%');
    expect(window.location.hash).toBe('#/metrics');
    expect(backend.metrics).toHaveBeenCalled();
    // The inbox's shortcuts are off here.
    await user.keyboard('?');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('opens on the board when the address says #/board', async () => {
    window.location.hash = '#/board';
    render(App, { backend: managerBackend() });
    expect(await screen.findByTestId('board-row')).toHaveAttribute('data-conversation-id', '2');
  });
});

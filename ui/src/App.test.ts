import { describe, expect, it } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from './App.svelte';
import { BackendError } from './lib/errors';
import { FakeBackend } from './test/fakeBackend';
import { conversation, detail, message } from './test/fixtures';

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

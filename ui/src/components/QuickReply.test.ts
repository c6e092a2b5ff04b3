import { afterEach, describe, expect, it } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import QuickReply from './QuickReply.svelte';
import App from '../App.svelte';
import { BackendError } from '../lib/errors';
import { FakeBackend } from '../test/fakeBackend';
import { conversation, detail, handoff, message } from '../test/fixtures';
import { quickReplyId } from '../lib/route';

function backendFor(d = detail()) {
  return new FakeBackend({ desktop: true, details: [d] });
}

async function quickReply(backend = backendFor()) {
  render(QuickReply, { backend, conversationId: 1 });
  const input = await screen.findByRole('textbox', { name: 'Reply' });
  await waitFor(() => expect(input).toBeEnabled());
  return { backend, input, user: userEvent.setup() };
}

describe('QuickReply', () => {
  it("shows the contact's name and the last five messages of the thread", async () => {
    await quickReply();
    expect(screen.getByRole('heading', { name: 'Maria Lopez' })).toBeInTheDocument();
    const list = screen.getByRole('list', { name: 'Latest messages' });
    const items = within(list).getAllByTestId('quick-reply-message');
    expect(items.map((li) => li.dataset.messageId)).toEqual(['3', '4', '5', '6', '7']);
    expect(items[0]).toHaveTextContent('Maria Lopez');
    expect(items[0]).toHaveTextContent('I want to talk to a person');
    expect(items[2]).toHaveTextContent('You');
    expect(items[2]).toHaveTextContent('Hi Maria, I am on it.');
    expect(screen.getByRole('textbox', { name: 'Reply' })).toHaveFocus();
  });

  it('Enter sends the reply, then closes the window', async () => {
    const { backend, input, user } = await quickReply();
    await user.type(input, '  On its way!  ');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(backend.closeWindow).toHaveBeenCalledTimes(1));
    expect(backend.sendReply).toHaveBeenCalledWith(1, 'On its way!');
    expect(backend.sendReply.mock.invocationCallOrder[0]).toBeLessThan(backend.closeWindow.mock.invocationCallOrder[0]);
  });

  it('Shift+Enter is a new line; the Send button sends', async () => {
    const { backend, input, user } = await quickReply();
    await user.type(input, 'Line one{Shift>}{Enter}{/Shift}Line two');
    expect(input).toHaveValue('Line one\nLine two');
    expect(backend.sendReply).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(backend.closeWindow).toHaveBeenCalled());
    expect(backend.sendReply).toHaveBeenCalledWith(1, 'Line one\nLine two');
  });

  it('nothing to send: the button is disabled and Enter does nothing', async () => {
    const { backend, user } = await quickReply();
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
    await user.keyboard('{Enter}');
    expect(backend.sendReply).not.toHaveBeenCalled();
  });

  it('a refused reply shows the friendly reason inline, keeps the text and the window', async () => {
    const { backend, input, user } = await quickReply();
    backend.failures.set('sendReply', new BackendError('not_assignee', 'conversation 1 is assigned to agent 9'));
    await user.type(input, 'Hello?{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'not_assignee');
    expect(alert).toHaveTextContent('This conversation is assigned to someone else.');
    expect(alert).not.toHaveTextContent('agent 9');
    expect(input).toHaveValue('Hello?');
    expect(backend.closeWindow).not.toHaveBeenCalled();

    // Trying again works.
    await user.keyboard('{Enter}');
    await waitFor(() => expect(backend.closeWindow).toHaveBeenCalled());
    expect(backend.sendReply).toHaveBeenCalledTimes(2);
  });

  it('already_applied means it was sent: the window closes', async () => {
    const { backend, input, user } = await quickReply();
    backend.failures.set('sendReply', new BackendError('already_applied', 'applied before'));
    await user.type(input, 'Hi{Enter}');
    await waitFor(() => expect(backend.closeWindow).toHaveBeenCalled());
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('says why a conversation waiting in the queue cannot be answered here', async () => {
    const d = detail({
      conversation: conversation({ state: 'waiting', assignee_id: null }),
      handoffs: [handoff({ status: 'waiting', assignee_id: null })],
    });
    render(QuickReply, { backend: backendFor(d), conversationId: 1 });
    expect(await screen.findByTestId('quick-reply-blocked')).toHaveTextContent('Claim it in Handoff Inbox to reply.');
    expect(screen.getByRole('textbox', { name: 'Reply' })).toBeDisabled();
  });

  it('shows new messages as they arrive', async () => {
    const { backend } = await quickReply();
    backend.threads.get(1)!.messages.push(message({ id: 60, text: 'Still there?', sent_at: Date.now() }));
    backend.emitChange([1]);
    await waitFor(() => expect(screen.getByRole('list', { name: 'Latest messages' })).toHaveTextContent('Still there?'));
    expect(screen.getAllByTestId('quick-reply-message')).toHaveLength(5);
  });

  it('"Open in Handoff Inbox" opens the conversation in the app; the window closes unless it holds text', async () => {
    const { backend, input, user } = await quickReply();
    await user.type(input, 'draft');
    await user.click(screen.getByRole('button', { name: 'Open in Handoff Inbox' }));
    expect(backend.showInApp).toHaveBeenCalledWith(1);
    expect(backend.closeWindow).not.toHaveBeenCalled();

    await user.clear(input);
    await user.click(screen.getByRole('button', { name: 'Open in Handoff Inbox' }));
    await waitFor(() => expect(backend.closeWindow).toHaveBeenCalledTimes(1));
  });

  it('a thread that cannot be loaded says why, by code', async () => {
    const backend = backendFor();
    backend.failures.set('getThread', new BackendError('network', 'connection refused'));
    render(QuickReply, { backend, conversationId: 1 });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'network');
    expect(alert).not.toHaveTextContent('connection refused');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { name: 'Maria Lopez' })).toBeInTheDocument();
  });
});

describe('quick-reply route', () => {
  afterEach(() => {
    window.location.hash = '';
  });

  it('quickReplyId reads #/quick-reply/<id>', () => {
    expect(quickReplyId('#/quick-reply/42')).toBe(42);
    expect(quickReplyId('#/quick-reply/42/')).toBe(42);
    expect(quickReplyId('#/quick-reply/0')).toBeNull();
    expect(quickReplyId('#/quick-reply/x')).toBeNull();
    expect(quickReplyId('#/quick-reply/')).toBeNull();
    expect(quickReplyId('')).toBeNull();
  });

  it('App shows only the quick reply for that conversation in the quick-reply window', async () => {
    window.location.hash = '#/quick-reply/1';
    const backend = backendFor();
    render(App, { backend });
    expect(await screen.findByTestId('quick-reply')).toBeInTheDocument();
    expect(await screen.findByRole('heading', { name: 'Maria Lopez' })).toBeInTheDocument();
    expect(screen.queryByTestId('inbox')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Password')).not.toBeInTheDocument();
    // The inbox itself is not started there (no list, no focus reports).
    expect(backend.listConversations).not.toHaveBeenCalled();
    expect(backend.setFocus).not.toHaveBeenCalled();
  });
});

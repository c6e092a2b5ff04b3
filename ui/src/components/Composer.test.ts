import { afterEach, describe, expect, it, vi } from 'vitest';
import { tick } from 'svelte';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Thread from './Thread.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError, friendlyMessage } from '../lib/errors';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, conversation, detail } from '../test/fixtures';
import type { ConversationState } from '../lib/types';

async function setup(state: ConversationState = 'assigned') {
  const d = detail({
    conversation: conversation({
      state,
      assignee_id: state === 'assigned' ? 7 : null,
      active_handoff_id: state === 'automation' ? null : 100,
    }),
  });
  const backend = new FakeBackend({ details: [d] });
  const inbox = new Inbox(backend);
  await inbox.start();
  await inbox.select(1);
  render(Thread, { inbox });
  const input = document.querySelector<HTMLTextAreaElement>('#composer-input')!;
  const send = document.querySelector<HTMLButtonElement>('#send-reply')!;
  return { backend, inbox, input, send, user: userEvent.setup() };
}

describe('Composer', () => {
  it('opening your own conversation marks it read; typing shows the indicator, throttled', async () => {
    const { backend, user, input } = await setup();
    expect(backend.markRead).toHaveBeenCalledWith(1);
    await user.type(input, 'Hi there');
    expect(backend.typing).toHaveBeenCalledTimes(1);
    expect(backend.typing).toHaveBeenCalledWith(1);
  });

  it('marks read once per newest customer message while the thread is open', async () => {
    const { backend, inbox } = await setup();
    expect(backend.markRead).toHaveBeenCalledTimes(1);
    await inbox.loadThread(1);
    expect(backend.markRead).toHaveBeenCalledTimes(1);
    const d = backend.threads.get(1)!;
    const last = d.messages.find((m) => m.direction === 'inbound')!;
    const newest = Math.max(...d.messages.map((m) => m.sent_at));
    d.messages.push({ ...last, id: 999, wamid: 'wamid.new', sent_at: newest + 1000, text: 'one more thing' });
    await inbox.loadThread(1);
    expect(backend.markRead).toHaveBeenCalledTimes(2);
  });

  it('does not mark read a conversation that is not yours', async () => {
    const { backend } = await setup('waiting');
    expect(backend.markRead).not.toHaveBeenCalled();
  });

  it('is disabled while waiting for assignment and says why', async () => {
    const { input, send } = await setup('waiting');
    expect(input).toBeDisabled();
    expect(send).toBeDisabled();
    expect(screen.getByTestId('composer-blocked')).toHaveTextContent('Waiting for assignment');
  });

  it('is disabled while the bot handles the conversation and says why', async () => {
    const { input, send } = await setup('automation');
    expect(input).toBeDisabled();
    expect(send).toBeDisabled();
    expect(screen.getByTestId('composer-blocked')).toHaveTextContent('Bot is handling this conversation');
    expect(document.querySelector('#resolve')).not.toBeInTheDocument();
  });

  it('sends on Enter, clears the input and shows the pending message at once', async () => {
    const { backend, input, send, user } = await setup();
    expect(input).toBeEnabled();
    expect(send).toBeDisabled(); // empty
    await user.type(input, 'Hello Maria');
    expect(send).toBeEnabled();
    await user.keyboard('{Enter}');

    expect(backend.sendReply).toHaveBeenCalledWith(1, 'Hello Maria');
    await waitFor(() => expect(input).toHaveValue(''));
    const last = screen.getAllByTestId('message').at(-1)!;
    expect(last).toHaveAttribute('data-author', 'agent');
    expect(last).toHaveAttribute('data-status', 'queued');
    expect(within(last).getByTestId('message-text')).toHaveTextContent('Hello Maria');
    // and the thread was refreshed afterwards
    await waitFor(() => expect(backend.getThread).toHaveBeenCalledTimes(2));
  });

  it('Shift+Enter inserts a newline instead of sending', async () => {
    const { backend, input, user } = await setup();
    await user.type(input, 'line one{Shift>}{Enter}{/Shift}line two');
    expect(input).toHaveValue('line one\nline two');
    expect(backend.sendReply).not.toHaveBeenCalled();
    await user.click(document.querySelector('#send-reply')!);
    expect(backend.sendReply).toHaveBeenCalledWith(1, 'line one\nline two');
  });

  it('warns above 4096 characters and disables Send', async () => {
    const { backend, input, send } = await setup();
    await fireEvent.input(input, { target: { value: 'a'.repeat(4096) } });
    expect(send).toBeEnabled();
    expect(screen.getByTestId('char-counter')).toHaveTextContent('4096 / 4096');
    expect(screen.queryByTestId('composer-too-long')).not.toBeInTheDocument();

    await fireEvent.input(input, { target: { value: 'a'.repeat(4097) } });
    expect(send).toBeDisabled();
    expect(screen.getByTestId('composer-too-long')).toHaveTextContent('4096 characters at most');
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(backend.sendReply).not.toHaveBeenCalled();
  });

  it('keeps the text and shows the friendly error when sending fails', async () => {
    const { backend, input, user } = await setup();
    backend.failures.set('sendReply', new BackendError('not_assignee', 'assigned to agent 9'));
    await user.type(input, 'Hi{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'not_assignee');
    expect(alert).toHaveTextContent('assigned to someone else');
    expect(input).toHaveValue('Hi');
  });

  it('resolves with an optional note and explains the return to automation', async () => {
    const { backend, user } = await setup();
    await user.click(document.querySelector('#resolve')!);
    const note = document.querySelector<HTMLInputElement>('#resolve-note')!;
    expect(note).toHaveAccessibleName(/Resolution note/);
    await user.type(note, 'Refund issued');
    await user.click(document.querySelector('#resolve-confirm')!);

    expect(backend.resolve).toHaveBeenCalledWith(1, 'Refund issued');
    await waitFor(() =>
      expect(screen.getByTestId('composer-blocked')).toHaveTextContent('went back to automation'),
    );
    expect(document.querySelector('#composer-input')).toBeDisabled();
    expect(document.querySelector('#resolve')).not.toBeInTheDocument();
    expect(screen.getByTestId('escalation-panel')).toHaveAttribute('data-handoff-status', 'resolved');
  });

  it('resolves with a null note when left empty', async () => {
    const { backend, user } = await setup();
    await user.click(document.querySelector('#resolve')!);
    await user.click(document.querySelector('#resolve-confirm')!);
    expect(backend.resolve).toHaveBeenCalledWith(1, null);
  });
});

describe('Composer: the 24-hour reply window', () => {
  afterEach(() => vi.useRealTimers());

  const HOUR = 3_600_000;
  const MINUTE = 60_000;
  /** `last_inbound_at` that leaves `left` ms of the window at NOW. */
  const leaving = (left: number) => NOW - 24 * HOUR + left;

  async function open(lastInboundAt: number | null, state: ConversationState = 'assigned') {
    const d = detail({
      conversation: conversation({
        state,
        assignee_id: state === 'assigned' ? 7 : null,
        active_handoff_id: state === 'automation' ? null : 100,
        last_inbound_at: lastInboundAt,
      }),
    });
    const backend = new FakeBackend({ details: [d] });
    const inbox = new Inbox(backend);
    await inbox.start();
    await inbox.select(1);
    render(Thread, { inbox });
    return {
      backend,
      input: document.querySelector<HTMLTextAreaElement>('#composer-input')!,
      send: document.querySelector<HTMLButtonElement>('#send-reply')!,
    };
  }

  function fakeClock() {
    vi.useFakeTimers({ now: NOW, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
  }

  async function advance(ms: number) {
    await vi.advanceTimersByTimeAsync(ms);
    await tick();
  }

  it('shows the time left while open and updates it every minute', async () => {
    fakeClock();
    const { input } = await open(leaving(3 * HOUR + 12 * MINUTE));
    const countdown = screen.getByTestId('window-countdown');
    expect(countdown).toHaveTextContent('Window closes in 3h 12m');
    expect(countdown).toHaveAttribute('data-soon', 'false');
    expect(countdown).not.toHaveClass('soon');
    expect(screen.queryByTestId('window-closed')).not.toBeInTheDocument();
    expect(input).toBeEnabled();

    await advance(MINUTE);
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 3h 11m');
    await advance(11 * MINUTE);
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 3h');
  });

  it('turns amber in the last hour', async () => {
    fakeClock();
    await open(leaving(HOUR + MINUTE));
    const countdown = screen.getByTestId('window-countdown');
    expect(countdown).toHaveTextContent('Window closes in 1h 1m');
    expect(countdown).not.toHaveClass('soon');

    await advance(MINUTE);
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 1h');
    expect(screen.getByTestId('window-countdown')).toHaveClass('soon');
    expect(screen.getByTestId('window-countdown')).toHaveAttribute('data-soon', 'true');
    await advance(15 * MINUTE);
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 45m');
  });

  it('closes when the time runs out, keeping the draft', async () => {
    fakeClock();
    const { input, send } = await open(leaving(90_000));
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 2m');
    await fireEvent.input(input, { target: { value: 'One more thing' } });
    expect(send).toBeEnabled();

    await advance(30_000);
    expect(screen.getByTestId('window-countdown')).toHaveTextContent('Window closes in 1m');
    await advance(MINUTE);
    expect(screen.queryByTestId('window-countdown')).not.toBeInTheDocument();
    expect(screen.getByTestId('window-closed')).toBeInTheDocument();
    expect(input).toBeDisabled();
    expect(input).toHaveValue('One more thing');
    expect(send).toBeDisabled();
  });

  it.each([
    ['the customer never wrote', null],
    ['the customer last wrote more than 24 hours ago', Date.now() - 25 * 3_600_000],
  ])('is closed when %s: free text is disabled and the reason shown', async (_case, lastInboundAt) => {
    const { backend, input, send } = await open(lastInboundAt);
    const closed = screen.getByTestId('window-closed');
    expect(closed).toHaveTextContent(friendlyMessage('window_closed'));
    expect(closed).toHaveTextContent("It's been more than 24 hours since the customer last wrote");
    expect(screen.queryByTestId('window-countdown')).not.toBeInTheDocument();
    expect(input).toBeDisabled();
    expect(input).toHaveAccessibleDescription(friendlyMessage('window_closed'));
    expect(send).toBeDisabled();
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(backend.sendReply).not.toHaveBeenCalled();
    // the agent can still resolve the handoff
    expect(document.querySelector('#resolve')).toBeEnabled();
    expect(screen.getByTestId('composer')).toHaveAttribute('data-blocked', 'true');
  });

  it('opens again when the customer writes', async () => {
    const { backend, input } = await open(null);
    expect(input).toBeDisabled();
    backend.threads.get(1)!.conversation.last_inbound_at = Date.now();
    backend.emitChange([1]);
    await waitFor(() => expect(screen.getByTestId('window-countdown')).toHaveTextContent(/Window closes in 2[34]h/));
    expect(screen.queryByTestId('window-closed')).not.toBeInTheDocument();
    expect(input).toBeEnabled();
  });

  it('is not shown while the bot handles the conversation', async () => {
    await open(null, 'automation');
    expect(screen.queryByTestId('window-closed')).not.toBeInTheDocument();
    expect(screen.queryByTestId('window-countdown')).not.toBeInTheDocument();
    expect(screen.getByTestId('composer-blocked')).toHaveTextContent('Bot is handling this conversation');
  });

  it('shows the friendly message when the server says the window closed', async () => {
    const user = userEvent.setup();
    const { backend, input } = await open(Date.now() - 5 * 60_000);
    backend.failures.set('sendReply', new BackendError('window_closed', 'outside the 24h window'));
    await user.type(input, 'Hi{Enter}');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'window_closed');
    expect(alert).toHaveTextContent(friendlyMessage('window_closed'));
  });
});

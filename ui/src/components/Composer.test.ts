import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Thread from './Thread.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError } from '../lib/errors';
import { FakeBackend } from '../test/fakeBackend';
import { conversation, detail } from '../test/fixtures';
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

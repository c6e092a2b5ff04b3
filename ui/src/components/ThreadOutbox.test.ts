import { describe, expect, it } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Thread from './Thread.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError } from '../lib/errors';
import { FakeBackend } from '../test/fakeBackend';
import { agent, colleagues, conversation, detail, handoff, message, outboxEntry, session, team } from '../test/fixtures';
import type { ConversationDetail, Message, OutboxEntry, Role } from '../lib/types';

const teams = [team(), team({ id: 2, name: 'Billing', is_default: false, member_ids: [9] })];

/** A waiting (queued) conversation. */
function waiting(): ConversationDetail {
  return detail({
    conversation: conversation({ state: 'waiting', assignee_id: null }),
    handoffs: [handoff({ status: 'waiting', assignee_id: null, assigned_at: null, first_response_at: null })],
  });
}

/** The thread message the desktop shows for a reply or note of the outbox. */
function outboxMessage(entry: OutboxEntry): Message {
  return message({
    id: -entry.local_id,
    wamid: null,
    client_id: entry.client_id,
    direction: entry.kind === 'note' ? 'note' : 'outbound',
    author: 'agent',
    agent_id: null,
    kind: 'text',
    text: entry.text,
    status: entry.state === 'failed' ? 'failed' : 'queued',
    error: entry.error?.message ?? null,
    sent_at: entry.created_at,
  });
}

async function openThread(
  d: ConversationDetail,
  outbox: OutboxEntry[],
  { connected = false, desktop = true, role = 'agent' as Role } = {},
) {
  for (const e of outbox) if (e.kind === 'reply' || e.kind === 'note') d.messages.push(outboxMessage(e));
  const backend = new FakeBackend({
    desktop,
    details: [d],
    agents: colleagues,
    teams,
    outbox,
    session: { ...session, agent: { ...agent, role } },
  });
  const inbox = new Inbox(backend);
  await inbox.start();
  backend.emitConnection(connected);
  await inbox.select(d.conversation.id);
  render(Thread, { inbox });
  return { backend, inbox, user: userEvent.setup() };
}

const entries = () => screen.queryAllByTestId('outbox-entry');

describe('Thread: changes made offline', () => {
  it('a claim waiting to be sent shows as pending, and the Claim button is not offered again', async () => {
    await openThread(waiting(), [outboxEntry({ kind: 'claim' })]);
    const [chip] = entries();
    expect(chip).toHaveAttribute('data-state', 'pending');
    expect(chip).toHaveTextContent("Claim pending — will be sent when you're back online");
    expect(screen.queryByRole('button', { name: 'Claim' })).not.toBeInTheDocument();
    expect(within(chip).queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
    expect(within(chip).getByRole('button', { name: 'Discard' })).toBeInTheDocument();
  });

  it('online, a pending change says it is being sent', async () => {
    await openThread(detail(), [outboxEntry({ kind: 'resolve' })], { connected: true });
    expect(entries()[0]).toHaveTextContent('Resolve pending — sending…');
    // Not resolved twice.
    expect(screen.queryByRole('button', { name: 'Resolve' })).not.toBeInTheDocument();
  });

  it('a pending transfer names where it goes', async () => {
    await openThread(detail(), [
      outboxEntry({ kind: 'transfer', text: 'Refund approved', payload: { agent_id: 9, team_id: null } }),
      outboxEntry({ kind: 'transfer', text: 'For billing', payload: { agent_id: null, team_id: 2 } }),
    ]);
    await waitFor(() => expect(entries()[0]).toHaveTextContent('Transfer to Ben Okafor pending'));
    expect(entries()[1]).toHaveTextContent('Transfer to Billing pending');
    expect(screen.queryByRole('button', { name: /Transfer$/ })).not.toBeInTheDocument();
  });

  it('a refused claim says why in words (by code and details), with Retry and Discard', async () => {
    const refused = outboxEntry({
      kind: 'claim',
      state: 'failed',
      error: { code: 'already_claimed', message: 'raw: assigned to agent 8', details: { owner: { id: 8, name: 'Maya Ruiz' } } },
    });
    const { backend, user } = await openThread(waiting(), [refused]);
    const [chip] = entries();
    expect(chip).toHaveAttribute('data-error-code', 'already_claimed');
    expect(chip).toHaveTextContent('Claim not sent: Maya Ruiz took this conversation first.');
    expect(chip).not.toHaveTextContent('raw:');
    // Claims have nothing to edit.
    expect(within(chip).queryByRole('button', { name: 'Edit' })).not.toBeInTheDocument();

    await user.click(within(chip).getByRole('button', { name: 'Retry' }));
    expect(backend.retryChange).toHaveBeenCalledWith(refused.client_id);
    await waitFor(() => expect(entries()[0]).toHaveAttribute('data-state', 'pending'));

    await user.click(within(entries()[0]).getByRole('button', { name: 'Discard' }));
    expect(backend.discardChange).toHaveBeenCalledWith(refused.client_id);
    await waitFor(() => expect(entries()).toHaveLength(0));
    expect(screen.queryByTestId('outbox')).not.toBeInTheDocument();
  });

  it('a refused reply: its bubble says why in words; Edit puts the text back in the reply box and discards it', async () => {
    const refused = outboxEntry({
      kind: 'reply',
      text: 'Your refund is on its way',
      state: 'failed',
      error: { code: 'window_closed', message: 'raw: 24h window' },
    });
    const { backend, user } = await openThread(detail(), [refused]);
    const bubble = document.querySelector<HTMLElement>(`[data-message-id="${-refused.local_id}"]`)!;
    expect(within(bubble).getByTestId('message-error')).toHaveTextContent(
      "Not sent: It's been more than 24 hours since the customer last wrote.",
    );
    expect(bubble).not.toHaveTextContent('raw:');

    const chip = entries()[0];
    expect(chip).toHaveTextContent('Reply “Your refund is on its way” not sent:');
    await user.click(within(chip).getByRole('button', { name: 'Edit' }));

    expect(backend.discardChange).toHaveBeenCalledWith(refused.client_id);
    const input = screen.getByRole('combobox', { name: 'Reply' });
    await waitFor(() => expect(input).toHaveValue('Your refund is on its way'));
    expect(input).toHaveFocus();
    await waitFor(() => expect(entries()).toHaveLength(0));
    expect(document.querySelector(`[data-message-id="${-refused.local_id}"]`)).toBeNull();
  });

  it('Edit on a refused note switches the box to a note, after what was typed', async () => {
    const refused = outboxEntry({
      kind: 'note',
      text: '@maya can you check?',
      state: 'failed',
      error: { code: 'forbidden', message: 'x' },
    });
    const { user } = await openThread(detail(), [refused]);
    const input = screen.getByRole('combobox', { name: 'Reply' });
    await user.type(input, 'typed meanwhile');
    await user.click(within(entries()[0]).getByRole('button', { name: 'Edit' }));
    const note = await screen.findByRole('combobox', { name: 'Internal note' });
    expect(note).toHaveValue('typed meanwhile\n@maya can you check?');
    expect(screen.getByTestId('mode-note')).toHaveAttribute('aria-pressed', 'true');
  });

  it('Edit on a refused transfer opens the transfer dialog with its colleague and note', async () => {
    const refused = outboxEntry({
      kind: 'transfer',
      text: 'Refund approved, send the label',
      payload: { agent_id: 8, team_id: null },
      state: 'failed',
      error: { code: 'not_assignee', message: 'x' },
    });
    const { backend, user } = await openThread(detail(), [refused]);
    await waitFor(() => expect(entries()[0]).toHaveTextContent('Transfer to Maya Ruiz not sent:'));
    expect(entries()[0]).toHaveTextContent('This conversation is assigned to someone else.');

    await user.click(within(entries()[0]).getByRole('button', { name: 'Edit' }));
    const dialog = await screen.findByRole('dialog', { name: 'Transfer conversation' });
    expect(backend.discardChange).toHaveBeenCalledWith(refused.client_id);
    expect(within(dialog).getByLabelText(/Note for whoever takes over/)).toHaveValue('Refund approved, send the label');
    await waitFor(() => expect(within(dialog).getByLabelText('Transfer to')).toHaveValue('agent:8'));

    await user.click(within(dialog).getByRole('button', { name: 'Transfer' }));
    expect(backend.transfer).toHaveBeenCalledWith(1, 8, null, 'Refund approved, send the label');
  });

  it('a failed Discard says why and keeps the change', async () => {
    const { backend, user } = await openThread(detail(), [outboxEntry({ kind: 'resolve' })]);
    backend.failures.set('discardChange', new BackendError('local_store', 'disk I/O error'));
    await user.click(within(entries()[0]).getByRole('button', { name: 'Discard' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'local_store');
    expect(alert).toHaveTextContent("Couldn't read or write the app's local data.");
    expect(entries()).toHaveLength(1);
  });

  it("other conversations' changes are not shown here", async () => {
    await openThread(detail(), [outboxEntry({ kind: 'claim', conversation_id: 99 })]);
    expect(screen.queryByTestId('outbox')).not.toBeInTheDocument();
  });
});

describe('Thread: pop out', () => {
  it('the desktop app offers a quick-reply window for the conversation', async () => {
    const { backend, user } = await openThread(detail(), []);
    await user.click(screen.getByRole('button', { name: 'Pop out' }));
    expect(backend.openQuickReply).toHaveBeenCalledWith(1);
  });

  it('not in the browser', async () => {
    await openThread(detail(), [], { desktop: false });
    expect(screen.queryByRole('button', { name: 'Pop out' })).not.toBeInTheDocument();
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { tick } from 'svelte';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Thread from './Thread.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError } from '../lib/errors';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, agent, colleagues, conversation, detail, handoff, legacyHandoff, session, team } from '../test/fixtures';
import type { ConversationDetail, Role, SlaClock } from '../lib/types';

const teams = [team(), team({ id: 2, name: 'Billing', is_default: false, member_ids: [9] })];

async function openThread(d: ConversationDetail = detail(), role: Role = 'agent') {
  const backend = new FakeBackend({
    details: [d],
    agents: colleagues,
    teams,
    session: { ...session, agent: { ...agent, role } },
  });
  const inbox = new Inbox(backend);
  await inbox.start();
  await inbox.select(d.conversation.id);
  const view = render(Thread, { inbox });
  return { backend, inbox, view, user: userEvent.setup() };
}

/** A conversation waiting in the queue for someone to claim it. */
function waiting(): ConversationDetail {
  return detail({
    conversation: conversation({ state: 'waiting', assignee_id: null }),
    handoffs: [handoff({ status: 'waiting', assignee_id: null, assigned_at: null, first_response_at: null })],
  });
}

describe('Thread: claim', () => {
  it('a waiting conversation can be claimed; it is then yours and the reply box takes the focus', async () => {
    const { backend, user } = await openThread(waiting());
    const input = document.querySelector<HTMLTextAreaElement>('#composer-input')!;
    expect(input).toBeDisabled();
    expect(screen.getByText('Waiting', { selector: '.badge' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Claim' }));

    expect(backend.claim).toHaveBeenCalledWith(1);
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Claim' })).not.toBeInTheDocument());
    expect(screen.getByText('Assigned to you')).toBeInTheDocument();
    expect(input).toBeEnabled();
    await waitFor(() => expect(input).toHaveFocus());
    expect(screen.queryByTestId('claim-error')).not.toBeInTheDocument();
  });

  it('when someone else took it first, says who and reloads', async () => {
    const { backend, user } = await openThread(waiting(), 'manager');
    backend.failures.set(
      'claim',
      new BackendError('already_claimed', 'conversation 1 is assigned', { owner: { id: 8, name: 'Maya Ruiz' } }),
    );
    // Meanwhile on the server: Maya has it.
    const d = backend.threads.get(1)!;
    Object.assign(d.conversation, { state: 'assigned', assignee_id: 8 });
    Object.assign(backend.conversations[0], { state: 'assigned', assignee_id: 8 });
    const loads = backend.getThread.mock.calls.length;

    await user.click(screen.getByRole('button', { name: 'Claim' }));

    const alert = await screen.findByTestId('claim-error');
    expect(alert).toHaveAttribute('role', 'alert');
    expect(alert).toHaveAttribute('data-error-code', 'already_claimed');
    expect(alert).toHaveTextContent('Maya Ruiz took this conversation first.');
    expect(backend.getThread.mock.calls.length).toBeGreaterThan(loads);
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Claim' })).not.toBeInTheDocument());
    expect(screen.getByText('Assigned', { selector: '.badge' })).toBeInTheDocument();
  });

  it('is not offered once assigned', async () => {
    await openThread();
    expect(screen.queryByRole('button', { name: 'Claim' })).not.toBeInTheDocument();
  });

  it('is not offered to viewers', async () => {
    await openThread(waiting(), 'viewer');
    expect(screen.queryByRole('button', { name: 'Claim' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Transfer' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Labels' })).not.toBeInTheDocument();
  });
});

describe('Thread: transfer', () => {
  it('lists colleagues (not viewers, not you) and teams, and needs a note', async () => {
    const { backend, user } = await openThread();
    await user.click(screen.getByRole('button', { name: 'Transfer' }));

    const dialog = await screen.findByRole('dialog', { name: 'Transfer conversation' });
    const target = within(dialog).getByLabelText('Transfer to');
    await waitFor(() => expect(target).toHaveFocus());
    await waitFor(() => expect(within(dialog).getAllByRole('option')).toHaveLength(5));
    const groups = dialog.querySelectorAll('optgroup');
    expect(Array.from(groups, (g) => g.label)).toEqual(['Colleagues', 'Teams']);
    expect(Array.from(groups[0].querySelectorAll('option'), (o) => o.value)).toEqual(['agent:9', 'agent:8']);
    expect(groups[0].textContent).toContain('Maya Ruiz — online, 3 open');
    expect(Array.from(groups[1].querySelectorAll('option'), (o) => o.textContent)).toEqual([
      'Billing',
      'Support (default team)',
    ]);
    expect(backend.agents).toHaveBeenCalledTimes(1);
    expect(backend.teams).toHaveBeenCalledTimes(1);

    const confirm = within(dialog).getByRole('button', { name: 'Transfer' });
    expect(confirm).toBeDisabled();
    await user.selectOptions(target, 'agent:8');
    expect(confirm).toBeDisabled(); // the note is required
    const note = within(dialog).getByLabelText(/Note for whoever takes over/);
    expect(note).toBeRequired();
    await user.type(note, 'Refund approved, send the label');
    expect(confirm).toBeEnabled();
    await user.click(confirm);

    expect(backend.transfer).toHaveBeenCalledWith(1, 8, null, 'Refund approved, send the label');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    // The thread now shows the note left with the transfer.
    await waitFor(() =>
      expect(screen.getByTestId('transfer-note')).toHaveTextContent('Refund approved, send the label'),
    );
  });

  it('can transfer to a team', async () => {
    const { backend, user } = await openThread();
    await user.click(screen.getByRole('button', { name: 'Transfer' }));
    const dialog = await screen.findByRole('dialog');
    await waitFor(() => expect(within(dialog).getAllByRole('option')).toHaveLength(5));
    await user.selectOptions(within(dialog).getByLabelText('Transfer to'), 'team:2');
    await user.type(within(dialog).getByLabelText(/Note/), 'For billing');
    await user.click(within(dialog).getByRole('button', { name: 'Transfer' }));
    expect(backend.transfer).toHaveBeenCalledWith(1, null, 2, 'For billing');
  });

  it('Escape or Cancel closes it without transferring, back on the Transfer button', async () => {
    const { backend, user } = await openThread();
    const button = screen.getByRole('button', { name: 'Transfer' });
    expect(button).toHaveAttribute('aria-haspopup', 'dialog');
    await user.click(button);
    await screen.findByRole('dialog');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    await waitFor(() => expect(button).toHaveFocus());

    await user.click(button);
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(backend.transfer).not.toHaveBeenCalled();
  });

  it('keeps the focus inside the dialog', async () => {
    const { user } = await openThread();
    await user.click(screen.getByRole('button', { name: 'Transfer' }));
    const dialog = await screen.findByRole('dialog');
    const target = within(dialog).getByLabelText('Transfer to');
    await waitFor(() => expect(target).toHaveFocus());
    await user.tab({ shift: true });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.tab();
    expect(target).toHaveFocus();
  });

  it('a refused transfer keeps the dialog, the choice and the note, and says why', async () => {
    const { backend, user } = await openThread();
    backend.failures.set('transfer', new BackendError('forbidden', 'nope'));
    await user.click(screen.getByRole('button', { name: 'Transfer' }));
    const dialog = await screen.findByRole('dialog');
    await waitFor(() => expect(within(dialog).getAllByRole('option')).toHaveLength(5));
    await user.selectOptions(within(dialog).getByLabelText('Transfer to'), 'agent:9');
    await user.type(within(dialog).getByLabelText(/Note/), 'Please take over');
    await user.click(within(dialog).getByRole('button', { name: 'Transfer' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'forbidden');
    expect(within(dialog).getByLabelText(/Note/)).toHaveValue('Please take over');
    expect(within(dialog).getByLabelText('Transfer to')).toHaveValue('agent:9');
  });

  it('says so when the colleagues cannot be loaded, and tries again', async () => {
    const { backend, user } = await openThread();
    backend.failures.set('agents', new BackendError('network', 'down'));
    await user.click(screen.getByRole('button', { name: 'Transfer' }));
    const dialog = await screen.findByRole('dialog');
    const alert = await within(dialog).findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'network');
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(within(dialog).getAllByRole('option')).toHaveLength(5));
    expect(within(dialog).queryByRole('alert')).not.toBeInTheDocument();
  });

  it('is offered to the assignee and to managers, not to other agents', async () => {
    const theirs = detail({ conversation: conversation({ assignee_id: 8 }) });
    await openThread(theirs);
    expect(screen.queryByRole('button', { name: 'Transfer' })).not.toBeInTheDocument();
  });

  it('a manager may transfer a conversation someone else has', async () => {
    const theirs = detail({ conversation: conversation({ assignee_id: 8 }) });
    await openThread(theirs, 'manager');
    expect(screen.getByRole('button', { name: 'Transfer' })).toBeInTheDocument();
  });
});

describe('Thread: labels', () => {
  const labelled = () => detail({ conversation: conversation({ labels: ['vip'] }) });
  const chips = () => within(screen.getByTestId('conversation-labels')).getAllByTestId('conversation-label');

  it('adds a label with Enter and shows it in the header', async () => {
    const { backend, user } = await openThread(labelled());
    const toggle = screen.getByRole('button', { name: 'Labels' });
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await user.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const field = screen.getByLabelText('Add a label');
    await waitFor(() => expect(field).toHaveFocus());
    await user.type(field, ' refund {Enter}');
    expect(backend.setLabels).toHaveBeenCalledWith(1, ['vip', 'refund']);
    await waitFor(() => expect(chips().map((c) => c.textContent)).toEqual(['vip', 'refund']));
    expect(field).toHaveValue('');
  });

  it('removes a label', async () => {
    const { backend, user } = await openThread(labelled());
    await user.click(screen.getByRole('button', { name: 'Labels' }));
    await user.click(screen.getByRole('button', { name: 'Remove label vip' }));
    expect(backend.setLabels).toHaveBeenCalledWith(1, []);
    await waitFor(() => expect(screen.queryByTestId('conversation-labels')).not.toBeInTheDocument());
    expect(within(screen.getByTestId('label-editor')).getByText('No labels yet.')).toBeInTheDocument();
  });

  it('refuses a label already there (any case) without asking the server', async () => {
    const { backend, user } = await openThread(labelled());
    await user.click(screen.getByRole('button', { name: 'Labels' }));
    await user.type(screen.getByLabelText('Add a label'), 'VIP{Enter}');
    expect(screen.getByTestId('label-problem')).toHaveTextContent('already on this conversation');
    expect(screen.getByLabelText('Add a label')).toHaveAttribute('aria-invalid', 'true');
    expect(backend.setLabels).not.toHaveBeenCalled();
  });

  it('keeps the typed label when saving fails', async () => {
    const { backend, user } = await openThread(labelled());
    backend.failures.set('setLabels', new BackendError('forbidden', 'no'));
    await user.click(screen.getByRole('button', { name: 'Labels' }));
    await user.type(screen.getByLabelText('Add a label'), 'refund{Enter}');
    const alert = await within(screen.getByTestId('label-editor')).findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'forbidden');
    expect(screen.getByLabelText('Add a label')).toHaveValue('refund');
    expect(chips().map((c) => c.textContent)).toEqual(['vip']);
  });

  it('Escape closes the editor and gives the focus back', async () => {
    const { user } = await openThread(labelled());
    const toggle = screen.getByRole('button', { name: 'Labels' });
    await user.click(toggle);
    await waitFor(() => expect(screen.getByLabelText('Add a label')).toHaveFocus());
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('label-editor')).not.toBeInTheDocument();
    expect(toggle).toHaveFocus();
  });
});

describe('Thread: presence', () => {
  const presence = (agent_id: number, agent_name: string, state: 'viewing' | 'typing' | 'draft' | 'left', conversation_id = 1) =>
    ({ type: 'presence', conversation_id, agent_id, agent_name, state }) as const;

  it('says it is viewing when it opens and left when it closes', async () => {
    const { backend, view } = await openThread();
    expect(backend.setPresence).toHaveBeenCalledWith(1, 'viewing');
    view.unmount();
    expect(backend.setPresence).toHaveBeenLastCalledWith(1, 'left');
  });

  it("shows colleagues' presence in the header and warns when they reply too", async () => {
    const { backend } = await openThread();
    expect(screen.queryByTestId('presence')).not.toBeInTheDocument();

    backend.emitLive(presence(8, 'Maya Ruiz', 'typing'));
    await tick();
    expect(screen.getByTestId('presence')).toHaveTextContent('Maya is typing…');
    expect(screen.getByTestId('collision-warning')).toHaveTextContent('Maya is also replying');

    backend.emitLive(presence(9, 'Ben Okafor', 'viewing'));
    await tick();
    expect(screen.getByTestId('presence')).toHaveTextContent('Maya is typing… · Ben is viewing');

    backend.emitLive(presence(8, 'Maya Ruiz', 'draft'));
    await tick();
    expect(screen.getByTestId('presence')).toHaveTextContent('Ben is viewing · Maya has an unsent reply');
    expect(screen.getByTestId('collision-warning')).toHaveTextContent('Maya is also replying');

    backend.emitLive(presence(8, 'Maya Ruiz', 'left'));
    await tick();
    expect(screen.getByTestId('presence')).toHaveTextContent('Ben is viewing');
    expect(screen.queryByTestId('collision-warning')).not.toBeInTheDocument();
  });

  it('ignores your own presence and other conversations', async () => {
    const { backend } = await openThread();
    backend.emitLive(presence(agent.id, agent.name, 'typing'));
    backend.emitLive(presence(8, 'Maya Ruiz', 'typing', 2));
    await tick();
    expect(screen.queryByTestId('presence')).not.toBeInTheDocument();
    expect(screen.queryByTestId('collision-warning')).not.toBeInTheDocument();
  });

  it('forgets who is where when the connection drops', async () => {
    const { backend } = await openThread();
    backend.emitLive(presence(8, 'Maya Ruiz', 'viewing'));
    await tick();
    expect(screen.getByTestId('presence')).toBeInTheDocument();
    backend.emitConnection(false);
    await tick();
    expect(screen.queryByTestId('presence')).not.toBeInTheDocument();
  });
});

describe('Thread: SLA clock', () => {
  afterEach(() => vi.useRealTimers());

  function withClock(sla: Partial<SlaClock>[], state: 'assigned' | 'automation' = 'assigned'): ConversationDetail {
    const clocks = sla.map(
      (c): SlaClock => ({
        kind: 'first_response',
        target_ms: 300_000,
        started_at: NOW - 48_000,
        warn_at: NOW + 192_000,
        due_at: NOW + 252_000,
        paused: false,
        warned_at: null,
        breached_at: null,
        stopped_at: null,
        ...c,
      }),
    );
    return detail({
      conversation: conversation({
        state,
        active_handoff_id: state === 'automation' ? null : 100,
        assignee_id: state === 'automation' ? null : agent.id,
      }),
      handoffs: [handoff({ sla: clocks, first_response_at: null })],
    });
  }

  function fakeClock() {
    vi.useFakeTimers({ now: NOW, toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  }

  async function advance(ms: number) {
    await vi.advanceTimersByTimeAsync(ms);
    await tick();
  }

  it('counts down every second to the deadline, then counts how overdue it is', async () => {
    fakeClock();
    await openThread(withClock([{}]));
    const sla = screen.getByTestId('sla-clock');
    expect(sla.closest('header')).not.toBeNull();
    expect(sla).toHaveTextContent('First response due in 4:12');
    expect(sla).toHaveAttribute('data-tone', 'ok');

    await advance(1000);
    expect(screen.getByTestId('sla-text')).toHaveTextContent('First response due in 4:11');

    await advance(191_000); // at warn_at: a minute left
    expect(screen.getByTestId('sla-text')).toHaveTextContent('First response due in 1:00');
    expect(screen.getByTestId('sla-clock')).toHaveAttribute('data-tone', 'warn');

    await advance(60_000 + 65_000);
    expect(screen.getByTestId('sla-text')).toHaveTextContent('First response overdue by 1:05');
    expect(screen.getByTestId('sla-clock')).toHaveAttribute('data-tone', 'overdue');
    expect(screen.getByTestId('sla-clock')).toHaveClass('sla-overdue');
  });

  it('shows the next-response clock once the first response is in, and the resolution clock after', async () => {
    fakeClock();
    await openThread(
      withClock([
        { kind: 'resolution', due_at: NOW + 7_200_000, warn_at: null },
        { kind: 'first_response', stopped_at: NOW - 10_000 },
        { kind: 'next_response', due_at: NOW + 30_000 },
      ]),
    );
    expect(screen.getByTestId('sla-clock')).toHaveAttribute('data-kind', 'next_response');
    expect(screen.getByTestId('sla-text')).toHaveTextContent('Next response due in 0:30');
  });

  it('falls back to the resolution clock', async () => {
    fakeClock();
    await openThread(
      withClock([
        { kind: 'first_response', stopped_at: NOW - 10_000 },
        { kind: 'resolution', due_at: NOW + 7_200_000, warn_at: null },
      ]),
    );
    expect(screen.getByTestId('sla-text')).toHaveTextContent('Resolution due in 2:00:00');
  });

  it('says paused, and does not tick', async () => {
    fakeClock();
    await openThread(withClock([{ paused: true }]));
    expect(screen.getByTestId('sla-clock')).toHaveTextContent('First response paused');
    expect(screen.getByTestId('sla-clock')).toHaveAttribute('data-tone', 'paused');
    await advance(600_000);
    expect(screen.getByTestId('sla-clock')).toHaveTextContent('First response paused');
  });

  it('shows nothing without a running clock', async () => {
    await openThread(withClock([{ stopped_at: NOW }]));
    expect(screen.queryByTestId('sla-clock')).not.toBeInTheDocument();
  });

  it('shows nothing for a handoff from an older server (no SLA clocks)', async () => {
    await openThread(detail({ handoffs: [legacyHandoff()] }));
    expect(screen.queryByTestId('sla-clock')).not.toBeInTheDocument();
  });

  it('shows nothing once the conversation is back with the bot', async () => {
    await openThread(withClock([{}], 'automation'));
    expect(screen.queryByTestId('sla-clock')).not.toBeInTheDocument();
  });
});

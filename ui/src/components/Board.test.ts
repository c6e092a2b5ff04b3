import { describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import Board from './Board.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError } from '../lib/errors';
import { FakeBackend } from '../test/fakeBackend';
import {
  NOW,
  board,
  boardEntry,
  colleagues,
  conversation,
  detail,
  managerSession,
  team,
  teamLoad,
  timelineEvent,
} from '../test/fixtures';
import type { Board as BoardData } from '../lib/types';

const MIN = 60_000;

/** Three open handoffs: Tom (breached, assigned to Maya), Maria (waiting), Lea (waiting, low). */
function threeRows(): BoardData {
  return board({
    conversations: [
      boardEntry({
        conversation_id: 3,
        contact_name: 'Tom Baker',
        status: 'assigned',
        assignee_id: 8,
        breached: true,
        at_risk: true,
        sla_kind: 'resolution',
        sla_due_at: NOW - 5 * MIN,
        trigger: 'negative_sentiment',
        priority: 'high',
      }),
      boardEntry({ conversation_id: 1, contact_name: 'Maria Lopez', sla_due_at: NOW + 20 * MIN }),
      boardEntry({ conversation_id: 2, contact_name: 'Lea Park', team_id: 2, priority: 'low', sla_due_at: null }),
    ],
  });
}

async function setup(data: BoardData = threeRows(), desktop = false) {
  const backend = new FakeBackend({
    session: managerSession,
    board: data,
    agents: colleagues,
    teams: [team(), team({ id: 2, name: 'Billing', is_default: false })],
    details: [1, 2, 3].map((id) => detail({ conversation: conversation({ id, state: 'waiting', assignee_id: null }) })),
    desktop,
  });
  const inbox = new Inbox(backend);
  await inbox.start();
  const onopen = vi.fn();
  render(Board, { inbox, onopen });
  await screen.findAllByTestId('board-row');
  return { backend, inbox, onopen, user: userEvent.setup() };
}

function rowIds(): string[] {
  return screen.getAllByTestId('board-row').map((r) => r.getAttribute('data-conversation-id')!);
}

function row(id: number): HTMLElement {
  return screen.getAllByTestId('board-row').find((r) => r.getAttribute('data-conversation-id') === String(id))!;
}

describe('Board', () => {
  it("shows the open handoffs in the server's risk order, with who, how long, which SLA and which team", async () => {
    await setup();
    expect(rowIds()).toEqual(['3', '1', '2']);

    const tom = row(3);
    expect(tom).toHaveAttribute('data-breached', 'true');
    expect(within(tom).getByText('Tom Baker')).toBeInTheDocument();
    expect(within(tom).getByTestId('board-sla')).toHaveAttribute('data-tone', 'breached');
    expect(within(tom).getByTestId('board-sla')).toHaveTextContent('Resolution overdue by 5m');
    expect(within(tom).getByTestId('board-assignee')).toHaveTextContent('Maya Ruiz');
    expect(within(tom).getByText('Customer upset')).toBeInTheDocument();
    expect(within(tom).getByTestId('board-priority')).toHaveValue('high');
    expect(within(tom).getByTestId('board-assign')).toHaveTextContent('Reassign');

    const maria = row(1);
    expect(maria).toHaveAttribute('data-status', 'waiting');
    expect(within(maria).getByTestId('board-unassigned')).toHaveTextContent('Unassigned');
    expect(within(maria).getByText('10m')).toBeInTheDocument(); // waiting since NOW - 10 min
    expect(within(maria).getByTestId('board-sla')).toHaveTextContent('First response due in 20m');
    expect(within(maria).getByText('Support')).toBeInTheDocument();
    expect(within(maria).getByTestId('board-assign')).toHaveTextContent('Assign');

    expect(within(row(2)).getByText('Billing')).toBeInTheDocument();
    expect(within(row(2)).getByText('No SLA')).toBeInTheDocument();

    expect(screen.getByTestId('board-summary')).toHaveTextContent('3 open 2 unassigned 1 at risk 1 breached');
    expect(screen.getByRole('table', { name: 'Queue: All, 3 conversations' })).toHaveAttribute('aria-rowcount', '4');
  });

  it('updates live from the event stream, without reloading the page', async () => {
    const { backend } = await setup();
    expect(backend.board).toHaveBeenCalledTimes(1);

    backend.boardState.conversations.push(
      boardEntry({ conversation_id: 4, contact_name: 'New Customer', sla_due_at: NOW + 2 * MIN, at_risk: true }),
    );
    backend.boardState.conversations[1].assignee_id = 7;
    backend.boardState.conversations[1].status = 'assigned';
    backend.emitChange([]);

    await waitFor(() => expect(rowIds()).toEqual(['3', '1', '2', '4']));
    expect(within(row(1)).getByTestId('board-assignee')).toHaveTextContent('Ana Agent');
    expect(backend.board).toHaveBeenCalledTimes(2);
  });

  it('a burst of changes costs one extra request, not one per change', async () => {
    const { backend } = await setup();
    let release!: () => void;
    backend.board.mockImplementationOnce(async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return structuredClone(backend.boardState);
    });
    backend.emitChange([]);
    backend.emitChange([1]);
    backend.emitChange([2]);
    expect(backend.board).toHaveBeenCalledTimes(2);
    release();
    await waitFor(() => expect(backend.board).toHaveBeenCalledTimes(3));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(backend.board).toHaveBeenCalledTimes(3);
  });

  it('Assign: the picker lists online agents first with their load; choosing one assigns at once', async () => {
    const { backend, user } = await setup();
    const assign = within(row(1)).getByTestId('board-assign');
    await user.click(assign);

    const dialog = await screen.findByRole('dialog', { name: 'Assign Maria Lopez' });
    const options = within(dialog).getAllByTestId('assign-option');
    // No viewer; online first (the least loaded first), then away.
    expect(options.map((o) => o.getAttribute('data-agent-id'))).toEqual(['7', '8', '9']);
    expect(options[1]).toHaveTextContent('Maya Ruiz');
    expect(options[1]).toHaveTextContent('Online · 4/5 open · 1 at risk');
    expect(options[2]).toHaveTextContent('Away');
    await waitFor(() => expect(options[0]).toHaveFocus());

    await user.click(options[1]);
    expect(backend.assign).toHaveBeenCalledWith(1, 8);
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    await waitFor(() => expect(within(row(1)).getByTestId('board-assignee')).toHaveTextContent('Maya Ruiz'));
    expect(screen.getByTestId('board-status')).toHaveTextContent('Assigned Maria Lopez to Maya Ruiz.');
    // The board is reloaded after the change.
    await waitFor(() => expect(backend.board).toHaveBeenCalledTimes(2));
    // The focus goes back where it was.
    await waitFor(() => expect(within(row(1)).getByTestId('board-assign')).toHaveFocus());
  });

  it('the picker closes with Escape without assigning', async () => {
    const { backend, user } = await setup();
    await user.click(within(row(1)).getByTestId('board-assign'));
    await screen.findByRole('dialog');
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(backend.assign).not.toHaveBeenCalled();
  });

  it('Take over (in the row\'s "More actions" menu) assigns the conversation to me', async () => {
    const { backend, user } = await setup();
    const more = within(row(3)).getByTestId('board-more');
    await user.click(more);
    await user.click(within(row(3)).getByTestId('board-takeover'));
    expect(backend.assign).toHaveBeenCalledWith(3, managerSession.agent.id);
    // The menu closed; the focus is back on its button.
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();
    expect(more).toHaveFocus();
    await waitFor(() => expect(within(row(3)).getByTestId('board-assignee')).toHaveTextContent('Ben Okafor (you)'));
    expect(screen.getByTestId('board-status')).toHaveTextContent('You took over Tom Baker.');
    // Mine now: nothing to take over.
    await user.click(within(row(3)).getByTestId('board-more'));
    expect(within(row(3)).getByTestId('board-takeover')).toBeDisabled();
  });

  it('"More actions" is a keyboard menu: arrows move, Escape closes it and the focus goes back', async () => {
    const { user } = await setup();
    const more = within(row(1)).getByTestId('board-more');
    expect(more).toHaveAccessibleName('More actions for Maria Lopez');
    expect(more).toHaveAttribute('aria-haspopup', 'menu');
    expect(more).toHaveAttribute('aria-expanded', 'false');
    // Not in the row until opened.
    expect(within(row(1)).queryByTestId('board-transfer')).not.toBeInTheDocument();

    more.focus();
    await user.keyboard('{ArrowDown}');
    const menu = within(row(1)).getByRole('menu', { name: 'More actions for Maria Lopez' });
    expect(more).toHaveAttribute('aria-expanded', 'true');
    expect(more).toHaveAttribute('aria-controls', menu.id);
    const items = within(menu).getAllByRole('menuitem');
    expect(items.map((i) => i.getAttribute('data-testid'))).toEqual(['board-timeline', 'board-takeover', 'board-transfer']);
    expect(items[0]).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(items[1]).toHaveFocus();
    await user.keyboard('{ArrowUp}{ArrowUp}');
    expect(items[2]).toHaveFocus(); // wraps
    await user.keyboard('{Home}');
    expect(items[0]).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();
    expect(more).toHaveAttribute('aria-expanded', 'false');
    expect(more).toHaveFocus();

    // Enter opens it on the first item; ArrowUp on the last; a click outside closes it.
    await user.keyboard('{Enter}');
    expect(within(row(1)).getByTestId('board-timeline')).toHaveFocus();
    await user.keyboard('{Escape}');
    await user.keyboard('{ArrowUp}');
    expect(within(row(1)).getByTestId('board-transfer')).toHaveFocus();
    await user.click(screen.getByTestId('board-summary'));
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();
  });

  it('a short SLA counts down in seconds; due soon is not "at risk" before its warning point', async () => {
    const data = board({
      conversations: [
        boardEntry({ conversation_id: 1, contact_name: 'Maria Lopez', requested_at: NOW, sla_due_at: NOW + 19_000, sla_warn_at: NOW + 15_000 }),
        boardEntry({ conversation_id: 2, contact_name: 'Lea Park', sla_due_at: NOW + 5 * MIN, sla_warn_at: NOW + 2 * MIN }),
      ],
    });
    await setup(data);
    const sla = within(row(1)).getByTestId('board-sla');
    expect(sla).toHaveTextContent(/First response due in 1[89]s/);
    expect(sla).toHaveAttribute('data-tone', 'ok');
    expect(row(1)).toHaveAttribute('data-at-risk', 'false');
    expect(within(row(2)).getByTestId('board-sla')).toHaveTextContent(/First response due in (5m 00s|4m 59s)/);
    expect(row(2)).toHaveAttribute('data-at-risk', 'false');
    expect(screen.getByTestId('board-summary')).toHaveTextContent('0 at risk');
  });

  it('changing the priority calls setPriority; the new order is applied at once', async () => {
    const data = board({
      conversations: [
        boardEntry({ conversation_id: 1, contact_name: 'Maria Lopez', sla_due_at: null, requested_at: NOW - 30 * MIN }),
        boardEntry({ conversation_id: 2, contact_name: 'Lea Park', sla_due_at: null, requested_at: NOW - 5 * MIN }),
      ],
    });
    const { backend, user } = await setup(data);
    // The reload after the change is held back: what shows is the local re-sort.
    backend.board.mockImplementationOnce(() => new Promise(() => {}));
    await user.selectOptions(within(row(2)).getByTestId('board-priority'), 'urgent');
    expect(backend.setPriority).toHaveBeenCalledWith(2, 'urgent');
    await waitFor(() => expect(rowIds()).toEqual(['2', '1']));
    expect(within(row(2)).getByTestId('board-priority')).toHaveValue('urgent');
  });

  it('a refused change is shown by its code, and the select goes back', async () => {
    const { backend, user } = await setup();
    backend.failures.set('setPriority', new BackendError('forbidden', 'managers only'));
    await user.selectOptions(within(row(1)).getByTestId('board-priority'), 'urgent');
    const alert = await screen.findByTestId('board-error');
    expect(alert).toHaveAttribute('data-error-code', 'forbidden');
    expect(alert).toHaveTextContent("You don't have permission to do that.");
    await waitFor(() => expect(within(row(1)).getByTestId('board-priority')).toHaveValue('normal'));
  });

  it('announces a team with a queue and nobody online, and marks it with words, not colour alone', async () => {
    const data = threeRows();
    data.teams = [teamLoad(), teamLoad({ id: 2, name: 'Billing', waiting: 3, online_agents: 0 })];
    await setup(data);
    const alerts = screen.getByTestId('board-alerts');
    expect(alerts).toHaveAttribute('role', 'status');
    expect(alerts).toHaveTextContent('Billing: 3 waiting and nobody online.');
    expect(alerts).not.toHaveTextContent('Support');
    const billing = screen.getAllByTestId('board-team').find((t) => t.getAttribute('data-team-id') === '2')!;
    expect(billing).toHaveAttribute('data-uncovered', 'true');
    expect(within(billing).getByTestId('team-uncovered')).toHaveTextContent('Nobody online');
  });

  it('filters: waiting, at risk, and a team', async () => {
    const { user } = await setup();
    const filter = (id: string) => screen.getAllByTestId('board-filter').find((b) => b.getAttribute('data-filter') === id)!;
    expect(filter('waiting')).toHaveTextContent('Waiting 2');
    expect(filter('at_risk')).toHaveTextContent('At risk 1');

    await user.click(filter('waiting'));
    expect(filter('waiting')).toHaveAttribute('aria-pressed', 'true');
    expect(rowIds()).toEqual(['1', '2']);

    await user.click(filter('at_risk'));
    // Tom is breached; Maria is due in 20 minutes (not yet at risk).
    expect(rowIds()).toEqual(['3']);

    await user.click(filter('all'));
    await user.selectOptions(screen.getByTestId('board-team-filter'), '2');
    expect(rowIds()).toEqual(['2']);
    expect(screen.getByRole('table', { name: 'Queue: All, Billing, 1 conversation' })).toBeInTheDocument();
  });

  it('Open opens the conversation; Timeline shows what happened to the handoff', async () => {
    const { backend, onopen, user } = await setup();
    backend.timelines.set(101, [
      timelineEvent({ at: NOW - 10 * MIN, kind: 'requested', actor: 'bot', detail: 'Customer asked for a person' }),
      timelineEvent({ at: NOW - 2 * MIN, kind: 'sla_warning', actor: null, detail: 'First response at 75%' }),
    ]);
    await user.click(within(row(1)).getByTestId('board-open'));
    expect(onopen).toHaveBeenCalledWith(1);

    await user.click(within(row(1)).getByTestId('board-more'));
    await user.click(within(row(1)).getByTestId('board-timeline'));
    const drawer = await screen.findByTestId('timeline-drawer');
    expect(backend.handoffTimeline).toHaveBeenCalledWith(101);
    const events = await within(drawer).findAllByTestId('timeline-event');
    expect(events.map((e) => e.getAttribute('data-kind'))).toEqual(['requested', 'sla_warning']);
    expect(events[0]).toHaveTextContent('Handoff requested');
    expect(events[0]).toHaveTextContent('by bot');
    expect(events[1]).toHaveTextContent('+8m');
    await user.click(within(drawer).getByTestId('timeline-open'));
    expect(onopen).toHaveBeenLastCalledWith(1);
    expect(screen.queryByTestId('timeline-drawer')).not.toBeInTheDocument();
  });

  it('Transfer hands the conversation over with a note, then reloads the board', async () => {
    const { backend, user } = await setup();
    await user.click(within(row(1)).getByTestId('board-more'));
    await user.click(within(row(1)).getByTestId('board-transfer'));
    const dialog = await screen.findByRole('dialog', { name: 'Transfer conversation' });
    expect(dialog).toHaveTextContent('Maria Lopez');
    await waitFor(() => expect(within(dialog).getAllByRole('option').length).toBeGreaterThan(1));
    await user.selectOptions(within(dialog).getByLabelText('Transfer to'), 'team:2');
    await user.type(within(dialog).getByLabelText(/Note/), 'Billing question');
    await user.click(within(dialog).getByRole('button', { name: 'Transfer' }));
    expect(backend.transfer).toHaveBeenCalledWith(1, null, 2, 'Billing question');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(screen.getByTestId('board-status')).toHaveTextContent('Transferred Maria Lopez.');
    await waitFor(() => expect(backend.board).toHaveBeenCalledTimes(2));
  });

  it('exports the queue as CSV (the desktop says where it saved it)', async () => {
    const { backend, user } = await setup(threeRows(), true);
    await user.click(screen.getByTestId('csv-queue'));
    await waitFor(() => expect(backend.saveExport).toHaveBeenCalledTimes(1));
    const [name, csv] = backend.saveExport.mock.calls[0];
    expect(name).toMatch(/^board-queue-\d{4}-\d{2}-\d{2}-\d{4}\.csv$/);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(
      'Conversation,Contact,Status,Priority,Trigger,Reason,Team,Assignee,Requested at,Waiting (s),SLA,SLA due at,At risk,Breached',
    );
    expect(lines[1]).toMatch(/^3,Tom Baker,assigned,high,Customer upset,Asked for a person,Support,Maya Ruiz,/);
    expect(lines).toHaveLength(5);
    expect(await screen.findByTestId('export-status')).toHaveTextContent(`Saved ${name} to /home/ben/Downloads/${name}`);

    await user.click(screen.getByTestId('csv-agents'));
    await waitFor(() => expect(backend.saveExport).toHaveBeenCalledTimes(2));
    expect(backend.saveExport.mock.calls[1][1].split('\r\n')[0]).toBe('Agent,Role,Availability,Open,Capacity,Load,At risk,Last reply at');
  });

  it('a board that cannot be loaded says why, by code, and can be retried', async () => {
    const backend = new FakeBackend({ session: managerSession });
    backend.failures.set('board', new BackendError('network', 'offline'));
    const inbox = new Inbox(backend);
    await inbox.start();
    const user = userEvent.setup();
    render(Board, { inbox, onopen: vi.fn() });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveAttribute('data-error-code', 'network');
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findAllByTestId('board-row')).toHaveLength(1);
  });

  it('2,000 open handoffs: only the rows in view are on the page', async () => {
    const many = board({
      conversations: Array.from({ length: 2000 }, (_, i) =>
        boardEntry({ conversation_id: i + 1, contact_name: `Customer ${i + 1}`, sla_due_at: NOW + (i + 1) * MIN }),
      ),
    });
    await setup(many);
    const rows = screen.getAllByTestId('board-row');
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(60);
    expect(rows[0]).toHaveAttribute('data-conversation-id', '1');
    expect(rows[0]).toHaveAttribute('aria-rowindex', '2');
    expect(screen.getByRole('table')).toHaveAttribute('aria-rowcount', '2001');
  });
});

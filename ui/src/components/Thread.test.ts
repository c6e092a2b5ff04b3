import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import Thread from './Thread.svelte';
import EscalationPanel from './EscalationPanel.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, agent, conversation, detail, handoff, legacyHandoff, message } from '../test/fixtures';

async function openThread(d = detail()) {
  const inbox = new Inbox(new FakeBackend({ details: [d] }));
  await inbox.start();
  await inbox.select(d.conversation.id);
  render(Thread, { inbox });
  return inbox;
}

describe('Thread', () => {
  it('renders every message in order with author and status attributes', async () => {
    await openThread();
    const thread = screen.getByTestId('thread');
    expect(thread).toHaveAttribute('data-conversation-id', '1');
    const messages = within(thread).getAllByTestId('message');
    expect(messages.map((m) => m.dataset.author)).toEqual([
      'customer',
      'bot',
      'customer',
      'system',
      'agent',
      'agent',
      'customer',
    ]);
    expect(messages.map((m) => m.dataset.status)).toEqual([
      'received',
      'read',
      'received',
      'sent',
      'delivered',
      'failed',
      'received',
    ]);
    expect(within(messages[0]).getByTestId('message-text')).toHaveTextContent('Hi, where is my order?');
    // bot bubbles are labelled
    expect(within(messages[1]).getByText('Bot')).toBeInTheDocument();
    expect(messages[1]).toHaveClass('right');
    expect(messages[0]).toHaveClass('left');
    expect(messages[3]).toHaveClass('center');
  });

  it('shows outbound status marks and the failure text', async () => {
    await openThread();
    const messages = screen.getAllByTestId('message');
    expect(within(messages[1]).getByTestId('message-status')).toHaveTextContent('✓✓');
    expect(within(messages[1]).getByTestId('message-status')).toHaveClass('status-read');
    expect(within(messages[4]).getByTestId('message-status')).toHaveTextContent('Delivered');
    expect(within(messages[5]).getByTestId('message-error')).toHaveTextContent('Re-engagement window closed');
    // inbound messages have no status mark
    expect(within(messages[0]).queryByTestId('message-status')).not.toBeInTheDocument();
  });

  it('shows a placeholder for non-text messages', async () => {
    await openThread();
    const last = screen.getAllByTestId('message').at(-1)!;
    expect(within(last).getByTestId('message-text')).toHaveTextContent('Unsupported message (image)');
  });

  it('puts pending local messages last, shown as Sending…', async () => {
    const d = detail();
    d.messages.unshift(
      message({ id: -1, direction: 'outbound', author: 'agent', status: 'queued', text: 'pending one', sent_at: NOW - 99 * 60_000 }),
    );
    await openThread(d);
    const last = screen.getAllByTestId('message').at(-1)!;
    expect(last).toHaveAttribute('data-status', 'queued');
    expect(within(last).getByTestId('message-text')).toHaveTextContent('pending one');
    expect(within(last).getByTestId('message-status')).toHaveTextContent('Sending…');
  });

  it('separates days', async () => {
    const d = detail();
    d.messages = [
      message({ id: 1, sent_at: NOW - 3 * 86_400_000, text: 'old' }),
      message({ id: 2, sent_at: Date.now(), text: 'new' }),
    ];
    await openThread(d);
    const separators = screen.getAllByRole('separator');
    expect(separators).toHaveLength(2);
    expect(separators[1]).toHaveTextContent('Today');
  });

  it('renders the escalation panel for the active handoff', async () => {
    await openThread();
    const panel = screen.getByTestId('escalation-panel');
    expect(within(panel).getByTestId('handoff-trigger')).toHaveTextContent('Customer asked for a person');
    expect(within(panel).getByTestId('handoff-reason')).toHaveTextContent('Refund request');
    expect(within(panel).getByTestId('handoff-priority')).toHaveTextContent('High');
    expect(within(panel).getByTestId('handoff-summary')).toHaveTextContent('charged twice');
    expect(panel).toHaveAttribute('data-handoff-status', 'assigned');
  });

  it('falls back to the latest handoff when none is active', async () => {
    const d = detail({
      conversation: conversation({ state: 'automation', active_handoff_id: null, assignee_id: null }),
      handoffs: [
        handoff({ id: 1, reason: 'old reason', requested_at: NOW - 86_400_000, status: 'resolved', resolved_at: NOW }),
        handoff({ id: 2, reason: 'newest reason', requested_at: NOW - 1000, status: 'resolved', resolved_at: NOW }),
      ],
    });
    await openThread(d);
    expect(screen.getByTestId('handoff-reason')).toHaveTextContent('newest reason');
    const earlier = within(screen.getByTestId('earlier-handoffs')).getAllByTestId('earlier-handoff');
    expect(earlier.map((e) => e.dataset.handoffId)).toEqual(['1']);
  });

  it('passes the contact attributes and the timeline to the panel', async () => {
    const d = detail({
      conversation: conversation({
        contact: { id: 11, wa_id: '15551230001', bsuid: null, name: 'Maria Lopez', attributes: { vip: true } },
      }),
    });
    await openThread(d);
    const panel = screen.getByTestId('escalation-panel');
    expect(within(panel).getByTestId('handoff-trigger-detail')).toHaveTextContent('human');
    const attrs = within(within(panel).getByTestId('contact-attributes')).getAllByTestId('contact-attribute');
    expect(attrs.map((a) => [a.dataset.key, a.querySelector('dd')?.textContent])).toEqual([['vip', 'Yes']]);
    const steps = within(panel).getByTestId('handoff-timeline').querySelectorAll<HTMLElement>('[data-step]');
    expect(Array.from(steps, (s) => s.dataset.step)).toEqual(['requested', 'assigned', 'first_response']);
    expect(within(panel).queryByTestId('earlier-handoffs')).not.toBeInTheDocument();
  });
});

describe('Thread internal notes, labels and transfer notes', () => {
  function note(overrides: Parameters<typeof message>[0] = {}) {
    return message({
      direction: 'note',
      author: 'agent',
      agent_id: agent.id,
      kind: 'note',
      wamid: null,
      status: 'received',
      text: '@olga.k can you confirm the return label?',
      sent_at: NOW - 60_000,
      ...overrides,
    });
  }

  it('renders a note as an internal note card with its author, never as a bubble', async () => {
    const d = detail();
    d.messages.push(note({ id: 50 }), note({ id: 51, agent_id: 99, text: 'Label sent', sent_at: NOW - 30_000 }));
    await openThread(d);
    const [mine, theirs] = screen.getAllByTestId('message').filter((m) => m.dataset.direction === 'note');
    for (const el of [mine, theirs]) {
      expect(el).toHaveClass('note');
      expect(el).not.toHaveClass('left');
      expect(el).not.toHaveClass('right');
      expect(el.querySelector('.bubble')).toBeNull();
      expect(within(el).getByTestId('internal-note')).toHaveTextContent('Internal note');
      expect(within(el).queryByTestId('message-status')).not.toBeInTheDocument();
      expect(within(el).queryByTestId('reply-action')).not.toBeInTheDocument();
    }
    expect(within(mine).getByTestId('note-author')).toHaveTextContent('You');
    expect(within(mine).getByTestId('message-text')).toHaveTextContent('@olga.k can you confirm the return label?');
    expect(within(theirs).getByTestId('note-author')).toHaveTextContent('Agent');
    expect(within(theirs).getByTestId('message-text')).toHaveTextContent('Label sent');
  });

  it('shows no delivery ticks on a note whatever its status, and no placeholder for an empty one', async () => {
    const d = detail();
    d.messages = [note({ id: 50, status: 'read', wamid: 'wamid.note', text: null })];
    await openThread(d);
    const el = screen.getByTestId('message');
    expect(el).toHaveAttribute('data-direction', 'note');
    expect(within(el).queryByTestId('message-status')).not.toBeInTheDocument();
    expect(el).not.toHaveTextContent('✓');
    expect(within(el).queryByTestId('reply-action')).not.toBeInTheDocument();
    expect(within(el).getByTestId('message-text')).toHaveTextContent('Empty note');
  });

  it('shows the conversation labels as chips in the header', async () => {
    await openThread(detail({ conversation: conversation({ labels: ['vip', 'refund', 'vip', ' '] }) }));
    const chips = within(screen.getByTestId('conversation-labels')).getAllByTestId('conversation-label');
    expect(chips.map((c) => c.textContent)).toEqual(['vip', 'refund']);
    expect(screen.getByTestId('conversation-labels').closest('header')).not.toBeNull();
  });

  it('shows no labels when there are none, or the data predates labels', async () => {
    const old = conversation();
    delete old.labels;
    await openThread(detail({ conversation: old }));
    expect(screen.getByTestId('thread')).toBeInTheDocument();
    expect(screen.queryByTestId('conversation-labels')).not.toBeInTheDocument();
  });

  it('shows the transfer note of the active handoff at the top of the thread', async () => {
    await openThread(detail({ handoffs: [handoff({ transfer_note: 'Refund approved, please send the label' })] }));
    const banner = screen.getByTestId('transfer-note');
    expect(banner).toHaveTextContent('Transferred with a note: Refund approved, please send the label');
    // Above the messages.
    const log = screen.getByRole('log');
    expect(banner.compareDocumentPosition(log) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('shows no transfer note for a handoff that is not active, nor for older data', async () => {
    await openThread(
      detail({
        conversation: conversation({ state: 'automation', active_handoff_id: null, assignee_id: null }),
        handoffs: [handoff({ status: 'resolved', resolved_at: NOW, transfer_note: 'old news' })],
      }),
    );
    expect(screen.queryByTestId('transfer-note')).not.toBeInTheDocument();
  });

  it('copes with a handoff from an older server (no transfer note, routing or SLA)', async () => {
    await openThread(detail({ handoffs: [legacyHandoff()] }));
    expect(screen.getByTestId('escalation-panel')).toBeInTheDocument();
    expect(screen.queryByTestId('transfer-note')).not.toBeInTheDocument();
  });
});

describe('EscalationPanel', () => {
  it('words an API handoff with who requested it', () => {
    render(EscalationPanel, {
      handoff: handoff({ trigger: 'api', requested_by: 'order-bot', status: 'waiting', summary: null }),
    });
    expect(screen.getByTestId('handoff-trigger')).toHaveTextContent('Handed off by order-bot');
    expect(screen.getByText('Waiting for an agent')).toBeInTheDocument();
    expect(screen.queryByTestId('handoff-summary')).not.toBeInTheDocument();
  });
});

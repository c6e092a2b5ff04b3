import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import Thread from './Thread.svelte';
import EscalationPanel from './EscalationPanel.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, conversation, detail, handoff, message } from '../test/fixtures';

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

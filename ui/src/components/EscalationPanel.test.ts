import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import EscalationPanel from './EscalationPanel.svelte';
import type { HandoffTrigger } from '../lib/types';
import { formatDateTime } from '../lib/format';
import { NOW, conversation, handoff, legacyHandoff } from '../test/fixtures';

describe('EscalationPanel trigger', () => {
  const cases: [HandoffTrigger, string, string][] = [
    ['customer_request', 'Customer asked for a person', 'human'],
    ['keyword', 'Keyword / intent', 'refund: "money back"'],
    ['low_confidence', 'Bot not confident', '0.41 < 0.80'],
    ['repeated_failure', 'Bot could not help', '2 fallbacks in a row'],
    ['negative_sentiment', 'Customer upset', '-0.72'],
    ['contact_rule', 'Contact rule', 'VIP customer'],
    ['api', 'Handed off by order-bot', 'checkout node'],
    ['lead', 'Lead from another channel', 'Instagram ad'],
  ];

  it.each(cases)('words %s as "%s" with its detail', (trigger, words, detail) => {
    render(EscalationPanel, {
      handoff: handoff({ trigger, trigger_detail: detail, requested_by: 'order-bot' }),
    });
    const el = screen.getByTestId('handoff-trigger');
    expect(el).toHaveTextContent(words);
    expect(el).toHaveAttribute('data-trigger', trigger);
    // the detail is its own element, not part of the words
    expect(el).not.toHaveTextContent(detail);
    expect(screen.getByTestId('handoff-trigger-detail')).toHaveTextContent(detail);
  });

  it('leaves the detail out when there is none', () => {
    render(EscalationPanel, { handoff: handoff({ trigger: 'keyword', trigger_detail: null }) });
    expect(screen.getByTestId('handoff-trigger')).toHaveTextContent('Keyword / intent');
    expect(screen.queryByTestId('handoff-trigger-detail')).not.toBeInTheDocument();
  });

  it('an API handoff without a caller name falls back to the bot', () => {
    render(EscalationPanel, { handoff: handoff({ trigger: 'api', requested_by: '' }) });
    expect(screen.getByTestId('handoff-trigger')).toHaveTextContent('Handed off by the bot');
  });

  it('shows an unknown (newer) trigger humanised instead of failing', () => {
    render(EscalationPanel, { handoff: handoff({ trigger: 'after_hours' as HandoffTrigger }) });
    expect(screen.getByTestId('handoff-trigger')).toHaveTextContent('After hours');
  });
});

describe('EscalationPanel scores', () => {
  it('shows neither confidence nor sentiment when absent', () => {
    render(EscalationPanel, { handoff: handoff({ confidence: null, sentiment: null }) });
    expect(screen.queryByTestId('handoff-confidence')).not.toBeInTheDocument();
    expect(screen.queryByTestId('handoff-sentiment')).not.toBeInTheDocument();
  });

  it('shows confidence as a percentage with a bar', () => {
    const { container } = render(EscalationPanel, { handoff: handoff({ trigger: 'low_confidence', confidence: 0.413 }) });
    const el = screen.getByTestId('handoff-confidence');
    expect(el).toHaveTextContent('41%');
    const fill = container.querySelector<HTMLElement>('[data-testid="handoff-confidence"] .fill');
    expect(fill?.style.width).toBe('41%');
    expect(screen.getByText('Bot confidence')).toBeInTheDocument();
  });

  it('shows zero confidence (present, not missing)', () => {
    render(EscalationPanel, { handoff: handoff({ confidence: 0 }) });
    expect(screen.getByTestId('handoff-confidence')).toHaveTextContent('0%');
  });

  it.each([
    [-0.72, '-0.72', 'negative'],
    [-0.5, '-0.50', 'negative'],
    [-0.2, '-0.20', 'slightly negative'],
    [0, '0.00', 'neutral'],
    [0.4, '+0.40', 'positive'],
  ])('sentiment %d reads "%s %s"', (score, shown, words) => {
    render(EscalationPanel, { handoff: handoff({ sentiment: score }) });
    const el = screen.getByTestId('handoff-sentiment');
    expect(el).toHaveTextContent(`${shown} ${words}`);
    expect(el).toHaveAttribute('data-sentiment', words.replace(' ', '_'));
  });
});

describe('EscalationPanel automation and context', () => {
  it('shows the workflow ids that are present and the requested skill', () => {
    render(EscalationPanel, {
      handoff: handoff({
        workflow: { workflow_id: 'wf_orders', execution_id: 'exec-991', node_id: null },
        requested_skill: 'billing',
      }),
    });
    const wf = screen.getByTestId('handoff-workflow');
    expect(within(wf).getByText('Workflow').nextElementSibling).toHaveTextContent('wf_orders');
    expect(within(wf).getByText('Execution').nextElementSibling).toHaveTextContent('exec-991');
    expect(within(wf).queryByText('Node')).not.toBeInTheDocument();
    expect(screen.getByTestId('handoff-skill')).toHaveTextContent('billing');
  });

  it('leaves workflow, skill and context out when absent or empty', () => {
    render(EscalationPanel, {
      handoff: handoff({ workflow: { workflow_id: null, execution_id: null, node_id: null }, requested_skill: null }),
    });
    expect(screen.queryByTestId('handoff-workflow')).not.toBeInTheDocument();
    expect(screen.queryByTestId('handoff-skill')).not.toBeInTheDocument();
    expect(screen.queryByTestId('handoff-context')).not.toBeInTheDocument();
    expect(screen.queryByTestId('contact-attributes')).not.toBeInTheDocument();
  });

  it('lists context fields with readable values', () => {
    render(EscalationPanel, {
      handoff: handoff({
        context: {
          crm_id: 'C-1042',
          order_value: 249.9,
          returning: true,
          newsletter: false,
          tags: ['vip', 'emea'],
          address: { city: 'Lisbon', zip: '1100' },
          note: null,
        },
      }),
    });
    const list = screen.getByTestId('handoff-context');
    const rows = within(list).getAllByTestId('context-field');
    const byKey = Object.fromEntries(rows.map((r) => [r.dataset.key, r]));
    expect(Object.keys(byKey)).toEqual(['crm_id', 'order_value', 'returning', 'newsletter', 'tags', 'address', 'note']);
    const value = (key: string) => byKey[key].querySelector('dd')?.textContent;
    expect(byKey.crm_id.querySelector('dt')).toHaveTextContent('crm_id');
    expect(value('crm_id')).toBe('C-1042');
    expect(value('order_value')).toBe('249.9');
    expect(value('returning')).toBe('Yes');
    expect(value('newsletter')).toBe('No');
    expect(value('tags')).toBe('vip, emea');
    expect(value('address')).toBe('{"city":"Lisbon","zip":"1100"}');
    expect(value('note')).toBe('—');
  });

  it('shows the contact attributes in a Contact section', () => {
    const contact = { ...conversation().contact, attributes: { vip: true, crm_id: 'C-7' } };
    render(EscalationPanel, { handoff: handoff(), contact });
    const list = screen.getByTestId('contact-attributes');
    const rows = within(list).getAllByTestId('contact-attribute');
    expect(rows.map((r) => r.dataset.key)).toEqual(['vip', 'crm_id']);
    expect(rows[0].querySelector('dd')).toHaveTextContent('Yes');
    expect(screen.getByRole('heading', { name: 'Contact' })).toBeInTheDocument();
  });
});

describe('EscalationPanel timeline', () => {
  const steps = () =>
    Array.from(screen.getByTestId('handoff-timeline').querySelectorAll<HTMLElement>('[data-step]'));

  it('shows only the steps that happened, with the time between them', () => {
    render(EscalationPanel, {
      handoff: handoff({
        status: 'assigned',
        requested_at: NOW - 10 * 60_000,
        assigned_at: NOW - 10 * 60_000 + 125_000,
        first_response_at: NOW - 5 * 60_000,
        resolved_at: null,
        returned_at: null,
      }),
    });
    const [requested, assigned, firstResponse, ...rest] = steps();
    expect(rest).toHaveLength(0);
    expect(requested.dataset.step).toBe('requested');
    expect(assigned.dataset.step).toBe('assigned');
    expect(firstResponse.dataset.step).toBe('first_response');

    expect(requested).toHaveTextContent('Requested');
    expect(requested.querySelector('time')).toHaveAttribute('datetime', new Date(NOW - 10 * 60_000).toISOString());
    expect(requested.querySelector('time')).toHaveAttribute('title', formatDateTime(NOW - 10 * 60_000));
    expect(within(requested).queryByTestId('step-duration')).not.toBeInTheDocument();

    expect(within(assigned).getByTestId('step-duration')).toHaveTextContent('2m 5s to assign');
    expect(within(firstResponse).getByTestId('step-duration')).toHaveTextContent('2m 55s to first response');
    expect(firstResponse).toHaveTextContent('First response');
  });

  it('covers a full handoff through return to automation', () => {
    render(EscalationPanel, {
      handoff: handoff({
        status: 'resolved',
        requested_at: NOW - 3 * 3_600_000,
        assigned_at: NOW - 3 * 3_600_000 + 30_000,
        first_response_at: NOW - 3 * 3_600_000 + 90_000,
        resolved_at: NOW - 3_600_000,
        returned_at: NOW - 3_600_000,
      }),
    });
    expect(steps().map((s) => s.dataset.step)).toEqual(['requested', 'assigned', 'first_response', 'resolved', 'returned']);
    const durations = screen.getAllByTestId('step-duration').map((d) => d.querySelector('.gap-value')?.textContent);
    expect(durations).toEqual(['30s', '1m', '1h 58m', '0s']);
    expect(steps()[4]).toHaveTextContent('Returned to automation');
  });

  it('a waiting handoff has just the request', () => {
    render(EscalationPanel, {
      handoff: handoff({ status: 'waiting', assigned_at: null, first_response_at: null, assignee_id: null }),
    });
    expect(steps().map((s) => s.dataset.step)).toEqual(['requested']);
  });

  it('copes with old data that lacks the new fields', () => {
    render(EscalationPanel, {
      handoff: legacyHandoff({ status: 'resolved', resolved_at: NOW }),
      contact: { id: 1, wa_id: '1555', bsuid: null, name: null },
    });
    expect(screen.getByTestId('handoff-trigger')).toHaveTextContent('Customer asked for a person');
    expect(screen.queryByTestId('handoff-trigger-detail')).not.toBeInTheDocument();
    expect(screen.queryByTestId('handoff-confidence')).not.toBeInTheDocument();
    expect(screen.queryByTestId('handoff-context')).not.toBeInTheDocument();
    expect(screen.queryByTestId('contact-attributes')).not.toBeInTheDocument();
    expect(steps().map((s) => s.dataset.step)).toEqual(['requested', 'assigned', 'resolved']);
  });
});

describe('EscalationPanel earlier handoffs', () => {
  it('lists the other handoffs of the conversation, newest first, in a disclosure', async () => {
    const user = userEvent.setup();
    const current = handoff({ id: 3, requested_at: NOW - 60_000 });
    const older = handoff({
      id: 1,
      trigger: 'keyword',
      trigger_detail: 'cancel',
      status: 'resolved',
      requested_at: NOW - 2 * 86_400_000,
    });
    const old = handoff({ id: 2, trigger: 'negative_sentiment', status: 'resolved', requested_at: NOW - 86_400_000 });
    render(EscalationPanel, { handoff: current, handoffs: [older, current, old] });

    const disclosure = screen.getByTestId('earlier-handoffs');
    expect(disclosure).not.toHaveAttribute('open');
    const summary = within(disclosure).getByText('Earlier handoffs (2)');
    await user.click(summary);
    expect(disclosure).toHaveAttribute('open');

    const items = within(disclosure).getAllByTestId('earlier-handoff');
    expect(items.map((i) => i.dataset.handoffId)).toEqual(['2', '1']);
    expect(items[0]).toHaveTextContent('Customer upset');
    expect(items[0]).toHaveTextContent(formatDateTime(NOW - 86_400_000));
    expect(items[1]).toHaveTextContent('Keyword / intent');
    expect(items[1]).toHaveTextContent('cancel');
  });

  it('has no disclosure for a single handoff', () => {
    const h = handoff();
    render(EscalationPanel, { handoff: h, handoffs: [h] });
    expect(screen.queryByTestId('earlier-handoffs')).not.toBeInTheDocument();
  });

  it('shows a lead\'s conversation before WhatsApp and the bot\'s withheld answer as their own sections', () => {
    const h = handoff({
      trigger: 'lead',
      context: {
        plan: 'Pro',
        upstream_transcript: [
          { from: 'lead', text: 'Do you do volume discounts?' },
          { from: 'bot', text: 'Yes, from 10 seats.' },
        ],
        withheld_bot_reply: 'Maybe try again later?',
      },
    });
    render(EscalationPanel, { handoff: h });
    const lines = screen.getAllByTestId('upstream-line');
    expect(lines.map((l) => l.dataset.from)).toEqual(['lead', 'bot']);
    expect(lines[0]).toHaveTextContent('Do you do volume discounts?');
    expect(screen.getByTestId('withheld-bot-reply')).toHaveTextContent('Maybe try again later?');
    const keys = screen.getAllByTestId('context-field').map((r) => r.dataset.key);
    expect(keys).toEqual(['plan']);
  });
});

import { describe, expect, it } from 'vitest';
import { describeContent, humanizeKey, messageContext, messageKind, summarize } from './content';
import { buildThread, type MessageEntry } from './threadModel';
import { formatCountdown, replyWindowRemaining } from './format';
import { NOW, message } from '../test/fixtures';
import { TEMPLATE, WA, inbound, wa } from '../test/whatsapp';

describe('describeContent', () => {
  it('reads the kind from the content when the message has none', () => {
    expect(messageKind(message({ kind: '', content: { type: 'video' } }))).toBe('video');
    expect(messageKind(message({ kind: '', content: null }))).toBe('unknown');
  });

  it('totals an order per currency, and copes with unknown currency codes', () => {
    const view = describeContent(
      inbound({
        type: 'order',
        order: {
          catalog_id: 42,
          product_items: [
            { product_retailer_id: 'A', quantity: 2, item_price: 1.1, currency: 'usd' },
            { product_retailer_id: 'B', quantity: '3', item_price: '0.1', currency: 'USD' },
            { product_retailer_id: 'C', item_price: 5, currency: 'XYZW' },
          ],
        },
      }),
    );
    expect(view.type).toBe('order');
    if (view.type !== 'order') return;
    expect(view.itemCount).toBe(6);
    expect(view.catalogId).toBe('42');
    expect(view.total).toMatch(/2\.50/); // 2 × 1.10 + 3 × 0.10, no float noise
    expect(view.total).toContain('5.00 XYZW');
  });

  it('keeps template parameter names and non-text values', () => {
    const view = describeContent(
      message({
        kind: 'template',
        content: {
          name: 'order_update',
          language: { code: 'de' },
          components: [
            { type: 'header', parameters: [{ type: 'image', image: { link: 'https://x/y.png' } }] },
            {
              type: 'BODY',
              parameters: [
                { type: 'text', parameter_name: 'first_name', text: 'Jo' },
                { type: 'currency', currency: { fallback_value: '€9.99', code: 'EUR', amount_1000: 9990 } },
                { type: 'date_time', date_time: { fallback_value: 'May 1' } },
              ],
            },
          ],
        },
      }),
    );
    expect(view).toEqual({ type: 'template', name: 'order_update', language: 'de', params: ['first_name: Jo', '€9.99', 'May 1'] });
    expect(summarize(describeContent(message({ kind: 'template', content: TEMPLATE })))).toBe('Template: lead_followup');
  });

  it('does not offer a map link for impossible coordinates', () => {
    const view = describeContent(inbound({ type: 'location', location: { latitude: 123, longitude: 10, name: 'Nowhere' } }));
    expect(view).toMatchObject({ type: 'location', name: 'Nowhere', coordinates: null, mapUrl: null });
  });

  it('summarises each type in one line for reply quotes', () => {
    const lines = [WA.voice, WA.document, WA.chosenLocation, WA.contacts, WA.order, WA.flowCompletion, WA.unsupported].map((c) =>
      summarize(describeContent(inbound(wa(c)))),
    );
    expect(lines).toEqual([
      'Voice message',
      'Document · filename.pdf',
      'Location · Facebook HQ',
      '3 contacts',
      'Order · 7 items',
      'Form submitted',
      'Unsupported message',
    ]);
  });

  it('humanises form field names', () => {
    expect(humanizeKey('comment_text')).toBe('Comment text');
    expect(humanizeKey('deliveryRating')).toBe('Delivery rating');
  });

  it('reads forwarding and the reply target from the context', () => {
    expect(messageContext(inbound(wa(WA.reply)))).toMatchObject({ forwarded: null, replyTo: 'wamid.xyzxyz==' });
    expect(messageContext(inbound(wa(WA.video))).forwarded).toBe('Forwarded');
    expect(messageContext(message({ content: 'nope' }))).toEqual({ forwarded: null, replyTo: null, referral: null });
  });
});

describe('outgoing interactive messages', () => {
  const sent = (interactive: unknown, text: string | null = null) =>
    message({
      direction: 'outbound',
      author: 'agent',
      kind: 'interactive',
      text,
      status: 'sent',
      content: { type: 'interactive', interactive },
    });

  it('reply buttons: the body and the button titles', () => {
    const view = describeContent(
      sent({
        type: 'button',
        header: { type: 'text', text: 'Order #88' },
        body: { text: 'Did this solve it?' },
        footer: { text: 'Acme Support' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'btn-1', title: 'Yes' } },
            { type: 'reply', reply: { id: 'btn-2', title: 'No' } },
            { type: 'reply', reply: { id: 'btn-3' } },
          ],
        },
      }),
    );
    expect(view).toEqual({
      type: 'buttons',
      header: 'Order #88',
      body: 'Did this solve it?',
      footer: 'Acme Support',
      buttons: ['Yes', 'No'],
    });
    expect(summarize(view)).toBe('Did this solve it?');
  });

  it('a list: the body, the button label and the sections with their rows', () => {
    const view = describeContent(
      sent({
        type: 'list',
        body: { text: 'Pick a slot' },
        action: {
          button: 'Slots',
          sections: [
            { title: 'Morning', rows: [{ id: 'm9', title: '9:00', description: 'With Ana' }, { id: 'm10', title: '10:00' }] },
            { rows: [{ id: 'x' }, 'junk'] },
            'junk',
          ],
        },
      }),
    );
    expect(view).toEqual({
      type: 'list',
      header: null,
      body: 'Pick a slot',
      footer: null,
      button: 'Slots',
      sections: [
        {
          title: 'Morning',
          rows: [
            { title: '9:00', description: 'With Ana' },
            { title: '10:00', description: null },
          ],
        },
        { title: null, rows: [] },
      ],
    });
  });

  it('falls back to the summary for the body; without anything to show it is a placeholder', () => {
    expect(describeContent(sent({ type: 'button', action: { buttons: [{ reply: { title: 'Ok' } }] } }, 'Summary'))).toMatchObject({
      type: 'buttons',
      body: 'Summary',
      buttons: ['Ok'],
    });
    expect(describeContent(sent({ type: 'button', action: 'junk' }))).toMatchObject({ type: 'placeholder' });
    expect(describeContent(sent({ type: 'list' }))).toMatchObject({ type: 'placeholder' });
  });
});

describe('buildThread', () => {
  it('an outbound reply quotes its target through content.context.id, like an inbound one', () => {
    const entries = buildThread([
      message({ id: 1, wamid: 'wamid.customer', text: 'Where is my order?' }),
      message({
        id: 2,
        wamid: 'wamid.agent',
        direction: 'outbound',
        author: 'agent',
        kind: 'text',
        text: 'On its way',
        content: { type: 'text', text: { body: 'On its way' }, context: { id: 'wamid.customer' } },
      }),
      message({
        id: 3,
        wamid: null,
        direction: 'outbound',
        author: 'agent',
        kind: 'image',
        text: 'Your receipt',
        content: { type: 'image', image: { caption: 'Your receipt', mime_type: 'image/png' }, context: { id: 'wamid.agent' } },
      }),
    ]) as MessageEntry[];
    expect(entries[1].reply?.target?.original.id).toBe(1);
    expect(entries[2].reply?.target?.original.id).toBe(2);
    expect(describeContent(entries[2].message)).toMatchObject({ type: 'media', kind: 'image', caption: 'Your receipt' });
  });

  it('makes internal notes entries of their own, which nothing can react to, edit or quote', () => {
    const entries = buildThread([
      message({ id: 1, wamid: 'w1', text: 'a' }),
      message({ id: 2, direction: 'note', author: 'agent', agent_id: 7, kind: 'note', wamid: 'wn', text: 'internal' }),
      inbound(wa(WA.reaction, { reaction: { message_id: 'wn', emoji: '👍' } }), { id: 3 }),
      message({
        id: 4,
        wamid: 'w4',
        text: 'reply',
        content: { type: 'text', text: { body: 'reply' }, context: { id: 'wn' } },
      }),
    ]);
    expect(entries.map((e) => [e.type, e.message.id])).toEqual([
      ['message', 1],
      ['note', 2],
      ['notice', 3],
      ['message', 4],
    ]);
    expect((entries[3] as MessageEntry).reply).toEqual({ target: null });
  });

  it('puts notices for unmatched actions where they happened', () => {
    const entries = buildThread([
      message({ id: 1, wamid: 'w1', text: 'a' }),
      inbound(wa(WA.reaction, { reaction: { message_id: 'elsewhere', emoji: '👍' } }), { id: 2 }),
      message({ id: 3, wamid: 'w3', text: 'b' }),
      inbound(wa(WA.reaction, { reaction: { message_id: 'w1', emoji: '❤️' } }), { id: 4 }),
    ]);
    expect(entries.map((e) => [e.type, e.message.id])).toEqual([
      ['message', 1],
      ['notice', 2],
      ['message', 3],
    ]);
    expect((entries[0] as MessageEntry).reactions).toEqual([{ from: 'inbound', emoji: '❤️' }]);
  });

  it('applies actions even when the target sorts after them', () => {
    const entries = buildThread([
      inbound({ id: 'r', type: 'revoke', revoke: { original_message_id: 'late' } }, { id: 1 }),
      message({ id: 2, wamid: 'late', text: 'secret' }),
    ]);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ type: 'message', deleted: true });
  });

  it('does not edit a deleted message', () => {
    const entries = buildThread([
      message({ id: 1, wamid: 'w1', text: 'a' }),
      inbound({ id: 'd', type: 'revoke', revoke: { original_message_id: 'w1' } }, { id: 2 }),
      inbound({ id: 'e', type: 'edit', edit: { original_message_id: 'w1', message: { type: 'text', text: { body: 'b' } } } }, { id: 3 }),
    ]);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ deleted: true, edited: false });
  });
});

describe('reply window', () => {
  it('is open for 24 hours after the last inbound message', () => {
    expect(replyWindowRemaining(NOW - 60_000, NOW)).toBe(24 * 3_600_000 - 60_000);
    expect(replyWindowRemaining(NOW - 24 * 3_600_000, NOW)).toBeNull();
    expect(replyWindowRemaining(null, NOW)).toBeNull();
    expect(replyWindowRemaining(Number.NaN, NOW)).toBeNull();
    // a clock ahead of ours never gives more than 24 hours
    expect(replyWindowRemaining(NOW + 3_600_000, NOW)).toBe(24 * 3_600_000);
  });

  it('formats the time left in hours and minutes, rounded up', () => {
    expect(formatCountdown((3 * 60 + 12) * 60_000)).toBe('3h 12m');
    expect(formatCountdown((3 * 60 + 11) * 60_000 + 1)).toBe('3h 12m');
    expect(formatCountdown(2 * 3_600_000)).toBe('2h');
    expect(formatCountdown(45 * 60_000)).toBe('45m');
    expect(formatCountdown(1000)).toBe('1m');
  });
});

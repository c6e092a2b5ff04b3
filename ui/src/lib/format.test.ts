import { describe, expect, it } from 'vitest';
import { charCount, contactName, currentHandoff, formatRelative, messageBody, sortMessages } from './format';
import { NOW, detail, handoff, message } from '../test/fixtures';

describe('format', () => {
  it('contactName prefers name, then +wa_id, then bsuid', () => {
    expect(contactName({ id: 1, name: 'Maria', wa_id: '1555', bsuid: 'x' })).toBe('Maria');
    expect(contactName({ id: 1, name: null, wa_id: '1555', bsuid: 'x' })).toBe('+1555');
    expect(contactName({ id: 1, name: '  ', wa_id: null, bsuid: 'US.9' })).toBe('US.9');
  });

  it('sortMessages orders by sent_at then id with pending (negative id) last', () => {
    const sorted = sortMessages([
      message({ id: -2, sent_at: 1, created_at: 20 }),
      message({ id: 9, sent_at: 100 }),
      message({ id: 3, sent_at: 100 }),
      message({ id: -1, sent_at: 1, created_at: 10 }),
      message({ id: 4, sent_at: 50 }),
    ]);
    expect(sorted.map((m) => m.id)).toEqual([4, 3, 9, -1, -2]);
  });

  it('messageBody gives a placeholder for non-text messages without text', () => {
    expect(messageBody(message({ kind: 'audio', text: null }))).toEqual({
      text: 'Unsupported message (audio)',
      placeholder: true,
    });
    expect(messageBody(message({ kind: 'image', text: 'caption' })).text).toBe('caption');
  });

  it('formatRelative', () => {
    expect(formatRelative(NOW - 10_000, NOW)).toBe('now');
    expect(formatRelative(NOW - 5 * 60_000, NOW)).toBe('5m');
  });

  it('currentHandoff prefers the active one', () => {
    const d = detail();
    d.handoffs = [handoff({ id: 100, reason: 'active', requested_at: 1 }), handoff({ id: 101, reason: 'later', requested_at: 2 })];
    expect(currentHandoff(d)?.reason).toBe('active');
    d.conversation.active_handoff_id = null;
    expect(currentHandoff(d)?.reason).toBe('later');
    d.handoffs = [];
    expect(currentHandoff(d)).toBeNull();
  });

  it('charCount counts code points', () => {
    expect(charCount('👋🏽a')).toBe(3);
  });
});

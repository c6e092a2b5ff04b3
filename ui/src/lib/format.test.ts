import { describe, expect, it } from 'vitest';
import {
  activeHandoff,
  formatAgo,
  formatCountdownPrecise,
  formatDurationOrDash,
  formatRate,
  histogramBinLabel,
  triggerName,
  charCount,
  contactName,
  conversationLabels,
  currentHandoff,
  earlierHandoffs,
  fieldEntries,
  formatBytes,
  formatClock,
  formatDuration,
  formatPercent,
  formatRelative,
  formatSentiment,
  formatValue,
  handoffTimeline,
  messageBody,
  runningSlaClock,
  sentimentWord,
  slaView,
  sortMessages,
  transferNote,
  triggerLabel,
} from './format';
import { NOW, conversation, detail, handoff, legacyHandoff, message } from '../test/fixtures';
import type { SlaClock } from './types';

function clock(overrides: Partial<SlaClock> = {}): SlaClock {
  return {
    kind: 'first_response',
    target_ms: 300_000,
    started_at: NOW,
    warn_at: NOW + 240_000,
    due_at: NOW + 300_000,
    paused: false,
    warned_at: null,
    breached_at: null,
    stopped_at: null,
    ...overrides,
  };
}

describe('SLA clocks', () => {
  it('shows the first running response clock, else the running resolution clock', () => {
    const resolution = clock({ kind: 'resolution', due_at: NOW + 86_400_000 });
    const first = clock({ kind: 'first_response', stopped_at: NOW + 60_000 });
    const next = clock({ kind: 'next_response', started_at: NOW + 120_000 });
    expect(runningSlaClock({ sla: [resolution, first, next] })).toBe(next);
    expect(runningSlaClock({ sla: [resolution, first] })).toBe(resolution);
    expect(runningSlaClock({ sla: [first, { ...resolution, stopped_at: NOW }] })).toBeNull();
    expect(runningSlaClock({ sla: [] })).toBeNull();
    expect(runningSlaClock({})).toBeNull();
  });

  it('formats a stopwatch reading', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(7)).toBe('0:07');
    expect(formatClock(252)).toBe('4:12');
    expect(formatClock(3723)).toBe('1:02:03');
    expect(formatClock(2 * 86_400 + 3 * 3600 + 5)).toBe('2d 3h');
    expect(formatClock(-5)).toBe('0:00');
  });

  it('counts down to due_at, warns after warn_at, then counts how overdue', () => {
    const c = clock();
    expect(slaView(c, NOW + 47_500)).toEqual({ kind: 'first_response', tone: 'ok', text: 'First response due in 4:13' });
    expect(slaView(c, NOW + 48_000)).toMatchObject({ text: 'First response due in 4:12' });
    expect(slaView(c, NOW + 250_000)).toMatchObject({ tone: 'warn', text: 'First response due in 0:50' });
    expect(slaView(c, NOW + 300_000)).toMatchObject({ tone: 'overdue', text: 'First response overdue by 0:00' });
    expect(slaView(c, NOW + 365_900)).toMatchObject({ tone: 'overdue', text: 'First response overdue by 1:05' });
  });

  it('says paused, and nothing without a deadline', () => {
    expect(slaView(clock({ kind: 'next_response', paused: true }), NOW)).toEqual({
      kind: 'next_response',
      tone: 'paused',
      text: 'Next response paused',
    });
    expect(slaView(clock({ due_at: null }), NOW)).toBeNull();
    expect(slaView(clock({ kind: 'resolution', warn_at: null, due_at: NOW + 7_200_000 }), NOW)).toMatchObject({
      tone: 'ok',
      text: 'Resolution due in 2:00:00',
    });
  });
});

describe('format', () => {
  it('formatBytes gives human sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(900)).toBe('900 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(12 * 1024)).toBe('12 KB');
    expect(formatBytes(1_258_291)).toBe('1.2 MB');
    expect(formatBytes(1024 * 1024)).toBe('1 MB');
    expect(formatBytes(3.4 * 1024 ** 3)).toBe('3.4 GB');
    expect(formatBytes(-1)).toBe('');
  });

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

  it('activeHandoff and transferNote only look at the open handoff', () => {
    const d = detail();
    d.handoffs = [
      handoff({ id: 100, transfer_note: '  Refund approved  ' }),
      handoff({ id: 101, requested_at: NOW, transfer_note: 'not this one' }),
    ];
    expect(activeHandoff(d)?.id).toBe(100);
    expect(transferNote(d)).toBe('Refund approved');
    d.handoffs[0].transfer_note = '   ';
    expect(transferNote(d)).toBeNull();
    d.handoffs = [legacyHandoff({ id: 100 })];
    expect(transferNote(d)).toBeNull();
    d.conversation.active_handoff_id = null;
    expect(activeHandoff(d)).toBeNull();
    expect(transferNote(d)).toBeNull();
  });

  it('conversationLabels treats missing labels as none and drops blanks and repeats', () => {
    expect(conversationLabels(conversation({ labels: ['vip', ' refund ', 'vip', '', 'refund'] }))).toEqual(['vip', 'refund']);
    expect(conversationLabels({})).toEqual([]);
    expect(conversationLabels({ labels: null as unknown as string[] })).toEqual([]);
  });

  it('charCount counts code points', () => {
    expect(charCount('👋🏽a')).toBe(3);
  });

  it('triggerLabel words every trigger', () => {
    expect(triggerLabel({ trigger: 'repeated_failure', requested_by: 'bot:rules' })).toBe('Bot could not help');
    expect(triggerLabel({ trigger: 'api', requested_by: 'n8n' })).toBe('Handed off by n8n');
  });

  it('formatDuration is compact', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(400)).toBe('0s');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(125_000)).toBe('2m 5s');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(3_780_000)).toBe('1h 3m');
    expect(formatDuration(2 * 86_400_000 + 4 * 3_600_000 + 59_000)).toBe('2d 4h');
    expect(formatDuration(-5_000)).toBe('0s');
  });

  it('percent and sentiment', () => {
    expect(formatPercent(0.995)).toBe('100%');
    expect(formatPercent(1.7)).toBe('100%');
    expect(sentimentWord(-0.5)).toBe('negative');
    expect(sentimentWord(-0.49)).toBe('slightly negative');
    expect(sentimentWord(-0.001)).toBe('neutral'); // shown as 0.00
    expect(sentimentWord(0.01)).toBe('positive');
    expect(formatSentiment(-0.001)).toBe('0.00');
    expect(formatSentiment(0.456)).toBe('+0.46');
  });

  it('formatValue renders free-form values readably', () => {
    expect(formatValue(true)).toBe('Yes');
    expect(formatValue(false)).toBe('No');
    expect(formatValue(12)).toBe('12');
    expect(formatValue('')).toBe('—');
    expect(formatValue([])).toBe('—');
    expect(formatValue(['a', 2, true, { b: 1 }])).toBe('a, 2, Yes, {"b":1}');
    expect(formatValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(fieldEntries(undefined)).toEqual([]);
    expect(fieldEntries({ x: 1 })).toEqual([['x', 1]]);
  });

  it('handoffTimeline keeps the steps that happened and the gaps between them', () => {
    const t = handoffTimeline(
      handoff({ requested_at: 1_000, assigned_at: null, first_response_at: 61_000, resolved_at: 62_000, returned_at: null }),
    );
    expect(t.map((s) => [s.step, s.sincePrevious])).toEqual([
      ['requested', null],
      ['first_response', 60_000],
      ['resolved', 1_000],
    ]);
    expect(handoffTimeline(legacyHandoff({ assigned_at: null })).map((s) => s.step)).toEqual(['requested']);
  });

  it('earlierHandoffs is every other handoff, newest first', () => {
    const a = handoff({ id: 1, requested_at: 10 });
    const b = handoff({ id: 2, requested_at: 30 });
    const c = handoff({ id: 3, requested_at: 20 });
    expect(earlierHandoffs([a, b, c], b).map((h) => h.id)).toEqual([3, 1]);
  });
});

describe('manager console formats', () => {
  it('formatRate: one decimal, no trailing zero', () => {
    expect(formatRate(0.125)).toBe('12.5%');
    expect(formatRate(0.08)).toBe('8%');
    expect(formatRate(1 / 3)).toBe('33.3%');
    expect(formatRate(0)).toBe('0%');
    expect(formatRate(Number.NaN)).toBe('—');
    expect(formatRate(null)).toBe('—');
  });

  it('formatAgo and formatDurationOrDash', () => {
    const now = 10_000_000;
    expect(formatAgo(now - 30_000, now)).toBe('just now');
    expect(formatAgo(now - 5 * 60_000, now)).toBe('5m ago');
    expect(formatAgo(now - 130 * 60_000, now)).toBe('2h 10m ago');
    expect(formatAgo(now - 120 * 60_000, now)).toBe('2h ago');
    expect(formatAgo(now - 3 * 86_400_000, now)).toBe('3d ago');
    expect(formatAgo(null, now)).toBe('never');
    expect(formatDurationOrDash(125_000)).toBe('2m 5s');
    expect(formatDurationOrDash(null)).toBe('—');
  });

  it('formatCountdownPrecise: seconds under a minute, minutes and seconds under ten minutes', () => {
    expect(formatCountdownPrecise(19_000)).toBe('19s');
    expect(formatCountdownPrecise(18_200)).toBe('19s'); // rounded up, like every countdown
    expect(formatCountdownPrecise(1)).toBe('1s');
    expect(formatCountdownPrecise(0)).toBe('1s');
    expect(formatCountdownPrecise(Number.NaN)).toBe('1s');
    expect(formatCountdownPrecise(59_000)).toBe('59s');
    expect(formatCountdownPrecise(60_000)).toBe('1m 00s');
    expect(formatCountdownPrecise(4 * 60_000 + 5_000)).toBe('4m 05s');
    expect(formatCountdownPrecise(9 * 60_000 + 59_000)).toBe('9m 59s');
    expect(formatCountdownPrecise(9 * 60_000 + 59_500)).toBe('10m');
    // Ten minutes and more: as before.
    expect(formatCountdownPrecise(10 * 60_000)).toBe('10m');
    expect(formatCountdownPrecise(12 * 60_000)).toBe('12m');
    expect(formatCountdownPrecise(65 * 60_000)).toBe('1h 5m');
    expect(formatCountdownPrecise(2 * 3_600_000)).toBe('2h');
  });

  it('histogramBinLabel and triggerName', () => {
    const bins = [{ le_ms: 60_000 }, { le_ms: 3_600_000 }, { le_ms: null }];
    expect(histogramBinLabel(bins, 0)).toBe('≤ 1m');
    expect(histogramBinLabel(bins, 1)).toBe('1m–1h');
    expect(histogramBinLabel(bins, 2)).toBe('> 1h');
    expect(histogramBinLabel([{ le_ms: null }], 0)).toBe('All');
    expect(histogramBinLabel(bins, 5)).toBe('');
    expect(triggerName('api')).toBe('API / workflow');
    expect(triggerName('low_confidence')).toBe('Bot not confident');
    expect(triggerName('brand_new_trigger')).toBe('Brand new trigger');
  });
});

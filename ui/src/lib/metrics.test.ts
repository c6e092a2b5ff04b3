import { describe, expect, it } from 'vitest';
import { bucketFor, buildMetricsQuery, dateInputValue, defaultFilters, parseDateInput, periodRange } from './metrics';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = new Date(2025, 2, 12, 15, 30).getTime();

describe('metrics filters', () => {
  it('preset periods end now', () => {
    expect(periodRange({ period: '24h', customFrom: '', customTo: '' }, now)).toEqual({ from: now - DAY, to: now });
    expect(periodRange({ period: '7d', customFrom: '', customTo: '' }, now)).toEqual({ from: now - 7 * DAY, to: now });
    expect(periodRange({ period: '30d', customFrom: '', customTo: '' }, now)).toEqual({ from: now - 30 * DAY, to: now });
  });

  it('a custom range runs from the start of its first day to the start of the day after its last', () => {
    const range = periodRange({ period: 'custom', customFrom: '2025-03-01', customTo: '2025-03-03' }, now);
    expect(range).toEqual({ from: new Date(2025, 2, 1).getTime(), to: new Date(2025, 2, 4).getTime() });
    // One day.
    expect(periodRange({ period: 'custom', customFrom: '2025-03-03', customTo: '2025-03-03' }, now)).toEqual({
      from: new Date(2025, 2, 3).getTime(),
      to: new Date(2025, 2, 4).getTime(),
    });
    // Backwards or incomplete: no query.
    expect(periodRange({ period: 'custom', customFrom: '2025-03-05', customTo: '2025-03-03' }, now)).toBeNull();
    expect(periodRange({ period: 'custom', customFrom: '', customTo: '2025-03-03' }, now)).toBeNull();
  });

  it('parses only real dates', () => {
    expect(parseDateInput('2025-02-30')).toBeNull();
    expect(parseDateInput('12/03/2025')).toBeNull();
    expect(dateInputValue(new Date(2025, 0, 5, 23, 59).getTime())).toBe('2025-01-05');
  });

  it('picks hourly, daily or weekly points', () => {
    expect(bucketFor(DAY)).toBe(HOUR);
    expect(bucketFor(7 * DAY)).toBe(DAY);
    expect(bucketFor(30 * DAY)).toBe(DAY);
    expect(bucketFor(200 * DAY)).toBe(7 * DAY);
  });

  it('the query carries only the filters that are set', () => {
    expect(buildMetricsQuery(defaultFilters(now), now)).toEqual({ from: now - 7 * DAY, to: now, bucket_ms: DAY });
    expect(
      buildMetricsQuery(
        { ...defaultFilters(now), period: '24h', teamId: 2, agentId: 8, priority: 'high', trigger: 'keyword', businessHours: true },
        now,
      ),
    ).toEqual({
      from: now - DAY,
      to: now,
      bucket_ms: HOUR,
      team_id: 2,
      agent_id: 8,
      priority: 'high',
      trigger: 'keyword',
      business_hours: true,
    });
    expect(buildMetricsQuery({ ...defaultFilters(now), period: 'custom', customFrom: 'x' }, now)).toBeNull();
  });
});

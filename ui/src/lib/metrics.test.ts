import { describe, expect, it } from 'vitest';
import { bucketFor, buildMetricsQuery, dateInputValue, defaultFilters, parseDateInput, periodRange } from './metrics';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = new Date(2025, 2, 12, 15, 30).getTime();

describe('metrics filters', () => {
  it('preset periods end now and start on a whole hour or local day', () => {
    const d = new Date(now);
    const day = (back: number) => new Date(d.getFullYear(), d.getMonth(), d.getDate() - back).getTime();
    const hour = Math.floor(now / HOUR) * HOUR;
    // This hour and the 23 before it; today and the 6 (29) days before it.
    expect(periodRange({ period: '24h', customFrom: '', customTo: '' }, now)).toEqual({ from: hour - 23 * HOUR, to: now });
    expect(periodRange({ period: '7d', customFrom: '', customTo: '' }, now)).toEqual({ from: day(6), to: now });
    expect(periodRange({ period: '30d', customFrom: '', customTo: '' }, now)).toEqual({ from: day(29), to: now });
    expect(new Date(day(6)).getHours()).toBe(0);
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
    const d = new Date(now);
    const weekStart = new Date(d.getFullYear(), d.getMonth(), d.getDate() - 6).getTime();
    const dayStart = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
    expect(buildMetricsQuery(defaultFilters(now), now)).toEqual({ from: weekStart, to: now, bucket_ms: DAY });
    expect(
      buildMetricsQuery(
        { ...defaultFilters(now), period: '24h', teamId: 2, agentId: 8, priority: 'high', trigger: 'keyword', businessHours: true },
        now,
      ),
    ).toEqual({
      from: dayStart,
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

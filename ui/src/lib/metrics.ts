// The metrics view's period and filters, as the query the server reads.

import type { HandoffTrigger, MetricsQuery, Priority } from './types';

export type PeriodId = '24h' | '7d' | '30d' | 'custom';

const HOUR = 3_600_000;
const DAY = 86_400_000;

export const PERIODS: readonly { id: PeriodId; label: string; ms: number | null }[] = [
  { id: '24h', label: 'Last 24 hours', ms: DAY },
  { id: '7d', label: 'Last 7 days', ms: 7 * DAY },
  { id: '30d', label: 'Last 30 days', ms: 30 * DAY },
  { id: 'custom', label: 'Custom range', ms: null },
];

export function isPeriodId(value: unknown): value is PeriodId {
  return PERIODS.some((p) => p.id === value);
}

export const PRIORITIES: readonly Priority[] = ['urgent', 'high', 'normal', 'low'];

export const TRIGGERS: readonly HandoffTrigger[] = [
  'customer_request',
  'keyword',
  'low_confidence',
  'repeated_failure',
  'negative_sentiment',
  'contact_rule',
  'api',
  'lead',
];

export interface MetricsFilters {
  period: PeriodId;
  /** `YYYY-MM-DD` (local), the first day of a custom range. */
  customFrom: string;
  /** `YYYY-MM-DD` (local), the last day of a custom range (included). */
  customTo: string;
  teamId: number | null;
  agentId: number | null;
  priority: Priority | null;
  trigger: HandoffTrigger | null;
  businessHours: boolean;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A local date as `<input type="date">` holds it. */
export function dateInputValue(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Local midnight of a `YYYY-MM-DD` date; null when it is not one. */
export function parseDateInput(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const date = new Date(y, mo, d);
  if (date.getFullYear() !== y || date.getMonth() !== mo || date.getDate() !== d) return null;
  return date.getTime();
}

/** Local midnight of the day after `dayStart` (DST-safe). */
function nextDay(dayStart: number): number {
  const d = new Date(dayStart);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
}

/** The filters a view opens with: the last 7 days, everything, a custom range of the same week prefilled. */
export function defaultFilters(now: number = Date.now()): MetricsFilters {
  return {
    period: '7d',
    customFrom: dateInputValue(now - 6 * DAY),
    customTo: dateInputValue(now),
    teamId: null,
    agentId: null,
    priority: null,
    trigger: null,
    businessHours: false,
  };
}

/** Local midnight `days` days before the day of `now` (0: today's). */
function dayStart(now: number, days: number): number {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - days).getTime();
}

/**
 * The period's `[from, to)`. A preset ends at `now` and starts on a boundary of its
 * points, so each point is a whole local day (or clock hour) and the last one is today
 * (or this hour): "last 7 days" is today and the six days before. A custom range runs
 * from the start of its first day to the start of the day after its last. Null when a
 * custom range is incomplete or backwards.
 */
export function periodRange(filters: Pick<MetricsFilters, 'period' | 'customFrom' | 'customTo'>, now: number): { from: number; to: number } | null {
  const preset = PERIODS.find((p) => p.id === filters.period);
  if (preset && preset.ms !== null) {
    if (preset.ms <= 2 * DAY) {
      const hours = Math.round(preset.ms / HOUR);
      const hourStart = Math.floor(now / HOUR) * HOUR;
      return { from: hourStart - (hours - 1) * HOUR, to: now };
    }
    return { from: dayStart(now, Math.round(preset.ms / DAY) - 1), to: now };
  }
  const from = parseDateInput(filters.customFrom);
  const last = parseDateInput(filters.customTo);
  if (from === null || last === null) return null;
  const to = nextDay(last);
  return from < to ? { from, to } : null;
}

/** Hourly points up to two days, daily up to ~three months, weekly beyond. */
export function bucketFor(spanMs: number): number {
  if (spanMs <= 2 * DAY) return HOUR;
  if (spanMs <= 92 * DAY) return DAY;
  return 7 * DAY;
}

/** The query for the filters at `now`; null when the period is not valid (a custom range being typed). */
export function buildMetricsQuery(filters: MetricsFilters, now: number): MetricsQuery | null {
  const range = periodRange(filters, now);
  if (!range) return null;
  const query: MetricsQuery = { from: range.from, to: range.to, bucket_ms: bucketFor(range.to - range.from) };
  if (filters.teamId !== null) query.team_id = filters.teamId;
  if (filters.agentId !== null) query.agent_id = filters.agentId;
  if (filters.priority !== null) query.priority = filters.priority;
  if (filters.trigger !== null) query.trigger = filters.trigger;
  if (filters.businessHours) query.business_hours = true;
  return query;
}

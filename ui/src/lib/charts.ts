// The metrics charts as data: Chart.js configurations built from a report and the
// theme's colours, plus a sentence for each chart (its text equivalent). Chart.js
// itself is only touched by ChartView.svelte; everything here is plain and tested.

import type { ChartConfiguration, ChartOptions } from 'chart.js';
import { formatDurationOrDash, formatRate, histogramBinLabel, triggerName } from './format';
import type { Distribution, MetricsReport, ReturnedShare, TriggerCount, WorkflowCounts } from './types';

// ---- colours -----------------------------------------------------------------------

/** The colours a chart draws with, read from the current theme's CSS variables. */
export interface ChartPalette {
  /** Axis labels and legend. */
  text: string;
  grid: string;
  surface: string;
  accent: string;
  ok: string;
  warn: string;
  danger: string;
  info: string;
  brand: string;
  muted: string;
}

/** Which CSS variable (app.css) each colour comes from. */
export const PALETTE_VARS: Record<keyof ChartPalette, string> = {
  text: '--text-2',
  grid: '--border',
  surface: '--surface',
  accent: '--accent',
  ok: '--ok',
  warn: '--warn',
  danger: '--danger',
  info: '--info',
  brand: '--brand',
  muted: '--text-3',
};

/** app.css's values, for when the stylesheet is not there to read (tests, a failed load). */
export const FALLBACK_PALETTES: Record<'light' | 'dark', ChartPalette> = {
  light: {
    text: '#4a5160',
    grid: '#e3e6eb',
    surface: '#ffffff',
    accent: '#4f46e5',
    ok: '#15803d',
    warn: '#b45309',
    danger: '#c81e1e',
    info: '#2563eb',
    brand: '#0d9488',
    muted: '#646b7a',
  },
  dark: {
    text: '#aeb4c0',
    grid: '#272c36',
    surface: '#16191f',
    accent: '#5b54e6',
    ok: '#4ade80',
    warn: '#fbbf24',
    danger: '#f87171',
    info: '#60a5fa',
    brand: '#2dd4bf',
    muted: '#8a92a1',
  },
};

/** The palette of the theme `root` shows now (`data-theme`), from its CSS variables. */
export function readPalette(root: HTMLElement | undefined = globalThis.document?.documentElement): ChartPalette {
  const theme = root?.dataset.theme === 'dark' ? 'dark' : 'light';
  const fallback = FALLBACK_PALETTES[theme];
  if (!root || typeof getComputedStyle !== 'function') return { ...fallback };
  const style = getComputedStyle(root);
  const out = { ...fallback };
  for (const key of Object.keys(PALETTE_VARS) as (keyof ChartPalette)[]) {
    const value = style.getPropertyValue(PALETTE_VARS[key]).trim();
    if (value !== '') out[key] = value;
  }
  return out;
}

/** `#rgb` / `#rrggbb` / `rgb(...)` with an alpha, as `rgba(...)`; anything else unchanged. */
export function withAlpha(color: string, alpha: number): string {
  const a = Math.min(1, Math.max(0, alpha));
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (hex) {
    const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join('') : hex[1];
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${a})`;
  }
  const rgb = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/i.exec(color.trim());
  if (rgb) return `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${a})`;
  return color;
}

// ---- labels ----------------------------------------------------------------------------

const DAY = 86_400_000;

const dayFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const hourFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayHourFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });

/** A point of the rate series: "14:00" (hourly, within a day), "12 Mar, 14:00" (hourly, longer), "12 Mar" (daily). */
export function bucketLabel(start: number, bucketMs: number, spanMs: number): string {
  const d = new Date(start);
  if (bucketMs >= DAY) return dayFmt.format(d);
  return spanMs <= DAY ? hourFmt.format(d) : dayHourFmt.format(d);
}

/** A ratio as a percentage number for an axis, to 0.1. */
function percent(ratio: number): number {
  return Number.isFinite(ratio) ? Math.round(ratio * 1000) / 10 : 0;
}

// ---- configurations -----------------------------------------------------------------------

function axes(p: ChartPalette, opts: { percent?: boolean; horizontal?: boolean; integer?: boolean } = {}) {
  const value = {
    beginAtZero: true,
    ticks: {
      color: p.text,
      precision: opts.integer ? 0 : undefined,
      callback: opts.percent ? (v: string | number) => `${v}%` : undefined,
    },
    grid: { color: p.grid },
    border: { color: p.grid },
  };
  const category = { ticks: { color: p.text, autoSkip: true, maxRotation: 0 }, grid: { display: false }, border: { color: p.grid } };
  return opts.horizontal ? { x: value, y: category } : { x: category, y: value };
}

function baseOptions(p: ChartPalette, legend: boolean) {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false as const,
    plugins: {
      legend: { display: legend, labels: { color: p.text, boxWidth: 12 } },
      tooltip: { backgroundColor: p.surface, titleColor: p.text, bodyColor: p.text, borderColor: p.grid, borderWidth: 1 },
    },
  };
}

/** The healthy band's two edges (percent), in order; null when the report has none. */
export function healthyBand(report: Pick<MetricsReport, 'healthy_band'>): [number, number] | null {
  const band = report.healthy_band;
  if (!Array.isArray(band) || band.length !== 2 || !band.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return null;
  }
  const [a, b] = band;
  return [percent(Math.min(a, b)), percent(Math.max(a, b))];
}

export const BAND_LOW_LABEL = 'Healthy band (low edge)';
export const BAND_LABEL = 'Healthy band';
export const RATE_LABEL = 'Escalation rate';

/**
 * The escalation rate per bucket (percent), over the healthy band drawn as a shaded area:
 * two flat datasets, the upper one filled down to the lower one (`fill: '-1'`); the low
 * edge is left out of the legend.
 */
export function escalationChart(report: MetricsReport, p: ChartPalette): ChartConfiguration<'line'> {
  const span = report.to - report.from;
  const labels = report.series.map((pt) => bucketLabel(pt.start, report.bucket_ms, span));
  const band = healthyBand(report);
  const datasets: ChartConfiguration<'line'>['data']['datasets'] = [];
  if (band) {
    datasets.push(
      {
        label: BAND_LOW_LABEL,
        data: labels.map(() => band[0]),
        borderColor: withAlpha(p.ok, 0.45),
        borderWidth: 1,
        borderDash: [4, 4],
        pointRadius: 0,
        pointHitRadius: 0,
        fill: false,
      },
      {
        label: BAND_LABEL,
        data: labels.map(() => band[1]),
        borderColor: withAlpha(p.ok, 0.45),
        borderWidth: 1,
        borderDash: [4, 4],
        backgroundColor: withAlpha(p.ok, 0.14),
        pointRadius: 0,
        pointHitRadius: 0,
        fill: '-1',
      },
    );
  }
  datasets.push({
    label: RATE_LABEL,
    data: report.series.map((pt) => percent(pt.rate)),
    borderColor: p.accent,
    backgroundColor: p.accent,
    borderWidth: 2,
    pointRadius: report.series.length > 60 ? 0 : 2.5,
    tension: 0.25,
    fill: false,
  });
  const base = baseOptions(p, band !== null);
  const options: ChartOptions<'line'> = {
    ...base,
    interaction: { mode: 'index', intersect: false },
    scales: axes(p, { percent: true }),
    plugins: {
      ...base.plugins,
      legend: {
        ...base.plugins.legend,
        labels: { ...base.plugins.legend.labels, filter: (item) => item.text !== BAND_LOW_LABEL },
      },
      tooltip: {
        ...base.plugins.tooltip,
        filter: (item) => item.dataset.label === RATE_LABEL,
        callbacks: {
          label: (item) => {
            const pt = report.series[item.dataIndex];
            return pt ? `${formatRate(pt.rate)} (${pt.handoffs} of ${pt.conversations})` : '';
          },
        },
      },
    },
  };
  return { type: 'line', data: { labels, datasets }, options };
}

/** Bar chart of a duration histogram. */
export function histogramChart(dist: Distribution, label: string, color: string, p: ChartPalette): ChartConfiguration<'bar'> {
  const labels = dist.histogram.map((_, i) => histogramBinLabel(dist.histogram, i));
  return {
    type: 'bar',
    data: {
      labels,
      datasets: [{ label, data: dist.histogram.map((b) => b.count), backgroundColor: color, borderRadius: 3 }],
    },
    options: { ...baseOptions(p, false), scales: axes(p, { integer: true }) },
  };
}

/** Triggers by handoffs, most first. */
export function sortedTriggers(byTrigger: readonly TriggerCount[]): TriggerCount[] {
  return [...byTrigger].sort((a, b) => b.handoffs - a.handoffs || a.trigger.localeCompare(b.trigger));
}

/** Handoffs per trigger (horizontal bars, most first). */
export function triggerChart(byTrigger: readonly TriggerCount[], p: ChartPalette): ChartConfiguration<'bar'> {
  const rows = sortedTriggers(byTrigger);
  return {
    type: 'bar',
    data: {
      labels: rows.map((r) => triggerName(r.trigger)),
      datasets: [{ label: 'Handoffs', data: rows.map((r) => r.handoffs), backgroundColor: p.brand, borderRadius: 3 }],
    },
    options: { ...baseOptions(p, false), indexAxis: 'y', scales: axes(p, { horizontal: true, integer: true }) },
  };
}

/** The returned-to-automation split: resolved by a person, timed out in the queue, still with a person. */
export function returnedRows(r: ReturnedShare): { label: string; handoffs: number }[] {
  const open = Math.max(0, r.handoffs - r.resolved - r.timed_out);
  return [
    { label: 'Resolved by a person', handoffs: r.resolved },
    { label: 'Timed out in the queue', handoffs: r.timed_out },
    { label: 'Still with a person', handoffs: open },
  ];
}

export function returnedChart(r: ReturnedShare, p: ChartPalette): ChartConfiguration<'bar'> {
  const rows = returnedRows(r);
  return {
    type: 'bar',
    data: {
      labels: rows.map((x) => x.label),
      datasets: [{ label: 'Handoffs', data: rows.map((x) => x.handoffs), backgroundColor: [p.ok, p.warn, p.accent], borderRadius: 3 }],
    },
    options: { ...baseOptions(p, false), indexAxis: 'y', scales: axes(p, { horizontal: true, integer: true }) },
  };
}

/** Workflow executions by status, in a fixed order. */
export function workflowRows(w: WorkflowCounts): { label: string; executions: number }[] {
  return [
    { label: 'Active', executions: w.active },
    { label: 'Handed off', executions: w.handoff },
    { label: 'Failed', executions: w.failed },
    { label: 'Resolved', executions: w.resolved },
  ];
}

export function workflowChart(w: WorkflowCounts, p: ChartPalette): ChartConfiguration<'bar'> {
  const rows = workflowRows(w);
  return {
    type: 'bar',
    data: {
      labels: rows.map((x) => x.label),
      datasets: [
        { label: 'Executions', data: rows.map((x) => x.executions), backgroundColor: [p.info, p.warn, p.danger, p.ok], borderRadius: 3 },
      ],
    },
    options: { ...baseOptions(p, false), scales: axes(p, { integer: true }) },
  };
}

// ---- text equivalents ------------------------------------------------------------------------

/** Where the rate stands against the healthy band. */
export function bandStatus(report: Pick<MetricsReport, 'healthy_band' | 'escalation_rate' | 'conversations'>): 'below' | 'within' | 'above' | null {
  const band = healthyBand(report);
  if (!band || report.conversations <= 0) return null;
  const rate = percent(report.escalation_rate);
  if (rate < band[0]) return 'below';
  if (rate > band[1]) return 'above';
  return 'within';
}

export function escalationSummary(report: MetricsReport): string {
  const band = healthyBand(report);
  const parts = [`Escalation rate ${formatRate(report.escalation_rate)} (${report.handoffs} handoffs of ${report.conversations} conversations)`];
  if (band) parts.push(`healthy band ${band[0]}% to ${band[1]}%`);
  const points = report.series.filter((pt) => pt.conversations > 0);
  if (points.length > 0) {
    const span = report.to - report.from;
    const low = points.reduce((a, b) => (b.rate < a.rate ? b : a));
    const high = points.reduce((a, b) => (b.rate > a.rate ? b : a));
    parts.push(
      `lowest ${formatRate(low.rate)} at ${bucketLabel(low.start, report.bucket_ms, span)}`,
      `highest ${formatRate(high.rate)} at ${bucketLabel(high.start, report.bucket_ms, span)}`,
    );
  } else {
    parts.push('no conversations in the period');
  }
  return `${parts.join('; ')}.`;
}

export function distributionSummary(name: string, dist: Distribution): string {
  if (dist.count <= 0) return `${name}: no data in the period.`;
  const bins = dist.histogram
    .map((b, i) => `${histogramBinLabel(dist.histogram, i)}: ${b.count}`)
    .join(', ');
  return `${name}: ${dist.count} handoffs, median ${formatDurationOrDash(dist.median_ms)}, 90th percentile ${formatDurationOrDash(dist.p90_ms)}${bins ? `; ${bins}` : ''}.`;
}

export function triggerSummary(byTrigger: readonly TriggerCount[]): string {
  const rows = sortedTriggers(byTrigger);
  if (rows.length === 0) return 'Handoffs per trigger: none in the period.';
  return `Handoffs per trigger: ${rows.map((r) => `${triggerName(r.trigger)} ${r.handoffs}`).join(', ')}.`;
}

export function returnedSummary(r: ReturnedShare): string {
  const rows = returnedRows(r);
  return `Returned to automation: ${formatRate(r.share)} of ${r.handoffs} handoffs; ${rows.map((x) => `${x.label.toLowerCase()} ${x.handoffs}`).join(', ')}.`;
}

export function workflowSummary(w: WorkflowCounts): string {
  return `Workflow executions: ${workflowRows(w)
    .map((x) => `${x.label.toLowerCase()} ${x.executions}`)
    .join(', ')}.`;
}

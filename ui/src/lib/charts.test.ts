import { afterEach, describe, expect, it } from 'vitest';
import {
  BAND_LABEL,
  BAND_LOW_LABEL,
  FALLBACK_PALETTES,
  RATE_LABEL,
  bandStatus,
  distributionSummary,
  escalationChart,
  escalationSummary,
  healthyBand,
  histogramChart,
  readPalette,
  returnedChart,
  returnedRows,
  triggerChart,
  triggerSummary,
  withAlpha,
  workflowChart,
} from './charts';
import { metricsReport } from '../test/fixtures';

const light = FALLBACK_PALETTES.light;

describe('escalationChart', () => {
  const report = metricsReport();

  it('plots the rate per point in percent, over the healthy band as a filled area', () => {
    const config = escalationChart(report, light);
    expect(config.type).toBe('line');
    expect(config.data.labels).toHaveLength(7);
    const [low, high, rate] = config.data.datasets;
    expect(low.label).toBe(BAND_LOW_LABEL);
    expect(low.data).toEqual([5, 5, 5, 5, 5, 5, 5]);
    expect(low.fill).toBe(false);
    expect(high.label).toBe(BAND_LABEL);
    expect(high.data).toEqual([20, 20, 20, 20, 20, 20, 20]);
    // The upper edge fills down to the lower one: the shaded band.
    expect(high.fill).toBe('-1');
    expect(high.backgroundColor).toBe('rgba(21, 128, 61, 0.14)');
    expect(rate.label).toBe(RATE_LABEL);
    expect(rate.data).toEqual(report.series.map((p) => Math.round(p.rate * 1000) / 10));
    expect(rate.data[0]).toBe(10);
    expect(rate.borderColor).toBe(light.accent);
  });

  it('draws in the palette it is given (the theme)', () => {
    const dark = FALLBACK_PALETTES.dark;
    const config = escalationChart(report, dark);
    expect(config.data.datasets[2].borderColor).toBe(dark.accent);
    const y = config.options?.scales?.y as { ticks: { color: string }; grid: { color: string } };
    expect(y.ticks.color).toBe(dark.text);
    expect(y.grid.color).toBe(dark.grid);
  });

  it('leaves the band out of the legend and the tooltip', () => {
    const config = escalationChart(report, light);
    const filter = config.options?.plugins?.legend?.labels?.filter as (item: { text: string }) => boolean;
    expect(filter({ text: BAND_LOW_LABEL })).toBe(false);
    expect(filter({ text: BAND_LABEL })).toBe(true);
  });

  it('a band given upside down is put in order; no band, no band datasets', () => {
    expect(healthyBand({ healthy_band: [0.2, 0.05] })).toEqual([5, 20]);
    const config = escalationChart(metricsReport({ healthy_band: [Number.NaN, 1] as [number, number] }), light);
    expect(config.data.datasets.map((d) => d.label)).toEqual([RATE_LABEL]);
  });

  it('says where the rate stands against the band', () => {
    expect(bandStatus(report)).toBe('within');
    expect(bandStatus(metricsReport({ escalation_rate: 0.31 }))).toBe('above');
    expect(bandStatus(metricsReport({ escalation_rate: 0.01 }))).toBe('below');
    expect(bandStatus(metricsReport({ conversations: 0 }))).toBeNull();
  });

  it('has a text equivalent', () => {
    const text = escalationSummary(report);
    expect(text).toContain('Escalation rate 12.5% (50 handoffs of 400 conversations)');
    expect(text).toContain('healthy band 5% to 20%');
    expect(text).toContain('lowest 10%');
    expect(text).toContain('highest 17.7%');
  });
});

describe('the other charts', () => {
  const report = metricsReport();

  it('histograms: one bar per bin, labelled by its bounds', () => {
    const config = histogramChart(report.first_response, 'Handoffs', light.accent, light);
    expect(config.data.labels).toEqual(['≤ 1m', '1m–5m', '5m–1h', '> 1h']);
    expect(config.data.datasets[0].data).toEqual([10, 25, 10, 3]);
    expect(distributionSummary('First response', report.first_response)).toBe(
      'First response: 48 handoffs, median 2m 5s, 90th percentile 10m; ≤ 1m: 10, 1m–5m: 25, 5m–1h: 10, > 1h: 3.',
    );
    expect(distributionSummary('Resolution', { count: 0, median_ms: null, p90_ms: null, histogram: [] })).toBe(
      'Resolution: no data in the period.',
    );
  });

  it('triggers: most handoffs first, in words', () => {
    const config = triggerChart(report.by_trigger, light);
    expect(config.data.labels).toEqual(['Customer asked for a person', 'Keyword / intent', 'Bot not confident']);
    expect(config.data.datasets[0].data).toEqual([30, 12, 8]);
    expect(config.options?.indexAxis).toBe('y');
    expect(triggerSummary(report.by_trigger)).toBe(
      'Handoffs per trigger: Customer asked for a person 30, Keyword / intent 12, Bot not confident 8.',
    );
  });

  it('returned to automation and workflows', () => {
    expect(returnedRows(report.returned)).toEqual([
      { label: 'Resolved by a person', handoffs: 35 },
      { label: 'Timed out in the queue', handoffs: 5 },
      { label: 'Still with a person', handoffs: 10 },
    ]);
    expect(returnedChart(report.returned, light).data.datasets[0].data).toEqual([35, 5, 10]);
    expect(workflowChart(report.workflows, light).data.datasets[0].data).toEqual([120, 6, 2, 300]);
  });
});

describe('colours', () => {
  afterEach(() => {
    document.documentElement.removeAttribute('data-theme');
    document.documentElement.style.removeProperty('--accent');
  });

  it('adds an alpha to hex and rgb colours', () => {
    expect(withAlpha('#4f46e5', 0.5)).toBe('rgba(79, 70, 229, 0.5)');
    expect(withAlpha('#fff', 1)).toBe('rgba(255, 255, 255, 1)');
    expect(withAlpha('rgb(1, 2, 3)', 0.2)).toBe('rgba(1, 2, 3, 0.2)');
    expect(withAlpha('teal', 0.2)).toBe('teal');
  });

  it("reads the theme's CSS variables, falling back to the theme's defaults", () => {
    const root = document.documentElement;
    expect(readPalette(root)).toEqual(light);
    root.dataset.theme = 'dark';
    expect(readPalette(root)).toEqual(FALLBACK_PALETTES.dark);
    root.style.setProperty('--accent', '#123456');
    expect(readPalette(root).accent).toBe('#123456');
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import type { ChartConfiguration } from 'chart.js';
import Metrics from './Metrics.svelte';
import { Inbox } from '../lib/inbox.svelte';
import { BackendError } from '../lib/errors';
import { FALLBACK_PALETTES } from '../lib/charts';
import { FakeBackend } from '../test/fakeBackend';
import { NOW, breachItem, breachReport, colleagues, managerSession, team } from '../test/fixtures';

// jsdom has no canvas: Chart.js would only log that it cannot draw. A stand-in records
// what each chart was given (the data shaping itself is tested in lib/charts.test.ts).
const charts = vi.hoisted(() => ({ made: [] as { canvas: HTMLCanvasElement; config: ChartConfiguration; destroyed: boolean }[] }));

vi.mock('chart.js', () => {
  class Chart {
    static register = () => {};
    canvas: HTMLCanvasElement;
    config: ChartConfiguration;
    destroyed = false;
    constructor(canvas: HTMLCanvasElement, config: ChartConfiguration) {
      this.canvas = canvas;
      this.config = config;
      charts.made.push(this);
    }
    destroy() {
      this.destroyed = true;
    }
  }
  const piece = {};
  return {
    Chart,
    BarController: piece,
    BarElement: piece,
    CategoryScale: piece,
    Filler: piece,
    Legend: piece,
    LineController: piece,
    LineElement: piece,
    LinearScale: piece,
    PointElement: piece,
    Tooltip: piece,
  };
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The live chart drawn in the box `chart-<name>`. */
function chartIn(testid: string) {
  const canvas = screen.getByTestId(testid).querySelector('canvas');
  const live = charts.made.filter((c) => c.canvas === canvas && !c.destroyed);
  return live[live.length - 1];
}

async function setup() {
  const backend = new FakeBackend({
    session: managerSession,
    agents: colleagues,
    teams: [team(), team({ id: 2, name: 'Billing', is_default: false })],
  });
  const inbox = new Inbox(backend);
  await inbox.start();
  const onopen = vi.fn();
  render(Metrics, { inbox, onopen });
  await screen.findByTestId('kpi-rate');
  return { backend, inbox, onopen, user: userEvent.setup() };
}

describe('Metrics', () => {
  beforeEach(() => {
    charts.made = [];
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
  });

  afterEach(() => {
    vi.useRealTimers();
    document.documentElement.removeAttribute('data-theme');
  });

  it("shows the report's figures: rate against the band, median and p90, returned share", async () => {
    await setup();
    expect(screen.getByTestId('kpi-conversations')).toHaveTextContent('400');
    expect(screen.getByTestId('kpi-handoffs')).toHaveTextContent('50');
    expect(screen.getByTestId('kpi-rate')).toHaveTextContent('12.5%');
    expect(screen.getByTestId('kpi-band')).toHaveTextContent('Within the healthy 5–20%');
    expect(screen.getByTestId('kpi-first-response')).toHaveTextContent('2m 5s');
    expect(screen.getByTestId('first-response-stats')).toHaveTextContent('Median 2m 5s · 90th percentile 10m · 48 handoffs');
    expect(screen.getByTestId('resolution-stats')).toHaveTextContent('Median 50m · 90th percentile 3h · 40 handoffs');
    expect(screen.getByTestId('kpi-returned')).toHaveTextContent('80%');
    expect(screen.getByTestId('returned-stats')).toHaveTextContent('80% of 50 handoffs are back with automation');
  });

  it('draws each chart with a text equivalent; the rate chart has the healthy band', async () => {
    await setup();
    for (const id of ['chart-escalation', 'chart-first-response', 'chart-resolution', 'chart-triggers']) {
      expect(screen.getByTestId(id)).toHaveAttribute('role', 'img');
      expect(chartIn(id)).toBeDefined();
    }
    expect(screen.getByTestId('chart-escalation')).toHaveAccessibleName(/^Escalation rate 12.5% \(50 handoffs of 400 conversations\); healthy band 5% to 20%/);
    expect(screen.getByTestId('chart-first-response')).toHaveAccessibleName(/median 2m 5s, 90th percentile 10m/);
    const rate = chartIn('chart-escalation').config as ChartConfiguration<'line'>;
    expect(rate.type).toBe('line');
    expect(rate.data.datasets.map((d) => d.label)).toEqual(['Healthy band (low edge)', 'Healthy band', 'Escalation rate']);
    expect(rate.data.datasets[1].fill).toBe('-1');
    expect(chartIn('chart-triggers').config.data.datasets[0].data).toEqual([30, 12, 8]);
  });

  it('draws again in the colours of the theme when the theme changes', async () => {
    await setup();
    expect(chartIn('chart-escalation').config.data.datasets[2].borderColor).toBe(FALLBACK_PALETTES.light.accent);
    document.documentElement.dataset.theme = 'dark';
    await waitFor(() =>
      expect(chartIn('chart-escalation').config.data.datasets[2].borderColor).toBe(FALLBACK_PALETTES.dark.accent),
    );
    const y = chartIn('chart-triggers').config.options?.scales?.x as { ticks: { color: string } };
    expect(y.ticks.color).toBe(FALLBACK_PALETTES.dark.text);
    // The old charts were let go.
    expect(charts.made.filter((c) => !c.destroyed)).toHaveLength(6);
  });

  it('asks for the last 7 days at first; the filters make the query', async () => {
    const { backend, user } = await setup();
    const d = new Date(NOW);
    const weekStart = new Date(d.getFullYear(), d.getMonth(), d.getDate() - 6).getTime();
    const dayStart = Math.floor(NOW / HOUR) * HOUR - 23 * HOUR;
    expect(backend.metrics).toHaveBeenLastCalledWith({ from: weekStart, to: NOW, bucket_ms: DAY });
    expect(backend.breaches).toHaveBeenLastCalledWith({ from: weekStart, to: NOW, bucket_ms: DAY });

    await user.selectOptions(screen.getByTestId('metrics-period'), '24h');
    await waitFor(() => expect(backend.metrics).toHaveBeenLastCalledWith({ from: dayStart, to: NOW, bucket_ms: HOUR }));

    await waitFor(() => expect(within(screen.getByTestId('metrics-team')).getAllByRole('option')).toHaveLength(3));
    await user.selectOptions(screen.getByTestId('metrics-team'), '2');
    await user.click(screen.getByLabelText('Business hours only'));
    await waitFor(() =>
      expect(backend.metrics).toHaveBeenLastCalledWith({
        from: dayStart,
        to: NOW,
        bucket_ms: HOUR,
        team_id: 2,
        business_hours: true,
      }),
    );
    expect(backend.breaches).toHaveBeenLastCalledWith(backend.metrics.mock.lastCall![0]);

    await user.selectOptions(screen.getByTestId('metrics-agent'), '8');
    await user.selectOptions(screen.getByTestId('metrics-priority'), 'urgent');
    await user.selectOptions(screen.getByTestId('metrics-trigger'), 'keyword');
    await waitFor(() =>
      expect(backend.metrics).toHaveBeenLastCalledWith(
        expect.objectContaining({ team_id: 2, agent_id: 8, priority: 'urgent', trigger: 'keyword', business_hours: true }),
      ),
    );
  });

  it('a custom range: from the start of the first day to the start of the day after the last', async () => {
    const { backend, user } = await setup();
    await user.selectOptions(screen.getByTestId('metrics-period'), 'custom');
    await fireEvent.change(screen.getByLabelText('From'), { target: { value: '2025-03-01' } });
    await fireEvent.change(screen.getByLabelText('To'), { target: { value: '2025-03-03' } });
    await waitFor(() =>
      expect(backend.metrics).toHaveBeenLastCalledWith({
        from: new Date(2025, 2, 1).getTime(),
        to: new Date(2025, 2, 4).getTime(),
        bucket_ms: DAY,
      }),
    );
    // Backwards: no query, and a hint says why.
    const calls = backend.metrics.mock.calls.length;
    await fireEvent.change(screen.getByLabelText('From'), { target: { value: '2025-03-05' } });
    expect(await screen.findByText('Choose a start date on or before the end date.')).toBeInTheDocument();
    expect(backend.metrics).toHaveBeenCalledTimes(calls);
  });

  it('exports a table as CSV through saveExport', async () => {
    const { backend, user } = await setup();
    await user.click(screen.getByTestId('csv-triggers'));
    await waitFor(() => expect(backend.saveExport).toHaveBeenCalledTimes(1));
    const [name, csv] = backend.saveExport.mock.calls[0];
    expect(name).toMatch(/^handoffs-by-trigger-2025-03-12-\d{4}\.csv$/);
    expect(csv).toBe('Trigger,Handoffs\r\nCustomer asked for a person,30\r\nKeyword / intent,12\r\nBot not confident,8\r\n');
    expect(await screen.findByTestId('export-status')).toHaveTextContent(`Downloaded ${name}`);

    await user.click(screen.getByTestId('csv-first-response'));
    await waitFor(() => expect(backend.saveExport).toHaveBeenCalledTimes(2));
    expect(backend.saveExport.mock.calls[1][1]).toBe(
      'Duration,Up to (ms),Handoffs\r\n≤ 1m,60000,10\r\n1m–5m,300000,25\r\n5m–1h,3600000,10\r\n> 1h,,3\r\n',
    );

    await user.click(screen.getByTestId('csv-breaches-by-agent'));
    await waitFor(() => expect(backend.saveExport).toHaveBeenCalledTimes(3));
    expect(backend.saveExport.mock.calls[2][1]).toBe('Agent,Breaches,Near misses\r\nMaya Ruiz,1,0\r\nAna Agent,0,1\r\n');
  });

  it('the breach review: each breach and near miss, the groupings, and an export safe from formulas', async () => {
    const { backend, user } = await setup();
    backend.breachReport = breachReport({
      items: [breachItem(), breachItem({ conversation_id: 5, handoff_id: 105, contact_name: '=HYPERLINK("x")', outcome: 'near_miss', at: NOW - 60_000 })],
    });
    await user.click(screen.getByTestId('metrics-refresh'));
    await waitFor(() => expect(screen.getAllByTestId('breach-row')).toHaveLength(2));
    const [first, second] = screen.getAllByTestId('breach-row');
    // Newest first.
    expect(first).toHaveAttribute('data-conversation-id', '5');
    expect(first).toHaveAttribute('data-outcome', 'near_miss');
    expect(second).toHaveTextContent('First response');
    expect(second).toHaveTextContent('Breached');
    expect(second).toHaveTextContent('Maria Lopez');
    expect(second).toHaveTextContent('Support');
    expect(second).toHaveTextContent('Maya Ruiz');
    expect(second).toHaveTextContent('High');
    expect(second).toHaveTextContent('15m');
    expect(within(screen.getByTestId('group-breaches-by-team')).getByText('Support')).toBeInTheDocument();

    await user.click(screen.getByTestId('csv-breaches'));
    await waitFor(() => expect(backend.saveExport).toHaveBeenCalledTimes(1));
    const lines = backend.saveExport.mock.calls[0][1].split('\r\n');
    expect(lines[0]).toBe('Kind,Outcome,Contact,Team,Agent,Priority,Trigger,At,Target (ms),Conversation,Handoff');
    expect(lines[1]).toBe(
      `First response,Near miss,"'=HYPERLINK(""x"")",Support,Maya Ruiz,high,Customer asked for a person,${new Date(NOW - 60_000).toISOString()},900000,5,105`,
    );
  });

  it('a breach opens its conversation and shows its handoff timeline', async () => {
    const { backend, onopen, user } = await setup();
    const row = screen.getAllByTestId('breach-row').find((r) => r.getAttribute('data-conversation-id') === '1')!;
    await user.click(within(row).getByTestId('breach-timeline'));
    expect(await screen.findByTestId('timeline-drawer')).toHaveAttribute('data-handoff-id', '101');
    expect(backend.handoffTimeline).toHaveBeenCalledWith(101);
    expect(await screen.findByTestId('timeline-empty')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('timeline-drawer')).not.toBeInTheDocument();
    await user.click(within(row).getByTestId('breach-open'));
    expect(onopen).toHaveBeenCalledWith(1);
  });

  it('a report that cannot be loaded says why by its code', async () => {
    const backend = new FakeBackend({ session: managerSession });
    backend.failures.set('metrics', new BackendError('forbidden', 'managers only'));
    const inbox = new Inbox(backend);
    await inbox.start();
    render(Metrics, { inbox, onopen: vi.fn() });
    const alert = await screen.findByTestId('metrics-error');
    expect(alert).toHaveAttribute('data-error-code', 'forbidden');
    expect(alert).toHaveTextContent("You don't have permission to do that.");
    // The breaches still came.
    expect(await screen.findAllByTestId('breach-row')).toHaveLength(2);
  });
});

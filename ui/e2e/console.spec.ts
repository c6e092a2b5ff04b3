// The manager console (the board and the metrics) against a real handoff-server and the
// WhatsApp sandbox (scripts/web-e2e.sh). Nobody is online in the e2e workspace (the demo
// people start offline and these tests never go online), so every escalation waits in
// the queue until somebody assigns it. The tests run in parallel with the inbox's: they
// only rely on their own customers (distinct wa_ids and names) and compare the page with
// the server's answer read at the same time, polling until both agree.
import fs from 'node:fs/promises';
import { expect, test, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import {
  AGENTS,
  SERVER_URL,
  apiBoard,
  apiGet,
  apiLogin,
  apiSend,
  boardEntryOf,
  boardRow,
  boardRows,
  conversationList,
  customerSays,
  login,
  newCustomer,
  openBoard,
  paintedPixels,
  type ApiSession,
} from './helpers';

interface AuditEntry {
  actor: string;
  actor_name: string;
  action: string;
  entity: string;
  entity_id: number | null;
  detail: { handoff_id?: number; agent_id?: number; previous_agent_id?: number | null };
}

interface ConversationDetail {
  conversation: { id: number; state: string; assignee_id: number | null; priority: string };
}

/** The conversation ids of the board's rendered rows, top to bottom. */
async function shownOrder(page: Page): Promise<number[]> {
  return boardRows(page).evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-conversation-id'))));
}

/**
 * Polls until the page's rows are the server's board in the server's order. The queue
 * is windowed (it renders the rows in and near its viewport): they must be a run of
 * the server's list, in the same order.
 */
async function expectServerOrder(page: Page, request: APIRequestContext, who: ApiSession): Promise<number[]> {
  let order: number[] = [];
  await expect
    .poll(
      async () => {
        const shown = await shownOrder(page);
        order = (await apiBoard(request, who)).conversations.map((e) => e.conversation_id);
        const start = order.indexOf(shown[0]);
        const same = shown.length > 0 && start >= 0 && shown.join() === order.slice(start, start + shown.length).join();
        return same ? 'same' : `page ${shown.join()} / server ${order.join()}`;
      },
      { message: "the board's rows in the server's risk order" },
    )
    .toBe('same');
  return order;
}

/** Row height of the board's queue (BoardQueue.svelte's ROW_HEIGHT). */
const ROW_HEIGHT = 56;

/**
 * The conversation's row, scrolled into the queue's window when the board is longer
 * than what it renders (where the server's order puts it).
 */
async function revealRow(page: Page, request: APIRequestContext, who: ApiSession, id: number): Promise<Locator> {
  const row = boardRow(page, id);
  await expect
    .poll(
      async () => {
        if ((await row.count()) > 0) return true;
        const i = (await apiBoard(request, who)).conversations.findIndex((e) => e.conversation_id === id);
        if (i >= 0) {
          await page
            .getByTestId('board-queue')
            .evaluate((el, top) => el.scrollTo({ top }), Math.max(0, (i - 2) * ROW_HEIGHT));
        }
        return false;
      },
      { message: `conversation ${id} on the board` },
    )
    .toBe(true);
  return row;
}

test("a manager's board sorts by risk and follows changes live", async ({ page, request }) => {
  const maya = await apiLogin(request, 'maya');
  const omar = await apiLogin(request, 'omar');
  const ben = await apiLogin(request, 'ben');
  // Three escalations of three priorities: normal (asked for a person, first response
  // due in 15 min), high (a complaint, 5 min), urgent (a lawyer, 2 min) -- written in
  // that order, so the risk order (the nearest deadline first) is the other way round.
  const normal = newCustomer('4915100000301', 'Nadia Costa');
  const high = newCustomer('4915100000302', 'Hugo Brandt');
  const urgent = newCustomer('4915100000303', 'Ursula Lind');
  await customerSays(request, normal.waId, normal.customer, 'Can I talk to a human please?');
  await customerSays(request, high.waId, high.customer, 'I want to make a complaint about my delivery');
  await customerSays(request, urgent.waId, urgent.customer, 'My lawyer will contact you about the contract');
  const n = await boardEntryOf(request, maya, normal.customer);
  const h = await boardEntryOf(request, maya, high.customer);
  const u = await boardEntryOf(request, maya, urgent.customer);
  expect([n.priority, h.priority, u.priority]).toEqual(['normal', 'high', 'urgent']);
  for (const e of [n, h, u]) {
    expect(e.status, `${e.contact_name} waits in the queue`).toBe('waiting');
    expect(e.sla_due_at, `${e.contact_name} has a first-response clock`).not.toBeNull();
  }

  await login(page, 'maya');
  await openBoard(page);

  // The page shows the server's risk order; ours come urgent, high, normal.
  const order = await expectServerOrder(page, request, maya);
  const pos = (id: number) => order.indexOf(id);
  expect(pos(u.conversation_id)).toBeGreaterThanOrEqual(0);
  expect(pos(u.conversation_id)).toBeLessThan(pos(h.conversation_id));
  expect(pos(h.conversation_id)).toBeLessThan(pos(n.conversation_id));
  const rowN = await revealRow(page, request, maya, n.conversation_id);
  await expect(rowN.getByTestId('board-priority')).toHaveValue('normal');
  await expect(rowN).toHaveAttribute('data-status', 'waiting');

  // Omar (an admin) changes a priority through the API: the page follows, no reload.
  await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
  await apiSend(request, omar, 'PUT', `/v1/conversations/${n.conversation_id}/priority`, { priority: 'low' });
  await expect(rowN.getByTestId('board-priority')).toHaveValue('low');
  await expect(rowN.getByTestId('board-priority')).toHaveClass(/prio-low/);

  // A new escalation appears live, where the server puts it.
  const late = newCustomer('4915100000304', 'Lena Vogt');
  await customerSays(request, late.waId, late.customer, 'I need to speak to a human about my order');
  const l = await boardEntryOf(request, maya, late.customer);
  const rowL = await revealRow(page, request, maya, l.conversation_id);
  await expect(rowL.getByTestId('board-open')).toHaveText(late.customer);
  await expect(rowL.getByTestId('board-unassigned')).toBeVisible();
  await expectServerOrder(page, request, maya);
  expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);

  // Maya assigns the waiting high-priority one to Ben from the board.
  const rowH = await revealRow(page, request, maya, h.conversation_id);
  await expect(rowH.getByTestId('board-priority')).toHaveValue('high');
  await expect(rowH.getByTestId('board-unassigned')).toBeVisible();
  await rowH.getByTestId('board-assign').click();
  const dialog = page.getByTestId('assign-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText(high.customer);
  const option = dialog.locator(`[data-testid="assign-option"][data-agent-id="${ben.id}"]`);
  await expect(option).toContainText(AGENTS.ben.name);
  await option.click();
  await expect(dialog).toBeHidden();
  await expect(rowH.getByTestId('board-assignee')).toHaveText(AGENTS.ben.name);
  await expect(rowH).toHaveAttribute('data-status', 'assigned');
  await expect(page.getByTestId('board-status')).toHaveText(`Assigned ${high.customer} to ${AGENTS.ben.name}.`);

  // The server agrees: Ben owns it, and the audit log says Maya assigned it to him.
  const detail = await apiGet<ConversationDetail>(request, maya, `/v1/conversations/${h.conversation_id}`);
  expect(detail.conversation.assignee_id).toBe(ben.id);
  expect(detail.conversation.state).toBe('assigned');
  const audit = await apiGet<AuditEntry[]>(request, maya, '/v1/audit?action=conversation.assigned&limit=1000');
  const entry = audit.find((a) => a.entity === 'conversation' && a.entity_id === h.conversation_id);
  expect(entry, 'the assignment in the audit log').toBeDefined();
  expect(entry).toMatchObject({
    actor: `agent:${maya.id}`,
    actor_name: AGENTS.maya.name,
    action: 'conversation.assigned',
    detail: { handoff_id: h.handoff_id, agent_id: ben.id, previous_agent_id: null },
  });
  // Still on the same page (nothing reloaded it).
  expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
});

test('an agent has no manager console', async ({ page, request }) => {
  await login(page, 'ana');
  await expect(page.getByTestId('nav-inbox')).toHaveCount(0);
  await expect(page.getByTestId('nav-board')).toHaveCount(0);
  await expect(page.getByTestId('nav-metrics')).toHaveCount(0);
  // Nor by its address: the inbox stays.
  await page.goto('/#/board');
  await expect(conversationList(page)).toBeVisible();
  await expect(page.getByTestId('board')).toHaveCount(0);
  await expect(page.getByText(AGENTS.ana.name, { exact: true }).first()).toBeVisible();

  // And the server refuses her the manager's endpoints.
  const ana = await apiLogin(request, 'ana');
  for (const path of ['/v1/board', '/v1/audit']) {
    const res = await request.get(`${SERVER_URL}${path}`, { headers: ana.headers });
    expect(res.status(), path).toBe(403);
  }
});

interface MetricsReport {
  conversations: number;
  handoffs: number;
  escalation_rate: number;
  series: unknown[];
  by_trigger: { trigger: string; handoffs: number }[];
}

interface BreachReport {
  items: { conversation_id: number; outcome: string }[];
}

/** As the page writes a rate: "12.5%" (one decimal, no trailing ".0"). */
function rateText(ratio: number): string {
  const value = Math.round(ratio * 1000) / 10;
  return `${value === 0 ? 0 : value}%`;
}

/** Clicks a CSV button; the downloaded file's name and text. */
async function download(page: Page, testid: string): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
  const text = await fs.readFile(await file.path(), 'utf8');
  return { name: file.suggestedFilename(), text };
}

test('metrics and breach review', async ({ page, request }) => {
  const maya = await apiLogin(request, 'maya');
  // At least one handoff in the period.
  const { waId, customer } = newCustomer('4915100000311', 'Mira Santos');
  await customerSays(request, waId, customer, 'Please let me talk to a human');
  await boardEntryOf(request, maya, customer);

  await login(page, 'maya');
  // The period is the page's own (the last 7 days up to when it opened): read it from
  // its request and ask the server the same.
  const metricsResponse = page.waitForResponse(
    (r) => /\/v1\/metrics\?/.test(r.url()) && r.request().method() === 'GET',
  );
  await page.getByTestId('nav-metrics').click();
  const metrics = page.getByTestId('metrics');
  await expect(metrics).toBeVisible();
  const search = new URL((await metricsResponse).url()).search;
  const params = new URLSearchParams(search);
  const [from, to] = [Number(params.get('from')), Number(params.get('to'))];
  // "Last 7 days": today (so far) and the six days before, from local midnight.
  const d = new Date(to);
  expect(from).toBe(new Date(d.getFullYear(), d.getMonth(), d.getDate() - 6).getTime());
  const report = await apiGet<MetricsReport>(request, maya, `/v1/metrics${search}`);
  const breaches = await apiGet<BreachReport>(request, maya, `/v1/metrics/breaches${search}`);
  expect(report.handoffs).toBeGreaterThanOrEqual(1);
  expect(report.by_trigger.find((t) => t.trigger === 'customer_request')?.handoffs ?? 0).toBeGreaterThanOrEqual(1);

  // The figures are the server's.
  await expect(metrics.getByTestId('kpi-conversations')).toHaveText(String(report.conversations));
  await expect(metrics.getByTestId('kpi-handoffs')).toHaveText(String(report.handoffs));
  await expect(metrics.getByTestId('kpi-rate')).toHaveText(rateText(report.escalation_rate));
  await expect(metrics.getByTestId('kpi-band')).toContainText('5–20%');

  // The charts are drawn.
  for (const id of ['chart-escalation', 'chart-first-response', 'chart-resolution', 'chart-triggers']) {
    const chart = metrics.getByTestId(id);
    await chart.scrollIntoViewIfNeeded();
    await expect(chart).toBeVisible();
    await expect(chart).toHaveAttribute('aria-label', /\S/);
    await expect.poll(() => paintedPixels(chart), { message: `${id} is drawn` }).toBeGreaterThan(500);
  }

  // The breach review lists what the server reports for the period (the fresh e2e
  // server usually has none: then the empty state, and nothing to export).
  const review = metrics.getByTestId('breach-review');
  await review.scrollIntoViewIfNeeded();
  const rows = review.getByTestId('breach-row');
  if (breaches.items.length === 0) {
    await expect(review.getByText('No breaches or near misses in this period.')).toBeVisible();
    await expect(rows).toHaveCount(0);
    await expect(review.getByTestId('csv-breaches')).toBeDisabled();
  } else {
    await expect(rows).toHaveCount(Math.min(100, breaches.items.length));
    await expect(review.getByTestId('csv-breaches')).toBeEnabled();
  }

  // CSV exports are downloads, with the table's header row first.
  const rate = await download(page, 'csv-rate');
  expect(rate.name).toMatch(/^escalation-rate-\d{4}-\d{2}-\d{2}-\d{4}\.csv$/);
  expect(rate.text.startsWith('Start,Conversations,Handoffs,Rate\r\n')).toBe(true);
  const lines = rate.text.trimEnd().split('\r\n');
  expect(lines).toHaveLength(report.series.length + 1);
  const handoffsInSeries = lines.slice(1).reduce((sum, line) => sum + Number(line.split(',')[2]), 0);
  expect(handoffsInSeries).toBe(report.handoffs);
  await expect(page.getByTestId('export-status')).toHaveText(`Downloaded ${rate.name}`);

  const triggers = await download(page, 'csv-triggers');
  expect(triggers.name).toMatch(/^handoffs-by-trigger-.*\.csv$/);
  expect(triggers.text.startsWith('Trigger,Handoffs\r\n')).toBe(true);
  expect(triggers.text).toMatch(/\r\nCustomer asked for a person,\d+\r\n/);
});

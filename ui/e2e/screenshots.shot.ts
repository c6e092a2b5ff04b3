// The docs' screenshots (docs/screenshots/*.png, 1280x800), taken from the web inbox
// against a real server with a few customers having written:
//   npm run screenshots     (= scripts/web-e2e.sh --screenshots)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import {
  AGENTS,
  PASSWORD,
  SERVER_URL,
  apiLogin,
  apiSend,
  boardEntryOf,
  boardRow,
  conversationRow,
  customerSays,
  login,
  messages,
  openBoard,
  openConversation,
  paintedPixels,
  thread,
  waitForRow,
} from './helpers';

const OUT = process.env.HANDOFF_E2E_SCREENSHOTS ?? fileURLToPath(new URL('../../docs/screenshots', import.meta.url));
const SIZE = { width: 1280, height: 800 };
const MAIN = 'Sofia Ramos';

/** Theme preference keys the app may keep in localStorage (a theme switch); else the system's. */
const THEME_KEYS = ['handoff-inbox.theme'];

/** Maya (a manager) gives Ana room for two conversations, so that later ones queue. */
async function limitAnasCapacity(request: APIRequestContext): Promise<void> {
  const login = await request.post(`${SERVER_URL}/v1/auth/login`, {
    data: { email: AGENTS.maya.email, password: PASSWORD },
  });
  expect(login.ok()).toBe(true);
  const headers = { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
  const agents = (await (await request.get(`${SERVER_URL}/v1/agents`, { headers })).json()) as {
    id: number;
    email: string;
  }[];
  const ana = agents.find((a) => a.email === AGENTS.ana.email);
  expect(ana).toBeDefined();
  const res = await request.patch(`${SERVER_URL}/v1/agents/${ana!.id}`, { headers, data: { capacity: 2 } });
  expect(res.ok(), await res.text()).toBe(true);
}

async function setUpCustomers(request: APIRequestContext): Promise<void> {
  const say = (waId: string, name: string, text: string) => customerSays(request, waId, name, text);
  await say('4915100000201', MAIN, 'Hi! My order #4821 arrived today but the lamp is broken.');
  await say('4915100000201', MAIN, 'I want to talk to a human please');
  await say('4915100000202', 'Lukas Becker', 'The invoice for March is wrong, I want to talk to a human');
  await say('4915100000203', 'Priya Nair', 'What are your opening hours?');
  await say('4915100000203', 'Priya Nair', 'Thanks! Can I talk to a human about a bulk order?');
  await say('4915100000204', 'Tom Fischer', 'This is terrible, I want a refund, get me a human');
}

async function shot(page: Page, name: string): Promise<void> {
  // Let live updates and the first paint of web fonts settle before the picture.
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  await page.screenshot({ path: path.join(OUT, name), animations: 'disabled', caret: 'hide' });
  console.log(`saved ${path.join(OUT, name)}`);
}

/** A page in a context of its own, in the theme. */
async function themedPage(browser: Browser, scheme: 'light' | 'dark'): Promise<Page> {
  const context = await browser.newContext({ viewport: SIZE, colorScheme: scheme });
  await context.addInitScript(
    ({ keys, scheme }) => {
      for (const key of keys) localStorage.setItem(key, scheme);
    },
    { keys: THEME_KEYS, scheme },
  );
  return context.newPage();
}

/** Ana's inbox (in a context of its own) with Sofia's conversation open. */
async function openInbox(
  browser: Browser,
  scheme: 'light' | 'dark',
  beforeOpen?: (page: Page) => Promise<void>,
): Promise<Page> {
  const page = await themedPage(browser, scheme);
  await login(page, 'ana');
  await beforeOpen?.(page);
  for (const name of [MAIN, 'Lukas Becker', 'Priya Nair', 'Tom Fischer']) await waitForRow(page, name);
  await openConversation(page, MAIN);
  return page;
}

const minutes = (m: number) => m * 60;

/**
 * Short first-response targets for urgent (20 s) and high (60 s, at risk from 30 s)
 * conversations, so that the board shows a breach and a risk within a minute; normal
 * and low keep the defaults (the inbox's customers are all normal). Breaches only
 * notify: nothing is reassigned behind the picture's back.
 */
const SHORT_SLA = {
  urgent: { first_response_secs: 20, next_response_secs: minutes(5), resolution_secs: minutes(60) },
  high: { first_response_secs: 60, next_response_secs: minutes(10), resolution_secs: minutes(240) },
  normal: { first_response_secs: minutes(15), next_response_secs: minutes(30), resolution_secs: minutes(24 * 60) },
  low: { first_response_secs: minutes(30), next_response_secs: minutes(60), resolution_secs: minutes(72 * 60) },
  warning_ratio: 0.5,
  pause_while_waiting_on_customer: true,
  breach_action: 'notify',
};

/** Maya's board (light): the inbox's customers and four more, one breached, one at risk. */
async function boardShot(browser: Browser, request: APIRequestContext): Promise<void> {
  const omar = await apiLogin(request, 'omar');
  const maya = await apiLogin(request, 'maya');
  const ben = await apiLogin(request, 'ben');
  await apiSend(request, omar, 'PUT', '/v1/settings/sla', SHORT_SLA);
  const say = (waId: string, name: string, text: string) => customerSays(request, waId, name, text);
  await say('4915100000205', 'Elena Petrova', 'This is the third time. My lawyer will be in touch about this charge.');
  await say('4915100000206', 'Marco Rossi', 'I want to make a complaint, the courier left my parcel in the rain');
  await say('4915100000207', 'Aisha Khan', 'Hello, can I get a refund for order #5120? It never arrived.');
  await say('4915100000208', 'Jonas Weber', 'Could I have my money back for the second mug? No rush.');
  const elena = await boardEntryOf(request, maya, 'Elena Petrova');
  const marco = await boardEntryOf(request, maya, 'Marco Rossi');
  const aisha = await boardEntryOf(request, maya, 'Aisha Khan');
  const jonas = await boardEntryOf(request, maya, 'Jonas Weber');
  expect([elena.priority, marco.priority]).toEqual(['urgent', 'high']);
  await apiSend(request, maya, 'POST', `/v1/conversations/${aisha.conversation_id}/assign`, { agent_id: ben.id });
  await apiSend(request, maya, 'PUT', `/v1/conversations/${jonas.conversation_id}/priority`, { priority: 'low' });

  const page = await themedPage(browser, 'light');
  await login(page, 'maya');
  await openBoard(page);
  await expect(boardRow(page, aisha.conversation_id).getByTestId('board-assignee')).toHaveText(AGENTS.ben.name);
  await expect(boardRow(page, jonas.conversation_id).getByTestId('board-priority')).toHaveValue('low');
  // Urgent breaches at 20 s; high is at risk from 30 s until 60 s.
  await expect(boardRow(page, elena.conversation_id)).toHaveAttribute('data-breached', 'true', { timeout: 45_000 });
  await expect(boardRow(page, marco.conversation_id)).toHaveAttribute('data-at-risk', 'true', { timeout: 45_000 });
  await expect(boardRow(page, marco.conversation_id)).toHaveAttribute('data-breached', 'false');
  await page.mouse.move(0, SIZE.height - 1);
  await shot(page, 'board-light.png');
  await page.context().close();
}

/** `YYYY-MM-DD` of a day `daysAgo` before today (UTC, the browser's time zone in the tests). */
function dayInput(daysAgo: number): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
}

/** Maya's metrics (dark) over the last 14 full days of the demo history. */
async function metricsShot(browser: Browser): Promise<void> {
  const page = await themedPage(browser, 'dark');
  await login(page, 'maya');
  await page.getByTestId('nav-metrics').click();
  const metrics = page.getByTestId('metrics');
  await expect(metrics).toBeVisible();
  await metrics.getByTestId('metrics-period').selectOption('custom');
  await metrics.getByTestId('metrics-from').fill(dayInput(14));
  await metrics.getByTestId('metrics-to').fill(dayInput(1));
  await expect(metrics).toHaveAttribute('aria-busy', 'false');
  await expect(metrics.getByTestId('kpi-handoffs')).not.toHaveText('0');
  // The escalation chart and the distributions in view, the figures above them.
  await metrics.evaluate((el) => {
    const kpis = el.querySelector<HTMLElement>('[data-testid="metrics-kpis"]');
    if (kpis) el.scrollTop = kpis.offsetTop - (el as HTMLElement).offsetTop - 12;
  });
  await expect(metrics.getByTestId('chart-first-response')).toBeInViewport();
  for (const id of ['chart-escalation', 'chart-first-response', 'chart-resolution', 'chart-triggers']) {
    await expect.poll(() => paintedPixels(metrics.getByTestId(id)), { message: `${id} is drawn` }).toBeGreaterThan(500);
  }
  await page.mouse.move(0, SIZE.height - 1);
  await shot(page, 'metrics-dark.png');
  await page.context().close();
}

test('docs screenshots', async ({ browser, request }) => {
  test.setTimeout(180_000);
  fs.mkdirSync(OUT, { recursive: true });
  await limitAnasCapacity(request);
  // Ana goes online first: the first two escalations become hers, the others queue.
  const light = await openInbox(browser, 'light', async (page) => {
    await page.getByLabel('Availability').selectOption('online');
    await expect(page.getByLabel('Availability')).toHaveValue('online');
    await setUpCustomers(request);
  });
  await expect(conversationRow(light, MAIN)).toContainText('Assigned to you');
  const t = thread(light, MAIN);
  const reply = "Hi Sofia, I'm sorry about the lamp! Could you send me a photo of the damage? I'll sort out a replacement.";
  await t.getByRole('combobox', { name: 'Reply' }).fill(reply);
  await t.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(messages(light).getByText(reply)).toBeVisible();
  await customerSays(request, '4915100000201', MAIN, 'Sure, sending it in a minute. Thank you!');
  await expect(messages(light).getByText('Sure, sending it in a minute')).toBeVisible();
  await expect(t.getByRole('complementary', { name: 'Escalation' })).toBeVisible();
  await light.mouse.move(0, SIZE.height - 1);
  await shot(light, 'inbox-light.png');

  // Note mode with the @mention suggestions open.
  await t.getByRole('button', { name: 'Note', exact: true }).click();
  const note = t.getByRole('combobox', { name: 'Internal note' });
  await note.pressSequentially('Customer has photos of the damage. Can you approve a replacement, @');
  await expect(t.getByRole('listbox', { name: 'Colleagues to mention' }).getByRole('option').first()).toBeVisible();
  await shot(light, 'composer-note.png');
  await note.press('Escape');
  await note.fill('');
  await t.getByRole('button', { name: 'Reply', exact: true }).click();

  // The shortcut sheet, if this build has one (`?` outside a text field).
  await light.locator('body').click({ position: { x: 640, y: 20 } });
  await light.keyboard.press('?');
  const sheet = light.getByRole('dialog');
  const opened = await sheet
    .first()
    .waitFor({ state: 'visible', timeout: 3_000 })
    .then(() => true)
    .catch(() => false);
  if (opened) {
    await shot(light, 'shortcuts.png');
    await light.keyboard.press('Escape');
  } else {
    console.log('no shortcut sheet opens on "?" in this build: shortcuts.png skipped');
  }
  await light.context().close();

  const dark = await openInbox(browser, 'dark');
  await expect(messages(dark).getByText('Sure, sending it in a minute')).toBeVisible();
  await expect(thread(dark, MAIN).getByRole('complementary', { name: 'Escalation' })).toBeVisible();
  await dark.mouse.move(0, SIZE.height - 1);
  await shot(dark, 'inbox-dark.png');
  await dark.context().close();

  // The manager console: Maya's board and metrics.
  await boardShot(browser, request);
  await metricsShot(browser);
});

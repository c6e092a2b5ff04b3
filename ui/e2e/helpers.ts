import { expect, test, type APIRequestContext, type Browser, type Locator, type Page } from '@playwright/test';

export const SERVER_URL = requiredEnv('HANDOFF_E2E_URL');
export const SANDBOX_URL = requiredEnv('HANDOFF_E2E_SANDBOX_URL');
export const PASSWORD = 'handoff-demo';
export const AGENTS = {
  ana: { email: 'ana@demo.handoff.dev', name: 'Ana Alvarez' },
  ben: { email: 'ben@demo.handoff.dev', name: 'Ben Okafor' },
  maya: { email: 'maya@demo.handoff.dev', name: 'Maya Lindqvist' },
  omar: { email: 'omar@demo.handoff.dev', name: 'Omar Haddad' },
} as const;
export type AgentKey = keyof typeof AGENTS;

/** The key httpBackend keeps the login under (per tab). */
export const SESSION_KEY = 'handoff-inbox.session';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with scripts/web-e2e.sh`);
  return value.replace(/\/+$/, '');
}

/** Runs `body` with a page in a browser context of its own (own storage, own session). */
export async function withPage<T>(browser: Browser, body: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext();
  try {
    return await body(await context.newPage());
  } finally {
    await context.close();
  }
}

/** Opens the inbox and signs in; the form's server URL is the page's own origin. */
export async function login(page: Page, agent: AgentKey): Promise<void> {
  await page.goto('/');
  await expect(page.getByLabel('Server URL')).toHaveValue(SERVER_URL);
  await page.getByLabel('Email').fill(AGENTS[agent].email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText(AGENTS[agent].name, { exact: true }).first()).toBeVisible();
  await expect(conversationList(page)).toBeVisible();
  await expect(page.getByText('Loading conversations…')).toHaveCount(0);
}

export function conversationList(page: Page): Locator {
  return page.getByRole('navigation', { name: 'Conversations' });
}

/** The customer's row in the conversation list (an option of its listbox, or a button). */
export function conversationRow(page: Page, customer: string): Locator {
  const list = conversationList(page);
  return list
    .getByRole('option')
    .or(list.getByRole('button'))
    .filter({ has: page.getByText(customer, { exact: true }) });
}

/** The open thread (a region named after the customer). */
export function thread(page: Page, customer: string): Locator {
  return page.getByRole('region', { name: `Conversation with ${customer}`, exact: true });
}

export function messages(page: Page): Locator {
  return page.getByRole('log', { name: 'Messages' });
}

/** Opens the customer's conversation from the list. */
export async function openConversation(page: Page, customer: string): Promise<Locator> {
  await conversationRow(page, customer).click();
  const t = thread(page, customer);
  await expect(t).toBeVisible();
  await expect(t.getByText('Loading conversation…')).toHaveCount(0);
  return t;
}

/** Takes a waiting conversation; leaves one already assigned to the agent as it is. */
export async function claimIfWaiting(page: Page, customer: string): Promise<void> {
  const t = thread(page, customer);
  const mine = t.getByText('Assigned to you', { exact: true });
  const claim = t.getByRole('button', { name: 'Claim', exact: true });
  await expect(mine.or(claim)).toBeVisible();
  if (await claim.isVisible()) await claim.click();
  await expect(mine).toBeVisible();
}

/**
 * A customer of this test: `waId` and `name` as given, made unique per repetition
 * (`--repeat-each`, retries), so that reruns against the same server do not collide.
 */
export function newCustomer(waId: string, name: string): { waId: string; customer: string } {
  const info = test.info();
  const n = info.repeatEachIndex * 10 + info.retry;
  return n === 0 ? { waId, customer: name } : { waId: `${waId}${n}`, customer: `${name} ${n}` };
}

/** A customer writes to the business through the WhatsApp sandbox. */
export async function customerSays(
  request: APIRequestContext,
  waId: string,
  name: string,
  text: string,
): Promise<void> {
  const res = await request.post(`${SANDBOX_URL}/sandbox/customers/${waId}/messages`, { data: { text, name } });
  expect(res.ok(), `sandbox: ${res.status()} ${await res.text()}`).toBe(true);
}

interface SentMessage {
  body: { to?: string; type?: string; text?: { body?: string } };
}

/** Text messages the business sent to `waId`, as the sandbox received them. */
export async function sentTexts(request: APIRequestContext, waId: string): Promise<string[]> {
  const res = await request.get(`${SANDBOX_URL}/sandbox/sent`);
  expect(res.ok()).toBe(true);
  const sent = (await res.json()) as SentMessage[];
  return sent.filter((s) => s.body.to === waId && s.body.text?.body !== undefined).map((s) => s.body.text!.body!);
}

/** Waits until the escalation for `waId` reached the agent's list (live, no reload). */
export async function waitForRow(page: Page, customer: string): Promise<void> {
  await expect(conversationRow(page, customer)).toBeVisible({ timeout: 30_000 });
}

/** A customer escalates and the agent opens and takes the conversation. */
export async function escalateAndClaim(
  page: Page,
  request: APIRequestContext,
  waId: string,
  customer: string,
): Promise<Locator> {
  await customerSays(request, waId, customer, 'I want to talk to a human');
  await waitForRow(page, customer);
  const t = await openConversation(page, customer);
  await claimIfWaiting(page, customer);
  return t;
}

/** A person signed in to the API (outside any page): their id and the headers to send. */
export interface ApiSession {
  id: number;
  headers: Record<string, string>;
}

/** Signs in through `POST /v1/auth/login` (a session of its own, apart from any page's). */
export async function apiLogin(request: APIRequestContext, agent: AgentKey): Promise<ApiSession> {
  const res = await request.post(`${SERVER_URL}/v1/auth/login`, {
    data: { email: AGENTS[agent].email, password: PASSWORD },
  });
  expect(res.ok(), `login ${agent}: ${res.status()} ${await res.text()}`).toBe(true);
  const body = (await res.json()) as { token: string; agent: { id: number } };
  return { id: body.agent.id, headers: { authorization: `Bearer ${body.token}` } };
}

/** `GET` a JSON resource of the server as `who`; fails the test on an error status. */
export async function apiGet<T>(request: APIRequestContext, who: ApiSession, path: string): Promise<T> {
  const res = await request.get(`${SERVER_URL}${path}`, { headers: who.headers });
  expect(res.ok(), `GET ${path}: ${res.status()} ${await res.text()}`).toBe(true);
  return (await res.json()) as T;
}

/** A write (`PUT`, `POST`, `PATCH`) as `who`; fails the test on an error status. */
export async function apiSend<T>(
  request: APIRequestContext,
  who: ApiSession,
  method: 'PUT' | 'POST' | 'PATCH',
  path: string,
  data: unknown,
): Promise<T> {
  const res = await request.fetch(`${SERVER_URL}${path}`, { method, headers: who.headers, data });
  expect(res.ok(), `${method} ${path}: ${res.status()} ${await res.text()}`).toBe(true);
  return (await res.json()) as T;
}

/** One open handoff of `GET /v1/board` (the fields the tests read). */
export interface BoardEntry {
  conversation_id: number;
  handoff_id: number;
  contact_name: string;
  status: string;
  assignee_id: number | null;
  priority: 'urgent' | 'high' | 'normal' | 'low';
  sla_due_at: number | null;
  at_risk: boolean;
  breached: boolean;
}

export interface Board {
  now: number;
  conversations: BoardEntry[];
  agents: { id: number; name: string; availability: string }[];
}

/** The server's board, in its risk order. */
export function apiBoard(request: APIRequestContext, who: ApiSession): Promise<Board> {
  return apiGet<Board>(request, who, '/v1/board');
}

/** Waits until the customer's escalation is on the board; its entry. */
export async function boardEntryOf(request: APIRequestContext, who: ApiSession, customer: string): Promise<BoardEntry> {
  let found: BoardEntry | undefined;
  await expect
    .poll(
      async () => {
        found = (await apiBoard(request, who)).conversations.find((e) => e.contact_name === customer);
        return found !== undefined;
      },
      { message: `${customer} on the board`, timeout: 30_000 },
    )
    .toBe(true);
  return found!;
}

/** The board's rows (the rendered ones: the queue is windowed). */
export function boardRows(page: Page): Locator {
  return page.getByTestId('board-row');
}

/** The board row of a conversation. */
export function boardRow(page: Page, conversationId: number): Locator {
  return page.locator(`[data-testid="board-row"][data-conversation-id="${conversationId}"]`);
}

/** Goes to the manager console's board (signed in as a manager or an admin). */
export async function openBoard(page: Page): Promise<Locator> {
  await page.getByTestId('nav-board').click();
  const board = page.getByTestId('board');
  await expect(board).toBeVisible();
  await expect(board.getByTestId('board-summary')).toBeVisible();
  return board;
}

/** How many pixels of a chart's canvas (`chart-*`) are painted: 0 until Chart.js drew it. */
export function paintedPixels(chart: Locator): Promise<number> {
  return chart.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
    const ctx = canvas.getContext('2d');
    if (!ctx || canvas.width === 0 || canvas.height === 0) return 0;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
    return painted;
  });
}

// Benchmark page (not a test): how long the inbox list takes to put its first screen
// on the glass for 10,000 (and 1,000) conversations, next to a bare baseline, a plain
// <ul> with one <li> per conversation (no virtualization), measured in the same page load.
//
// Each measurement: a fresh container (the previous one removed), t0 = performance.now()
// right before `mount(...)` (baseline: before building the list), then two
// requestAnimationFrame callbacks (the second runs once the first frame was painted), t1.
// The results go on `window.__bench`; bench/run.mjs builds this page, opens it in
// Chromium and prints them.

import { mount, unmount } from 'svelte';
import '../src/app.css';
import ConversationList from '../src/components/ConversationList.svelte';
import type { IBackend } from '../src/lib/backend';
import { Inbox } from '../src/lib/inbox.svelte';
import { contactName, formatRelative, isHighPriority, priorityLabel } from '../src/lib/format';
import { slaCountdown } from '../src/lib/listView';
import { seenKey } from '../src/lib/unread.svelte';
import type { Agent, Conversation, ConversationState, Priority, Session } from '../src/lib/types';

/** How often each case is measured. */
const REPEATS = 7;

export interface CaseResult {
  id: string;
  label: string;
  conversations: number;
  /** ms from t0 to the second animation frame, per run, in the order measured. */
  runs: number[];
  /** Row elements in the DOM after each run. */
  rows: number[];
  /** Of `runs`, the synchronous part: `mount(...)` (baseline: building and inserting the list). */
  sync: number[];
  median: number;
  max: number;
}

export interface BenchResult {
  done: boolean;
  error?: string;
  repeats: number;
  viewport: { width: number; height: number };
  userAgent: string;
  cases: CaseResult[];
}

declare global {
  interface Window {
    __bench?: BenchResult;
  }
}

// ---- synthetic conversations ----------------------------------------------------

const SERVER_URL = 'http://127.0.0.1:8080';
const AGENT: Agent = { id: 7, workspace_id: 1, email: 'ana@example.com', name: 'Ana Agent', role: 'agent', availability: 'online' };
const SESSION: Session = { server_url: SERVER_URL, agent: AGENT, workspace_name: 'Acme Support' };
const COLLEAGUES = [3, 4, 9, 12, 15];

const FIRST = [
  'Maria', 'José', 'Ana', 'Luis', 'Sofia', 'Mateo', 'Emma', 'Noah', 'Olivia', 'Liam', 'Chloé', 'Lucas', 'Amara',
  'Kenji', 'Priya', 'Arjun', 'Fatima', 'Omar', 'Zoë', 'Mohammed', 'Hannah', 'Jonas', 'Ingrid', 'Mei', 'Wei',
  'Aisha', 'Diego', 'Camila', 'Tomás', 'Eszter', 'Björn', 'Siobhán', 'Nikolai', 'Yara', 'Kwame', 'Lea',
];
const LAST = [
  'Lopez', 'García', 'Silva', 'Santos', 'Müller', 'Schmidt', 'Rossi', 'Bianchi', 'Dubois', 'Martin', 'Nakamura',
  'Sato', 'Patel', 'Sharma', 'Khan', 'Haddad', 'Okafor', 'Mensah', 'Kowalski', 'Nowak', 'Johansson', 'Andersen',
  "O'Brien", 'Murphy', 'Chen', 'Wang', 'Kim', 'Park', 'Novák', 'Horváth', 'Ivanova', 'Petrov', 'da Costa', 'van Dijk',
];
const PREVIEWS = [
  'I want to talk to a person',
  'Where is my order? It was supposed to arrive on Monday',
  'Hi, I was charged twice for the same subscription this month',
  'Can you help me change the delivery address?',
  'The app keeps logging me out every time I open it',
  'Thanks, that worked!',
  'I need a refund for order #48213, the package arrived damaged',
  'Is the 30% discount still valid for existing customers?',
  'My card was declined but the money left my account',
  'Hello? Is anyone there?',
  '📷 Photo',
  '🎤 Voice message (0:42)',
  'Can I upgrade to the business plan and keep my data?',
  'The tracking link says "label created" for a week now',
  'We are a team of 40, do you have volume pricing?',
  'Please cancel my subscription, I am moving abroad',
  'Ok, I will wait for your colleague to call me back tomorrow morning',
  'The invoice shows the wrong VAT number, can you reissue it?',
  'Your bot did not understand me, I need help with my password reset',
  'Great, see you then 👍',
];
const PRIORITIES: Priority[] = ['normal', 'normal', 'normal', 'normal', 'low', 'high', 'high', 'urgent'];
const LABELS = ['billing', 'refund', 'vip', 'shipping', 'bug', 'lead', 'churn-risk', 'spanish'];

/** A small deterministic PRNG (mulberry32): every run measures the same list. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

/**
 * `n` conversations as the server would list them (newest activity first): waiting
 * or assigned (a third of those to this agent), some with a running SLA clock (a few
 * breached), some with labels, a few contacts known only by their number.
 */
function conversations(n: number, now: number): Conversation[] {
  const r = rng(0x5eed ^ n);
  const out: Conversation[] = [];
  for (let i = 0; i < n; i++) {
    const id = i + 1;
    const state: ConversationState = r() < 0.4 ? 'waiting' : 'assigned';
    const assignee = state === 'waiting' ? null : r() < 0.35 ? AGENT.id : pick(r, COLLEAGUES);
    // Spread over the last 30 days, denser towards now.
    const lastMessageAt = now - Math.floor(r() * r() * 30 * 86_400_000) - 30_000;
    const inboundLast = r() < 0.7;
    const lastInboundAt = inboundLast ? lastMessageAt : r() < 0.9 ? lastMessageAt - Math.floor(r() * 3_600_000) : null;
    const hasSla = r() < 0.3;
    const labels: string[] = [];
    if (r() < 0.4) labels.push(pick(r, LABELS));
    if (r() < 0.15) labels.push(pick(r, LABELS));
    const named = r() < 0.9;
    out.push({
      id,
      workspace_id: 1,
      contact: {
        id: 100_000 + id,
        wa_id: `49${String(1510000000 + Math.floor(r() * 89999999))}`,
        bsuid: null,
        name: named ? `${pick(r, FIRST)} ${pick(r, LAST)}` : null,
        attributes: r() < 0.1 ? { vip: true, crm_id: `CRM-${id}` } : {},
      },
      phone_number_id: 'PN1',
      state,
      priority: pick(r, PRIORITIES),
      assignee_id: assignee,
      team_id: r() < 0.5 ? 1 : 2,
      active_handoff_id: 500_000 + id,
      workflow_status: 'handoff',
      last_message_preview: pick(r, PREVIEWS),
      last_message_at: lastMessageAt,
      last_inbound_at: lastInboundAt,
      created_at: lastMessageAt - Math.floor(r() * 7 * 86_400_000),
      updated_at: lastMessageAt,
      labels: [...new Set(labels)],
      // From 20 minutes overdue to 2 hours ahead.
      sla_due_at: hasSla ? now + Math.floor(r() * 140 * 60_000) - 20 * 60_000 : null,
      sla_kind: hasSla ? (r() < 0.6 ? 'first_response' : 'resolution') : null,
    });
  }
  return out.sort((a, b) => (b.last_message_at ?? 0) - (a.last_message_at ?? 0));
}

/** About 60% of the conversations were opened since the customer last wrote (read). */
function storeSeenMarks(list: Conversation[]): void {
  const seen: Record<number, number> = {};
  for (const c of list) {
    if (c.last_inbound_at !== null && c.id % 5 < 3) seen[c.id] = c.last_inbound_at;
  }
  localStorage.setItem(seenKey(SERVER_URL, AGENT.id), JSON.stringify(seen));
}

/** Just what `Inbox.start()` needs to come up signed in with the list; anything else fails. */
function backendFor(list: Conversation[]): IBackend {
  const none = () => Promise.resolve(() => {});
  const known: Partial<IBackend> = {
    session: () => Promise.resolve(SESSION),
    listConversations: () => Promise.resolve(list),
    outbox: () => Promise.resolve([]),
    doNotDisturb: () => Promise.resolve(false),
    onChange: none,
    onConnection: none,
    onOpenConversation: none,
    onLive: none,
    onDoNotDisturb: none,
    onWaiting: none,
    search: () => Promise.resolve([]),
    setFocus: () => Promise.resolve(),
    setPresence: () => Promise.resolve(),
    reportActivity: () => Promise.resolve(),
  };
  return new Proxy(known, {
    get(target, prop) {
      const own = Reflect.get(target, prop);
      if (own !== undefined || typeof prop !== 'string') return own;
      return () => Promise.reject(new Error(`bench backend: ${prop} is not available`));
    },
  }) as IBackend;
}

// ---- measuring ------------------------------------------------------------------------

function nextFrame(): Promise<number> {
  return new Promise((resolve) => requestAnimationFrame(resolve));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A container sized like the app's body (everything under the header). */
function freshContainer(): HTMLElement {
  const root = document.getElementById('app');
  if (!root) throw new Error('#app element missing');
  root.replaceChildren();
  const container = document.createElement('div');
  container.style.cssText = 'display:flex;height:100%;min-height:0;';
  root.append(container);
  return container;
}

interface Measured {
  ms: number;
  sync: number;
  rows: number;
}

/** The real ConversationList, signed in with `n` conversations in its Inbox. */
async function measureList(n: number): Promise<Measured> {
  const now = Date.now();
  const list = conversations(n, now);
  storeSeenMarks(list);
  const inbox = new Inbox(backendFor(list));
  await inbox.start();
  if (inbox.phase !== 'inbox' || inbox.conversations.length !== n) {
    throw new Error(`inbox did not load: phase ${inbox.phase}, ${inbox.conversations.length} conversations`);
  }
  const target = freshContainer();
  await nextFrame();

  const t0 = performance.now();
  const component = mount(ConversationList, { target, props: { inbox } });
  const tSync = performance.now();
  await nextFrame();
  await nextFrame();
  const t1 = performance.now();

  const rows = target.querySelectorAll('[data-testid="conversation-item"]').length;
  if (rows === 0) throw new Error(`no rows rendered for ${n} conversations`);
  await unmount(component);
  inbox.stop();
  target.remove();
  return { ms: t1 - t0, sync: tSync - t0, rows };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

function badgeLabel(c: Conversation): string {
  if (c.state === 'waiting') return 'Waiting';
  if (c.state === 'assigned') return c.assignee_id === AGENT.id ? 'Assigned to you' : 'Assigned';
  return 'Bot';
}

/** The naive list: a plain <ul> with one <li> per conversation, built with innerHTML. */
async function measureBaseline(n: number): Promise<Measured> {
  const now = Date.now();
  const list = conversations(n, now);
  const target = freshContainer();
  const scroller = document.createElement('div');
  scroller.style.cssText = 'width:340px;overflow-y:auto;';
  target.append(scroller);
  await nextFrame();

  const t0 = performance.now();
  let html = '';
  for (const c of list) {
    const sla = slaCountdown(c, now);
    html +=
      `<li><span>${escapeHtml(contactName(c.contact))}</span> ` +
      `<time>${c.last_message_at === null ? '' : formatRelative(c.last_message_at, now)}</time>` +
      `<div>${escapeHtml(c.last_message_preview ?? 'No messages yet')}</div>` +
      `<span>${badgeLabel(c)}</span>` +
      (isHighPriority(c.priority) ? ` <span>${priorityLabel(c.priority)}</span>` : '') +
      (sla ? ` <span>${sla.text}</span>` : '') +
      '</li>';
  }
  const ul = document.createElement('ul');
  ul.innerHTML = html;
  scroller.append(ul);
  const tSync = performance.now();
  await nextFrame();
  await nextFrame();
  const t1 = performance.now();

  const rows = ul.children.length;
  target.remove();
  return { ms: t1 - t0, sync: tSync - t0, rows };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

interface Case {
  id: string;
  label: string;
  conversations: number;
  run: () => Promise<Measured>;
}

const CASES: Case[] = [
  { id: 'list-10000', label: 'inbox list first screen, 10,000 conversations', conversations: 10_000, run: () => measureList(10_000) },
  { id: 'list-1000', label: 'inbox list first screen, 1,000 conversations', conversations: 1_000, run: () => measureList(1_000) },
  {
    id: 'baseline-10000',
    label: 'baseline: plain <ul> of 10,000 rows (no virtualization)',
    conversations: 10_000,
    run: () => measureBaseline(10_000),
  },
];

async function main(): Promise<void> {
  const result: BenchResult = {
    done: false,
    repeats: REPEATS,
    viewport: { width: window.innerWidth, height: window.innerHeight },
    userAgent: navigator.userAgent,
    cases: CASES.map((c) => ({ id: c.id, label: c.label, conversations: c.conversations, runs: [], rows: [], sync: [], median: 0, max: 0 })),
  };
  window.__bench = result;
  try {
    // Round robin, so that no case alone pays for a cold start or a late GC.
    for (let rep = 0; rep < REPEATS; rep++) {
      for (const [i, c] of CASES.entries()) {
        const m = await c.run();
        result.cases[i].runs.push(m.ms);
        result.cases[i].rows.push(m.rows);
        result.cases[i].sync.push(m.sync);
        // Let timers and idle work of the previous run settle.
        await pause(50);
      }
    }
    for (const c of result.cases) {
      c.median = median(c.runs);
      c.max = Math.max(...c.runs);
    }
  } catch (err) {
    result.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  }
  result.done = true;
}

void main();

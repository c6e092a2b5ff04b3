import type {
  Agent,
  AgentLoad,
  AgentProfile,
  Board,
  BoardEntry,
  BreachItem,
  BreachReport,
  CannedResponse,
  Conversation,
  ConversationDetail,
  Handoff,
  Message,
  MetricsReport,
  OutboxEntry,
  SavedServer,
  Session,
  Team,
  TeamLoad,
  TimelineEvent,
} from '../lib/types';

export const NOW = Date.UTC(2025, 2, 12, 15, 0, 0);

export const agent: Agent = {
  id: 7,
  workspace_id: 1,
  email: 'ana@example.com',
  name: 'Ana Agent',
  role: 'agent',
  availability: 'online',
};

export const session: Session = {
  server_url: 'http://127.0.0.1:8080',
  agent,
  workspace_name: 'Acme Support',
};

export function conversation(overrides: Partial<Conversation> = {}): Conversation {
  return {
    id: 1,
    workspace_id: 1,
    contact: { id: 11, wa_id: '15551230001', bsuid: null, name: 'Maria Lopez', attributes: {} },
    phone_number_id: 'PN1',
    state: 'assigned',
    priority: 'normal',
    assignee_id: agent.id,
    team_id: null,
    active_handoff_id: 100,
    last_message_preview: 'I want to talk to a person',
    last_message_at: NOW - 5 * 60_000,
    // On the real clock, so that the 24-hour reply window is open whenever tests run.
    last_inbound_at: Date.now() - 5 * 60_000,
    created_at: NOW - 3_600_000,
    updated_at: NOW - 5 * 60_000,
    labels: [],
    ...overrides,
  };
}

let nextId = 1000;
export function message(overrides: Partial<Message> = {}): Message {
  const id = overrides.id ?? nextId++;
  return {
    id,
    conversation_id: 1,
    wamid: `wamid.${id}`,
    client_id: null,
    direction: 'inbound',
    author: 'customer',
    agent_id: null,
    kind: 'text',
    text: 'hello',
    status: 'received',
    error: null,
    sent_at: NOW - 10 * 60_000,
    created_at: NOW - 10 * 60_000,
    ...overrides,
  };
}

export function handoff(overrides: Partial<Handoff> = {}): Handoff {
  return {
    id: 100,
    conversation_id: 1,
    trigger: 'customer_request',
    status: 'assigned',
    reason: 'Refund request',
    priority: 'high',
    summary: 'Customer was charged twice for order #88.',
    requested_by: 'customer',
    team_id: null,
    assignee_id: agent.id,
    trigger_detail: 'human',
    confidence: null,
    sentiment: null,
    workflow: null,
    requested_skill: null,
    context: {},
    requested_at: NOW - 6 * 60_000,
    assigned_at: NOW - 5 * 60_000,
    first_response_at: NOW - 4 * 60_000,
    resolved_at: null,
    returned_at: null,
    resolution_note: null,
    transfer_note: null,
    routed_by: null,
    sla: [],
    ...overrides,
  };
}

/**
 * A handoff as an older server sent it: none of the fields added with the
 * richer triggers (detail, scores, workflow, skill, context, extra timeline),
 * nor transfers, routing and SLA clocks.
 */
export function legacyHandoff(overrides: Partial<Handoff> = {}): Handoff {
  const h: Partial<Handoff> = handoff(overrides);
  for (const key of [
    'trigger_detail',
    'confidence',
    'sentiment',
    'workflow',
    'requested_skill',
    'context',
    'first_response_at',
    'returned_at',
    'transfer_note',
    'routed_by',
    'sla',
  ] as const) {
    if (!(key in overrides)) delete h[key];
  }
  return h as Handoff;
}

export function detail(overrides: Partial<ConversationDetail> = {}): ConversationDetail {
  const conv = overrides.conversation ?? conversation();
  return {
    conversation: conv,
    messages: [
      message({ id: 1, conversation_id: conv.id, text: 'Hi, where is my order?', sent_at: NOW - 20 * 60_000 }),
      message({
        id: 2,
        conversation_id: conv.id,
        direction: 'outbound',
        author: 'bot',
        text: 'Let me check that for you.',
        status: 'read',
        sent_at: NOW - 19 * 60_000,
      }),
      message({ id: 3, conversation_id: conv.id, text: 'I want to talk to a person', sent_at: NOW - 7 * 60_000 }),
      message({
        id: 4,
        conversation_id: conv.id,
        direction: 'outbound',
        author: 'system',
        text: 'Conversation handed to an agent',
        status: 'sent',
        sent_at: NOW - 6 * 60_000,
      }),
      message({
        id: 5,
        conversation_id: conv.id,
        direction: 'outbound',
        author: 'agent',
        agent_id: agent.id,
        text: 'Hi Maria, I am on it.',
        status: 'delivered',
        sent_at: NOW - 4 * 60_000,
      }),
      message({
        id: 6,
        conversation_id: conv.id,
        direction: 'outbound',
        author: 'agent',
        agent_id: agent.id,
        text: 'Could you send the receipt?',
        status: 'failed',
        error: 'Re-engagement window closed',
        sent_at: NOW - 3 * 60_000,
      }),
      message({ id: 7, conversation_id: conv.id, kind: 'image', text: null, sent_at: NOW - 2 * 60_000 }),
    ],
    handoffs: [handoff({ conversation_id: conv.id })],
    ...overrides,
  };
}

/** A colleague as `agents()` lists them; `agent` (Ana, id 7) by default. */
export function agentProfile(overrides: Partial<AgentProfile> = {}): AgentProfile {
  return {
    id: agent.id,
    name: agent.name,
    email: agent.email,
    role: 'agent',
    availability: 'online',
    capacity: 5,
    skills: [],
    open_conversations: 1,
    team_ids: [1],
    last_seen_at: NOW,
    ...overrides,
  };
}

/** The workspace's people: Ana (you), Maya, Ben (a manager), Olga (a viewer). */
export const colleagues: AgentProfile[] = [
  agentProfile(),
  agentProfile({ id: 8, name: 'Maya Ruiz', email: 'maya.ruiz@example.com', open_conversations: 3 }),
  agentProfile({ id: 9, name: 'Ben Okafor', email: 'ben@example.com', role: 'manager', availability: 'away', open_conversations: 0 }),
  agentProfile({ id: 10, name: 'Olga Kim', email: 'olga.k@example.com', role: 'viewer' }),
];

export function team(overrides: Partial<Team> = {}): Team {
  return {
    id: 1,
    name: 'Support',
    is_default: true,
    strategy: 'round_robin',
    sticky: false,
    manager_id: 9,
    business_hours: null,
    member_ids: [7, 8, 9],
    ...overrides,
  };
}

export function canned(overrides: Partial<CannedResponse> = {}): CannedResponse {
  return {
    id: 1,
    team_id: null,
    shortcut: 'hello',
    title: 'Greeting',
    body: 'Hi {{contact.name}}, thanks for reaching out!',
    ...overrides,
  };
}

let nextLocal = 1;
/** A change made in the desktop app, waiting for the server (a claim of conversation 1 by default). */
export function outboxEntry(overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  const localId = overrides.local_id ?? nextLocal++;
  return {
    local_id: localId,
    client_id: `change-${localId}`,
    kind: 'claim',
    conversation_id: 1,
    text: '',
    payload: null,
    reply_to: null,
    created_at: NOW - 60_000,
    state: 'pending',
    error: null,
    ...overrides,
  };
}

/** A sign-in the desktop app keeps (Ana on the default server, current, by default). */
export function savedServer(overrides: Partial<SavedServer> = {}): SavedServer {
  return {
    server_url: session.server_url,
    email: agent.email,
    workspace_name: session.workspace_name,
    agent_name: agent.name,
    last_used_at: NOW,
    signed_in: true,
    current: true,
    ...overrides,
  };
}

// ---- the manager console ------------------------------------------------------------

/** A manager (Ben, id 9): sees the board and the metrics. */
export const managerSession: Session = {
  server_url: session.server_url,
  agent: { id: 9, workspace_id: 1, email: 'ben@example.com', name: 'Ben Okafor', role: 'manager', availability: 'online' },
  workspace_name: session.workspace_name,
};

/**
 * An open handoff on the board: Maria Lopez waiting in Support (conversation 1) by default.
 * Unless given, `sla_warn_at` is the clock's 75% point (from `requested_at` to `sla_due_at`):
 * by default a 30-minute target, due in 20 minutes, warned in 12.5.
 */
export function boardEntry(overrides: Partial<BoardEntry> = {}): BoardEntry {
  const id = overrides.conversation_id ?? 1;
  const requestedAt = overrides.requested_at ?? NOW - 10 * 60_000;
  const dueAt = overrides.sla_due_at === undefined ? NOW + 20 * 60_000 : overrides.sla_due_at;
  const warnAt = dueAt === null ? null : dueAt - Math.round((dueAt - requestedAt) / 4);
  return {
    conversation_id: id,
    handoff_id: 100 + id,
    contact_name: 'Maria Lopez',
    status: 'waiting',
    team_id: 1,
    assignee_id: null,
    priority: 'normal',
    trigger: 'customer_request',
    reason: 'Asked for a person',
    requested_at: requestedAt,
    sla_kind: 'first_response',
    sla_due_at: dueAt,
    sla_warn_at: warnAt,
    at_risk: false,
    breached: false,
    ...overrides,
  };
}

export function agentLoad(overrides: Partial<AgentLoad> = {}): AgentLoad {
  return {
    id: 7,
    name: 'Ana Agent',
    role: 'agent',
    availability: 'online',
    capacity: 5,
    open_conversations: 1,
    at_risk: 0,
    last_reply_at: NOW - 5 * 60_000,
    team_ids: [1],
    ...overrides,
  };
}

export function teamLoad(overrides: Partial<TeamLoad> = {}): TeamLoad {
  return { id: 1, name: 'Support', waiting: 1, online_agents: 2, oldest_waiting_at: NOW - 10 * 60_000, ...overrides };
}

/** The board at NOW: Ana (7), Maya (8), Ben (9, the manager), Olga (10, a viewer); Support and Billing. */
export function board(overrides: Partial<Board> = {}): Board {
  return {
    now: NOW,
    cursor: 1,
    conversations: [boardEntry()],
    agents: [
      agentLoad(),
      agentLoad({ id: 8, name: 'Maya Ruiz', open_conversations: 4, at_risk: 1 }),
      agentLoad({ id: 9, name: 'Ben Okafor', role: 'manager', availability: 'away', open_conversations: 0 }),
      agentLoad({ id: 10, name: 'Olga Kim', role: 'viewer', open_conversations: 0 }),
    ],
    teams: [teamLoad(), teamLoad({ id: 2, name: 'Billing', waiting: 0, online_agents: 1, oldest_waiting_at: null })],
    ...overrides,
  };
}

/** A week of escalations (7 daily points from `from`). */
export function metricsReport(overrides: Partial<MetricsReport> = {}): MetricsReport {
  const day = 86_400_000;
  const from = NOW - 7 * day;
  return {
    from,
    to: NOW,
    bucket_ms: day,
    conversations: 400,
    handoffs: 50,
    escalation_rate: 0.125,
    healthy_band: [0.05, 0.2],
    series: Array.from({ length: 7 }, (_, i) => ({
      start: from + i * day,
      conversations: 50 + i * 2,
      handoffs: 5 + i,
      rate: (5 + i) / (50 + i * 2),
    })),
    first_response: {
      count: 48,
      median_ms: 125_000,
      p90_ms: 600_000,
      histogram: [
        { le_ms: 60_000, count: 10 },
        { le_ms: 300_000, count: 25 },
        { le_ms: 3_600_000, count: 10 },
        { le_ms: null, count: 3 },
      ],
    },
    resolution: {
      count: 40,
      median_ms: 3_000_000,
      p90_ms: 10_800_000,
      histogram: [
        { le_ms: 3_600_000, count: 25 },
        { le_ms: null, count: 15 },
      ],
    },
    by_trigger: [
      { trigger: 'keyword', handoffs: 12 },
      { trigger: 'customer_request', handoffs: 30 },
      { trigger: 'low_confidence', handoffs: 8 },
    ],
    returned: { handoffs: 50, resolved: 35, timed_out: 5, share: 0.8 },
    workflows: { active: 120, handoff: 6, failed: 2, resolved: 300 },
    ...overrides,
  };
}

export function breachItem(overrides: Partial<BreachItem> = {}): BreachItem {
  return {
    conversation_id: 1,
    handoff_id: 101,
    contact_name: 'Maria Lopez',
    kind: 'first_response',
    outcome: 'breached',
    team_id: 1,
    agent_id: 8,
    priority: 'high',
    trigger: 'customer_request',
    target_ms: 900_000,
    at: NOW - 3_600_000,
    ...overrides,
  };
}

export function breachReport(overrides: Partial<BreachReport> = {}): BreachReport {
  return {
    from: NOW - 7 * 86_400_000,
    to: NOW,
    items: [
      breachItem(),
      breachItem({ conversation_id: 2, handoff_id: 102, contact_name: 'Tom Baker', outcome: 'near_miss', kind: 'resolution', agent_id: 7, priority: 'normal', target_ms: 14_400_000 }),
    ],
    by_team: [{ key: '1', label: 'Support', breaches: 1, near_misses: 1 }],
    by_agent: [
      { key: '8', label: 'Maya Ruiz', breaches: 1, near_misses: 0 },
      { key: '7', label: 'Ana Agent', breaches: 0, near_misses: 1 },
    ],
    by_priority: [
      { key: 'high', label: 'High', breaches: 1, near_misses: 0 },
      { key: 'normal', label: 'Normal', breaches: 0, near_misses: 1 },
    ],
    by_trigger: [{ key: 'customer_request', label: 'Customer asked for a person', breaches: 1, near_misses: 1 }],
    ...overrides,
  };
}

export function timelineEvent(overrides: Partial<TimelineEvent> = {}): TimelineEvent {
  return { at: NOW - 10 * 60_000, kind: 'requested', actor: 'bot', detail: 'Customer asked for a person', ...overrides };
}

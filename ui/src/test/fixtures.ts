import type {
  Agent,
  AgentProfile,
  CannedResponse,
  Conversation,
  ConversationDetail,
  Handoff,
  Message,
  OutboxEntry,
  SavedServer,
  Session,
  Team,
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

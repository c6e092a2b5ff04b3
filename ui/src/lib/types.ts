// Wire types shared with the Rust side (handoff-core / src-tauri) and the
// Handoff HTTP server. Field names are snake_case exactly as serialised.
// Ids are numbers; all times are unix milliseconds.

import type { ErrorCode } from './errors';

export type Role = 'admin' | 'manager' | 'agent' | 'viewer';
export type Availability = 'online' | 'away' | 'offline';
export type ConversationState = 'automation' | 'waiting' | 'assigned';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';
/** `note`: an internal note between agents (author `agent`, kind `note`), never sent to the customer. */
export type Direction = 'inbound' | 'outbound' | 'note';
export type Author = 'customer' | 'bot' | 'agent' | 'system';
export type MessageStatus =
  | 'received'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'read'
  | 'failed';
export type HandoffTrigger =
  | 'customer_request'
  | 'keyword'
  | 'low_confidence'
  | 'repeated_failure'
  | 'negative_sentiment'
  | 'contact_rule'
  | 'api'
  | 'lead';
export type HandoffStatus = 'waiting' | 'assigned' | 'resolved' | 'timed_out';

export interface Agent {
  id: number;
  workspace_id: number;
  email: string;
  name: string;
  role: Role;
  availability: Availability;
}

export interface Contact {
  id: number;
  wa_id: string | null;
  bsuid: string | null;
  name: string | null;
  /** CRM / lead attributes (`vip: true`, `crm_id`, ...). Missing in older data. */
  attributes?: Record<string, unknown>;
}

export type WorkflowStatus = 'active' | 'handoff' | 'failed' | 'resolved';

export interface Conversation {
  id: number;
  workspace_id: number;
  contact: Contact;
  phone_number_id: string;
  state: ConversationState;
  priority: Priority;
  assignee_id: number | null;
  team_id: number | null;
  active_handoff_id: number | null;
  /** Where the automation side stands (older servers omit it). */
  workflow_status?: WorkflowStatus;
  last_message_preview: string | null;
  last_message_at: number | null;
  last_inbound_at: number | null;
  created_at: number;
  updated_at: number;
  /** Labels agents put on the conversation (older servers omit it: treat as []). */
  labels?: string[];
  /**
   * When the earliest running SLA clock of the active handoff is due (ms); null or
   * absent when none runs (older servers omit it).
   */
  sla_due_at?: number | null;
  /** Which clock `sla_due_at` is: `first_response` or `resolution` (or anything newer). */
  sla_kind?: string | null;
}

export interface Message {
  id: number;
  conversation_id: number;
  wamid: string | null;
  client_id: string | null;
  direction: Direction;
  author: Author;
  agent_id: number | null;
  /** WhatsApp message type: "text", "image", "audio", ... (or anything newer). */
  kind: string;
  /** One-line summary made by the server: body, caption, button title, ... */
  text: string | null;
  /**
   * The message as WhatsApp described it. Inbound: Meta's message object as in
   * webhooks (`type`, the type's own object under its name, `context`, `referral`,
   * `errors`, unknown fields kept). Outbound: the message as sent to WhatsApp,
   * `{type, [type]: object, context?: {id}}` (`context.id` is the quoted message's
   * wamid, as inbound); outbound templates: the template object
   * `{name, language: {code}, components}`. Absent in older data; never trusted
   * to have any particular shape.
   */
  content?: unknown | null;
  /** The file of a media message (image, video, audio, document, sticker); absent otherwise and in older data. */
  media?: MediaInfo | null;
  status: MessageStatus;
  error: string | null;
  sent_at: number;
  created_at: number;
}

/** Where the server stands in fetching a media message's file. */
export type MediaStatus = 'pending' | 'ready' | 'failed';

export interface MediaInfo {
  status: MediaStatus;
  mime_type: string | null;
  /** Bytes. */
  size: number | null;
  /** Why the fetch failed, when `status` is `failed`. */
  error: string | null;
}

export interface Handoff {
  id: number;
  conversation_id: number;
  trigger: HandoffTrigger;
  status: HandoffStatus;
  reason: string;
  priority: Priority;
  summary: string | null;
  requested_by: string;
  team_id: number | null;
  assignee_id: number | null;
  // The optional (`?:`) fields were added later; older data may lack them (treat as null / {}).
  /** Which rule fired: `human`, `refund: "money back"`, `VIP customer`, `0.41 < 0.80`, ... */
  trigger_detail?: string | null;
  /** The bot's confidence when it handed off, 0..1. */
  confidence?: number | null;
  /** The customer's sentiment, -1..1. */
  sentiment?: number | null;
  /** The workflow, execution and node that handed off. */
  workflow?: WorkflowRef | null;
  requested_skill?: string | null;
  /** Free key-value context: CRM or lead fields, the bot's withheld draft, ... */
  context?: Record<string, unknown>;
  /** Timeline: requested → assigned → first response → resolved → returned to automation. */
  requested_at: number;
  assigned_at: number | null;
  first_response_at?: number | null;
  resolved_at: number | null;
  returned_at?: number | null;
  resolution_note: string | null;
  /** Left by whoever transferred the conversation: the receiver reads it first. */
  transfer_note?: string | null;
  /** The routing rule that chose the team, when one did. */
  routed_by?: string | null;
  /** Its SLA clocks (first response, next responses, resolution); treat missing as []. */
  sla?: SlaClock[];
}

export type SlaKind = 'first_response' | 'next_response' | 'resolution';

/** One SLA clock of a handoff. */
export interface SlaClock {
  kind: SlaKind;
  target_ms: number;
  started_at: number;
  /** When it warns and breaches (wall clock), unless paused or stopped first. */
  warn_at: number | null;
  due_at: number | null;
  paused: boolean;
  warned_at: number | null;
  breached_at: number | null;
  stopped_at: number | null;
}

/** Where in an automation a handoff came from. */
export interface WorkflowRef {
  workflow_id?: string | null;
  execution_id?: string | null;
  node_id?: string | null;
}

export interface ConversationDetail {
  conversation: Conversation;
  messages: Message[];
  handoffs: Handoff[];
}

export interface Session {
  server_url: string;
  agent: Agent;
  workspace_name: string;
}

/** Body of `POST /v1/auth/login`. */
export interface LoginResponse {
  /** The access token (short-lived): `Authorization: Bearer ...`. */
  token: string;
  expires_at: number;
  agent: Agent;
  workspace_name: string;
  /** Exchanged at `POST /v1/auth/refresh` for new tokens; each works once. Older servers omit it. */
  refresh_token?: string | null;
  refresh_expires_at?: number | null;
  session_id?: number | null;
}

/** Body of `POST /v1/auth/refresh`. */
export interface RefreshRequest {
  refresh_token: string;
}

/** Answer of `POST /v1/auth/refresh`: new tokens for the same session. */
export interface RefreshResponse {
  token: string;
  expires_at: number;
  refresh_token: string;
  refresh_expires_at: number;
}

/** The JSON body of every error response (and of every desktop IPC error). */
export interface ApiError {
  code: ErrorCode;
  message: string;
  /**
   * Machine-readable facts about the error, per code (`already_claimed`: `owner`
   * `{id, name}`; `rate_limited`: `retry_after_secs`). Never trusted to have any shape.
   */
  details?: Record<string, unknown>;
}

/** A WhatsApp message template (`GET /v1/templates`). */
export interface Template {
  name: string;
  language: string;
  /** `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, ... */
  status: string;
  /** `UTILITY`, `MARKETING`, `AUTHENTICATION`, ... */
  category: string | null;
  quality: string | null;
  /** Meta's components (`[{type: "BODY", text: "Hi {{1}}"}, ...]`); never trusted to have any shape. */
  components: unknown;
  rejection_reason: string | null;
  updated_at: number;
}

/** Maximum length of a WhatsApp text message body. */
export const MAX_MESSAGE_CHARS = 4096;

/** Maximum length of a media caption, and of the body of an interactive message. */
export const MAX_CAPTION_CHARS = 1024;

/** Reply buttons of an interactive message: how many, and the length of a title. */
export const MAX_REPLY_BUTTONS = 3;
export const MAX_BUTTON_TITLE_CHARS = 20;

/** A saved reply (`GET /v1/canned-responses`). Its body may hold `{{contact.name}}`-style variables. */
export interface CannedResponse {
  id: number;
  /** null: for the whole workspace. */
  team_id: number | null;
  /** What the agent types after `/` to find it, e.g. `refund`. */
  shortcut: string;
  title: string;
  body: string;
}

/** A canned response filled in for one conversation. */
export interface RenderedResponse {
  text: string;
  /** Variables that had no value here (left empty in `text`), e.g. `contact.order`. */
  missing: string[];
}

/** A colleague as `GET /v1/agents` lists them: role, availability and load. */
export interface AgentProfile {
  id: number;
  name: string;
  email: string;
  role: Role;
  availability: Availability;
  capacity: number;
  skills: string[];
  /** Conversations assigned to them now. */
  open_conversations: number;
  team_ids: number[];
  last_seen_at: number | null;
}

/** How a team hands out its queue (or anything newer). */
export type RoutingStrategy = 'round_robin' | 'least_loaded' | (string & {});

/** When a team works; a team without business hours is always open. */
export interface BusinessHours {
  utc_offset_minutes: number;
  /** `mon`..`sun`, each with `["09:00", "17:30"]` intervals. */
  days: Record<string, [string, string][]>;
  /** `YYYY-MM-DD` dates when the team does not work. */
  holidays: string[];
}

export interface Team {
  id: number;
  name: string;
  /** Handoffs no rule routes go here. */
  is_default: boolean;
  strategy: RoutingStrategy;
  sticky: boolean;
  manager_id: number | null;
  business_hours: BusinessHours | null;
  member_ids: number[];
}

/** What an agent is doing on a conversation, as colleagues see it. */
export type PresenceState = 'viewing' | 'typing' | 'draft' | 'left';

/** Someone else is viewing, typing in or holding a draft for a conversation (`left`: stopped). */
export interface PresenceEvent {
  type: 'presence';
  conversation_id: number;
  agent_id: number;
  agent_name: string;
  state: PresenceState;
}

/** This agent was @mentioned in an internal note. */
export interface MentionedEvent {
  type: 'mentioned';
  conversation_id: number;
  message_id: number;
  by_name: string;
}

/** Live, unstored events pushed by the server besides `hello` / `poke`. */
export type LiveEvent = PresenceEvent | MentionedEvent;

/** Maximum length of an internal note. */
export const MAX_NOTE_CHARS = 10_000;

/** Labels: each 1 to 50 characters, at most 20 per conversation. */
export const MAX_LABEL_CHARS = 50;
export const MAX_LABELS = 20;

/**
 * One search result. `message_id` null: the conversation itself matched (contact,
 * labels, ...). `snippet` wraps the matched words in `[` `]`.
 */
export interface SearchHit {
  conversation_id: number;
  message_id: number | null;
  snippet: string;
}

/** What a change made in the desktop app does on the server. */
export type OutboxKind = 'reply' | 'note' | 'claim' | 'transfer' | 'resolve';

/**
 * A change made in the desktop app that waits for the server (`pending`: offline, or
 * being sent), or that the server refused (`failed`, with `error`). Replies and notes
 * also show in their thread as messages with a negative id and this `client_id`.
 */
export interface OutboxEntry {
  local_id: number;
  client_id: string;
  kind: OutboxKind;
  conversation_id: number;
  /** A reply's or note's text; a transfer's note; a resolve's note (may be empty). */
  text: string;
  /** A transfer's target: exactly one of them set. */
  payload: { agent_id: number | null; team_id: number | null } | null;
  /** The message a reply quotes. */
  reply_to: number | null;
  created_at: number;
  state: 'pending' | 'failed';
  /** Why the server refused it (`state: 'failed'`). */
  error: ApiError | null;
}

/** A server and account the desktop app signed in to (for switching between them). */
export interface SavedServer {
  server_url: string;
  email: string;
  workspace_name: string;
  agent_name: string;
  last_used_at: number;
  /** Its tokens are kept: switching to it needs no password. */
  signed_in: boolean;
  /** The sign-in the app runs now. */
  current: boolean;
}

// ---- the manager console (`GET /v1/board`, `/v1/metrics`, ...) ----------------

/** Where an open handoff stands on the board: in a queue, or with an agent. */
export type BoardStatus = 'waiting' | 'assigned';

/**
 * `GET /v1/board`: what needs a manager now. `conversations` come sorted by SLA risk
 * (breached most overdue first, then nearest due, then priority, then waiting time).
 */
export interface Board {
  /** The server's clock when the board was read: wait times and countdowns count from it. */
  now: number;
  /** The change sequence the board reflects. */
  cursor: number;
  conversations: BoardEntry[];
  agents: AgentLoad[];
  teams: TeamLoad[];
}

/** One open handoff on the board. */
export interface BoardEntry {
  conversation_id: number;
  handoff_id: number;
  contact_name: string;
  /** `waiting` (in a queue) or `assigned` (or anything newer). */
  status: BoardStatus | (string & {});
  team_id: number | null;
  assignee_id: number | null;
  priority: Priority;
  trigger: HandoffTrigger;
  reason: string;
  requested_at: number;
  /** The nearest running SLA clock (null when none runs or it is paused). */
  sla_kind: SlaKind | null;
  sla_due_at: number | null;
  /**
   * When that clock reaches its warning point (the policy's share of the target, e.g.
   * 75%); null when no clock runs.
   */
  sla_warn_at: number | null;
  /** Past its warning point or breached (at the board's `now`). */
  at_risk: boolean;
  breached: boolean;
}

/** An agent's load as the board shows it. */
export interface AgentLoad {
  id: number;
  name: string;
  role: Role;
  availability: Availability;
  capacity: number;
  open_conversations: number;
  /** Their open conversations that are at risk or breached. */
  at_risk: number;
  /** When they last replied to a customer. */
  last_reply_at: number | null;
  team_ids: number[];
}

/** A team's queue as the board shows it. */
export interface TeamLoad {
  id: number;
  name: string;
  waiting: number;
  online_agents: number;
  oldest_waiting_at: number | null;
}

/** The period and filters of `GET /v1/metrics` and `GET /v1/metrics/breaches`. */
export interface MetricsQuery {
  /** Start of the period (inclusive). */
  from: number;
  /** End of the period (exclusive). */
  to: number;
  /** Width of each point of the rate series (server default: one day). */
  bucket_ms?: number | null;
  team_id?: number | null;
  agent_id?: number | null;
  priority?: Priority | null;
  trigger?: HandoffTrigger | null;
  /** Count response and resolution times in business hours only. */
  business_hours?: boolean;
}

/** `GET /v1/metrics`: escalation figures over a period. */
export interface MetricsReport {
  from: number;
  to: number;
  bucket_ms: number;
  /** Conversations whose customer wrote in the period. */
  conversations: number;
  handoffs: number;
  /** handoffs / conversations (0 when there were none). */
  escalation_rate: number;
  /** The healthy range of the escalation rate, e.g. `[0.05, 0.2]`. */
  healthy_band: [number, number];
  series: RatePoint[];
  /** Request to first agent reply. */
  first_response: Distribution;
  /** Request to resolution by a person. */
  resolution: Distribution;
  by_trigger: TriggerCount[];
  returned: ReturnedShare;
  workflows: WorkflowCounts;
}

export interface RatePoint {
  start: number;
  conversations: number;
  handoffs: number;
  rate: number;
}

/** A duration distribution (ms). */
export interface Distribution {
  count: number;
  median_ms: number | null;
  p90_ms: number | null;
  histogram: HistogramBin[];
}

/** Durations of at most `le_ms` (and above the previous bin); `le_ms` null: the last, unbounded bin. */
export interface HistogramBin {
  le_ms: number | null;
  count: number;
}

export interface TriggerCount {
  trigger: HandoffTrigger;
  handoffs: number;
}

/** Of the period's handoffs, how many went back to automation: `share` = (resolved + timed_out) / handoffs. */
export interface ReturnedShare {
  handoffs: number;
  resolved: number;
  timed_out: number;
  share: number;
}

/** Workflow executions by status now. */
export interface WorkflowCounts {
  active: number;
  handoff: number;
  failed: number;
  resolved: number;
}

/** `GET /v1/metrics/breaches`: SLA breaches and near misses in the period. */
export interface BreachReport {
  from: number;
  to: number;
  items: BreachItem[];
  by_team: BreachGroup[];
  by_agent: BreachGroup[];
  by_priority: BreachGroup[];
  by_trigger: BreachGroup[];
}

export type BreachOutcome = 'breached' | 'near_miss';

export interface BreachItem {
  conversation_id: number;
  handoff_id: number;
  contact_name: string;
  kind: SlaKind;
  /** `breached` or `near_miss` (or anything newer). */
  outcome: BreachOutcome | (string & {});
  team_id: number | null;
  /** Who owned the conversation when it breached or was met. */
  agent_id: number | null;
  priority: Priority;
  trigger: HandoffTrigger;
  target_ms: number;
  /** When it breached, or when it was met. */
  at: number;
}

/** Breaches and near misses of one team, agent, priority or trigger. */
export interface BreachGroup {
  /** The team or agent id, the priority or the trigger (`none` when unset). */
  key: string;
  label: string;
  breaches: number;
  near_misses: number;
}

/** `GET /v1/handoffs/{id}/timeline`: one thing that happened to a handoff (oldest first). */
export interface TimelineEvent {
  at: number;
  /** `requested`, `assigned`, `claimed`, `transferred`, `priority_changed`, `sla_breached`, ... */
  kind: string;
  actor: string | null;
  detail: string;
}

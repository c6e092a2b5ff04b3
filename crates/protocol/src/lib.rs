//! Wire types shared by the Handoff server and the Handoff Inbox desktop app.
//!
//! Everything here is plain data with serde: ids, conversations, messages, handoffs,
//! live events, and the stable error codes that travel across the REST API and the
//! desktop app's IPC. No I/O lives in this crate.

mod error;
mod secret;

pub use error::{ApiError, ErrorCode};
pub use secret::SecretString;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

macro_rules! id_type {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A workspace: one business, its numbers, teams and agents.
    WorkspaceId,
    /// A person who answers conversations (agent, manager, admin or viewer).
    AgentId,
    /// A team of agents that a handoff is routed to.
    TeamId,
    /// A WhatsApp user as seen by one workspace.
    ContactId,
    /// One thread between a contact and one of the workspace's numbers.
    ConversationId,
    /// One message in a conversation, in either direction.
    MessageId,
    /// One handoff from automation to people; a conversation may have many.
    HandoffId,
);

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable text form, as stored in databases and sent on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }

            /// Parses the stable text form.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod routing;
pub use routing::*;
mod manager;
pub use manager::*;

str_enum!(
    /// Who owns a conversation right now: the handoff state machine.
    ///
    /// `automation` → (handoff) → `waiting` → (assignment) → `assigned` → (resolve) →
    /// `automation`.
    ConversationState {
        /// A bot or workflow answers; no person is involved.
        Automation = "automation",
        /// Handed off: waiting in a team's queue for a person. Automation is paused.
        Waiting = "waiting",
        /// A named agent owns the thread. Automation is paused.
        Assigned = "assigned",
    }
);

str_enum!(
    /// How urgent a handoff is.
    Priority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" }
);

str_enum!(
    /// Who wrote a message.
    Author {
        /// The WhatsApp user.
        Customer = "customer",
        /// The built-in rule bot or an external automation.
        Bot = "bot",
        /// A person using Handoff Inbox.
        Agent = "agent",
        /// Handoff itself (for example a transition notice).
        System = "system",
    }
);

str_enum!(
    /// Which way a message travelled.
    Direction {
        Inbound = "inbound",
        Outbound = "outbound",
        /// An internal note between agents: never sent to the customer.
        Note = "note",
    }
);

str_enum!(
    /// Where a message is on its way. Inbound messages are `received`; outbound ones move
    /// forward only: `queued` → `sending` → `sent` → `delivered` → `read`, or `failed`.
    DeliveryStatus {
        Received = "received",
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
    }
);

impl DeliveryStatus {
    /// Position on the forward-only path; a status update may only raise it.
    /// `failed` is terminal and outranks everything.
    pub fn rank(self) -> u8 {
        match self {
            DeliveryStatus::Received => 0,
            DeliveryStatus::Queued => 1,
            DeliveryStatus::Sending => 2,
            DeliveryStatus::Sent => 3,
            DeliveryStatus::Delivered => 4,
            DeliveryStatus::Read => 5,
            DeliveryStatus::Failed => 6,
        }
    }
}

str_enum!(
    /// Where the automation side of a conversation stands.
    WorkflowStatus {
        /// Automation is handling it.
        Active = "active",
        /// Handed off: people have it.
        Handoff = "handoff",
        /// The workflow reported a failure.
        Failed = "failed",
        /// People resolved it and nothing happened since.
        Resolved = "resolved",
    }
);

str_enum!(
    /// Whether an agent can take conversations.
    Availability { Online = "online", Away = "away", Offline = "offline" }
);

str_enum!(
    /// What an agent may do.
    Role { Admin = "admin", Manager = "manager", Agent = "agent", Viewer = "viewer" }
);

str_enum!(
    /// What caused a handoff.
    HandoffTrigger {
        /// The customer asked for a person ("human", "agent", ...).
        CustomerRequest = "customer_request",
        /// A keyword or intent list matched (refund, cancel, complaint, ...).
        Keyword = "keyword",
        /// The bot reported a confidence below the threshold.
        LowConfidence = "low_confidence",
        /// The bot gave N fallback answers in a row.
        RepeatedFailure = "repeated_failure",
        /// The customer's message scored below the sentiment threshold.
        NegativeSentiment = "negative_sentiment",
        /// A rule on contact attributes or context fields (VIP, order value, ...).
        ContactRule = "contact_rule",
        /// An external bot or workflow called `POST /v1/conversations/{id}/handoff`.
        Api = "api",
        /// A lead qualified on another channel moved into WhatsApp.
        Lead = "lead",
    }
);

str_enum!(
    /// Where a handoff is in its life.
    HandoffStatus {
        Waiting = "waiting",
        Assigned = "assigned",
        Resolved = "resolved",
        /// Nobody took it within the queue timeout: back to automation.
        TimedOut = "timed_out",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Agent {
    pub id: AgentId,
    pub workspace_id: WorkspaceId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub availability: Availability,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Contact {
    pub id: ContactId,
    /// Phone number as WhatsApp gives it (country code, no `+`), when known.
    pub wa_id: Option<String>,
    /// Business-scoped user id, when known.
    pub bsuid: Option<String>,
    /// Profile name the customer set in WhatsApp.
    pub name: Option<String>,
    /// Attributes from a CRM or the lead (VIP, order value, ...), read by contact rules.
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

impl Contact {
    /// What to show for this contact: profile name, else phone, else BSUID.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.wa_id.as_ref().map(|p| format!("+{p}")))
            .or_else(|| self.bsuid.clone())
            .unwrap_or_else(|| format!("contact {}", self.id))
    }
}

fn workflow_active() -> WorkflowStatus {
    WorkflowStatus::Active
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub contact: Contact,
    /// The business number (Meta's `phone_number_id`) this thread runs on.
    pub phone_number_id: String,
    pub state: ConversationState,
    pub priority: Priority,
    pub assignee_id: Option<AgentId>,
    pub team_id: Option<TeamId>,
    /// The open handoff, if the conversation is with people now.
    pub active_handoff_id: Option<HandoffId>,
    /// Where the automation side stands (derived).
    #[serde(default = "workflow_active")]
    pub workflow_status: WorkflowStatus,
    pub last_message_preview: Option<String>,
    pub last_message_at: Option<Millis>,
    /// When the customer last wrote (the 24-hour window runs from here).
    pub last_inbound_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Labels agents put on the conversation.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The earliest deadline of a running (not stopped, not paused) SLA clock on the
    /// open handoff: what a list shows as the countdown.
    #[serde(default)]
    pub sla_due_at: Option<Millis>,
    /// That clock's kind (`first_response`, `next_response`, `resolution`).
    #[serde(default)]
    pub sla_kind: Option<String>,
}

/// JSON kept as its text: passed along (stored, sent, synced) without being parsed into
/// a tree and written out again. `to_value` parses it when someone needs to look inside.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<serde_json::value::RawValue>);

impl RawJson {
    /// Checks that `text` is JSON and keeps it as it is.
    pub fn from_string(text: String) -> Result<RawJson, serde_json::Error> {
        serde_json::value::RawValue::from_string(text).map(RawJson)
    }

    pub fn get(&self) -> &str {
        self.0.get()
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &RawJson) -> bool {
        self.get() == other.get()
    }
}

impl schemars::JsonSchema for RawJson {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawJson".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "description": "Any JSON value" })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// WhatsApp's message id; unique. `None` until an outbound message is accepted.
    pub wamid: Option<String>,
    /// The sender's idempotency key for messages written through the API.
    pub client_id: Option<String>,
    pub direction: Direction,
    pub author: Author,
    pub agent_id: Option<AgentId>,
    /// WhatsApp's message type (`text`, `image`, ...), kept even when not yet rendered.
    pub kind: String,
    /// Text body, caption, or a readable summary of a non-text message.
    pub text: Option<String>,
    /// The message as WhatsApp described it (inbound: Meta's message object, with
    /// `context` for replies, the type's object such as `image` or `reaction`, and
    /// unknown fields kept; outbound templates: the template object).
    #[serde(default)]
    pub content: Option<RawJson>,
    /// For media messages: where the file is (fetched after the message is stored).
    #[serde(default)]
    pub media: Option<MediaState>,
    pub status: DeliveryStatus,
    /// Why sending failed, as Meta explained it.
    pub error: Option<String>,
    /// WhatsApp's own timestamp (inbound: when the customer sent it).
    pub sent_at: Millis,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Handoff {
    pub id: HandoffId,
    pub conversation_id: ConversationId,
    pub trigger: HandoffTrigger,
    pub status: HandoffStatus,
    pub reason: String,
    pub priority: Priority,
    pub summary: Option<String>,
    /// Who asked: `bot:rules`, or the name of the API caller.
    pub requested_by: String,
    pub team_id: Option<TeamId>,
    pub assignee_id: Option<AgentId>,
    /// Which rule fired: the phrase, `refund: "money back"`, a rule name, a score.
    #[serde(default)]
    pub trigger_detail: Option<String>,
    /// The bot's confidence when it handed off (0..1), where known.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// The customer's sentiment (-1..1), where known.
    #[serde(default)]
    pub sentiment: Option<f64>,
    /// The workflow, execution and node that handed off, where known.
    #[serde(default)]
    pub workflow: Option<WorkflowRef>,
    #[serde(default)]
    pub requested_skill: Option<String>,
    /// Free key-value context: CRM or lead fields, the bot's withheld draft, ...
    #[serde(default)]
    pub context: serde_json::Map<String, serde_json::Value>,
    /// Timeline: requested (and queued) → assigned → first response → resolved →
    /// returned to automation.
    pub requested_at: Millis,
    pub assigned_at: Option<Millis>,
    #[serde(default)]
    pub first_response_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    #[serde(default)]
    pub returned_at: Option<Millis>,
    pub resolution_note: Option<String>,
    /// Left by whoever transferred the conversation: the receiver reads it first.
    #[serde(default)]
    pub transfer_note: Option<String>,
    /// The routing rule that chose the team, when one did.
    #[serde(default)]
    pub routed_by: Option<String>,
    /// Its SLA clocks (first response, next responses, resolution).
    #[serde(default)]
    pub sla: Vec<SlaClock>,
}

/// Where in an automation a handoff came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkflowRef {
    #[serde(default)]
    pub workflow_id: Option<String>,
    #[serde(default)]
    pub execution_id: Option<String>,
    #[serde(default)]
    pub node_id: Option<String>,
}

// ---- REST requests and responses ----

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: SecretString,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoginResponse {
    /// The access token (short-lived): `Authorization: Bearer ...`.
    pub token: SecretString,
    pub expires_at: Millis,
    pub agent: Agent,
    pub workspace_name: String,
    /// Exchanged at `POST /v1/auth/refresh` for new tokens before or after the access
    /// token expires; each works once.
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
    #[serde(default)]
    pub refresh_expires_at: Option<Millis>,
    #[serde(default)]
    pub session_id: Option<i64>,
}

/// `POST /v1/auth/refresh`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RefreshRequest {
    pub refresh_token: SecretString,
}

/// New tokens for the same session.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RefreshResponse {
    pub token: SecretString,
    pub expires_at: Millis,
    pub refresh_token: SecretString,
    pub refresh_expires_at: Millis,
}

/// One signed-in device (`GET /v1/auth/sessions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SessionInfo {
    pub id: i64,
    pub user_agent: Option<String>,
    pub created_at: Millis,
    pub last_used_at: Millis,
    /// The session of the request that asked.
    pub current: bool,
}

/// `POST /v1/agents/{id}/password` (admins) and `POST /v1/me/password`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PasswordRequest {
    /// Required when changing one's own password.
    #[serde(default)]
    pub current_password: Option<SecretString>,
    pub new_password: SecretString,
}

/// What an API token may do.
pub const API_SCOPES: &[&str] = &[
    // Read conversations, messages, media, templates, teams, agents and settings.
    "conversations:read",
    // Hand off, answer as the bot, send templates, set contact attributes and workflow status.
    "conversations:write",
    // Hand off leads from forms and ads.
    "leads:write",
    // Manage project webhook subscriptions.
    "webhooks:manage",
    // Change triggers, handoff settings and automations.
    "settings:manage",
    // Read escalation metrics, breach reviews and handoff timelines; scrape `/metrics`.
    "metrics:read",
];

/// `POST /v1/api-tokens` (admins).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApiTokenRequest {
    pub name: String,
    pub scopes: Vec<String>,
    /// Days until it expires; none: until revoked.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    /// Only in the answer to its creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<SecretString>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HandoffRequest {
    pub reason: String,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub team_id: Option<TeamId>,
    /// The bot's confidence (0..1), if it knows it.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// The customer's sentiment (-1..1), if the bot measured it.
    #[serde(default)]
    pub sentiment: Option<f64>,
    #[serde(default)]
    pub workflow: Option<WorkflowRef>,
    /// A skill the person should have (routing by skill comes with the routing work).
    #[serde(default)]
    pub skill: Option<String>,
    /// Free key-value context shown to the agent (CRM fields, order, lead data).
    #[serde(default)]
    pub context: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SendMessageRequest {
    /// Idempotency key chosen by the client: the same key is applied once.
    pub client_id: String,
    /// The text; the caption of an attachment; the body of an interactive message.
    #[serde(default)]
    pub text: String,
    /// Quote this message of the conversation (WhatsApp's `context`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
    /// Send this uploaded file (`POST /v1/conversations/{id}/attachments`), `text` as
    /// its caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<i64>,
    /// Send reply buttons or a list, `text` as the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<InteractiveRequest>,
}

/// An interactive message to send: up to 3 reply buttons, or a list of up to 10 rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InteractiveRequest {
    Button { buttons: Vec<ReplyButton> },
    List { button: String, sections: Vec<ListSection> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReplyButton {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ListSection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A file uploaded to send (answer of `POST /v1/conversations/{id}/attachments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attachment {
    pub id: i64,
    /// How WhatsApp sends it: `image`, `video`, `audio` or `document`.
    pub kind: String,
    pub mime_type: String,
    pub filename: Option<String>,
    pub size: i64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResolveRequest {
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AvailabilityRequest {
    pub availability: Availability,
}

/// A media file's state: `pending` (being fetched), `ready` (at
/// `GET /v1/media/{message_id}`) or `failed` (with the reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MediaState {
    pub status: String,
    pub mime_type: Option<String>,
    pub size: Option<i64>,
    pub error: Option<String>,
}

/// An approved-or-not message template, as the registry knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Template {
    pub name: String,
    pub language: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, ...
    pub status: String,
    pub category: Option<String>,
    pub quality: Option<String>,
    /// Meta's components (`[{type: "BODY", text: "Hi {{1}}"}, ...]`).
    pub components: serde_json::Value,
    pub rejection_reason: Option<String>,
    pub updated_at: Millis,
}

/// `POST /v1/conversations/{id}/template`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SendTemplateRequest {
    pub client_id: String,
    pub name: String,
    pub language: String,
    /// Body parameters, in order.
    #[serde(default)]
    pub parameters: Vec<String>,
    /// Named body parameters.
    #[serde(default)]
    pub named_parameters: serde_json::Map<String, serde_json::Value>,
}

/// One of the workspace's WhatsApp business numbers (`GET /v1/numbers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BusinessNumberInfo {
    /// Meta's id of the number: webhooks are routed on it.
    pub phone_number_id: String,
    pub display_phone_number: String,
    /// The WhatsApp Business Account the number belongs to (templates live there).
    pub waba_id: Option<String>,
    pub created_at: i64,
}

/// `POST /v1/numbers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RegisterNumberRequest {
    pub phone_number_id: String,
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub waba_id: Option<String>,
}

/// One thread with everything needed to show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConversationDetail {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
    pub handoffs: Vec<Handoff>,
}

/// `GET /v1/sync?cursor=N`: what changed after `cursor` that the caller may see.
///
/// Rows are current state (upsert by id). When a conversation becomes visible to the
/// caller (a handoff reaches them or their team) its whole history is included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SyncResponse {
    /// Pass this back as `cursor` next time.
    pub cursor: i64,
    /// More changes wait: pull again at once.
    pub has_more: bool,
    pub conversations: Vec<Conversation>,
    pub messages: Vec<Message>,
    pub handoffs: Vec<Handoff>,
    /// Conversations the caller saw before and may not any more (a teammate took it
    /// from the queue, it was transferred away): drop the local copy.
    #[serde(default)]
    pub removed: Vec<ConversationId>,
    /// A snapshot (`snapshot=` in the query) has more pages: ask again with
    /// `snapshot=<this>` and the same `cursor`.
    #[serde(default)]
    pub snapshot_after: Option<i64>,
}

/// Sent by the server over the `/v1/events` WebSocket. Data-free: a client that sees a
/// cursor above its own pulls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// First frame on a new connection: the newest change sequence.
    Hello { cursor: i64 },
    /// Something changed in the workspace; the newest change sequence.
    Poke { cursor: i64 },
    /// Someone else is viewing, typing in, or holding a draft for a conversation the
    /// receiver can see (`left` when they stopped). Not stored: live only.
    Presence { conversation_id: ConversationId, agent_id: AgentId, agent_name: String, state: PresenceState },
    /// The receiver was @mentioned in a note.
    Mentioned { conversation_id: ConversationId, message_id: MessageId, by_name: String },
}

/// An internal note (`POST /v1/conversations/{id}/notes`). `@name` (an email's local
/// part or a first name) mentions a colleague, who is notified and may then see the
/// conversation.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NoteRequest {
    pub text: String,
    /// Idempotency key: a retried note is stored once.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// A mention of the caller in a note (`GET /v1/me/mentions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mention {
    pub id: i64,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub by: AgentId,
    pub by_name: String,
    pub text: String,
    pub created_at: Millis,
    pub read_at: Option<Millis>,
}

/// A saved reply. `{{contact.name}}`, `{{contact.phone}}`, `{{contact.<attribute>}}`,
/// `{{agent.name}}`, `{{agent.first_name}}` are filled in when it is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CannedResponse {
    pub id: i64,
    /// `None`: for the whole workspace.
    pub team_id: Option<TeamId>,
    pub shortcut: String,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CannedResponseRequest {
    #[serde(default)]
    pub team_id: Option<TeamId>,
    #[serde(default)]
    pub shortcut: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
}

/// A canned response filled in for one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RenderedResponse {
    pub text: String,
    /// Variables that had no value here (left empty in `text`).
    pub missing: Vec<String>,
}

/// What the desktop app sends over `/v1/events` (or `PUT .../presence`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientEvent {
    Presence {
        conversation_id: ConversationId,
        state: PresenceState,
    },
    /// The person is at the keyboard (keeps them from going away when idle).
    Active,
}

str_enum!(
    PresenceState { Viewing = "viewing", Typing = "typing", Draft = "draft", Left = "left" }
);

/// Who else is on a conversation (`GET /v1/conversations/{id}/presence`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PresenceEntry {
    pub agent_id: AgentId,
    pub agent_name: String,
    pub state: PresenceState,
    pub since: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_stable_text() {
        for s in ConversationState::ALL {
            assert_eq!(ConversationState::parse(s.as_str()), Some(*s));
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(Priority::parse("urgent"), Some(Priority::Urgent));
        assert_eq!(Priority::parse("URGENT"), None);
    }

    #[test]
    fn delivery_status_only_moves_forward() {
        assert!(DeliveryStatus::Read.rank() > DeliveryStatus::Delivered.rank());
        assert!(DeliveryStatus::Failed.rank() > DeliveryStatus::Read.rank());
        assert!(DeliveryStatus::Sent.rank() > DeliveryStatus::Queued.rank());
    }

    #[test]
    fn server_events_are_tagged() {
        let e: ServerEvent = serde_json::from_str(r#"{"type":"poke","cursor":7}"#).unwrap();
        assert_eq!(e, ServerEvent::Poke { cursor: 7 });
    }

    #[test]
    fn contact_display_name_falls_back() {
        let mut c = Contact {
            id: ContactId(3),
            wa_id: Some("15550001".into()),
            bsuid: None,
            name: None,
            attributes: Default::default(),
        };
        assert_eq!(c.display_name(), "+15550001");
        c.name = Some("Ana".into());
        assert_eq!(c.display_name(), "Ana");
    }
}

#[cfg(test)]
mod raw_json_tests {
    use super::RawJson;

    #[test]
    fn raw_json_passes_through_unchanged_and_from_values() {
        let text = r#"{"b":1,"a":[true,null],"t":"é"}"#;
        let raw = RawJson::from_string(text.to_owned()).unwrap();
        assert_eq!(serde_json::to_string(&raw).unwrap(), text, "written back as it came, key order included");
        let back: RawJson = serde_json::from_str(text).unwrap();
        assert_eq!(back, raw);
        assert_eq!(raw.to_value()["a"][0], true);
        // From an already-parsed value (as `serde_json::from_value` does).
        let from_value: Option<RawJson> = serde_json::from_value(serde_json::json!({"x": 1})).unwrap();
        assert_eq!(from_value.unwrap().to_value()["x"], 1);
        let none: Option<RawJson> = serde_json::from_value(serde_json::Value::Null).unwrap();
        assert!(none.is_none());
        assert!(RawJson::from_string("{not json".into()).is_err());
    }
}

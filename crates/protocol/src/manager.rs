//! The manager console: the live board, breach review and escalation metrics.

use serde::{Deserialize, Serialize};

use crate::{
    AgentId, Availability, ConversationId, HandoffId, HandoffTrigger, Millis, Priority, Role, SlaKind, TeamId,
};

/// `GET /v1/board`: what needs a manager now. Open handoffs sorted by SLA risk (the
/// closest to breach first, breached ones most overdue first; then by priority and
/// waiting time), every agent's load and every team's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Board {
    /// The server's clock when the board was read (wait times and countdowns count from it).
    pub now: Millis,
    /// The change sequence the board reflects (a poke above it means something changed).
    pub cursor: i64,
    /// Open handoffs: waiting ones and assigned ones, in risk order.
    pub conversations: Vec<BoardEntry>,
    pub agents: Vec<AgentLoad>,
    pub teams: Vec<TeamLoad>,
}

/// One open handoff on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BoardEntry {
    pub conversation_id: ConversationId,
    pub handoff_id: HandoffId,
    pub contact_name: String,
    /// `waiting` (in a queue) or `assigned`.
    pub status: String,
    pub team_id: Option<TeamId>,
    pub assignee_id: Option<AgentId>,
    pub priority: Priority,
    pub trigger: HandoffTrigger,
    pub reason: String,
    pub requested_at: Millis,
    /// The nearest running SLA clock (absent when none runs or it is paused).
    pub sla_kind: Option<SlaKind>,
    pub sla_due_at: Option<Millis>,
    /// When that clock reaches its warning point (the policy's share of the target).
    pub sla_warn_at: Option<Millis>,
    /// Past its warning point or breached.
    pub at_risk: bool,
    pub breached: bool,
}

/// An agent's load as the board shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AgentLoad {
    pub id: AgentId,
    pub name: String,
    pub role: Role,
    pub availability: Availability,
    pub capacity: i64,
    pub open_conversations: i64,
    /// Their open conversations that are at risk or breached.
    pub at_risk: i64,
    /// When they last replied to a customer.
    pub last_reply_at: Option<Millis>,
    pub team_ids: Vec<TeamId>,
}

/// A team's queue as the board shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TeamLoad {
    pub id: TeamId,
    pub name: String,
    pub waiting: i64,
    pub online_agents: i64,
    pub oldest_waiting_at: Option<Millis>,
}

/// `PUT /v1/conversations/{id}/priority`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PriorityRequest {
    pub priority: Priority,
}

/// The period and filters of `GET /v1/metrics` and `GET /v1/metrics/breaches`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MetricsQuery {
    /// Start of the period (inclusive), unix ms.
    pub from: Millis,
    /// End of the period (exclusive), unix ms.
    pub to: Millis,
    /// Width of each point of the escalation-rate series (default one day).
    #[serde(default)]
    pub bucket_ms: Option<i64>,
    #[serde(default)]
    pub team_id: Option<TeamId>,
    #[serde(default)]
    pub agent_id: Option<AgentId>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub trigger: Option<HandoffTrigger>,
    /// Count response and resolution times in the team's business hours only.
    #[serde(default)]
    pub business_hours: bool,
}

/// `GET /v1/metrics`: escalation figures over a period. A handoff counts in the period
/// when it was requested in it; a conversation counts when its customer wrote in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MetricsReport {
    pub from: Millis,
    pub to: Millis,
    pub bucket_ms: i64,
    /// Conversations whose customer wrote in the period.
    pub conversations: i64,
    pub handoffs: i64,
    /// handoffs / conversations (0 when there were no conversations).
    pub escalation_rate: f64,
    /// The healthy range of the escalation rate, for the chart's band.
    pub healthy_band: [f64; 2],
    pub series: Vec<RatePoint>,
    /// Request to first agent reply.
    pub first_response: Distribution,
    /// Request to resolution (resolved by a person).
    pub resolution: Distribution,
    pub by_trigger: Vec<TriggerCount>,
    pub returned: ReturnedShare,
    pub workflows: WorkflowCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RatePoint {
    pub start: Millis,
    pub conversations: i64,
    pub handoffs: i64,
    pub rate: f64,
}

/// A duration distribution (ms): nearest-rank median and p90, and a histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Distribution {
    pub count: i64,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    pub histogram: Vec<HistogramBin>,
}

/// Durations of at most `le_ms` (and above the previous bin); the last bin has no bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HistogramBin {
    pub le_ms: Option<i64>,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TriggerCount {
    pub trigger: HandoffTrigger,
    pub handoffs: i64,
}

/// Of the period's handoffs, how many are back with automation: resolved by a person,
/// or timed out in the queue; `share` = (resolved + timed_out) / handoffs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReturnedShare {
    pub handoffs: i64,
    pub resolved: i64,
    pub timed_out: i64,
    pub share: f64,
}

/// Workflow executions by status now (reported by the workflows themselves).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WorkflowCounts {
    pub active: i64,
    pub handoff: i64,
    pub failed: i64,
    pub resolved: i64,
}

/// `GET /v1/metrics/breaches`: SLA clocks that breached in the period, and near misses
/// (warned, then met) that stopped in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BreachReport {
    pub from: Millis,
    pub to: Millis,
    pub items: Vec<BreachItem>,
    pub by_team: Vec<BreachGroup>,
    pub by_agent: Vec<BreachGroup>,
    pub by_priority: Vec<BreachGroup>,
    pub by_trigger: Vec<BreachGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BreachItem {
    pub conversation_id: ConversationId,
    pub handoff_id: HandoffId,
    pub contact_name: String,
    pub kind: SlaKind,
    /// `breached` or `near_miss`.
    pub outcome: String,
    pub team_id: Option<TeamId>,
    /// Who owned the conversation when it breached or was met (or owns it now).
    pub agent_id: Option<AgentId>,
    pub priority: Priority,
    pub trigger: HandoffTrigger,
    pub target_ms: i64,
    /// When it breached, or when it was met.
    pub at: Millis,
}

/// Breaches and near misses of one team, agent, priority or trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BreachGroup {
    /// The team or agent id, the priority or the trigger (`none` when unset).
    pub key: String,
    pub label: String,
    pub breaches: i64,
    pub near_misses: i64,
}

/// `GET /v1/handoffs/{id}/timeline`: what happened to one handoff, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimelineEvent {
    pub at: Millis,
    /// `requested`, `assigned`, `claimed`, `transferred`, `priority_changed`,
    /// `first_response`, `sla_warning`, `sla_breached`, `resolved`, `timed_out`, ...
    pub kind: String,
    pub actor: Option<String>,
    pub detail: String,
}

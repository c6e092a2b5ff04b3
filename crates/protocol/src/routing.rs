//! Teams, routing rules, SLA policies and clocks: the wire types of the routing API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AgentId, Availability, HandoffTrigger, Millis, Priority, Role, TeamId};

str_enum!(
    /// How a team hands out its queue.
    RoutingStrategy {
        /// The online agent with room who was assigned least recently.
        RoundRobin = "round_robin",
        /// The online agent with the fewest open conversations (then round-robin).
        LeastLoaded = "least_loaded",
    }
);

str_enum!(
    /// What happens when a first response is late.
    BreachAction {
        /// Give the conversation to another online agent of the team with room.
        Reassign = "reassign",
        /// Give it to the team's manager.
        EscalateToManager = "escalate_to_manager",
        /// Only report it (events and webhooks).
        Notify = "notify",
    }
);

str_enum!(
    SlaKind {
        FirstResponse = "first_response",
        NextResponse = "next_response",
        Resolution = "resolution",
    }
);

/// When a team works, in a fixed offset from UTC. Days are `mon`..`sun`, each with
/// `["09:00", "17:30"]` intervals; `holidays` are `YYYY-MM-DD` dates (in the team's
/// offset) when it does not. A team without business hours is always open.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BusinessHours {
    #[serde(default)]
    pub utc_offset_minutes: i32,
    #[serde(default)]
    pub days: BTreeMap<String, Vec<[String; 2]>>,
    #[serde(default)]
    pub holidays: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    /// Handoffs no rule routes go here.
    pub is_default: bool,
    pub strategy: RoutingStrategy,
    pub sticky: bool,
    pub manager_id: Option<AgentId>,
    pub business_hours: Option<BusinessHours>,
    pub member_ids: Vec<AgentId>,
}

/// `POST /v1/teams` and `PATCH /v1/teams/{id}` (absent fields stay as they are).
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TeamRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub strategy: Option<RoutingStrategy>,
    #[serde(default)]
    pub sticky: Option<bool>,
    /// `Some(None)` clears it.
    #[serde(default, with = "double_option")]
    #[schemars(with = "Option<AgentId>")]
    pub manager_id: Option<Option<AgentId>>,
    #[serde(default, with = "double_option")]
    #[schemars(with = "Option<BusinessHours>")]
    pub business_hours: Option<Option<BusinessHours>>,
    #[serde(default)]
    pub member_ids: Option<Vec<AgentId>>,
}

/// An agent as managers see them: role, availability, capacity, skills and load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AgentProfile {
    pub id: AgentId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub availability: Availability,
    pub capacity: i64,
    pub skills: Vec<String>,
    /// Conversations assigned to them now.
    pub open_conversations: i64,
    pub team_ids: Vec<TeamId>,
    pub last_seen_at: Option<Millis>,
}

/// `PATCH /v1/agents/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AgentUpdate {
    #[serde(default)]
    pub capacity: Option<i64>,
    #[serde(default)]
    pub skills: Option<Vec<String>>,
    #[serde(default)]
    pub role: Option<Role>,
}

/// What a routing rule looks at. Every list given must contain the handoff's value;
/// every attribute given must equal the contact's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuleConditions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<HandoffTrigger>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priorities: Vec<Priority>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_number_ids: Vec<String>,
    /// The lead's `source` (leads API) or the handoff context's `lead_source`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lead_sources: Vec<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub contact_attributes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RoutingRule {
    pub id: i64,
    pub position: i64,
    pub name: String,
    pub conditions: RuleConditions,
    pub team_id: TeamId,
    /// Sets the handoff's priority when the rule matches.
    pub priority: Option<Priority>,
    pub enabled: bool,
}

/// `POST /v1/routing-rules`, `PATCH /v1/routing-rules/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RoutingRuleRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub position: Option<i64>,
    #[serde(default)]
    pub conditions: Option<RuleConditions>,
    #[serde(default)]
    pub team_id: Option<TeamId>,
    #[serde(default, with = "double_option")]
    #[schemars(with = "Option<Priority>")]
    pub priority: Option<Option<Priority>>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Targets for one priority, in seconds of business time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SlaTargets {
    pub first_response_secs: u64,
    pub next_response_secs: u64,
    pub resolution_secs: u64,
}

/// The workspace's SLA policy (`GET/PUT /v1/settings/sla`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct SlaPolicy {
    pub urgent: SlaTargets,
    pub high: SlaTargets,
    pub normal: SlaTargets,
    pub low: SlaTargets,
    /// Warn at this share of a target (0..1).
    pub warning_ratio: f64,
    /// Stop the resolution clock while the agent has answered and the customer has
    /// not (waiting on the customer).
    pub pause_while_waiting_on_customer: bool,
    /// What a late first response triggers.
    pub breach_action: BreachAction,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        let t = |f: u64, n: u64, r: u64| SlaTargets {
            first_response_secs: f * 60,
            next_response_secs: n * 60,
            resolution_secs: r * 60,
        };
        SlaPolicy {
            urgent: t(2, 5, 60),
            high: t(5, 10, 4 * 60),
            normal: t(15, 30, 24 * 60),
            low: t(30, 60, 72 * 60),
            warning_ratio: 0.75,
            pause_while_waiting_on_customer: true,
            breach_action: BreachAction::Reassign,
        }
    }
}

impl SlaPolicy {
    pub fn targets(&self, p: Priority) -> SlaTargets {
        match p {
            Priority::Urgent => self.urgent,
            Priority::High => self.high,
            Priority::Normal => self.normal,
            Priority::Low => self.low,
        }
    }
}

/// One SLA clock of a handoff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SlaClock {
    pub kind: SlaKind,
    pub target_ms: i64,
    pub started_at: Millis,
    /// When it warns and breaches (wall clock), unless paused or stopped first.
    pub warn_at: Option<Millis>,
    pub due_at: Option<Millis>,
    pub paused: bool,
    pub warned_at: Option<Millis>,
    pub breached_at: Option<Millis>,
    pub stopped_at: Option<Millis>,
}

/// `POST /v1/conversations/{id}/transfer`: to an agent or to a team's queue, with a
/// note the receiver sees first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TransferRequest {
    #[serde(default)]
    pub agent_id: Option<AgentId>,
    #[serde(default)]
    pub team_id: Option<TeamId>,
    pub note: String,
}

/// The queue as managers see it: waiting conversations, most urgent and longest
/// waiting first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct QueueEntry {
    pub conversation_id: crate::ConversationId,
    pub handoff_id: crate::HandoffId,
    pub team_id: Option<TeamId>,
    pub priority: Priority,
    pub requested_at: Millis,
    pub requested_skill: Option<String>,
    pub position: i64,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

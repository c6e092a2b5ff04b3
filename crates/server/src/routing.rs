//! Who gets a handed-off conversation: routing rules pick the team, the team's
//! strategy picks the agent (online, under capacity, with the skill asked for,
//! the returning customer's previous agent first when the team is sticky), and the
//! queue is drained whenever capacity appears. Claims, manual assignment,
//! unassignment and transfers go through here too, so every path keeps the same
//! invariants: one owner per conversation, and the change log and webhooks tell
//! everyone.

use handoff_protocol::*;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::{hooks, store, AppState};

/// What routing decided for a new handoff.
#[derive(Debug, Clone, Default)]
pub struct Route {
    pub team_id: Option<i64>,
    /// Set when a rule raises the priority.
    pub priority: Option<Priority>,
    pub rule: Option<String>,
}

/// What a handoff looks like to the routing rules.
pub struct RouteInput<'a> {
    pub trigger: HandoffTrigger,
    pub skill: Option<&'a str>,
    pub priority: Priority,
    pub phone_number_id: &'a str,
    pub contact_attributes: &'a serde_json::Map<String, serde_json::Value>,
    pub context: &'a serde_json::Map<String, serde_json::Value>,
}

fn rule_matches(c: &RuleConditions, input: &RouteInput) -> bool {
    let lead_source = ["lead_source", "source_channel"]
        .iter()
        .find_map(|k| input.context.get(*k).or_else(|| input.contact_attributes.get(*k)))
        .and_then(|v| v.as_str());
    (c.triggers.is_empty() || c.triggers.contains(&input.trigger))
        && (c.skills.is_empty() || input.skill.is_some_and(|s| c.skills.iter().any(|k| k.eq_ignore_ascii_case(s))))
        && (c.priorities.is_empty() || c.priorities.contains(&input.priority))
        && (c.phone_number_ids.is_empty() || c.phone_number_ids.iter().any(|n| n == input.phone_number_id))
        && (c.lead_sources.is_empty()
            || lead_source.is_some_and(|s| c.lead_sources.iter().any(|l| l.eq_ignore_ascii_case(s))))
        && c.contact_attributes.iter().all(|(k, v)| input.contact_attributes.get(k) == Some(v))
}

pub fn rule_from_row(r: &sqlx::any::AnyRow) -> AppResult<RoutingRule> {
    let conditions: String = r.try_get("conditions")?;
    Ok(RoutingRule {
        id: r.try_get("id")?,
        position: r.try_get("position")?,
        name: r.try_get("name")?,
        conditions: serde_json::from_str(&conditions)
            .map_err(|e| AppError::Internal(format!("stored routing rule unreadable: {e}")))?,
        team_id: TeamId(r.try_get("team_id")?),
        priority: r.try_get::<Option<String>, _>("priority")?.as_deref().and_then(Priority::parse),
        enabled: r.try_get::<i64, _>("enabled")? != 0,
    })
}

pub const RULE_COLUMNS: &str = "id, position, name, conditions, team_id, priority, enabled";

/// The workspace's rules, in the order they are tried.
pub async fn rules(conn: &mut AnyConnection, workspace_id: i64) -> AppResult<Vec<RoutingRule>> {
    let rows =
        sqlx::query(&format!("SELECT {RULE_COLUMNS} FROM routing_rules WHERE workspace_id = $1 ORDER BY position, id"))
            .bind(workspace_id)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter().map(rule_from_row).collect()
}

/// `routed_by` of a handoff that no rule matched (it went to the default team).
pub const DEFAULT_ROUTE: &str = "default";

/// After a rule change: queued handoffs that routing placed (not those that asked
/// for a team) are routed again, so a new rule can send them where someone is free.
pub async fn reroute_waiting(conn: &mut AnyConnection, workspace_id: i64) -> AppResult<usize> {
    let waiting = sqlx::query(
        "SELECT h.id, h.trigger, h.requested_skill, h.priority, h.context, h.team_id, h.routed_by, c.id AS conversation_id \
         FROM handoffs h JOIN conversations c ON c.id = h.conversation_id \
         WHERE h.workspace_id = $1 AND h.status = 'waiting' AND h.routed_by IS NOT NULL",
    )
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut moved = 0;
    for r in waiting {
        let id: i64 = r.try_get("id")?;
        let conv = store::conversation(conn, ConversationId(r.try_get("conversation_id")?)).await?;
        let context = store::json_object(r.try_get("context")?)?;
        let skill: Option<String> = r.try_get("requested_skill")?;
        let input = RouteInput {
            trigger: HandoffTrigger::parse(&r.try_get::<String, _>("trigger")?).unwrap_or(HandoffTrigger::Api),
            skill: skill.as_deref(),
            priority: Priority::parse(&r.try_get::<String, _>("priority")?).unwrap_or(Priority::Normal),
            phone_number_id: &conv.phone_number_id,
            contact_attributes: &conv.contact.attributes,
            context: &context,
        };
        let route = route(conn, workspace_id, &input).await?;
        let rule = route.rule.unwrap_or_else(|| DEFAULT_ROUTE.to_owned());
        let (team, by): (Option<i64>, Option<String>) = (r.try_get("team_id")?, r.try_get("routed_by")?);
        if team == route.team_id && by.as_deref() == Some(rule.as_str()) {
            continue;
        }
        let priority = route.priority.unwrap_or(input.priority);
        sqlx::query("UPDATE handoffs SET team_id = $1, routed_by = $2, priority = $3 WHERE id = $4")
            .bind(route.team_id)
            .bind(&rule)
            .bind(priority.as_str())
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE conversations SET team_id = $1, priority = $2 WHERE id = $3")
            .bind(route.team_id)
            .bind(priority.as_str())
            .bind(conv.id.0)
            .execute(&mut *conn)
            .await?;
        moved += 1;
    }
    Ok(moved)
}

/// Picks the team (and maybe a higher priority) for a handoff that did not name one:
/// the first enabled rule that matches, else the default team.
pub async fn route(conn: &mut AnyConnection, workspace_id: i64, input: &RouteInput<'_>) -> AppResult<Route> {
    for rule in rules(conn, workspace_id).await? {
        if rule.enabled && rule_matches(&rule.conditions, input) {
            return Ok(Route { team_id: Some(rule.team_id.0), priority: rule.priority, rule: Some(rule.name) });
        }
    }
    Ok(Route { team_id: store::default_team(conn, workspace_id).await?, ..Default::default() })
}

/// An agent who could take a conversation now.
struct Candidate {
    id: i64,
    open: i64,
    last_assigned_at: i64,
}

/// Online members of `team` (not viewers) with room under their capacity and, when
/// asked, the skill. A skill nobody in the team has is no requirement (the team does
/// not route by skills); one that some members have waits for them.
async fn candidates(
    conn: &mut AnyConnection,
    team: i64,
    skill: Option<&str>,
    exclude: Option<i64>,
) -> AppResult<Vec<Candidate>> {
    let skill = match skill {
        Some(skill) => {
            let members = sqlx::query(
                "SELECT a.skills FROM agents a JOIN team_members tm ON tm.agent_id = a.id WHERE tm.team_id = $1",
            )
            .bind(team)
            .fetch_all(&mut *conn)
            .await?;
            let someone_has = members.iter().any(|r| {
                r.try_get::<String, _>("skills")
                    .ok()
                    .and_then(|s| serde_json::from_str::<Vec<String>>(&s).ok())
                    .is_some_and(|v| v.iter().any(|s| s.eq_ignore_ascii_case(skill)))
            });
            someone_has.then_some(skill)
        }
        None => None,
    };
    let rows = sqlx::query(
        "SELECT a.id, a.skills, a.capacity, COALESCE(a.last_assigned_at, 0) AS last_assigned_at, \
           (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = a.id AND c.state = 'assigned') AS open \
         FROM agents a JOIN team_members tm ON tm.agent_id = a.id \
         WHERE tm.team_id = $1 AND a.availability = 'online' AND a.role <> 'viewer' ORDER BY a.id",
    )
    .bind(team)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let (capacity, open): (i64, i64) = (r.try_get("capacity")?, r.try_get("open")?);
        if Some(id) == exclude || open >= capacity {
            continue;
        }
        if let Some(skill) = skill {
            let skills: Vec<String> = serde_json::from_str(&r.try_get::<String, _>("skills")?).unwrap_or_default();
            if !skills.iter().any(|s| s.eq_ignore_ascii_case(skill)) {
                continue;
            }
        }
        out.push(Candidate { id, open, last_assigned_at: r.try_get("last_assigned_at")? });
    }
    Ok(out)
}

/// Assigns a waiting handoff inside its team (see [`pick`]). Returns the agent, or
/// `None` when nobody can take it now (it stays queued).
pub async fn try_assign(
    state: &AppState,
    conn: &mut AnyConnection,
    handoff_id: HandoffId,
    exclude: Option<AgentId>,
) -> AppResult<Option<AgentId>> {
    let h = store::handoff(conn, handoff_id).await?;
    if h.status != HandoffStatus::Waiting {
        return Ok(h.assignee_id);
    }
    let Some(agent) = pick(conn, &h, exclude).await? else { return Ok(None) };
    assign_to(state, conn, &h, agent, None).await?;
    Ok(Some(agent))
}

/// Who in `h`'s team should take it: the returning customer's previous agent when
/// the team is sticky and they can, else by the team's strategy; `exclude` keeps it
/// away from one agent (who just gave it back, or who missed its SLA).
pub async fn pick(conn: &mut AnyConnection, h: &Handoff, exclude: Option<AgentId>) -> AppResult<Option<AgentId>> {
    let Some(team) = h.team_id else {
        return Ok(None);
    };
    let t = sqlx::query("SELECT strategy, sticky FROM teams WHERE id = $1").bind(team.0).fetch_one(&mut *conn).await?;
    let strategy = RoutingStrategy::parse(&t.try_get::<String, _>("strategy")?).unwrap_or(RoutingStrategy::RoundRobin);
    let sticky = t.try_get::<i64, _>("sticky")? != 0;
    let mut pool = candidates(conn, team.0, h.requested_skill.as_deref(), exclude.map(|a| a.0)).await?;
    if pool.is_empty() {
        return Ok(None);
    }
    if sticky {
        let previous = sqlx::query(
            "SELECT h.assignee_id FROM handoffs h JOIN conversations c ON c.id = h.conversation_id \
             WHERE c.contact_id = (SELECT contact_id FROM conversations WHERE id = $1) AND h.id <> $2 \
               AND h.assignee_id IS NOT NULL ORDER BY h.id DESC LIMIT 1",
        )
        .bind(h.conversation_id.0)
        .bind(h.id.0)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(prev) = previous.map(|r| r.try_get::<i64, _>("assignee_id")).transpose()? {
            if pool.iter().any(|c| c.id == prev) {
                return Ok(Some(AgentId(prev)));
            }
        }
    }
    match strategy {
        RoutingStrategy::RoundRobin => pool.sort_by_key(|c| (c.last_assigned_at, c.id)),
        RoutingStrategy::LeastLoaded => pool.sort_by_key(|c| (c.open, c.last_assigned_at, c.id)),
    }
    Ok(Some(AgentId(pool[0].id)))
}

/// Makes `agent` the owner of `h`'s conversation and tells everyone: the change log,
/// and `conversation.assigned` (or `.reassigned` when somebody had it). `by` is the
/// person who decided, when not routing.
pub async fn assign_to(
    state: &AppState,
    conn: &mut AnyConnection,
    h: &Handoff,
    agent: AgentId,
    by: Option<&Agent>,
) -> AppResult<()> {
    let now = now_ms();
    sqlx::query(
        "UPDATE handoffs SET status = 'assigned', assignee_id = $1, assigned_at = COALESCE(assigned_at, $2) WHERE id = $3",
    )
    .bind(agent.0)
    .bind(now)
    .bind(h.id.0)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE conversations SET state = 'assigned', assignee_id = $1, updated_at = $2 WHERE id = $3")
        .bind(agent.0)
        .bind(now)
        .bind(h.conversation_id.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE agents SET last_assigned_at = $1 WHERE id = $2")
        .bind(now)
        .bind(agent.0)
        .execute(&mut *conn)
        .await?;
    let ws = record_handoff_change(state, conn, h).await?;
    let who = |a: &Agent| json!({ "id": a.id, "name": a.name, "email": a.email });
    let target = store::agent_by_id(conn, agent).await?;
    let mut data = json!({ "conversation_id": h.conversation_id, "handoff_id": h.id, "assigned_at": now,
        "agent": who(&target) });
    if let Some(by) = by {
        data["assigned_by"] = who(by);
    }
    let event = match h.assignee_id.filter(|p| *p != agent) {
        Some(previous) => {
            data["previous_agent"] = who(&store::agent_by_id(conn, previous).await?);
            "conversation.reassigned"
        }
        None => "conversation.assigned",
    };
    if by.is_none() {
        // Routing (or an SLA action) decided: the audit log says so. People's own
        // assignments are recorded by the caller, with their action.
        let detail = json!({ "handoff_id": h.id, "agent_id": agent, "previous_agent_id": h.assignee_id });
        crate::audit::record_as(
            conn,
            ws,
            "system",
            "Routing",
            "conversation.routed",
            "conversation",
            h.conversation_id.0,
            detail,
        )
        .await?;
    }
    hooks::emit(conn, ws, Some(h.conversation_id.0), event, data).await?;
    tracing::info!(conversation = h.conversation_id.0, agent = agent.0, "assigned");
    Ok(())
}

/// Appends `h` and its conversation to the change log; returns the workspace.
pub(crate) async fn record_handoff_change(state: &AppState, conn: &mut AnyConnection, h: &Handoff) -> AppResult<i64> {
    let ws: i64 = sqlx::query("SELECT workspace_id FROM handoffs WHERE id = $1")
        .bind(h.id.0)
        .fetch_one(&mut *conn)
        .await?
        .try_get("workspace_id")?;
    state.db.record_change(conn, ws, "handoff", h.id.0, h.conversation_id.0).await?;
    state.db.record_change(conn, ws, "conversation", h.conversation_id.0, h.conversation_id.0).await?;
    Ok(ws)
}

/// Assigns waiting handoffs of a workspace while agents can take them: the most urgent
/// first, then the longest waiting. Call whenever capacity may have appeared.
pub async fn drain_queue(state: &AppState, workspace_id: i64) -> AppResult<usize> {
    let mut tx = state.db.begin_write().await?;
    let assigned = drain_in(state, &mut tx, workspace_id).await?;
    tx.commit().await?;
    if assigned > 0 {
        state.changed(workspace_id).await;
    }
    Ok(assigned)
}

/// [`drain_queue`] inside the caller's transaction.
pub async fn drain_in(state: &AppState, conn: &mut AnyConnection, workspace_id: i64) -> AppResult<usize> {
    let waiting = sqlx::query(&format!(
        "SELECT id, team_id, requested_skill FROM handoffs WHERE workspace_id = $1 AND status = 'waiting' \
         ORDER BY {QUEUE_ORDER}"
    ))
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    // Teams (and skills within them) where nobody could take one: assigning only
    // uses capacity up, so nobody can take the rest of theirs in this pass either.
    // With thousands waiting, this keeps a drain to one look per team.
    let mut full: std::collections::HashSet<(i64, Option<String>)> = Default::default();
    let mut assigned = 0;
    for row in waiting {
        let id: i64 = row.try_get("id")?;
        let Some(team) = row.try_get::<Option<i64>, _>("team_id")? else { continue };
        let skill = row.try_get::<Option<String>, _>("requested_skill")?.map(|s| s.to_lowercase());
        if full.contains(&(team, None)) || full.contains(&(team, skill.clone())) {
            continue;
        }
        if try_assign(state, conn, HandoffId(id), None).await?.is_some() {
            assigned += 1;
        } else {
            full.insert((team, skill));
        }
    }
    Ok(assigned)
}

/// Queue order: priority, then waiting time.
pub const QUEUE_ORDER: &str =
    "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, requested_at, id";

/// Whether `agent` belongs to `team`.
pub async fn is_member(conn: &mut AnyConnection, agent: AgentId, team: Option<TeamId>) -> AppResult<bool> {
    let Some(team) = team else { return Ok(false) };
    Ok(sqlx::query("SELECT 1 AS one FROM team_members WHERE team_id = $1 AND agent_id = $2")
        .bind(team.0)
        .bind(agent.0)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// Whether `agent` may act on conversations of `team` as a manager: admins on the
/// whole workspace, managers on their teams.
pub async fn manages(conn: &mut AnyConnection, agent: &Agent, team: Option<TeamId>) -> AppResult<bool> {
    Ok(match agent.role {
        Role::Admin => true,
        Role::Manager => is_member(conn, agent.id, team).await?,
        Role::Agent | Role::Viewer => false,
    })
}

/// The conversation with its open handoff, in the caller's workspace.
async fn open_handoff(
    conn: &mut AnyConnection,
    caller: &Agent,
    id: ConversationId,
) -> AppResult<(Conversation, Handoff)> {
    let conv = store::conversation(conn, id).await?;
    if conv.workspace_id != caller.workspace_id {
        return Err(AppError::not_found("conversation"));
    }
    let Some(h) = conv.active_handoff_id else {
        return Err(AppError::new(ErrorCode::NotEscalated, "this conversation is with automation; hand it off first"));
    };
    let h = store::handoff(conn, h).await?;
    Ok((conv, h))
}

/// `claim`: an agent takes a queued conversation. Of any number of simultaneous
/// claims exactly one wins (a conditional update on the handoff's status); the others
/// get `already_claimed` with the owner in `details.owner`.
pub async fn claim(state: &AppState, caller: &Agent, id: ConversationId) -> AppResult<Conversation> {
    if caller.role == Role::Viewer {
        return Err(AppError::new(ErrorCode::Forbidden, "viewers cannot take conversations"));
    }
    let mut tx = state.db.begin_write().await?;
    let (conv, h) = open_handoff(&mut tx, caller, id).await?;
    if h.assignee_id == Some(caller.id) {
        return Ok(conv);
    }
    if caller.role == Role::Agent && !is_member(&mut tx, caller.id, h.team_id).await? {
        return Err(AppError::new(ErrorCode::Forbidden, "this conversation is queued for a team you are not in"));
    }
    let won = sqlx::query(
        "UPDATE handoffs SET status = 'assigned', assignee_id = $1, assigned_at = $2 WHERE id = $3 AND status = 'waiting'",
    )
    .bind(caller.id.0)
    .bind(now_ms())
    .bind(h.id.0)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !won {
        let current = store::handoff(&mut tx, h.id).await?;
        drop(tx);
        let owner = match current.assignee_id {
            Some(a) => {
                let mut conn = state.db.pool.acquire().await?;
                let a = store::agent_by_id(&mut conn, a).await?;
                json!({ "id": a.id, "name": a.name })
            }
            None => serde_json::Value::Null,
        };
        let name = owner.get("name").and_then(|n| n.as_str()).unwrap_or("someone else").to_owned();
        return Err(AppError::Detailed {
            code: ErrorCode::AlreadyClaimed,
            message: format!("{name} took this conversation first"),
            details: json!({ "owner": owner }),
        });
    }
    // The conditional update made us the owner; the rest of the bookkeeping is shared.
    assign_to(state, &mut tx, &h, caller.id, Some(caller)).await?;
    crate::audit::record(&mut tx, caller, "conversation.claimed", "conversation", id.0, json!({ "handoff_id": h.id }))
        .await?;
    let conv = store::conversation(&mut tx, id).await?;
    crate::mutations::seal(&mut tx).await?;
    tx.commit().await?;
    state.changed(conv.workspace_id.0).await;
    Ok(conv)
}

/// A manager (of the conversation's team) or an admin gives the conversation to a
/// named agent: assignment, or an override of the current owner.
pub async fn assign(state: &AppState, caller: &Agent, id: ConversationId, target: AgentId) -> AppResult<Conversation> {
    let mut tx = state.db.begin_write().await?;
    let (conv, h) = open_handoff(&mut tx, caller, id).await?;
    if !manages(&mut tx, caller, h.team_id).await? {
        return Err(AppError::new(ErrorCode::Forbidden, "only the team's managers and admins assign conversations"));
    }
    let agent = store::agent_by_id(&mut tx, target).await?;
    if agent.workspace_id != caller.workspace_id || agent.role == Role::Viewer {
        return Err(AppError::new(ErrorCode::InvalidInput, "that person cannot take conversations here"));
    }
    if conv.assignee_id == Some(agent.id) {
        return Ok(conv);
    }
    assign_to(state, &mut tx, &h, agent.id, Some(caller)).await?;
    let action = match conv.assignee_id {
        Some(_) if agent.id == caller.id => "conversation.taken_over",
        Some(_) => "conversation.overridden",
        None => "conversation.assigned",
    };
    crate::audit::record(
        &mut tx,
        caller,
        action,
        "conversation",
        id.0,
        json!({ "handoff_id": h.id, "agent_id": agent.id, "previous_agent_id": conv.assignee_id }),
    )
    .await?;
    let conv = store::conversation(&mut tx, id).await?;
    crate::mutations::seal(&mut tx).await?;
    tx.commit().await?;
    state.changed(conv.workspace_id.0).await;
    Ok(conv)
}

/// Puts a handoff back in its team's queue (nobody owns it).
async fn requeue(state: &AppState, conn: &mut AnyConnection, h: &Handoff, team: Option<TeamId>) -> AppResult<()> {
    let now = now_ms();
    sqlx::query("UPDATE handoffs SET status = 'waiting', assignee_id = NULL, team_id = $1 WHERE id = $2")
        .bind(team.map(|t| t.0))
        .bind(h.id.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE conversations SET state = 'waiting', assignee_id = NULL, team_id = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(team.map(|t| t.0))
    .bind(now)
    .bind(h.conversation_id.0)
    .execute(&mut *conn)
    .await?;
    record_handoff_change(state, conn, h).await?;
    Ok(())
}

/// The owner gives a conversation back, or a manager takes it away: it returns to
/// the queue and goes to somebody else if anybody can take it.
pub async fn unassign(state: &AppState, caller: &Agent, id: ConversationId) -> AppResult<Conversation> {
    let mut tx = state.db.begin_write().await?;
    let (conv, h) = open_handoff(&mut tx, caller, id).await?;
    let Some(previous) = h.assignee_id else {
        return Ok(conv); // already queued
    };
    if previous != caller.id && !manages(&mut tx, caller, h.team_id).await? {
        return Err(AppError::new(
            ErrorCode::NotAssignee,
            "only the owner, the team's managers and admins can unassign this conversation",
        ));
    }
    requeue(state, &mut tx, &h, h.team_id).await?;
    let data = json!({ "conversation_id": id, "handoff_id": h.id, "previous_agent_id": previous,
        "by": { "id": caller.id, "name": caller.name } });
    hooks::emit(&mut tx, conv.workspace_id.0, Some(id.0), "conversation.unassigned", data).await?;
    crate::audit::record(
        &mut tx,
        caller,
        "conversation.unassigned",
        "conversation",
        id.0,
        json!({ "handoff_id": h.id, "previous_agent_id": previous }),
    )
    .await?;
    let h = store::handoff(&mut tx, h.id).await?;
    try_assign(state, &mut tx, h.id, Some(previous)).await?;
    let conv = store::conversation(&mut tx, id).await?;
    crate::mutations::seal(&mut tx).await?;
    tx.commit().await?;
    state.changed(conv.workspace_id.0).await;
    Ok(conv)
}

/// Hands a conversation to another agent or team with a note the receiver sees first.
/// The owner, the team's managers and admins may transfer.
pub async fn transfer(
    state: &AppState,
    caller: &Agent,
    id: ConversationId,
    req: &TransferRequest,
) -> AppResult<Conversation> {
    let note = req.note.trim();
    if note.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "a transfer needs a note for whoever receives it"));
    }
    if req.agent_id.is_some() == req.team_id.is_some() {
        return Err(AppError::new(ErrorCode::InvalidInput, "transfer to an agent_id or to a team_id (one of them)"));
    }
    let mut tx = state.db.begin_write().await?;
    let (conv, h) = open_handoff(&mut tx, caller, id).await?;
    if h.assignee_id != Some(caller.id) && !manages(&mut tx, caller, h.team_id).await? {
        return Err(AppError::new(
            ErrorCode::NotAssignee,
            "only the owner, the team's managers and admins can transfer this conversation",
        ));
    }
    let ws = conv.workspace_id.0;
    sqlx::query("UPDATE handoffs SET transfer_note = $1 WHERE id = $2")
        .bind(note)
        .bind(h.id.0)
        .execute(&mut *tx)
        .await?;
    let target = match (req.agent_id, req.team_id) {
        (Some(agent), _) => {
            let a = store::agent_by_id(&mut tx, agent)
                .await
                .map_err(|_| AppError::new(ErrorCode::InvalidInput, "no such agent"))?;
            if a.workspace_id != caller.workspace_id || a.role == Role::Viewer {
                return Err(AppError::new(ErrorCode::InvalidInput, "that person cannot take conversations here"));
            }
            assign_to(state, &mut tx, &h, a.id, Some(caller)).await?;
            json!({ "agent": { "id": a.id, "name": a.name } })
        }
        (None, Some(team)) => {
            let known = sqlx::query("SELECT name FROM teams WHERE id = $1 AND workspace_id = $2")
                .bind(team.0)
                .bind(ws)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("team {team} does not exist")))?;
            requeue(state, &mut tx, &h, Some(team)).await?;
            try_assign(state, &mut tx, h.id, h.assignee_id).await?;
            json!({ "team": { "id": team, "name": known.try_get::<String, _>("name")? } })
        }
        (None, None) => unreachable!("checked above"),
    };
    let mut data = json!({ "conversation_id": id, "handoff_id": h.id, "note": note, "previous_agent_id": h.assignee_id,
        "by": { "id": caller.id, "name": caller.name } });
    if let (Some(d), Some(t)) = (data.as_object_mut(), target.as_object()) {
        d.extend(t.clone());
    }
    hooks::emit(&mut tx, ws, Some(id.0), "conversation.transferred", data.clone()).await?;
    crate::audit::record(&mut tx, caller, "conversation.transferred", "conversation", id.0, data).await?;
    state.db.record_change(&mut tx, ws, "handoff", h.id.0, id.0).await?;
    let conv = store::conversation(&mut tx, id).await?;
    crate::mutations::seal(&mut tx).await?;
    tx.commit().await?;
    state.changed(ws).await;
    Ok(conv)
}

/// The waiting conversations the caller may see, in queue order, numbered per team.
pub async fn queue(conn: &mut AnyConnection, caller: &Agent) -> AppResult<Vec<QueueEntry>> {
    let rows = sqlx::query(&format!(
        "SELECT id, conversation_id, team_id, priority, requested_at, requested_skill FROM handoffs \
         WHERE workspace_id = $1 AND status = 'waiting' ORDER BY {QUEUE_ORDER}"
    ))
    .bind(caller.workspace_id.0)
    .fetch_all(&mut *conn)
    .await?;
    let mine: Vec<i64> = sqlx::query("SELECT team_id FROM team_members WHERE agent_id = $1")
        .bind(caller.id.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("team_id"))
        .collect::<Result<_, _>>()?;
    let mut positions: std::collections::HashMap<Option<i64>, i64> = Default::default();
    let mut out = Vec::new();
    for r in rows {
        let team: Option<i64> = r.try_get("team_id")?;
        let pos = positions.entry(team).or_default();
        *pos += 1;
        let sees = matches!(caller.role, Role::Admin | Role::Manager | Role::Viewer)
            || team.is_some_and(|t| mine.contains(&t));
        if !sees {
            continue;
        }
        out.push(QueueEntry {
            conversation_id: ConversationId(r.try_get("conversation_id")?),
            handoff_id: HandoffId(r.try_get("id")?),
            team_id: team.map(TeamId),
            priority: Priority::parse(&r.try_get::<String, _>("priority")?).unwrap_or(Priority::Normal),
            requested_at: r.try_get("requested_at")?,
            requested_skill: r.try_get("requested_skill")?,
            position: *pos,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(
        attrs: &'a serde_json::Map<String, serde_json::Value>,
        ctx: &'a serde_json::Map<String, serde_json::Value>,
    ) -> RouteInput<'a> {
        RouteInput {
            trigger: HandoffTrigger::Keyword,
            skill: Some("billing"),
            priority: Priority::High,
            phone_number_id: "100",
            contact_attributes: attrs,
            context: ctx,
        }
    }

    #[test]
    fn every_given_condition_must_match() {
        let mut attrs = serde_json::Map::new();
        attrs.insert("tier".into(), json!("vip"));
        let mut ctx = serde_json::Map::new();
        ctx.insert("lead_source".into(), json!("Facebook"));
        let i = input(&attrs, &ctx);
        assert!(rule_matches(&RuleConditions::default(), &i), "no conditions: matches everything");
        let c = RuleConditions {
            triggers: vec![HandoffTrigger::Keyword, HandoffTrigger::Api],
            skills: vec!["Billing".into()],
            priorities: vec![Priority::High],
            phone_number_ids: vec!["100".into()],
            lead_sources: vec!["facebook".into()],
            contact_attributes: attrs.clone(),
        };
        assert!(rule_matches(&c, &i));
        for broken in [
            RuleConditions { triggers: vec![HandoffTrigger::Lead], ..c.clone() },
            RuleConditions { skills: vec!["returns".into()], ..c.clone() },
            RuleConditions { priorities: vec![Priority::Urgent], ..c.clone() },
            RuleConditions { phone_number_ids: vec!["200".into()], ..c.clone() },
            RuleConditions { lead_sources: vec!["google".into()], ..c.clone() },
        ] {
            assert!(!rule_matches(&broken, &i), "{broken:?}");
        }
        let mut other = attrs.clone();
        other.insert("tier".into(), json!("standard"));
        assert!(!rule_matches(&RuleConditions { contact_attributes: other, ..Default::default() }, &i));
    }
}

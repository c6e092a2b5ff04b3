//! REST handlers for routing: claims, transfers and the queue; teams, agents'
//! capacity and skills, routing rules and the SLA policy. Who may do what:
//! agents act on their own conversations and their teams' queues; managers on their
//! teams; admins on the workspace; viewers only read.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use handoff_protocol::*;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::api::ApiJson;
use crate::auth::{AgentCaller, Caller};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::{audit, routing, sla, store, AppState};

fn forbidden(what: &str) -> AppError {
    AppError::new(ErrorCode::Forbidden, what.to_owned())
}

pub async fn claim(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(routing::claim(&state, &caller.agent, ConversationId(id)).await?))
}

pub async fn unassign(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(routing::unassign(&state, &caller.agent, ConversationId(id)).await?))
}

pub async fn transfer(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<TransferRequest>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(routing::transfer(&state, &caller.agent, ConversationId(id), &req).await?))
}

/// `GET /v1/queue`.
pub async fn queue(State(state): State<AppState>, caller: AgentCaller) -> AppResult<Json<Vec<QueueEntry>>> {
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(routing::queue(&mut conn, &caller.agent).await?))
}

// ---- teams ----

async fn team(conn: &mut AnyConnection, workspace_id: i64, id: i64) -> AppResult<Team> {
    let r = sqlx::query(
        "SELECT id, name, is_default, strategy, sticky, manager_id, business_hours FROM teams WHERE id = $1 AND workspace_id = $2",
    )
    .bind(id)
    .bind(workspace_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::not_found("team"))?;
    let members = sqlx::query("SELECT agent_id FROM team_members WHERE team_id = $1 ORDER BY agent_id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|m| m.try_get("agent_id").map(AgentId))
        .collect::<Result<_, _>>()?;
    let hours: Option<String> = r.try_get("business_hours")?;
    Ok(Team {
        id: TeamId(r.try_get("id")?),
        name: r.try_get("name")?,
        is_default: r.try_get::<i64, _>("is_default")? != 0,
        strategy: RoutingStrategy::parse(&r.try_get::<String, _>("strategy")?).unwrap_or(RoutingStrategy::RoundRobin),
        sticky: r.try_get::<i64, _>("sticky")? != 0,
        manager_id: r.try_get::<Option<i64>, _>("manager_id")?.map(AgentId),
        business_hours: hours.and_then(|h| serde_json::from_str(&h).ok()),
        member_ids: members,
    })
}

/// `GET /v1/teams`: every team of the workspace.
pub async fn list_teams(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<Team>>> {
    caller.require_scope("conversations:read")?;
    let ws = caller.workspace_id().0;
    let mut conn = state.db.pool.acquire().await?;
    let ids: Vec<i64> = sqlx::query("SELECT id FROM teams WHERE workspace_id = $1 ORDER BY id")
        .bind(ws)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for id in ids {
        out.push(team(&mut conn, ws, id).await?);
    }
    Ok(Json(out))
}

/// Applies a team request's fields (shared by create and update).
async fn apply_team(conn: &mut AnyConnection, ws: i64, id: i64, req: &TeamRequest) -> AppResult<()> {
    if let Some(name) = &req.name {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::new(ErrorCode::InvalidInput, "a team needs a name"));
        }
        sqlx::query("UPDATE teams SET name = $1 WHERE id = $2").bind(name).bind(id).execute(&mut *conn).await?;
    }
    if let Some(s) = req.strategy {
        sqlx::query("UPDATE teams SET strategy = $1 WHERE id = $2")
            .bind(s.as_str())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(s) = req.sticky {
        sqlx::query("UPDATE teams SET sticky = $1 WHERE id = $2").bind(s as i64).bind(id).execute(&mut *conn).await?;
    }
    if let Some(hours) = &req.business_hours {
        if let Some(h) = hours {
            crate::hours::Calendar::new(Some(h)).map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))?;
        }
        let text = hours.as_ref().map(|h| serde_json::to_string(h).expect("serializes"));
        sqlx::query("UPDATE teams SET business_hours = $1 WHERE id = $2")
            .bind(text)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(members) = &req.member_ids {
        for m in members {
            let a = store::agent_by_id(conn, *m)
                .await
                .map_err(|_| AppError::new(ErrorCode::InvalidInput, format!("no agent {m}")))?;
            if a.workspace_id.0 != ws {
                return Err(AppError::new(ErrorCode::InvalidInput, format!("no agent {m}")));
            }
        }
        sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(id).execute(&mut *conn).await?;
        for m in members {
            sqlx::query("INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2)")
                .bind(id)
                .bind(m.0)
                .execute(&mut *conn)
                .await?;
        }
    }
    if let Some(manager) = &req.manager_id {
        if let Some(m) = manager {
            let a = store::agent_by_id(conn, *m)
                .await
                .map_err(|_| AppError::new(ErrorCode::InvalidInput, format!("no agent {m}")))?;
            if a.workspace_id.0 != ws || !matches!(a.role, Role::Manager | Role::Admin) {
                return Err(AppError::new(ErrorCode::InvalidInput, "a team's manager must be a manager or admin here"));
            }
        }
        sqlx::query("UPDATE teams SET manager_id = $1 WHERE id = $2")
            .bind(manager.map(|m| m.0))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// `POST /v1/teams` (admins).
pub async fn create_team(
    State(state): State<AppState>,
    caller: AgentCaller,
    ApiJson(req): ApiJson<TeamRequest>,
) -> AppResult<(StatusCode, Json<Team>)> {
    if caller.agent.role != Role::Admin {
        return Err(forbidden("only admins create teams"));
    }
    let name = req.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "a team needs a name"));
    }
    let ws = caller.agent.workspace_id.0;
    let mut tx = state.db.begin_write().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO teams (workspace_id, name, is_default, created_at) VALUES ($1, $2, 0, $3) RETURNING id",
    )
    .bind(ws)
    .bind(name)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    apply_team(&mut tx, ws, id, &req).await?;
    let t = team(&mut tx, ws, id).await?;
    audit::record(&mut tx, &caller.agent, "team.created", "team", id, json!(t)).await?;
    tx.commit().await?;
    routing::drain_queue(&state, ws).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// `PATCH /v1/teams/{id}`: admins, and managers of that team.
pub async fn update_team(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<TeamRequest>,
) -> AppResult<Json<Team>> {
    let ws = caller.agent.workspace_id.0;
    let mut tx = state.db.begin_write().await?;
    let before = team(&mut tx, ws, id).await?;
    if !routing::manages(&mut tx, &caller.agent, Some(TeamId(id))).await? {
        return Err(forbidden("only admins and the team's managers change a team"));
    }
    apply_team(&mut tx, ws, id, &req).await?;
    let after = team(&mut tx, ws, id).await?;
    audit::record(&mut tx, &caller.agent, "team.updated", "team", id, json!({ "before": before, "after": after }))
        .await?;
    tx.commit().await?;
    // New members or another strategy: the queue may move.
    routing::drain_queue(&state, ws).await?;
    state.changed(ws).await;
    Ok(Json(after))
}

// ---- agents ----

/// `GET /v1/agents`: everyone in the workspace, with availability and load.
pub async fn list_agents(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<AgentProfile>>> {
    caller.require_scope("conversations:read")?;
    let mut conn = state.db.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT a.id, a.name, a.email, a.role, a.availability, a.capacity, a.skills, a.last_seen_at, \
           (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = a.id AND c.state = 'assigned') AS open \
         FROM agents a WHERE a.workspace_id = $1 ORDER BY a.id",
    )
    .bind(caller.workspace_id().0)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let team_ids = sqlx::query("SELECT team_id FROM team_members WHERE agent_id = $1 ORDER BY team_id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|t| t.try_get("team_id").map(TeamId))
            .collect::<Result<_, _>>()?;
        out.push(AgentProfile {
            id: AgentId(id),
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            role: Role::parse(&r.try_get::<String, _>("role")?).unwrap_or(Role::Viewer),
            availability: Availability::parse(&r.try_get::<String, _>("availability")?)
                .unwrap_or(Availability::Offline),
            capacity: r.try_get("capacity")?,
            skills: serde_json::from_str(&r.try_get::<String, _>("skills")?).unwrap_or_default(),
            open_conversations: r.try_get("open")?,
            team_ids,
            last_seen_at: r.try_get("last_seen_at")?,
        });
    }
    Ok(Json(out))
}

/// `PATCH /v1/agents/{id}`: capacity and skills (admins, and managers of one of the
/// agent's teams); roles (admins only).
pub async fn update_agent(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<AgentUpdate>,
) -> AppResult<Json<AgentProfile>> {
    let ws = caller.agent.workspace_id.0;
    let mut tx = state.db.begin_write().await?;
    let target = store::agent_by_id(&mut tx, AgentId(id)).await?;
    if target.workspace_id.0 != ws {
        return Err(AppError::not_found("agent"));
    }
    let shares_team = sqlx::query(
        "SELECT 1 AS one FROM team_members a JOIN team_members b ON a.team_id = b.team_id WHERE a.agent_id = $1 AND b.agent_id = $2",
    )
    .bind(caller.agent.id.0)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .is_some();
    let may_manage = caller.agent.role == Role::Admin || (caller.agent.role == Role::Manager && shares_team);
    if !may_manage {
        return Err(forbidden("only admins and the agent's team managers change capacity and skills"));
    }
    if let Some(c) = req.capacity {
        if !(0..=1000).contains(&c) {
            return Err(AppError::new(ErrorCode::InvalidInput, "capacity is between 0 and 1000 conversations"));
        }
        sqlx::query("UPDATE agents SET capacity = $1 WHERE id = $2").bind(c).bind(id).execute(&mut *tx).await?;
    }
    if let Some(skills) = &req.skills {
        let mut clean: Vec<String> = skills.iter().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect();
        clean.sort();
        clean.dedup();
        sqlx::query("UPDATE agents SET skills = $1 WHERE id = $2")
            .bind(serde_json::to_string(&clean).expect("serializes"))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(role) = req.role {
        if caller.agent.role != Role::Admin {
            return Err(forbidden("only admins change roles"));
        }
        if target.id == caller.agent.id && role != Role::Admin {
            return Err(AppError::new(ErrorCode::InvalidInput, "admins cannot demote themselves (ask another admin)"));
        }
        sqlx::query("UPDATE agents SET role = $1 WHERE id = $2").bind(role.as_str()).bind(id).execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            &caller.agent,
            "agent.role_changed",
            "agent",
            id,
            json!({ "from": target.role, "to": role }),
        )
        .await?;
    }
    if req.capacity.is_some() || req.skills.is_some() {
        audit::record(
            &mut tx,
            &caller.agent,
            "agent.updated",
            "agent",
            id,
            json!({ "capacity": req.capacity, "skills": req.skills }),
        )
        .await?;
    }
    tx.commit().await?;
    routing::drain_queue(&state, ws).await?;
    let Json(all) = list_agents(State(state.clone()), caller.as_caller()).await?;
    all.into_iter().find(|a| a.id.0 == id).map(Json).ok_or_else(|| AppError::not_found("agent"))
}

// ---- routing rules ----

/// Managers may only route to their own teams; admins anywhere in the workspace.
async fn check_rule_team(conn: &mut AnyConnection, caller: &Agent, team: TeamId) -> AppResult<()> {
    let known = sqlx::query("SELECT id FROM teams WHERE id = $1 AND workspace_id = $2")
        .bind(team.0)
        .bind(caller.workspace_id.0)
        .fetch_optional(&mut *conn)
        .await?;
    if known.is_none() {
        return Err(AppError::new(ErrorCode::InvalidInput, format!("team {team} does not exist")));
    }
    if !routing::manages(conn, caller, Some(team)).await? {
        return Err(forbidden("managers route only to their own teams"));
    }
    Ok(())
}

pub async fn list_rules(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<RoutingRule>>> {
    caller.require_scope("conversations:read")?;
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(routing::rules(&mut conn, caller.workspace_id().0).await?))
}

async fn rule(conn: &mut AnyConnection, ws: i64, id: i64) -> AppResult<RoutingRule> {
    let r = sqlx::query(&format!(
        "SELECT {} FROM routing_rules WHERE id = $1 AND workspace_id = $2",
        routing::RULE_COLUMNS
    ))
    .bind(id)
    .bind(ws)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::not_found("routing rule"))?;
    routing::rule_from_row(&r)
}

pub async fn create_rule(
    State(state): State<AppState>,
    caller: AgentCaller,
    ApiJson(req): ApiJson<RoutingRuleRequest>,
) -> AppResult<(StatusCode, Json<RoutingRule>)> {
    let ws = caller.agent.workspace_id.0;
    let name = req.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let Some(team) = req.team_id else {
        return Err(AppError::new(ErrorCode::InvalidInput, "a routing rule needs a team_id"));
    };
    if name.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "a routing rule needs a name"));
    }
    let mut tx = state.db.begin_write().await?;
    check_rule_team(&mut tx, &caller.agent, team).await?;
    let position = match req.position {
        Some(p) => p,
        None => sqlx::query("SELECT COALESCE(MAX(position), 0) + 1 AS p FROM routing_rules WHERE workspace_id = $1")
            .bind(ws)
            .fetch_one(&mut *tx)
            .await?
            .try_get("p")?,
    };
    let now = now_ms();
    let id: i64 = sqlx::query(
        "INSERT INTO routing_rules (workspace_id, position, name, conditions, team_id, priority, enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(ws)
    .bind(position)
    .bind(&name)
    .bind(serde_json::to_string(&req.conditions.clone().unwrap_or_default()).expect("serializes"))
    .bind(team.0)
    .bind(req.priority.flatten().map(|p| p.as_str()))
    .bind(req.enabled.unwrap_or(true) as i64)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    let r = rule(&mut tx, ws, id).await?;
    audit::record(&mut tx, &caller.agent, "routing_rule.created", "routing_rule", id, json!(r)).await?;
    routing::reroute_waiting(&mut tx, ws).await?;
    tx.commit().await?;
    routing::drain_queue(&state, ws).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

pub async fn update_rule(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RoutingRuleRequest>,
) -> AppResult<Json<RoutingRule>> {
    let ws = caller.agent.workspace_id.0;
    let mut tx = state.db.begin_write().await?;
    let before = rule(&mut tx, ws, id).await?;
    check_rule_team(&mut tx, &caller.agent, before.team_id).await?;
    if let Some(team) = req.team_id {
        check_rule_team(&mut tx, &caller.agent, team).await?;
    }
    let name = req.name.as_deref().map(str::trim).unwrap_or(&before.name).to_owned();
    if name.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "a routing rule needs a name"));
    }
    sqlx::query(
        "UPDATE routing_rules SET name = $1, position = $2, conditions = $3, team_id = $4, priority = $5, enabled = $6, updated_at = $7 \
         WHERE id = $8",
    )
    .bind(&name)
    .bind(req.position.unwrap_or(before.position))
    .bind(serde_json::to_string(req.conditions.as_ref().unwrap_or(&before.conditions)).expect("serializes"))
    .bind(req.team_id.unwrap_or(before.team_id).0)
    .bind(req.priority.unwrap_or(before.priority).map(|p| p.as_str()))
    .bind(req.enabled.unwrap_or(before.enabled) as i64)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let after = rule(&mut tx, ws, id).await?;
    audit::record(
        &mut tx,
        &caller.agent,
        "routing_rule.updated",
        "routing_rule",
        id,
        json!({ "before": before, "after": after }),
    )
    .await?;
    routing::reroute_waiting(&mut tx, ws).await?;
    tx.commit().await?;
    routing::drain_queue(&state, ws).await?;
    Ok(Json(after))
}

pub async fn delete_rule(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let ws = caller.agent.workspace_id.0;
    let mut tx = state.db.begin_write().await?;
    let before = rule(&mut tx, ws, id).await?;
    check_rule_team(&mut tx, &caller.agent, before.team_id).await?;
    sqlx::query("DELETE FROM routing_rules WHERE id = $1").bind(id).execute(&mut *tx).await?;
    audit::record(&mut tx, &caller.agent, "routing_rule.deleted", "routing_rule", id, json!(before)).await?;
    routing::reroute_waiting(&mut tx, ws).await?;
    tx.commit().await?;
    routing::drain_queue(&state, ws).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- SLA policy ----

pub async fn get_sla(State(state): State<AppState>, caller: Caller) -> AppResult<Json<SlaPolicy>> {
    caller.require_scope("conversations:read")?;
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(sla::policy(&mut conn, caller.workspace_id().0).await?))
}

/// `PUT /v1/settings/sla` (admins): applies to clocks started from now on.
pub async fn put_sla(
    State(state): State<AppState>,
    caller: AgentCaller,
    ApiJson(policy): ApiJson<SlaPolicy>,
) -> AppResult<Json<SlaPolicy>> {
    if caller.agent.role != Role::Admin {
        return Err(forbidden("only admins change the SLA policy"));
    }
    let ws = caller.agent.workspace_id.0;
    let mut tx = state.db.begin_write().await?;
    let before = sla::policy(&mut tx, ws).await?;
    sla::set_policy(&mut tx, ws, &policy).await?;
    audit::record(
        &mut tx,
        &caller.agent,
        "sla_policy.updated",
        "workspace",
        ws,
        json!({ "before": before, "after": policy }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(policy))
}

//! The manager console: the live board (open handoffs by SLA risk, agents' load, teams'
//! queues), priority changes, a handoff's timeline, escalation metrics and the breach
//! review. Every figure's definition is written next to the code that computes it and
//! is tested on a seeded history with hand-computed answers (`tests/console.rs`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use handoff_protocol::*;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::api::ApiJson;
use crate::auth::{AgentCaller, Caller};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::{audit, routing, sla, store, AppState};

/// The escalation rate a healthy deployment sees (handoffs / conversations).
pub const HEALTHY_BAND: [f64; 2] = [0.05, 0.20];
const DAY_MS: i64 = 86_400_000;
/// At most this many points in a rate series.
const MAX_BUCKETS: i64 = 1_000;
/// Histogram bins of response and resolution times (ms): 1, 5, 15, 30 min, 1, 4, 24 h.
const BINS_MS: [i64; 7] = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 14_400_000, DAY_MS];

fn contact_name(r: &sqlx::any::AnyRow) -> AppResult<String> {
    let name: Option<String> = r.try_get("contact_name")?;
    let wa: Option<String> = r.try_get("wa_id")?;
    let bsuid: Option<String> = r.try_get("bsuid")?;
    let id: i64 = r.try_get("contact_id")?;
    Ok(name
        .filter(|n| !n.trim().is_empty())
        .or_else(|| wa.map(|p| format!("+{p}")))
        .or(bsuid)
        .unwrap_or_else(|| format!("contact {id}")))
}

fn priority_rank(p: Priority) -> u8 {
    match p {
        Priority::Urgent => 0,
        Priority::High => 1,
        Priority::Normal => 2,
        Priority::Low => 3,
    }
}

/// The board's order: breached first (most overdue first), then the nearest deadline,
/// then conversations without a running clock; ties by priority, then the longest
/// waiting.
pub fn risk_order(a: &BoardEntry, b: &BoardEntry) -> std::cmp::Ordering {
    let due = |e: &BoardEntry| e.sla_due_at.unwrap_or(i64::MAX);
    due(a)
        .cmp(&due(b))
        .then(priority_rank(a.priority).cmp(&priority_rank(b.priority)))
        .then(a.requested_at.cmp(&b.requested_at))
        .then(a.handoff_id.cmp(&b.handoff_id))
}

/// `GET /v1/board`.
pub async fn board(State(state): State<AppState>, caller: AgentCaller) -> AppResult<Json<Board>> {
    let ws = caller.agent.workspace_id.0;
    let mut conn = state.db.read.begin().await?;
    Ok(Json(read_board(&mut conn, ws, state.clock.now_ms()).await?))
}

/// The board of workspace `ws` at `now` (the SLA clocks' time).
pub async fn read_board(conn: &mut AnyConnection, ws: i64, now: i64) -> AppResult<Board> {
    let cursor = store::max_seq(conn, ws).await?;
    let rows = sqlx::query(
        "SELECT h.id, h.conversation_id, h.status, h.team_id, h.assignee_id, h.priority, h.trigger, h.reason, \
           h.requested_at, k.id AS contact_id, k.name AS contact_name, k.wa_id, k.bsuid \
         FROM handoffs h JOIN conversations c ON c.id = h.conversation_id JOIN contacts k ON k.id = c.contact_id \
         WHERE h.workspace_id = $1 AND h.status IN ('waiting', 'assigned')",
    )
    .bind(ws)
    .fetch_all(&mut *conn)
    .await?;
    // Each open handoff's nearest running clock: (due, warn, breached, kind).
    let mut clocks: HashMap<i64, (i64, Option<i64>, bool, String)> = HashMap::new();
    for r in sqlx::query(
        "SELECT handoff_id, kind, due_at, warn_at, breached_at FROM sla_clocks \
         WHERE workspace_id = $1 AND stopped_at IS NULL AND paused_at IS NULL AND due_at IS NOT NULL",
    )
    .bind(ws)
    .fetch_all(&mut *conn)
    .await?
    {
        let due: i64 = r.try_get("due_at")?;
        let clock =
            (due, r.try_get("warn_at")?, r.try_get::<Option<i64>, _>("breached_at")?.is_some(), r.try_get("kind")?);
        match clocks.entry(r.try_get("handoff_id")?) {
            std::collections::hash_map::Entry::Occupied(mut e) if e.get().0 > due => {
                e.insert(clock);
            }
            std::collections::hash_map::Entry::Occupied(_) => {}
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(clock);
            }
        }
    }
    let mut conversations = Vec::with_capacity(rows.len());
    for r in &rows {
        let clock = clocks.remove(&r.try_get::<i64, _>("id")?);
        let due = clock.as_ref().map(|c| c.0);
        let warn = clock.as_ref().and_then(|c| c.1);
        let breached = clock.as_ref().is_some_and(|c| c.2) || due.is_some_and(|d| d <= now);
        conversations.push(BoardEntry {
            conversation_id: ConversationId(r.try_get("conversation_id")?),
            handoff_id: HandoffId(r.try_get("id")?),
            contact_name: contact_name(r)?,
            status: r.try_get("status")?,
            team_id: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
            assignee_id: r.try_get::<Option<i64>, _>("assignee_id")?.map(AgentId),
            priority: Priority::parse(&r.try_get::<String, _>("priority")?).unwrap_or(Priority::Normal),
            trigger: HandoffTrigger::parse(&r.try_get::<String, _>("trigger")?).unwrap_or(HandoffTrigger::Api),
            reason: r.try_get("reason")?,
            requested_at: r.try_get("requested_at")?,
            sla_kind: clock.as_ref().and_then(|c| SlaKind::parse(&c.3)),
            sla_due_at: due,
            sla_warn_at: warn,
            at_risk: breached || warn.is_some_and(|w| w <= now),
            breached,
        });
    }
    conversations.sort_by(risk_order);

    let mut members: HashMap<i64, Vec<TeamId>> = HashMap::new();
    for r in sqlx::query(
        "SELECT tm.agent_id, tm.team_id FROM team_members tm JOIN teams t ON t.id = tm.team_id \
         WHERE t.workspace_id = $1 ORDER BY tm.team_id",
    )
    .bind(ws)
    .fetch_all(&mut *conn)
    .await?
    {
        members.entry(r.try_get("agent_id")?).or_default().push(TeamId(r.try_get("team_id")?));
    }
    let agent_rows = sqlx::query(
        "SELECT a.id, a.name, a.role, a.availability, a.capacity, \
           (SELECT MAX(m.sent_at) FROM messages m WHERE m.agent_id = a.id AND m.direction = 'outbound') AS last_reply_at \
         FROM agents a WHERE a.workspace_id = $1 ORDER BY a.id",
    )
    .bind(ws)
    .fetch_all(&mut *conn)
    .await?;
    let mut open: HashMap<AgentId, (i64, i64)> = HashMap::new();
    for c in conversations.iter().filter(|c| c.status == "assigned") {
        if let Some(a) = c.assignee_id {
            let e = open.entry(a).or_default();
            e.0 += 1;
            e.1 += c.at_risk as i64;
        }
    }
    let mut agents = Vec::with_capacity(agent_rows.len());
    for r in agent_rows {
        let id = AgentId(r.try_get("id")?);
        let role = Role::parse(&r.try_get::<String, _>("role")?).unwrap_or(Role::Viewer);
        if role == Role::Viewer {
            continue; // viewers take no conversations
        }
        let (open_conversations, at_risk) = open.get(&id).copied().unwrap_or_default();
        agents.push(AgentLoad {
            id,
            name: r.try_get("name")?,
            role,
            availability: Availability::parse(&r.try_get::<String, _>("availability")?)
                .unwrap_or(Availability::Offline),
            capacity: r.try_get("capacity")?,
            open_conversations,
            at_risk,
            last_reply_at: r.try_get("last_reply_at")?,
            team_ids: members.remove(&id.0).unwrap_or_default(),
        });
    }
    let mut teams = Vec::new();
    for r in sqlx::query("SELECT id, name FROM teams WHERE workspace_id = $1 ORDER BY id")
        .bind(ws)
        .fetch_all(&mut *conn)
        .await?
    {
        let id = TeamId(r.try_get("id")?);
        let waiting = conversations.iter().filter(|c| c.status == "waiting" && c.team_id == Some(id));
        let (count, oldest) = waiting
            .fold((0, None::<i64>), |(n, o), c| (n + 1, Some(o.map_or(c.requested_at, |o| o.min(c.requested_at)))));
        let online_agents =
            agents.iter().filter(|a| a.availability == Availability::Online && a.team_ids.contains(&id)).count() as i64;
        teams.push(TeamLoad { id, name: r.try_get("name")?, waiting: count, online_agents, oldest_waiting_at: oldest });
    }
    Ok(Board { now, cursor, conversations, agents, teams })
}

/// `PUT /v1/conversations/{id}/priority`: the team's managers (and admins) reorder the
/// queue. The SLA clocks keep the targets they started with.
pub async fn set_priority(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<PriorityRequest>,
) -> AppResult<Json<Conversation>> {
    let caller = &caller.agent;
    let mut tx = state.db.begin_write().await?;
    let conv = store::conversation(&mut tx, ConversationId(id)).await?;
    if conv.workspace_id != caller.workspace_id {
        return Err(AppError::not_found("conversation"));
    }
    let Some(hid) = conv.active_handoff_id else {
        return Err(AppError::new(ErrorCode::NotEscalated, "this conversation is with automation"));
    };
    let h = store::handoff(&mut tx, hid).await?;
    if !routing::manages(&mut tx, caller, h.team_id).await? {
        return Err(AppError::new(ErrorCode::Forbidden, "only the team's managers and admins change priorities"));
    }
    if h.priority == req.priority {
        return Ok(Json(conv));
    }
    sqlx::query("UPDATE handoffs SET priority = $1 WHERE id = $2")
        .bind(req.priority.as_str())
        .bind(hid.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE conversations SET priority = $1, updated_at = $2 WHERE id = $3")
        .bind(req.priority.as_str())
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    routing::record_handoff_change(&state, &mut tx, &h).await?;
    audit::record(
        &mut tx,
        caller,
        "conversation.priority_changed",
        "conversation",
        id,
        json!({ "handoff_id": hid, "from": h.priority, "to": req.priority }),
    )
    .await?;
    let conv = store::conversation(&mut tx, ConversationId(id)).await?;
    tx.commit().await?;
    state.changed(conv.workspace_id.0).await;
    // The queue's order changed: whoever has room takes the most urgent first.
    routing::drain_queue(&state, conv.workspace_id.0).await?;
    Ok(Json(conv))
}

/// `GET /v1/handoffs/{id}/timeline`: the handoff's audit entries, its first response,
/// SLA warnings and breaches, and how it ended, oldest first.
pub async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<TimelineEvent>>> {
    let ws = caller.workspace_id().0;
    let mut conn = state.db.read.begin().await?;
    let h = store::handoff(&mut conn, HandoffId(id)).await?;
    let owner: i64 = sqlx::query("SELECT workspace_id FROM handoffs WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("workspace_id")?;
    if owner != ws {
        return Err(AppError::not_found("handoff"));
    }
    let names = names(&mut conn, ws).await?;
    let mut out = Vec::new();
    for r in sqlx::query(
        "SELECT actor_name, action, detail, at FROM audit_log \
         WHERE workspace_id = $1 AND entity = 'conversation' AND entity_id = $2 ORDER BY id",
    )
    .bind(ws)
    .bind(h.conversation_id.0)
    .fetch_all(&mut *conn)
    .await?
    {
        let detail: serde_json::Value = serde_json::from_str(&r.try_get::<String, _>("detail")?).unwrap_or_default();
        if detail["handoff_id"].as_i64() != Some(id) {
            continue;
        }
        let action: String = r.try_get("action")?;
        let kind = action.trim_start_matches("conversation.").to_owned();
        let kind = if kind == "handed_off" { "requested".to_owned() } else { kind };
        out.push(TimelineEvent {
            at: r.try_get("at")?,
            detail: describe(&kind, &detail, &h, &names),
            kind,
            actor: Some(r.try_get("actor_name")?),
        });
    }
    if let Some(at) = h.first_response_at {
        out.push(TimelineEvent {
            at,
            kind: "first_response".into(),
            actor: None,
            detail: "First reply to the customer".into(),
        });
    }
    for r in
        sqlx::query("SELECT kind, target_ms, warned_at, breached_at FROM sla_clocks WHERE handoff_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
    {
        let kind: String = r.try_get("kind")?;
        let label = kind.replace('_', " ");
        let target = human_ms(r.try_get("target_ms")?);
        if let Some(at) = r.try_get::<Option<i64>, _>("warned_at")? {
            let detail = format!("{label} nears its {target} target");
            out.push(TimelineEvent { at, kind: "sla_warning".into(), actor: None, detail });
        }
        if let Some(at) = r.try_get::<Option<i64>, _>("breached_at")? {
            let detail = format!("{label} missed its {target} target");
            out.push(TimelineEvent { at, kind: "sla_breached".into(), actor: None, detail });
        }
    }
    if let Some(at) = h.resolved_at {
        let timed_out = h.status == HandoffStatus::TimedOut;
        let note = h.resolution_note.clone().unwrap_or_default();
        let detail = match (timed_out, note.is_empty()) {
            (true, _) => note,
            (false, true) => "Resolved: back to automation".to_owned(),
            (false, false) => format!("Resolved: {note}"),
        };
        let kind = if timed_out { "timed_out" } else { "resolved" };
        out.push(TimelineEvent { at, kind: kind.into(), actor: None, detail });
    }
    out.sort_by_key(|e| e.at);
    Ok(Json(out))
}

struct Names {
    agents: HashMap<i64, String>,
    teams: HashMap<i64, String>,
}

async fn names(conn: &mut AnyConnection, ws: i64) -> AppResult<Names> {
    let mut agents = HashMap::new();
    for r in sqlx::query("SELECT id, name FROM agents WHERE workspace_id = $1").bind(ws).fetch_all(&mut *conn).await? {
        agents.insert(r.try_get("id")?, r.try_get("name")?);
    }
    let mut teams = HashMap::new();
    for r in sqlx::query("SELECT id, name FROM teams WHERE workspace_id = $1").bind(ws).fetch_all(&mut *conn).await? {
        teams.insert(r.try_get("id")?, r.try_get("name")?);
    }
    Ok(Names { agents, teams })
}

fn describe(kind: &str, d: &serde_json::Value, h: &Handoff, n: &Names) -> String {
    let agent = |k: &str| d[k].as_i64().and_then(|id| n.agents.get(&id).cloned());
    let team = |k: &str| d[k].as_i64().and_then(|id| n.teams.get(&id).cloned());
    match kind {
        "requested" => format!("{} ({}): {}", h.trigger.as_str().replace('_', " "), h.priority.as_str(), h.reason),
        "routed" | "assigned" | "claimed" => match agent("agent_id") {
            Some(a) => format!("To {a}"),
            None => "Assigned".to_owned(),
        },
        "overridden" | "taken_over" => format!(
            "From {} to {}",
            agent("previous_agent_id").unwrap_or_else(|| "nobody".into()),
            agent("agent_id").unwrap_or_else(|| "someone".into())
        ),
        "transferred" => {
            let to = agent("agent_id").or_else(|| team("team_id").map(|t| format!("the {t} queue")));
            let note = d["note"].as_str().unwrap_or_default();
            format!(
                "To {}{}",
                to.unwrap_or_else(|| "the queue".into()),
                if note.is_empty() { String::new() } else { format!(": {note}") }
            )
        }
        "priority_changed" => {
            format!("{} → {}", d["from"].as_str().unwrap_or("?"), d["to"].as_str().unwrap_or("?"))
        }
        "unassigned" => "Back to the queue".to_owned(),
        _ => kind.replace('_', " "),
    }
}

fn human_ms(ms: i64) -> String {
    match ms {
        m if m % 3_600_000 == 0 => format!("{} h", m / 3_600_000),
        m if m % 60_000 == 0 => format!("{} min", m / 60_000),
        m => format!("{} s", m / 1000),
    }
}

/// How many `bucket`-wide points cover the period (the last one may be cut short).
fn buckets_in(q: &MetricsQuery, bucket: i64) -> i64 {
    (q.to - q.from + bucket - 1) / bucket
}

fn check_period(q: &MetricsQuery) -> AppResult<i64> {
    if q.to <= q.from {
        return Err(AppError::new(ErrorCode::InvalidInput, "`to` must be after `from`"));
    }
    let bucket = q.bucket_ms.unwrap_or(DAY_MS);
    if bucket <= 0 {
        return Err(AppError::new(ErrorCode::InvalidInput, "`bucket_ms` must be positive"));
    }
    if buckets_in(q, bucket) > MAX_BUCKETS {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("that is more than {MAX_BUCKETS} points: choose a wider bucket_ms"),
        ));
    }
    Ok(bucket)
}

/// The SQL that keeps the period's handoffs under the query's filters (team, agent,
/// priority, trigger), numbering its placeholders from `first`; `bind_filters` binds them.
fn handoff_filter(q: &MetricsQuery, first: usize) -> String {
    let mut sql = String::new();
    let mut n = first;
    let mut add = |column: &str, given: bool| {
        if given {
            sql += &format!(" AND h.{column} = ${n}");
            n += 1;
        }
    };
    add("team_id", q.team_id.is_some());
    add("assignee_id", q.agent_id.is_some());
    add("priority", q.priority.is_some());
    add("trigger", q.trigger.is_some());
    sql
}

/// Binds the filter's values: ids as integers, the rest as text.
fn bind_filters<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    q: &MetricsQuery,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    if let Some(t) = q.team_id {
        query = query.bind(t.0);
    }
    if let Some(a) = q.agent_id {
        query = query.bind(a.0);
    }
    if let Some(p) = q.priority {
        query = query.bind(p.as_str());
    }
    if let Some(t) = q.trigger {
        query = query.bind(t.as_str());
    }
    query
}

/// Nearest-rank percentile of sorted values: the smallest value with at least `p` of
/// them at or below it.
pub fn nearest_rank(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

pub fn distribution(mut values: Vec<i64>) -> Distribution {
    values.sort_unstable();
    let mut histogram: Vec<HistogramBin> = BINS_MS.iter().map(|b| HistogramBin { le_ms: Some(*b), count: 0 }).collect();
    histogram.push(HistogramBin { le_ms: None, count: 0 });
    for v in &values {
        let i = BINS_MS.iter().position(|b| v <= b).unwrap_or(BINS_MS.len());
        histogram[i].count += 1;
    }
    Distribution {
        count: values.len() as i64,
        median_ms: nearest_rank(&values, 0.5),
        p90_ms: nearest_rank(&values, 0.9),
        histogram,
    }
}

fn ratio(a: i64, b: i64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// `GET /v1/metrics`.
pub async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MetricsQuery>,
) -> AppResult<Json<MetricsReport>> {
    caller.require_scope("metrics:read")?;
    let mut conn = state.db.read.begin().await?;
    Ok(Json(report(&mut conn, caller.workspace_id().0, &q).await?))
}

pub async fn report(conn: &mut AnyConnection, ws: i64, q: &MetricsQuery) -> AppResult<MetricsReport> {
    let bucket = check_period(q)?;
    let buckets = buckets_in(q, bucket) as usize;
    // Conversations: those whose customer wrote in the period (or the bucket).
    let conv_in = "FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE c.workspace_id = $1 AND m.direction = 'inbound' AND m.sent_at >= $2 AND m.sent_at < $3";
    let conversations: i64 = sqlx::query(&format!("SELECT COUNT(DISTINCT m.conversation_id) AS n {conv_in}"))
        .bind(ws)
        .bind(q.from)
        .bind(q.to)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    let mut series: Vec<RatePoint> = (0..buckets)
        .map(|i| RatePoint { start: q.from + i as i64 * bucket, conversations: 0, handoffs: 0, rate: 0.0 })
        .collect();
    for r in sqlx::query(&format!(
        "SELECT (m.sent_at - $2) / $4 AS b, COUNT(DISTINCT m.conversation_id) AS n {conv_in} GROUP BY (m.sent_at - $2) / $4"
    ))
    .bind(ws)
    .bind(q.from)
    .bind(q.to)
    .bind(bucket)
    .fetch_all(&mut *conn)
    .await?
    {
        if let Some(p) = series.get_mut(r.try_get::<i64, _>("b")? as usize) {
            p.conversations = r.try_get("n")?;
        }
    }

    // Handoffs: requested in the period, under the filters.
    let filter = handoff_filter(q, 4);
    let sql = format!(
        "SELECT h.team_id, h.trigger, h.status, h.requested_at, h.first_response_at, h.resolved_at FROM handoffs h \
         WHERE h.workspace_id = $1 AND h.requested_at >= $2 AND h.requested_at < $3{filter} ORDER BY h.id"
    );
    let rows = bind_filters(sqlx::query(&sql).bind(ws).bind(q.from).bind(q.to), q).fetch_all(&mut *conn).await?;
    let mut calendars: HashMap<Option<i64>, crate::hours::Calendar> = HashMap::new();
    let mut first_response = Vec::new();
    let mut resolution = Vec::new();
    let mut by_trigger: HashMap<HandoffTrigger, i64> = HashMap::new();
    let (mut resolved, mut timed_out) = (0, 0);
    for r in &rows {
        let requested: i64 = r.try_get("requested_at")?;
        if let Some(p) = series.get_mut(((requested - q.from) / bucket) as usize) {
            p.handoffs += 1;
        }
        let trigger = HandoffTrigger::parse(&r.try_get::<String, _>("trigger")?).unwrap_or(HandoffTrigger::Api);
        *by_trigger.entry(trigger).or_default() += 1;
        let team: Option<i64> = r.try_get("team_id")?;
        if q.business_hours && !calendars.contains_key(&team) {
            let cal = sla::calendar(conn, team).await?;
            calendars.insert(team, cal);
        }
        let span = |to: i64| match calendars.get(&team) {
            Some(cal) => cal.between(requested, to),
            None => to - requested,
        };
        if let Some(at) = r.try_get::<Option<i64>, _>("first_response_at")? {
            first_response.push(span(at));
        }
        match r.try_get::<String, _>("status")?.as_str() {
            "resolved" => {
                resolved += 1;
                if let Some(at) = r.try_get::<Option<i64>, _>("resolved_at")? {
                    resolution.push(span(at));
                }
            }
            "timed_out" => timed_out += 1,
            _ => {}
        }
    }
    for p in &mut series {
        p.rate = ratio(p.handoffs, p.conversations);
    }
    let handoffs = rows.len() as i64;
    let mut by_trigger: Vec<TriggerCount> =
        by_trigger.into_iter().map(|(trigger, handoffs)| TriggerCount { trigger, handoffs }).collect();
    by_trigger.sort_by(|a, b| b.handoffs.cmp(&a.handoffs).then(a.trigger.as_str().cmp(b.trigger.as_str())));

    let mut workflows = WorkflowCounts::default();
    for r in
        sqlx::query("SELECT status, COUNT(*) AS n FROM workflow_executions WHERE workspace_id = $1 GROUP BY status")
            .bind(ws)
            .fetch_all(&mut *conn)
            .await?
    {
        let n: i64 = r.try_get("n")?;
        match r.try_get::<String, _>("status")?.as_str() {
            "active" => workflows.active = n,
            "handoff" => workflows.handoff = n,
            "failed" => workflows.failed = n,
            "resolved" => workflows.resolved = n,
            _ => {}
        }
    }
    Ok(MetricsReport {
        from: q.from,
        to: q.to,
        bucket_ms: bucket,
        conversations,
        handoffs,
        escalation_rate: ratio(handoffs, conversations),
        healthy_band: HEALTHY_BAND,
        series,
        first_response: distribution(first_response),
        resolution: distribution(resolution),
        by_trigger,
        returned: ReturnedShare { handoffs, resolved, timed_out, share: ratio(resolved + timed_out, handoffs) },
        workflows,
    })
}

/// `GET /v1/metrics/breaches`.
pub async fn breaches(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MetricsQuery>,
) -> AppResult<Json<BreachReport>> {
    caller.require_scope("metrics:read")?;
    let mut conn = state.db.read.begin().await?;
    Ok(Json(breach_report(&mut conn, caller.workspace_id().0, &q).await?))
}

/// Clocks that breached in the period (`breached_at` in it), and near misses: clocks
/// that warned, never breached, and stopped in the period.
pub async fn breach_report(conn: &mut AnyConnection, ws: i64, q: &MetricsQuery) -> AppResult<BreachReport> {
    check_period(q)?;
    let filter = handoff_filter(q, 4);
    let sql = format!(
        "SELECT s.kind, s.target_ms, s.warned_at, s.breached_at, s.stopped_at, h.id AS handoff_id, h.conversation_id, \
           h.team_id, h.assignee_id, h.priority, h.trigger, k.id AS contact_id, k.name AS contact_name, k.wa_id, k.bsuid \
         FROM sla_clocks s JOIN handoffs h ON h.id = s.handoff_id JOIN conversations c ON c.id = h.conversation_id \
         JOIN contacts k ON k.id = c.contact_id \
         WHERE s.workspace_id = $1 AND ((s.breached_at >= $2 AND s.breached_at < $3) \
           OR (s.breached_at IS NULL AND s.warned_at IS NOT NULL AND s.stopped_at >= $2 AND s.stopped_at < $3)){filter} \
         ORDER BY s.id"
    );
    let rows = bind_filters(sqlx::query(&sql).bind(ws).bind(q.from).bind(q.to), q).fetch_all(&mut *conn).await?;
    let names = names(conn, ws).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        let breached_at: Option<i64> = r.try_get("breached_at")?;
        let (outcome, at) = match breached_at {
            Some(at) => ("breached", at),
            None => ("near_miss", r.try_get::<Option<i64>, _>("stopped_at")?.unwrap_or_default()),
        };
        items.push(BreachItem {
            conversation_id: ConversationId(r.try_get("conversation_id")?),
            handoff_id: HandoffId(r.try_get("handoff_id")?),
            contact_name: contact_name(r)?,
            kind: SlaKind::parse(&r.try_get::<String, _>("kind")?).unwrap_or(SlaKind::FirstResponse),
            outcome: outcome.to_owned(),
            team_id: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
            agent_id: r.try_get::<Option<i64>, _>("assignee_id")?.map(AgentId),
            priority: Priority::parse(&r.try_get::<String, _>("priority")?).unwrap_or(Priority::Normal),
            trigger: HandoffTrigger::parse(&r.try_get::<String, _>("trigger")?).unwrap_or(HandoffTrigger::Api),
            target_ms: r.try_get("target_ms")?,
            at,
        });
    }
    items.sort_by(|a, b| b.at.cmp(&a.at).then(b.handoff_id.cmp(&a.handoff_id)));
    let group = |key: &dyn Fn(&BreachItem) -> (String, String)| {
        let mut groups: HashMap<String, BreachGroup> = HashMap::new();
        for i in &items {
            let (key, label) = key(i);
            let g = groups.entry(key.clone()).or_insert(BreachGroup { key, label, breaches: 0, near_misses: 0 });
            if i.outcome == "breached" {
                g.breaches += 1;
            } else {
                g.near_misses += 1;
            }
        }
        let mut v: Vec<BreachGroup> = groups.into_values().collect();
        v.sort_by(|a, b| {
            b.breaches.cmp(&a.breaches).then(b.near_misses.cmp(&a.near_misses)).then(a.label.cmp(&b.label))
        });
        v
    };
    let by_team = group(&|i| match i.team_id {
        Some(t) => (t.0.to_string(), names.teams.get(&t.0).cloned().unwrap_or_else(|| format!("team {t}"))),
        None => ("none".into(), "No team".into()),
    });
    let by_agent = group(&|i| match i.agent_id {
        Some(a) => (a.0.to_string(), names.agents.get(&a.0).cloned().unwrap_or_else(|| format!("agent {a}"))),
        None => ("none".into(), "Unassigned".into()),
    });
    let by_priority = group(&|i| (i.priority.as_str().into(), i.priority.as_str().into()));
    let by_trigger = group(&|i| (i.trigger.as_str().into(), i.trigger.as_str().replace('_', " ")));
    Ok(BreachReport { from: q.from, to: q.to, items, by_team, by_agent, by_priority, by_trigger })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(nearest_rank(&[], 0.5), None);
        assert_eq!(nearest_rank(&[7], 0.9), Some(7));
        // 4 values: the median is the 2nd (ceil(2)), p90 the 4th (ceil(3.6)).
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 0.5), Some(2));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 0.9), Some(4));
        // 10 values: p90 is the 9th.
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&v, 0.9), Some(9));
        assert_eq!(nearest_rank(&v, 0.5), Some(5));
    }

    #[test]
    fn histogram_bins_are_upper_bounds() {
        let d = distribution(vec![60_000, 60_001, 0, 2 * DAY_MS]);
        assert_eq!(d.count, 4);
        assert_eq!(d.histogram[0].count, 2, "0 and exactly one minute");
        assert_eq!(d.histogram[1].count, 1, "just over a minute");
        assert_eq!(d.histogram.last().unwrap(), &HistogramBin { le_ms: None, count: 1 });
        assert_eq!(d.histogram.iter().map(|b| b.count).sum::<i64>(), 4);
    }

    fn entry(id: i64, due: Option<i64>, p: Priority, requested: i64) -> BoardEntry {
        BoardEntry {
            conversation_id: ConversationId(id),
            handoff_id: HandoffId(id),
            contact_name: String::new(),
            status: "waiting".into(),
            team_id: None,
            assignee_id: None,
            priority: p,
            trigger: HandoffTrigger::Api,
            reason: String::new(),
            requested_at: requested,
            sla_kind: None,
            sla_due_at: due,
            sla_warn_at: None,
            at_risk: false,
            breached: false,
        }
    }

    #[test]
    fn the_board_puts_the_closest_to_breach_first() {
        let mut v = [
            entry(1, None, Priority::Urgent, 10),
            entry(2, Some(500), Priority::Low, 10),
            entry(3, Some(100), Priority::Low, 10), // most overdue
            entry(4, None, Priority::Low, 5),
            entry(5, None, Priority::Urgent, 5),
            entry(6, Some(500), Priority::High, 20),
        ];
        v.sort_by(risk_order);
        let order: Vec<i64> = v.iter().map(|e| e.handoff_id.0).collect();
        assert_eq!(order, vec![3, 6, 2, 5, 1, 4]);
    }
}

//! SLA clocks. Each handoff gets a first-response and a resolution clock at
//! escalation; a customer message after the agent's answer starts a next-response
//! clock. Targets come from the workspace's policy per priority and count business
//! time of the team ([`crate::hours`]); the resolution clock pauses while the
//! conversation waits on the customer (when the policy says so).
//!
//! Deadlines are stored as wall-clock times in `sla_clocks`, so clocks survive
//! restarts; the worker ([`run_sla`]) warns at the policy's share of a target and
//! reports breaches, and a late first response triggers the policy's action
//! (reassign, or escalate to the team's manager). Every warning and breach happens
//! once: a conditional update claims it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use handoff_protocol::*;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::error::{AppError, AppResult};
use crate::hours::Calendar;
use crate::{hooks, routing, store, AppState};

/// The time SLA clocks read: the system clock plus an offset that tests move forward.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        crate::db::now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this process's SLA time forward (tests, demos).
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

/// The workspace's policy (defaults until someone saves one).
pub async fn policy(conn: &mut AnyConnection, workspace_id: i64) -> AppResult<SlaPolicy> {
    store::workspace_setting(conn, workspace_id, "sla").await
}

pub async fn set_policy(conn: &mut AnyConnection, workspace_id: i64, p: &SlaPolicy) -> AppResult<()> {
    if !(0.0..1.0).contains(&p.warning_ratio) || p.warning_ratio <= 0.0 {
        return Err(AppError::new(ErrorCode::InvalidInput, "warning_ratio must be between 0 and 1 (0.75 = at 75%)"));
    }
    for (name, t) in [("urgent", p.urgent), ("high", p.high), ("normal", p.normal), ("low", p.low)] {
        if t.first_response_secs == 0 || t.next_response_secs == 0 || t.resolution_secs == 0 {
            return Err(AppError::new(ErrorCode::InvalidInput, format!("{name}: every target must be above zero")));
        }
    }
    store::set_workspace_setting(conn, workspace_id, "sla", p).await
}

/// The business-hours calendar of a team (always open without one).
pub async fn calendar(conn: &mut AnyConnection, team: Option<i64>) -> AppResult<Calendar> {
    let Some(team) = team else { return Ok(Calendar::always_open()) };
    let hours: Option<String> = sqlx::query("SELECT business_hours FROM teams WHERE id = $1")
        .bind(team)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("business_hours"))
        .transpose()?
        .flatten();
    let hours: Option<BusinessHours> = hours.and_then(|h| serde_json::from_str(&h).ok());
    Ok(Calendar::new(hours.as_ref()).unwrap_or_else(|e| {
        tracing::warn!(team, error = %e, "unreadable business hours: counting wall time");
        Calendar::always_open()
    }))
}

/// Starts a `kind` clock for `h` under policy `p` through the team's calendar `cal`.
async fn start_clock(
    state: &AppState,
    conn: &mut AnyConnection,
    h: &Handoff,
    workspace_id: i64,
    (p, cal): (&SlaPolicy, &Calendar),
    kind: SlaKind,
) -> AppResult<()> {
    let t = p.targets(h.priority);
    let target_secs = match kind {
        SlaKind::FirstResponse => t.first_response_secs,
        SlaKind::NextResponse => t.next_response_secs,
        SlaKind::Resolution => t.resolution_secs,
    };
    let now = state.clock.now_ms();
    let target_ms = target_secs as i64 * 1000;
    let warn_at = cal.add(now, (target_ms as f64 * p.warning_ratio) as i64);
    let due_at = cal.add(now, target_ms);
    sqlx::query(
        "INSERT INTO sla_clocks (workspace_id, handoff_id, conversation_id, kind, target_ms, started_at, warn_at, due_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(workspace_id)
    .bind(h.id.0)
    .bind(h.conversation_id.0)
    .bind(kind.as_str())
    .bind(target_ms)
    .bind(now)
    .bind(warn_at)
    .bind(due_at)
    .execute(&mut *conn)
    .await?;
    state.sla_wake.notify_one();
    Ok(())
}

/// At escalation: the first-response and resolution clocks start.
pub async fn start(state: &AppState, conn: &mut AnyConnection, h: &Handoff, workspace_id: i64) -> AppResult<()> {
    let p = policy(conn, workspace_id).await?;
    let cal = calendar(conn, h.team_id.map(|t| t.0)).await?;
    start_clock(state, conn, h, workspace_id, (&p, &cal), SlaKind::FirstResponse).await?;
    start_clock(state, conn, h, workspace_id, (&p, &cal), SlaKind::Resolution).await
}

/// An agent answered: the first- and next-response clocks stop; the resolution clock
/// pauses while the conversation waits on the customer (per policy).
pub async fn agent_replied(state: &AppState, conn: &mut AnyConnection, handoff: HandoffId) -> AppResult<()> {
    let now = state.clock.now_ms();
    sqlx::query(
        "UPDATE sla_clocks SET stopped_at = $1 WHERE handoff_id = $2 AND kind IN ('first_response', 'next_response') \
         AND stopped_at IS NULL",
    )
    .bind(now)
    .bind(handoff.0)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query("SELECT workspace_id, team_id FROM handoffs WHERE id = $1")
        .bind(handoff.0)
        .fetch_one(&mut *conn)
        .await?;
    let (ws, team): (i64, Option<i64>) = (row.try_get("workspace_id")?, row.try_get("team_id")?);
    if !policy(conn, ws).await?.pause_while_waiting_on_customer {
        return Ok(());
    }
    let cal = calendar(conn, team).await?;
    let running = sqlx::query(
        "SELECT id, warn_at, due_at, warned_at FROM sla_clocks WHERE handoff_id = $1 AND kind = 'resolution' \
         AND stopped_at IS NULL AND paused_at IS NULL AND breached_at IS NULL",
    )
    .bind(handoff.0)
    .fetch_all(&mut *conn)
    .await?;
    for r in running {
        let (warn_at, due_at): (Option<i64>, Option<i64>) = (r.try_get("warn_at")?, r.try_get("due_at")?);
        let warned: Option<i64> = r.try_get("warned_at")?;
        let warn_left = warn_at.filter(|_| warned.is_none()).map(|w| cal.between(now, w));
        let due_left = due_at.map(|d| cal.between(now, d));
        sqlx::query(
            "UPDATE sla_clocks SET paused_at = $1, warn_left_ms = $2, due_left_ms = $3, warn_at = NULL, due_at = NULL \
             WHERE id = $4",
        )
        .bind(now)
        .bind(warn_left)
        .bind(due_left)
        .bind(r.try_get::<i64, _>("id")?)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The customer wrote while people own the thread: a paused resolution clock resumes,
/// and once the first response is done a next-response clock starts (unless one runs).
pub async fn customer_wrote(state: &AppState, conn: &mut AnyConnection, conv: &Conversation) -> AppResult<()> {
    let Some(hid) = conv.active_handoff_id else { return Ok(()) };
    let h = store::handoff(conn, hid).await?;
    let ws = conv.workspace_id.0;
    let now = state.clock.now_ms();
    let cal = calendar(conn, h.team_id.map(|t| t.0)).await?;
    let paused = sqlx::query(
        "SELECT id, warn_left_ms, due_left_ms FROM sla_clocks WHERE handoff_id = $1 AND paused_at IS NOT NULL \
         AND stopped_at IS NULL",
    )
    .bind(hid.0)
    .fetch_all(&mut *conn)
    .await?;
    for r in paused {
        let (warn_left, due_left): (Option<i64>, Option<i64>) = (r.try_get("warn_left_ms")?, r.try_get("due_left_ms")?);
        sqlx::query(
            "UPDATE sla_clocks SET paused_at = NULL, warn_at = $1, due_at = $2, warn_left_ms = NULL, due_left_ms = NULL \
             WHERE id = $3",
        )
        .bind(warn_left.map(|l| cal.add(now, l)))
        .bind(due_left.map(|l| cal.add(now, l)))
        .bind(r.try_get::<i64, _>("id")?)
        .execute(&mut *conn)
        .await?;
    }
    let first_done = sqlx::query(
        "SELECT 1 AS one FROM sla_clocks WHERE handoff_id = $1 AND kind = 'first_response' AND stopped_at IS NOT NULL",
    )
    .bind(hid.0)
    .fetch_optional(&mut *conn)
    .await?
    .is_some();
    let next_running = sqlx::query(
        "SELECT 1 AS one FROM sla_clocks WHERE handoff_id = $1 AND kind = 'next_response' AND stopped_at IS NULL",
    )
    .bind(hid.0)
    .fetch_optional(&mut *conn)
    .await?
    .is_some();
    if first_done && !next_running {
        let p = policy(conn, ws).await?;
        start_clock(state, conn, &h, ws, (&p, &cal), SlaKind::NextResponse).await?;
    }
    state.db.record_change(conn, ws, "handoff", hid.0, conv.id.0).await?;
    Ok(())
}

/// The handoff ended (resolved, timed out): its clocks stop.
pub async fn stop_all(state: &AppState, conn: &mut AnyConnection, handoff: HandoffId) -> AppResult<()> {
    sqlx::query("UPDATE sla_clocks SET stopped_at = $1 WHERE handoff_id = $2 AND stopped_at IS NULL")
        .bind(state.clock.now_ms())
        .bind(handoff.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Fires the warnings and breaches that are due. Returns how many fired.
pub async fn tick(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now_ms();
    let due = sqlx::query(
        "SELECT id FROM sla_clocks WHERE stopped_at IS NULL AND paused_at IS NULL AND \
         ((warned_at IS NULL AND warn_at <= $1) OR (breached_at IS NULL AND due_at <= $1)) ORDER BY due_at, id LIMIT 200",
    )
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    let mut fired = 0;
    for r in due {
        let id: i64 = r.try_get("id")?;
        let mut tx = state.db.begin_write().await?;
        let ws = fire(state, &mut tx, id, now).await?;
        tx.commit().await?;
        if let Some((ws, n)) = ws {
            fired += n;
            state.changed(ws).await;
        }
    }
    Ok(fired)
}

/// Warns and/or breaches clock `id` if still due. Returns (workspace, events fired).
async fn fire(state: &AppState, conn: &mut AnyConnection, id: i64, now: i64) -> AppResult<Option<(i64, usize)>> {
    let r = sqlx::query(
        "SELECT workspace_id, handoff_id, conversation_id, kind, target_ms, started_at, warn_at, due_at, warned_at, breached_at \
         FROM sla_clocks WHERE id = $1 AND stopped_at IS NULL AND paused_at IS NULL",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let (ws, hid, cid): (i64, i64, i64) =
        (r.try_get("workspace_id")?, r.try_get("handoff_id")?, r.try_get("conversation_id")?);
    let kind = SlaKind::parse(&r.try_get::<String, _>("kind")?).unwrap_or(SlaKind::FirstResponse);
    let (warn_at, due_at): (Option<i64>, Option<i64>) = (r.try_get("warn_at")?, r.try_get("due_at")?);
    let h = store::handoff(conn, HandoffId(hid)).await?;
    let assignee = match h.assignee_id {
        Some(a) => {
            let a = store::agent_by_id(conn, a).await?;
            json!({ "id": a.id, "name": a.name, "email": a.email })
        }
        None => serde_json::Value::Null,
    };
    let base = json!({ "conversation_id": cid, "handoff_id": hid, "clock": kind.as_str(),
        "target_ms": r.try_get::<i64, _>("target_ms")?, "started_at": r.try_get::<i64, _>("started_at")?,
        "due_at": due_at, "priority": h.priority, "team_id": h.team_id, "assignee": assignee });
    let mut n = 0;
    if warn_at.is_some_and(|w| w <= now) || due_at.is_some_and(|d| d <= now) {
        let claimed = sqlx::query("UPDATE sla_clocks SET warned_at = $1 WHERE id = $2 AND warned_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        if claimed == 1 {
            state.telemetry.sla_fired(kind.as_str(), false);
            hooks::emit(conn, ws, Some(cid), "conversation.sla_warning", base.clone()).await?;
            n += 1;
        }
    }
    if due_at.is_some_and(|d| d <= now) {
        let claimed = sqlx::query("UPDATE sla_clocks SET breached_at = $1 WHERE id = $2 AND breached_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        if claimed == 1 {
            state.telemetry.sla_fired(kind.as_str(), true);
            let action = if kind == SlaKind::FirstResponse { breach_action(state, conn, &h, ws).await? } else { None };
            let mut data = base;
            data["action"] = json!(action);
            hooks::emit(conn, ws, Some(cid), "conversation.sla_breached", data).await?;
            tracing::warn!(conversation = cid, clock = kind.as_str(), "SLA breached");
            n += 1;
        }
    }
    if n > 0 {
        state.db.record_change(conn, ws, "handoff", hid, cid).await?;
    }
    Ok(Some((ws, n)))
}

/// What a late first response does, per policy. Returns what was done.
async fn breach_action(
    state: &AppState,
    conn: &mut AnyConnection,
    h: &Handoff,
    ws: i64,
) -> AppResult<Option<serde_json::Value>> {
    let p = policy(conn, ws).await?;
    let done = match p.breach_action {
        BreachAction::Notify => None,
        BreachAction::Reassign => {
            // Only an owned conversation is reassigned (a queued one is already
            // offered to everyone who can take it).
            let Some(owner) = h.assignee_id else { return Ok(None) };
            match routing::pick(conn, h, Some(owner)).await? {
                Some(to) => {
                    routing::assign_to(state, conn, h, to, None).await?;
                    Some(json!({ "type": "reassigned", "from_agent_id": owner, "to_agent_id": to }))
                }
                None => None,
            }
        }
        BreachAction::EscalateToManager => {
            let manager: Option<i64> = match h.team_id {
                Some(t) => sqlx::query("SELECT manager_id FROM teams WHERE id = $1")
                    .bind(t.0)
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get("manager_id")?,
                None => None,
            };
            match manager.map(AgentId).filter(|m| h.assignee_id != Some(*m)) {
                Some(m) => {
                    routing::assign_to(state, conn, h, m, None).await?;
                    Some(json!({ "type": "escalated_to_manager", "from_agent_id": h.assignee_id, "to_agent_id": m }))
                }
                None => None,
            }
        }
    };
    if let Some(d) = &done {
        crate::audit::record_as(
            conn,
            ws,
            "system",
            "SLA",
            "sla.breach_action",
            "conversation",
            h.conversation_id.0,
            d.clone(),
        )
        .await?;
    }
    Ok(done)
}

/// The SLA worker: fires what is due every second (and when woken).
pub async fn run_sla(state: AppState) {
    loop {
        if let Err(e) = tick(&state).await {
            tracing::warn!(error = %e, "SLA check failed; retrying");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = state.sla_wake.notified() => {}
        }
    }
}

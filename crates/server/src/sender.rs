//! The send worker: delivers queued outbound messages through the Graph API.
//!
//! A message is written to the database (status `queued`) before any call to Meta;
//! the worker claims it (`sending`), calls Meta once, and records `sent` with the
//! wamid, a retry time for retryable errors, or `failed` with Meta's reason.

use std::time::Duration;

use futures_util::StreamExt;
use handoff_protocol::DeliveryStatus;
use handoff_whatsapp::{OutboundMessage, Recipient};
use sqlx::Row;

use crate::db::now_ms;
use crate::error::AppResult;
use crate::AppState;

const MAX_ATTEMPTS: i64 = 8;

/// The key we send with each message (`biz_opaque_callback_data`); Meta echoes it in the
/// message's status webhooks, which tells us a send was accepted even if we crashed
/// before reading Meta's answer.
pub fn callback_key(message_id: i64) -> String {
    format!("handoff:{message_id}")
}

pub fn parse_callback_key(key: &str) -> Option<i64> {
    key.strip_prefix("handoff:")?.parse().ok()
}

/// Messages a crashed process left `sending`: whether Meta got them is unknown. They
/// wait `grace` for a status webhook carrying their callback key (which proves Meta
/// accepted them: no resend); without one they go back to the queue. The grace must
/// exceed the Graph API timeout so a live send is never taken for an orphan.
async fn requeue_orphans(state: &AppState) -> AppResult<usize> {
    let grace = state.send_recovery_grace.as_millis() as i64;
    let now = now_ms();
    if now - state.started_at < grace {
        return Ok(0);
    }
    let rows = sqlx::query(
        "SELECT m.id, m.conversation_id, c.workspace_id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.direction = 'outbound' AND m.status = 'sending' AND m.sending_since < $1",
    )
    .bind(now - grace)
    .fetch_all(&state.db.pool)
    .await?;
    for r in &rows {
        let (id, conv, ws): (i64, i64, i64) =
            (r.try_get("id")?, r.try_get("conversation_id")?, r.try_get("workspace_id")?);
        let mut tx = state.db.begin_write().await?;
        let n = sqlx::query(
            "UPDATE messages SET status = 'queued', next_attempt_at = NULL WHERE id = $1 AND status = 'sending'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            tracing::warn!(message = id, "send interrupted and never confirmed by WhatsApp: sending again");
            state.db.record_change(&mut tx, ws, "message", id, conv).await?;
        }
        tx.commit().await?;
    }
    Ok(rows.len())
}

pub async fn run_sender(state: AppState) {
    loop {
        crate::ingest::make_way(&state).await;
        if let Err(e) = requeue_orphans(&state).await {
            tracing::error!(error = %e, "orphaned-send check failed");
        }
        match send_due(&state).await {
            Ok(0) => {
                let _ = tokio::time::timeout(Duration::from_millis(1000), state.sender_wake.notified()).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "send worker failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

struct Job {
    id: i64,
    workspace_id: i64,
    conversation_id: i64,
    text: String,
    kind: String,
    payload: Option<String>,
    /// The wamid this message quotes.
    context: Option<String>,
    attempts: i64,
    phone_number_id: String,
    wa_id: Option<String>,
    bsuid: Option<String>,
}

async fn send_due(state: &AppState) -> AppResult<usize> {
    let now = now_ms();
    let rows = {
        let mut conn = state.db.pool.acquire().await?;
        sqlx::query(
            "SELECT m.id, m.conversation_id, m.text, m.kind, m.payload, m.raw, m.attempts, c.workspace_id, ch.phone_number_id, \
             k.wa_id, k.bsuid \
             FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             JOIN channels ch ON ch.id = c.channel_id JOIN contacts k ON k.id = c.contact_id \
             WHERE m.direction = 'outbound' AND m.status = 'queued' AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= $1) \
             ORDER BY m.id LIMIT 50",
        )
        .bind(now)
        .fetch_all(&mut *conn)
        .await?
    };
    let mut jobs = Vec::with_capacity(rows.len());
    for r in &rows {
        jobs.push(Job {
            id: r.try_get("id")?,
            workspace_id: r.try_get("workspace_id")?,
            conversation_id: r.try_get("conversation_id")?,
            text: r.try_get::<Option<String>, _>("text")?.unwrap_or_default(),
            kind: r.try_get("kind")?,
            payload: r.try_get("payload")?,
            context: crate::outbound::context_of(r.try_get::<Option<String>, _>("raw")?.as_deref()),
            attempts: r.try_get("attempts")?,
            phone_number_id: r.try_get("phone_number_id")?,
            wa_id: r.try_get("wa_id")?,
            bsuid: r.try_get("bsuid")?,
        });
    }
    let n = jobs.len();
    // Claim the whole batch in one transaction (one fsync): only one worker (or replica)
    // sends a given message, and a claim is on disk before Meta is called.
    let mut claimed = Vec::with_capacity(n);
    {
        crate::ingest::make_way(state).await;
        let mut tx = state.db.begin_write().await?;
        let now = now_ms();
        for job in jobs {
            let n = sqlx::query(
                "UPDATE messages SET status = 'sending', attempts = attempts + 1, sending_since = $2 \
                 WHERE id = $1 AND status = 'queued'",
            )
            .bind(job.id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                claimed.push(job);
            }
        }
        tx.commit().await?;
    }
    // Conversations in parallel, each conversation's messages in order.
    let mut lanes: Vec<Vec<Job>> = Vec::new();
    for job in claimed {
        match lanes.iter_mut().find(|l| l[0].conversation_id == job.conversation_id) {
            Some(lane) => lane.push(job),
            None => lanes.push(vec![job]),
        }
    }
    let outcomes: Vec<(Job, Outcome)> = futures_util::stream::iter(lanes)
        .map(|lane| async move {
            let mut done = Vec::with_capacity(lane.len());
            for job in lane {
                let outcome = send_one(state, &job).await;
                done.push((job, outcome));
            }
            done
        })
        .buffer_unordered(SEND_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    // Record every result in one transaction.
    crate::ingest::make_way(state).await;
    let mut tx = state.db.begin_write().await?;
    let mut touched = std::collections::BTreeSet::new();
    for (job, o) in &outcomes {
        finish(state, &mut tx, job, o.status, o.wamid.as_deref(), o.error.as_deref(), o.next_attempt_at).await?;
        touched.insert(job.workspace_id);
    }
    tx.commit().await?;
    for ws in touched {
        state.changed(ws).await;
    }
    Ok(n)
}

/// Sends at most this many messages at once (to different conversations).
const SEND_CONCURRENCY: usize = 8;

/// What one call to Meta came to.
struct Outcome {
    status: DeliveryStatus,
    wamid: Option<String>,
    error: Option<String>,
    next_attempt_at: Option<i64>,
}

impl Outcome {
    fn new(status: DeliveryStatus, wamid: Option<String>, error: Option<String>, next: Option<i64>) -> Outcome {
        Outcome { status, wamid, error, next_attempt_at: next }
    }
}

async fn send_one(state: &AppState, job: &Job) -> Outcome {
    let recipient = match (&job.wa_id, &job.bsuid) {
        (Some(phone), _) => Recipient::Phone(phone.clone()),
        (None, Some(b)) => Recipient::Bsuid(b.clone()),
        (None, None) => {
            return Outcome::new(
                DeliveryStatus::Failed,
                None,
                Some("the contact has no WhatsApp address".into()),
                None,
            );
        }
    };
    let mut msg = OutboundMessage::text(&recipient, &job.text);
    msg.biz_opaque_callback_data = Some(callback_key(job.id));
    if let Some(payload) = &job.payload {
        // A non-text message (a template, media, interactive): Meta's object for that type.
        let object: serde_json::Value = match serde_json::from_str(payload) {
            Ok(o) => o,
            Err(e) => {
                return Outcome::new(
                    DeliveryStatus::Failed,
                    None,
                    Some(format!("stored payload unreadable: {e}")),
                    None,
                )
            }
        };
        let object = if crate::media::MEDIA_KINDS.contains(&job.kind.as_str()) {
            // Upload the file first (once).
            match crate::outbound::media_object(state, job.id, &job.phone_number_id, &object).await {
                Ok(o) => o,
                Err(e) => return failed_call(state, job, e),
            }
        } else {
            object
        };
        msg.text = None;
        msg.kind = job.kind.clone();
        msg.extra.insert(job.kind.clone(), object);
    }
    if let Some(wamid) = &job.context {
        msg.context = Some(handoff_whatsapp::graph::ReplyContext { message_id: wamid.clone() });
    }
    match state.graph.send(&job.phone_number_id, &msg).await {
        Ok(resp) => {
            let wamid = resp.messages.first().map(|m| m.id.clone());
            state.telemetry.sends.inc();
            Outcome::new(DeliveryStatus::Sent, wamid, None, None)
        }
        Err(e) => failed_call(state, job, e),
    }
}

/// A failed Graph API call: retried later by Meta's error-code table, or failed for good.
fn failed_call(state: &AppState, job: &Job, e: handoff_whatsapp::GraphError) -> Outcome {
    let code = match &e {
        handoff_whatsapp::GraphError::Api { code, .. } => code.to_string(),
        handoff_whatsapp::GraphError::Transport(_) => "transport".to_owned(),
    };
    let retried = e.is_retryable() && job.attempts + 1 < MAX_ATTEMPTS;
    state.telemetry.send_failed(code, retried);
    if retried {
        let backoff = e.retry_after(job.attempts.clamp(0, 16) as u32).map_or(1000, |d| d.as_millis() as i64);
        tracing::warn!(message = job.id, error = %e.describe(), backoff_ms = backoff, "send failed; will retry");
        Outcome::new(DeliveryStatus::Queued, None, Some(e.describe()), Some(now_ms() + backoff))
    } else {
        tracing::warn!(message = job.id, error = %e.describe(), "send failed for good");
        Outcome::new(DeliveryStatus::Failed, None, Some(e.describe()), None)
    }
}

async fn finish(
    state: &AppState,
    tx: &mut sqlx::AnyConnection,
    job: &Job,
    status: DeliveryStatus,
    wamid: Option<&str>,
    error: Option<&str>,
    next_attempt_at: Option<i64>,
) -> AppResult<()> {
    // A status webhook may already have moved the message further (`delivered`); keep
    // the furthest status.
    sqlx::query(
        "UPDATE messages SET status = CASE WHEN status = 'sending' THEN $1 ELSE status END, \
         wamid = COALESCE($2, wamid), error = $3, next_attempt_at = $4 WHERE id = $5",
    )
    .bind(status.as_str())
    .bind(wamid)
    .bind(error)
    .bind(next_attempt_at)
    .bind(job.id)
    .execute(&mut *tx)
    .await?;
    if let Some(w) = wamid {
        // Statuses that came before we knew the wamid.
        crate::engine::apply_pending_statuses(tx, job.id, w).await?;
    }
    state.db.record_change(tx, job.workspace_id, "message", job.id, job.conversation_id).await?;
    if status != DeliveryStatus::Queued {
        let data = serde_json::json!({ "conversation_id": job.conversation_id, "message_id": job.id, "wamid": wamid,
            "status": status, "error": error });
        crate::hooks::emit(tx, job.workspace_id, Some(job.conversation_id), "message.status", data).await?;
    }
    Ok(())
}

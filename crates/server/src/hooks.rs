//! Project webhooks: signed HTTP callbacks to subscribers (CRMs, workflow engines, the
//! external automation).
//!
//! - Signed per the Standard Webhooks specification: `webhook-id`, `webhook-timestamp`,
//!   `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with the
//!   subscription's `whsec_` secret (sealed at rest, see `crypto.rs`).
//! - Written to `webhook_outbox` by [`emit`] in the same transaction as the change that
//!   caused them, so an event exists if and only if its change committed.
//! - Delivered by [`run_delivery`]: in order per (subscription, conversation), retried
//!   with backoff for more than 24 hours, then dead-lettered; every attempt is logged
//!   and any delivery can be replayed.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::{AnyConnection, Row};

use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::AppState;

/// Every event type a subscription can ask for.
pub const EVENT_TYPES: &[&str] = &[
    "workflow.execution.handoff",
    "conversation.queued",
    "conversation.assigned",
    "conversation.reassigned",
    "conversation.unassigned",
    "conversation.transferred",
    "conversation.first_response",
    "conversation.sla_warning",
    "conversation.sla_breached",
    "conversation.resolved",
    "conversation.returned_to_automation",
    "message.created",
    "message.status",
];

/// Waits between attempts: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 27.6 h in
/// all), as the Standard Webhooks guidance suggests; then the delivery is dead.
pub fn default_retry_schedule() -> Vec<Duration> {
    [5, 300, 1800, 7200, 18000, 36000, 36000].into_iter().map(Duration::from_secs).collect()
}

/// A new subscription secret: `whsec_` + base64 of 24 random bytes.
pub fn new_secret() -> String {
    format!("whsec_{}", B64.encode(rand::random::<[u8; 24]>()))
}

/// The `webhook-signature` value for one message.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> AppResult<String> {
    let key = B64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| AppError::Internal("a webhook secret is not valid base64".into()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// RFC 3339 UTC time of unix milliseconds (`2026-11-23T19:04:05.123Z`).
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

fn wants(filter: &str, event_type: &str) -> bool {
    let list: Vec<String> = serde_json::from_str(filter).unwrap_or_default();
    list.iter().any(|f| {
        f == "*" || f == event_type || f.strip_suffix(".*").is_some_and(|p| event_type.starts_with(&format!("{p}.")))
    })
}

/// Queues `event_type` for every enabled subscription of the workspace that wants it.
/// Call inside the transaction of the change. Subscriptions of an automation receive
/// `message.created` only while automation owns the conversation.
pub async fn emit(
    conn: &mut AnyConnection,
    workspace_id: i64,
    conversation_id: Option<i64>,
    event_type: &str,
    data: Value,
) -> AppResult<usize> {
    let subs =
        sqlx::query("SELECT id, events, automation FROM webhook_subscriptions WHERE workspace_id = $1 AND enabled = 1")
            .bind(workspace_id)
            .fetch_all(&mut *conn)
            .await?;
    if subs.is_empty() {
        return Ok(0);
    }
    let paused = match (event_type, conversation_id) {
        ("message.created", Some(c)) => {
            let state: String = sqlx::query("SELECT state FROM conversations WHERE id = $1")
                .bind(c)
                .fetch_one(&mut *conn)
                .await?
                .try_get("state")?;
            state != "automation"
        }
        _ => false,
    };
    // Outbox ids in commit order: the worker delivers a conversation's events by id.
    crate::db::lock_commit_order(conn).await?;
    let now = now_ms();
    let payload = json!({ "type": event_type, "timestamp": rfc3339(now), "data": data }).to_string();
    let mut queued = 0;
    for s in subs {
        let events: String = s.try_get("events")?;
        let automation: i64 = s.try_get("automation")?;
        if !wants(&events, event_type) || (automation == 1 && paused) {
            continue;
        }
        let event_id = format!("msg_{}", hex::encode(rand::random::<[u8; 12]>()));
        sqlx::query(
            "INSERT INTO webhook_outbox (subscription_id, workspace_id, event_id, event_type, conversation_id, payload, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(s.try_get::<i64, _>("id")?)
        .bind(workspace_id)
        .bind(&event_id)
        .bind(event_type)
        .bind(conversation_id)
        .bind(&payload)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        queued += 1;
    }
    Ok(queued)
}

/// Delivers due events until none is left, then waits to be woken (or 1 s).
pub async fn run_delivery(state: AppState) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("HTTP client");
    loop {
        crate::ingest::make_way(&state).await;
        match deliver_due(&state, &http).await {
            Ok(0) => {
                let _ = tokio::time::timeout(Duration::from_millis(1000), state.hooks_wake.notified()).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "webhook delivery failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn deliver_due(state: &AppState, http: &reqwest::Client) -> AppResult<usize> {
    // The oldest pending event of each (subscription, conversation) only: order is kept.
    let due = sqlx::query(
        "SELECT o.id FROM webhook_outbox o WHERE o.status = 'pending' AND o.next_attempt_at <= $1 AND NOT EXISTS ( \
           SELECT 1 FROM webhook_outbox p WHERE p.subscription_id = o.subscription_id AND p.conversation_id = o.conversation_id \
           AND p.status = 'pending' AND p.id < o.id) ORDER BY o.id LIMIT 50",
    )
    .bind(now_ms())
    .fetch_all(&state.db.pool)
    .await?;
    let ids: Vec<i64> = due.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
    for id in &ids {
        deliver_one(state, http, *id).await?;
    }
    Ok(ids.len())
}

async fn deliver_one(state: &AppState, http: &reqwest::Client, id: i64) -> AppResult<()> {
    let row = sqlx::query(
        "SELECT o.event_id, o.payload, o.attempts, o.created_at, s.url, s.secret FROM webhook_outbox o \
         JOIN webhook_subscriptions s ON s.id = o.subscription_id WHERE o.id = $1 AND o.status = 'pending'",
    )
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(row) = row else { return Ok(()) };
    let (event_id, payload, attempts, url, sealed): (String, String, i64, String, String) = (
        row.try_get("event_id")?,
        row.try_get("payload")?,
        row.try_get("attempts")?,
        row.try_get("url")?,
        row.try_get("secret")?,
    );
    let secret = state.secrets.open(&sealed)?;
    let ts = now_ms() / 1000;
    let signature = sign(secret.expose(), &event_id, ts, &payload)?;
    let started = std::time::Instant::now();
    let result = http
        .post(&url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("Handoff-Webhooks/", env!("CARGO_PKG_VERSION")))
        .header("webhook-id", &event_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(payload)
        .send()
        .await;
    let elapsed = started.elapsed().as_millis() as i64;
    let (status, error) = match result {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16() as i64), None),
        Ok(r) => (Some(r.status().as_u16() as i64), Some(format!("HTTP {}", r.status()))),
        Err(e) => (None, Some(e.without_url().to_string())),
    };
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    sqlx::query("INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(now)
        .bind(status)
        .bind(&error)
        .bind(elapsed)
        .execute(&mut *tx)
        .await?;
    let attempts = attempts + 1;
    match error {
        None => {
            sqlx::query("UPDATE webhook_outbox SET status = 'delivered', attempts = $1, delivered_at = $2, last_status = $3, last_error = NULL WHERE id = $4")
                .bind(attempts)
                .bind(now)
                .bind(status)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        Some(err) => {
            let schedule = &state.hook_retry_schedule;
            let (next_status, next_at) = match schedule.get(attempts as usize - 1) {
                Some(wait) => ("pending", now + wait.as_millis() as i64),
                None => ("dead", now),
            };
            if next_status == "dead" {
                tracing::warn!(delivery = id, %url, "webhook dead-lettered after {attempts} attempts: {err}");
            }
            sqlx::query(
                "UPDATE webhook_outbox SET status = $1, attempts = $2, next_attempt_at = $3, last_status = $4, last_error = $5 WHERE id = $6",
            )
            .bind(next_status)
            .bind(attempts)
            .bind(next_at)
            .bind(status)
            .bind(err)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

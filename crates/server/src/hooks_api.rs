//! `/v1/webhooks`: subscriptions, their delivery log, and replay.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use handoff_protocol::{ErrorCode, Role};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::api::ApiJson;
use crate::auth::Caller;
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::hooks::{new_secret, EVENT_TYPES};
use crate::AppState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CreateSubscription {
    pub url: String,
    pub events: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct UpdateSubscription {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Subscription {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub automation: bool,
    pub description: Option<String>,
    pub created_at: i64,
    /// The signing secret: returned once, when the subscription is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attempt {
    pub attempted_at: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Delivery {
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    pub conversation_id: Option<i64>,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub log: Vec<Attempt>,
}

fn require_manager(caller: &Caller) -> AppResult<()> {
    match caller {
        Caller::Api { .. } => Ok(()),
        Caller::Agent { agent, .. } if matches!(agent.role, Role::Admin | Role::Manager) => Ok(()),
        Caller::Agent { .. } => Err(AppError::new(ErrorCode::Forbidden, "only managers and admins manage webhooks")),
    }
}

pub fn validate_url(url: &str) -> AppResult<()> {
    let ok = url.starts_with("https://") || url.starts_with("http://");
    if !ok || url.len() > 2000 || url.contains(char::is_whitespace) {
        return Err(AppError::new(ErrorCode::InvalidInput, "the webhook URL must be an http(s) URL"));
    }
    Ok(())
}

pub fn validate_events(events: &[String]) -> AppResult<()> {
    if events.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "subscribe to at least one event (\"*\" for all)"));
    }
    for e in events {
        let known = e == "*"
            || EVENT_TYPES.contains(&e.as_str())
            || e.strip_suffix(".*").is_some_and(|p| EVENT_TYPES.iter().any(|t| t.starts_with(&format!("{p}."))));
        if !known {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                format!("unknown event type \"{e}\"; known: {}", EVENT_TYPES.join(", ")),
            ));
        }
    }
    Ok(())
}

fn subscription_from_row(r: &AnyRow) -> AppResult<Subscription> {
    Ok(Subscription {
        id: r.try_get("id")?,
        url: r.try_get("url")?,
        events: serde_json::from_str(&r.try_get::<String, _>("events")?).unwrap_or_default(),
        enabled: r.try_get::<i64, _>("enabled")? == 1,
        automation: r.try_get::<i64, _>("automation")? == 1,
        description: r.try_get("description")?,
        created_at: r.try_get("created_at")?,
        secret: None,
    })
}

const SUB_COLUMNS: &str = "id, url, events, enabled, automation, description, created_at";

/// Creates a subscription and returns it with its secret (shown this once).
pub async fn insert_subscription(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    req: &CreateSubscription,
    automation: bool,
) -> AppResult<Subscription> {
    validate_url(&req.url)?;
    validate_events(&req.events)?;
    let secret = new_secret();
    let row = sqlx::query(&format!(
        "INSERT INTO webhook_subscriptions (workspace_id, url, secret, events, enabled, automation, description, created_at) \
         VALUES ($1, $2, $3, $4, 1, $5, $6, $7) RETURNING {SUB_COLUMNS}"
    ))
    .bind(workspace_id)
    .bind(&req.url)
    .bind(state.secrets.seal(&secret))
    .bind(serde_json::to_string(&req.events).map_err(|e| AppError::Internal(e.to_string()))?)
    .bind(i64::from(automation))
    .bind(req.description.as_deref())
    .bind(now_ms())
    .fetch_one(&mut *conn)
    .await?;
    let mut sub = subscription_from_row(&row)?;
    sub.secret = Some(secret);
    Ok(sub)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateSubscription>,
) -> AppResult<(StatusCode, Json<Subscription>)> {
    caller.require_scope("webhooks:manage")?;
    require_manager(&caller)?;
    let mut conn = state.db.pool.acquire().await?;
    let sub = insert_subscription(&state, &mut conn, caller.workspace_id().0, &req, false).await?;
    Ok((StatusCode::CREATED, Json(sub)))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<Subscription>>> {
    caller.require_scope("webhooks:manage")?;
    require_manager(&caller)?;
    let rows =
        sqlx::query(&format!("SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE workspace_id = $1 ORDER BY id"))
            .bind(caller.workspace_id().0)
            .fetch_all(&state.db.pool)
            .await?;
    Ok(Json(rows.iter().map(subscription_from_row).collect::<AppResult<_>>()?))
}

async fn owned(state: &AppState, caller: &Caller, id: i64) -> AppResult<Subscription> {
    let row =
        sqlx::query(&format!("SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE id = $1 AND workspace_id = $2"))
            .bind(id)
            .bind(caller.workspace_id().0)
            .fetch_optional(&state.db.pool)
            .await?
            .ok_or_else(|| AppError::not_found("webhook subscription"))?;
    subscription_from_row(&row)
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<UpdateSubscription>,
) -> AppResult<Json<Subscription>> {
    caller.require_scope("webhooks:manage")?;
    require_manager(&caller)?;
    let mut sub = owned(&state, &caller, id).await?;
    if let Some(url) = req.url {
        validate_url(&url)?;
        sub.url = url;
    }
    if let Some(events) = req.events {
        validate_events(&events)?;
        sub.events = events;
    }
    if let Some(enabled) = req.enabled {
        sub.enabled = enabled;
    }
    sqlx::query("UPDATE webhook_subscriptions SET url = $1, events = $2, enabled = $3 WHERE id = $4")
        .bind(&sub.url)
        .bind(serde_json::to_string(&sub.events).map_err(|e| AppError::Internal(e.to_string()))?)
        .bind(i64::from(sub.enabled))
        .bind(id)
        .execute(&state.db.pool)
        .await?;
    Ok(Json(sub))
}

pub async fn delete(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> AppResult<StatusCode> {
    caller.require_scope("webhooks:manage")?;
    require_manager(&caller)?;
    owned(&state, &caller, id).await?;
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_outbox WHERE subscription_id = $1)",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM webhook_outbox WHERE subscription_id = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1").bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The delivery log of a subscription, newest first (100 at most).
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<Delivery>>> {
    caller.require_scope("webhooks:manage")?;
    require_manager(&caller)?;
    owned(&state, &caller, id).await?;
    let rows = sqlx::query(
        "SELECT id, event_id, event_type, conversation_id, status, attempts, created_at, next_attempt_at, delivered_at, last_status, last_error \
         FROM webhook_outbox WHERE subscription_id = $1 ORDER BY id DESC LIMIT 100",
    )
    .bind(id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let did: i64 = r.try_get("id")?;
        let log = sqlx::query("SELECT attempted_at, status_code, error, duration_ms FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id")
            .bind(did)
            .fetch_all(&state.db.pool)
            .await?
            .iter()
            .map(|a| {
                Ok(Attempt {
                    attempted_at: a.try_get("attempted_at")?,
                    status_code: a.try_get("status_code")?,
                    error: a.try_get("error")?,
                    duration_ms: a.try_get("duration_ms")?,
                })
            })
            .collect::<AppResult<_>>()?;
        out.push(Delivery {
            id: did,
            event_id: r.try_get("event_id")?,
            event_type: r.try_get("event_type")?,
            conversation_id: r.try_get("conversation_id")?,
            status: r.try_get("status")?,
            attempts: r.try_get("attempts")?,
            created_at: r.try_get("created_at")?,
            next_attempt_at: r.try_get("next_attempt_at")?,
            delivered_at: r.try_get("delivered_at")?,
            last_status: r.try_get("last_status")?,
            last_error: r.try_get("last_error")?,
            log,
        });
    }
    Ok(Json(out))
}

/// Sends a delivery again (same `webhook-id`, so receivers can deduplicate), whatever
/// its state: a dead letter after the receiver is fixed, or a delivered one on request.
pub async fn replay(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> AppResult<StatusCode> {
    caller.require_scope("webhooks:manage")?;
    require_manager(&caller)?;
    let updated = sqlx::query(
        "UPDATE webhook_outbox SET status = 'pending', attempts = 0, next_attempt_at = $1 WHERE id = $2 AND workspace_id = $3",
    )
    .bind(now_ms())
    .bind(id)
    .bind(caller.workspace_id().0)
    .execute(&state.db.pool)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::not_found("delivery"));
    }
    state.hooks_wake.notify_one();
    Ok(StatusCode::ACCEPTED)
}

//! `/v1/numbers`: the workspace's WhatsApp business numbers.
//!
//! Webhooks are routed on `metadata.phone_number_id`. A number that arrives before
//! anyone registered it goes to the only workspace when there is one; with several,
//! its webhooks wait in `unrouted_webhooks` and are replayed (through the normal,
//! idempotent ingest) when an admin registers the number here.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use handoff_protocol::*;
use sqlx::Row;

use crate::api::ApiJson;
use crate::auth::{AgentCaller, Caller};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::AppState;

fn number_from_row(r: &sqlx::any::AnyRow) -> AppResult<BusinessNumberInfo> {
    Ok(BusinessNumberInfo {
        phone_number_id: r.try_get("phone_number_id")?,
        display_phone_number: r.try_get("display_phone_number")?,
        waba_id: r.try_get("waba_id")?,
        created_at: r.try_get("created_at")?,
    })
}

/// `GET /v1/numbers`: the caller's workspace's numbers.
pub async fn list(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<BusinessNumberInfo>>> {
    caller.require_scope("conversations:read")?;
    let rows = sqlx::query(
        "SELECT phone_number_id, display_phone_number, waba_id, created_at FROM channels WHERE workspace_id = $1 ORDER BY id",
    )
    .bind(caller.workspace_id().0)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(Json(rows.iter().map(number_from_row).collect::<AppResult<_>>()?))
}

/// `POST /v1/numbers` (admins): registers a number to the caller's workspace and
/// replays the webhooks that waited for it. Registering a number again is a no-op
/// (200); a number another workspace holds is a 409 that does not say whose.
pub async fn register(
    State(state): State<AppState>,
    caller: AgentCaller,
    ApiJson(req): ApiJson<RegisterNumberRequest>,
) -> AppResult<(StatusCode, Json<BusinessNumberInfo>)> {
    if caller.agent.role != Role::Admin {
        return Err(AppError::new(ErrorCode::Forbidden, "only admins can register WhatsApp numbers"));
    }
    let id = req.phone_number_id.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || id.len() > 32 {
        return Err(AppError::new(ErrorCode::InvalidInput, "phone_number_id is Meta's numeric id of the number"));
    }
    let ws = caller.agent.workspace_id.0;
    let mut tx = state.db.begin_write().await?;
    let existing = sqlx::query("SELECT workspace_id FROM channels WHERE phone_number_id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let created = match existing {
        Some(r) if r.try_get::<i64, _>("workspace_id")? != ws => {
            return Err(AppError::new(ErrorCode::Conflict, "this number is registered to another workspace"));
        }
        Some(_) => false,
        None => {
            sqlx::query(
                "INSERT INTO channels (workspace_id, phone_number_id, display_phone_number, waba_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(ws)
            .bind(id)
            .bind(req.display_phone_number.as_deref().unwrap_or("").trim())
            .bind(req.waba_id.as_deref().map(str::trim).filter(|w| !w.is_empty()))
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            true
        }
    };
    let waiting = sqlx::query(
        "SELECT id, body FROM unrouted_webhooks WHERE phone_number_id = $1 AND replayed_at IS NULL ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let number = number_from_row(
        &sqlx::query(
            "SELECT phone_number_id, display_phone_number, waba_id, created_at FROM channels WHERE phone_number_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?,
    )?;
    tx.commit().await?;
    // Replayed after the commit, through the committer, like any delivery: the
    // message ids make a replay that is interrupted and repeated harmless.
    for r in &waiting {
        let body: String = r.try_get("body")?;
        let parsed = serde_json::from_str(&body).map_err(|e| e.to_string());
        crate::ingest::submit(&state, body, parsed).await?;
        sqlx::query("UPDATE unrouted_webhooks SET replayed_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(r.try_get::<i64, _>("id")?)
            .execute(&state.db.pool)
            .await?;
    }
    if !waiting.is_empty() {
        tracing::info!(phone_number_id = id, replayed = waiting.len(), "number registered: waiting webhooks replayed");
        crate::routing::drain_queue(&state, ws).await?;
        state.automation_wake.notify_one();
        state.changed(ws).await;
    }
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(number)))
}

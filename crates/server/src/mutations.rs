//! Exactly-once mutations by `Idempotency-Key` (the desktop app's outbox sends claims,
//! transfers and resolves with its client mutation id as the key).
//!
//! Routes marked `idempotent` in the route table run behind [`idempotent`]: a key seen
//! before answers with the stored result (header `idempotent-replayed: true`) and
//! changes nothing. A new key runs the handler with the key in a task-local; the
//! domain function calls [`seal`] in its write transaction, so the ledger row commits
//! with the change or not at all. If the process dies after the commit and before the
//! answer is stored, a retry gets `409 already_applied`: done, nothing applied twice.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use handoff_protocol::ErrorCode;
use sqlx::{AnyConnection, Row};

use crate::auth::Caller;
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::AppState;

/// Rows older than this are forgotten (a key is for retries, not for ever).
const KEEP_MS: i64 = 7 * 24 * 3600 * 1000;
/// Answers larger than this are not kept (the retry then gets `already_applied`).
const MAX_KEPT_BYTES: usize = 256 * 1024;

struct Key {
    workspace_id: i64,
    actor: String,
    client_id: String,
    route: String,
    sealed: AtomicBool,
}

tokio::task_local! {
    static CURRENT: Arc<Key>;
}

fn actor(caller: &Caller) -> String {
    match caller {
        Caller::Agent { agent, .. } => format!("agent:{}", agent.id.0),
        Caller::Api { name, .. } => format!("api:{name}"),
    }
}

fn valid_key(key: &str) -> bool {
    (1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Records the request's `Idempotency-Key` (if any) in this write transaction. Call it
/// right before `commit`; a key applied meanwhile (a concurrent retry) fails with
/// `already_applied` and the transaction rolls back.
pub async fn seal(conn: &mut AnyConnection) -> AppResult<()> {
    let Ok(key) = CURRENT.try_with(Arc::clone) else { return Ok(()) };
    let now = now_ms();
    let inserted = sqlx::query(
        "INSERT INTO mutations (workspace_id, actor, client_id, route, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (workspace_id, actor, client_id) DO NOTHING",
    )
    .bind(key.workspace_id)
    .bind(&key.actor)
    .bind(&key.client_id)
    .bind(&key.route)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(already_applied());
    }
    sqlx::query("DELETE FROM mutations WHERE workspace_id = $1 AND actor = $2 AND created_at < $3")
        .bind(key.workspace_id)
        .bind(&key.actor)
        .bind(now - KEEP_MS)
        .execute(&mut *conn)
        .await?;
    key.sealed.store(true, Ordering::SeqCst);
    Ok(())
}

fn already_applied() -> AppError {
    AppError::new(ErrorCode::AlreadyApplied, "this change was applied before (same Idempotency-Key)")
}

/// The middleware of idempotent routes (runs after the access guard).
pub async fn idempotent(State(state): State<AppState>, req: Request, next: Next) -> Result<Response, AppError> {
    let Some(raw) = req.headers().get("idempotency-key") else { return Ok(next.run(req).await) };
    let client_id = raw.to_str().ok().filter(|k| valid_key(k)).ok_or_else(|| {
        AppError::new(ErrorCode::InvalidInput, "Idempotency-Key must be 1-128 characters of A-Z a-z 0-9 - _ . :")
    })?;
    let caller = req.extensions().get::<Caller>().ok_or_else(|| AppError::Internal("no caller".into()))?;
    let route = format!("{} {}", req.method(), req.uri().path());
    let key = Arc::new(Key {
        workspace_id: caller.workspace_id().0,
        actor: actor(caller),
        client_id: client_id.to_owned(),
        route,
        sealed: AtomicBool::new(false),
    });
    let row = sqlx::query(
        "SELECT route, status, response FROM mutations WHERE workspace_id = $1 AND actor = $2 AND client_id = $3",
    )
    .bind(key.workspace_id)
    .bind(&key.actor)
    .bind(&key.client_id)
    .fetch_optional(&state.db.pool)
    .await?;
    if let Some(row) = row {
        if row.try_get::<String, _>("route")? != key.route {
            return Err(AppError::new(ErrorCode::Conflict, "this Idempotency-Key was used for another request"));
        }
        let Some(status) = row.try_get::<Option<i64>, _>("status")? else { return Err(already_applied()) };
        let body: String = row.try_get::<Option<String>, _>("response")?.unwrap_or_default();
        let mut resp = if body.is_empty() {
            Response::new(axum::body::Body::empty())
        } else {
            let mut r = Response::new(axum::body::Body::from(body));
            r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
            r
        };
        *resp.status_mut() = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
        resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(resp);
    }
    let resp = CURRENT.scope(key.clone(), next.run(req)).await;
    if !key.sealed.load(Ordering::SeqCst) || !resp.status().is_success() {
        return Ok(resp);
    }
    // Keep the answer for retries.
    let (parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_KEPT_BYTES).await {
        Ok(b) => b,
        Err(e) => return Err(AppError::Internal(format!("answer not readable: {e}"))),
    };
    let kept = std::str::from_utf8(&bytes).ok().filter(|b| b.len() < MAX_KEPT_BYTES);
    if let Some(text) = kept {
        let mut tx = state.db.begin_write().await?;
        sqlx::query(
            "UPDATE mutations SET status = $1, response = $2 WHERE workspace_id = $3 AND actor = $4 AND client_id = $5",
        )
        .bind(parts.status.as_u16() as i64)
        .bind(text)
        .bind(key.workspace_id)
        .bind(&key.actor)
        .bind(&key.client_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(Response::from_parts(parts, axum::body::Body::from(bytes)).into_response())
}

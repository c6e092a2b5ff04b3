//! `/v1/auth/*`, passwords and API tokens: refresh, the session list and sign-out of
//! a device, password change and admin reset, and scoped tokens for bots and
//! workflows.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use handoff_protocol::*;
use serde_json::json;
use sqlx::Row;

use crate::api::ApiJson;
use crate::auth::{self, AgentCaller};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::{audit, store, AppState};

/// Where a request comes from: the peer address (for login rate limits) and the
/// `User-Agent` (shown in the session list).
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client {
            ip: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()),
            user_agent: parts.headers.get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_owned),
        })
    }
}

/// `POST /v1/auth/refresh`.
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> AppResult<Json<RefreshResponse>> {
    Ok(Json(auth::refresh(&state, &req.refresh_token).await?))
}

/// `GET /v1/auth/sessions`: the caller's signed-in devices.
pub async fn sessions(State(state): State<AppState>, caller: AgentCaller) -> AppResult<Json<Vec<SessionInfo>>> {
    let rows = sqlx::query(
        "SELECT s.id, s.user_agent, s.created_at, s.last_used_at FROM sessions s WHERE s.agent_id = $1 AND s.revoked_at IS NULL \
           AND EXISTS (SELECT 1 FROM tokens t WHERE t.session_id = s.id AND t.kind = 'refresh' AND t.revoked_at IS NULL \
                       AND t.rotated_at IS NULL AND t.expires_at > $2) \
         ORDER BY s.last_used_at DESC",
    )
    .bind(caller.agent.id.0)
    .bind(now_ms())
    .fetch_all(&state.db.pool)
    .await?;
    let out = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            Ok(SessionInfo {
                id,
                user_agent: r.try_get("user_agent")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                current: caller.session_id == Some(id),
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(Json(out))
}

/// `DELETE /v1/auth/sessions/{id}`: signs one of the caller's devices out (admins:
/// anyone's in the workspace).
pub async fn revoke_session(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let owner = sqlx::query("SELECT agent_id, workspace_id FROM sessions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found("session"))?;
    let (agent_id, ws): (i64, i64) = (owner.try_get("agent_id")?, owner.try_get("workspace_id")?);
    let mine = agent_id == caller.agent.id.0;
    let admin_here = caller.agent.role == Role::Admin && ws == caller.agent.workspace_id.0;
    if !mine && !admin_here {
        return Err(AppError::not_found("session"));
    }
    auth::revoke_session_in(&mut tx, id).await?;
    if !mine {
        audit::record(&mut tx, &caller.agent, "session.revoked", "agent", agent_id, json!({ "session_id": id }))
            .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

const MIN_PASSWORD_CHARS: usize = 10;

fn check_new_password(p: &SecretString) -> AppResult<()> {
    if p.expose().chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("a password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

async fn set_password(state: &AppState, agent_id: i64, password: SecretString) -> AppResult<()> {
    let hash = auth::hash_password(password).await?;
    sqlx::query("UPDATE agents SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(agent_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// `POST /v1/me/password`: with the current password; other devices are signed out.
pub async fn change_password(
    State(state): State<AppState>,
    caller: AgentCaller,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> AppResult<StatusCode> {
    check_new_password(&req.new_password)?;
    let Some(current) = req.current_password else {
        return Err(AppError::new(ErrorCode::InvalidInput, "current_password is required"));
    };
    let hash: String = sqlx::query("SELECT password_hash FROM agents WHERE id = $1")
        .bind(caller.agent.id.0)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("password_hash")?;
    if !auth::verify_password(current, hash).await? {
        return Err(AppError::new(ErrorCode::InvalidCredentials, "the current password is wrong"));
    }
    set_password(&state, caller.agent.id.0, req.new_password).await?;
    let mut tx = state.db.begin_write().await?;
    let others = sqlx::query("SELECT id FROM sessions WHERE agent_id = $1 AND revoked_at IS NULL")
        .bind(caller.agent.id.0)
        .fetch_all(&mut *tx)
        .await?;
    for r in others {
        let s: i64 = r.try_get("id")?;
        if Some(s) != caller.session_id {
            auth::revoke_session_in(&mut tx, s).await?;
        }
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/agents/{id}/password` (admins): sets a new password and signs the person
/// out everywhere.
pub async fn reset_password(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> AppResult<StatusCode> {
    if caller.agent.role != Role::Admin {
        return Err(AppError::new(ErrorCode::Forbidden, "only admins reset passwords"));
    }
    let mut conn = state.db.pool.acquire().await?;
    let target = store::agent_by_id(&mut conn, AgentId(id)).await?;
    drop(conn);
    if target.workspace_id != caller.agent.workspace_id {
        return Err(AppError::not_found("agent"));
    }
    check_new_password(&req.new_password)?;
    set_password(&state, id, req.new_password).await?;
    let mut tx = state.db.begin_write().await?;
    auth::revoke_agent(&mut tx, id).await?;
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(format!("email:{}", target.email))
        .execute(&mut *tx)
        .await?;
    audit::record(&mut tx, &caller.agent, "agent.password_reset", "agent", id, json!({ "email": target.email }))
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn api_token_from_row(r: &sqlx::any::AnyRow) -> AppResult<ApiTokenInfo> {
    Ok(ApiTokenInfo {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        scopes: r
            .try_get::<Option<String>, _>("scopes")?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_else(|| API_SCOPES.iter().map(|s| s.to_string()).collect()),
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        token: None,
    })
}

fn admin_only(caller: &AgentCaller) -> AppResult<()> {
    if caller.agent.role != Role::Admin {
        return Err(AppError::new(ErrorCode::Forbidden, "only admins manage API tokens"));
    }
    Ok(())
}

/// `GET /v1/api-tokens` (admins): never the secrets.
pub async fn list_api_tokens(State(state): State<AppState>, caller: AgentCaller) -> AppResult<Json<Vec<ApiTokenInfo>>> {
    admin_only(&caller)?;
    let rows = sqlx::query(
        "SELECT id, name, scopes, created_at, expires_at, revoked_at FROM tokens WHERE workspace_id = $1 AND kind = 'api' ORDER BY id",
    )
    .bind(caller.agent.workspace_id.0)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(Json(rows.iter().map(api_token_from_row).collect::<AppResult<_>>()?))
}

/// `POST /v1/api-tokens` (admins): the token is in this answer only.
pub async fn create_api_token(
    State(state): State<AppState>,
    caller: AgentCaller,
    ApiJson(req): ApiJson<ApiTokenRequest>,
) -> AppResult<(StatusCode, Json<ApiTokenInfo>)> {
    admin_only(&caller)?;
    let name = req.name.trim();
    if name.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "an API token needs a name"));
    }
    if req.scopes.is_empty() {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("give at least one scope of {}", API_SCOPES.join(", ")),
        ));
    }
    if let Some(bad) = req.scopes.iter().find(|s| !API_SCOPES.contains(&s.as_str())) {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("unknown scope \"{bad}\"; known: {}", API_SCOPES.join(", ")),
        ));
    }
    let mut scopes = req.scopes.clone();
    scopes.sort();
    scopes.dedup();
    let ttl = req.expires_in_days.map(|d| d as i64 * 24 * 3600 * 1000);
    let ws = caller.agent.workspace_id.0;
    let mut tx = state.db.begin_write().await?;
    let (token, _, id) = auth::issue(&mut tx, ws, None, "api", name, ttl, None, Some(&scopes)).await?;
    let row = sqlx::query("SELECT id, name, scopes, created_at, expires_at, revoked_at FROM tokens WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let mut info = api_token_from_row(&row)?;
    audit::record(
        &mut tx,
        &caller.agent,
        "api_token.created",
        "api_token",
        id,
        json!({ "name": name, "scopes": scopes }),
    )
    .await?;
    tx.commit().await?;
    info.token = Some(token);
    Ok((StatusCode::CREATED, Json(info)))
}

/// `DELETE /v1/api-tokens/{id}` (admins).
pub async fn revoke_api_token(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    admin_only(&caller)?;
    let mut tx = state.db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND workspace_id = $3 AND kind = 'api'",
    )
    .bind(now_ms())
    .bind(id)
    .bind(caller.agent.workspace_id.0)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AppError::not_found("API token"));
    }
    audit::record(&mut tx, &caller.agent, "api_token.revoked", "api_token", id, json!({})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

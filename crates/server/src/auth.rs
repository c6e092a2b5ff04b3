//! Login, tokens and the extractors that tell handlers who is calling.
//!
//! Passwords are hashed with argon2 (on the blocking pool). Tokens are random, shown
//! once, and stored only as SHA-256 hashes; each can be revoked.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use handoff_protocol::*;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::{store, AppState};

/// How long a session lasts without being refreshed (the refresh token's life).
pub const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;
/// Failed logins allowed per email address, and per client address, in the window.
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
pub const MAX_FAILURES_PER_IP: i64 = 30;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

pub async fn hash_password(password: SecretString) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

pub async fn verify_password(password: SecretString, hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| AppError::Internal(format!("bad stored hash: {e}")))?;
        Ok(Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a token of `kind` (`session` for agents, `api` for bots and workflows) and
/// returns it; only its hash is stored.
pub async fn issue_token(
    conn: &mut AnyConnection,
    workspace_id: i64,
    agent_id: Option<i64>,
    kind: &str,
    name: &str,
    ttl_ms: Option<i64>,
) -> AppResult<(SecretString, Option<i64>)> {
    let (token, expires_at, _) = issue(conn, workspace_id, agent_id, kind, name, ttl_ms, None, None).await?;
    Ok((token, expires_at))
}

/// Creates a token; returns it, its expiry and its row id.
#[allow(clippy::too_many_arguments)]
pub async fn issue(
    conn: &mut AnyConnection,
    workspace_id: i64,
    agent_id: Option<i64>,
    kind: &str,
    name: &str,
    ttl_ms: Option<i64>,
    session_id: Option<i64>,
    scopes: Option<&[String]>,
) -> AppResult<(SecretString, Option<i64>, i64)> {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let prefix = match kind {
        "api" => "hoa_",
        "refresh" => "hor_",
        _ => "hos_",
    };
    let token = format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let now = now_ms();
    let expires_at = ttl_ms.map(|t| now + t);
    let id: i64 = sqlx::query(
        "INSERT INTO tokens (workspace_id, agent_id, kind, name, token_hash, created_at, expires_at, session_id, scopes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(workspace_id)
    .bind(agent_id)
    .bind(kind)
    .bind(name)
    .bind(token_hash(&token))
    .bind(now)
    .bind(expires_at)
    .bind(session_id)
    .bind(scopes.map(|s| serde_json::to_string(s).expect("serializes")))
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    Ok((SecretString::new(token), expires_at, id))
}

/// Stores a token whose value the caller chose (the demo's well-known bot token).
pub async fn insert_token(
    conn: &mut AnyConnection,
    workspace_id: i64,
    agent_id: Option<i64>,
    kind: &str,
    name: &str,
    token: &str,
    expires_at: Option<i64>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO tokens (workspace_id, agent_id, kind, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(workspace_id)
    .bind(agent_id)
    .bind(kind)
    .bind(name)
    .bind(token_hash(token))
    .bind(now_ms())
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A person logged in through the app.
    Agent { agent: Agent, token_id: i64, session_id: Option<i64> },
    /// A bot or workflow with an API token; `scopes` `None` may do everything.
    Api { workspace_id: WorkspaceId, name: String, scopes: Option<Vec<String>> },
}

impl Caller {
    pub fn workspace_id(&self) -> WorkspaceId {
        match self {
            Caller::Agent { agent, .. } => agent.workspace_id,
            Caller::Api { workspace_id, .. } => *workspace_id,
        }
    }

    /// API tokens need `scope`; people are checked by role where it matters.
    pub fn require_scope(&self, scope: &str) -> AppResult<()> {
        match self {
            Caller::Api { scopes: Some(scopes), name, .. } if !scopes.iter().any(|s| s == scope) => {
                Err(AppError::new(ErrorCode::Forbidden, format!("the API token \"{name}\" lacks the {scope} scope")))
            }
            _ => Ok(()),
        }
    }
}

/// A logged-in person (API tokens are refused).
#[derive(Debug, Clone)]
pub struct AgentCaller {
    pub agent: Agent,
    pub token_id: i64,
    pub session_id: Option<i64>,
}

impl AgentCaller {
    pub fn as_caller(&self) -> Caller {
        Caller::Agent { agent: self.agent.clone(), token_id: self.token_id, session_id: self.session_id }
    }
}

pub(crate) fn bearer(parts: &Parts) -> Option<String> {
    if let Some(h) = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return h.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    // Browsers cannot set headers on a WebSocket: the events endpoint accepts the token
    // as a query parameter (never logged: the trace layer records paths only).
    parts.uri.query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("access_token=").map(|t| t.to_owned())))
}

pub async fn authenticate(state: &AppState, token: Option<String>) -> AppResult<Caller> {
    let token =
        token.ok_or_else(|| AppError::new(ErrorCode::Unauthorized, "log in first: no bearer token was given"))?;
    let mut conn = state.db.pool.acquire().await?;
    let row = sqlx::query(
        "SELECT t.id, t.workspace_id, t.agent_id, t.kind, t.name, t.expires_at, t.revoked_at, t.session_id, t.scopes, \
           s.last_used_at AS session_used_at \
         FROM tokens t LEFT JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1",
    )
    .bind(token_hash(&token))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::new(ErrorCode::Unauthorized, "this token is not valid"))?;
    if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
        return Err(AppError::new(ErrorCode::TokenRevoked, "this token was revoked; log in again"));
    }
    if let Some(exp) = row.try_get::<Option<i64>, _>("expires_at")? {
        if exp <= now_ms() {
            return Err(AppError::new(ErrorCode::TokenExpired, "this session has expired; log in again"));
        }
    }
    let kind: String = row.try_get("kind")?;
    let agent_id: Option<i64> = row.try_get("agent_id")?;
    match (kind.as_str(), agent_id) {
        ("session", Some(agent_id)) => {
            let agent = store::agent_by_id(&mut conn, AgentId(agent_id)).await?;
            let session_id: Option<i64> = row.try_get("session_id")?;
            let used: Option<i64> = row.try_get("session_used_at")?;
            if let (Some(s), Some(used)) = (session_id, used) {
                // Seen: the session list shows when each device was last used. Written
                // at most once a minute, not on every request.
                if used < now_ms() - 60_000 {
                    sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
                        .bind(now_ms())
                        .bind(s)
                        .execute(&mut *conn)
                        .await?;
                }
            }
            Ok(Caller::Agent { agent, token_id: row.try_get("id")?, session_id })
        }
        ("refresh", _) => Err(AppError::new(
            ErrorCode::Unauthorized,
            "a refresh token only works at /v1/auth/refresh; use the access token",
        )),
        _ => Ok(Caller::Api {
            workspace_id: WorkspaceId(row.try_get("workspace_id")?),
            name: row.try_get("name")?,
            scopes: row.try_get::<Option<String>, _>("scopes")?.and_then(|s| serde_json::from_str(&s).ok()),
        }),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The route's guard (crate::openapi) authenticated the request already.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        authenticate(state, bearer(parts)).await
    }
}

impl FromRequestParts<AppState> for AgentCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Agent { agent, token_id, session_id } => Ok(AgentCaller { agent, token_id, session_id }),
            Caller::Api { .. } => {
                Err(AppError::new(ErrorCode::Forbidden, "this endpoint is for people; API tokens cannot use it"))
            }
        }
    }
}

/// Refuses a login while an email address or client address has too many recent
/// failures (429 `rate_limited` with `retry_after_secs`).
async fn check_rate(conn: &mut AnyConnection, keys: &[(String, i64)]) -> AppResult<()> {
    let now = now_ms();
    for (key, max) in keys {
        let rows = sqlx::query("SELECT at FROM login_failures WHERE key = $1 AND at > $2 ORDER BY at")
            .bind(key)
            .bind(now - FAILURE_WINDOW_MS)
            .fetch_all(&mut *conn)
            .await?;
        if rows.len() as i64 >= *max {
            // Allowed again when the oldest failure that counts leaves the window.
            let oldest: i64 = rows[rows.len() - *max as usize].try_get("at")?;
            let retry = ((oldest + FAILURE_WINDOW_MS - now) / 1000).max(1);
            return Err(AppError::Detailed {
                code: ErrorCode::RateLimited,
                message: format!("too many failed logins; try again in {retry} s"),
                details: serde_json::json!({ "retry_after_secs": retry }),
            });
        }
    }
    Ok(())
}

/// A login from `ip` (when known) with `user_agent`.
pub async fn login(
    state: &AppState,
    req: LoginRequest,
    ip: Option<String>,
    user_agent: Option<String>,
) -> AppResult<LoginResponse> {
    let email = req.email.trim().to_lowercase();
    let mut keys = vec![(format!("email:{email}"), MAX_FAILURES_PER_EMAIL)];
    if let Some(ip) = &ip {
        keys.push((format!("ip:{ip}"), MAX_FAILURES_PER_IP));
    }
    let row = {
        let mut conn = state.db.pool.acquire().await?;
        check_rate(&mut conn, &keys).await?;
        sqlx::query(&format!("SELECT {}, password_hash FROM agents WHERE email = $1", store::AGENT_COLUMNS))
            .bind(&email)
            .fetch_optional(&mut *conn)
            .await?
    };
    let fail = || async {
        let mut tx = state.db.begin_write().await?;
        for (key, _) in &keys {
            sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                .bind(key)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(now_ms() - FAILURE_WINDOW_MS)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Err::<LoginResponse, _>(AppError::new(ErrorCode::InvalidCredentials, "wrong email or password"))
    };
    let Some(row) = row else {
        // Same work as a real check, so timing does not tell which emails exist.
        let _ = hash_password(req.password).await;
        return fail().await;
    };
    let hash: String = row.try_get("password_hash")?;
    if !verify_password(req.password, hash).await? {
        return fail().await;
    }
    let agent = store::agent_from_row(&row)?;
    let mut tx = state.db.begin_write().await?;
    sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(&keys[0].0).execute(&mut *tx).await?;
    let now = now_ms();
    let session_id: i64 = sqlx::query(
        "INSERT INTO sessions (workspace_id, agent_id, user_agent, created_at, last_used_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(agent.workspace_id.0)
    .bind(agent.id.0)
    .bind(user_agent.map(|u| u.chars().take(200).collect::<String>()))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    let (token, expires_at, refresh, refresh_expires_at) = session_tokens(state, &mut tx, &agent, session_id).await?;
    let workspace_name: String = sqlx::query("SELECT name FROM workspaces WHERE id = $1")
        .bind(agent.workspace_id.0)
        .fetch_one(&mut *tx)
        .await?
        .try_get("name")?;
    tx.commit().await?;
    tracing::info!(agent = agent.id.0, session = session_id, "logged in");
    Ok(LoginResponse {
        token,
        expires_at,
        agent,
        workspace_name,
        refresh_token: Some(refresh),
        refresh_expires_at: Some(refresh_expires_at),
        session_id: Some(session_id),
    })
}

/// A new access token and refresh token for a session.
async fn session_tokens(
    state: &AppState,
    conn: &mut AnyConnection,
    agent: &Agent,
    session_id: i64,
) -> AppResult<(SecretString, i64, SecretString, i64)> {
    let ws = agent.workspace_id.0;
    let access_ttl = state.config.access_ttl.as_millis() as i64;
    let (token, expires_at, _) =
        issue(conn, ws, Some(agent.id.0), "session", "desktop", Some(access_ttl), Some(session_id), None).await?;
    let (refresh, refresh_expires_at, _) =
        issue(conn, ws, Some(agent.id.0), "refresh", "desktop", Some(SESSION_TTL_MS), Some(session_id), None).await?;
    Ok((token, expires_at.unwrap_or_default(), refresh, refresh_expires_at.unwrap_or_default()))
}

/// Exchanges a refresh token for new tokens. A refresh token works once: presenting
/// one again means it was copied, and the whole session is revoked.
pub async fn refresh(state: &AppState, refresh_token: &SecretString) -> AppResult<RefreshResponse> {
    let mut tx = state.db.begin_write().await?;
    let row = sqlx::query(
        "SELECT id, agent_id, session_id, expires_at, revoked_at, rotated_at FROM tokens WHERE token_hash = $1 AND kind = 'refresh'",
    )
    .bind(token_hash(refresh_token.expose()))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::new(ErrorCode::Unauthorized, "this refresh token is not valid"))?;
    let session_id: i64 = row.try_get("session_id")?;
    if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
        return Err(AppError::new(ErrorCode::TokenRevoked, "this session was signed out; log in again"));
    }
    if row.try_get::<Option<i64>, _>("rotated_at")?.is_some() {
        revoke_session_in(&mut tx, session_id).await?;
        tx.commit().await?;
        tracing::warn!(session = session_id, "a used refresh token came back: session revoked");
        return Err(AppError::new(
            ErrorCode::TokenRevoked,
            "this refresh token was already used; the session is revoked",
        ));
    }
    if row.try_get::<Option<i64>, _>("expires_at")?.is_some_and(|e| e <= now_ms()) {
        return Err(AppError::new(ErrorCode::TokenExpired, "this session has expired; log in again"));
    }
    let claimed = sqlx::query("UPDATE tokens SET rotated_at = $1 WHERE id = $2 AND rotated_at IS NULL")
        .bind(now_ms())
        .bind(row.try_get::<i64, _>("id")?)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Err(AppError::new(ErrorCode::TokenRevoked, "this refresh token was already used"));
    }
    let agent = store::agent_by_id(&mut tx, AgentId(row.try_get("agent_id")?)).await?;
    sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
    let (token, expires_at, refresh_token, refresh_expires_at) =
        session_tokens(state, &mut tx, &agent, session_id).await?;
    tx.commit().await?;
    Ok(RefreshResponse { token, expires_at, refresh_token, refresh_expires_at })
}

/// Revokes a session and every token of it.
pub async fn revoke_session_in(conn: &mut AnyConnection, session_id: i64) -> AppResult<()> {
    revoke_where(conn, ("id", "session_id"), session_id).await
}

/// Revokes every session and token of an agent (password reset, removal).
pub async fn revoke_agent(conn: &mut AnyConnection, agent_id: i64) -> AppResult<()> {
    revoke_where(conn, ("agent_id", "agent_id"), agent_id).await
}

/// Revokes the sessions whose `columns.0`, and the tokens whose `columns.1`, is `id`.
async fn revoke_where(conn: &mut AnyConnection, columns: (&str, &str), id: i64) -> AppResult<()> {
    let now = now_ms();
    for (table, column) in [("sessions", columns.0), ("tokens", columns.1)] {
        sqlx::query(&format!("UPDATE {table} SET revoked_at = COALESCE(revoked_at, $1) WHERE {column} = $2"))
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn revoke(state: &AppState, token_id: i64) -> AppResult<()> {
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(token_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

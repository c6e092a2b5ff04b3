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

/// How long a login lasts.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

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
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let prefix = if kind == "api" { "hoa_" } else { "hos_" };
    let token = format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let now = now_ms();
    let expires_at = ttl_ms.map(|t| now + t);
    insert_token(conn, workspace_id, agent_id, kind, name, &token, expires_at).await?;
    Ok((SecretString::new(token), expires_at))
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
    Agent { agent: Agent, token_id: i64 },
    /// A bot or workflow with an API token.
    Api { workspace_id: WorkspaceId, name: String },
}

impl Caller {
    pub fn workspace_id(&self) -> WorkspaceId {
        match self {
            Caller::Agent { agent, .. } => agent.workspace_id,
            Caller::Api { workspace_id, .. } => *workspace_id,
        }
    }
}

/// A logged-in person (API tokens are refused).
#[derive(Debug, Clone)]
pub struct AgentCaller {
    pub agent: Agent,
    pub token_id: i64,
}

fn bearer(parts: &Parts) -> Option<String> {
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
        "SELECT id, workspace_id, agent_id, kind, name, expires_at, revoked_at FROM tokens WHERE token_hash = $1",
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
            Ok(Caller::Agent { agent, token_id: row.try_get("id")? })
        }
        _ => Ok(Caller::Api { workspace_id: WorkspaceId(row.try_get("workspace_id")?), name: row.try_get("name")? }),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(state, bearer(parts)).await
    }
}

impl FromRequestParts<AppState> for AgentCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match authenticate(state, bearer(parts)).await? {
            Caller::Agent { agent, token_id } => Ok(AgentCaller { agent, token_id }),
            Caller::Api { .. } => {
                Err(AppError::new(ErrorCode::Forbidden, "this endpoint is for people; API tokens cannot use it"))
            }
        }
    }
}

pub async fn login(state: &AppState, req: LoginRequest) -> AppResult<LoginResponse> {
    let email = req.email.trim().to_lowercase();
    let row = {
        let mut conn = state.db.pool.acquire().await?;
        sqlx::query(&format!("SELECT {}, password_hash FROM agents WHERE email = $1", store::AGENT_COLUMNS))
            .bind(&email)
            .fetch_optional(&mut *conn)
            .await?
    };
    let wrong = || AppError::new(ErrorCode::InvalidCredentials, "wrong email or password");
    let Some(row) = row else {
        // Same work as a real check, so timing does not tell which emails exist.
        let _ = hash_password(req.password).await;
        return Err(wrong());
    };
    let hash: String = row.try_get("password_hash")?;
    if !verify_password(req.password, hash).await? {
        return Err(wrong());
    }
    let agent = store::agent_from_row(&row)?;
    let mut tx = state.db.begin_write().await?;
    let (token, expires_at) =
        issue_token(&mut tx, agent.workspace_id.0, Some(agent.id.0), "session", "desktop", Some(SESSION_TTL_MS))
            .await?;
    let workspace_name: String = sqlx::query("SELECT name FROM workspaces WHERE id = $1")
        .bind(agent.workspace_id.0)
        .fetch_one(&mut *tx)
        .await?
        .try_get("name")?;
    tx.commit().await?;
    tracing::info!(agent = agent.id.0, "logged in");
    Ok(LoginResponse { token, expires_at: expires_at.unwrap_or_default(), agent, workspace_name })
}

pub async fn revoke(state: &AppState, token_id: i64) -> AppResult<()> {
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(token_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

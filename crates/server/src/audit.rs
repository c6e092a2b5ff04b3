//! The audit log: who handed off, assigned, overrode, transferred, and changed roles,
//! teams and rules. Written in the same transaction as the change it describes.

use axum::extract::{Query, State};
use axum::Json;
use handoff_protocol::*;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::auth::AgentCaller;
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::AppState;

/// Records `action` by a person.
pub async fn record(
    conn: &mut AnyConnection,
    actor: &Agent,
    action: &str,
    entity: &str,
    entity_id: i64,
    detail: serde_json::Value,
) -> AppResult<()> {
    record_as(
        conn,
        actor.workspace_id.0,
        &format!("agent:{}", actor.id),
        &actor.name,
        action,
        entity,
        entity_id,
        detail,
    )
    .await
}

/// Records `action` by whoever called: a person or an API token.
pub async fn record_caller(
    conn: &mut AnyConnection,
    caller: &crate::auth::Caller,
    action: &str,
    entity: &str,
    entity_id: i64,
    detail: serde_json::Value,
) -> AppResult<()> {
    match caller {
        crate::auth::Caller::Agent { agent, .. } => record(conn, agent, action, entity, entity_id, detail).await,
        crate::auth::Caller::Api { workspace_id, name, .. } => {
            record_as(conn, workspace_id.0, &format!("api:{name}"), name, action, entity, entity_id, detail).await
        }
    }
}

/// Records `action` by anyone (`api:<token>`, `system`).
#[allow(clippy::too_many_arguments)]
pub async fn record_as(
    conn: &mut AnyConnection,
    workspace_id: i64,
    actor: &str,
    actor_name: &str,
    action: &str,
    entity: &str,
    entity_id: i64,
    detail: serde_json::Value,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (workspace_id, actor, actor_name, action, entity, entity_id, detail, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(workspace_id)
    .bind(actor)
    .bind(actor_name)
    .bind(action)
    .bind(entity)
    .bind(entity_id)
    .bind(detail.to_string())
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub detail: serde_json::Value,
    pub at: i64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AuditQuery {
    /// Entries with an id below this (paging backwards).
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub action: Option<String>,
}

/// `GET /v1/audit` (managers and admins): newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: AgentCaller,
    Query(q): Query<AuditQuery>,
) -> AppResult<Json<Vec<AuditEntry>>> {
    if !matches!(caller.agent.role, Role::Admin | Role::Manager) {
        return Err(AppError::new(ErrorCode::Forbidden, "only managers and admins read the audit log"));
    }
    let rows = sqlx::query(
        "SELECT id, actor, actor_name, action, entity, entity_id, detail, at FROM audit_log \
         WHERE workspace_id = $1 AND id < $2 AND ($3 = '' OR action = $3) ORDER BY id DESC LIMIT $4",
    )
    .bind(caller.agent.workspace_id.0)
    .bind(q.before.unwrap_or(i64::MAX))
    .bind(q.action.unwrap_or_default())
    .bind(q.limit.unwrap_or(100).clamp(1, 1000))
    .fetch_all(&state.db.pool)
    .await?;
    let entries = rows
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                actor: r.try_get("actor")?,
                actor_name: r.try_get("actor_name")?,
                action: r.try_get("action")?,
                entity: r.try_get("entity")?,
                entity_id: r.try_get("entity_id")?,
                detail: serde_json::from_str(&r.try_get::<String, _>("detail")?).unwrap_or_default(),
                at: r.try_get("at")?,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(Json(entries))
}

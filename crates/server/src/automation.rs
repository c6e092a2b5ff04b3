//! External automations (an AI agent or a workflow engine) and workflow executions.
//!
//! An automation is registered with a webhook URL and gets its own API token and
//! signing secret. While it owns a conversation it receives the customer's messages
//! (`message.created`) and answers through `POST /v1/conversations/{id}/bot-messages`,
//! reporting its confidence and whether the answer was a fallback. While a person owns
//! the conversation it receives no messages and its sends are refused with 409
//! `automation_paused`; on resolve it gets `conversation.returned_to_automation` with
//! the transcript since the handoff.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use handoff_protocol::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};

use crate::api::ApiJson;
use crate::auth::{self, Caller};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::hooks_api::{insert_subscription, CreateSubscription};
use crate::{engine, store, AppState};

/// The events an automation subscribes to.
pub const AUTOMATION_EVENTS: &[&str] = &[
    "message.created",
    "workflow.execution.handoff",
    "conversation.assigned",
    "conversation.resolved",
    "conversation.returned_to_automation",
];

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CreateAutomation {
    pub name: String,
    pub webhook_url: String,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AutomationCreated {
    pub id: i64,
    pub name: String,
    pub webhook_url: String,
    /// API token for `bot-messages` and handoffs (shown once).
    pub token: String,
    /// `whsec_` secret that signs its webhooks (shown once).
    pub secret: String,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Automation {
    pub id: i64,
    pub name: String,
    pub webhook_url: String,
    /// Whether it is the workspace's automation now.
    pub active: bool,
}

fn require_configurer(caller: &Caller) -> AppResult<()> {
    match caller {
        Caller::Api { .. } => Ok(()),
        Caller::Agent { agent, .. } if matches!(agent.role, Role::Admin | Role::Manager) => Ok(()),
        Caller::Agent { .. } => Err(AppError::new(ErrorCode::Forbidden, "only managers and admins manage automations")),
    }
}

/// The workspace's external automation, if one replaces the built-in bot.
pub async fn workspace_automation(conn: &mut AnyConnection, workspace_id: i64) -> AppResult<Option<i64>> {
    let row = sqlx::query("SELECT automation_id FROM workspace_settings WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.and_then(|r| r.try_get::<Option<i64>, _>("automation_id").ok().flatten()))
}

/// Registers an automation and makes it the workspace's automation.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateAutomation>,
) -> AppResult<(StatusCode, Json<AutomationCreated>)> {
    caller.require_scope("settings:manage")?;
    require_configurer(&caller)?;
    let name = req.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(AppError::new(ErrorCode::InvalidInput, "an automation needs a name of 1 to 100 characters"));
    }
    let ws = caller.workspace_id().0;
    let mut tx = state.db.begin_write().await?;
    let events = AUTOMATION_EVENTS.iter().map(|e| e.to_string()).collect();
    let sub = insert_subscription(
        &state,
        &mut tx,
        ws,
        &CreateSubscription { url: req.webhook_url.clone(), events, description: Some(name.to_owned()) },
        true,
    )
    .await?;
    let (token, _) = auth::issue_token(&mut tx, ws, None, "api", name, None).await?;
    sqlx::query("UPDATE tokens SET automation_id = $1 WHERE token_hash = $2")
        .bind(sub.id)
        .bind(auth::token_hash(token.expose()))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO workspace_settings (workspace_id, automation_id, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (workspace_id) DO UPDATE SET automation_id = excluded.automation_id, updated_at = excluded.updated_at",
    )
    .bind(ws)
    .bind(sub.id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(automation = sub.id, name, "external automation registered");
    Ok((
        StatusCode::CREATED,
        Json(AutomationCreated {
            id: sub.id,
            name: name.to_owned(),
            webhook_url: sub.url,
            token: token.expose().to_owned(),
            secret: sub.secret.unwrap_or_default(),
        }),
    ))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<Automation>>> {
    caller.require_scope("settings:manage")?;
    require_configurer(&caller)?;
    let ws = caller.workspace_id().0;
    let mut conn = state.db.pool.acquire().await?;
    let active = workspace_automation(&mut conn, ws).await?;
    let rows = sqlx::query(
        "SELECT id, description, url FROM webhook_subscriptions WHERE workspace_id = $1 AND automation = 1 AND enabled = 1 ORDER BY id",
    )
    .bind(ws)
    .fetch_all(&mut *conn)
    .await?;
    let list = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            Ok(Automation {
                id,
                name: r.try_get::<Option<String>, _>("description")?.unwrap_or_default(),
                webhook_url: r.try_get("url")?,
                active: active == Some(id),
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(Json(list))
}

/// Removes an automation: its token is revoked, its webhooks stop, and the built-in
/// bot takes over again.
pub async fn delete(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> AppResult<StatusCode> {
    caller.require_scope("settings:manage")?;
    require_configurer(&caller)?;
    let ws = caller.workspace_id().0;
    let mut tx = state.db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE webhook_subscriptions SET enabled = 0 WHERE id = $1 AND workspace_id = $2 AND automation = 1",
    )
    .bind(id)
    .bind(ws)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AppError::not_found("automation"));
    }
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE automation_id = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE workspace_settings SET automation_id = NULL WHERE workspace_id = $1 AND automation_id = $2")
        .bind(ws)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A reply from an automation, with what it knows about its own answer.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct BotReply {
    pub text: String,
    /// How sure the automation is of this answer (0..1).
    #[serde(default)]
    pub confidence: Option<f64>,
    /// This answer is a fallback ("I did not understand").
    #[serde(default)]
    pub fallback: bool,
    #[serde(default)]
    pub workflow: Option<WorkflowRef>,
    /// What the automation knows (order value, plan, ...): read by contact rules and kept
    /// on the handoff if one follows.
    #[serde(default)]
    pub context: serde_json::Map<String, Value>,
}

/// What became of a bot reply: sent, or withheld because a trigger handed off.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BotReplyResult {
    pub message: Option<Message>,
    pub handoff: Option<Handoff>,
}

pub async fn bot_reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<BotReply>,
) -> AppResult<(StatusCode, Json<BotReplyResult>)> {
    caller.require_scope("conversations:write")?;
    let Caller::Api { workspace_id, name, .. } = &caller else {
        return Err(AppError::new(ErrorCode::Forbidden, "only automations (API tokens) send as the bot"));
    };
    let text = req.text.trim();
    if text.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "the message is empty"));
    }
    if text.chars().count() > handoff_whatsapp::MAX_TEXT_CHARS {
        return Err(AppError::new(ErrorCode::MessageTooLong, "WhatsApp text messages are at most 4096 characters"));
    }
    if let Some(c) = req.confidence.filter(|c| !(0.0..=1.0).contains(c)) {
        return Err(AppError::new(ErrorCode::InvalidInput, format!("confidence must be between 0 and 1, not {c}")));
    }
    let mut tx = state.db.begin_write().await?;
    let conv = store::conversation(&mut tx, ConversationId(id)).await?;
    if conv.workspace_id != *workspace_id {
        return Err(AppError::not_found("conversation"));
    }
    if conv.state != ConversationState::Automation {
        return Err(AppError::new(
            ErrorCode::AutomationPaused,
            "a person owns this conversation: automation is paused until they resolve it",
        ));
    }
    let ws = conv.workspace_id.0;
    if let Some(exec) = req.workflow.as_ref().and_then(|w| w.execution_id.as_deref()) {
        let wf = req.workflow.as_ref().and_then(|w| w.workflow_id.as_deref());
        upsert_execution(&mut tx, ws, exec, wf, Some(conv.id.0), "active", None).await?;
    }
    let previous: i64 = sqlx::query("SELECT bot_fallbacks FROM conversations WHERE id = $1")
        .bind(conv.id.0)
        .fetch_one(&mut *tx)
        .await?
        .try_get("bot_fallbacks")?;
    let fallbacks = if req.fallback { previous + 1 } else { 0 };
    let triggers = store::workspace_triggers(&mut tx, ws).await?;
    let mut fields = conv.contact.attributes.clone();
    fields.extend(req.context.clone());
    let fired = triggers
        .on_bot_report(req.confidence, fallbacks as u32)
        .filter(|_| req.fallback || req.confidence.is_some())
        .or_else(|| if req.context.is_empty() { None } else { triggers.on_customer_message(None, &fields) });
    let (status, result) = match fired {
        Some(fired) => {
            // The doubtful answer is not sent; the person sees it as context.
            let mut context = req.context.clone();
            context.insert("withheld_bot_reply".into(), Value::String(text.to_owned()));
            let hreq = HandoffRequest {
                reason: fired.reason,
                priority: Some(fired.priority),
                summary: conv.last_message_preview.clone().map(|t| format!("Last message: {t}")),
                confidence: req.confidence,
                workflow: req.workflow.clone(),
                context,
                ..Default::default()
            };
            let h = engine::request_handoff(
                &state,
                &mut tx,
                conv.id,
                (fired.trigger, Some(&fired.detail)),
                &format!("api:{name}"),
                &hreq,
                true,
            )
            .await?;
            (StatusCode::OK, BotReplyResult { message: None, handoff: Some(h) })
        }
        None => {
            sqlx::query("UPDATE conversations SET bot_fallbacks = $1 WHERE id = $2")
                .bind(fallbacks)
                .bind(conv.id.0)
                .execute(&mut *tx)
                .await?;
            let mid = engine::enqueue_outbound(&state, &mut tx, &conv, Author::Bot, None, None, text).await?;
            (StatusCode::CREATED, BotReplyResult { message: Some(store::message(&mut tx, mid).await?), handoff: None })
        }
    };
    tx.commit().await?;
    state.changed(ws).await;
    Ok((status, Json(result)))
}

/// Records where a workflow execution is: `active`, `handoff`, `failed` or `resolved`.
pub async fn upsert_execution(
    conn: &mut AnyConnection,
    workspace_id: i64,
    execution_id: &str,
    workflow_id: Option<&str>,
    conversation_id: Option<i64>,
    status: &str,
    error: Option<&str>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO workflow_executions (workspace_id, execution_id, workflow_id, conversation_id, status, error, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workspace_id, execution_id) DO UPDATE SET \
         status = excluded.status, error = excluded.error, updated_at = excluded.updated_at, \
         workflow_id = COALESCE(excluded.workflow_id, workflow_executions.workflow_id), \
         conversation_id = COALESCE(excluded.conversation_id, workflow_executions.conversation_id)",
    )
    .bind(workspace_id)
    .bind(execution_id)
    .bind(workflow_id)
    .bind(conversation_id)
    .bind(status)
    .bind(error)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ExecutionStatus {
    pub status: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub workflow_id: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<i64>,
}

/// A workflow engine reports an execution's status (e.g. `failed` with an error).
pub async fn set_execution_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(execution_id): Path<String>,
    ApiJson(req): ApiJson<ExecutionStatus>,
) -> AppResult<Json<Value>> {
    caller.require_scope("conversations:write")?;
    if !matches!(req.status.as_str(), "active" | "handoff" | "failed" | "resolved") {
        return Err(AppError::new(ErrorCode::InvalidInput, "status must be active, handoff, failed or resolved"));
    }
    let ws = caller.workspace_id().0;
    let mut tx = state.db.begin_write().await?;
    if let Some(c) = req.conversation_id {
        let conv = store::conversation(&mut tx, ConversationId(c)).await?;
        if conv.workspace_id.0 != ws {
            return Err(AppError::not_found("conversation"));
        }
    }
    upsert_execution(
        &mut tx,
        ws,
        &execution_id,
        req.workflow_id.as_deref(),
        req.conversation_id,
        &req.status,
        req.error.as_deref(),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({ "execution_id": execution_id, "status": req.status })))
}

/// Counts for operations: workflow executions by status, and conversations with
/// automation (`active`) or with people (`handoff`).
pub async fn workflow_status(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Value>> {
    caller.require_scope("conversations:read")?;
    let ws = caller.workspace_id().0;
    let mut out = json!({
        "executions": { "active": 0, "handoff": 0, "failed": 0, "resolved": 0 },
        "conversations": { "active": 0, "handoff": 0 }
    });
    let rows =
        sqlx::query("SELECT status, COUNT(*) AS n FROM workflow_executions WHERE workspace_id = $1 GROUP BY status")
            .bind(ws)
            .fetch_all(&state.db.pool)
            .await?;
    for r in rows {
        out["executions"][r.try_get::<String, _>("status")?] = json!(r.try_get::<i64, _>("n")?);
    }
    let rows = sqlx::query(
        "SELECT CASE WHEN state = 'automation' THEN 'active' ELSE 'handoff' END AS s, COUNT(*) AS n FROM conversations \
         WHERE workspace_id = $1 GROUP BY CASE WHEN state = 'automation' THEN 'active' ELSE 'handoff' END",
    )
    .bind(ws)
    .fetch_all(&state.db.pool)
    .await?;
    for r in rows {
        out["conversations"][r.try_get::<String, _>("s")?] = json!(r.try_get::<i64, _>("n")?);
    }
    Ok(Json(out))
}

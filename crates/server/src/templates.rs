//! The template registry: approved message templates, the only thing WhatsApp lets a
//! business send outside the 24-hour window. Synced from the Graph API
//! (`GET /{waba_id}/message_templates`) and kept current by the template status,
//! category and quality webhooks.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use handoff_protocol::*;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};

use crate::api::ApiJson;
use crate::auth::{AgentCaller, Caller};
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::{engine, store, AppState};

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Inserts or updates one template; only the given fields change.
async fn upsert(
    conn: &mut AnyConnection,
    ws: i64,
    name: &str,
    language: &str,
    fields: &[(&str, Option<String>)],
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO templates (workspace_id, name, language, status, updated_at) VALUES ($1, $2, $3, 'PENDING', $4) \
         ON CONFLICT (workspace_id, name, language) DO NOTHING",
    )
    .bind(ws)
    .bind(name)
    .bind(language)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    for (column, value) in fields {
        let Some(value) = value else { continue };
        debug_assert!(["meta_id", "status", "category", "quality", "components", "rejection_reason"].contains(column));
        sqlx::query(&format!(
            "UPDATE templates SET {column} = $1, updated_at = $2 WHERE workspace_id = $3 AND name = $4 AND language = $5"
        ))
        .bind(value)
        .bind(now_ms())
        .bind(ws)
        .bind(name)
        .bind(language)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Pulls the account's templates from the Graph API into the registry.
pub async fn sync(state: &AppState, workspace_id: i64, waba_id: &str) -> AppResult<usize> {
    let list = state
        .graph
        .list_templates(waba_id)
        .await
        .map_err(|e| AppError::new(ErrorCode::Upstream, format!("could not list templates: {}", e.describe())))?;
    let mut tx = state.db.begin_write().await?;
    for t in &list {
        let (Some(name), Some(lang)) = (text(t, "name"), text(t, "language")) else { continue };
        let fields = [
            ("meta_id", text(t, "id")),
            ("status", text(t, "status")),
            ("category", text(t, "category")),
            ("quality", t.pointer("/quality_score/score").and_then(Value::as_str).map(str::to_owned)),
            ("components", t.get("components").map(Value::to_string)),
        ];
        upsert(&mut tx, workspace_id, &name, &lang, &fields).await?;
    }
    tx.commit().await?;
    tracing::info!(count = list.len(), "templates synced");
    Ok(list.len())
}

/// The template webhooks: status (approved, rejected, paused...), category and quality.
/// Routed to the workspace whose number belongs to the business account `waba_id`.
pub async fn apply_webhook(conn: &mut AnyConnection, waba_id: &str, field: &str, v: &Value) -> AppResult<bool> {
    let (Some(name), Some(lang)) = (text(v, "message_template_name"), text(v, "message_template_language")) else {
        return Ok(false);
    };
    let ws: i64 = match sqlx::query("SELECT workspace_id FROM channels WHERE waba_id = $1 ORDER BY id LIMIT 1")
        .bind(waba_id)
        .fetch_optional(&mut *conn)
        .await?
    {
        Some(r) => r.try_get("workspace_id")?,
        None => {
            sqlx::query("SELECT id FROM workspaces ORDER BY id LIMIT 1").fetch_one(&mut *conn).await?.try_get("id")?
        }
    };
    let fields: Vec<(&str, Option<String>)> = match field {
        "message_template_status_update" => vec![
            ("meta_id", text(v, "message_template_id")),
            ("status", text(v, "event")),
            ("category", text(v, "message_template_category")),
            (
                "rejection_reason",
                v.pointer("/rejection_info/reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| text(v, "reason")),
            ),
        ],
        "template_category_update" => vec![("category", text(v, "new_category"))],
        "message_template_quality_update" => vec![("quality", text(v, "new_quality_score"))],
        _ => return Ok(false),
    };
    upsert(conn, ws, &name, &lang, &fields).await?;
    Ok(true)
}

fn template_from_row(r: &sqlx::any::AnyRow) -> AppResult<Template> {
    Ok(Template {
        name: r.try_get("name")?,
        language: r.try_get("language")?,
        status: r.try_get("status")?,
        category: r.try_get("category")?,
        quality: r.try_get("quality")?,
        components: r
            .try_get::<Option<String>, _>("components")?
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or(json!([])),
        rejection_reason: r.try_get("rejection_reason")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const COLUMNS: &str = "name, language, status, category, quality, components, rejection_reason, updated_at";

pub async fn list(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<Template>>> {
    caller.require_scope("conversations:read")?;
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM templates WHERE workspace_id = $1 ORDER BY name, language"))
        .bind(caller.workspace_id().0)
        .fetch_all(&state.db.pool)
        .await?;
    Ok(Json(rows.iter().map(template_from_row).collect::<AppResult<_>>()?))
}

/// `POST /v1/templates/sync`: pull the registry from the Graph API now.
pub async fn sync_now(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Value>> {
    caller.require_scope("settings:manage")?;
    if let Caller::Agent { agent, .. } = &caller {
        if !matches!(agent.role, Role::Admin | Role::Manager) {
            return Err(AppError::new(ErrorCode::Forbidden, "only managers and admins sync templates"));
        }
    }
    let waba = state.config.waba_id.clone().ok_or_else(|| {
        AppError::new(ErrorCode::InvalidInput, "no WhatsApp Business Account id is configured (HANDOFF_WA_WABA_ID)")
    })?;
    let n = sync(&state, caller.workspace_id().0, &waba).await?;
    Ok(Json(json!({ "synced": n })))
}

/// An agent sends an approved template (allowed outside the 24-hour window).
pub async fn send(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<SendTemplateRequest>,
) -> AppResult<(StatusCode, Json<Message>)> {
    let client_id = req.client_id.trim();
    if client_id.is_empty() || client_id.len() > 100 {
        return Err(AppError::new(ErrorCode::InvalidInput, "client_id must be 1 to 100 characters"));
    }
    let mut tx = state.db.begin_write().await?;
    if let Some(r) =
        sqlx::query("SELECT id FROM messages WHERE client_id = $1").bind(client_id).fetch_optional(&mut *tx).await?
    {
        let existing = store::message(&mut tx, MessageId(r.try_get("id")?)).await?;
        return Ok((StatusCode::OK, Json(existing)));
    }
    let conv = store::conversation(&mut tx, ConversationId(id)).await?;
    if conv.workspace_id != caller.agent.workspace_id {
        return Err(AppError::not_found("conversation"));
    }
    if conv.state != ConversationState::Assigned || conv.assignee_id != Some(caller.agent.id) {
        return Err(AppError::new(ErrorCode::NotAssignee, "this conversation is not assigned to you"));
    }
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM templates WHERE workspace_id = $1 AND name = $2 AND language = $3"
    ))
    .bind(conv.workspace_id.0)
    .bind(&req.name)
    .bind(&req.language)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::new(ErrorCode::NotFound, format!("no template {} ({})", req.name, req.language)))?;
    let t = template_from_row(&row)?;
    if t.status != "APPROVED" {
        return Err(AppError::new(
            ErrorCode::TemplateNotApproved,
            format!("template {} is {} in WhatsApp, not approved", t.name, t.status.to_lowercase()),
        ));
    }
    if t.category.as_deref() == Some("MARKETING")
        && conv.contact.attributes.get("marketing_opt_out") == Some(&Value::Bool(true))
    {
        return Err(AppError::new(ErrorCode::MarketingOptOut, "this customer stopped marketing messages"));
    }
    let mut params: Vec<Value> = req.parameters.iter().map(|p| json!({ "type": "text", "text": p })).collect();
    for (name, v) in &req.named_parameters {
        let text = v.as_str().ok_or_else(|| AppError::new(ErrorCode::InvalidInput, "named parameters are strings"))?;
        params.push(json!({ "type": "text", "parameter_name": name, "text": text }));
    }
    let mut object = json!({ "name": t.name, "language": { "code": t.language } });
    let shown: Vec<String> = params.iter().filter_map(|p| p["text"].as_str().map(str::to_owned)).collect();
    if !params.is_empty() {
        object["components"] = json!([{ "type": "body", "parameters": params }]);
    }
    let preview = if shown.is_empty() {
        format!("[template {}]", t.name)
    } else {
        format!("[template {}] {}", t.name, shown.join(", "))
    };
    let mid = engine::enqueue_outbound_of_kind(
        &state,
        &mut tx,
        &conv,
        (Author::Agent, Some(caller.agent.id), Some(client_id)),
        "template",
        &preview,
        Some(&object),
    )
    .await?;
    let msg = store::message(&mut tx, mid).await?;
    tx.commit().await?;
    state.changed(conv.workspace_id.0).await;
    Ok((StatusCode::CREATED, Json(msg)))
}

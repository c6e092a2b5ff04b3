//! Working together on a conversation: internal notes with @mentions, canned
//! responses with variables, and labels.
//!
//! A note is a message with direction `note`: it syncs to everyone who sees the
//! conversation, sorts into the thread, and is never sent (the send worker only takes
//! `outbound`) nor given to automation. An @mention notifies the colleague live
//! (`mentioned` on their event stream, and `GET /v1/me/mentions`) and lets them see
//! the conversation even outside their teams.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use handoff_protocol::*;
use sqlx::{AnyConnection, Row};

use crate::api::ApiJson;
use crate::auth::AgentCaller;
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::{routing, store, AppState};

/// Longest note we keep.
pub const MAX_NOTE_CHARS: usize = 10_000;

/// The conversation, if `agent` may see it (404 otherwise, so nothing leaks).
async fn visible(conn: &mut AnyConnection, agent: &Agent, id: ConversationId) -> AppResult<Conversation> {
    let conv = store::conversation(conn, id).await.map_err(|_| AppError::not_found("conversation"))?;
    if conv.workspace_id != agent.workspace_id || store::visible_conversations(conn, agent, &[id.0]).await?.is_empty() {
        return Err(AppError::not_found("conversation"));
    }
    Ok(conv)
}

fn not_viewer(agent: &Agent, what: &str) -> AppResult<()> {
    if agent.role == Role::Viewer {
        return Err(AppError::new(ErrorCode::Forbidden, format!("viewers cannot {what}")));
    }
    Ok(())
}

/// The `@handles` in a note, lower-cased, without duplicates.
pub fn handles(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, _) in text.match_indices('@') {
        // An @ inside a word (an email address) is not a mention.
        if text[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric()) {
            continue;
        }
        let handle: String =
            text[i + 1..].chars().take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-')).collect();
        let handle = handle.trim_end_matches(['.', '-', '_']).to_lowercase();
        if !handle.is_empty() && !out.contains(&handle) {
            out.push(handle);
        }
    }
    out
}

/// `POST /v1/conversations/{id}/notes`.
pub async fn add_note(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> AppResult<(StatusCode, Json<Message>)> {
    let me = &caller.agent;
    not_viewer(me, "write notes")?;
    let text = req.text.trim();
    if text.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "a note needs text"));
    }
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::new(ErrorCode::InvalidInput, format!("notes are at most {MAX_NOTE_CHARS} characters")));
    }
    let mut tx = state.db.begin_write().await?;
    let conv = visible(&mut tx, me, ConversationId(id)).await?;
    if let Some(key) = req.client_id.as_deref() {
        let again = sqlx::query("SELECT id, conversation_id FROM messages WHERE client_id = $1")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(r) = again {
            if r.try_get::<i64, _>("conversation_id")? != id {
                return Err(AppError::new(ErrorCode::Conflict, "this client_id was used in another conversation"));
            }
            let m = store::message(&mut tx, MessageId(r.try_get("id")?)).await?;
            return Ok((StatusCode::OK, Json(m)));
        }
    }
    let now = now_ms();
    let latest: Option<i64> = sqlx::query("SELECT MAX(sent_at) AS latest FROM messages WHERE conversation_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("latest")?;
    let at = now.max(latest.map_or(0, |l| l + 1));
    let mid: i64 = sqlx::query(
        "INSERT INTO messages (conversation_id, client_id, direction, author, agent_id, kind, text, status, sent_at, created_at, processed_at) \
         VALUES ($1, $2, 'note', 'agent', $3, 'note', $4, 'received', $5, $5, $5) RETURNING id",
    )
    .bind(id)
    .bind(req.client_id.as_deref())
    .bind(me.id.0)
    .bind(text)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    let ws = conv.workspace_id.0;
    state.db.record_change(&mut tx, ws, "message", mid, id).await?;
    // Mentions: colleagues in this workspace by email local part or first name.
    let mut mentioned = Vec::new();
    let handles = handles(text);
    if !handles.is_empty() {
        let people = sqlx::query("SELECT id, email, name FROM agents WHERE workspace_id = $1")
            .bind(ws)
            .fetch_all(&mut *tx)
            .await?;
        for r in people {
            let (aid, email, name): (i64, String, String) = (r.try_get("id")?, r.try_get("email")?, r.try_get("name")?);
            let local = email.split('@').next().unwrap_or_default().to_lowercase();
            let first = name.split_whitespace().next().unwrap_or_default().to_lowercase();
            if aid != me.id.0 && handles.iter().any(|h| *h == local || *h == first) {
                mentioned.push(aid);
            }
        }
    }
    for aid in &mentioned {
        sqlx::query(
            "INSERT INTO mentions (workspace_id, conversation_id, message_id, agent_id, by_agent_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(ws)
        .bind(id)
        .bind(mid)
        .bind(aid)
        .bind(me.id.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let watching =
            sqlx::query("SELECT 1 AS one FROM conversation_watchers WHERE conversation_id = $1 AND agent_id = $2")
                .bind(id)
                .bind(aid)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if !watching {
            sqlx::query(
                "INSERT INTO conversation_watchers (conversation_id, agent_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(aid)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    if !mentioned.is_empty() {
        // A handoff change makes sync send the whole thread to whoever now sees it.
        let h: Option<i64> = sqlx::query("SELECT id FROM handoffs WHERE conversation_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?;
        if let Some(h) = h {
            state.db.record_change(&mut tx, ws, "handoff", h, id).await?;
        }
    }
    let msg = store::message(&mut tx, MessageId(mid)).await?;
    tx.commit().await?;
    for aid in mentioned {
        state.presence.notify(
            ws,
            AgentId(aid),
            ServerEvent::Mentioned { conversation_id: conv.id, message_id: msg.id, by_name: me.name.clone() },
        );
    }
    state.changed(ws).await;
    Ok((StatusCode::CREATED, Json(msg)))
}

/// `GET /v1/me/mentions`: newest first.
pub async fn my_mentions(State(state): State<AppState>, caller: AgentCaller) -> AppResult<Json<Vec<Mention>>> {
    let rows = sqlx::query(
        "SELECT mn.id, mn.conversation_id, mn.message_id, mn.by_agent_id, a.name AS by_name, m.text, mn.created_at, mn.read_at \
         FROM mentions mn JOIN agents a ON a.id = mn.by_agent_id JOIN messages m ON m.id = mn.message_id \
         WHERE mn.agent_id = $1 ORDER BY mn.id DESC LIMIT 200",
    )
    .bind(caller.agent.id.0)
    .fetch_all(&state.db.pool)
    .await?;
    let out = rows
        .iter()
        .map(|r| {
            Ok(Mention {
                id: r.try_get("id")?,
                conversation_id: ConversationId(r.try_get("conversation_id")?),
                message_id: MessageId(r.try_get("message_id")?),
                by: AgentId(r.try_get("by_agent_id")?),
                by_name: r.try_get("by_name")?,
                text: r.try_get::<Option<String>, _>("text")?.unwrap_or_default(),
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(Json(out))
}

/// `POST /v1/me/mentions/{id}/read`.
pub async fn read_mention(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let n = sqlx::query("UPDATE mentions SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND agent_id = $3")
        .bind(now_ms())
        .bind(id)
        .bind(caller.agent.id.0)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::not_found("mention"));
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---- labels ----

/// `PUT /v1/conversations/{id}/labels` with the full list.
pub async fn put_labels(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(labels): ApiJson<Vec<String>>,
) -> AppResult<Json<Conversation>> {
    not_viewer(&caller.agent, "label conversations")?;
    let mut clean: Vec<String> = Vec::new();
    for l in labels {
        let l = l.trim().to_owned();
        if l.is_empty() || l.chars().count() > 50 {
            return Err(AppError::new(ErrorCode::InvalidInput, "labels are 1 to 50 characters"));
        }
        if !clean.iter().any(|c| c.eq_ignore_ascii_case(&l)) {
            clean.push(l);
        }
    }
    if clean.len() > 20 {
        return Err(AppError::new(ErrorCode::InvalidInput, "at most 20 labels per conversation"));
    }
    let mut tx = state.db.begin_write().await?;
    let conv = visible(&mut tx, &caller.agent, ConversationId(id)).await?;
    sqlx::query("UPDATE conversations SET labels = $1, updated_at = $2 WHERE id = $3")
        .bind(serde_json::to_string(&clean).expect("serializes"))
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    state.db.record_change(&mut tx, conv.workspace_id.0, "conversation", id, id).await?;
    let conv = store::conversation(&mut tx, ConversationId(id)).await?;
    tx.commit().await?;
    state.changed(conv.workspace_id.0).await;
    Ok(Json(conv))
}

// ---- canned responses ----

fn canned_from_row(r: &sqlx::any::AnyRow) -> AppResult<CannedResponse> {
    Ok(CannedResponse {
        id: r.try_get("id")?,
        team_id: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
        shortcut: r.try_get("shortcut")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
    })
}

/// `GET /v1/canned-responses`: the workspace's and the caller's teams' (managers and
/// admins: all).
pub async fn list_canned(State(state): State<AppState>, caller: AgentCaller) -> AppResult<Json<Vec<CannedResponse>>> {
    let all = matches!(caller.agent.role, Role::Admin | Role::Manager | Role::Viewer);
    let rows = sqlx::query(
        "SELECT id, team_id, shortcut, title, body FROM canned_responses WHERE workspace_id = $1 \
         AND ($2 = 1 OR team_id IS NULL OR team_id IN (SELECT team_id FROM team_members WHERE agent_id = $3)) ORDER BY shortcut, id",
    )
    .bind(caller.agent.workspace_id.0)
    .bind(all as i64)
    .bind(caller.agent.id.0)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(Json(rows.iter().map(canned_from_row).collect::<AppResult<_>>()?))
}

/// Admins write workspace-wide responses; managers their teams'.
async fn may_write_canned(conn: &mut AnyConnection, caller: &Agent, team: Option<TeamId>) -> AppResult<()> {
    let ok = match team {
        None => caller.role == Role::Admin,
        Some(t) => {
            let known = sqlx::query("SELECT id FROM teams WHERE id = $1 AND workspace_id = $2")
                .bind(t.0)
                .bind(caller.workspace_id.0)
                .fetch_optional(&mut *conn)
                .await?;
            if known.is_none() {
                return Err(AppError::new(ErrorCode::InvalidInput, format!("team {t} does not exist")));
            }
            routing::manages(conn, caller, Some(t)).await?
        }
    };
    if !ok {
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "admins write workspace responses; managers write their teams' responses",
        ));
    }
    Ok(())
}

fn check_canned(shortcut: &str, title: &str, body: &str) -> AppResult<()> {
    if shortcut.is_empty() || shortcut.contains(char::is_whitespace) || shortcut.chars().count() > 32 {
        return Err(AppError::new(ErrorCode::InvalidInput, "a shortcut is one word of at most 32 characters"));
    }
    if title.is_empty() || body.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "a canned response needs a title and a body"));
    }
    if body.chars().count() > handoff_whatsapp::MAX_TEXT_CHARS {
        return Err(AppError::new(ErrorCode::MessageTooLong, "a canned response must fit in one WhatsApp message"));
    }
    Ok(())
}

pub async fn create_canned(
    State(state): State<AppState>,
    caller: AgentCaller,
    ApiJson(req): ApiJson<CannedResponseRequest>,
) -> AppResult<(StatusCode, Json<CannedResponse>)> {
    let (shortcut, title, body) = (
        req.shortcut.as_deref().unwrap_or_default().trim().trim_start_matches('/').to_owned(),
        req.title.as_deref().unwrap_or_default().trim().to_owned(),
        req.body.as_deref().unwrap_or_default().trim().to_owned(),
    );
    check_canned(&shortcut, &title, &body)?;
    let mut tx = state.db.begin_write().await?;
    may_write_canned(&mut tx, &caller.agent, req.team_id).await?;
    let now = now_ms();
    let id: i64 = sqlx::query(
        "INSERT INTO canned_responses (workspace_id, team_id, shortcut, title, body, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(caller.agent.workspace_id.0)
    .bind(req.team_id.map(|t| t.0))
    .bind(&shortcut)
    .bind(&title)
    .bind(&body)
    .bind(caller.agent.id.0)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    let r = sqlx::query("SELECT id, team_id, shortcut, title, body FROM canned_responses WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let c = canned_from_row(&r)?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(c)))
}

async fn canned(conn: &mut AnyConnection, ws: i64, id: i64) -> AppResult<CannedResponse> {
    let r = sqlx::query(
        "SELECT id, team_id, shortcut, title, body FROM canned_responses WHERE id = $1 AND workspace_id = $2",
    )
    .bind(id)
    .bind(ws)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::not_found("canned response"))?;
    canned_from_row(&r)
}

pub async fn update_canned(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<CannedResponseRequest>,
) -> AppResult<Json<CannedResponse>> {
    let ws = caller.agent.workspace_id.0;
    let mut tx = state.db.begin_write().await?;
    let before = canned(&mut tx, ws, id).await?;
    may_write_canned(&mut tx, &caller.agent, before.team_id).await?;
    let shortcut =
        req.shortcut.as_deref().map(|s| s.trim().trim_start_matches('/').to_owned()).unwrap_or(before.shortcut);
    let title = req.title.as_deref().map(|s| s.trim().to_owned()).unwrap_or(before.title);
    let body = req.body.as_deref().map(|s| s.trim().to_owned()).unwrap_or(before.body);
    check_canned(&shortcut, &title, &body)?;
    sqlx::query("UPDATE canned_responses SET shortcut = $1, title = $2, body = $3, updated_at = $4 WHERE id = $5")
        .bind(&shortcut)
        .bind(&title)
        .bind(&body)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let c = canned(&mut tx, ws, id).await?;
    tx.commit().await?;
    Ok(Json(c))
}

pub async fn delete_canned(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let ws = caller.agent.workspace_id.0;
    let mut tx = state.db.begin_write().await?;
    let before = canned(&mut tx, ws, id).await?;
    may_write_canned(&mut tx, &caller.agent, before.team_id).await?;
    sqlx::query("DELETE FROM canned_responses WHERE id = $1").bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fills `{{variables}}` in `body`.
pub fn render(body: &str, conv: &Conversation, agent: &Agent) -> RenderedResponse {
    let mut text = String::with_capacity(body.len());
    let mut missing = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        text.push_str(&rest[..start]);
        let name = rest[start + 2..start + 2 + len].trim();
        let value = match name {
            "contact.name" => conv.contact.name.clone(),
            "contact.first_name" => {
                conv.contact.name.as_deref().and_then(|n| n.split_whitespace().next()).map(str::to_owned)
            }
            "contact.phone" => conv.contact.wa_id.as_ref().map(|p| format!("+{p}")),
            "agent.name" => Some(agent.name.clone()),
            "agent.first_name" => agent.name.split_whitespace().next().map(str::to_owned),
            other => other.strip_prefix("contact.").and_then(|k| conv.contact.attributes.get(k)).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
        };
        match value {
            Some(v) => text.push_str(&v),
            None => {
                if !missing.iter().any(|m| m == name) {
                    missing.push(name.to_owned());
                }
            }
        }
        rest = &rest[start + 2 + len + 2..];
    }
    text.push_str(rest);
    RenderedResponse { text, missing }
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct RenderRequest {
    pub conversation_id: ConversationId,
}

/// `POST /v1/canned-responses/{id}/render` `{conversation_id}`.
pub async fn render_canned(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RenderRequest>,
) -> AppResult<Json<RenderedResponse>> {
    let mut conn = state.db.pool.acquire().await?;
    let c = canned(&mut conn, caller.agent.workspace_id.0, id).await?;
    let conv = visible(&mut conn, &caller.agent, req.conversation_id).await?;
    Ok(Json(render(&c.body, &conv, &caller.agent)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mentions_are_handles_not_email_addresses() {
        assert_eq!(handles("@Ana can you check? cc @ben.okafor, @ana"), ["ana", "ben.okafor"]);
        assert!(handles("write to help@acme.com").is_empty());
        assert_eq!(handles("ask @maya."), ["maya"]);
    }

    #[test]
    fn variables_are_filled_and_missing_ones_named() {
        let conv: Conversation = serde_json::from_value(json!({
            "id": 1, "workspace_id": 1, "phone_number_id": "1", "state": "assigned", "priority": "normal",
            "assignee_id": null, "team_id": null, "active_handoff_id": null, "last_message_preview": null,
            "last_message_at": null, "last_inbound_at": null, "created_at": 0, "updated_at": 0,
            "contact": { "id": 1, "wa_id": "4915550", "bsuid": null, "name": "Lena Vogel", "attributes": { "order": "A-17", "vip": true } }
        }))
        .unwrap();
        let agent = Agent {
            id: AgentId(1),
            workspace_id: WorkspaceId(1),
            email: "ana@x".into(),
            name: "Ana Alvarez".into(),
            role: Role::Agent,
            availability: Availability::Online,
        };
        let r = render("Hi {{contact.first_name}}, {{ agent.first_name }} here about {{contact.order}} ({{contact.vip}}) {{contact.tier}}", &conv, &agent);
        assert_eq!(r.text, "Hi Lena, Ana here about A-17 (true) ");
        assert_eq!(r.missing, ["contact.tier"]);
    }
}

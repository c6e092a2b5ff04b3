//! The REST API (`/v1/...`). Handlers are thin: they check who is calling and what
//! they may see, then call the engine or the store.

use std::collections::BTreeSet;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::Json;
use handoff_protocol::*;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sqlx::Row;

use crate::auth::{self, AgentCaller, Caller};
use crate::error::{AppError, AppResult};
use crate::{engine, store, AppState};

/// JSON body extractor whose failures are [`AppError`]s with stable codes.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(AppError::new(ErrorCode::InvalidInput, e.body_text())),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(AppError::new(ErrorCode::InvalidJson, e.body_text())),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(AppError::new(ErrorCode::InvalidJson, "expected a JSON body with Content-Type: application/json"))
            }
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::new(ErrorCode::PayloadTooLarge, "the request body is too large"))
            }
            Err(e) => Err(AppError::new(ErrorCode::InvalidJson, e.body_text())),
        }
    }
}

pub async fn login(
    State(state): State<AppState>,
    client: crate::auth_api::Client,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    Ok(Json(auth::login(&state, req, client.ip, client.user_agent).await?))
}

/// Signs this device out: its session and every token of it.
pub async fn logout(State(state): State<AppState>, caller: AgentCaller) -> AppResult<StatusCode> {
    match caller.session_id {
        Some(s) => {
            let mut tx = state.db.begin_write().await?;
            auth::revoke_session_in(&mut tx, s).await?;
            tx.commit().await?;
        }
        None => auth::revoke(&state, caller.token_id).await?,
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(caller: AgentCaller) -> Json<Agent> {
    Json(caller.agent)
}

pub async fn set_availability(
    State(state): State<AppState>,
    caller: AgentCaller,
    ApiJson(req): ApiJson<AvailabilityRequest>,
) -> AppResult<Json<Agent>> {
    let now = state.clock.now_ms();
    sqlx::query(
        "UPDATE agents SET availability = $1, auto_away = 0, last_seen_at = $2, last_active_at = $2 WHERE id = $3",
    )
    .bind(req.availability.as_str())
    .bind(now)
    .bind(caller.agent.id.0)
    .execute(&state.db.pool)
    .await?;
    if req.availability == Availability::Online {
        // Capacity appeared: waiting conversations may now have an owner.
        crate::routing::drain_queue(&state, caller.agent.workspace_id.0).await?;
    }
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(store::agent_by_id(&mut conn, caller.agent.id).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SyncQuery {
    #[serde(default)]
    cursor: i64,
    #[serde(default)]
    limit: Option<i64>,
    /// Bootstrap: instead of replaying the change log from the start, send what the
    /// caller may see now, conversation by conversation after this id (0 to begin).
    #[serde(default)]
    snapshot: Option<i64>,
}

/// Conversations per snapshot page (each with its whole history).
const SNAPSHOT_PAGE: i64 = 500;

/// Pull by cursor: everything that changed after `cursor` and that the caller may see.
pub async fn sync(
    State(state): State<AppState>,
    caller: AgentCaller,
    Query(q): Query<SyncQuery>,
) -> AppResult<Json<SyncResponse>> {
    let limit = q.limit.unwrap_or(500).clamp(1, 2000);
    let agent = &caller.agent;
    // One read transaction: a consistent snapshot of the change log and the rows.
    let mut conn = state.db.read.begin().await?;
    if let Some(after) = q.snapshot {
        // The cursor of the snapshot is taken before its first page is read: what
        // changes while the pages are fetched is sent again by the pulls after it
        // (upserts, so twice is harmless).
        let cursor = if after == 0 || q.cursor == 0 {
            sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM changes WHERE workspace_id = $1")
                .bind(agent.workspace_id.0)
                .fetch_one(&mut *conn)
                .await?
                .try_get::<i64, _>("seq")?
        } else {
            q.cursor
        };
        let page_size = q.limit.unwrap_or(SNAPSHOT_PAGE).clamp(1, 1000);
        let ids = store::visible_page(&mut conn, agent, after, page_size + 1).await?;
        let more = ids.len() as i64 > page_size;
        let ids: Vec<i64> = ids.into_iter().take(page_size as usize).collect();
        let snapshot_after = if more { ids.last().copied() } else { None };
        let messages = store::messages_of(&mut conn, &ids).await?;
        let handoffs = store::handoffs_of(&mut conn, &ids).await?;
        let conversations = store::conversations_by_ids(&mut conn, &ids).await?;
        return Ok(Json(SyncResponse {
            cursor,
            has_more: more,
            conversations,
            messages,
            handoffs,
            removed: vec![],
            snapshot_after,
        }));
    }
    let rows = sqlx::query(
        "SELECT seq, entity, entity_id, conversation_id FROM changes WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(agent.workspace_id.0)
    .bind(q.cursor)
    .bind(limit + 1)
    .fetch_all(&mut *conn)
    .await?;
    let has_more = rows.len() as i64 > limit;
    let mut cursor = q.cursor;
    let (mut conv_ids, mut message_ids, mut handoff_ids, mut handoff_convs) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for r in rows.iter().take(limit as usize) {
        cursor = r.try_get("seq")?;
        let conversation_id: i64 = r.try_get("conversation_id")?;
        let entity_id: i64 = r.try_get("entity_id")?;
        conv_ids.insert(conversation_id);
        match r.try_get::<String, _>("entity")?.as_str() {
            "message" => {
                message_ids.insert((conversation_id, entity_id));
            }
            "handoff" => {
                handoff_ids.insert((conversation_id, entity_id));
                handoff_convs.insert(conversation_id);
            }
            _ => {}
        }
    }
    let changed: Vec<i64> = conv_ids.into_iter().collect();
    let visible: BTreeSet<i64> = store::visible_conversations(&mut conn, agent, &changed).await?.into_iter().collect();
    let removed = store::no_longer_visible(&mut conn, agent, &changed, &visible).await?;
    // A handoff is how a conversation reaches someone's inbox: send its whole history.
    let full: Vec<i64> = handoff_convs.intersection(&visible).copied().collect();
    let mut messages = store::messages_of(&mut conn, &full).await?;
    let single: Vec<i64> =
        message_ids.iter().filter(|(c, _)| visible.contains(c) && !full.contains(c)).map(|(_, m)| *m).collect();
    messages.extend(store::messages_by_ids(&mut conn, &single).await?);
    let mut handoffs = store::handoffs_of(&mut conn, &full).await?;
    let single: Vec<i64> =
        handoff_ids.iter().filter(|(c, _)| visible.contains(c) && !full.contains(c)).map(|(_, h)| *h).collect();
    handoffs.extend(store::handoffs_by_ids(&mut conn, &single).await?);
    let conversations = store::conversations_by_ids(&mut conn, &visible.into_iter().collect::<Vec<_>>()).await?;
    let removed = removed.into_iter().map(ConversationId).collect();
    Ok(Json(SyncResponse { cursor, has_more, conversations, messages, handoffs, removed, snapshot_after: None }))
}

pub async fn list_conversations(State(state): State<AppState>, caller: Caller) -> AppResult<Json<Vec<Conversation>>> {
    caller.require_scope("conversations:read")?;
    let mut conn = state.db.read.begin().await?;
    let ids: Vec<i64> = match &caller {
        Caller::Agent { agent, .. } => store::inbox_ids(&mut conn, agent).await?,
        Caller::Api { workspace_id, .. } => sqlx::query("SELECT id FROM conversations WHERE workspace_id = $1")
            .bind(workspace_id.0)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?,
    };
    let mut list = store::conversations_by_ids(&mut conn, &ids).await?;
    list.sort_by_key(|c| std::cmp::Reverse((c.last_message_at.unwrap_or(c.created_at), c.id)));
    Ok(Json(list))
}

/// Loads a conversation the caller may see (404 otherwise: no leaking of existence).
pub(crate) async fn visible_conversation(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
) -> AppResult<Conversation> {
    let mut conn = state.db.pool.acquire().await?;
    let conv = store::conversation(&mut conn, id).await?;
    let ok = match caller {
        Caller::Api { workspace_id, .. } => conv.workspace_id == *workspace_id,
        Caller::Agent { agent, .. } => !store::visible_conversations(&mut conn, agent, &[id.0]).await?.is_empty(),
    };
    if ok {
        Ok(conv)
    } else {
        Err(AppError::not_found("conversation"))
    }
}

pub async fn get_conversation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> AppResult<Json<ConversationDetail>> {
    caller.require_scope("conversations:read")?;
    let conversation = visible_conversation(&state, &caller, ConversationId(id)).await?;
    let mut conn = state.db.read.begin().await?;
    let messages = store::messages_of(&mut conn, &[id]).await?;
    let handoffs = store::handoffs_of(&mut conn, &[id]).await?;
    Ok(Json(ConversationDetail { conversation, messages, handoffs }))
}

pub async fn send_message(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<SendMessageRequest>,
) -> AppResult<(StatusCode, Json<Message>)> {
    let client_id = req.client_id.trim();
    if client_id.is_empty() || client_id.len() > 100 {
        return Err(AppError::new(ErrorCode::InvalidInput, "client_id must be 1 to 100 characters"));
    }
    crate::outbound::check_request(&req)?;
    let agent_caller = caller.as_caller();
    visible_conversation(&state, &agent_caller, ConversationId(id)).await?;
    let mut tx = state.db.begin_write().await?;
    // The same client_id is applied once: a retry gets the first result back.
    if let Some(r) = sqlx::query("SELECT id, conversation_id FROM messages WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(&mut *tx)
        .await?
    {
        if r.try_get::<i64, _>("conversation_id")? != id {
            return Err(AppError::new(ErrorCode::Conflict, "this client_id was used for another conversation"));
        }
        let existing = store::message(&mut tx, MessageId(r.try_get("id")?)).await?;
        return Ok((StatusCode::OK, Json(existing)));
    }
    let conv = store::conversation(&mut tx, ConversationId(id)).await?;
    if conv.state != ConversationState::Assigned || conv.assignee_id != Some(caller.agent.id) {
        return Err(AppError::new(ErrorCode::NotAssignee, "this conversation is not assigned to you"));
    }
    if !engine::window_open(&conv, crate::db::now_ms()) {
        return Err(AppError::new(
            ErrorCode::WindowClosed,
            "more than 24 hours since the customer last wrote: WhatsApp only allows an approved template now",
        ));
    }
    let out = crate::outbound::prepare(&mut tx, &conv, &req).await?;
    let who = (Author::Agent, Some(caller.agent.id), Some(client_id));
    let mid = engine::enqueue_outbound_full(
        &state,
        &mut tx,
        &conv,
        who,
        &out.kind,
        &out.text,
        out.payload.as_ref(),
        out.raw.as_ref(),
    )
    .await?;
    if let Some(upload) = &out.upload {
        crate::outbound::attach_media(&mut tx, mid.0, upload).await?;
    }
    if let Some(h) = conv.active_handoff_id {
        // The handoff's timeline: the person's first answer.
        let first =
            sqlx::query("UPDATE handoffs SET first_response_at = $1 WHERE id = $2 AND first_response_at IS NULL")
                .bind(crate::db::now_ms())
                .bind(h.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if first == 1 {
            state.db.record_change(&mut tx, conv.workspace_id.0, "handoff", h.0, conv.id.0).await?;
            let data = serde_json::json!({ "conversation_id": conv.id, "handoff_id": h, "agent_id": caller.agent.id,
                "at": crate::db::now_ms() });
            crate::hooks::emit(&mut tx, conv.workspace_id.0, Some(conv.id.0), "conversation.first_response", data)
                .await?;
        }
    }
    let msg = store::message(&mut tx, mid).await?;
    tx.commit().await?;
    state.changed(conv.workspace_id.0).await;
    Ok((StatusCode::CREATED, Json(msg)))
}

pub async fn handoff(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<HandoffRequest>,
) -> AppResult<(StatusCode, Json<Handoff>)> {
    caller.require_scope("conversations:write")?;
    let conv = visible_or_workspace(&state, &caller, ConversationId(id)).await?;
    let requested_by = match &caller {
        Caller::Api { name, .. } => format!("api:{name}"),
        Caller::Agent { agent, .. } => format!("agent:{}", agent.email),
    };
    let mut tx = state.db.begin_write().await?;
    let h = engine::request_handoff(&state, &mut tx, conv.id, (HandoffTrigger::Api, None), &requested_by, &req, true)
        .await?;
    tx.commit().await?;
    state.changed(conv.workspace_id.0).await;
    Ok((StatusCode::CREATED, Json(h)))
}

/// For handoffs: bots see every conversation of their workspace; people too (a person
/// may escalate a conversation that is not in their inbox yet).
async fn visible_or_workspace(state: &AppState, caller: &Caller, id: ConversationId) -> AppResult<Conversation> {
    let mut conn = state.db.pool.acquire().await?;
    let conv = store::conversation(&mut conn, id).await?;
    if conv.workspace_id != caller.workspace_id() {
        return Err(AppError::not_found("conversation"));
    }
    if let Caller::Agent { agent, .. } = caller {
        if agent.role == Role::Viewer {
            return Err(AppError::new(ErrorCode::Forbidden, "viewers cannot hand off conversations"));
        }
    }
    Ok(conv)
}

pub async fn resolve(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> AppResult<StatusCode> {
    // The body is optional: `{}` / `{"note": "..."}` / nothing.
    let req: ResolveRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ResolveRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::new(ErrorCode::InvalidJson, format!("invalid JSON body: {e}")))?
    };
    engine::resolve(&state, &caller.agent, ConversationId(id), req.note.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Managers and admins (and API tokens) may change workspace settings and contacts.
fn may_configure(caller: &Caller) -> AppResult<()> {
    match caller {
        Caller::Api { .. } => Ok(()),
        Caller::Agent { agent, .. } if matches!(agent.role, Role::Admin | Role::Manager) => Ok(()),
        Caller::Agent { .. } => Err(AppError::new(ErrorCode::Forbidden, "only managers and admins can change this")),
    }
}

pub async fn get_triggers(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<crate::triggers::TriggerConfig>> {
    caller.require_scope("conversations:read")?;
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(store::workspace_triggers(&mut conn, caller.workspace_id().0).await?))
}

pub async fn put_triggers(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(config): ApiJson<crate::triggers::TriggerConfig>,
) -> AppResult<Json<crate::triggers::TriggerConfig>> {
    caller.require_scope("settings:manage")?;
    may_configure(&caller)?;
    config.validate().map_err(|e| AppError::new(ErrorCode::InvalidInput, e))?;
    let ws = caller.workspace_id().0;
    let mut tx = state.db.begin_write().await?;
    let before = store::workspace_triggers(&mut tx, ws).await?;
    store::set_workspace_triggers(&mut tx, ws, &config).await?;
    crate::audit::record_caller(
        &mut tx,
        &caller,
        "triggers.updated",
        "workspace",
        ws,
        serde_json::json!({ "before": before, "after": config }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(config))
}

/// Replaces a contact's attributes (a JSON object), e.g. from a CRM.
pub async fn put_contact_attributes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(attributes): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> AppResult<Json<Contact>> {
    caller.require_scope("conversations:write")?;
    may_configure(&caller)?;
    let mut tx = state.db.begin_write().await?;
    let updated =
        sqlx::query("UPDATE contacts SET attributes = $1, updated_at = $2 WHERE id = $3 AND workspace_id = $4")
            .bind(serde_json::to_string(&attributes).map_err(|e| AppError::Internal(e.to_string()))?)
            .bind(crate::db::now_ms())
            .bind(id)
            .bind(caller.workspace_id().0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if updated == 0 {
        return Err(AppError::not_found("contact"));
    }
    // Every conversation of the contact shows the new attributes.
    let convs = sqlx::query("SELECT id FROM conversations WHERE contact_id = $1").bind(id).fetch_all(&mut *tx).await?;
    for c in &convs {
        let cid: i64 = c.try_get("id")?;
        state.db.record_change(&mut tx, caller.workspace_id().0, "conversation", cid, cid).await?;
    }
    let row = sqlx::query("SELECT id, wa_id, bsuid, name, attributes FROM contacts WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    state.changed(caller.workspace_id().0).await;
    Ok(Json(Contact {
        id: ContactId(row.try_get("id")?),
        wa_id: row.try_get("wa_id")?,
        bsuid: row.try_get("bsuid")?,
        name: row.try_get("name")?,
        attributes: store::json_object(row.try_get("attributes")?)?,
    }))
}

pub async fn get_handoff_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<crate::handoff_settings::HandoffSettings>> {
    caller.require_scope("conversations:read")?;
    let mut conn = state.db.pool.acquire().await?;
    Ok(Json(store::workspace_handoff_settings(&mut conn, caller.workspace_id().0).await?))
}

pub async fn put_handoff_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(settings): ApiJson<crate::handoff_settings::HandoffSettings>,
) -> AppResult<Json<crate::handoff_settings::HandoffSettings>> {
    caller.require_scope("settings:manage")?;
    may_configure(&caller)?;
    settings.validate().map_err(|e| AppError::new(ErrorCode::InvalidInput, e))?;
    let ws = caller.workspace_id().0;
    let mut tx = state.db.begin_write().await?;
    let before = store::workspace_handoff_settings(&mut tx, ws).await?;
    store::set_workspace_handoff_settings(&mut tx, ws, &settings).await?;
    crate::audit::record_caller(
        &mut tx,
        &caller,
        "handoff_settings.updated",
        "workspace",
        ws,
        serde_json::json!({ "before": before, "after": settings }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(settings))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AssignRequest {
    pub agent_id: AgentId,
}

/// A manager (of the conversation's team) or admin gives a conversation with people
/// to a named agent (assign, or override the current owner).
pub async fn assign(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> AppResult<Json<Conversation>> {
    Ok(Json(crate::routing::assign(&state, &caller.agent, ConversationId(id), req.agent_id).await?))
}

/// `POST /v1/conversations/{id}/read` (`typing: false`) and `.../typing` (`true`): the
/// customer sees blue ticks on their last message, and the typing indicator.
async fn read_receipt(state: &AppState, caller: &AgentCaller, id: i64, typing: bool) -> AppResult<StatusCode> {
    let agent_caller = caller.as_caller();
    let conv = visible_conversation(state, &agent_caller, ConversationId(id)).await?;
    let last = sqlx::query(
        "SELECT wamid FROM messages WHERE conversation_id = $1 AND direction = 'inbound' AND wamid IS NOT NULL ORDER BY sent_at DESC, id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some(last) = last else { return Ok(StatusCode::NO_CONTENT) };
    let wamid: String = last.try_get("wamid")?;
    state
        .graph
        .mark_read(&conv.phone_number_id, &wamid, typing)
        .await
        .map_err(|e| AppError::new(ErrorCode::Upstream, e.describe()))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn mark_read(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    read_receipt(&state, &caller, id, false).await
}

pub async fn typing(State(state): State<AppState>, caller: AgentCaller, Path(id): Path<i64>) -> AppResult<StatusCode> {
    read_receipt(&state, &caller, id, true).await
}

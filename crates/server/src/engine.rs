//! The handoff state machine and what drives it.
//!
//! ```text
//! automation ──handoff──▶ waiting ──assign──▶ assigned ──resolve──▶ automation
//! ```
//! Inbound messages are stored by the webhook (exactly once, before the 200) and
//! processed afterwards by the automation worker, which claims each message once.
//! While a person owns a conversation (`waiting` or `assigned`) automation says nothing.

use handoff_protocol::*;
use handoff_whatsapp::webhook::ContactInfo;
use handoff_whatsapp::{InboundMessage, StatusUpdate};
use sqlx::{AnyConnection, Executor, Row};

use crate::bot::BotAction;
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::hooks;
use crate::store;
use crate::triggers::Fired;
use crate::AppState;
use serde_json::json;

/// A business number and the workspace that owns it.
#[derive(Debug, Clone, Copy)]
pub struct Channel {
    pub id: i64,
    pub workspace_id: i64,
}

/// Finds the channel of `phone_number_id`. An unknown number is registered to the
/// workspace when there is only one (the embedded single-workspace case); with
/// several, nobody can tell whose it is: `None`, and the caller keeps the webhook in
/// `unrouted_webhooks` until an admin registers the number (`POST /v1/numbers`).
pub async fn channel_for(conn: &mut AnyConnection, phone_number_id: &str, display: &str) -> AppResult<Option<Channel>> {
    let find = "SELECT id, workspace_id FROM channels WHERE phone_number_id = $1";
    if let Some(r) = sqlx::query(find).bind(phone_number_id).fetch_optional(&mut *conn).await? {
        return Ok(Some(Channel { id: r.try_get("id")?, workspace_id: r.try_get("workspace_id")? }));
    }
    let workspaces = sqlx::query("SELECT id FROM workspaces ORDER BY id LIMIT 2").fetch_all(&mut *conn).await?;
    let [only] = workspaces.as_slice() else {
        tracing::warn!(phone_number_id, "webhook for a number no workspace registered: kept until one does");
        return Ok(None);
    };
    let ws: i64 = only.try_get("id")?;
    tracing::warn!(phone_number_id, "webhook for an unregistered number: registering it to workspace {ws}");
    sqlx::query(
        "INSERT INTO channels (workspace_id, phone_number_id, display_phone_number, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (phone_number_id) DO NOTHING",
    )
    .bind(ws)
    .bind(phone_number_id)
    .bind(display)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    let r = sqlx::query(find).bind(phone_number_id).fetch_one(&mut *conn).await?;
    Ok(Some(Channel { id: r.try_get("id")?, workspace_id: r.try_get("workspace_id")? }))
}

/// Keeps a webhook about an unregistered number for replay at registration.
pub async fn keep_unrouted(conn: &mut AnyConnection, phone_number_id: &str, body: &str) -> AppResult<()> {
    sqlx::query("INSERT INTO unrouted_webhooks (phone_number_id, body, received_at) VALUES ($1, $2, $3)")
        .bind(phone_number_id)
        .bind(body)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Finds or creates the contact for a sender, keyed on the BSUID when present and
/// linked to the phone number when both are known.
pub async fn contact_for(
    conn: &mut AnyConnection,
    workspace_id: i64,
    wa_id: Option<&str>,
    bsuid: Option<&str>,
    name: Option<&str>,
) -> AppResult<i64> {
    let now = now_ms();
    let find = "SELECT id, wa_id, bsuid, name FROM contacts WHERE workspace_id = $1 AND (bsuid = $2 OR wa_id = $3) \
                ORDER BY id LIMIT 1";
    for _ in 0..2 {
        if let Some(r) = sqlx::query(find).bind(workspace_id).bind(bsuid).bind(wa_id).fetch_optional(&mut *conn).await?
        {
            let id: i64 = r.try_get("id")?;
            let (old_wa, old_bsuid, old_name): (Option<String>, Option<String>, Option<String>) =
                (r.try_get("wa_id")?, r.try_get("bsuid")?, r.try_get("name")?);
            let new_wa = old_wa.or(wa_id.map(str::to_owned));
            let new_bsuid = old_bsuid.or(bsuid.map(str::to_owned));
            let new_name = name.map(str::to_owned).or(old_name);
            sqlx::query("UPDATE contacts SET wa_id = $1, bsuid = $2, name = $3, updated_at = $4 WHERE id = $5")
                .bind(new_wa)
                .bind(new_bsuid)
                .bind(new_name)
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            return Ok(id);
        }
        let inserted = sqlx::query(
            "INSERT INTO contacts (workspace_id, wa_id, bsuid, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(workspace_id)
        .bind(wa_id)
        .bind(bsuid)
        .bind(name)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = inserted {
            return Ok(r.try_get("id")?);
        }
    }
    Err(AppError::Internal("contact could not be created".into()))
}

pub async fn conversation_for(conn: &mut AnyConnection, channel: Channel, contact_id: i64) -> AppResult<i64> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO conversations (workspace_id, contact_id, channel_id, state, priority, created_at, updated_at) \
         VALUES ($1, $2, $3, 'automation', 'normal', $4, $4) ON CONFLICT (contact_id, channel_id) DO NOTHING",
    )
    .bind(channel.workspace_id)
    .bind(contact_id)
    .bind(channel.id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let r = sqlx::query("SELECT id FROM conversations WHERE contact_id = $1 AND channel_id = $2")
        .bind(contact_id)
        .bind(channel.id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(r.try_get("id")?)
}

/// The columns of an inbound message row, derived from what Meta sent.
pub struct InboundRow {
    pub sent_at: i64,
    pub kind: String,
    pub text: Option<String>,
    pub raw: String,
}

impl InboundRow {
    pub fn of(msg: &InboundMessage, now: i64) -> AppResult<InboundRow> {
        Ok(InboundRow {
            sent_at: inbound_sent_at(msg.timestamp, now),
            kind: if msg.kind.is_empty() { "unknown".to_owned() } else { msg.kind.clone() },
            text: msg.summary(),
            raw: serde_json::to_string(msg).map_err(|e| AppError::Internal(e.to_string()))?,
        })
    }

    /// What the conversation list shows for it.
    pub fn preview(&self) -> String {
        self.text.clone().unwrap_or_else(|| format!("[{}]", self.kind))
    }
}

/// The sender of an inbound message: phone number (`wa_id`), business-scoped user id,
/// profile name. `None` when the message names no sender.
pub fn sender_of<'a>(
    contacts: &'a [ContactInfo],
    msg: &'a InboundMessage,
) -> Option<(Option<&'a str>, Option<&'a str>, Option<&'a str>)> {
    let info = contacts.iter().find(|c| {
        (c.wa_id.is_some() && c.wa_id.as_deref() == msg.from.as_deref())
            || (c.user_id.is_some() && c.user_id.as_deref() == msg.from_user_id.as_deref())
    });
    let wa_id = msg.from.as_deref().or(info.and_then(|c| c.wa_id.as_deref()));
    let bsuid = msg.from_user_id.as_deref().or(info.and_then(|c| c.user_id.as_deref()));
    if wa_id.is_none() && bsuid.is_none() {
        return None;
    }
    let name = info.and_then(|c| c.profile.as_ref()).and_then(|p| p.name.as_deref());
    Some((wa_id, bsuid, name))
}

/// A `system` message saying the customer changed numbers (`user_changed_number`, or
/// `customer_changed_number` with `new_wa_id`): the contact keeps its history and
/// conversations and is reached at the new number from now on; the old number is kept
/// in `attributes.previous_wa_ids`. When the new number already has a contact of its
/// own, the two are linked (`attributes.linked_contact_ids`) rather than merged.
pub async fn link_number_change(conn: &mut AnyConnection, contact_id: i64, msg: &InboundMessage) -> AppResult<()> {
    let Some(system) = msg.extra.get("system") else {
        return Ok(());
    };
    let kind = system.get("type").and_then(|v| v.as_str()).unwrap_or_default();
    if !matches!(kind, "user_changed_number" | "customer_changed_number") {
        return Ok(());
    }
    let Some(new_wa) = system.get("new_wa_id").or_else(|| system.get("wa_id")).and_then(|v| v.as_str()) else {
        return Ok(());
    };
    let r = sqlx::query("SELECT workspace_id, wa_id, attributes FROM contacts WHERE id = $1")
        .bind(contact_id)
        .fetch_one(&mut *conn)
        .await?;
    let (ws, old_wa): (i64, Option<String>) = (r.try_get("workspace_id")?, r.try_get("wa_id")?);
    if old_wa.as_deref() == Some(new_wa) {
        return Ok(()); // already applied (a redelivery)
    }
    let mut attrs = store::json_object(r.try_get("attributes")?)?;
    let other: Option<i64> = sqlx::query("SELECT id FROM contacts WHERE workspace_id = $1 AND wa_id = $2 AND id <> $3")
        .bind(ws)
        .bind(new_wa)
        .bind(contact_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
    let push = |attrs: &mut serde_json::Map<String, serde_json::Value>, key: &str, v: serde_json::Value| {
        let list = attrs.entry(key.to_owned()).or_insert_with(|| json!([]));
        if let Some(a) = list.as_array_mut() {
            if !a.contains(&v) {
                a.push(v);
            }
        }
    };
    if let Some(old) = &old_wa {
        push(&mut attrs, "previous_wa_ids", json!(old));
    }
    let new_wa_col = match other {
        Some(o) => {
            push(&mut attrs, "linked_contact_ids", json!(o));
            old_wa.clone()
        }
        None => Some(new_wa.to_owned()),
    };
    sqlx::query("UPDATE contacts SET wa_id = $1, attributes = $2, updated_at = $3 WHERE id = $4")
        .bind(new_wa_col)
        .bind(serde_json::Value::Object(attrs).to_string())
        .bind(now_ms())
        .bind(contact_id)
        .execute(&mut *conn)
        .await?;
    tracing::info!(contact = contact_id, linked = ?other, "customer changed numbers: identity linked");
    Ok(())
}

/// WhatsApp's customer service window: 24 hours from the customer's last message.
pub const WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Whether free-form messages may be sent in this conversation now.
pub fn window_open(conv: &Conversation, now_ms: i64) -> bool {
    conv.last_inbound_at.is_some_and(|t| now_ms - t < WINDOW_MS)
}

/// WhatsApp stamps messages in whole seconds. Within that second our arrival time is
/// the better clock (a customer's reply to a bot message in the same second must sort
/// after it); a late or early delivery keeps WhatsApp's second.
pub fn inbound_sent_at(wa_seconds: Option<i64>, now_ms: i64) -> i64 {
    match wa_seconds {
        Some(s) => now_ms.clamp(s * 1000, s * 1000 + 999),
        None => now_ms,
    }
}

/// Moves a conversation's "last message" forward for a message we send (never back);
/// inbound messages do the same in bulk in `ingest::store_batch`.
async fn touch_conversation(conn: &mut AnyConnection, id: i64, preview: &str, at: i64) -> AppResult<()> {
    let sql = "UPDATE conversations SET \
           last_message_preview = CASE WHEN last_message_at IS NULL OR last_message_at <= $2 THEN $1 ELSE last_message_preview END, \
           last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at <= $2 THEN $2 ELSE last_message_at END, \
           updated_at = $3 WHERE id = $4";
    sqlx::query(sql).bind(preview).bind(at).bind(now_ms()).bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// Applies a delivery status to one of our messages, forward only. Returns the
/// workspace to poke when something changed.
pub async fn apply_status(state: &AppState, conn: &mut AnyConnection, st: &StatusUpdate) -> AppResult<Option<i64>> {
    let new = match st.status.as_str() {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" | "played" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        other => {
            tracing::info!(status = other, "status kept in the raw webhook log only");
            return Ok(None);
        }
    };
    let select = "SELECT m.id, m.status, m.wamid, m.conversation_id, c.workspace_id FROM messages m \
                  JOIN conversations c ON c.id = m.conversation_id";
    let mut row = sqlx::query(&format!("{select} WHERE m.wamid = $1")).bind(&st.id).fetch_optional(&mut *conn).await?;
    if row.is_none() {
        // Our callback key names the message even before its send returned a wamid.
        if let Some(id) = st.biz_opaque_callback_data.as_deref().and_then(crate::sender::parse_callback_key) {
            row = sqlx::query(&format!("{select} WHERE m.id = $1 AND m.direction = 'outbound' AND m.wamid IS NULL"))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        }
    }
    let Some(row) = row else {
        // Keep it: applied when the message's wamid becomes known.
        tracing::info!(wamid = %st.id, status = %st.status, "status for a message we do not know yet: kept");
        sqlx::query(
            "INSERT INTO pending_statuses (wamid, callback, status, error, received_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&st.id)
        .bind(st.biz_opaque_callback_data.as_deref())
        .bind(new.as_str())
        .bind(st.error_text())
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
        return Ok(None);
    };
    if row.try_get::<Option<String>, _>("wamid")?.is_none() {
        let id: i64 = row.try_get("id")?;
        sqlx::query("UPDATE messages SET wamid = $1 WHERE id = $2").bind(&st.id).bind(id).execute(&mut *conn).await?;
    }
    let current = DeliveryStatus::parse(&row.try_get::<String, _>("status")?).unwrap_or(DeliveryStatus::Queued);
    if new.rank() <= current.rank() {
        return Ok(None);
    }
    let (id, conversation_id, workspace_id): (i64, i64, i64) =
        (row.try_get("id")?, row.try_get("conversation_id")?, row.try_get("workspace_id")?);
    sqlx::query("UPDATE messages SET status = $1, error = COALESCE($2, error) WHERE id = $3")
        .bind(new.as_str())
        .bind(st.error_text())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    state.db.record_change(conn, workspace_id, "message", id, conversation_id).await?;
    let data = json!({ "conversation_id": conversation_id, "message_id": id, "wamid": st.id, "status": new, "error": st.error_text() });
    hooks::emit(conn, workspace_id, Some(conversation_id), "message.status", data).await?;
    Ok(Some(workspace_id))
}

/// Applies statuses that arrived before message `id` had its wamid: the furthest one
/// wins, as if they had come in order.
pub async fn apply_pending_statuses(conn: &mut AnyConnection, id: i64, wamid: &str) -> AppResult<()> {
    let rows = sqlx::query("SELECT status, error FROM pending_statuses WHERE wamid = $1 OR callback = $2")
        .bind(wamid)
        .bind(crate::sender::callback_key(id))
        .fetch_all(&mut *conn)
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let current: String = sqlx::query("SELECT status FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("status")?;
    let mut best = DeliveryStatus::parse(&current).unwrap_or(DeliveryStatus::Queued);
    let mut error = None;
    for r in &rows {
        if let Some(s) = DeliveryStatus::parse(&r.try_get::<String, _>("status")?) {
            if s.rank() > best.rank() {
                best = s;
                error = r.try_get::<Option<String>, _>("error")?;
            }
        }
    }
    sqlx::query("UPDATE messages SET status = $1, error = COALESCE($2, error) WHERE id = $3")
        .bind(best.as_str())
        .bind(error)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM pending_statuses WHERE wamid = $1 OR callback = $2")
        .bind(wamid)
        .bind(crate::sender::callback_key(id))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes an outbound message to the send queue (the sender worker delivers it).
pub async fn enqueue_outbound(
    state: &AppState,
    conn: &mut AnyConnection,
    conversation: &Conversation,
    author: Author,
    agent_id: Option<AgentId>,
    client_id: Option<&str>,
    text: &str,
) -> AppResult<MessageId> {
    enqueue_outbound_of_kind(state, conn, conversation, (author, agent_id, client_id), "text", text, None).await
}

/// Writes any outbound message to the send queue: `kind` is Meta's type, `text` what
/// the thread shows, `payload` the type's Graph API object (a template) when not text.
pub async fn enqueue_outbound_of_kind(
    state: &AppState,
    conn: &mut AnyConnection,
    conversation: &Conversation,
    who: (Author, Option<AgentId>, Option<&str>),
    kind: &str,
    text: &str,
    payload: Option<&serde_json::Value>,
) -> AppResult<MessageId> {
    enqueue_outbound_full(state, conn, conversation, who, kind, text, payload, None).await
}

/// [`enqueue_outbound_of_kind`] with `raw`: the message as the thread shows it (see
/// [`crate::outbound`]).
#[allow(clippy::too_many_arguments)]
pub async fn enqueue_outbound_full(
    state: &AppState,
    conn: &mut AnyConnection,
    conversation: &Conversation,
    who: (Author, Option<AgentId>, Option<&str>),
    kind: &str,
    text: &str,
    payload: Option<&serde_json::Value>,
    raw: Option<&serde_json::Value>,
) -> AppResult<MessageId> {
    let (author, agent_id, client_id) = who;
    // A reply sorts after everything it answers, whatever the clocks say.
    let latest: Option<i64> = sqlx::query("SELECT MAX(sent_at) AS latest FROM messages WHERE conversation_id = $1")
        .bind(conversation.id.0)
        .fetch_one(&mut *conn)
        .await?
        .try_get("latest")?;
    let now = now_ms().max(latest.map_or(0, |l| l + 1));
    let row = sqlx::query(
        "INSERT INTO messages (conversation_id, client_id, direction, author, agent_id, kind, text, status, sent_at, created_at, processed_at, payload, raw) \
         VALUES ($1, $2, 'outbound', $3, $4, $5, $6, 'queued', $7, $7, $7, $8, $9) RETURNING id",
    )
    .bind(conversation.id.0)
    .bind(client_id)
    .bind(author.as_str())
    .bind(agent_id.map(|a| a.0))
    .bind(kind)
    .bind(text)
    .bind(now)
    .bind(payload.map(|p| p.to_string()))
    .bind(raw.map(|r| r.to_string()))
    .fetch_one(&mut *conn)
    .await?;
    let id: i64 = row.try_get("id")?;
    touch_conversation(conn, conversation.id.0, text, now).await?;
    if let (Author::Agent, Some(h)) = (author, conversation.active_handoff_id) {
        crate::sla::agent_replied(state, conn, h).await?;
    }
    let ws = conversation.workspace_id.0;
    state.db.record_change(conn, ws, "message", id, conversation.id.0).await?;
    state.db.record_change(conn, ws, "conversation", conversation.id.0, conversation.id.0).await?;
    let message = store::message(conn, MessageId(id)).await?;
    hooks::emit(
        conn,
        ws,
        Some(conversation.id.0),
        "message.created",
        json!({ "conversation_id": conversation.id, "message": message }),
    )
    .await?;
    Ok(MessageId(id))
}

/// Hands a conversation from automation to people: records the handoff, pauses
/// automation, tells the customer, and assigns an online agent if there is one.
pub async fn request_handoff(
    state: &AppState,
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    trigger: (HandoffTrigger, Option<&str>),
    requested_by: &str,
    req: &HandoffRequest,
    tell_customer: bool,
) -> AppResult<Handoff> {
    let (trigger, trigger_detail) = trigger;
    let conv = store::conversation(conn, conversation_id).await?;
    if conv.state != ConversationState::Automation {
        return Err(AppError::new(
            ErrorCode::AlreadyEscalated,
            format!("conversation {} is already with people ({})", conv.id, conv.state),
        ));
    }
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "a handoff needs a reason"));
    }
    let ws = conv.workspace_id.0;
    let mut priority = req.priority.unwrap_or(Priority::Normal);
    let mut routed_by = None;
    let team_id = match req.team_id {
        Some(t) => {
            let ok = sqlx::query("SELECT id FROM teams WHERE id = $1 AND workspace_id = $2")
                .bind(t.0)
                .bind(ws)
                .fetch_optional(&mut *conn)
                .await?;
            if ok.is_none() {
                return Err(AppError::new(ErrorCode::InvalidInput, format!("team {t} does not exist")));
            }
            Some(t.0)
        }
        None => {
            let route = crate::routing::route(
                conn,
                ws,
                &crate::routing::RouteInput {
                    trigger,
                    skill: req.skill.as_deref(),
                    priority,
                    phone_number_id: &conv.phone_number_id,
                    contact_attributes: &conv.contact.attributes,
                    context: &req.context,
                },
            )
            .await?;
            priority = route.priority.unwrap_or(priority);
            // "default" marks a handoff routed without a rule: rule changes re-route it.
            routed_by = Some(route.rule.unwrap_or_else(|| crate::routing::DEFAULT_ROUTE.to_owned()));
            route.team_id
        }
    };
    if let Some(c) = req.confidence.filter(|c| !(0.0..=1.0).contains(c)) {
        return Err(AppError::new(ErrorCode::InvalidInput, format!("confidence must be between 0 and 1, not {c}")));
    }
    if let Some(s) = req.sentiment.filter(|s| !(-1.0..=1.0).contains(s)) {
        return Err(AppError::new(ErrorCode::InvalidInput, format!("sentiment must be between -1 and 1, not {s}")));
    }
    let now = now_ms();
    let workflow = req.workflow.clone().unwrap_or_default();
    let context = (!req.context.is_empty())
        .then(|| serde_json::to_string(&req.context))
        .transpose()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let row = sqlx::query(
        "INSERT INTO handoffs (workspace_id, conversation_id, trigger, status, reason, priority, summary, requested_by, team_id, requested_at, \
           trigger_detail, confidence, sentiment, workflow_id, execution_id, node_id, requested_skill, context, routed_by) \
         VALUES ($1, $2, $3, 'waiting', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
    )
    .bind(ws)
    .bind(conv.id.0)
    .bind(trigger.as_str())
    .bind(reason)
    .bind(priority.as_str())
    .bind(req.summary.as_deref().map(str::trim).filter(|s| !s.is_empty()))
    .bind(requested_by)
    .bind(team_id)
    .bind(now)
    .bind(trigger_detail)
    .bind(req.confidence)
    .bind(req.sentiment)
    .bind(workflow.workflow_id)
    .bind(workflow.execution_id)
    .bind(workflow.node_id)
    .bind(req.skill.as_deref())
    .bind(context)
    .bind(routed_by.as_deref())
    .fetch_one(&mut *conn)
    .await?;
    let handoff_id: i64 = row.try_get("id")?;
    sqlx::query(
        "UPDATE conversations SET state = 'waiting', priority = $1, team_id = $2, active_handoff_id = $3, assignee_id = NULL, updated_at = $4 WHERE id = $5",
    )
    .bind(priority.as_str())
    .bind(team_id)
    .bind(handoff_id)
    .bind(now)
    .bind(conv.id.0)
    .execute(&mut *conn)
    .await?;
    state.db.record_change(conn, ws, "handoff", handoff_id, conv.id.0).await?;
    state.db.record_change(conn, ws, "conversation", conv.id.0, conv.id.0).await?;
    let handoff = store::handoff(conn, HandoffId(handoff_id)).await?;
    crate::sla::start(state, conn, &handoff, ws).await?;
    let handoff = store::handoff(conn, HandoffId(handoff_id)).await?;
    crate::audit::record_as(
        conn,
        ws,
        &format!("requester:{requested_by}"),
        requested_by,
        "conversation.handed_off",
        "conversation",
        conv.id.0,
        json!({ "handoff_id": handoff_id, "trigger": trigger, "team_id": team_id, "priority": priority, "routed_by": routed_by }),
    )
    .await?;
    let data = json!({ "conversation_id": conv.id, "contact": conv.contact, "handoff": handoff });
    hooks::emit(conn, ws, Some(conv.id.0), "workflow.execution.handoff", data.clone()).await?;
    hooks::emit(conn, ws, Some(conv.id.0), "conversation.queued", data).await?;
    if let Some(exec) = handoff.workflow.as_ref().and_then(|w| w.execution_id.as_deref()) {
        let wf = handoff.workflow.as_ref().and_then(|w| w.workflow_id.as_deref());
        crate::automation::upsert_execution(conn, ws, exec, wf, Some(conv.id.0), "handoff", None).await?;
    }
    // Tell the customer: a person now, or when one will be free.
    let assigned = crate::routing::try_assign(state, conn, HandoffId(handoff_id), None).await?;
    if tell_customer {
        let settings = store::workspace_handoff_settings(conn, ws).await?;
        let text = match assigned {
            Some(_) => settings.assigned_message.clone(),
            None => settings.acknowledgement(now, expected_wait(conn, ws).await?),
        };
        enqueue_outbound(state, conn, &conv, Author::Bot, None, None, &text).await?;
    }
    tracing::info!(conversation = conv.id.0, handoff = handoff_id, %trigger, "handed off");
    store::handoff(conn, HandoffId(handoff_id)).await
}

/// The median time to assignment of the workspace's last 20 assigned handoffs (at least
/// 3 of them), as the expected wait for the next one.
pub async fn expected_wait(conn: &mut AnyConnection, workspace_id: i64) -> AppResult<Option<i64>> {
    let rows = sqlx::query(
        "SELECT assigned_at - requested_at AS waited FROM handoffs WHERE workspace_id = $1 AND assigned_at IS NOT NULL \
         ORDER BY id DESC LIMIT 20",
    )
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut waits: Vec<i64> = rows.iter().map(|r| r.try_get("waited")).collect::<Result<_, _>>()?;
    if waits.len() < 3 {
        return Ok(None);
    }
    waits.sort_unstable();
    Ok(Some(waits[waits.len() / 2]))
}

/// Returns waiting conversations to automation when the workspace's queue timeout has
/// passed, telling the customer. Timers live in the database, so they survive restarts.
pub async fn expire_waiting(state: &AppState) -> AppResult<usize> {
    let rows = {
        let mut conn = state.db.pool.acquire().await?;
        sqlx::query("SELECT id, workspace_id, requested_at FROM handoffs WHERE status = 'waiting' ORDER BY id")
            .fetch_all(&mut *conn)
            .await?
    };
    let now = now_ms();
    let mut settings: std::collections::HashMap<i64, crate::handoff_settings::HandoffSettings> = Default::default();
    let mut expired = 0;
    for r in rows {
        let (id, ws, requested_at): (i64, i64, i64) =
            (r.try_get("id")?, r.try_get("workspace_id")?, r.try_get("requested_at")?);
        let s = match settings.entry(ws) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let mut conn = state.db.pool.acquire().await?;
                e.insert(store::workspace_handoff_settings(&mut conn, ws).await?)
            }
        };
        let Some(timeout) = s.queue_timeout_secs else { continue };
        if now - requested_at < timeout as i64 * 1000 {
            continue;
        }
        let mut tx = state.db.begin_write().await?;
        let note = format!("Nobody was free within {timeout} s: returned to automation");
        let n = sqlx::query(
            "UPDATE handoffs SET status = 'timed_out', resolved_at = $1, returned_at = $1, resolution_note = $2 WHERE id = $3 AND status = 'waiting'",
        )
        .bind(now)
        .bind(&note)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            continue; // assigned meanwhile
        }
        crate::sla::stop_all(state, &mut tx, HandoffId(id)).await?;
        let h = store::handoff(&mut tx, HandoffId(id)).await?;
        let conv =
            return_to_automation(state, &mut tx, &h, json!({ "reason": "queue_timeout", "resolved_by": null })).await?;
        enqueue_outbound(state, &mut tx, &conv, Author::Bot, None, None, &s.timeout_message).await?;
        tx.commit().await?;
        tracing::info!(conversation = conv.id.0, handoff = id, "queue timeout: back to automation");
        state.changed(ws).await;
        expired += 1;
    }
    Ok(expired)
}

/// The person is done: the handoff is resolved and the conversation returns to
/// automation.
pub async fn resolve(
    state: &AppState,
    agent: &Agent,
    conversation_id: ConversationId,
    note: Option<&str>,
) -> AppResult<()> {
    let mut tx = state.db.begin_write().await?;
    let conv = store::conversation(&mut tx, conversation_id).await?;
    if conv.workspace_id != agent.workspace_id {
        return Err(AppError::not_found("conversation"));
    }
    let Some(handoff_id) = conv.active_handoff_id else {
        return Err(AppError::new(ErrorCode::NotEscalated, "this conversation is with automation; nothing to resolve"));
    };
    let team = store::handoff(&mut tx, handoff_id).await?.team_id;
    let may = conv.assignee_id == Some(agent.id) && agent.role != Role::Viewer
        || crate::routing::manages(&mut tx, agent, team).await?;
    if !may {
        return Err(AppError::new(
            ErrorCode::NotAssignee,
            "only the assigned agent or a manager can resolve this conversation",
        ));
    }
    let now = now_ms();
    sqlx::query("UPDATE handoffs SET status = 'resolved', resolved_at = $1, returned_at = $1, resolution_note = $2 WHERE id = $3")
        .bind(now)
        .bind(note.map(str::trim).filter(|n| !n.is_empty()))
        .bind(handoff_id.0)
        .execute(&mut *tx)
        .await?;
    crate::sla::stop_all(state, &mut tx, handoff_id).await?;
    let handoff = store::handoff(&mut tx, handoff_id).await?;
    let resolved_by = json!({ "id": agent.id, "name": agent.name });
    let data = json!({ "conversation_id": conv.id, "handoff": handoff, "resolved_by": resolved_by });
    hooks::emit(&mut tx, conv.workspace_id.0, Some(conv.id.0), "conversation.resolved", data).await?;
    return_to_automation(state, &mut tx, &handoff, json!({ "reason": "resolved", "resolved_by": resolved_by })).await?;
    crate::mutations::seal(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(conversation = conv.id.0, "resolved: back to automation");
    state.changed(conv.workspace_id.0).await;
    // The agent has room again.
    crate::routing::drain_queue(state, conv.workspace_id.0).await?;
    Ok(())
}

/// Gives a conversation back to automation after `handoff` ended (resolved or timed
/// out): state, change log, workflow execution, and `conversation.returned_to_automation`
/// with the transcript since the handoff, so automation can pick up the thread. `extra`
/// goes into the event (`reason`, `resolved_by`).
async fn return_to_automation(
    state: &AppState,
    conn: &mut AnyConnection,
    handoff: &Handoff,
    extra: serde_json::Value,
) -> AppResult<Conversation> {
    let id = handoff.conversation_id;
    sqlx::query(
        "UPDATE conversations SET state = 'automation', assignee_id = NULL, active_handoff_id = NULL, bot_fallbacks = 0, updated_at = $1 WHERE id = $2",
    )
    .bind(now_ms())
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    let conv = store::conversation(conn, id).await?;
    let ws = conv.workspace_id.0;
    state.db.record_change(conn, ws, "handoff", handoff.id.0, id.0).await?;
    state.db.record_change(conn, ws, "conversation", id.0, id.0).await?;
    if let Some(exec) = handoff.workflow.as_ref().and_then(|w| w.execution_id.as_deref()) {
        let status = if handoff.status == HandoffStatus::Resolved { "resolved" } else { "active" };
        crate::automation::upsert_execution(conn, ws, exec, None, Some(id.0), status, None).await?;
    }
    let transcript: Vec<Message> = store::messages_of(conn, &[id.0])
        .await?
        .into_iter()
        .filter(|m| m.sent_at >= handoff.requested_at && m.direction != Direction::Note)
        .collect();
    let mut data = json!({ "conversation_id": id, "contact": conv.contact, "handoff_id": handoff.id,
        "resolution_note": handoff.resolution_note, "transcript": transcript });
    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    hooks::emit(conn, ws, Some(id.0), "conversation.returned_to_automation", data).await?;
    Ok(conv)
}

/// Hands off because a trigger fired.
pub async fn handoff_fired(
    state: &AppState,
    conn: &mut AnyConnection,
    conv: &Conversation,
    fired: Fired,
    summary: Option<String>,
) -> AppResult<Handoff> {
    let req = HandoffRequest {
        reason: fired.reason,
        priority: Some(fired.priority),
        summary,
        confidence: fired.confidence,
        sentiment: fired.sentiment,
        ..Default::default()
    };
    request_handoff(state, conn, conv.id, (fired.trigger, Some(&fired.detail)), "bot:rules", &req, true).await
}

/// Processes stored inbound messages that automation has not seen yet, oldest first,
/// until none is left; then waits to be woken (or polls, for other replicas' work).
pub async fn run_automation(state: AppState) {
    loop {
        crate::ingest::make_way(&state).await;
        if let Err(e) = expire_waiting(&state).await {
            tracing::error!(error = %e, "queue timeout check failed");
        }
        match process_pending(&state).await {
            Ok(0) => {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(2), state.automation_wake.notified()).await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "automation worker failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

/// Messages automation handles per pass.
const AUTOMATION_BATCH: usize = 100;
/// How far ahead it looks for customers asking for a person.
const AUTOMATION_WINDOW: i64 = 1000;

/// The next messages for automation: in arrival order, except that conversations where
/// the customer asks for a person (a handoff trigger fires on the text) go first, all
/// their waiting messages in order. Under a backlog an escalation does not queue
/// behind other customers' FAQ answers.
pub async fn next_for_automation(state: &AppState) -> AppResult<Vec<i64>> {
    let mut conn = state.db.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT m.id, m.conversation_id, m.text, c.workspace_id FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.processed_at IS NULL AND m.direction = 'inbound' ORDER BY m.id LIMIT $1",
    )
    .bind(AUTOMATION_WINDOW)
    .fetch_all(&mut *conn)
    .await?;
    let mut pending = Vec::with_capacity(rows.len());
    for r in &rows {
        let (id, conv, ws): (i64, i64, i64) =
            (r.try_get("id")?, r.try_get("conversation_id")?, r.try_get("workspace_id")?);
        pending.push((id, conv, ws, r.try_get::<Option<String>, _>("text")?));
    }
    if pending.len() <= AUTOMATION_BATCH {
        return Ok(pending.into_iter().map(|p| p.0).collect());
    }
    let mut triggers = std::collections::HashMap::new();
    let mut urgent = std::collections::BTreeSet::new();
    let none = serde_json::Map::new();
    for (_, conv, ws, text) in &pending {
        let Some(text) = text.as_deref() else { continue };
        if !triggers.contains_key(ws) {
            triggers.insert(*ws, store::workspace_triggers(&mut conn, *ws).await?);
        }
        if triggers[ws].on_customer_message(Some(text), &none).is_some() {
            urgent.insert(*conv);
        }
    }
    let (first, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|p| urgent.contains(&p.1));
    Ok(first.into_iter().chain(rest).take(AUTOMATION_BATCH).map(|p| p.0).collect())
}

async fn process_pending(state: &AppState) -> AppResult<usize> {
    let ids = next_for_automation(state).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    // A few messages per transaction (one fsync), each in its own savepoint: a message
    // that fails is rolled back alone and tried again later. Small groups keep the
    // connection free often enough for webhook ingest, which must not wait.
    let mut touched = std::collections::BTreeSet::new();
    let mut failed = None;
    for group in ids.chunks(AUTOMATION_GROUP) {
        crate::ingest::make_way(state).await;
        process_group(state, group, &mut touched, &mut failed).await?;
        // Poke after each commit: a handoff in this group reaches the apps now, not
        // after the rest of the batch.
        for ws in std::mem::take(&mut touched) {
            state.changed(ws).await;
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(ids.len()),
    }
}

/// The fast path for escalations: of the messages just stored (id, workspace, text),
/// those whose text fires a handoff trigger are processed at once (the same
/// `process_inbound` as the automation worker, which claims each message once), instead
/// of waiting behind the bot's backlog. Anything that fails here is left to the worker.
pub async fn escalate_now(state: &AppState, texts: Vec<(i64, i64, String)>) -> AppResult<usize> {
    if texts.is_empty() || !state.config.escalate_at_ingest {
        return Ok(0);
    }
    let none = serde_json::Map::new();
    let mut triggers = std::collections::HashMap::new();
    let mut urgent = Vec::new();
    {
        // Read-only: the writer connection stays free for the next webhook batch.
        let mut conn = state.db.read.acquire().await?;
        for (id, ws, text) in &texts {
            if !triggers.contains_key(ws) {
                triggers.insert(*ws, store::workspace_triggers(&mut conn, *ws).await?);
            }
            if triggers[ws].on_customer_message(Some(text), &none).is_some() {
                urgent.push(*id);
            }
        }
    }
    if urgent.is_empty() {
        return Ok(0);
    }
    let (mut touched, mut failed) = (std::collections::BTreeSet::new(), None);
    process_group(state, &urgent, &mut touched, &mut failed).await?;
    if let Some(e) = failed {
        tracing::warn!(error = %e, "an escalation waits for the automation worker");
    }
    Ok(urgent.len())
}

/// Messages automation handles per transaction.
const AUTOMATION_GROUP: usize = 16;

async fn process_group(
    state: &AppState,
    ids: &[i64],
    touched: &mut std::collections::BTreeSet<i64>,
    failed: &mut Option<AppError>,
) -> AppResult<()> {
    let mut tx = state.db.begin_write().await?;
    for id in ids {
        tx.execute("SAVEPOINT automation").await?;
        match process_inbound(state, &mut tx, *id).await {
            Ok(ws) => {
                tx.execute("RELEASE SAVEPOINT automation").await?;
                touched.extend(ws);
            }
            Err(e) => {
                tx.execute("ROLLBACK TO SAVEPOINT automation").await?;
                tx.execute("RELEASE SAVEPOINT automation").await?;
                tracing::error!(error = %e, message_id = id, "automation could not process a message");
                *failed = Some(e);
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Runs automation for one stored inbound message. Returns the workspace it changed.
async fn process_inbound(state: &AppState, tx: &mut AnyConnection, message_id: i64) -> AppResult<Option<i64>> {
    let claimed = sqlx::query("UPDATE messages SET processed_at = $1 WHERE id = $2 AND processed_at IS NULL")
        .bind(now_ms())
        .bind(message_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if claimed == 0 {
        return Ok(None); // another worker took it
    }
    let msg = store::message(tx, MessageId(message_id)).await?;
    let conv = store::conversation(tx, msg.conversation_id).await?;
    if conv.state != ConversationState::Automation {
        // A person owns the thread: automation stays silent; the SLA clocks listen.
        if msg.direction == Direction::Inbound && msg.author == Author::Customer {
            crate::sla::customer_wrote(state, tx, &conv).await?;
            return Ok(Some(conv.workspace_id.0));
        }
        return Ok(None);
    }
    let data = json!({ "conversation_id": conv.id, "contact": conv.contact, "message": msg });
    hooks::emit(tx, conv.workspace_id.0, Some(conv.id.0), "message.created", data).await?;
    let text = if matches!(msg.kind.as_str(), "text" | "button" | "interactive") { msg.text.as_deref() } else { None };
    let triggers = store::workspace_triggers(tx, conv.workspace_id.0).await?;
    let summary = msg.text.clone().map(|t| format!("Customer wrote: {t}"));
    if let Some(fired) = triggers.on_customer_message(text, &conv.contact.attributes) {
        handoff_fired(state, tx, &conv, fired, summary).await?;
    } else if crate::automation::workspace_automation(tx, conv.workspace_id.0).await?.is_some() {
        // An external automation answers: it got `message.created` above.
    } else {
        let fallbacks: i64 = sqlx::query("SELECT bot_fallbacks FROM conversations WHERE id = $1")
            .bind(conv.id.0)
            .fetch_one(&mut *tx)
            .await?
            .try_get("bot_fallbacks")?;
        let (answer, fallbacks) = match state.bot.decide(text) {
            BotAction::Answer(a) => (a, 0),
            BotAction::Fallback(a) => (a, fallbacks + 1),
        };
        match triggers.on_bot_report(None, fallbacks as u32).filter(|_| fallbacks > 0) {
            Some(fired) => {
                handoff_fired(state, tx, &conv, fired, summary).await?;
            }
            None => {
                sqlx::query("UPDATE conversations SET bot_fallbacks = $1 WHERE id = $2")
                    .bind(fallbacks)
                    .bind(conv.id.0)
                    .execute(&mut *tx)
                    .await?;
                enqueue_outbound(state, tx, &conv, Author::Bot, None, None, &answer).await?;
            }
        }
    }
    Ok(Some(conv.workspace_id.0))
}

#[cfg(test)]
mod tests {
    use super::inbound_sent_at;

    #[test]
    fn inbound_time_is_arrival_within_whatsapps_second() {
        assert_eq!(inbound_sent_at(Some(1_700_000_000), 1_700_000_000_456), 1_700_000_000_456);
        // Late webhook: keeps its own second.
        assert_eq!(inbound_sent_at(Some(1_700_000_000), 1_700_000_090_000), 1_700_000_000_999);
        // Our clock behind Meta's.
        assert_eq!(inbound_sent_at(Some(1_700_000_000), 1_699_999_998_000), 1_700_000_000_000);
        assert_eq!(inbound_sent_at(None, 42), 42);
    }
}

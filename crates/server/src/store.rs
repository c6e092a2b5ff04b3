//! Queries shared by the webhook, the engine and the API, and row → wire-type mapping.
//! Every function takes a connection so callers decide the transaction.

use handoff_protocol::*;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::placeholders;
use crate::error::{AppError, AppResult};

fn parse<T>(value: String, f: fn(&str) -> Option<T>, what: &str) -> AppResult<T> {
    f(&value).ok_or_else(|| AppError::Internal(format!("unknown {what} in database: {value}")))
}

pub const AGENT_COLUMNS: &str = "id, workspace_id, email, name, role, availability";

pub fn agent_from_row(r: &AnyRow) -> AppResult<Agent> {
    Ok(Agent {
        id: AgentId(r.try_get("id")?),
        workspace_id: WorkspaceId(r.try_get("workspace_id")?),
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: parse(r.try_get("role")?, Role::parse, "role")?,
        availability: parse(r.try_get("availability")?, Availability::parse, "availability")?,
    })
}

pub async fn agent_by_id(conn: &mut AnyConnection, id: AgentId) -> AppResult<Agent> {
    let row = sqlx::query(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::not_found("agent"))?;
    agent_from_row(&row)
}

/// The `+` before `s.stopped_at` and `s.due_at` keeps SQLite's planner from reading all
/// running clocks through `sla_clocks_running` for each conversation (140 ms for a sync page
/// of 200) instead of the conversation's own through `sla_clocks_by_handoff`.
pub const CONVERSATION_SELECT: &str = "SELECT c.id, c.workspace_id, c.state, c.priority, c.assignee_id, c.team_id, \
    c.active_handoff_id, c.last_message_preview, c.last_message_at, c.last_inbound_at, c.created_at, c.updated_at, c.labels, \
    (SELECT we.status FROM workflow_executions we WHERE we.conversation_id = c.id ORDER BY we.updated_at DESC, we.id DESC LIMIT 1) AS exec_status, \
    (SELECT MAX(h.resolved_at) FROM handoffs h WHERE h.conversation_id = c.id) AS last_resolved_at, \
    (SELECT s.due_at FROM sla_clocks s WHERE s.handoff_id = c.active_handoff_id AND +s.stopped_at IS NULL \
      AND s.paused_at IS NULL AND +s.due_at IS NOT NULL ORDER BY +s.due_at LIMIT 1) AS sla_due_at, \
    (SELECT s.kind FROM sla_clocks s WHERE s.handoff_id = c.active_handoff_id AND +s.stopped_at IS NULL \
      AND s.paused_at IS NULL AND +s.due_at IS NOT NULL ORDER BY +s.due_at LIMIT 1) AS sla_kind, \
    ch.phone_number_id, k.id AS contact_id, k.wa_id, k.bsuid, k.name AS contact_name, k.attributes AS contact_attributes \
    FROM conversations c JOIN contacts k ON k.id = c.contact_id JOIN channels ch ON ch.id = c.channel_id";

pub fn conversation_from_row(r: &AnyRow) -> AppResult<Conversation> {
    let state = parse(r.try_get("state")?, ConversationState::parse, "state")?;
    let last_message_at: Option<i64> = r.try_get("last_message_at")?;
    let last_resolved_at: Option<i64> = r.try_get("last_resolved_at")?;
    let workflow_status = match (state, r.try_get::<Option<String>, _>("exec_status")?.as_deref()) {
        (ConversationState::Waiting | ConversationState::Assigned, _) => WorkflowStatus::Handoff,
        (_, Some("failed")) => WorkflowStatus::Failed,
        _ if last_resolved_at.is_some_and(|r| last_message_at.is_none_or(|m| m <= r)) => WorkflowStatus::Resolved,
        _ => WorkflowStatus::Active,
    };
    Ok(Conversation {
        workflow_status,
        id: ConversationId(r.try_get("id")?),
        workspace_id: WorkspaceId(r.try_get("workspace_id")?),
        contact: Contact {
            id: ContactId(r.try_get("contact_id")?),
            wa_id: r.try_get("wa_id")?,
            bsuid: r.try_get("bsuid")?,
            name: r.try_get("contact_name")?,
            attributes: json_object(r.try_get("contact_attributes")?)?,
        },
        phone_number_id: r.try_get("phone_number_id")?,
        state,
        priority: parse(r.try_get("priority")?, Priority::parse, "priority")?,
        assignee_id: r.try_get::<Option<i64>, _>("assignee_id")?.map(AgentId),
        team_id: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
        active_handoff_id: r.try_get::<Option<i64>, _>("active_handoff_id")?.map(HandoffId),
        last_message_preview: r.try_get("last_message_preview")?,
        last_message_at,
        last_inbound_at: r.try_get("last_inbound_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        labels: serde_json::from_str(&r.try_get::<String, _>("labels")?).unwrap_or_default(),
        sla_due_at: r.try_get("sla_due_at")?,
        sla_kind: r.try_get("sla_kind")?,
    })
}

pub async fn conversation(conn: &mut AnyConnection, id: ConversationId) -> AppResult<Conversation> {
    let row = sqlx::query(&format!("{CONVERSATION_SELECT} WHERE c.id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::not_found("conversation"))?;
    conversation_from_row(&row)
}

pub async fn conversations_by_ids(conn: &mut AnyConnection, ids: &[i64]) -> AppResult<Vec<Conversation>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!("{CONVERSATION_SELECT} WHERE c.id IN ({}) ORDER BY c.id", placeholders(1, ids.len()));
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    q.fetch_all(&mut *conn).await?.iter().map(conversation_from_row).collect()
}

/// A message row with its media file's state: one join (a subquery per media column cost
/// four index seeks per message, which a sync page of 4,000 messages felt).
pub const MESSAGE_SELECT: &str =
    "SELECT m.id, m.conversation_id, m.wamid, m.client_id, m.direction, m.author, m.agent_id, m.kind, m.text, \
       m.status, m.error, m.sent_at, m.created_at, m.raw, m.payload, md.status AS media_status, \
       md.mime_type AS media_mime, md.size AS media_size, md.error AS media_error \
     FROM messages m LEFT JOIN media md ON md.message_id = m.id";

pub fn message_from_row(r: &AnyRow) -> AppResult<Message> {
    Ok(Message {
        id: MessageId(r.try_get("id")?),
        conversation_id: ConversationId(r.try_get("conversation_id")?),
        wamid: r.try_get("wamid")?,
        client_id: r.try_get("client_id")?,
        direction: parse(r.try_get("direction")?, Direction::parse, "direction")?,
        author: parse(r.try_get("author")?, Author::parse, "author")?,
        agent_id: r.try_get::<Option<i64>, _>("agent_id")?.map(AgentId),
        kind: r.try_get("kind")?,
        text: r.try_get("text")?,
        content: {
            let raw: Option<String> = r.try_get("raw")?;
            let payload: Option<String> = r.try_get("payload")?;
            raw.or(payload).map(RawJson::from_string).transpose().map_err(|e| AppError::Internal(e.to_string()))?
        },
        media: r
            .try_get::<Option<String>, _>("media_status")?
            .map(|status| -> AppResult<MediaState> {
                Ok(MediaState {
                    status,
                    mime_type: r.try_get("media_mime")?,
                    size: r.try_get("media_size")?,
                    error: r.try_get("media_error")?,
                })
            })
            .transpose()?,
        status: parse(r.try_get("status")?, DeliveryStatus::parse, "status")?,
        error: r.try_get("error")?,
        sent_at: r.try_get("sent_at")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn message(conn: &mut AnyConnection, id: MessageId) -> AppResult<Message> {
    let row = sqlx::query(&format!("{MESSAGE_SELECT} WHERE m.id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::not_found("message"))?;
    message_from_row(&row)
}

/// A thread in order: WhatsApp's timestamp, ties by arrival.
pub async fn messages_of(conn: &mut AnyConnection, conversation_ids: &[i64]) -> AppResult<Vec<Message>> {
    if conversation_ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "{MESSAGE_SELECT} WHERE m.conversation_id IN ({}) ORDER BY m.conversation_id, m.sent_at, m.id",
        placeholders(1, conversation_ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in conversation_ids {
        q = q.bind(*id);
    }
    q.fetch_all(&mut *conn).await?.iter().map(message_from_row).collect()
}

pub async fn messages_by_ids(conn: &mut AnyConnection, ids: &[i64]) -> AppResult<Vec<Message>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!("{MESSAGE_SELECT} WHERE m.id IN ({}) ORDER BY m.sent_at, m.id", placeholders(1, ids.len()));
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    q.fetch_all(&mut *conn).await?.iter().map(message_from_row).collect()
}

pub const HANDOFF_COLUMNS: &str = "id, conversation_id, trigger, status, reason, priority, summary, requested_by, \
    team_id, assignee_id, requested_at, assigned_at, resolved_at, resolution_note, trigger_detail, confidence, sentiment, \
    workflow_id, execution_id, node_id, requested_skill, context, first_response_at, returned_at, transfer_note, routed_by";

/// A JSON object column (NULL is an empty object).
pub fn json_object(text: Option<String>) -> AppResult<serde_json::Map<String, serde_json::Value>> {
    match text {
        None => Ok(Default::default()),
        Some(t) => {
            serde_json::from_str(&t).map_err(|e| AppError::Internal(format!("bad JSON object in database: {e}")))
        }
    }
}

pub fn handoff_from_row(r: &AnyRow) -> AppResult<Handoff> {
    Ok(Handoff {
        id: HandoffId(r.try_get("id")?),
        conversation_id: ConversationId(r.try_get("conversation_id")?),
        trigger: parse(r.try_get("trigger")?, HandoffTrigger::parse, "trigger")?,
        status: parse(r.try_get("status")?, HandoffStatus::parse, "handoff status")?,
        reason: r.try_get("reason")?,
        priority: parse(r.try_get("priority")?, Priority::parse, "priority")?,
        summary: r.try_get("summary")?,
        requested_by: r.try_get("requested_by")?,
        team_id: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
        assignee_id: r.try_get::<Option<i64>, _>("assignee_id")?.map(AgentId),
        requested_at: r.try_get("requested_at")?,
        assigned_at: r.try_get("assigned_at")?,
        resolved_at: r.try_get("resolved_at")?,
        resolution_note: r.try_get("resolution_note")?,
        trigger_detail: r.try_get("trigger_detail")?,
        confidence: r.try_get("confidence")?,
        sentiment: r.try_get("sentiment")?,
        workflow: {
            let (w, e, n): (Option<String>, Option<String>, Option<String>) =
                (r.try_get("workflow_id")?, r.try_get("execution_id")?, r.try_get("node_id")?);
            (w.is_some() || e.is_some() || n.is_some()).then_some(WorkflowRef {
                workflow_id: w,
                execution_id: e,
                node_id: n,
            })
        },
        requested_skill: r.try_get("requested_skill")?,
        context: json_object(r.try_get("context")?)?,
        first_response_at: r.try_get("first_response_at")?,
        returned_at: r.try_get("returned_at")?,
        transfer_note: r.try_get("transfer_note")?,
        routed_by: r.try_get("routed_by")?,
        sla: Vec::new(),
    })
}

/// Fills in the SLA clocks of `handoffs`.
async fn with_sla(conn: &mut AnyConnection, mut handoffs: Vec<Handoff>) -> AppResult<Vec<Handoff>> {
    if handoffs.is_empty() {
        return Ok(handoffs);
    }
    let sql = format!(
        "SELECT handoff_id, kind, target_ms, started_at, warn_at, due_at, paused_at, warned_at, breached_at, stopped_at \
         FROM sla_clocks WHERE handoff_id IN ({}) ORDER BY id",
        placeholders(1, handoffs.len())
    );
    let mut q = sqlx::query(&sql);
    for h in &handoffs {
        q = q.bind(h.id.0);
    }
    for r in q.fetch_all(&mut *conn).await? {
        let id: i64 = r.try_get("handoff_id")?;
        let clock = SlaClock {
            kind: parse(r.try_get("kind")?, SlaKind::parse, "SLA clock kind")?,
            target_ms: r.try_get("target_ms")?,
            started_at: r.try_get("started_at")?,
            warn_at: r.try_get("warn_at")?,
            due_at: r.try_get("due_at")?,
            paused: r.try_get::<Option<i64>, _>("paused_at")?.is_some(),
            warned_at: r.try_get("warned_at")?,
            breached_at: r.try_get("breached_at")?,
            stopped_at: r.try_get("stopped_at")?,
        };
        if let Some(h) = handoffs.iter_mut().find(|h| h.id.0 == id) {
            h.sla.push(clock);
        }
    }
    Ok(handoffs)
}

pub async fn handoff(conn: &mut AnyConnection, id: HandoffId) -> AppResult<Handoff> {
    let row = sqlx::query(&format!("SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::not_found("handoff"))?;
    let h = handoff_from_row(&row)?;
    Ok(with_sla(conn, vec![h]).await?.remove(0))
}

pub async fn handoffs_of(conn: &mut AnyConnection, conversation_ids: &[i64]) -> AppResult<Vec<Handoff>> {
    if conversation_ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE conversation_id IN ({}) ORDER BY id",
        placeholders(1, conversation_ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in conversation_ids {
        q = q.bind(*id);
    }
    let handoffs = q.fetch_all(&mut *conn).await?.iter().map(handoff_from_row).collect::<AppResult<Vec<_>>>()?;
    with_sla(conn, handoffs).await
}

pub async fn handoffs_by_ids(conn: &mut AnyConnection, ids: &[i64]) -> AppResult<Vec<Handoff>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql =
        format!("SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE id IN ({}) ORDER BY id", placeholders(1, ids.len()));
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    let handoffs = q.fetch_all(&mut *conn).await?.iter().map(handoff_from_row).collect::<AppResult<Vec<_>>>()?;
    with_sla(conn, handoffs).await
}

/// What an agent sees: conversations they own or owned (their history), their teams'
/// queue (waiting, nobody's yet), and conversations they were brought into by an
/// @mention. Managers, admins and viewers see every escalated conversation of their
/// workspace. Conversations only automation ever touched are in nobody's inbox.
const AGENT_SEES: &str = "(assignee_id = $2 \
     OR (status = 'waiting' AND team_id IN (SELECT team_id FROM team_members WHERE agent_id = $2)) \
     OR conversation_id IN (SELECT conversation_id FROM conversation_watchers WHERE agent_id = $2))";

/// A page of the conversations `agent` may see, by id after `after`.
pub async fn visible_page(conn: &mut AnyConnection, agent: &Agent, after: i64, limit: i64) -> AppResult<Vec<i64>> {
    let who = match agent.role {
        Role::Admin | Role::Manager | Role::Viewer => "$2 = $2",
        Role::Agent => AGENT_SEES,
    };
    let sql = format!(
        "SELECT DISTINCT conversation_id FROM handoffs WHERE workspace_id = $1 AND conversation_id > $3 AND {who} \
         ORDER BY conversation_id LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(agent.workspace_id.0)
        .bind(agent.id.0)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| r.try_get::<i64, _>("conversation_id").map_err(Into::into)).collect()
}

/// Of `conversation_ids`, those `agent` may see (see [`AGENT_SEES`]).
pub async fn visible_conversations(
    conn: &mut AnyConnection,
    agent: &Agent,
    conversation_ids: &[i64],
) -> AppResult<Vec<i64>> {
    if conversation_ids.is_empty() {
        return Ok(vec![]);
    }
    let list = placeholders(3, conversation_ids.len());
    let sql = match agent.role {
        Role::Admin | Role::Manager | Role::Viewer => format!(
            "SELECT DISTINCT conversation_id FROM handoffs WHERE workspace_id = $1 AND $2 = $2 AND conversation_id IN ({list})"
        ),
        Role::Agent => format!(
            "SELECT DISTINCT conversation_id FROM handoffs WHERE workspace_id = $1 AND conversation_id IN ({list}) AND {AGENT_SEES}"
        ),
    };
    let mut q = sqlx::query(&sql).bind(agent.workspace_id.0).bind(agent.id.0);
    for id in conversation_ids {
        q = q.bind(*id);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter().map(|r| r.try_get::<i64, _>("conversation_id").map_err(Into::into)).collect()
}

/// Of `conversation_ids` (which changed), those an agent may have had and may not see
/// any more: ones that passed through their teams' queue or their hands.
pub async fn no_longer_visible(
    conn: &mut AnyConnection,
    agent: &Agent,
    conversation_ids: &[i64],
    visible: &std::collections::BTreeSet<i64>,
) -> AppResult<Vec<i64>> {
    let candidates: Vec<i64> = conversation_ids.iter().copied().filter(|c| !visible.contains(c)).collect();
    if agent.role != Role::Agent || candidates.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT DISTINCT conversation_id FROM handoffs WHERE workspace_id = $1 AND conversation_id IN ({}) \
         AND (assignee_id = $2 OR team_id IN (SELECT team_id FROM team_members WHERE agent_id = $2))",
        placeholders(3, candidates.len())
    );
    let mut q = sqlx::query(&sql).bind(agent.workspace_id.0).bind(agent.id.0);
    for id in &candidates {
        q = q.bind(*id);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter().map(|r| r.try_get::<i64, _>("conversation_id").map_err(Into::into)).collect()
}

/// Every conversation id `agent` may see, newest activity first.
pub async fn inbox_ids(conn: &mut AnyConnection, agent: &Agent) -> AppResult<Vec<i64>> {
    let sql = match agent.role {
        Role::Agent => {
            format!("SELECT DISTINCT conversation_id FROM handoffs WHERE workspace_id = $1 AND {AGENT_SEES}")
        }
        _ => "SELECT DISTINCT conversation_id FROM handoffs WHERE workspace_id = $1 AND $2 = $2".to_owned(),
    };
    let rows = sqlx::query(&sql).bind(agent.workspace_id.0).bind(agent.id.0).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| r.try_get::<i64, _>("conversation_id").map_err(Into::into)).collect()
}

pub async fn max_seq(conn: &mut AnyConnection, workspace_id: i64) -> AppResult<i64> {
    let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM changes WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("seq")?)
}

/// The default team of a workspace (where handoffs go when no team is asked for).
pub async fn default_team(conn: &mut AnyConnection, workspace_id: i64) -> AppResult<Option<i64>> {
    let row = sqlx::query("SELECT id FROM teams WHERE workspace_id = $1 ORDER BY is_default DESC, id LIMIT 1")
        .bind(workspace_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}

/// One JSON settings document of a workspace (`column` of `workspace_settings`), or its
/// defaults until someone changes it.
pub(crate) async fn workspace_setting<T: serde::de::DeserializeOwned + Default>(
    conn: &mut AnyConnection,
    workspace_id: i64,
    column: &'static str,
) -> AppResult<T> {
    let row = sqlx::query(&format!("SELECT {column} AS doc FROM workspace_settings WHERE workspace_id = $1"))
        .bind(workspace_id)
        .fetch_optional(&mut *conn)
        .await?;
    match row.and_then(|r| r.try_get::<Option<String>, _>("doc").ok().flatten()) {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| AppError::Internal(format!("stored {column} settings unreadable: {e}"))),
        None => Ok(T::default()),
    }
}

pub(crate) async fn set_workspace_setting<T: serde::Serialize>(
    conn: &mut AnyConnection,
    workspace_id: i64,
    column: &'static str,
    value: &T,
) -> AppResult<()> {
    let text = serde_json::to_string(value).map_err(|e| AppError::Internal(e.to_string()))?;
    sqlx::query(&format!(
        "INSERT INTO workspace_settings (workspace_id, {column}, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (workspace_id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at"
    ))
    .bind(workspace_id)
    .bind(text)
    .bind(crate::db::now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn workspace_triggers(
    conn: &mut AnyConnection,
    workspace_id: i64,
) -> AppResult<crate::triggers::TriggerConfig> {
    workspace_setting(conn, workspace_id, "triggers").await
}

pub async fn set_workspace_triggers(
    conn: &mut AnyConnection,
    workspace_id: i64,
    config: &crate::triggers::TriggerConfig,
) -> AppResult<()> {
    set_workspace_setting(conn, workspace_id, "triggers", config).await
}

pub async fn workspace_handoff_settings(
    conn: &mut AnyConnection,
    workspace_id: i64,
) -> AppResult<crate::handoff_settings::HandoffSettings> {
    workspace_setting(conn, workspace_id, "handoff").await
}

pub async fn set_workspace_handoff_settings(
    conn: &mut AnyConnection,
    workspace_id: i64,
    settings: &crate::handoff_settings::HandoffSettings,
) -> AppResult<()> {
    set_workspace_setting(conn, workspace_id, "handoff", settings).await
}

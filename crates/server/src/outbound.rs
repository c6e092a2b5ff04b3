//! What agents send besides plain text: files (uploaded here first, then to Meta by the
//! send worker), reply buttons and lists, and replies quoting a message (`context`).
//!
//! An outbound message keeps two JSON documents: `payload`, the object the send worker
//! puts under the message's type in the Graph API call, and `raw`, the message as a
//! person sees it, shaped like an inbound one (`{type, <type>: {...}, context: {id}}`)
//! so the desktop app renders both directions the same way.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use handoff_protocol::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::auth::AgentCaller;
use crate::db::now_ms;
use crate::error::{AppError, AppResult};
use crate::AppState;

/// Largest upload accepted (WhatsApp documents: 100 MB).
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// How WhatsApp sends a file of `mime` type, and its size limit, by Meta's table.
pub fn kind_for(mime: &str) -> Option<(&'static str, usize)> {
    const MB: usize = 1024 * 1024;
    let mime = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    Some(match mime.as_str() {
        "image/jpeg" | "image/png" => ("image", 5 * MB),
        "video/mp4" | "video/3gpp" => ("video", 16 * MB),
        "audio/aac" | "audio/amr" | "audio/mpeg" | "audio/mp4" | "audio/ogg" => ("audio", 16 * MB),
        "text/plain"
        | "application/pdf"
        | "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation" => ("document", 100 * MB),
        _ => return None,
    })
}

/// `POST /v1/conversations/{id}/attachments`: the file is the body, its type the
/// `content-type`, its name `x-filename` (percent-encoded). Kept content-addressed
/// until the message that sends it goes out.
pub async fn upload(
    State(state): State<AppState>,
    caller: AgentCaller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> AppResult<(StatusCode, Json<Attachment>)> {
    // Whose conversation first: nothing about the file matters if it is not theirs.
    let agent_caller = caller.as_caller();
    let conv = crate::api::visible_conversation(&state, &agent_caller, ConversationId(id)).await?;
    if conv.state != ConversationState::Assigned || conv.assignee_id != Some(caller.agent.id) {
        return Err(AppError::new(ErrorCode::NotAssignee, "this conversation is not assigned to you"));
    }
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::new(ErrorCode::PayloadTooLarge, "WhatsApp sends files of at most 100 MB")
        }
        _ => AppError::new(ErrorCode::InvalidInput, format!("could not read the file: {e}")),
    })?;
    let mime = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mime = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let Some((kind, limit)) = kind_for(&mime) else {
        return Err(AppError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "WhatsApp cannot send {}: send a JPEG or PNG image, an MP4 or 3GPP video, AAC/AMR/MP3/MP4/OGG audio, \
                 or a PDF, text or Office document",
                if mime.is_empty() { "a file without a type".to_owned() } else { mime.clone() }
            ),
        ));
    };
    if body.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput, "the file is empty"));
    }
    if body.len() > limit {
        return Err(AppError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "WhatsApp sends {kind} files of at most {} MB; this one has {:.1} MB",
                limit >> 20,
                body.len() as f64 / 1048576.0
            ),
        ));
    }
    let filename = headers
        .get("x-filename")
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .map(|n| n.replace(['/', '\\', '\0'], "_").trim().chars().take(240).collect::<String>())
        .filter(|n| !n.is_empty());
    let hash = hex::encode(Sha256::digest(&body));
    let size = body.len() as i64;
    let media = state.media_store.clone();
    let h = hash.clone();
    tokio::task::spawn_blocking(move || media.put(&h, &body))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(format!("cannot store the file: {e}")))?;
    let row = sqlx::query(
        "INSERT INTO uploads (workspace_id, conversation_id, agent_id, kind, mime_type, filename, size, content_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(conv.workspace_id.0)
    .bind(id)
    .bind(caller.agent.id.0)
    .bind(kind)
    .bind(&mime)
    .bind(filename.as_deref())
    .bind(size)
    .bind(&hash)
    .bind(now_ms())
    .fetch_one(&state.db.pool)
    .await?;
    let attachment =
        Attachment { id: row.try_get("id")?, kind: kind.to_owned(), mime_type: mime, filename, size, sha256: hash };
    Ok((StatusCode::CREATED, Json(attachment)))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// A message to enqueue: its type, the text people see, what goes to Meta, what the
/// thread shows, and the file it carries.
pub struct Outgoing {
    pub kind: String,
    pub text: String,
    pub payload: Option<Value>,
    pub raw: Option<Value>,
    pub upload: Option<UploadRow>,
}

pub struct UploadRow {
    pub id: i64,
    pub mime_type: String,
    pub size: i64,
    pub content_hash: String,
}

fn invalid(msg: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, msg)
}

fn check_len(what: &str, s: &str, max: usize) -> AppResult<()> {
    let n = s.chars().count();
    if s.trim().is_empty() || n > max {
        return Err(invalid(format!("{what} must be 1 to {max} characters (has {n})")));
    }
    Ok(())
}

/// Meta's object for an interactive message, checked against Meta's limits.
pub fn interactive_object(body: &str, req: &InteractiveRequest) -> AppResult<Value> {
    check_len("the body of an interactive message", body, 1024)?;
    let action = match req {
        InteractiveRequest::Button { buttons } => {
            if buttons.is_empty() || buttons.len() > 3 {
                return Err(invalid("reply buttons: 1 to 3"));
            }
            let mut seen = std::collections::HashSet::new();
            for b in buttons {
                check_len("a button title", &b.title, 20)?;
                check_len("a button id", &b.id, 256)?;
                if !seen.insert(b.id.as_str()) || !seen.insert(b.title.as_str()) {
                    return Err(invalid("button ids and titles must be unique"));
                }
            }
            json!({ "buttons": buttons.iter().map(|b| json!({ "type": "reply", "reply": { "id": b.id, "title": b.title.trim() } })).collect::<Vec<_>>() })
        }
        InteractiveRequest::List { button, sections } => {
            check_len("the list button", button, 20)?;
            let rows: usize = sections.iter().map(|s| s.rows.len()).sum();
            if sections.is_empty() || sections.len() > 10 || rows == 0 || rows > 10 {
                return Err(invalid("a list has 1 to 10 sections and 1 to 10 rows in all"));
            }
            for s in sections {
                if let Some(t) = &s.title {
                    check_len("a section title", t, 24)?;
                }
                if sections.len() > 1 && s.title.is_none() {
                    return Err(invalid("with several sections each needs a title"));
                }
                for r in &s.rows {
                    check_len("a row title", &r.title, 24)?;
                    check_len("a row id", &r.id, 200)?;
                    if let Some(d) = &r.description {
                        check_len("a row description", d, 72)?;
                    }
                }
            }
            json!({ "button": button.trim(), "sections": sections })
        }
    };
    let kind = match req {
        InteractiveRequest::Button { .. } => "button",
        InteractiveRequest::List { .. } => "list",
    };
    Ok(json!({ "type": kind, "body": { "text": body }, "action": action }))
}

/// What can be refused before looking anything up: an empty or too long text, a file
/// and buttons at once.
pub fn check_request(req: &SendMessageRequest) -> AppResult<()> {
    if req.attachment_id.is_some() && req.interactive.is_some() {
        return Err(invalid("send an attachment or an interactive message, not both"));
    }
    if req.attachment_id.is_some() || req.interactive.is_some() {
        return Ok(()); // the caption or body is checked with the rest in `prepare`
    }
    let text = req.text.trim();
    if text.is_empty() {
        return Err(invalid("the message is empty"));
    }
    let chars = text.chars().count();
    if chars > handoff_whatsapp::MAX_TEXT_CHARS {
        return Err(AppError::new(
            ErrorCode::MessageTooLong,
            format!(
                "WhatsApp text messages are at most {} characters; this one has {chars}",
                handoff_whatsapp::MAX_TEXT_CHARS
            ),
        ));
    }
    Ok(())
}

/// Works out what to enqueue for an agent's send request (already checked: the
/// request by [`check_request`], the conversation is the agent's, the window is open).
pub async fn prepare(conn: &mut AnyConnection, conv: &Conversation, req: &SendMessageRequest) -> AppResult<Outgoing> {
    let text = req.text.trim();
    let context = match req.reply_to {
        Some(target) => {
            let r = sqlx::query("SELECT conversation_id, wamid FROM messages WHERE id = $1")
                .bind(target.0)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| invalid("reply_to names no message"))?;
            if r.try_get::<i64, _>("conversation_id")? != conv.id.0 {
                return Err(invalid("reply_to names a message of another conversation"));
            }
            let wamid: Option<String> = r.try_get("wamid")?;
            Some(wamid.ok_or_else(|| {
                AppError::new(ErrorCode::Conflict, "that message has not reached WhatsApp yet: it cannot be quoted")
            })?)
        }
        None => None,
    };
    let with_context = |mut raw: Value| {
        if let Some(w) = &context {
            raw["context"] = json!({ "id": w });
        }
        raw
    };
    if let Some(upload_id) = req.attachment_id {
        let r = sqlx::query(
            "SELECT conversation_id, kind, mime_type, filename, size, content_hash FROM uploads WHERE id = $1",
        )
        .bind(upload_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| invalid("attachment_id names no upload"))?;
        if r.try_get::<i64, _>("conversation_id")? != conv.id.0 {
            return Err(invalid("that file was uploaded for another conversation"));
        }
        let kind: String = r.try_get("kind")?;
        let mime_type: String = r.try_get("mime_type")?;
        let filename: Option<String> = r.try_get("filename")?;
        if !text.is_empty() && kind == "audio" {
            return Err(invalid("WhatsApp audio messages have no caption"));
        }
        if text.chars().count() > 1024 {
            return Err(invalid("a caption is at most 1024 characters"));
        }
        let mut object = json!({ "mime_type": mime_type });
        let mut payload = json!({ "upload": upload_id });
        if !text.is_empty() {
            object["caption"] = json!(text);
            payload["caption"] = json!(text);
        }
        if kind == "document" {
            if let Some(f) = &filename {
                object["filename"] = json!(f);
                payload["filename"] = json!(f);
            }
        }
        let shown =
            if !text.is_empty() { text.to_owned() } else { filename.clone().unwrap_or_else(|| format!("[{kind}]")) };
        return Ok(Outgoing {
            raw: Some(with_context(json!({ "type": kind, kind.clone(): object }))),
            payload: Some(payload),
            text: shown,
            upload: Some(UploadRow {
                id: upload_id,
                mime_type,
                size: r.try_get("size")?,
                content_hash: r.try_get("content_hash")?,
            }),
            kind,
        });
    }
    if let Some(i) = &req.interactive {
        let object = interactive_object(text, i)?;
        return Ok(Outgoing {
            kind: "interactive".into(),
            text: text.to_owned(),
            raw: Some(with_context(json!({ "type": "interactive", "interactive": object.clone() }))),
            payload: Some(object),
            upload: None,
        });
    }
    Ok(Outgoing {
        kind: "text".into(),
        text: text.to_owned(),
        payload: None,
        raw: context.as_ref().map(|_| with_context(json!({ "type": "text", "text": { "body": text } }))),
        upload: None,
    })
}

/// The file of an outbound media message, ready to show in the thread at once.
pub async fn attach_media(conn: &mut AnyConnection, message_id: i64, upload: &UploadRow) -> AppResult<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO media (message_id, media_id, mime_type, expected_sha256, status, next_attempt_at, content_hash, size, updated_at) \
         VALUES ($1, $2, $3, $4, 'ready', $5, $4, $6, $5)",
    )
    .bind(message_id)
    .bind(format!("upload:{}", upload.id))
    .bind(&upload.mime_type)
    .bind(&upload.content_hash)
    .bind(now)
    .bind(upload.size)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Before a media message goes out: its file uploaded to Meta once (the media id is
/// written back into the payload, so a retry does not upload again). Returns the
/// object to send under the message's type.
pub async fn media_object(
    state: &AppState,
    message_id: i64,
    phone_number_id: &str,
    payload: &Value,
) -> Result<Value, handoff_whatsapp::GraphError> {
    use handoff_whatsapp::GraphError;
    let mut object = payload.clone();
    let Some(upload) = object.as_object_mut().and_then(|o| o.remove("upload")) else {
        return Ok(object);
    };
    if object.get("id").is_some() {
        return Ok(object);
    }
    let local = |e: String| GraphError::Transport(e);
    let r = sqlx::query("SELECT mime_type, filename, content_hash FROM uploads WHERE id = $1")
        .bind(upload.as_i64().unwrap_or_default())
        .fetch_one(&state.db.pool)
        .await
        .map_err(|e| local(e.to_string()))?;
    let (mime, filename, hash): (String, Option<String>, String) = (
        r.try_get("mime_type").map_err(|e| local(e.to_string()))?,
        r.try_get("filename").map_err(|e| local(e.to_string()))?,
        r.try_get("content_hash").map_err(|e| local(e.to_string()))?,
    );
    let media = state.media_store.clone();
    let bytes = tokio::task::spawn_blocking(move || media.get(&hash))
        .await
        .map_err(|e| local(e.to_string()))?
        .map_err(|e| local(e.to_string()))?
        .ok_or_else(|| local("the uploaded file is missing from the media store".into()))?;
    let name = filename.unwrap_or_else(|| "file".into());
    let media_id = state.graph.upload_media(phone_number_id, bytes, &mime, &name).await?;
    let mut stored = payload.clone();
    stored["id"] = json!(media_id);
    sqlx::query("UPDATE messages SET payload = $1 WHERE id = $2")
        .bind(stored.to_string())
        .bind(message_id)
        .execute(&state.db.pool)
        .await
        .map_err(|e| local(e.to_string()))?;
    sqlx::query("UPDATE media SET media_id = $1 WHERE message_id = $2")
        .bind(&media_id)
        .bind(message_id)
        .execute(&state.db.pool)
        .await
        .map_err(|e| local(e.to_string()))?;
    object["id"] = json!(media_id);
    Ok(object)
}

/// Reads the quoted message's wamid from an outbound message's `raw`.
pub fn context_of(raw: Option<&str>) -> Option<String> {
    let v: Value = serde_json::from_str(raw?).ok()?;
    v.pointer("/context/id").and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_follow_metas_table() {
        assert_eq!(kind_for("image/jpeg"), Some(("image", 5 << 20)));
        assert_eq!(kind_for("IMAGE/PNG; charset=binary").map(|k| k.0), Some("image"));
        assert_eq!(kind_for("application/pdf").map(|k| k.0), Some("document"));
        assert_eq!(kind_for("audio/ogg").map(|k| k.0), Some("audio"));
        assert_eq!(kind_for("image/gif"), None);
        assert_eq!(kind_for("application/x-msdownload"), None);
    }

    #[test]
    fn interactive_limits() {
        let b = |titles: &[&str]| InteractiveRequest::Button {
            buttons: titles
                .iter()
                .enumerate()
                .map(|(i, t)| ReplyButton { id: format!("b{i}"), title: t.to_string() })
                .collect(),
        };
        let ok = interactive_object("Pick one", &b(&["Yes", "No"])).unwrap();
        assert_eq!(ok["action"]["buttons"][1]["reply"]["title"], "No");
        assert_eq!(ok["type"], "button");
        assert!(interactive_object("Pick", &b(&["a", "b", "c", "d"])).is_err());
        assert!(interactive_object("Pick", &b(&["this title is far too long"])).is_err());
        assert!(interactive_object("Pick", &b(&["Same", "Same"])).is_err());
        assert!(interactive_object("", &b(&["Yes"])).is_err());
        let list = InteractiveRequest::List {
            button: "Options".into(),
            sections: vec![ListSection {
                title: None,
                rows: vec![ListRow { id: "r1".into(), title: "Track".into(), description: Some("Where is it".into()) }],
            }],
        };
        assert_eq!(interactive_object("Menu", &list).unwrap()["action"]["sections"][0]["rows"][0]["id"], "r1");
    }

    #[test]
    fn filenames_are_percent_decoded() {
        assert_eq!(percent_decode("Rechnung%20M%C3%A4rz.pdf"), "Rechnung März.pdf");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("a%zzb"), "a%zzb");
        assert_eq!(percent_decode("%Mä"), "%Mä");
    }

    #[test]
    fn the_quoted_wamid_is_read_back() {
        assert_eq!(context_of(Some(r#"{"type":"text","context":{"id":"wamid.X"}}"#)).as_deref(), Some("wamid.X"));
        assert_eq!(context_of(Some(r#"{"type":"text"}"#)), None);
        assert_eq!(context_of(None), None);
    }
}

//! `GET/POST /webhooks/whatsapp`: Meta's verification handshake and signed deliveries.
//!
//! A POST is checked against `X-Hub-Signature-256` over the raw bytes first (401,
//! nothing stored, when it fails); then the raw body and every inbound message go into
//! the database (group-committed with concurrent deliveries, see [`crate::ingest`]), and
//! only after that commit do we answer 200.
//! Duplicate deliveries store nothing new. Processing (the bot) happens afterwards.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use handoff_protocol::ErrorCode;
use handoff_whatsapp::{verify_signature, WebhookBody};

use crate::db::now_ms;
use crate::engine;
use crate::error::{AppError, AppResult};
use crate::AppState;

pub async fn verify(State(state): State<AppState>, Query(q): Query<HashMap<String, String>>) -> AppResult<String> {
    let mode = q.get("hub.mode").map(String::as_str);
    let token = q.get("hub.verify_token").map(String::as_str);
    match (mode, token, q.get("hub.challenge")) {
        (Some("subscribe"), Some(t), Some(challenge)) if t == state.config.wa_verify_token.expose() => {
            Ok(challenge.clone())
        }
        _ => {
            Err(AppError::new(ErrorCode::InvalidVerifyToken, "verification failed: wrong hub.verify_token or hub.mode"))
        }
    }
}

pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> AppResult<StatusCode> {
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            state.telemetry.webhook("too_large");
            AppError::new(
                ErrorCode::PayloadTooLarge,
                format!("webhook bodies are at most {} bytes", crate::MAX_WEBHOOK_BYTES),
            )
        }
        _ => AppError::new(ErrorCode::InvalidJson, format!("could not read the body: {e}")),
    })?;
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if let Err(e) = verify_signature(state.config.wa_app_secret.expose(), &body, signature) {
        tracing::warn!(error = %e, "webhook refused");
        state.telemetry.webhook("bad_signature");
        return Err(AppError::new(ErrorCode::InvalidSignature, e.to_string()));
    }
    let text = raw_text(&body);
    // A NUL (`\u0000`) may not reach a text column (PostgreSQL refuses it); the raw body
    // above keeps the original.
    let parsed: Result<WebhookBody, _> = match std::str::from_utf8(&body) {
        Ok(t) if t.contains("\\u0000") => serde_json::from_str(&t.replace("\\u0000", "\\ufffd")),
        _ => serde_json::from_slice(&body),
    };
    match &parsed {
        Ok(b) => {
            state.telemetry.webhook("accepted");
            let count = |v: &serde_json::Value, k: &str| v[k].as_array().map_or(0, |a| a.len() as u64);
            let values = b.entry.iter().flat_map(|e| &e.changes).filter(|c| c.field == "messages").map(|c| &c.value);
            let (messages, statuses) =
                values.fold((0, 0), |(m, s), v| (m + count(v, "messages"), s + count(v, "statuses")));
            state.telemetry.webhook_messages.inc_by(messages);
            state.telemetry.webhook_statuses.inc_by(statuses);
        }
        Err(_) => state.telemetry.webhook("malformed"),
    }
    crate::ingest::submit(&state, text, parsed.map_err(|e| e.to_string())).await?;
    Ok(StatusCode::OK)
}

/// `user_preferences`: a customer stopped (or resumed) marketing messages. Recorded on
/// the contact (`marketing_opt_out`, `marketing_preference`) so nobody sends them
/// marketing templates after a stop.
pub(crate) async fn apply_preferences(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    value: &serde_json::Value,
) -> AppResult<Option<i64>> {
    use serde_json::{json, Value};
    use sqlx::Row;
    let number = value.pointer("/metadata/phone_number_id").and_then(Value::as_str).unwrap_or_default();
    if number.is_empty() {
        return Ok(None);
    }
    let display = value.pointer("/metadata/display_phone_number").and_then(Value::as_str).unwrap_or_default();
    let Some(channel) = engine::channel_for(conn, number, display).await? else {
        return Ok(None);
    };
    let mut touched = None;
    for pref in value.get("user_preferences").and_then(Value::as_array).into_iter().flatten() {
        if pref.get("category").and_then(Value::as_str) != Some("marketing_messages") {
            continue;
        }
        let wa_id = pref.get("wa_id").and_then(Value::as_str);
        let bsuid = pref.get("user_id").and_then(Value::as_str);
        if wa_id.is_none() && bsuid.is_none() {
            continue;
        }
        let contact = engine::contact_for(conn, channel.workspace_id, wa_id, bsuid, None).await?;
        let attrs: Option<String> = sqlx::query("SELECT attributes FROM contacts WHERE id = $1")
            .bind(contact)
            .fetch_one(&mut *conn)
            .await?
            .try_get("attributes")?;
        let mut attrs = crate::store::json_object(attrs)?;
        let choice = pref.get("value").and_then(Value::as_str).unwrap_or_default();
        attrs.insert("marketing_opt_out".into(), json!(choice == "stop"));
        attrs.insert(
            "marketing_preference".into(),
            json!({ "value": choice, "detail": pref.get("detail"), "timestamp": pref.get("timestamp") }),
        );
        sqlx::query("UPDATE contacts SET attributes = $1, updated_at = $2 WHERE id = $3")
            .bind(serde_json::to_string(&attrs).map_err(|e| AppError::Internal(e.to_string()))?)
            .bind(now_ms())
            .bind(contact)
            .execute(&mut *conn)
            .await?;
        for c in sqlx::query("SELECT id FROM conversations WHERE contact_id = $1")
            .bind(contact)
            .fetch_all(&mut *conn)
            .await?
        {
            let cid: i64 = c.try_get("id")?;
            state.db.record_change(conn, channel.workspace_id, "conversation", cid, cid).await?;
        }
        touched = Some(channel.workspace_id);
    }
    Ok(touched)
}

/// The body as storable text: itself when it is UTF-8 without NUL bytes, else
/// `base64:` + its base64, so nothing received is lost.
fn raw_text(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(t) if !t.contains('\0') => t.to_owned(),
        _ => {
            use base64::Engine as _;
            format!("base64:{}", base64::engine::general_purpose::STANDARD.encode(body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::raw_text;

    #[test]
    fn raw_bodies_are_kept_whole() {
        assert_eq!(raw_text(b"{\"a\":1}"), "{\"a\":1}");
        assert_eq!(raw_text(b"a\0b"), "base64:YQBi");
        assert_eq!(raw_text(&[0xff, 0xfe]), "base64://4=");
    }
}

//! `GET/POST /webhooks/whatsapp`: Meta's verification handshake and signed deliveries.
//!
//! A POST is checked against `X-Hub-Signature-256` over the raw bytes first (401,
//! nothing stored, when it fails); then the raw body and every inbound message go into
//! the database in one transaction, and only after it commits do we answer 200.
//! Duplicate deliveries store nothing new. Processing (the bot) happens afterwards.

use std::collections::{BTreeSet, HashMap};

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

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> AppResult<StatusCode> {
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if let Err(e) = verify_signature(state.config.wa_app_secret.expose(), &body, signature) {
        tracing::warn!(error = %e, "webhook refused");
        return Err(AppError::new(ErrorCode::InvalidSignature, e.to_string()));
    }
    let text = String::from_utf8_lossy(&body);
    let parsed: Result<WebhookBody, _> = serde_json::from_slice(&body);
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("INSERT INTO webhook_events (received_at, body, parse_error) VALUES ($1, $2, $3)")
        .bind(now_ms())
        .bind(text.as_ref())
        .bind(parsed.as_ref().err().map(|e| e.to_string()))
        .execute(&mut *tx)
        .await?;
    let parsed = match parsed {
        Ok(p) => p,
        Err(e) => {
            // Signed by Meta but unreadable: keep the raw body, say what is wrong.
            tx.commit().await?;
            return Err(AppError::new(ErrorCode::InvalidJson, format!("webhook body is not valid JSON: {e}")));
        }
    };
    let mut touched = BTreeSet::new();
    let mut new_messages = 0usize;
    for entry in &parsed.entry {
        for change in &entry.changes {
            let Some(value) = change.messages_value() else {
                tracing::debug!(field = %change.field, "non-message webhook stored raw");
                continue;
            };
            if value.messages.is_empty() && value.statuses.is_empty() {
                continue;
            }
            let number = &value.metadata.phone_number_id;
            if number.is_empty() {
                tracing::warn!("messages webhook without metadata.phone_number_id: stored raw only");
                continue;
            }
            let channel = engine::channel_for(&mut tx, number, &value.metadata.display_phone_number).await?;
            for msg in &value.messages {
                if engine::ingest_inbound(&state, &mut tx, channel, &value.contacts, msg).await?.is_some() {
                    new_messages += 1;
                    touched.insert(channel.workspace_id);
                }
            }
            for st in &value.statuses {
                if let Some(ws) = engine::apply_status(&state, &mut tx, st).await? {
                    touched.insert(ws);
                }
            }
        }
    }
    tx.commit().await?;
    if new_messages > 0 {
        state.automation_wake.notify_one();
    }
    for ws in touched {
        state.changed(ws).await;
    }
    Ok(StatusCode::OK)
}

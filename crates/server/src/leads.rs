//! `POST /v1/leads/handoff`: a lead qualified on another channel (Instagram DM, a web
//! form, an ad, a voice call) moves into WhatsApp with its fields and the upstream
//! transcript, so the customer never repeats themselves.
//!
//! The contact is found by the shared lead id or the phone number (else created), a
//! recorded opt-in is required, and the conversation is opened with a session message
//! when the 24-hour window is open or with a template (parameters filled from the lead's
//! fields) when it is closed. The handoff (trigger `lead`) carries everything.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use handoff_protocol::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sqlx::Row;

use crate::api::ApiJson;
use crate::auth::Caller;
use crate::db::now_ms;
use crate::engine::{self, Channel};
use crate::error::{AppError, AppResult};
use crate::{store, AppState};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct LeadHandoff {
    /// The id the lead has in the system that qualified it.
    pub lead_id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// With country code; `+`, spaces and dashes are ignored.
    pub phone: String,
    /// `instagram`, `web_form`, `ad`, `voice`, ...
    pub source_channel: String,
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// The conversation so far on the other channel.
    #[serde(default)]
    pub transcript: Vec<Value>,
    /// Proof that the person agreed to be messaged on WhatsApp.
    #[serde(default)]
    pub opt_in: Option<OptIn>,
    /// Which business number to use (default: the workspace's first).
    #[serde(default)]
    pub phone_number_id: Option<String>,
    /// Session message when the window is open (a default greeting otherwise).
    #[serde(default)]
    pub message: Option<String>,
    /// Template for a closed window.
    #[serde(default)]
    pub template: Option<TemplateRef>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub team_id: Option<TeamId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OptIn {
    /// When it was given (any timestamp text).
    pub recorded_at: String,
    /// Where: `instagram_dm`, `web_form`, ...
    pub source: String,
    #[serde(default)]
    pub text: Option<String>,
}

/// An approved template; parameter values may use `{name}`, `{phone}`,
/// `{source_channel}`, `{lead_id}` and `{fields.<key>}`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct TemplateRef {
    pub name: String,
    #[serde(default = "english")]
    pub language: String,
    /// Positional (`["{name}", ...]`) body parameters...
    #[serde(default)]
    pub parameters: Vec<String>,
    /// ...or named ones (`{"first_name": "{name}"}`).
    #[serde(default)]
    pub named_parameters: Map<String, Value>,
}

fn english() -> String {
    "en".into()
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LeadHandoffResult {
    pub conversation: Conversation,
    pub handoff: Handoff,
    pub message: Message,
}

fn invalid(msg: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, msg)
}

/// Fills `{...}` placeholders from the lead.
fn fill(template: &str, lead: &LeadHandoff) -> AppResult<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end =
            rest[start..].find('}').ok_or_else(|| invalid(format!("unclosed placeholder in \"{template}\"")))? + start;
        out.push_str(&rest[..start]);
        let key = &rest[start + 1..end];
        let value = match key {
            "name" => lead.name.clone().unwrap_or_default(),
            "phone" => lead.phone.clone(),
            "source_channel" => lead.source_channel.clone(),
            "lead_id" => lead.lead_id.clone(),
            k => match k.strip_prefix("fields.").and_then(|f| lead.fields.get(f)) {
                Some(Value::String(s)) => s.clone(),
                Some(v) if !v.is_null() => v.to_string(),
                _ => return Err(invalid(format!("the template needs \"{key}\", which this lead does not have"))),
            },
        };
        if value.trim().is_empty() {
            return Err(invalid(format!("the template needs \"{key}\", which is empty for this lead")));
        }
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Meta's `template` object with body parameters filled in, and a readable preview.
fn template_object(t: &TemplateRef, lead: &LeadHandoff) -> AppResult<(Value, String)> {
    if t.name.trim().is_empty() {
        return Err(invalid("the template needs a name"));
    }
    let mut params = Vec::new();
    let mut shown = Vec::new();
    for p in &t.parameters {
        let v = fill(p, lead)?;
        shown.push(v.clone());
        params.push(json!({ "type": "text", "text": v }));
    }
    for (name, p) in &t.named_parameters {
        let v = fill(p.as_str().ok_or_else(|| invalid("named parameters are strings"))?, lead)?;
        shown.push(format!("{name}={v}"));
        params.push(json!({ "type": "text", "parameter_name": name, "text": v }));
    }
    let mut object = json!({ "name": t.name, "language": { "code": t.language } });
    if !params.is_empty() {
        object["components"] = json!([{ "type": "body", "parameters": params }]);
    }
    let preview = if shown.is_empty() {
        format!("[template {}]", t.name)
    } else {
        format!("[template {}] {}", t.name, shown.join(", "))
    };
    Ok((object, preview))
}

pub async fn handoff(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(lead): ApiJson<LeadHandoff>,
) -> AppResult<(StatusCode, Json<LeadHandoffResult>)> {
    caller.require_scope("leads:write")?;
    if let Caller::Agent { agent, .. } = &caller {
        if agent.role == Role::Viewer {
            return Err(AppError::new(ErrorCode::Forbidden, "viewers cannot hand off leads"));
        }
    }
    let ws = caller.workspace_id().0;
    let lead_id = lead.lead_id.trim();
    if lead_id.is_empty() || lead.source_channel.trim().is_empty() {
        return Err(invalid("a lead needs lead_id and source_channel"));
    }
    let phone: String = lead.phone.chars().filter(|c| c.is_ascii_digit()).collect();
    let junk = lead.phone.chars().any(|c| !(c.is_ascii_digit() || " +-().".contains(c)));
    if junk || !(8..=15).contains(&phone.len()) {
        return Err(invalid(format!("\"{}\" is not a phone number with country code", lead.phone)));
    }
    let Some(opt_in) = lead.opt_in.clone().filter(|o| !o.recorded_at.trim().is_empty() && !o.source.trim().is_empty())
    else {
        return Err(AppError::new(
            ErrorCode::OptInRequired,
            "this lead has no recorded WhatsApp opt-in (opt_in.recorded_at and opt_in.source); WhatsApp requires one",
        ));
    };

    let mut tx = state.db.begin_write().await?;
    // The business number.
    let channel_row = match &lead.phone_number_id {
        Some(id) => {
            sqlx::query("SELECT id, workspace_id FROM channels WHERE phone_number_id = $1 AND workspace_id = $2")
                .bind(id)
                .bind(ws)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| invalid(format!("no business number {id} in this workspace")))?
        }
        None => sqlx::query("SELECT id, workspace_id FROM channels WHERE workspace_id = $1 ORDER BY id LIMIT 1")
            .bind(ws)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| invalid("this workspace has no WhatsApp business number yet"))?,
    };
    let channel = Channel { id: channel_row.try_get("id")?, workspace_id: ws };

    // The contact: by lead id, else by phone, else new; the lead's fields merged in.
    let found = sqlx::query("SELECT id, attributes FROM contacts WHERE workspace_id = $1 AND (lead_id = $2 OR wa_id = $3) ORDER BY CASE WHEN lead_id = $2 THEN 0 ELSE 1 END, id LIMIT 1")
        .bind(ws)
        .bind(lead_id)
        .bind(&phone)
        .fetch_optional(&mut *tx)
        .await?;
    let mut attributes = match &found {
        Some(r) => store::json_object(r.try_get("attributes")?)?,
        None => Map::new(),
    };
    attributes.extend(lead.fields.clone());
    attributes.insert("lead_id".into(), json!(lead_id));
    attributes.insert("source_channel".into(), json!(lead.source_channel));
    attributes.insert("whatsapp_opt_in".into(), json!(opt_in));
    let attributes_text = serde_json::to_string(&attributes).map_err(|e| AppError::Internal(e.to_string()))?;
    let now = now_ms();
    let contact_id: i64 = match found {
        Some(r) => {
            let id: i64 = r.try_get("id")?;
            sqlx::query("UPDATE contacts SET lead_id = $1, attributes = $2, name = COALESCE(name, $3), updated_at = $4 WHERE id = $5")
                .bind(lead_id)
                .bind(&attributes_text)
                .bind(lead.name.as_deref())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => sqlx::query(
            "INSERT INTO contacts (workspace_id, wa_id, name, lead_id, attributes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(ws)
        .bind(&phone)
        .bind(lead.name.as_deref())
        .bind(lead_id)
        .bind(&attributes_text)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?,
    };
    let conversation_id = engine::conversation_for(&mut tx, channel, contact_id).await?;
    let conv = store::conversation(&mut tx, ConversationId(conversation_id)).await?;

    // First words on WhatsApp: a session message in the window, else a template.
    let message_id = if engine::window_open(&conv, now) {
        let name = lead.name.as_deref().unwrap_or("there");
        let text = match &lead.message {
            Some(m) => fill(m, &lead)?,
            None => format!(
                "Hi {name}! Thanks for reaching out on {}. A member of our team will continue with you here.",
                lead.source_channel
            ),
        };
        engine::enqueue_outbound(&state, &mut tx, &conv, Author::Bot, None, None, &text).await?
    } else {
        let t = lead.template.as_ref().ok_or_else(|| {
            AppError::new(
                ErrorCode::WindowClosed,
                "this person has not written on WhatsApp in the last 24 hours: give a template to open the conversation",
            )
        })?;
        let (object, preview) = template_object(t, &lead)?;
        engine::enqueue_outbound_of_kind(
            &state,
            &mut tx,
            &conv,
            (Author::Bot, None, None),
            "template",
            &preview,
            Some(&object),
        )
        .await?
    };

    let mut context = lead.fields.clone();
    context.insert("lead_id".into(), json!(lead_id));
    context.insert("source_channel".into(), json!(lead.source_channel));
    context.insert("upstream_transcript".into(), Value::Array(lead.transcript.clone()));
    context.insert("opt_in".into(), json!(opt_in));
    let req = HandoffRequest {
        reason: lead.reason.clone().unwrap_or_else(|| format!("Qualified lead from {}", lead.source_channel)),
        priority: lead.priority,
        summary: Some(format!(
            "{} came from {}; see the fields and upstream transcript",
            lead.name.as_deref().unwrap_or("A lead"),
            lead.source_channel
        )),
        team_id: lead.team_id,
        context,
        ..Default::default()
    };
    let requested_by = match &caller {
        Caller::Api { name, .. } => format!("api:{name}"),
        Caller::Agent { agent, .. } => format!("agent:{}", agent.email),
    };
    let handoff = engine::request_handoff(
        &state,
        &mut tx,
        conv.id,
        (HandoffTrigger::Lead, Some(&lead.source_channel)),
        &requested_by,
        &req,
        false,
    )
    .await?;
    let message = store::message(&mut tx, message_id).await?;
    let conversation = store::conversation(&mut tx, conv.id).await?;
    tx.commit().await?;
    state.changed(ws).await;
    Ok((StatusCode::CREATED, Json(LeadHandoffResult { conversation, handoff, message })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead() -> LeadHandoff {
        serde_json::from_value(json!({
            "lead_id": "L-1", "name": "Sam", "phone": "+1 415 555 0199", "source_channel": "instagram",
            "fields": {"plan": "pro", "budget": 5000}
        }))
        .unwrap()
    }

    #[test]
    fn placeholders_fill_from_the_lead() {
        assert_eq!(
            fill("Hi {name}, about {fields.plan} ({fields.budget})", &lead()).unwrap(),
            "Hi Sam, about pro (5000)"
        );
        assert!(fill("{fields.missing}", &lead()).is_err());
        assert!(fill("{name", &lead()).is_err());
    }

    #[test]
    fn template_objects_are_metas_shape() {
        let t: TemplateRef = serde_json::from_value(
            json!({"name": "lead_followup", "language": "en_US", "parameters": ["{name}", "{fields.plan}"]}),
        )
        .unwrap();
        let (obj, preview) = template_object(&t, &lead()).unwrap();
        assert_eq!(
            obj,
            json!({"name": "lead_followup", "language": {"code": "en_US"}, "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "Sam"}, {"type": "text", "text": "pro"}]}]})
        );
        assert_eq!(preview, "[template lead_followup] Sam, pro");
        let named: TemplateRef =
            serde_json::from_value(json!({"name": "t", "named_parameters": {"first_name": "{name}"}})).unwrap();
        let (obj, _) = template_object(&named, &lead()).unwrap();
        assert_eq!(
            obj["components"][0]["parameters"][0],
            json!({"type": "text", "parameter_name": "first_name", "text": "Sam"})
        );
    }
}

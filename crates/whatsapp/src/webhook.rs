//! Webhook bodies as Meta sends them. Tolerant: every struct keeps unnamed fields in
//! `extra`, unknown message types are kept, and nothing here rejects a body that is
//! valid JSON of roughly the right shape.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The top-level body of a webhook POST.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WebhookBody {
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account id.
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: String,
    #[serde(default)]
    pub changes: Vec<Change>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Change {
    /// `messages`, `message_template_status_update`, `account_update`, `calls`, ...
    #[serde(default)]
    pub field: String,
    /// Kept raw: its shape depends on `field`. Read message updates with
    /// [`Change::messages_value`].
    #[serde(default)]
    pub value: Value,
}

impl Change {
    /// The value of a `messages` change, if this is one and it reads as one.
    pub fn messages_value(&self) -> Option<MessagesValue> {
        if self.field != "messages" {
            return None;
        }
        MessagesValue::deserialize(&self.value).ok()
    }
}

/// `value` of a `messages` change: inbound messages, statuses of ours, or both.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MessagesValue {
    #[serde(default)]
    pub messaging_product: Option<String>,
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub contacts: Vec<ContactInfo>,
    #[serde(default)]
    pub messages: Vec<InboundMessage>,
    #[serde(default)]
    pub statuses: Vec<StatusUpdate>,
    /// Account-level errors (for example 130429 throughput).
    #[serde(default)]
    pub errors: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub display_phone_number: String,
    #[serde(default, deserialize_with = "string_or_number")]
    pub phone_number_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContactInfo {
    #[serde(default)]
    pub profile: Option<Profile>,
    /// Phone number; absent for username users.
    #[serde(default)]
    pub wa_id: Option<String>,
    /// Business-scoped user id.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
}

/// One inbound message. `kind` is Meta's `type`; the type-specific object stays in
/// `extra` under its own name (`image`, `location`, ...), so nothing is lost.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The wamid: unique per message, our deduplication key.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub from_user_id: Option<String>,
    /// Unix seconds; Meta sends a string, we accept a number too.
    #[serde(default, deserialize_with = "opt_i64_lenient")]
    pub timestamp: Option<i64>,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub text: Option<TextContent>,
    #[serde(default)]
    pub context: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TextContent {
    #[serde(default)]
    pub body: String,
}

impl InboundMessage {
    /// A readable one-line form of the message for lists and bots: the text, a
    /// caption, or what kind of message it is.
    pub fn summary(&self) -> Option<String> {
        if let Some(t) = &self.text {
            return Some(t.body.clone());
        }
        let obj = self.extra.get(&self.kind);
        let s = |v: Option<&Value>, k: &str| v.and_then(|v| v.get(k)).and_then(Value::as_str).map(str::to_owned);
        match self.kind.as_str() {
            "image" | "video" | "document" => s(obj, "caption").or_else(|| s(obj, "filename")),
            "button" => s(obj, "text"),
            "interactive" => obj
                .and_then(|o| o.get("button_reply").or_else(|| o.get("list_reply")))
                .and_then(|r| r.get("title"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            "reaction" => s(obj, "emoji"),
            "location" => s(obj, "name").or_else(|| s(obj, "address")),
            _ => None,
        }
    }

    /// The sender key: the BSUID when present, else the phone number.
    pub fn sender(&self) -> Option<&str> {
        self.from_user_id.as_deref().or(self.from.as_deref())
    }
}

/// A delivery status of a message we sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// The wamid of our outbound message.
    #[serde(default)]
    pub id: String,
    /// `sent`, `delivered`, `read`, `played`, `failed`.
    #[serde(default)]
    pub status: String,
    #[serde(default, deserialize_with = "opt_i64_lenient")]
    pub timestamp: Option<i64>,
    #[serde(default)]
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub recipient_user_id: Option<String>,
    /// What we put in `biz_opaque_callback_data` when sending: identifies our message
    /// even before we know its wamid.
    #[serde(default)]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    pub errors: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StatusUpdate {
    /// Meta's explanation of a failure: `code: title (details)`.
    pub fn error_text(&self) -> Option<String> {
        let e = self.errors.first()?;
        let code = e.get("code").map(|c| c.to_string()).unwrap_or_default();
        let title = e.get("title").or_else(|| e.get("message")).and_then(Value::as_str).unwrap_or("error");
        let details = e.pointer("/error_data/details").and_then(Value::as_str);
        Some(match details {
            Some(d) => format!("{code}: {title} ({d})"),
            None => format!("{code}: {title}"),
        })
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

fn opt_i64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_text_message_and_its_sender() {
        let body: WebhookBody = serde_json::from_str(
            r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"99"},
            "contacts":[{"profile":{"name":"Ana"},"wa_id":"4915"}],
            "messages":[{"from":"4915","id":"wamid.A","timestamp":"1700000000","type":"text","text":{"body":"hi"}}]}}]}]}"#,
        )
        .unwrap();
        let v = body.entry[0].changes[0].messages_value().unwrap();
        assert_eq!(v.metadata.phone_number_id, "99");
        let m = &v.messages[0];
        assert_eq!((m.id.as_str(), m.kind.as_str(), m.timestamp), ("wamid.A", "text", Some(1_700_000_000)));
        assert_eq!(m.summary().as_deref(), Some("hi"));
        assert_eq!(m.sender(), Some("4915"));
    }

    #[test]
    fn unknown_types_and_fields_are_kept() {
        let m: InboundMessage = serde_json::from_str(
            r#"{"id":"w","from":"1","timestamp":1700000001,"type":"hologram","hologram":{"x":1},"new_field":true}"#,
        )
        .unwrap();
        assert_eq!(m.kind, "hologram");
        assert_eq!(m.timestamp, Some(1_700_000_001));
        assert_eq!(m.extra["hologram"]["x"], 1);
        assert_eq!(m.extra["new_field"], true);
        assert_eq!(m.summary(), None);
    }

    #[test]
    fn bsuid_wins_as_sender_key() {
        let m: InboundMessage =
            serde_json::from_str(r#"{"id":"w","from_user_id":"US.1","type":"text","text":{"body":"x"}}"#).unwrap();
        assert_eq!(m.sender(), Some("US.1"));
    }

    #[test]
    fn failed_status_explains_itself() {
        let s: StatusUpdate = serde_json::from_str(
            r#"{"id":"w","status":"failed","timestamp":"1","errors":[{"code":131047,"title":"Re-engagement message","error_data":{"details":"more than 24 hours"}}]}"#,
        )
        .unwrap();
        assert_eq!(s.error_text().unwrap(), "131047: Re-engagement message (more than 24 hours)");
    }
}

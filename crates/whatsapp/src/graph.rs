//! The Graph API client: `POST /{version}/{phone_number_id}/messages` with a bearer
//! token. The base URL is configurable so the same code talks to Meta or to the
//! Handoff sandbox.

use handoff_protocol::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who a message goes to: a phone number (`to`) or, for username users known only by
/// their business-scoped user id, `recipient`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Phone(String),
    Bsuid(String),
}

/// A message in Meta's send format. Only the fields Handoff sends so far are named;
/// the type-specific object for other types goes in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub messaging_product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<OutboundText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ReplyContext>,
    /// Echoed back by Meta in this message's status webhooks (up to 512 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundText {
    pub body: String,
    #[serde(default)]
    pub preview_url: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyContext {
    pub message_id: String,
}

impl OutboundMessage {
    /// A text message, as Meta documents it.
    pub fn text(to: &Recipient, body: impl Into<String>) -> Self {
        let (to, recipient) = match to {
            Recipient::Phone(p) => (Some(p.clone()), None),
            Recipient::Bsuid(b) => (None, Some(b.clone())),
        };
        OutboundMessage {
            messaging_product: "whatsapp".into(),
            recipient_type: Some("individual".into()),
            to,
            recipient,
            kind: "text".into(),
            text: Some(OutboundText { body: body.into(), preview_url: false }),
            context: None,
            biz_opaque_callback_data: None,
            extra: Default::default(),
        }
    }
}

/// `GET /{media_id}`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub url: String,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub file_size: Option<serde_json::Value>,
    #[serde(default)]
    pub id: Option<String>,
}

/// Meta's answer to an accepted send: accepted, not yet delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendResponse {
    pub messaging_product: String,
    #[serde(default)]
    pub contacts: Vec<SendContact>,
    pub messages: Vec<SentId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendContact {
    pub input: String,
    #[serde(default)]
    pub wa_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentId {
    pub id: String,
}

/// Meta's error envelope: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphErrorEnvelope {
    pub error: GraphErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphErrorBody {
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Meta answered with an error: branch on `code`, not on the text or HTTP status.
    #[error("Graph API error {code}: {message}")]
    Api { http_status: u16, code: i64, message: String, details: Option<String> },
    /// Meta could not be reached, or answered something that is not its format.
    #[error("Graph API unreachable: {0}")]
    Transport(String),
}

impl GraphError {
    /// Reads Meta's error envelope from a failed answer (any other body is a transport
    /// problem: something between us and Meta answered).
    pub fn from_response(http_status: u16, body: &[u8]) -> GraphError {
        match serde_json::from_slice::<GraphErrorEnvelope>(body) {
            Ok(env) => GraphError::Api {
                http_status,
                code: env.error.code,
                details: env
                    .error
                    .error_data
                    .as_ref()
                    .and_then(|d| d.get("details"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                message: env.error.message,
            },
            Err(_) => GraphError::Transport(format!("HTTP {http_status} without a Graph error body")),
        }
    }

    /// Whether trying again later may succeed (by Meta's error-code table).
    pub fn is_retryable(&self) -> bool {
        match self {
            GraphError::Transport(_) => true,
            GraphError::Api { code, .. } => {
                matches!(code, 130429 | 131056 | 4 | 80007 | 131000 | 1 | 2 | 131016 | 133004 | 131057)
            }
        }
    }

    /// How long to wait before trying again (`attempt` counts from 0), by Meta's table:
    /// the pair rate limit (131056) backs off 4^n seconds, maintenance (131057) minutes,
    /// everything else retryable 2^n seconds. `None`: do not retry.
    pub fn retry_after(&self, attempt: u32) -> Option<std::time::Duration> {
        if !self.is_retryable() {
            return None;
        }
        let secs = match self {
            GraphError::Api { code: 131056, .. } => 4u64.saturating_pow(attempt + 1),
            GraphError::Api { code: 131057, .. } => 60 * u64::from(attempt + 1),
            _ => 2u64.saturating_pow(attempt),
        };
        Some(std::time::Duration::from_secs(secs.min(3600)))
    }

    /// A short text for the agent.
    pub fn describe(&self) -> String {
        match self {
            GraphError::Api { code, message, details: Some(d), .. } => format!("{code}: {message} ({d})"),
            GraphError::Api { code, message, .. } => format!("{code}: {message}"),
            GraphError::Transport(e) => format!("WhatsApp unreachable: {e}"),
        }
    }
}

#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
    version: String,
    access_token: SecretString,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("access_token", &self.access_token)
            .finish()
    }
}

impl GraphClient {
    pub fn new(base_url: &str, version: &str, access_token: SecretString) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .expect("a TLS backend is compiled in");
        GraphClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            version: version.to_owned(),
            access_token,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends `req` with the bearer token; the body of a success, or Meta's error.
    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Vec<u8>, GraphError> {
        let transport = |e: reqwest::Error| GraphError::Transport(e.without_url().to_string());
        let resp = req.bearer_auth(self.access_token.expose()).send().await.map_err(transport)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(transport)?;
        if !status.is_success() {
            return Err(GraphError::from_response(status.as_u16(), &bytes));
        }
        Ok(bytes.to_vec())
    }

    /// Marks an inbound message (and all before it) as read, showing the blue ticks;
    /// with `typing`, also shows the typing indicator (it clears on reply or after 25 s).
    pub async fn mark_read(&self, phone_number_id: &str, wamid: &str, typing: bool) -> Result<(), GraphError> {
        let mut body = serde_json::json!({ "messaging_product": "whatsapp", "status": "read", "message_id": wamid });
        if typing {
            body["typing_indicator"] = serde_json::json!({ "type": "text" });
        }
        let url = format!("{}/{}/{}/messages", self.base_url, self.version, phone_number_id);
        self.call(self.http.post(&url).json(&body)).await?;
        Ok(())
    }

    /// `GET /{media_id}`: where to download a media file, and what it should be.
    pub async fn media_info(&self, media_id: &str) -> Result<MediaInfo, GraphError> {
        let url = format!("{}/{}/{}", self.base_url, self.version, media_id);
        let bytes = self.call(self.http.get(&url)).await?;
        serde_json::from_slice(&bytes).map_err(|e| GraphError::Transport(format!("unexpected media info: {e}")))
    }

    /// Downloads a media URL (valid for 5 minutes) with the same bearer token.
    pub async fn download(&self, url: &str) -> Result<Vec<u8>, GraphError> {
        let resp = self
            .http
            .get(url)
            .bearer_auth(self.access_token.expose())
            .send()
            .await
            .map_err(|e| GraphError::Transport(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(GraphError::Transport(format!("media download answered HTTP {}", resp.status())));
        }
        Ok(resp.bytes().await.map_err(|e| GraphError::Transport(e.without_url().to_string()))?.to_vec())
    }

    /// Every message template of a WhatsApp Business Account (following Meta's paging).
    pub async fn list_templates(&self, waba_id: &str) -> Result<Vec<Value>, GraphError> {
        let mut url = format!("{}/{}/{}/message_templates?limit=100", self.base_url, self.version, waba_id);
        let mut all = Vec::new();
        for _ in 0..50 {
            let bytes = self.call(self.http.get(&url)).await?;
            let body: Value = serde_json::from_slice(&bytes)
                .map_err(|e| GraphError::Transport(format!("unexpected template list: {e}")))?;
            all.extend(body.get("data").and_then(Value::as_array).cloned().unwrap_or_default());
            match body.pointer("/paging/next").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => url = next.to_owned(),
                _ => break,
            }
        }
        Ok(all)
    }

    /// Uploads a file for the business number `phone_number_id` (`POST
    /// /{phone_number_id}/media`, multipart); the returned media id is then sent as
    /// `{"image": {"id": ...}}` and the like.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        bytes: Vec<u8>,
        mime_type: &str,
        filename: &str,
    ) -> Result<String, GraphError> {
        let url = format!("{}/{}/{}/media", self.base_url, self.version, phone_number_id);
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_owned())
            .mime_str(mime_type)
            .map_err(|e| GraphError::Transport(format!("bad mime type: {e}")))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime_type.to_owned())
            .part("file", part);
        let bytes = self.call(self.http.post(&url).multipart(form)).await?;
        let body: Value = serde_json::from_slice(&bytes)
            .map_err(|e| GraphError::Transport(format!("unexpected upload answer: {e}")))?;
        body.get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| GraphError::Transport("upload answer without an id".into()))
    }

    /// Sends one message from the business number `phone_number_id`.
    pub async fn send(&self, phone_number_id: &str, msg: &OutboundMessage) -> Result<SendResponse, GraphError> {
        let url = format!("{}/{}/{}/messages", self.base_url, self.version, phone_number_id);
        let bytes = self.call(self.http.post(&url).json(msg)).await?;
        serde_json::from_slice(&bytes).map_err(|e| GraphError::Transport(format!("unexpected success body: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_message_matches_metas_format() {
        let m = OutboundMessage::text(&Recipient::Phone("15551234".into()), "Hello");
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"15551234",
                "type":"text","text":{"body":"Hello","preview_url":false}})
        );
        let m = OutboundMessage::text(&Recipient::Bsuid("US.1".into()), "Hi");
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["recipient"], "US.1");
        assert!(v.get("to").is_none());
    }

    #[test]
    fn retry_follows_the_error_code_table() {
        let api = |code| GraphError::Api { http_status: 400, code, message: String::new(), details: None };
        assert!(api(130429).is_retryable());
        assert!(api(131056).is_retryable());
        assert!(!api(131047).is_retryable());
        assert!(!api(131026).is_retryable());
        assert!(!api(190).is_retryable());
        assert!(GraphError::Transport("x".into()).is_retryable());
        let secs = |code, n| api(code).retry_after(n).map(|d| d.as_secs());
        assert_eq!((secs(131056, 0), secs(131056, 1), secs(131056, 2)), (Some(4), Some(16), Some(64)));
        assert_eq!((secs(130429, 0), secs(130429, 3)), (Some(1), Some(8)));
        assert_eq!(secs(131057, 1), Some(120));
        assert_eq!(secs(131047, 0), None);
    }

    #[test]
    fn the_token_never_prints() {
        let c = GraphClient::new("http://x", "v23.0", SecretString::new("EAAG-secret"));
        assert!(!format!("{c:?}").contains("EAAG"));
    }
}

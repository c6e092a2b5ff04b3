//! The HTTP client of the Handoff server's REST API.

use handoff_protocol::*;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{CoreError, CoreResult};

/// A session's tokens: the short access token and the refresh token that renews it.
#[derive(Clone, Default, serde::Deserialize, Serialize)]
pub struct Tokens {
    pub access: Option<SecretString>,
    #[serde(default)]
    pub refresh: Option<SecretString>,
}

impl Tokens {
    /// How they are kept in the keyring: JSON (a bare token from older versions is an
    /// access token without refresh).
    pub fn to_secret(&self) -> SecretString {
        SecretString::new(serde_json::to_string(self).expect("tokens serialize"))
    }

    pub fn from_secret(s: &SecretString) -> Tokens {
        serde_json::from_str(s.expose()).unwrap_or_else(|_| Tokens { access: Some(s.clone()), refresh: None })
    }
}

/// Called with the new tokens after a refresh, to keep them (in the keyring).
pub type OnRefresh = std::sync::Arc<dyn Fn(&Tokens) + Send + Sync>;

#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    tokens: std::sync::Arc<tokio::sync::Mutex<Tokens>>,
    on_refresh: Option<OnRefresh>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient").field("base", &self.base).finish_non_exhaustive()
    }
}

/// Checks and normalises a server URL typed by a person.
pub fn normalise_server_url(url: &str) -> CoreResult<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = url::Url::parse(trimmed).map_err(|e| {
        CoreError::Invalid(ErrorCode::InvalidInput, format!("\"{trimmed}\" is not a valid server URL: {e}"))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(CoreError::Invalid(
            ErrorCode::InvalidInput,
            "the server URL must start with http:// or https://".into(),
        ));
    }
    Ok(trimmed.to_owned())
}

impl ApiClient {
    pub fn new(base: &str, token: Option<SecretString>) -> CoreResult<ApiClient> {
        Self::with_tokens(base, Tokens { access: token, refresh: None }, None)
    }

    /// A client that renews its access token with `tokens.refresh` when the server says
    /// it expired, and hands the new tokens to `on_refresh`.
    pub fn with_tokens(base: &str, tokens: Tokens, on_refresh: Option<OnRefresh>) -> CoreResult<ApiClient> {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("Handoff Inbox/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(ApiClient {
            http,
            base: normalise_server_url(base)?,
            tokens: std::sync::Arc::new(tokio::sync::Mutex::new(tokens)),
            on_refresh,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The current access token.
    pub async fn token(&self) -> Option<SecretString> {
        self.tokens.lock().await.access.clone()
    }

    /// Exchanges the refresh token for new tokens, unless another call already did
    /// since `stale` was read. Returns whether there is a new access token.
    async fn renew(&self, stale: Option<&SecretString>) -> CoreResult<bool> {
        let mut tokens = self.tokens.lock().await;
        if tokens.access.as_ref().map(|t| t.expose()) != stale.map(|t| t.expose()) {
            return Ok(true); // renewed meanwhile
        }
        let Some(refresh) = tokens.refresh.clone() else { return Ok(false) };
        let resp = self
            .http
            .post(format!("{}/v1/auth/refresh", self.base))
            .json(&RefreshRequest { refresh_token: refresh })
            .send()
            .await
            .map_err(|e| CoreError::Network(e.without_url().to_string()))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| CoreError::Network(e.without_url().to_string()))?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ApiError>(&bytes) {
                Ok(e) => CoreError::Api(e),
                Err(_) => {
                    CoreError::Api(ApiError::new(ErrorCode::Unauthorized, format!("refresh answered HTTP {status}")))
                }
            });
        }
        let r: RefreshResponse = serde_json::from_slice(&bytes)
            .map_err(|e| CoreError::Internal(format!("unexpected answer from the server: {e}")))?;
        *tokens = Tokens { access: Some(r.token), refresh: Some(r.refresh_token) };
        if let Some(keep) = &self.on_refresh {
            keep(&tokens);
        }
        tracing::info!("access token renewed");
        Ok(true)
    }

    /// The live-events WebSocket URL.
    pub fn events_url(&self) -> String {
        let ws = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!("ws://{}", self.base.trim_start_matches("http://"))
        };
        format!("{ws}/v1/events")
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> CoreResult<T> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.json(b);
        }
        self.answer(req).await
    }

    /// Sends with the access token; when it has expired, renews it once and resends.
    async fn send_authed(&self, req: reqwest::RequestBuilder) -> CoreResult<reqwest::Response> {
        let token = self.token().await;
        let retry = req.try_clone();
        let authed = |r: reqwest::RequestBuilder, t: &Option<SecretString>| match t {
            Some(t) => r.bearer_auth(t.expose()),
            None => r,
        };
        let resp = authed(req, &token).send().await.map_err(|e| CoreError::Network(e.without_url().to_string()))?;
        let expired = resp.status() == reqwest::StatusCode::UNAUTHORIZED
            && resp.headers().get("x-handoff-error").and_then(|v| v.to_str().ok()) == Some("token_expired");
        let Some(retry) = retry.filter(|_| expired) else { return Ok(resp) };
        if !self.renew(token.as_ref()).await? {
            return Ok(resp);
        }
        let token = self.token().await;
        authed(retry, &token).send().await.map_err(|e| CoreError::Network(e.without_url().to_string()))
    }

    async fn answer<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> CoreResult<T> {
        let resp = self.send_authed(req).await?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| CoreError::Network(e.without_url().to_string()))?;
        if status.is_success() {
            let bytes = if bytes.is_empty() { &b"null"[..] } else { &bytes[..] };
            return serde_json::from_slice(bytes)
                .map_err(|e| CoreError::Internal(format!("unexpected answer from the server: {e}")));
        }
        Err(match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(e) => CoreError::Api(e),
            Err(_) => CoreError::Api(ApiError::new(ErrorCode::Internal, format!("the server answered HTTP {status}"))),
        })
    }

    pub async fn login(&self, email: &str, password: SecretString) -> CoreResult<LoginResponse> {
        self.call(Method::POST, "/v1/auth/login", Some(&LoginRequest { email: email.to_owned(), password })).await
    }

    pub async fn logout(&self) -> CoreResult<()> {
        self.call::<(), ()>(Method::POST, "/v1/auth/logout", None).await
    }

    pub async fn me(&self) -> CoreResult<Agent> {
        self.call::<(), _>(Method::GET, "/v1/me", None).await
    }

    pub async fn set_availability(&self, availability: Availability) -> CoreResult<Agent> {
        self.call(Method::PUT, "/v1/me/availability", Some(&AvailabilityRequest { availability })).await
    }

    /// The app is there; with `active`, so is the person (keeps them from going away).
    pub async fn heartbeat(&self, active: bool) -> CoreResult<()> {
        self.call(Method::POST, "/v1/me/heartbeat", Some(&serde_json::json!({ "active": active }))).await
    }

    /// Changes after `cursor`; with `snapshot` (the last conversation id of the
    /// previous page, 0 to begin) a page of the bootstrap snapshot instead.
    pub async fn sync(&self, cursor: i64, snapshot: Option<i64>) -> CoreResult<SyncResponse> {
        let path = match snapshot {
            Some(after) => format!("/v1/sync?cursor={cursor}&snapshot={after}"),
            None => format!("/v1/sync?cursor={cursor}"),
        };
        self.call::<(), _>(Method::GET, &path, None).await
    }

    pub async fn conversations(&self) -> CoreResult<Vec<Conversation>> {
        self.call::<(), _>(Method::GET, "/v1/conversations", None).await
    }

    pub async fn conversation(&self, id: ConversationId) -> CoreResult<ConversationDetail> {
        self.call::<(), _>(Method::GET, &format!("/v1/conversations/{id}"), None).await
    }

    pub async fn send_message(&self, id: ConversationId, client_id: &str, text: &str) -> CoreResult<Message> {
        let body = SendMessageRequest { client_id: client_id.to_owned(), text: text.to_owned(), ..Default::default() };
        self.send(id, &body).await
    }

    /// Any message: text, a quoted reply, an uploaded file, buttons.
    pub async fn send(&self, id: ConversationId, body: &SendMessageRequest) -> CoreResult<Message> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/messages"), Some(body)).await
    }

    /// Uploads a file to send in conversation `id`.
    pub async fn upload(
        &self,
        id: ConversationId,
        bytes: Vec<u8>,
        mime: &str,
        filename: &str,
    ) -> CoreResult<Attachment> {
        let encoded = percent_encoding::utf8_percent_encode(filename, percent_encoding::NON_ALPHANUMERIC).to_string();
        let req = self
            .http
            .post(format!("{}/v1/conversations/{id}/attachments", self.base))
            .header("content-type", mime)
            .header("x-filename", encoded)
            .body(bytes);
        self.answer(req).await
    }

    pub async fn resolve(&self, id: ConversationId, note: Option<String>) -> CoreResult<()> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/resolve"), Some(&ResolveRequest { note })).await
    }

    pub async fn templates(&self) -> CoreResult<Vec<Template>> {
        self.call::<(), _>(Method::GET, "/v1/templates", None).await
    }

    pub async fn send_template(&self, id: ConversationId, req: &SendTemplateRequest) -> CoreResult<Message> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/template"), Some(req)).await
    }

    /// A media file of a message: (content type, bytes).
    pub async fn media(&self, message_id: MessageId) -> CoreResult<(String, Vec<u8>)> {
        let resp = self.send_authed(self.http.get(format!("{}/v1/media/{}", self.base, message_id))).await?;
        let status = resp.status();
        let mime = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = resp.bytes().await.map_err(|e| CoreError::Network(e.without_url().to_string()))?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ApiError>(&bytes) {
                Ok(e) => CoreError::Api(e),
                Err(_) => {
                    CoreError::Api(ApiError::new(ErrorCode::Internal, format!("the server answered HTTP {status}")))
                }
            });
        }
        Ok((mime, bytes.to_vec()))
    }

    /// Blue ticks on the customer's last message.
    pub async fn mark_read(&self, id: ConversationId) -> CoreResult<()> {
        self.call::<(), ()>(Method::POST, &format!("/v1/conversations/{id}/read"), None).await
    }

    /// The typing indicator in the customer's WhatsApp.
    pub async fn typing(&self, id: ConversationId) -> CoreResult<()> {
        self.call::<(), ()>(Method::POST, &format!("/v1/conversations/{id}/typing"), None).await
    }

    pub async fn handoff(&self, id: ConversationId, req: &HandoffRequest) -> CoreResult<Handoff> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/handoff"), Some(req)).await
    }

    /// A POST applied once on the server whatever the retries (`Idempotency-Key`).
    async fn call_once<B: Serialize, T: DeserializeOwned>(&self, path: &str, key: &str, body: &B) -> CoreResult<T> {
        let req = self.http.post(format!("{}{}", self.base, path)).header("idempotency-key", key).json(body);
        self.answer(req).await
    }

    pub async fn claim(&self, id: ConversationId, key: &str) -> CoreResult<Conversation> {
        self.call_once(&format!("/v1/conversations/{id}/claim"), key, &serde_json::json!({})).await
    }

    pub async fn transfer(&self, id: ConversationId, req: &TransferRequest, key: &str) -> CoreResult<Conversation> {
        self.call_once(&format!("/v1/conversations/{id}/transfer"), key, req).await
    }

    pub async fn resolve_once(&self, id: ConversationId, note: Option<String>, key: &str) -> CoreResult<()> {
        self.call_once(&format!("/v1/conversations/{id}/resolve"), key, &ResolveRequest { note }).await
    }

    pub async fn add_note(&self, id: ConversationId, req: &NoteRequest) -> CoreResult<Message> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/notes"), Some(req)).await
    }

    pub async fn set_labels(&self, id: ConversationId, labels: &[String]) -> CoreResult<Conversation> {
        self.call(Method::PUT, &format!("/v1/conversations/{id}/labels"), Some(&labels)).await
    }

    pub async fn canned_responses(&self) -> CoreResult<Vec<CannedResponse>> {
        self.call::<(), _>(Method::GET, "/v1/canned-responses", None).await
    }

    pub async fn render_canned(&self, id: i64, conversation: ConversationId) -> CoreResult<RenderedResponse> {
        let body = serde_json::json!({ "conversation_id": conversation });
        self.call(Method::POST, &format!("/v1/canned-responses/{id}/render"), Some(&body)).await
    }

    pub async fn agents(&self) -> CoreResult<Vec<AgentProfile>> {
        self.call::<(), _>(Method::GET, "/v1/agents", None).await
    }

    pub async fn teams(&self) -> CoreResult<Vec<Team>> {
        self.call::<(), _>(Method::GET, "/v1/teams", None).await
    }

    pub async fn set_presence(&self, id: ConversationId, state: PresenceState) -> CoreResult<()> {
        let body = serde_json::json!({ "state": state });
        self.call(Method::PUT, &format!("/v1/conversations/{id}/presence"), Some(&body)).await
    }

    // ---- the manager console ----

    pub async fn board(&self) -> CoreResult<Board> {
        self.call::<(), _>(Method::GET, "/v1/board", None).await
    }

    pub async fn metrics(&self, q: &MetricsQuery) -> CoreResult<MetricsReport> {
        self.call::<(), _>(Method::GET, &format!("/v1/metrics?{}", query_string(q)), None).await
    }

    pub async fn breaches(&self, q: &MetricsQuery) -> CoreResult<BreachReport> {
        self.call::<(), _>(Method::GET, &format!("/v1/metrics/breaches?{}", query_string(q)), None).await
    }

    pub async fn handoff_timeline(&self, id: HandoffId) -> CoreResult<Vec<TimelineEvent>> {
        self.call::<(), _>(Method::GET, &format!("/v1/handoffs/{id}/timeline"), None).await
    }

    pub async fn set_priority(&self, id: ConversationId, priority: Priority) -> CoreResult<Conversation> {
        self.call(Method::PUT, &format!("/v1/conversations/{id}/priority"), Some(&PriorityRequest { priority })).await
    }

    /// Assigns (or reassigns) a conversation: the team's managers and admins.
    pub async fn assign(&self, id: ConversationId, agent_id: AgentId) -> CoreResult<Conversation> {
        self.call(
            Method::POST,
            &format!("/v1/conversations/{id}/assign"),
            Some(&serde_json::json!({ "agent_id": agent_id })),
        )
        .await
    }
}

/// `from=..&to=..` and each given filter (all of them plain numbers or names).
pub fn query_string(q: &MetricsQuery) -> String {
    let value = serde_json::to_value(q).unwrap_or_default();
    let mut parts = Vec::new();
    for (k, v) in value.as_object().into_iter().flatten() {
        let v = match v {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parts.push(format!("{k}={v}"));
    }
    parts.join("&")
}

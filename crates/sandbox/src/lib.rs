//! The WhatsApp sandbox: plays Meta so Handoff runs without a Meta account.
//!
//! - A fake Graph API: `POST /{version}/{phone_number_id}/messages` in Meta's exact
//!   wire format, answering like Meta (success and error envelopes, error codes).
//! - Signed `sent` / `delivered` / `read` status webhooks for what it accepted.
//! - Simulated customers who write in (signed inbound webhooks) and read replies; a
//!   control API under `/sandbox/...` for tests and the demo.

pub mod simulate;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use handoff_whatsapp::payloads::{self, BusinessNumber};
use handoff_whatsapp::{sign, MAX_TEXT_CHARS};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Mutex;

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    /// Where to deliver webhooks: the Handoff server's `/webhooks/whatsapp`.
    pub webhook_url: String,
    /// The app secret webhooks are signed with (the server's `--wa-app-secret`).
    pub app_secret: String,
    /// The bearer token the Graph API accepts (the server's `--wa-access-token`).
    pub access_token: String,
    pub number: BusinessNumber,
    /// Send `sent` / `delivered` / `read` status webhooks for accepted messages.
    pub status_webhooks: bool,
    /// Delay between consecutive statuses of one message.
    pub status_delay: Duration,
}

impl SandboxConfig {
    pub fn new(webhook_url: &str, app_secret: &str, access_token: &str, phone_number_id: &str) -> SandboxConfig {
        SandboxConfig {
            listen: "127.0.0.1:0".parse().expect("valid address"),
            webhook_url: webhook_url.to_owned(),
            app_secret: app_secret.to_owned(),
            access_token: access_token.to_owned(),
            number: BusinessNumber {
                waba_id: "200000000000001".into(),
                phone_number_id: phone_number_id.to_owned(),
                display_phone_number: "15550100".into(),
            },
            status_webhooks: true,
            status_delay: Duration::from_millis(150),
        }
    }
}

/// One line of a customer's WhatsApp screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptLine {
    /// `customer` (they wrote it) or `business` (they received it).
    pub from: String,
    pub text: String,
    pub wamid: String,
}

/// A send request as the fake Graph API received it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceivedSend {
    pub phone_number_id: String,
    pub wamid: String,
    /// The JSON body exactly as posted.
    pub body: Value,
}

struct Store {
    received: Vec<ReceivedSend>,
    transcripts: HashMap<String, Vec<TranscriptLine>>,
    /// The WhatsApp Business Account's templates, in Meta's list format.
    templates: Vec<Value>,
    /// Mark-as-read (and typing indicator) requests, as received.
    reads: Vec<Value>,
    /// Media files customers sent: id -> (mime type, bytes).
    media: HashMap<String, (String, Vec<u8>)>,
    /// Fail this many media downloads with HTTP 500 (to test retries).
    fail_downloads: usize,
    /// Each customer's profile name, as last used.
    names: HashMap<String, String>,
    /// Fail the next sends with these Meta error codes, in order.
    fail_sends: std::collections::VecDeque<i64>,
    /// Sends refused on purpose (the request bodies).
    refused: Vec<Value>,
    /// How status webhooks misbehave, as Meta's sometimes do.
    status_mode: StatusMode,
    /// Status webhooks the server answered with 200, per message.
    statuses_delivered: HashMap<String, usize>,
}

/// How the sandbox delivers the `sent` / `delivered` / `read` statuses of a
/// message: Meta delivers webhooks at least once and in no guaranteed order,
/// and tests (and the demo) can ask for exactly that.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusMode {
    /// Deliver every status webhook this many times (0 and 1 both mean once).
    #[serde(default)]
    pub copies: u8,
    /// Deliver a message's statuses newest first (`read`, `delivered`, `sent`).
    #[serde(default)]
    pub reversed: bool,
}

/// Templates the sandbox's business account starts with.
pub fn demo_templates() -> Vec<Value> {
    let t = |id: &str, name: &str, lang: &str, status: &str, category: &str, body: &str| {
        json!({"id": id, "name": name, "language": lang, "status": status, "category": category,
               "components": [{"type": "BODY", "text": body}]})
    };
    vec![
        t("1001", "order_update", "en_US", "APPROVED", "UTILITY", "Hi {{1}}, your order {{2}} is on its way."),
        t(
            "1002",
            "follow_up",
            "en_US",
            "APPROVED",
            "UTILITY",
            "Hi {{1}}, we're following up on your conversation with Acme. Reply to continue.",
        ),
        t(
            "1003",
            "lead_followup",
            "en_US",
            "APPROVED",
            "MARKETING",
            "Hi {{1}}! Thanks for your interest in {{2}}. Can we help you here on WhatsApp?",
        ),
        t("1004", "spring_sale", "en_US", "PENDING", "MARKETING", "Spring sale: {{1}} off everything this week."),
    ]
}

impl Default for Store {
    fn default() -> Self {
        Store {
            received: Vec::new(),
            transcripts: HashMap::new(),
            templates: demo_templates(),
            reads: Vec::new(),
            media: HashMap::new(),
            fail_downloads: 0,
            names: HashMap::new(),
            fail_sends: Default::default(),
            refused: Vec::new(),
            status_mode: StatusMode::default(),
            statuses_delivered: HashMap::new(),
        }
    }
}

struct Inner {
    config: SandboxConfig,
    /// The sandbox's own base URL (for media download links).
    self_url: std::sync::RwLock<String>,
    webhook_url: std::sync::RwLock<String>,
    http: reqwest::Client,
    counter: AtomicU64,
    store: Mutex<Store>,
}

#[derive(Clone)]
pub struct Sandbox(Arc<Inner>);

/// A running sandbox.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    pub sandbox: Sandbox,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSandbox {
    /// The Graph API base URL to give the Handoff server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds and serves the sandbox.
pub async fn start(config: SandboxConfig) -> anyhow::Result<RunningSandbox> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let sandbox = Sandbox::new(config);
    *sandbox.0.self_url.write().expect("not poisoned") = format!("http://{addr}");
    let app = sandbox.router();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "sandbox stopped");
        }
    });
    Ok(RunningSandbox { addr, sandbox, task })
}

/// Meta's error envelope.
fn graph_error(status: StatusCode, code: i64, kind: &str, message: &str, details: Option<&str>) -> Response {
    let mut err = json!({
        "message": message,
        "type": kind,
        "code": code,
        "fbtrace_id": "ASandboxTraceId",
    });
    if let Some(d) = details {
        err["error_data"] = json!({ "messaging_product": "whatsapp", "details": d });
    }
    (status, Json(json!({ "error": err }))).into_response()
}

fn param_error(details: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, 100, "OAuthException", "(#100) Invalid parameter", Some(details))
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Sandbox {
        Sandbox(Arc::new(Inner {
            self_url: std::sync::RwLock::new(String::new()),
            webhook_url: std::sync::RwLock::new(config.webhook_url.clone()),
            config,
            http: reqwest::Client::new(),
            counter: AtomicU64::new(1),
            store: Mutex::new(Store::default()),
        }))
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.0.config
    }

    /// Points webhooks at another URL (a server started after the sandbox).
    pub fn set_webhook_url(&self, url: &str) {
        *self.0.webhook_url.write().expect("not poisoned") = url.to_owned();
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/{version}/{phone_number_id}/messages", post(graph_send))
            .route("/{version}/{phone_number_id}/media", post(graph_upload))
            .route("/{version}/{waba_id}/message_templates", get(graph_templates))
            .route("/sandbox/templates/{name}/status", post(control_template_status))
            .route("/{version}/{media_id}", get(graph_media_info))
            .route("/media-files/{media_id}", get(media_download))
            .route("/sandbox/sent", get(control_sent))
            .route("/sandbox/reads", get(control_reads))
            .route("/sandbox/fail-sends", post(control_fail_sends))
            .route("/sandbox/status-mode", post(control_status_mode))
            .route("/sandbox/customers/{wa_id}/messages", post(control_customer_says))
            .route("/sandbox/customers/{wa_id}/transcript", get(control_transcript))
            .route("/sandbox/customers/{wa_id}/media", post(control_customer_media))
            .with_state(self.clone())
    }

    fn next_wamid(&self) -> String {
        let n = self.0.counter.fetch_add(1, Ordering::Relaxed);
        format!("wamid.SBX{:020}{:08X}", n, rand::random::<u32>())
    }

    /// Meta's answer to a missing or wrong access token (`None` when it is right).
    fn check_bearer(&self, headers: &HeaderMap) -> Option<Response> {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if auth.strip_prefix("Bearer ") == Some(self.0.config.access_token.as_str()) {
            return None;
        }
        Some(graph_error(
            StatusCode::UNAUTHORIZED,
            190,
            "OAuthException",
            "Invalid OAuth access token - Cannot parse access token",
            None,
        ))
    }

    /// Everything the fake Graph API accepted, in order.
    pub async fn sent(&self) -> Vec<ReceivedSend> {
        self.0.store.lock().await.received.clone()
    }

    /// Makes the next `n` sends fail with Meta's error `code` (130429, 131047, 190, ...).
    pub async fn fail_next_sends(&self, code: i64, n: usize) {
        let mut store = self.0.store.lock().await;
        store.fail_sends.extend(std::iter::repeat_n(code, n));
    }

    /// Sends refused on purpose by [`Sandbox::fail_next_sends`].
    pub async fn refused(&self) -> Vec<Value> {
        self.0.store.lock().await.refused.clone()
    }

    /// Makes the next `n` media downloads fail with HTTP 500.
    pub async fn fail_next_downloads(&self, n: usize) {
        self.0.store.lock().await.fail_downloads = n;
    }

    /// Customer `wa_id` sends a media file (`kind`: image, video, audio, document,
    /// sticker). `claimed_sha256` overrides the hash the webhook announces (to test
    /// corrupted downloads). Returns the wamid and the server's HTTP status.
    pub async fn customer_sends_media(
        &self,
        wa_id: &str,
        kind: &str,
        mime: &str,
        bytes: Vec<u8>,
        caption: Option<&str>,
        claimed_sha256: Option<&str>,
    ) -> anyhow::Result<(String, u16)> {
        use base64::Engine as _;
        use sha2::Digest as _;
        let media_id = format!("{}", 7_000_000_000u64 + self.0.counter.fetch_add(1, Ordering::Relaxed));
        let sha = claimed_sha256
            .map(str::to_owned)
            .unwrap_or_else(|| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes)));
        let name = {
            let mut store = self.0.store.lock().await;
            store.media.insert(media_id.clone(), (mime.to_owned(), bytes));
            store.names.get(wa_id).cloned().unwrap_or_else(|| "Sandbox Customer".into())
        };
        let wamid = self.next_wamid();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
        let mut object = json!({ "id": media_id, "mime_type": mime, "sha256": sha });
        if let Some(c) = caption {
            object["caption"] = json!(c);
        }
        let n = &self.0.config.number;
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": n.waba_id, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": n.display_phone_number, "phone_number_id": n.phone_number_id},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid, "timestamp": now.to_string(), "type": kind, kind: object}]}}]}]});
        let status = self.deliver_webhook(&body).await?;
        Ok((wamid, status))
    }

    /// Mark-as-read and typing requests the fake Graph API received.
    pub async fn reads(&self) -> Vec<Value> {
        self.0.store.lock().await.reads.clone()
    }

    /// What customer `wa_id` sees on their phone.
    pub async fn transcript(&self, wa_id: &str) -> Vec<TranscriptLine> {
        self.0.store.lock().await.transcripts.get(wa_id).cloned().unwrap_or_default()
    }

    /// Delivers like Meta: on anything but 200 (or no answer), tries again with backoff,
    /// for about a minute here (Meta keeps trying for 7 days).
    pub async fn deliver_webhook_retrying(&self, body: &Value) -> anyhow::Result<u16> {
        let waits = [100u64, 250, 500, 1000, 1000, 2000, 2000, 4000, 8000, 15000, 30000];
        let mut last = Err(anyhow::anyhow!("not tried"));
        for wait in std::iter::once(0).chain(waits) {
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            last = self.deliver_webhook(body).await;
            if matches!(last, Ok(200)) {
                return last;
            }
        }
        last
    }

    /// Signs `body` like Meta and posts it to the server's webhook once. Returns the
    /// HTTP status the server answered.
    pub async fn deliver_webhook(&self, body: &Value) -> anyhow::Result<u16> {
        let bytes = serde_json::to_vec(body)?;
        let url = self.0.webhook_url.read().expect("not poisoned").clone();
        let resp = self
            .0
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sign(&self.0.config.app_secret, &bytes))
            .body(bytes)
            .send()
            .await?;
        Ok(resp.status().as_u16())
    }

    /// Customer `wa_id` (profile name `name`) writes `text` to the business. Returns the
    /// new message's wamid and the server's HTTP status.
    pub async fn customer_says(&self, wa_id: &str, name: &str, text: &str) -> anyhow::Result<(String, u16)> {
        let wamid = self.next_wamid();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
        let body = payloads::inbound_text(&self.0.config.number, wa_id, name, &wamid, now, text);
        self.0.store.lock().await.names.insert(wa_id.to_owned(), name.to_owned());
        self.0.store.lock().await.transcripts.entry(wa_id.to_owned()).or_default().push(TranscriptLine {
            from: "customer".into(),
            text: text.to_owned(),
            wamid: wamid.clone(),
        });
        let status = self.deliver_webhook(&body).await?;
        Ok((wamid, status))
    }

    /// Makes later status webhooks arrive duplicated and/or newest first.
    pub async fn set_status_mode(&self, mode: StatusMode) {
        self.0.store.lock().await.status_mode = mode;
    }

    /// How many status webhooks about this message the server has accepted.
    pub async fn statuses_delivered(&self, wamid: &str) -> usize {
        self.0.store.lock().await.statuses_delivered.get(wamid).copied().unwrap_or_default()
    }

    async fn send_statuses(self, wamid: String, recipient: String, callback: Option<String>) {
        let mode = self.0.store.lock().await.status_mode;
        let sent_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        // Each status keeps the timestamp of when it happened, whatever order
        // it is delivered in.
        let mut statuses = vec![("sent", sent_at), ("delivered", sent_at + 1), ("read", sent_at + 2)];
        if mode.reversed {
            statuses.reverse();
        }
        for (st, at) in statuses {
            tokio::time::sleep(self.0.config.status_delay).await;
            let body =
                payloads::status_with_callback(&self.0.config.number, &wamid, st, &recipient, at, callback.as_deref());
            for _ in 0..mode.copies.max(1) {
                match self.deliver_webhook_retrying(&body).await {
                    Ok(200) => *self.0.store.lock().await.statuses_delivered.entry(wamid.clone()).or_default() += 1,
                    Ok(code) => tracing::warn!(code, status = st, "server refused a status webhook"),
                    Err(e) => tracing::warn!(error = %e, "status webhook not delivered"),
                }
            }
        }
    }
}

/// The fake `POST /{version}/{phone_number_id}/messages`.
async fn graph_send(
    State(sb): State<Sandbox>,
    Path((version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refused) = sb.check_bearer(&headers) {
        return refused;
    }
    if !version.starts_with('v') {
        return graph_error(StatusCode::BAD_REQUEST, 2500, "OAuthException", "Unknown path components", None);
    }
    if phone_number_id != sb.0.config.number.phone_number_id {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "GraphMethodException",
            &format!("Unsupported post request. Object with ID '{phone_number_id}' does not exist"),
            None,
        );
    }
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return param_error("The request body is not valid JSON"),
    };
    {
        let mut store = sb.0.store.lock().await;
        if v.get("status").is_none() {
            if let Some(code) = store.fail_sends.pop_front() {
                store.refused.push(v.clone());
                let (status, title) = meta_error(code);
                return graph_error(status, code, "OAuthException", title, Some(title));
            }
        }
    }
    if v.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        return param_error("The parameter messaging_product is required and must be \"whatsapp\"");
    }
    if v.get("status").and_then(Value::as_str) == Some("read") {
        // Mark-as-read (and typing indicator) requests.
        if v.get("message_id").and_then(Value::as_str).is_none() {
            return param_error("The parameter message_id is required");
        }
        sb.0.store.lock().await.reads.push(v.clone());
        return Json(json!({ "success": true })).into_response();
    }
    let to = v.get("to").and_then(Value::as_str);
    let recipient = v.get("recipient").and_then(Value::as_str);
    let address = match (to, recipient) {
        (Some(t), None) => t.trim_start_matches('+').to_owned(),
        (None, Some(r)) => r.to_owned(),
        (Some(_), Some(_)) => return param_error("Send either \"to\" or \"recipient\", not both"),
        (None, None) => return param_error("The parameter to is required"),
    };

    let kind = v.get("type").and_then(Value::as_str).unwrap_or("text");
    let text = match kind {
        "text" => {
            let Some(b) = v.pointer("/text/body").and_then(Value::as_str) else {
                return param_error("The parameter text['body'] is required");
            };
            if b.is_empty() {
                return param_error("Message text body cannot be empty");
            }
            if b.chars().count() > MAX_TEXT_CHARS {
                return param_error("Param text['body'] must be at most 4096 characters long");
            }
            b.to_owned()
        }
        "template" => {
            let name = v.pointer("/template/name").and_then(Value::as_str).unwrap_or_default();
            let lang = v.pointer("/template/language/code").and_then(Value::as_str).unwrap_or_default();
            let store = sb.0.store.lock().await;
            let found = store.templates.iter().find(|t| t["name"] == name && t["language"] == lang);
            match found.map(|t| t["status"].as_str().unwrap_or_default().to_owned()) {
                Some(s) if s == "APPROVED" => format!("[template {name}]"),
                Some(_) => {
                    return graph_error(
                        StatusCode::BAD_REQUEST,
                        132015,
                        "OAuthException",
                        "Template is paused or not approved",
                        Some(name),
                    )
                }
                None => {
                    return graph_error(
                        StatusCode::NOT_FOUND,
                        132001,
                        "OAuthException",
                        "Template name does not exist in the translation",
                        Some(&format!("template name ({name}) does not exist in {lang}")),
                    )
                }
            }
        }
        "image" | "video" | "audio" | "document" | "sticker" => {
            let Some(object) = v.get(kind) else {
                return param_error(&format!("The parameter {kind} is required"));
            };
            match (object.get("id").and_then(Value::as_str), object.get("link").and_then(Value::as_str)) {
                (Some(id), None) => {
                    if !sb.0.store.lock().await.media.contains_key(id) {
                        return graph_error(
                            StatusCode::BAD_REQUEST,
                            131053,
                            "OAuthException",
                            "Media upload error",
                            Some(&format!("Media id {id} is not known for this number")),
                        );
                    }
                }
                (None, Some(_)) => {}
                _ => return param_error(&format!("Send exactly one of {kind}['id'] and {kind}['link']")),
            }
            match object.get("caption").and_then(Value::as_str) {
                Some(c) if !c.is_empty() => format!("[{kind}] {c}"),
                _ => format!("[{kind}]"),
            }
        }
        "interactive" => {
            let Some(i) = v.get("interactive") else {
                return param_error("The parameter interactive is required");
            };
            if let Err(why) = check_interactive(i) {
                return param_error(&why);
            }
            i.pointer("/body/text").and_then(Value::as_str).unwrap_or_default().to_owned()
        }
        "location" | "contacts" | "reaction" => {
            if v.get(kind).is_none() {
                return param_error(&format!("The parameter {kind} is required"));
            }
            format!("[{kind}]")
        }
        other => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                131051,
                "OAuthException",
                "Unsupported message type",
                Some(&format!("Message type {other} is not supported")),
            )
        }
    };
    let wamid = sb.next_wamid();
    {
        let mut store = sb.0.store.lock().await;
        store.received.push(ReceivedSend {
            phone_number_id: phone_number_id.clone(),
            wamid: wamid.clone(),
            body: v.clone(),
        });
        store.transcripts.entry(address.clone()).or_default().push(TranscriptLine {
            from: "business".into(),
            text,
            wamid: wamid.clone(),
        });
    }
    if sb.0.config.status_webhooks {
        let callback = v.get("biz_opaque_callback_data").and_then(Value::as_str).map(str::to_owned);
        tokio::spawn(sb.clone().send_statuses(wamid.clone(), address.clone(), callback));
    }
    let input = to.or(recipient).unwrap_or_default();
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": input, "wa_id": address }],
        "messages": [{ "id": wamid }]
    }))
    .into_response()
}

/// Meta's limits on outgoing interactive messages (reply buttons and lists).
fn check_interactive(i: &Value) -> Result<(), String> {
    let body = i.pointer("/body/text").and_then(Value::as_str).unwrap_or_default();
    if body.is_empty() || body.chars().count() > 1024 {
        return Err("interactive['body']['text'] is required and at most 1024 characters".into());
    }
    match i.get("type").and_then(Value::as_str) {
        Some("button") => {
            let buttons = i.pointer("/action/buttons").and_then(Value::as_array).cloned().unwrap_or_default();
            if buttons.is_empty() || buttons.len() > 3 {
                return Err("interactive['action']['buttons'] must have 1 to 3 buttons".into());
            }
            for b in &buttons {
                let title = b.pointer("/reply/title").and_then(Value::as_str).unwrap_or_default();
                let id = b.pointer("/reply/id").and_then(Value::as_str).unwrap_or_default();
                if title.is_empty() || title.chars().count() > 20 || id.is_empty() || id.len() > 256 {
                    return Err("each button needs a reply id and a title of at most 20 characters".into());
                }
            }
            Ok(())
        }
        Some("list") => {
            let button = i.pointer("/action/button").and_then(Value::as_str).unwrap_or_default();
            if button.is_empty() || button.chars().count() > 20 {
                return Err("interactive['action']['button'] is required and at most 20 characters".into());
            }
            let sections = i.pointer("/action/sections").and_then(Value::as_array).cloned().unwrap_or_default();
            let rows: usize =
                sections.iter().map(|s| s.get("rows").and_then(Value::as_array).map_or(0, Vec::len)).sum();
            if sections.is_empty() || sections.len() > 10 || rows == 0 || rows > 10 {
                return Err("a list needs 1 to 10 sections with 1 to 10 rows in all".into());
            }
            Ok(())
        }
        other => Err(format!("interactive type {other:?} is not supported here")),
    }
}

/// `POST /{version}/{phone_number_id}/media`: a business uploads a file to send later.
async fn graph_upload(
    State(sb): State<Sandbox>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    mut form: axum::extract::Multipart,
) -> Response {
    if let Some(refused) = sb.check_bearer(&headers) {
        return refused;
    }
    if phone_number_id != sb.0.config.number.phone_number_id {
        return graph_error(StatusCode::BAD_REQUEST, 100, "GraphMethodException", "Unsupported post request.", None);
    }
    let (mut product, mut declared, mut file) = (None, None, None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let mime = field.content_type().map(str::to_owned);
                let Ok(bytes) = field.bytes().await else {
                    return param_error("The upload could not be read");
                };
                match name.as_str() {
                    "messaging_product" => product = Some(String::from_utf8_lossy(&bytes).into_owned()),
                    "type" => declared = Some(String::from_utf8_lossy(&bytes).into_owned()),
                    "file" => file = Some((mime, bytes.to_vec())),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => return param_error("The request body is not valid multipart form data"),
        }
    }
    if product.as_deref() != Some("whatsapp") {
        return param_error("The parameter messaging_product is required and must be \"whatsapp\"");
    }
    let Some((part_mime, bytes)) = file else {
        return param_error("The parameter file is required");
    };
    let mime = declared.or(part_mime).unwrap_or_default();
    if bytes.is_empty() || mime.is_empty() {
        return param_error("The parameter file must be a non-empty file with a type");
    }
    let id = format!("{}", 8_000_000_000_000_000u64 + sb.0.counter.fetch_add(1, Ordering::Relaxed));
    sb.0.store.lock().await.media.insert(id.clone(), (mime, bytes));
    Json(json!({ "id": id })).into_response()
}

async fn control_reads(State(sb): State<Sandbox>) -> Json<Vec<Value>> {
    Json(sb.reads().await)
}

async fn control_sent(State(sb): State<Sandbox>) -> Json<Vec<ReceivedSend>> {
    Json(sb.sent().await)
}

#[derive(Debug, Deserialize)]
struct SayRequest {
    text: String,
    #[serde(default)]
    name: Option<String>,
}

async fn control_customer_says(
    State(sb): State<Sandbox>,
    Path(wa_id): Path<String>,
    Json(req): Json<SayRequest>,
) -> Response {
    let name = req.name.unwrap_or_else(|| "Sandbox Customer".into());
    match sb.customer_says(&wa_id, &name, &req.text).await {
        Ok((wamid, status)) => Json(json!({ "wamid": wamid, "server_status": status })).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, Json(json!({ "error": e.to_string() }))).into_response(),
    }
}

async fn control_transcript(State(sb): State<Sandbox>, Path(wa_id): Path<String>) -> Json<Vec<TranscriptLine>> {
    Json(sb.transcript(&wa_id).await)
}

/// The fake `GET /{version}/{waba_id}/message_templates`.
async fn graph_templates(
    State(sb): State<Sandbox>,
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = sb.check_bearer(&headers) {
        return refused;
    }
    if waba_id != sb.0.config.number.waba_id {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "GraphMethodException",
            &format!("Unsupported get request. Object with ID '{waba_id}' does not exist"),
            None,
        );
    }
    let data = sb.0.store.lock().await.templates.clone();
    Json(json!({ "data": data, "paging": { "cursors": { "before": "MAZDZD", "after": "MjQZD" } } })).into_response()
}

#[derive(Debug, Deserialize)]
struct TemplateStatusRequest {
    status: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Changes a template's status, as Meta's review would, and sends the signed
/// `message_template_status_update` webhook.
async fn control_template_status(
    State(sb): State<Sandbox>,
    Path(name): Path<String>,
    Json(req): Json<TemplateStatusRequest>,
) -> Response {
    let lang = req.language.unwrap_or_else(|| "en_US".into());
    let (id, category) = {
        let mut store = sb.0.store.lock().await;
        let Some(t) = store.templates.iter_mut().find(|t| t["name"] == name.as_str() && t["language"] == lang.as_str())
        else {
            return (StatusCode::NOT_FOUND, Json(json!({"error": "no such template"}))).into_response();
        };
        t["status"] = json!(req.status);
        (t["id"].clone(), t["category"].clone())
    };
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": sb.0.config.number.waba_id, "changes": [{
        "field": "message_template_status_update",
        "value": {"event": req.status, "message_template_id": id, "message_template_name": name,
                  "message_template_language": lang, "reason": req.reason.unwrap_or_else(|| "NONE".into()),
                  "message_template_category": category}}]}]});
    match sb.deliver_webhook_retrying(&body).await {
        Ok(code) => Json(json!({ "server_status": code })).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, Json(json!({ "error": e.to_string() }))).into_response(),
    }
}

/// The fake `GET /{version}/{media_id}`: where to download a customer's file.
async fn graph_media_info(
    State(sb): State<Sandbox>,
    Path((_version, media_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    use sha2::Digest as _;
    if let Some(refused) = sb.check_bearer(&headers) {
        return refused;
    }
    let store = sb.0.store.lock().await;
    let Some((mime, bytes)) = store.media.get(&media_id) else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "GraphMethodException",
            "Unsupported get request.",
            Some(&media_id),
        );
    };
    let base = sb.0.self_url.read().expect("not poisoned").clone();
    Json(json!({
        "messaging_product": "whatsapp",
        "url": format!("{base}/media-files/{media_id}"),
        "mime_type": mime,
        "sha256": hex::encode(sha2::Sha256::digest(bytes)),
        "file_size": bytes.len().to_string(),
        "id": media_id,
    }))
    .into_response()
}

/// The media file itself; needs the same bearer token, like Meta's lookaside URLs.
async fn media_download(State(sb): State<Sandbox>, Path(media_id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refused) = sb.check_bearer(&headers) {
        return refused;
    }
    let mut store = sb.0.store.lock().await;
    if store.fail_downloads > 0 {
        store.fail_downloads -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    match store.media.get(&media_id) {
        Some((mime, bytes)) => ([(axum::http::header::CONTENT_TYPE, mime.clone())], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct MediaRequest {
    /// image, video, audio, document or sticker
    kind: String,
    mime_type: String,
    data_base64: String,
    #[serde(default)]
    caption: Option<String>,
}

async fn control_customer_media(
    State(sb): State<Sandbox>,
    Path(wa_id): Path<String>,
    Json(req): Json<MediaRequest>,
) -> Response {
    use base64::Engine as _;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(req.data_base64.trim()) else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "data_base64 is not base64" }))).into_response();
    };
    match sb.customer_sends_media(&wa_id, &req.kind, &req.mime_type, bytes, req.caption.as_deref(), None).await {
        Ok((wamid, status)) => Json(json!({ "wamid": wamid, "server_status": status })).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, Json(json!({ "error": e.to_string() }))).into_response(),
    }
}

/// Meta's HTTP status and title for the error codes the sandbox can play.
fn meta_error(code: i64) -> (StatusCode, &'static str) {
    match code {
        130429 => (StatusCode::BAD_REQUEST, "Rate limit hit"),
        131056 => (StatusCode::BAD_REQUEST, "(Business Account, Consumer Account) pair rate limit hit"),
        131047 => (StatusCode::BAD_REQUEST, "Re-engagement message"),
        131026 => (StatusCode::BAD_REQUEST, "Message undeliverable"),
        131000 | 1 | 2 => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong"),
        131057 => (StatusCode::SERVICE_UNAVAILABLE, "Account in maintenance mode"),
        0 | 190 => (StatusCode::UNAUTHORIZED, "Authentication error"),
        368 => (StatusCode::FORBIDDEN, "Temporarily blocked for policies violations"),
        _ => (StatusCode::BAD_REQUEST, "Error"),
    }
}

#[derive(Debug, Deserialize)]
struct FailSendsRequest {
    code: i64,
    #[serde(default = "one")]
    count: usize,
}

fn one() -> usize {
    1
}

async fn control_fail_sends(State(sb): State<Sandbox>, Json(req): Json<FailSendsRequest>) -> Json<Value> {
    sb.fail_next_sends(req.code, req.count).await;
    Json(json!({ "queued_failures": req.count, "code": req.code }))
}

/// `POST /sandbox/status-mode` `{"copies": 3, "reversed": true}`: later status
/// webhooks arrive that many times each, newest first.
async fn control_status_mode(State(sb): State<Sandbox>, Json(mode): Json<StatusMode>) -> Json<StatusMode> {
    sb.set_status_mode(mode).await;
    Json(mode)
}

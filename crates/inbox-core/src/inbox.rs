//! The desktop app's brain, with no window: session, sync engine, outbox and
//! notification policy. The Tauri shell forwards its commands here and renders what
//! the [`InboxListener`] reports.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use handoff_protocol::*;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::api::{normalise_server_url, ApiClient, Tokens};
use crate::error::{CoreError, CoreResult};
use crate::secrets::SecretStore;
use crate::store::{LocalStore, OutboxEntry, OutboxKind};

/// Who is logged in, where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub server_url: String,
    pub agent: Agent,
    pub workspace_name: String,
}

/// A conversation that just became this agent's, or that waits in their team's queue:
/// what a notification announces.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub conversation: Conversation,
    pub handoff: Option<Handoff>,
    /// `true`: waiting in the queue for anyone of the team to claim; `false`: assigned
    /// to this agent.
    pub queued: bool,
}

/// Escalations older than this when the app first hears of them (after a night
/// offline, at the start of a shift) are not announced one by one.
pub const STALE_AFTER_MS: i64 = 15 * 60 * 1000;
/// More announcements than this from one pull become a single summary.
pub const SUMMARY_OVER: usize = 3;

impl Escalation {
    /// Title and body of the desktop notification.
    pub fn notification_text(&self) -> (String, String) {
        let who = self.conversation.contact.display_name();
        let title =
            if self.queued { format!("{who} is waiting in the queue") } else { format!("{who} needs a person") };
        let body = match &self.handoff {
            Some(h) => match &h.summary {
                Some(s) => format!("{}\n{s}", h.reason),
                None => h.reason.clone(),
            },
            None => "A conversation was assigned to you.".into(),
        };
        (title, body)
    }
}

/// An SLA clock of one of this agent's conversations reached its warning (or its
/// deadline): worth a notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaAlert {
    pub conversation: Conversation,
    pub clock: SlaClock,
}

impl SlaAlert {
    pub fn notification_text(&self) -> (String, String) {
        let who = self.conversation.contact.display_name();
        let what = match self.clock.kind {
            SlaKind::FirstResponse => "First response",
            SlaKind::NextResponse => "Reply",
            SlaKind::Resolution => "Resolution",
        };
        let title = if self.clock.breached_at.is_some() {
            format!("{what} overdue: {who}")
        } else {
            format!("{what} due soon: {who}")
        };
        let body = match self.clock.due_at {
            Some(due) if self.clock.breached_at.is_none() => {
                let mins = ((due - crate::store::now_ms()) / 60_000).max(0);
                format!("Due in {mins} min.")
            }
            _ => "The customer is waiting for an answer.".into(),
        };
        (title, body)
    }
}

/// What the inbox tells its window.
pub trait InboxListener: Send + Sync + 'static {
    /// These conversations changed locally (empty: reload everything).
    fn changed(&self, conversation_ids: Vec<ConversationId>);
    /// The live connection to the server went up or down.
    fn connection(&self, connected: bool);
    /// A conversation was escalated to this agent (after the first sync of a session).
    fn escalated(&self, escalation: Escalation);
    /// Several escalations at once (a backlog, the start of a shift): one notification
    /// instead of a flood. `assigned` are this agent's, `queued` wait in the queue.
    fn escalations_summary(&self, _assigned: usize, _queued: usize) {}
    /// The server no longer accepts the session (expired or revoked token).
    fn session_ended(&self, error: &CoreError);
    /// Live-only news: someone else is viewing, typing or drafting in a conversation,
    /// or this agent was @mentioned in a note.
    fn live(&self, _event: &ServerEvent) {}
    /// An SLA clock of a conversation assigned to this agent warned or breached (after
    /// the first sync of a session; each once).
    fn sla_alert(&self, _alert: SlaAlert) {}
}

struct Inner {
    store: LocalStore,
    secrets: Arc<dyn SecretStore>,
    listener: Arc<dyn InboxListener>,
    api: RwLock<Option<ApiClient>>,
    sync_task: std::sync::Mutex<Option<JoinHandle<()>>>,
    pull_lock: tokio::sync::Mutex<()>,
    flush_lock: tokio::sync::Mutex<()>,
    connected: AtomicBool,
    /// When activity was last reported to the server.
    last_activity: std::sync::Mutex<Option<std::time::Instant>>,
    /// The conversation on screen while the window has focus (its news needs no
    /// notification).
    focused: std::sync::Mutex<Option<ConversationId>>,
    do_not_disturb: AtomicBool,
    /// Outbox changes whose caller waits for the server's answer (by client id).
    awaited: std::sync::Mutex<std::collections::HashMap<String, Option<Applied>>>,
}

/// Activity is reported at most this often.
const ACTIVITY_EVERY: Duration = Duration::from_secs(30);

/// What became of a change: applied on the server now, or waiting in the outbox.
enum Outcome {
    /// With the server's answer when this call's flush applied it.
    Applied(OutboxEntry, Option<Box<Applied>>),
    Queued(OutboxEntry),
}

/// The server's answer to an outbox change.
enum Applied {
    Message(Message),
    Conversation(Conversation),
    Done,
}

impl Applied {
    fn conversation(self: Box<Self>) -> Option<Conversation> {
        match *self {
            Applied::Conversation(c) => Some(c),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Inbox(Arc<Inner>);

fn account(server_url: &str, email: &str) -> String {
    format!("{server_url}|{}", email.trim().to_lowercase())
}

fn new_client_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> CoreResult<T> + Send + 'static) -> CoreResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| CoreError::Internal(e.to_string()))?
}

impl Inbox {
    /// Opens the local database in `data_dir`.
    pub async fn open(
        data_dir: &Path,
        secrets: Arc<dyn SecretStore>,
        listener: Arc<dyn InboxListener>,
    ) -> CoreResult<Inbox> {
        let store = LocalStore::open(&data_dir.join("inbox.db")).await?;
        let inbox = Inbox(Arc::new(Inner {
            store,
            secrets,
            listener,
            api: RwLock::new(None),
            sync_task: std::sync::Mutex::new(None),
            pull_lock: tokio::sync::Mutex::new(()),
            flush_lock: tokio::sync::Mutex::new(()),
            connected: AtomicBool::new(false),
            last_activity: std::sync::Mutex::new(None),
            focused: std::sync::Mutex::new(None),
            do_not_disturb: AtomicBool::new(false),
            awaited: std::sync::Mutex::new(std::collections::HashMap::new()),
        }));
        let dnd = inbox.0.store.meta("do_not_disturb").await?.as_deref() == Some("1");
        inbox.0.do_not_disturb.store(dnd, Ordering::SeqCst);
        Ok(inbox)
    }

    /// Which conversation the person is looking at (`None`: the window is not focused
    /// or shows no thread). News there needs no notification.
    pub fn set_focus(&self, conversation: Option<ConversationId>) {
        *self.0.focused.lock().expect("not poisoned") = conversation;
    }

    /// Do not disturb: no desktop notifications at all (remembered across restarts).
    /// What arrives meanwhile is not announced later either.
    pub async fn set_do_not_disturb(&self, on: bool) -> CoreResult<()> {
        self.0.store.set_meta("do_not_disturb", if on { "1" } else { "0" }).await?;
        self.0.do_not_disturb.store(on, Ordering::SeqCst);
        Ok(())
    }

    pub fn do_not_disturb(&self) -> bool {
        self.0.do_not_disturb.load(Ordering::SeqCst)
    }

    /// Whether news about `conversation` deserves a desktop notification now.
    pub fn should_notify(&self, conversation: ConversationId) -> bool {
        !self.do_not_disturb() && *self.0.focused.lock().expect("not poisoned") != Some(conversation)
    }

    pub fn store(&self) -> &LocalStore {
        &self.0.store
    }

    /// Writes renewed tokens to the keyring (in the background: a refresh must not
    /// wait for the keyring).
    fn keep_tokens(&self, server_url: &str, email: &str) -> crate::api::OnRefresh {
        let secrets = self.0.secrets.clone();
        let key = account(server_url, email);
        std::sync::Arc::new(move |tokens: &Tokens| {
            let (secrets, key, saved) = (secrets.clone(), key.clone(), tokens.to_secret());
            tokio::task::spawn_blocking(move || {
                if let Err(e) = secrets.set(&key, &saved) {
                    tracing::warn!(error = %e, "renewed tokens not saved in the keyring");
                }
            });
        })
    }

    fn api(&self) -> CoreResult<ApiClient> {
        self.0.api.read().expect("not poisoned").clone().ok_or(CoreError::NotLoggedIn)
    }

    pub fn is_connected(&self) -> bool {
        self.0.connected.load(Ordering::SeqCst)
    }

    async fn saved_session(&self) -> CoreResult<Option<(Session, String)>> {
        let s = &self.0.store;
        let (Some(url), Some(email), Some(agent), Some(ws)) = (
            s.meta("server_url").await?,
            s.meta("email").await?,
            s.meta("agent").await?,
            s.meta("workspace_name").await?,
        ) else {
            return Ok(None);
        };
        let agent: Agent = serde_json::from_str(&agent).map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(Some((Session { server_url: url, agent, workspace_name: ws }, email)))
    }

    /// Restores the saved login (token from the keyring) and starts syncing. `None` when
    /// nobody is logged in.
    pub async fn session(&self) -> CoreResult<Option<Session>> {
        let Some((session, email)) = self.saved_session().await? else { return Ok(None) };
        let secrets = self.0.secrets.clone();
        let key = account(&session.server_url, &email);
        let Some(saved) = blocking(move || secrets.get(&key.clone())).await? else { return Ok(None) };
        let tokens = Tokens::from_secret(&saved);
        let api =
            ApiClient::with_tokens(&session.server_url, tokens, Some(self.keep_tokens(&session.server_url, &email)))?;
        *self.0.api.write().expect("not poisoned") = Some(api);
        self.start_sync();
        Ok(Some(session))
    }

    /// Logs in, keeps the token in the OS keyring, goes online and starts syncing.
    pub async fn login(&self, server_url: &str, email: &str, password: SecretString) -> CoreResult<Session> {
        let url = normalise_server_url(server_url)?;
        if email.trim().is_empty() || password.is_empty() {
            return Err(CoreError::Invalid(ErrorCode::InvalidInput, "enter your email and password".into()));
        }
        if !self.is_current(&url, email.trim()).await? {
            self.refuse_if_pending().await?;
        }
        let resp = ApiClient::new(&url, None)?.login(email.trim(), password).await?;
        let tokens = Tokens { access: Some(resp.token.clone()), refresh: resp.refresh_token.clone() };
        self.start_session(&url, &resp.agent.email, tokens, Some((resp.agent.id, resp.workspace_name))).await
    }

    /// Makes (`url`, `email`) with `tokens` the running session: the local copy is
    /// kept if it is the same account, else cleared, but never while changes made
    /// offline wait to be sent.
    async fn start_session(
        &self,
        url: &str,
        email: &str,
        tokens: Tokens,
        known: Option<(AgentId, String)>,
    ) -> CoreResult<Session> {
        let s = &self.0.store;
        let api = ApiClient::with_tokens(url, tokens.clone(), Some(self.keep_tokens(url, email)))?;
        let (agent_id, workspace_name) = match known {
            Some(k) => k,
            None => {
                let me = api.me().await?;
                let ws = s
                    .saved_servers()
                    .await?
                    .into_iter()
                    .find(|x| x.server_url == url && x.email.eq_ignore_ascii_case(email))
                    .map(|x| x.workspace_name)
                    .unwrap_or_default();
                (me.id, ws)
            }
        };
        let same = s.meta("server_url").await?.as_deref() == Some(url)
            && s.meta("agent").await?.and_then(|a| serde_json::from_str::<Agent>(&a).ok()).map(|a| a.id)
                == Some(agent_id);
        if !same {
            self.refuse_if_pending().await?;
        }
        self.stop_sync();
        if !same {
            s.clear().await?;
        }
        let secrets = self.0.secrets.clone();
        let (key, saved) = (account(url, email), tokens.to_secret());
        blocking(move || secrets.set(&key, &saved)).await?;
        let agent = match api.set_availability(Availability::Online).await {
            Ok(a) => a,
            Err(_) => api.me().await?,
        };
        s.set_meta("server_url", url).await?;
        s.set_meta("email", &agent.email).await?;
        s.set_meta("agent", &serde_json::to_string(&agent).map_err(|e| CoreError::Internal(e.to_string()))?).await?;
        s.set_meta("workspace_name", &workspace_name).await?;
        s.remember_server(&crate::store::SavedServer {
            server_url: url.to_owned(),
            email: agent.email.clone(),
            workspace_name: workspace_name.clone(),
            agent_name: agent.name.clone(),
            last_used_at: crate::store::now_ms(),
            signed_in: true,
            current: true,
        })
        .await?;
        *self.0.api.write().expect("not poisoned") = Some(api);
        self.start_sync();
        Ok(Session { server_url: url.to_owned(), agent, workspace_name })
    }

    /// Whether (`url`, `email`) is the saved sign-in this app runs.
    async fn is_current(&self, url: &str, email: &str) -> CoreResult<bool> {
        Ok(self.saved_session().await?.is_some_and(|(s, e)| s.server_url == url && e.eq_ignore_ascii_case(email)))
    }

    /// Another account may not replace the local copy while changes made offline
    /// still wait to be sent from it.
    async fn refuse_if_pending(&self) -> CoreResult<()> {
        let waiting = self.0.store.outbox(None).await?.len();
        if waiting == 0 {
            return Ok(());
        }
        let at = self.0.store.meta("server_url").await?.unwrap_or_default();
        Err(CoreError::Invalid(
            ErrorCode::PendingChanges,
            format!("{waiting} changes made offline still wait to be sent to {at}; go online or discard them first"),
        ))
    }

    /// The servers and accounts this app signed in to, most recent first: which one
    /// runs now, and which can be switched to without a password.
    pub async fn saved_servers(&self) -> CoreResult<Vec<crate::store::SavedServer>> {
        let current = self.saved_session().await?.map(|(s, email)| (s.server_url, email));
        let mut list = self.0.store.saved_servers().await?;
        for server in &mut list {
            let secrets = self.0.secrets.clone();
            let key = account(&server.server_url, &server.email);
            server.signed_in = blocking(move || secrets.get(&key)).await?.is_some();
            server.current =
                current.as_ref().is_some_and(|(u, e)| *u == server.server_url && e.eq_ignore_ascii_case(&server.email));
        }
        Ok(list)
    }

    /// Switches to another saved sign-in (its tokens are still in the keyring); the
    /// current one stays signed in for switching back. `not_logged_in` when that
    /// sign-in needs the password again.
    pub async fn switch_server(&self, server_url: &str, email: &str) -> CoreResult<Session> {
        let url = normalise_server_url(server_url)?;
        if self.is_current(&url, email).await? && self.api().is_ok() {
            if let Some((s, _)) = self.saved_session().await? {
                return Ok(s);
            }
        }
        let secrets = self.0.secrets.clone();
        let key = account(&url, email);
        let Some(saved) = blocking(move || secrets.get(&key)).await? else {
            return Err(CoreError::NotLoggedIn);
        };
        self.start_session(&url, email, Tokens::from_secret(&saved), None).await
    }

    /// Signs a saved, not current, sign-in out (revoking its token) and forgets it.
    pub async fn forget_server(&self, server_url: &str, email: &str) -> CoreResult<()> {
        let url = normalise_server_url(server_url)?;
        if self.is_current(&url, email).await? {
            return Err(CoreError::Invalid(
                ErrorCode::InvalidInput,
                "this is the current sign-in: log out instead".into(),
            ));
        }
        let secrets = self.0.secrets.clone();
        let key = account(&url, email);
        if let Some(saved) = blocking(move || secrets.get(&key)).await? {
            if let Ok(api) = ApiClient::with_tokens(&url, Tokens::from_secret(&saved), None) {
                let _ = api.logout().await;
            }
            let secrets = self.0.secrets.clone();
            let key = account(&url, email);
            blocking(move || secrets.delete(&key)).await?;
        }
        self.0.store.forget_server(&url, email).await
    }

    /// Goes offline, revokes the token on the server, forgets it and the local data.
    pub async fn logout(&self) -> CoreResult<()> {
        self.stop_sync();
        if let Ok(api) = self.api() {
            let _ = api.set_availability(Availability::Offline).await;
            if let Err(e) = api.logout().await {
                tracing::warn!(error = %e, "server logout failed; forgetting the token anyway");
            }
        }
        if let Some((session, email)) = self.saved_session().await? {
            let secrets = self.0.secrets.clone();
            let key = account(&session.server_url, &email);
            blocking(move || secrets.delete(&key)).await?;
        }
        *self.0.api.write().expect("not poisoned") = None;
        self.0.store.clear().await?;
        self.0.listener.changed(vec![]);
        Ok(())
    }

    pub async fn conversations(&self) -> CoreResult<Vec<Conversation>> {
        self.0.store.conversations().await
    }

    pub async fn thread(&self, id: ConversationId) -> CoreResult<ConversationDetail> {
        self.0
            .store
            .thread(id)
            .await?
            .ok_or_else(|| CoreError::Api(ApiError::new(ErrorCode::NotFound, "this conversation is not in your inbox")))
    }

    /// Queues a reply (shown at once as pending) and sends it when the server is
    /// reachable; applied once on the server by its client id.
    pub async fn send_reply(&self, id: ConversationId, text: &str, reply_to: Option<MessageId>) -> CoreResult<Message> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CoreError::Invalid(ErrorCode::InvalidInput, "the message is empty".into()));
        }
        let n = text.chars().count();
        if n > 4096 {
            return Err(CoreError::Invalid(
                ErrorCode::MessageTooLong,
                format!("WhatsApp messages are at most 4096 characters; this one has {n}"),
            ));
        }
        if self.0.store.conversation(id).await?.is_none() {
            return Err(CoreError::Api(ApiError::new(ErrorCode::NotFound, "this conversation is not in your inbox")));
        }
        let reply_to = reply_to.map(|m| m.0).filter(|m| *m > 0);
        let entry = self.0.store.queue_reply(id, &new_client_id(), text, reply_to).await?;
        self.0.listener.changed(vec![id]);
        let me = self.clone();
        tokio::spawn(async move {
            if let Err(e) = me.flush_outbox().await {
                tracing::warn!(error = %e, "outbox flush failed");
            }
        });
        Ok(entry.as_message())
    }

    /// A message's media file as a `data:` URL the window can show directly (it never
    /// needs the session token).
    pub async fn media_data_url(&self, message_id: MessageId) -> CoreResult<String> {
        use base64::Engine as _;
        let (mime, bytes) = self.api()?.media(message_id).await?;
        Ok(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
    }

    /// The workspace's message templates (for a closed 24-hour window).
    pub async fn templates(&self) -> CoreResult<Vec<Template>> {
        self.api()?.templates().await
    }

    /// Sends an approved template (needs the server: templates are not queued offline).
    pub async fn send_template(
        &self,
        id: ConversationId,
        name: &str,
        language: &str,
        parameters: Vec<String>,
    ) -> CoreResult<Message> {
        let req = SendTemplateRequest {
            client_id: new_client_id(),
            name: name.to_owned(),
            language: language.to_owned(),
            parameters,
            named_parameters: Default::default(),
        };
        let m = self.api()?.send_template(id, &req).await?;
        self.pull().await?;
        Ok(m)
    }

    /// Sends a file (uploaded first), `caption` under it (needs the server: files are
    /// not queued offline).
    pub async fn send_attachment(
        &self,
        id: ConversationId,
        file: (&str, &str, Vec<u8>),
        caption: &str,
        reply_to: Option<MessageId>,
    ) -> CoreResult<Message> {
        let (filename, mime, bytes) = file;
        if bytes.is_empty() {
            return Err(CoreError::Invalid(ErrorCode::InvalidInput, "the file is empty".into()));
        }
        let api = self.api()?;
        let attachment = api.upload(id, bytes, mime, filename).await?;
        let req = SendMessageRequest {
            client_id: new_client_id(),
            text: caption.trim().to_owned(),
            reply_to,
            attachment_id: Some(attachment.id),
            interactive: None,
        };
        let m = api.send(id, &req).await?;
        self.pull().await?;
        Ok(m)
    }

    /// Sends up to three reply buttons under `body`.
    pub async fn send_interactive(
        &self,
        id: ConversationId,
        body: &str,
        buttons: Vec<String>,
        reply_to: Option<MessageId>,
    ) -> CoreResult<Message> {
        let buttons = buttons
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .enumerate()
            .map(|(i, t)| ReplyButton { id: format!("btn-{}", i + 1), title: t.to_owned() })
            .collect();
        let req = SendMessageRequest {
            client_id: new_client_id(),
            text: body.trim().to_owned(),
            reply_to,
            attachment_id: None,
            interactive: Some(InteractiveRequest::Button { buttons }),
        };
        let m = self.api()?.send(id, &req).await?;
        self.pull().await?;
        Ok(m)
    }

    /// The agent opened the thread: the customer sees blue ticks.
    pub async fn mark_read(&self, id: ConversationId) -> CoreResult<()> {
        self.api()?.mark_read(id).await
    }

    /// The agent is typing: the customer sees the typing indicator.
    pub async fn typing(&self, id: ConversationId) -> CoreResult<()> {
        self.api()?.typing(id).await
    }

    /// Writes a change to the outbox, then applies it now if the server is reachable.
    /// Online, a refusal comes back as the error and the entry is dropped (the caller
    /// still holds the draft). Offline, it waits, shown as pending; it is applied when
    /// the connection returns, in order, once (client id / Idempotency-Key), or kept
    /// with the server's reason if refused then.
    async fn change(
        &self,
        kind: OutboxKind,
        id: ConversationId,
        text: &str,
        payload: Option<serde_json::Value>,
    ) -> CoreResult<Outcome> {
        // No local check that the conversation is still here: the server has the last
        // word (a claim that lost a race must hear who won, not "not found").
        self.api()?;
        // Whichever flush applies it (this call's, or one a poke started meanwhile)
        // leaves the server's answer here.
        let client_id = new_client_id();
        self.0.awaited.lock().expect("not poisoned").insert(client_id.clone(), None);
        let queued = self.0.store.queue(kind, id, &client_id, text, None, payload).await;
        let entry = match queued {
            Ok(e) => e,
            Err(e) => {
                self.0.awaited.lock().expect("not poisoned").remove(&client_id);
                return Err(e);
            }
        };
        self.0.listener.changed(vec![id]);
        let flushed = if self.is_connected() { self.flush_outbox().await } else { Ok(()) };
        let answer = self.0.awaited.lock().expect("not poisoned").remove(&client_id).flatten();
        flushed?;
        let now = self.0.store.outbox(Some(id)).await?.into_iter().find(|e| e.client_id == entry.client_id);
        match now {
            None => Ok(Outcome::Applied(entry, answer.map(Box::new))),
            Some(e) if e.state == "failed" => {
                self.0.store.outbox_done(&e.client_id).await?;
                self.0.listener.changed(vec![id]);
                Err(CoreError::Api(e.error.unwrap_or_else(|| ApiError::new(ErrorCode::Internal, "refused"))))
            }
            Some(e) => Ok(Outcome::Queued(e)),
        }
    }

    async fn local_conversation(&self, id: ConversationId) -> CoreResult<Conversation> {
        self.0
            .store
            .conversation(id)
            .await?
            .ok_or_else(|| CoreError::Api(ApiError::new(ErrorCode::NotFound, "this conversation left your inbox")))
    }

    /// Takes a queued conversation (`already_claimed`, with the owner, when someone was
    /// faster); offline, the claim waits in the outbox.
    pub async fn claim(&self, id: ConversationId) -> CoreResult<Conversation> {
        match self.change(OutboxKind::Claim, id, "", None).await? {
            Outcome::Applied(_, answer) => match answer.and_then(|a| a.conversation()) {
                Some(c) => Ok(c),
                None => self.local_conversation(id).await,
            },
            Outcome::Queued(_) => self.local_conversation(id).await,
        }
    }

    /// Hands the conversation to an agent or a team's queue, with a note for them.
    pub async fn transfer(
        &self,
        id: ConversationId,
        agent_id: Option<AgentId>,
        team_id: Option<TeamId>,
        note: &str,
    ) -> CoreResult<Conversation> {
        if note.trim().is_empty() {
            return Err(CoreError::Invalid(
                ErrorCode::InvalidInput,
                "a transfer needs a note for whoever receives it".into(),
            ));
        }
        if agent_id.is_some() == team_id.is_some() {
            return Err(CoreError::Invalid(ErrorCode::InvalidInput, "transfer to one agent or one team".into()));
        }
        let c = self.local_conversation(id).await?;
        let target = serde_json::json!({ "agent_id": agent_id, "team_id": team_id });
        match self.change(OutboxKind::Transfer, id, note.trim(), Some(target)).await? {
            Outcome::Applied(_, answer) => match answer.and_then(|a| a.conversation()) {
                Some(c) => Ok(c),
                // Transferred away, the conversation may have left this inbox.
                None => Ok(self.0.store.conversation(id).await?.unwrap_or(c)),
            },
            Outcome::Queued(_) => Ok(c),
        }
    }

    /// An internal note (never sent to the customer); `@handle` mentions a colleague.
    /// Offline it waits in the outbox, shown as a pending note.
    pub async fn add_note(&self, id: ConversationId, text: &str) -> CoreResult<Message> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CoreError::Invalid(ErrorCode::InvalidInput, "the note is empty".into()));
        }
        let entry = match self.change(OutboxKind::Note, id, text, None).await? {
            Outcome::Applied(e, Some(answer)) => match *answer {
                Applied::Message(m) => return Ok(m),
                _ => e,
            },
            Outcome::Applied(e, _) | Outcome::Queued(e) => e,
        };
        Ok(self.0.store.message_by_client_id(&entry.client_id).await?.unwrap_or_else(|| entry.as_message()))
    }

    pub async fn set_labels(&self, id: ConversationId, labels: Vec<String>) -> CoreResult<Conversation> {
        let c = self.api()?.set_labels(id, &labels).await?;
        self.pull().await?;
        Ok(c)
    }

    /// Searches the local copy (works offline): contacts, labels and message text.
    pub async fn search(&self, query: &str) -> CoreResult<Vec<crate::store::SearchHit>> {
        self.0.store.search(query, 50).await
    }

    pub async fn canned_responses(&self) -> CoreResult<Vec<CannedResponse>> {
        self.api()?.canned_responses().await
    }

    pub async fn render_canned(&self, id: i64, conversation: ConversationId) -> CoreResult<RenderedResponse> {
        self.api()?.render_canned(id, conversation).await
    }

    pub async fn agents(&self) -> CoreResult<Vec<AgentProfile>> {
        self.api()?.agents().await
    }

    pub async fn teams(&self) -> CoreResult<Vec<Team>> {
        self.api()?.teams().await
    }

    /// The manager console's live board (managers and admins).
    pub async fn board(&self) -> CoreResult<Board> {
        self.api()?.board().await
    }

    pub async fn metrics(&self, q: &MetricsQuery) -> CoreResult<MetricsReport> {
        self.api()?.metrics(q).await
    }

    pub async fn breaches(&self, q: &MetricsQuery) -> CoreResult<BreachReport> {
        self.api()?.breaches(q).await
    }

    pub async fn handoff_timeline(&self, id: HandoffId) -> CoreResult<Vec<TimelineEvent>> {
        self.api()?.handoff_timeline(id).await
    }

    /// A manager's change of priority: online only (the board shows the server's state).
    pub async fn set_priority(&self, id: ConversationId, priority: Priority) -> CoreResult<Conversation> {
        self.api()?.set_priority(id, priority).await
    }

    /// A manager assigns, reassigns or takes over a conversation: online only.
    pub async fn assign(&self, id: ConversationId, agent_id: AgentId) -> CoreResult<Conversation> {
        self.api()?.assign(id, agent_id).await
    }

    /// Tells the others on this conversation what this agent does there.
    pub async fn set_presence(&self, id: ConversationId, state: PresenceState) -> CoreResult<()> {
        self.api()?.set_presence(id, state).await
    }

    /// Resolves (back to automation); offline, the resolve waits in the outbox.
    pub async fn resolve(&self, id: ConversationId, note: Option<String>) -> CoreResult<()> {
        let note = note.map(|n| n.trim().to_owned()).unwrap_or_default();
        self.change(OutboxKind::Resolve, id, &note, None).await?;
        Ok(())
    }

    /// Every change waiting in the outbox or refused by the server, oldest first.
    pub async fn outbox(&self) -> CoreResult<Vec<OutboxEntry>> {
        self.0.store.outbox(None).await
    }

    /// Gives up a waiting or refused change (its draft is the caller's to keep).
    pub async fn discard(&self, client_id: &str) -> CoreResult<()> {
        let id =
            self.0.store.outbox(None).await?.into_iter().find(|e| e.client_id == client_id).map(|e| e.conversation_id);
        self.0.store.outbox_done(client_id).await?;
        if let Some(id) = id {
            self.0.listener.changed(vec![id]);
        }
        Ok(())
    }

    /// Sends a refused change again (e.g. after claiming the conversation back).
    pub async fn retry(&self, client_id: &str) -> CoreResult<()> {
        if !self.0.store.outbox_retry(client_id).await? {
            return Err(CoreError::Api(ApiError::new(ErrorCode::NotFound, "nothing to retry")));
        }
        if self.is_connected() {
            self.flush_outbox().await?;
        }
        Ok(())
    }

    /// The person did something in the app: tells the server (at most every 30 s), so
    /// an idle-away policy does not mark them away while they work, and brings them
    /// back online if it had.
    pub async fn report_activity(&self) -> CoreResult<()> {
        let now = std::time::Instant::now();
        {
            let mut last = self.0.last_activity.lock().expect("not poisoned");
            if last.is_some_and(|t| now.duration_since(t) < ACTIVITY_EVERY) {
                return Ok(());
            }
            *last = Some(now);
        }
        self.api()?.heartbeat(true).await
    }

    pub async fn set_availability(&self, availability: Availability) -> CoreResult<Agent> {
        let agent = self.api()?.set_availability(availability).await?;
        self.0
            .store
            .set_meta("agent", &serde_json::to_string(&agent).map_err(|e| CoreError::Internal(e.to_string()))?)
            .await?;
        Ok(agent)
    }

    /// Pulls every change after the local cursor, applies it, and reports what changed
    /// and which conversations were newly escalated to this agent.
    pub async fn pull(&self) -> CoreResult<Vec<ConversationId>> {
        let _guard = self.0.pull_lock.lock().await;
        let api = self.api()?;
        let store = &self.0.store;
        let me = self.saved_session().await?.map(|(s, _)| s.agent.id).ok_or(CoreError::NotLoggedIn)?;
        // The first pull of a session announces nothing: no flood of stale alerts.
        let announcing = store.meta("bootstrapped").await?.as_deref() == Some("1");
        let mut changed = BTreeSet::new();
        let mut escalations = Vec::new();
        let mut alerts = Vec::new();
        let fetch = |cursor: i64, snapshot: Option<i64>| {
            let api = api.clone();
            tokio::spawn(async move { api.sync(cursor, snapshot).await })
        };
        let mut snapshot = store.next_snapshot().await?;
        let mut next = Some(fetch(store.cursor().await?, snapshot));
        while let Some(page) = next.take() {
            let was_snapshot = snapshot.is_some();
            let resp = page.await.map_err(|e| CoreError::Internal(e.to_string()))??;
            snapshot = resp.snapshot_after;
            // Fetch the next page while this one is stored. A finished snapshot goes on
            // with the changes made while it was read.
            if resp.has_more || was_snapshot {
                next = Some(fetch(resp.cursor, snapshot));
            }
            // A bootstrap stores its pages first and indexes their words after.
            store.apply_with(&resp, was_snapshot).await?;
            changed.extend(resp.messages.iter().map(|m| m.conversation_id));
            changed.extend(resp.handoffs.iter().map(|h| h.conversation_id));
            changed.extend(resp.removed.iter().copied());
            // Escalations to me, and to my team's queue: each announced once. Marked in
            // one transaction per page (a bootstrap brings thousands).
            let mut mine = Vec::new();
            let mut queued = Vec::new();
            for c in &resp.conversations {
                changed.insert(c.id);
                let Some(h) = c.active_handoff_id else { continue };
                match (c.state, c.assignee_id) {
                    (ConversationState::Assigned, Some(who)) if who == me => mine.push((c, h)),
                    (ConversationState::Waiting, None) => queued.push((c, h)),
                    _ => {}
                }
            }
            let keys: Vec<String> = queued.iter().map(|(_, h)| format!("queue:{}", h.0)).collect();
            let handoff_ids: Vec<HandoffId> = mine.iter().map(|(_, h)| *h).collect();
            let (new_mine, new_queued) = store.mark_notified_many(&handoff_ids, &keys).await?;
            let found = mine.iter().zip(new_mine).map(|(x, new)| (x, new, false));
            let found = found.chain(queued.iter().zip(new_queued).map(|(x, new)| (x, new, true)));
            for ((c, h), first_time, queued) in found {
                if first_time && announcing {
                    let handoff = resp.handoffs.iter().find(|x| x.id == *h).cloned();
                    escalations.push(Escalation { conversation: (*c).clone(), handoff, queued });
                }
            }
            // SLA warnings and breaches on this agent's conversations, each announced once.
            let in_page: std::collections::HashMap<ConversationId, &Conversation> =
                resp.conversations.iter().map(|c| (c.id, c)).collect();
            for h in &resp.handoffs {
                if h.sla.iter().all(|c| c.stopped_at.is_some() || (c.warned_at.is_none() && c.breached_at.is_none())) {
                    continue;
                }
                let conv = match in_page.get(&h.conversation_id) {
                    Some(c) => (*c).clone(),
                    None => match store.conversation(h.conversation_id).await? {
                        Some(c) => c,
                        None => continue,
                    },
                };
                if conv.assignee_id != Some(me) || conv.active_handoff_id != Some(h.id) {
                    continue;
                }
                for clock in h.sla.iter().filter(|c| c.stopped_at.is_none()) {
                    let stage = match (clock.warned_at, clock.breached_at) {
                        (_, Some(_)) => "breached",
                        (Some(_), None) => "warned",
                        _ => continue,
                    };
                    let key = format!("sla:{}:{}:{}:{stage}", h.id, clock.kind, clock.started_at);
                    if store.mark_notified_key(&key).await? && announcing {
                        alerts.push(SlaAlert { conversation: conv.clone(), clock: clock.clone() });
                    }
                }
            }
        }
        if !announcing {
            store.set_meta("bootstrapped", "1").await?;
        }
        if store.meta("search_pending").await?.is_some() {
            let inbox = self.clone();
            tokio::spawn(async move {
                if let Err(e) = inbox.0.store.index_pending().await {
                    tracing::warn!(error = %e, "search index backfill stopped; the next search resumes it");
                }
            });
        }
        let changed: Vec<ConversationId> = changed.into_iter().collect();
        if !changed.is_empty() {
            self.0.listener.changed(changed.clone());
        }
        self.announce(escalations, alerts);
        Ok(changed)
    }

    /// Hands the pull's news to the listener: nothing while do-not-disturb is on or
    /// for the thread on screen, nothing stale, and one summary instead of a flood.
    fn announce(&self, escalations: Vec<Escalation>, alerts: Vec<SlaAlert>) {
        let now = crate::store::now_ms();
        let fresh: Vec<Escalation> = escalations
            .into_iter()
            .filter(|e| e.handoff.as_ref().is_none_or(|h| now - h.requested_at < STALE_AFTER_MS))
            .filter(|e| self.should_notify(e.conversation.id))
            .collect();
        if fresh.len() > SUMMARY_OVER {
            let queued = fresh.iter().filter(|e| e.queued).count();
            self.0.listener.escalations_summary(fresh.len() - queued, queued);
        } else {
            for e in fresh {
                self.0.listener.escalated(e);
            }
        }
        for a in alerts.into_iter().filter(|a| self.should_notify(a.conversation.id)) {
            self.0.listener.sla_alert(a);
        }
    }

    /// Applies pending outbox changes in order. Stops at the first network failure
    /// (they stay pending); a refusal marks that change failed with the server's reason.
    pub async fn flush_outbox(&self) -> CoreResult<()> {
        self.flush().await
    }

    /// [`Self::flush_outbox`]; the server's answers go to the calls awaiting them.
    async fn flush(&self) -> CoreResult<()> {
        let _guard = self.0.flush_lock.lock().await;
        let answers = &self.0.awaited;
        let answer = |client_id: &str, a: Applied| {
            if let Some(slot) = answers.lock().expect("not poisoned").get_mut(client_id) {
                *slot = Some(a);
            }
        };
        let api = self.api()?;
        let store = &self.0.store;
        let mut changed = BTreeSet::new();
        let mut pull = false;
        for entry in store.outbox(None).await?.into_iter().filter(|e| e.state == "pending") {
            let id = entry.conversation_id;
            let key = entry.client_id.as_str();
            let result: CoreResult<Applied> = match entry.kind {
                OutboxKind::Reply => {
                    let req = SendMessageRequest {
                        client_id: entry.client_id.clone(),
                        text: entry.text.clone(),
                        reply_to: entry.reply_to.map(MessageId),
                        ..Default::default()
                    };
                    api.send(id, &req).await.map(Applied::Message)
                }
                OutboxKind::Note => api
                    .add_note(id, &NoteRequest { text: entry.text.clone(), client_id: Some(entry.client_id.clone()) })
                    .await
                    .map(Applied::Message),
                OutboxKind::Claim => api.claim(id, key).await.map(Applied::Conversation),
                OutboxKind::Transfer => {
                    let target = entry.payload.clone().unwrap_or_default();
                    let req = TransferRequest {
                        agent_id: target["agent_id"].as_i64().map(AgentId),
                        team_id: target["team_id"].as_i64().map(TeamId),
                        note: entry.text.clone(),
                    };
                    api.transfer(id, &req, key).await.map(Applied::Conversation)
                }
                OutboxKind::Resolve => {
                    let note = Some(entry.text.clone()).filter(|n| !n.is_empty());
                    api.resolve_once(id, note, key).await.map(|_| Applied::Done)
                }
            };
            // Applied before, its answer lost (the server or the app stopped): done.
            let result = match result {
                Err(CoreError::Api(ApiError { code: ErrorCode::AlreadyApplied, .. })) => Ok(Applied::Done),
                other => other,
            };
            match result {
                Ok(Applied::Message(m)) => {
                    store.reply_sent(entry.local_id, &m).await?;
                    changed.insert(id);
                    answer(&entry.client_id, Applied::Message(m));
                }
                Ok(applied @ (Applied::Conversation(_) | Applied::Done)) => {
                    if let (OutboxKind::Claim, Applied::Conversation(c)) = (entry.kind, &applied) {
                        // Taken by this agent: no "assigned to you" notification for it.
                        if let Some(h) = c.active_handoff_id {
                            store.mark_notified(h).await?;
                        }
                    }
                    store.outbox_done(key).await?;
                    changed.insert(id);
                    pull = true;
                    answer(&entry.client_id, applied);
                }
                Err(CoreError::Network(e)) => {
                    tracing::info!(error = %e, "offline: changes stay queued");
                    break;
                }
                Err(e) if e.is_auth() => {
                    self.0.listener.session_ended(&e);
                    break;
                }
                Err(CoreError::Api(e)) => {
                    store.fail_reply(entry.local_id, &e).await?;
                    changed.insert(id);
                }
                Err(other) => return Err(other),
            }
        }
        if pull {
            // The server changed the conversation: bring the local copy in step now
            // rather than at the next poke.
            if let Err(e) = self.pull().await {
                tracing::info!(error = %e, "pull after the outbox failed");
            }
        }
        if !changed.is_empty() {
            self.0.listener.changed(changed.into_iter().collect());
        }
        Ok(())
    }

    fn start_sync(&self) {
        let mut task = self.0.sync_task.lock().expect("not poisoned");
        if let Some(t) = task.take() {
            t.abort();
        }
        let me = self.clone();
        *task = Some(tokio::spawn(async move { me.run_sync().await }));
    }

    /// Stops syncing and sending (the app is closing; the outbox stays on disk).
    pub fn close(&self) {
        self.stop_sync();
    }

    fn stop_sync(&self) {
        if let Some(t) = self.0.sync_task.lock().expect("not poisoned").take() {
            t.abort();
        }
        if self.0.connected.swap(false, Ordering::SeqCst) {
            self.0.listener.connection(false);
        }
    }

    /// Keeps the local copy current: connect the live stream, catch up by cursor, pull
    /// on every poke; on a drop, reconnect with backoff and catch up again.
    async fn run_sync(self) {
        let mut backoff = Duration::from_millis(500);
        loop {
            let Ok(api) = self.api() else { return };
            match self.stream_once(&api).await {
                Ok(()) => backoff = Duration::from_millis(500),
                Err(e) if e.is_auth() => {
                    self.0.listener.session_ended(&e);
                    return;
                }
                Err(e) => tracing::info!(error = %e, "live connection lost"),
            }
            if self.0.connected.swap(false, Ordering::SeqCst) {
                self.0.listener.connection(false);
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }

    async fn stream_once(&self, api: &ApiClient) -> CoreResult<()> {
        let mut req = api.events_url().into_client_request().map_err(|e| CoreError::Internal(e.to_string()))?;
        if let Some(t) = api.token().await {
            let value =
                format!("Bearer {}", t.expose()).parse().map_err(|_| CoreError::Internal("bad token".into()))?;
            req.headers_mut().insert("authorization", value);
        }
        let (mut ws, _) = match tokio_tungstenite::connect_async(req).await {
            Ok(ok) => ok,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) if resp.status().as_u16() == 401 => {
                // Ask the REST API: it renews an expired access token (then we
                // reconnect), or says why the session is over (revoked, ...).
                return Err(match api.me().await {
                    Ok(_) => CoreError::Network("access token renewed; reconnecting".into()),
                    Err(e) => e,
                });
            }
            Err(e) => return Err(CoreError::Network(e.to_string())),
        };
        self.0.connected.store(true, Ordering::SeqCst);
        self.0.listener.connection(true);
        // Catch up on whatever happened while we were away, then send what waited.
        self.pull().await?;
        self.flush_outbox().await?;
        loop {
            // The server pings every 20 s: silence for a minute means the link is dead.
            let frame = match tokio::time::timeout(Duration::from_secs(60), ws.next()).await {
                Err(_) => return Err(CoreError::Network("no traffic from the server for 60 s".into())),
                Ok(None) => return Ok(()),
                Ok(Some(Err(e))) => return Err(CoreError::Network(e.to_string())),
                Ok(Some(Ok(f))) => f,
            };
            if let WsMessage::Text(text) = frame {
                match serde_json::from_str::<ServerEvent>(&text) {
                    Ok(ServerEvent::Hello { cursor } | ServerEvent::Poke { cursor }) => {
                        if cursor > self.0.store.cursor().await? {
                            self.pull().await?;
                            self.flush_outbox().await?;
                        }
                    }
                    Ok(event @ (ServerEvent::Presence { .. } | ServerEvent::Mentioned { .. })) => {
                        self.0.listener.live(&event)
                    }
                    Err(e) => tracing::debug!(error = %e, "unknown live event ignored"),
                }
            }
        }
    }
}

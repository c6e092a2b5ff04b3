//! The IPC commands the UI invokes. Each is a few lines over `inbox_core::Inbox`; errors
//! cross as `{code, message, details?}`.

use handoff_protocol::{
    Agent, AgentId, AgentProfile, Availability, Board, BreachReport, CannedResponse, Conversation, ConversationDetail,
    ConversationId, ErrorCode, HandoffId, Message, MessageId, MetricsQuery, MetricsReport, PresenceState, Priority,
    RenderedResponse, SecretString, Team, TeamId, TimelineEvent,
};
use inbox_core::{CoreError, Inbox, OutboxEntry, SavedServer, Session};
use tauri::State;

/// Demo and end-to-end runs start logged in: `HANDOFF_AUTOLOGIN_URL`,
/// `HANDOFF_AUTOLOGIN_EMAIL`, `HANDOFF_AUTOLOGIN_PASSWORD`. Used once, when no session is
/// saved.
pub struct AutoLogin(std::sync::Mutex<Option<(String, String, SecretString)>>);

impl AutoLogin {
    pub fn from_env() -> AutoLogin {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let creds =
            match (var("HANDOFF_AUTOLOGIN_URL"), var("HANDOFF_AUTOLOGIN_EMAIL"), var("HANDOFF_AUTOLOGIN_PASSWORD")) {
                (Some(u), Some(e), Some(p)) => Some((u, e, SecretString::new(p))),
                _ => None,
            };
        AutoLogin(std::sync::Mutex::new(creds))
    }
}

#[tauri::command]
pub async fn session(inbox: State<'_, Inbox>, auto: State<'_, AutoLogin>) -> Result<Option<Session>, CoreError> {
    if let Some(s) = inbox.session().await? {
        return Ok(Some(s));
    }
    let creds = auto.0.lock().expect("not poisoned").take();
    match creds {
        Some((url, email, password)) => inbox.login(&url, &email, password).await.map(Some),
        None => Ok(None),
    }
}

#[tauri::command]
pub async fn login(
    inbox: State<'_, Inbox>,
    server_url: String,
    email: String,
    password: String,
) -> Result<Session, CoreError> {
    inbox.login(&server_url, &email, SecretString::new(password)).await
}

#[tauri::command]
pub async fn logout(inbox: State<'_, Inbox>) -> Result<(), CoreError> {
    inbox.logout().await
}

#[tauri::command]
pub async fn list_conversations(inbox: State<'_, Inbox>) -> Result<Vec<Conversation>, CoreError> {
    inbox.conversations().await
}

#[tauri::command]
pub async fn get_thread(inbox: State<'_, Inbox>, conversation_id: i64) -> Result<ConversationDetail, CoreError> {
    inbox.thread(ConversationId(conversation_id)).await
}

#[tauri::command]
pub async fn send_reply(
    inbox: State<'_, Inbox>,
    conversation_id: i64,
    text: String,
    reply_to: Option<i64>,
) -> Result<Message, CoreError> {
    inbox.send_reply(ConversationId(conversation_id), &text, reply_to.map(MessageId)).await
}

#[tauri::command]
pub async fn resolve(inbox: State<'_, Inbox>, conversation_id: i64, note: Option<String>) -> Result<(), CoreError> {
    inbox.resolve(ConversationId(conversation_id), note).await
}

#[tauri::command]
pub async fn set_availability(inbox: State<'_, Inbox>, availability: Availability) -> Result<Agent, CoreError> {
    inbox.set_availability(availability).await
}

/// The person is at the keyboard (throttled in inbox-core).
#[tauri::command]
pub async fn report_activity(inbox: State<'_, Inbox>) -> Result<(), CoreError> {
    inbox.report_activity().await
}

#[tauri::command]
pub fn connection_status(inbox: State<'_, Inbox>) -> bool {
    inbox.is_connected()
}

#[tauri::command]
pub async fn mark_read(inbox: State<'_, Inbox>, conversation_id: i64) -> Result<(), CoreError> {
    inbox.mark_read(ConversationId(conversation_id)).await
}

#[tauri::command]
pub async fn typing(inbox: State<'_, Inbox>, conversation_id: i64) -> Result<(), CoreError> {
    inbox.typing(ConversationId(conversation_id)).await
}

/// A media file as a `data:` URL.
#[tauri::command]
pub async fn media(inbox: State<'_, Inbox>, message_id: i64) -> Result<String, CoreError> {
    inbox.media_data_url(handoff_protocol::MessageId(message_id)).await
}

#[tauri::command]
pub async fn templates(inbox: State<'_, Inbox>) -> Result<Vec<handoff_protocol::Template>, CoreError> {
    inbox.templates().await
}

#[tauri::command]
pub async fn send_template(
    inbox: State<'_, Inbox>,
    conversation_id: i64,
    name: String,
    language: String,
    parameters: Vec<String>,
) -> Result<Message, CoreError> {
    inbox.send_template(ConversationId(conversation_id), &name, &language, parameters).await
}

#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn send_attachment(
    inbox: State<'_, Inbox>,
    conversation_id: i64,
    filename: String,
    mime_type: String,
    data_base64: String,
    caption: String,
    reply_to: Option<i64>,
) -> Result<Message, CoreError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(data_base64.as_bytes()).map_err(|e| {
        CoreError::Invalid(handoff_protocol::ErrorCode::InvalidInput, format!("the file is not base64: {e}"))
    })?;
    inbox
        .send_attachment(
            ConversationId(conversation_id),
            (&filename, &mime_type, bytes),
            &caption,
            reply_to.map(MessageId),
        )
        .await
}

#[tauri::command]
pub async fn send_interactive(
    inbox: State<'_, Inbox>,
    conversation_id: i64,
    body: String,
    buttons: Vec<String>,
    reply_to: Option<i64>,
) -> Result<Message, CoreError> {
    inbox.send_interactive(ConversationId(conversation_id), &body, buttons, reply_to.map(MessageId)).await
}

#[tauri::command]
pub async fn claim(inbox: State<'_, Inbox>, conversation_id: i64) -> Result<Conversation, CoreError> {
    inbox.claim(ConversationId(conversation_id)).await
}

#[tauri::command]
pub async fn transfer(
    inbox: State<'_, Inbox>,
    conversation_id: i64,
    agent_id: Option<i64>,
    team_id: Option<i64>,
    note: String,
) -> Result<Conversation, CoreError> {
    inbox.transfer(ConversationId(conversation_id), agent_id.map(AgentId), team_id.map(TeamId), &note).await
}

#[tauri::command]
pub async fn add_note(inbox: State<'_, Inbox>, conversation_id: i64, text: String) -> Result<Message, CoreError> {
    inbox.add_note(ConversationId(conversation_id), &text).await
}

/// Changes made in the app that wait for the server, or that it refused (with why).
#[tauri::command]
pub async fn outbox(inbox: State<'_, Inbox>) -> Result<Vec<OutboxEntry>, CoreError> {
    inbox.outbox().await
}

#[tauri::command]
pub async fn discard_change(inbox: State<'_, Inbox>, client_id: String) -> Result<(), CoreError> {
    inbox.discard(&client_id).await
}

#[tauri::command]
pub async fn retry_change(inbox: State<'_, Inbox>, client_id: String) -> Result<(), CoreError> {
    inbox.retry(&client_id).await
}

#[tauri::command]
pub async fn set_labels(
    inbox: State<'_, Inbox>,
    conversation_id: i64,
    labels: Vec<String>,
) -> Result<Conversation, CoreError> {
    inbox.set_labels(ConversationId(conversation_id), labels).await
}

#[tauri::command]
pub async fn canned_responses(inbox: State<'_, Inbox>) -> Result<Vec<CannedResponse>, CoreError> {
    inbox.canned_responses().await
}

#[tauri::command]
pub async fn render_canned(
    inbox: State<'_, Inbox>,
    id: i64,
    conversation_id: i64,
) -> Result<RenderedResponse, CoreError> {
    inbox.render_canned(id, ConversationId(conversation_id)).await
}

#[tauri::command]
pub async fn agents(inbox: State<'_, Inbox>) -> Result<Vec<AgentProfile>, CoreError> {
    inbox.agents().await
}

#[tauri::command]
pub async fn board(inbox: State<'_, Inbox>) -> Result<Board, CoreError> {
    inbox.board().await
}

#[tauri::command]
pub async fn metrics(inbox: State<'_, Inbox>, query: MetricsQuery) -> Result<MetricsReport, CoreError> {
    inbox.metrics(&query).await
}

#[tauri::command]
pub async fn breaches(inbox: State<'_, Inbox>, query: MetricsQuery) -> Result<BreachReport, CoreError> {
    inbox.breaches(&query).await
}

#[tauri::command]
pub async fn handoff_timeline(inbox: State<'_, Inbox>, handoff_id: i64) -> Result<Vec<TimelineEvent>, CoreError> {
    inbox.handoff_timeline(HandoffId(handoff_id)).await
}

#[tauri::command]
pub async fn set_priority(
    inbox: State<'_, Inbox>,
    conversation_id: i64,
    priority: Priority,
) -> Result<Conversation, CoreError> {
    inbox.set_priority(ConversationId(conversation_id), priority).await
}

#[tauri::command]
pub async fn assign(inbox: State<'_, Inbox>, conversation_id: i64, agent_id: i64) -> Result<Conversation, CoreError> {
    inbox.assign(ConversationId(conversation_id), AgentId(agent_id)).await
}

/// Saves an export (CSV) in the Downloads folder (`HANDOFF_EXPORT_DIR` overrides it)
/// under a free name; returns the path.
#[tauri::command]
pub async fn save_export(app: tauri::AppHandle, file_name: String, contents: String) -> Result<String, CoreError> {
    use tauri::Manager;
    let dir = match std::env::var_os("HANDOFF_EXPORT_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => app.path().download_dir().map_err(|e| CoreError::Internal(format!("no Downloads folder: {e}")))?,
    };
    let path = crate::export::save(&dir, &file_name, contents.as_bytes())
        .map_err(|e| CoreError::Invalid(ErrorCode::InvalidInput, e.to_string()))?;
    Ok(path.display().to_string())
}

#[tauri::command]
pub async fn teams(inbox: State<'_, Inbox>) -> Result<Vec<Team>, CoreError> {
    inbox.teams().await
}

#[tauri::command]
pub async fn set_presence(
    inbox: State<'_, Inbox>,
    conversation_id: i64,
    state: PresenceState,
) -> Result<(), CoreError> {
    inbox.set_presence(ConversationId(conversation_id), state).await
}

/// Full-text search of the local copy (offline too).
#[tauri::command]
pub async fn search(inbox: State<'_, Inbox>, query: String) -> Result<Vec<inbox_core::SearchHit>, CoreError> {
    inbox.search(&query).await
}

/// The conversation on screen while the window has focus (`None` otherwise): its news
/// needs no desktop notification.
#[tauri::command]
pub fn set_focus(inbox: State<'_, Inbox>, conversation_id: Option<i64>) {
    inbox.set_focus(conversation_id.map(ConversationId));
}

#[tauri::command]
pub fn do_not_disturb(inbox: State<'_, Inbox>) -> bool {
    inbox.do_not_disturb()
}

#[tauri::command]
pub async fn set_do_not_disturb(app: tauri::AppHandle, inbox: State<'_, Inbox>, on: bool) -> Result<(), CoreError> {
    crate::tray::set_do_not_disturb(&app, inbox.inner(), on).await;
    Ok(())
}

fn autostart_error(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("start at login: {e}"))
}

/// Whether the app starts (in the tray) when the person logs in to the computer.
#[tauri::command]
pub fn start_at_login(app: tauri::AppHandle) -> Result<bool, CoreError> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(autostart_error)
}

#[tauri::command]
pub fn set_start_at_login(app: tauri::AppHandle, on: bool) -> Result<bool, CoreError> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    if on { launcher.enable() } else { launcher.disable() }.map_err(autostart_error)?;
    launcher.is_enabled().map_err(autostart_error)
}

/// Opens the small always-on-top reply window for a conversation.
#[tauri::command]
pub fn open_quick_reply(app: tauri::AppHandle, conversation_id: i64) {
    crate::listener::open_quick_reply(&app, ConversationId(conversation_id));
}

/// Closes the calling window (the quick-reply window when its reply is sent).
#[tauri::command]
pub fn close_window(window: tauri::WebviewWindow) {
    if window.label() != "main" {
        let _ = window.close();
    }
}

/// The servers and accounts this app signed in to (for switching).
#[tauri::command]
pub async fn saved_servers(inbox: State<'_, Inbox>) -> Result<Vec<SavedServer>, CoreError> {
    inbox.saved_servers().await
}

#[tauri::command]
pub async fn switch_server(inbox: State<'_, Inbox>, server_url: String, email: String) -> Result<Session, CoreError> {
    inbox.switch_server(&server_url, &email).await
}

#[tauri::command]
pub async fn forget_server(inbox: State<'_, Inbox>, server_url: String, email: String) -> Result<(), CoreError> {
    inbox.forget_server(&server_url, &email).await
}

/// Brings the main window forward (even from the tray) on a conversation.
#[tauri::command]
pub fn show_conversation(app: tauri::AppHandle, conversation_id: i64) {
    crate::listener::open_conversation(&app, ConversationId(conversation_id));
}

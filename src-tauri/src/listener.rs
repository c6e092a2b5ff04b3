//! Inbox events → window events (`inbox://...`), desktop notifications (with Claim,
//! Reply and Open), the quick-reply window and the tray count.

use handoff_protocol::{ConversationId, ServerEvent};
use inbox_core::notify::{show, NotificationAction};
use inbox_core::{CoreError, Escalation, Inbox, InboxListener, SlaAlert};
use serde_json::json;
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

use NotificationAction::{Claim, Open, Reply};

pub struct WindowListener {
    app: AppHandle,
}

impl WindowListener {
    pub fn new(app: AppHandle) -> WindowListener {
        WindowListener { app }
    }

    fn emit(&self, event: &str, payload: serde_json::Value) {
        if let Err(e) = self.app.emit(event, payload) {
            tracing::warn!(error = %e, event, "could not notify the window");
        }
    }

    fn notify(&self, id: Option<ConversationId>, title: String, body: String, actions: &[NotificationAction]) {
        let app = self.app.clone();
        show(title, body, actions, move |action| act(&app, id, action));
    }
}

/// Brings the main window to the front.
pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Shows the main window on a conversation.
pub fn open_conversation(app: &AppHandle, id: ConversationId) {
    show_main(app);
    let _ = app.emit("inbox://open-conversation", json!({ "conversation_id": id }));
}

/// What a notification's action does.
fn act(app: &AppHandle, id: Option<ConversationId>, action: NotificationAction) {
    tracing::info!(?action, conversation = id.map(|i| i.0), "notification action");
    match (action, id) {
        (Open, Some(id)) => open_conversation(app, id),
        (Open, None) => show_main(app),
        (Claim, Some(id)) => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let inbox = app.state::<Inbox>().inner().clone();
                match inbox.claim(id).await {
                    Ok(_) => open_conversation(&app, id),
                    Err(e) => {
                        let e = e.to_api_error();
                        let app2 = app.clone();
                        show("Not claimed".into(), e.message, &[Open], move |a| act(&app2, Some(id), a));
                    }
                }
            });
        }
        (Reply, Some(id)) => open_quick_reply(app, id),
        _ => {}
    }
}

/// A small always-on-top window to answer one conversation without switching to the
/// app (Linux and Windows notifications have buttons but no text field).
pub fn open_quick_reply(app: &AppHandle, id: ConversationId) {
    let label = format!("reply-{}", id.0);
    if let Some(w) = app.get_webview_window(&label) {
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let url = WebviewUrl::App(format!("index.html#/quick-reply/{}", id.0).into());
    let built = WebviewWindowBuilder::new(app, &label, url)
        .title("Reply · Handoff Inbox")
        .inner_size(440.0, 380.0)
        .min_inner_size(360.0, 300.0)
        .always_on_top(true)
        .focused(true)
        .build();
    if let Err(e) = built {
        tracing::warn!(error = %e, "quick-reply window failed; opening the app instead");
        open_conversation(app, id);
    }
}

impl InboxListener for WindowListener {
    fn changed(&self, ids: Vec<ConversationId>) {
        self.emit("inbox://changed", json!({ "conversation_ids": ids }));
        crate::tray::refresh(&self.app);
    }

    fn connection(&self, connected: bool) {
        self.emit("inbox://connection", json!({ "connected": connected }));
    }

    fn escalated(&self, escalation: Escalation) {
        let id = escalation.conversation.id;
        tracing::info!(conversation = id.0, queued = escalation.queued, "escalation: notifying");
        let (title, body) = escalation.notification_text();
        let actions: &[NotificationAction] = if escalation.queued { &[Claim, Open] } else { &[Reply, Open] };
        self.notify(Some(id), title, body, actions);
    }

    fn escalations_summary(&self, assigned: usize, queued: usize) {
        let title = format!("{} conversations need a person", assigned + queued);
        let body = match (assigned, queued) {
            (0, q) => format!("{q} waiting in the queue."),
            (a, 0) => format!("{a} assigned to you."),
            (a, q) => format!("{a} assigned to you, {q} waiting in the queue."),
        };
        self.notify(None, title, body, &[Open]);
    }

    /// Presence and mentions, as the server sent them, for the window (`live`); a
    /// mention is also a desktop notification unless that thread is on screen.
    fn live(&self, event: &ServerEvent) {
        self.emit("live", json!(event));
        if let ServerEvent::Mentioned { conversation_id, by_name, .. } = event {
            let allowed = self.app.try_state::<Inbox>().is_none_or(|i| i.should_notify(*conversation_id));
            if allowed {
                let title = format!("{by_name} mentioned you");
                self.notify(Some(*conversation_id), title, "In an internal note.".into(), &[Open]);
            }
        }
    }

    fn sla_alert(&self, alert: SlaAlert) {
        let (title, body) = alert.notification_text();
        self.notify(Some(alert.conversation.id), title, body, &[Reply, Open]);
    }

    fn session_ended(&self, error: &CoreError) {
        self.emit("inbox://session-ended", json!(error.to_api_error()));
    }
}

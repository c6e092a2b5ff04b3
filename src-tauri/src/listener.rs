//! Inbox events → window events (`inbox://...`) and desktop notifications.

use handoff_protocol::{ConversationId, ServerEvent};
use inbox_core::notify::{show, NotificationAction};
use inbox_core::{CoreError, Escalation, InboxListener, SlaAlert};
use serde_json::json;
use tauri::{AppHandle, Emitter, Manager};

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
}

impl WindowListener {
    /// A desktop notification whose Open action shows the window on that conversation.
    fn notify_open(&self, id: ConversationId, title: String, body: String) {
        let app = self.app.clone();
        show(title, body, move |action| {
            if action == NotificationAction::Open {
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.unminimize();
                    let _ = w.show();
                    let _ = w.set_focus();
                }
                let _ = app.emit("inbox://open-conversation", json!({ "conversation_id": id }));
            }
        });
    }
}

impl InboxListener for WindowListener {
    fn changed(&self, ids: Vec<ConversationId>) {
        self.emit("inbox://changed", json!({ "conversation_ids": ids }));
    }

    fn connection(&self, connected: bool) {
        self.emit("inbox://connection", json!({ "connected": connected }));
    }

    fn escalated(&self, escalation: Escalation) {
        let id = escalation.conversation.id;
        tracing::info!(conversation = id.0, "escalated to me: notifying");
        let (title, body) = escalation.notification_text();
        self.notify_open(id, title, body);
    }

    /// Presence and mentions, as the server sent them, for the window (`live`); a
    /// mention is also a desktop notification.
    fn live(&self, event: &ServerEvent) {
        self.emit("live", json!(event));
        if let ServerEvent::Mentioned { conversation_id, by_name, .. } = event {
            self.notify_open(*conversation_id, format!("{by_name} mentioned you"), "In an internal note.".into());
        }
    }

    fn sla_alert(&self, alert: SlaAlert) {
        let (title, body) = alert.notification_text();
        self.notify_open(alert.conversation.id, title, body);
    }

    fn session_ended(&self, error: &CoreError) {
        self.emit("inbox://session-ended", json!(error.to_api_error()));
    }
}

//! Inbox events → window events (`inbox://...`) and desktop notifications.

use handoff_protocol::{ConversationId, ServerEvent};
use inbox_core::notify::{show_escalation, NotificationAction};
use inbox_core::{CoreError, Escalation, InboxListener};
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
        let app = self.app.clone();
        show_escalation(&escalation, move |action| {
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

    /// Presence and mentions, as the server sent them, for the window (`live`).
    fn live(&self, event: &ServerEvent) {
        self.emit("live", json!(event));
    }

    fn session_ended(&self, error: &CoreError) {
        self.emit("inbox://session-ended", json!(error.to_api_error()));
    }
}

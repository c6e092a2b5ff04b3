//! Desktop notifications (notify-rust): freedesktop D-Bus on Linux, Notification
//! Center on macOS, toasts on Windows.

/// What the person can do from a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationAction {
    /// Show the conversation (also a click on the notification itself).
    Open,
    /// Take the queued conversation without opening the app first.
    Claim,
    /// Answer in a small always-on-top window.
    Reply,
    Dismissed,
}

impl NotificationAction {
    fn id(self) -> &'static str {
        match self {
            NotificationAction::Open => "open",
            NotificationAction::Claim => "claim",
            NotificationAction::Reply => "reply",
            NotificationAction::Dismissed => "dismissed",
        }
    }

    fn label(self) -> &'static str {
        match self {
            NotificationAction::Open => "Open",
            NotificationAction::Claim => "Claim",
            NotificationAction::Reply => "Reply",
            NotificationAction::Dismissed => "Dismiss",
        }
    }

    fn from_id(id: &str) -> NotificationAction {
        match id {
            "default" | "open" => NotificationAction::Open,
            "claim" => NotificationAction::Claim,
            "reply" => NotificationAction::Reply,
            _ => NotificationAction::Dismissed,
        }
    }
}

/// Shows a notification offering `actions` (a click on it is Open). `on_action` runs
/// (on a background thread) with what the person chose, where the platform reports it.
pub fn show(
    title: String,
    body: String,
    actions: &[NotificationAction],
    on_action: impl FnOnce(NotificationAction) + Send + 'static,
) {
    let actions = actions.to_vec();
    std::thread::spawn(move || {
        let mut n = notify_rust::Notification::new();
        n.appname("Handoff Inbox").summary(&title).body(&body).action("default", "Open");
        for a in &actions {
            n.action(a.id(), a.label());
        }
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            n.hint(notify_rust::Hint::Category("im.received".into()));
            match n.show() {
                Ok(handle) => handle.wait_for_action(|action| on_action(NotificationAction::from_id(action))),
                Err(e) => tracing::warn!(error = %e, "desktop notification failed"),
            }
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        {
            if let Err(e) = n.show() {
                tracing::warn!(error = %e, "desktop notification failed");
            }
            let _ = (on_action, NotificationAction::from_id);
        }
    });
}

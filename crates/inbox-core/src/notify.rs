//! Desktop notifications (notify-rust): freedesktop D-Bus on Linux, Notification
//! Center on macOS, toasts on Windows.

/// What the person did with a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationAction {
    Open,
    Dismissed,
}

/// Shows a notification with an Open action (escalations, mentions, SLA warnings).
/// `on_action` runs (on a background thread) when the person clicks it, where the
/// platform reports clicks.
pub fn show(title: String, body: String, on_action: impl FnOnce(NotificationAction) + Send + 'static) {
    std::thread::spawn(move || {
        let mut n = notify_rust::Notification::new();
        n.appname("Handoff Inbox").summary(&title).body(&body).action("default", "Open").action("open", "Open");
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            n.hint(notify_rust::Hint::Category("im.received".into()));
            match n.show() {
                Ok(handle) => handle.wait_for_action(|action| match action {
                    "default" | "open" => on_action(NotificationAction::Open),
                    _ => on_action(NotificationAction::Dismissed),
                }),
                Err(e) => tracing::warn!(error = %e, "desktop notification failed"),
            }
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        {
            if let Err(e) = n.show() {
                tracing::warn!(error = %e, "desktop notification failed");
            }
            let _ = on_action;
        }
    });
}

//! Handoff Inbox, the desktop app: a thin Tauri shell over `inbox-core`.
//!
//! Commands (in [`commands`]) are a few lines each; what they do lives in
//! `inbox_core::Inbox`. [`listener::WindowListener`] turns inbox events into window
//! events and desktop notifications.

mod commands;
mod export;
mod listener;
mod tray;

use std::sync::Arc;

use inbox_core::{Inbox, KeyringStore};
use tauri::Manager;

/// Where the local database lives: `HANDOFF_DATA_DIR`, else the OS's app data folder.
fn data_dir(app: &tauri::App) -> std::path::PathBuf {
    match std::env::var_os("HANDOFF_DATA_DIR") {
        Some(dir) => dir.into(),
        None => app.path().app_data_dir().unwrap_or_else(|_| std::env::temp_dir().join("handoff-inbox")),
    }
}

/// The conversation a `handoff://conversation/<id>` link points at.
pub fn deep_link_conversation(arg: &str) -> Option<handoff_protocol::ConversationId> {
    let rest = arg.strip_prefix("handoff://conversation/")?;
    let id = rest.trim_end_matches('/').parse::<i64>().ok().filter(|id| *id > 0)?;
    Some(handoff_protocol::ConversationId(id))
}

/// Acts on the command line of a launch: deep links open their conversation.
fn handle_args(app: &tauri::AppHandle, args: &[String]) {
    for id in args.iter().filter_map(|a| deep_link_conversation(a)) {
        tracing::info!(conversation = id.0, "deep link");
        listener::open_conversation(app, id);
    }
}

/// One app per user, or per data folder when `HANDOFF_DATA_DIR` is set (tests and
/// side-by-side profiles): a second launch hands its arguments (deep links) to the
/// first and exits.
fn single_instance_id() -> Option<String> {
    let dir = std::env::var_os("HANDOFF_DATA_DIR")?;
    let mut h: u64 = 0xcbf29ce484222325;
    for b in dir.as_encoded_bytes() {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100000001b3);
    }
    Some(format!("dev.handoff.inbox.d{h:016x}"))
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tao=warn,wry=warn".into()),
        )
        .init();
    let mut single = tauri_plugin_single_instance::Builder::new().callback(|app, args, _cwd| {
        tracing::info!(?args, "second launch");
        if args.iter().skip(1).all(|a| deep_link_conversation(a).is_none()) {
            listener::show_main(app);
        }
        handle_args(app, &args);
    });
    if let Some(id) = single_instance_id() {
        single = single.dbus_id(id);
    }
    tauri::Builder::default()
        .plugin(single.build())
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_autostart::Builder::new().args(["--minimized"]).build())
        .setup(|app| {
            let listener = Arc::new(listener::WindowListener::new(app.handle().clone()));
            let dir = data_dir(app);
            let inbox =
                tauri::async_runtime::block_on(Inbox::open(&dir, Arc::new(KeyringStore::for_this_build()), listener))?;
            app.manage(inbox);
            app.manage(commands::AutoLogin::from_env());
            if let Err(e) = tray::install(app.handle()) {
                tracing::warn!(error = %e, "no tray icon");
            }
            tray::refresh(app.handle());
            let args: Vec<String> = std::env::args().collect();
            if args.iter().any(|a| a == "--minimized") {
                // Started at login: wait in the tray.
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.hide();
                }
            }
            handle_args(app.handle(), &args);
            // macOS delivers links as events, not arguments.
            {
                use tauri_plugin_deep_link::DeepLinkExt;
                let handle = app.handle().clone();
                app.deep_link().on_open_url(move |event| {
                    let urls: Vec<String> = event.urls().iter().map(|u| u.to_string()).collect();
                    handle_args(&handle, &urls);
                });
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::session,
            commands::board,
            commands::metrics,
            commands::breaches,
            commands::handoff_timeline,
            commands::set_priority,
            commands::assign,
            commands::save_export,
            commands::login,
            commands::logout,
            commands::list_conversations,
            commands::get_thread,
            commands::send_reply,
            commands::resolve,
            commands::set_availability,
            commands::report_activity,
            commands::claim,
            commands::transfer,
            commands::add_note,
            commands::set_labels,
            commands::outbox,
            commands::discard_change,
            commands::retry_change,
            commands::set_focus,
            commands::do_not_disturb,
            commands::set_do_not_disturb,
            commands::start_at_login,
            commands::set_start_at_login,
            commands::open_quick_reply,
            commands::show_conversation,
            commands::close_window,
            commands::saved_servers,
            commands::switch_server,
            commands::forget_server,
            commands::canned_responses,
            commands::render_canned,
            commands::agents,
            commands::teams,
            commands::set_presence,
            commands::search,
            commands::connection_status,
            commands::mark_read,
            commands::typing,
            commands::media,
            commands::templates,
            commands::send_template,
            commands::send_attachment,
            commands::send_interactive,
        ])
        .run(tauri::generate_context!())
        .expect("Handoff Inbox failed to start");
}

#[cfg(test)]
mod tests {
    use super::deep_link_conversation;
    use handoff_protocol::ConversationId;

    #[test]
    fn deep_links_name_a_conversation() {
        assert_eq!(deep_link_conversation("handoff://conversation/42"), Some(ConversationId(42)));
        assert_eq!(deep_link_conversation("handoff://conversation/42/"), Some(ConversationId(42)));
        for bad in [
            "handoff://conversation/",
            "handoff://conversation/-1",
            "handoff://conversation/x",
            "https://x/conversation/1",
            "--minimized",
        ] {
            assert_eq!(deep_link_conversation(bad), None, "{bad}");
        }
    }
}

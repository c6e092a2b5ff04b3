//! Handoff Inbox, the desktop app: a thin Tauri shell over `inbox-core`.
//!
//! Commands (in [`commands`]) are a few lines each; what they do lives in
//! `inbox_core::Inbox`. [`listener::WindowListener`] turns inbox events into window
//! events and desktop notifications.

mod commands;
mod listener;

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

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tao=warn,wry=warn".into()),
        )
        .init();
    tauri::Builder::default()
        .setup(|app| {
            let listener = Arc::new(listener::WindowListener::new(app.handle().clone()));
            let dir = data_dir(app);
            let inbox =
                tauri::async_runtime::block_on(Inbox::open(&dir, Arc::new(KeyringStore::for_this_build()), listener))?;
            app.manage(inbox);
            app.manage(commands::AutoLogin::from_env());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::session,
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

//! The tray icon: how many conversations wait, open the window, do not disturb, quit.

use inbox_core::Inbox;
use tauri::menu::{CheckMenuItem, MenuBuilder, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Emitter, Manager};

pub struct Tray {
    icon: TrayIcon,
    waiting: MenuItem<tauri::Wry>,
    dnd: CheckMenuItem<tauri::Wry>,
}

/// Builds the tray. A desktop without a tray host shows none; the app works the same.
pub fn install(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Handoff Inbox", true, None::<&str>)?;
    let waiting = MenuItem::with_id(app, "waiting", "No conversations waiting", false, None::<&str>)?;
    let dnd = CheckMenuItem::with_id(app, "dnd", "Do not disturb", true, false, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu =
        MenuBuilder::new(app).items(&[&open, &waiting]).separator().item(&dnd).separator().item(&quit).build()?;
    let mut builder =
        TrayIconBuilder::with_id("main").tooltip("Handoff Inbox").menu(&menu).on_menu_event(|app, event| {
            match event.id().as_ref() {
                "open" => crate::listener::show_main(app),
                "dnd" => {
                    let app = app.clone();
                    tauri::async_runtime::spawn(async move {
                        let inbox = app.state::<Inbox>().inner().clone();
                        let on = !inbox.do_not_disturb();
                        set_do_not_disturb(&app, &inbox, on).await;
                    });
                }
                "quit" => app.exit(0),
                _ => {}
            }
        });
    builder = builder.on_tray_icon_event(|tray, event| {
        if let TrayIconEvent::DoubleClick { .. } = event {
            crate::listener::show_main(tray.app_handle());
        }
    });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;
    app.manage(Tray { icon, waiting, dnd });
    Ok(())
}

/// Turns do-not-disturb on or off everywhere: the inbox, the tray's check mark, the
/// window's switch.
pub async fn set_do_not_disturb(app: &AppHandle, inbox: &Inbox, on: bool) {
    if let Err(e) = inbox.set_do_not_disturb(on).await {
        tracing::warn!(error = %e, "do-not-disturb not saved");
    }
    if let Some(t) = app.try_state::<Tray>() {
        let _ = t.dnd.set_checked(on);
    }
    let _ = app.emit("inbox://do-not-disturb", serde_json::json!({ "on": on }));
}

/// Shows the number of waiting conversations (tray title, tooltip and menu).
pub fn refresh(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Some(inbox) = app.try_state::<Inbox>().map(|s| s.inner().clone()) else { return };
        let Some(tray) = app.try_state::<Tray>() else { return };
        let n = inbox.store().waiting_count().await.unwrap_or(0);
        let text = match n {
            0 => "No conversations waiting".to_owned(),
            1 => "1 conversation waiting".to_owned(),
            n => format!("{n} conversations waiting"),
        };
        let _ = tray.waiting.set_text(&text);
        let _ = tray.icon.set_tooltip(Some(format!("Handoff Inbox: {text}")));
        let _ = tray.icon.set_title(if n > 0 { Some(n.to_string()) } else { None });
        let _ = tray.dnd.set_checked(inbox.do_not_disturb());
        let _ = app.emit("inbox://waiting", serde_json::json!({ "count": n }));
    });
}

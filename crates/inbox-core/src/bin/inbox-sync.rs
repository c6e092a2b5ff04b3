//! `inbox-sync --data-dir DIR [--login URL EMAIL] [--notify]`: keeps a Handoff Inbox
//! local copy in step without a window. It restores the session saved in DIR (tokens
//! from the OS keyring, namespace from `HANDOFF_KEYRING_NAMESPACE`), or signs in first
//! with `--login` (the password from `HANDOFF_PASSWORD`), then pulls, follows the live
//! stream and sends the outbox, printing one line per event, until it is stopped. With
//! `--notify` it also shows the app's escalation notifications on the desktop. Useful to
//! watch sync from a terminal; the tests kill it mid-flush to prove the outbox applies
//! once, and run a second agent with it.

use std::sync::Arc;

use handoff_protocol::ConversationId;
use inbox_core::{CoreError, Escalation, Inbox, InboxListener, KeyringStore};

struct Print {
    notify: bool,
}

impl InboxListener for Print {
    fn changed(&self, ids: Vec<ConversationId>) {
        println!("changed {}", ids.iter().map(|i| i.0.to_string()).collect::<Vec<_>>().join(","));
    }
    fn connection(&self, connected: bool) {
        println!("{}", if connected { "connected" } else { "disconnected" });
    }
    fn escalated(&self, e: Escalation) {
        println!("escalated {}", e.conversation.id.0);
        if self.notify {
            let (title, body) = e.notification_text();
            inbox_core::notify::show(title, body, &[], |_| {});
        }
    }
    fn session_ended(&self, e: &CoreError) {
        println!("session-ended {}", e.to_api_error().code.as_str());
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let after = |flag: &str, n: usize| args.iter().position(|a| a == flag).and_then(|i| args.get(i + n)).cloned();
    let Some(dir) = after("--data-dir", 1).map(std::path::PathBuf::from) else {
        eprintln!("usage: inbox-sync --data-dir DIR [--login URL EMAIL] [--notify]");
        std::process::exit(2);
    };
    let notify = args.iter().any(|a| a == "--notify");
    let inbox = match Inbox::open(&dir, Arc::new(KeyringStore::for_this_build()), Arc::new(Print { notify })).await {
        Ok(i) => i,
        Err(e) => {
            eprintln!("cannot open {}: {e}", dir.display());
            std::process::exit(1);
        }
    };
    if let (Some(url), Some(email)) = (after("--login", 1), after("--login", 2)) {
        let password = std::env::var("HANDOFF_PASSWORD").unwrap_or_default();
        if let Err(e) = inbox.login(&url, &email, password.into()).await {
            eprintln!("cannot sign in: {e}");
            std::process::exit(1);
        }
    }
    match inbox.session().await {
        Ok(Some(s)) => println!("session {} {}", s.server_url, s.agent.email),
        Ok(None) => {
            eprintln!("nobody is logged in in {}", dir.display());
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("cannot restore the session: {e}");
            std::process::exit(1);
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    inbox.close();
}

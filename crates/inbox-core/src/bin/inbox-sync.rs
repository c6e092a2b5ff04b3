//! `inbox-sync --data-dir DIR`: keeps a Handoff Inbox local copy in step without a
//! window. It restores the session saved in DIR (tokens from the OS keyring, namespace
//! from `HANDOFF_KEYRING_NAMESPACE`), pulls, follows the live stream and sends the
//! outbox, printing one line per event, until it is stopped. Useful to watch sync
//! from a terminal; the tests kill it mid-flush to prove the outbox applies once.

use std::sync::Arc;

use handoff_protocol::ConversationId;
use inbox_core::{CoreError, Escalation, Inbox, InboxListener, KeyringStore};

struct Print;

impl InboxListener for Print {
    fn changed(&self, ids: Vec<ConversationId>) {
        println!("changed {}", ids.iter().map(|i| i.0.to_string()).collect::<Vec<_>>().join(","));
    }
    fn connection(&self, connected: bool) {
        println!("{}", if connected { "connected" } else { "disconnected" });
    }
    fn escalated(&self, e: Escalation) {
        println!("escalated {}", e.conversation.id.0);
    }
    fn session_ended(&self, e: &CoreError) {
        println!("session-ended {}", e.to_api_error().code.as_str());
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = match (args.next().as_deref(), args.next()) {
        (Some("--data-dir"), Some(dir)) => std::path::PathBuf::from(dir),
        _ => {
            eprintln!("usage: inbox-sync --data-dir DIR");
            std::process::exit(2);
        }
    };
    let inbox = match Inbox::open(&dir, Arc::new(KeyringStore::for_this_build()), Arc::new(Print)).await {
        Ok(i) => i,
        Err(e) => {
            eprintln!("cannot open {}: {e}", dir.display());
            std::process::exit(1);
        }
    };
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

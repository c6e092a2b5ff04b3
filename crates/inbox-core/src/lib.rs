//! Everything Handoff Inbox does that needs no window: the server's API client, the
//! local SQLite copy of the agent's threads, the sync engine (pull by cursor + live
//! pokes), the outbox, secrets in the OS keyring, and notification policy.
//!
//! The Tauri shell is a thin layer of commands over [`Inbox`].

pub mod api;
pub mod error;
pub mod inbox;
pub mod notify;
pub mod secrets;
pub mod store;

pub use api::{ApiClient, Tokens};
pub use error::{CoreError, CoreResult};
pub use inbox::{Escalation, Inbox, InboxListener, Session, SlaAlert};
pub use secrets::{KeyringStore, SecretStore};
pub use store::{LocalStore, OutboxEntry, OutboxKind, SavedServer, SearchHit};

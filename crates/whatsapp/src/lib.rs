//! WhatsApp Cloud API: what Meta sends us (webhooks), how to check it is Meta
//! (`X-Hub-Signature-256`), and how we send (the Graph API client).
//!
//! The models are tolerant on purpose: Meta adds fields and types without notice, and
//! at-least-once delivery means a payload we cannot fully read must still be stored.
//! Every struct keeps what it does not name in `extra`.

pub mod graph;
pub mod payloads;
pub mod signature;
pub mod webhook;

pub use graph::{GraphClient, GraphError, OutboundMessage, Recipient, SendResponse};
pub use signature::{sign, verify_signature, SignatureError};
pub use webhook::{InboundMessage, StatusUpdate, WebhookBody};

/// Meta's Graph API version this build speaks by default.
pub const DEFAULT_GRAPH_VERSION: &str = "v23.0";
/// WhatsApp's limit on a text message body, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($(#[$m:meta])* $variant:ident = $s:literal,)*) => {
        /// Stable, machine-readable error codes. They travel in every REST error body and
        /// in every error the desktop app's IPC returns; clients branch on them, never on
        /// text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode { $($(#[$m])* $variant,)* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable text form, as in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $s,)* }
            }
        }
    };
}

error_codes! {
    /// The request body is not valid JSON or misses fields.
    InvalidJson = "invalid_json",
    /// A field has a value we cannot accept (empty text, unknown priority, ...).
    InvalidInput = "invalid_input",
    /// A text message is longer than WhatsApp's 4096 characters.
    MessageTooLong = "message_too_long",
    /// The body is larger than we accept.
    PayloadTooLarge = "payload_too_large",
    /// WhatsApp cannot send a file of this type.
    UnsupportedMediaType = "unsupported_media_type",
    /// No credentials were given, or they are not ours.
    Unauthorized = "unauthorized",
    /// Wrong email or password.
    InvalidCredentials = "invalid_credentials",
    /// The token has expired; log in again.
    TokenExpired = "token_expired",
    /// The token was revoked (logged out).
    TokenRevoked = "token_revoked",
    /// The caller may not do this.
    Forbidden = "forbidden",
    /// A webhook's `X-Hub-Signature-256` is missing or wrong.
    InvalidSignature = "invalid_signature",
    /// The webhook verification token does not match.
    InvalidVerifyToken = "invalid_verify_token",
    NotFound = "not_found",
    /// The conversation is already with people.
    AlreadyEscalated = "already_escalated",
    /// The conversation is not with people (nothing to resolve).
    NotEscalated = "not_escalated",
    /// Only the assigned agent may do this.
    NotAssignee = "not_assignee",
    /// Automation may not act: a person owns the thread.
    AutomationPaused = "automation_paused",
    /// A lead may only be messaged on WhatsApp with a recorded opt-in.
    OptInRequired = "opt_in_required",
    /// More than 24 hours since the customer last wrote: only a template may be sent.
    WindowClosed = "window_closed",
    /// The template is not approved by WhatsApp (pending, rejected, paused).
    TemplateNotApproved = "template_not_approved",
    /// The customer stopped marketing messages.
    MarketingOptOut = "marketing_opt_out",
    /// Somebody else took the conversation first; `details.owner` names them.
    AlreadyClaimed = "already_claimed",
    /// This `Idempotency-Key` was applied before; its result was not kept (the server
    /// stopped in between). The change is in place: treat it as done.
    AlreadyApplied = "already_applied",
    /// A request with this `Idempotency-Key` is running now.
    InProgress = "in_progress",
    /// Too many attempts (logins): wait `details.retry_after_secs` and try again.
    RateLimited = "rate_limited",
    /// The same unique key exists already.
    Conflict = "conflict",
    /// WhatsApp's Graph API refused or failed.
    Upstream = "upstream",
    /// The server could not be reached (desktop app).
    Network = "network",
    /// The OS keyring is missing or refused (desktop app).
    Keyring = "keyring",
    /// The local database failed (desktop app).
    LocalStore = "local_store",
    /// Changes made offline still wait to be sent (desktop app): go online, or discard
    /// them, before signing in elsewhere.
    PendingChanges = "pending_changes",
    /// Not logged in (desktop app).
    NotLoggedIn = "not_logged_in",
    Internal = "internal",
}

/// The JSON body of every error response, and of every IPC error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error, schemars::JsonSchema)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Machine-readable facts about the error, per code (`already_claimed`: the
    /// `owner`; `rate_limited`: `retry_after_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), details: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_stable_text() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().to_owned()));
        }
        assert_eq!(ErrorCode::AutomationPaused.as_str(), "automation_paused");
    }

    /// The UI picks what to tell people by code: every code needs its sentence there.
    #[test]
    fn the_ui_knows_every_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/errors.ts");
        let ui = std::fs::read_to_string(&path).expect("ui/src/lib/errors.ts");
        for code in ErrorCode::ALL {
            assert!(
                ui.contains(&format!("'{}'", code.as_str())),
                "{} is missing from the UI's code list",
                code.as_str()
            );
            assert!(
                ui.contains(&format!("  {}:", code.as_str())),
                "{} has no friendly message in the UI",
                code.as_str()
            );
        }
    }
}

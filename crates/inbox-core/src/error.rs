use handoff_protocol::{ApiError, ErrorCode};
use serde::{Serialize, Serializer};

/// Every failure of the desktop side. It crosses IPC as `{code, message, details?}`; the UI
/// branches on `code` only.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The server answered with an error.
    #[error("{}", .0.message)]
    Api(ApiError),
    /// The server could not be reached.
    #[error("cannot reach the server: {0}")]
    Network(String),
    /// The OS keyring is missing or refused.
    #[error("{0}")]
    Keyring(String),
    #[error("local database error: {0}")]
    Store(#[from] sqlx::Error),
    #[error("local database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("not logged in")]
    NotLoggedIn,
    #[error("{1}")]
    Invalid(ErrorCode, String),
    #[error("{0}")]
    Internal(String),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Api(e) => e.code,
            CoreError::Network(_) => ErrorCode::Network,
            CoreError::Keyring(_) => ErrorCode::Keyring,
            CoreError::Store(_) | CoreError::Migrate(_) => ErrorCode::LocalStore,
            CoreError::NotLoggedIn => ErrorCode::NotLoggedIn,
            CoreError::Invalid(code, _) => *code,
            CoreError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Whether the session is over (the token expired or was revoked).
    pub fn is_auth(&self) -> bool {
        matches!(self.code(), ErrorCode::Unauthorized | ErrorCode::TokenExpired | ErrorCode::TokenRevoked)
    }

    /// `{code, message, details}` for IPC: the server's details (who claimed it, when
    /// to retry) pass through.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            CoreError::Api(e) => e.clone(),
            other => ApiError::new(other.code(), other.to_string()),
        }
    }
}

impl Serialize for CoreError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_api_error().serialize(s)
    }
}

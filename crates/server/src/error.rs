//! One error type for every handler: a stable [`ErrorCode`], an HTTP status derived
//! from it, and a JSON body `{code, message}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use handoff_protocol::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The caller's fault or a state conflict: shown to them as is.
    #[error("{message}")]
    Client { code: ErrorCode, message: String },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Client { code, message: message.into() }
    }

    pub fn not_found(what: &str) -> Self {
        AppError::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Client { code, .. } => *code,
            AppError::Db(e) if is_unique_violation(e) => ErrorCode::Conflict,
            _ => ErrorCode::Internal,
        }
    }
}

pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// The HTTP status every error code maps to.
pub fn status_for(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        InvalidJson => StatusCode::BAD_REQUEST,
        InvalidInput | MessageTooLong | OptInRequired => StatusCode::UNPROCESSABLE_ENTITY,
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Unauthorized | InvalidCredentials | TokenExpired | TokenRevoked | InvalidSignature => StatusCode::UNAUTHORIZED,
        Forbidden | InvalidVerifyToken => StatusCode::FORBIDDEN,
        NotFound => StatusCode::NOT_FOUND,
        AlreadyEscalated | NotEscalated | NotAssignee | AutomationPaused | Conflict | WindowClosed
        | TemplateNotApproved | MarketingOptOut => StatusCode::CONFLICT,
        Upstream => StatusCode::BAD_GATEWAY,
        Network | Keyring | LocalStore | NotLoggedIn | Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.code();
        let message = match &self {
            AppError::Client { message, .. } => message.clone(),
            AppError::Db(e) if is_unique_violation(e) => "this already exists".to_owned(),
            other => {
                tracing::error!(error = %other, "request failed");
                "internal server error".to_owned()
            }
        };
        (status_for(code), axum::Json(ApiError::new(code, message))).into_response()
    }
}

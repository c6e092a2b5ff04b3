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
    /// A client error with machine-readable details (see [`ApiError::details`]).
    #[error("{message}")]
    Detailed { code: ErrorCode, message: String, details: serde_json::Value },
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
            AppError::Client { code, .. } | AppError::Detailed { code, .. } => *code,
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
        | TemplateNotApproved | MarketingOptOut | AlreadyClaimed | AlreadyApplied | InProgress => StatusCode::CONFLICT,
        RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Upstream => StatusCode::BAD_GATEWAY,
        Network | Keyring | LocalStore | NotLoggedIn | PendingChanges | Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.code();
        let details = match &self {
            AppError::Detailed { details, .. } => Some(details.clone()),
            _ => None,
        };
        let message = match &self {
            AppError::Client { message, .. } | AppError::Detailed { message, .. } => message.clone(),
            AppError::Db(e) if is_unique_violation(e) => "this already exists".to_owned(),
            other => {
                tracing::error!(error = %other, "request failed");
                "internal server error".to_owned()
            }
        };
        let mut body = ApiError::new(code, message);
        body.details = details;
        let mut resp = (status_for(code), axum::Json(body)).into_response();
        // The code as a header too: clients can react (renew an expired token) without
        // reading the body.
        resp.headers_mut().insert("x-handoff-error", axum::http::HeaderValue::from_static(code.as_str()));
        if let AppError::Detailed { details, .. } = &self {
            if let Some(secs) = details.get("retry_after_secs").and_then(|s| s.as_u64()) {
                resp.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
            }
        }
        resp
    }
}

//! One error type for every handler: a precise message for bad input, a generic one (with
//! the detail logged) for failures of our own.

use app::model::api::ErrorBody;
use app::model::DocumentError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest {
        message: String,
        details: Vec<serde_json::Value>,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A limit of the server's capacity is reached (e.g. open WebSockets); try again later.
    #[error("{0}")]
    Unavailable(String),
    #[error("{message}")]
    Unprocessable {
        message: String,
        details: Vec<serde_json::Value>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// 422: `what` (e.g. "compare request") has these problems, each naming its field.
    pub fn invalid(what: &str, problems: Vec<String>) -> Self {
        AppError::Unprocessable {
            message: format!("invalid {what}: {}", problems.join("; ")),
            details: problems
                .iter()
                .map(|message| serde_json::json!({"message": message}))
                .collect(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<DocumentError> for AppError {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::TooLarge { .. } => AppError::PayloadTooLarge(e.to_string()),
            DocumentError::Malformed { .. } => AppError::bad_request(e.to_string()),
            DocumentError::Invalid(ref problems) => AppError::Unprocessable {
                message: e.to_string(),
                details: problems
                    .iter()
                    .map(|p| serde_json::to_value(p).unwrap_or_default())
                    .collect(),
            },
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match self {
            AppError::Store(e) => {
                tracing::error!(error = %e, "storage failure");
                ErrorBody {
                    error: "internal error: the server could not complete the request".into(),
                    details: Vec::new(),
                }
            }
            AppError::BadRequest { message, details }
            | AppError::Unprocessable { message, details } => ErrorBody {
                error: message,
                details,
            },
            AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::Conflict(m)
            | AppError::PayloadTooLarge(m)
            | AppError::Unavailable(m) => ErrorBody {
                error: m,
                details: Vec::new(),
            },
        };
        (status, Json(body)).into_response()
    }
}

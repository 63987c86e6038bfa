//! One error type for every handler: a precise message for bad input, a generic one (with
//! the detail logged) for failures of our own.

use app::model::api::ErrorBody;
use app::model::DocumentError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::store::StoreError;

/// What a `503` asks the client to wait before trying again, in seconds.
pub const RETRY_AFTER_SECS: u32 = 2;

/// The entity tag of a workflow revision (what `ETag` says and `If-Match` must repeat).
pub fn etag(revision: i64) -> String {
    format!("\"r{revision}\"")
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest {
        message: String,
        details: Vec<serde_json::Value>,
    },
    #[error("{0}")]
    Forbidden(String),
    /// The request was sent to a `Host` this server does not answer to (DNS rebinding).
    #[error("{0}")]
    Misdirected(String),
    /// A body of a media type the route does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The stored workflow changed since the client read it (`If-Match` is stale).
    #[error("{message}")]
    PreconditionFailed { message: String, revision: i64 },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A limit of the server's capacity is reached (e.g. open WebSockets, runs in flight) or
    /// the store is failing; answered with `Retry-After`.
    #[error("{0}")]
    Unavailable(String),
    #[error("{message}")]
    Unprocessable {
        message: String,
        details: Vec<serde_json::Value>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A failure of our own other than storage (logged; the client gets a generic message).
    #[error("{0}")]
    Internal(String),
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

    /// The response's stable `code` (one of [`app::model::api::ERROR_CODES`]).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { .. } => "bad_request",
            AppError::Unprocessable { .. } => "invalid",
            AppError::Forbidden(_) => "forbidden",
            AppError::Misdirected(_) => "misdirected",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::PreconditionFailed { .. } => "stale_revision",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge(_) => "too_large",
            AppError::Unavailable(_) => "unavailable",
            AppError::Store(e) if e.is_unavailable() => "unavailable",
            AppError::Store(_) | AppError::Internal(_) => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Misdirected(_) => StatusCode::MISDIRECTED_REQUEST,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            // The database cannot be reached right now: try again, as for other 503s.
            AppError::Store(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<crate::engine::StartError> for AppError {
    fn from(e: crate::engine::StartError) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

impl From<crate::engine::control::ControlError> for AppError {
    fn from(e: crate::engine::control::ControlError) -> Self {
        use crate::engine::control::ControlError;
        match e {
            ControlError::NotFound(_) => AppError::NotFound(e.to_string()),
            ControlError::Ended { .. } => AppError::Conflict(e.to_string()),
            ControlError::Unconfirmed { .. } => AppError::Unavailable(e.to_string()),
            ControlError::Store(e) => AppError::Store(e),
        }
    }
}

impl From<DocumentError> for AppError {
    fn from(e: DocumentError) -> Self {
        AppError::from_document(e, app::i18n::Locale::en)
    }
}

impl AppError {
    /// A refused document, said in `l`'s words (its problems are already in them).
    pub fn from_document(e: DocumentError, l: app::i18n::Locale) -> Self {
        match e {
            DocumentError::TooLarge { .. } => AppError::PayloadTooLarge(e.said(l)),
            DocumentError::Malformed { .. } => AppError::bad_request(e.said(l)),
            DocumentError::Invalid(ref problems) => AppError::unprocessable(e.said(l), problems),
        }
    }

    /// Well-formed but refused: `message`, and every problem as a detail.
    pub fn unprocessable(message: String, problems: &[app::model::Problem]) -> Self {
        AppError::Unprocessable {
            message,
            details: problems
                .iter()
                .map(|p| serde_json::to_value(p).unwrap_or_default())
                .collect(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code().to_string();
        let mut headers = axum::http::HeaderMap::new();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(RETRY_AFTER_SECS),
            );
        }
        // What the client is not told, the log is: [`log_failures`] writes it with the
        // request it failed.
        let mut failure = None;
        let body = match self {
            AppError::Store(e) if e.is_unavailable() => {
                failure = Some(Failure(format!("storage unavailable: {e}")));
                ErrorBody {
                    code,
                    error: "the database cannot be reached right now; try again".into(),
                    details: Vec::new(),
                }
            }
            AppError::Store(e) => {
                failure = Some(Failure(format!("storage failure: {e}")));
                ErrorBody {
                    code,
                    error: "internal error: the server could not complete the request".into(),
                    details: Vec::new(),
                }
            }
            AppError::Internal(e) => {
                failure = Some(Failure(format!("internal failure: {e}")));
                ErrorBody {
                    code,
                    error: "internal error: the server could not complete the request".into(),
                    details: Vec::new(),
                }
            }
            AppError::BadRequest { message, details }
            | AppError::Unprocessable { message, details } => ErrorBody {
                code,
                error: message,
                details,
            },
            AppError::PreconditionFailed { message, revision } => {
                if let Ok(tag) = axum::http::HeaderValue::from_str(&etag(revision)) {
                    headers.insert(axum::http::header::ETAG, tag);
                }
                ErrorBody {
                    code,
                    error: message,
                    details: vec![serde_json::json!({ "revision": revision })],
                }
            }
            AppError::Forbidden(m)
            | AppError::Misdirected(m)
            | AppError::UnsupportedMediaType(m)
            | AppError::NotFound(m)
            | AppError::Conflict(m)
            | AppError::PayloadTooLarge(m)
            | AppError::Unavailable(m) => ErrorBody {
                code,
                error: m,
                details: Vec::new(),
            },
        };
        let mut response = (status, headers, Json(body)).into_response();
        if let Some(failure) = failure {
            response.extensions_mut().insert(failure);
        }
        response
    }
}

/// A server-side failure behind a 5xx, carried from [`AppError`] to [`log_failures`] in the
/// response's extensions (as the axum error-handling example does).
#[derive(Clone, Debug)]
pub struct Failure(pub String);

/// Middleware: logs every failure a handler answered with, with its method and path, in
/// one place (the handlers only return errors).
pub async fn log_failures(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    if let Some(Failure(what)) = response.extensions().get::<Failure>() {
        tracing::error!(%method, %path, status = response.status().as_u16(), "{what}");
    }
    response
}

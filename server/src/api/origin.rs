//! Cross-site protection: a browser on another site must not change anything here or open
//! a live stream. Requests that change state and WebSocket upgrades are refused when they
//! carry an `Origin` that is not this server's own (the `Host` the request was sent to).
//! Requests without `Origin` come from non-browser clients (curl, tests) and pass.

use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AppError;

pub async fn guard(request: Request, next: Next) -> Response {
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let upgrade = request.headers().contains_key(header::UPGRADE);
    if changes_state || upgrade {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            let origin = origin.to_str().unwrap_or("");
            if !same_origin(origin, host) {
                return AppError::Forbidden(format!(
                    "cross-origin request refused: Origin {origin:?} is not this server's origin"
                ))
                .into_response();
            }
        }
    }
    next.run(request).await
}

/// True when `origin` (`scheme://host[:port]`) names the authority the request was sent to.
pub fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    if !matches!(scheme, "http" | "https") || authority.contains('/') {
        return false;
    }
    authority.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn only_the_servers_own_origin_passes() {
        assert!(same_origin("http://127.0.0.1:3000", Some("127.0.0.1:3000")));
        assert!(same_origin("http://LOCALHOST:3000", Some("localhost:3000")));
        assert!(!same_origin("http://evil.example", Some("127.0.0.1:3000")));
        assert!(!same_origin(
            "http://127.0.0.1:3001",
            Some("127.0.0.1:3000")
        ));
        assert!(!same_origin("null", Some("127.0.0.1:3000")));
        assert!(!same_origin("http://127.0.0.1:3000", None));
    }
}

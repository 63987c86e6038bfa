//! Who may talk to the server. Hybridflow runs on a person's own machine, so the threats are
//! other web pages open in the same browser:
//!
//! - **DNS rebinding**: a page on `evil.example:3000` whose name re-resolves to 127.0.0.1
//!   sends requests whose `Host` (and `Origin`) say `evil.example:3000`. Every request's
//!   `Host` must therefore be one the server answers to ([`Trust::hosts`]: the loopback
//!   names with the server's port, plus the authorities of `--public-origin`); any other is
//!   refused with `421 Misdirected Request`.
//! - **Cross-site requests**: requests that change state and WebSocket upgrades need a
//!   same-origin `Origin` (the `Host` the request was sent to, or a `--public-origin`), or,
//!   when `Origin` is absent, `Sec-Fetch-Site` absent (a non-browser client) or
//!   `same-origin`; otherwise `403`.
//! - **Simple requests**: a cross-site form or `fetch` may send `text/plain` without a
//!   preflight. API bodies must be `application/json` (`415` otherwise); only the
//!   import ([`TEXT_BODY_ROUTE`]) also takes `text/plain` and XML (BPMN).
//!
//! [`security_headers`] adds to every response what stops framing and sniffing; pages carry
//! a Content-Security-Policy with their own nonce instead of `'unsafe-inline'` scripts.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AppError;

/// The loopback names a local server answers to, with its port.
pub const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];
/// The one route whose body may be plain text (the text form of an import).
pub const TEXT_BODY_ROUTE: &str = "/api/workflows/import";

/// The hosts and origins this server answers to.
#[derive(Clone, Debug)]
pub struct Trust {
    /// Lower-case authorities (`host[:port]`) a request's `Host` may name.
    hosts: HashSet<String>,
    /// Lower-case `scheme://authority` of `--public-origin`: allowed as `Origin` whatever
    /// `Host` a reverse proxy forwards.
    origins: HashSet<String>,
}

/// A `--public-origin` that is not `http(s)://host[:port]`.
#[derive(Debug, thiserror::Error)]
#[error("--public-origin {0:?} must be http://host[:port] or https://host[:port] with no path")]
pub struct BadOrigin(pub String);

impl Trust {
    /// The loopback names on `port`, and every origin of `public` (`https://host[:port]`).
    pub fn new(port: u16, public: &[String]) -> Result<Trust, BadOrigin> {
        let mut hosts: HashSet<String> = LOOPBACK_NAMES
            .iter()
            .map(|name| format!("{name}:{port}"))
            .collect();
        let mut origins = HashSet::new();
        for origin in public {
            let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
            let Some((scheme, authority)) = split_origin(&origin) else {
                return Err(BadOrigin(origin));
            };
            hosts.insert(authority.to_string());
            // A browser leaves the default port out of both Host and Origin.
            let default_port = if scheme == "https" { ":443" } else { ":80" };
            if let Some(bare) = authority.strip_suffix(default_port) {
                hosts.insert(bare.to_string());
                origins.insert(format!("{scheme}://{bare}"));
            }
            origins.insert(origin.clone());
        }
        Ok(Trust { hosts, origins })
    }

    /// True when `host` (a `Host` header) is one this server answers to.
    pub fn serves_host(&self, host: &str) -> bool {
        self.hosts.contains(&host.to_ascii_lowercase())
    }

    /// True when `origin` is this server's own: the `host` the request was sent to (already
    /// checked by [`Trust::serves_host`]), or a public origin.
    pub fn same_origin(&self, origin: &str, host: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return true;
        }
        split_origin(&origin).is_some_and(|(_, authority)| authority == host.to_ascii_lowercase())
    }
}

/// `scheme://authority` of an http(s) origin with no path, or `None`.
fn split_origin(origin: &str) -> Option<(&str, &str)> {
    let (scheme, authority) = origin.split_once("://")?;
    let plain = !authority.is_empty()
        && !authority.contains(['/', '?', '#', '@', ' '])
        && matches!(scheme, "http" | "https");
    plain.then_some((scheme, authority))
}

/// The guard in front of every route: Host, then Origin / `Sec-Fetch-Site` for what changes
/// state or upgrades, then the body's media type.
pub async fn guard(State(trust): State<Arc<Trust>>, request: Request, next: Next) -> Response {
    match check(&trust, request.method(), request.uri(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

fn check(
    trust: &Trust,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Result<(), AppError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    if !trust.serves_host(host) {
        return Err(AppError::Misdirected(format!(
            "this server does not answer to Host {host:?}; it serves {} (start it with \
             --public-origin to add a name)",
            trust.listed_hosts()
        )));
    }
    let changes_state = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let upgrade = headers.contains_key(header::UPGRADE);
    if changes_state || upgrade {
        match headers.get(header::ORIGIN) {
            Some(origin) => {
                let origin = origin.to_str().unwrap_or("");
                if !trust.same_origin(origin, host) {
                    return Err(AppError::Forbidden(format!(
                        "cross-origin request refused: Origin {origin:?} is not this server's origin"
                    )));
                }
            }
            None => {
                let site = headers
                    .get(SEC_FETCH_SITE)
                    .map(|v| v.to_str().unwrap_or("?"));
                if site.is_some_and(|s| !s.eq_ignore_ascii_case("same-origin")) {
                    return Err(AppError::Forbidden(format!(
                        "cross-site request refused: Sec-Fetch-Site is {:?} and there is no Origin",
                        site.unwrap_or_default()
                    )));
                }
            }
        }
    }
    if changes_state && uri.path().starts_with("/api/") && has_body(headers) {
        let media = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let text_allowed = uri.path() == TEXT_BODY_ROUTE;
        let accepted = match media.as_deref() {
            Some("application/json") => true,
            // BPMN is XML; a cross-site page cannot send XML without a preflight.
            Some("text/plain" | "application/xml" | "text/xml") => text_allowed,
            _ => false,
        };
        if !accepted {
            let expected = if text_allowed {
                "application/json, text/plain or application/xml"
            } else {
                "application/json"
            };
            return Err(AppError::UnsupportedMediaType(format!(
                "the body of {} {} must be {expected}, got {}",
                method,
                uri.path(),
                media.map_or("no Content-Type".to_string(), |m| format!("{m:?}"))
            )));
        }
    }
    Ok(())
}

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// A request carries a body when it says so: a non-zero `Content-Length` or any
/// `Transfer-Encoding` (chunked bodies do not announce their length).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

impl Trust {
    fn listed_hosts(&self) -> String {
        let mut hosts: Vec<&str> = self.hosts.iter().map(String::as_str).collect();
        hosts.sort_unstable();
        hosts.join(", ")
    }
}

/// The headers every response carries: no framing (`X-Frame-Options` for old browsers,
/// CSP `frame-ancestors` for current ones), no content sniffing, no referrer to other sites.
/// Pages set their own Content-Security-Policy, with the response's nonce
/// ([`app::content_security_policy`]); this one, without a nonce, is for every other
/// response, so the CSP layer only adds it where none is set.
pub fn security_headers() -> [(HeaderName, HeaderValue); 4] {
    [
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&app::content_security_policy(None))
                .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'")),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ]
}

/// Status of a refused request, for the tests below.
#[cfg(test)]
fn status(
    trust: &Trust,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> axum::http::StatusCode {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let uri: axum::http::Uri = path.parse().unwrap();
    match check(trust, &method, &uri, &map) {
        Ok(()) => axum::http::StatusCode::OK,
        Err(e) => e.into_response().status(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn hosts_origins_and_media_types() {
        let trust = Trust::new(3000, &["https://flow.example.org".into()]).unwrap();
        let local = [("host", "127.0.0.1:3000")];
        assert_eq!(status(&trust, Method::GET, "/api/workflows", &local), 200);
        for host in [
            "localhost:3000",
            "[::1]:3000",
            "LOCALHOST:3000",
            "flow.example.org",
        ] {
            assert_eq!(
                status(&trust, Method::GET, "/", &[("host", host)]),
                200,
                "{host}"
            );
        }
        for host in ["evil.example:3000", "127.0.0.1:3001", "127.0.0.1", ""] {
            assert_eq!(
                status(&trust, Method::GET, "/api/workflows", &[("host", host)]),
                StatusCode::MISDIRECTED_REQUEST,
                "{host}"
            );
        }
        let post =
            |headers: &[(&str, &str)]| status(&trust, Method::POST, "/api/workflows", headers);
        let json = ("content-type", "application/json; charset=utf-8");
        let body = ("content-length", "2");
        assert_eq!(post(&[local[0], json, body]), 200, "curl: no Origin");
        assert_eq!(
            post(&[local[0], json, body, ("origin", "http://127.0.0.1:3000")]),
            200
        );
        assert_eq!(
            post(&[local[0], json, body, ("origin", "http://evil.example")]),
            403
        );
        assert_eq!(post(&[local[0], json, body, ("origin", "null")]), 403);
        assert_eq!(
            post(&[local[0], json, body, ("sec-fetch-site", "cross-site")]),
            403
        );
        assert_eq!(
            post(&[local[0], json, body, ("sec-fetch-site", "same-origin")]),
            200
        );
        // Behind a proxy that forwards its own Host, the public origin still counts.
        assert_eq!(
            post(&[local[0], json, body, ("origin", "https://flow.example.org")]),
            200
        );
        assert_eq!(
            post(&[local[0], ("content-type", "text/plain"), body]),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert_eq!(post(&[local[0], body]), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(post(&[local[0]]), 200, "no body, no media type needed");
        assert_eq!(
            status(
                &trust,
                Method::POST,
                TEXT_BODY_ROUTE,
                &[local[0], ("content-type", "text/plain"), body]
            ),
            200
        );
    }

    #[test]
    fn public_origins_must_be_plain() {
        for bad in ["flow.example", "ftp://x", "https://x/path", "https://"] {
            assert!(Trust::new(3000, &[bad.to_string()]).is_err(), "{bad}");
        }
        let trust = Trust::new(80, &["http://lan.example:8080/".into()]).unwrap();
        assert!(trust.serves_host("lan.example:8080"));
        assert!(trust.same_origin("http://lan.example:8080", "127.0.0.1:80"));
    }
}

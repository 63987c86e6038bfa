//! The contract between Hybridflow and a real service a step is bound to: what a service
//! receives — the same JSON whether the orchestrator sends it a command or the bus delivers
//! it an event, as Dapr and Knative push events to services — and what its reply means.
//!
//! - A [`CallRequest`]: the run, the step, the attempt, an [`CallRequest::idempotency_key`]
//!   that stays the same for every sending of one execution of the step — its retries, and
//!   a call sent again after a crash — as a payment API's key does, so a service that
//!   remembers it does the work once; `kind` (command or event, with the event's name) and
//!   the data the step may see: the run data in orchestration, the event's payload in
//!   choreography.
//! - A reply: `2xx` is success, its JSON body a [`CallReply`] (what the step writes into the
//!   run data, and in choreography the events it publishes, by name; a `failure` in it is a
//!   declared business failure); `4xx` is a failure that follows the failure route, not
//!   retried; `5xx`, a timeout or a refused connection are retried per the step's policy,
//!   with the same key.
//!
//! The demo services (`hybridflow demo-service`) speak it; so can any HTTP server.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::i18n::Locale;

/// The largest request body a demo service reads, and the largest reply body Hybridflow
/// reads from a service.
pub const MAX_CALL_BODY_BYTES: usize = 256 * 1024;

/// The header that carries [`CallRequest::idempotency_key`] too, for services that read
/// headers (the IETF draft's name).
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// How a call reached the service.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    /// The orchestrator commands the step.
    Command,
    /// The bus delivers an event the step subscribes to.
    Event,
    /// The saga undoes what the step did (its compensation, named in `action`): the
    /// service reverses the work it did under the step's key.
    Undo,
}

/// What a service bound to a step receives: a POST of this JSON.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRequest {
    /// The run's id.
    pub run: String,
    /// The step's id in the workflow.
    pub step: String,
    /// Which execution of the step (a cycle or a duplicate starts it again), from 1.
    pub execution: u32,
    /// Which attempt of that execution (retries count up), from 1.
    pub attempt: u32,
    /// The same for every sending of one execution of the step, retries included:
    /// `<run>/<step>/<execution>`. A service that remembers it (and its answer) does the
    /// work once however often it is sent.
    pub idempotency_key: String,
    pub kind: CallKind,
    /// The event's name, when `kind` is `event`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The compensation asked (the step's `compensation`, e.g. `refund`), when `kind` is
    /// `undo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The run data in orchestration; the event's payload in choreography.
    #[serde(default)]
    pub data: Map<String, Value>,
}

impl CallRequest {
    /// The idempotency key of one execution of a step: the same for every sending of it.
    pub fn key_of(run: &str, step: &str, execution: u32) -> String {
        format!("{run}/{step}/{execution}")
    }

    /// The idempotency key of undoing one execution of a step: its key, then `/undo`.
    pub fn undo_key_of(run: &str, step: &str, execution: u32) -> String {
        format!("{}/undo", CallRequest::key_of(run, step, execution))
    }
}

/// The JSON body of a service's reply. Every field is optional: `{}` is a success that
/// writes nothing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallReply {
    /// Values the step writes into the run data.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub writes: Map<String, Value>,
    /// In choreography, the events the step publishes, by name (of its outgoing event
    /// edges); absent: every event its success publishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Vec<String>>,
    /// A declared business failure (e.g. "card expired"): the step fails and follows its
    /// failure route; it is not retried. A `4xx` reply may carry it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// The most headers a step's call sends.
pub const MAX_CALL_HEADERS: usize = 16;
/// The longest URL or subject a step's call names.
pub const MAX_ENDPOINT_CHARS: usize = 2_048;

/// A step bound to a real service: its work is a call to it, not a simulation. Exactly one
/// of `http` and `nats`. A step that is not bound stays simulated, so one flow can mix
/// real and simulated steps; in the lab's virtual time every step is simulated.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceCall {
    /// A POST of the [`CallRequest`] JSON to `url` (`http://` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpEndpoint>,
    /// A NATS request to `subject`, the reply its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nats: Option<NatsEndpoint>,
    /// Headers sent with every call, each value read by name from the server's
    /// environment when the call is made (an auth token): never written in the document,
    /// never recorded in a run's history.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, FromEnv>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpEndpoint {
    pub url: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsEndpoint {
    pub subject: String,
}

/// A value the server reads from its environment: `{"env": "PAYMENT_TOKEN"}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromEnv {
    pub env: String,
}

/// Where a call goes, as the server checks it against the services it may call: the
/// host (lower case, without brackets) and the port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub host: String,
    pub port: u16,
}

impl ServiceCall {
    /// Where it calls, in one line: the URL, or `nats:<subject>`.
    pub fn endpoint(&self) -> Option<String> {
        self.http
            .as_ref()
            .map(|h| h.url.clone())
            .or_else(|| self.nats.as_ref().map(|n| format!("nats:{}", n.subject)))
    }

    /// The HTTP destination, when the URL reads.
    pub fn destination(&self) -> Option<Destination> {
        let url = url::Url::parse(&self.http.as_ref()?.url).ok()?;
        Some(Destination {
            host: url
                .host_str()?
                .trim_matches(['[', ']'])
                .to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }

    /// What is wrong with the binding, each with the field it concerns (under `call`).
    pub fn problems(&self, l: Locale) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut say = |field: &'static str, message: String| out.push((field, message));
        match (&self.http, &self.nats) {
            (None, None) => say("call", td_string!(l, problem.call_none).to_string()),
            (Some(_), Some(_)) => say("call", td_string!(l, problem.call_both).to_string()),
            _ => {}
        }
        if let Some(http) = &self.http {
            if let Some(problem) = url_problem(&http.url, l) {
                say("call.http.url", problem);
            }
        }
        if let Some(nats) = &self.nats {
            let subject = &nats.subject;
            if subject.chars().count() > MAX_ENDPOINT_CHARS {
                say(
                    "call.nats.subject",
                    td_string!(l, problem.chars_limit, limit = MAX_ENDPOINT_CHARS).to_string(),
                );
            } else if subject.is_empty()
                || !subject.split('.').all(|t| {
                    !t.is_empty()
                        && t.chars()
                            .all(|c| c.is_ascii_graphic() && c != '*' && c != '>')
                })
            {
                let subject = format!("{subject:?}");
                say(
                    "call.nats.subject",
                    td_string!(l, problem.call_subject, subject = subject).to_string(),
                );
            }
        }
        if self.headers.len() > MAX_CALL_HEADERS {
            say(
                "call.headers",
                td_string!(
                    l,
                    problem.call_headers_count,
                    count = self.headers.len(),
                    limit = MAX_CALL_HEADERS
                )
                .to_string(),
            );
        }
        for (name, value) in self.headers.iter().take(MAX_CALL_HEADERS) {
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if name.is_empty() || name.len() > 64 || !name.chars().all(token) {
                let name = format!("{name:?}");
                say(
                    "call.headers",
                    td_string!(l, problem.call_header_name, name = name).to_string(),
                );
            }
            let env = &value.env;
            let fine = env.len() <= 64
                && env
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !fine {
                let env = format!("{env:?}");
                say(
                    "call.headers",
                    td_string!(l, problem.call_env_name, env = env).to_string(),
                );
            }
        }
        out
    }
}

/// Why `url` cannot be called, if it cannot.
fn url_problem(url: &str, l: Locale) -> Option<String> {
    if url.chars().count() > MAX_ENDPOINT_CHARS {
        return Some(td_string!(l, problem.chars_limit, limit = MAX_ENDPOINT_CHARS).to_string());
    }
    let quoted = format!("{url:?}");
    let parsed = match url::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(e) => {
            let error = e.to_string();
            return Some(
                td_string!(l, problem.call_url_unreadable, url = quoted, error = error).to_string(),
            );
        }
    };
    if parsed.scheme() != "http" {
        let scheme = parsed.scheme().to_string();
        return Some(
            td_string!(l, problem.call_url_scheme, url = quoted, scheme = scheme).to_string(),
        );
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some(td_string!(l, problem.call_url_secret, url = quoted).to_string());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Some(td_string!(l, problem.call_url_host, url = quoted).to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(json: &str) -> ServiceCall {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_binding_is_refused_field_by_field_in_both_languages() {
        let said = |json: &str, l| call(json).problems(l);
        assert_eq!(
            said("{}", Locale::en),
            [(
                "call",
                "give the service's http url or its nats subject".to_string()
            )]
        );
        assert_eq!(
            said(
                r#"{"http": {"url": "http://a/"}, "nats": {"subject": "pay"}}"#,
                Locale::en
            ),
            [("call", "give http or nats, not both".to_string())]
        );
        assert_eq!(
            said(r#"{"http": {"url": "ftp://a/"}}"#, Locale::en),
            [(
                "call.http.url",
                r#""ftp://a/": only http:// URLs are called (got ftp://)"#.to_string()
            )]
        );
        assert_eq!(
            said(r#"{"nats": {"subject": "orders.*"}}"#, Locale::en)[0].0,
            "call.nats.subject"
        );
        assert_eq!(
            said(
                r#"{"http": {"url": "http://127.0.0.1:4102/"}, "headers": {"Bad Name": {"env": "1TOKEN"}}}"#,
                Locale::en
            ),
            [
                (
                    "call.headers",
                    r#""Bad Name" is not a header name"#.to_string()
                ),
                (
                    "call.headers",
                    r#""1TOKEN" is not an environment variable's name"#.to_string()
                ),
            ]
        );
        assert_eq!(
            said(r#"{"http": {"url": "http://u:p@127.0.0.1/"}}"#, Locale::ko)[0].1,
            r#""http://u:p@127.0.0.1/"에 사용자나 비밀번호가 들어 있습니다: 비밀은 문서가 아니라 서버의 환경 변수(call.headers)에서 옵니다"#
        );
        assert!(said(
            r#"{"http": {"url": "http://[::1]:8080/pay"}, "headers": {"Authorization": {"env": "PAY_TOKEN"}}}"#,
            Locale::en
        )
        .is_empty());
        assert_eq!(
            call(r#"{"http": {"url": "http://[::1]:8080/pay"}}"#).destination(),
            Some(Destination {
                host: "::1".into(),
                port: 8080
            })
        );
    }

    #[test]
    fn a_request_reads_back_as_written_and_a_reply_may_be_empty() {
        let request = CallRequest {
            run: "r1".into(),
            step: "payment".into(),
            execution: 1,
            attempt: 2,
            idempotency_key: CallRequest::key_of("r1", "payment", 1),
            kind: CallKind::Event,
            event: Some("OrderPlaced".into()),
            action: None,
            data: serde_json::from_str(r#"{"card": "expired"}"#).unwrap(),
        };
        let text = serde_json::to_string(&request).unwrap();
        assert!(
            text.contains(r#""idempotency_key":"r1/payment/1""#),
            "{text}"
        );
        assert!(text.contains(r#""kind":"event""#), "{text}");
        assert_eq!(serde_json::from_str::<CallRequest>(&text).unwrap(), request);
        assert_eq!(
            serde_json::from_str::<CallReply>("{}").unwrap(),
            CallReply::default()
        );
    }
}

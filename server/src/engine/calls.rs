//! Calls to the real services steps are bound to ([`app::model::call`]): which hosts this
//! server may call (`--allow-service HOST[:PORT]`; loopback only by default), and the call
//! itself — an HTTP POST of the [`CallRequest`], no redirects followed, its answer capped in
//! size ([`MAX_CALL_BODY_BYTES`]) and time (the step's timeout, at most
//! [`MAX_CALL_TIMEOUT`]), read as a [`CallReply`], mapped to what it means for the run
//! ([`CallAnswer`]). Headers come from the server's environment by name; neither they nor
//! their values are recorded.
//!
//! The driver makes a call only once the attempt's `StepStarted` is durable, and a resumed
//! run makes it again under the same idempotency key.

use std::time::{Duration, Instant};

use app::model::call::{
    CallReply, CallRequest, Destination, ServiceCall, IDEMPOTENCY_HEADER, MAX_CALL_BODY_BYTES,
};
use app::model::{Problem, Workflow};

use super::core::{CallAnswer, Called};

/// A call without a step timeout waits this long for its answer.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a call waits for its answer, whatever the step's timeout.
pub const MAX_CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting to a service may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The most hosts `--allow-service` may name.
pub const MAX_ALLOWED_SERVICES: usize = 256;
/// The most run data one reply may write, as JSON: as much as a run's input may hold
/// ([`app::model::api::MAX_RUN_INPUT_BYTES`]), for the same reason — runs in flight hold it.
pub const MAX_REPLY_WRITES_BYTES: usize = app::model::api::MAX_RUN_INPUT_BYTES;
/// How much of an error body a history record keeps.
const MAX_PROBLEM_CHARS: usize = 300;

/// A host (and port, or any) this server may call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    pub host: String,
    pub port: Option<u16>,
}

impl Allowed {
    /// `HOST`, `HOST:PORT`, `[V6]` or `[V6]:PORT`.
    pub fn parse(text: &str) -> Result<Allowed, String> {
        let text = text.trim();
        let bad = || format!("--allow-service {text:?}: give HOST or HOST:PORT");
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            (host, after.strip_prefix(':'))
        } else if text.matches(':').count() > 1 {
            (text, None) // a bare IPv6 address
        } else {
            match text.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            }
        };
        if host.is_empty() || host.contains(['/', '@', ' ']) {
            return Err(bad());
        }
        let port = match port {
            Some(port) => Some(port.parse::<u16>().map_err(|_| bad())?),
            None => None,
        };
        Ok(Allowed {
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

/// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The services this server may call, and its clients for them.
pub struct Services {
    allowed: Vec<Allowed>,
    http: reqwest::Client,
    /// For calls over NATS (`--bus` or `--nats`).
    nats: Option<async_nats::Client>,
}

impl Default for Services {
    fn default() -> Self {
        Services::new(Vec::new())
    }
}

impl Services {
    /// Loopback, and the hosts `allowed` names.
    pub fn new(allowed: Vec<Allowed>) -> Services {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .unwrap_or_default();
        Services {
            allowed,
            http,
            nats: None,
        }
    }

    /// Calls over NATS through `client`.
    pub fn with_nats(mut self, client: async_nats::Client) -> Services {
        self.nats = Some(client);
        self
    }

    /// From `--allow-service` values.
    pub fn from_flags(flags: &[String]) -> Result<Services, String> {
        if flags.len() > MAX_ALLOWED_SERVICES {
            return Err(format!(
                "--allow-service names {} hosts; the limit is {MAX_ALLOWED_SERVICES}",
                flags.len()
            ));
        }
        let allowed = flags
            .iter()
            .filter(|f| !f.trim().is_empty())
            .map(|f| Allowed::parse(f))
            .collect::<Result<_, _>>()?;
        Ok(Services::new(allowed))
    }

    /// Whether this server may call `to`.
    pub fn allows(&self, to: &Destination) -> bool {
        is_loopback(&to.host)
            || self
                .allowed
                .iter()
                .any(|a| a.host == to.host && a.port.is_none_or(|p| p == to.port))
    }

    /// What this server cannot call among `workflow`'s bound steps, each naming the step
    /// and the host — refused when the workflow is saved, so nothing is stored that could
    /// not run here.
    pub fn problems(&self, workflow: &Workflow) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (i, node) in workflow.nodes.iter().enumerate() {
            let Some(call) = &node.call else { continue };
            let problem = |field: &str, message: String| Problem {
                path: format!("nodes[{i}].call.{field}"),
                node: Some(node.id.clone()),
                edge: None,
                field: field.rsplit('.').next().unwrap_or(field).to_string(),
                message,
            };
            if let Some(nats) = call.nats.as_ref().filter(|_| self.nats.is_none()) {
                problems.push(problem(
                    "nats.subject",
                    format!(
                        "step {} ({}) calls its service over NATS ({}), but this server has no NATS connection: start it with --bus or --nats URL",
                        node.label, node.id, nats.subject
                    ),
                ));
            }
            if let Some(to) = call.destination().filter(|to| !self.allows(to)) {
                let host = if to.host.contains(':') {
                    format!("[{}]:{}", to.host, to.port)
                } else {
                    format!("{}:{}", to.host, to.port)
                };
                problems.push(problem(
                    "http.url",
                    format!(
                        "step {} ({}) calls {host}, which this server may not call: only loopback{}; start it with --allow-service {host} to allow it",
                        node.label,
                        node.id,
                        if self.allowed.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " and {}",
                                self.allowed
                                    .iter()
                                    .map(|a| match a.port {
                                        Some(p) => format!("{}:{p}", a.host),
                                        None => a.host.clone(),
                                    })
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }
                    ),
                ));
            }
        }
        problems
    }

    /// Calls the service `binding` names with `request`; never fails: what went wrong is
    /// in the answer.
    pub async fn call(
        &self,
        binding: &ServiceCall,
        request: &CallRequest,
        timeout_ms: Option<u64>,
    ) -> Called {
        let started = Instant::now();
        let timeout = timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_CALL_TIMEOUT)
            .min(MAX_CALL_TIMEOUT);
        let answer = tokio::time::timeout(timeout, self.exchange(binding, request)).await;
        let took_ms = started.elapsed().as_millis() as u64;
        let (status, answer) = match answer {
            Ok(exchanged) => exchanged,
            Err(_) => (
                None,
                CallAnswer::Broken {
                    timed_out: true,
                    problem: format!("no answer within {} ms", timeout.as_millis()),
                },
            ),
        };
        Called {
            status,
            took_ms,
            answer,
        }
    }

    async fn exchange(
        &self,
        binding: &ServiceCall,
        request: &CallRequest,
    ) -> (Option<u16>, CallAnswer) {
        let broken = |problem: String| CallAnswer::Broken {
            timed_out: false,
            problem,
        };
        let headers = match environment_headers(binding) {
            Ok(headers) => headers,
            Err(failure) => return (None, CallAnswer::Declined { failure }),
        };
        if let Some(nats) = &binding.nats {
            return self.request(&nats.subject, request, headers).await;
        }
        let Some(http) = &binding.http else {
            return (
                None,
                CallAnswer::Declined {
                    failure: "the step names no service to call".into(),
                },
            );
        };
        // Checked at save; checked again, the flags may have changed since.
        match binding.destination() {
            Some(to) if self.allows(&to) => {}
            _ => {
                return (
                    None,
                    CallAnswer::Declined {
                        failure: format!("{} is not a service this server may call", http.url),
                    },
                )
            }
        }
        let mut sending = self
            .http
            .post(&http.url)
            .header(IDEMPOTENCY_HEADER, &request.idempotency_key)
            .json(request);
        for (name, value) in headers {
            sending = sending.header(name.as_str(), value);
        }
        let mut response = match sending.send().await {
            Ok(response) => response,
            Err(e) if e.is_connect() => return (None, broken(words_of(&e))),
            Err(e) => {
                let why = words_of(&e);
                return (
                    None,
                    broken(format!("the connection broke before an answer came: {why}")),
                );
            }
        };
        let status = response.status().as_u16();
        // The body, read up to the cap while it comes.
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_CALL_BODY_BYTES {
                        return (
                            Some(status),
                            broken(format!(
                                "the reply is more than {MAX_CALL_BODY_BYTES} bytes; the limit is {MAX_CALL_BODY_BYTES}"
                            )),
                        );
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let why = words_of(&e);
                    return (
                        Some(status),
                        broken(format!(
                            "the connection broke while the reply came in: {why}"
                        )),
                    );
                }
            }
        }
        let location = response_location(&response);
        let answer = answer_of(status, &body, &location);
        (Some(status), answer)
    }
}

impl Services {
    /// A NATS request to `subject`: its reply counts as `200` unless it carries the NATS
    /// service framework's `Nats-Service-Error-Code` header (`4xx` declines, others are
    /// retried); no responder or no reply is retried.
    async fn request(
        &self,
        subject: &str,
        request: &CallRequest,
        headers: Vec<(String, String)>,
    ) -> (Option<u16>, CallAnswer) {
        let broken = |problem: String| CallAnswer::Broken {
            timed_out: false,
            problem,
        };
        let Some(client) = &self.nats else {
            return (
                None,
                CallAnswer::Declined {
                    failure: "this server has no NATS connection (--bus or --nats)".into(),
                },
            );
        };
        let mut map = async_nats::HeaderMap::new();
        map.insert(IDEMPOTENCY_HEADER, request.idempotency_key.as_str());
        for (name, value) in &headers {
            map.insert(name.as_str(), value.as_str());
        }
        let payload = serde_json::to_vec(request).unwrap_or_default();
        let asked = async_nats::Request::new()
            .payload(payload.into())
            .headers(map)
            // The call's own deadline (the step's timeout) rules.
            .timeout(Some(MAX_CALL_TIMEOUT));
        match client.send_request(subject.to_string(), asked).await {
            Ok(reply) => {
                if reply.payload.len() > MAX_CALL_BODY_BYTES {
                    return (
                        None,
                        broken(format!(
                            "the reply is more than {MAX_CALL_BODY_BYTES} bytes; the limit is {MAX_CALL_BODY_BYTES}"
                        )),
                    );
                }
                let status = reply
                    .headers
                    .as_ref()
                    .and_then(|h| h.get("Nats-Service-Error-Code"))
                    .and_then(|code| code.as_str().parse::<u16>().ok())
                    .unwrap_or(200);
                (Some(status), answer_of(status, &reply.payload, ""))
            }
            Err(e) => {
                use async_nats::RequestErrorKind;
                let problem = match e.kind() {
                    RequestErrorKind::NoResponders => {
                        format!("no service answers on {subject}")
                    }
                    RequestErrorKind::TimedOut => format!("no answer on {subject}"),
                    _ => e.to_string(),
                };
                (None, broken(problem))
            }
        }
    }
}

/// The headers a binding sends, each read from the server's environment by name; a
/// variable the server does not have declines the call, naming it.
fn environment_headers(binding: &ServiceCall) -> Result<Vec<(String, String)>, String> {
    binding
        .headers
        .iter()
        .map(|(name, from)| {
            std::env::var(&from.env)
                .map(|value| (name.clone(), value))
                .map_err(|_| {
                    format!(
                        "header {name} comes from the environment variable {}, which this server does not have",
                        from.env
                    )
                })
        })
        .collect()
}

/// What a reply with `status` and `body` means for the run; `location`: where a redirect
/// pointed.
fn answer_of(status: u16, body: &[u8], location: &str) -> CallAnswer {
    let broken = |problem: String| CallAnswer::Broken {
        timed_out: false,
        problem,
    };
    let reply = || serde_json::from_slice::<CallReply>(body);
    let said = || {
        let text = String::from_utf8_lossy(body);
        let error = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                v.get("failure")
                    .or_else(|| v.get("error"))
                    .and_then(|e| e.as_str().map(str::to_string))
            })
            .unwrap_or_else(|| text.trim().to_string());
        error.chars().take(MAX_PROBLEM_CHARS).collect::<String>()
    };
    match status {
            200..=299 if body.iter().all(u8::is_ascii_whitespace) => CallAnswer::Done {
                writes: Default::default(),
                publish: None,
            },
            200..=299 => match reply() {
                Ok(CallReply {
                    failure: Some(failure),
                    ..
                }) => CallAnswer::Declined {
                    failure: failure.chars().take(MAX_PROBLEM_CHARS).collect(),
                },
                Ok(CallReply { writes, .. })
                    if serde_json::to_string(&writes).map_or(usize::MAX, |t| t.len())
                        > MAX_REPLY_WRITES_BYTES =>
                {
                    CallAnswer::Declined {
                        failure: format!(
                            "the reply writes more than {MAX_REPLY_WRITES_BYTES} bytes of run data; the limit is {MAX_REPLY_WRITES_BYTES}"
                        ),
                    }
                }
                Ok(CallReply {
                    writes, publish, ..
                }) => CallAnswer::Done { writes, publish },
                Err(e) => broken(format!("the reply is not a call reply: {e}")),
            },
            300..=399 => {
                let to = location;
                CallAnswer::Declined {
                    failure: format!(
                        "the service answered {status}, a redirect{to}; redirects are not followed"
                    ),
                }
            }
            400..=499 => CallAnswer::Declined {
                failure: match said() {
                    said if said.is_empty() => format!("the service answered {status}"),
                    said => said,
                },
            },
            _ => broken(match said() {
                said if said.is_empty() => format!("the service answered {status}"),
                said => format!("{status}: {said}"),
            }),
        }
}

fn response_location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(|l| format!(" to {l}"))
        .unwrap_or_default()
}

/// A client error in words: refused, unreachable, reset.
fn words_of(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut source = e.source();
    let mut deepest = e.to_string();
    while let Some(s) = source {
        deepest = s.to_string();
        source = s.source();
    }
    if e.is_connect() {
        format!("cannot connect: {deepest}")
    } else {
        deepest
    }
}

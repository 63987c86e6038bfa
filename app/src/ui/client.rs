//! Talking to the server from the browser: the REST API and a run's event WebSocket.
//! Compiled for the server too (the components reference it), where every call fails: the
//! server renders the page and never runs these handlers.

use crate::model::api::{RunReport, WorkflowRecord, WorkflowSummary};
use crate::model::{Problem, RunRecord, Workflow};

/// What went wrong with a request, ready to show: a sentence and the precise problems.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiFailure {
    /// The server's stable code (see [`crate::model::api::ERROR_CODES`]); `unreachable` when
    /// the server was not reached, empty for a failure found in the browser.
    pub code: String,
    /// In English when it comes from the server (see [`ApiFailure::words`]).
    pub message: String,
    pub problems: Vec<Problem>,
    /// The HTTP status (0 when the server was not reached).
    pub status: u16,
    /// On a `412` (the workflow changed since it was read): the revision it is at now.
    pub revision: Option<i64>,
    /// The language the server said it in (`Content-Language`; an import's problems are said
    /// in the language the request asked for), when it said.
    pub language: Option<String>,
}

impl ApiFailure {
    pub fn new(message: impl Into<String>) -> Self {
        ApiFailure {
            message: message.into(),
            ..Default::default()
        }
    }

    /// The failure in `locale`'s words: the server's English sentence, or in another
    /// language what its code means followed by the server's precise detail (which names
    /// the field, line or limit).
    pub fn words(&self, locale: crate::i18n::Locale) -> String {
        let said_in = |tag: &str| self.language.as_deref() == Some(tag);
        if locale == crate::i18n::Locale::en || (locale == crate::i18n::Locale::ko && said_in("ko"))
        {
            return self.message.clone();
        }
        let lead = match self.code.as_str() {
            "bad_request" => td_string!(locale, error.bad_request),
            "invalid" => td_string!(locale, error.invalid),
            "forbidden" => td_string!(locale, error.forbidden),
            "misdirected" => td_string!(locale, error.misdirected),
            "unsupported_media_type" => td_string!(locale, error.unsupported_media_type),
            "stale_revision" => td_string!(locale, error.stale_revision),
            "not_found" => td_string!(locale, error.not_found),
            "conflict" => td_string!(locale, error.conflict),
            "too_large" => td_string!(locale, error.too_large),
            "unavailable" => td_string!(locale, error.unavailable),
            "internal" => td_string!(locale, error.internal),
            "unreachable" => td_string!(locale, error.unreachable),
            _ => return self.message.clone(),
        };
        format!("{lead}: {}", self.message)
    }

    /// The save was refused because someone else saved first.
    pub fn is_conflict(&self) -> bool {
        self.status == 412
    }
}

#[cfg(feature = "hydrate")]
mod imp {
    use super::*;
    use crate::model::api::{ErrorBody, RunFeed, RunRequest, RunSummary};
    use futures::StreamExt;
    use gloo_net::http::{Request, Response};
    use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};

    async fn decode<T: serde::de::DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
        if response.ok() {
            return response
                .json::<T>()
                .await
                .map_err(|e| ApiFailure::new(format!("unreadable answer from the server: {e}")));
        }
        let status = response.status();
        let language = response.headers().get("content-language");
        match response.json::<ErrorBody>().await {
            Ok(body) => Err(ApiFailure {
                language,
                code: body.code,
                message: body.error,
                revision: body
                    .details
                    .iter()
                    .find_map(|d| d.get("revision").and_then(serde_json::Value::as_i64)),
                problems: body
                    .details
                    .into_iter()
                    .filter_map(|d| serde_json::from_value(d).ok())
                    .collect(),
                status,
            }),
            Err(_) => Err(ApiFailure {
                status,
                ..ApiFailure::new(format!("the server answered {status}"))
            }),
        }
    }

    /// Success with no body of interest, or the server's error.
    async fn expect_ok(response: Response) -> Result<(), ApiFailure> {
        if response.ok() {
            return Ok(());
        }
        decode::<serde_json::Value>(response).await.map(|_| ())
    }

    fn unreachable(e: gloo_net::Error) -> ApiFailure {
        ApiFailure {
            code: "unreachable".into(),
            ..ApiFailure::new(format!("cannot reach the server: {e}"))
        }
    }

    pub async fn list_workflows() -> Result<Vec<WorkflowSummary>, ApiFailure> {
        let response = Request::get("/api/workflows")
            .send()
            .await
            .map_err(unreachable)?;
        decode(response).await
    }

    pub async fn load_workflow(id: &str) -> Result<WorkflowRecord, ApiFailure> {
        let response = Request::get(&format!("/api/workflows/{id}"))
            .send()
            .await
            .map_err(unreachable)?;
        decode(response).await
    }

    /// Creates (`id` None) or replaces a workflow; a replace with `if_revision` is refused
    /// with `412` when the server's copy is at another revision.
    pub async fn save_workflow(
        id: Option<&str>,
        workflow: &Workflow,
        if_revision: Option<i64>,
    ) -> Result<WorkflowRecord, ApiFailure> {
        let mut request = match id {
            Some(id) => Request::put(&format!("/api/workflows/{id}")),
            None => Request::post("/api/workflows"),
        };
        if let (Some(_), Some(revision)) = (id, if_revision) {
            request = request.header("If-Match", &format!("\"r{revision}\""));
        }
        let response = request
            .json(workflow)
            .map_err(unreachable)?
            .send()
            .await
            .map_err(unreachable)?;
        decode(response).await
    }

    pub async fn start_run(
        workflow_id: &str,
        request: &RunRequest,
    ) -> Result<RunReport, ApiFailure> {
        let response = Request::post(&format!("/api/workflows/{workflow_id}/runs"))
            .json(request)
            .map_err(unreachable)?
            .send()
            .await
            .map_err(unreachable)?;
        decode(response).await
    }

    /// Workflow `id` exported by the server in `format`; what has no form in it is said in
    /// `locale`'s words.
    pub async fn export_workflow(
        id: &str,
        format: &str,
        locale: crate::i18n::Locale,
    ) -> Result<String, ApiFailure> {
        let language = {
            use leptos_i18n::Locale as _;
            locale.as_str()
        };
        let response = Request::get(&format!("/api/workflows/{id}/export?format={format}"))
            .header("Accept-Language", language)
            .send()
            .await
            .map_err(unreachable)?;
        if response.ok() {
            return response.text().await.map_err(unreachable);
        }
        decode::<serde_json::Value>(response)
            .await
            .map(|_| String::new())
    }

    /// Imports `text`; what cannot be imported is said in `locale`'s words.
    pub async fn import_workflow(
        text: &str,
        format: Option<&str>,
        locale: crate::i18n::Locale,
    ) -> Result<WorkflowRecord, ApiFailure> {
        let url = match format {
            Some(f) => format!("/api/workflows/import?format={f}"),
            None => "/api/workflows/import".to_string(),
        };
        let language = {
            use leptos_i18n::Locale as _;
            locale.as_str()
        };
        let response = Request::post(&url)
            .header("Content-Type", "text/plain")
            .header("Accept-Language", language)
            .body(text.to_string())
            .map_err(unreachable)?
            .send()
            .await
            .map_err(unreachable)?;
        decode(response).await
    }

    pub async fn delete_workflow(id: &str) -> Result<(), ApiFailure> {
        let response = Request::delete(&format!("/api/workflows/{id}"))
            .send()
            .await
            .map_err(unreachable)?;
        expect_ok(response).await
    }

    /// The browser's clock, in Unix milliseconds.
    pub fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    /// Waits `ms` milliseconds (debounce, retry backoff).
    pub async fn sleep_ms(ms: u32) {
        gloo_timers::future::TimeoutFuture::new(ms).await;
    }

    /// The browser's local copy of unsaved work, by key.
    pub fn local_get(key: &str) -> Option<String> {
        web_sys::window()?
            .local_storage()
            .ok()??
            .get_item(key)
            .ok()?
    }

    pub fn local_set(key: &str, value: &str) {
        if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
            let _ = storage.set_item(key, value);
        }
    }

    pub fn local_remove(key: &str) {
        if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
            let _ = storage.remove_item(key);
        }
    }

    pub async fn cancel_run(run_id: &str) -> Result<(), ApiFailure> {
        let response = Request::post(&format!("/api/runs/{run_id}/cancel"))
            .send()
            .await
            .map_err(unreachable)?;
        expect_ok(response).await
    }

    /// `GET path`, decoded.
    pub async fn get_json<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
        let response = Request::get(path).send().await.map_err(unreachable)?;
        decode(response).await
    }

    /// `POST path` with a JSON body, the answer decoded.
    pub async fn post_json<T: serde::de::DeserializeOwned>(
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, ApiFailure> {
        let response = Request::post(path)
            .json(body)
            .map_err(unreachable)?
            .send()
            .await
            .map_err(unreachable)?;
        decode(response).await
    }

    /// `POST path` with a JSON body; only success matters.
    pub async fn post_ok(path: &str, body: &impl serde::Serialize) -> Result<(), ApiFailure> {
        let response = Request::post(path)
            .json(body)
            .map_err(unreachable)?
            .send()
            .await
            .map_err(unreachable)?;
        expect_ok(response).await
    }

    /// `ws://host/path` (or `wss:`) for this page's server.
    fn socket_url(path: &str) -> Result<String, ApiFailure> {
        let location = web_sys::window()
            .ok_or_else(|| ApiFailure::new("no window"))?
            .location();
        let scheme = match location.protocol().as_deref() {
            Ok("https:") => "wss",
            _ => "ws",
        };
        let host = location.host().unwrap_or_default();
        Ok(format!("{scheme}://{host}{path}"))
    }

    /// Follows a run's history after `after` until the server closes the stream. `Ok` when
    /// it closed because the run completed; `Err` when the connection broke (resume after
    /// the last record received).
    pub async fn watch_run(
        run_id: &str,
        after: u64,
        on_record: impl Fn(RunRecord),
    ) -> Result<(), ApiFailure> {
        let url = socket_url(&format!("/api/runs/{run_id}/events?after={after}"))?;
        let socket = WebSocket::open(&url)
            .map_err(|e| ApiFailure::new(format!("cannot open the live stream: {e}")))?;
        let (_, mut incoming) = socket.split();
        while let Some(message) = incoming.next().await {
            match message {
                Ok(Message::Text(text)) => match serde_json::from_str::<RunRecord>(&text) {
                    Ok(record) => on_record(record),
                    Err(e) => leptos::logging::warn!("unreadable run event: {e}"),
                },
                Ok(Message::Bytes(_)) => {}
                // The server closes normally once the run has completed.
                Err(WebSocketError::ConnectionClose(close)) if close.code == 1000 => return Ok(()),
                Err(e) => {
                    return Err(ApiFailure::new(format!("live stream interrupted: {e}")));
                }
            }
        }
        Err(ApiFailure::new("live stream ended early"))
    }

    pub async fn list_runs(workflow_id: &str) -> Result<Vec<RunSummary>, ApiFailure> {
        let response = Request::get(&format!("/api/workflows/{workflow_id}/runs"))
            .send()
            .await
            .map_err(unreachable)?;
        decode(response).await
    }

    /// Follows the runs feed until the connection breaks (the caller reconnects).
    pub async fn watch_feed(on_message: impl Fn(RunFeed)) -> ApiFailure {
        let url = match socket_url("/api/runs/feed") {
            Ok(url) => url,
            Err(e) => return e,
        };
        let socket = match WebSocket::open(&url) {
            Ok(socket) => socket,
            Err(e) => return ApiFailure::new(format!("cannot open the runs feed: {e}")),
        };
        let (_, mut incoming) = socket.split();
        while let Some(message) = incoming.next().await {
            match message {
                Ok(Message::Text(text)) => match serde_json::from_str::<RunFeed>(&text) {
                    Ok(message) => on_message(message),
                    Err(e) => leptos::logging::warn!("unreadable runs feed message: {e}"),
                },
                Ok(Message::Bytes(_)) => {}
                Err(e) => return ApiFailure::new(format!("runs feed interrupted: {e}")),
            }
        }
        ApiFailure::new("runs feed ended")
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    use super::*;

    fn browser_only<T>() -> Result<T, ApiFailure> {
        Err(ApiFailure {
            message: "only available in the browser".into(),
            problems: Vec::new(),
            ..Default::default()
        })
    }

    pub async fn list_workflows() -> Result<Vec<WorkflowSummary>, ApiFailure> {
        browser_only()
    }
    pub async fn load_workflow(_id: &str) -> Result<WorkflowRecord, ApiFailure> {
        browser_only()
    }
    pub async fn save_workflow(
        _id: Option<&str>,
        _workflow: &Workflow,
        _if_revision: Option<i64>,
    ) -> Result<WorkflowRecord, ApiFailure> {
        browser_only()
    }
    pub async fn start_run(
        _workflow_id: &str,
        _request: &crate::model::api::RunRequest,
    ) -> Result<RunReport, ApiFailure> {
        browser_only()
    }
    pub async fn list_runs(
        _workflow_id: &str,
    ) -> Result<Vec<crate::model::api::RunSummary>, ApiFailure> {
        browser_only()
    }
    pub async fn watch_feed(_on_message: impl Fn(crate::model::api::RunFeed)) -> ApiFailure {
        ApiFailure::new("only available in the browser")
    }
    pub async fn cancel_run(_run_id: &str) -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn delete_workflow(_id: &str) -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn export_workflow(
        _id: &str,
        _format: &str,
        _locale: crate::i18n::Locale,
    ) -> Result<String, ApiFailure> {
        browser_only()
    }
    pub async fn import_workflow(
        _text: &str,
        _format: Option<&str>,
        _locale: crate::i18n::Locale,
    ) -> Result<WorkflowRecord, ApiFailure> {
        browser_only()
    }
    pub async fn sleep_ms(_ms: u32) {}
    pub fn now_ms() -> f64 {
        0.0
    }
    pub fn local_get(_key: &str) -> Option<String> {
        None
    }
    pub fn local_set(_key: &str, _value: &str) {}
    pub fn local_remove(_key: &str) {}
    pub async fn get_json<T: serde::de::DeserializeOwned>(_path: &str) -> Result<T, ApiFailure> {
        browser_only()
    }
    pub async fn post_json<T: serde::de::DeserializeOwned>(
        _path: &str,
        _body: &impl serde::Serialize,
    ) -> Result<T, ApiFailure> {
        browser_only()
    }
    pub async fn post_ok(_path: &str, _body: &impl serde::Serialize) -> Result<(), ApiFailure> {
        browser_only()
    }
    pub async fn watch_run(
        _run_id: &str,
        _after: u64,
        _on_record: impl Fn(RunRecord),
    ) -> Result<(), ApiFailure> {
        browser_only()
    }
}

pub use imp::*;

/// Asks `path` every `every_ms` until `running` says the answer has ended; that answer.
pub async fn until_ended<T: serde::de::DeserializeOwned>(
    path: &str,
    every_ms: u32,
    running: impl Fn(&T) -> bool,
) -> Result<T, ApiFailure> {
    loop {
        let value = get_json::<T>(path).await?;
        if !running(&value) {
            return Ok(value);
        }
        sleep_ms(every_ms).await;
    }
}

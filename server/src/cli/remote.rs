//! The subcommands that talk to a running server over its REST API: `import`, `export`,
//! `run --server`. Plain HTTP (a server on this machine or behind the user's own TLS
//! proxy); a refusal prints the server's own error, with its problems.

use std::path::Path;
use std::time::Duration;

use app::model::api::RunReport;
use app::model::RunStatus;
use serde_json::{json, Value};

use super::offline::exit_code;
use super::{read_file, ExportArgs, ImportArgs, Refused, RunArgs};

/// The longest one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read from a server (the largest the API sends is an export of a
/// 1 MiB document, under 2 MiB as BPMN): a server that sends more, or without end, is
/// refused once this much has come, not read into memory whole.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// How often a run on the server is looked at while it runs.
const POLL_EVERY: Duration = Duration::from_millis(200);

fn client() -> Result<reqwest::Client, Refused> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("hybridflow-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Refused(format!("cannot make an HTTP client: {e}")))
}

/// A response's body as text, read a chunk at a time and refused past
/// [`MAX_RESPONSE_BYTES`].
async fn read_capped(server: &str, mut response: reqwest::Response) -> Result<String, Refused> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Refused(format!("the server at {server} sent no whole answer: {e}")))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(Refused(format!(
                "the server at {server} sent more than {MAX_RESPONSE_BYTES} bytes; the limit is {MAX_RESPONSE_BYTES}"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| {
        Refused(format!(
            "the server at {server} sent an answer that is not UTF-8 text"
        ))
    })
}

fn url(server: &str, path: &str) -> String {
    format!("{}{path}", server.trim_end_matches('/'))
}

/// The body of a successful response, or the server's error in words.
async fn answer(
    server: &str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<String, Refused> {
    let response =
        response.map_err(|e| Refused(format!("cannot reach the server at {server}: {e}")))?;
    let status = response.status();
    let body = read_capped(server, response).await?;
    if status.is_success() {
        return Ok(body);
    }
    let error: Value = serde_json::from_str(&body).unwrap_or(json!({ "error": body }));
    let mut message = format!(
        "the server refused ({status}): {}",
        error["error"].as_str().unwrap_or("")
    );
    if let Some(details) = error["details"].as_array() {
        for d in details {
            let at = d["path"].as_str().or(d["field"].as_str()).unwrap_or("");
            message.push_str(&format!(
                "\n  {at}: {}",
                d["message"].as_str().unwrap_or(&d.to_string())
            ));
        }
    }
    Err(Refused(message))
}

/// Stores the file on the server; returns its record.
async fn store(
    client: &reqwest::Client,
    server: &str,
    path: &Path,
    from: Option<app::model::formats::ImportFormat>,
) -> Result<Value, Refused> {
    let text = read_file(path)?;
    let mut request = client
        .post(url(server, "/api/workflows/import"))
        .header("content-type", "text/plain; charset=utf-8")
        .body(text);
    if let Some(f) = from {
        request = request.query(&[("format", f.as_str())]);
    }
    let body = answer(server, request.send().await).await?;
    serde_json::from_str(&body)
        .map_err(|e| Refused(format!("the server's answer is not JSON: {e}")))
}

/// `import`: prints the new workflow's id (its record with `--json`).
pub async fn import(args: &ImportArgs) -> Result<(), Refused> {
    let record = store(&client()?, &args.server, &args.file, args.from).await?;
    if args.json {
        println!("{record}");
    } else {
        println!("{}", record["id"].as_str().unwrap_or_default());
    }
    Ok(())
}

/// `export`.
pub async fn export(args: &ExportArgs) -> Result<(), Refused> {
    let client = client()?;
    let path = format!("/api/workflows/{}/export", urlencode(&args.id));
    let response = client
        .get(url(&args.server, &path))
        .query(&[("format", args.to.as_str())])
        .send()
        .await;
    let text = answer(&args.server, response).await?;
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `run --server`: stores the file (or takes a stored workflow), starts a run, waits for
/// its end and prints it as `run` does.
pub async fn run(args: &RunArgs) -> Result<u8, Refused> {
    let server = args.server.as_deref().unwrap_or_default();
    let messages = super::timed_messages(&args.messages)?;
    let client = client()?;
    let workflow_id = if args.stored {
        args.file.clone()
    } else {
        store(&client, server, Path::new(&args.file), args.from).await?["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let input: Value = serde_json::from_str(&args.input)
        .map_err(|e| Refused(format!("--input is not JSON: {e}")))?;
    let mut request = json!({ "input": input, "seed": args.seed });
    if let Some(faults) = &args.faults {
        request["faults"] = serde_json::from_str(faults)
            .map_err(|e| Refused(format!("--faults is not JSON: {e}")))?;
    }
    let path = format!("/api/workflows/{}/runs", urlencode(&workflow_id));
    let body = answer(
        server,
        client.post(url(server, &path)).json(&request).send().await,
    )
    .await?;
    let mut report: RunReport = serde_json::from_str(&body)
        .map_err(|e| Refused(format!("the server's run report is unreadable: {e}")))?;
    // The messages, each at its time after the start (real time here).
    let started = tokio::time::Instant::now();
    for m in messages {
        tokio::time::sleep_until(started + Duration::from_millis(m.at_ms)).await;
        let path = format!("/api/runs/{}/messages", urlencode(&report.id));
        answer(
            server,
            client
                .post(url(server, &path))
                .json(&m.message)
                .send()
                .await,
        )
        .await
        .map_err(|Refused(why)| Refused(format!("--message {}: {why}", m.message.name)))?;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.wait_secs);
    while report.status == RunStatus::Running && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(POLL_EVERY).await;
        let body = answer(
            server,
            client
                .get(url(server, &format!("/api/runs/{}", urlencode(&report.id))))
                .send()
                .await,
        )
        .await?;
        report = serde_json::from_str(&body)
            .map_err(|e| Refused(format!("the server's run report is unreadable: {e}")))?;
    }
    if args.json {
        println!("{}", json!({ "outcome": report }));
    } else {
        println!(
            "run {} of workflow {}: {}",
            report.id,
            report.workflow_id,
            report.status.as_str()
        );
        if let Some(d) = &report.diagnosis {
            println!("diagnosis: {d}");
        }
        for line in &report.story {
            println!("- {}", line.message);
        }
        // The editor opens on this workflow and run (its timeline, log and story).
        println!(
            "{}/?workflow={}&run={}",
            server.trim_end_matches('/'),
            urlencode(&report.workflow_id),
            urlencode(&report.id)
        );
    }
    Ok(exit_code(Some(report.status)))
}

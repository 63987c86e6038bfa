//! The bus between server processes that share one database (`--bus nats://…`), on NATS:
//!
//! Subjects start with a prefix (`--bus-prefix`, `hybridflow` by default), so several
//! clusters can share one NATS server.
//!
//! - `hybridflow.run.<run id>`: each durable batch of a run's records (their JSON, one per
//!   line), published by the process that drives the run once the batch is written. A
//!   watcher connected to any process subscribes, catches up from the store, then follows;
//!   a record whose `seq` skips ahead (NATS core delivers at most once) sends it back to
//!   the store first, so the stream stays gap-free and in order whatever the bus drops.
//! - `hybridflow.feed`: run starts and ends, from every process to every process's runs
//!   feed (each process skips its own: it announced them locally already).
//! - `hybridflow.control.<process>`: cancel and fault requests for the runs a process
//!   drives, and cancel requests for its lab batches and load test, sent by whichever
//!   process received the HTTP request (request/reply).
//!
//! The store stays the source of truth; the bus only makes other processes hear sooner.
//! Event deliveries between a run's steps take JetStream ([`super::jetstream`]).

use std::sync::Arc;
use std::time::Duration;

use app::model::api::RunSummary;
use app::model::Faults;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::Engine;
use crate::store::Recorded;

/// How long a control request waits for the owning process's answer.
pub const CONTROL_TIMEOUT: Duration = Duration::from_secs(2);
/// Messages a process buffers for the bus before it drops what it cannot send (the store
/// has everything: watchers elsewhere catch up from it).
pub const OUTBOX_MESSAGES: usize = 65_536;

/// The subjects' first token unless configured otherwise.
pub const DEFAULT_PREFIX: &str = "hybridflow";

/// A request to the process driving a run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Control {
    Cancel,
    Faults {
        faults: Faults,
    },
    CrashOrchestrator {
        for_ms: u64,
        standby_lease_ms: Option<u64>,
    },
}

/// What a control request is about.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum Target {
    Run { run: String, control: Control },
    Batch { batch: String },
    Load { load: String },
}

/// What applies control requests in a process: its engine's runs, its lab's batches and load
/// test.
pub trait Controlled: Send + Sync {
    /// Applies `target`'s request here; false when this process runs no such thing.
    fn apply(&self, target: Target) -> bool;
}

#[derive(serde::Serialize, serde::Deserialize)]
struct FeedMessage {
    process: String,
    summary: RunSummary,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot connect to the bus at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("the bus refused a subscription: {0}")]
    Subscribe(#[from] async_nats::SubscribeError),
    #[error("the bus's events stream: {0}")]
    Stream(String),
}

/// This process's connection to the bus.
pub struct Cluster {
    client: async_nats::Client,
    process: String,
    /// The subjects' first token.
    prefix: String,
    /// Messages to publish, in order (one task sends them: a run's batches keep their order).
    outbox: mpsc::Sender<(String, Bytes)>,
}

/// `text` as one token of a NATS subject: the characters a token cannot hold (`.`, `*`,
/// `>`, white space) become `_`.
pub fn token(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '.' | '*' | '>' => '_',
            c if c.is_whitespace() || c.is_control() => '_',
            c => c,
        })
        .collect()
}

impl Cluster {
    /// Connects to the NATS server at `url` as `process`, on subjects under `prefix`.
    pub async fn connect(
        url: &str,
        prefix: &str,
        process: &str,
    ) -> Result<Arc<Cluster>, ClusterError> {
        // No echo: a process never needs its own messages back (its runs' watchers and its
        // runs feed are served locally), and decoding them cost every run CPU.
        let client = async_nats::ConnectOptions::new()
            .name(format!("hybridflow {process}"))
            .no_echo()
            .request_timeout(Some(CONTROL_TIMEOUT))
            .connect(url)
            .await
            .map_err(|source| ClusterError::Connect {
                url: url.to_string(),
                source,
            })?;
        let (outbox, mut sending) = mpsc::channel::<(String, Bytes)>(OUTBOX_MESSAGES);
        let publisher = client.clone();
        tokio::spawn(async move {
            while let Some((subject, payload)) = sending.recv().await {
                if let Err(e) = publisher.publish(subject, payload).await {
                    tracing::debug!(error = %e, "the bus did not take a message");
                }
            }
        });
        Ok(Arc::new(Cluster {
            client,
            process: process.to_string(),
            prefix: token(prefix),
            outbox,
        }))
    }

    /// The subject of a run's records.
    pub fn run_subject(&self, run_id: &str) -> String {
        format!("{}.run.{}", self.prefix, token(run_id))
    }

    fn control_subject(&self, process: &str) -> String {
        format!("{}.control.{}", self.prefix, token(process))
    }

    fn feed_subject(&self) -> String {
        format!("{}.feed", self.prefix)
    }

    /// The connection (the events stream shares it).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The first token of this cluster's subjects.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn send(&self, subject: String, payload: Bytes) {
        if self.outbox.try_send((subject, payload)).is_err() {
            tracing::debug!("the bus is behind; a message is left to the store");
        }
    }

    /// Publishes a durable batch of a run's records.
    pub fn publish_records(&self, run_id: &str, records: &[Recorded]) {
        if records.is_empty() {
            return;
        }
        let mut payload = Vec::with_capacity(records.iter().map(|r| r.json.len() + 1).sum());
        for (i, record) in records.iter().enumerate() {
            if i > 0 {
                payload.push(b'\n');
            }
            payload.extend_from_slice(record.json.as_bytes());
        }
        self.send(self.run_subject(run_id), payload.into());
    }

    /// Tells the other processes' runs feeds that a run started or ended.
    pub fn publish_summary(&self, summary: &RunSummary) {
        let message = FeedMessage {
            process: self.process.clone(),
            summary: summary.clone(),
        };
        self.send(self.feed_subject(), crate::store::encode(&message).into());
    }

    /// Subscribes to a run's records as its owner publishes them.
    pub async fn follow(&self, run_id: &str) -> Result<async_nats::Subscriber, ClusterError> {
        Ok(self.client.subscribe(self.run_subject(run_id)).await?)
    }

    /// Asks `owner` to apply `target`'s request; false when it runs no such thing (or does
    /// not answer within [`CONTROL_TIMEOUT`]).
    pub async fn control(&self, owner: &str, target: Target) -> bool {
        match self
            .client
            .request(
                self.control_subject(owner),
                crate::store::encode(&target).into(),
            )
            .await
        {
            Ok(reply) => reply.payload.as_ref() == b"1",
            Err(e) => {
                tracing::info!(owner, ?target, error = %e, "the owning process did not take the request");
                false
            }
        }
    }

    /// Serves this process's part: other processes' feed messages into the local runs feed,
    /// and control requests for what runs here. The tasks end with the connection.
    pub async fn serve(
        self: &Arc<Self>,
        engine: &Arc<Engine>,
        controlled: Arc<dyn Controlled>,
    ) -> Result<(), ClusterError> {
        let mut feed = self.client.subscribe(self.feed_subject()).await?;
        let me = self.process.clone();
        let local = engine.clone();
        tokio::spawn(async move {
            while let Some(message) = feed.next().await {
                if !local.feed_watched() {
                    continue; // nobody here follows the runs feed: nothing to decode
                }
                match serde_json::from_slice::<FeedMessage>(&message.payload) {
                    Ok(m) if m.process != me => local.announce_locally(m.summary),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "an unreadable feed message"),
                }
            }
        });
        let mut requests = self
            .client
            .subscribe(self.control_subject(&self.process))
            .await?;
        let client = self.client.clone();
        tokio::spawn(async move {
            while let Some(message) = requests.next().await {
                let done = serde_json::from_slice::<Target>(&message.payload)
                    .is_ok_and(|target| controlled.apply(target));
                if let Some(reply) = message.reply {
                    let answer = Bytes::from_static(if done { b"1" } else { b"0" });
                    let _ = client.publish(reply, answer).await;
                }
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_id_is_one_token_of_a_subject() {
        assert_eq!(token("ab12"), "ab12");
        assert_eq!(token("host.example.com:3001"), "host_example_com:3001");
        assert_eq!(token("a b*c>d"), "a_b_c_d");
    }
}

//! The other processes over NATS (`--bus nats://…`): the [`Peers`] of a process that shares
//! its database with others.
//!
//! Subjects start with a prefix (`--bus-prefix`, `hybridflow` by default), so several
//! clusters can share one NATS server.
//!
//! - `hybridflow.run.<run id>`: each durable batch of a run's records (their JSON, one per
//!   line), published by the process that drives the run once the batch is written. A
//!   watcher connected to any process reads the store, then follows; a record whose `seq`
//!   skips ahead (NATS core delivers at most once) sends it back to the store first, so the
//!   stream stays gap-free and in order whatever the bus drops.
//! - `hybridflow.feed`: run starts and ends, from every process to every other's runs feed.
//! - `hybridflow.control.<process>`: requests for what a process owns (request/reply): a
//!   change to a run, answered once it is durable; a nudge to stop a lab batch or load test
//!   whose cancel was stored.
//!
//! The store stays the source of truth; the bus only makes other processes hear sooner.
//! Event deliveries between a run's steps take JetStream ([`super::jetstream`]). The client
//! pings the server every [`PING_EVERY`], so a link that stalls is noticed (and reconnected)
//! within seconds, and readiness says so meanwhile.

use std::sync::Arc;
use std::time::Duration;

use app::model::api::RunSummary;
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::peers::{Answer, Link, Local, Peers, PeersError, RecordBatches, Target};
use crate::store::Recorded;

/// How long a request to another process waits for its answer. A change to a run is
/// answered once it is durable there, so this is longer than a commit takes.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a subscription may take before a watcher goes on without the bus (reading the
/// store instead): a stalled link must not hold a watcher up.
pub const SUBSCRIBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How often the client pings the server: a stalled link is noticed after two unanswered.
pub const PING_EVERY: Duration = Duration::from_secs(2);
/// Messages a process buffers for the bus before it drops what it cannot send (the store
/// has everything: watchers elsewhere catch up from it).
pub const OUTBOX_MESSAGES: usize = 65_536;

/// The subjects' first token unless configured otherwise.
pub const DEFAULT_PREFIX: &str = "hybridflow";

#[derive(serde::Serialize, serde::Deserialize)]
struct FeedMessage {
    process: String,
    summary: RunSummary,
}

/// This process's connection to the others.
pub struct NatsPeers {
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

impl NatsPeers {
    /// Connects to the NATS server at `url` as `process`, on subjects under `prefix`.
    pub async fn connect(
        url: &str,
        prefix: &str,
        process: &str,
    ) -> Result<Arc<NatsPeers>, PeersError> {
        // No echo: a process never needs its own messages back (its runs' watchers and its
        // runs feed are served locally), and decoding them cost every run CPU.
        let client = async_nats::ConnectOptions::new()
            .name(format!("hybridflow {process}"))
            .no_echo()
            .ping_interval(PING_EVERY)
            .request_timeout(Some(REQUEST_TIMEOUT))
            .connect(url)
            .await
            .map_err(|source| PeersError::Connect {
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
        Ok(Arc::new(NatsPeers {
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

    /// Serves this process's part: other processes' feed messages into `local`'s runs
    /// feed, and requests for what `local` owns (each answered by its own task: a change
    /// to a run is answered once durable). The tasks end with the connection.
    pub async fn serve(self: &Arc<Self>, local: Arc<dyn Local>) -> Result<(), PeersError> {
        let mut feed = self.client.subscribe(self.feed_subject()).await?;
        let me = self.process.clone();
        let news = local.clone();
        tokio::spawn(async move {
            while let Some(message) = feed.next().await {
                if !news.feed_watched() {
                    continue; // nobody here follows the runs feed: nothing to decode
                }
                match serde_json::from_slice::<FeedMessage>(&message.payload) {
                    Ok(m) if m.process != me => news.announce(m.summary),
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
                let (local, client) = (local.clone(), client.clone());
                tokio::spawn(async move {
                    let answer = match serde_json::from_slice::<Target>(&message.payload) {
                        Ok(target) => local.apply(target).await,
                        Err(e) => {
                            tracing::debug!(error = %e, "an unreadable request");
                            Answer::NotHere
                        }
                    };
                    if let Some(reply) = message.reply {
                        let _ = client
                            .publish(reply, crate::store::encode(&answer).into())
                            .await;
                    }
                });
            }
        });
        Ok(())
    }
}

#[async_trait]
impl Peers for NatsPeers {
    fn publish_records(&self, run_id: &str, records: &[Recorded]) {
        if records.is_empty() {
            return;
        }
        let mut payload = Vec::with_capacity(records.iter().map(|r| r.json.len() + 1).sum());
        for (i, record) in records.iter().enumerate() {
            if i > 0 {
                payload.push(b'\n');
            }
            payload.extend_from_slice(record.json.as_str().as_bytes());
        }
        self.send(self.run_subject(run_id), payload.into());
    }

    fn publish_summary(&self, summary: &RunSummary) {
        let message = FeedMessage {
            process: self.process.clone(),
            summary: summary.clone(),
        };
        self.send(self.feed_subject(), crate::store::encode(&message).into());
    }

    async fn follow(&self, run_id: &str) -> Result<Option<RecordBatches>, PeersError> {
        let subscribing = self.client.subscribe(self.run_subject(run_id));
        let subscriber = tokio::time::timeout(SUBSCRIBE_TIMEOUT, subscribing)
            .await
            .map_err(|_| PeersError::Timeout(SUBSCRIBE_TIMEOUT))??;
        Ok(Some(Box::pin(subscriber.map(|message| message.payload))))
    }

    async fn ask(&self, owner: &str, target: Target) -> Answer {
        let request = self.client.request(
            self.control_subject(owner),
            crate::store::encode(&target).into(),
        );
        match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
            Ok(Ok(reply)) => serde_json::from_slice(&reply.payload).unwrap_or(Answer::NotHere),
            Ok(Err(e)) => {
                tracing::info!(owner, ?target, error = %e, "the owning process did not answer");
                Answer::Unreachable
            }
            Err(_) => Answer::Unreachable,
        }
    }

    fn link(&self) -> Link {
        match self.client.connection_state() {
            async_nats::connection::State::Connected => Link::Connected,
            state => Link::Down(format!("the bus connection is {state:?}").to_lowercase()),
        }
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

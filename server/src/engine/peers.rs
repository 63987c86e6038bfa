//! The other processes that share this one's store, as the engine, the API and the lab see
//! them: one seam ([`Peers`]) with two implementations — [`Alone`] (the only process: there
//! is nobody to tell or ask) and the NATS bus ([`super::nats::NatsPeers`]). Nothing else
//! asks whether there are others.
//!
//! What goes through it: each durable batch of a run's records (for watchers elsewhere),
//! run starts and ends (for the others' runs feeds), following a run another process
//! drives, and requests to the process that owns a run, a lab batch or a load test.

use std::pin::Pin;

use app::model::api::RunSummary;
use app::model::{Faults, RunStatus};
use async_trait::async_trait;
use futures::Stream;

use crate::store::Recorded;

/// A change to a run in progress, asked of the process that drives it.
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
    /// A message for the run: it ends the wait of a step waiting for `name`.
    Message {
        name: String,
        data: serde_json::Map<String, serde_json::Value>,
    },
    /// Child run `run` of one of its sub-flow steps (or an undo run) ended.
    ChildEnded {
        run: String,
        status: RunStatus,
        diagnosis: Option<String>,
        wrote: serde_json::Map<String, serde_json::Value>,
    },
}

/// What a request to another process is about.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum Target {
    /// Apply `control` to the run and answer once it is durable in the run's history.
    Run { run: String, control: Control },
    /// A cancel of the batch was stored: stop computing it now rather than at the next
    /// progress save.
    Batch { batch: String },
    /// A cancel of the load test was stored: stop it now.
    Load { load: String },
}

/// How a request went where it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Done (for a run: durable in its history).
    Applied,
    /// The process does not drive it (any more, or not yet).
    NotHere,
    /// The run had ended.
    Ended,
    /// The process drove it but lost it to another (fenced) while applying.
    Fenced,
    /// No answer: the process or the bus did not answer in time.
    Unreachable,
}

/// Batches of a run's records as its owner publishes them (JSON lines).
pub type RecordBatches = Pin<Box<dyn Stream<Item = bytes::Bytes> + Send>>;

/// How the link to the other processes is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// There are no others.
    Alone,
    Connected,
    /// Cut off (reconnecting), and why.
    Down(String),
}

#[derive(Debug, thiserror::Error)]
pub enum PeersError {
    #[error("cannot connect to the bus at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
    #[error("the bus refused a subscription: {0}")]
    Subscribe(#[from] async_nats::SubscribeError),
    #[error("the bus's events stream: {0}")]
    Stream(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the bus did not answer within {0:?}")]
    Timeout(std::time::Duration),
}

/// The other processes sharing this one's store.
#[async_trait]
pub trait Peers: Send + Sync {
    /// Tells the others a durable batch of a run's records (never blocks: what the bus
    /// cannot take now is left to the store, which readers elsewhere fall back on).
    fn publish_records(&self, run_id: &str, records: &[Recorded]);
    /// Tells the others' runs feeds that a run started or ended.
    fn publish_summary(&self, summary: &RunSummary);
    /// The batches of records another process publishes for `run_id` from now on; `None`
    /// when there are no others.
    async fn follow(&self, run_id: &str) -> Result<Option<RecordBatches>, PeersError>;
    /// Asks `owner` to apply `target`'s request.
    async fn ask(&self, owner: &str, target: Target) -> Answer;
    /// The link's state, for readiness.
    fn link(&self) -> Link;
}

/// The only process: nothing to tell, nobody to ask.
#[derive(Debug, Default)]
pub struct Alone;

#[async_trait]
impl Peers for Alone {
    fn publish_records(&self, _run_id: &str, _records: &[Recorded]) {}

    fn publish_summary(&self, _summary: &RunSummary) {}

    async fn follow(&self, _run_id: &str) -> Result<Option<RecordBatches>, PeersError> {
        Ok(None)
    }

    async fn ask(&self, _owner: &str, _target: Target) -> Answer {
        Answer::Unreachable
    }

    fn link(&self) -> Link {
        Link::Alone
    }
}

/// What a process serves to the others: requests for what it owns, and their runs feed
/// news for its own watchers.
#[async_trait]
pub trait Local: Send + Sync {
    /// Applies `target`'s request here.
    async fn apply(&self, target: Target) -> Answer;
    /// Whether anyone here follows the runs feed (else other processes' news are not even
    /// decoded).
    fn feed_watched(&self) -> bool;
    /// Another process's run started or ended.
    fn announce(&self, summary: RunSummary);
}

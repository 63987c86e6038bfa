//! Event deliveries between a run's steps over NATS JetStream (with `--bus`, unless
//! `--local-events`): an [`EventBus`] whose publish puts the delivery in the stream
//! `<PREFIX>_EVENTS` on `<prefix>.events.<run id>`, with the delivery's idempotency key as its
//! `Nats-Msg-Id` (the stream drops a second copy within its duplicate window), and whose
//! consumer hands each delivery to the run's driver on the process that drives it.
//!
//! At least once, never lost: a publication is handed to the bus only once it is durable in
//! the run's history (the driver's rule), the stream keeps deliveries for
//! [`EVENTS_KEPT_FOR`], and a process that takes a run over reads that run's deliveries from
//! the stream again ([`JetStreamBus::replay`]) — those its dead owner left undelivered reach
//! it. A delivery that arrives twice is a no-op in the run's core (it knows which
//! `(message, edge)` pairs it has had).

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;
use futures::StreamExt;

use super::bus::{Deliver, EventBus};
use super::cluster::{token, Cluster, ClusterError};
use super::core::Input;
use super::Engine;

/// How long the stream keeps a delivery: far longer than any takeover takes.
pub const EVENTS_KEPT_FOR: Duration = Duration::from_secs(600);
/// A second publication of the same delivery within this window is dropped by the stream.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How long a publication is tried before the delivery is made in this process instead (the
/// bus is down: the run goes on, its history says everything).
pub const PUBLISH_PATIENCE: Duration = Duration::from_secs(5);
/// How long a replay waits for the stream's next message before it ends.
const REPLAY_QUIET: Duration = Duration::from_millis(500);

#[derive(serde::Serialize, serde::Deserialize)]
struct Delivery {
    run: String,
    message: u64,
    edge: usize,
}

pub struct JetStreamBus {
    js: jetstream::Context,
    stream: stream::Stream,
    prefix: String,
}

impl JetStreamBus {
    /// Creates (or finds) the events stream and starts this process's consumer, which hands
    /// `engine`'s runs their deliveries.
    pub async fn start(
        cluster: &Cluster,
        engine: &Arc<Engine>,
    ) -> Result<Arc<JetStreamBus>, ClusterError> {
        let js = jetstream::new(cluster.client().clone());
        let prefix = cluster.prefix().to_string();
        let stream = js
            .get_or_create_stream(stream::Config {
                name: format!("{}_EVENTS", prefix.to_uppercase().replace(['.', ':'], "_")),
                subjects: vec![format!("{prefix}.events.>")],
                max_age: EVENTS_KEPT_FOR,
                duplicate_window: DUPLICATE_WINDOW,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| ClusterError::Stream(e.to_string()))?;
        let bus = Arc::new(JetStreamBus { js, stream, prefix });
        let messages = bus
            .consumer(
                format!("{}.events.>", bus.prefix),
                consumer::DeliverPolicy::New,
            )
            .await?;
        let engine = Arc::downgrade(engine);
        tokio::spawn(consume(messages, engine));
        Ok(bus)
    }

    async fn consumer(
        &self,
        filter: String,
        deliver_policy: consumer::DeliverPolicy,
    ) -> Result<consumer::pull::Ordered, ClusterError> {
        self.stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: filter,
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|e| ClusterError::Stream(e.to_string()))?
            .messages()
            .await
            .map_err(|e| ClusterError::Stream(e.to_string()))
    }

    /// Hands `engine` every delivery of run `run_id` still in the stream (after a takeover:
    /// those its previous owner had not delivered). Ends once the stream has no more.
    pub async fn replay(&self, run_id: &str, engine: &Engine) -> Result<usize, ClusterError> {
        let subject = format!("{}.events.{}", self.prefix, token(run_id));
        let mut messages = self.consumer(subject, consumer::DeliverPolicy::All).await?;
        let mut handed = 0;
        while let Ok(Some(Ok(message))) = tokio::time::timeout(REPLAY_QUIET, messages.next()).await
        {
            if let Ok(delivery) = serde_json::from_slice::<Delivery>(&message.payload) {
                engine.deliver(&delivery.run, delivery.message, delivery.edge);
                handed += 1;
            }
            if message.info().is_ok_and(|info| info.pending == 0) {
                break;
            }
        }
        Ok(handed)
    }
}

/// This process's consumer: every delivery goes to the run's driver if it is here (others
/// ignore it: the run is not theirs).
async fn consume(mut messages: consumer::pull::Ordered, engine: Weak<Engine>) {
    while let Some(message) = messages.next().await {
        let Some(engine) = engine.upgrade() else {
            return;
        };
        match message {
            Ok(message) => {
                if let Ok(delivery) = serde_json::from_slice::<Delivery>(&message.payload) {
                    engine.deliver(&delivery.run, delivery.message, delivery.edge);
                }
            }
            Err(e) => tracing::warn!(error = %e, "the events stream's consumer failed"),
        }
    }
    tracing::warn!("the events stream's consumer stopped");
}

impl EventBus for JetStreamBus {
    fn publish(&self, run_id: &str, message: u64, edge: usize, deliver: &Deliver) {
        let subject = format!("{}.events.{}", self.prefix, token(run_id));
        let payload: Bytes = crate::store::encode(&Delivery {
            run: run_id.to_string(),
            message,
            edge,
        })
        .into();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            "Nats-Msg-Id",
            format!("{run_id}/event/{message}/{edge}").as_str(),
        );
        let (js, deliver) = (self.js.clone(), deliver.clone());
        tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            let mut wait = Duration::from_millis(20);
            loop {
                let acked = match js
                    .publish_with_headers(subject.clone(), headers.clone(), payload.clone())
                    .await
                {
                    Ok(ack) => ack.await.map(drop).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match acked {
                    Ok(()) => return,
                    Err(e) if started.elapsed() < PUBLISH_PATIENCE => {
                        tracing::debug!(error = %e, "the events stream did not take a delivery; retrying");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_millis(500));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the events stream is unavailable; delivering in this process");
                        deliver(message, edge);
                        return;
                    }
                }
            }
        });
    }
}

impl Engine {
    /// Hands a run driven here a delivery from the events stream (nothing when it is not
    /// driven here).
    pub fn deliver(&self, run_id: &str, message: u64, edge: usize) {
        self.inject(run_id, Input::Deliver { message, edge });
    }
}

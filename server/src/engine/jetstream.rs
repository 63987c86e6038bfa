//! Event deliveries between a run's steps over NATS JetStream (with `--bus`, unless
//! `--local-events`): an [`EventBus`] whose publish puts the delivery in the stream
//! `<PREFIX>_EVENTS` on `<prefix>.events.<run id>`, its key ([`Delivery::key`]: run, the
//! owner's epoch, the try, message, edge) as its `Nats-Msg-Id` (the stream drops a second
//! copy of the same key within its duplicate window), and whose consumer hands each delivery
//! to the run's driver on the process that drives it.
//!
//! At least once, never lost, without relying on the stream's memory: a publication is
//! handed to the bus only once it is durable in the run's history (the driver's rule); a
//! process that takes a run over finds in its history which deliveries never arrived and
//! publishes them again under its own epoch (so they are never taken for the old owner's
//! duplicates); and a driver publishes an overdue delivery again as a new try, then makes it
//! in its own process after [`super::driver::BUS_TRIES`].
//!
//! The consumer is this module's own loop around an ordered consumer: when it fails (the
//! server restarted and forgot it; the connection was cut) or a driver reports a delivery
//! overdue, it is made again from the stream sequence after the last one it handed over —
//! or from the start if the stream itself was made again (its creation time changed) — and
//! a publication that finds no stream makes the stream again.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::Notify;

use super::bus::{Deliver, Delivery, EventBus};
use super::inboxes::Inboxes;
use super::nats::{token, NatsPeers};
use super::peers::PeersError;

/// How long the stream keeps a delivery.
pub const EVENTS_KEPT_FOR: Duration = Duration::from_secs(600);
/// A second publication of the same key within this window is dropped by the stream.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How long a publication waits for the stream's acknowledgement.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);
/// The consumer is made again at most this often (many drivers may report overdue
/// deliveries at once).
pub const RECREATE_AT_MOST_EVERY: Duration = Duration::from_millis(500);
/// The longest wait between two attempts to make the consumer or the stream again.
const RETRY_MAX: Duration = Duration::from_secs(2);

#[derive(serde::Serialize, serde::Deserialize)]
struct Message {
    run: String,
    message: u64,
    edge: usize,
}

pub struct JetStreamBus {
    js: jetstream::Context,
    config: stream::Config,
    prefix: String,
    /// Set by a driver with an overdue delivery, or a publication that found no stream.
    check: Arc<Notify>,
}

impl JetStreamBus {
    /// Creates (or finds) the events stream and starts this process's consumer, which hands
    /// the runs in `inboxes` their deliveries.
    pub async fn start(
        peers: &NatsPeers,
        inboxes: Arc<Inboxes>,
    ) -> Result<Arc<JetStreamBus>, PeersError> {
        let js = jetstream::new(peers.client().clone());
        let prefix = peers.prefix().to_string();
        let config = stream::Config {
            name: format!("{}_EVENTS", prefix.to_uppercase().replace(['.', ':'], "_")),
            subjects: vec![format!("{prefix}.events.>")],
            max_age: EVENTS_KEPT_FOR,
            duplicate_window: DUPLICATE_WINDOW,
            storage: stream::StorageType::File,
            ..Default::default()
        };
        let bus = Arc::new(JetStreamBus {
            js,
            config,
            prefix,
            check: Arc::new(Notify::new()),
        });
        let stream = bus.stream().await?;
        let created = stream.cached_info().created.unix_timestamp_nanos();
        let first = stream.cached_info().state.last_sequence.saturating_add(1);
        tokio::spawn(consume(bus.clone(), inboxes, created, first));
        Ok(bus)
    }

    /// The events stream, made if it is missing.
    async fn stream(&self) -> Result<stream::Stream, PeersError> {
        self.js
            .get_or_create_stream(self.config.clone())
            .await
            .map_err(|e| PeersError::Stream(Box::new(e)))
    }

    fn subject(&self, run_id: &str) -> String {
        format!("{}.events.{}", self.prefix, token(run_id))
    }
}

/// This process's consumer, made again whenever it fails or is suspected: every delivery
/// goes to its run's driver if the run is driven here (others ignore it).
async fn consume(bus: Arc<JetStreamBus>, inboxes: Arc<Inboxes>, mut created: i128, mut next: u64) {
    let filter = format!("{}.events.>", bus.prefix);
    let mut wait = Duration::from_millis(50);
    loop {
        let made = async {
            let stream = bus.stream().await?;
            let info = stream.cached_info();
            if info.created.unix_timestamp_nanos() != created {
                // The stream was made again (its server lost it): its sequence starts over.
                tracing::warn!("the events stream was made again; reading it from its start");
                created = info.created.unix_timestamp_nanos();
                next = 1;
            }
            stream
                .create_consumer(consumer::pull::OrderedConfig {
                    filter_subject: filter.clone(),
                    deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: next,
                    },
                    ..Default::default()
                })
                .await
                .map_err(|e| PeersError::Stream(Box::new(e)))?
                .messages()
                .await
                .map_err(|e| PeersError::Stream(Box::new(e)))
        };
        let mut messages = match made.await {
            Ok(messages) => messages,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?wait, "cannot make the events stream's consumer");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
                continue;
            }
        };
        wait = Duration::from_millis(50);
        let made_at = tokio::time::Instant::now();
        loop {
            tokio::select! {
                message = messages.next() => match message {
                    Some(Ok(message)) => {
                        if let Ok(info) = message.info() {
                            next = info.stream_sequence + 1;
                        }
                        if let Ok(m) = serde_json::from_slice::<Message>(&message.payload) {
                            inboxes.deliver(&m.run, m.message, m.edge);
                        }
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "the events stream's consumer failed; making it again");
                        break;
                    }
                    None => break,
                },
                _ = bus.check.notified() => {
                    // Deliveries are overdue: whatever this consumer's state, start a fresh
                    // one from where this one got to (at most so often).
                    tokio::time::sleep_until(made_at + RECREATE_AT_MOST_EVERY).await;
                    break;
                }
            }
        }
    }
}

impl EventBus for JetStreamBus {
    fn publish(&self, delivery: Delivery<'_>, _deliver: &Deliver) {
        let subject = self.subject(delivery.run_id);
        let payload: Bytes = crate::store::encode(&Message {
            run: delivery.run_id.to_string(),
            message: delivery.message,
            edge: delivery.edge,
        })
        .into();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", delivery.key().as_str());
        let (js, check) = (self.js.clone(), self.check.clone());
        tokio::spawn(async move {
            let acked = async {
                js.publish_with_headers(subject, headers, payload)
                    .await?
                    .await
                    .map(drop)
            };
            match tokio::time::timeout(PUBLISH_TIMEOUT, acked).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    // The driver publishes it again once it is overdue.
                    if e.kind() == jetstream::context::PublishErrorKind::StreamNotFound {
                        check.notify_one();
                    }
                    tracing::debug!(error = %e, "the events stream did not take a delivery");
                }
                Err(_) => {
                    tracing::debug!("the events stream did not acknowledge a delivery in time")
                }
            }
        });
    }

    fn overdue(&self) {
        self.check.notify_one();
    }
}

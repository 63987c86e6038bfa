//! The event bus's transport. Who subscribes to what is the run's business (its routes
//! table, `core::routes`); delivery is an action of the core that the driver hands to an
//! [`EventBus`] once the publication is durable — [`InProcessBus`], or NATS JetStream
//! between processes ([`super::jetstream::JetStreamBus`]). The bus knows nothing of the
//! core: it is given a [`Deliver`] callback.
//!
//! A bus that leaves the process may lose or delay a delivery (a restart of its server, a
//! stream lost): the driver keeps what it handed over until it arrives and hands it over
//! again, as a new try, when it is overdue (`engine::driver`). A delivery that arrives twice
//! is a no-op in the run's core (it knows which `(message, edge)` pairs it has had).

use std::sync::Arc;

/// Hands event `message` to the run through subscription `edge` (the driver's callback:
/// it puts the delivery in the run's inbox).
pub type Deliver = Arc<dyn Fn(u64, usize) + Send + Sync>;

/// One delivery of event `message` through subscription `edge` of a run, by the run's
/// owner at `epoch`, for the `attempt`th time: the three make its idempotency key on the
/// bus, so a new owner's delivery, or a new try, is never taken for an old one's duplicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery<'a> {
    pub run_id: &'a str,
    pub epoch: i64,
    pub attempt: u32,
    pub message: u64,
    pub edge: usize,
}

impl Delivery<'_> {
    /// Its key on the bus (`Nats-Msg-Id`).
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/event/{}/{}",
            self.run_id, self.epoch, self.attempt, self.message, self.edge
        )
    }
}

/// Carries published events to their subscribers, by calling `deliver` — at once, later,
/// or (after a crash) again.
pub trait EventBus: Send + Sync {
    fn publish(&self, delivery: Delivery<'_>, deliver: &Deliver);

    /// Whether deliveries stay inside this process and this run, so a run's driver may
    /// handle them in the same batch as the publication (both become durable in one write,
    /// or neither does).
    fn in_process(&self) -> bool {
        false
    }

    /// A driver found a delivery overdue: the bus looks whether its way back still works
    /// (a consumer lost in a restart of the bus's server is made again).
    fn overdue(&self) {}
}

/// Delivers immediately, inside this process.
#[derive(Debug, Default)]
pub struct InProcessBus;

impl EventBus for InProcessBus {
    fn publish(&self, delivery: Delivery<'_>, deliver: &Deliver) {
        deliver(delivery.message, delivery.edge);
    }

    fn in_process(&self) -> bool {
        true
    }
}

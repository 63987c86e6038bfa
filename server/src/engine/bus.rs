//! The event bus's transport. Who subscribes to what is the run's business (its routes
//! table, `core::routes`); delivery is an action of the core that the driver hands to an
//! [`EventBus`] once the publication is durable — [`InProcessBus`] today; a networked
//! broker (NATS JetStream) implements the same trait. The bus knows nothing of the core:
//! it is given a [`Deliver`] callback.

use std::sync::Arc;

/// Hands event `message` to the run through subscription `edge` (the driver's callback:
/// it puts the delivery in the run's inbox).
pub type Deliver = Arc<dyn Fn(u64, usize) + Send + Sync>;

/// Carries published events to their subscribers, by calling `deliver` — at once, later,
/// or (after a crash) again.
pub trait EventBus: Send + Sync {
    fn publish(&self, run_id: &str, message: u64, edge: usize, deliver: &Deliver);

    /// Whether deliveries stay inside this process and this run, so a run's driver may
    /// handle them in the same batch as the publication (both become durable in one write,
    /// or neither does).
    fn in_process(&self) -> bool {
        false
    }
}

/// Delivers immediately, inside this process.
#[derive(Debug, Default)]
pub struct InProcessBus;

impl EventBus for InProcessBus {
    fn publish(&self, _run_id: &str, message: u64, edge: usize, deliver: &Deliver) {
        deliver(message, edge);
    }

    fn in_process(&self) -> bool {
        true
    }
}

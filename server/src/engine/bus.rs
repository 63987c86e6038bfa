//! The event bus's subscriptions: topics are event names, subscribers are steps. A
//! publisher names only the event; the bus knows who listens. Each subscription comes from
//! an event edge and remembers which publisher it listens to, so the drawn graph stays the
//! truth even when two publishers use the same event name.
//!
//! Delivery itself is an action of the core ([`super::core::Action::Deliver`]) that the
//! driver hands to an [`EventBus`] once the publication is durable — [`InProcessBus`] today;
//! a networked broker (NATS JetStream) implements the same trait.

use std::collections::HashMap;

use app::model::{EdgeKind, Outcome, Workflow};
use tokio::sync::mpsc;

use super::core::Input;

/// Carries published events to their subscribers. The bus delivers by sending
/// [`Input::Deliver`] to the run's inbox — at once, later, or (after a crash) again.
pub trait EventBus: Send + Sync {
    fn publish(
        &self,
        run_id: &str,
        message: u64,
        edge: usize,
        inbox: &mpsc::UnboundedSender<Input>,
    );

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
    fn publish(
        &self,
        _run_id: &str,
        message: u64,
        edge: usize,
        inbox: &mpsc::UnboundedSender<Input>,
    ) {
        // A closed inbox means the run has ended: nobody is left to deliver to.
        let _ = inbox.send(Input::Deliver { message, edge });
    }

    fn in_process(&self) -> bool {
        true
    }
}

/// Event name → the subscription edges (indices) that receive it.
pub type Publication = (String, Vec<usize>);

#[derive(Debug, Default)]
pub struct Subscriptions {
    /// (publisher, outcome) → what it publishes, one entry per event name, in first-seen order.
    publications: HashMap<(usize, Outcome), Vec<Publication>>,
}

impl Subscriptions {
    pub fn new(workflow: &Workflow, index: &HashMap<String, usize>) -> Self {
        let mut publications: HashMap<(usize, Outcome), Vec<Publication>> = HashMap::new();
        for (i, edge) in workflow.edges.iter().enumerate() {
            if edge.kind != EdgeKind::Event {
                continue;
            }
            let name = workflow.event_name(edge);
            let list = publications
                .entry((index[&edge.from], edge.on))
                .or_default();
            match list.iter_mut().find(|(n, _)| *n == name) {
                Some((_, subscribers)) => subscribers.push(i),
                None => list.push((name, vec![i])),
            }
        }
        Subscriptions { publications }
    }

    /// What `node` publishes on `outcome`: one publication per event name, each fanned out
    /// to all of its subscribers.
    pub fn publications(&self, node: usize, outcome: Outcome) -> &[Publication] {
        self.publications
            .get(&(node, outcome))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

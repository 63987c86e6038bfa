//! The event bus's subscriptions: topics are event names, subscribers are steps. A
//! publisher names only the event; the bus knows who listens. Each subscription comes from
//! an event edge and remembers which publisher it listens to, so the drawn graph stays the
//! truth even when two publishers use the same event name.
//!
//! Delivery itself is an action of the core ([`super::core::Action::Deliver`]) that the
//! driver hands to the bus transport — in process today, behind the same seam a networked
//! broker would use.

use std::collections::HashMap;

use app::model::{EdgeKind, Outcome, Workflow};

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

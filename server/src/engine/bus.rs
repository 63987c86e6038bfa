//! The in-process event bus: topics are event names, subscribers are steps. A publisher
//! names only the event; the bus knows who listens. Each subscription comes from an event
//! edge, so it also remembers which publisher it listens to: the drawn graph stays the truth
//! even when two publishers happen to use the same event name.

use std::collections::HashMap;

use app::model::{EdgeKind, Outcome, Workflow};

/// One subscriber's interest in a topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub edge: String,
    pub publisher: String,
    pub subscriber: String,
}

/// A publication: the event's name and the subscriptions it reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    pub name: String,
    pub deliveries: Vec<Subscription>,
}

#[derive(Debug, Default)]
pub struct EventBus {
    /// Topic name → subscriptions, in document order.
    topics: HashMap<String, Vec<Subscription>>,
    /// What each step publishes on each outcome, in first-seen order.
    publishes: HashMap<(String, Outcome), Vec<String>>,
}

impl EventBus {
    /// Registers the subscriptions of every event edge of the workflow.
    pub fn new(workflow: &Workflow) -> Self {
        let mut bus = EventBus::default();
        for edge in workflow.edges.iter().filter(|e| e.kind == EdgeKind::Event) {
            let name = workflow.event_name(edge);
            let names = bus
                .publishes
                .entry((edge.from.clone(), edge.on))
                .or_default();
            if !names.contains(&name) {
                names.push(name.clone());
            }
            bus.topics.entry(name).or_default().push(Subscription {
                edge: edge.id.clone(),
                publisher: edge.from.clone(),
                subscriber: edge.to.clone(),
            });
        }
        bus
    }

    /// Publishes every event `step` emits on `outcome`; one publication per event name,
    /// fanned out to all of its subscribers.
    pub fn publish(&self, step: &str, outcome: Outcome) -> Vec<Publication> {
        let Some(names) = self.publishes.get(&(step.to_string(), outcome)) else {
            return Vec::new();
        };
        names
            .iter()
            .map(|name| Publication {
                name: name.clone(),
                deliveries: self
                    .topics
                    .get(name)
                    .into_iter()
                    .flatten()
                    .filter(|s| s.publisher == step)
                    .cloned()
                    .collect(),
            })
            .collect()
    }
}

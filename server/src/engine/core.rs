//! The pure heart of a run: one input in, the state updated, the implied actions out.
//!
//! No I/O, no clock, no tasks: the driver records every [`Action::Record`] durably before it
//! performs any [`Action::Execute`], which is what makes a run recoverable from its history.

use std::collections::HashMap;

use app::model::{Cause, Outcome, RunEvent, RunStatus, StepState, Workflow};

use super::bus::EventBus;
use super::orchestrator::Orchestrator;

/// What can happen to a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Start {
        input: serde_json::Value,
    },
    /// The simulated work of `node` is done.
    StepFinished {
        node: String,
    },
}

/// What the driver must do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Append to the history (then broadcast).
    Record(RunEvent),
    /// Perform the step's work and report back with [`Input::StepFinished`].
    Execute { node: String },
}

pub struct RunCore {
    /// Node ids in document order, so skipped steps are reported in a stable order.
    order: Vec<String>,
    steps: HashMap<String, StepState>,
    roots: Vec<String>,
    orchestrator: Orchestrator,
    bus: EventBus,
    running: usize,
    finished: bool,
}

impl RunCore {
    pub fn new(workflow: &Workflow) -> Self {
        RunCore {
            order: workflow.nodes.iter().map(|n| n.id.clone()).collect(),
            steps: workflow
                .nodes
                .iter()
                .map(|n| (n.id.clone(), StepState::Pending))
                .collect(),
            roots: workflow.roots().map(|n| n.id.clone()).collect(),
            orchestrator: Orchestrator::new(workflow),
            bus: EventBus::new(workflow),
            running: 0,
            finished: false,
        }
    }

    /// True once `RunCompleted` has been emitted.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    pub fn handle(&mut self, input: Input) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.finished {
            return actions;
        }
        match input {
            Input::Start { input } => {
                actions.push(Action::Record(RunEvent::RunStarted { input }));
                for root in self.roots.clone() {
                    self.start(&root, Cause::Start, &mut actions);
                }
            }
            Input::StepFinished { node } => {
                if self.steps.get(&node) != Some(&StepState::Running) {
                    return actions; // stale or unknown: nothing is waiting for it
                }
                self.steps.insert(node.clone(), StepState::Succeeded);
                self.running -= 1;
                actions.push(Action::Record(RunEvent::StepSucceeded {
                    node: node.clone(),
                }));
                self.follow(&node, Outcome::Success, &mut actions);
            }
        }
        if self.running == 0 {
            self.complete(&mut actions);
        }
        actions
    }

    /// Sends the orchestrator's commands, then publishes the step's events.
    fn follow(&mut self, node: &str, outcome: Outcome, actions: &mut Vec<Action>) {
        for route in self.orchestrator.decide(node, outcome).to_vec() {
            actions.push(Action::Record(RunEvent::CommandSent {
                edge: route.edge.clone(),
                from: node.to_string(),
                to: route.to.clone(),
            }));
            let cause = Cause::Command {
                edge: route.edge,
                from: node.to_string(),
            };
            self.start(&route.to, cause, actions);
        }
        for publication in self.bus.publish(node, outcome) {
            actions.push(Action::Record(RunEvent::EventPublished {
                from: node.to_string(),
                name: publication.name.clone(),
                subscribers: publication
                    .deliveries
                    .iter()
                    .map(|d| d.subscriber.clone())
                    .collect(),
            }));
            for delivery in publication.deliveries {
                actions.push(Action::Record(RunEvent::EventDelivered {
                    edge: delivery.edge.clone(),
                    name: publication.name.clone(),
                    to: delivery.subscriber.clone(),
                }));
                let cause = Cause::Event {
                    edge: delivery.edge,
                    from: node.to_string(),
                    name: publication.name.clone(),
                };
                self.start(&delivery.subscriber, cause, actions);
            }
        }
    }

    /// Starts a pending step; a step already triggered ignores later triggers (join "any").
    fn start(&mut self, node: &str, cause: Cause, actions: &mut Vec<Action>) {
        if self.steps.get(node) != Some(&StepState::Pending) {
            return;
        }
        self.steps.insert(node.to_string(), StepState::Running);
        self.running += 1;
        actions.push(Action::Record(RunEvent::StepStarted {
            node: node.to_string(),
            attempt: 1,
            cause,
        }));
        actions.push(Action::Execute {
            node: node.to_string(),
        });
    }

    fn complete(&mut self, actions: &mut Vec<Action>) {
        for node in &self.order {
            if self.steps.get(node) == Some(&StepState::Pending) {
                self.steps.insert(node.clone(), StepState::Skipped);
                actions.push(Action::Record(RunEvent::StepSkipped { node: node.clone() }));
            }
        }
        actions.push(Action::Record(RunEvent::RunCompleted {
            status: RunStatus::Completed,
        }));
        self.finished = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{Edge, EdgeKind, Node};

    fn wf(edges: &[(&str, &str, EdgeKind)]) -> Workflow {
        let mut ids: Vec<&str> = edges.iter().flat_map(|(a, b, _)| [*a, *b]).collect();
        ids.dedup();
        let mut nodes: Vec<Node> = Vec::new();
        for id in ids {
            if !nodes.iter().any(|n| n.id == id) {
                nodes.push(Node {
                    id: id.into(),
                    label: id.to_uppercase(),
                    service: "S".into(),
                    action: "a".into(),
                    ..Default::default()
                });
            }
        }
        let mut w = Workflow {
            name: "t".into(),
            nodes,
            edges: edges
                .iter()
                .map(|(a, b, k)| Edge {
                    id: String::new(),
                    from: (*a).into(),
                    to: (*b).into(),
                    kind: *k,
                    on: Outcome::Success,
                    event: None,
                })
                .collect(),
        };
        w.assign_edge_ids();
        w
    }

    fn records(actions: &[Action]) -> Vec<RunEvent> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Record(e) => Some(e.clone()),
                Action::Execute { .. } => None,
            })
            .collect()
    }

    #[test]
    fn command_is_sent_by_the_orchestrator_and_event_fans_out_on_the_bus() {
        let w = wf(&[
            ("a", "b", EdgeKind::Command),
            ("b", "c", EdgeKind::Event),
            ("b", "d", EdgeKind::Event),
        ]);
        let mut core = RunCore::new(&w);
        let start = core.handle(Input::Start {
            input: serde_json::json!({}),
        });
        assert_eq!(
            start.last(),
            Some(&Action::Execute { node: "a".into() }),
            "only the root starts"
        );
        let after_a = records(&core.handle(Input::StepFinished { node: "a".into() }));
        assert!(matches!(&after_a[1], RunEvent::CommandSent { to, .. } if to == "b"));
        let after_b = records(&core.handle(Input::StepFinished { node: "b".into() }));
        match &after_b[1] {
            RunEvent::EventPublished {
                name, subscribers, ..
            } => {
                assert_eq!(name, "BCompleted");
                assert_eq!(subscribers, &vec!["c".to_string(), "d".to_string()]);
            }
            other => panic!("expected one publication, got {other:?}"),
        }
        assert!(!core.is_finished());
        core.handle(Input::StepFinished { node: "c".into() });
        let last = records(&core.handle(Input::StepFinished { node: "d".into() }));
        assert_eq!(
            last.last(),
            Some(&RunEvent::RunCompleted {
                status: RunStatus::Completed
            })
        );
        assert!(core.is_finished());
        assert!(core
            .handle(Input::StepFinished { node: "d".into() })
            .is_empty());
    }

    #[test]
    fn a_step_starts_once_and_unreached_steps_are_skipped() {
        // c is reached twice (join "any"), e is only reachable from itself: a cycle nobody enters.
        let mut w = wf(&[
            ("a", "c", EdgeKind::Command),
            ("b", "c", EdgeKind::Event),
            ("e", "e", EdgeKind::Event),
        ]);
        w.nodes.retain(|n| n.id != "e");
        w.nodes.push(Node {
            id: "e".into(),
            label: "E".into(),
            service: "S".into(),
            action: "a".into(),
            ..Default::default()
        });
        let mut core = RunCore::new(&w);
        core.handle(Input::Start {
            input: serde_json::Value::Null,
        });
        core.handle(Input::StepFinished { node: "a".into() });
        let second = records(&core.handle(Input::StepFinished { node: "b".into() }));
        let starts = second
            .iter()
            .filter(|e| matches!(e, RunEvent::StepStarted { .. }))
            .count();
        assert_eq!(starts, 0, "c was already started by a's command");
        let end = records(&core.handle(Input::StepFinished { node: "c".into() }));
        assert_eq!(
            end,
            vec![
                RunEvent::StepSucceeded { node: "c".into() },
                RunEvent::StepSkipped { node: "e".into() },
                RunEvent::RunCompleted {
                    status: RunStatus::Completed
                },
            ]
        );
    }
}

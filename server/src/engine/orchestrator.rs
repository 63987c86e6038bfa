//! The run's orchestrator: it owns the command edges. When a step finishes, it decides which
//! commands follow and to whom it sends them. One orchestrator per run, never a global one.

use std::collections::HashMap;

use app::model::{EdgeKind, Outcome, Workflow};

/// A command the orchestrator will send: along `edge`, to step `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRoute {
    pub edge: String,
    pub to: String,
}

#[derive(Debug, Default)]
pub struct Orchestrator {
    routes: HashMap<(String, Outcome), Vec<CommandRoute>>,
}

impl Orchestrator {
    /// Learns the workflow's command edges, in document order.
    pub fn new(workflow: &Workflow) -> Self {
        let mut routes: HashMap<(String, Outcome), Vec<CommandRoute>> = HashMap::new();
        for edge in workflow
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Command)
        {
            routes
                .entry((edge.from.clone(), edge.on))
                .or_default()
                .push(CommandRoute {
                    edge: edge.id.clone(),
                    to: edge.to.clone(),
                });
        }
        Orchestrator { routes }
    }

    /// The commands to send now that `step` finished with `outcome`.
    pub fn decide(&self, step: &str, outcome: Outcome) -> &[CommandRoute] {
        self.routes
            .get(&(step.to_string(), outcome))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

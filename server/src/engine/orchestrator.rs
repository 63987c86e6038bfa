//! The run's orchestrator: it owns the command edges. When a step it hears from finishes,
//! it decides which commands follow and to whom. One orchestrator per run, never a global
//! one. (Its messages — commands, replies, reports — are counted in the run's history.)

use std::collections::HashMap;

use app::model::{EdgeKind, Outcome, Workflow};

#[derive(Debug, Default)]
pub struct Orchestrator {
    /// (node, outcome) → command edge indices, in document order.
    routes: HashMap<(usize, Outcome), Vec<usize>>,
}

impl Orchestrator {
    /// Learns the workflow's command edges; `index` maps node ids to indices.
    pub fn new(workflow: &Workflow, index: &HashMap<String, usize>) -> Self {
        let mut routes: HashMap<(usize, Outcome), Vec<usize>> = HashMap::new();
        for (i, edge) in workflow.edges.iter().enumerate() {
            if edge.kind == EdgeKind::Command {
                routes
                    .entry((index[&edge.from], edge.on))
                    .or_default()
                    .push(i);
            }
        }
        Orchestrator { routes }
    }

    /// The command edges to follow now that `node` finished with `outcome`.
    pub fn routes(&self, node: usize, outcome: Outcome) -> &[usize] {
        self.routes
            .get(&(node, outcome))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether the orchestrator commands anything after `node` (on either outcome).
    pub fn commands_anything(&self, node: usize) -> bool {
        Outcome::ALL
            .iter()
            .any(|o| !self.routes(node, *o).is_empty())
    }
}

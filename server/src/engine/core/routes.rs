//! The `(step, outcome) → edges` table. The orchestrator's routes (command edges) and the
//! bus's subscriptions (event edges, grouped by event name: topics are names, subscribers
//! are steps; each subscription remembers its publisher, so the drawn graph stays the truth
//! when two publishers share a name) are one table, built in one pass — and following it
//! when a step finishes: commands through the orchestrator, events handed to the bus.

use super::*;

/// Event name → the subscription edges (indices) that receive it.
pub type Publication = (String, Vec<usize>);

#[derive(Debug, Default)]
pub struct Routes {
    /// (step, outcome) → command edge indices, in document order.
    commands: HashMap<(usize, Outcome), Vec<usize>>,
    /// (publisher, outcome) → what it publishes, one entry per event name, in first-seen
    /// order.
    publications: HashMap<(usize, Outcome), Vec<Publication>>,
}

impl Routes {
    /// Learns the workflow's edges; `index` maps step ids to indices.
    pub fn new(workflow: &Workflow, index: &HashMap<String, usize>) -> Self {
        let mut routes = Routes::default();
        for (i, edge) in workflow.edges.iter().enumerate() {
            let key = (index[&edge.from], edge.on);
            match edge.kind {
                EdgeKind::Command => routes.commands.entry(key).or_default().push(i),
                EdgeKind::Event => {
                    let name = Workflow::event_name_from(edge, &workflow.nodes[key.0].label);
                    let list = routes.publications.entry(key).or_default();
                    match list.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, subscribers)) => subscribers.push(i),
                        None => list.push((name, vec![i])),
                    }
                }
            }
        }
        routes
    }

    /// The command edges to follow now that `node` finished with `outcome`.
    pub fn commands(&self, node: usize, outcome: Outcome) -> &[usize] {
        self.commands
            .get(&(node, outcome))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether the orchestrator commands anything after `node` (on either outcome).
    pub fn commands_anything(&self, node: usize) -> bool {
        Outcome::ALL
            .iter()
            .any(|o| !self.commands(node, *o).is_empty())
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

/// One way a decision can go: the edges it follows, and the condition that must hold (none:
/// a default branch).
struct Branch {
    edges: Vec<usize>,
    condition: Option<std::sync::Arc<app::model::condition::Condition>>,
    /// A loop's bound (`max_iterations` of its edges): taken only while iterations are left.
    bound: Option<u32>,
}

impl Branch {
    /// A default branch: taken when no other holds (exclusive), or always (inclusive).
    fn is_default(&self) -> bool {
        self.condition.is_none() && self.bound.is_none()
    }
}

impl RunCore {
    /// The decision among `node`'s conditional `branches` on `outcome` — the orchestrator's
    /// over its command edges, or (`publisher`) the publishing service's over the events
    /// it may publish: the edges taken, recorded with the data the conditions read.
    /// Exclusive (the default): the first branch whose condition holds, else the default
    /// (unconditional) ones; inclusive: every one whose condition holds, and the default
    /// ones. When nothing is taken the run will fail with why (see `apply`).
    fn decide_branches(
        &mut self,
        node: usize,
        outcome: Outcome,
        branches: Vec<Branch>,
        publisher: bool,
    ) -> Vec<usize> {
        let data = self.data();
        let exclusive = self.nodes[node].decide.unwrap_or_default() == Decide::Exclusive;
        let mut saw = serde_json::Map::new();
        let mut taken: Vec<usize> = Vec::new();
        let mut problem = None;
        let mut loops = Vec::new();
        for branch in &branches {
            if let (Some(max), Some(&edge)) = (branch.bound, branch.edges.first()) {
                let done = self.iterations.get(&edge).copied().unwrap_or(0);
                loops.push(app::model::LoopTurn {
                    edge: self.edges[edge].id.clone(),
                    to: self.nodes[self.edges[edge].to].id.clone(),
                    done,
                    max,
                });
                if done >= max {
                    continue; // its iterations are spent
                }
            }
            let Some(condition) = &branch.condition else {
                if !branch.is_default() {
                    // A loop with iterations left and no condition of its own.
                    taken.extend(&branch.edges);
                    if exclusive {
                        break;
                    }
                }
                continue;
            };
            for field in condition.fields() {
                if let Some(value) = data.get(field) {
                    saw.insert(field.to_string(), value.clone());
                }
            }
            match condition.holds(&data) {
                Ok(true) => {
                    taken.extend(&branch.edges);
                    if exclusive {
                        break;
                    }
                }
                Ok(false) => {}
                Err(error) => {
                    problem.get_or_insert_with(|| {
                        let to = branch
                            .edges
                            .first()
                            .map_or("", |&e| self.nodes[self.edges[e].to].label.as_str());
                        format!(
                            "the condition {:?} on the edge to {to} could not be decided: {error}",
                            condition.source(),
                        )
                    });
                }
            }
        }
        if taken.is_empty() || !exclusive {
            for branch in branches.iter().filter(|b| b.is_default()) {
                taken.extend(&branch.edges);
            }
        }
        taken.sort_unstable();
        let problem = if taken.is_empty() {
            Some(
                problem.unwrap_or_else(|| match loops.iter().find(|l| l.spent()) {
                    Some(spent) => format!(
                    "the loop from {} back to {} ran its {} iterations, and no edge is the default",
                    self.nodes[node].label,
                    self.label_of(&spent.to),
                    spent.max
                ),
                    None => format!(
                        "no condition after {} holds, and no edge is the default",
                        self.nodes[node].label
                    ),
                }),
            )
        } else {
            problem
        };
        self.emit(RunEvent::Decided {
            node: self.nodes[node].id.clone(),
            outcome,
            exclusive,
            taken: taken.iter().map(|&e| self.edges[e].id.clone()).collect(),
            to: taken
                .iter()
                .map(|&e| self.nodes[self.edges[e].to].id.clone())
                .collect(),
            saw,
            problem,
            publisher,
            loops,
        });
        taken
    }

    /// The label of the step with id `id` (the id itself if there is none).
    fn label_of<'a>(&'a self, id: &'a str) -> &'a str {
        self.index
            .get(id)
            .map_or(id, |&n| self.nodes[n].label.as_str())
    }

    /// Sends the orchestrator's commands and publishes the step's events for `outcome`.
    /// Returns whether anything follows.
    pub(super) fn follow(&mut self, node: usize, outcome: Outcome) -> bool {
        let commanded = self.command(node, outcome);
        if self.runaway {
            return true;
        }
        let published = self.publish(node, outcome);
        commanded || published
    }

    /// The orchestrator's part of what follows `node`'s `outcome`: the report of an
    /// event-started step, and the commands. Returns whether any command follows.
    pub(super) fn command(&mut self, node: usize, outcome: Outcome) -> bool {
        let mut commands = if self.saga.is_some() || self.saga_ran {
            Vec::new() // the orchestrator is undoing the workflow: it commands nothing new
        } else {
            self.routes.commands(node, outcome).to_vec()
        };
        if commands
            .iter()
            .any(|&e| self.conditions[e].is_some() || self.edges[e].max_iterations.is_some())
        {
            let branches = commands
                .iter()
                .map(|&e| Branch {
                    edges: vec![e],
                    condition: self.conditions[e].clone(),
                    bound: self.edges[e].max_iterations,
                })
                .collect();
            commands = self.decide_branches(node, outcome, branches, false);
        }
        if commands.is_empty() {
            return false;
        }
        let hops = self.steps[node].hops + 1;
        if !commands.is_empty() && self.steps[node].owner == Owner::Itself {
            // An event-started step tells the orchestrator it is done: one message.
            self.emit(RunEvent::ReplyReceived {
                from: self.nodes[node].id.clone(),
                outcome,
                report: true,
            });
        }
        for edge in commands {
            let message = self.next_message;
            let to = self.edges[edge].to;
            self.emit(RunEvent::CommandSent {
                message,
                edge: self.edges[edge].id.clone(),
                from: self.nodes[node].id.clone(),
                to: self.nodes[to].id.clone(),
                hops,
            });
            let cause = Cause::Command {
                edge: self.edges[edge].id.clone(),
                from: self.nodes[node].id.clone(),
                message,
            };
            self.trigger(to, cause, hops, Some(edge));
            if self.runaway {
                return true;
            }
        }
        true
    }

    /// The step's own part of what follows its `outcome`: its events, handed to the bus,
    /// each carrying its payload. When the publisher decides some of them (conditions it
    /// applies), it publishes only those its decision takes, and the unconditional ones as
    /// the decision's defaults. Returns whether it published anything.
    pub(super) fn publish(&mut self, node: usize, outcome: Outcome) -> bool {
        let mut publications = self.routes.publications(node, outcome).to_vec();
        if let Some(named) = self.steps[node].publish_only.take() {
            // A real service said which of its events this success publishes.
            publications.retain(|(name, _)| named.contains(name));
        }
        if publications.is_empty() {
            return false;
        }
        let decides = |core: &Self, subscribers: &[usize]| {
            subscribers
                .iter()
                .find(|&&e| core.edges[e].decided_at_source)
                .map(|&e| core.conditions[e].clone())
        };
        // A loop's bound is the publisher's to keep: it counts what it published.
        let bound = |core: &Self, subscribers: &[usize]| {
            subscribers
                .iter()
                .find_map(|&e| core.edges[e].max_iterations)
        };
        if publications.iter().any(|(_, subscribers)| {
            decides(self, subscribers).is_some() || bound(self, subscribers).is_some()
        }) {
            // One branch per event: its edges share the condition and the bound (the
            // validator says so).
            let branches = publications
                .iter()
                .filter(|(_, subscribers)| {
                    bound(self, subscribers).is_some()
                        || subscribers.iter().any(|&e| !self.edges[e].filtered)
                })
                .map(|(_, subscribers)| Branch {
                    edges: subscribers.clone(),
                    condition: decides(self, subscribers).flatten(),
                    bound: bound(self, subscribers),
                })
                .collect();
            let taken: HashSet<usize> = self
                .decide_branches(node, outcome, branches, true)
                .into_iter()
                .collect();
            publications.retain(|(_, subscribers)| {
                subscribers.iter().all(|&e| {
                    (self.edges[e].filtered && self.edges[e].max_iterations.is_none())
                        || taken.contains(&e)
                })
            });
            if publications.is_empty() {
                return true; // the decision took nothing: the run fails saying why
            }
        }
        for (name, subscribers) in publications {
            let message = self.next_message;
            let payload = self.payload(node, &subscribers);
            self.emit(RunEvent::EventPublished {
                message,
                from: self.nodes[node].id.clone(),
                name,
                outcome,
                subscribers: subscribers
                    .iter()
                    .map(|e| self.nodes[self.edges[*e].to].id.clone())
                    .collect(),
                payload,
            });
            for edge in subscribers {
                self.hand_to_bus(message, edge);
            }
        }
        true
    }

    /// What an event of `node` carries to `subscribers` from the run data: the fields its
    /// edges list, or by default the fields `node` writes — and the run's input when `node`
    /// is where a run starts (it received the input).
    fn payload(
        &self,
        node: usize,
        subscribers: &[usize],
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut payload = serde_json::Map::new();
        // A field's value in the run data, looked up (the run data is not copied whole).
        let mut carry = |field: &str| {
            let value = self.written.get(field).or_else(|| self.input.get(field));
            if let Some(value) = value {
                payload.insert(field.to_string(), value.clone());
            }
        };
        let mut by_default = false;
        for &e in subscribers {
            match &self.edges[e].payload {
                Some(fields) => fields.iter().for_each(|f| carry(f)),
                None => by_default = true,
            }
        }
        if by_default {
            for field in self.nodes[node].writes.keys() {
                carry(field);
            }
            for field in &self.steps[node].wrote_fields {
                carry(field);
            }
            if self.incoming[node].is_empty() {
                if let Some(input) = self.input.as_object() {
                    for field in input.keys() {
                        carry(field);
                    }
                }
            }
        }
        payload
    }

    /// Hands a publication to the bus for one subscriber, with the bus's faults: lost,
    /// late, or delivered twice (each drawn from the seed).
    pub(super) fn hand_to_bus(&mut self, message: u64, edge: usize) {
        if let Some(script) = self.script.clone() {
            return self.hand_to_scripted_bus(&script, message, edge);
        }
        let bus = self.faults.bus.clone();
        if bus.drop > 0.0 && unit(self.bus_draw(message, edge, 1)) < bus.drop {
            return self.drop_delivery(message, edge);
        }
        if bus.delay_ms == 0 {
            self.out.push(Action::Deliver { message, edge });
        } else {
            self.out.push(Action::Timer {
                after_ms: bus.delay_ms,
                input: Input::Deliver { message, edge },
            });
        }
        if bus.duplicate > 0.0 && unit(self.bus_draw(message, edge, 2)) < bus.duplicate {
            self.out.push(Action::Timer {
                after_ms: bus.delay_ms + 1,
                input: Input::Redeliver { message, edge },
            });
        }
    }

    /// The bus loses `message` on its way through `edge`: recorded, never delivered.
    fn drop_delivery(&mut self, message: u64, edge: usize) {
        let e = &self.edges[edge];
        self.emit(RunEvent::EventDropped {
            message,
            edge: e.id.clone(),
            from: self.nodes[e.from].id.clone(),
            name: e.name.clone(),
            to: self.nodes[e.to].id.clone(),
        });
    }

    /// [`RunCore::hand_to_bus`] as the script says: lost, delivered twice, held back past
    /// every other delivery, or delivered once, now.
    fn hand_to_scripted_bus(&mut self, script: &script::Script, message: u64, edge: usize) {
        match script.delivery(message, &self.edges[edge].id) {
            Some(script::BusChoice::Drop) => self.drop_delivery(message, edge),
            Some(script::BusChoice::HoldBack) => self.out.push(Action::Timer {
                after_ms: script::HELD_BACK_MS,
                input: Input::Deliver { message, edge },
            }),
            Some(script::BusChoice::Duplicate) => {
                self.out.push(Action::Deliver { message, edge });
                self.out.push(Action::Timer {
                    after_ms: 1,
                    input: Input::Redeliver { message, edge },
                });
            }
            None => self.out.push(Action::Deliver { message, edge }),
        }
    }
}

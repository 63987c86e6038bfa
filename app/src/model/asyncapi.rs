//! AsyncAPI 3.0 of a workflow's event contracts: a channel per event, the services that
//! send and receive it as operations, and its message with the payload schema Hybridflow
//! knows (the run's data the step passes on, and who published it on which outcome).
//!
//! AsyncAPI keys allow ASCII letters, digits, `.`, `-`, `_`: an event or service named
//! otherwise (Korean, say) gets a generated key, its real name in `address`, `title` and
//! `name`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{json, Map};

use super::workflow::{EdgeKind, Workflow};

/// The AsyncAPI version written.
pub const VERSION: &str = "3.0.0";

fn key_safe(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Keys for names: the name itself where AsyncAPI allows it, else `<base><n>`.
#[derive(Default)]
struct Keys {
    given: HashMap<String, String>,
    used: HashSet<String>,
}

impl Keys {
    fn key(&mut self, name: &str, base: &str) -> String {
        if let Some(k) = self.given.get(name) {
            return k.clone();
        }
        let mut key = if key_safe(name) {
            name.to_string()
        } else {
            format!("{base}{}", self.given.len() + 1)
        };
        while self.used.contains(&key) {
            key.push('_');
        }
        self.used.insert(key.clone());
        self.given.insert(name.to_string(), key.clone());
        key
    }
}

/// One event's contract: who sends it (from which steps, on which outcome) and who
/// receives it.
#[derive(Default)]
struct Contract {
    senders: BTreeSet<String>,
    receivers: BTreeSet<String>,
    from_steps: BTreeSet<String>,
    to_steps: BTreeSet<String>,
    outcomes: BTreeSet<&'static str>,
}

/// The AsyncAPI 3.0 document (JSON) of the workflow's events.
pub fn to_asyncapi(workflow: &Workflow) -> String {
    let mut contracts: BTreeMap<String, Contract> = BTreeMap::new();
    let service = |id: &str| {
        workflow
            .node(id)
            .map(|n| n.service.clone())
            .unwrap_or_else(|| id.to_string())
    };
    for e in workflow.edges.iter().filter(|e| e.kind == EdgeKind::Event) {
        let c = contracts.entry(workflow.event_name(e)).or_default();
        c.senders.insert(service(&e.from));
        c.receivers.insert(service(&e.to));
        c.from_steps.insert(e.from.clone());
        c.to_steps.insert(e.to.clone());
        c.outcomes.insert(e.on.as_str());
    }
    let (mut channel_keys, mut service_keys) = (Keys::default(), Keys::default());
    let (mut channels, mut operations, mut messages) = (Map::new(), Map::new(), Map::new());
    for (event, c) in &contracts {
        let key = channel_keys.key(event, "event");
        messages.insert(
            key.clone(),
            json!({
                "name": event,
                "title": event,
                "summary": format!("Published by {} when {} {}.",
                    c.senders.iter().cloned().collect::<Vec<_>>().join(", "),
                    c.from_steps.iter().cloned().collect::<Vec<_>>().join(", "),
                    if c.outcomes.contains("failure") && !c.outcomes.contains("success") { "fails" } else { "completes" }),
                "contentType": "application/json",
                "payload": {
                    "type": "object",
                    "description": "The run's data as the publishing step passes it on.",
                    "additionalProperties": true
                },
                "headers": {
                    "type": "object",
                    "properties": {
                        "runId": {"type": "string", "description": "The run the event belongs to."},
                        "idempotencyKey": {"type": "string", "description": "Repeated deliveries of one publication carry the same key."}
                    }
                },
                "x-hybridflow": {
                    "fromSteps": c.from_steps,
                    "toSteps": c.to_steps,
                    "outcomes": c.outcomes,
                }
            }),
        );
        channels.insert(
            key.clone(),
            json!({
                "address": event,
                "title": event,
                "messages": { key.clone(): {"$ref": format!("#/components/messages/{key}")} }
            }),
        );
        for (action, services) in [("send", &c.senders), ("receive", &c.receivers)] {
            for s in services {
                let op = format!("{}_{action}_{key}", service_keys.key(s, "service"));
                operations.insert(
                    op,
                    json!({
                        "action": action,
                        "title": format!("{s} {action}s {event}"),
                        "channel": {"$ref": format!("#/channels/{key}")},
                        "messages": [{"$ref": format!("#/channels/{key}/messages/{key}")}],
                        "x-hybridflow-service": s,
                    }),
                );
            }
        }
    }
    let doc = json!({
        "asyncapi": VERSION,
        "info": {
            "title": workflow.name,
            "version": "1.0.0",
            "description": format!("The events of the workflow {:?}, exported by Hybridflow: {} event(s) between {} step(s).",
                workflow.name, contracts.len(), workflow.nodes.len()),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": { "messages": messages },
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

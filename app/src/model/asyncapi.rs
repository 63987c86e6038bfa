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
    // What each event carries: the fields its edges list, or the publisher's own writes.
    let mut carried: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in workflow.edges.iter().filter(|e| e.kind == EdgeKind::Event) {
        let fields = carried.entry(workflow.event_name(e)).or_default();
        match &e.payload {
            Some(listed) => fields.extend(listed.iter().cloned()),
            None => {
                if let Some(n) = workflow.node(&e.from) {
                    fields.extend(n.writes.keys().cloned());
                }
            }
        }
    }
    // The steps bound to a real service, and where.
    let bound: BTreeMap<&str, String> = workflow
        .nodes
        .iter()
        .filter_map(|n| {
            let at = n.call.as_ref()?.endpoint()?;
            Some((n.id.as_str(), at))
        })
        .collect();
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
                "payload": payload_schema(carried.get(event)),
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
        // A subscriber bound to a real service receives the event inside the call
        // contract (app::model::call): that message, exactly, with its header.
        let services_bound: BTreeMap<String, Vec<(String, String)>> = c
            .to_steps
            .iter()
            .filter_map(|step| {
                Some((
                    service(step),
                    (step.clone(), bound.get(step.as_str())?.clone()),
                ))
            })
            .fold(BTreeMap::new(), |mut by, (s, at)| {
                by.entry(s).or_default().push(at);
                by
            });
        let call_key = format!("{key}.call");
        let mut channel_messages = Map::new();
        channel_messages.insert(
            key.clone(),
            json!({"$ref": format!("#/components/messages/{key}")}),
        );
        if !services_bound.is_empty() {
            messages.insert(call_key.clone(), call_message(event, carried.get(event)));
            channel_messages.insert(
                call_key.clone(),
                json!({"$ref": format!("#/components/messages/{call_key}")}),
            );
        }
        channels.insert(
            key.clone(),
            json!({
                "address": event,
                "title": event,
                "messages": channel_messages,
            }),
        );
        for (action, services) in [("send", &c.senders), ("receive", &c.receivers)] {
            for s in services {
                let op = format!("{}_{action}_{key}", service_keys.key(s, "service"));
                let real = services_bound.get(s).filter(|_| action == "receive");
                let message = if real.is_some() { &call_key } else { &key };
                let mut operation = json!({
                    "action": action,
                    "title": format!("{s} {action}s {event}"),
                    "channel": {"$ref": format!("#/channels/{key}")},
                    "messages": [{"$ref": format!("#/channels/{key}/messages/{message}")}],
                    "x-hybridflow-service": s,
                });
                if let Some(at) = real {
                    operation["description"] = json!(
                        "A real service: it receives the event as a call (a POST of this message to the URL, or a NATS request to the subject) and answers per the call contract."
                    );
                    operation["x-hybridflow-call"] = at
                        .iter()
                        .map(|(step, at)| (step.clone(), json!(at)))
                        .collect::<Map<_, _>>()
                        .into();
                }
                operations.insert(op, operation);
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

/// The schema of what an event carries: the fields known to be in it, and possibly others.
fn payload_schema(fields: Option<&BTreeSet<String>>) -> serde_json::Value {
    let properties: Map<String, serde_json::Value> = fields
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f.clone(),
                json!({"description": "A run data field the event carries."}),
            )
        })
        .collect();
    json!({
        "type": "object",
        "description": "The run's data as the publishing step passes it on.",
        "properties": properties,
        "additionalProperties": true
    })
}

/// The message a subscriber bound to a real service receives for `event`: the call
/// contract (`app::model::call::CallRequest`) with the event inside, and its header.
fn call_message(event: &str, fields: Option<&BTreeSet<String>>) -> serde_json::Value {
    json!({
        "name": format!("{event}, delivered to a service"),
        "title": format!("{event} as a call"),
        "summary": "What a subscriber bound to a real service receives: the event inside the call contract. Its reply: 2xx with {\"writes\", \"publish\"}, 4xx or {\"failure\"} a business failure (not retried), 5xx retried with the same key.",
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": ["run", "step", "execution", "attempt", "idempotency_key", "kind", "event", "data"],
            "properties": {
                "run": {"type": "string"},
                "step": {"type": "string", "description": "The subscribing step's id."},
                "execution": {"type": "integer", "minimum": 1},
                "attempt": {"type": "integer", "minimum": 1},
                "idempotency_key": {"type": "string", "description": "<run>/<step>/<execution>: the same for every retry and resend."},
                "kind": {"const": "event"},
                "event": {"const": event},
                "data": payload_schema(fields)
            }
        },
        "headers": {
            "type": "object",
            "required": ["Idempotency-Key"],
            "properties": {
                "Idempotency-Key": {"type": "string", "description": "The same as idempotency_key."}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscriber_on_a_real_service_gets_the_event_inside_the_call_contract() {
        let workflow = crate::model::examples::ecommerce_real_choreographed();
        let doc: serde_json::Value = serde_json::from_str(&to_asyncapi(&workflow)).unwrap();
        // Payment (bound) receives OrderPlaced as a call; Notify payment rejected
        // (simulated) receives PaymentRejected as the plain event.
        let call = &doc["components"]["messages"]["OrderPlaced.call"];
        assert_eq!(
            call["payload"]["properties"]["event"]["const"],
            "OrderPlaced"
        );
        assert_eq!(call["payload"]["properties"]["kind"]["const"], "event");
        assert_eq!(call["headers"]["required"][0], "Idempotency-Key");
        let receive = doc["operations"]
            .as_object()
            .unwrap()
            .values()
            .find(|o| o["action"] == "receive" && o["channel"]["$ref"] == "#/channels/OrderPlaced")
            .unwrap();
        assert_eq!(
            receive["messages"][0]["$ref"],
            "#/channels/OrderPlaced/messages/OrderPlaced.call"
        );
        assert_eq!(
            receive["x-hybridflow-call"]["payment"],
            "http://127.0.0.1:4102/"
        );
        assert!(doc["components"]["messages"]
            .get("PaymentRejected.call")
            .is_none());
        // The simulated flow has no call messages at all.
        let simulated = crate::model::examples::ecommerce_choreographed();
        assert!(!to_asyncapi(&simulated).contains(".call"));
    }
}

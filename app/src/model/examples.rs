//! Example workflows shipped with Hybridflow, so a new installation is never empty.

use super::workflow::{Edge, EdgeKind, Node, Outcome, Position, Workflow};

fn node(id: &str, label: &str, service: &str, action: &str, x: f64, y: f64) -> Node {
    Node {
        id: id.into(),
        label: label.into(),
        service: service.into(),
        action: action.into(),
        position: Position { x, y },
    }
}

fn command(id: &str, from: &str, to: &str) -> Edge {
    Edge {
        id: id.into(),
        from: from.into(),
        to: to.into(),
        kind: EdgeKind::Command,
        on: Outcome::Success,
        event: None,
    }
}

/// Scenario 1 of the source article: the `OrderProcessing` workflow, orchestrated.
/// Its orchestrator validates the order, charges the payment, then sends the confirmation.
pub fn order_processing() -> Workflow {
    Workflow {
        name: "OrderProcessing".into(),
        nodes: vec![
            node(
                "validate",
                "ValidateOrder",
                "OrderService",
                "validate",
                40.0,
                140.0,
            ),
            node(
                "charge",
                "ChargePayment",
                "PaymentService",
                "charge",
                290.0,
                140.0,
            ),
            node(
                "confirm",
                "SendConfirmation",
                "NotificationService",
                "send",
                540.0,
                140.0,
            ),
        ],
        edges: vec![
            command("e1", "validate", "charge"),
            command("e2", "charge", "confirm"),
        ],
    }
}

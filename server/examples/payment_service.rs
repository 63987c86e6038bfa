//! A service for a step bound with `"call": {"http": {"url": "http://127.0.0.1:PORT/"}}`.
use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use serde_json::{json, Value};
use std::{collections::HashMap, sync::Arc, sync::Mutex};

// Idempotency key -> (status, reply): the work is done once per key.
type Done = Arc<Mutex<HashMap<String, (u16, Value)>>>;

async fn call(State(done): State<Done>, Json(call): Json<Value>) -> (StatusCode, Json<Value>) {
    let key = call["idempotency_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut done = done.lock().unwrap();
    let (status, reply) = done.entry(key).or_insert_with(|| {
        match (call["kind"].as_str(), call["data"]["card"].as_str()) {
            // The saga undoes the charge (under its own key).
            (Some("undo"), _) => (200, json!({"writes": {"refunded": true}})),
            (_, Some("expired")) => (422, json!({"failure": "card expired"})),
            _ => (200, json!({"writes": {"paid": true, "charged_by": "rust"}})),
        }
    });
    (StatusCode::from_u16(*status).unwrap(), Json(reply.clone()))
}

#[tokio::main]
async fn main() {
    let port = std::env::args().nth(1).unwrap_or_else(|| "4199".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let service = Router::new()
        .route("/", post(call))
        .with_state(Done::default());
    axum::serve(listener, service).await.unwrap();
}

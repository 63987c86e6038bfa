//! Hybridflow's server: SSR pages, the hydration bundle, the REST API, the live run stream,
//! and the engine that executes hybrid (command + event) workflows.
//!
//! # Layout
//! - [`config`]: flags and environment ([`config::Config`]) and the resolved [`config::Settings`].
//! - [`store`]: storage traits and the embedded SQLite implementation (migrations in
//!   `server/migrations/`).
//! - [`engine`]: runs: the pure core, the orchestrator (commands), the event bus (events),
//!   the live hub, and the driver that records history before acting.
//! - [`lab`]: the trade-off lab: styles compared in virtual time, fail matrix, batches.
//! - [`api`]: `/api/...` handlers, the WebSocket stream, errors and the Origin guard.
//! - [`metrics`]: the Prometheus counters behind `GET /metrics`.
//! - [`pages`]: Leptos server-side rendering and static files.
//! - [`clock`]: injected time.
//!
//! [`run`] serves on a listener the caller bound, until `shutdown` resolves, so tests bind
//! port 0 and stop the server cleanly.

pub mod api;
pub mod clock;
pub mod config;
pub mod engine;
pub mod lab;
pub mod metrics;
pub mod pages;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use leptos::config::{Env, LeptosOptions};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

use crate::api::AppState;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::engine::Engine;
use crate::lab::Lab;
use crate::store::{SqliteStore, Store, StoreError, WorkflowStore};

/// The name cargo-leptos gives the bundle files (`pkg/hybridflow.js`, `.wasm`, `.css`).
pub const BUNDLE_NAME: &str = "hybridflow";

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens the store, then serves until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (store, is_new) = SqliteStore::open(&settings.database, clock.clone()).await?;
    if is_new {
        // Every scenario of the article, the order-processing one last so it opens first.
        for example in app::model::examples::ALL.iter().rev() {
            store.create_workflow(&(example.workflow)()).await?;
        }
    }
    let store: Arc<dyn Store> = Arc::new(store);
    let engine = Engine::new(store.clone(), clock.clone());
    let lab = Lab::new(store.clone(), clock, engine.clone());
    let resumed = engine.recover().await?;
    if resumed > 0 {
        tracing::info!(resumed, "resumed runs that were in progress");
    }
    let batches = lab.resume_interrupted().await?;
    if batches > 0 {
        tracing::info!(
            batches,
            "computing again the lab batches a restart interrupted"
        );
    }
    let addr = listener.local_addr()?;
    let options = LeptosOptions::builder()
        .output_name(BUNDLE_NAME)
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(Env::PROD)
        .build();
    let router = api::router(AppState {
        store,
        engine,
        lab,
        sockets: settings.sockets,
    })
    .merge(pages::router(options))
    .layer(axum::middleware::from_fn(api::origin::guard))
    .layer(CompressionLayer::new());
    tracing::info!(%addr, database = %settings.database, "Hybridflow listening on http://{addr}");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

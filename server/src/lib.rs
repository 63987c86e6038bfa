//! Hybridflow's server: SSR pages, the hydration bundle, the REST API, the live run stream,
//! and the engine that executes hybrid (command + event) workflows.
//!
//! # Layout
//! - [`cli`]: the `hybridflow` command line: `serve` (the default), `validate`,
//!   `convert`, `run`, `compare` without a server, `import`/`export`/`run --server` with one.
//! - [`demo`]: the article's e-commerce services as real HTTP services on loopback
//!   (`hybridflow demo-service <name>`, `make demo-services`), for steps bound to them.
//! - [`config`]: flags and environment ([`config::Config`]) and the resolved [`config::Settings`].
//! - [`connections`]: the accept loop: a header read timeout, limits per connection, caps
//!   on connections in all and per client.
//! - [`store`]: storage traits and the one SQL implementation, for SQLite and PostgreSQL
//!   (migrations in `server/migrations/`; runs and history written by a group commit).
//! - [`engine`]: runs: the pure core, the driver that records history before acting, the
//!   event bus, the live hub, the timer thread that plays simulated time; leases, self-fencing
//!   and takeovers when processes share a database, the other processes behind one seam
//!   (`engine::peers`: alone, or over NATS), and JetStream between them.
//! - [`lab`]: the trade-off lab: styles compared in virtual time, fail matrix, batches.
//! - [`verify`]: the explorer: every schedule of failures and bus faults within bounds,
//!   checked against the invariants, each broken one with a shortest counterexample; and
//!   the document's scenarios run as tests (`verify::scenarios`).
//! - [`api`]: `/api/...` handlers, the WebSocket stream, errors, and the guard that decides
//!   who may talk to the server (Host, Origin, media types, security headers).
//! - [`metrics`]: the Prometheus counters behind `GET /metrics`.
//! - [`pages`]: Leptos server-side rendering and static files.
//! - [`retention`]: the background sweep that keeps storage bounded (`--keep-runs`).
//! - [`clock`]: injected time.
//!
//! [`run`] serves on a listener the caller bound, until `shutdown` resolves, so tests bind
//! port 0 and stop the server cleanly. With `--database postgres://…` and `--bus nats://…`
//! several processes serve one Hybridflow (README: Distributed mode). Shutting down
//! (SIGTERM) stops taking runs, closes WebSockets with `1001`, lets each run's history write
//! in progress finish (the run stays `running` and resumes at the next start, or on another
//! process, whose claim this one's ended lease allows at once; so do interrupted lab
//! batches), and returns within [`SHUTDOWN_GRACE`].

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod demo;
pub mod engine;
pub mod lab;
pub mod metrics;
pub mod pages;
pub mod retention;
pub mod store;
pub mod verify;

use std::future::Future;
use std::sync::Arc;

use leptos::config::{Env, LeptosOptions};
use tokio::net::TcpListener;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::api::guard::Trust;
use crate::api::AppState;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::engine::{Engine, Wiring};
use crate::lab::Lab;
use crate::store::StoreError;

/// The longest a shutdown waits for connections and history writes to finish.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(4);

/// The name the site builder (`server/site`) gives the bundle files (`pkg/hybridflow.js`, `.wasm`, `.css`).
pub const BUNDLE_NAME: &str = "hybridflow";

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Origin(#[from] api::guard::BadOrigin),
    #[error(transparent)]
    Bus(#[from] engine::peers::PeersError),
    #[error("{0}")]
    Services(String),
}

/// Opens the store, then serves until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let services = engine::calls::Services::from_flags(&settings.allow_services)
        .map_err(ServerError::Services)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = store::open(&settings.database, clock.clone()).await?;
    // Every scenario of the article, stored read-only as this build ships it (the lab and
    // the lessons run them; the user's list holds only the user's own workflows).
    for example in app::model::examples::ALL {
        store
            .put_template(
                &app::model::examples::template_id(example.key),
                &app::model::examples::from_template(example),
            )
            .await?;
    }
    let sweeper =
        retention::spawn_sweeper(store.clone(), settings.keep_runs, settings.retention_sweep);
    let mut wiring = Wiring::default();
    let mut nats = None;
    if let Some(url) = &settings.bus {
        let peers = engine::nats::NatsPeers::connect(
            url,
            &settings.bus_prefix,
            &settings.membership.process,
        )
        .await?;
        if !settings.local_events {
            wiring.events =
                engine::jetstream::JetStreamBus::start(&peers, wiring.inboxes.clone()).await?;
        }
        wiring.peers = peers.clone();
        nats = Some(peers);
    }
    let engine = Engine::wired(
        store.clone(),
        clock.clone(),
        settings.membership.clone(),
        wiring,
    );
    engine.set_max_in_flight(settings.max_runs_in_flight);
    // Calls over NATS go through the bus's connection, or (alone) one of their own.
    let services = match (&nats, &settings.nats) {
        (Some(peers), _) => services.with_nats(peers.client().clone()),
        (None, Some(url)) => services.with_nats(
            async_nats::connect(url)
                .await
                .map_err(|e| ServerError::Services(format!("--nats {url}: cannot connect: {e}")))?,
        ),
        (None, None) => services,
    };
    engine.set_services(services);
    let lab = Lab::new(store.clone(), clock, engine.clone());
    if let (Some(peers), Some(url)) = (&nats, &settings.bus) {
        peers.serve(lab.clone()).await?;
        tracing::info!(bus = %url, "joined the other processes on the bus");
    }
    let resumed = engine.recover().await?;
    if resumed > 0 {
        tracing::info!(resumed, "resumed runs that were in progress");
    }
    let membership = tokio::spawn(engine.clone().keep_membership());
    // Batches of a process that stopped (this one, restarted; or another, whose lease ran
    // out) are computed again here.
    let batches = lab.resume_interrupted(true).await?;
    if batches > 0 {
        tracing::info!(
            batches,
            "computing again the lab batches a restart interrupted"
        );
    }
    let batches_taken = store.is_shared().then(|| {
        let (lab, every) = (lab.clone(), settings.membership.lease);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match lab.resume_interrupted(false).await {
                    Ok(0) => {}
                    Ok(taken) => {
                        tracing::info!(taken, "computing the batches of a process that stopped")
                    }
                    Err(e) => tracing::warn!(error = %e, "could not look for stopped batches"),
                }
            }
        })
    });
    let addr = listener.local_addr()?;
    let options = LeptosOptions::builder()
        .output_name(BUNDLE_NAME)
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(Env::PROD)
        .build();
    let trust = Arc::new(Trust::new(addr.port(), &settings.public_origins)?);
    let mut router = api::router(AppState {
        store,
        engine: engine.clone(),
        lab: lab.clone(),
        sockets: settings.sockets,
        clients: Default::default(),
        keep_runs: settings.keep_runs,
    })
    .merge(pages::router(options))
    .layer(axum::middleware::from_fn_with_state(
        trust,
        api::guard::guard,
    ))
    // Responses are compressed per request, except the bundle: it is sent precompressed
    // (see `pages`), and wasm is never compressed on the fly.
    .layer(CompressionLayer::new().compress_when(
        DefaultPredicate::new().and(NotForContentType::const_new("application/wasm")),
    ));
    for (name, value) in api::guard::security_headers() {
        // Pages set their own CSP (with the response's nonce): keep it.
        router = if name == axum::http::header::CONTENT_SECURITY_POLICY {
            router.layer(SetResponseHeaderLayer::if_not_present(name, value))
        } else {
            router.layer(SetResponseHeaderLayer::overriding(name, value))
        };
    }
    // A PostgreSQL URL carries a password: not logged.
    let database = if store::sql::is_postgres_url(&settings.database) {
        "PostgreSQL"
    } else {
        settings.database.as_str()
    };
    tracing::info!(%addr, database, process = %engine.process(), "Hybridflow listening on http://{addr}");
    let signalled = Arc::new(tokio::sync::Notify::new());
    let serving = connections::serve(listener, router, settings.connections, {
        let (engine, lab, signalled) = (engine.clone(), lab, signalled.clone());
        async move {
            shutdown.await;
            tracing::info!("shutting down: no new runs; closing WebSockets");
            engine.shut_down();
            lab.shut_down();
            signalled.notify_one();
        }
    });
    let deadline = async {
        signalled.notified().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = serving => served?,
        _ = deadline => tracing::warn!("connections still open after the shutdown grace; leaving them"),
    }
    sweeper.abort();
    // Each run's driver stops after the history write it is in (its run resumes at the next
    // start from that history), and each WebSocket sends its 1001 before the runtime, which
    // drops tasks as it stops, is gone.
    let waiting = tokio::time::Instant::now() + SHUTDOWN_GRACE / 4;
    while (engine.in_flight() > 0 || engine.metrics().websockets_open() > 0)
        && tokio::time::Instant::now() < waiting
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    membership.abort();
    if let Some(task) = batches_taken {
        task.abort();
    }
    // The runs left go to the other processes now (or to this one when it starts again).
    engine.end_membership().await;
    tracing::info!(runs_to_resume = engine.in_flight(), "stopped");
    Ok(())
}

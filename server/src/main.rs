use clap::Parser;
use server::config::Config;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let served = runtime.block_on(serve());
    // Work still on the blocking pool (a lab batch being stopped) is not waited for past
    // this: the shutdown has already kept what must be kept.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    served
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.log)?)
        .init();
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let shutdown = async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match terminate.as_mut() {
                    Some(signal) => { signal.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
        tracing::info!("shutting down");
    };
    server::run(listener, config.settings(), shutdown).await?;
    Ok(())
}

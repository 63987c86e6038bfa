use clap::Parser;
use server::cli::{Cli, Command};
use server::config::Config;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match start() {
        Ok(code) => code,
        // One line that says what is wrong and what to change, never a backtrace.
        Err(error) => {
            eprintln!("hybridflow: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn start() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let config = match cli.command {
        None => cli.serve,
        Some(Command::Serve(config)) => *config,
        Some(command) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let code = runtime.block_on(server::cli::execute(command));
            return Ok(std::process::ExitCode::from(code));
        }
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let served = runtime.block_on(serve(config));
    // Work still on the blocking pool (a lab batch being stopped) is not waited for past
    // this: the shutdown has already kept what must be kept.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    served.map(|()| std::process::ExitCode::SUCCESS)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.log)?)
        .init();
    let listener = match tokio::net::TcpListener::bind(config.bind).await {
        Ok(listener) => listener,
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => anyhow::bail!(
            "{} is already in use (another hybridflow?): stop what listens there, or pick another address with --bind 127.0.0.1:PORT (or HYBRIDFLOW_BIND)",
            config.bind
        ),
        Err(error) => {
            return Err(anyhow::Error::new(error).context(format!("cannot listen on {} (--bind)", config.bind)));
        }
    };
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

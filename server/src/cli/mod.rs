//! The `hybridflow` command line: `serve` (the default, so a bare `hybridflow` serves), and
//! the tools a script or a CI uses without a server — `validate`, `convert`, `run`,
//! `compare` ([`offline`]) — or with one (`import`, `export`, `run --server`: [`remote`]).
//! `completions` prints a shell's completion script.
//!
//! Exit codes: 0 success (a run that completed, a search that broke nothing), 1 a refused
//! file or request, 2 a usage error (clap's), 3 a run that failed, 4 a run a saga
//! compensated, 5 a run cancelled or not ended, 6 a search that broke an invariant, 7 a
//! search that stopped at its limit first.

pub mod offline;
pub mod remote;

use std::io::Read as _;
use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Config;
use app::model::formats::{ExportFormat, ImportFormat};
use app::model::validate::MAX_DOCUMENT_BYTES;

/// Draw, run and compare orchestrated and choreographed workflows.
///
/// Without a subcommand, `hybridflow` serves the app (the flags of `serve`). The other
/// subcommands read workflow files in any format Hybridflow imports (native JSON, the
/// article's steps JSON, a Conductor subset, the text form, Mermaid, BPMN 2.0; detected
/// unless `--from` names it) and run them with the engine's own core in virtual time.
#[derive(Debug, Parser)]
#[command(
    name = "hybridflow",
    version,
    args_conflicts_with_subcommands = true,
    after_long_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: Config,
}

const EXAMPLES: &str = "\
Examples:
  hybridflow                                   serve at http://127.0.0.1:3000
  hybridflow validate flows/*.json             problems and design warnings; exit 1 on errors
  hybridflow convert order.bpmn --to mermaid   any format in, another out
  hybridflow run saga.json --seed 7 --faults '{\"services\":{\"Payment\":{\"down\":true}}}'
  hybridflow compare saga.json --runs 500 --markdown
  hybridflow verify saga.json --max-faults 2 --bus-faults 1
  hybridflow test flows/*.json --junit scenarios.xml
  hybridflow import saga.json --server http://127.0.0.1:3000
  hybridflow completions bash > /etc/bash_completion.d/hybridflow

Exit codes: 0 success (a run that completed, a search that broke nothing), 1 a refused file
or request, 2 a usage error, 3 a run that failed, 4 a run compensated by its saga, 5 a run
cancelled or not ended, 6 a search that broke an invariant, 7 a search stopped at its limit,
8 a scenario that failed, 9 no scenario to run.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app, the API and the live run streams (the default).
    Serve(Box<Config>),
    /// Check workflow files: every problem (file, line or field, what is wrong) and the
    /// design warnings; exit code 1 when any file has a problem.
    Validate(ValidateArgs),
    /// Convert a workflow file to another format, on standard output (or `--output`).
    Convert(ConvertArgs),
    /// Run a workflow once in virtual time with the engine's core (no server needed), or on
    /// a running server with `--server`; the exit code says how it ended.
    Run(RunArgs),
    /// Run a workflow as drawn, as orchestration and as choreography on the same seeds:
    /// the lab's table and its reading, headless.
    Compare(CompareArgs),
    /// Explore every schedule of failures and bus faults within bounds and check the
    /// invariants; each broken one with a shortest schedule that breaks it. Exit code 0 when
    /// none is broken, 6 when one is, 7 when the search stopped at its limit first.
    Verify(VerifyArgs),
    /// Run the scenarios workflow files keep (their input, faults and seed, in virtual
    /// time) and check what each expects and the flows' assertions. Exit code 0 when every
    /// scenario passes, 8 when one fails, 9 when the files hold none.
    Test(TestArgs),
    /// Store a workflow file on a running server; prints the new workflow's id.
    Import(ImportArgs),
    /// Print a stored workflow of a running server in a format.
    Export(ExportArgs),
    /// Print the JSON Schema of the workflow document (or, `--openapi`, the API's OpenAPI
    /// 3.1 description), as the server serves them.
    Schema {
        #[arg(long)]
        openapi: bool,
    },
    /// Serve one of the article's e-commerce services (order, payment, inventory,
    /// fulfillment, email) as a real HTTP service speaking the call contract, for steps
    /// bound to it; `make demo-services` starts all five on 127.0.0.1:4101-4105. Its
    /// failures are switched by the data it receives (`card: expired`, `stock: none`,
    /// `down`, `flaky`, `slow` naming it); `GET /stats` counts calls and work per
    /// idempotency key.
    DemoService {
        #[arg(value_enum)]
        service: crate::demo::DemoService,
        /// Address to listen on (its port under `make demo-services` by default).
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
    },
    /// Print the completion script of a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `--from`: the model's import formats, by the names the API takes (listed in `--help`
/// and the completions).
fn import_format() -> impl TypedValueParser<Value = ImportFormat> {
    clap::builder::PossibleValuesParser::new(ImportFormat::ALL.map(ImportFormat::as_str))
        .map(|name: String| ImportFormat::parse(&name).expect("one of ALL"))
}

/// `--to`: the model's export formats.
fn export_format() -> impl TypedValueParser<Value = ExportFormat> {
    clap::builder::PossibleValuesParser::new(ExportFormat::ALL.map(ExportFormat::as_str))
        .map(|name: String| ExportFormat::parse(&name).expect("one of ALL"))
}

/// The language of sentences (stories, readings).
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Lang {
    #[default]
    En,
    Ko,
}

impl Lang {
    pub fn locale(self) -> app::i18n::Locale {
        match self {
            Lang::En => app::i18n::Locale::en,
            Lang::Ko => app::i18n::Locale::ko,
        }
    }
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Workflow files (`-` reads standard input).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Read every file in this format instead of detecting it.
    #[arg(long, value_parser = import_format())]
    pub from: Option<ImportFormat>,
    /// One JSON object per file: its problems and warnings.
    #[arg(long)]
    pub json: bool,
    /// Count design warnings as problems (exit code 1).
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The workflow file (`-` reads standard input).
    pub file: PathBuf,
    /// The format to write.
    #[arg(long, value_parser = export_format())]
    pub to: ExportFormat,
    /// Read the file in this format instead of detecting it.
    #[arg(long, value_parser = import_format())]
    pub from: Option<ImportFormat>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workflow file (`-` reads standard input); with `--server`, or the id of a
    /// workflow stored there (`--stored`).
    pub file: String,
    /// Read the file in this format instead of detecting it.
    #[arg(long, value_parser = import_format())]
    pub from: Option<ImportFormat>,
    /// A workflow its sub-flow steps may run (without a server), known by its name and by
    /// its file's name without extensions; repeat for each.
    #[arg(long = "with", value_name = "FILE")]
    pub with: Vec<PathBuf>,
    /// The run's input, a JSON object (`fail_when` conditions read it).
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// Same workflow, input and seed: same latencies and failures.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// What is broken on purpose, as the API's `faults` JSON
    /// (`{"services":{"Payment":{"down":true}},"bus":{"drop":0.1}}`).
    #[arg(long)]
    pub faults: Option<String>,
    /// JSON lines: the history (with `--history`), then the outcome.
    #[arg(long)]
    pub json: bool,
    /// Print the run's history too.
    #[arg(long)]
    pub history: bool,
    /// Run on this server (`http://127.0.0.1:3000`) instead of in virtual time here.
    #[arg(long, env = "HYBRIDFLOW_SERVER")]
    pub server: Option<String>,
    /// With `--server`: FILE is the id of a workflow stored there.
    #[arg(long, requires = "server")]
    pub stored: bool,
    /// With `--server`: the longest to wait for the run to end, in seconds.
    #[arg(long, default_value_t = 300)]
    pub wait_secs: u64,
    /// The language of the story and the reading.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: Lang,
    /// A message for a step that waits, `NAME@MS` (sent MS after the start: virtual time
    /// here, real time with `--server`) with data as `NAME@MS={"field": …}`; repeatable.
    #[arg(long = "message", value_name = "NAME@MS[=DATA]")]
    pub messages: Vec<String>,
}

/// The most `--message`s one `run` sends.
pub const MAX_CLI_MESSAGES: usize = 100;
/// At most this many `--with` workflows (each read whole, at most 1 MiB).
pub const MAX_CLI_SUB_FLOWS: usize = 32;

/// One `--message`: its name, when (ms after the start) and its data.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedMessage {
    pub at_ms: u64,
    pub message: app::model::api::MessageRequest,
}

/// Reads the `--message` arguments (`NAME@MS[=DATA]`), or says which one is wrong and why.
pub fn timed_messages(args: &[String]) -> Result<Vec<TimedMessage>, Refused> {
    if args.len() > MAX_CLI_MESSAGES {
        return Err(Refused(format!(
            "{} --message arguments; the limit is {MAX_CLI_MESSAGES}",
            args.len()
        )));
    }
    let mut messages = Vec::with_capacity(args.len());
    for arg in args {
        let (head, data) = match arg.split_once('=') {
            Some((head, data)) => (head, Some(data)),
            None => (arg.as_str(), None),
        };
        let (name, at_ms) = match head.rsplit_once('@') {
            Some((name, at)) => (
                name,
                at.trim().parse::<u64>().map_err(|_| {
                    Refused(format!(
                        "--message {arg:?}: {at:?} is not a time in milliseconds"
                    ))
                })?,
            ),
            None => (head, 0),
        };
        if at_ms > app::model::validate::MAX_SIMULATED_MS {
            return Err(Refused(format!(
                "--message {arg:?}: {at_ms} ms exceeds the limit of {} ms",
                app::model::validate::MAX_SIMULATED_MS
            )));
        }
        let data = match data {
            None => serde_json::Map::new(),
            Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(o)) => o,
                _ => {
                    return Err(Refused(format!(
                        "--message {arg:?}: its data is not a JSON object"
                    )))
                }
            },
        };
        let message = app::model::api::MessageRequest {
            name: name.trim().to_string(),
            data,
        };
        let problems = message.problems();
        if !problems.is_empty() {
            return Err(Refused(format!(
                "--message {arg:?}: {}",
                problems.join("; ")
            )));
        }
        messages.push(TimedMessage { at_ms, message });
    }
    messages.sort_by_key(|m| m.at_ms);
    Ok(messages)
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The workflow file (`-` reads standard input).
    pub file: PathBuf,
    /// Read the file in this format instead of detecting it.
    #[arg(long, value_parser = import_format())]
    pub from: Option<ImportFormat>,
    /// A workflow its sub-flow steps may run, known by its name and by its file's name
    /// without extensions; repeat for each.
    #[arg(long = "with", value_name = "FILE")]
    pub with: Vec<PathBuf>,
    /// Runs per style.
    #[arg(long, default_value_t = app::model::lab::DEFAULT_LAB_RUNS)]
    pub runs: u32,
    /// The first run's seed; run n uses seed + n.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Every run's input, a JSON object.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// What is broken on purpose in every run, as the API's `faults` JSON.
    #[arg(long)]
    pub faults: Option<String>,
    /// Simulated ms the orchestrator spends on each message it handles: the hop cost
    /// (0: not modelled).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=app::model::lab::MAX_ORCHESTRATOR_MESSAGE_MS))]
    pub message_ms: u64,
    /// The whole result as JSON.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// The table and the reading as Markdown.
    #[arg(long)]
    pub markdown: bool,
    /// The language of the story and the reading.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: Lang,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The workflow file (`-` reads standard input).
    pub file: PathBuf,
    /// Read the file in this format instead of detecting it.
    #[arg(long, value_parser = import_format())]
    pub from: Option<ImportFormat>,
    /// The run's input, a JSON object.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// The seed latencies are drawn from (failures are the explorer's, not the seed's).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// At most this many attempts fail or time out in one schedule.
    #[arg(long, default_value_t = crate::verify::DEFAULT_MAX_FAULTS,
          value_parser = clap::value_parser!(u64).range(0..=crate::verify::MAX_FAULT_BOUND as u64).map(|v| v as usize))]
    pub max_faults: usize,
    /// At most this many deliveries are lost, doubled or held back in one schedule.
    #[arg(long, default_value_t = crate::verify::DEFAULT_BUS_FAULTS,
          value_parser = clap::value_parser!(u64).range(0..=crate::verify::MAX_FAULT_BOUND as u64).map(|v| v as usize))]
    pub bus_faults: usize,
    /// Stop after this many schedules.
    #[arg(long, default_value_t = crate::verify::MAX_SCHEDULES,
          value_parser = clap::value_parser!(u64).range(1..=crate::verify::MAX_SCHEDULES as u64).map(|v| v as usize))]
    pub max_schedules: usize,
    /// Never crash the orchestrator (by default it may crash once a schedule, before any
    /// command it sends or reply it hears, with a standby or without).
    #[arg(long)]
    pub no_crash: bool,
    /// The whole result as JSON.
    #[arg(long)]
    pub json: bool,
    /// The language of the result.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: Lang,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The workflow files whose scenarios run (`-` reads standard input).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Read the files in this format instead of detecting it.
    #[arg(long, value_parser = import_format())]
    pub from: Option<ImportFormat>,
    /// Workflows sub-flow steps may run (by name or file name), as with `run --with`.
    #[arg(long = "with")]
    pub with: Vec<PathBuf>,
    /// Also write a JUnit XML report here: a test suite per file, a test case per scenario.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Each file's report as a line of JSON.
    #[arg(long)]
    pub json: bool,
    /// The language of the differences.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: Lang,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The workflow file (`-` reads standard input).
    pub file: PathBuf,
    /// Read the file in this format instead of detecting it.
    #[arg(long, value_parser = import_format())]
    pub from: Option<ImportFormat>,
    /// The running server.
    #[arg(
        long,
        env = "HYBRIDFLOW_SERVER",
        default_value = "http://127.0.0.1:3000"
    )]
    pub server: String,
    /// Print the stored workflow's record as JSON, not only its id.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The stored workflow's id.
    pub id: String,
    /// The format to write.
    #[arg(long, value_parser = export_format(), default_value = "json")]
    pub to: ExportFormat,
    /// The running server.
    #[arg(
        long,
        env = "HYBRIDFLOW_SERVER",
        default_value = "http://127.0.0.1:3000"
    )]
    pub server: String,
}

/// A refused file or request: printed on standard error, exit code 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Reads a workflow file (`-`: standard input), stopping at the document limit while it
/// reads.
pub fn read_file(path: &std::path::Path) -> Result<String, Refused> {
    let name = path.display();
    let limit = MAX_DOCUMENT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| Refused(format!("{name}: cannot read: {e}")))?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Refused(format!(
            "{name}: the file is more than {MAX_DOCUMENT_BYTES} bytes; the limit is {MAX_DOCUMENT_BYTES}"
        )));
    }
    String::from_utf8(bytes).map_err(|e| Refused(format!("{name}: not UTF-8 text: {e}")))
}

/// Runs a subcommand other than `serve`; returns the exit code.
pub async fn execute(command: Command) -> u8 {
    let outcome = match command {
        Command::Serve(_) => unreachable!("served by main"),
        Command::Validate(args) => Ok(offline::validate(&args)),
        Command::Convert(args) => offline::convert(&args).map(|()| 0),
        Command::Run(args) if args.server.is_some() => remote::run(&args).await,
        Command::Run(args) => offline::run(&args),
        Command::Compare(args) => tokio::task::spawn_blocking(move || offline::compare(&args))
            .await
            .unwrap_or_else(|e| Err(Refused(format!("the comparison stopped: {e}")))),
        Command::Verify(args) => tokio::task::spawn_blocking(move || offline::verify(&args))
            .await
            .unwrap_or_else(|e| Err(Refused(format!("the search stopped: {e}")))),
        Command::Test(args) => tokio::task::spawn_blocking(move || offline::test(&args))
            .await
            .unwrap_or_else(|e| Err(Refused(format!("the scenarios stopped: {e}")))),
        Command::Import(args) => remote::import(&args).await.map(|()| 0),
        Command::Export(args) => remote::export(&args).await.map(|()| 0),
        Command::DemoService { service, bind } => {
            let bind = bind.unwrap_or_else(|| ([127, 0, 0, 1], service.port()).into());
            crate::demo::serve(service, bind)
                .await
                .map(|()| 0)
                .map_err(|e| Refused(format!("{}: {e}", service.name())))
        }
        Command::Schema { openapi } => {
            let doc = if openapi {
                &*crate::api::openapi::SPEC
            } else {
                &*crate::api::openapi::WORKFLOW_SCHEMA
            };
            println!("{}", serde_json::to_string_pretty(doc).unwrap_or_default());
            Ok(0)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "hybridflow",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
    };
    match outcome {
        Ok(code) => code,
        Err(Refused(message)) => {
            eprintln!("hybridflow: {message}");
            1
        }
    }
}

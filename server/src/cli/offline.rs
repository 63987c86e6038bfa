//! The subcommands that need no server: `validate`, `convert`, `run` (virtual time, the
//! engine's own core), `compare` (the lab, headless), `verify` (the explorer) and `test`
//! (the documents' scenarios).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app::model::formats::{export, import, ImportError, ImportFormat};
use app::model::lab::{LabStyle, StyleFigures, MAX_LAB_RUNS};
use app::model::lint::lint;
use app::model::reading::compare_reading;
use app::model::story::Story;
use app::model::validate::{DocumentError, Problem};
use app::model::{Faults, RunStatus, Workflow};
use serde_json::{json, Value};

use super::{
    read_file, CompareArgs, ConvertArgs, Refused, RunArgs, TestArgs, ValidateArgs, VerifyArgs,
};
use crate::lab::compare::{compare as compare_styles, CompareSpec, Progress};
use crate::lab::simulate::{Library, VirtualRun};

/// Every problem of a refused import, one per line: `where: what`.
fn problem_lines(error: &ImportError) -> Vec<(String, String)> {
    let each = |p: &Problem| {
        let mut at = p.path.clone();
        if let Some(node) = p.node.as_ref().filter(|n| !p.path.contains(n.as_str())) {
            let _ = write!(at, " ({node})");
        }
        (at, p.message.clone())
    };
    match error {
        ImportError::Unsupported(problems)
        | ImportError::Document(DocumentError::Invalid(problems)) => {
            problems.iter().map(each).collect()
        }
        ImportError::Document(DocumentError::Malformed {
            line,
            column,
            message,
        }) => {
            vec![(
                format!("line {line}, column {column}"),
                format!("malformed JSON: {message}"),
            )]
        }
        ImportError::Document(e @ DocumentError::TooLarge { .. }) => {
            vec![(String::new(), e.to_string())]
        }
    }
}

/// Reads and imports one workflow file.
pub fn load(path: &Path, from: Option<ImportFormat>) -> Result<Workflow, Refused> {
    let text = read_file(path)?;
    import(&text, from).map_err(|e| {
        let name = path.display();
        Refused(
            problem_lines(&e)
                .into_iter()
                .map(|(at, what)| {
                    if at.is_empty() {
                        format!("{name}: {what}")
                    } else {
                        format!("{name}: {at}: {what}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// `validate`: exit code 1 when any file has a problem (or, `--strict`, a warning).
pub fn validate(args: &ValidateArgs) -> u8 {
    let mut failed = false;
    for path in &args.files {
        let name = path.display().to_string();
        let (problems, warnings) = match read_file(path) {
            Err(Refused(message)) => (vec![(String::new(), message)], Vec::new()),
            Ok(text) => match import(&text, args.from) {
                Err(e) => (problem_lines(&e), Vec::new()),
                Ok(w) => (Vec::new(), lint(&w)),
            },
        };
        failed |= !problems.is_empty() || (args.strict && !warnings.is_empty());
        if args.json {
            let doc = json!({
                "file": name,
                "valid": problems.is_empty(),
                "problems": problems.iter().map(|(at, what)| json!({"at": at, "message": what})).collect::<Vec<_>>(),
                "warnings": warnings,
            });
            println!("{doc}");
            continue;
        }
        for (at, what) in &problems {
            if at.is_empty() {
                println!("{name}: error: {what}");
            } else {
                println!("{name}: {at}: error: {what}");
            }
        }
        for w in &warnings {
            let at = w.node.as_deref().or(w.edge.as_deref()).unwrap_or("");
            println!("{name}: {at}: warning: {}", w.message);
        }
        if problems.is_empty() {
            println!("{name}: valid ({} warning(s))", warnings.len());
        }
    }
    u8::from(failed)
}

/// `convert`.
pub fn convert(args: &ConvertArgs) -> Result<(), Refused> {
    let workflow = load(&args.file, args.from)?;
    let text = export(&workflow, args.to).map_err(|e| {
        Refused(format!(
            "{}: cannot write it as {}: {}",
            args.file.display(),
            args.to.as_str(),
            e.0.iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    match &args.output {
        Some(out) => std::fs::write(out, text)
            .map_err(|e| Refused(format!("{}: cannot write: {e}", out.display()))),
        None => {
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            Ok(())
        }
    }
}

/// The input, seed and faults of a `run` or `compare`, checked as the API checks them.
fn input_and_faults(
    input: &str,
    seed: u64,
    faults: Option<&str>,
    workflow: &Workflow,
) -> Result<(Value, Faults), Refused> {
    let input: Value =
        serde_json::from_str(input).map_err(|e| Refused(format!("--input is not JSON: {e}")))?;
    let mut problems = crate::api::lab::seed_and_input_problems(Some(seed), Some(&input));
    let faults: Faults = match faults {
        Some(f) => serde_json::from_str(f).map_err(|e| Refused(format!("--faults: {e}")))?,
        None => Faults::default(),
    };
    problems.extend(faults.problems_for(workflow));
    if !problems.is_empty() {
        return Err(Refused(problems.join("; ")));
    }
    Ok((input, faults))
}

/// The exit code of a run's end.
pub fn exit_code(status: Option<RunStatus>) -> u8 {
    match status {
        Some(RunStatus::Completed) => 0,
        Some(RunStatus::Failed) => 3,
        Some(RunStatus::Compensated) => 4,
        Some(RunStatus::Cancelled | RunStatus::Running) | None => 5,
    }
}

/// The workflows given with `--with`: what sub-flow steps may run offline, each by its
/// name and by its file's name without extensions (`payment.asl.json` is `payment`).
fn library(files: &[std::path::PathBuf]) -> Result<Library, Refused> {
    if files.len() > super::MAX_CLI_SUB_FLOWS {
        return Err(Refused(format!(
            "{} --with files; the limit is {}",
            files.len(),
            super::MAX_CLI_SUB_FLOWS
        )));
    }
    let mut found = std::collections::BTreeMap::new();
    for file in files {
        let workflow = load(file, None)?;
        let stem = file
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .unwrap_or_default()
            .to_string();
        found.insert(workflow.name.clone(), workflow.clone());
        if !stem.is_empty() {
            found.insert(stem, workflow);
        }
    }
    Ok(std::sync::Arc::new(found))
}

/// `run` in virtual time.
pub fn run(args: &RunArgs) -> Result<u8, Refused> {
    let workflow = load(Path::new(&args.file), args.from)?;
    let (input, faults) =
        input_and_faults(&args.input, args.seed, args.faults.as_deref(), &workflow)?;
    let messages = super::timed_messages(&args.messages)?;
    let library = library(&args.with)?;
    let mut run = VirtualRun::new_in(&library, &workflow, input.clone(), args.seed, faults);
    for m in messages {
        run.at(
            m.at_ms,
            crate::engine::core::Input::Message {
                name: m.message.name,
                data: m.message.data,
            },
        );
    }
    run.run_until(u64::MAX);
    let mut story = Story::new();
    for (_, event) in &run.history {
        story.apply(event);
    }
    let locale = args.lang.locale();
    let lines: Vec<String> = story
        .lines(&workflow, locale)
        .into_iter()
        .map(|l| l.message)
        .collect();
    let ended = run.completed();
    let status = ended.as_ref().map(|(s, _, _)| *s);
    let outcome = json!({
        "workflow": workflow.name,
        "status": status.map(|s| s.as_str()).unwrap_or("running"),
        "diagnosis": ended.as_ref().and_then(|(_, d, _)| d.clone()),
        "virtual_ms": run.ended_at(),
        "seed": args.seed,
        "messages": ended.as_ref().map(|(_, _, m)| *m),
        "story": lines,
    });
    if args.json {
        if args.history {
            for (at, event) in &run.history {
                let mut line = json!({"at_ms": at});
                if let (Value::Object(o), Ok(Value::Object(e))) =
                    (&mut line, serde_json::to_value(event))
                {
                    o.extend(e);
                }
                println!("{line}");
            }
        }
        println!("{}", json!({"outcome": outcome}));
    } else {
        if args.history {
            for (at, event) in &run.history {
                println!(
                    "{at:>8} ms  {}",
                    serde_json::to_string(event).unwrap_or_default()
                );
            }
            println!();
        }
        println!(
            "{}: {} after {} ms of virtual time (seed {})",
            workflow.name,
            status.map(|s| s.as_str()).unwrap_or("not ended"),
            run.ended_at().unwrap_or(run.now),
            args.seed
        );
        if let Some((_, _, m)) = &ended {
            println!(
                "messages: {} command(s), {} reply(ies), {} event(s) published, {} delivered, {} quer(ies) for missing context",
                m.commands, m.replies, m.events, m.deliveries, m.queries
            );
        }
        for line in &lines {
            println!("- {line}");
        }
    }
    Ok(exit_code(status))
}

/// How often the progress bar looks at the batch.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// `compare`: the lab's batch, headless, with a progress bar on standard error when it is
/// a terminal.
pub fn compare(args: &CompareArgs) -> Result<u8, Refused> {
    let workflow = load(&args.file, args.from)?;
    if !(1..=MAX_LAB_RUNS).contains(&args.runs) {
        return Err(Refused(format!(
            "--runs must be from 1 to {MAX_LAB_RUNS}, got {}",
            args.runs
        )));
    }
    let (input, faults) =
        input_and_faults(&args.input, args.seed, args.faults.as_deref(), &workflow)?;
    let spec = CompareSpec {
        workflow: workflow.clone(),
        input,
        runs: args.runs,
        seed: args.seed,
        faults: faults.clone(),
        message_ms: args.message_ms,
        // Offline there is no store: sub-flows run what `--with` gives.
        library: library(&args.with)?,
        verify: None,
    };
    let progress = Arc::new(Progress::default());
    let total = u64::from(args.runs) * LabStyle::ALL.len() as u64;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} runs  {elapsed} (~{eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let worker = {
        let progress = progress.clone();
        std::thread::spawn(move || compare_styles(&spec, &progress))
    };
    while !worker.is_finished() {
        let done: u32 = (0..LabStyle::ALL.len()).map(|i| progress.done(i)).sum();
        bar.set_position(u64::from(done));
        std::thread::sleep(PROGRESS_EVERY);
    }
    bar.finish_and_clear();
    let result = worker
        .join()
        .map_err(|_| Refused("the comparison stopped on an internal error".into()))?
        .ok_or_else(|| Refused("the comparison was cancelled".into()))?;
    let locale = args.lang.locale();
    let reading = compare_reading(
        locale,
        &result.styles,
        &faults,
        args.runs,
        args.message_ms,
        None,
    )
    .into_lines(locale);
    if args.json {
        let mut doc = serde_json::to_value(&result).unwrap_or_default();
        doc["workflow"] = json!(workflow.name);
        doc["runs"] = json!(args.runs);
        doc["seed"] = json!(args.seed);
        doc["reading"] = json!(reading);
        println!("{doc}");
    } else {
        print!(
            "{}",
            table(&workflow, &result.styles, args, &reading, locale)
        );
    }
    Ok(0)
}

/// The lab's table: a row per style; Markdown with `--markdown`, aligned text otherwise.
fn table(
    workflow: &Workflow,
    styles: &[StyleFigures],
    args: &CompareArgs,
    reading: &[String],
    locale: app::i18n::Locale,
) -> String {
    let head = [
        "style",
        "succeeded",
        "handled",
        "compensated",
        "unhandled",
        "inconsistent",
        "stalled",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "messages/run",
        "via orchestrator",
        "blast radius",
    ];
    let rows: Vec<Vec<String>> = styles
        .iter()
        .map(|s| {
            let o = &s.outcomes;
            let runs = f64::from(s.runs.max(1));
            let messages = s.messages.total();
            vec![
                s.style.words(locale).to_string(),
                o.succeeded.to_string(),
                o.handled.to_string(),
                o.compensated.to_string(),
                o.unhandled.to_string(),
                o.inconsistent.to_string(),
                o.stalled.to_string(),
                s.latency_ms.p50.to_string(),
                s.latency_ms.p95.to_string(),
                s.latency_ms.p99.to_string(),
                format!("{:.1}", messages as f64 / runs),
                format!("{:.0}%", s.orchestrator_share * 100.0),
                format!("{:.2} (max {})", s.blast_radius_mean, s.blast_radius_max),
            ]
        })
        .collect();
    let mut out = String::new();
    let title = format!(
        "{}: {} run(s) per style, seed {}",
        workflow.name, args.runs, args.seed
    );
    if args.markdown {
        let _ = writeln!(out, "## {title}\n");
        let _ = writeln!(out, "| {} |", head.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
        for row in &rows {
            let _ = writeln!(out, "| {} |", row.join(" | ").replace('\n', " "));
        }
        let _ = writeln!(out);
        for line in reading {
            let _ = writeln!(out, "- {line}");
        }
    } else {
        let _ = writeln!(out, "{title}\n");
        let widths: Vec<usize> = (0..head.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([head[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}", w = *w))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let _ = writeln!(
            out,
            "{}",
            line(head.iter().map(|h| h.to_string()).collect())
        );
        for row in rows {
            let _ = writeln!(out, "{}", line(row));
        }
        let _ = writeln!(out);
        for l in reading {
            let _ = writeln!(out, "- {l}");
        }
    }
    out
}

/// `hybridflow verify`: every schedule within the bounds, the headline first, then each
/// broken invariant with its shortest schedule, the counts and what no schedule exercised.
pub fn verify(args: &VerifyArgs) -> Result<u8, Refused> {
    let workflow = load(&args.file, args.from)?;
    let (input, _) = input_and_faults(&args.input, args.seed, None, &workflow)?;
    let bounds = crate::verify::Bounds {
        max_faults: args.max_faults,
        bus_faults: args.bus_faults,
        max_schedules: args.max_schedules,
        crash: !args.no_crash,
        reduce: true,
    };
    let never = std::sync::atomic::AtomicBool::new(false);
    let found = crate::verify::explore(&workflow, &input, args.seed, bounds, &never);
    let locale = args.lang.locale();
    if args.json {
        let mut doc = serde_json::to_value(&found).unwrap_or_default();
        doc["workflow"] = json!(workflow.name);
        doc["headline"] = json!(found.headline(&workflow, locale));
        for (i, c) in found.counterexamples.iter().enumerate() {
            doc["counterexamples"][i]["story"] = json!(c.story(&workflow, locale));
        }
        println!("{doc}");
    } else {
        let mut out = String::new();
        let _ = writeln!(out, "{}", found.headline(&workflow, locale));
        for c in &found.counterexamples {
            let _ = writeln!(
                out,
                "  ✗ {}: {}",
                c.invariant.words(locale),
                c.story(&workflow, locale)
            );
        }
        let _ = writeln!(
            out,
            "{}; {}",
            found.figures(locale),
            app::model::verify::VerifyBounds {
                max_faults: args.max_faults as u32,
                bus_faults: args.bus_faults as u32,
                crash: !args.no_crash,
            }
            .words(locale)
        );
        let mut flow = workflow.clone();
        flow.assign_edge_ids();
        for line in found.coverage.never_words(&flow, locale, true) {
            let _ = writeln!(out, "{line}");
        }
        print!("{out}");
    }
    Ok(if !found.counterexamples.is_empty() {
        6
    } else if found.truncated {
        7
    } else {
        0
    })
}

/// `hybridflow test`: each file's scenarios, the headline first, then each scenario passed
/// (✓) or failed (✗, with every difference); a JUnit XML report with `--junit`.
pub fn test(args: &TestArgs) -> Result<u8, Refused> {
    let library = library(&args.with)?;
    let locale = args.lang.locale();
    let mut junit = quick_junit::Report::new("hybridflow test");
    let (mut scenarios, mut failed) = (0usize, 0usize);
    for path in &args.files {
        let name = path.display().to_string();
        let workflow = load(path, args.from)?;
        let started = std::time::Instant::now();
        let report = crate::verify::scenarios::run_scenarios(&library, &workflow);
        let took = started.elapsed();
        scenarios += report.results.len();
        failed += report.failed;
        let mut suite = quick_junit::TestSuite::new(format!("{name}: {}", workflow.name));
        for r in &report.results {
            let differences: Vec<String> = r
                .differences
                .iter()
                .map(|d| d.words(&workflow, locale))
                .collect();
            let status = if r.passed {
                quick_junit::TestCaseStatus::success()
            } else {
                let mut status =
                    quick_junit::TestCaseStatus::non_success(quick_junit::NonSuccessKind::Failure);
                status.set_message(differences.join("; "));
                status.set_description(differences.join("\n"));
                status
            };
            let mut case = quick_junit::TestCase::new(r.name.clone(), status);
            case.set_classname(workflow.name.clone());
            case.set_time(Duration::from_millis(r.duration_ms));
            if let Some(diagnosis) = &r.diagnosis {
                case.set_system_out(diagnosis.clone());
            }
            suite.add_test_case(case);
        }
        suite.set_time(took);
        junit.add_test_suite(suite);
        if args.json {
            let mut doc = serde_json::to_value(&report).unwrap_or_default();
            doc["file"] = json!(name);
            doc["headline"] = json!(report.headline(locale));
            for (i, r) in report.results.iter().enumerate() {
                doc["results"][i]["said"] = json!(r
                    .differences
                    .iter()
                    .map(|d| d.words(&workflow, locale))
                    .collect::<Vec<_>>());
            }
            println!("{doc}");
            continue;
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{name}: {}: {}",
            workflow.name,
            report.headline(locale)
        );
        for r in &report.results {
            let ended = app::model::log::status_words(locale, r.status);
            if r.passed {
                let _ = writeln!(out, "  ✓ {} ({ended}, {} ms)", r.name, r.duration_ms);
            } else {
                let _ = writeln!(out, "  ✗ {} ({ended}, {} ms)", r.name, r.duration_ms);
                for d in &r.differences {
                    let _ = writeln!(out, "      {}", d.words(&workflow, locale));
                }
            }
        }
        print!("{out}");
    }
    if let Some(path) = &args.junit {
        let xml = junit
            .to_string()
            .map_err(|e| Refused(format!("the JUnit report: {e}")))?;
        std::fs::write(path, xml).map_err(|e| {
            Refused(format!(
                "{}: cannot write the JUnit report: {e}",
                path.display()
            ))
        })?;
    }
    Ok(if scenarios == 0 {
        if !args.json {
            eprintln!("no scenario to run: the files keep none (keep a run as a scenario in the editor's Tests panel, or add \"scenarios\" to the document)");
        }
        9
    } else if failed > 0 {
        8
    } else {
        0
    })
}

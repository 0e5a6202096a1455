//! The terminal display: a subscriber of the scheduler's event stream. On a
//! terminal it draws an overall bar plus one bar per running stage (epochs
//! for training stages); otherwise (or with `--plain`) it prints one line per
//! event, with a `[done/total, elapsed, ETA]` counter on each stage that ends
//! and the slowest stages after the summary ([`crate::progress`]). The
//! JSON-lines run log is another subscriber of the same stream.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use engine::events::{Event, Subscriber};

use crate::progress::Progress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Display {
    mode: Mode,
    progress: Progress,
}

enum Mode {
    Plain,
    Bars {
        multi: MultiProgress,
        overall: ProgressBar,
        running: HashMap<String, ProgressBar>,
        failed: usize,
    },
}

impl Display {
    /// Bars on a terminal unless `plain`; plain lines otherwise.
    pub fn new(plain: bool) -> Display {
        if plain || !std::io::stderr().is_terminal() {
            return Display {
                mode: Mode::Plain,
                progress: Progress::default(),
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template(
                "{prefix:>8.bold} [{bar:30.cyan/blue}] {pos}/{len} stages {msg} ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        overall.set_prefix("run");
        overall.enable_steady_tick(Duration::from_millis(200));
        Display {
            mode: Mode::Bars {
                multi,
                overall,
                running: HashMap::new(),
                failed: 0,
            },
            progress: Progress::default(),
        }
    }
}

fn fmt_metrics(metrics: &std::collections::BTreeMap<String, f64>) -> String {
    metrics
        .iter()
        .map(|(k, v)| format!("{k} {v:.3}"))
        .collect::<Vec<_>>()
        .join("  ")
}

impl Subscriber for Display {
    fn on_event(&mut self, _run_id: &str, event: &Event) {
        let counter = self.progress.on_event(event);
        let slowest = match event {
            Event::RunFinished { .. } => self.progress.slowest(),
            _ => None,
        };
        match &mut self.mode {
            Mode::Plain => {
                plain_line(event, counter.as_deref());
                if let Some(slowest) = &slowest {
                    eprintln!("{slowest}");
                }
            }
            Mode::Bars {
                multi,
                overall,
                running,
                failed,
            } => match event {
                Event::RunStarted { to_run, cached, .. } => {
                    overall.set_length(*to_run as u64);
                    overall.set_message(format!("({cached} cached)"));
                }
                Event::Started { name, .. } => {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner:.green} {prefix} {wide_msg} {elapsed}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(name.clone());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    running.insert(name.clone(), bar);
                }
                Event::Progress {
                    name,
                    done,
                    total,
                    metrics,
                    ..
                } => {
                    if let Some(bar) = running.get(name) {
                        bar.set_message(format!("epoch {done}/{total}  {}", fmt_metrics(metrics)));
                    }
                }
                Event::Finished { name, wall_s, .. } => {
                    if let Some(bar) = running.remove(name) {
                        bar.finish_and_clear();
                        multi.remove(&bar);
                    }
                    overall.inc(1);
                    let _ = multi.println(format!("  done    {name} ({wall_s:.1} s)"));
                }
                Event::Failed {
                    name,
                    reason,
                    log,
                    bad_input,
                    ..
                } => {
                    if let Some(bar) = running.remove(name) {
                        bar.finish_and_clear();
                        multi.remove(&bar);
                    }
                    *failed += 1;
                    overall.inc(1);
                    overall.set_message(format!("({failed} failed)"));
                    let _ = multi.println(failed_lines(name, reason, log, *bad_input));
                }
                Event::Skipped { name, because, .. } => {
                    overall.inc(1);
                    let _ = multi.println(format!("  skipped {name} ({because})"));
                }
                Event::RunFinished { .. } => {
                    overall.finish_and_clear();
                    let _ = multi.clear();
                    plain_line(event, None);
                    if let Some(slowest) = &slowest {
                        eprintln!("{slowest}");
                    }
                }
                _ => {}
            },
        }
    }
}

/// The FAILED line of a stage and its log path; for bad input data, the
/// reason (file, problem) on its own line between them, so it is seen
/// without opening the log.
fn failed_lines(name: &str, reason: &str, log: &std::path::Path, bad_input: bool) -> String {
    if bad_input {
        format!(
            "  FAILED  {name}: bad input\n          {reason}\n          log: {}",
            log.display()
        )
    } else {
        format!(
            "  FAILED  {name}: {reason}\n          log: {}",
            log.display()
        )
    }
}

/// One line per event; `counter` (`[12/335, 1:02, ETA 8:31]`) ends the
/// line of a stage that ended.
fn plain_line(event: &Event, counter: Option<&str>) {
    let tail = counter.map(|c| format!("  {c}")).unwrap_or_default();
    match event {
        Event::RunStarted {
            experiment,
            stages,
            to_run,
            cached,
        } => eprintln!("{experiment}: {stages} stages, {cached} cached, {to_run} to run"),
        Event::Started {
            name, job, threads, ..
        } => eprintln!("  start   {name} [{job}, {threads} thread(s)]"),
        Event::Finished {
            name,
            wall_s,
            computed,
            ..
        } => {
            if *computed {
                eprintln!("  done    {name} ({wall_s:.1} s){tail}")
            } else {
                eprintln!("  done    {name} (published by another run){tail}")
            }
        }
        Event::Failed {
            name,
            reason,
            log,
            bad_input,
            ..
        } => eprintln!("{}{tail}", failed_lines(name, reason, log, *bad_input)),
        Event::Skipped { name, because, .. } => eprintln!("  skipped {name} ({because}){tail}"),
        Event::RunFinished {
            ok,
            computed,
            cached,
            failed,
            skipped,
            wall_s,
        } => {
            let verdict = if *ok { "ok" } else { "FAILED" };
            eprintln!(
                "{verdict}: {computed} computed, {cached} cached, {failed} failed, {skipped} skipped in {wall_s:.1} s"
            );
        }
        Event::Planned { .. } | Event::Cached { .. } | Event::Progress { .. } => {}
    }
}

//! The local executor: each stage runs as a child process
//! `<kdpipe> exec-stage <fp> --store <root> --threads N`. Its stdout is read
//! by a thread (progress lines become [`JobUpdate::Progress`]); stdout and
//! stderr both go to the stage's log file. Children get SIGKILL when the
//! head dies ([`super::parent_death`]); a [`KillSwitch`] kills them from
//! another thread (a second Ctrl-C).

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::parent_death::die_with_parent;
use super::{Executor, JobId, JobOutcome, JobUpdate};
use crate::error::{Error, IoContext, Result};
use crate::exec::Progress;
use crate::fingerprint::Fingerprint;
use crate::spec::StageSpec;

use crate::protocol::{self, EXIT_BAD_INPUT, EXIT_PUBLISHED_ELSEWHERE, PROGRESS_PREFIX};

/// Runs stages as child processes of this machine.
pub struct LocalExecutor {
    exe: PathBuf,
    store_root: PathBuf,
    extra_args: Vec<OsString>,
    tx: Sender<JobUpdate>,
    rx: Receiver<JobUpdate>,
    children: KillSwitch,
}

type Children = HashMap<JobId, Arc<Mutex<Child>>>;

/// Kills the running stages of one [`LocalExecutor`]; cloneable and usable
/// from any thread (a signal handler thread while the scheduler is busy).
#[derive(Clone, Default)]
pub struct KillSwitch(Arc<Mutex<Children>>);

impl KillSwitch {
    /// Sends SIGKILL to every stage process not yet reaped; returns how
    /// many. A reaped child is never signalled, so a reused pid is safe.
    pub fn kill_all(&self) -> usize {
        let children = self.lock();
        let mut killed = 0;
        for child in children.values() {
            let mut c = child
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Ok(None) = c.try_wait() {
                if c.kill().is_ok() {
                    killed += 1;
                }
            }
        }
        killed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Children> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl LocalExecutor {
    /// `exe` is the kdpipe binary; `extra_args` are appended to each
    /// `exec-stage` command line.
    pub fn new(exe: PathBuf, store_root: PathBuf, extra_args: Vec<OsString>) -> LocalExecutor {
        let (tx, rx) = channel();
        LocalExecutor {
            exe,
            store_root,
            extra_args,
            tx,
            rx,
            children: KillSwitch::default(),
        }
    }

    /// A handle that kills this executor's running stages from elsewhere.
    pub fn kill_switch(&self) -> KillSwitch {
        self.children.clone()
    }
}

impl Executor for LocalExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    fn launch(
        &mut self,
        spec: &StageSpec,
        fingerprint: &Fingerprint,
        threads: usize,
        log: &Path,
    ) -> Result<JobId> {
        let log_file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(log)
            .ctx("create log file", log)?;
        let stderr = log_file.try_clone().ctx("open log file", log)?;
        let mut cmd = Command::new(&self.exe);
        die_with_parent(&mut cmd);
        let mut child = cmd
            .args(protocol::exec_stage_args(
                fingerprint,
                &self.store_root,
                threads,
            ))
            .args(&self.extra_args)
            .env(protocol::EXECUTOR_ENV, "local")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .map_err(|e| Error::Launch {
                name: spec.name.clone(),
                reason: format!("failed to spawn `{}`: {e}", self.exe.display()),
            })?;
        let job = JobId(child.id().to_string());
        let stdout = child.stdout.take();
        let child = Arc::new(Mutex::new(child));
        self.children.lock().insert(job.clone(), Arc::clone(&child));
        let tx = self.tx.clone();
        let log = log.to_path_buf();
        let job2 = job.clone();
        std::thread::spawn(move || watch(job2, child, stdout, log_file, log, tx));
        Ok(job)
    }

    fn poll(&mut self, timeout: Duration) -> Result<Vec<JobUpdate>> {
        let mut out = Vec::new();
        let deadline = Instant::now() + timeout;
        if self.children.lock().is_empty() {
            return Ok(out);
        }
        match self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(u) => out.push(u),
            Err(RecvTimeoutError::Timeout) => return Ok(out),
            Err(RecvTimeoutError::Disconnected) => return Ok(out),
        }
        out.extend(self.rx.try_iter());
        let mut children = self.children.lock();
        for u in &out {
            if let JobUpdate::Done { job, .. } = u {
                children.remove(job);
            }
        }
        Ok(out)
    }

    fn cancel_all(&mut self) {
        self.children.kill_all();
    }
}

/// The last `n` non-empty lines of a stage log, without progress lines
/// (for a failure message); empty if the log cannot be read.
pub fn log_tail(log: &Path, n: usize) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(log) else {
        return Vec::new();
    };
    let mut lines: Vec<String> = text
        .lines()
        .rev()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(PROGRESS_PREFIX))
        .take(n)
        .map(str::to_owned)
        .collect();
    lines.reverse();
    lines
}

/// Reads the child's stdout until EOF, then reaps it and reports the outcome.
fn watch(
    job: JobId,
    child: Arc<Mutex<Child>>,
    stdout: Option<std::process::ChildStdout>,
    mut log_file: std::fs::File,
    log: PathBuf,
    tx: Sender<JobUpdate>,
) {
    let mut bad_input = None;
    if let Some(stdout) = stdout {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let _ = log_file.write_all(line.as_bytes());
            if let Some(reason) = protocol::bad_input_reason(&line) {
                bad_input = Some(reason.to_owned());
            }
            if let Some(json) = line.trim_end().strip_prefix(PROGRESS_PREFIX) {
                if let Ok(progress) = serde_json::from_str::<Progress>(json) {
                    let _ = tx.send(JobUpdate::Progress {
                        job: job.clone(),
                        progress,
                    });
                }
            }
        }
    }
    // Stdout closed: the child is exiting. Poll rather than block in wait()
    // so that cancel_all can still take the lock and kill it.
    let status = loop {
        let polled = match child.lock() {
            Ok(mut c) => c.try_wait(),
            Err(_) => return,
        };
        match polled {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(e),
        }
    };
    let outcome = match status {
        Ok(s) if s.code() == Some(0) => JobOutcome::Published,
        Ok(s) if s.code() == Some(EXIT_PUBLISHED_ELSEWHERE) => JobOutcome::PublishedElsewhere,
        Ok(s) if s.code() == Some(EXIT_BAD_INPUT) => JobOutcome::BadInput {
            reason: bad_input.unwrap_or_else(|| format!("exit status {EXIT_BAD_INPUT}")),
            log,
        },
        Ok(s) => JobOutcome::Failed {
            reason: match (s.code(), s.signal()) {
                (Some(c), _) => format!("exit status {c}"),
                (None, Some(sig)) => format!("killed by signal {sig}"),
                _ => "ended abnormally".into(),
            },
            log,
        },
        Err(e) => JobOutcome::Failed {
            reason: format!("failed to wait for the stage process: {e}"),
            log,
        },
    };
    let _ = tx.send(JobUpdate::Done { job, outcome });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn spec() -> StageSpec {
        crate::store::tests::spec("sh", 1)
    }

    /// A stand-in for the kdpipe binary: a shell script that echoes its
    /// arguments, reports progress, and exits with the code in $CODE.
    fn script(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("fake-kdpipe");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn run_one(body: &str) -> (Vec<JobUpdate>, String) {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), body);
        let mut ex = LocalExecutor::new(exe, dir.path().join("store"), vec!["--x".into()]);
        let log = dir.path().join("stage.log");
        let s = spec();
        let job = ex.launch(&s, &s.fingerprint(), 3, &log).unwrap();
        let mut updates = Vec::new();
        let t0 = Instant::now();
        while !updates.iter().any(|u| matches!(u, JobUpdate::Done { .. })) {
            assert!(t0.elapsed() < Duration::from_secs(10), "no Done");
            updates.extend(ex.poll(Duration::from_millis(200)).unwrap());
        }
        for u in &updates {
            match u {
                JobUpdate::Progress { job: j, .. } | JobUpdate::Done { job: j, .. } => {
                    assert_eq!(j, &job)
                }
            }
        }
        (updates, std::fs::read_to_string(&log).unwrap())
    }

    #[test]
    fn progress_log_and_success() {
        let (updates, log) = run_one(
            "echo \"args: $*\"\necho '@kdpipe {\"done\":1,\"total\":2,\"metrics\":{\"loss\":0.5}}'\necho oops >&2\nexit 0",
        );
        assert_eq!(updates.len(), 2, "{updates:?}");
        let JobUpdate::Progress { progress, .. } = &updates[0] else {
            panic!("{updates:?}")
        };
        assert_eq!((progress.done, progress.total), (1, 2));
        assert_eq!(progress.metrics["loss"], 0.5);
        assert!(matches!(
            &updates[1],
            JobUpdate::Done {
                outcome: JobOutcome::Published,
                ..
            }
        ));
        let fp = spec().fingerprint();
        assert!(
            log.contains(&format!("args: exec-stage {fp} --store")),
            "{log}"
        );
        assert!(log.contains("--threads 3 --x"), "{log}");
        assert!(log.contains("oops"), "{log}");
        assert!(log.contains("@kdpipe {"), "{log}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.log");
        std::fs::write(&p, &log).unwrap();
        // stdout and stderr interleave in any order; progress lines are dropped.
        let tail = log_tail(&p, 5);
        assert_eq!(tail.len(), 2, "{tail:?}");
        assert!(tail.contains(&"oops".to_string()), "{tail:?}");
    }

    #[test]
    fn exit_codes_map_to_outcomes() {
        let (u, _) = run_one("exit 10");
        assert!(matches!(
            u.last(),
            Some(JobUpdate::Done {
                outcome: JobOutcome::PublishedElsewhere,
                ..
            })
        ));
        let (u, _) = run_one("exit 3");
        let Some(JobUpdate::Done {
            outcome: JobOutcome::Failed { reason, .. },
            ..
        }) = u.last()
        else {
            panic!("{u:?}")
        };
        assert_eq!(reason, "exit status 3");
        let (u, _) = run_one("echo '@kdpipe-bad-input class `a` has no images'\nexit 2");
        assert!(
            matches!(
                u.last(),
                Some(JobUpdate::Done {
                    outcome: JobOutcome::BadInput { reason, .. },
                    ..
                }) if reason == "class `a` has no images"
            ),
            "{u:?}"
        );
        let (u, _) = run_one("kill -9 $$");
        let Some(JobUpdate::Done {
            outcome: JobOutcome::Failed { reason, .. },
            ..
        }) = u.last()
        else {
            panic!("{u:?}")
        };
        assert_eq!(reason, "killed by signal 9");
    }

    #[test]
    fn cancel_all_kills_running_children() {
        let dir = tempfile::tempdir().unwrap();
        let exe = script(dir.path(), "exec sleep 30");
        let mut ex = LocalExecutor::new(exe, dir.path().into(), vec![]);
        let s = spec();
        ex.launch(&s, &s.fingerprint(), 1, &dir.path().join("l.log"))
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let t0 = Instant::now();
        ex.cancel_all();
        let mut updates = Vec::new();
        while updates.is_empty() {
            assert!(t0.elapsed() < Duration::from_secs(5));
            updates = ex.poll(Duration::from_millis(200)).unwrap();
        }
        assert!(matches!(
            &updates[0],
            JobUpdate::Done {
                outcome: JobOutcome::Failed { .. },
                ..
            }
        ));
    }
}

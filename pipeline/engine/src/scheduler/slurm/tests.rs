//! Parsing tests on outputs captured from a real Slurm 22.05 (Debian
//! bookworm's packages, started by scripts/slurm-up.sh), and the argument
//! vector given to sbatch.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::command::escape_output_pattern;
use super::executor::JOB_SCRIPT;
use super::*;
use crate::fingerprint::Fingerprint;
use crate::scheduler::{Executor, JobOutcome};
use crate::spec::StageSpec;

const COMPLETED: &str = include_str!("../../../testdata/slurm/scontrol_completed.txt");
const FAILED_EXIT1: &str = include_str!("../../../testdata/slurm/scontrol_failed_exit1.txt");
const FAILED_EXIT10: &str = include_str!("../../../testdata/slurm/scontrol_failed_exit10.txt");
const CANCELLED_PENDING: &str =
    include_str!("../../../testdata/slurm/scontrol_cancelled_pending.txt");
const CANCELLED_RUNNING: &str =
    include_str!("../../../testdata/slurm/scontrol_cancelled_running.txt");
const TIMEOUT: &str = include_str!("../../../testdata/slurm/scontrol_timeout.txt");
const KILLED: &str = include_str!("../../../testdata/slurm/scontrol_killed_signal9.txt");
const PENDING: &str = include_str!("../../../testdata/slurm/scontrol_pending.txt");
const ONE_LINE: &str = include_str!("../../../testdata/slurm/scontrol_oneliner.txt");

fn info(text: &str) -> JobInfo {
    parse_scontrol(text).expect("scontrol output has a JobState")
}

fn fp() -> Fingerprint {
    Fingerprint::parse(&"ab".repeat(32)).expect("valid fingerprint")
}

#[test]
fn squeue_lines_map_ids_to_state_and_reason() {
    // `squeue -h -j 8,9,10,... -o "%i|%T|%r"` while two CPUs were busy.
    let text = "8|PENDING|Resources\n9|PENDING|Priority\n13|RUNNING|None\n";
    let jobs = parse_squeue(text);
    assert_eq!(jobs.len(), 3);
    assert_eq!(jobs["8"].state, JobState("PENDING".into()));
    assert_eq!(jobs["8"].reason, "Resources");
    assert_eq!(jobs["13"].state, JobState("RUNNING".into()));
    assert!(!jobs["13"].state.is_final());
}

#[test]
fn squeue_ignores_blank_and_malformed_lines() {
    let jobs = parse_squeue("\n  \ngarbage\n42|COMPLETING|None\n");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs["42"].state.0, "COMPLETING");
    assert!(
        !jobs["42"].state.is_final(),
        "completing jobs are still running"
    );
}

#[test]
fn scontrol_completed_job_is_published() {
    let i = info(COMPLETED);
    assert_eq!(i.state.0, "COMPLETED");
    assert_eq!((i.exit_code, i.signal), (0, 0));
    assert!(i.state.is_final());
    assert_eq!(
        outcome_of("5", &i, Path::new("/nonexistent/log")),
        JobOutcome::Published
    );
}

#[test]
fn scontrol_exit_10_is_published_elsewhere() {
    let i = info(FAILED_EXIT10);
    assert_eq!(i.state.0, "FAILED");
    assert_eq!((i.exit_code, i.signal), (10, 0));
    assert_eq!(
        outcome_of("7", &i, Path::new("/nonexistent/log")),
        JobOutcome::PublishedElsewhere
    );
}

#[test]
fn scontrol_exit_1_is_failed_with_exit_code_and_reason() {
    let i = info(FAILED_EXIT1);
    assert_eq!((i.exit_code, i.signal), (1, 0));
    assert_eq!(i.reason, "NonZeroExitCode");
    let log = PathBuf::from("/nonexistent/log");
    assert_eq!(
        outcome_of("6", &i, &log),
        JobOutcome::Failed {
            reason: "slurm job 6 FAILED (exit code 1, reason NonZeroExitCode)".into(),
            log,
        }
    );
}

#[test]
fn scontrol_cancelled_running_job_is_failed_with_its_signal() {
    let i = info(CANCELLED_RUNNING);
    assert_eq!(i.state.0, "CANCELLED");
    assert_eq!((i.exit_code, i.signal), (0, 15));
    let JobOutcome::Failed { reason, .. } = outcome_of("13", &i, Path::new("/nonexistent")) else {
        panic!("a cancelled job is a failure");
    };
    assert_eq!(reason, "slurm job 13 CANCELLED (signal 15)");
}

#[test]
fn scontrol_cancelled_pending_job_keeps_the_pending_reason() {
    let i = info(CANCELLED_PENDING);
    assert_eq!(
        (i.state.0.as_str(), i.exit_code, i.signal),
        ("CANCELLED", 0, 0)
    );
    let JobOutcome::Failed { reason, .. } = outcome_of("8", &i, Path::new("/nonexistent")) else {
        panic!("a cancelled job is a failure, even with exit code 0");
    };
    assert_eq!(reason, "slurm job 8 CANCELLED (reason Resources)");
}

#[test]
fn scontrol_timeout_is_failed_with_time_limit() {
    let i = info(TIMEOUT);
    let JobOutcome::Failed { reason, .. } = outcome_of("9", &i, Path::new("/nonexistent")) else {
        panic!("a timed-out job is a failure");
    };
    assert_eq!(reason, "slurm job 9 TIMEOUT (signal 15, reason TimeLimit)");
}

#[test]
fn scontrol_killed_by_signal_is_failed() {
    let i = info(KILLED);
    assert_eq!(
        (i.state.0.as_str(), i.exit_code, i.signal),
        ("FAILED", 0, 9)
    );
    let JobOutcome::Failed { reason, .. } = outcome_of("10", &i, Path::new("/nonexistent")) else {
        panic!("a killed job is a failure");
    };
    assert_eq!(
        reason,
        "slurm job 10 FAILED (signal 9, reason JobLaunchFailure)"
    );
}

#[test]
fn scontrol_pending_job_is_not_final() {
    let i = info(PENDING);
    assert_eq!(i.state.0, "PENDING");
    assert!(!i.state.is_final());
}

#[test]
fn scontrol_one_line_output_with_spaces_in_the_job_name() {
    // `scontrol show job -o <id>`, which the executor runs.
    let i = info(ONE_LINE);
    assert_eq!(i.state.0, "CANCELLED");
    assert_eq!((i.exit_code, i.signal), (0, 15));
}

#[test]
fn scontrol_without_job_state_is_rejected() {
    assert_eq!(
        parse_scontrol("slurm_load_jobs error: Invalid job id specified"),
        None
    );
}

#[test]
fn node_failure_and_out_of_memory_are_failures() {
    for state in [
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "PREEMPTED",
        "DEADLINE",
    ] {
        let i = JobInfo {
            state: JobState(state.into()),
            exit_code: 0,
            signal: 0,
            reason: "None".into(),
        };
        assert!(i.state.is_final(), "{state}");
        let JobOutcome::Failed { reason, .. } = outcome_of("3", &i, Path::new("/nonexistent"))
        else {
            panic!("{state} is a failure");
        };
        assert_eq!(reason, format!("slurm job 3 {state}"));
    }
}

#[test]
fn failure_reason_ends_with_the_last_log_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("x.log");
    std::fs::write(
        &log,
        "@kdpipe {\"done\":1,\"total\":2}\nerror: failed to read dataset `a b`\n\n",
    )
    .expect("write log");
    let JobOutcome::Failed { reason, log: l } = outcome_of("6", &info(FAILED_EXIT1), &log) else {
        panic!("failure");
    };
    assert_eq!(
        reason,
        "slurm job 6 FAILED (exit code 1, reason NonZeroExitCode): error: failed to read dataset `a b`"
    );
    assert_eq!(l, log);
}

#[test]
fn exit_codes_parse_status_and_signal() {
    assert_eq!(parse_exit_code("0:0"), Some((0, 0)));
    assert_eq!(parse_exit_code("10:0"), Some((10, 0)));
    assert_eq!(parse_exit_code("0:15"), Some((0, 15)));
    assert_eq!(parse_exit_code("x:1"), None);
    assert_eq!(parse_exit_code("3"), None);
}

#[test]
fn sbatch_parsable_output() {
    assert_eq!(parse_sbatch("12\n").as_deref(), Some("12"));
    assert_eq!(parse_sbatch("12;cluster\n").as_deref(), Some("12"));
    assert_eq!(parse_sbatch("\n"), None);
    assert_eq!(parse_sbatch("sbatch: error: x\n"), None);
}

#[test]
fn progress_lines() {
    let p = parse_progress_line(r#"@kdpipe {"done":3,"total":10,"metrics":{"val_acc":0.5}}"#)
        .expect("progress line");
    assert_eq!((p.done, p.total), (3, 10));
    assert_eq!(p.metrics["val_acc"], 0.5);
    assert_eq!(parse_progress_line("epoch 3"), None);
    assert_eq!(parse_progress_line("@kdpipe not json"), None);
}

#[test]
fn output_pattern_escapes_percent() {
    assert_eq!(
        escape_output_pattern(Path::new("/s/logs/a%jb.log")),
        std::ffi::OsString::from("/s/logs/a%%jb.log")
    );
    assert_eq!(
        escape_output_pattern(Path::new("/s/with space/'q\".log")),
        std::ffi::OsString::from("/s/with space/'q\".log")
    );
}

#[test]
fn sbatch_arguments_are_one_vector_entry_per_value() {
    let mut config = SlurmConfig::new("/opt/kd pipe/bin/kdpipe", "/shared/my store");
    config.partition = Some("gpu part".into());
    config.account = Some("lab's".into());
    config.time = Some("1:00:00".into());
    config.extra_args = vec!["--qos=long".into()];
    let ex = SlurmExecutor::new(config);
    let mut spec = StageSpec {
        name: "student/x \"y\"/s0".into(),
        kind: "toy.square".into(),
        code_version: 1,
        params: Default::default(),
        upstream: Default::default(),
        inputs: Default::default(),
        input_root: None,
        resources: Default::default(),
    };
    spec.resources.gpu = 2;
    let args = ex.sbatch_args(
        &spec,
        &fp(),
        4,
        Path::new("/shared/my store/logs/x/r%1.log"),
        Path::new("/shared/my store/slurm/job.sh"),
        Path::new("/shared/my store"),
    );
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.into_string().expect("utf-8"))
        .collect();
    let fp = fp();
    let expected = [
        "--parsable",
        "--job-name=kdpipe-abababababab",
        "--output=/shared/my store/logs/x/r%%1.log",
        "--chdir=/shared/my store",
        "--cpus-per-task=4",
        "--partition=gpu part",
        "--account=lab's",
        "--time=1:00:00",
        "--gres=gpu:2",
        "--qos=long",
        "/shared/my store/slurm/job.sh",
        "/opt/kd pipe/bin/kdpipe",
        "exec-stage",
        fp.as_str(),
        "--store",
        "/shared/my store",
        "--threads",
        "4",
    ];
    assert_eq!(args, expected);
}

#[test]
fn configured_gres_wins_and_exclusive_is_passed() {
    let mut config = SlurmConfig::new("/k", "/s");
    config.gres = Some("gpu:a100:1".into());
    let ex = SlurmExecutor::new(config);
    let spec = StageSpec {
        name: "timing/x".into(),
        kind: "timing".into(),
        code_version: 1,
        params: Default::default(),
        upstream: Default::default(),
        inputs: Default::default(),
        input_root: None,
        resources: crate::spec::Resources {
            cpu: 1,
            gpu: 1,
            exclusive: true,
        },
    };
    let args: Vec<String> = ex
        .sbatch_args(
            &spec,
            &fp(),
            0,
            Path::new("/l"),
            Path::new("/j"),
            Path::new("/s"),
        )
        .into_iter()
        .map(|a| a.into_string().expect("utf-8"))
        .collect();
    assert!(args.contains(&"--gres=gpu:a100:1".to_owned()), "{args:?}");
    assert!(!args.contains(&"--gres=gpu:1".to_owned()), "{args:?}");
    assert!(args.contains(&"--exclusive".to_owned()), "{args:?}");
    assert!(args.contains(&"--cpus-per-task=1".to_owned()), "{args:?}");
}

#[test]
fn job_script_is_written_once_and_executable() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ex = SlurmExecutor::new(SlurmConfig::new("/k", dir.path()));
    let path = ex.job_script().expect("job script");
    assert_eq!(path, dir.path().join("slurm/job.sh"));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), JOB_SCRIPT);
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o111, 0o111);
    assert!(JOB_SCRIPT.ends_with("exec \"$@\"\n"));
}

#[test]
fn poll_with_no_jobs_returns_at_once() {
    let mut ex = SlurmExecutor::new(SlurmConfig::new("/k", "/s"));
    let t = Instant::now();
    assert_eq!(ex.poll(Duration::from_secs(5)).expect("poll"), Vec::new());
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn exit_2_is_bad_input_with_the_stage_reason_from_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("x.log");
    std::fs::write(
        &log,
        "@kdpipe-bad-input corrupt or unreadable image `a/x.png`: truncated\nstage x failed\n",
    )
    .expect("write log");
    let i = JobInfo {
        state: JobState("FAILED".into()),
        exit_code: 2,
        signal: 0,
        reason: "NonZeroExitCode".into(),
    };
    assert_eq!(
        outcome_of("7", &i, &log),
        JobOutcome::BadInput {
            reason: "corrupt or unreadable image `a/x.png`: truncated".into(),
            log: log.clone(),
        }
    );
    let JobOutcome::BadInput { reason, .. } = outcome_of("7", &i, Path::new("/nonexistent")) else {
        panic!("bad input");
    };
    assert_eq!(reason, "slurm job 7: bad input (exit code 2)");
}

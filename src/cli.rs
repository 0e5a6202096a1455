//! Command-line interface (clap derive). One subcommand per file in
//! `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "kdpipe",
    version,
    about = "Reproducible, cached knowledge-distillation studies",
    after_help = "Exit codes: 0 ok, 1 a stage failed, 2 bad input (experiment file, arguments, data), 130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Artifact store (default: ./artifacts).
    #[arg(long, global = true, env = "KDPIPE_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every stage of an experiment that is not cached.
    Run(RunArgs),
    /// Show which stages are cached and which will run, and why.
    Status(StatusArgs),
    /// Field-by-field difference between a stage's inputs now and its last run.
    Why(WhyArgs),
    /// Comparison tables across the sweep (accuracy, F1, explain time, ...).
    Compare(CompareArgs),
    /// Write the HTML report (tables, plots, explanations).
    Report(ReportArgs),
    /// Check a cached stage's files against its manifest, and a rerun against both.
    Verify(VerifyArgs),
    /// Two stages, or two experiments, side by side: inputs that differ, then metrics.
    Diff(DiffArgs),
    /// Each stage's state, fingerprint, size and folder in the store.
    Ls(LsArgs),
    /// The last published run of a stage: manifest summary, outputs, folder.
    Show(ShowArgs),
    /// Check every object of the store (hashes, manifests, staging, name links).
    Fsck(FsckArgs),
    /// Remove every object the given experiments do not plan and nobody pinned.
    Gc(GcArgs),
    /// Keep a stage's artifact through every `gc` (list pins with --list).
    Pin(PinArgs),
    /// Undo `pin`.
    Unpin(UnpinArgs),
    /// Built-in data sets.
    #[command(subcommand)]
    Data(DataCommand),
    /// Run one stage by fingerprint (used by the scheduler and cluster jobs).
    #[command(hide = true)]
    ExecStage(ExecStageArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecutorKind {
    Local,
    Slurm,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Experiment file (TOML).
    pub experiment: PathBuf,
    /// Run only these stages (names or globs, e.g. 'teacher/*') and what
    /// they need upstream. Default: every stage.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// CPU slots: stages run in parallel, one libtorch thread per slot.
    #[arg(short, long, value_name = "N", value_parser = at_least_one_job)]
    pub jobs: Option<usize>,
    /// Keep running everything not downstream of a failed stage.
    #[arg(long)]
    pub keep_going: bool,
    /// Rerun stages whose name matches this glob (`*` and `?`), even if cached.
    #[arg(long, value_name = "PATTERN")]
    pub force: Vec<String>,
    /// Print the plan and run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: the plan as JSON.
    #[arg(long, requires = "dry_run")]
    pub json: bool,
    /// Where stages run (default: the experiment's [executor] table, else local).
    #[arg(long, value_enum)]
    pub executor: Option<ExecutorKind>,
    /// Slurm partition.
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm account.
    #[arg(long)]
    pub account: Option<String>,
    /// Slurm time limit per stage job (e.g. 01:00:00).
    #[arg(long)]
    pub time: Option<String>,
    /// Slurm generic resources per job (e.g. gpu:1).
    #[arg(long)]
    pub gres: Option<String>,
    /// Plain line-per-event output instead of progress bars.
    #[arg(long)]
    pub plain: bool,
}

/// `--jobs 0` would run nothing; say so rather than quietly use 1.
fn at_least_one_job(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("--jobs must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("`{s}` is not a number of jobs: {e}")),
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    pub experiment: PathBuf,
    /// Only these stages (names or globs) and their upstream.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    pub experiment: PathBuf,
    /// Stage name (as shown by `status`).
    pub stage: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Markdown,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    pub experiment: PathBuf,
    /// Pivot a metric: temperature × depth, one table per dataset and alpha.
    #[arg(long, value_name = "METRIC")]
    pub pivot: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Sort rows by this column.
    #[arg(long, value_name = "COLUMN")]
    pub sort: Option<String>,
    /// Keep rows matching, e.g. 'depth<=2' (repeatable, all must hold).
    #[arg(long, value_name = "EXPR")]
    pub filter: Vec<String>,
    /// Hide columns that are constant across rows.
    #[arg(long)]
    pub only_changed: bool,
    /// The paired comparisons: each student against its control and the
    /// teacher (differences with paired intervals, McNemar, Holm, verdict).
    #[arg(long, conflicts_with_all = ["pivot", "grid", "seeds"])]
    pub comparisons: bool,
    /// Only the full sweep grid (exploratory), without the headline.
    #[arg(long, conflicts_with_all = ["pivot", "seeds"])]
    pub grid: bool,
    /// One row per trained model (every seed), with its Wilson interval.
    #[arg(long, conflicts_with = "pivot")]
    pub seeds: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    pub experiment: PathBuf,
    /// Output folder (default: <store>/reports/<experiment name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// `EXP STAGE_A STAGE_B` (two stages of one experiment, as `status`
    /// names them) or `EXP_A.toml EXP_B.toml` (two whole experiments).
    #[arg(num_args = 2..=3, required = true, value_name = "EXP STAGE_A STAGE_B | EXP_A EXP_B")]
    pub args: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    pub experiment: PathBuf,
    /// Only stages whose name matches one of these globs.
    #[arg(value_name = "PATTERN")]
    pub patterns: Vec<String>,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Experiments whose stages (as they plan today) are kept.
    #[arg(
        long = "keep",
        value_name = "EXP.toml",
        required_unless_present = "all_unpinned"
    )]
    pub keep: Vec<PathBuf>,
    /// Keep nothing but the pinned artifacts (and live runs' stages).
    #[arg(long, conflicts_with = "keep")]
    pub all_unpinned: bool,
    /// List what would be removed and the bytes freed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also remove all but the newest N run logs (`runs/*.jsonl`).
    #[arg(long, value_name = "N")]
    pub keep_runs: Option<usize>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PinArgs {
    /// Stage names (as `ls` shows them) or fingerprints (a unique prefix of
    /// at least 8 hex digits).
    #[arg(required_unless_present = "list")]
    pub stages: Vec<String>,
    /// List the pinned artifacts.
    #[arg(long, conflicts_with = "stages")]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct UnpinArgs {
    /// Stage names or fingerprints, as for `pin`.
    #[arg(required = true)]
    pub stages: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Stage name (as shown by `status` or `ls`).
    pub stage: String,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    pub experiment: PathBuf,
    pub stage: String,
}

#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 clean, 1 problems found (repaired or not), 2 bad input.")]
pub struct FsckArgs {
    /// Quarantine broken objects, remove stray staging folders and dangling links.
    #[arg(long)]
    pub repair: bool,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download and extract a built-in data set into the data cache.
    Fetch {
        /// Built-in data set name (brain-mri).
        name: String,
    },
    /// Print where built-in data sets are cached.
    Path,
}

#[derive(Debug, Args)]
pub struct ExecStageArgs {
    pub fingerprint: String,
    /// libtorch threads for this stage.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
}

//! `cargo xtask`: the thin command-line front of the pipeline runner. Everything it does is in
//! the `unmask-pipeline` crate; this file only parses arguments and prints results.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use unmask_pipeline::{RunOptions, Runner};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Run unmask pipelines (pipelines/*.yaml)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline: its stages in order, skipping those already up to date.
    Run {
        /// Pipeline name (pipelines/NAME.yaml) or a path to a pipeline file.
        pipeline: String,
        /// A preset of the pipeline file (its `presets:`), e.g. `--preset paper`; default:
        /// the file's `default_preset`. Other presets write to OUT/PIPELINE-PRESET/.
        #[arg(long)]
        preset: Option<String>,
        /// Override a stage parameter, e.g. --set faces.count=200 (repeatable); a variant
        /// alone: --set train-inpaint/gated.lr=0.0005.
        #[arg(long = "set", value_name = "STAGE.KEY=VALUE")]
        sets: Vec<String>,
        /// Output folder; stages write to OUT/PIPELINE/STAGE/.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Rerun every stage even if up to date.
        #[arg(long)]
        force: bool,
        /// Rerun only this stage, using the existing outputs of the stages it needs.
        #[arg(long, value_name = "STAGE", conflicts_with = "from")]
        only: Option<String>,
        /// Rerun this stage and every stage after it.
        #[arg(long, value_name = "STAGE")]
        from: Option<String>,
        /// Show what would run, with resolved parameters, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// If another run holds the output folder, wait for it to end instead of stopping.
        #[arg(long)]
        wait: bool,
    },
    /// List pipelines, datasets, experiments and stage kinds.
    List,
    /// Fetch, verify (sha256) and convert every pretrained weight file into the cache
    /// ($UNMASK_CACHE, default ~/.cache/unmask).
    FetchWeights,
    /// Run the criterion benchmarks (speed and memory figures live here, not in tests).
    Bench {
        /// Only benchmarks whose name contains this filter.
        filter: Option<String>,
    },
}

fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn main() -> ExitCode {
    unmask_core::malloc::keep_freed_buffers();
    unmask_core::logging::init();
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<ExitCode> {
    let cli = Cli::parse();
    let root = project_root();
    match cli.command {
        Command::List => {
            print!("{}", unmask_pipeline::catalog::listing(&root));
            Ok(ExitCode::SUCCESS)
        }
        Command::FetchWeights => {
            let store = unmask_weights::WeightStore::from_env()?;
            for (asset, path) in unmask_weights::fetch_all(&store)? {
                println!("{asset:?}: {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { filter } => {
            let mut cmd = std::process::Command::new(env!("CARGO"));
            // The dev profile optimises dependencies and the hot crates fully (see Cargo.toml), so the
            // benchmarks reuse the build that the pipelines and tests already made.
            cmd.current_dir(&root)
                .args(["bench", "--workspace", "--profile", "dev"]);
            if let Some(f) = filter {
                cmd.args(["--", &f]);
            }
            let status = cmd.status()?;
            Ok(if status.success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Run {
            pipeline,
            preset,
            sets,
            out,
            force,
            only,
            from,
            dry_run,
            wait,
        } => {
            let out = out.unwrap_or_else(|| root.join("runs"));
            let runner = Runner::new(&root, &out);
            let opts = RunOptions {
                sets,
                force,
                only,
                from,
                dry_run,
                preset,
                wait,
            };
            let summary = runner.run(&pipeline, &opts)?;
            println!("{}", summary.table());
            if let Some((stage, err)) = summary.failure() {
                eprintln!("error: stage `{stage}` failed: {err}");
                return Ok(ExitCode::FAILURE);
            }
            let alerts = summary.alerts();
            for (stage, alert) in &alerts {
                eprintln!("alert from stage `{stage}`: {alert}");
            }
            // A distinct code, so a scheduler can tell "regressed" from "crashed".
            Ok(if alerts.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
    }
}

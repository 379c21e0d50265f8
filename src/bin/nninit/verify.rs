//! `nninit verify`: every tensor of a file — or of every weights file of a checkpoint
//! directory, checked against its index, or of every rank file, checked against the manifest —
//! against its metadata, one row each.

use std::path::PathBuf;

use clap::Args;
use nninit::verify::{Report, VerifyOptions};
use nninit::{Error, Result};

#[derive(Args)]
pub struct VerifyArgs {
    /// The .safetensors file, a checkpoint directory (model.safetensors, or the shards its
    /// model.safetensors.index.json names), or a sharded run's directory (its rank files, checked
    /// against its manifest.json first).
    pub file: PathBuf,
    /// Check this many evenly spaced elements per tensor instead of all of them.
    #[arg(long)]
    pub sample: Option<u64>,
    /// Significance level of each statistical test.
    #[arg(long, default_value_t = nninit::verify::stats::DEFAULT_ALPHA)]
    pub alpha: f64,
    /// This process's rank: verify only its share of the files (default: from torchrun, Open MPI
    /// or Slurm; without any, every file).
    #[arg(long)]
    pub rank: Option<u64>,
    /// How many processes share the files (default: from the launcher).
    #[arg(long)]
    pub world_size: Option<u64>,
}

/// This process's share of `files` under a launcher (or `--rank/--world-size`): file `i` goes to
/// rank `i mod world size` — in a rank directory of the same world size, each rank its own file.
/// Without a launch, every file.
fn share(args: &VerifyArgs, files: Vec<PathBuf>) -> Result<Vec<PathBuf>> {
    let launch = nninit::model::parallel::launcher::detect(args.rank, args.world_size, |name| {
        std::env::var(name).ok()
    })?;
    let Some(launch) = launch.filter(|l| l.world_size > 1 || args.rank.is_some()) else {
        return Ok(files);
    };
    let total = files.len();
    let mine: Vec<PathBuf> = files
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i as u64 % launch.world_size == launch.rank)
        .map(|(_, f)| f)
        .collect();
    eprintln!(
        "nninit: rank {} of {} ({}): verifying {} of {total} files",
        launch.rank,
        launch.world_size,
        launch.source,
        mine.len()
    );
    Ok(mine)
}

/// Prints one row per tensor; `Ok(false)` when any tensor fails, or the files come from
/// different runs.
pub fn run(args: VerifyArgs) -> Result<bool> {
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(Error::invalid("alpha", args.alpha, "must be in (0, 1)"));
    }
    if args.sample == Some(0) {
        return Err(Error::invalid("sample", 0, "must be ≥ 1"));
    }
    let options = VerifyOptions {
        alpha: args.alpha,
        sample: args.sample,
    };
    // A file that cannot be read is not one nninit can verify: a usage error (exit 2).
    let unreadable = |error| match error {
        Error::Io { path, source } => Error::invalid(
            "file",
            path,
            format!("an existing, readable .safetensors file ({source})"),
        ),
        other => other,
    };
    // Every process checks the index or the manifest against the files (headers only).
    let all = nninit::model::checkpoint::files_to_verify(&args.file).map_err(unreadable)?;
    let files = share(&args, all)?;
    // Files of different runs are not one checkpoint, however well each matches its metadata.
    let mixed = nninit::model::checkpoint::mixed_runs(&files).map_err(unreadable)?;
    if let Some(groups) = &mixed {
        eprintln!(
            "nninit: {}: files of different runs, not one checkpoint: {groups}",
            args.file.display()
        );
    }
    let mut reports = Vec::new();
    for file in &files {
        reports.extend(nninit::verify::verify_file(file, &options).map_err(unreadable)?);
    }
    println!(
        "{:<40} {:<44} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9}  verdict",
        "tensor", "scheme", "n", "worst |Δ|", "KS p", "AD p", "χ² p", "moment p"
    );
    let p_of = |report: &Report, name: &str| {
        report
            .tests
            .iter()
            .find(|t| t.name == name)
            .map_or("-".to_string(), |t| format!("{:.2e}", t.p_value))
    };
    for report in &reports {
        let moments = report
            .tests
            .iter()
            .filter(|t| {
                !matches!(
                    t.name,
                    "kolmogorov-smirnov" | "anderson-darling" | "chi-squared"
                )
            })
            .map(|t| t.p_value)
            .reduce(f64::min)
            .map_or("-".to_string(), |p| format!("{p:.2e}"));
        println!(
            "{:<40} {:<44} {:>10} {:>10.2e} {:>9} {:>9} {:>9} {:>9}  {}",
            report.name,
            report.spec,
            report.checked,
            report.worst_difference,
            p_of(report, "kolmogorov-smirnov"),
            p_of(report, "anderson-darling"),
            p_of(report, "chi-squared"),
            moments,
            if report.passed() { "pass" } else { "FAIL" }
        );
    }
    let failed = reports.iter().filter(|r| !r.passed()).count();
    println!(
        "{} tensors in {} file{}, {} passed, {failed} failed",
        reports.len(),
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        reports.len() - failed
    );
    Ok(failed == 0 && mixed.is_none())
}

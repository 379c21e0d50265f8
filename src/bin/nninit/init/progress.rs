//! What a run shows: a progress bar on a terminal, and the summary of each file written.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use nninit::model::init::InitSummary;

pub fn progress_bar(tensors: usize) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(tensors as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} tensors")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    })
}

pub fn advance(bar: &Option<ProgressBar>, done: usize, total: usize) {
    if let Some(bar) = bar {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }
}

pub fn finish(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// The run's one-line account and its per-scheme table.
pub fn print_summary(place: &str, summary: &InitSummary, on_gpu: bool) {
    println!(
        "{place}: {} tensors, {} parameters, {:.1} MB in {:.2} s: drawing {:.2} s on the {} and \
         writing {:.2} s, side by side",
        summary.tensors,
        summary.parameters,
        summary.bytes as f64 / 1e6,
        summary.total_time.as_secs_f64(),
        summary.draw_time.as_secs_f64(),
        if on_gpu { "GPU" } else { "CPU" },
        summary.write_time.as_secs_f64(),
    );
    println!(
        "{:<72} {:>8} {:>12} {:>12} {:>12}",
        "scheme", "tensors", "elements", "expected std", "measured std"
    );
    for scheme in &summary.schemes {
        let expected = scheme
            .expected_std
            .map_or("-".to_string(), |s| format!("{s:.6}"));
        println!(
            "{:<72} {:>8} {:>12} {:>12} {:>12.6}",
            scheme.spec, scheme.tensors, scheme.elements, expected, scheme.measured_std
        );
    }
}

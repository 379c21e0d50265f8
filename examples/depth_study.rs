//! The library calls behind `nninit study`: the seed notes' 100-layer experiment, weights
//! initialized by nninit on the GPU, with the summary table and `study.json` (the SVG chart is
//! the `nninit` binary's: plotting is not part of the library).
//!
//! `cargo run --release --example depth_study [OUT_DIR]`

use std::path::PathBuf;

use nninit::model::study::{run_study, summary_table, write_json};
use nninit::{Backend, GpuContext};

fn main() -> nninit::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(std::env::temp_dir, PathBuf::from);
    let gpu = GpuContext::new()?;
    let cases = run_study(Backend::Gpu(&gpu), 0)?;
    print!("{}", summary_table(&cases));
    write_json(&cases, &dir.join("study.json"))?;
    println!("wrote {}", dir.join("study.json").display());
    Ok(())
}

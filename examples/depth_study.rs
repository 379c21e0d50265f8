//! The library calls behind `nninit study`: the seed notes' 100-layer experiment, weights
//! initialized by nninit on the GPU, with the summary table, `study.json` and `study.svg`.
//!
//! `cargo run --release --example depth_study [OUT_DIR]`

use std::path::PathBuf;

use nninit::GpuContext;
use nninit::draw::Backend;
use nninit::study::{run_study, summary_table, write_json, write_svg};

fn main() -> nninit::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(std::env::temp_dir, PathBuf::from);
    let gpu = GpuContext::new()?;
    let cases = run_study(Backend::Gpu(&gpu), 0)?;
    print!("{}", summary_table(&cases));
    write_json(&cases, &dir.join("study.json"))?;
    write_svg(&cases, &dir.join("study.svg"))?;
    println!(
        "wrote {} and {}",
        dir.join("study.json").display(),
        dir.join("study.svg").display()
    );
    Ok(())
}

//! The library calls behind `nninit study`: the seed notes' 100-layer experiment, weights
//! initialized by nninit on the GPU, with the summary table and `study.json` (the SVG chart is
//! the `nninit` binary's: plotting is not part of the library).
//!
//! `cargo run --release --example depth_study [OUT_DIR]`

use std::path::PathBuf;

use nninit::model::study::{DEPTH, run_study, summary_table, write_json};
use nninit::{Backend, GpuContext};

fn main() -> nninit::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(std::env::temp_dir, PathBuf::from);
    let gpu = GpuContext::new()?;
    let cases = run_study(Backend::Gpu(&gpu), 0)?;
    print!("{}", summary_table(&cases));
    // The notes' story at layer 100: naive tanh and Xavier under ReLU vanish, Xavier tanh and
    // Kaiming ReLU keep their scale.
    for (name, low, high) in [
        ("tanh_naive", 0.0, 1e-20),
        ("tanh_xavier", 0.01, 1.0),
        ("relu_xavier", 0.0, 1e-10),
        ("relu_kaiming", 0.1, 10.0),
    ] {
        let case = cases.iter().find(|c| c.name == name).expect("every case");
        let last = case.layers.last().expect("layers");
        assert_eq!(last.layer, DEPTH);
        assert!(
            low < last.std && last.std <= high,
            "{name}: std {:e} at layer {DEPTH} outside ({low:e}, {high:e}]",
            last.std
        );
    }
    write_json(&cases, &dir.join("study.json"))?;
    println!("wrote {}", dir.join("study.json").display());
    Ok(())
}

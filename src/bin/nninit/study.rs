//! `nninit study`: the depth experiment's table, `study.json` and `study.svg`.

use std::path::PathBuf;

use clap::Args;
use nninit::model::study::{run_study, summary_table, write_json};
use nninit::{Error, Result};

use crate::device::{Device, backend};

#[derive(Args)]
pub struct StudyArgs {
    /// Directory for study.svg and study.json.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to draw: auto (a hardware GPU if there is one, else the CPU reference), gpu or cpu.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
}

pub fn run(args: StudyArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out).map_err(|source| {
        Error::invalid(
            "out",
            args.out.display(),
            format!("a directory nninit can create or write to ({source})"),
        )
    })?;
    let gpu = args.device.open()?;
    let cases = run_study(backend(&gpu), args.seed)?;
    print!("{}", summary_table(&cases));
    let (json, svg) = (args.out.join("study.json"), args.out.join("study.svg"));
    write_json(&cases, &json)?;
    crate::svg::write_svg(&cases, &svg)?;
    println!("wrote {} and {}", svg.display(), json.display());
    Ok(())
}

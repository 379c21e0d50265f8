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
    #[arg(long, value_enum, default_value_t = Device::Gpu)]
    pub device: Device,
}

pub fn run(args: StudyArgs) -> Result<()> {
    if !args.out.is_dir() {
        return Err(Error::invalid(
            "out",
            args.out.display(),
            "an existing directory",
        ));
    }
    let gpu = args.device.open()?;
    let cases = run_study(backend(&gpu), args.seed)?;
    print!("{}", summary_table(&cases));
    let (json, svg) = (args.out.join("study.json"), args.out.join("study.svg"));
    write_json(&cases, &json)?;
    crate::svg::write_svg(&cases, &svg)?;
    println!("wrote {} and {}", svg.display(), json.display());
    Ok(())
}

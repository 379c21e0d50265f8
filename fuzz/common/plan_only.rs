//! Planning a job without drawing it: `run_split` plans and validates every tensor (its scheme,
//! its part, its record) before any work, then asks where the files go; answering with an error
//! stops it there, before a value is drawn or a file is touched.

use nninit::model::checkpoint::{DEFAULT_MAX_SHARD_SIZE, shard_names, split_sizes};
use nninit::model::init::{InitJob, run_split};
use nninit::model::safetensors::TensorRecord;
use nninit::{Backend, Error, Result};

/// The error that stops a run after planning.
const STOP: &str = "fuzz: planned, stopping before drawing";

/// Plans every tensor of `job` as `nninit init` does before drawing, and splits the records into
/// checkpoint shards as `--config` does; `Err` when planning fails.
pub fn plan(job: &InitJob) -> Result<()> {
    let result = run_split(
        Backend::Cpu,
        job,
        |records: &[TensorRecord]| {
            assert_eq!(records.len(), job.tensors.len(), "one record per tensor");
            let sizes = records
                .iter()
                .map(TensorRecord::byte_len)
                .collect::<Result<Vec<u64>>>()?;
            let counts = split_sizes(&sizes, DEFAULT_MAX_SHARD_SIZE);
            assert_eq!(counts.iter().sum::<usize>(), records.len());
            assert_eq!(shard_names(counts.len()).len(), counts.len());
            Err(Error::invalid("fuzz", "stop", STOP))
        },
        |_, _| {},
    );
    match result {
        Ok(_) => panic!("run_split went past planning"),
        Err(Error::InvalidParameter { allowed, .. }) if allowed == STOP => Ok(()),
        Err(error) => Err(error),
    }
}

//! Timing: every case of a comparison run in turn, round after round, reported as median, min
//! and max with the CPU time the process used.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use nninit::{Dtype, Error, Result};

/// One measured configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    /// Unique name, e.g. `gpu_normal_f32_16M`.
    pub name: String,
    /// `gpu`, `cpu_1t` (CPU reference on one thread), `cpu_all` (all threads), `rand_distr`
    /// (the peer, one thread), `host_1t`/`host_all` (memory fill) or `model`.
    pub device: String,
    /// `uniform`, `normal`, `trunc_normal`, `constant`, `index` (each element its index), `clear`
    /// (wgpu `clear_buffer`), `copy`
    /// (`copy_buffer_to_buffer`), `memset`.
    pub dist: String,
    /// `f32`, `f16` or `bf16`.
    pub dtype: String,
    /// The instructions a CPU row computes with (`AVX-512`, `AVX2`, `SSE2`, `NEON`; `libc` for
    /// memset, which the C library picks at run time); `None` for the GPU's.
    pub isa: Option<String>,
    /// Elements written per run.
    pub elements: u64,
    /// Median seconds per run.
    pub median_s: f64,
    /// Fastest run.
    pub min_s: f64,
    /// Slowest run.
    pub max_s: f64,
    /// `elements / median_s`.
    pub elements_per_s: f64,
    /// Bytes written per second at the median (`elements · dtype size / median_s`), in 1e9 B/s.
    pub gb_per_s: f64,
    /// Median CPU seconds the whole process used during a run (all threads, lavapipe's
    /// included; from `/proc/self/task/*/schedstat`, `None` elsewhere). On a shared machine
    /// this shows the work a fill costs, whatever share of the cores it was given.
    pub cpu_s: Option<f64>,
}

/// CPU time used so far by every thread of this process, in seconds (Linux).
fn process_cpu_seconds() -> Option<f64> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let mut ns = 0u64;
    for task in tasks {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(ns as f64 * 1e-9)
}

/// Runs per measurement.
pub const RUNS: usize = 5;
/// One configuration to time: its row's labels and the work of one run.
pub struct Case<'a> {
    name: String,
    device: &'static str,
    dist: &'static str,
    dtype: Dtype,
    elements: u64,
    isa: Option<String>,
    run: Box<dyn FnMut() -> Result<()> + 'a>,
}

impl<'a> Case<'a> {
    pub fn new(
        name: String,
        device: &'static str,
        dist: &'static str,
        dtype: Dtype,
        elements: u64,
        run: impl FnMut() -> Result<()> + 'a,
    ) -> Self {
        Self {
            name,
            device,
            dist,
            dtype,
            elements,
            isa: None,
            run: Box::new(run),
        }
    }

    /// The case runs on the CPU, with the instructions `isa` names.
    pub fn on(mut self, isa: &str) -> Self {
        self.isa = Some(isa.to_string());
        self
    }
}

/// Runs every case once untimed, then `RUNS` rounds in which each case runs once, in turn: the
/// cases that are compared see the same load on a shared machine (side by side, not one after
/// the other).
pub fn measure(mut cases: Vec<Case<'_>>, rows: &mut Vec<BenchRow>) -> Result<()> {
    for case in &mut cases {
        (case.run)()?;
    }
    let mut times = vec![Vec::with_capacity(RUNS); cases.len()];
    let mut cpu = vec![Vec::with_capacity(RUNS); cases.len()];
    for _ in 0..RUNS {
        for ((case, times), cpu) in cases.iter_mut().zip(&mut times).zip(&mut cpu) {
            // Let the previous case's threads go idle (rayon's workers spin a little after a
            // parallel loop) so they do not take cores from this one.
            std::thread::sleep(Duration::from_millis(5));
            let cpu_before = process_cpu_seconds();
            let start = Instant::now();
            (case.run)()?;
            times.push(start.elapsed());
            if let (Some(before), Some(after)) = (cpu_before, process_cpu_seconds()) {
                cpu.push(after - before);
            }
        }
    }
    for ((case, times), cpu) in cases.iter().zip(&times).zip(&mut cpu) {
        let mut row = row(
            case.name.clone(),
            case.device,
            case.dist,
            case.dtype,
            case.elements,
            times,
        );
        row.isa = case.isa.clone();
        if cpu.len() == times.len() {
            cpu.sort_by(f64::total_cmp);
            row.cpu_s = Some(cpu[cpu.len() / 2]);
        }
        rows.push(row);
    }
    Ok(())
}

fn row(
    name: String,
    device: &str,
    dist: &str,
    dtype: Dtype,
    elements: u64,
    times: &[Duration],
) -> BenchRow {
    let mut secs: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
    secs.sort_by(f64::total_cmp);
    let median = if secs.len() % 2 == 1 {
        secs[secs.len() / 2]
    } else {
        (secs[secs.len() / 2 - 1] + secs[secs.len() / 2]) / 2.0
    };
    let elements_per_s = elements as f64 / median;
    BenchRow {
        name,
        device: device.to_string(),
        dist: dist.to_string(),
        dtype: dtype.name().to_string(),
        elements,
        median_s: median,
        min_s: secs[0],
        max_s: secs[secs.len() - 1],
        elements_per_s,
        gb_per_s: elements_per_s * dtype.size_bytes() as f64 / 1e9,
        isa: None,
        cpu_s: None,
    }
}

/// The host buffer a CPU case writes into (the cases share one per size).
pub fn lock<T>(buffer: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>> {
    buffer
        .lock()
        .map_err(|_| Error::invalid("bench", "buffer", "poisoned"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread() {
        let times: Vec<Duration> = [3, 1, 2, 5, 4].map(Duration::from_millis).to_vec();
        let r = row("x".into(), "gpu", "normal", Dtype::F16, 1000, &times);
        assert_eq!((r.median_s, r.min_s, r.max_s), (0.003, 0.001, 0.005));
        assert!((r.gb_per_s - 1000.0 / 0.003 * 2.0 / 1e9).abs() < 1e-12);
    }
}

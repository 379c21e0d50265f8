//! `nninit bench`: GPU fills, the same adapter's write ceiling, the CPU reference, the peer a Rust
//! user would pick (`rand` + `rand_distr`) and host memory bandwidth, measured side by side in one
//! run on this machine.
//!
//! Only the fill is timed. GPU: pipelines compiled, destination buffers created and filled once
//! (so wgpu's lazy zero-fill and the first touch of fresh memory are paid before timing), then
//! each run records the fill into a fresh encoder, submits it and waits for the device. CPU:
//! preallocated, already touched output. Every measurement is repeated (at least 5 runs) and
//! reported as median, min and max; the runs of the cases that are compared alternate (each
//! round runs every case of one size once), so they see the same load on a shared machine.
//!
//! The model benchmark initializes a model of 300 tensors of 1k to 4M elements (deterministic
//! sizes, one GPU buffer each, written nowhere else: the values stay in the GPU buffers) with
//! [`crate::FillKernels::record_fill_batch`] (one encoder, one submit) and compares it with one
//! fill of the same total size.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::gpu::{Destination, FillRequest, GpuContext};
use crate::sampler::Sampler;
use crate::stream::StreamId;

/// One measured configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    /// Unique name, e.g. `gpu_normal_f32_16M`.
    pub name: String,
    /// `gpu`, `cpu_1t` (CPU reference on one thread), `cpu_all` (all threads), `rand_distr`
    /// (the peer, one thread), `host_1t`/`host_all` (memory fill) or `model`.
    pub device: String,
    /// `uniform`, `normal`, `trunc_normal`, `constant`, `clear` (wgpu `clear_buffer`), `copy`
    /// (`copy_buffer_to_buffer`), `memset`.
    pub dist: String,
    /// `f32`, `f16` or `bf16`.
    pub dtype: String,
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

/// The rows of one run, the ratios the targets are stated in, and what was measured on.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Every measurement.
    pub rows: Vec<BenchRow>,
    /// Named ratios of medians (throughput over throughput, or time over time for `model_*`);
    /// see [`run`].
    pub ratios: BTreeMap<String, f64>,
    /// The adapter, as wgpu describes it.
    pub adapter: String,
    /// Whether the device has `SHADER_INT64` enabled (the kernels then use 64-bit multiplies).
    pub shader_int64: bool,
    /// Threads of the "all threads" CPU measurements.
    pub threads: usize,
    /// UTC date of the run, `YYYY-MM-DD`.
    pub date: String,
    /// Whether this was a `--quick` run.
    pub quick: bool,
}

/// Runs per measurement.
const RUNS: usize = 5;
/// Elements of the sizes measured.
const M: u64 = 1 << 20;

/// Runs the benchmark on the default GPU context ([`GpuContext::new`]): 1M, 16M and 64M
/// elements, or 1M and 16M with `quick` (well under a minute on two cores with lavapipe).
///
/// Ratios (all at 16M elements, f32, from medians):
/// `gpu_normal_f32_vs_constant`, `gpu_uniform_f32_vs_constant`, `gpu_trunc_normal_f32_vs_constant`
/// (GPU fill over the adapter's constant fill), `gpu_constant_f32_vs_clear` (constant kernel over
/// wgpu's `clear_buffer`), `gpu_normal_f32_vs_copy` (over a buffer-to-buffer copy of the same
/// size, bytes written per second: the real-GPU target is ≥ 0.8), `gpu_normal_f32_vs_rand_distr`, `gpu_uniform_f32_vs_rand_distr`,
/// `cpu_normal_f32_all_threads_vs_rand_distr`, `cpu_uniform_f32_all_threads_vs_rand_distr`,
/// `cpu_normal_f32_1t_vs_rand_distr`, `gpu_normal_f32_vs_cpu_all_threads`,
/// `gpu_normal_f32_vs_host_memset` (over the host's all-thread fill bandwidth in bytes),
/// `gpu_normal_f16_vs_f32` (elements per second), `model_init_vs_single_fill` (time of the
/// 300-tensor model over one fill of the same total; the target is ≤ 2),
/// `gpu_fresh_buffer_vs_warm` (time of a fill into a freshly created buffer, including wgpu's
/// zero-fill and the first touch of its memory, over the same fill into a warm buffer).
pub fn run(quick: bool) -> Result<BenchReport> {
    let gpu = GpuContext::new()?;
    run_on(&gpu, quick)
}

/// [`run`] on a context the caller made (for instance one whose device has `SHADER_INT64`).
pub fn run_on(gpu: &GpuContext, quick: bool) -> Result<BenchReport> {
    let sizes: Vec<(&str, u64)> = if quick {
        vec![("1M", M), ("16M", 16 * M)]
    } else {
        vec![("1M", M), ("16M", 16 * M), ("64M", 64 * M)]
    };
    let mut rows = Vec::new();
    for &(label, n) in &sizes {
        size_rows(gpu, label, n, &mut rows)?;
    }
    fresh_buffer_rows(gpu, 16 * M, &mut rows)?;
    model_rows(gpu, &mut rows)?;
    let ratios = ratios(&rows);
    let info = gpu.adapter_info();
    Ok(BenchReport {
        rows,
        ratios,
        adapter: format!("{} ({:?}, {})", info.name, info.backend, info.driver_info),
        shader_int64: gpu
            .device()
            .features()
            .contains(wgpu::Features::SHADER_INT64),
        threads: rayon::current_num_threads(),
        date: utc_date(),
        quick,
    })
}

/// The samplers every benchmark compares (the criterion benches use the same set), by name.
pub fn samplers() -> [(&'static str, Sampler); 4] {
    [
        (
            "uniform",
            Sampler::Uniform {
                low: -0.1,
                high: 0.1,
            },
        ),
        (
            "normal",
            Sampler::Normal {
                mean: 0.0,
                std: 0.02,
            },
        ),
        (
            "trunc_normal",
            Sampler::TruncNormal {
                mean: 0.0,
                std: 0.02,
                low: -0.04,
                high: 0.04,
            },
        ),
        ("constant", Sampler::Constant { value: 0.5 }),
    ]
}

/// One configuration to time: its row's labels and the work of one run.
struct Case<'a> {
    name: String,
    device: &'static str,
    dist: &'static str,
    dtype: Dtype,
    elements: u64,
    run: Box<dyn FnMut() -> Result<()> + 'a>,
}

impl<'a> Case<'a> {
    fn new(
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
            run: Box::new(run),
        }
    }
}

/// Runs every case once untimed, then `RUNS` rounds in which each case runs once, in turn: the
/// cases that are compared see the same load on a shared machine (side by side, not one after
/// the other).
fn measure(mut cases: Vec<Case<'_>>, rows: &mut Vec<BenchRow>) -> Result<()> {
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
        cpu_s: None,
    }
}

/// The host buffer a CPU case writes into (the cases share one per size).
fn lock<T>(buffer: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>> {
    buffer
        .lock()
        .map_err(|_| Error::invalid("bench", "buffer", "poisoned"))
}

fn storage_buffer(gpu: &GpuContext, bytes: u64) -> wgpu::Buffer {
    gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("nninit bench"),
        size: bytes.next_multiple_of(4),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

fn wait(gpu: &GpuContext) -> Result<()> {
    gpu.device()
        .poll(wgpu::PollType::wait_indefinitely())
        .map(drop)
        .map_err(|e| Error::gpu("bench", e))
}

/// Records `requests` into one encoder, submits and waits.
fn gpu_batch(gpu: &GpuContext, requests: &[FillRequest<'_>]) -> Result<()> {
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    gpu.kernels()
        .record_fill_batch(gpu.device(), &mut encoder, requests)?;
    gpu.queue().submit([encoder.finish()]);
    wait(gpu)
}

fn gpu_fill(
    gpu: &GpuContext,
    buffer: &wgpu::Buffer,
    sampler: &Sampler,
    n: u64,
    dtype: Dtype,
) -> Result<()> {
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    gpu.kernels().record_fill_dtype(
        gpu.device(),
        &mut encoder,
        Destination {
            buffer,
            byte_offset: 0,
        },
        sampler,
        StreamId::new(0, 0),
        0..n,
        dtype,
    )?;
    gpu.queue().submit([encoder.finish()]);
    wait(gpu)
}

/// Every GPU, CPU, peer and host case of one size, measured side by side.
fn size_rows(gpu: &GpuContext, label: &str, n: u64, rows: &mut Vec<BenchRow>) -> Result<()> {
    let buffer = storage_buffer(gpu, 4 * n);
    let buffer = &buffer;
    // The source of a buffer-to-buffer copy of the same size: the device's copy bandwidth
    // (`gpu_copy_*` reads and writes the bytes; the row counts the bytes written, like the fills).
    let source = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("nninit bench copy source"),
        size: 4 * n,
        usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let source = &source;
    let len = n as usize;
    let out = Mutex::new(vec![0.0f32; len]);
    let out16 = Mutex::new(vec![0u16; len]);
    let (out, out16) = (&out, &out16);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| Error::invalid("threads", 1, e.to_string()))?;
    let one = &one;
    let stream = StreamId::new(0, 0);
    let mut cases = Vec::new();
    for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
        for (dist, sampler) in samplers() {
            cases.push(Case::new(
                format!("gpu_{dist}_{}_{label}", dtype.name()),
                "gpu",
                dist,
                dtype,
                n,
                move || gpu_fill(gpu, buffer, &sampler, n, dtype),
            ));
        }
    }
    // wgpu's clear_buffer (vkCmdFillBuffer on Vulkan): the adapter's own memory fill.
    cases.push(Case::new(
        format!("gpu_clear_f32_{label}"),
        "gpu",
        "clear",
        Dtype::F32,
        n,
        move || {
            let mut encoder = gpu.device().create_command_encoder(&Default::default());
            encoder.clear_buffer(buffer, 0, Some(4 * n));
            gpu.queue().submit([encoder.finish()]);
            wait(gpu)
        },
    ));
    cases.push(Case::new(
        format!("gpu_copy_f32_{label}"),
        "gpu",
        "copy",
        Dtype::F32,
        n,
        move || {
            let mut encoder = gpu.device().create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(source, 0, buffer, 0, 4 * n);
            gpu.queue().submit([encoder.finish()]);
            wait(gpu)
        },
    ));
    for (dist, sampler) in samplers() {
        if dist == "constant" {
            continue;
        }
        let fill = move || -> Result<()> {
            let mut out = lock(out)?;
            crate::cpu::fill(&sampler, stream, 0, &mut out)?;
            black_box(&mut out);
            Ok(())
        };
        cases.push(Case::new(
            format!("cpu_1t_{dist}_f32_{label}"),
            "cpu_1t",
            dist,
            Dtype::F32,
            n,
            move || one.install(fill),
        ));
        cases.push(Case::new(
            format!("cpu_all_{dist}_f32_{label}"),
            "cpu_all",
            dist,
            Dtype::F32,
            n,
            fill,
        ));
        cases.push(Case::new(
            format!("cpu_all_{dist}_bf16_{label}"),
            "cpu_all",
            dist,
            Dtype::Bf16,
            n,
            move || {
                let mut out16 = lock(out16)?;
                crate::cpu::fill_bits(&sampler, stream, 0, Dtype::Bf16, &mut out16)?;
                black_box(&mut out16);
                Ok(())
            },
        ));
    }
    // The peer: rand + rand_distr on one thread, as a Rust user would write it.
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0);
    cases.push(Case::new(
        format!("rand_distr_normal_f32_{label}"),
        "rand_distr",
        "normal",
        Dtype::F32,
        n,
        move || {
            let mut out = lock(out)?;
            for x in out.iter_mut() {
                *x = rng.sample(rand_distr::StandardNormal);
            }
            black_box(&mut out);
            Ok(())
        },
    ));
    let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
    cases.push(Case::new(
        format!("rand_distr_uniform_f32_{label}"),
        "rand_distr",
        "uniform",
        Dtype::F32,
        n,
        move || {
            let mut out = lock(out)?;
            for x in out.iter_mut() {
                *x = rng.sample(rand::distr::StandardUniform);
            }
            black_box(&mut out);
            Ok(())
        },
    ));
    // Host memory fill bandwidth: the physical limit of writing this many bytes.
    cases.push(Case::new(
        format!("host_1t_memset_f32_{label}"),
        "host_1t",
        "memset",
        Dtype::F32,
        n,
        move || {
            let mut out = lock(out)?;
            black_box(&mut out[..]).fill(0.0);
            black_box(&mut out);
            Ok(())
        },
    ));
    cases.push(Case::new(
        format!("host_all_memset_f32_{label}"),
        "host_all",
        "memset",
        Dtype::F32,
        n,
        move || {
            let mut out = lock(out)?;
            black_box(&mut out[..])
                .par_chunks_mut(1 << 16)
                .for_each(|chunk| chunk.fill(0.0));
            black_box(&mut out);
            Ok(())
        },
    ));
    measure(cases, rows)
}

/// A normal f32 fill into a buffer created just before it (so the time includes wgpu's zero-fill
/// of the fresh buffer and the first touch of its memory) and a `clear_buffer` of a fresh buffer,
/// against the same normal fill into a warm buffer, side by side.
fn fresh_buffer_rows(gpu: &GpuContext, n: u64, rows: &mut Vec<BenchRow>) -> Result<()> {
    let sampler = Sampler::Normal {
        mean: 0.0,
        std: 0.02,
    };
    let warm = storage_buffer(gpu, 4 * n);
    let warm = &warm;
    let cases = vec![
        Case::new(
            "gpu_fresh_buffer_normal_f32_16M".to_string(),
            "gpu",
            "normal",
            Dtype::F32,
            n,
            move || {
                let buffer = storage_buffer(gpu, 4 * n);
                gpu_fill(gpu, &buffer, &sampler, n, Dtype::F32)
            },
        ),
        Case::new(
            "gpu_fresh_buffer_clear_f32_16M".to_string(),
            "gpu",
            "clear",
            Dtype::F32,
            n,
            move || {
                let buffer = storage_buffer(gpu, 4 * n);
                let mut encoder = gpu.device().create_command_encoder(&Default::default());
                encoder.clear_buffer(&buffer, 0, None);
                gpu.queue().submit([encoder.finish()]);
                wait(gpu)
            },
        ),
        Case::new(
            "gpu_warm_buffer_normal_f32_16M".to_string(),
            "gpu",
            "normal",
            Dtype::F32,
            n,
            move || gpu_fill(gpu, warm, &sampler, n, Dtype::F32),
        ),
    ];
    measure(cases, rows)
}

/// Element counts of the 300 tensors of the model benchmark: log-uniform from 1,000 to 4,000,000
/// in a fixed, scrambled order (golden-ratio sequence), so the total is about 1.5e8.
pub fn model_tensor_sizes() -> Vec<u64> {
    (0..300u32)
        .map(|i| {
            let frac = (f64::from(i) * 0.618_033_988_749_894_9).fract();
            (1000.0 * 4000f64.powf(frac)).round() as u64
        })
        .collect()
}

fn model_rows(gpu: &GpuContext, rows: &mut Vec<BenchRow>) -> Result<()> {
    let sizes = model_tensor_sizes();
    let total: u64 = sizes.iter().sum();
    let sampler = Sampler::Normal {
        mean: 0.0,
        std: 0.02,
    };
    let buffers: Vec<wgpu::Buffer> = sizes.iter().map(|&n| storage_buffer(gpu, 4 * n)).collect();
    let streams: Vec<StreamId> = (0..sizes.len())
        .map(|i| StreamId::named(0, &format!("layers.{i}.weight")))
        .collect();
    let requests: Vec<FillRequest<'_>> = buffers
        .iter()
        .zip(&sizes)
        .zip(&streams)
        .map(|((buffer, &n), &stream)| FillRequest {
            dst: Destination {
                buffer,
                byte_offset: 0,
            },
            sampler,
            stream,
            elements: 0..n,
            dtype: Dtype::F32,
        })
        .collect();
    let requests = &requests;
    let single = storage_buffer(gpu, 4 * total);
    let single = &single;
    let cases = vec![
        Case::new(
            "model_300_tensors_normal_f32".to_string(),
            "model",
            "normal",
            Dtype::F32,
            total,
            move || gpu_batch(gpu, requests),
        ),
        Case::new(
            "model_single_fill_normal_f32".to_string(),
            "gpu",
            "normal",
            Dtype::F32,
            total,
            move || gpu_fill(gpu, single, &sampler, total, Dtype::F32),
        ),
    ];
    measure(cases, rows)
}

fn ratios(rows: &[BenchRow]) -> BTreeMap<String, f64> {
    let rate = |name: &str| {
        rows.iter()
            .find(|r| r.name == name)
            .map(|r| r.elements_per_s)
    };
    let time = |name: &str| rows.iter().find(|r| r.name == name).map(|r| r.median_s);
    let mut ratios = BTreeMap::new();
    let mut put = |key: &str, a: Option<f64>, b: Option<f64>| {
        if let (Some(a), Some(b)) = (a, b) {
            ratios.insert(key.to_string(), a / b);
        }
    };
    for dist in ["normal", "uniform", "trunc_normal"] {
        put(
            &format!("gpu_{dist}_f32_vs_constant"),
            rate(&format!("gpu_{dist}_f32_16M")),
            rate("gpu_constant_f32_16M"),
        );
    }
    put(
        "gpu_normal_f32_vs_copy",
        rate("gpu_normal_f32_16M"),
        rate("gpu_copy_f32_16M"),
    );
    put(
        "gpu_constant_f32_vs_clear",
        rate("gpu_constant_f32_16M"),
        rate("gpu_clear_f32_16M"),
    );
    for dist in ["normal", "uniform"] {
        put(
            &format!("gpu_{dist}_f32_vs_rand_distr"),
            rate(&format!("gpu_{dist}_f32_16M")),
            rate(&format!("rand_distr_{dist}_f32_16M")),
        );
        put(
            &format!("cpu_{dist}_f32_all_threads_vs_rand_distr"),
            rate(&format!("cpu_all_{dist}_f32_16M")),
            rate(&format!("rand_distr_{dist}_f32_16M")),
        );
    }
    put(
        "cpu_normal_f32_1t_vs_rand_distr",
        rate("cpu_1t_normal_f32_16M"),
        rate("rand_distr_normal_f32_16M"),
    );
    put(
        "gpu_normal_f32_vs_cpu_all_threads",
        rate("gpu_normal_f32_16M"),
        rate("cpu_all_normal_f32_16M"),
    );
    put(
        "gpu_normal_f32_vs_host_memset",
        rate("gpu_normal_f32_16M"),
        rate("host_all_memset_f32_16M"),
    );
    put(
        "gpu_normal_f16_vs_f32",
        rate("gpu_normal_f16_16M"),
        rate("gpu_normal_f32_16M"),
    );
    put(
        "model_init_vs_single_fill",
        time("model_300_tensors_normal_f32"),
        time("model_single_fill_normal_f32"),
    );
    put(
        "gpu_fresh_buffer_vs_warm",
        time("gpu_fresh_buffer_normal_f32_16M"),
        time("gpu_warm_buffer_normal_f32_16M"),
    );
    ratios
}

impl BenchReport {
    /// `{"rows":[{"name":..,"device":..,"dist":..,"dtype":..,"elements":..,"median_s":..,
    /// "min_s":..,"max_s":..,"elements_per_s":..,"gb_per_s":..}, ...],"ratios":{...},
    /// "adapter":..,"shader_int64":..,"threads":..,"date":..,"quick":..}`.
    pub fn to_json(&self) -> String {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name,
                    "device": r.device,
                    "dist": r.dist,
                    "dtype": r.dtype,
                    "elements": r.elements,
                    "median_s": r.median_s,
                    "min_s": r.min_s,
                    "max_s": r.max_s,
                    "elements_per_s": r.elements_per_s,
                    "gb_per_s": r.gb_per_s,
                    "cpu_s": r.cpu_s,
                })
            })
            .collect();
        serde_json::to_string_pretty(&serde_json::json!({
            "rows": rows,
            "ratios": self.ratios,
            "adapter": self.adapter,
            "shader_int64": self.shader_int64,
            "threads": self.threads,
            "date": self.date,
            "quick": self.quick,
        }))
        .expect("JSON of plain numbers and strings")
    }

    /// A Markdown table of every row (elements/s, GB/s, median and spread) and one of the
    /// ratios.
    pub fn table(&self) -> String {
        let mut out = format!(
            "adapter: {}; SHADER_INT64: {}; CPU threads: {}; {}; {} runs each\n\n",
            self.adapter,
            if self.shader_int64 { "on" } else { "off" },
            self.threads,
            self.date,
            RUNS
        );
        out.push_str("| name | device | dist | dtype | elements | M elem/s | GB/s | median ms | min–max ms | CPU ms |\n");
        out.push_str("|---|---|---|---|---:|---:|---:|---:|---:|---:|\n");
        for r in &self.rows {
            let cpu = r
                .cpu_s
                .map_or("–".to_string(), |c| format!("{:.1}", c * 1e3));
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2}–{:.2} | {cpu} |\n",
                r.name,
                r.device,
                r.dist,
                r.dtype,
                r.elements,
                r.elements_per_s / 1e6,
                r.gb_per_s,
                r.median_s * 1e3,
                r.min_s * 1e3,
                r.max_s * 1e3,
            ));
        }
        out.push_str("\n| ratio | value |\n|---|---:|\n");
        for (key, value) in &self.ratios {
            out.push_str(&format!("| {key} | {value:.2} |\n"));
        }
        out
    }
}

/// Today's date in UTC as `YYYY-MM-DD` (days-to-civil, proleptic Gregorian).
fn utc_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_sizes_are_deterministic_and_in_range() {
        let sizes = model_tensor_sizes();
        assert_eq!(sizes.len(), 300);
        assert!(sizes.iter().all(|&n| (1000..=4_000_000).contains(&n)));
        assert_eq!(sizes, model_tensor_sizes());
    }

    #[test]
    fn median_and_spread() {
        let times: Vec<Duration> = [3, 1, 2, 5, 4].map(Duration::from_millis).to_vec();
        let r = row("x".into(), "gpu", "normal", Dtype::F16, 1000, &times);
        assert_eq!((r.median_s, r.min_s, r.max_s), (0.003, 0.001, 0.005));
        assert!((r.gb_per_s - 1000.0 / 0.003 * 2.0 / 1e9).abs() < 1e-12);
    }
}

//! The cases of one `nninit bench` run: GPU fills and the adapter's ceilings, the CPU reference,
//! the `rand_distr` peer and host memory bandwidth, per size; a fresh-buffer fill; the model.

use std::hint::black_box;
use std::sync::{Arc, Mutex};

use nninit::backend::cpu::{CpuIsa, with_isa};
use nninit::{Destination, Dtype, Error, FillRequest, GpuContext, Result, Sampler, StreamId};
use rayon::prelude::*;

use super::cases::{model_tensor_sizes, samplers};
use super::harness::{BenchRow, Case, lock, measure};
use super::peer;
use super::report::{BenchReport, ratios, utc_date};

/// Elements of the sizes measured.
const M: u64 = 1 << 20;

/// Runs the benchmark on the default GPU context ([`GpuContext::new`]): 1M, 16M and 64M
/// elements, or 1M and 16M with `quick` (well under a minute on two cores with lavapipe).
///
/// Ratios (all at 16M elements, f32, from medians):
/// `gpu_normal_f32_vs_constant`, `gpu_uniform_f32_vs_constant`, `gpu_trunc_normal_f32_vs_constant`
/// (GPU fill over the adapter's constant fill), `gpu_normal_f32_vs_index`, `gpu_uniform_f32_vs_index`
/// (over the index fill: the same stores, no random numbers), `gpu_constant_f32_vs_clear` (constant kernel over
/// wgpu's `clear_buffer`), `gpu_normal_f32_vs_copy` (over a buffer-to-buffer copy of the same
/// size, bytes written per second: the real-GPU target is ≥ 0.8), `gpu_normal_f32_vs_rand_distr`, `gpu_uniform_f32_vs_rand_distr`,
/// `cpu_normal_f32_all_threads_vs_rand_distr`, `cpu_uniform_f32_all_threads_vs_rand_distr`,
/// `cpu_normal_f32_1t_vs_rand_distr`, `cpu_uniform_f32_1t_vs_rand_distr`,
/// `cpu_trunc_normal_f32_1t_vs_rand_distr_normal`, `cpu_{dist}_f32_all_threads_vs_1t`,
/// `gpu_normal_f32_vs_cpu_all_threads`,
/// `gpu_normal_f32_vs_host_memset` (over the host's all-thread fill bandwidth in bytes),
/// `gpu_normal_f16_vs_f32` (elements per second), `model_init_vs_single_fill` (time of the
/// 300-tensor model over one fill of the same total; the target is ≤ 2),
/// `gpu_fresh_buffer_vs_warm` (time of a fill into a freshly created buffer, including wgpu's
/// zero-fill and the first touch of its memory, over the same fill into a warm buffer).
pub fn run(quick: bool, cpu_only: bool) -> Result<BenchReport> {
    if cpu_only {
        return run_on(None, quick);
    }
    let gpu = GpuContext::new()?;
    run_on(Some(&gpu), quick)
}

fn run_on(gpu: Option<&GpuContext>, quick: bool) -> Result<BenchReport> {
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    let sizes: Vec<(&str, u64)> = if quick {
        vec![("1M", M), ("16M", 16 * M)]
    } else {
        vec![("1M", M), ("16M", 16 * M), ("64M", 64 * M)]
    };
    let mut rows = Vec::new();
    for &(label, n) in &sizes {
        size_rows(gpu, label, n, &mut rows)?;
    }
    if let Some(gpu) = gpu {
        fresh_buffer_rows(gpu, 16 * M, &mut rows)?;
        model_rows(gpu, &mut rows)?;
    }
    let ratios = ratios(&rows);
    let (adapter, shader_int64) = match gpu {
        Some(gpu) => {
            let info = gpu.adapter_info();
            (
                format!("{} ({:?}, {})", info.name, info.backend, info.driver_info),
                gpu.device()
                    .features()
                    .contains(wgpu::Features::SHADER_INT64),
            )
        }
        None => ("none (--cpu-only)".to_string(), false),
    };
    Ok(BenchReport {
        rows,
        ratios,
        adapter,
        shader_int64,
        cpu: cpu_model(),
        isa: CpuIsa::current()?,
        isas: CpuIsa::supported(),
        threads: rayon::current_num_threads(),
        load,
        date: utc_date(),
        quick,
    })
}

/// The CPU's model name (`/proc/cpuinfo` on Linux), or the architecture.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
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

/// One timed GPU run: `record` into a fresh encoder, submit, and wait for the device.
fn submit_and_wait(
    gpu: &GpuContext,
    record: impl FnOnce(&mut wgpu::CommandEncoder) -> Result<()>,
) -> Result<()> {
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    record(&mut encoder)?;
    gpu.queue().submit([encoder.finish()]);
    wait(gpu)
}

/// Records `requests` into one encoder, submits and waits.
fn gpu_batch(gpu: &GpuContext, requests: &[FillRequest<'_>]) -> Result<()> {
    submit_and_wait(gpu, |encoder| {
        gpu.kernels()
            .record_fill_batch(gpu.device(), encoder, requests)
    })
}

fn gpu_fill(
    gpu: &GpuContext,
    buffer: &wgpu::Buffer,
    sampler: &Sampler,
    n: u64,
    dtype: Dtype,
) -> Result<()> {
    submit_and_wait(gpu, |encoder| {
        gpu.kernels().record_fill_dtype(
            gpu.device(),
            encoder,
            Destination {
                buffer,
                byte_offset: 0,
            },
            sampler,
            StreamId::new(0, 0),
            0..n,
            dtype,
        )
    })
}

/// Every GPU, CPU, peer and host case of one size, measured side by side.
fn size_rows(
    gpu: Option<&GpuContext>,
    label: &str,
    n: u64,
    rows: &mut Vec<BenchRow>,
) -> Result<()> {
    let mut cases = match gpu {
        Some(gpu) => gpu_cases(gpu, label, n),
        None => Vec::new(),
    };
    cases.extend(cpu_cases(label, n)?);
    measure(cases, rows)
}

/// The GPU fills of one size and the adapter's ceilings.
fn gpu_cases<'a>(gpu: &'a GpuContext, label: &str, n: u64) -> Vec<Case<'a>> {
    let buffer = storage_buffer(gpu, 4 * n);
    // The source of a buffer-to-buffer copy of the same size: the device's copy bandwidth
    // (`gpu_copy_*` reads and writes the bytes; the row counts the bytes written, like the fills).
    let source = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("nninit bench copy source"),
        size: 4 * n,
        usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut cases = Vec::new();
    for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
        for (dist, sampler) in samplers() {
            let buffer = buffer.clone();
            cases.push(Case::new(
                format!("gpu_{dist}_{}_{label}", dtype.name()),
                "gpu",
                dist,
                dtype,
                n,
                move || gpu_fill(gpu, &buffer, &sampler, n, dtype),
            ));
        }
    }
    // The index fill: every element its own index, the stores of a random fill without the
    // random numbers — the ceiling of a random fill where lane-varying stores cost more than
    // constant ones (llvmpipe).
    let index_buffer = buffer.clone();
    cases.push(Case::new(
        format!("gpu_index_f32_{label}"),
        "gpu",
        "index",
        Dtype::F32,
        n,
        move || {
            submit_and_wait(gpu, |encoder| {
                let dst = Destination {
                    buffer: &index_buffer,
                    byte_offset: 0,
                };
                gpu.kernels()
                    .record_index_fill(gpu.device(), encoder, dst, 0..n)
            })
        },
    ));
    // wgpu's clear_buffer (vkCmdFillBuffer on Vulkan): the adapter's own memory fill.
    let clear_buffer = buffer.clone();
    cases.push(Case::new(
        format!("gpu_clear_f32_{label}"),
        "gpu",
        "clear",
        Dtype::F32,
        n,
        move || {
            submit_and_wait(gpu, |encoder| {
                encoder.clear_buffer(&clear_buffer, 0, Some(4 * n));
                Ok(())
            })
        },
    ));
    cases.push(Case::new(
        format!("gpu_copy_f32_{label}"),
        "gpu",
        "copy",
        Dtype::F32,
        n,
        move || {
            submit_and_wait(gpu, |encoder| {
                encoder.copy_buffer_to_buffer(&source, 0, &buffer, 0, 4 * n);
                Ok(())
            })
        },
    ));
    cases
}

/// The CPU reference of one size on one thread and on all, on the default instruction set (the
/// widest this CPU has) and, at 16M, on every narrower one it runs; the `rand_distr` peer in both
/// of its forms; host memset.
fn cpu_cases(label: &str, n: u64) -> Result<Vec<Case<'static>>> {
    let len = n as usize;
    let out = Arc::new(Mutex::new(vec![0.0f32; len]));
    let out16 = Arc::new(Mutex::new(vec![0u16; len]));
    let one = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map_err(|e| Error::invalid("threads", 1, e.to_string()))?,
    );
    let stream = StreamId::new(0, 0);
    let default = CpuIsa::current()?;
    let mut cases = Vec::new();
    for (dist, sampler) in samplers() {
        if dist == "constant" {
            continue;
        }
        let fill = {
            let out = out.clone();
            move |isa: CpuIsa| -> Result<()> {
                let mut out = lock(&out)?;
                with_isa(isa, || {
                    nninit::backend::cpu::fill(&sampler, stream, 0, &mut out)
                })??;
                black_box(&mut out);
                Ok(())
            }
        };
        for isa in CpuIsa::supported() {
            let narrower = isa != default;
            if narrower && label != "16M" {
                continue;
            }
            let (one, fill) = (one.clone(), fill.clone());
            cases.push(
                Case::new(
                    format!("cpu_1t_{dist}_f32_{label}{}", isa_suffix(isa, default)),
                    "cpu_1t",
                    dist,
                    Dtype::F32,
                    n,
                    move || one.install(|| fill(isa)),
                )
                .on(isa.label()),
            );
        }
        let fill = fill.clone();
        cases.push(
            Case::new(
                format!("cpu_all_{dist}_f32_{label}"),
                "cpu_all",
                dist,
                Dtype::F32,
                n,
                move || fill(default),
            )
            .on(default.label()),
        );
        let out16 = out16.clone();
        cases.push(
            Case::new(
                format!("cpu_all_{dist}_bf16_{label}"),
                "cpu_all",
                dist,
                Dtype::Bf16,
                n,
                move || {
                    let mut out16 = lock(&out16)?;
                    nninit::backend::cpu::fill_bits(&sampler, stream, 0, Dtype::Bf16, &mut out16)?;
                    black_box(&mut out16);
                    Ok(())
                },
            )
            .on(default.label()),
        );
    }
    // The peer, as its users write it (`peer.rs`): its own output, a plain loop, in both forms.
    for (form, dist, mut peer_fill) in peer::forms() {
        let mut out = vec![0.0f32; len];
        let mut run = 0;
        cases.push(
            Case::new(
                format!("rand_distr_{form}_{dist}_f32_{label}"),
                "rand_distr",
                dist,
                Dtype::F32,
                n,
                move || {
                    run += 1;
                    peer_fill(run, &mut out);
                    black_box(&mut out);
                    Ok(())
                },
            )
            // Compiled, like all of rand, for the target's baseline (no `-C target-cpu`).
            .on(CpuIsa::Portable.label()),
        );
    }
    let memset_out = out.clone();
    cases.push(
        Case::new(
            format!("host_1t_memset_f32_{label}"),
            "host_1t",
            "memset",
            Dtype::F32,
            n,
            move || {
                let mut out = lock(&memset_out)?;
                black_box(&mut out[..]).fill(0.0);
                black_box(&mut out);
                Ok(())
            },
        )
        .on("libc"),
    );
    cases.push(
        Case::new(
            format!("host_all_memset_f32_{label}"),
            "host_all",
            "memset",
            Dtype::F32,
            n,
            move || {
                let mut out = lock(&out)?;
                black_box(&mut out[..])
                    .par_chunks_mut(1 << 16)
                    .for_each(|chunk| chunk.fill(0.0));
                black_box(&mut out);
                Ok(())
            },
        )
        .on("libc"),
    );
    Ok(cases)
}

/// A CPU row's name ends in its instruction set where that is not the default.
fn isa_suffix(isa: CpuIsa, default: CpuIsa) -> String {
    if isa == default {
        String::new()
    } else {
        format!("_{}", isa.name())
    }
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
                submit_and_wait(gpu, |encoder| {
                    encoder.clear_buffer(&buffer, 0, None);
                    Ok(())
                })
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
            elements: (0..n).into(),
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

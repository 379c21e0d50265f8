//! Criterion benchmarks of the same comparisons as `nninit bench` (`src/bin/nninit/bench/`), throughput in
//! bytes written per second:
//!
//! - `fill/gpu`: GPU fills (uniform, normal, truncated normal, constant; f32 and bf16) and the
//!   adapter's own `clear_buffer` (its write ceiling), at 1M and 16M elements;
//! - `fill/cpu`: the CPU reference on one thread and on all threads, the peer a Rust user would
//!   pick (`rand` + `rand_distr`, `SmallRng`, one thread) and host memory fill bandwidth;
//! - `fill/model`: a 300-tensor model (1k to 4M elements each, `cases::model_tensor_sizes`)
//!   initialized on the GPU with one batched submit, against one fill of the same total size.
//!
//! The GPU side times only recording the fill into a fresh encoder, submitting it and waiting
//! for the device; the context, the compiled pipelines and the destination buffers are created
//! and filled once before timing. The CPU side writes into preallocated, touched memory.
//!
//! Run with `cargo bench --bench fill` (`-- --quick` for a rough number, `-- fill/cpu` for one
//! group). Needs a wgpu adapter; on a headless machine that is Mesa's lavapipe
//! (`apt-get install mesa-vulkan-drivers`). `WGPU_ADAPTER_NAME` / `WGPU_BACKEND` pick it.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use nninit::{Destination, Dtype, FillRequest, GpuContext, Sampler, StreamId};
use rayon::prelude::*;

/// The samplers and model sizes `nninit bench` measures, from the binary's own module.
#[path = "../src/bin/nninit/bench/cases.rs"]
mod cases;
/// The `rand_distr` peer, the same functions `nninit bench` times.
#[path = "../src/bin/nninit/bench/peer.rs"]
mod peer;

const SIZES: [(&str, u64); 2] = [("1M", 1 << 20), ("16M", 1 << 24)];

/// Few, flat samples: one 16M fill takes tens of milliseconds on a software adapter or 2 cores.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
}

fn wait(ctx: &GpuContext) {
    ctx.device()
        .poll(wgpu::PollType::wait_indefinitely())
        .expect("device poll");
}

fn storage(ctx: &GpuContext, bytes: u64) -> wgpu::Buffer {
    ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("bench fill destination"),
        size: bytes.next_multiple_of(4),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// Records `requests` into one encoder, submits it and waits until the device is done.
fn gpu_batch(ctx: &GpuContext, requests: &[FillRequest<'_>]) {
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    ctx.kernels()
        .record_fill_batch(ctx.device(), &mut encoder, requests)
        .expect("record_fill_batch");
    ctx.queue().submit([encoder.finish()]);
    wait(ctx);
}

fn request<'a>(
    buffer: &'a wgpu::Buffer,
    sampler: Sampler,
    n: u64,
    dtype: Dtype,
) -> FillRequest<'a> {
    FillRequest {
        dst: Destination {
            buffer,
            byte_offset: 0,
        },
        sampler,
        stream: StreamId::new(0, 0),
        elements: (0..n).into(),
        dtype,
    }
}

fn bench_gpu(c: &mut Criterion) {
    let ctx = GpuContext::new().unwrap_or_else(|e| panic!("{e}"));
    let info = ctx.adapter_info();
    eprintln!(
        "GPU adapter: {} ({:?}, {}); SHADER_INT64 kernels: {}",
        info.name,
        info.backend,
        info.driver_info,
        ctx.kernels().uses_int64()
    );
    let mut group = c.benchmark_group("fill/gpu");
    configure(&mut group);
    for (size, n) in SIZES {
        let buffer = storage(&ctx, 4 * n);
        // The first touch of a fresh buffer (and wgpu's zero-fill) stays out of the measurement.
        gpu_batch(
            &ctx,
            &[request(&buffer, cases::samplers()[3].1, n, Dtype::F32)],
        );
        for dtype in [Dtype::F32, Dtype::Bf16] {
            group.throughput(Throughput::Bytes(dtype.size_bytes() as u64 * n));
            for (name, sampler) in cases::samplers() {
                let id = BenchmarkId::new(format!("{name}_{}", dtype.name()), size);
                let requests = [request(&buffer, sampler, n, dtype)];
                group.bench_function(id, |b| b.iter(|| gpu_batch(&ctx, &requests)));
            }
        }
        group.throughput(Throughput::Bytes(4 * n));
        group.bench_function(BenchmarkId::new("clear_buffer", size), |b| {
            b.iter(|| {
                let mut encoder = ctx.device().create_command_encoder(&Default::default());
                encoder.clear_buffer(&buffer, 0, Some(4 * n));
                ctx.queue().submit([encoder.finish()]);
                wait(&ctx);
            })
        });
    }
    group.finish();
}

fn bench_cpu(c: &mut Criterion) {
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    let mut group = c.benchmark_group("fill/cpu");
    configure(&mut group);
    for (size, n) in SIZES {
        let mut out = vec![0.0f32; n as usize];
        group.throughput(Throughput::Bytes(4 * n));
        for (name, sampler) in &cases::samplers()[..3] {
            let fill = |out: &mut [f32]| {
                nninit::backend::cpu::fill(sampler, StreamId::new(0, 0), 0, out).expect("cpu fill");
                black_box(out);
            };
            group.bench_function(BenchmarkId::new(format!("{name}_1t"), size), |b| {
                b.iter(|| one.install(|| fill(&mut out)))
            });
            group.bench_function(BenchmarkId::new(format!("{name}_all"), size), |b| {
                b.iter(|| fill(&mut out))
            });
        }
        // Both forms its users write (`peer.rs`).
        for (form, dist, mut peer_fill) in peer::forms() {
            let mut run = 0;
            group.bench_function(
                BenchmarkId::new(format!("rand_distr_{form}_{dist}"), size),
                |b| {
                    b.iter(|| {
                        run += 1;
                        peer_fill(run, black_box(&mut out))
                    })
                },
            );
        }
        group.bench_function(BenchmarkId::new("memset_1t", size), |b| {
            b.iter(|| black_box(&mut out).fill(0.0))
        });
        group.bench_function(BenchmarkId::new("memset_all", size), |b| {
            b.iter(|| {
                black_box(&mut out)
                    .par_chunks_mut(1 << 16)
                    .for_each(|chunk| chunk.fill(0.0))
            })
        });
    }
    group.finish();
}

fn bench_model(c: &mut Criterion) {
    let ctx = GpuContext::new().unwrap_or_else(|e| panic!("{e}"));
    let sizes = cases::model_tensor_sizes();
    let total: u64 = sizes.iter().sum();
    let sampler = Sampler::Normal {
        mean: 0.0,
        std: 0.02,
    };
    let mut group = c.benchmark_group("fill/model");
    configure(&mut group);
    group.throughput(Throughput::Bytes(4 * total));
    {
        let buffers: Vec<wgpu::Buffer> = sizes.iter().map(|&n| storage(&ctx, 4 * n)).collect();
        let requests: Vec<FillRequest<'_>> = buffers
            .iter()
            .zip(&sizes)
            .enumerate()
            .map(|(i, (buffer, &n))| FillRequest {
                stream: StreamId::named(0, &format!("layers.{i}.weight")),
                ..request(buffer, sampler, n, Dtype::F32)
            })
            .collect();
        gpu_batch(&ctx, &requests);
        group.bench_function("300_tensors_batched", |b| {
            b.iter(|| gpu_batch(&ctx, &requests))
        });
    }
    let single = storage(&ctx, 4 * total);
    let requests = [request(&single, sampler, total, Dtype::F32)];
    gpu_batch(&ctx, &requests);
    group.bench_function("one_fill_of_the_same_total", |b| {
        b.iter(|| gpu_batch(&ctx, &requests))
    });
    group.finish();
}

criterion_group!(benches, bench_gpu, bench_cpu, bench_model);
criterion_main!(benches);

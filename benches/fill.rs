//! Throughput of a GPU fill against the CPU reference, for the uniform and normal samplers at 1M
//! and 16M f32 elements (reported in bytes written per second, 4 bytes per element).
//!
//! The GPU side times only recording the fill into a fresh encoder, submitting it and waiting for
//! the device; the context, the compiled pipelines and the destination buffer are created once,
//! and the buffer is filled once before timing. The CPU side times `nninit::cpu::fill` into a
//! preallocated `Vec<f32>`, on all cores.
//!
//! Run with `cargo bench --bench fill` (or `cargo bench --bench fill -- --quick` for a rough
//! number). Needs a wgpu adapter; on a headless machine that is Mesa's lavapipe
//! (`apt-get install mesa-vulkan-drivers`). `WGPU_ADAPTER_NAME` / `WGPU_BACKEND` pick the adapter.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use nninit::{Destination, GpuContext, Sampler, StreamId};

const SIZES: [(&str, u64); 2] = [("1M", 1 << 20), ("16M", 1 << 24)];

const SAMPLERS: [(&str, Sampler); 2] = [
    (
        "uniform",
        Sampler::Uniform {
            low: -1.0,
            high: 1.0,
        },
    ),
    (
        "normal",
        Sampler::Normal {
            mean: 0.0,
            std: 1.0,
        },
    ),
];

/// Few, flat samples: one 16M fill takes tens of milliseconds on a software adapter or 2 cores.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
}

/// Records a fill of elements `0..n` into `buffer`, submits it and waits until the device is done.
fn gpu_fill(ctx: &GpuContext, buffer: &wgpu::Buffer, sampler: &Sampler, n: u64) {
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    ctx.kernels()
        .record_fill(
            ctx.device(),
            &mut encoder,
            Destination {
                buffer,
                byte_offset: 0,
            },
            sampler,
            StreamId::new(0, 0),
            0..n,
        )
        .expect("record_fill");
    ctx.queue().submit([encoder.finish()]);
    ctx.device()
        .poll(wgpu::PollType::wait_indefinitely())
        .expect("device poll");
}

fn bench_gpu(c: &mut Criterion) {
    let ctx = GpuContext::new().unwrap_or_else(|e| panic!("{e}"));
    let info = ctx.adapter_info();
    eprintln!(
        "GPU adapter: {} ({:?}, {})",
        info.name, info.backend, info.driver_info
    );

    let mut group = c.benchmark_group("fill/gpu");
    configure(&mut group);
    for (size, n) in SIZES {
        let buffer = ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("bench fill destination"),
            size: 4 * n,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        // The first touch of a fresh buffer is slow on lavapipe: keep it out of the measurement.
        gpu_fill(&ctx, &buffer, &SAMPLERS[0].1, n);
        group.throughput(Throughput::Bytes(4 * n));
        for (name, sampler) in &SAMPLERS {
            group.bench_function(BenchmarkId::new(*name, size), |b| {
                b.iter(|| gpu_fill(&ctx, &buffer, sampler, n))
            });
        }
    }
    group.finish();
}

fn bench_cpu(c: &mut Criterion) {
    let mut group = c.benchmark_group("fill/cpu");
    configure(&mut group);
    for (size, n) in SIZES {
        let mut out = vec![0.0f32; n as usize];
        group.throughput(Throughput::Bytes(4 * n));
        for (name, sampler) in &SAMPLERS {
            group.bench_function(BenchmarkId::new(*name, size), |b| {
                b.iter(|| {
                    nninit::cpu::fill(sampler, StreamId::new(0, 0), 0, &mut out).expect("cpu fill");
                    black_box(&mut out);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_gpu, bench_cpu);
criterion_main!(benches);

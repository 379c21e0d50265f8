//! Tuning aid: times GPU fills of 16M elements, dists interleaved, min and median of N runs.
//! `cargo run --release --example fill_lab -- [--int64] [runs]`
use std::time::Instant;
use nninit::{Destination, Dtype, GpuContext, Sampler, StreamId};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let int64 = args.iter().any(|a| a == "--int64");
    let runs: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(7);
    let gpu = pollster::block_on(async {
        let adapter = nninit::gpu::request_adapter().await.unwrap();
        let features = if int64 { adapter.features() & wgpu::Features::SHADER_INT64 } else { wgpu::Features::empty() };
        let (device, queue) = adapter.request_device(&wgpu::DeviceDescriptor {
            required_features: features, required_limits: adapter.limits(), ..Default::default()
        }).await.unwrap();
        GpuContext::from_device(adapter.get_info(), device, queue)
    });
    let n: u64 = 16 << 20;
    let buffer = gpu.device().create_buffer(&wgpu::BufferDescriptor { label: None, size: 4 * n,
        usage: wgpu::BufferUsages::STORAGE, mapped_at_creation: false });
    let cases: Vec<(&str, Sampler, Dtype)> = vec![
        ("constant", Sampler::Constant { value: 0.5 }, Dtype::F32),
        ("uniform", Sampler::Uniform { low: -0.1, high: 0.1 }, Dtype::F32),
        ("normal", Sampler::Normal { mean: 0.0, std: 0.02 }, Dtype::F32),
        ("trunc", Sampler::TruncNormal { mean: 0.0, std: 0.02, low: -0.04, high: 0.04 }, Dtype::F32),
        ("normal16", Sampler::Normal { mean: 0.0, std: 0.02 }, Dtype::Bf16),
    ];
    let mut times = vec![Vec::new(); cases.len()];
    for run in 0..=runs {
        for (i, (_, s, d)) in cases.iter().enumerate() {
            let t = Instant::now();
            let mut enc = gpu.device().create_command_encoder(&Default::default());
            gpu.kernels().record_fill_dtype(gpu.device(), &mut enc, Destination { buffer: &buffer, byte_offset: 0 }, s, StreamId::new(0, 0), 0..n, *d).unwrap();
            gpu.queue().submit([enc.finish()]);
            gpu.device().poll(wgpu::PollType::wait_indefinitely()).unwrap();
            if run > 0 { times[i].push(t.elapsed().as_secs_f64()); }
        }
    }
    println!("int64 {}", gpu.kernels().uses_int64());
    for ((name, _, _), t) in cases.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        println!("{name:10} min {:7.1} ms ({:6.0} M/s)  median {:7.1} ms ({:6.0} M/s)", t[0]*1e3, n as f64 / t[0] / 1e6, t[t.len()/2]*1e3, n as f64 / t[t.len()/2] / 1e6);
    }
}

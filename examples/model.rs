//! A small model described in Rust with PyTorch's layer defaults, every parameter initialized on
//! the GPU into its own buffer in one encoder and one submit, kept on the GPU; each tensor is read
//! back, checked against the CPU reference and summarized.
//!
//! `cargo run --release --example model`

use nninit::scheme::layers::{self, ParamInit};
use nninit::scheme::{Draw, FanRule};
use nninit::{Destination, GpuContext, StreamId};

fn main() -> nninit::Result<()> {
    let gpu = GpuContext::new()?;
    let mut params = Vec::new();
    params.extend(layers::conv("conv1", 3, 32, &[3, 3], 1, true, false)?);
    params.extend(layers::batch_norm("bn1", 32));
    params.extend(layers::linear("fc1", 32 * 8 * 8, 256, true));
    params.extend(layers::linear("fc2", 256, 10, true));

    let seed = 0;
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    let mut buffers = Vec::new();
    for param in &params {
        let ParamInit::Scheme { init, .. } = &param.init else {
            continue; // num_batches_tracked is an int64 counter, not drawn
        };
        let plan = init.plan(&param.shape, &FanRule::torch())?;
        let Draw::Sample(sampler) = plan.draw else {
            continue;
        };
        let n = param.shape.iter().product::<u64>();
        let buffer = gpu.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some(&param.name),
            size: 4 * n,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let stream = StreamId::named(seed, &param.name);
        gpu.kernels().record_fill(
            gpu.device(),
            &mut encoder,
            Destination {
                buffer: &buffer,
                byte_offset: 0,
            },
            &sampler,
            stream,
            0..n,
        )?;
        buffers.push((param, init, sampler, stream, buffer, n));
    }
    gpu.queue().submit([encoder.finish()]);
    println!(
        "{:<22} {:>16} {:<58} {:>10} {:>10} {:>10}",
        "tensor", "shape", "init", "mean", "std", "max|Δcpu|"
    );
    for (param, init, sampler, stream, buffer, n) in &buffers {
        let values: Vec<f32> = gpu.read_buffer(buffer, 0, 4 * n)?;
        let mut reference = vec![0.0f32; *n as usize];
        nninit::backend::cpu::fill(sampler, *stream, 0, &mut reference)?;
        let worst = values
            .iter()
            .zip(&reference)
            .map(|(g, c)| (g - c).abs())
            .fold(0.0f32, f32::max);
        // The contract's bounds (1 ulp for uniform, 1e-4·std for normal, exact for constants)
        // are all within 1e-4 of the largest value; lavapipe is bit-identical.
        let largest = reference.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            worst <= 1e-4 * largest,
            "{}: GPU differs from the CPU reference by {worst}",
            param.name
        );
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / *n as f64;
        let std = (values
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / *n as f64)
            .sqrt();
        println!(
            "{:<22} {:>16} {:<58} {:>+10.5} {:>10.5} {:>10.1e}",
            param.name,
            format!("{:?}", param.shape),
            init.to_string(),
            mean,
            std,
            worst
        );
    }
    println!(
        "{} tensors on the GPU, initialized in one submit",
        buffers.len()
    );
    Ok(())
}

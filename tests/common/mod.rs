//! Shared by the integration tests: one GPU context per test binary, devices with other limits,
//! poisoned buffers, the parameter an error names, KAT parsing, statistics, and (with the `cli`
//! feature) running the binary.
#![allow(dead_code)]

use std::ops::Range;
use std::sync::OnceLock;

use nninit::{Destination, Dtype, GpuContext, Sampler, StreamId};

#[cfg(feature = "cli")]
pub mod cli;

/// What a GPU test says when there is no adapter: what to install.
pub const NO_ADAPTER: &str = "GPU tests need a wgpu adapter (on a machine without a GPU, Mesa's \
     lavapipe: apt-get install mesa-vulkan-drivers, or run scripts/test.sh, which installs it)";

/// The test binary's GPU context. Without an adapter this fails the test with the message naming
/// what to install; GPU tests never pass silently.
pub fn gpu() -> &'static GpuContext {
    static GPU: OnceLock<GpuContext> = OnceLock::new();
    GPU.get_or_init(|| match GpuContext::new() {
        Ok(gpu) => gpu,
        Err(error) => panic!("{NO_ADAPTER}: {error}"),
    })
}

/// A fresh device of the default adapter with `limits` applied over the adapter's own, wrapped
/// without any uncaptured-error handler of its own (wgpu's default one panics).
pub fn gpu_with(limits: impl FnOnce(wgpu::Limits) -> wgpu::Limits) -> GpuContext {
    pollster::block_on(async {
        let adapter = nninit::backend::gpu::request_adapter()
            .await
            .unwrap_or_else(|e| panic!("{NO_ADAPTER}: {e}"));
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                required_limits: limits(adapter.limits()),
                ..Default::default()
            })
            .await
            .unwrap();
        GpuContext::from_device(adapter.get_info(), device, queue)
    })
}

/// The test binary's device whose storage bindings are 4 KiB, so that fills cross many binding
/// windows at odd offsets.
pub fn small_window_gpu() -> &'static GpuContext {
    static GPU: OnceLock<GpuContext> = OnceLock::new();
    GPU.get_or_init(|| {
        gpu_with(|limits| wgpu::Limits {
            max_storage_buffer_binding_size: 4096,
            ..limits
        })
    })
}

/// The word `poisoned_buffer` holds everywhere: a fill that leaves it alone did not write there.
pub const POISON: u32 = 0xDEAD_BEEF;

/// A storage buffer (also a copy source and destination) of `contents.len()` bytes holding
/// `contents`.
pub fn buffer_holding(gpu: &GpuContext, contents: &[u8]) -> wgpu::Buffer {
    let buffer = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("poisoned"),
        size: contents.len() as u64,
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    gpu.queue().write_buffer(&buffer, 0, contents);
    buffer
}

/// A storage buffer of `bytes` (a multiple of 4) holding `POISON` in every word.
pub fn poisoned_buffer(gpu: &GpuContext, bytes: u64) -> wgpu::Buffer {
    assert!(bytes.is_multiple_of(4), "{bytes} bytes is not whole words");
    buffer_holding(
        gpu,
        bytemuck::cast_slice(&vec![POISON; (bytes / 4) as usize]),
    )
}

/// Records a fill of elements `range` as `dtype` at `byte_offset` of `buffer` into an encoder of
/// its own and submits it; nothing is submitted when recording fails.
pub fn submit_fill(
    gpu: &GpuContext,
    buffer: &wgpu::Buffer,
    byte_offset: u64,
    sampler: &Sampler,
    id: StreamId,
    range: Range<u64>,
    dtype: Dtype,
) -> nninit::Result<()> {
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    gpu.kernels().record_fill_dtype(
        gpu.device(),
        &mut encoder,
        Destination {
            buffer,
            byte_offset,
        },
        sampler,
        id,
        range,
        dtype,
    )?;
    gpu.queue().submit([encoder.finish()]);
    Ok(())
}

/// The parameter an [`nninit::Error::InvalidParameter`] names; any other outcome fails the test.
pub fn invalid_parameter_name<T: std::fmt::Debug>(result: nninit::Result<T>) -> String {
    match result {
        Err(nninit::Error::InvalidParameter { name, .. }) => name,
        other => panic!("expected Error::InvalidParameter, got {other:?}"),
    }
}

/// One known-answer vector: rounds, counter, key, expected output.
pub struct Kat {
    pub rounds: u32,
    pub ctr: [u32; 4],
    pub key: [u32; 2],
    pub out: [u32; 4],
}

/// Every vector in tests/data/philox4x32_kat.txt.
pub fn philox_kats() -> Vec<Kat> {
    include_str!("../data/philox4x32_kat.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 12, "malformed KAT line {line:?}");
            let hex = |i: usize| u32::from_str_radix(fields[i], 16).unwrap();
            Kat {
                rounds: fields[1].parse().unwrap(),
                ctr: [hex(2), hex(3), hex(4), hex(5)],
                key: [hex(6), hex(7)],
                out: [hex(8), hex(9), hex(10), hex(11)],
            }
        })
        .collect()
}

/// Standard normal CDF in f64 (libm's erfc keeps the tails accurate).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// One-sample Kolmogorov–Smirnov statistic of `values` against `cdf`, and its asymptotic p-value
/// (Kolmogorov distribution with Stephens' small-sample correction √n + 0.12 + 0.11/√n).
pub fn ks_test(values: &[f32], cdf: impl Fn(f64) -> f64) -> (f64, f64) {
    let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let d = sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).max((i + 1) as f64 / n - f)
        })
        .fold(0.0f64, f64::max);
    let lambda = (n.sqrt() + 0.12 + 0.11 / n.sqrt()) * d;
    let p = (1..=100)
        .map(|k| {
            let k = f64::from(k);
            2.0 * (-1f64).powf(k - 1.0) * (-2.0 * k * k * lambda * lambda).exp()
        })
        .sum::<f64>()
        .clamp(0.0, 1.0);
    (d, p)
}

/// Per-test significance level used throughout (docs/statistics.md: fixed seeds make a fluke
/// permanent).
pub const ALPHA: f64 = 1e-6;

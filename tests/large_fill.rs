//! The one large-buffer test: a fill bigger than lavapipe's 128 MiB binding limit, so the kernels
//! must carry the counter across bound windows. Kept in its own binary because it is slow.

mod common;

use nninit::{Destination, Sampler, StreamId};

#[test]
fn large_fill_beyond_the_binding_limit_equals_cpu() {
    let gpu = common::gpu();
    let max_binding = gpu.device().limits().max_storage_buffer_binding_size;
    // 8 MiB more than one binding window (or 136 MiB where the limit is larger than the buffer).
    let bytes = max_binding.min(128 << 20) + (8 << 20);
    if bytes > gpu.device().limits().max_buffer_size {
        panic!("adapter cannot hold a {bytes}-byte buffer");
    }
    let n = bytes / 4 - 3;
    let buffer = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("large"),
        size: bytes,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let sampler = Sampler::Normal {
        mean: 0.0,
        std: 1.0,
    };
    let id = StreamId::new(2024, 1);
    let first = (1u64 << 32) * 4 - 1000; // crosses block 2^32 as well
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    let dst = Destination {
        buffer: &buffer,
        byte_offset: 12,
    };
    gpu.kernels()
        .record_fill(
            gpu.device(),
            &mut encoder,
            dst,
            &sampler,
            id,
            first..first + n,
        )
        .unwrap();
    gpu.queue().submit([encoder.finish()]);
    let got: Vec<f32> = gpu.read_buffer(&buffer, 12, 4 * n).unwrap();
    let mut want = vec![0.0f32; n as usize];
    nninit::backend::cpu::fill(&sampler, id, first, &mut want).unwrap();
    let worst = got
        .iter()
        .zip(&want)
        .map(|(g, c)| (g - c).abs())
        .fold(0.0f32, f32::max);
    println!("{n} elements ({bytes} bytes): worst |Δ| = {worst:.3e}");
    assert!(worst <= 1e-4, "worst |Δ| {worst}");
}

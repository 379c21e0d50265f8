//! A wgpu program that owns its device, queue and buffers adds nninit in a few lines: nninit
//! records a Kaiming-normal fill of a sub-range of the caller's STORAGE buffer into the caller's
//! command encoder, next to the caller's own compute pass that reads the weights (a matrix–vector
//! product), and the caller submits once. The result is checked against the CPU reference.
//!
//! `cargo run --release --example fill_own_buffer`

use nninit::scheme::{Draw, FanRule, Init};
use nninit::{Destination, FillKernels, StreamId};
use wgpu::util::DeviceExt;

const ROWS: u32 = 256;
const COLS: u32 = 512;
/// The weights start after a header of 64 floats the caller keeps for itself.
const WEIGHTS_OFFSET_FLOATS: u64 = 64;

const MATVEC: &str = r"
@group(0) @binding(0) var<storage, read> weights: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
const ROWS: u32 = 256u;
const COLS: u32 = 512u;
const OFFSET: u32 = 64u;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x >= ROWS { return; }
    var sum = 0.0;
    for (var c = 0u; c < COLS; c++) { sum += weights[OFFSET + id.x * COLS + c] * x[c]; }
    y[id.x] = sum;
}
";

fn main() -> nninit::Result<()> {
    // The caller's own setup (nninit's adapter helper honours WGPU_BACKEND/WGPU_ADAPTER_NAME).
    let (device, queue) = pollster::block_on(async {
        let adapter = nninit::backend::gpu::request_adapter().await?;
        nninit::backend::gpu::request_device(&adapter).await
    })?;
    let n = u64::from(ROWS * COLS);
    let weights = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("weights"),
        size: 4 * (WEIGHTS_OFFSET_FLOATS + n),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let x: Vec<f32> = (0..COLS).map(|i| ((i % 7) as f32 - 3.0) / 3.0).collect();
    let x_buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("x"),
        contents: bytemuck::cast_slice(&x),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let y_buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("y"),
        size: 4 * u64::from(ROWS),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: 4 * u64::from(ROWS),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });

    // nninit: resolve the scheme, record the fill into the caller's encoder.
    let kernels = FillKernels::new(&device);
    let shape = [u64::from(ROWS), u64::from(COLS)];
    let plan = Init::parse("kaiming_normal(mode=fan_in,nonlinearity=relu)")?
        .plan(&shape, &FanRule::torch())?;
    let Draw::Sample(sampler) = plan.draw else {
        unreachable!("kaiming_normal is a sampler")
    };
    let stream = StreamId::named(42, "fc.weight");
    let mut encoder = device.create_command_encoder(&Default::default());
    let dst = Destination {
        buffer: &weights,
        byte_offset: 4 * WEIGHTS_OFFSET_FLOATS,
    };
    kernels.record_fill(&device, &mut encoder, dst, &sampler, stream, 0..n)?;

    // The caller's own pass reads the weights in the same encoder.
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("matvec"),
        source: wgpu::ShaderSource::Wgsl(MATVEC.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("matvec"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("matvec"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: weights.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: x_buffer.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: y_buffer.as_entire_binding(),
            },
        ],
    });
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(ROWS.div_ceil(64), 1, 1);
    }
    encoder.copy_buffer_to_buffer(&y_buffer, 0, &readback, 0, 4 * u64::from(ROWS));
    queue.submit([encoder.finish()]); // one submit for both
    readback
        .slice(..)
        .map_async(wgpu::MapMode::Read, |result| result.expect("map readback"));
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| nninit::Error::gpu("poll", e))?;
    let y: Vec<f32> = bytemuck::cast_slice(
        &readback
            .slice(..)
            .get_mapped_range()
            .map_err(|e| nninit::Error::gpu("map", e))?,
    )
    .to_vec();

    // Check against the CPU reference.
    let mut reference = vec![0.0f32; n as usize];
    nninit::backend::cpu::fill(&sampler, stream, 0, &mut reference)?;
    let worst = (0..ROWS as usize)
        .map(|r| {
            let expected: f64 = (0..COLS as usize)
                .map(|c| f64::from(reference[r * COLS as usize + c]) * f64::from(x[c]))
                .sum();
            (f64::from(y[r]) - expected).abs()
        })
        .fold(0.0, f64::max);
    println!(
        "y = W·x for a {ROWS}×{COLS} kaiming_normal W filled at byte {}: y[0..4] = {:?}",
        4 * WEIGHTS_OFFSET_FLOATS,
        &y[..4]
    );
    println!("worst |y − y_cpu| = {worst:.2e}");
    assert!(
        worst < 1e-4,
        "GPU result differs from the CPU reference by {worst}"
    );
    Ok(())
}

//! `sparse(sparsity, std)` on the GPU: a normal fill, then a pass that writes every element's row
//! key and a pass that zeroes the `k` smallest keys of each column (see `src/sparse.rs`).

use super::context::GpuContext;
use super::kernels::Destination;
use super::resources::{create_buffer_init, storage_entry, uniform_entry};
use crate::contract::stream::{StreamId, key};
use crate::error::{Error, Result};
use crate::sample::sampler::Sampler;
use crate::sample::sparse::zeros_per_column;

const SPARSE_SHADER: &str = concat!(
    include_str!("../../../shaders/contract/philox.wgsl"),
    include_str!("../../../shaders/sample/sparse.wgsl")
);

/// Mirrors `SparseParams` in `shaders/sparse.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct SparseParams {
    key: [u32; 2],
    stream: [u32; 2],
    rows: u32,
    cols: u32,
    zeros: u32,
    _pad: u32,
}

fn pipeline(
    device: &wgpu::Device,
    layout: &wgpu::PipelineLayout,
    module: &wgpu::ShaderModule,
    entry_point: &str,
) -> wgpu::ComputePipeline {
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry_point),
        layout: Some(layout),
        module,
        entry_point: Some(entry_point),
        compilation_options: Default::default(),
        cache: None,
    })
}

/// The whole `rows × cols` sparse matrix computed on the GPU and read back, row-major. The matrix
/// must fit one storage binding and have fewer than 2^32 elements.
pub fn sparse_gpu(
    gpu: &GpuContext,
    rows: u64,
    cols: u64,
    sparsity: f64,
    std: f32,
    stream: StreamId,
) -> Result<Vec<f32>> {
    let zeros = zeros_per_column(rows, sparsity)?;
    let numel = rows.checked_mul(cols).filter(|&n| n < 1 << 32);
    let bytes = numel
        .map(|n| 4 * n)
        .filter(|&b| b <= gpu.device().limits().max_storage_buffer_binding_size);
    let (Some(numel), Some(bytes)) = (numel, bytes) else {
        return Err(Error::invalid(
            "shape",
            format!("[{rows}, {cols}]"),
            "sparse on the GPU needs a matrix that fits one storage binding; use --device cpu",
        ));
    };
    let sampler = Sampler::Normal { mean: 0.0, std };
    sampler.validate()?;
    if numel == 0 {
        return Ok(Vec::new());
    }
    gpu.scoped("sparse", || {
        let device = gpu.device();
        let storage = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        let values = storage(
            "sparse values",
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let row_keys = storage("sparse row keys", wgpu::BufferUsages::STORAGE);
        let params = SparseParams {
            key: key(stream.seed),
            stream: [stream.stream as u32, (stream.stream >> 32) as u32],
            rows: rows as u32,
            cols: cols as u32,
            zeros: zeros as u32,
            _pad: 0,
        };
        let uniform = create_buffer_init(
            device,
            &wgpu::util::BufferInitDescriptor {
                label: Some("sparse params"),
                contents: bytemuck::bytes_of(&params),
                usage: wgpu::BufferUsages::UNIFORM,
            },
        )?;
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("nninit sparse"),
            source: wgpu::ShaderSource::Wgsl(SPARSE_SHADER.into()),
        });
        let bind_group_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("nninit sparse"),
            entries: &[uniform_entry(0, None), storage_entry(1), storage_entry(2)],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("nninit sparse"),
            bind_group_layouts: &[Some(&bind_group_layout)],
            immediate_size: 0,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("nninit sparse"),
            layout: &bind_group_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniform.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: row_keys.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: values.as_entire_binding(),
                },
            ],
        });
        let mut encoder = device.create_command_encoder(&Default::default());
        gpu.kernels().record_fill(
            device,
            &mut encoder,
            Destination {
                buffer: &values,
                byte_offset: 0,
            },
            &sampler,
            stream,
            0..numel,
        )?;
        if zeros > 0 {
            let groups = numel.div_ceil(256).min(u64::from(
                device.limits().max_compute_workgroups_per_dimension,
            )) as u32;
            for entry_point in ["write_row_keys", "zero_smallest_keys"] {
                let pipeline = pipeline(device, &pipeline_layout, &module, entry_point);
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                pass.dispatch_workgroups(groups, 1, 1);
            }
        }
        gpu.queue().submit([encoder.finish()]);
        gpu.read_buffer(&values, 0, bytes)
    })
}

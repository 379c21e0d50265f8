//! The compiled fill pipelines and the recording of a fill into a caller's command encoder.

use std::ops::Range;
use std::sync::OnceLock;

use wgpu::util::DeviceExt;

use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::sampler::{KernelDist, Prepared, Sampler};
use crate::stream::StreamId;

const FILL_SHADER: &str = concat!(
    include_str!("../../shaders/philox.wgsl"),
    include_str!("../../shaders/math.wgsl"),
    include_str!("../../shaders/fill.wgsl")
);
const KAT_SHADER: &str = concat!(
    include_str!("../../shaders/philox.wgsl"),
    include_str!("../../shaders/philox_kat.wgsl")
);
/// Must match `WORKGROUP_SIZE` in `shaders/fill.wgsl`.
const WORKGROUP_SIZE: u32 = 256;
/// Cap on elements per window so that `4 * block + lane` never overflows u32 in the kernel.
const MAX_WINDOW_ELEMENTS: u64 = 1 << 30;

/// Where a fill writes: element `elements.start + k` goes to byte `byte_offset + size·k` of
/// `buffer`, `size` being the dtype's (4 for f32, 2 for f16/bf16; [`FillKernels::record_fill`]
/// writes f32). The buffer needs `STORAGE` usage; `byte_offset` must be a multiple of `size`.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    /// The buffer written into.
    pub buffer: &'a wgpu::Buffer,
    /// Byte offset of the first element written.
    pub byte_offset: u64,
}

/// Mirrors `FillParams` in `shaders/fill.wgsl` (uniform address space: `p` and `q` at 16-byte
/// aligned offsets 48 and 64, 80 bytes in all).
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FillParams {
    key: [u32; 2],
    stream: [u32; 2],
    first_block: [u32; 2],
    first_lane: u32,
    count: u32,
    dst_offset: u32,
    split: u32,
    step: f32,
    /// Always 0: the kernel's `opaque` barrier against inexact compiler rewrites.
    zero: u32,
    p: [f32; 4],
    q: [f32; 4],
}

const _: () = assert!(std::mem::size_of::<FillParams>() == 80);
const _: () = assert!(std::mem::offset_of!(FillParams, p) == 48);
const _: () = assert!(std::mem::offset_of!(FillParams, q) == 64);

/// Samplers of the 16-bit kernels, in the order of `FillKernels::pipelines16`.
const DISTS16: [KernelDist; 4] = [
    KernelDist::Uniform,
    KernelDist::Normal,
    KernelDist::Constant,
    KernelDist::TruncNormal,
];

/// The fill pipelines of one device: the shader module is compiled once, and each pipeline
/// (sampler × output width) the first time a fill needs it, then reused for every fill.
#[derive(Debug)]
pub struct FillKernels {
    module: wgpu::ShaderModule,
    /// Params at binding 0, 32-bit destination at binding 1.
    layout: wgpu::BindGroupLayout,
    /// Params at binding 0, 16-bit (atomic) destination at binding 2.
    layout16: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    pipeline_layout16: wgpu::PipelineLayout,
    /// Entry point `fill`, indexed by `KernelDist as usize`.
    pipelines: [OnceLock<wgpu::ComputePipeline>; 5],
    /// Entry point `fill16`: `[f16, bf16]`, then indexed as `DISTS16`.
    pipelines16: [[OnceLock<wgpu::ComputePipeline>; 4]; 2],
    kat_pipeline: OnceLock<wgpu::ComputePipeline>,
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl FillKernels {
    /// Compiles the fill shader for `device`; pipelines are created on first use.
    pub fn new(device: &wgpu::Device) -> Self {
        let params_entry = wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("nninit fill"),
            entries: &[params_entry, storage_entry(1, false)],
        });
        let layout16 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("nninit fill16"),
            entries: &[params_entry, storage_entry(2, false)],
        });
        let pipeline_layout = |layout: &wgpu::BindGroupLayout| {
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("nninit fill"),
                bind_group_layouts: &[Some(layout)],
                immediate_size: 0,
            })
        };
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("nninit fill"),
            source: wgpu::ShaderSource::Wgsl(FILL_SHADER.into()),
        });
        Self {
            pipeline_layout: pipeline_layout(&layout),
            pipeline_layout16: pipeline_layout(&layout16),
            module,
            layout,
            layout16,
            pipelines: Default::default(),
            pipelines16: Default::default(),
            kat_pipeline: OnceLock::new(),
        }
    }

    /// The pipeline drawing `dist` as `dtype`, created on first use.
    fn pipeline(
        &self,
        device: &wgpu::Device,
        dist: KernelDist,
        dtype: Dtype,
    ) -> &wgpu::ComputePipeline {
        let (cell, entry_point, layout, dtype_constant) = match dtype {
            Dtype::F32 => (
                &self.pipelines[dist as usize],
                "fill",
                &self.pipeline_layout,
                1.0,
            ),
            Dtype::F16 | Dtype::Bf16 => {
                let index = DISTS16
                    .iter()
                    .position(|&d| d == dist)
                    .expect("raw words are only written as u32");
                let bf16 = dtype == Dtype::Bf16;
                (
                    &self.pipelines16[usize::from(bf16)][index],
                    "fill16",
                    &self.pipeline_layout16,
                    if bf16 { 2.0 } else { 1.0 },
                )
            }
        };
        cell.get_or_init(|| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("nninit fill"),
                layout: Some(layout),
                module: &self.module,
                entry_point: Some(entry_point),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[("DIST", f64::from(dist as u32)), ("DTYPE", dtype_constant)],
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            })
        })
    }

    /// Records into `encoder` a fill of elements `elements` of `sampler` drawn from `stream` into
    /// `dst`, as f32. Nothing outside the destination's `4·len` bytes is written. Tensors larger
    /// than the device's binding limit are filled through several bound windows; values never
    /// depend on how the range is split. Same as [`FillKernels::record_fill_dtype`] with
    /// [`Dtype::F32`].
    pub fn record_fill(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        dst: Destination<'_>,
        sampler: &Sampler,
        stream: StreamId,
        elements: Range<u64>,
    ) -> Result<()> {
        self.record_fill_dtype(device, encoder, dst, sampler, stream, elements, Dtype::F32)
    }

    /// Records into `encoder` a fill of elements `elements` of `sampler` drawn from `stream` into
    /// `dst`, as `dtype`: f32 (4 bytes per element), or f16/bf16 (2 bytes per element, the f32
    /// value rounded to nearest-even, bit-identical to the `half` crate's rounding; bounded
    /// samplers stay in their bounds, see [`Sampler::prepare`]). `dst.byte_offset` must be a
    /// multiple of the element size. 16-bit elements share 4-byte words; a range may begin or end
    /// in the middle of one, and the other half of such a word is left exactly as it was (the
    /// kernel updates lone halves with atomics). The 4-byte word holding the last element must
    /// lie inside the buffer (only matters for buffers whose size is not a multiple of 4).
    #[allow(clippy::too_many_arguments)]
    pub fn record_fill_dtype(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        dst: Destination<'_>,
        sampler: &Sampler,
        stream: StreamId,
        elements: Range<u64>,
        dtype: Dtype,
    ) -> Result<()> {
        let prepared = sampler.prepare(dtype)?;
        self.record(device, encoder, dst, &prepared, dtype, stream, elements)
    }

    /// Records into `encoder` a copy of raw words `elements` of `stream` into `dst` (u32 each).
    pub fn record_words(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        dst: Destination<'_>,
        stream: StreamId,
        elements: Range<u64>,
    ) -> Result<()> {
        self.record(
            device,
            encoder,
            dst,
            &Prepared::words(),
            Dtype::F32,
            stream,
            elements,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        dst: Destination<'_>,
        prepared: &Prepared,
        dtype: Dtype,
        stream: StreamId,
        elements: Range<u64>,
    ) -> Result<()> {
        let size = dtype.size_bytes() as u64;
        let len = checked_destination(dst, &elements, size)?;
        if len == 0 {
            return Ok(());
        }
        let limits = device.limits();
        let align = u64::from(limits.min_storage_buffer_offset_alignment);
        let max_binding = limits.max_storage_buffer_binding_size & !3;
        let key = crate::stream::key(stream.seed);
        let stream_words = [stream.stream as u32, (stream.stream >> 32) as u32];
        let pipeline = self.pipeline(device, prepared.dist, dtype);
        let (layout, binding) = match dtype {
            Dtype::F32 => (&self.layout, 1),
            Dtype::F16 | Dtype::Bf16 => (&self.layout16, 2),
        };

        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("nninit fill"),
            timestamp_writes: None,
        });
        pass.set_pipeline(pipeline);
        let mut done = 0u64;
        while done < len {
            // Bind from the aligned byte at or below the next element; the kernel skips the lead.
            let byte = dst.byte_offset + size * done;
            let bind_start = byte - byte % align;
            let lead = byte - bind_start;
            let count = (len - done)
                .min((max_binding - lead) / size)
                .min(MAX_WINDOW_ELEMENTS);
            let first = elements.start + done;
            let first_block = first / 4;
            let window = FillParams {
                key,
                stream: stream_words,
                first_block: [first_block as u32, (first_block >> 32) as u32],
                first_lane: (first % 4) as u32,
                count: count as u32,
                dst_offset: (lead / size) as u32,
                split: prepared.split,
                step: prepared.step,
                zero: 0,
                p: prepared.p,
                q: prepared.q,
            };
            let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("nninit fill params"),
                contents: bytemuck::bytes_of(&window),
                usage: wgpu::BufferUsages::UNIFORM,
            });
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("nninit fill"),
                layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: uniform.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: dst.buffer,
                            offset: bind_start,
                            // Whole words: a 16-bit window may end in the middle of one.
                            size: wgpu::BufferSize::new((lead + size * count).next_multiple_of(4)),
                        }),
                    },
                ],
            });
            let blocks = (u64::from(window.first_lane) + count).div_ceil(4);
            let groups = blocks
                .div_ceil(u64::from(WORKGROUP_SIZE))
                .min(u64::from(limits.max_compute_workgroups_per_dimension));
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(groups as u32, 1, 1);
            done += count;
        }
        Ok(())
    }

    /// Records Philox4x32-10 of each `(counter, key)` in `inputs` (a storage buffer of 32-byte
    /// records: counter, key, 8 bytes padding) into `outputs` (16 bytes per record).
    pub(crate) fn record_philox_kat(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        inputs: &wgpu::Buffer,
        outputs: &wgpu::Buffer,
        records: u32,
    ) {
        let kat_pipeline = self.kat_pipeline.get_or_init(|| {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("nninit philox_kat"),
                source: wgpu::ShaderSource::Wgsl(KAT_SHADER.into()),
            });
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("nninit philox_kat"),
                layout: None,
                module: &module,
                entry_point: Some("philox_kat"),
                compilation_options: Default::default(),
                cache: None,
            })
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("nninit philox_kat"),
            layout: &kat_pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: inputs.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: outputs.as_entire_binding(),
                },
            ],
        });
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("nninit philox_kat"),
            timestamp_writes: None,
        });
        pass.set_pipeline(kat_pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(records.div_ceil(64), 1, 1);
    }
}

/// Checks that `elements` of `size` bytes each fit in `dst` and returns its length.
fn checked_destination(dst: Destination<'_>, elements: &Range<u64>, size: u64) -> Result<u64> {
    if elements.start > elements.end {
        return Err(Error::invalid(
            "range",
            format!("{}..{}", elements.start, elements.end),
            "start must not exceed end",
        ));
    }
    let len = elements.end - elements.start;
    if !dst.buffer.usage().contains(wgpu::BufferUsages::STORAGE) {
        return Err(Error::invalid(
            "buffer usage",
            format!("{:?}", dst.buffer.usage()),
            "must include STORAGE",
        ));
    }
    if !dst.byte_offset.is_multiple_of(size) {
        return Err(Error::invalid(
            "byte_offset",
            dst.byte_offset,
            format!("must be a multiple of {size} (the element size)"),
        ));
    }
    let end = len
        .checked_mul(size)
        .and_then(|bytes| bytes.checked_add(dst.byte_offset))
        .ok_or_else(|| Error::invalid("range", len, "byte size overflows u64"))?;
    if end > dst.buffer.size() {
        return Err(Error::invalid(
            "range",
            format!("{len} elements at byte offset {}", dst.byte_offset),
            format!("must end within the buffer's {} bytes", dst.buffer.size()),
        ));
    }
    if len > 0 && end.next_multiple_of(4) > dst.buffer.size() {
        return Err(Error::invalid(
            "range",
            format!("{len} elements at byte offset {}", dst.byte_offset),
            format!(
                "the 4-byte word holding the last element must lie within the buffer's {} bytes",
                dst.buffer.size()
            ),
        ));
    }
    Ok(len)
}

//! The compiled fill pipelines and the recording of a fill into a caller's command encoder.

use std::ops::Range;

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::sampler::{KernelDist, Sampler};
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

/// Where a fill writes: element `elements.start + k` goes to byte `byte_offset + 4·k` of `buffer`.
/// The buffer needs `STORAGE` usage; `byte_offset` must be a multiple of 4.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    /// The buffer written into.
    pub buffer: &'a wgpu::Buffer,
    /// Byte offset of the first element written.
    pub byte_offset: u64,
}

/// Mirrors `FillParams` in `shaders/fill.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct FillParams {
    key: [u32; 2],
    stream: [u32; 2],
    first_block: [u32; 2],
    first_lane: u32,
    count: u32,
    dst_offset: u32,
    _pad: [u32; 3],
    p: [f32; 4],
}

/// The fill pipelines of one device, compiled once and reused for every fill.
#[derive(Debug)]
pub struct FillKernels {
    layout: wgpu::BindGroupLayout,
    /// Indexed by `KernelDist as usize`.
    pipelines: [wgpu::ComputePipeline; 4],
    kat_pipeline: wgpu::ComputePipeline,
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
    /// Compiles every fill pipeline for `device`.
    pub fn new(device: &wgpu::Device) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("nninit fill"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                storage_entry(1, false),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("nninit fill"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("nninit fill"),
            source: wgpu::ShaderSource::Wgsl(FILL_SHADER.into()),
        });
        let pipeline = |dist: KernelDist| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("nninit fill"),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some("fill"),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[("DIST", f64::from(dist as u32))],
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            })
        };
        let pipelines = [
            pipeline(KernelDist::Words),
            pipeline(KernelDist::Uniform),
            pipeline(KernelDist::Normal),
            pipeline(KernelDist::Constant),
        ];
        let kat_module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("nninit philox_kat"),
            source: wgpu::ShaderSource::Wgsl(KAT_SHADER.into()),
        });
        let kat_pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("nninit philox_kat"),
            layout: None,
            module: &kat_module,
            entry_point: Some("philox_kat"),
            compilation_options: Default::default(),
            cache: None,
        });
        Self {
            layout,
            pipelines,
            kat_pipeline,
        }
    }

    /// Records into `encoder` a fill of elements `elements` of `sampler` drawn from `stream` into
    /// `dst`. Nothing outside the destination's `4·len` bytes is written. Tensors larger than the
    /// device's binding limit are filled through several bound windows; values never depend on
    /// how the range is split.
    pub fn record_fill(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        dst: Destination<'_>,
        sampler: &Sampler,
        stream: StreamId,
        elements: Range<u64>,
    ) -> Result<()> {
        sampler.validate()?;
        let (dist, params) = sampler.kernel_params();
        self.record(device, encoder, dst, dist, params, stream, elements)
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
            KernelDist::Words,
            [0.0; 4],
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
        dist: KernelDist,
        params: [f32; 4],
        stream: StreamId,
        elements: Range<u64>,
    ) -> Result<()> {
        let len = checked_destination(dst, &elements)?;
        if len == 0 {
            return Ok(());
        }
        let limits = device.limits();
        let align = u64::from(limits.min_storage_buffer_offset_alignment);
        let max_binding = limits.max_storage_buffer_binding_size & !3;
        let key = crate::stream::key(stream.seed);
        let stream_words = [stream.stream as u32, (stream.stream >> 32) as u32];

        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("nninit fill"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&self.pipelines[dist as usize]);
        let mut done = 0u64;
        while done < len {
            // Bind from the aligned byte at or below the next element; the kernel skips the lead.
            let byte = dst.byte_offset + 4 * done;
            let bind_start = byte - byte % align;
            let lead = byte - bind_start;
            let count = (len - done)
                .min((max_binding - lead) / 4)
                .min(MAX_WINDOW_ELEMENTS);
            let first = elements.start + done;
            let first_block = first / 4;
            let window = FillParams {
                key,
                stream: stream_words,
                first_block: [first_block as u32, (first_block >> 32) as u32],
                first_lane: (first % 4) as u32,
                count: count as u32,
                dst_offset: (lead / 4) as u32,
                _pad: [0; 3],
                p: params,
            };
            let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("nninit fill params"),
                contents: bytemuck::bytes_of(&window),
                usage: wgpu::BufferUsages::UNIFORM,
            });
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("nninit fill"),
                layout: &self.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: uniform.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: dst.buffer,
                            offset: bind_start,
                            size: wgpu::BufferSize::new(lead + 4 * count),
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
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("nninit philox_kat"),
            layout: &self.kat_pipeline.get_bind_group_layout(0),
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
        pass.set_pipeline(&self.kat_pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(records.div_ceil(64), 1, 1);
    }
}

/// Checks that `elements` fits in `dst` and returns its length.
fn checked_destination(dst: Destination<'_>, elements: &Range<u64>) -> Result<u64> {
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
    if !dst.byte_offset.is_multiple_of(4) {
        return Err(Error::invalid(
            "byte_offset",
            dst.byte_offset,
            "must be a multiple of 4",
        ));
    }
    let end = len
        .checked_mul(4)
        .and_then(|bytes| bytes.checked_add(dst.byte_offset))
        .ok_or_else(|| Error::invalid("range", len, "byte size overflows u64"))?;
    if end > dst.buffer.size() {
        return Err(Error::invalid(
            "range",
            format!("{len} elements at byte offset {}", dst.byte_offset),
            format!("must end within the buffer's {} bytes", dst.buffer.size()),
        ));
    }
    Ok(len)
}

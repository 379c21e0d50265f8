//! `orthogonal(gain)` on the GPU: the normal matrix drawn by the fill kernel, its QR computed in
//! f32 by `shaders/orthogonal.wgsl`, all recorded into one command encoder. Semantics and the CPU
//! reference: [`crate::sample::orthogonal`].
//!
//! # The algorithm: block CGS2, and why
//!
//! The QR is classical Gram–Schmidt with reorthogonalization (CGS2), by panels of 32 columns
//! (block CGS2, "BCGS2"). Column by column, CGS2 is
//! `w = a_j; twice { h = Q[:, :j]ᵀ w; w −= Q[:, :j] h }; q_j = w/‖w‖`. By panels: the panel `W`
//! is projected against all earlier panels at once (`H = QᵀW; W −= QH`, matrix–matrix products),
//! then orthonormalized within itself by column CGS2; both steps twice, as BCGS2 requires
//! (Barlow & Smoktunowicz 2013). The first panel has nothing before it: one column CGS2 sweep.
//!
//! - **Accuracy.** CGS2 keeps `‖QᵀQ − I‖` at the level of the working precision as long as
//!   `κ(A)·u < 1` (Giraud, Langou, Rozložník 2005), and BCGS2 with a CGS2 inner step keeps that
//!   property. A square Gaussian matrix has `κ ≈ n` (a few thousand at n = 1024, with a heavy
//!   tail), far inside `1/u ≈ 1.7e7` in f32. CholeskyQR2 is ruled out: its Cholesky of `AᵀA`
//!   needs `κ²·u < 1`, i.e. `κ ≲ 4000` in f32, which square Gaussian matrices of a few thousand
//!   columns reach. Householder is as accurate as CGS2, but each of its `n` steps is a dependent
//!   chain of three reductions (column norm, `vᵀA`, rank-1 update), `Q` must then be accumulated
//!   in a second sweep, and blocking it needs the compact WY form — far more kernels for the same
//!   result.
//! - **Parallel shape.** Every step is a matrix–vector or matrix–matrix product in which each
//!   output is independent (no atomics, no barriers except in the one-workgroup norm), plus one
//!   norm per column; `q_j` is final as soon as it is normalized. About 4·m·n² flops, as column
//!   CGS2, nearly all of them in the panel products.
//! - **Speed on lavapipe.** Lavapipe turns each storage access into per-lane loads, so loads,
//!   not flops, set the speed: every invocation works on a 4 × 4 tile (vec4 loads, each used
//!   four times), and the panel products stream the finished columns once per 4 panel columns
//!   instead of twice per column. Measured at 1024×1024: column-at-a-time CGS2 with one f32 per
//!   invocation took 10–14 s, with 4 × 4 tiles 7.9 s, by panels 1.6–2.7 s.
//! - **No sign fix.** The norms divided out are positive and the panel steps are triangular, so
//!   `R`'s diagonal is positive: the result is already the unique `Q` with `diag(R) > 0` that
//!   PyTorch's sign fix produces. A zero column (probability 0) stays zero, as
//!   `torch.sign(0) = 0` makes it.
//!
//! Everything — the normal fill, the copy into padded scratch matrices, about 14 QR dispatches
//! per column, the copy back times `gain` — is recorded after the fill in one compute pass of
//! the caller's encoder. The column index reaches each dispatch through a dynamic offset into
//! one uniform buffer, so nothing is created per column. Measured numbers: `docs/orthogonal.md`.

use super::context::GpuContext;
use super::kernels::{Destination, FillKernels};
use super::resources::{bound_range, create_buffer_init, storage_entry, uniform_entry};
use crate::contract::stream::StreamId;
use crate::error::{Error, Result, host_len};
use crate::sample::orthogonal::{OrthogonalLayout, SOURCE, check_gain};

const SHADER: &str = include_str!("../../../shaders/sample/orthogonal.wgsl");
/// Must match `COPY_WG`, `DOT_WG`, `UPDATE_WG` in `shaders/orthogonal.wgsl`.
const COPY_WG: u64 = 256;
const DOT_WG: u64 = 64;
const UPDATE_WG: u64 = 64;
/// The dot products of `project` and `block_project` are split into at most this many row
/// chunks (so that tall matrices with few columns still spread over the device), each at least
/// `MIN_CHUNK_ROWS` rows long; `combine` and `block_combine` add the chunks up.
const MAX_PARTS: u64 = 8;
const MIN_CHUNK_ROWS: u64 = 256;
/// Columns per panel of the block algorithm; must match `PANEL` in `shaders/orthogonal.wgsl`.
const PANEL: u64 = 32;
/// Must match `TILE_WG` in `shaders/orthogonal.wgsl`.
const TILE_WG: u64 = 64;

/// Mirrors `Params` in `shaders/orthogonal.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    m: u32,
    n: u32,
    j: u32,
    lead: u32,
    transpose: u32,
    gain: f32,
    parts: u32,
    m4: u32,
    n4: u32,
    k0: u32,
    width: u32,
    _pad: u32,
}

const PARAMS_SIZE: u64 = std::mem::size_of::<Params>() as u64;

/// The orthogonal pipelines of one device, compiled once and reused for every tensor.
#[derive(Debug)]
pub struct OrthogonalKernels {
    layout: wgpu::BindGroupLayout,
    load: wgpu::ComputePipeline,
    project: wgpu::ComputePipeline,
    combine: wgpu::ComputePipeline,
    update: wgpu::ComputePipeline,
    block_project: wgpu::ComputePipeline,
    block_combine: wgpu::ComputePipeline,
    block_update: wgpu::ComputePipeline,
    normalize: wgpu::ComputePipeline,
    store: wgpu::ComputePipeline,
}

impl OrthogonalKernels {
    /// Compiles the orthogonal pipelines for `device`.
    pub fn new(device: &wgpu::Device) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("nninit orthogonal"),
            entries: &[
                uniform_entry(0, Some(PARAMS_SIZE)),
                storage_entry(1),
                storage_entry(2),
                storage_entry(3),
                storage_entry(4),
                storage_entry(5),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("nninit orthogonal"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("nninit orthogonal"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let pipeline = |entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("nninit orthogonal"),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[],
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            })
        };
        Self {
            load: pipeline("load"),
            project: pipeline("project"),
            combine: pipeline("combine"),
            update: pipeline("update"),
            block_project: pipeline("block_project"),
            block_combine: pipeline("block_combine"),
            block_update: pipeline("block_update"),
            normalize: pipeline("normalize"),
            store: pipeline("store"),
            layout,
        }
    }

    /// Records into `encoder` `orthogonal(gain)` of a tensor of `shape` drawn from `stream`,
    /// written row-major into `dst` (`∏ shape` f32 elements from `dst.byte_offset`; the buffer
    /// needs `STORAGE` usage). `fill` draws the normal matrix (any device's [`FillKernels`],
    /// e.g. [`GpuContext::kernels`]). Nothing outside those bytes is written. Two scratch
    /// matrices of the tensor's size (padded to multiples of 4), small coefficient buffers and a
    /// uniform buffer of 256 bytes per column are allocated and freed with the command buffer.
    ///
    /// The whole matrix must fit in one storage binding (128 MiB, 33.5 M elements, on
    /// lavapipe). Errors, before anything is recorded: fewer than 2 dimensions, a non-finite
    /// `gain`, a destination without `STORAGE` usage, an offset not a multiple of 4, a tensor
    /// past the end of the buffer or larger than one binding. A tensor with no elements records
    /// nothing.
    ///
    /// Accuracy (lavapipe; `cargo test --release --test orthogonal -- --nocapture`,
    /// docs/orthogonal.md): `max|QᵀQ − I|` (or `QQᵀ`) ≤ 3.1e-7 for every shape and seed tested,
    /// 1.9–3.1e-7 at 1024×1024. Elementwise distance to [`crate::backend::cpu::orthogonal::orthogonal_cpu`]:
    /// median 1–3e-7·|gain|, 99th percentile ≤ 1.5e-6·|gain|, worst seen 1.0e-5·|gain| (3000
    /// seeds of 16×16); it grows with the condition number of the normal matrix, which has a
    /// heavy tail, so no bound holds for every seed.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        fill: &FillKernels,
        dst: Destination<'_>,
        shape: &[u64],
        gain: f32,
        stream: StreamId,
    ) -> Result<()> {
        let layout = OrthogonalLayout::from_shape(shape)?;
        check_gain(gain)?;
        let len = layout.len();
        check_destination(dst, len)?;
        if len == 0 {
            return Ok(());
        }
        let limits = device.limits();
        let align = u64::from(limits.min_storage_buffer_offset_alignment);
        let bind_start = dst.byte_offset - dst.byte_offset % align;
        let lead_bytes = dst.byte_offset - bind_start;
        let bytes = 4 * len;
        let (m, n) = (layout.m(), layout.n());
        let (m4, n4) = (m.div_ceil(4), n.div_ceil(4));
        // Each scratch matrix holds 4·m4 × 4·n4 f32: M padded to multiples of 4.
        let scratch_bytes = 64 * m4 * n4;
        let binding_limit = limits.max_storage_buffer_binding_size;
        if lead_bytes + bytes > binding_limit
            || scratch_bytes > binding_limit.min(limits.max_buffer_size)
            || scratch_bytes / 4 > u64::from(u32::MAX)
            || (lead_bytes / 4 + len) > u64::from(u32::MAX)
        {
            return Err(Error::invalid(
                "shape",
                format!("{shape:?}"),
                format!(
                    "orthogonal needs the whole matrix in one storage binding: at most \
                     {binding_limit} bytes on this device"
                ),
            ));
        }

        fill.record_fill(device, encoder, dst, &SOURCE, stream, 0..len)?;

        let parts = m.div_ceil(MIN_CHUNK_ROWS).clamp(1, MAX_PARTS);
        let scratch = |label, size| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            })
        };
        let columns = scratch("nninit orthogonal columns", scratch_bytes);
        let rows = scratch("nninit orthogonal rows", scratch_bytes);
        let coefficients = scratch("nninit orthogonal coefficients", 16 * parts * n4);
        let block_coefficients = scratch(
            "nninit orthogonal block coefficients",
            16 * parts * PANEL * n4,
        );
        // One Params per column, at the uniform-offset alignment; dispatch j binds entry j.
        let stride =
            PARAMS_SIZE.next_multiple_of(u64::from(limits.min_uniform_buffer_offset_alignment));
        let mut uniform_bytes = vec![0u8; (stride * n) as usize];
        for j in 0..n {
            let k0 = j - j % PANEL;
            let params = Params {
                m: m as u32,
                n: n as u32,
                j: j as u32,
                lead: (lead_bytes / 4) as u32,
                transpose: u32::from(!layout.transposed()),
                gain,
                parts: parts as u32,
                m4: m4 as u32,
                n4: n4 as u32,
                k0: k0 as u32,
                width: PANEL.min(n - k0) as u32,
                _pad: 0,
            };
            let at = (j * stride) as usize;
            uniform_bytes[at..at + PARAMS_SIZE as usize]
                .copy_from_slice(bytemuck::bytes_of(&params));
        }
        let uniform = create_buffer_init(
            device,
            &wgpu::util::BufferInitDescriptor {
                label: Some("nninit orthogonal params"),
                contents: &uniform_bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            },
        )?;
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("nninit orthogonal"),
            layout: &self.layout,
            entries: &[
                bound_range(0, &uniform, 0, PARAMS_SIZE),
                bound_range(1, dst.buffer, bind_start, lead_bytes + bytes),
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: columns.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: coefficients.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: rows.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 5,
                    resource: block_coefficients.as_entire_binding(),
                },
            ],
        });

        let max_groups = u64::from(limits.max_compute_workgroups_per_dimension);
        let groups =
            |items: u64, per_group: u64| items.div_ceil(per_group).clamp(1, max_groups) as u32;
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("nninit orthogonal"),
            timestamp_writes: None,
        });
        let mut dispatch =
            |pipeline: &wgpu::ComputePipeline, column: u64, x: u32, y: u32, z: u32| {
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &bind_group, &[(column * stride) as u32]);
                pass.dispatch_workgroups(x, y, z);
            };
        let parts = parts as u32;
        dispatch(&self.load, 0, groups(4 * n4 * m4, COPY_WG), 1, 1);
        for k0 in (0..n).step_by(PANEL as usize) {
            let width = PANEL.min(n - k0);
            // The first panel has nothing before it: one CGS2 sweep. The others: BCGS2.
            for _ in 0..if k0 == 0 { 1 } else { 2 } {
                if k0 > 0 {
                    // One workgroup row per group of 4 panel columns, so that the panel's
                    // operand is the same for the whole workgroup.
                    let column_groups = width.div_ceil(4) as u32;
                    let tiles = groups(k0 / 4, TILE_WG);
                    dispatch(&self.block_project, k0, tiles, column_groups, parts);
                    if parts > 1 {
                        let panel_columns = 4 * column_groups;
                        dispatch(
                            &self.block_combine,
                            k0,
                            groups(k0 / 4, DOT_WG),
                            panel_columns,
                            1,
                        );
                    }
                    dispatch(
                        &self.block_update,
                        k0,
                        groups(m4, TILE_WG),
                        column_groups,
                        1,
                    );
                }
                for j in k0..k0 + width {
                    if j > k0 {
                        let coefficient_groups = groups(j.div_ceil(4) - k0 / 4, DOT_WG);
                        for _ in 0..2 {
                            dispatch(&self.project, j, coefficient_groups, parts, 1);
                            if parts > 1 {
                                dispatch(&self.combine, j, coefficient_groups, 1, 1);
                            }
                            dispatch(&self.update, j, groups(m4, UPDATE_WG), 1, 1);
                        }
                    }
                    dispatch(&self.normalize, j, 1, 1, 1);
                }
            }
        }
        dispatch(&self.store, 0, groups(len, COPY_WG), 1, 1);
        Ok(())
    }

    /// `orthogonal(gain)` of `shape` drawn from `stream`, computed on `gpu`'s device and read
    /// back (row-major): one submit for the fill and the QR, then the copy to the host. See
    /// [`Self::record`] for errors and accuracy.
    pub fn orthogonal(
        &self,
        gpu: &GpuContext,
        shape: &[u64],
        gain: f32,
        stream: StreamId,
    ) -> Result<Vec<f32>> {
        let layout = OrthogonalLayout::from_shape(shape)?;
        check_gain(gain)?;
        let len = layout.len();
        host_len("shape", format!("{shape:?}"), len, size_of::<f32>())?;
        if len == 0 {
            return Ok(Vec::new());
        }
        let device = gpu.device();
        gpu.scoped("orthogonal", || {
            let bytes = 4 * len;
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("nninit orthogonal"),
                size: bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            let mut encoder = device.create_command_encoder(&Default::default());
            let dst = Destination {
                buffer: &buffer,
                byte_offset: 0,
            };
            self.record(
                device,
                &mut encoder,
                gpu.kernels(),
                dst,
                shape,
                gain,
                stream,
            )?;
            gpu.queue().submit([encoder.finish()]);
            // Waits for the fill and the QR, and copies the matrix back in staging pieces.
            gpu.read_buffer(&buffer, 0, bytes)
        })
    }
}

/// `orthogonal(gain)` of `shape` drawn from `stream` on `gpu`, read back row-major: the short
/// path. It compiles the pipelines on every call (about 15 ms on lavapipe); to draw many
/// tensors, make one [`OrthogonalKernels`] and call [`OrthogonalKernels::orthogonal`] or
/// [`OrthogonalKernels::record`].
///
/// Measured on lavapipe (2 cores, one of them busy with other work;
/// `cargo test --release --test orthogonal orthogonal_1024 -- --nocapture`): 1024×1024 takes
/// 1.6–2.7 s with `max|QᵀQ − I|` ≤ 3.1e-7 and is within 5.2e-7·|gain| of
/// [`crate::backend::cpu::orthogonal::orthogonal_cpu`] (seeds 0 and 1; see [`OrthogonalKernels::record`] for
/// the distribution over seeds). 256×256 takes 0.06–0.08 s, 512×512 0.3–0.4 s.
pub fn orthogonal_gpu(
    gpu: &GpuContext,
    shape: &[u64],
    gain: f32,
    stream: StreamId,
) -> Result<Vec<f32>> {
    OrthogonalKernels::new(gpu.device()).orthogonal(gpu, shape, gain, stream)
}

/// Checks that `len` f32 elements fit in `dst` (STORAGE usage, 4-byte-aligned offset).
fn check_destination(dst: Destination<'_>, len: u64) -> Result<()> {
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
        .ok_or_else(|| Error::invalid("shape", len, "byte size overflows u64"))?;
    if end > dst.buffer.size() {
        return Err(Error::invalid(
            "shape",
            format!("{len} elements at byte offset {}", dst.byte_offset),
            format!("must end within the buffer's {} bytes", dst.buffer.size()),
        ));
    }
    Ok(())
}

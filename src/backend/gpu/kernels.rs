//! The compiled fill pipelines and the recording of a fill into a caller's command encoder.

use std::ops::Range;
use std::sync::OnceLock;

use crate::contract::dtype::Dtype;
use crate::contract::slice::Rows;
use crate::contract::stream::StreamId;
use crate::error::{Error, Result};
use crate::sample::sampler::{KernelDist, Prepared, Sampler};

use super::resources::{bound_range, create_buffer_init, storage_entry, uniform_entry};

/// Philox's 32×32 → 64-bit product with one u64 multiply, replacing the 16-bit-limb `mul_wide` of
/// `philox.wgsl` on devices with `SHADER_INT64`.
const MUL_WIDE_INT64: &str = include_str!("../../../shaders/contract/mul_wide_int64.wgsl");
/// The whole-block stores of `fill.wgsl` as 64-bit words, on devices with `SHADER_INT64`.
const PAIR_STORES_INT64: &str = include_str!("../../../shaders/sample/pair_stores_int64.wgsl");
const FILL_SHADER: &str = concat!(
    include_str!("../../../shaders/contract/philox.wgsl"),
    include_str!("../../../shaders/contract/math.wgsl"),
    include_str!("../../../shaders/sample/fill.wgsl")
);
const KAT_SHADER: &str = concat!(
    include_str!("../../../shaders/contract/philox.wgsl"),
    include_str!("../../../shaders/contract/philox_kat.wgsl")
);
/// Size of one window's parameters in the uniform buffer (`FillParams`).
const PARAMS_SIZE: u64 = std::mem::size_of::<FillParams>() as u64;
/// Must match `WORKGROUP_SIZE` in `shaders/fill.wgsl`.
const WORKGROUP_SIZE: u32 = 256;
/// Most workgroups one window dispatches; each invocation loops over the window's blocks beyond
/// that (`group_span` in `shaders/fill.wgsl`). Measured on lavapipe (2 cores, 16M f32 elements,
/// CPU time per fill, element-by-element kernel): a cap of 1024 takes 42/79/91 ms for
/// constant/uniform/normal, against 62/132/161 ms with one workgroup per 256 blocks (16384
/// workgroups) and 101/139/146 ms with 256. A real GPU still gets 262144 invocations.
const MAX_GROUPS: u64 = 1024;
/// Blocks each invocation handles at least (fewer workgroups for small fills): a software
/// adapter pays per workgroup. Measured on lavapipe, the 300-tensor benchmark model
/// (`nninit::bench::model_tensor_sizes`, 1.4e8 normal f32 elements in one batch) took 888 ms of
/// CPU with 1, 709 with 4 and 635 with 16 (one fill of the same total: 632-642).
const BLOCKS_PER_INVOCATION: u64 = 16;
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

/// One fill of a batch ([`FillKernels::record_fill_batch`]): elements `elements` of `sampler`
/// drawn from `stream` into `dst`, as `dtype`.
#[derive(Debug, Clone)]
pub struct FillRequest<'a> {
    /// Where the elements go.
    pub dst: Destination<'a>,
    /// What they are drawn from.
    pub sampler: Sampler,
    /// The tensor's stream.
    pub stream: StreamId,
    /// Which elements of the tensor: a range (`(a..b).into()`) or a box of rows, stored in
    /// `dst` one after another.
    pub elements: Rows,
    /// Output type.
    pub dtype: Dtype,
}

/// Mirrors `FillParams` in `shaders/fill.wgsl` (uniform address space: `p` and `q` at 16-byte
/// aligned offsets 48 and 64, `row_stride` at 80, 96 bytes in all).
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
    /// Elements from one row of a box window to the next (0 for a contiguous window).
    row_stride: u32,
    /// The struct's size in WGSL's uniform layout is a multiple of 16.
    pad: [u32; 3],
}

const _: () = assert!(std::mem::size_of::<FillParams>() == 96);
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
    /// Whether `module` multiplies with u64 (`SHADER_INT64`) rather than 16-bit limbs.
    int64: bool,
    /// Bound as the whole-block view of windows that cannot use it (too small or misaligned);
    /// never written.
    spare: wgpu::Buffer,
    /// Params at binding 0 (dynamic offset), 32-bit destination at binding 1, its view by pairs of
    /// blocks at 3.
    layout: wgpu::BindGroupLayout,
    /// Params at binding 0 (dynamic offset), 16-bit (atomic) destination at binding 2, its view by
    /// pairs of blocks at 4.
    layout16: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    pipeline_layout16: wgpu::PipelineLayout,
    /// Entry point `fill`, `[element by element, WHOLE_BLOCKS]`, then indexed by
    /// `KernelDist as usize`.
    pipelines: [[OnceLock<wgpu::ComputePipeline>; 6]; 2],
    /// Entry point `fill16`, `[element by element, WHOLE_BLOCKS]`, `[f16, bf16]`, then indexed as
    /// `DISTS16`.
    pipelines16: [[[OnceLock<wgpu::ComputePipeline>; 4]; 2]; 2],
    kat_pipeline: OnceLock<wgpu::ComputePipeline>,
}

/// One bound window of one fill: its parameters and where they and the destination are bound.
struct Window<'a> {
    params: FillParams,
    dist: KernelDist,
    dtype: Dtype,
    buffer: &'a wgpu::Buffer,
    bind_start: u64,
    bind_size: u64,
    /// Whole pairs of blocks, aligned: the WHOLE_BLOCKS kernel, the destination bound through its
    /// view by pairs of blocks (`bind_size` is then a multiple of 8 elements).
    whole: bool,
    groups: u32,
    /// Rows of a box window (workgroups along y), 1 for a contiguous one.
    rows: u32,
}

impl FillKernels {
    /// Compiles the fill shader for `device`; pipelines are created on first use. Where the
    /// device has [`wgpu::Features::SHADER_INT64`] enabled, Philox multiplies with u64 (on
    /// llvmpipe one `vpmuludq`), elsewhere with 16-bit limbs; the words are the same.
    pub fn new(device: &wgpu::Device) -> Self {
        let params_entry = uniform_entry(0, Some(PARAMS_SIZE));
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("nninit fill"),
            entries: &[params_entry, storage_entry(1), storage_entry(3)],
        });
        let layout16 = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("nninit fill16"),
            entries: &[params_entry, storage_entry(2), storage_entry(4)],
        });
        let int64 = device.features().contains(wgpu::Features::SHADER_INT64);
        let pipeline_layout = |layout: &wgpu::BindGroupLayout| {
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("nninit fill"),
                bind_group_layouts: &[Some(layout)],
                immediate_size: 0,
            })
        };
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("nninit fill"),
            source: wgpu::ShaderSource::Wgsl(Self::with_int64(int64, FILL_SHADER).into()),
        });
        let spare = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("nninit fill spare"),
            // One element of the largest whole-block view (a pair of f32 blocks).
            size: 32,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        Self {
            pipeline_layout: pipeline_layout(&layout),
            pipeline_layout16: pipeline_layout(&layout16),
            module,
            int64,
            spare,
            layout,
            layout16,
            pipelines: Default::default(),
            pipelines16: Default::default(),
            kat_pipeline: OnceLock::new(),
        }
    }

    /// `shader` with its 64-bit variants in place when `int64`: the u64 `mul_wide` of Philox
    /// instead of the 16-bit-limb one, and the 64-bit whole-block stores of `fill.wgsl`. Each
    /// variant replaces the text between `// BEGIN name` and `// END name`.
    fn with_int64(int64: bool, shader: &str) -> String {
        let mut shader = shader.to_string();
        if int64 {
            for (name, replacement) in [
                ("mul_wide", MUL_WIDE_INT64),
                ("pair stores", PAIR_STORES_INT64),
            ] {
                let begin = format!("// BEGIN {name}\n");
                let end = format!("// END {name}\n");
                if let (Some(b), Some(e)) = (shader.find(&begin), shader.find(&end)) {
                    shader.replace_range(b..e + end.len(), replacement);
                }
            }
        }
        shader
    }

    /// Whether the kernels multiply with u64 (the device has `SHADER_INT64`) rather than with
    /// 16-bit limbs. The values are the same either way.
    pub fn uses_int64(&self) -> bool {
        self.int64
    }

    /// The pipeline drawing `dist` as `dtype`, element by element or (`whole`) block by block,
    /// created on first use.
    fn pipeline(
        &self,
        device: &wgpu::Device,
        dist: KernelDist,
        dtype: Dtype,
        whole: bool,
    ) -> &wgpu::ComputePipeline {
        let variant = usize::from(whole);
        let (cell, entry_point, layout, dtype_constant) = match dtype {
            Dtype::F32 => (
                &self.pipelines[variant][dist as usize],
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
                    &self.pipelines16[variant][usize::from(bf16)][index],
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
                    constants: &[
                        ("DIST", f64::from(dist as u32)),
                        ("DTYPE", dtype_constant),
                        ("WHOLE_BLOCKS", if whole { 1.0 } else { 0.0 }),
                    ],
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

    /// Records every fill of `requests` into `encoder`, in one compute pass with one uniform
    /// buffer for all their parameters (one dynamic offset per bound window): the way to
    /// initialize many tensors with few submits. Each request is validated first, as
    /// [`FillKernels::record_fill_dtype`] does; nothing is recorded if any is invalid. Values
    /// are exactly those of filling each request alone.
    pub fn record_fill_batch(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        requests: &[FillRequest<'_>],
    ) -> Result<()> {
        let mut windows = Vec::new();
        for r in requests {
            let prepared = r.sampler.prepare(r.dtype)?;
            self.windows(
                device,
                r.dst,
                &prepared,
                r.dtype,
                r.stream,
                r.elements,
                &mut windows,
            )?;
        }
        self.record_windows(device, encoder, &windows)
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

    /// Records into `encoder` an *index fill* of elements `elements` into `dst` as f32: element
    /// `i` becomes `(i mod 2^32) as f32` (exact below 2^24), through the same windows, loops and stores as a
    /// random fill, with no random number drawn. Not an initialization: the ceiling a random
    /// fill is measured against on an adapter whose cost is in its stores (`nninit bench`'s
    /// `gpu_index_f32_*` rows; on llvmpipe a store of values that differ per lane costs more than
    /// a constant one).
    pub fn record_index_fill(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        dst: Destination<'_>,
        elements: Range<u64>,
    ) -> Result<()> {
        let stream = StreamId::new(0, 0);
        self.record(
            device,
            encoder,
            dst,
            &Prepared::index(),
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
        if elements.start > elements.end {
            return Err(Error::invalid(
                "range",
                format!("{}..{}", elements.start, elements.end),
                "start must not exceed end",
            ));
        }
        let mut windows = Vec::new();
        self.windows(
            device,
            dst,
            prepared,
            dtype,
            stream,
            elements.into(),
            &mut windows,
        )?;
        self.record_windows(device, encoder, &windows)?;
        Ok(())
    }

    /// Validates a fill and appends its bound windows to `out`. Tensors larger than the device's
    /// binding limit take several windows, each bound from an aligned byte at or below its first
    /// element (the kernel skips the lead) and carrying its counter offset.
    /// A box of rows is bound as few windows as the limits allow, each a run of whole rows (one
    /// row per workgroup row), unless one row alone exceeds a binding: then row by row.
    #[allow(clippy::too_many_arguments)]
    fn windows<'a>(
        &self,
        device: &wgpu::Device,
        dst: Destination<'a>,
        prepared: &Prepared,
        dtype: Dtype,
        stream: StreamId,
        elements: Rows,
        out: &mut Vec<Window<'a>>,
    ) -> Result<()> {
        let size = dtype.size_bytes() as u64;
        if checked_destination(dst, &elements, size)? == 0 {
            return Ok(());
        }
        if elements.rows == 1 {
            let range = elements.row(0);
            return self.range_windows(device, dst, prepared, dtype, stream, range, out);
        }
        let limits = device.limits();
        let align = u64::from(limits.min_storage_buffer_offset_alignment).max(32);
        let max_binding = limits.max_storage_buffer_binding_size & !15;
        let row_bytes = elements.len * size;
        // Rows per window: within a binding, below 2^31 row offsets (u32 in the kernel), within
        // the dispatch limit.
        let per_window = (max_binding.saturating_sub(align) / row_bytes)
            .min((1 << 31) / elements.stride.max(1))
            .min(MAX_WINDOW_ELEMENTS / elements.len.max(1))
            .min(u64::from(limits.max_compute_workgroups_per_dimension));
        if per_window < 2 {
            for r in 0..elements.rows {
                let row_dst = Destination {
                    byte_offset: dst.byte_offset + r * row_bytes,
                    ..dst
                };
                let row = elements.row(r);
                self.range_windows(device, row_dst, prepared, dtype, stream, row, out)?;
            }
            return Ok(());
        }
        let key = crate::contract::stream::key(stream.seed);
        let mut r = 0;
        while r < elements.rows {
            let n = per_window.min(elements.rows - r);
            let byte = dst.byte_offset + r * row_bytes;
            let bind_start = byte - byte % align;
            let lead = byte - bind_start;
            let first = elements.row(r).start;
            // Every row whole pairs of blocks on an 8-element boundary of the destination: the
            // WHOLE_BLOCKS kernel, as for a contiguous window (see `range_windows`).
            let whole = first.is_multiple_of(4)
                && elements.stride.is_multiple_of(4)
                && elements.len.is_multiple_of(8)
                && (lead / size).is_multiple_of(8);
            let blocks = (first % 4 + elements.len).div_ceil(4);
            let groups = blocks
                .div_ceil(u64::from(WORKGROUP_SIZE) * BLOCKS_PER_INVOCATION)
                .min(u64::from(limits.max_compute_workgroups_per_dimension))
                .min(MAX_GROUPS);
            out.push(Window {
                params: FillParams {
                    key,
                    stream: [stream.stream as u32, (stream.stream >> 32) as u32],
                    first_block: [(first / 4) as u32, ((first / 4) >> 32) as u32],
                    first_lane: (first % 4) as u32,
                    count: elements.len as u32,
                    dst_offset: (lead / size) as u32,
                    split: prepared.split,
                    step: prepared.step,
                    zero: 0,
                    p: prepared.p,
                    q: prepared.q,
                    row_stride: elements.stride as u32,
                    pad: [0; 3],
                },
                dist: prepared.dist,
                dtype,
                buffer: dst.buffer,
                bind_start,
                bind_size: (lead + size * n * elements.len).next_multiple_of(4),
                whole,
                groups: groups as u32,
                rows: n as u32,
            });
            r += n;
        }
        Ok(())
    }

    /// The windows of a contiguous range of elements (see [`Self::windows`]).
    #[allow(clippy::too_many_arguments)]
    fn range_windows<'a>(
        &self,
        device: &wgpu::Device,
        dst: Destination<'a>,
        prepared: &Prepared,
        dtype: Dtype,
        stream: StreamId,
        elements: Range<u64>,
        out: &mut Vec<Window<'a>>,
    ) -> Result<()> {
        let size = dtype.size_bytes() as u64;
        let len = elements.end - elements.start;
        let limits = device.limits();
        // Bound at a multiple of 32 bytes at least, so that a pair of blocks (32 bytes of f32,
        // 16 of f16/bf16) is aligned to its own size whatever the adapter allows.
        let align = u64::from(limits.min_storage_buffer_offset_alignment).max(32);
        let max_binding = limits.max_storage_buffer_binding_size & !15;
        let key = crate::contract::stream::key(stream.seed);
        let stream_words = [stream.stream as u32, (stream.stream >> 32) as u32];
        let mut done = 0u64;
        while done < len {
            let byte = dst.byte_offset + size * done;
            let bind_start = byte - byte % align;
            let lead = byte - bind_start;
            let count = (len - done)
                .min((max_binding - lead) / size)
                .min(MAX_WINDOW_ELEMENTS);
            let first = elements.start + done;
            let dst_offset = lead / size;
            // Element i of the window lands at destination index dst_offset + i. When lane 0 of
            // every block lands on a multiple of 4 (element index ≡ destination index mod 4),
            // the whole pairs of blocks from the first destination index that is a multiple of 8
            // (then the element index is a multiple of 4 too) go to the WHOLE_BLOCKS kernel, and
            // the fewer than 8 elements before and after them element by element; otherwise the
            // whole window element by element.
            let mut pieces = [(0u64, count, false); 3];
            let mut n_pieces = 1;
            if dst_offset % 4 == first % 4 {
                let head = ((8 - dst_offset % 8) % 8).min(count);
                let body = (count - head) / 8 * 8;
                let tail = count - head - body;
                n_pieces = 0;
                for (start, n, whole) in [
                    (0, head, false),
                    (head, body, true),
                    (head + body, tail, false),
                ] {
                    if n > 0 {
                        pieces[n_pieces] = (start, n, whole);
                        n_pieces += 1;
                    }
                }
            }
            for &(start, n, whole) in &pieces[..n_pieces] {
                let first = first + start;
                let first_block = first / 4;
                let first_lane = (first % 4) as u32;
                let blocks = (u64::from(first_lane) + n).div_ceil(4);
                let groups = blocks
                    .div_ceil(u64::from(WORKGROUP_SIZE) * BLOCKS_PER_INVOCATION)
                    .min(u64::from(limits.max_compute_workgroups_per_dimension))
                    .min(MAX_GROUPS);
                let piece_lead = lead + size * start;
                out.push(Window {
                    params: FillParams {
                        key,
                        stream: stream_words,
                        first_block: [first_block as u32, (first_block >> 32) as u32],
                        first_lane,
                        count: n as u32,
                        dst_offset: (piece_lead / size) as u32,
                        split: prepared.split,
                        step: prepared.step,
                        zero: 0,
                        p: prepared.p,
                        q: prepared.q,
                        row_stride: 0,
                        pad: [0; 3],
                    },
                    dist: prepared.dist,
                    dtype,
                    buffer: dst.buffer,
                    bind_start,
                    // Whole words: a 16-bit window may end in the middle of one.
                    bind_size: (piece_lead + size * n).next_multiple_of(4),
                    whole,
                    groups: groups as u32,
                    rows: 1,
                });
            }
            done += count;
        }
        Ok(())
    }

    /// Records `windows` into one compute pass, their parameters in one uniform buffer.
    fn record_windows(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        windows: &[Window<'_>],
    ) -> Result<()> {
        if windows.is_empty() {
            return Ok(());
        }
        let stride = PARAMS_SIZE.next_multiple_of(u64::from(
            device.limits().min_uniform_buffer_offset_alignment,
        ));
        let mut contents = vec![0u8; stride as usize * windows.len()];
        for (record, window) in contents.chunks_exact_mut(stride as usize).zip(windows) {
            record[..PARAMS_SIZE as usize].copy_from_slice(bytemuck::bytes_of(&window.params));
        }
        let uniform = create_buffer_init(
            device,
            &wgpu::util::BufferInitDescriptor {
                label: Some("nninit fill params"),
                contents: &contents,
                usage: wgpu::BufferUsages::UNIFORM,
            },
        )?;
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("nninit fill"),
            timestamp_writes: None,
        });
        let mut current: Option<(KernelDist, Dtype, bool)> = None;
        for (index, window) in windows.iter().enumerate() {
            let kind = (window.dist, window.dtype, window.whole);
            if current != Some(kind) {
                pass.set_pipeline(self.pipeline(device, window.dist, window.dtype, window.whole));
                current = Some(kind);
            }
            let (layout, binding, whole_binding) = match window.dtype {
                Dtype::F32 => (&self.layout, 1, 3),
                Dtype::F16 | Dtype::Bf16 => (&self.layout16, 2, 4),
            };
            let whole = if window.whole {
                wgpu::BufferBinding {
                    buffer: window.buffer,
                    offset: window.bind_start,
                    size: wgpu::BufferSize::new(window.bind_size),
                }
            } else {
                wgpu::BufferBinding {
                    buffer: &self.spare,
                    offset: 0,
                    size: None,
                }
            };
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("nninit fill"),
                layout,
                entries: &[
                    bound_range(0, &uniform, 0, PARAMS_SIZE),
                    bound_range(binding, window.buffer, window.bind_start, window.bind_size),
                    wgpu::BindGroupEntry {
                        binding: whole_binding,
                        resource: wgpu::BindingResource::Buffer(whole),
                    },
                ],
            });
            pass.set_bind_group(0, &bind_group, &[(index as u64 * stride) as u32]);
            pass.dispatch_workgroups(window.groups, window.rows, 1);
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
                source: wgpu::ShaderSource::Wgsl(Self::with_int64(self.int64, KAT_SHADER).into()),
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

/// Checks that `elements` of `size` bytes each fit in `dst`, and that its rows neither overlap
/// nor pass the last u64 index; returns how many elements it holds.
fn checked_destination(dst: Destination<'_>, elements: &Rows, size: u64) -> Result<u64> {
    let last_index = elements
        .rows
        .saturating_sub(1)
        .checked_mul(elements.stride)
        .and_then(|offset| offset.checked_add(elements.first))
        .and_then(|start| start.checked_add(elements.len));
    if last_index.is_none() || (elements.rows > 1 && elements.stride < elements.len) {
        return Err(Error::invalid(
            "elements",
            format!("{elements:?}"),
            "rows that do not overlap (stride ≥ len), within u64 indices",
        ));
    }
    let len = elements.rows.checked_mul(elements.len).ok_or_else(|| {
        Error::invalid("elements", format!("{elements:?}"), "count overflows u64")
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int64_variants_replace_their_marked_text() {
        let limbs = FillKernels::with_int64(false, FILL_SHADER);
        assert_eq!(limbs, FILL_SHADER);
        let int64 = FillKernels::with_int64(true, FILL_SHADER);
        assert!(int64.contains(MUL_WIDE_INT64) && int64.contains(PAIR_STORES_INT64));
        assert!(!int64.contains("// BEGIN") && !int64.contains("a_lo * b_lo"));
        assert!(!int64.contains("array<array<vec4<u32>, 2>>"));
        let kat = FillKernels::with_int64(true, KAT_SHADER);
        assert!(kat.contains(MUL_WIDE_INT64) && !kat.contains(PAIR_STORES_INT64));
    }
}

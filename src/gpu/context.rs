//! Adapter selection and a convenience handle that owns a device, its queue and the kernels.

use std::ops::Range;
use std::sync::Arc;

use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::gpu::kernels::{Destination, FillKernels};
use crate::sampler::Sampler;
use crate::stream::StreamId;

/// Largest piece the convenience readback path fills and copies at once (128 MiB).
const READBACK_PIECE_BYTES: u64 = 128 << 20;

/// Finds an adapter the way wgpu's own helpers do — `WGPU_BACKEND` limits the backends,
/// `WGPU_ADAPTER_NAME` picks the first adapter whose name contains it (case-insensitive),
/// `WGPU_POWER_PREF` sets the preference otherwise — but returns an error instead of panicking
/// when nothing matches.
pub async fn request_adapter() -> Result<wgpu::Adapter> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let backends = wgpu::Backends::from_env().unwrap_or_default();
    if let Ok(wanted) = std::env::var("WGPU_ADAPTER_NAME") {
        let wanted_lower = wanted.to_lowercase();
        let adapters = instance.enumerate_adapters(backends).await;
        let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        return adapters
            .into_iter()
            .find(|a| a.get_info().name.to_lowercase().contains(&wanted_lower))
            .ok_or_else(|| Error::NoAdapter {
                reason: format!("WGPU_ADAPTER_NAME={wanted:?} matches none of {names:?}"),
            });
    }
    instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::from_env()
                .unwrap_or(wgpu::PowerPreference::HighPerformance),
            force_fallback_adapter: false,
            compatible_surface: None,
            ..Default::default()
        })
        .await
        .map_err(|e| Error::NoAdapter {
            reason: format!("{e}; backends {backends:?}"),
        })
}

/// A device with the adapter's own limits (not wgpu's defaults: lavapipe binds only 128 MiB under
/// those, real GPUs far more), whose uncaptured errors are logged instead of panicking.
pub async fn request_device(adapter: &wgpu::Adapter) -> Result<(wgpu::Device, wgpu::Queue)> {
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("nninit"),
            required_features: wgpu::Features::empty(),
            required_limits: adapter.limits(),
            ..Default::default()
        })
        .await
        .map_err(|e| Error::RequestDevice {
            adapter: adapter.get_info().name,
            reason: e.to_string(),
        })?;
    device.on_uncaptured_error(Arc::new(|error| {
        log::error!("uncaptured wgpu error: {error}")
    }));
    Ok((device, queue))
}

/// Owns an adapter, device, queue and compiled kernels: the short path for programs that do not
/// have a wgpu device of their own. Everything it does goes through [`FillKernels`].
#[derive(Debug)]
pub struct GpuContext {
    adapter_info: wgpu::AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    kernels: FillKernels,
}

impl GpuContext {
    /// Opens the adapter chosen by [`request_adapter`] with its own limits.
    pub fn new() -> Result<Self> {
        pollster::block_on(async {
            let adapter = request_adapter().await?;
            let (device, queue) = request_device(&adapter).await?;
            Ok(Self::from_device(adapter.get_info(), device, queue))
        })
    }

    /// Wraps a device the caller already has.
    pub fn from_device(
        adapter_info: wgpu::AdapterInfo,
        device: wgpu::Device,
        queue: wgpu::Queue,
    ) -> Self {
        let kernels = FillKernels::new(&device);
        Self {
            adapter_info,
            device,
            queue,
            kernels,
        }
    }

    /// What the adapter says about itself.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.adapter_info
    }

    /// The device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The compiled kernels.
    pub fn kernels(&self) -> &FillKernels {
        &self.kernels
    }

    /// Draws elements `elements` of `sampler` from `stream` on the GPU and reads them back.
    pub fn fill(
        &self,
        sampler: &Sampler,
        stream: StreamId,
        elements: Range<u64>,
    ) -> Result<Vec<f32>> {
        sampler.validate()?;
        self.fill_and_read(elements, 4, |encoder, dst, piece| {
            self.kernels
                .record_fill(&self.device, encoder, dst, sampler, stream, piece)
        })
    }

    /// Draws elements `elements` of `sampler` from `stream` on the GPU as the 16-bit `dtype`
    /// ([`Dtype::F16`] or [`Dtype::Bf16`]; see [`FillKernels::record_fill_dtype`]) and reads back
    /// their bits. [`Dtype::F32`] is an error here: use [`GpuContext::fill`].
    pub fn fill_bits(
        &self,
        sampler: &Sampler,
        stream: StreamId,
        elements: Range<u64>,
        dtype: Dtype,
    ) -> Result<Vec<u16>> {
        if dtype == Dtype::F32 {
            return Err(Error::invalid(
                "dtype",
                dtype,
                "must be f16 or bf16 for 16-bit bits (use fill for f32)",
            ));
        }
        sampler.prepare(dtype)?;
        self.fill_and_read(elements, 2, |encoder, dst, piece| {
            self.kernels.record_fill_dtype(
                &self.device,
                encoder,
                dst,
                sampler,
                stream,
                piece,
                dtype,
            )
        })
    }

    /// Draws elements `elements` of `sampler` from `stream` on the GPU as `dtype` and reads back
    /// their bytes, `dtype.size_bytes()` per element, little-endian (as they lie in the buffer,
    /// and as `.npy` and `.safetensors` files store them).
    pub fn fill_bytes(
        &self,
        sampler: &Sampler,
        stream: StreamId,
        elements: Range<u64>,
        dtype: Dtype,
    ) -> Result<Vec<u8>> {
        sampler.prepare(dtype)?;
        self.fill_and_read(
            elements,
            dtype.size_bytes() as u64,
            |encoder, dst, piece| {
                self.kernels.record_fill_dtype(
                    &self.device,
                    encoder,
                    dst,
                    sampler,
                    stream,
                    piece,
                    dtype,
                )
            },
        )
    }

    /// Raw words `elements` of `stream`, computed on the GPU and read back.
    pub fn words(&self, stream: StreamId, elements: Range<u64>) -> Result<Vec<u32>> {
        self.fill_and_read(elements, 4, |encoder, dst, piece| {
            self.kernels
                .record_words(&self.device, encoder, dst, stream, piece)
        })
    }

    /// Philox4x32-10 of each `(counter, key)` computed on the GPU: checks the device's arithmetic
    /// against known answers.
    pub fn philox4x32_10(&self, inputs: &[([u32; 4], [u32; 2])]) -> Result<Vec<[u32; 4]>> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let records: Vec<u32> = inputs
            .iter()
            .flat_map(|(ctr, key)| [ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1], 0, 0])
            .collect();
        let bytes = (inputs.len() * 16) as u64;
        self.with_error_scope("philox4x32_10", || {
            use wgpu::util::DeviceExt;
            let input = self
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("nninit philox_kat inputs"),
                    contents: bytemuck::cast_slice(&records),
                    usage: wgpu::BufferUsages::STORAGE,
                });
            let output = self.storage_buffer(bytes);
            let mut encoder = self.device.create_command_encoder(&Default::default());
            self.kernels.record_philox_kat(
                &self.device,
                &mut encoder,
                &input,
                &output,
                inputs.len() as u32,
            );
            let words: Vec<u32> = self.read_back(encoder, &output, 0, bytes)?;
            Ok(words
                .chunks_exact(4)
                .map(|w| [w[0], w[1], w[2], w[3]])
                .collect())
        })
    }

    /// Fills `elements` (`elem_bytes` bytes each, a multiple of `size_of::<T>()`) piece by piece
    /// into one reusable buffer and copies each piece out, so the host never holds more than the
    /// result plus one piece. Copies are whole 4-byte words; the padding of a final odd 16-bit
    /// element is dropped.
    fn fill_and_read<T: bytemuck::Pod>(
        &self,
        elements: Range<u64>,
        elem_bytes: u64,
        record: impl Fn(&mut wgpu::CommandEncoder, Destination<'_>, Range<u64>) -> Result<()>,
    ) -> Result<Vec<T>> {
        let per_element = (elem_bytes as usize) / std::mem::size_of::<T>();
        let len = elements.end.checked_sub(elements.start).ok_or_else(|| {
            Error::invalid(
                "range",
                format!("{}..{}", elements.start, elements.end),
                "start must not exceed end",
            )
        })?;
        let host_len = usize::try_from(len)
            .ok()
            .and_then(|n| n.checked_mul(per_element))
            .filter(|n| n.checked_mul(std::mem::size_of::<T>()).is_some())
            .ok_or_else(|| Error::invalid("range", len, "too many elements for host memory"))?;
        let mut out = Vec::with_capacity(host_len);
        if len == 0 {
            return Ok(out);
        }
        // An even number of elements per piece, so that 16-bit pieces start on a word.
        let piece_len = len.min(READBACK_PIECE_BYTES / elem_bytes);
        self.with_error_scope("fill", || {
            let buffer = self.storage_buffer((piece_len * elem_bytes).next_multiple_of(4));
            let mut start = elements.start;
            while start < elements.end {
                let piece = start..elements.end.min(start + piece_len);
                let mut encoder = self.device.create_command_encoder(&Default::default());
                let dst = Destination {
                    buffer: &buffer,
                    byte_offset: 0,
                };
                record(&mut encoder, dst, piece.clone())?;
                let bytes = (piece.end - piece.start) * elem_bytes;
                let mut values =
                    self.read_back::<T>(encoder, &buffer, 0, bytes.next_multiple_of(4))?;
                values.truncate(bytes as usize / std::mem::size_of::<T>());
                out.extend(values);
                start = piece.end;
            }
            Ok(out)
        })
    }

    fn storage_buffer(&self, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("nninit storage"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    /// Copies `bytes` bytes of `buffer` from `byte_offset` back to the host (the buffer needs
    /// `COPY_SRC` usage; offset and size multiples of 4). Waits for all work submitted before it.
    pub fn read_buffer<T: bytemuck::Pod>(
        &self,
        buffer: &wgpu::Buffer,
        byte_offset: u64,
        bytes: u64,
    ) -> Result<Vec<T>> {
        if !byte_offset.is_multiple_of(4) || !bytes.is_multiple_of(4) {
            return Err(Error::invalid(
                "byte_offset/bytes",
                format!("{byte_offset}/{bytes}"),
                "must be multiples of 4",
            ));
        }
        if !buffer.usage().contains(wgpu::BufferUsages::COPY_SRC) {
            return Err(Error::invalid(
                "buffer usage",
                format!("{:?}", buffer.usage()),
                "must include COPY_SRC",
            ));
        }
        if byte_offset
            .checked_add(bytes)
            .is_none_or(|end| end > buffer.size())
        {
            return Err(Error::invalid(
                "bytes",
                format!("{bytes} at byte offset {byte_offset}"),
                format!("must end within the buffer's {} bytes", buffer.size()),
            ));
        }
        if bytes == 0 {
            return Ok(Vec::new());
        }
        self.with_error_scope("readback", || {
            let encoder = self.device.create_command_encoder(&Default::default());
            self.read_back(encoder, buffer, byte_offset, bytes)
        })
    }

    /// Appends a copy of `bytes` bytes of `buffer` from `byte_offset` to `encoder`, submits it,
    /// waits and returns them.
    fn read_back<T: bytemuck::Pod>(
        &self,
        mut encoder: wgpu::CommandEncoder,
        buffer: &wgpu::Buffer,
        byte_offset: u64,
        bytes: u64,
    ) -> Result<Vec<T>> {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("nninit readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.copy_buffer_to_buffer(buffer, byte_offset, &staging, 0, bytes);
        self.queue.submit([encoder.finish()]);
        let (sender, receiver) = std::sync::mpsc::channel();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |result| drop(sender.send(result)));
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::gpu("readback", e))?;
        receiver
            .recv()
            .map_err(|e| Error::gpu("readback", e))?
            .map_err(|e| Error::gpu("readback", e))?;
        let values = {
            let view = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::gpu("readback", e))?;
            bytemuck::pod_collect_to_vec(&view)
        };
        staging.unmap();
        Ok(values)
    }

    /// Runs `work` inside validation and out-of-memory error scopes and turns what they catch into
    /// an [`Error::Gpu`], so no wgpu error reaches the default panicking handler.
    fn with_error_scope<R>(
        &self,
        during: &'static str,
        work: impl FnOnce() -> Result<R>,
    ) -> Result<R> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let result = work();
        let validation_error = pollster::block_on(validation.pop());
        let oom_error = pollster::block_on(oom.pop());
        match (validation_error.or(oom_error), result) {
            (Some(error), _) => Err(Error::gpu(during, error)),
            (None, result) => result,
        }
    }
}

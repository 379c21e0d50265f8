//! [`GpuContext`]: a convenience handle that owns a device, its queue and the fill kernels, and
//! runs every call inside error scopes.

use std::collections::HashMap;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;

use super::adapter::{request_adapter, request_device};
use super::kernels::{Destination, FillKernels, FillRequest};
use super::resources::create_buffer_init;
use crate::contract::dtype::Dtype;
use crate::contract::slice::Rows;
use crate::contract::stream::StreamId;
use crate::error::{Error, Result};
use crate::sample::sampler::Sampler;

/// Largest piece the convenience paths fill and copy back at once (32 MiB): on a device whose
/// memory is host memory (lavapipe) each piece costs that much twice (the filled buffer and its
/// staging copy), and 32 MiB pieces measured as fast as 128 MiB ones.
const READBACK_PIECE_BYTES: u64 = 32 << 20;

/// Owns an adapter, device, queue and compiled kernels: the short path for programs that do not
/// have a wgpu device of their own. Everything it does goes through [`FillKernels`].
///
/// # Faults
///
/// Every call runs its GPU work inside validation, out-of-memory and internal error scopes and
/// returns what they catch as [`Error::Gpu`]; nothing reaches wgpu's default handler, which
/// panics. Errors that escape any scope on this device (work recorded outside this handle, e.g.
/// with [`GpuContext::device`] directly) are logged by the handle's uncaptured-error handler and
/// returned by the next call of this handle made on the same thread.
///
/// A lost device (driver reset, out of device memory, [`wgpu::Device::destroy`]) makes every later
/// call return `Error::Gpu { reason: "device lost …" }`; [`GpuContext::is_lost`] says so without
/// doing work. The handle cannot recover: drop it and open a new one with [`GpuContext::new`].
///
/// Buffers the handle allocates are checked against `max_buffer_size` before wgpu sees them
/// ([`Error::InvalidParameter`] naming `buffer size`), and the readback paths
/// ([`GpuContext::fill`], [`GpuContext::fill_bytes`], …) work through pieces of at most 32 MiB
/// and at most `max_buffer_size`, so a tensor larger than one buffer is filled and read back
/// piece by piece. A host result that cannot be allocated is an error, not an abort.
///
/// A buffer of another device is a validation error like any other, as long as both devices come
/// from [`request_adapter`] (one wgpu instance per process); a buffer made through a wgpu
/// instance of the caller's own is beyond what wgpu can check, and wgpu panics on it.
///
/// The handle is `Send + Sync`: threads may share one (`&GpuContext` or `Arc<GpuContext>`) and
/// fill at once; wgpu's error scopes are per thread, so each call sees only its own errors.
#[derive(Debug)]
pub struct GpuContext {
    adapter_info: wgpu::AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    kernels: FillKernels,
    /// Set (once) by the device-lost callback, or when polling the device panics.
    lost: Arc<OnceLock<String>>,
    /// Errors that reached the uncaptured-error handler, by the thread that caused them.
    uncaptured: Arc<Mutex<HashMap<ThreadId, String>>>,
}

impl GpuContext {
    /// Opens the adapter chosen by [`request_adapter`] with its own limits.
    pub fn new() -> Result<Self> {
        Self::from_adapter(&pollster::block_on(request_adapter())?)
    }

    /// Opens `adapter` (for instance one from [`request_adapter`] whose info the caller has
    /// looked at) with its own limits, as [`GpuContext::new`] does.
    pub fn from_adapter(adapter: &wgpu::Adapter) -> Result<Self> {
        let (device, queue) = pollster::block_on(request_device(adapter))?;
        let context = Self::from_device(adapter.get_info(), device, queue);
        // Compiling the kernels failed: say so now rather than at the first call.
        context.check_device("kernel compilation")?;
        Ok(context)
    }

    /// Wraps a device the caller already has. The handle takes over the device's
    /// uncaptured-error handler (it logs and reports errors as described in [the type's
    /// docs](GpuContext#faults)) and its device-lost callback.
    pub fn from_device(
        adapter_info: wgpu::AdapterInfo,
        device: wgpu::Device,
        queue: wgpu::Queue,
    ) -> Self {
        let lost = Arc::new(OnceLock::new());
        let uncaptured: Arc<Mutex<HashMap<ThreadId, String>>> = Arc::default();
        {
            let lost = Arc::clone(&lost);
            device.set_device_lost_callback(move |reason, message| {
                let _ = lost.set(lost_reason(reason, &message));
            });
        }
        {
            let uncaptured = Arc::clone(&uncaptured);
            device.on_uncaptured_error(Arc::new(move |error| {
                log::error!("uncaptured wgpu error: {error}");
                if let Ok(mut map) = uncaptured.lock() {
                    map.entry(std::thread::current().id())
                        .or_insert_with(|| describe(&error));
                }
            }));
        }
        let scopes = ErrorScopes::push(&device);
        let kernels = FillKernels::new(&device);
        if let Some(error) = scopes.pop() {
            // Reported by every later call (and by `new` at once).
            let _ = lost.set(format!(
                "compiling the fill kernels failed: {}",
                describe(&error)
            ));
        }
        Self {
            adapter_info,
            device,
            queue,
            kernels,
            lost,
            uncaptured,
        }
    }

    /// Whether the device is lost (or unusable): every call will then return an error. Polls the
    /// device without waiting, so a device destroyed since the last call is seen.
    pub fn is_lost(&self) -> bool {
        let _ = self.poll("is_lost", wgpu::PollType::Poll);
        self.lost.get().is_some()
    }

    /// Runs `work` — typically device calls recorded through [`GpuContext::device`] — inside
    /// validation, out-of-memory and internal error scopes on this thread and returns what they
    /// catch as [`Error::Gpu`] raised `during` it; a lost device is an error before and after
    /// `work`. The convenience methods of this handle all run this way.
    pub fn scoped<R>(&self, during: &'static str, work: impl FnOnce() -> Result<R>) -> Result<R> {
        self.with_error_scope(during, work)
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
        self.fill_as(sampler, stream, checked_range(elements)?, Dtype::F32)
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
        self.fill_as(sampler, stream, checked_range(elements)?, dtype)
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
        self.fill_as(sampler, stream, checked_range(elements)?, dtype)
    }

    /// The elements of `rows` (a box of the tensor, row after row) of `sampler` from `stream`
    /// as `dtype`, read back as little-endian bytes: each row computed directly, in as few
    /// dispatches as the rows allow, never the rows' whole extent.
    pub fn fill_rows_bytes(
        &self,
        sampler: &Sampler,
        stream: StreamId,
        rows: Rows,
        dtype: Dtype,
    ) -> Result<Vec<u8>> {
        self.fill_as(sampler, stream, rows, dtype)
    }

    /// Elements `elements` of `sampler` from `stream` as `dtype`, read back as `T`s (f32 values,
    /// 16-bit patterns or bytes): the work of [`Self::fill`], [`Self::fill_bits`],
    /// [`Self::fill_bytes`] and [`Self::fill_rows_bytes`].
    fn fill_as<T: bytemuck::Pod>(
        &self,
        sampler: &Sampler,
        stream: StreamId,
        elements: Rows,
        dtype: Dtype,
    ) -> Result<Vec<T>> {
        sampler.prepare(dtype)?;
        self.fill_and_read(
            elements,
            dtype.size_bytes() as u64,
            |encoder, dst, piece| {
                let request = FillRequest {
                    dst,
                    sampler: *sampler,
                    stream,
                    elements: piece,
                    dtype,
                };
                self.kernels
                    .record_fill_batch(&self.device, encoder, &[request])
            },
        )
    }

    /// Raw words `elements` of `stream`, computed on the GPU and read back.
    pub fn words(&self, stream: StreamId, elements: Range<u64>) -> Result<Vec<u32>> {
        self.fill_and_read(checked_range(elements)?, 4, |encoder, dst, piece| {
            self.kernels
                .record_words(&self.device, encoder, dst, stream, piece.row(0))
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
        let input_bytes = records.len() as u64 * 4;
        let bytes = (inputs.len() * 16) as u64;
        self.check_buffer_size(input_bytes)?;
        self.with_error_scope("philox4x32_10", || {
            let input = create_buffer_init(
                &self.device,
                &wgpu::util::BufferInitDescriptor {
                    label: Some("nninit philox_kat inputs"),
                    contents: bytemuck::cast_slice(&records),
                    usage: wgpu::BufferUsages::STORAGE,
                },
            )?;
            let output = self.storage_buffer(bytes)?;
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
    /// result plus one piece. A piece is at most 32 MiB and at most the device's
    /// `max_buffer_size`, so ranges larger than any one buffer are filled in pieces. Copies are
    /// whole 4-byte words; the padding of a final odd 16-bit element is dropped.
    fn fill_and_read<T: bytemuck::Pod>(
        &self,
        elements: Rows,
        elem_bytes: u64,
        record: impl Fn(&mut wgpu::CommandEncoder, Destination<'_>, Rows) -> Result<()>,
    ) -> Result<Vec<T>> {
        let per_element = (elem_bytes as usize) / std::mem::size_of::<T>();
        let len = elements.rows.saturating_mul(elements.len);
        let shown = match elements.rows {
            1 => format!("{}..{}", elements.first, elements.first + elements.len),
            _ => format!("{elements:?}"),
        };
        let too_big = || {
            Error::invalid(
                "range",
                &shown,
                format!(
                    "{len} elements of {elem_bytes} bytes do not fit in host memory; \
                     fill it into a buffer of your own (FillKernels::record_fill) or in parts"
                ),
            )
        };
        let host_len = usize::try_from(len)
            .ok()
            .and_then(|n| n.checked_mul(per_element))
            .filter(|n| n.checked_mul(std::mem::size_of::<T>()).is_some())
            .ok_or_else(too_big)?;
        if len == 0 {
            return Ok(Vec::new());
        }
        self.check_device("fill")?;
        let mut out = Vec::new();
        out.try_reserve_exact(host_len).map_err(|_| too_big())?;
        // Whole 4-byte words per piece (so 16-bit pieces start on a word), within the limits.
        let max_piece_bytes = READBACK_PIECE_BYTES.min(self.device.limits().max_buffer_size);
        let piece_len = len.min((max_piece_bytes & !3) / elem_bytes / 2 * 2).max(2);
        self.with_error_scope("fill", || {
            let buffer = self.storage_buffer((piece_len * elem_bytes).next_multiple_of(4))?;
            for piece in elements.pieces(piece_len) {
                let mut encoder = self.device.create_command_encoder(&Default::default());
                let dst = Destination {
                    buffer: &buffer,
                    byte_offset: 0,
                };
                record(&mut encoder, dst, piece)?;
                let bytes = piece.numel() * elem_bytes;
                // Straight from the mapped staging buffer into the result: no third copy.
                self.read_back_with(encoder, &buffer, 0, bytes.next_multiple_of(4), |view| {
                    let keep = bytes as usize / std::mem::size_of::<T>();
                    let old = out.len();
                    out.resize(old + keep, T::zeroed());
                    bytemuck::cast_slice_mut::<T, u8>(&mut out[old..])
                        .copy_from_slice(&view[..bytes as usize]);
                })?;
            }
            Ok(out)
        })
    }

    /// `bytes` within the device's `max_buffer_size`, or an error naming both.
    fn check_buffer_size(&self, bytes: u64) -> Result<()> {
        let max = self.device.limits().max_buffer_size;
        if bytes > max {
            return Err(Error::invalid(
                "buffer size",
                format!("{bytes} bytes"),
                format!("must not exceed the device's max_buffer_size of {max} bytes"),
            ));
        }
        Ok(())
    }

    fn storage_buffer(&self, bytes: u64) -> Result<wgpu::Buffer> {
        self.check_buffer_size(bytes)?;
        Ok(self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("nninit storage"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        }))
    }

    /// Copies `bytes` bytes of `buffer` from `byte_offset` back to the host (the buffer needs
    /// `COPY_SRC` usage; offset and size multiples of 4). Waits for all work submitted before it.
    /// Copies through staging buffers of at most 32 MiB, straight into the result.
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
        let size = std::mem::size_of::<T>() as u64;
        if size == 0 || !bytes.is_multiple_of(size) {
            // Whatever `bytemuck::pod_collect_to_vec` makes of it, in one piece.
            return self.with_error_scope("readback", || {
                let encoder = self.device.create_command_encoder(&Default::default());
                self.read_back(encoder, buffer, byte_offset, bytes)
            });
        }
        // In pieces of at most 32 MiB, each a whole number of words and of elements, copied
        // from the mapped staging buffer straight into the result: the host holds the result
        // and one piece, never a second copy of the whole.
        let unit = size * 4 / gcd(size, 4);
        let max_piece = READBACK_PIECE_BYTES.min(self.device.limits().max_buffer_size);
        let piece_bytes = (max_piece / unit).max(1) * unit;
        let too_big = || {
            Error::invalid(
                "bytes",
                bytes,
                "the result does not fit in host memory; read it in parts",
            )
        };
        let len = usize::try_from(bytes / size).map_err(|_| too_big())?;
        self.check_device("readback")?;
        let mut out: Vec<T> = Vec::new();
        out.try_reserve_exact(len).map_err(|_| too_big())?;
        self.with_error_scope("readback", || {
            let mut done = 0u64;
            while done < bytes {
                let piece = piece_bytes.min(bytes - done);
                let encoder = self.device.create_command_encoder(&Default::default());
                self.read_back_with(encoder, buffer, byte_offset + done, piece, |view| {
                    let old = out.len();
                    out.resize(old + (piece / size) as usize, T::zeroed());
                    bytemuck::cast_slice_mut::<T, u8>(&mut out[old..]).copy_from_slice(view);
                })?;
                done += piece;
            }
            Ok(out)
        })
    }

    /// Appends a copy of `bytes` bytes of `buffer` from `byte_offset` to `encoder`, submits it,
    /// waits and returns them.
    fn read_back<T: bytemuck::Pod>(
        &self,
        encoder: wgpu::CommandEncoder,
        buffer: &wgpu::Buffer,
        byte_offset: u64,
        bytes: u64,
    ) -> Result<Vec<T>> {
        let mut values = Vec::new();
        self.read_back_with(encoder, buffer, byte_offset, bytes, |view| {
            values = bytemuck::pod_collect_to_vec(view);
        })?;
        Ok(values)
    }

    /// Appends a copy of `bytes` bytes of `buffer` from `byte_offset` to `encoder`, submits it,
    /// waits and hands the mapped bytes to `consume`.
    fn read_back_with(
        &self,
        mut encoder: wgpu::CommandEncoder,
        buffer: &wgpu::Buffer,
        byte_offset: u64,
        bytes: u64,
        consume: impl FnOnce(&[u8]),
    ) -> Result<()> {
        self.check_buffer_size(bytes)?;
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
        self.poll("readback", wgpu::PollType::wait_indefinitely())?;
        // A lost device may leave the copy undone; its bytes must not be returned.
        self.check_lost("readback")?;
        receiver
            .recv()
            .map_err(|e| Error::gpu("readback", e))?
            .map_err(|e| Error::gpu("readback", e))?;
        {
            let view = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::gpu("readback", e))?;
            consume(&view);
        }
        staging.unmap();
        Ok(())
    }

    /// Polls the device; a poll that fails or panics (wgpu panics on a device error while
    /// waiting, e.g. a device lost by the driver) is an [`Error::Gpu`], and a panic also marks the
    /// device lost.
    fn poll(&self, during: &'static str, poll_type: wgpu::PollType) -> Result<()> {
        match catch_unwind(AssertUnwindSafe(|| self.device.poll(poll_type))) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(Error::gpu(during, error)),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("wgpu panicked while polling the device");
                let _ = self.lost.set(format!("device lost: {message}"));
                Err(Error::gpu(during, message))
            }
        }
    }

    /// An error if the device is known to be lost.
    fn check_lost(&self, during: &'static str) -> Result<()> {
        match self.lost.get() {
            Some(reason) => Err(Error::gpu(during, reason)),
            None => Ok(()),
        }
    }

    /// An error if the device is lost (polling it without waiting first, so that a destroyed
    /// device's lost callback has run) or if an error escaped every scope on this thread since
    /// the last call.
    fn check_device(&self, during: &'static str) -> Result<()> {
        if self.lost.get().is_none() {
            self.poll(during, wgpu::PollType::Poll)?;
        }
        self.check_lost(during)?;
        let uncaptured = match self.uncaptured.lock() {
            Ok(mut map) => map.remove(&std::thread::current().id()),
            Err(_) => None,
        };
        match uncaptured {
            Some(error) => Err(Error::gpu(
                during,
                format!("an earlier GPU operation on this thread failed: {error}"),
            )),
            None => Ok(()),
        }
    }

    /// Runs `work` inside validation, out-of-memory and internal error scopes and turns what they
    /// catch into an [`Error::Gpu`], so no wgpu error reaches the default panicking handler. A lost
    /// device is an error before `work` and after it (wgpu drops the errors of a lost device
    /// silently, so `work` may have "succeeded" with garbage).
    fn with_error_scope<R>(
        &self,
        during: &'static str,
        work: impl FnOnce() -> Result<R>,
    ) -> Result<R> {
        self.check_device(during)?;
        let scopes = ErrorScopes::push(&self.device);
        let result = work();
        let scope_error = scopes.pop();
        self.check_device(during)?;
        match (scope_error, result) {
            (Some(error), _) => Err(Error::gpu(during, describe(&error))),
            (None, result) => result,
        }
    }
}

/// A wgpu error and its causes on one line (wgpu's own text spreads them over several).
fn describe(error: &wgpu::Error) -> String {
    let mut text = String::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = next {
        text.push_str(&error.to_string());
        text.push('\n');
        next = error.source();
    }
    crate::error::one_line(&text)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The text of a device-lost callback: starts with "device lost".
fn lost_reason(reason: wgpu::DeviceLostReason, message: &str) -> String {
    let reason = match reason {
        wgpu::DeviceLostReason::Destroyed => "destroyed",
        _ => "unknown reason",
    };
    if message.is_empty() {
        format!("device lost ({reason})")
    } else {
        format!("device lost ({reason}): {message}")
    }
}

/// Out-of-memory, validation and internal error scopes on the current thread, popped together
/// (innermost first). Not `Send`: wgpu's scopes belong to the thread that pushed them.
struct ErrorScopes {
    scopes: [wgpu::ErrorScopeGuard; 3],
}

impl ErrorScopes {
    fn push(device: &wgpu::Device) -> Self {
        Self {
            scopes: [
                device.push_error_scope(wgpu::ErrorFilter::OutOfMemory),
                device.push_error_scope(wgpu::ErrorFilter::Internal),
                device.push_error_scope(wgpu::ErrorFilter::Validation),
            ],
        }
    }

    /// The error caught, preferring out of memory, then internal, then validation: a failed
    /// allocation leaves an invalid buffer behind, and the validation errors of its later uses
    /// only repeat it.
    fn pop(self) -> Option<wgpu::Error> {
        let [oom, internal, validation] = self.scopes;
        let validation = pollster::block_on(validation.pop());
        let internal = pollster::block_on(internal.pop());
        let oom = pollster::block_on(oom.pop());
        oom.or(internal).or(validation)
    }
}

/// `range` as one row, when its start does not exceed its end.
fn checked_range(range: Range<u64>) -> Result<Rows> {
    if range.start > range.end {
        return Err(Error::invalid(
            "range",
            format!("{}..{}", range.start, range.end),
            "start must not exceed end",
        ));
    }
    Ok(Rows::from(range))
}

//! The fill kernels' variants and the batched API: the `SHADER_INT64` Philox (the adapter must
//! offer it) against the known answers and the CPU reference; every sampler and dtype at
//! aligned and unaligned ranges and offsets (whole-block interior plus partial edges, or element
//! by element); and `record_fill_batch` against fills one by one. Values must be bit-identical.

mod common;

use nninit::backend::gpu::FillRequest;
use nninit::{Destination, Dtype, Error, GpuContext, Sampler, StreamId};

fn samplers() -> Vec<Sampler> {
    vec![
        Sampler::Uniform {
            low: -0.3,
            high: 0.7,
        },
        Sampler::Normal {
            mean: 0.0,
            std: 1.0,
        },
        Sampler::TruncNormal {
            mean: 0.0,
            std: 1.0,
            low: -2.0,
            high: 2.0,
        },
        Sampler::TruncNormal {
            mean: 0.0,
            std: 1.0,
            low: 3.0,
            high: 9.0,
        },
        Sampler::Constant { value: 0.125 },
    ]
}

/// A context whose device has `SHADER_INT64` enabled. Fails the test, naming the adapter, when the
/// adapter does not offer it: the 64-bit kernels cannot run there, and a test that returned early
/// would pass without checking them (lavapipe, the CI adapter, offers it).
fn int64_gpu() -> GpuContext {
    pollster::block_on(async {
        let adapter = nninit::backend::gpu::request_adapter()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", common::NO_ADAPTER));
        assert!(
            adapter.features().contains(wgpu::Features::SHADER_INT64),
            "adapter {} does not offer SHADER_INT64: the 64-bit kernels cannot be tested on it",
            adapter.get_info().name
        );
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                required_features: wgpu::Features::SHADER_INT64,
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .unwrap();
        GpuContext::from_device(adapter.get_info(), device, queue)
    })
}

fn storage(gpu: &GpuContext, bytes: u64) -> wgpu::Buffer {
    gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: bytes,
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// Fills `requests` in one batch into `buffer` (pre-filled with 0xAB bytes) and returns its bytes.
fn batch_bytes(gpu: &GpuContext, buffer: &wgpu::Buffer, requests: &[FillRequest<'_>]) -> Vec<u8> {
    gpu.queue()
        .write_buffer(buffer, 0, &vec![0xABu8; buffer.size() as usize]);
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    gpu.kernels()
        .record_fill_batch(gpu.device(), &mut encoder, requests)
        .unwrap();
    gpu.queue().submit([encoder.finish()]);
    gpu.read_buffer(buffer, 0, buffer.size()).unwrap()
}

/// The bytes the CPU reference gives for elements `range` as `dtype`.
fn cpu_bytes(
    sampler: &Sampler,
    stream: StreamId,
    range: std::ops::Range<u64>,
    dtype: Dtype,
) -> Vec<u8> {
    let mut bytes = vec![0u8; (range.end - range.start) as usize * dtype.size_bytes()];
    nninit::backend::cpu::fill_bytes(sampler, stream, range.start, dtype, &mut bytes).unwrap();
    bytes
}

/// Fills each `(first element, count, byte offset)` of `placed` with `sampler` as `dtype` in one
/// batch into a poisoned buffer of `bytes` bytes and checks it against the CPU reference: each
/// fill (and the 64 bytes after it) first, so a failure names the fill, then every byte.
fn check_placed(
    gpu: &GpuContext,
    bytes: u64,
    placed: &[(u64, u64, u64)],
    sampler: Sampler,
    stream: StreamId,
    dtype: Dtype,
) {
    let buffer = storage(gpu, bytes);
    let requests: Vec<FillRequest<'_>> = placed
        .iter()
        .map(|&(first, count, byte_offset)| FillRequest {
            dst: Destination {
                buffer: &buffer,
                byte_offset,
            },
            sampler,
            stream,
            elements: (first..first + count).into(),
            dtype,
        })
        .collect();
    let got = batch_bytes(gpu, &buffer, &requests);
    let mut want = vec![0xABu8; bytes as usize];
    for &(first, count, byte_offset) in placed {
        let values = cpu_bytes(&sampler, stream, first..first + count, dtype);
        want[byte_offset as usize..][..values.len()].copy_from_slice(&values);
    }
    let size = dtype.size_bytes() as u64;
    for &(first, count, byte_offset) in placed {
        let span =
            byte_offset as usize..((byte_offset + count * size) as usize + 64).min(got.len());
        assert!(
            got[span.clone()] == want[span],
            "{sampler:?} {dtype}: elements {first}..{} at byte {byte_offset}",
            first + count
        );
    }
    assert!(
        got == want,
        "{sampler:?} {dtype}: a byte between the fills changed"
    );
}

/// Every sampler and dtype, at ranges and byte offsets that do and do not line blocks up with
/// the destination, batched into one buffer; every byte outside the fills must stay 0xAB.
fn check_fills_equal_cpu(gpu: &GpuContext) {
    let stream = StreamId::named(3, "w");
    // (first element, count, byte offset in elements)
    let layouts: [(u64, u64, u64); 6] = [
        (0, 4096, 0),
        (1, 999, 1),
        (2, 10_001, 6),
        (3, 5, 3),
        (7, 3, 1),
        (4, 1027, 13),
    ];
    for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
        let size = dtype.size_bytes() as u64;
        for sampler in samplers() {
            let mut at = 0u64;
            let mut placed = Vec::new();
            for &(first, count, offset) in &layouts {
                let byte_offset = at + offset * size;
                placed.push((first, count, byte_offset));
                at = (byte_offset + count * size + 64).next_multiple_of(4);
            }
            check_placed(gpu, 64 * 1024, &placed, sampler, stream, dtype);
        }
    }
}

/// Every split of a window into element-by-element edges and the whole-pair interior: each
/// destination position modulo 8 (for 16-bit output the odd ones start in the middle of a word),
/// each first element modulo 8, and counts around the pair size; every byte outside the fills
/// must stay 0xAB.
fn check_every_split(gpu: &GpuContext) {
    let stream = StreamId::named(5, "split");
    let sampler = Sampler::Normal {
        mean: 0.5,
        std: 2.0,
    };
    let counts = [1u64, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100];
    for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
        let size = dtype.size_bytes() as u64;
        let mut placed = Vec::new();
        let mut at = 0u64;
        for position in 0..8u64 {
            for first in 0..8u64 {
                for count in counts {
                    // `at` is a multiple of 32 bytes: position is the destination index mod 8.
                    placed.push((first, count, at + position * size));
                    at += (position + count) * size + 64;
                    at = at.next_multiple_of(32);
                }
            }
        }
        check_placed(gpu, at, &placed, sampler, stream, dtype);
    }
}

#[test]
fn every_split_into_edges_and_pairs_equals_the_cpu_reference() {
    check_every_split(common::gpu());
    check_every_split(&common::gpu_with(|limits| limits));
}

#[test]
fn batched_fills_at_every_alignment_equal_the_cpu_reference() {
    check_fills_equal_cpu(common::gpu());
}

#[test]
fn batch_of_many_buffers_equals_fills_one_by_one() {
    let gpu = common::gpu();
    let sizes = [1u64, 3, 4, 1000, 65_537, 4, 250_000];
    let buffers: Vec<wgpu::Buffer> = sizes
        .iter()
        .map(|&n| storage(gpu, 4 * n.next_multiple_of(4)))
        .collect();
    let requests: Vec<FillRequest<'_>> = buffers
        .iter()
        .zip(sizes)
        .enumerate()
        .map(|(i, (buffer, n))| FillRequest {
            dst: Destination {
                buffer,
                byte_offset: 0,
            },
            sampler: samplers()[i % 5],
            stream: StreamId::named(9, &format!("t{i}")),
            elements: (0..n).into(),
            dtype: Dtype::F32,
        })
        .collect();
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    gpu.kernels()
        .record_fill_batch(gpu.device(), &mut encoder, &requests)
        .unwrap();
    gpu.queue().submit([encoder.finish()]);
    for (request, buffer) in requests.iter().zip(&buffers) {
        let n = request.elements.row(0).end;
        let got: Vec<f32> = gpu.read_buffer(buffer, 0, 4 * n).unwrap();
        let want = gpu.fill(&request.sampler, request.stream, 0..n).unwrap();
        assert!(
            got.iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
    // One invalid request (past the end of its buffer): the error names the range, and the
    // encoder holds nothing, so submitting it leaves the buffer as it was.
    let poison = vec![0xABu8; buffers[0].size() as usize];
    gpu.queue().write_buffer(&buffers[0], 0, &poison);
    let bad = [FillRequest {
        stream: StreamId::named(9, "bad"),
        elements: (0..1 << 20).into(),
        ..requests[0].clone()
    }];
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    match gpu
        .kernels()
        .record_fill_batch(gpu.device(), &mut encoder, &bad)
    {
        Err(Error::InvalidParameter { name, allowed, .. }) => {
            assert_eq!(name, "range");
            assert!(
                allowed.contains("within the buffer's 16 bytes"),
                "{allowed}"
            );
        }
        other => panic!("a fill past the buffer gave {other:?}"),
    }
    gpu.queue().submit([encoder.finish()]);
    let after: Vec<u8> = gpu.read_buffer(&buffers[0], 0, buffers[0].size()).unwrap();
    assert_eq!(after, poison, "the refused batch wrote");
}

#[test]
fn int64_philox_matches_every_ten_round_vector_and_the_cpu() {
    let gpu = int64_gpu();
    assert!(gpu.kernels().uses_int64());
    let kats: Vec<_> = common::philox_kats()
        .into_iter()
        .filter(|k| k.rounds == 10)
        .collect();
    let inputs: Vec<_> = kats.iter().map(|k| (k.ctr, k.key)).collect();
    let outputs = gpu.philox4x32_10(&inputs).unwrap();
    for (kat, out) in kats.iter().zip(&outputs) {
        assert_eq!(*out, kat.out, "ctr {:08x?} key {:08x?}", kat.ctr, kat.key);
    }
    let stream = StreamId::new(u64::MAX, 0x0123_4567_89ab_cdef);
    let first = (1u64 << 34) - 1000;
    let words = gpu.words(stream, first..first + 100_000).unwrap();
    let mut want = vec![0u32; 100_000];
    nninit::backend::cpu::fill_words(stream, first, &mut want).unwrap();
    assert!(words == want);
    check_fills_equal_cpu(&gpu);
}

/// A device opened without features runs the 16-bit-limb Philox and the 32-bit whole-block
/// stores (the default device has SHADER_INT64 wherever the adapter does, as lavapipe's does).
#[test]
fn limb_kernels_match_every_ten_round_vector_and_the_cpu() {
    let gpu = common::gpu_with(|limits| limits);
    assert!(!gpu.kernels().uses_int64());
    let kats: Vec<_> = common::philox_kats()
        .into_iter()
        .filter(|k| k.rounds == 10)
        .collect();
    let inputs: Vec<_> = kats.iter().map(|k| (k.ctr, k.key)).collect();
    for (kat, out) in kats.iter().zip(gpu.philox4x32_10(&inputs).unwrap()) {
        assert_eq!(out, kat.out, "ctr {:08x?} key {:08x?}", kat.ctr, kat.key);
    }
    check_fills_equal_cpu(&gpu);
}

/// `GpuContext::new` asks for `SHADER_INT64` wherever the adapter offers it, and the kernels
/// follow the device: the default device runs the limb kernels only on adapters without it.
#[test]
fn the_default_device_enables_int64_exactly_when_the_adapter_offers_it() {
    let gpu = common::gpu();
    let adapter = pollster::block_on(nninit::backend::gpu::request_adapter()).unwrap();
    assert_eq!(
        &adapter.get_info(),
        gpu.adapter_info(),
        "not the same adapter"
    );
    let offered = adapter.features().contains(wgpu::Features::SHADER_INT64);
    let enabled = gpu
        .device()
        .features()
        .contains(wgpu::Features::SHADER_INT64);
    println!(
        "{}: SHADER_INT64 offered {offered}, enabled {enabled}, kernels use it {}",
        adapter.get_info().name,
        gpu.kernels().uses_int64()
    );
    assert_eq!(enabled, offered, "the default device's SHADER_INT64");
    assert_eq!(
        gpu.kernels().uses_int64(),
        offered,
        "the kernels' SHADER_INT64"
    );
}

#[test]
fn one_element_in_a_small_buffer_writes_only_itself() {
    let gpu = common::gpu();
    for (len, total) in [(1u64, 16u64), (1, 4), (2, 16), (5, 32)] {
        let buffer = storage(gpu, total);
        let request = FillRequest {
            dst: Destination {
                buffer: &buffer,
                byte_offset: 0,
            },
            sampler: Sampler::Uniform {
                low: 0.0,
                high: 0.001,
            },
            stream: StreamId::new(0, 0),
            elements: (0..len).into(),
            dtype: Dtype::F32,
        };
        let got = batch_bytes(gpu, &buffer, std::slice::from_ref(&request));
        assert!(
            got[4 * len as usize..].iter().all(|&b| b == 0xAB),
            "{len} in {total}: {got:?}"
        );
        let want = cpu_bytes(&request.sampler, request.stream, 0..len, Dtype::F32);
        assert_eq!(&got[..4 * len as usize], &want[..]);
    }
}

//! One GPU handle shared by many threads: fills at once give exactly the values of the same fills
//! one after another, disjoint ranges of one buffer filled from eight threads compose to the whole
//! fill, and one thread's GPU errors never fail another thread's calls.

mod common;

use std::ops::Range;
use std::sync::Barrier;

use nninit::{Destination, Dtype, Error, FillKernels, GpuContext, Sampler, StreamId};

#[test]
fn the_gpu_handle_and_the_kernels_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<GpuContext>();
    send_sync::<FillKernels>();
    send_sync::<std::sync::Arc<GpuContext>>();
    send_sync::<nninit::backend::gpu::orthogonal::OrthogonalKernels>();
    send_sync::<Sampler>();
    send_sync::<StreamId>();
    send_sync::<nninit::Error>();
}

const THREADS: usize = 8;

/// Thread `t`'s tensor: its own sampler, dtype, stream and size.
fn job(t: usize) -> (Sampler, Dtype, StreamId, Range<u64>) {
    let sampler = match t % 4 {
        0 => Sampler::Normal {
            mean: 0.0,
            std: 0.02,
        },
        1 => Sampler::Uniform {
            low: -0.3,
            high: 0.7,
        },
        2 => Sampler::TruncNormal {
            mean: 0.0,
            std: 1.0,
            low: -2.0,
            high: 2.0,
        },
        _ => Sampler::Constant { value: t as f32 },
    };
    let dtype = [Dtype::F32, Dtype::F16, Dtype::Bf16][t % 3];
    let first = 1_000 * t as u64 + 3;
    (
        sampler,
        dtype,
        StreamId::new(42, t as u64),
        first..first + 150_001 + 10_007 * t as u64,
    )
}

/// Thread `t`'s way of filling: through the convenience path, or recorded into its own buffer.
fn run_job(gpu: &GpuContext, t: usize) -> Vec<u8> {
    let (sampler, dtype, id, range) = job(t);
    if t.is_multiple_of(2) {
        return gpu.fill_bytes(&sampler, id, range, dtype).unwrap();
    }
    let bytes = (range.end - range.start) * dtype.size_bytes() as u64;
    let buffer = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("thread's own"),
        size: bytes.next_multiple_of(4) + 8,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    common::submit_fill(gpu, &buffer, 8, &sampler, id, range, dtype).unwrap();
    let mut out: Vec<u8> = gpu
        .read_buffer(&buffer, 8, bytes.next_multiple_of(4))
        .unwrap();
    out.truncate(bytes as usize);
    out
}

#[test]
fn eight_threads_filling_at_once_equal_sequential_fills() {
    let gpu = common::gpu();
    let sequential: Vec<Vec<u8>> = (0..THREADS).map(|t| run_job(gpu, t)).collect();
    // The sequential fills are the CPU reference's bytes (bit-identical on lavapipe).
    for (t, bytes) in sequential.iter().enumerate() {
        let (sampler, dtype, id, range) = job(t);
        let mut cpu = vec![0u8; bytes.len()];
        nninit::backend::cpu::fill_bytes(&sampler, id, range.start, dtype, &mut cpu).unwrap();
        assert_eq!(
            bytes, &cpu,
            "thread {t}'s sequential fill differs from the CPU"
        );
    }
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    // Several rounds, so that the threads' submits and waits interleave.
                    (0..4).map(|_| run_job(gpu, t)).collect::<Vec<_>>()
                })
            })
            .collect();
        for (t, handle) in handles.into_iter().enumerate() {
            for (round, bytes) in handle.join().unwrap().iter().enumerate() {
                assert!(
                    bytes == &sequential[t],
                    "thread {t}, round {round}: concurrent fill differs from the sequential one"
                );
            }
        }
    });
}

#[test]
fn disjoint_ranges_of_one_buffer_filled_from_eight_threads_compose() {
    let gpu = common::gpu();
    let id = StreamId::new(7, 77);
    let sampler = Sampler::Normal {
        mean: 1.0,
        std: 0.5,
    };
    for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
        let size = dtype.size_bytes() as u64;
        let first = 5u64; // element `first` of the tensor goes to byte 0
        let n = 400_003u64;
        let bytes = (n * size).next_multiple_of(4);
        let buffer = common::buffer_holding(gpu, &vec![0xA5; bytes as usize]);
        // Odd split points: neighbouring 16-bit pieces share a 4-byte word.
        let mut bounds = vec![0u64];
        bounds.extend((1..THREADS as u64).map(|k| (k * n / THREADS as u64) | 1));
        bounds.push(n);
        let barrier = Barrier::new(THREADS);
        std::thread::scope(|s| {
            for k in 0..THREADS {
                let (lo, hi) = (bounds[k], bounds[k + 1]);
                let (buffer, barrier, sampler) = (&buffer, &barrier, &sampler);
                s.spawn(move || {
                    let mut encoder = gpu.device().create_command_encoder(&Default::default());
                    gpu.kernels()
                        .record_fill_dtype(
                            gpu.device(),
                            &mut encoder,
                            Destination {
                                buffer,
                                byte_offset: lo * size,
                            },
                            sampler,
                            id,
                            first + lo..first + hi,
                            dtype,
                        )
                        .unwrap();
                    barrier.wait();
                    gpu.queue().submit([encoder.finish()]);
                });
            }
        });
        let got: Vec<u8> = gpu.read_buffer(&buffer, 0, bytes).unwrap();
        let mut want = vec![0u8; (n * size) as usize];
        nninit::backend::cpu::fill_bytes(&sampler, id, first, dtype, &mut want).unwrap();
        assert!(
            got[..want.len()] == want[..],
            "{dtype}: the pieces do not compose to the whole fill"
        );
        let whole = gpu
            .fill_bytes(&sampler, id, first..first + n, dtype)
            .unwrap();
        assert!(whole == want, "{dtype}: the whole GPU fill differs");
    }
}

#[test]
fn one_threads_gpu_errors_do_not_fail_the_others() {
    let gpu = common::gpu();
    let max = gpu.device().limits().max_buffer_size;
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for _ in 0..10 {
                    if t == 0 {
                        let result = gpu.scoped("invalid on purpose", || {
                            let _ = gpu.device().create_buffer(&wgpu::BufferDescriptor {
                                label: Some("too large"),
                                size: max.saturating_add(4),
                                usage: wgpu::BufferUsages::STORAGE,
                                mapped_at_creation: false,
                            });
                            Ok(())
                        });
                        match result {
                            Err(Error::Gpu { during, .. }) => {
                                assert_eq!(during, "invalid on purpose");
                            }
                            other => panic!("thread 0's error was not seen: {other:?}"),
                        }
                    } else {
                        let (sampler, _, id, _) = job(t);
                        let got = gpu.fill(&sampler, id, 0..4096).unwrap();
                        let mut want = vec![0.0f32; 4096];
                        nninit::backend::cpu::fill(&sampler, id, 0, &mut want).unwrap();
                        assert_eq!(got, want, "thread {t}");
                    }
                }
            });
        }
    });
}

//! GPU fills against the CPU reference: values, sub-ranges, windows, guard bytes, moments.

mod common;

use nninit::{Destination, Sampler, StreamId};

const N: u64 = 1 << 20;

fn cpu_fill(sampler: &Sampler, id: StreamId, range: std::ops::Range<u64>) -> Vec<f32> {
    let mut out = vec![0.0; (range.end - range.start) as usize];
    nninit::backend::cpu::fill(sampler, id, range.start, &mut out).unwrap();
    out
}

/// Distance in units in the last place between two finite f32 of the same sign convention.
fn ulps(a: f32, b: f32) -> u32 {
    let key = |x: f32| {
        let bits = x.to_bits() as i32;
        if bits < 0 { i32::MIN - bits } else { bits }
    };
    key(a).abs_diff(key(b))
}

#[test]
fn uniform_gpu_equals_cpu_within_one_ulp() {
    for (seed, low, high) in [
        (1u64, -1.0f32, 1.0f32),
        (2, -0.0731, 0.0731),
        (u64::MAX, 3.5, 1e4),
        (3, -0.3, 0.7),
    ] {
        let sampler = Sampler::Uniform { low, high };
        let id = StreamId::new(seed, 11);
        let gpu = common::gpu().fill(&sampler, id, 0..N).unwrap();
        let cpu = cpu_fill(&sampler, id, 0..N);
        let worst = gpu
            .iter()
            .zip(&cpu)
            .map(|(&g, &c)| ulps(g, c))
            .max()
            .unwrap();
        let identical = gpu
            .iter()
            .zip(&cpu)
            .filter(|(g, c)| g.to_bits() == c.to_bits())
            .count();
        println!("uniform({low}, {high}): worst {worst} ulp, {identical}/{N} bit-identical");
        assert!(worst <= 1, "uniform({low}, {high}) differs by {worst} ulp");
        assert!(gpu.iter().all(|&v| (low..=high).contains(&v)));
    }
}

#[test]
fn normal_gpu_within_documented_bound_of_cpu() {
    // README "Value contract": |GPU − CPU| ≤ 1e-4·std for every element (measured ≈ 2e-5·std).
    for (seed, mean, std) in [(5u64, 0.0f32, 1.0f32), (6, 0.0, 0.02), (7, -3.0, 2.5)] {
        let sampler = Sampler::Normal { mean, std };
        let id = StreamId::new(seed, 3);
        let gpu = common::gpu().fill(&sampler, id, 0..N).unwrap();
        let cpu = cpu_fill(&sampler, id, 0..N);
        let worst = gpu
            .iter()
            .zip(&cpu)
            .map(|(g, c)| (g - c).abs())
            .fold(0.0f32, f32::max);
        let identical = gpu
            .iter()
            .zip(&cpu)
            .filter(|(g, c)| g.to_bits() == c.to_bits())
            .count();
        println!(
            "normal({mean}, {std}): worst |Δ| = {:.3e}·std, {identical}/{N} bit-identical",
            worst / std
        );
        assert!(
            worst <= 1e-4 * std,
            "normal({mean}, {std}): worst |Δ| {worst}"
        );
    }
}

#[test]
fn constant_fills_every_element() {
    let values = common::gpu()
        .fill(
            &Sampler::Constant { value: 0.5 },
            StreamId::new(0, 0),
            3..100_003,
        )
        .unwrap();
    assert_eq!(values.len(), 100_000);
    assert!(values.iter().all(|&v| v == 0.5));
}

#[test]
fn sub_range_equals_the_same_slice_of_the_whole_fill() {
    let n = 100_003u64;
    let id = StreamId::new(9, 1);
    for sampler in [
        Sampler::Uniform {
            low: -2.0,
            high: 3.0,
        },
        Sampler::Normal {
            mean: 1.0,
            std: 0.5,
        },
    ] {
        let whole = common::gpu().fill(&sampler, id, 0..n).unwrap();
        for range in [0..1, 1..2, 3..17, 5..n - 3, 4097..50_001, n - 1..n] {
            let part = common::gpu().fill(&sampler, id, range.clone()).unwrap();
            let expected = &whole[range.start as usize..range.end as usize];
            assert!(
                part.iter()
                    .zip(expected)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{sampler:?} range {range:?} differs from the whole fill"
            );
        }
    }
}

#[test]
fn fills_crossing_many_binding_windows_equal_cpu() {
    let gpu = common::small_window_gpu();
    assert_eq!(gpu.device().limits().max_storage_buffer_binding_size, 4096);
    let id = StreamId::new(77, 5);
    let sampler = Sampler::Normal {
        mean: 0.0,
        std: 1.0,
    };
    let expected = cpu_fill(&sampler, id, 0..20_011);
    let buffer = common::poisoned_buffer(gpu, 4 * 20_100);
    // Odd element offsets and a byte offset that is not a multiple of the binding alignment.
    for (byte_offset, range) in [
        (0u64, 0..20_011u64),
        (4 * 37, 13..19_999),
        (4 * 65, 1021..1030),
    ] {
        let mut encoder = gpu.device().create_command_encoder(&Default::default());
        let dst = Destination {
            buffer: &buffer,
            byte_offset,
        };
        gpu.kernels()
            .record_fill(gpu.device(), &mut encoder, dst, &sampler, id, range.clone())
            .unwrap();
        gpu.queue().submit([encoder.finish()]);
        let bytes = 4 * (range.end - range.start);
        let got: Vec<f32> = gpu.read_buffer(&buffer, byte_offset, bytes).unwrap();
        let want = &expected[range.start as usize..range.end as usize];
        let worst = got
            .iter()
            .zip(want)
            .map(|(g, c)| (g - c).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst <= 1e-4,
            "range {range:?} at byte {byte_offset}: worst {worst}"
        );
    }
}

#[test]
fn fill_at_an_offset_leaves_every_other_byte_untouched() {
    let gpu = common::gpu();
    let id = StreamId::new(1234, 99);
    let total = 70_000u64;
    for (sampler, guard_before, range) in [
        (
            Sampler::Uniform {
                low: 0.0,
                high: 1.0,
            },
            37u64,
            6..60_007u64,
        ),
        (
            Sampler::Normal {
                mean: 0.0,
                std: 0.02,
            },
            64,
            1..2,
        ),
        (Sampler::Constant { value: -7.0 }, 3, 0..65_000),
    ] {
        let buffer = common::poisoned_buffer(gpu, 4 * total);
        let mut encoder = gpu.device().create_command_encoder(&Default::default());
        let dst = Destination {
            buffer: &buffer,
            byte_offset: 4 * guard_before,
        };
        gpu.kernels()
            .record_fill(gpu.device(), &mut encoder, dst, &sampler, id, range.clone())
            .unwrap();
        gpu.queue().submit([encoder.finish()]);
        let words: Vec<u32> = gpu.read_buffer(&buffer, 0, 4 * total).unwrap();
        let len = (range.end - range.start) as usize;
        let start = guard_before as usize;
        assert!(
            words[..start].iter().all(|&w| w == common::POISON),
            "{sampler:?}: bytes before the range written"
        );
        assert!(
            words[start + len..].iter().all(|&w| w == common::POISON),
            "{sampler:?}: bytes after the range written"
        );
        let expected = cpu_fill(&sampler, id, range);
        let filled: &[f32] = bytemuck::cast_slice(&words[start..start + len]);
        let worst = filled
            .iter()
            .zip(&expected)
            .map(|(g, c)| (g - c).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= 1e-4 * 0.02, "{sampler:?}: worst {worst}");
    }
}

/// z-statistics of the sample mean and of the mean squared deviation, with known parameters.
fn moment_z(values: &[f32], mean: f64, variance: f64, fourth_central: f64) -> (f64, f64) {
    let n = values.len() as f64;
    let (sum, sum_sq) = values.iter().fold((0.0f64, 0.0f64), |(s, q), &v| {
        let d = f64::from(v) - mean;
        (s + d, q + d * d)
    });
    let z_mean = (sum / n) / (variance / n).sqrt();
    // Var[(x − μ)²] = μ4 − σ⁴.
    let z_var = (sum_sq / n - variance) / ((fourth_central - variance * variance) / n).sqrt();
    (z_mean, z_var)
}

/// Two-sided α = 1e-6 for a standard normal statistic.
const Z_CRITICAL: f64 = 4.891_638;

#[test]
fn uniform_and_normal_moments_pass_z_tests() {
    for seed in [0u64, 1, 2, 0xDEAD_BEEF] {
        let id = StreamId::new(seed, 0);
        let (low, high) = (-1.5f64, 2.5f64);
        let values = common::gpu()
            .fill(
                &Sampler::Uniform {
                    low: low as f32,
                    high: high as f32,
                },
                id,
                0..N,
            )
            .unwrap();
        let width = high - low;
        let (zm, zv) = moment_z(
            &values,
            (low + high) / 2.0,
            width * width / 12.0,
            width.powi(4) / 80.0,
        );
        assert!(
            zm.abs() < Z_CRITICAL && zv.abs() < Z_CRITICAL,
            "uniform seed {seed}: z = {zm:.2}, {zv:.2}"
        );

        let (mean, std) = (0.25f64, 2.0f64);
        let values = common::gpu()
            .fill(
                &Sampler::Normal {
                    mean: mean as f32,
                    std: std as f32,
                },
                id,
                0..N,
            )
            .unwrap();
        let (zm, zv) = moment_z(&values, mean, std * std, 3.0 * std.powi(4));
        assert!(
            zm.abs() < Z_CRITICAL && zv.abs() < Z_CRITICAL,
            "normal seed {seed}: z = {zm:.2}, {zv:.2}"
        );
    }
}

/// The name of the parameter an `Error::InvalidParameter` blames; any other outcome fails.
fn blamed<T: std::fmt::Debug>(result: Result<T, nninit::Error>) -> String {
    match result {
        Err(nninit::Error::InvalidParameter {
            name,
            value,
            allowed,
        }) => {
            assert!(!value.is_empty() && !allowed.is_empty(), "{name}");
            name
        }
        other => panic!("expected Error::InvalidParameter, got {other:?}"),
    }
}

#[test]
fn invalid_requests_are_errors_naming_the_parameter() {
    let gpu = common::gpu();
    let id = StreamId::new(0, 0);
    let normal = |std| Sampler::Normal { mean: 0.0, std };
    assert_eq!(blamed(gpu.fill(&normal(0.0), id, 0..4)), "std");
    assert_eq!(blamed(gpu.fill(&normal(f32::INFINITY), id, 0..4)), "std");
    let uniform = Sampler::Uniform {
        low: 1.0,
        high: 1.0,
    };
    assert_eq!(blamed(gpu.fill(&uniform, id, 0..4)), "high");
    let nan = Sampler::Constant { value: f32::NAN };
    assert_eq!(blamed(gpu.fill(&nan, id, 0..4)), "val");
    #[allow(clippy::reversed_empty_ranges)]
    let reversed = 5..4;
    let sampler = Sampler::Constant { value: 1.0 };
    assert_eq!(blamed(gpu.fill(&sampler, id, reversed)), "range");
    let buffer = common::poisoned_buffer(gpu, 4 * 16);
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    let record = |encoder: &mut wgpu::CommandEncoder, buffer, byte_offset, range| {
        gpu.kernels().record_fill(
            gpu.device(),
            encoder,
            Destination {
                buffer,
                byte_offset,
            },
            &sampler,
            id,
            range,
        )
    };
    let unaligned = record(&mut encoder, &buffer, 2, 0..4);
    assert_eq!(blamed(unaligned), "byte_offset");
    let past_the_end = record(&mut encoder, &buffer, 0, 0..17);
    assert_eq!(blamed(past_the_end), "range");
    let past_the_end_at_offset = record(&mut encoder, &buffer, 8, 0..15);
    assert_eq!(blamed(past_the_end_at_offset), "range");
    let overflowing = record(&mut encoder, &buffer, 0, 0..u64::MAX);
    assert_eq!(blamed(overflowing), "range");
    let no_storage = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 64,
        usage: wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    assert_eq!(
        blamed(record(&mut encoder, &no_storage, 0, 0..4)),
        "buffer usage"
    );
    // Nothing was recorded: the buffer still holds its poison.
    gpu.queue().submit([encoder.finish()]);
    let after: Vec<u32> = gpu.read_buffer(&buffer, 0, 64).unwrap();
    assert!(after.iter().all(|&w| w == common::POISON), "{after:x?}");
}

/// The index fill (the stores' ceiling `nninit bench` measures random fills against) writes each
/// element's own index, through the whole-block kernel and through element-wise edges at an
/// unaligned range and offset, and nothing outside the range.
#[test]
fn index_fill_writes_each_elements_index_and_nothing_else() {
    let gpu = common::gpu();
    for (range, byte_offset) in [(0..(1u64 << 20), 0u64), (13..100_013, 20), (7..8, 4)] {
        let n = range.end - range.start;
        let bytes = byte_offset + 4 * n + 64;
        let buffer = common::poisoned_buffer(gpu, bytes);
        let mut encoder = gpu.device().create_command_encoder(&Default::default());
        gpu.kernels()
            .record_index_fill(
                gpu.device(),
                &mut encoder,
                Destination {
                    buffer: &buffer,
                    byte_offset,
                },
                range.clone(),
            )
            .unwrap();
        gpu.queue().submit([encoder.finish()]);
        let words: Vec<u32> = gpu.read_buffer(&buffer, 0, bytes).unwrap();
        let first = (byte_offset / 4) as usize;
        for (k, &word) in words.iter().enumerate() {
            if (first..first + n as usize).contains(&k) {
                let index = range.start + (k - first) as u64;
                assert_eq!(f32::from_bits(word), index as f32, "element {index}");
            } else {
                assert_eq!(
                    word,
                    common::POISON,
                    "word {k} outside the fill was written"
                );
            }
        }
    }
}

//! f16 and bf16 output: the WGSL rounding's Rust twin against the `half` crate, GPU
//! against CPU for every sampler, fills at odd element ranges and half-word offsets that must
//! leave every other byte alone, windows that split a word, bounds after rounding, errors.

mod common;

use nninit::{Destination, GpuContext, StreamId};
use nninit::{Dtype, Sampler};
use rayon::prelude::*;

use common::invalid_parameter_name;

const N: u64 = 1 << 20;

/// Order-preserving integer key of 16-bit sign–magnitude float bits.
fn key(bits: u16) -> i32 {
    let magnitude = i32::from(bits & 0x7fff);
    if bits & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

fn ulps(a: u16, b: u16) -> u32 {
    key(a).abs_diff(key(b))
}

#[test]
fn wgsl_rounding_twins_equal_the_half_crate() {
    // Every sign, exponent and top 7 mantissa bits, with the low 16 bits at a stride of 7 plus
    // every pattern next to a rounding tie; NNINIT_EXHAUSTIVE=1 checks all 2^32 f32 (~25 s).
    let exhaustive = std::env::var_os("NNINIT_EXHAUSTIVE").is_some();
    let mut lows: Vec<u32> = if exhaustive {
        (0..1 << 16).collect()
    } else {
        (0..1 << 16).step_by(7).collect()
    };
    if !exhaustive {
        for tie in [0x1000u32, 0x8000] {
            lows.extend([tie - 1, tie, tie + 1, tie | 0x2000, (tie | 0x2000) + 1]);
        }
        lows.extend([0, 1, 0x0fff, 0x1fff, 0x7fff, 0xffff]);
    }
    let mismatches: u64 = (0u32..=u16::MAX as u32)
        .into_par_iter()
        .map(|high| {
            let mut bad = 0u64;
            for &low in &lows {
                let x = f32::from_bits(high << 16 | low);
                bad += u64::from(
                    nninit::contract::math::f16_bits(x) != half::f16::from_f32(x).to_bits(),
                );
                bad += u64::from(
                    nninit::contract::math::bf16_bits(x) != half::bf16::from_f32(x).to_bits(),
                );
            }
            bad
        })
        .sum();
    assert_eq!(mismatches, 0);
}

fn cpu_bits(
    sampler: &Sampler,
    id: StreamId,
    range: std::ops::Range<u64>,
    dtype: Dtype,
) -> Vec<u16> {
    let mut out = vec![0; (range.end - range.start) as usize];
    nninit::backend::cpu::fill_bits(sampler, id, range.start, dtype, &mut out).unwrap();
    out
}

#[test]
fn gpu_equals_cpu_within_one_ulp_for_every_sampler() {
    let gpu = common::gpu();
    let samplers = [
        Sampler::Uniform {
            low: -1.0,
            high: 1.0,
        },
        Sampler::Uniform {
            low: -0.3,
            high: 0.7,
        },
        // f16 subnormals (below 6.1e-5) and the rounding of bounds that f16 cannot hold.
        Sampler::Uniform {
            low: -1e-4,
            high: 1e-4,
        },
        // Beyond f16's range: the bounds round inwards to ±65504, no infinities.
        Sampler::Uniform {
            low: -7e4,
            high: 7e4,
        },
        Sampler::Normal {
            mean: 0.0,
            std: 0.02,
        },
        Sampler::Normal {
            mean: -3.0,
            std: 2.5,
        },
        // Overflows f16 now and then (|v| ≥ 65520 rounds to ±∞ on both sides).
        Sampler::Normal {
            mean: 0.0,
            std: 2e4,
        },
        Sampler::TruncNormal {
            mean: 0.0,
            std: 0.002,
            low: -2.0,
            high: 2.0,
        },
        Sampler::TruncNormal {
            mean: 0.0,
            std: 1.0,
            low: 2.0,
            high: 3.0,
        },
        Sampler::Constant { value: 1.0 / 3.0 },
    ];
    for (i, sampler) in samplers.iter().enumerate() {
        let id = StreamId::new(500 + i as u64, 1);
        for dtype in [Dtype::F16, Dtype::Bf16] {
            let g = gpu.fill_bits(sampler, id, 0..N, dtype).unwrap();
            let c = cpu_bits(sampler, id, 0..N, dtype);
            let worst = g.iter().zip(&c).map(|(&a, &b)| ulps(a, b)).max().unwrap();
            let identical = g.iter().zip(&c).filter(|(a, b)| a == b).count();
            println!("{sampler:?} {dtype}: worst {worst} ulp, {identical}/{N} bit-identical");
            assert!(worst <= 1, "{sampler:?} {dtype}: {worst} ulp");
            if let Sampler::Uniform { low, high } | Sampler::TruncNormal { low, high, .. } =
                *sampler
            {
                assert!(
                    g.iter().all(|&b| {
                        let v = dtype.value_of(b.into());
                        low <= v && v <= high
                    }),
                    "{sampler:?} {dtype}: a rounded value left [{low}, {high}]"
                );
            }
        }
    }
}

#[test]
fn f16_and_bf16_round_the_f32_values_to_nearest_even() {
    // The 16-bit output is the f32 output rounded, element by element (CPU, and GPU within 1 ulp
    // above): checked here against the f32 fill and the half crate directly.
    let sampler = Sampler::Normal {
        mean: 0.5,
        std: 3.0,
    };
    let id = StreamId::new(8, 8);
    let mut f32s = vec![0.0f32; 1 << 16];
    nninit::backend::cpu::fill(&sampler, id, 0, &mut f32s).unwrap();
    let mut f16s = vec![half::f16::ZERO; 1 << 16];
    nninit::backend::cpu::fill_f16(&sampler, id, 0, &mut f16s).unwrap();
    let mut bf16s = vec![half::bf16::ZERO; 1 << 16];
    nninit::backend::cpu::fill_bf16(&sampler, id, 0, &mut bf16s).unwrap();
    for ((&x, &h), &b) in f32s.iter().zip(&f16s).zip(&bf16s) {
        assert_eq!(h, half::f16::from_f32(x));
        assert_eq!(b, half::bf16::from_f32(x));
    }
}

#[test]
fn fill_bytes_equal_between_gpu_and_cpu_and_match_the_typed_fills() {
    let gpu = common::gpu();
    let sampler = Sampler::Uniform {
        low: -0.25,
        high: 0.25,
    };
    let id = StreamId::new(77, 0);
    for dtype in Dtype::ALL {
        for range in [0..4097u64, 3..1000, 5..6] {
            let len = (range.end - range.start) as usize;
            let g = gpu.fill_bytes(&sampler, id, range.clone(), dtype).unwrap();
            let mut c = vec![0u8; len * dtype.size_bytes()];
            nninit::backend::cpu::fill_bytes(&sampler, id, range.start, dtype, &mut c).unwrap();
            assert_eq!(g, c, "{dtype} {range:?}");
            let expected: Vec<u8> = match dtype {
                Dtype::F32 => gpu
                    .fill(&sampler, id, range.clone())
                    .unwrap()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                _ => gpu
                    .fill_bits(&sampler, id, range.clone(), dtype)
                    .unwrap()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            };
            assert_eq!(g, expected, "{dtype} {range:?}");
        }
    }
}

/// Checks that the buffer holds the CPU's bits of `range` from `byte_offset` (within 1 ulp) and
/// poison everywhere else.
fn check_buffer(
    gpu: &GpuContext,
    buffer: &wgpu::Buffer,
    byte_offset: u64,
    sampler: &Sampler,
    id: StreamId,
    range: std::ops::Range<u64>,
    dtype: Dtype,
) {
    let bytes: Vec<u8> = gpu.read_buffer(buffer, 0, buffer.size()).unwrap();
    let poison = common::POISON.to_le_bytes();
    let start = byte_offset as usize;
    let end = start + 2 * (range.end - range.start) as usize;
    for (i, &b) in bytes.iter().enumerate() {
        if i < start || i >= end {
            assert_eq!(
                b,
                poison[i % 4],
                "{dtype} {range:?} at byte {byte_offset}: byte {i} outside the fill was written"
            );
        }
    }
    let want = cpu_bits(sampler, id, range.clone(), dtype);
    for (k, (chunk, &w)) in bytes[start..end].chunks_exact(2).zip(&want).enumerate() {
        let got = u16::from_le_bytes([chunk[0], chunk[1]]);
        assert!(
            ulps(got, w) <= 1,
            "{dtype} {range:?} at byte {byte_offset}: element {k} is {got:#06x}, CPU {w:#06x}"
        );
    }
}

/// Fills `range` at `byte_offset` into a fresh poisoned buffer of `buffer_bytes` and checks the
/// buffer with `check_buffer`.
fn fill_poisoned_and_check(
    gpu: &GpuContext,
    buffer_bytes: u64,
    byte_offset: u64,
    sampler: &Sampler,
    id: StreamId,
    range: std::ops::Range<u64>,
    dtype: Dtype,
) {
    let buffer = common::poisoned_buffer(gpu, buffer_bytes);
    common::submit_fill(gpu, &buffer, byte_offset, sampler, id, range.clone(), dtype).unwrap();
    check_buffer(gpu, &buffer, byte_offset, sampler, id, range, dtype);
}

#[test]
fn sixteen_bit_fills_at_odd_ranges_leave_every_other_byte_untouched() {
    let gpu = common::gpu();
    let id = StreamId::new(4321, 12);
    let sampler = Sampler::Normal {
        mean: 0.0,
        std: 1.0,
    };
    for dtype in [Dtype::F16, Dtype::Bf16] {
        for (byte_offset, range) in [
            (0u64, 0..1u64),
            (2, 0..1),
            (2, 1..2),
            (0, 1..4),
            (2, 3..17),
            (6, 4..9),
            (34, 5..100_003),
            (64, 0..65_536),
            (66, 7..65_544),
            (130, 2..3),
        ] {
            fill_poisoned_and_check(gpu, 4 * 70_000, byte_offset, &sampler, id, range, dtype);
        }
    }
}

#[test]
fn adjacent_sixteen_bit_fills_sharing_a_word_compose() {
    // Three fills whose seams fall in the middle of words, submitted separately and together.
    let gpu = common::gpu();
    let id = StreamId::new(99, 99);
    let sampler = Sampler::TruncNormal {
        mean: 0.0,
        std: 0.5,
        low: -1.0,
        high: 1.0,
    };
    for dtype in [Dtype::F16, Dtype::Bf16] {
        let buffer = common::poisoned_buffer(gpu, 4096);
        let pieces = [(3u64..10u64), (10..11), (11..1000)];
        let mut encoder = gpu.device().create_command_encoder(&Default::default());
        for piece in pieces {
            let byte_offset = 2 + 2 * (piece.start - 3);
            gpu.kernels()
                .record_fill_dtype(
                    gpu.device(),
                    &mut encoder,
                    Destination {
                        buffer: &buffer,
                        byte_offset,
                    },
                    &sampler,
                    id,
                    piece,
                    dtype,
                )
                .unwrap();
        }
        gpu.queue().submit([encoder.finish()]);
        check_buffer(gpu, &buffer, 2, &sampler, id, 3..1000, dtype);
    }
}

#[test]
fn sixteen_bit_fills_crossing_many_binding_windows() {
    // A binding limit of 4096 bytes: windows of about 2048 elements whose seams split words.
    let gpu = common::small_window_gpu();
    let id = StreamId::new(5, 5);
    let sampler = Sampler::Uniform {
        low: -2.0,
        high: 3.0,
    };
    for dtype in [Dtype::F16, Dtype::Bf16] {
        for (byte_offset, range) in [(2u64, 1..20_011u64), (34, 13..19_999), (4094, 1021..1030)] {
            fill_poisoned_and_check(gpu, 48_000, byte_offset, &sampler, id, range, dtype);
        }
        // The convenience path too.
        let got = gpu.fill_bits(&sampler, id, 3..10_004, dtype).unwrap();
        assert_eq!(got, cpu_bits(&sampler, id, 3..10_004, dtype));
    }
}

#[test]
fn invalid_sixteen_bit_requests_name_their_parameter_and_write_nothing() {
    let gpu = common::gpu();
    let id = StreamId::new(0, 0);
    let sampler = Sampler::Uniform {
        low: -1.0,
        high: 1.0,
    };
    let buffer = common::poisoned_buffer(gpu, 64);
    assert_eq!(
        invalid_parameter_name(common::submit_fill(
            gpu,
            &buffer,
            1,
            &sampler,
            id,
            0..4,
            Dtype::F16
        )),
        "byte_offset"
    );
    assert_eq!(
        invalid_parameter_name(common::submit_fill(
            gpu,
            &buffer,
            2,
            &sampler,
            id,
            0..32,
            Dtype::F16
        )),
        "range",
        "past the end"
    );
    let words: Vec<u32> = gpu.read_buffer(&buffer, 0, 64).unwrap();
    assert!(
        words.iter().all(|&w| w == common::POISON),
        "a refused fill wrote: {words:x?}"
    );
    // The whole buffer, exactly: accepted, and every element is the CPU's.
    common::submit_fill(gpu, &buffer, 0, &sampler, id, 0..32, Dtype::Bf16).unwrap();
    check_buffer(gpu, &buffer, 0, &sampler, id, 0..32, Dtype::Bf16);
    assert_eq!(
        invalid_parameter_name(gpu.fill_bits(&sampler, id, 0..4, Dtype::F32)),
        "dtype"
    );
    let mut out = [0u16; 4];
    assert_eq!(
        invalid_parameter_name(nninit::backend::cpu::fill_bits(
            &sampler,
            id,
            0,
            Dtype::F32,
            &mut out
        )),
        "dtype"
    );
    let mut bytes = [0u8; 3];
    assert_eq!(
        invalid_parameter_name(nninit::backend::cpu::fill_bytes(
            &sampler,
            id,
            0,
            Dtype::F16,
            &mut bytes
        )),
        "output length"
    );
    // No f16 value lies in [70000, 80000] (bf16 values do); no bf16 value in [1.001, 1.002].
    let beyond = Sampler::Uniform {
        low: 7e4,
        high: 8e4,
    };
    assert_eq!(
        invalid_parameter_name(gpu.fill_bits(&beyond, id, 0..4, Dtype::F16)),
        "a, b"
    );
    let values = gpu.fill_bits(&beyond, id, 0..4, Dtype::Bf16).unwrap();
    let want = cpu_bits(&beyond, id, 0..4, Dtype::Bf16);
    assert!(
        values.iter().zip(&want).all(|(&g, &w)| ulps(g, w) <= 1),
        "GPU {values:x?}, CPU {want:x?}"
    );
    assert!(
        values
            .iter()
            .all(|&b| (7e4..=8e4).contains(&Dtype::Bf16.value_of(b.into()))),
        "{values:x?}"
    );
    let narrow = Sampler::Uniform {
        low: 1.001,
        high: 1.002,
    };
    assert_eq!(
        invalid_parameter_name(gpu.fill_bits(&narrow, id, 0..4, Dtype::Bf16)),
        "a, b"
    );
    // A buffer whose size is not a multiple of 4: the word holding element 2 is not all inside.
    let odd = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 6,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    let dst = Destination {
        buffer: &odd,
        byte_offset: 0,
    };
    let result = gpu.kernels().record_fill_dtype(
        gpu.device(),
        &mut encoder,
        dst,
        &sampler,
        id,
        0..3,
        Dtype::F16,
    );
    assert_eq!(invalid_parameter_name(result), "range");
}

#[test]
fn dtype_names_and_parsing() {
    for (dtype, name, st, size) in [
        (Dtype::F32, "f32", "F32", 4),
        (Dtype::F16, "f16", "F16", 2),
        (Dtype::Bf16, "bf16", "BF16", 2),
    ] {
        assert_eq!(dtype.name(), name);
        assert_eq!(dtype.to_string(), name);
        assert_eq!(dtype.safetensors_name(), st);
        assert_eq!(dtype.size_bytes(), size);
        assert_eq!(Dtype::parse(name).unwrap(), dtype);
        assert_eq!(Dtype::parse(&name.to_uppercase()).unwrap(), dtype);
    }
    assert_eq!(Dtype::parse("bfloat16").unwrap(), Dtype::Bf16);
    assert_eq!(invalid_parameter_name(Dtype::parse("f64")), "dtype");
    assert_eq!(invalid_parameter_name(Dtype::parse("")), "dtype");
    // Inner bounds: rounded inwards, never outside.
    assert_eq!(
        Dtype::F16.inner_bounds(-0.1, 0.1),
        Some((-0.099975586, 0.099975586))
    );
    assert_eq!(Dtype::Bf16.inner_bounds(-1.0, 1.0), Some((-1.0, 1.0)));
    assert_eq!(
        Dtype::F16.inner_bounds(-1e6, 1e6),
        Some((-65504.0, 65504.0))
    );
    assert_eq!(Dtype::F16.inner_bounds(1e5, 1e6), None);
}

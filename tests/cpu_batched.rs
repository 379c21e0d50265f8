//! The vectorized CPU reference (`nninit::backend::cpu`, 32 blocks at a time) against the scalar
//! definitions, block by block: `Prepared::block_values` and `StreamId::block`. Every value must
//! be bit-identical, at any offset, length and thread count, on every instruction set this CPU
//! runs (AVX-512, AVX2 and the portable path on an AVX-512 machine), each forced in turn.

use nninit::backend::cpu::{CpuIsa, with_isa};
use nninit::{Dtype, Sampler, StreamId};

/// Runs `check` with the CPU fills forced onto each instruction set this CPU runs, and says which.
fn on_every_isa(check: impl Fn()) {
    for isa in CpuIsa::supported() {
        with_isa(isa, &check).unwrap();
        println!("{isa}: checked");
    }
}

fn samplers() -> Vec<Sampler> {
    vec![
        Sampler::Uniform {
            low: -0.1,
            high: 0.1,
        },
        Sampler::Uniform {
            low: -0.3,
            high: 0.7,
        },
        Sampler::Normal {
            mean: 0.0,
            std: 1.0,
        },
        Sampler::Normal {
            mean: 0.25,
            std: 0.02,
        },
        Sampler::TruncNormal {
            mean: 0.0,
            std: 1.0,
            low: -2.0,
            high: 2.0,
        },
        // Tails: the near (√w in [2, 4)) and far (√w ≥ 4) pieces of the quantile.
        Sampler::TruncNormal {
            mean: 0.0,
            std: 1.0,
            low: 3.0,
            high: 9.0,
        },
        Sampler::TruncNormal {
            mean: 0.0,
            std: 1.0,
            low: -11.0,
            high: -5.0,
        },
        Sampler::TruncNormal {
            mean: 0.1,
            std: 0.002,
            low: -2.0,
            high: 2.0,
        },
        Sampler::Constant { value: -0.75 },
    ]
}

/// (first element, length) pairs: aligned and unaligned starts, short and multi-chunk lengths,
/// and indices past 2^32 blocks.
fn ranges() -> Vec<(u64, usize)> {
    vec![
        (0, 0),
        (0, 1),
        (3, 2),
        (0, 64),
        (1, 63),
        (5, 200),
        (0, 150_001),
        (70_001, 140_003),
        ((1u64 << 34) - 13, 1000),
    ]
}

fn scalar_values(
    sampler: &Sampler,
    dtype: Dtype,
    stream: StreamId,
    first: u64,
    len: usize,
) -> Vec<f32> {
    let prepared = sampler.prepare(dtype).unwrap();
    (first..first + len as u64)
        .map(|i| prepared.block_values(stream.block(i / 4))[(i % 4) as usize])
        .collect()
}

#[test]
fn f32_values_equal_the_scalar_definition() {
    on_every_isa(f32_values);
}

fn f32_values() {
    let stream = StreamId::named(7, "layer.weight");
    for sampler in samplers() {
        for (first, len) in ranges() {
            let want = scalar_values(&sampler, Dtype::F32, stream, first, len);
            let mut got = vec![f32::NAN; len];
            nninit::backend::cpu::fill(&sampler, stream, first, &mut got).unwrap();
            let bad = want
                .iter()
                .zip(&got)
                .position(|(a, b)| a.to_bits() != b.to_bits());
            assert!(
                bad.is_none(),
                "{sampler:?} at {first}+{bad:?}: {:?}",
                bad.map(|k| (want[k], got[k]))
            );
        }
    }
}

#[test]
fn sixteen_bit_values_and_bytes_equal_the_scalar_definition() {
    on_every_isa(sixteen_bit_values_and_bytes);
}

fn sixteen_bit_values_and_bytes() {
    let stream = StreamId::new(0x1234_5678_9abc_def0, 3);
    for sampler in samplers() {
        for dtype in [Dtype::F16, Dtype::Bf16] {
            for (first, len) in ranges() {
                let want: Vec<u16> = scalar_values(&sampler, dtype, stream, first, len)
                    .into_iter()
                    .map(|v| dtype.bits_of(v) as u16)
                    .collect();
                let mut bits = vec![0u16; len];
                nninit::backend::cpu::fill_bits(&sampler, stream, first, dtype, &mut bits).unwrap();
                assert!(want == bits, "{sampler:?} {dtype} at {first}");
                let mut bytes = vec![0u8; 2 * len];
                nninit::backend::cpu::fill_bytes(&sampler, stream, first, dtype, &mut bytes)
                    .unwrap();
                let from_bytes: Vec<u16> = bytes
                    .chunks_exact(2)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]))
                    .collect();
                assert!(want == from_bytes, "bytes {sampler:?} {dtype} at {first}");
                if dtype == Dtype::F16 {
                    let mut halves = vec![half::f16::ZERO; len];
                    nninit::backend::cpu::fill_f16(&sampler, stream, first, &mut halves).unwrap();
                    assert!(halves.iter().map(|h| h.to_bits()).eq(want.iter().copied()));
                } else {
                    let mut halves = vec![half::bf16::ZERO; len];
                    nninit::backend::cpu::fill_bf16(&sampler, stream, first, &mut halves).unwrap();
                    assert!(halves.iter().map(|h| h.to_bits()).eq(want.iter().copied()));
                }
            }
        }
    }
}

#[test]
fn f32_bytes_and_raw_words_equal_the_scalar_definition() {
    on_every_isa(f32_bytes_and_raw_words);
}

fn f32_bytes_and_raw_words() {
    let stream = StreamId::new(42, 0xffff_ffff_0000_0001);
    for (first, len) in ranges() {
        let mut words = vec![0u32; len];
        nninit::backend::cpu::fill_words(stream, first, &mut words).unwrap();
        assert!(
            words.iter().zip(first..).all(|(&w, i)| w == stream.word(i)),
            "words at {first}"
        );
        let sampler = Sampler::Normal {
            mean: 0.0,
            std: 0.5,
        };
        let want = scalar_values(&sampler, Dtype::F32, stream, first, len);
        let mut bytes = vec![0u8; 4 * len];
        nninit::backend::cpu::fill_bytes(&sampler, stream, first, Dtype::F32, &mut bytes).unwrap();
        assert!(
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .eq(want.iter().map(|v| v.to_bits()))
        );
    }
}

#[test]
fn thread_count_does_not_change_values() {
    on_every_isa(thread_count_invariance);
}

fn thread_count_invariance() {
    let isa = CpuIsa::current().unwrap();
    let sampler = Sampler::Normal {
        mean: 0.0,
        std: 1.0,
    };
    let stream = StreamId::new(1, 2);
    let mut all = vec![0f32; 300_007];
    nninit::backend::cpu::fill(&sampler, stream, 11, &mut all).unwrap();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut some = vec![0f32; 300_007];
        // The forced instruction set holds on the thread that calls the fill.
        pool.install(|| {
            with_isa(isa, || {
                nninit::backend::cpu::fill(&sampler, stream, 11, &mut some)
            })
        })
        .unwrap()
        .unwrap();
        assert!(
            all.iter()
                .zip(&some)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
}

//! Philox4x32 against Random123's known-answer vectors, on the CPU and on the GPU.

mod common;

use nninit::StreamId;
use nninit::contract::philox::{philox4x32_10, philox4x32_r};

#[test]
fn cpu_matches_every_random123_vector() {
    let kats = common::philox_kats();
    assert!(
        kats.len() >= 100,
        "expected the full KAT file, found {}",
        kats.len()
    );
    for kat in &kats {
        assert_eq!(
            philox4x32_r(kat.rounds, kat.ctr, kat.key),
            kat.out,
            "ctr {:08x?} key {:08x?}",
            kat.ctr,
            kat.key
        );
    }
}

#[test]
fn gpu_matches_every_ten_round_vector() {
    let kats: Vec<_> = common::philox_kats()
        .into_iter()
        .filter(|k| k.rounds == 10)
        .collect();
    assert!(
        kats.len() >= 50,
        "expected the ten-round vectors, found {}",
        kats.len()
    );
    let inputs: Vec<_> = kats.iter().map(|k| (k.ctr, k.key)).collect();
    let outputs = common::gpu().philox4x32_10(&inputs).unwrap();
    for (kat, out) in kats.iter().zip(&outputs) {
        assert_eq!(*out, kat.out, "ctr {:08x?} key {:08x?}", kat.ctr, kat.key);
    }
}

#[test]
fn stream_addressing_follows_the_contract() {
    let id = StreamId::new(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
    let block = 0x1_0000_0002u64;
    let expected = philox4x32_10(
        [0x0000_0002, 0x1, 0x7654_3210, 0xfedc_ba98],
        [0x89ab_cdef, 0x0123_4567],
    );
    assert_eq!(id.block(block), expected);
    for lane in 0..4 {
        assert_eq!(id.word(block * 4 + lane), expected[lane as usize]);
    }
}

#[test]
fn name_hash_is_fnv1a_64() {
    // Published FNV-1a 64 test vectors (Fowler/Noll/Vo reference test suite).
    assert_eq!(nninit::stream_of_name(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(nninit::stream_of_name("a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(nninit::stream_of_name("foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn gpu_raw_words_equal_cpu_for_2_pow_20_words() {
    let id = StreamId::new(42, 7);
    let n = 1u64 << 20;
    let gpu = common::gpu().words(id, 0..n).unwrap();
    let mut cpu = vec![0u32; n as usize];
    nninit::backend::cpu::fill_words(id, 0, &mut cpu).unwrap();
    let mismatches = gpu.iter().zip(&cpu).filter(|(g, c)| g != c).count();
    assert_eq!(mismatches, 0);
}

#[test]
fn words_past_2_pow_32_use_the_counter_high_word() {
    let id = StreamId::new(3, u64::MAX);
    let start = (1u64 << 34) - 5; // crosses block index 2^32
    let gpu = common::gpu().words(id, start..start + 40).unwrap();
    let cpu: Vec<u32> = (start..start + 40).map(|i| id.word(i)).collect();
    assert_eq!(gpu, cpu);
}

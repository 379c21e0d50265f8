//! Shared by the integration tests: one GPU context per test binary, and KAT parsing.
#![allow(dead_code)]

use std::sync::OnceLock;

use nninit::GpuContext;

/// The test binary's GPU context. Without an adapter this fails the test with the message naming
/// what to install; GPU tests never pass silently.
pub fn gpu() -> &'static GpuContext {
    static GPU: OnceLock<GpuContext> = OnceLock::new();
    GPU.get_or_init(|| match GpuContext::new() {
        Ok(gpu) => gpu,
        Err(error) => panic!("GPU tests need a wgpu adapter: {error}"),
    })
}

/// One known-answer vector: rounds, counter, key, expected output.
pub struct Kat {
    pub rounds: u32,
    pub ctr: [u32; 4],
    pub key: [u32; 2],
    pub out: [u32; 4],
}

/// Every vector in tests/data/philox4x32_kat.txt.
pub fn philox_kats() -> Vec<Kat> {
    include_str!("../data/philox4x32_kat.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 12, "malformed KAT line {line:?}");
            let hex = |i: usize| u32::from_str_radix(fields[i], 16).unwrap();
            Kat {
                rounds: fields[1].parse().unwrap(),
                ctr: [hex(2), hex(3), hex(4), hex(5)],
                key: [hex(6), hex(7)],
                out: [hex(8), hex(9), hex(10), hex(11)],
            }
        })
        .collect()
}

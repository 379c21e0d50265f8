//! The CPU reference backend: the value contract on all cores (rayon), vectorized 16 blocks at a
//! time, plus the CPU implementations of the structured draws.

mod fill;
mod isa;
pub mod orthogonal;
#[cfg(target_arch = "x86_64")]
mod philox_x86;
pub mod sparse;

pub use fill::{fill, fill_bf16, fill_bits, fill_bytes, fill_f16, fill_rows_bytes, fill_words};
pub use isa::{CpuIsa, ISA_ENV, with_isa};

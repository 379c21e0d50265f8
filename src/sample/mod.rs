//! Layer 2, the primitive samplers: what the kernels draw, as CPU twins of the WGSL.
//!
//! - [`sampler`]: uniform, normal, truncated normal and constant — one Philox block to four
//!   elements, the same arithmetic in the same order as `shaders/fill.wgsl`;
//! - [`structured`]: `eye` and `dirac`, pure functions of the index;
//! - [`orthogonal`], [`sparse`]: the semantics and host logic the CPU and GPU backends share for
//!   the two structured draws that need more than one element at a time.

pub mod orthogonal;
pub mod sampler;
pub mod sparse;
pub mod structured;

//! Layer 1, the value contract: what a value is, independent of where it is computed.
//!
//! - [`philox`]: Philox4x32-10 exactly as Random123 (WGSL twin: `shaders/philox.wgsl`);
//! - [`stream`]: addressing — `(seed, stream, element index)` to Philox words, a tensor name to
//!   its stream, and the exact word-to-float conversions;
//! - [`rng`]: a stream through the `rand_core` traits;
//! - [`math`]: the portable f32 functions every sampler uses, identical in WGSL
//!   (`shaders/math.wgsl`), and the f64 helpers that compute sampler parameters;
//! - [`dtype`]: output element types and their rounding;
//! - [`slice`](mod@slice): which elements a fill computes — a box of a tensor and its strided rows.
//!
//! Nothing here knows about schemes, backends or files.

pub mod dtype;
pub mod math;
pub mod philox;
pub mod rng;
pub mod slice;
pub mod stream;

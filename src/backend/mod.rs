//! Layer 4, the backends: where a [`Plan`](crate::scheme::Plan) becomes values.
//!
//! - [`cpu`]: the CPU reference on all cores, vectorized, bit-identical to the scalar samplers;
//! - [`gpu`]: adapter and device, the compiled WGSL fill kernels recorded into a caller's encoder,
//!   and the structured kernels (orthogonal QR, sparse);
//! - [`draw`]: the dispatch that materializes a plan on either backend, one tensor or a batch.
//!
//! Same inputs, same values: which backend ran is never part of a value.

pub mod cpu;
pub mod draw;
pub mod gpu;

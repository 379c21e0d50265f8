#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// The layers, lowest first; each module uses only the ones above it in this list (ARCHITECTURE.md).
pub mod error;

pub mod contract;

pub mod sample;

pub mod scheme;

pub mod backend;

pub mod verify;

pub mod model;

/// The wgpu this crate is built against, so a caller can name the same version's types.
pub use wgpu;

pub use backend::draw::Backend;
pub use backend::gpu::{Destination, FillKernels, FillRequest, GpuContext};
pub use contract::dtype::Dtype;
pub use contract::stream::{CONTRACT_VERSION, StreamId, stream_of_name};
pub use error::{Error, Result};
pub use sample::sampler::Sampler;
pub use scheme::{Draw, FanRule, Init, Plan};

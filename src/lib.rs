#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod atomic_file;
pub mod bench;
pub mod cpu;
pub mod draw;
pub mod dtype;
pub mod error;
pub mod fans;
pub mod gpu;
pub mod init_model;
pub mod layers;
pub mod math;
pub mod model_json;
pub mod models;
pub mod npy;
pub mod orthogonal;
pub mod philox;
pub mod safetensors_file;
pub mod sampler;
pub mod scheme;
pub mod sparse;
pub mod spec;
pub mod stats;
pub mod stream;
pub mod structured;
pub mod study;
pub mod verify;

pub use dtype::Dtype;
pub use error::{Error, Result};
pub use gpu::{Destination, FillKernels, GpuContext};
pub use sampler::Sampler;
pub use stream::{CONTRACT_VERSION, StreamId, stream_of_name};

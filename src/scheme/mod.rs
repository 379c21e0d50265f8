//! Layer 3, the schemes users ask for: PyTorch's `torch.nn.init`, JAX's and Keras's initializers
//! and PyTorch's layer defaults, lowered to a primitive [`Draw`] with concrete parameters. Pure
//! Rust arithmetic: no GPU code, no randomness.
//!
//! - [`fans`]: fans by layout and gains (`calculate_gain`);
//! - [`spec`]: the spec-string grammar (`name(key=value, …)`);
//! - `init.rs`, `parse.rs`, `plan.rs`: [`Init`] itself, spec string → [`Init`], and
//!   [`Init::plan`] → [`Plan`];
//! - [`layers`]: the default initialization of `torch.nn` layers, as named parameters.

pub mod fans;
mod init;
pub mod layers;
mod parse;
mod plan;
pub mod spec;

pub use init::{Distribution, FanRule, Init, TRUNCATED_NORMAL_STD};
pub use plan::{Draw, Plan};

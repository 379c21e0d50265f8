//! Layer 6, models: whole models and the files they go to.
//!
//! - [`presets`]: the full `state_dict` of real models (GPT-2, ResNets, an MLP) with each model's
//!   own recipe;
//! - [`json`]: the model description format of `nninit init --model FILE.json`;
//! - [`init`]: the main job — every tensor of a model drawn on a backend and streamed to a file;
//! - [`safetensors`]: the streamed `.safetensors` writer with nninit's metadata;
//! - [`parallel`]: tensor- and data-parallel ranks — placements, plans, the launcher's
//!   rank, the rank files' manifest;
//! - [`pipeline`]: the tensors of one pipeline stage;
//! - [`atomic_file`]: output files appear whole or not at all;
//! - [`role`]: what each tensor is (embedding, attention query, norm, …), the key of a recipe;
//! - [`recipe`]: the pretraining frameworks' recipes (torchtitan, Megatron, OLMo-core) as tables
//!   from role to spec;
//! - [`study`]: the seed notes' depth experiment (a 100-layer chain).

pub mod atomic_file;
pub mod checkpoint;
pub mod hf;
pub mod init;
pub mod json;
pub mod parallel;
pub mod pipeline;
pub mod presets;
pub mod recipe;
pub mod role;
pub mod run;
pub mod safetensors;
pub mod study;

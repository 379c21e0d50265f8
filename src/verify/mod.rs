//! Layer 5, verification: statistics split by test family ([`stats`]), the verifier that checks a
//! tensor element by element against the CPU reference and statistically against its claimed
//! distribution, and the orthogonality measure of `orthogonal` results.

mod header;
mod moment_sums;
pub mod orthogonality;
pub mod stats;
mod verifier;

pub use header::Header;
pub use verifier::{
    BATTERY_SAMPLE, CHI_SQUARED_BINS, Claim, Report, TRUNC_NORMAL_TOLERANCE, VerifyOptions,
    tensor_key, verify_file, verify_gpu_buffer, verify_values,
};

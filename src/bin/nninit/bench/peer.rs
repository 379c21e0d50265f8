//! The peer a Rust user picks today, written the way its users write it: `rand` + `rand_distr`,
//! `SmallRng`, one thread, a plain loop over the output slice in a function of its own.
//!
//! `nninit bench` times these functions; `examples/peer.rs` compiles this same file into a
//! program of its own, so `scripts/peer_check.sh` can show that the bench's figure is the one a
//! standalone program gets (a peer timed inside the harness's closure, with its generator
//! captured there, once ran 2× slower than the same loop on its own).

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// The generator each peer run starts from.
pub fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

/// `rand_distr::StandardNormal` into every element of `out`.
#[inline(never)]
pub fn normal(rng: &mut SmallRng, out: &mut [f32]) {
    for x in out.iter_mut() {
        *x = rng.sample(rand_distr::StandardNormal);
    }
}

/// `rand::distr::StandardUniform` (in [0, 1)) into every element of `out`.
#[inline(never)]
pub fn uniform(rng: &mut SmallRng, out: &mut [f32]) {
    for x in out.iter_mut() {
        *x = rng.sample(rand::distr::StandardUniform);
    }
}

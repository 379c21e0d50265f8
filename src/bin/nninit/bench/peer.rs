//! The peer a Rust user picks today, written the two ways its users write it: `rand` +
//! `rand_distr`, `SmallRng`, one thread, a plain loop over the output slice, either where the
//! generator lives (`*_loop`: the generator a local of the function that loops) or in a
//! function handed the generator (`fn(&mut SmallRng, &mut [f32])`). Which is faster depends on
//! the compiler and the CPU (1.6–2× apart on some machines), so `nninit bench` times both and
//! compares nninit with the faster.
//!
//! `examples/peer.rs` compiles this same file into a program of its own, so
//! `scripts/peer_check.sh` can show that the bench's figures are the ones a standalone program
//! gets (a peer timed inside the harness's closure, with its generator captured there, once ran
//! 2× slower than the same loop on its own).

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// The generator each peer run starts from.
pub fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

/// `rand_distr::StandardNormal` into every element of `out`, from a generator of the caller's.
#[inline(never)]
pub fn normal(rng: &mut SmallRng, out: &mut [f32]) {
    for x in out.iter_mut() {
        *x = rng.sample(rand_distr::StandardNormal);
    }
}

/// `rand::distr::StandardUniform` (in [0, 1)) into every element of `out`, from a generator of
/// the caller's.
#[inline(never)]
pub fn uniform(rng: &mut SmallRng, out: &mut [f32]) {
    for x in out.iter_mut() {
        *x = rng.sample(rand::distr::StandardUniform);
    }
}

/// [`normal`] with the loop where the generator is made.
#[inline(never)]
pub fn normal_loop(seed: u64, out: &mut [f32]) {
    let mut rng = SmallRng::seed_from_u64(seed);
    for x in out.iter_mut() {
        *x = rng.sample(rand_distr::StandardNormal);
    }
}

/// [`uniform`] with the loop where the generator is made.
#[inline(never)]
pub fn uniform_loop(seed: u64, out: &mut [f32]) {
    let mut rng = SmallRng::seed_from_u64(seed);
    for x in out.iter_mut() {
        *x = rng.sample(rand::distr::StandardUniform);
    }
}

/// One timed run of a peer form: `fill(run, out)`.
pub type PeerFill = Box<dyn FnMut(u64, &mut [f32]) + Send>;

/// The peer's forms, by the name their rows carry: `(form, dist, fill)`, where `fill(run, out)`
/// does one timed run (run `k` of the `*_loop` forms seeds its generator with `k`; the
/// `fn(&mut rng)` forms go on from one generator made before the first run).
pub fn forms() -> Vec<(&'static str, &'static str, PeerFill)> {
    let (mut normal_rng, mut uniform_rng) = (rng(0), rng(1));
    vec![
        ("loop", "normal", Box::new(normal_loop)),
        ("loop", "uniform", Box::new(uniform_loop)),
        (
            "fn",
            "normal",
            Box::new(move |_, out: &mut [f32]| normal(&mut normal_rng, out)),
        ),
        (
            "fn",
            "uniform",
            Box::new(move |_, out: &mut [f32]| uniform(&mut uniform_rng, out)),
        ),
    ]
}

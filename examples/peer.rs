//! The `rand_distr` peer of `nninit bench`, compiled as a program of its own: the same file
//! (`src/bin/nninit/bench/peer.rs`) timed the same way (one untimed run, then the median of 5),
//! so the bench's peer figure can be checked against a standalone run (`scripts/peer_check.sh`).
//!
//! `cargo run --release --example peer [ELEMENTS]` (default 16M) prints one line per
//! distribution: `rand_distr_{normal,uniform}_f32 ELEMENTS M_ELEMENTS_PER_S`.

use std::hint::black_box;
use std::time::Instant;

#[path = "../src/bin/nninit/bench/peer.rs"]
mod peer;

fn main() {
    let n: usize = std::env::args().nth(1).map_or(1 << 24, |a| {
        a.parse().expect("ELEMENTS: a positive integer")
    });
    for (dist, seed, fill) in [
        ("normal", 0, peer::normal as fn(&mut _, &mut [f32])),
        ("uniform", 1, peer::uniform),
    ] {
        let mut rng = peer::rng(seed);
        let mut out = vec![0.0f32; n];
        fill(&mut rng, &mut out);
        let mut seconds: Vec<f64> = (0..5)
            .map(|_| {
                let start = Instant::now();
                fill(&mut rng, &mut out);
                black_box(&mut out);
                start.elapsed().as_secs_f64()
            })
            .collect();
        seconds.sort_by(f64::total_cmp);
        let rate = n as f64 / seconds[2] / 1e6;
        assert!(out.iter().all(|x| x.is_finite()), "non-finite peer output");
        println!("rand_distr_{dist}_f32 {n} {rate:.1}");
    }
}

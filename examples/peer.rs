//! The `rand_distr` peer of `nninit bench`, compiled as a program of its own: the same file
//! (`src/bin/nninit/bench/peer.rs`), both of its forms, timed the same way (one untimed run,
//! then the median of 5), so the bench's peer figures can be checked against a standalone run
//! (`scripts/peer_check.sh`).
//!
//! `cargo run --release --example peer [ELEMENTS]` (default 16M) prints one line per form and
//! distribution: `rand_distr_{loop,fn}_{normal,uniform}_f32 ELEMENTS MEDIAN BEST`, the rates
//! (million elements per second) of the median and the fastest run.

use std::hint::black_box;
use std::time::Instant;

#[path = "../src/bin/nninit/bench/peer.rs"]
mod peer;

fn main() {
    let n: usize = std::env::args().nth(1).map_or(1 << 24, |a| {
        a.parse().expect("ELEMENTS: a positive integer")
    });
    for (form, dist, mut fill) in peer::forms() {
        let mut out = vec![0.0f32; n];
        fill(0, &mut out);
        let mut seconds: Vec<f64> = (1..=5)
            .map(|run| {
                let start = Instant::now();
                fill(run, &mut out);
                black_box(&mut out);
                start.elapsed().as_secs_f64()
            })
            .collect();
        seconds.sort_by(f64::total_cmp);
        let (median, best) = (n as f64 / seconds[2] / 1e6, n as f64 / seconds[0] / 1e6);
        // The output is real: finite, and spread as the distribution is.
        let mean = out.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
        assert!(out.iter().all(|x| x.is_finite()), "non-finite peer output");
        let want = if dist == "normal" { 0.0 } else { 0.5 };
        assert!((mean - want).abs() < 0.01, "{form} {dist}: mean {mean}");
        println!("rand_distr_{form}_{dist}_f32 {n} {median:.1} {best:.1}");
    }
}

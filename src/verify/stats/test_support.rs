//! What the tests of the statistics share: a relative-error assertion, and the samples made by
//! the 64-bit LCG below, which the Python side that produced the expected numbers reproduces bit
//! for bit.

/// Relative error of `got` against `want`, with an absolute floor of 1e-300 for values at or
/// below the normal range.
fn rel_err(got: f64, want: f64) -> f64 {
    if got == want {
        return 0.0;
    }
    (got - want).abs() / want.abs().max(1e-300)
}

#[track_caller]
pub(super) fn assert_rel(got: f64, want: f64, tol: f64, what: &str) {
    let err = rel_err(got, want);
    assert!(
        err <= tol,
        "{what}: got {got:e}, want {want:e}, relative error {err:e} > {tol:e}"
    );
}

/// Knuth's MMIX LCG; u = top 53 bits · 2^-53 in [0, 1). Python: the same integers mod 2^64.
struct Lcg(u64);

impl Lcg {
    fn u(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 * 2f64.powi(-53)
    }
}

/// 40 values uniform on [−1, 2).
pub(super) fn d1() -> Vec<f64> {
    let mut g = Lcg(1);
    (0..40).map(|_| -1.0 + 3.0 * g.u()).collect()
}

/// 300 Irwin–Hall(4) values scaled to mean 0.25, sd 1.5 (close to, not exactly, normal).
pub(super) fn d2() -> Vec<f64> {
    let mut g = Lcg(2);
    let s3 = 3f64.sqrt();
    (0..300)
        .map(|_| {
            let (a, b, c, d) = (g.u(), g.u(), g.u(), g.u());
            0.25 + 1.5 * ((((a + b) + c) + d) - 2.0) * s3
        })
        .collect()
}

pub(super) fn d2_head() -> Vec<f64> {
    d2()[..137].to_vec()
}

pub(super) fn d2_tail() -> Vec<f64> {
    d2()[137..].to_vec()
}

/// 150 triangular values on [−2, 2).
pub(super) fn d3() -> Vec<f64> {
    let mut g = Lcg(3);
    (0..150)
        .map(|_| {
            let (a, b) = (g.u(), g.u());
            2.0 * (a + b) - 2.0
        })
        .collect()
}

/// 5000 Irwin–Hall(12) − 6 values (mean 0, variance 1).
pub(super) fn d4() -> Vec<f64> {
    let mut g = Lcg(4);
    (0..5000)
        .map(|_| {
            let mut s = 0.0;
            for _ in 0..12 {
                s += g.u();
            }
            s - 6.0
        })
        .collect()
}

/// 200 values uniform on [−1, 4).
pub(super) fn d5() -> Vec<f64> {
    let mut g = Lcg(5);
    (0..200).map(|_| -1.0 + 5.0 * g.u()).collect()
}

/// Values on a 0.1 grid, so that the two samples share many ties.
fn ties(seed: u64, n: usize) -> Vec<f64> {
    let mut g = Lcg(seed);
    (0..n).map(|_| (10.0 * g.u()).floor() / 10.0).collect()
}

pub(super) fn ties_a() -> Vec<f64> {
    ties(6, 90)
}

pub(super) fn ties_b() -> Vec<f64> {
    ties(7, 61)
}

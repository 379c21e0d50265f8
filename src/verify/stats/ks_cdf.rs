//! P(D_n ≤ d) for the two-sided one-sample Kolmogorov–Smirnov statistic in the body of its
//! distribution, where `ks_survival` needs the CDF: exactly by Durbin's matrix (as Marsaglia,
//! Tsang and Wang evaluate it), and by Pelz and Good's asymptotic series for large n.

use super::special::SQRT_2PI;
use std::f64::consts::PI;

/// Square matrix of order m, row-major.
struct Matrix {
    m: usize,
    a: Vec<f64>,
}

impl Matrix {
    fn mul(&self, other: &Matrix) -> Matrix {
        let m = self.m;
        let mut out = vec![0.0; m * m];
        for i in 0..m {
            for k in 0..m {
                let aik = self.a[i * m + k];
                if aik == 0.0 {
                    continue;
                }
                let row = &other.a[k * m..(k + 1) * m];
                let dst = &mut out[i * m..(i + 1) * m];
                for (o, &b) in dst.iter_mut().zip(row) {
                    *o += aik * b;
                }
            }
        }
        Matrix { m, a: out }
    }

    fn max_abs(&self) -> f64 {
        self.a.iter().fold(0.0f64, |acc, v| acc.max(v.abs()))
    }

    /// Divides by 2^256 while the largest entry exceeds it, counting the exponent.
    fn rescale(&mut self, exponent: &mut i64) {
        const BIG: f64 = 1.157_920_892_373_162e77; // 2^256
        while self.max_abs() > BIG {
            for v in &mut self.a {
                *v /= BIG;
            }
            *exponent += 256;
        }
    }
}

/// v · 2^e without intermediate overflow or underflow of 2^e.
fn ldexp(mut v: f64, mut e: i64) -> f64 {
    while e > 1000 {
        v *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        v *= 2f64.powi(-1000);
        e += 1000;
    }
    v * 2f64.powi(e as i32)
}

/// P(D_n ≤ d) by Durbin's matrix, as Marsaglia, Tsang and Wang (2003) evaluate it: with
/// d = (k − h)/n, the (k, k) entry of Hⁿ times n!/nⁿ, H of order m = 2k − 1. Needs n·d > 1/2.
pub(super) fn kolmogorov_cdf_durbin(n: u64, d: f64) -> f64 {
    let nd = n as f64 * d;
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    // v[j] = (1 − h^(j+1))/(j+1)!, w[j] = 1/j!.
    let mut v = vec![0.0; m];
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] = (1.0 - h.powi(j as i32)) * fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    let mut hm = Matrix {
        m,
        a: vec![0.0; m * m],
    };
    for col in 1..m {
        for row in (col - 1)..m {
            hm.a[row * m + col] = w[row + 1 - col];
        }
    }
    for (row, &vr) in v.iter().enumerate() {
        hm.a[row * m] = vr;
    }
    for col in 0..m {
        hm.a[(m - 1) * m + col] = v[m - 1 - col];
    }
    // Hⁿ by squaring, both factors kept below 2^256 with their exponents counted.
    let mut power = Matrix {
        m,
        a: (0..m * m)
            .map(|i| if i / m == i % m { 1.0 } else { 0.0 })
            .collect(),
    };
    let mut power_exp: i64 = 0;
    let mut h_exp: i64 = 0;
    let mut e = n;
    while e > 0 {
        if e & 1 == 1 {
            power = power.mul(&hm);
            power_exp += h_exp;
            power.rescale(&mut power_exp);
        }
        e >>= 1;
        if e > 0 {
            hm = hm.mul(&hm);
            h_exp *= 2;
            hm.rescale(&mut h_exp);
        }
    }
    let mut p = power.a[(k - 1) * m + (k - 1)];
    // Times n!/nⁿ, term by term, rescaling upwards when small.
    const SMALL: f64 = 2.938_735_877_055_719e-39; // 2^-128
    const BIG128: f64 = 3.402_823_669_209_385e38; // 2^128
    let nf = n as f64;
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < SMALL {
            p *= BIG128;
            power_exp -= 128;
        }
    }
    ldexp(p, power_exp)
}

/// The Pelz–Good (1976) asymptotic series for P(D_n ≤ x): Kolmogorov's limit with its 1/√n,
/// 1/n and 1/n^1.5 corrections (Li-Chien, Korolyuk), transformed for small √n·x. A port of
/// SciPy's `_kolmogn_PelzGood`.
pub(super) fn kolmogorov_cdf_pelz_good(n: u64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let z = nf.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z * z * z, z.powi(4), z.powi(6));
    let qlog = -PI * PI / 8.0 / z2;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let k1a = -z2;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut kk = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i32;
    for k in (1..=maxk).rev() {
        let m = f64::from(2 * k - 1);
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qpower = q.powi(8 * k);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (acc, c) in kk.iter_mut().zip(coeffs) {
            *acc = *acc * qpower + c;
        }
    }
    let divisors = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (acc, div) in kk.iter_mut().zip(divisors) {
        *acc = *acc * q * SQRT_2PI / div;
    }
    let q2 = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let mut k2extra = 0.0;
    let mut k3extra = 0.0;
    for k in (1..=maxk).rev() {
        let kf = f64::from(k);
        let k2 = kf * kf;
        let qp = q2.powf(k2);
        k2extra += k2 * qp;
        k3extra += (sqrt3z + PI * kf) * (sqrt3z - PI * kf) * k2 * qp;
    }
    kk[2] += k2extra * pi2 * SQRT_2PI / (-36.0 * z3);
    kk[3] += k3extra * pi2 * SQRT_2PI / (216.0 * z6);
    kk[1] /= nf.sqrt();
    kk[2] /= nf;
    kk[3] /= nf * nf.sqrt();
    kk.iter().sum()
}

//! What the benchmarks measure, shared by `nninit bench` and the criterion benches
//! (`benches/fill.rs` includes this file): the samplers and the model's tensor sizes.

use nninit::Sampler;

/// The samplers every benchmark compares, by name.
pub fn samplers() -> [(&'static str, Sampler); 4] {
    [
        (
            "uniform",
            Sampler::Uniform {
                low: -0.1,
                high: 0.1,
            },
        ),
        (
            "normal",
            Sampler::Normal {
                mean: 0.0,
                std: 0.02,
            },
        ),
        (
            "trunc_normal",
            Sampler::TruncNormal {
                mean: 0.0,
                std: 0.02,
                low: -0.04,
                high: 0.04,
            },
        ),
        ("constant", Sampler::Constant { value: 0.5 }),
    ]
}

/// Element counts of the 300 tensors of the model benchmark: log-uniform from 1,000 to 4,000,000
/// in a fixed, scrambled order (golden-ratio sequence), so the total is about 1.5e8.
pub fn model_tensor_sizes() -> Vec<u64> {
    (0..300u32)
        .map(|i| {
            let frac = (f64::from(i) * 0.618_033_988_749_894_9).fract();
            (1000.0 * 4000f64.powf(frac)).round() as u64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn model_sizes_are_deterministic_and_in_range() {
        let sizes = super::model_tensor_sizes();
        assert_eq!(sizes.len(), 300);
        assert!(sizes.iter().all(|&n| (1000..=4_000_000).contains(&n)));
        assert_eq!(sizes, super::model_tensor_sizes());
    }
}

//! The CPU reference path, for machines without any adapter: the same values the GPU produces
//! (bit-identical on lavapipe; within the documented bounds elsewhere), on all cores.
//!
//! `cargo run --release --example cpu_only`

use nninit::backend::draw::{Backend, draw_bytes, draw_f32};
use nninit::scheme::{FanRule, Init};
use nninit::{Dtype, Sampler, StreamId};

fn main() -> nninit::Result<()> {
    // A primitive sampler straight into a slice.
    let mut weights = vec![0.0f32; 1 << 20];
    nninit::backend::cpu::fill(
        &Sampler::Normal {
            mean: 0.0,
            std: 0.02,
        },
        StreamId::named(0, "fc.weight"),
        0,
        &mut weights,
    )?;
    let std =
        (weights.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / weights.len() as f64).sqrt();
    println!(
        "normal(0, 0.02): first values {:?}, std {std:.5}",
        &weights[..4]
    );
    // 2^20 values: the sample std is within 0.5% of 0.02 (about 7 standard errors).
    assert!((std / 0.02 - 1.0).abs() < 0.005, "std {std}");

    // Any scheme, through the same plan the GPU path uses, in bf16.
    let shape = [512u64, 256];
    let plan =
        Init::parse("xavier_uniform(gain=1.6666666666666667)")?.plan(&shape, &FanRule::torch())?;
    let bytes = draw_bytes(
        Backend::Cpu,
        &plan,
        &shape,
        StreamId::named(0, "proj.weight"),
        0..512 * 256,
        Dtype::Bf16,
    )?;
    let values = Dtype::Bf16.decode(&bytes);
    let bound = 5.0 / 3.0 * (6.0f32 / 768.0).sqrt();
    println!(
        "xavier_uniform(tanh gain) in bf16: {} values, max |v| {:.5} ≤ bound {bound:.5}",
        values.len(),
        values.iter().fold(0.0f32, |m, v| m.max(v.abs()))
    );
    assert!(values.iter().all(|v| v.abs() <= bound));

    // Structured schemes too.
    let eye = draw_f32(
        Backend::Cpu,
        &Init::Eye.plan(&[3, 4], &FanRule::torch())?,
        &[3, 4],
        StreamId::new(0, 0),
        0..12,
    )?;
    println!("eye(3, 4): {eye:?}");
    let identity: Vec<f32> = (0..12)
        .map(|i| if i / 4 == i % 4 { 1.0 } else { 0.0 })
        .collect();
    assert_eq!(eye, identity);
    Ok(())
}

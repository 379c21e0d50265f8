//! The shortest path: open the default adapter, draw a tensor on the GPU, read it back and print
//! its statistics.
//!
//! `cargo run --release --example quickstart`

use nninit::scheme::{FanRule, Init};
use nninit::{GpuContext, StreamId};

fn main() -> nninit::Result<()> {
    let gpu = GpuContext::new()?;
    println!("adapter: {}", gpu.adapter_info().name);

    // kaiming_normal_(w, mode="fan_out", nonlinearity="relu") for a Conv2d(64, 128, 3) weight.
    let shape = [128u64, 64, 3, 3];
    let plan = Init::parse("kaiming_normal(mode=fan_out,nonlinearity=relu)")?
        .plan(&shape, &FanRule::torch())?;
    println!("plan: {}", plan.explain());
    let n = shape.iter().product::<u64>();
    let values = nninit::backend::draw::draw_f32(
        nninit::backend::draw::Backend::Gpu(&gpu),
        &plan,
        &shape,
        StreamId::named(0, "conv.weight"),
        0..n,
    )?;

    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let std = (values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n as f64)
        .sqrt();
    let expected = (2.0f64 / (128.0 * 9.0)).sqrt();
    println!("{n} values: mean {mean:+.5}, std {std:.5} (expected {expected:.5})");
    assert!(
        (std / expected - 1.0).abs() < 0.01,
        "std {std} far from {expected}"
    );
    Ok(())
}

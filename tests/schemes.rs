//! Every scheme: fans, gains and bounds against the frameworks' formulas (numbers worked by hand,
//! sources named), `--explain` output, exact structured tensors, and the sampled distributions
//! (KS against the exact CDF at α = 1e-6, several seeds) on GPU and CPU.

mod common;

use nninit::backend::draw::{Backend, draw_f32};
use nninit::scheme::fans::Layout;
use nninit::scheme::{Draw, FanRule, Init, Plan};
use nninit::{Error, Sampler, StreamId};
use serde_json::Value;

fn plan(spec: &str, shape: &[u64]) -> Plan {
    Init::parse(spec)
        .unwrap()
        .plan(shape, &FanRule::torch())
        .unwrap()
}

fn explain(spec: &str, shape: &[u64], rule: &FanRule) -> Value {
    Init::parse(spec)
        .unwrap()
        .plan(shape, rule)
        .unwrap()
        .explain()
}

fn close(value: &Value, expected: f64) -> bool {
    (value.as_f64().unwrap() - expected).abs() <= 1e-6 * expected.abs().max(1e-3)
}

#[test]
fn pytorch_fan_based_bounds() {
    // torch.nn.init.kaiming_uniform_(w) on Conv2d(64, 128, 3) weight (128, 64, 3, 3): a = 0, so
    // gain = calculate_gain('leaky_relu', 0) = √2, bound = √2·√3/√576 = 0.102062.
    let e = explain("kaiming_uniform", &[128, 64, 3, 3], &FanRule::torch());
    assert_eq!(e["fan_in"], 576.0);
    assert_eq!(e["fan_out"], 1152.0);
    assert!(close(&e["gain"], 2f64.sqrt()));
    assert_eq!(e["dist"], "uniform");
    assert!(
        close(&e["high"], 0.102_062_072_615_965_74) && close(&e["low"], -0.102_062_072_615_965_74)
    );

    // torch.nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu') (torchvision ResNet):
    // (64, 3, 7, 7) → fan_out 64·49 = 3136, std = √2/56 = 0.025254.
    let e = explain(
        "kaiming_normal(mode=fan_out,nonlinearity=relu)",
        &[64, 3, 7, 7],
        &FanRule::torch(),
    );
    assert_eq!(e["dist"], "normal");
    assert!(close(&e["std"], 2f64.sqrt() / 56.0));

    // Linear's default: kaiming_uniform_(a=√5) → gain √(2/6), bound 1/√fan_in = 1/√784.
    let e = explain(
        "kaiming_uniform(a=2.23606797749979)",
        &[256, 784],
        &FanRule::torch(),
    );
    assert!(close(&e["high"], 1.0 / 28.0));

    // xavier_uniform_(gain=calculate_gain('tanh')) on (256, 784): 5/3·√(6/1040).
    let e = explain(
        "xavier_uniform(gain=1.6666666666666667)",
        &[256, 784],
        &FanRule::torch(),
    );
    assert!(close(&e["high"], 5.0 / 3.0 * (6.0f64 / 1040.0).sqrt()));
    // xavier_normal_ on (10, 20, 5): fans 100 and 50, std √(2/150).
    let e = explain("xavier_normal", &[10, 20, 5], &FanRule::torch());
    assert!(close(&e["std"], (2.0f64 / 150.0).sqrt()));

    // kaiming with leaky_relu slope 0.2 and fan_out: gain √(2/1.04).
    let e = explain(
        "kaiming_normal(a=0.2,mode=fan_out)",
        &[32, 16],
        &FanRule::torch(),
    );
    assert!(close(&e["gain"], (2.0f64 / 1.04).sqrt()));
    assert!(close(&e["std"], (2.0f64 / 1.04).sqrt() / 32f64.sqrt()));
}

#[test]
fn jax_and_keras_variance_scaling() {
    let jax = FanRule {
        layout: Layout::jax_default(),
        ..FanRule::torch()
    };
    // jax.nn.initializers.he_normal() on HWIO (3, 3, 64, 128): fan_in 576, std √(2/576)/0.8796…,
    // truncated at ±2 std.
    let e = explain("he_normal", &[3, 3, 64, 128], &jax);
    let std = (2.0f64 / 576.0).sqrt() / 0.879_625_661_034_239_8;
    assert_eq!(e["dist"], "trunc_normal");
    assert!(close(&e["std"], std) && close(&e["high"], 2.0 * std) && close(&e["low"], -2.0 * std));
    // glorot_uniform on (in 300, out 100): limit √(3/200).
    let e = explain("glorot_uniform", &[300, 100], &jax);
    assert!(close(&e["high"], (3.0f64 / 200.0).sqrt()));
    // lecun_uniform: √(3/fan_in); lecun_normal: truncated √(1/fan_in)/0.8796.
    assert!(close(
        &explain("lecun_uniform", &[300, 100], &jax)["high"],
        (3.0f64 / 300.0).sqrt()
    ));
    assert!(close(
        &explain("lecun_normal", &[300, 100], &jax)["std"],
        (1.0f64 / 300.0).sqrt() / 0.879_625_661_034_239_8
    ));
    // variance_scaling(2, fan_avg, normal) is untruncated.
    let e = explain(
        "variance_scaling(scale=2,mode=fan_avg,distribution=normal)",
        &[300, 100],
        &jax,
    );
    assert_eq!(e["dist"], "normal");
    assert!(close(&e["std"], (2.0f64 / 200.0).sqrt()));
    // Keras: a 1-D shape has fan_in = fan_out = shape[0].
    let keras = FanRule {
        layout: Layout::Keras,
        ..FanRule::torch()
    };
    assert!(close(
        &explain("he_uniform", &[50], &keras)["high"],
        (6.0f64 / 50.0).sqrt()
    ));
    // jax truncated_normal(stddev=0.02): bounds ±2 in σ units.
    let e = explain("truncated_normal(stddev=0.02)", &[10], &jax);
    assert!(close(&e["std"], 0.02) && close(&e["high"], 0.04));
    // Explicit fans need no shape at all.
    let explicit = FanRule {
        fan_in: Some(400.0),
        fan_out: Some(100.0),
        ..FanRule::torch()
    };
    assert!(close(
        &explain("xavier_uniform", &[7], &explicit)["high"],
        (6.0f64 / 500.0).sqrt()
    ));
}

#[test]
fn explain_names_every_scheme_primitive() {
    for (spec, shape, dist) in [
        ("uniform(a=-1,b=1)", vec![4], "uniform"),
        ("normal(mean=0,std=0.02)", vec![4], "normal"),
        ("trunc_normal(std=0.02)", vec![4], "trunc_normal"),
        ("constant(val=0.5)", vec![4], "constant"),
        ("zeros", vec![4], "constant"),
        ("ones", vec![4], "constant"),
        ("eye", vec![3, 4], "eye"),
        ("dirac(groups=2)", vec![4, 2, 3], "dirac"),
        ("xavier_uniform", vec![3, 4], "uniform"),
        ("xavier_normal", vec![3, 4], "normal"),
        ("kaiming_uniform", vec![3, 4], "uniform"),
        ("kaiming_normal", vec![3, 4], "normal"),
        ("orthogonal(gain=2)", vec![3, 4], "orthogonal"),
        ("sparse(sparsity=0.1)", vec![30, 4], "sparse"),
        ("variance_scaling", vec![3, 4], "trunc_normal"),
        ("glorot_normal", vec![3, 4], "trunc_normal"),
        ("he_uniform", vec![3, 4], "uniform"),
        ("lecun_normal", vec![3, 4], "trunc_normal"),
        ("truncated_normal", vec![3, 4], "trunc_normal"),
    ] {
        let e = explain(spec, &shape, &FanRule::torch());
        assert_eq!(e["dist"], dist, "{spec}: {e}");
        // One line of JSON.
        assert!(!e.to_string().contains('\n'));
    }
    assert_eq!(
        plan("zeros", &[2]).draw,
        Draw::Sample(Sampler::Constant { value: 0.0 })
    );
    // Zero-element tensors are a no-op, as in PyTorch (`kaiming_normal_` warns and returns).
    assert_eq!(plan("kaiming_normal", &[0, 4]).draw, Draw::Empty);
    assert_eq!(plan("xavier_uniform", &[4, 0, 3]).draw, Draw::Empty);
}

#[test]
fn invalid_schemes_and_shapes_are_errors_naming_the_parameter() {
    let torch = FanRule::torch();
    // (spec, shape, the parameter the error names, its value as shown)
    for (spec, shape, name, value) in [
        ("kaiming_uniform", vec![5], "shape", "[5]"),
        ("xavier_normal", vec![], "shape", "[]"),
        (
            "kaiming_normal(mode=fan_avg)",
            vec![3, 4],
            "mode",
            "fan_avg",
        ),
        (
            "kaiming_normal(nonlinearity=swish)",
            vec![3, 4],
            "nonlinearity",
            "swish",
        ),
        ("kaiming_normal(a=nan)", vec![0, 4], "negative_slope", "NaN"),
        // A zero-element tensor is checked as if its zeros were ones, but shown as given.
        ("xavier_uniform", vec![0], "shape", "[0]"),
        ("eye", vec![3, 4, 5], "shape", "[3, 4, 5]"),
        ("dirac", vec![3, 4], "shape", "[3, 4]"),
        ("dirac(groups=2)", vec![3, 4, 5], "groups", "2"),
        ("dirac(groups=0)", vec![4, 4, 5], "groups", "0"),
        ("sparse(sparsity=1)", vec![3, 4], "sparsity", "1"),
        ("sparse(sparsity=-0.1)", vec![3, 4], "sparsity", "-0.1"),
        ("sparse(sparsity=0.5)", vec![3, 4, 5], "shape", "[3, 4, 5]"),
        ("orthogonal", vec![5], "shape", "[5]"),
        ("trunc_normal(a=1,b=-1)", vec![5], "b", "-1"),
        ("variance_scaling(scale=0)", vec![3, 4], "scale", "0"),
        (
            "variance_scaling(distribution=cauchy)",
            vec![3, 4],
            "distribution",
            "cauchy",
        ),
        ("xavier_uniform(gain=inf)", vec![3, 4], "gain", "inf"),
        (
            "he_normal(scale=2)",
            vec![3, 4],
            "he_normal(scale=…)",
            "scale",
        ),
    ] {
        match Init::parse(spec).and_then(|init| init.plan(&shape, &torch)) {
            Err(Error::InvalidParameter {
                name: got_name,
                value: got_value,
                ..
            }) => assert_eq!(
                (got_name.as_str(), got_value.as_str()),
                (name, value),
                "{spec} on {shape:?}"
            ),
            other => panic!("{spec} on {shape:?}: {other:?}"),
        }
    }
}

#[test]
fn eye_and_dirac_equal_pytorch_on_both_backends() {
    let id = StreamId::new(0, 0);
    for backend in [Backend::Gpu(common::gpu()), Backend::Cpu] {
        let eye = draw_f32(backend, &plan("eye", &[3, 4]), &[3, 4], id, 0..12).unwrap();
        assert_eq!(eye, [1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1., 0.]);
        // dirac_ on (2, 2, 3): w[0,0,1] = w[1,1,1] = 1.
        let dirac = draw_f32(backend, &plan("dirac", &[2, 2, 3]), &[2, 2, 3], id, 0..12).unwrap();
        assert_eq!(dirac, [0., 1., 0., 0., 0., 0., 0., 0., 0., 0., 1., 0.]);
        let ones = draw_f32(backend, &plan("ones", &[5]), &[5], id, 1..4).unwrap();
        assert_eq!(ones, [1.0; 3]);
    }
}

#[test]
fn sparse_has_exactly_k_zeros_per_column_and_normal_elsewhere() {
    let (rows, cols) = (200u64, 64u64);
    let shape = [rows, cols];
    let plan = plan("sparse(sparsity=0.1,std=0.5)", &shape);
    let id = StreamId::new(4, 2);
    let gpu = draw_f32(
        Backend::Gpu(common::gpu()),
        &plan,
        &shape,
        id,
        0..rows * cols,
    )
    .unwrap();
    let cpu = draw_f32(Backend::Cpu, &plan, &shape, id, 0..rows * cols).unwrap();
    let mut normal = vec![0.0; (rows * cols) as usize];
    nninit::backend::cpu::fill(
        &Sampler::Normal {
            mean: 0.0,
            std: 0.5,
        },
        id,
        0,
        &mut normal,
    )
    .unwrap();
    for c in 0..cols as usize {
        let zero_rows = |values: &[f32]| -> Vec<usize> {
            (0..rows as usize)
                .filter(|&r| values[r * cols as usize + c] == 0.0)
                .collect()
        };
        assert_eq!(zero_rows(&cpu).len(), 20, "column {c}");
        assert_eq!(
            zero_rows(&gpu),
            zero_rows(&cpu),
            "column {c}: GPU zeroed other rows"
        );
    }
    for ((g, c), n) in gpu.iter().zip(&cpu).zip(&normal) {
        assert!(*c == 0.0 || c == n);
        assert!((g - c).abs() <= 1e-4 * 0.5);
    }
    // The zeroed rows differ between columns (they are drawn, not fixed).
    let first_zero = |c: usize| (0..rows as usize).find(|&r| cpu[r * cols as usize + c] == 0.0);
    assert!((1..cols as usize).any(|c| first_zero(c) != first_zero(0)));
}

/// The exact CDF of a primitive sampler.
fn cdf(sampler: &Sampler) -> impl Fn(f64) -> f64 + '_ {
    move |x| match *sampler {
        Sampler::Uniform { low, high } => {
            ((x - f64::from(low)) / (f64::from(high) - f64::from(low))).clamp(0.0, 1.0)
        }
        Sampler::Normal { mean, std } => common::normal_cdf((x - f64::from(mean)) / f64::from(std)),
        Sampler::TruncNormal {
            mean,
            std,
            low,
            high,
        } => {
            let phi =
                |v: f32| common::normal_cdf((f64::from(v) - f64::from(mean)) / f64::from(std));
            let (lo, hi) = (phi(low), phi(high));
            ((common::normal_cdf((x - f64::from(mean)) / f64::from(std)) - lo) / (hi - lo))
                .clamp(0.0, 1.0)
        }
        Sampler::Constant { value } => f64::from(x >= f64::from(value)),
    }
}

#[test]
fn every_random_scheme_passes_ks_on_gpu_and_cpu() {
    let shape = [512u64, 256];
    let n = 512 * 256;
    let jax = FanRule {
        layout: Layout::jax_default(),
        ..FanRule::torch()
    };
    for (spec, rule) in [
        ("uniform(a=-1,b=3)", FanRule::torch()),
        ("normal(mean=1,std=0.02)", FanRule::torch()),
        ("trunc_normal(std=0.02)", FanRule::torch()),
        ("trunc_normal(mean=0,std=1,a=-0.5,b=2.5)", FanRule::torch()),
        ("xavier_uniform", FanRule::torch()),
        ("xavier_normal", FanRule::torch()),
        ("kaiming_uniform", FanRule::torch()),
        (
            "kaiming_normal(mode=fan_out,nonlinearity=relu)",
            FanRule::torch(),
        ),
        ("glorot_normal", jax.clone()),
        ("he_uniform", jax.clone()),
        ("lecun_normal", jax.clone()),
        ("truncated_normal(stddev=0.5,lower=-1,upper=3)", jax.clone()),
    ] {
        let plan = Init::parse(spec).unwrap().plan(&shape, &rule).unwrap();
        let Draw::Sample(sampler) = plan.draw else {
            panic!("{spec} is not a sampler")
        };
        for seed in [1u64, 2, 3] {
            let id = StreamId::new(seed, nninit::stream_of_name(spec));
            for backend in [Backend::Gpu(common::gpu()), Backend::Cpu] {
                let values = draw_f32(backend, &plan, &shape, id, 0..n).unwrap();
                let (d, p) = common::ks_test(&values, cdf(&sampler));
                assert!(
                    p > common::ALPHA,
                    "{spec} seed {seed} {backend:?}: D = {d:.2e}, p = {p:.2e}"
                );
            }
        }
    }
}

#[test]
fn spec_strings_round_trip_through_display() {
    for spec in [
        "uniform(a=-1,b=1)",
        "normal(std=0.02)",
        "trunc_normal(std=0.02,a=-0.04,b=0.04)",
        "constant(val=0.5)",
        "zeros",
        "ones",
        "eye",
        "dirac(groups=2)",
        "xavier_uniform(gain=1.6666666666666667)",
        "xavier_normal",
        "kaiming_uniform(a=2.23606797749979)",
        "kaiming_normal(mode=fan_out,nonlinearity=relu)",
        "orthogonal(gain=2)",
        "sparse(sparsity=0.1)",
        "variance_scaling(scale=2,mode=fan_avg,distribution=uniform)",
        "he_normal",
        "truncated_normal(stddev=0.5,lower=-1,upper=3)",
    ] {
        let init = Init::parse(spec).unwrap();
        assert_eq!(
            Init::parse(&init.to_string()).unwrap(),
            init,
            "{spec} → {init}"
        );
    }
}

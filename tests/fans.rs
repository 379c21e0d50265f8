//! Fans by layout, fan overrides and modes, and gains, against hand-worked tables with their
//! sources (PyTorch, JAX, Keras).

use nninit::Error;
use nninit::scheme::fans::*;

fn fans(shape: &[u64], layout: &Layout) -> (f64, f64) {
    let f = compute_fans(shape, layout).unwrap();
    (f.fan_in, f.fan_out)
}

fn jax(in_axis: isize, out_axis: isize, batch_axis: &[isize]) -> Layout {
    Layout::Jax {
        in_axis,
        out_axis,
        batch_axis: batch_axis.to_vec(),
    }
}

fn invalid_name(err: Error) -> String {
    match err {
        Error::InvalidParameter { name, .. } => name,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

// torch.nn.init._calculate_fan_in_and_fan_out: (out, in, *kernel),
// fan_in = in·∏kernel, fan_out = out·∏kernel.
#[test]
fn torch_fans() {
    let t = Layout::Torch;
    // nn.Linear(784, 256).weight is (256, 784): fan_in 784, fan_out 256.
    assert_eq!(fans(&[256, 784], &t), (784.0, 256.0));
    // nn.Conv2d(3, 64, 7).weight is (64, 3, 7, 7): rf 49, fan_in 3·49, fan_out 64·49.
    assert_eq!(fans(&[64, 3, 7, 7], &t), (147.0, 3136.0));
    // nn.Conv1d(16, 32, 5).weight is (32, 16, 5): fan_in 80, fan_out 160.
    assert_eq!(fans(&[32, 16, 5], &t), (80.0, 160.0));
    // nn.Conv3d(4, 8, (3, 3, 3)).weight is (8, 4, 3, 3, 3): rf 27 → 108, 216.
    assert_eq!(fans(&[8, 4, 3, 3, 3], &t), (108.0, 216.0));
    // nn.ConvTranspose2d(16, 32, 3).weight is (16, 32, 3, 3): torch's quirk, fan_in = 32·9.
    assert_eq!(fans(&[16, 32, 3, 3], &t), (288.0, 144.0));
    // A zero dim is reported as is (select rejects it).
    assert_eq!(fans(&[0, 5], &t), (5.0, 0.0));
    // Torch is the default layout.
    assert_eq!(Layout::default(), Layout::Torch);
}

#[test]
fn torch_errors() {
    // "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions".
    for shape in [&[][..], &[5][..]] {
        let err = compute_fans(shape, &Layout::Torch).unwrap_err();
        assert!(
            err.to_string()
                .contains("at least 2 dims in the torch layout")
        );
        assert_eq!(invalid_name(err), "shape");
    }
    let err = compute_fans(&[1 << 40, 1 << 40, 1 << 30], &Layout::Torch).unwrap_err();
    assert!(err.to_string().contains("64 bits"), "{err}");
}

// jax._src.nn.initializers._compute_fans: rf = total / in / out / batch,
// fan_in = shape[in_axis]·rf, fan_out = shape[out_axis]·rf.
#[test]
fn jax_fans() {
    let d = Layout::jax_default();
    assert_eq!(d, jax(-2, -1, &[]));
    // flax Dense kernel (784, 256): fan_in 784, fan_out 256.
    assert_eq!(fans(&[784, 256], &d), (784.0, 256.0));
    // flax Conv kernel (3, 3, 64, 128): rf 9 → fan_in 576, fan_out 1152.
    assert_eq!(fans(&[3, 3, 64, 128], &d), (576.0, 1152.0));
    // 1-D conv kernel (5, 16, 32): rf 5 → 80, 160.
    assert_eq!(fans(&[5, 16, 32], &d), (80.0, 160.0));
    // Batched kernels (10, 3, 3, 64, 128) with batch_axis=(0,): rf 9 → 576, 1152.
    assert_eq!(
        fans(&[10, 3, 3, 64, 128], &jax(-2, -1, &[0])),
        (576.0, 1152.0)
    );
    // Same with positive axes and a negative batch axis (-5 ≡ 0).
    assert_eq!(
        fans(&[10, 3, 3, 64, 128], &jax(3, 4, &[-5])),
        (576.0, 1152.0)
    );
    // Without batch_axis, the batch is receptive field: rf 90 → 5760, 11520.
    assert_eq!(fans(&[10, 3, 3, 64, 128], &d), (5760.0, 11520.0));
    // Torch-like axes on a torch shape (64, 3, 7, 7): in_axis=1, out_axis=0 → 147, 3136.
    assert_eq!(fans(&[64, 3, 7, 7], &jax(1, 0, &[])), (147.0, 3136.0));
    // Embedding-style out_axis=0 on (1000, 64): in is axis -2 = 0 too, so JAX divides by
    // 1000 twice: rf = 64000/1000/1000 = 0.064, fan_in = fan_out = 64.
    let (fi, fo) = fans(&[1000, 64], &jax(-2, 0, &[]));
    assert_eq!(fi, 1000.0 * (64000.0 / 1000.0 / 1000.0));
    assert_eq!(fo, fi);
    assert!((fi - 64.0).abs() < 1e-12);
    // A zero-size receptive field gives fans of 0 (JAX's rf = 0 / ... = 0).
    assert_eq!(fans(&[0, 3, 4], &d), (0.0, 0.0));
}

#[test]
fn jax_errors() {
    let d = Layout::jax_default();
    // "Can't compute input and output sizes of a 1-dimensional weights tensor.
    // Must be at least 2D."
    for shape in [&[][..], &[7][..]] {
        let err = compute_fans(shape, &d).unwrap_err();
        assert!(
            err.to_string()
                .contains("at least 2 dims in the jax layout")
        );
    }
    // Out-of-range axes: Python's IndexError.
    assert_eq!(
        invalid_name(compute_fans(&[3, 4], &jax(-3, -1, &[])).unwrap_err()),
        "in_axis"
    );
    assert_eq!(
        invalid_name(compute_fans(&[3, 4], &jax(-2, 2, &[])).unwrap_err()),
        "out_axis"
    );
    assert_eq!(
        invalid_name(compute_fans(&[3, 4, 5], &jax(-2, -1, &[3])).unwrap_err()),
        "batch_axis"
    );
    // A zero in/out/batch size: JAX's ZeroDivisionError.
    for (shape, layout) in [
        (&[3, 0, 4][..], d.clone()),
        (&[3, 4, 0][..], d.clone()),
        (&[0, 4, 5][..], jax(-2, -1, &[0])),
    ] {
        let err = compute_fans(shape, &layout).unwrap_err();
        assert!(err.to_string().contains("must be > 0"), "{err}");
    }
    // The element count must fit in 64 bits.
    let err = compute_fans(&[1 << 32, 1 << 32, 2], &d).unwrap_err();
    assert!(err.to_string().contains("64 bits"), "{err}");
}

// keras.src.initializers.random_initializers.compute_fans.
#[test]
fn keras_fans() {
    let k = Layout::Keras;
    // rank 0: fan_in = fan_out = 1 ("just to avoid errors for constants").
    assert_eq!(fans(&[], &k), (1.0, 1.0));
    // rank 1: fan_in = fan_out = shape[0].
    assert_eq!(fans(&[10], &k), (10.0, 10.0));
    // rank 2: Dense kernel (784, 256): (shape[0], shape[1]).
    assert_eq!(fans(&[784, 256], &k), (784.0, 256.0));
    // rank 4: Conv2D kernel (3, 3, 64, 128): rf 9 → 576, 1152.
    assert_eq!(fans(&[3, 3, 64, 128], &k), (576.0, 1152.0));
    // rank 3: Conv1D kernel (5, 16, 32): rf 5 → 80, 160.
    assert_eq!(fans(&[5, 16, 32], &k), (80.0, 160.0));
    // rank 5: Conv3D kernel (3, 3, 3, 4, 8): rf 27 → 108, 216.
    assert_eq!(fans(&[3, 3, 3, 4, 8], &k), (108.0, 216.0));
    // Zero dims are reported as is.
    assert_eq!(fans(&[0], &k), (0.0, 0.0));
    let err = compute_fans(&[1 << 32, 1 << 32, 2, 2], &k).unwrap_err();
    assert!(err.to_string().contains("64 bits"), "{err}");
}

#[test]
fn layout_parse() {
    assert_eq!(Layout::parse("torch").unwrap(), Layout::Torch);
    assert_eq!(Layout::parse("jax").unwrap(), Layout::jax_default());
    assert_eq!(Layout::parse("keras").unwrap(), Layout::Keras);
    for l in [Layout::Torch, Layout::jax_default(), Layout::Keras] {
        assert_eq!(Layout::parse(l.name()).unwrap(), l);
    }
    for bad in ["Torch", "tf", ""] {
        let err = Layout::parse(bad).unwrap_err();
        assert_eq!(invalid_name(err), "layout");
    }
}

#[test]
fn fan_overrides() {
    let f = Fans {
        fan_in: 3.0,
        fan_out: 4.0,
    };
    assert_eq!(f.with_overrides(None, None).unwrap(), f);
    let g = f.with_overrides(Some(10.0), None).unwrap();
    assert_eq!((g.fan_in, g.fan_out), (10.0, 4.0));
    let g = f.with_overrides(None, Some(7.0)).unwrap();
    assert_eq!((g.fan_in, g.fan_out), (3.0, 7.0));
    assert_eq!(
        invalid_name(f.with_overrides(Some(0.0), None).unwrap_err()),
        "fan_in"
    );
    assert_eq!(
        invalid_name(f.with_overrides(None, Some(f64::NAN)).unwrap_err()),
        "fan_out"
    );
    assert_eq!(
        invalid_name(f.with_overrides(Some(-1.0), None).unwrap_err()),
        "fan_in"
    );
    assert_eq!(
        invalid_name(f.with_overrides(Some(f64::INFINITY), None).unwrap_err()),
        "fan_in"
    );
}

#[test]
fn fan_mode() {
    // torch.nn.init._calculate_correct_fan / jax variance_scaling's denominator.
    let f = compute_fans(&[64, 3, 7, 7], &Layout::Torch).unwrap();
    assert_eq!(FanMode::FanIn.select(f).unwrap(), 147.0);
    assert_eq!(FanMode::FanOut.select(f).unwrap(), 3136.0);
    assert_eq!(FanMode::FanAvg.select(f).unwrap(), (147.0 + 3136.0) / 2.0);
    for m in [FanMode::FanIn, FanMode::FanOut, FanMode::FanAvg] {
        assert_eq!(FanMode::parse(m.name()).unwrap(), m);
    }
    for bad in ["FAN_IN", "fan-in", "avg", ""] {
        assert_eq!(invalid_name(FanMode::parse(bad).unwrap_err()), "mode");
    }
    // Zero fans are refused, naming the fan.
    let z = compute_fans(&[0, 5], &Layout::Torch).unwrap();
    assert_eq!(FanMode::FanIn.select(z).unwrap(), 5.0);
    let err = FanMode::FanOut.select(z).unwrap_err();
    assert!(err.to_string().contains("must be > 0"), "{err}");
    assert_eq!(invalid_name(err), "fan_out");
    assert_eq!(FanMode::FanAvg.select(z).unwrap(), 2.5);
    let zz = Fans {
        fan_in: 0.0,
        fan_out: 0.0,
    };
    for m in [FanMode::FanIn, FanMode::FanOut, FanMode::FanAvg] {
        assert_eq!(invalid_name(m.select(zz).unwrap_err()), m.name());
    }
    let nan = Fans {
        fan_in: f64::NAN,
        fan_out: 1.0,
    };
    assert_eq!(
        invalid_name(FanMode::FanIn.select(nan).unwrap_err()),
        "fan_in"
    );
}

// torch.nn.init.calculate_gain.
#[test]
fn gains() {
    let cases: [(&str, Option<f64>, f64); 14] = [
        ("linear", None, 1.0),
        ("conv1d", None, 1.0),
        ("conv2d", None, 1.0),
        ("conv3d", None, 1.0),
        ("conv_transpose1d", None, 1.0),
        ("conv_transpose2d", None, 1.0),
        ("conv_transpose3d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5.0 / 3.0),
        ("relu", None, std::f64::consts::SQRT_2),
        // slope 0.01: sqrt(2 / 1.0001)
        ("leaky_relu", None, (2.0f64 / 1.0001).sqrt()),
        // kaiming's default a = 0 → √2
        ("leaky_relu", Some(0.0), std::f64::consts::SQRT_2),
        // slope 0.2: sqrt(2 / 1.04)
        ("leaky_relu", Some(0.2), (2.0f64 / 1.04).sqrt()),
        ("selu", None, 0.75),
    ];
    for (name, param, want) in cases {
        let n = Nonlinearity::parse(name, param).unwrap();
        assert_eq!(n.name(), name);
        assert_eq!(n.gain().unwrap(), want, "{name} {param:?}");
    }
    assert_eq!(Nonlinearity::Tanh.gain().unwrap(), 1.6666666666666667);
    assert!((Nonlinearity::LeakyRelu(None).gain().unwrap() - 1.4141428569978354).abs() < 1e-15);
    // A negative slope is allowed, as in PyTorch (its square is used).
    assert_eq!(
        Nonlinearity::LeakyRelu(Some(-0.2)).gain().unwrap(),
        (2.0f64 / 1.04).sqrt()
    );
    // The parameter is ignored by every other nonlinearity, as in calculate_gain.
    assert_eq!(
        Nonlinearity::parse("relu", Some(0.5)).unwrap(),
        Nonlinearity::Relu
    );
    assert_eq!(
        Nonlinearity::parse("tanh", Some(f64::NAN)).unwrap(),
        Nonlinearity::Tanh
    );
    // Every listed name parses and round-trips.
    for name in NONLINEARITY_NAMES {
        assert_eq!(Nonlinearity::parse(name, None).unwrap().name(), name);
    }
}

#[test]
fn gain_errors() {
    // Unknown or wrongly cased names: "Unsupported nonlinearity", listing the allowed ones.
    for bad in ["ReLU", "gelu", "leaky-relu", "convtranspose2d", ""] {
        let err = Nonlinearity::parse(bad, None).unwrap_err();
        assert!(err.to_string().contains("conv_transpose2d"), "{err}");
        assert_eq!(invalid_name(err), "nonlinearity");
    }
    // Non-finite slopes, at parse and at gain.
    for s in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = Nonlinearity::parse("leaky_relu", Some(s)).unwrap_err();
        assert_eq!(invalid_name(err), "negative_slope");
        let err = Nonlinearity::LeakyRelu(Some(s)).gain().unwrap_err();
        assert_eq!(invalid_name(err), "negative_slope");
    }
}

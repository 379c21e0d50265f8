//! Bad input on the command line, the cases tests/cli.rs and tests/init.rs do not already run:
//! each exits 2 with one line naming the parameter, panics nowhere, leaves no file, and is found
//! before any GPU work — the runs set `WGPU_ADAPTER_NAME` to a name no adapter has, so a run that
//! opened the GPU would fail with "no GPU adapter found" (exit 1) instead.

mod common;

use std::path::Path;
use std::process::Output;

use common::cli::{assert_nothing_left_in, assert_success, assert_usage_error, temp_dir};

const NO_ADAPTER: &str = "no-such-adapter-nninit-bad-input";

/// Runs the binary where no adapter has the requested name: a run that opens the GPU fails.
fn nninit(args: &[&str]) -> Output {
    common::cli::nninit_with_env(args, &[("WGPU_ADAPTER_NAME", NO_ADAPTER)])
}

/// Runs every `args` (with `--out OUT` appended where `out` is given) and checks the usage-error
/// contract; `names[i]` must appear in the message.
fn assert_usage_errors(dir: &Path, cases: &[(&[&str], &str)], out: Option<&str>) {
    for (args, name) in cases {
        let mut args = args.to_vec();
        if let Some(out) = out {
            args.extend(["--out", out]);
        }
        let (line, stderr) = assert_usage_error(&args, &nninit(&args));
        assert!(
            !stderr.contains("no GPU adapter"),
            "{args:?} opened the GPU: {stderr}"
        );
        assert!(line.contains(name), "{args:?} should name {name:?}: {line}");
    }
    assert_nothing_left_in(dir);
}

#[test]
fn fill_refuses_bad_parameters_before_any_gpu_work() {
    let dir = temp_dir("bad-fill");
    let out = dir.join("x.npy");
    let fill = |shape: &'static str, init: &'static str| -> Vec<&'static str> {
        vec!["fill", "--shape", shape, "--init", init]
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // NaN and infinite parameters.
        (fill("4", "uniform(a=-inf,b=1)"), "a"),
        (fill("4", "normal(mean=nan)"), "mean"),
        (fill("4", "normal(std=inf)"), "std"),
        (fill("4", "constant(val=nan)"), "val"),
        (fill("4,4", "xavier_uniform(gain=nan)"), "gain"),
        // std ≤ 0, a ≥ b.
        (fill("4", "normal(std=-1)"), "std"),
        (fill("4", "uniform(a=2,b=1)"), "high"),
        (fill("4", "trunc_normal(std=0)"), "std"),
        (fill("4", "trunc_normal(a=1,b=1)"), "b"),
        // Truncated normal holding almost no probability.
        (fill("4", "trunc_normal(a=20,b=21)"), "a, b"),
        // Unknown scheme, nonlinearity, mode.
        (fill("4,4", "glorot_sideways"), "glorot_sideways"),
        (fill("4,4", "kaiming_normal(mode=fan_sideways)"), "mode"),
        (
            fill("4,4", "kaiming_uniform(nonlinearity=swish)"),
            "nonlinearity",
        ),
        (
            fill("4,4", "variance_scaling(distribution=cauchy)"),
            "distribution",
        ),
        // Malformed specs: duplicate and unknown keys, non-numbers, parentheses.
        (fill("4", "normal(std=1,std=2)"), "std"),
        (fill("4", "normal(sd=1)"), "sd"),
        (fill("4", "normal(std=abc)"), "abc"),
        (fill("4", "normal((std=1)"), "normal((std=1)"),
        (fill("4", "normal(std=1"), "normal(std=1"),
        // Fans: fewer than 2 dims, zero override.
        (fill("5", "kaiming_uniform"), "shape"),
        (fill("", "xavier_normal"), "shape"),
        // Structured schemes on the wrong shapes.
        (fill("4,4", "sparse(sparsity=1)"), "sparsity"),
        (fill("4,4", "sparse(sparsity=-0.5)"), "sparsity"),
        (fill("4,4", "dirac"), "shape"),
        (fill("4,4,3", "dirac(groups=3)"), "groups"),
        (fill("4,4,3", "eye"), "shape"),
        // Element counts whose byte size overflows.
        (fill("4294967296,4294967296", "normal"), "shape"),
        (fill("18446744073709551615,2", "normal"), "shape"),
    ];
    let mut cases = cases;
    let more: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "fill",
                "--shape",
                "4,4",
                "--init",
                "xavier_uniform",
                "--fan-in",
                "0",
            ],
            "fan_in",
        ),
        (
            vec![
                "fill",
                "--shape",
                "4,4",
                "--init",
                "xavier_uniform",
                "--fan-out",
                "nan",
            ],
            "fan_out",
        ),
        (
            vec![
                "fill", "--shape", "4,4", "--init", "normal", "--layout", "tf",
            ],
            "layout",
        ),
        (
            vec![
                "fill", "--shape", "4,4", "--init", "normal", "--dtype", "f64",
            ],
            "dtype",
        ),
        (
            vec![
                "fill", "--shape", "4,4", "--init", "normal", "--range", "5..3",
            ],
            "range",
        ),
        (
            vec![
                "fill", "--shape", "4,4", "--init", "normal", "--range", "0..17",
            ],
            "range",
        ),
    ];
    cases.extend(more);
    let cases: Vec<(&[&str], &str)> = cases.iter().map(|(a, n)| (a.as_slice(), *n)).collect();
    assert_usage_errors(&dir, &cases, Some(out.to_str().unwrap()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn init_refuses_bad_shards_and_model_files_before_any_gpu_work() {
    let dir = temp_dir("bad-init");
    let out = dir.join("x.safetensors");
    let model = |name: &str, json: &str| {
        let path = std::env::temp_dir().join(format!(
            "nninit-bad-model-{name}-{}.json",
            std::process::id()
        ));
        std::fs::write(&path, json).unwrap();
        path.to_str().unwrap().to_string()
    };
    let malformed = model("malformed", r#"[{"layer": "linear", "name": "fc", "#);
    let duplicate = model(
        "duplicate",
        r#"[{"name": "w", "shape": [2, 2], "init": "normal"}, {"name": "w", "shape": [3], "init": "zeros"}]"#,
    );
    let unknown = model("unknown", r#"[{"layer": "transformer", "name": "t"}]"#);
    let bad_spec = model(
        "spec",
        r#"[{"name": "w", "shape": [2, 2], "init": "normal(std=-1)"}]"#,
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["init", "--model", "mlp", "--shard", "1/0"], "shard"),
        (vec!["init", "--model", "mlp", "--shard", "a/b"], "shard"),
        (vec!["init", "--model", "mlp", "--shard=-1/2"], "shard"),
        (
            vec!["init", "--model", &malformed],
            r#"cannot parse model JSON "[{\"layer\": \"linear\", \"name\": \"fc\", ": EOF while parsing a value"#,
        ),
        (vec!["init", "--model", &duplicate], "w"),
        (vec!["init", "--model", &unknown], "transformer"),
        (vec!["init", "--model", &bad_spec], "std"),
    ];
    let cases: Vec<(&[&str], &str)> = cases.iter().map(|(a, n)| (a.as_slice(), *n)).collect();
    assert_usage_errors(&dir, &cases, Some(out.to_str().unwrap()));
    for path in [malformed, duplicate, unknown, bad_spec] {
        std::fs::remove_file(path).unwrap();
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// An output directory that exists but takes no files (even for root: `/proc`, `/sys`) is a
/// usage error found before any work, like a missing one. Needs the binary to check outputs
/// with `nninit::model::atomic_file::check_writable`.
#[cfg(target_os = "linux")]
#[test]
fn an_output_directory_that_takes_no_files_is_a_usage_error() {
    let dir = temp_dir("bad-unwritable");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "fill",
                "--shape",
                "4",
                "--init",
                "normal",
                "--out",
                "/proc/x.npy",
            ],
            "out",
        ),
        (
            vec![
                "fill",
                "--shape",
                "4",
                "--init",
                "normal",
                "--out",
                "/sys/x.safetensors",
            ],
            "out",
        ),
        (
            vec!["init", "--model", "mlp", "--out", "/proc/x.safetensors"],
            "out",
        ),
        (
            vec![
                "fill",
                "--shape",
                "4",
                "--init",
                "normal",
                "--out",
                "/etc/hostname/x.npy",
            ],
            "out",
        ),
    ];
    let cases: Vec<(&[&str], &str)> = cases.iter().map(|(a, n)| (a.as_slice(), *n)).collect();
    assert_usage_errors(&dir, &cases, None);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Zero-element tensors are a no-op, as in PyTorch (whose `kaiming_*` warn and return): the file
/// is written with an empty tensor of the given shape; the parameters are still validated.
#[test]
fn zero_element_tensors_write_an_empty_tensor() {
    let dir = temp_dir("bad-zero");
    let out = dir.join("z.npy");
    let output = common::cli::nninit(&[
        "fill",
        "--shape",
        "0,4",
        "--init",
        "xavier_uniform",
        "--device",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_success(&output);
    let bytes = std::fs::read(&out).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'shape': (0, 4)"), "{header}");
    assert_eq!(bytes.len(), 10 + header_len, "no data for zero elements");
    let output = nninit(&[
        "fill",
        "--shape",
        "0,4",
        "--init",
        "kaiming_uniform(nonlinearity=swish)",
        "--out",
        dir.join("y.npy").to_str().unwrap(),
    ]);
    let (line, _) = assert_usage_error(&["fill", "--shape", "0,4"], &output);
    assert!(line.contains("nonlinearity"), "{line}");
    assert!(!dir.join("y.npy").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

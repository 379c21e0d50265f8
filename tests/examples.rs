//! Runs every example, so none can rot: `cargo test` builds them next to this test binary. Each
//! example asserts its own results (a failed check exits non-zero); depth_study's file is read
//! back here.

use std::path::PathBuf;
use std::process::Command;

use nninit::model::study::DEPTH;

fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/examples-<hash> → target/<profile>/examples/<name>
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} not built; run `cargo test` (which builds the examples)",
        path.display()
    );
    path
}

#[test]
fn every_example_runs_and_checks_itself() {
    let out_dir = std::env::temp_dir().join(format!("nninit-examples-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    for name in [
        "quickstart",
        "cpu_only",
        "fill_own_buffer",
        "model",
        "sharded",
        "depth_study",
    ] {
        let output = Command::new(example(name)).arg(&out_dir).output().unwrap();
        assert!(
            output.status.success(),
            "example {name} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!output.stdout.is_empty(), "example {name} printed nothing");
    }
    // depth_study's file: every case, every layer.
    let text = std::fs::read_to_string(out_dir.join("study.json")).unwrap();
    let study: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = study["cases"].as_array().expect("a cases array");
    let names: Vec<&str> = cases.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names,
        ["tanh_naive", "tanh_xavier", "relu_xavier", "relu_kaiming"]
    );
    for case in cases {
        assert_eq!(case["layers"].as_array().map(Vec::len), Some(DEPTH));
    }
    std::fs::remove_dir_all(out_dir).unwrap();
}

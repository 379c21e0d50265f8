//! Runs every example, so none can rot: `cargo test` builds them next to this test binary.

use std::path::PathBuf;
use std::process::Command;

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
    assert!(out_dir.join("study.json").exists());
    std::fs::remove_dir_all(out_dir).unwrap();
}

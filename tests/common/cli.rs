//! Running the `nninit` binary: its output, the success and usage-error contracts, and a scratch
//! directory that must stay empty on error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `nninit` binary with `args`.
pub fn nninit(args: &[&str]) -> Output {
    nninit_with_env(args, &[])
}

/// Runs the `nninit` binary with `args` and the environment variables `env` set.
pub fn nninit_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nninit"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run nninit")
}

/// Fails the test, showing the run's stderr, unless the run exited 0.
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Checks the usage-error contract for the run of `args`: exit code 2, exactly one line of the
/// binary's own (`nninit: …`) on stderr, and no panic. Returns that line and the whole stderr.
pub fn assert_usage_error(args: &[&str], output: &Output) -> (String, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let own: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("nninit:"))
        .collect();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(own.len(), 1, "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    (own[0].to_string(), stderr)
}

/// An empty scratch directory `nninit-{name}-{pid}` under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nninit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Fails the test, naming what is there, unless `dir` holds nothing: no file was left behind.
pub fn assert_nothing_left_in(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

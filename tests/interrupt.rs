//! An interrupted `nninit init` leaves nothing behind: SIGINT or SIGTERM while the file is being
//! written removes the hidden temporary file and exits 130, and SIGKILL (which cannot be caught)
//! never leaves a partial target, because the target only appears by renaming a complete file.

#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn temp_dir(test: &str) -> PathBuf {
    common::cli::temp_dir(&format!("interrupt-{test}"))
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Starts `nninit init --model gpt2 --device cpu` (650 MB, about a second) writing into `dir`
/// and waits until its temporary file exists and has data: the write is under way.
fn start_init(dir: &Path) -> (Child, PathBuf) {
    let out = dir.join("gpt2.safetensors");
    let child = Command::new(env!("CARGO_BIN_EXE_nninit"))
        .args(["init", "--model", "gpt2", "--device", "cpu", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let writing = std::fs::read_dir(dir).unwrap().any(|e| {
            let e = e.unwrap();
            e.file_name()
                .to_string_lossy()
                .starts_with(".gpt2.safetensors.nninit-")
                && e.metadata().is_ok_and(|m| m.len() > 0)
        });
        if writing {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no temporary file appeared in {dir:?}: {:?}",
            entries(dir)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Well inside the write (the whole run takes about a second on 2 cores).
    std::thread::sleep(Duration::from_millis(100));
    assert!(!out.exists(), "the write finished before the signal");
    (child, out)
}

fn interrupt_leaves_nothing(signal: libc::c_int, name: &str) {
    let dir = temp_dir(name);
    let (child, out) = start_init(&dir);
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(130),
        "{name}: {:?}, stderr: {stderr}\n(the nninit binary must install \
         its interrupt handler at the start of main)",
        output.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "{name} left a partial {out:?}");
    assert_eq!(
        entries(&dir),
        Vec::<String>::new(),
        "{name} left files behind"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sigint_during_init_leaves_no_file_and_no_temp() {
    interrupt_leaves_nothing(libc::SIGINT, "sigint");
}

#[test]
fn sigterm_during_init_leaves_no_file_and_no_temp() {
    interrupt_leaves_nothing(libc::SIGTERM, "sigterm");
}

#[test]
fn sigkill_during_init_leaves_no_partial_file() {
    let dir = temp_dir("sigkill");
    let (mut child, out) = start_init(&dir);
    child.kill().unwrap(); // SIGKILL: nothing runs in the child after it
    child.wait().unwrap();
    assert!(!out.exists(), "SIGKILL left a partial {out:?}");
    // Only hidden files may remain: the temporary file, and the lock file that tells the next run
    // whose they are (tests/whole_or_absent.rs); neither is the target's name.
    for name in entries(&dir) {
        let temp = name.starts_with(".gpt2.safetensors.nninit-") && name.ends_with(".tmp");
        assert!(temp || name == ".gpt2.safetensors.nninit.lock", "{name}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

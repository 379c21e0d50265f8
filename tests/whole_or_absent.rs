//! Whole or absent: every way a run can meet another run or fail ends with its destination
//! either a complete checkpoint that verifies, or without any file of that run. Two writers into
//! one file or directory (started together and 0.1 s apart, with and without `--force`), a
//! directory mixing two runs, a full disk (a 40 MB tmpfs where root may mount one, and a
//! file-size limit always), SIGINT and SIGTERM at many moments, SIGKILL and the run after it, and
//! a rank file of another run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::cli::temp_dir;

/// A Llama of 58M parameters (232 MB in f32): long enough to be caught in the middle, in shards
/// of 8 MB.
const CONFIG: &str = r#"{"model_type": "llama", "architectures": ["LlamaForCausalLM"],
  "vocab_size": 32000, "hidden_size": 512, "intermediate_size": 1376, "num_hidden_layers": 8,
  "num_attention_heads": 8, "num_key_value_heads": 8}"#;

fn config(dir: &Path) -> PathBuf {
    let path = dir.join("config.json");
    std::fs::write(&path, CONFIG).unwrap();
    path
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nninit"));
    command
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// `nninit init --config CONFIG --out OUT --seed SEED --device cpu --max-shard-size 8MB`, and
/// `extra`.
fn checkpoint_run(config: &Path, out: &Path, seed: u64, extra: &[&str]) -> Command {
    let seed = seed.to_string();
    let mut args = vec![
        "init",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--seed",
        &seed,
        "--device",
        "cpu",
        "--max-shard-size",
        "8MB",
    ];
    args.extend_from_slice(extra);
    command(&args)
}

/// `nninit init --model gpt2 --out OUT --seed SEED --device cpu`, and `extra`.
fn file_run(out: &Path, seed: u64, extra: &[&str]) -> Command {
    let seed = seed.to_string();
    let mut args = vec![
        "init",
        "--model",
        "gpt2",
        "--out",
        out.to_str().unwrap(),
        "--seed",
        &seed,
        "--device",
        "cpu",
    ];
    args.extend_from_slice(extra);
    command(&args)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The lines that are nninit's own errors.
fn error_lines(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|l| l.starts_with("nninit: error"))
        .map(str::to_string)
        .collect()
}

/// Every entry of `dir`, hidden ones included, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|listing| {
            listing
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `nninit verify PATH --sample 1000` exits 0, and the files hold seed `seed`.
fn assert_verifies(path: &Path, seed: u64) {
    let verify = command(&["verify", path.to_str().unwrap(), "--sample", "1000"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", stderr(&verify));
    let files = nninit::model::checkpoint::files_to_verify(path).unwrap();
    for file in files {
        let header = nninit::model::safetensors::Header::read(&file).unwrap();
        let said = header.metadata["nninit.seed"].as_str().unwrap().to_string();
        assert_eq!(said, seed.to_string(), "{}", file.display());
        assert!(header.metadata.contains_key("nninit.run"));
    }
}

/// A complete checkpoint directory holds its config, shards and index, and nothing hidden.
fn assert_complete_checkpoint(dir: &Path, seed: u64) {
    let names = entries(dir);
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    assert!(names.contains(&"model.safetensors.index.json".to_string()));
    assert_verifies(dir, seed);
}

/// Starts two writers of the same destination (seeds 0 and 1) `apart`, and returns them in
/// that order, finished.
fn race(start: impl Fn(u64) -> Command, apart: Duration) -> [(u64, Output); 2] {
    let first: Child = start(0).spawn().unwrap();
    std::thread::sleep(apart);
    let second: Child = start(1).spawn().unwrap();
    [
        (0, first.wait_with_output().unwrap()),
        (1, second.wait_with_output().unwrap()),
    ]
}

/// Exactly one writer of a race won; the loser exited 1 with one line naming the destination
/// and the holder's pid. Returns the winner's seed.
fn one_winner(outputs: &[(u64, Output); 2], destination: &Path) -> u64 {
    let winners: Vec<u64> = outputs
        .iter()
        .filter(|(_, o)| o.status.success())
        .map(|(seed, _)| *seed)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        outputs.iter().map(|(_, o)| stderr(o)).collect::<Vec<_>>()
    );
    let (_, loser) = outputs.iter().find(|(_, o)| !o.status.success()).unwrap();
    assert_eq!(loser.status.code(), Some(1), "{}", stderr(loser));
    let lines = error_lines(loser);
    assert_eq!(lines.len(), 1, "{}", stderr(loser));
    assert!(
        lines[0].contains(&destination.display().to_string())
            && lines[0].contains("is being written by another nninit run (pid "),
        "{}",
        lines[0]
    );
    assert!(!stderr(loser).contains("panicked"));
    winners[0]
}

#[test]
fn two_writers_into_one_file_one_wins_whole() {
    let dir = temp_dir("woa-file-race");
    for (apart, force) in [(0, false), (100, false), (100, true)] {
        let out = dir.join(format!("race-{apart}-{force}.safetensors"));
        let flags: &[&str] = if force { &["--force"] } else { &[] };
        let outputs = race(
            |seed| file_run(&out, seed, flags),
            Duration::from_millis(apart),
        );
        let winner = one_winner(&outputs, &out);
        assert_verifies(&out, winner);
    }
    // Nothing but the three files: no lock files, no temporary files.
    assert_eq!(entries(&dir).len(), 3, "{:?}", entries(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_writers_into_one_directory_one_wins_whole() {
    let dir = temp_dir("woa-dir-race");
    let config = config(&dir);
    for (apart, force) in [(0, false), (100, false), (100, true)] {
        let out = dir.join(format!("race-{apart}-{force}"));
        let flags: &[&str] = if force { &["--force"] } else { &[] };
        let outputs = race(
            |seed| checkpoint_run(&config, &out, seed, flags),
            Duration::from_millis(apart),
        );
        let winner = one_winner(&outputs, &out);
        assert_complete_checkpoint(&out, winner);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_mixing_two_runs_fails_verify_naming_the_files() {
    let dir = temp_dir("woa-mixed");
    let config = config(&dir);
    let (a, b) = (dir.join("a"), dir.join("b"));
    for (out, seed) in [(&a, 0), (&b, 1)] {
        let run = checkpoint_run(&config, out, seed, &[]).output().unwrap();
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let shard = "model-00003-of-00018.safetensors";
    std::fs::copy(b.join(shard), a.join(shard)).unwrap();
    let verify = command(&["verify", a.to_str().unwrap(), "--sample", "100"])
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(1), "{}", stderr(&verify));
    let said = stderr(&verify);
    assert!(
        said.contains("files of different runs")
            && said.contains(&format!("{shard} (run "))
            && said.contains("seed 1)")
            && said.contains("seed 0)"),
        "{said}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run that fails writing leaves nothing of its own: the directory it created is gone, and a
/// directory that was there keeps exactly what it held.
fn assert_failed_and_left_nothing(
    run: impl Fn(&Path) -> Command,
    base: &Path,
    reason: &[&str],
) -> String {
    let fresh = base.join("fresh");
    let output = run(&fresh).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let lines = error_lines(&output);
    assert_eq!(lines.len(), 1, "{}", stderr(&output));
    assert!(reason.iter().any(|r| lines[0].contains(r)), "{}", lines[0]);
    assert!(!fresh.exists(), "{:?}", entries(&fresh));
    let kept = base.join("kept");
    std::fs::create_dir_all(&kept).unwrap();
    std::fs::write(kept.join("notes.txt"), "mine").unwrap();
    let output = run(&kept).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(entries(&kept), ["notes.txt"]);
    assert_eq!(
        std::fs::read_to_string(kept.join("notes.txt")).unwrap(),
        "mine"
    );
    lines[0].clone()
}

#[test]
fn a_full_disk_or_a_file_size_limit_leaves_nothing() {
    let dir = temp_dir("woa-full");
    let config = config(&dir);
    // RLIMIT_FSIZE (`ulimit -f`, in 1 KiB blocks): 40 MB, so the first large shard fails.
    let limited = |out: &Path| {
        let mut sh = Command::new("sh");
        sh.args(["-c", "ulimit -f 40000 && exec \"$0\" \"$@\""])
            .arg(env!("CARGO_BIN_EXE_nninit"))
            .args([
                "init",
                "--config",
                config.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--device",
                "cpu",
                "--max-shard-size",
                "8MB",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        sh
    };
    let line = assert_failed_and_left_nothing(limited, &dir, &["File too large"]);
    println!("file-size limit: {line}");
    // A 40 MB tmpfs where this process may mount one (root in CI).
    let mount = dir.join("tmpfs");
    std::fs::create_dir_all(&mount).unwrap();
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=40m",
            "tmpfs",
            mount.to_str().unwrap(),
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if mounted {
        let full = |out: &Path| checkpoint_run(&config, out, 0, &[]);
        let line = assert_failed_and_left_nothing(full, &mount, &["No space left on device"]);
        println!("40 MB tmpfs: {line}");
        let unmounted = Command::new("umount").arg(&mount).status().unwrap();
        assert!(unmounted.success());
    } else {
        println!("no tmpfs could be mounted here: the file-size limit stood in for a full disk");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Sends `signal` to a run into a fresh directory after each of `delays`; every run either
/// finished whole or left nothing. Returns how many were interrupted.
fn interrupt_runs(signal: &str, delays_ms: &[u64], dir: &Path, config: &Path) -> usize {
    let mut interrupted = 0;
    for &delay in delays_ms {
        let out = dir.join(format!("{signal}-{delay}"));
        let child = checkpoint_run(config, &out, 0, &[]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status();
        let output = child.wait_with_output().unwrap();
        match output.status.code() {
            Some(0) => assert_complete_checkpoint(&out, 0),
            // 130: the handler removed what the run had written; no code: the signal came
            // before the handler was installed, when nothing was written yet.
            Some(130) | None => {
                interrupted += 1;
                assert!(
                    !out.exists(),
                    "{signal} after {delay} ms: {:?}",
                    entries(&out)
                );
            }
            other => panic!("{signal} after {delay} ms: {other:?}: {}", stderr(&output)),
        }
    }
    interrupted
}

#[test]
fn sigint_and_sigterm_at_any_moment_leave_nothing() {
    let dir = temp_dir("woa-signals");
    let config = config(&dir);
    // From before the lock is taken to the last shards (a run takes about 0.3 s here).
    let delays = [5, 20, 45, 70, 100, 140, 180, 230, 300];
    for signal in ["INT", "TERM"] {
        let interrupted = interrupt_runs(signal, &delays, &dir, &config);
        assert!(
            interrupted >= 3,
            "{signal}: only {interrupted} runs were interrupted"
        );
        println!(
            "{signal}: {interrupted} of {} runs interrupted",
            delays.len()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn after_sigkill_the_next_run_names_the_leftovers_or_takes_them_over() {
    let dir = temp_dir("woa-kill");
    let config = config(&dir);
    let out = dir.join("killed");
    // Killed in the middle: its lock file and some of its staged shards are left.
    let mut left = Vec::new();
    for delay in [120, 80, 50, 30, 150, 200] {
        let mut child = checkpoint_run(&config, &out, 0, &[]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        left = entries(&out);
        if left.contains(&".nninit.lock".to_string()) {
            break;
        }
        let _ = std::fs::remove_dir_all(&out);
    }
    assert!(
        left.contains(&".nninit.lock".to_string()),
        "never caught mid-run: {left:?}"
    );
    assert!(!left.contains(&"model.safetensors.index.json".to_string()));
    let refused = checkpoint_run(&config, &out, 0, &[]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let lines = error_lines(&refused);
    assert_eq!(lines.len(), 1, "{}", stderr(&refused));
    assert!(
        lines[0].contains("stopped without finishing")
            && lines[0].contains(".nninit.lock")
            && lines[0].contains("--force"),
        "{}",
        lines[0]
    );
    // Refused, the directory is as the killed run left it.
    assert_eq!(entries(&out), left);
    let forced = checkpoint_run(&config, &out, 0, &["--force"])
        .output()
        .unwrap();
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_complete_checkpoint(&out, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn rank_run(out: &Path, rank: u64, seed: u64, extra: &[&str]) -> Command {
    let (rank, seed) = (rank.to_string(), seed.to_string());
    let mut args = vec![
        "init",
        "--model",
        "mlp",
        "--tp",
        "2",
        "--rank",
        &rank,
        "--world-size",
        "2",
        "--seed",
        &seed,
        "--device",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    command(&args)
}

#[test]
fn rank_0_fails_at_once_on_a_rank_file_of_another_run_and_after_its_timeout() {
    let dir = temp_dir("woa-ranks");
    let out = dir.join("ranks");
    let other = rank_run(&out, 1, 9, &[]).output().unwrap();
    assert!(other.status.success(), "{}", stderr(&other));
    let start = Instant::now();
    let rank0 = rank_run(&out, 0, 0, &[]).output().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(rank0.status.code(), Some(1), "{}", stderr(&rank0));
    let lines = error_lines(&rank0);
    assert_eq!(lines.len(), 1, "{}", stderr(&rank0));
    assert!(
        lines[0].contains("rank-00001-of-00002.safetensors")
            && lines[0].contains("seed 9, this run's 0"),
        "{}",
        lines[0]
    );
    // Rank 0 took its own file with it; the other run's file is untouched.
    assert_eq!(entries(&out), ["rank-00001-of-00002.safetensors"]);
    // Alone, rank 0 gives up after --rank-timeout, naming the missing rank, and leaves nothing.
    let alone = dir.join("alone");
    let start = Instant::now();
    let rank0 = rank_run(&alone, 0, 0, &["--rank-timeout", "1"])
        .output()
        .unwrap();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(1) && waited < Duration::from_secs(10));
    assert_eq!(rank0.status.code(), Some(1), "{}", stderr(&rank0));
    let lines = error_lines(&rank0);
    assert_eq!(lines.len(), 1, "{}", stderr(&rank0));
    assert!(
        lines[0].contains("rank 1 wrote no file of this run within 1 s"),
        "{}",
        lines[0]
    );
    assert!(!alone.exists(), "{:?}", entries(&alone));
    // Both ranks of one run, 0 first: the directory is a run that verifies.
    let shared = dir.join("shared");
    let first = rank_run(&shared, 0, 0, &[]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let second = rank_run(&shared, 1, 0, &[]).output().unwrap();
    assert!(second.status.success(), "{}", stderr(&second));
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        entries(&shared),
        [
            "manifest.json",
            "rank-00000-of-00002.safetensors",
            "rank-00001-of-00002.safetensors"
        ]
    );
    assert_verifies(&shared, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

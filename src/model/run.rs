//! One run's claim on its output, and what a run that fails leaves behind: nothing.
//!
//! - **One writer per destination.** A run locks a lock file (`flock`, through `std`'s
//!   [`File::try_lock`]) before it writes: `.NAME.nninit.lock` beside an output file,
//!   `DIR/.nninit.lock` in an output directory, `DIR/.nninit-rank-RRRRR.lock` for one rank of a
//!   distributed run. The file holds the holder's pid, host and run id, so a second writer fails at
//!   once ([`Error::Busy`]) naming them. In a directory, every run also looks at the other
//!   `.nninit*.lock` files after locking its own: one held by a different run is refused the same
//!   way, so ranks of one run share a directory and two runs never do (whichever of two looks
//!   second sees the other).
//! - **Whole or absent.** Every file the run renames into place on this thread is tracked
//!   ([`crate::model::atomic_file`]) until [`RunGuard::finish`]; a guard dropped unfinished (any
//!   error) removes them, newest first, with its lock file and the directory if the run created
//!   it and left it empty. The `nninit` binary's signal handler removes tracked files too.
//! - **Leftovers.** The kernel drops a lock when its process dies, even by `SIGKILL`, but not the
//!   lock file: a lock file that nobody holds marks a run that never finished. The next run finds
//!   it ([`RunGuard::leftovers`]) with the files that run left (its temporary files, and
//!   safetensors files that carry its run id), to refuse them by name or, with `--force`, remove
//!   them ([`RunGuard::remove_leftovers`]).

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::contract::stream::stream_of_name;
use crate::error::{Error, Result};
use crate::model::atomic_file::{set_current_run, track, untrack_run};
use crate::model::safetensors::Header;

/// The metadata key of a file's run id.
pub const RUN_KEY: &str = "nninit.run";

/// A run's identity, written into every file it makes (`nninit.run`): 16 hex digits, the
/// 64-bit FNV-1a hash of everything that decides the run's values ([`crate::model::init::InitJob::run_id`]). Files
/// with the same id hold the values of one model, seed and dtypes: the ranks of a distributed
/// run share it without talking to each other, and an unsharded run of the same model has it
/// too (so `assemble` gives back its bytes); files that differ in it come from runs that would
/// not agree, which `nninit verify DIR` refuses to call one checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunId(pub u64);

impl RunId {
    /// The id of the run that `content` describes: the 64-bit FNV-1a hash of the text.
    pub fn of(content: &str) -> RunId {
        RunId(stream_of_name(content))
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// What a lock file says about the run that holds (or held) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its process id.
    pub pid: u32,
    /// The host it ran on.
    pub host: String,
    /// Its run id, as written.
    pub run: String,
    /// The lock file.
    pub lock: PathBuf,
}

impl Holder {
    fn parse(text: &str, lock: &Path) -> Holder {
        let field = |key: &str| {
            text.split_whitespace()
                .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
                .unwrap_or("?")
                .to_string()
        };
        Holder {
            pid: field("pid").parse().unwrap_or(0),
            host: field("host"),
            run: field("run"),
            lock: lock.to_path_buf(),
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {} on {}, run {}", self.pid, self.host, self.run)
    }
}

/// What a run writes.
#[derive(Debug, Clone, Copy)]
pub enum Destination<'a> {
    /// One file.
    File(&'a Path),
    /// A directory of files (a checkpoint's shards).
    Dir(&'a Path),
    /// One rank's files in a directory shared with the other ranks of the same run.
    Rank(&'a Path, u64),
}

/// A run's claim on its destination: see the module documentation.
#[derive(Debug)]
pub struct RunGuard {
    run: RunId,
    /// Tracks this guard's files (unique in the process, whatever the run id).
    token: u64,
    lock_path: PathBuf,
    lock_file: Option<File>,
    /// Runs that stopped here without finishing.
    stale: Vec<Holder>,
    /// What our lock file said when we took it, if a run that never finished held it: written
    /// back if this run fails before it deals with that run's leftovers, so they stay known.
    stale_own: Option<String>,
    /// This thread's run before this one.
    previous: Option<u64>,
    finished: bool,
}

impl RunGuard {
    /// Locks `destination` for run `run`, or fails at once: [`Error::Busy`] naming the holder
    /// when another run is writing it. Creates an output directory that does not exist yet.
    /// Files this thread renames into place from now on belong to the run.
    pub fn claim(destination: Destination<'_>, run: RunId) -> Result<RunGuard> {
        let (dir, lock_name, shared_dir) = match destination {
            Destination::File(path) => {
                let dir = match path.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir,
                    _ => Path::new("."),
                };
                let name = path
                    .file_name()
                    .map_or("out".into(), |n| n.to_string_lossy());
                (dir, format!(".{name}.nninit.lock"), false)
            }
            Destination::Dir(dir) => (dir, ".nninit.lock".to_string(), true),
            Destination::Rank(dir, rank) => (dir, format!(".nninit-rank-{rank:05}.lock"), true),
        };
        let lock_path = dir.join(&lock_name);
        let token = {
            static NEXT: AtomicU64 = AtomicU64::new(1);
            NEXT.fetch_add(1, Ordering::Relaxed)
        };
        let mut guard = RunGuard {
            run,
            token,
            lock_path: lock_path.clone(),
            lock_file: None,
            stale: Vec::new(),
            stale_own: None,
            previous: None,
            finished: false,
        };
        // Directories the run creates are its own too: removed, if left empty, when it fails.
        for created in create_dirs(dir)? {
            track(created, token);
        }
        let what = match destination {
            Destination::File(path) => path.display().to_string(),
            _ => dir.display().to_string(),
        };
        let (file, stale_text) = lock_exclusively(&lock_path, &what)?;
        let mut writer = &file;
        let line = format!(
            "pid={} host={} run={run}\n",
            std::process::id(),
            host_name()
        );
        let io = |source| Error::Io {
            path: lock_path.display().to_string(),
            source,
        };
        let written = writer
            .set_len(0)
            .and_then(|()| writer.rewind())
            .and_then(|()| writer.write_all(line.as_bytes()));
        guard.lock_file = Some(file);
        // A run that held this lock file and died, even one of the same model and seed: what it
        // left is refused or, with force, removed, never silently reused.
        let stale_own = stale_text.map(|text| (Holder::parse(&text, &lock_path), text));
        match stale_own {
            Some((holder, text)) => {
                guard.stale.push(holder);
                guard.stale_own = Some(text);
            }
            // The lock file is ours: it goes when the guard does, or with the files of an
            // interrupted run.
            None => track(lock_path.clone(), token),
        }
        written.map_err(io)?;
        if shared_dir {
            guard.look_at_other_locks(dir, &lock_name, &what)?;
        }
        guard.previous = set_current_run(Some(token));
        Ok(guard)
    }

    /// Every other `.nninit*.lock` of `dir`: held by another run, an error; held by nobody, a
    /// run that stopped here.
    fn look_at_other_locks(&mut self, dir: &Path, own: &str, what: &str) -> Result<()> {
        let listing = std::fs::read_dir(dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == own || !(name.starts_with(".nninit") && name.ends_with(".lock")) {
                continue;
            }
            let path = entry.path();
            let Ok(file) = File::open(&path) else {
                continue;
            };
            let text = read_all(&file);
            match file.try_lock() {
                // Held: a live run. Its holder writes its line just after it locks the file.
                Err(TryLockError::WouldBlock) => {
                    let holder = Holder::parse(&settled(&file, text), &path);
                    if holder.run != self.run.to_string() {
                        return Err(Error::Busy {
                            destination: what.to_string(),
                            holder: holder.to_string(),
                        });
                    }
                }
                Err(TryLockError::Error(_)) => {}
                // Free: its run died, unless it is empty (a run about to lock it). Unlocked at
                // once; the run that is about to take it retries a moment (`lock_exclusively`).
                Ok(()) => {
                    let _ = file.unlock();
                    let holder = Holder::parse(&text, &path);
                    if !text.trim().is_empty() && holder.run != self.run.to_string() {
                        self.stale.push(holder);
                    }
                }
            }
        }
        Ok(())
    }

    /// The run's id.
    pub fn run(&self) -> RunId {
        self.run
    }

    /// Runs that stopped in this destination without finishing (killed, or a power loss), and
    /// the files they left: their lock files, temporary files, and the safetensors files in
    /// `dir` that carry their run id. Empty when there are none.
    pub fn leftovers(&self, dir: &Path) -> Vec<(Holder, Vec<PathBuf>)> {
        let Ok(listing) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let names: Vec<PathBuf> = listing.flatten().map(|e| e.path()).collect();
        self.stale
            .iter()
            .map(|holder| {
                let temp_mark = format!(".nninit-{}-", holder.pid);
                let mut files: Vec<PathBuf> = names
                    .iter()
                    .filter(|path| {
                        let name = path
                            .file_name()
                            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                        (name.starts_with('.')
                            && name.contains(&temp_mark)
                            && name.ends_with(".tmp"))
                            || (name.ends_with(".safetensors")
                                && Header::read(path).is_ok_and(|h| {
                                    h.metadata.get(RUN_KEY).and_then(|v| v.as_str())
                                        == Some(holder.run.as_str())
                                }))
                    })
                    .cloned()
                    .collect();
                files.sort();
                // The lock file first: it names the run, in any message that lists a few.
                files.insert(0, holder.lock.clone());
                (holder.clone(), files)
            })
            .collect()
    }

    /// Refuses what [`RunGuard::leftovers`] finds, naming it, unless `force`; with `force`,
    /// removes it. An [`Error::InvalidParameter`] named `out` (a usage error: `--force` decides).
    pub fn remove_leftovers(&mut self, dir: &Path, force: bool) -> Result<()> {
        let leftovers = self.leftovers(dir);
        if leftovers.is_empty() {
            return Ok(());
        }
        if !force {
            let (holder, files) = &leftovers[0];
            let mut named: Vec<String> = files
                .iter()
                .take(4)
                .map(|f| {
                    f.file_name()
                        .map_or(String::new(), |n| n.to_string_lossy().into())
                })
                .collect();
            if files.len() > 4 {
                named.push(format!("and {} more", files.len() - 4));
            }
            return Err(Error::invalid(
                "out",
                dir.display(),
                format!(
                    "no files of a run that stopped without finishing ({holder}); it left {}: \
                     pass --force to remove them",
                    named.join(", ")
                ),
            ));
        }
        for (_, files) in leftovers {
            // Our own lock file may be one of them: it stays, ours now.
            for file in files.iter().filter(|f| **f != self.lock_path) {
                match std::fs::remove_file(file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Error::Io {
                            path: file.display().to_string(),
                            source: e,
                        });
                    }
                    _ => {}
                }
            }
        }
        self.stale.clear();
        if self.stale_own.take().is_some() {
            track(self.lock_path.clone(), self.token);
        }
        Ok(())
    }

    /// Adds `path`, which the run created some other way (a directory's staged file), to the
    /// files removed if the run does not finish.
    pub fn created(&self, path: &Path) {
        track(path.to_path_buf(), self.token);
    }

    /// The run finished: its files stay, its lock file goes.
    pub fn finish(mut self) {
        untrack_run(self.token, false);
        let _ = std::fs::remove_file(&self.lock_path);
        self.finished = true;
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if !self.finished {
            // The leftovers this run was refused for stay known: the lock file says whose.
            if let (Some(text), Some(mut file)) = (&self.stale_own, self.lock_file.as_ref()) {
                let _ = file.set_len(0);
                let _ = file.rewind();
                let _ = file.write_all(text.as_bytes());
            }
            // Newest first: the files, the lock file (while still locked: a run that opened it
            // finds it unlinked, see `lock_exclusively`), then the directories left empty.
            untrack_run(self.token, true);
        }
        set_current_run(self.previous);
        drop(self.lock_file.take());
    }
}

/// Locks `lock_path` exclusively, creating it, or fails with [`Error::Busy`] naming the
/// holder. Also returns what an earlier holder that died wrote in it, if anything.
fn lock_exclusively(lock_path: &Path, what: &str) -> Result<(File, Option<String>)> {
    let io = |source| Error::Io {
        path: lock_path.display().to_string(),
        source,
    };
    // A few rounds: the file can be unlinked by its last holder between our open and our lock.
    for _ in 0..8 {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path)
            .map_err(io)?;
        // Another run that looks at the directory's locks (`look_at_other_locks`) holds each
        // for a moment: only a lock still held after 0.1 s is another run's.
        let mut tries = 0;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if tries < 25 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(4));
                }
                Err(TryLockError::WouldBlock) => {
                    let text = settled(&file, read_all(&file));
                    return Err(Error::Busy {
                        destination: what.to_string(),
                        holder: Holder::parse(&text, lock_path).to_string(),
                    });
                }
                Err(TryLockError::Error(source)) => return Err(io(source)),
            }
        }
        if !same_file(&file, lock_path) {
            continue;
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        return Ok((file, (!text.trim().is_empty()).then_some(text)));
    }
    Err(io(std::io::Error::other(
        "the lock file kept being replaced while it was taken",
    )))
}

/// The whole of `file`, from its start (empty if it cannot be read).
fn read_all(mut file: &File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    text
}

/// A held lock file's line: `text`, or, while it is still empty (its holder has just locked it),
/// what it says after up to 0.1 s.
fn settled(file: &File, mut text: String) -> String {
    for _ in 0..25 {
        if !text.trim().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(4));
        text = read_all(file);
    }
    text
}

/// Whether `file` is still the file at `path` (not unlinked or replaced).
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// Creates `dir` and its missing ancestors; returns those it created, outermost first.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut next = Some(dir);
    while let Some(d) = next.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d.to_path_buf());
        next = d.parent();
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    missing.reverse();
    Ok(missing)
}

/// This machine's name (Linux: the kernel's; elsewhere `HOSTNAME`, or `localhost`).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

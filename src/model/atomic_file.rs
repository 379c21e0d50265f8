//! Output files appear whole or not at all: written to a temporary file beside the target and
//! renamed over it only after every byte was written and flushed.
//!
//! - An error while writing removes the temporary file and leaves the target untouched.
//! - A process killed outright (SIGKILL, power loss) never leaves a partial target either: the
//!   target only ever appears by a rename of a complete file. It can leave the hidden temporary
//!   file (`.NAME.nninit-PID-N.tmp` beside the target) behind.
//! - An interrupted process leaves neither if its signal handler calls [`abandon_temp_files`]
//!   before it exits, as the `nninit` binary's does (SIGINT, SIGTERM, SIGHUP; exit status 130).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};

/// Temporary files being written now, by every thread of the process. A temporary file exists
/// exactly while its path is in the list: it is created and renamed (or removed) with the lock
/// held, so the signal handler, which takes the lock and never gives it back, sees them all and
/// no new one can appear after it.
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Distinguishes concurrent writes of one process to the same target.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

fn temp_files() -> MutexGuard<'static, Vec<PathBuf>> {
    // A thread that panicked while holding the lock left the list consistent: every step under
    // it is a single push, remove or file operation.
    TEMP_FILES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates `path` by running `write` on a buffered temporary file in the same directory, then
/// renaming it into place. On any error the temporary file is removed and `path` is untouched.
pub fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T>,
) -> Result<T> {
    let io_error = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let temp = temp_path(path);
    let file = {
        let mut list = temp_files();
        let file = File::create(&temp).map_err(io_error)?;
        list.push(temp.clone());
        file
    };
    let mut writer = BufWriter::new(file);
    let result = write(&mut writer).and_then(|value| {
        writer.flush().map_err(io_error)?;
        writer.get_ref().sync_all().map_err(io_error)?;
        Ok(value)
    });
    drop(writer);
    let mut list = temp_files();
    let result = result.and_then(|value| {
        std::fs::rename(&temp, path).map_err(io_error)?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    list.retain(|p| p != &temp);
    result
}

/// Checks, before any work is done, that [`write_atomically`] can create `path`: its directory
/// exists, is a directory, and accepts a new file (a probe temporary file is created and removed
/// at once). An [`Error::InvalidParameter`] named `out` otherwise: a bad output path is a usage
/// Checks that `dir` is, or can be made, a directory that accepts a new file named `name`:
/// the nearest of it and its ancestors that exists is probed ([`check_writable`]).
pub fn check_dir_writable(dir: &Path, name: &str) -> Result<()> {
    let mut probe_dir = dir;
    while !probe_dir.exists() {
        match probe_dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => probe_dir = parent,
            _ => {
                probe_dir = Path::new(".");
                break;
            }
        }
    }
    check_writable(&probe_dir.join(name))
}

/// Writes `text` to `path` whole or not at all ([`write_atomically`]).
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, |file| {
        use std::io::Write;
        file.write_all(text.as_bytes()).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    })
}

/// error, found before anything is computed.
pub fn check_writable(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::invalid(
            "out",
            path.display(),
            "its directory must exist",
        ));
    }
    if path.is_dir() {
        return Err(Error::invalid(
            "out",
            path.display(),
            "is a directory; name a file",
        ));
    }
    let probe = temp_path(path);
    let created = {
        let _list = temp_files();
        File::create(&probe)
    };
    match created {
        Ok(file) => {
            drop(file);
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(error) => Err(Error::invalid(
            "out",
            path.display(),
            format!("its directory must be writable ({error})"),
        )),
    }
}

/// Asks the kernel to start writing `file`'s dirty pages to disk now, without waiting for them
/// (Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)`; elsewhere nothing). A writer that calls it
/// every few tens of MiB keeps the disk busy while it draws the next bytes, so the `fsync`
/// before the rename in [`write_atomically`] finds little left to do.
pub fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; offset 0 and length 0 mean the whole file. The call
        // only schedules I/O; an error (an fs without support) just leaves the work to fsync.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Removes every temporary file [`write_atomically`] is writing at this moment and keeps the
/// list locked for the rest of the process, so no write can create, rename or forget a temporary
/// file after it: for a signal handler that exits right after (the `nninit` binary's does).
/// Targets already renamed into place are complete and stay; targets not yet renamed never appear.
/// Returns how many files were removed. Every later [`write_atomically`] blocks forever.
pub fn abandon_temp_files() -> usize {
    let list = temp_files();
    for temp in list.iter() {
        let _ = std::fs::remove_file(temp);
    }
    let removed = list.len();
    std::mem::forget(list);
    removed
}

/// The temporary file for `path`: hidden, beside it (so the rename stays on one file system),
/// unique to this process and this write.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let serial = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(
        ".{name}.nninit-{}-{serial}.tmp",
        std::process::id()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nninit-atomic-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_whole_file_and_no_temp_remains() {
        let dir = dir("ok");
        let path = dir.join("out.bin");
        let n = write_atomically(&path, |w| {
            w.write_all(b"hello").unwrap();
            Ok(5)
        })
        .unwrap();
        assert_eq!(n, 5);
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        assert_eq!(entries(&dir), ["out.bin"]);
        assert!(!temp_files().iter().any(|p| p.starts_with(&dir)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_error_leaves_the_old_target_and_no_temp() {
        let dir = dir("err");
        let path = dir.join("out.bin");
        std::fs::write(&path, b"old").unwrap();
        let result: Result<()> = write_atomically(&path, |w| {
            w.write_all(&[7; 100_000]).unwrap();
            // The temporary file exists and is registered while it is written.
            assert!(temp_files().iter().any(|p| p.starts_with(&dir)));
            Err(Error::invalid("test", 1, "fails on purpose"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(entries(&dir), ["out.bin"]);
        assert!(!temp_files().iter().any(|p| p.starts_with(&dir)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn concurrent_writes_to_one_target_use_distinct_temps() {
        let dir = dir("same");
        let path = dir.join("out.bin");
        std::thread::scope(|s| {
            for t in 0..8u8 {
                let path = &path;
                s.spawn(move || {
                    write_atomically(path, |w| {
                        w.write_all(&[t; 4096]).unwrap();
                        Ok(())
                    })
                    .unwrap()
                });
            }
        });
        // One of the eight whole files won; nothing else is left.
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 4096);
        assert!(bytes.iter().all(|&b| b == bytes[0]));
        assert_eq!(entries(&dir), ["out.bin"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn check_writable_accepts_a_writable_directory_and_leaves_nothing() {
        let dir = dir("check");
        check_writable(&dir.join("out.npy")).unwrap();
        assert_eq!(entries(&dir), Vec::<String>::new());
        let err = check_writable(&dir).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { .. }), "{err:?}");
        let err = check_writable(&dir.join("missing").join("out.npy")).unwrap_err();
        assert!(err.to_string().contains("directory must exist"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Directories no file can be created in, even as root: `/proc` and `/sys`.
    #[cfg(target_os = "linux")]
    #[test]
    fn check_writable_refuses_directories_that_take_no_files() {
        for path in ["/proc/out.npy", "/sys/out.safetensors"] {
            match check_writable(Path::new(path)) {
                Err(Error::InvalidParameter { name, allowed, .. }) => {
                    assert_eq!(name, "out");
                    assert!(allowed.contains("writable"), "{allowed}");
                }
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_directory_is_an_io_error_and_registers_nothing() {
        let path = Path::new("/nonexistent-nninit-dir/out.bin");
        let result = write_atomically(path, |_| Ok(()));
        assert!(matches!(result, Err(Error::Io { .. })), "{result:?}");
        assert!(
            !temp_files()
                .iter()
                .any(|p| p.starts_with("/nonexistent-nninit-dir"))
        );
    }
}

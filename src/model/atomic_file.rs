//! Output files appear whole or not at all: written to a temporary file beside the target and
//! renamed over it only after every byte was written and flushed.
//!
//! - An error while writing removes the temporary file and leaves the target untouched.
//! - A process killed outright (SIGKILL, power loss) never leaves a partial target either: the
//!   target only ever appears by a rename of a complete file. It can leave the hidden temporary
//!   file (`.NAME.nninit-PID-N.tmp` beside the target) behind.
//! - An interrupted process leaves neither if its signal handler calls [`abandon_temp_files`]
//!   before it exits, as the `nninit` binary's does (SIGINT, SIGTERM, SIGHUP; exit status 130).

use std::cell::Cell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};

use crate::error::{Error, Result};

/// Files that must not outlive an unfinished write, by every thread of the process: temporary
/// files being written now, and the files a run ([`crate::model::run::RunGuard`]) has created so
/// far, until it finishes. A temporary file exists exactly while its path is in the list: it is
/// created and renamed (or removed) with the lock held, so the signal handler, which takes the
/// lock and never gives it back, sees them all and no new one can appear after it.
static UNFINISHED: Mutex<Vec<Unfinished>> = Mutex::new(Vec::new());

/// One entry of [`UNFINISHED`].
struct Unfinished {
    path: PathBuf,
    /// The run that created it (`None`: a temporary file, removed by its own writer).
    run: Option<u64>,
}

thread_local! {
    /// The run whose files this thread writes now: each file renamed into place joins the run's
    /// entries, under the same lock as the rename.
    static CURRENT_RUN: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Distinguishes concurrent writes of one process to the same target.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

fn unfinished() -> MutexGuard<'static, Vec<Unfinished>> {
    // A thread that panicked while holding the lock left the list consistent: every step under
    // it is a single push, remove or file operation.
    UNFINISHED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Makes `run` this thread's run (or none), returning the one before.
pub(crate) fn set_current_run(run: Option<u64>) -> Option<u64> {
    CURRENT_RUN.replace(run)
}

/// Adds `path` to `run`'s files (a file, or a directory it created): removed if the run does not
/// finish (a directory only if empty by then).
pub(crate) fn track(path: PathBuf, run: u64) {
    unfinished().push(Unfinished {
        path,
        run: Some(run),
    });
}

/// Stops tracking `run`'s files and returns them, in the order they were created; with `remove`,
/// removes them first, newest first, under the lock (so an interrupt sees either all of them or
/// none).
pub(crate) fn untrack_run(run: u64, remove: bool) -> Vec<PathBuf> {
    let mut list = unfinished();
    let mut paths = Vec::new();
    list.retain(|entry| {
        let ours = entry.run == Some(run);
        if ours {
            paths.push(entry.path.clone());
        }
        !ours
    });
    if remove {
        for path in paths.iter().rev() {
            remove_file_or_empty_dir(path);
        }
    }
    paths
}

/// Removes the file at `path`, or the directory if it is one and empty; nothing else.
fn remove_file_or_empty_dir(path: &Path) {
    if std::fs::remove_file(path).is_err() {
        let _ = std::fs::remove_dir(path);
    }
}

/// Creates `path` by running `write` on a buffered temporary file in the same directory, then
/// renaming it into place. On any error the temporary file is removed and `path` is untouched.
pub fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T>,
) -> Result<T> {
    write_temp_then_rename(path, |file, io_error| {
        let mut writer = BufWriter::new(file);
        let value = write(&mut writer)?;
        let file = writer.into_inner().map_err(|e| io_error(e.into_error()))?;
        Ok((value, file))
    })
}

/// [`write_atomically`] for large files: `write` writes through a [`DirectWriter`], which
/// bypasses the page cache where the file system allows it.
pub fn write_atomically_direct<T>(
    path: &Path,
    write: impl FnOnce(&mut DirectWriter) -> Result<T>,
) -> Result<T> {
    write_temp_then_rename(path, |file, io_error| {
        let mut writer = DirectWriter::new(file).map_err(io_error)?;
        let value = write(&mut writer)?;
        let file = writer.finish().map_err(io_error)?;
        Ok((value, file))
    })
}

/// Creates the temporary file for `path`, hands it to `body` (with the error for `path`'s I/O),
/// flushes the file `body` gives back to the disk and renames it over `path`; on any error
/// removes the temporary file.
fn write_temp_then_rename<T>(
    path: &Path,
    body: impl FnOnce(File, &dyn Fn(std::io::Error) -> Error) -> Result<(T, File)>,
) -> Result<T> {
    let io_error = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let temp = temp_path(path);
    let file = {
        let mut list = unfinished();
        let file = File::create(&temp).map_err(io_error)?;
        list.push(Unfinished {
            path: temp.clone(),
            run: None,
        });
        file
    };
    let result = body(file, &io_error).and_then(|(value, file)| {
        file.sync_all().map_err(io_error)?;
        Ok(value)
    });
    let mut list = unfinished();
    let result = result.and_then(|value| {
        std::fs::rename(&temp, path).map_err(io_error)?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    list.retain(|entry| entry.path != temp);
    // A run's file is its own until the run finishes.
    if let (Ok(_), Some(run)) = (&result, CURRENT_RUN.get()) {
        list.push(Unfinished {
            path: path.to_path_buf(),
            run: Some(run),
        });
    }
    result
}

/// Alignment of a direct write's memory, length and file offset: a page, which covers every
/// Linux file system's logical block.
const DIRECT_ALIGN: usize = 4096;

/// Bytes per block handed to the disk.
const BLOCK_BYTES: usize = 8 << 20;

/// A page-aligned buffer of [`BLOCK_BYTES`], for direct writes.
struct Block {
    storage: Vec<u8>,
    start: usize,
}

impl Block {
    fn new() -> Self {
        let storage = vec![0u8; BLOCK_BYTES + DIRECT_ALIGN];
        let start = storage.as_ptr().align_offset(DIRECT_ALIGN);
        Self { storage, start }
    }

    fn bytes(&self, len: usize) -> &[u8] {
        &self.storage[self.start..self.start + len]
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + BLOCK_BYTES]
    }
}

/// A writer for large files that skips the page cache (Linux `O_DIRECT`) where the file system
/// allows it, on a thread of its own: while the disk writes one 8 MiB block straight from its
/// page-aligned buffer, the caller fills the next. Writing then costs neither the kernel's copy
/// into the page cache (most of the CPU time of a buffered checkpoint write, measured) nor a
/// flush of it all at the end. The tail that does not fill a block, and every write on a file
/// system that refuses `O_DIRECT` (where a direct write fails with `EINVAL`, having written
/// nothing), go through the page cache as usual; the caller's `fsync` makes either durable.
/// Data reaches the file in whole blocks and at [`DirectWriter::finish`]: `flush` does nothing.
pub struct DirectWriter {
    file: File,
    /// The block being filled, and how far.
    block: Block,
    filled: usize,
    /// A block for the next swap: `None` while it is with the writing thread.
    spare: Option<Block>,
    direct: Arc<AtomicBool>,
    disk: DiskThread,
}

/// The thread that writes full blocks, in order; stopped (and joined) when dropped.
struct DiskThread {
    to_disk: Option<mpsc::SyncSender<Block>>,
    written: mpsc::Receiver<std::io::Result<Block>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for DiskThread {
    fn drop(&mut self) {
        self.to_disk = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl DirectWriter {
    fn new(file: File) -> std::io::Result<Self> {
        let direct = Arc::new(AtomicBool::new(set_direct(&file, true)));
        let (to_disk, blocks) = mpsc::sync_channel::<Block>(0);
        let (done, written) = mpsc::channel();
        let disk = file.try_clone()?;
        let thread_direct = direct.clone();
        // The only writer of the file until `finish`, block after block, in order.
        let thread = std::thread::Builder::new()
            .name("nninit-disk".into())
            .spawn(move || {
                for block in blocks {
                    let result = write_block(&disk, block.bytes(BLOCK_BYTES), &thread_direct);
                    if done.send(result.map(|()| block)).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Self {
            file,
            block: Block::new(),
            filled: 0,
            spare: Some(Block::new()),
            direct,
            disk: DiskThread {
                to_disk: Some(to_disk),
                written,
                thread: Some(thread),
            },
        })
    }

    /// The file (for [`start_writeback`]).
    pub fn get_ref(&self) -> &File {
        &self.file
    }

    /// Whether writes still bypass the page cache.
    pub fn is_direct(&self) -> bool {
        self.direct.load(Ordering::Relaxed)
    }

    /// Waits for the block with the writing thread, if any, to be written; its error if it
    /// failed.
    fn wait_for_disk(&mut self) -> std::io::Result<()> {
        if self.spare.is_none() {
            let block = self
                .disk
                .written
                .recv()
                .map_err(|_| std::io::Error::other("the disk-writing thread stopped"))??;
            self.spare = Some(block);
        }
        Ok(())
    }

    /// Hands the full block to the writing thread and takes the spare one.
    fn hand_over(&mut self) -> std::io::Result<()> {
        self.wait_for_disk()?;
        let spare = self.spare.take().expect("the spare block is back");
        let full = std::mem::replace(&mut self.block, spare);
        self.filled = 0;
        match self.disk.to_disk.as_ref().map(|to_disk| to_disk.send(full)) {
            Some(Ok(())) => Ok(()),
            _ => Err(std::io::Error::other("the disk-writing thread stopped")),
        }
    }

    /// Waits for the writing thread, writes the tail and gives the file back, not yet flushed
    /// to the disk.
    pub fn finish(mut self) -> std::io::Result<File> {
        self.wait_for_disk()?;
        let Self {
            file,
            block,
            filled,
            direct,
            disk,
            ..
        } = self;
        drop(disk);
        if !filled.is_multiple_of(DIRECT_ALIGN) && direct.load(Ordering::Relaxed) {
            direct.store(!set_direct(&file, false), Ordering::Relaxed);
        }
        write_block(&file, block.bytes(filled), &direct)?;
        Ok(file)
    }
}

/// Writes `data` at the file's offset: directly while `direct` holds, else, and after a direct
/// write was refused (`EINVAL`), through the page cache.
fn write_block(file: &File, data: &[u8], direct: &AtomicBool) -> std::io::Result<()> {
    let mut file = file;
    match file.write_all(data) {
        Err(e) if direct.load(Ordering::Relaxed) && e.raw_os_error() == Some(libc::EINVAL) => {
            direct.store(!set_direct(file, false), Ordering::Relaxed);
            file.write_all(data)
        }
        other => other,
    }
}

impl Write for DirectWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(BLOCK_BYTES - self.filled);
        self.block.bytes_mut()[self.filled..self.filled + n].copy_from_slice(&buf[..n]);
        self.filled += n;
        if self.filled == BLOCK_BYTES {
            self.hand_over()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Turns `O_DIRECT` on or off for `file`; whether the file now has it as asked (always `false`
/// when asked to turn it on where there is no `O_DIRECT`).
fn set_direct(file: &File, on: bool) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: a valid open descriptor; F_GETFL/F_SETFL only read and set its status flags.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags < 0 {
                return !on;
            }
            let flags = if on {
                flags | libc::O_DIRECT
            } else {
                flags & !libc::O_DIRECT
            };
            libc::fcntl(fd, libc::F_SETFL, flags) == 0
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        !on
    }
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
        let _list = unfinished();
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

/// Removes every temporary file [`write_atomically`] is writing at this moment, and every file of
/// a run that has not finished, and keeps the list locked for the rest of the process, so no write
/// can create, rename or forget a file after it: for a signal handler that exits right after (the
/// `nninit` binary's does). Files written outside a run and already renamed into place are
/// complete and stay; targets not yet renamed never appear. Returns how many files were removed.
/// Every later [`write_atomically`] blocks forever.
pub fn abandon_temp_files() -> usize {
    let list = unfinished();
    for entry in list.iter().rev() {
        remove_file_or_empty_dir(&entry.path);
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
        assert!(!unfinished().iter().any(|u| u.path.starts_with(&dir)));
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
            assert!(unfinished().iter().any(|u| u.path.starts_with(&dir)));
            Err(Error::invalid("test", 1, "fails on purpose"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(entries(&dir), ["out.bin"]);
        assert!(!unfinished().iter().any(|u| u.path.starts_with(&dir)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Pieces of odd sizes across several blocks and a tail that fills no page: the file holds
    /// every byte in order, on a disk's file system (direct writes) and on tmpfs where there is
    /// one (`/dev/shm`: direct writes refused or taken, as the kernel has it).
    #[test]
    fn direct_writes_keep_every_byte_in_order() {
        let len = 2 * BLOCK_BYTES + 3 * DIRECT_ALIGN + 17;
        let want: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let shm = PathBuf::from("/dev/shm").join(format!("nninit-direct-{}", std::process::id()));
        let mut dirs = vec![dir("direct")];
        if std::fs::create_dir_all(&shm).is_ok() {
            dirs.push(shm);
        }
        for dir in dirs {
            let path = dir.join("out.bin");
            let was_direct = write_atomically_direct(&path, |w| {
                for piece in want.chunks(1_000_003) {
                    w.write_all(piece).unwrap();
                }
                Ok(w.is_direct())
            })
            .unwrap();
            assert!(std::fs::read(&path).unwrap() == want, "{}", dir.display());
            assert_eq!(entries(&dir), ["out.bin"]);
            println!("{}: direct writes {was_direct}", dir.display());
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn a_direct_write_that_fails_leaves_the_old_target_and_no_temp() {
        let dir = dir("direct-err");
        let path = dir.join("out.bin");
        std::fs::write(&path, b"old").unwrap();
        let result: Result<()> = write_atomically_direct(&path, |w| {
            w.write_all(&vec![7; BLOCK_BYTES + 5]).unwrap();
            Err(Error::invalid("test", 1, "fails on purpose"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(entries(&dir), ["out.bin"]);
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
            !unfinished()
                .iter()
                .any(|u| u.path.starts_with("/nonexistent-nninit-dir"))
        );
    }
}

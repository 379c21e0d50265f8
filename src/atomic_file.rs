//! Output files appear whole or not at all: written to a temporary file beside the target and
//! renamed over it only after every byte was written and flushed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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
    let file = File::create(&temp).map_err(io_error)?;
    let mut writer = BufWriter::new(file);
    let result = write(&mut writer).and_then(|value| {
        writer.flush().map_err(io_error)?;
        writer.get_ref().sync_all().map_err(io_error)?;
        std::fs::rename(&temp, path).map_err(io_error)?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.nninit-{}.tmp", std::process::id()))
}

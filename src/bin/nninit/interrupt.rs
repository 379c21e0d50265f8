//! The interrupt handler: Ctrl-C, SIGTERM or SIGHUP remove the output files still being written
//! and exit with status 130, so an interrupted run leaves no temporary or partial file.

use nninit::model::atomic_file::abandon_temp_files;
use nninit::{Error, Result};

/// The exit status of a process interrupted by a signal, as shells report SIGINT.
pub const INTERRUPTED_EXIT_CODE: i32 = 130;

/// Installs the handler (SIGINT, SIGTERM and SIGHUP; Ctrl-C and Ctrl-Break on Windows). Errors if
/// a handler was already installed through the `ctrlc` crate, or the system refuses.
pub fn remove_temp_files_on_signal() -> Result<()> {
    ctrlc::set_handler(|| {
        let removed = abandon_temp_files();
        eprintln!("nninit: interrupted; removed {removed} unfinished output file(s)");
        std::process::exit(INTERRUPTED_EXIT_CODE);
    })
    .map_err(|e| Error::Io {
        path: "signal handler".to_string(),
        source: std::io::Error::other(e),
    })
}

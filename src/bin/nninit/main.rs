//! The `nninit` command line. Each subcommand lives in its own module; what only the binary needs
//! (argument parsing, progress, the benchmark and its peers, SVG, `.npy`, the interrupt handler)
//! lives here, not in the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nninit::Error;

mod adapter;
mod assemble;
mod bench;
mod bits;
mod device;
mod fill;
mod init;
mod interrupt;
mod npy;
mod study;
mod svg;
mod verify;

#[derive(Parser)]
#[command(
    name = "nninit",
    version,
    about = "Neural-network weight initialization on the GPU, reproducible everywhere"
)]
struct Cli {
    /// Without a subcommand, runs `init` with its defaults (gpt2 into gpt2.safetensors, seed 0).
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Initializes every tensor of a model (a preset or a JSON description) into .safetensors.
    Init(init::InitArgs),
    /// Raw stream words N..N+count as little-endian u32, for external RNG test batteries.
    Bits(bits::BitsArgs),
    /// Draws one tensor with any scheme and writes it as .npy or .safetensors.
    Fill(fill::FillArgs),
    /// Places the rank files of `init --tp/--dp` back into the unsharded checkpoint, byte for
    /// byte the file an unsharded `init` writes.
    Assemble(assemble::AssembleArgs),
    /// Verifies every tensor of a .safetensors file written by nninit against its metadata:
    /// element by element against the CPU reference, and statistically.
    Verify(verify::VerifyArgs),
    /// The seed notes' depth experiment: 100 layers of width 512 under four initializations;
    /// prints per-layer statistics and writes study.svg and study.json.
    Study(study::StudyArgs),
    /// Benchmarks GPU fills against the CPU reference, the rand_distr peer and memset, side by
    /// side on this machine.
    Bench(bench::BenchArgs),
    /// Prints the adapter wgpu picks (honouring WGPU_BACKEND and WGPU_ADAPTER_NAME) and its limits.
    Adapter,
}

/// On a machine with no display session, Mesa's Vulkan drivers probe Wayland while wgpu creates
/// its instance, and libwayland prints `error: XDG_RUNTIME_DIR is invalid or not set in the
/// environment.` — a line that is not nninit's, read as nninit failing. nninit never presents to
/// a screen, so where the variable is unset it points it at the temporary directory, where
/// libwayland finds no compositor and says nothing.
fn quiet_headless_vulkan() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // SAFETY: the first thing `main` does, before any other thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir()) };
    }
}

/// A write past a file-size limit (`ulimit -f`, `RLIMIT_FSIZE`) raises SIGXFSZ, which by
/// default kills the process before it can remove what it wrote. Ignored, the write fails with
/// `EFBIG` instead, and the run cleans up like any other failed run.
fn file_size_limit_is_an_error() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to "ignore", before any other thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn main() -> ExitCode {
    quiet_headless_vulkan();
    file_size_limit_is_an_error();
    // An interrupted run removes its temporary output files (exit 130) instead of leaving them.
    let _ = interrupt::remove_temp_files_on_signal();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            let _ = error.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            // One line: clap's message without its usage block and hints.
            let rendered = error.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .take_while(|line| !line.starts_with("Usage:"))
                .filter(|line| !line.is_empty())
                .collect();
            eprintln!(
                "nninit: {}",
                message.join(" ").trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
    };
    let result = match cli
        .command
        .unwrap_or(Command::Init(init::InitArgs::default()))
    {
        Command::Init(args) => init::run(args).map(|()| true),
        Command::Bits(args) => bits::run(args).map(|()| true),
        Command::Fill(args) => fill::run(args).map(|()| true),
        Command::Adapter => adapter::run().map(|()| true),
        Command::Verify(args) => verify::run(args),
        Command::Assemble(args) => assemble::run(args).map(|()| true),
        Command::Study(args) => study::run(args).map(|()| true),
        Command::Bench(args) => bench::run(args).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("nninit: error: {error}");
            match error {
                Error::InvalidParameter { .. } | Error::Parse { .. } => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}

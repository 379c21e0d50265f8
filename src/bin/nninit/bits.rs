//! `nninit bits`: raw stream words as little-endian u32, for external RNG test batteries.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use nninit::{Error, Result, StreamId};

use crate::device::Device;

#[derive(Args)]
pub struct BitsArgs {
    /// Seed (the Philox key).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Stream (the counter's upper half).
    #[arg(long, default_value_t = 0)]
    pub stream: u64,
    /// Index of the first word.
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Number of words.
    #[arg(long)]
    pub count: u64,
    /// Where to draw: auto (a hardware GPU if there is one, else the CPU reference), gpu or cpu.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
    /// Output file (stdout when absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Words computed and written per piece, so `bits` streams any count in bounded memory.
const BITS_PIECE: u64 = 1 << 24;

pub fn run(args: BitsArgs) -> Result<()> {
    let id = StreamId::new(args.seed, args.stream);
    let end = args
        .offset
        .checked_add(args.count)
        .ok_or_else(|| Error::invalid("count", args.count, "offset + count must fit in u64"))?;
    let gpu = args.device.open()?;
    let write_words = |out: &mut dyn Write, path: &str| -> Result<()> {
        let mut start = args.offset;
        while start < end {
            let piece = start..end.min(start + BITS_PIECE);
            let words = match &gpu {
                Some(gpu) => gpu.words(id, piece.clone())?,
                None => {
                    let mut words = vec![0u32; (piece.end - piece.start) as usize];
                    nninit::backend::cpu::fill_words(id, piece.start, &mut words)?;
                    words
                }
            };
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            match out.write_all(&bytes) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                other => other.map_err(|source| Error::Io {
                    path: path.into(),
                    source,
                })?,
            }
            start = piece.end;
        }
        Ok(())
    };
    match &args.out {
        Some(path) => nninit::model::atomic_file::write_atomically(path, |file| {
            write_words(file, &path.display().to_string())
        }),
        None => write_words(&mut std::io::stdout().lock(), "<stdout>"),
    }
}

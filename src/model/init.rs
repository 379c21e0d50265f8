//! The main job: initialize every tensor of a model (a preset or a JSON description) on a
//! backend and stream them into one `.safetensors` file — or into shard `I` of `N`, holding the
//! `I`-th of `N` contiguous dim-0 row blocks of every tensor. [`run_split`] writes the tensors
//! into consecutive files instead (a checkpoint's shards, `crate::model::checkpoint`), drawing
//! them once, in order.
//!
//! Each tensor draws from the stream of its own name (a tied tensor from the stream of the tensor
//! it is tied to, so its bytes are identical), so any tensor can be regenerated alone and every
//! shard computes only its own rows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::backend::draw::{Backend, DrawItem, Drawer, GPU_BATCH_BYTES};
use crate::contract::dtype::Dtype;
use crate::contract::slice::{Rows, Slice};
use crate::contract::stream::StreamId;
use crate::error::{Error, Result};
use crate::model::json::FileTensor;
use crate::model::run::{Destination, RUN_KEY, RunGuard, RunId};
use crate::model::safetensors::{TensorRecord, write_streamed};
use crate::scheme::fans::Layout;
use crate::scheme::layers::ParamInit;
use crate::scheme::{Draw, FanRule, Plan};
use crate::verify::stats::Reference;

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 0.
    pub index: u64,
    /// How many.
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` with `N ≥ 1` and `I < N`.
    pub fn parse(text: &str) -> Result<Shard> {
        let invalid = || Error::invalid("shard", text, "I/N with N ≥ 1 and 0 ≤ I < N");
        let (index, count) = text.split_once('/').ok_or_else(invalid)?;
        let (index, count) = (
            index.trim().parse::<u64>().map_err(|_| invalid())?,
            count.trim().parse::<u64>().map_err(|_| invalid())?,
        );
        if count == 0 || index >= count {
            return Err(invalid());
        }
        Ok(Shard { index, count })
    }

    /// This shard's rows of a dim-0 extent of `rows`: `[I·rows/N, (I+1)·rows/N)`.
    pub fn rows(&self, rows: u64) -> (u64, u64) {
        let split = |i: u64| (u128::from(i) * u128::from(rows) / u128::from(self.count)) as u64;
        (split(self.index), split(self.index + 1))
    }
}

/// Which part of each tensor a file holds.
#[derive(Debug, Clone, Default)]
pub enum Part {
    /// Every tensor whole.
    #[default]
    Whole,
    /// `--shard I/N`: the `I`-th of `N` contiguous dim-0 row blocks of every tensor
    /// ([`Shard::rows`]); a 0-dim tensor lives whole in shard 0.
    Shard(Shard),
    /// One box per tensor, in the job's order: a rank of a device mesh
    /// ([`crate::model::parallel`]). Each is filled directly, not by computing whole rows.
    Slices(Vec<Slice>),
}

/// What to initialize and how.
#[derive(Debug, Clone)]
pub struct InitJob {
    /// The tensors, in file order.
    pub tensors: Vec<FileTensor>,
    /// The seed.
    pub seed: u64,
    /// The dtype of float tensors that do not name their own.
    pub dtype: Dtype,
    /// Which part of each tensor to write.
    pub part: Part,
    /// More file-level metadata for every file written (`nninit.rank`, …).
    pub metadata: Vec<(String, String)>,
}

impl InitJob {
    /// The id of a run of this job ([`RunId`]): its seed, its default dtype and every tensor
    /// (name, shape, scheme, dtype, layout, tie), whatever part of them it writes.
    pub fn run_id(&self) -> RunId {
        RunId::of(&format!(
            "nninit-run|{}|{:?}|{:?}",
            self.seed, self.dtype, self.tensors
        ))
    }

    /// Every tensor of `tensors`, whole.
    pub fn whole(tensors: Vec<FileTensor>, seed: u64, dtype: Dtype) -> InitJob {
        InitJob {
            tensors,
            seed,
            dtype,
            part: Part::Whole,
            metadata: Vec::new(),
        }
    }
}

/// Per-scheme statistics of an initialized model.
#[derive(Debug, Clone)]
pub struct SchemeSummary {
    /// The spec string.
    pub spec: String,
    /// Tensors drawn with it.
    pub tensors: u64,
    /// Their elements.
    pub elements: u64,
    /// The std the recipe expects (`None` for deterministic or mixed-parameter schemes).
    pub expected_std: Option<f64>,
    /// The std measured over the written values.
    pub measured_std: f64,
}

/// What an init run did.
#[derive(Debug, Clone)]
pub struct InitSummary {
    /// Tensors written.
    pub tensors: u64,
    /// Elements written, tied tensors counted once.
    pub parameters: u64,
    /// Bytes of tensor data written.
    pub bytes: u64,
    /// Time spent drawing (GPU or CPU) and reading back.
    pub draw_time: Duration,
    /// Time spent writing the file (side by side with drawing: the two overlap).
    pub write_time: Duration,
    /// The whole run, from the first tensor drawn to the file in place.
    pub total_time: Duration,
    /// Per spec string.
    pub schemes: Vec<SchemeSummary>,
}

/// One tensor resolved: its record, its plan and what part of it this file holds, as rows of
/// the whole tensor.
struct Planned {
    record: TensorRecord,
    plan: Option<Plan>,
    full_shape: Vec<u64>,
    rows: Vec<Rows>,
    dtype: Option<Dtype>,
}

impl Planned {
    /// Elements this file holds of the tensor.
    fn numel(&self) -> u64 {
        self.rows.iter().map(Rows::numel).sum()
    }
}

fn plan_tensor(index: usize, file_tensor: &FileTensor, job: &InitJob) -> Result<Option<Planned>> {
    let param = &file_tensor.tensor.param;
    let layout = file_tensor.layout.clone().unwrap_or(Layout::Torch);
    let stream_name = file_tensor.tensor.tied_to.as_deref().unwrap_or(&param.name);
    let stream = StreamId::named(job.seed, stream_name);
    let numel = param
        .shape
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d))
        .ok_or_else(|| {
            Error::invalid(
                format!("{} shape", param.name),
                format!("{:?}", param.shape),
                "element count must fit in u64",
            )
        })?;
    let slice = match &job.part {
        Part::Whole => Slice::whole(&param.shape),
        // Rows of dim 0 in this shard; a 0-dim tensor lives whole in shard 0.
        Part::Shard(shard) => match param.shape.first() {
            None if shard.index == 0 => Slice::whole(&param.shape),
            None => return Ok(None),
            Some(&rows) => {
                let (first, last) = shard.rows(rows);
                let mut slice = Slice::whole(&param.shape);
                slice.ranges[0] = first..last;
                slice
            }
        },
        Part::Slices(slices) => match slices.get(index) {
            Some(slice) if slice.shape == param.shape => slice.clone(),
            _ => {
                return Err(Error::invalid(
                    format!("{} slice", param.name),
                    format!("{:?}", slices.get(index).map(|s| &s.shape)),
                    format!("one slice per tensor, of its shape {:?}", param.shape),
                ));
            }
        },
    };
    let partial = !slice.is_whole();
    let rows = slice.rows();
    // A dim-0 shard is one contiguous range, recorded as such (as nninit always has); a box as
    // its ranges per dimension.
    let (range, ranges) = match (&job.part, partial) {
        (_, false) => (None, None),
        (Part::Shard(_), true) => {
            let row_len = numel.checked_div(param.shape[0]).unwrap_or(0);
            let dim0 = &slice.ranges[0];
            (Some((dim0.start * row_len, dim0.end * row_len)), None)
        }
        (_, true) => (
            None,
            Some(slice.ranges.iter().map(|r| (r.start, r.end)).collect()),
        ),
    };
    let (spec, plan, dtype, zero_row, safetensors_dtype) = match &param.init {
        ParamInit::ZeroI64 => (
            "zeros".to_string(),
            None,
            None,
            None,
            safetensors::Dtype::I64,
        ),
        ParamInit::Scheme { init, zero_row } => {
            let rule = FanRule {
                layout: layout.clone(),
                fan_in: None,
                fan_out: None,
            };
            let plan = init
                .plan(&param.shape, &rule)
                .map_err(|e| Error::invalid(&param.name, init, e.to_string()))?;
            let dtype = file_tensor.dtype.unwrap_or(job.dtype);
            (
                init.to_string(),
                Some(plan),
                Some(dtype),
                *zero_row,
                dtype.safetensors_dtype(),
            )
        }
    };
    let record = TensorRecord {
        name: param.name.clone(),
        dtype: safetensors_dtype,
        shape: slice.local_shape(),
        full_shape: partial.then(|| param.shape.clone()),
        spec,
        stream,
        layout: layout.name().to_string(),
        range,
        ranges,
        zero_row,
    };
    Ok(Some(Planned {
        record,
        plan,
        full_shape: param.shape.clone(),
        rows,
        dtype,
    }))
}

/// The std a draw should show, when it has one fixed value.
fn expected_std(plan: &Plan) -> Option<f64> {
    let reference = match plan.draw {
        Draw::Sample(crate::sample::sampler::Sampler::Uniform { low, high }) => {
            Reference::Uniform {
                low: low.into(),
                high: high.into(),
            }
        }
        Draw::Sample(crate::sample::sampler::Sampler::Normal { mean, std }) => Reference::Normal {
            mean: mean.into(),
            std: std.into(),
        },
        Draw::Sample(crate::sample::sampler::Sampler::TruncNormal {
            mean,
            std,
            low,
            high,
        }) => Reference::TruncNormal {
            mean: mean.into(),
            std: std.into(),
            low: low.into(),
            high: high.into(),
        },
        Draw::Sample(crate::sample::sampler::Sampler::Constant { .. }) => return Some(0.0),
        _ => return None,
    };
    Some(reference.variance().sqrt())
}

/// One output file: its path and how many of the job's tensors it holds, the next ones in
/// order after the files before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Where it goes.
    pub path: PathBuf,
    /// How many tensors.
    pub tensors: usize,
}

/// [`run`] as one run that owns `out` ([`crate::model::run`]): `out` is locked first (another
/// run writing it is an [`Error::Busy`]), an existing `out` is replaced only with `force`, the
/// file records the run's id (`nninit.run`), and a run that fails leaves no file.
pub fn write_file(
    backend: Backend<'_>,
    job: &InitJob,
    out: &Path,
    force: bool,
    progress: impl FnMut(usize, usize),
) -> Result<InitSummary> {
    FileClaim::new(out, job.run_id(), force)?.write(backend, job, progress)
}

/// [`write_file`] in two steps, so that a caller learns that it may write `out` before it opens
/// a device: the claim, then the write.
#[derive(Debug)]
pub struct FileClaim {
    guard: RunGuard,
    out: PathBuf,
}

impl FileClaim {
    /// Locks `out` for run `run` ([`InitJob::run_id`] of the job it will write), and refuses an
    /// existing `out` without `force`.
    pub fn new(out: &Path, run: RunId, force: bool) -> Result<FileClaim> {
        let mut guard = RunGuard::claim(Destination::File(out), run)?;
        let dir = out.parent().filter(|d| !d.as_os_str().is_empty());
        guard.remove_leftovers(dir.unwrap_or(Path::new(".")), force)?;
        if out.exists() && !force {
            return Err(Error::invalid(
                "out",
                out.display(),
                "a new file: it exists; pass --force to replace it",
            ));
        }
        Ok(FileClaim {
            guard,
            out: out.to_path_buf(),
        })
    }

    /// Runs `job` into the claimed file ([`run`]), with the run's id in its metadata.
    pub fn write(
        self,
        backend: Backend<'_>,
        job: &InitJob,
        progress: impl FnMut(usize, usize),
    ) -> Result<InitSummary> {
        let mut job = job.clone();
        job.metadata
            .push((RUN_KEY.to_string(), self.guard.run().to_string()));
        let summary = run(backend, &job, &self.out, progress)?;
        self.guard.finish();
        Ok(summary)
    }
}

/// Runs `job` on `backend` into `out`; `progress(done, total)` is called after each tensor.
pub fn run(
    backend: Backend<'_>,
    job: &InitJob,
    out: &Path,
    progress: impl FnMut(usize, usize),
) -> Result<InitSummary> {
    run_split(
        backend,
        job,
        |records| {
            Ok(vec![OutputFile {
                path: out.to_path_buf(),
                tensors: records.len(),
            }])
        },
        progress,
    )
}

/// Runs `job` on `backend` into the files `split` names, given every tensor's record (name,
/// dtype, shape) once all are planned and validated. The tensors are drawn once, in order, and
/// each file is written whole (to a temporary name, renamed into place) before the next.
pub fn run_split(
    backend: Backend<'_>,
    job: &InitJob,
    split: impl FnOnce(&[TensorRecord]) -> Result<Vec<OutputFile>>,
    mut progress: impl FnMut(usize, usize),
) -> Result<InitSummary> {
    // Resolve and validate everything before any work.
    if let Part::Slices(slices) = &job.part
        && slices.len() != job.tensors.len()
    {
        return Err(Error::invalid(
            "slices",
            slices.len(),
            format!("one per tensor ({})", job.tensors.len()),
        ));
    }
    let planned: Vec<Planned> = job
        .tensors
        .iter()
        .enumerate()
        .map(|(index, t)| plan_tensor(index, t, job))
        .filter_map(Result::transpose)
        .collect::<Result<_>>()?;
    let records: Vec<TensorRecord> = planned.iter().map(|p| p.record.clone()).collect();
    let files = split(&records)?;
    if files.iter().map(|f| f.tensors).sum::<usize>() != records.len() {
        return Err(Error::invalid(
            "output files",
            files.len(),
            format!("files that hold the {} tensors between them", records.len()),
        ));
    }
    let mut extra = vec![("nninit.seed".to_string(), job.seed.to_string())];
    if let Part::Shard(shard) = job.part {
        extra.push((
            "nninit.shard".to_string(),
            format!("{}/{}", shard.index, shard.count),
        ));
    }
    extra.extend(job.metadata.iter().cloned());
    let start = Instant::now();
    let mut write_time = Duration::ZERO;
    // One thread draws, tensor after tensor, piece after piece; this one writes. They hand each
    // piece over directly (no queue), and the writer sends 1 MiB buffers back to be drawn into
    // again.
    let (pieces, received) = mpsc::sync_channel::<Result<Piece>>(PIECES_IN_FLIGHT);
    let (recycle, free) = mpsc::channel::<Vec<u8>>();
    let planned = &planned;
    let (written, drawn) = std::thread::scope(|scope| {
        let drawer = scope.spawn(move || draw_pieces(backend, planned, &pieces, &free));
        let mut first = 0;
        let written = files.iter().try_for_each(|file| {
            let in_file = &records[first..first + file.tensors];
            write_streamed(&file.path, in_file, &extra, |index, sink| {
                loop {
                    match received.recv() {
                        Ok(Ok(Piece::Bytes(bytes))) => {
                            let writing = Instant::now();
                            sink(&bytes)?;
                            write_time += writing.elapsed();
                            // Pieces come back to be drawn into again; whole tensors are freed.
                            if bytes.capacity() <= PIECE_BYTES {
                                let _ = recycle.send(bytes);
                            }
                        }
                        Ok(Ok(Piece::End)) => break,
                        Ok(Err(error)) => return Err(error),
                        // Only if the drawing thread panicked: it sends its errors.
                        Err(_) => {
                            return Err(Error::gpu("model draw", "the drawing thread stopped"));
                        }
                    }
                }
                progress(first + index + 1, planned.len());
                Ok(())
            })?;
            first += file.tensors;
            Ok(())
        });
        // Unblocks the drawing thread if the writer stopped first.
        drop(received);
        (written, drawer.join())
    });
    let (mut summaries, moments, draw_time) = match (written, drawn) {
        (Ok(()), Ok(Some(drawn))) => drawn,
        (Err(error), _) => return Err(error),
        (Ok(()), _) => return Err(Error::gpu("model draw", "the drawing thread stopped")),
    };
    for (summary, (n, sum, sum_sq)) in summaries.iter_mut().zip(moments) {
        let mean = sum / n.max(1.0);
        summary.measured_std = (sum_sq / n.max(1.0) - mean * mean).max(0.0).sqrt();
    }
    let tied: Vec<&str> = job
        .tensors
        .iter()
        .filter(|t| t.tensor.tied_to.is_some())
        .map(|t| t.tensor.param.name.as_str())
        .collect();
    let parameters = planned
        .iter()
        .filter(|p| !tied.contains(&p.record.name.as_str()))
        .map(Planned::numel)
        .sum();
    let bytes = records
        .iter()
        .map(TensorRecord::byte_len)
        .sum::<Result<u64>>()?;
    Ok(InitSummary {
        tensors: records.len() as u64,
        parameters,
        bytes,
        draw_time,
        write_time,
        total_time: start.elapsed(),
        schemes: summaries,
    })
}

/// Bytes per piece of a sampled tensor drawn on the CPU: small enough to still be in the cache
/// when the writer copies it into the file. Measured here (`dd` from memory to a file on the
/// same disk): 1 MiB blocks 3.7 GB/s, 64 MiB blocks 0.63 GB/s.
const PIECE_BYTES: usize = 1 << 20;

/// Pieces queued between the drawing thread and the writer: none, so the drawing thread works
/// on the next piece while the writer writes the last one, and no more is held. A GPU piece is a
/// whole tensor (up to 154 MB for GPT-2), so any queue would add tensors to the peak memory.
const PIECES_IN_FLIGHT: usize = 0;

/// What the drawing thread hands the writer: the next bytes of the current tensor, or its end.
enum Piece {
    Bytes(Vec<u8>),
    End,
}

/// Per-scheme summaries, their running (count, sum, sum of squares), and the time spent drawing.
type Drawn = (Vec<SchemeSummary>, Vec<(f64, f64, f64)>, Duration);

/// Draws every tensor of `planned` in order into `pieces`, each followed by [`Piece::End`]; the
/// statistics of each piece are taken as it is drawn. Sampled tensors on the CPU go in pieces of
/// [`PIECE_BYTES`] (into buffers from `free` where the writer has returned one); everything else
/// as drawn by [`Drawer`] (consecutive GPU tensors batched). An error goes to the writer, and
/// the thread stops (`None`); it also stops when the writer has gone.
fn draw_pieces(
    backend: Backend<'_>,
    planned: &[Planned],
    pieces: &mpsc::SyncSender<Result<Piece>>,
    free: &mpsc::Receiver<Vec<u8>>,
) -> Option<Drawn> {
    let mut stats = Stats::default();
    let mut draw_time = Duration::ZERO;
    let mut drawer = Drawer::new(backend);
    let mut drawn_ahead: HashMap<usize, Vec<u8>> = HashMap::new();
    let result = (|| -> Result<()> {
        for (index, tensor) in planned.iter().enumerate() {
            let drawing = Instant::now();
            match (&tensor.plan, tensor.dtype, backend) {
                (
                    Some(
                        plan @ Plan {
                            draw: Draw::Sample(sampler),
                            ..
                        },
                    ),
                    Some(dtype),
                    Backend::Cpu,
                ) => {
                    let per_piece = (PIECE_BYTES / dtype.size_bytes()) as u64;
                    if tensor.numel() == 0 {
                        // No piece at all: the tensor still counts in its scheme's summary.
                        stats.add(tensor, plan, dtype, &mut [], None, true);
                    }
                    let all_pieces = tensor.rows.iter().flat_map(|rows| rows.pieces(per_piece));
                    for (number, rows) in all_pieces.enumerate() {
                        let piece = Instant::now();
                        let mut bytes = free.try_recv().unwrap_or_default();
                        bytes.resize((rows.numel() as usize) * dtype.size_bytes(), 0);
                        crate::backend::cpu::fill_rows_bytes(
                            sampler,
                            tensor.record.stream,
                            rows,
                            dtype,
                            &mut bytes,
                        )?;
                        stats.add(tensor, plan, dtype, &mut bytes, Some(rows), number == 0);
                        draw_time += piece.elapsed();
                        if pieces.send(Ok(Piece::Bytes(bytes))).is_err() {
                            return Ok(());
                        }
                    }
                }
                (Some(plan), Some(dtype), _) => {
                    if !drawn_ahead.contains_key(&index) {
                        draw_ahead(&mut drawer, planned, index, &mut drawn_ahead)?;
                    }
                    let mut bytes = drawn_ahead.remove(&index).unwrap_or_default();
                    // Zero rows first, then the moments of the tensor's pieces, in order.
                    let mut at = 0;
                    for (number, rows) in tensor.rows.iter().enumerate() {
                        let len = rows.numel() as usize * dtype.size_bytes();
                        let piece = &mut bytes[at..at + len];
                        stats.add(tensor, plan, dtype, piece, Some(*rows), number == 0);
                        at += len;
                    }
                    if tensor.rows.is_empty() {
                        stats.add(tensor, plan, dtype, &mut [], None, true);
                    }
                    draw_time += drawing.elapsed();
                    if pieces.send(Ok(Piece::Bytes(bytes))).is_err() {
                        return Ok(());
                    }
                }
                _ => {
                    let bytes = vec![0u8; tensor.record.byte_len()? as usize];
                    if pieces.send(Ok(Piece::Bytes(bytes))).is_err() {
                        return Ok(());
                    }
                }
            }
            if pieces.send(Ok(Piece::End)).is_err() {
                return Ok(());
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => Some((stats.summaries, stats.moments, draw_time)),
        Err(error) => {
            // The writer returns it (unless it has stopped on an error of its own).
            let _ = pieces.send(Err(error));
            None
        }
    }
}

/// Draws tensor `index` of `planned` and the next sampled ones up to one GPU batch in one go
/// (one submit and one readback for many small tensors) into `drawn_ahead`.
fn draw_ahead(
    drawer: &mut Drawer<'_>,
    planned: &[Planned],
    index: usize,
    drawn_ahead: &mut HashMap<usize, Vec<u8>>,
) -> Result<()> {
    let mut items = Vec::new();
    let mut bytes = 0u64;
    for (ahead, next) in planned.iter().enumerate().skip(index) {
        let (Some(plan), Some(dtype)) = (&next.plan, next.dtype) else {
            continue;
        };
        let size = next.numel().saturating_mul(dtype.size_bytes() as u64);
        if ahead > index && bytes.saturating_add(size) > GPU_BATCH_BYTES {
            break;
        }
        bytes = bytes.saturating_add(size);
        // A tensor's rows one after another (one item, but for a box the slice's layout
        // cannot give as one).
        drawn_ahead.insert(ahead, Vec::new());
        items.extend(next.rows.iter().map(|&elements| {
            (
                ahead,
                DrawItem {
                    plan,
                    shape: &next.full_shape,
                    stream: next.record.stream,
                    elements,
                    dtype,
                },
            )
        }));
    }
    let draws: Vec<DrawItem<'_>> = items.iter().map(|(_, item)| item.clone()).collect();
    for ((ahead, _), bytes) in items.iter().zip(drawer.draw_batch(&draws)?) {
        drawn_ahead
            .entry(*ahead)
            .or_default()
            .extend_from_slice(&bytes);
    }
    Ok(())
}

/// The per-scheme summary, gathered piece by piece.
#[derive(Default)]
struct Stats {
    summaries: Vec<SchemeSummary>,
    moments: Vec<(f64, f64, f64)>,
}

impl Stats {
    /// Zeroes the tensor's zero row where it falls in `bytes` (the elements `rows` of the
    /// tensor) and adds their moments to the tensor's scheme. A tensor counts once, at its
    /// `first` piece.
    fn add(
        &mut self,
        tensor: &Planned,
        plan: &Plan,
        dtype: Dtype,
        bytes: &mut [u8],
        rows: Option<Rows>,
        first: bool,
    ) {
        if let (Some(row), Some(rows)) = (tensor.record.zero_row, rows) {
            zero_row(bytes, row, &tensor.full_shape, rows, dtype);
        }
        let (n, sum, sum_sq) = moments_of(bytes, dtype);
        let position = self
            .summaries
            .iter()
            .position(|s| s.spec == tensor.record.spec)
            .unwrap_or_else(|| {
                self.summaries.push(SchemeSummary {
                    spec: tensor.record.spec.clone(),
                    tensors: 0,
                    elements: 0,
                    expected_std: expected_std(plan),
                    measured_std: 0.0,
                });
                self.moments.push((0.0, 0.0, 0.0));
                self.summaries.len() - 1
            });
        let summary = &mut self.summaries[position];
        if first {
            // Once per tensor, at its first piece.
            summary.tensors += 1;
            if summary.expected_std != expected_std(plan) {
                summary.expected_std = None;
            }
        }
        summary.elements += n as u64;
        let m = &mut self.moments[position];
        *m = (m.0 + n, m.1 + sum, m.2 + sum_sq);
    }
}

/// Count, sum and sum of squares (in f64) of the little-endian `dtype` values in `bytes`, in
/// one pass that LLVM vectorizes: eight running sums, each element decoded by its dtype's own
/// loop (the sums' order differs from a plain loop's only in the last bits of the summary).
fn moments_of(bytes: &[u8], dtype: Dtype) -> (f64, f64, f64) {
    match dtype {
        Dtype::F32 => moments(bytes, |e: [u8; 4]| f32::from_le_bytes(e)),
        Dtype::F16 => moments(bytes, |e: [u8; 2]| half::f16::from_le_bytes(e).to_f32()),
        Dtype::Bf16 => moments(bytes, |e: [u8; 2]| half::bf16::from_le_bytes(e).to_f32()),
    }
}

fn moments<const SIZE: usize>(bytes: &[u8], value: impl Fn([u8; SIZE]) -> f32) -> (f64, f64, f64) {
    const LANES: usize = 8;
    let (mut sum, mut squares) = ([0f64; LANES], [0f64; LANES]);
    let mut add = |lane: usize, element: &[u8]| {
        let v = f64::from(value(element.try_into().expect("SIZE bytes")));
        sum[lane] += v;
        squares[lane] += v * v;
    };
    let mut groups = bytes.chunks_exact(SIZE * LANES);
    for group in &mut groups {
        for (lane, element) in group.chunks_exact(SIZE).enumerate() {
            add(lane, element);
        }
    }
    for element in groups.remainder().chunks_exact(SIZE) {
        add(0, element);
    }
    let n = (bytes.len() / SIZE) as f64;
    (n, sum.iter().sum(), squares.iter().sum())
}

/// Zeroes the bytes of dim-0 row `row` that fall in `bytes`, the elements `rows` of a tensor of
/// `shape` (0.0 is all-zero bits in every float dtype).
fn zero_row(bytes: &mut [u8], row: u64, shape: &[u64], rows: Rows, dtype: Dtype) {
    let dim0 = shape.first().copied().unwrap_or(1).max(1);
    let row_len = shape.iter().product::<u64>() / dim0;
    let size = dtype.size_bytes() as u64;
    for r in 0..rows.rows {
        let held = rows.row(r);
        let (start, end) = (
            (row * row_len).max(held.start),
            ((row + 1) * row_len).min(held.end),
        );
        if start < end {
            let at = r * rows.len - held.start;
            bytes[((at + start) * size) as usize..((at + end) * size) as usize].fill(0);
        }
    }
}

//! The same tensor initialized as N shards by N independent workers — threads with their own
//! device handles — concatenated and shown to equal the unsharded fill. The pattern a
//! data- or tensor-parallel trainer uses on each rank: rank `i` draws only rows
//! `[i·R/N, (i+1)·R/N)`, and the values are those of the whole tensor.
//!
//! `cargo run --release --example sharded`

use nninit::model::init::Shard;
use nninit::{GpuContext, Sampler, StreamId};

fn main() -> nninit::Result<()> {
    let (rows, cols) = (1000u64, 384u64);
    let sampler = Sampler::Normal {
        mean: 0.0,
        std: 0.02,
    };
    let stream = StreamId::named(1234, "blocks.0.mlp.weight");
    let workers = 4;
    let shards: Vec<Vec<f32>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|index| {
                scope.spawn(move || -> nninit::Result<Vec<f32>> {
                    let gpu = GpuContext::new()?; // each worker opens its own device
                    let (first, last) = Shard {
                        index,
                        count: workers,
                    }
                    .rows(rows);
                    println!("worker {index}: rows {first}..{last}");
                    gpu.fill(&sampler, stream, first * cols..last * cols)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker panicked"))
            .collect::<nninit::Result<_>>()
    })?;
    let joined: Vec<f32> = shards.concat();
    let whole = GpuContext::new()?.fill(&sampler, stream, 0..rows * cols)?;
    let identical = joined
        .iter()
        .zip(&whole)
        .all(|(a, b)| a.to_bits() == b.to_bits());
    println!(
        "{workers} shards concatenated: {} values, bit-identical to the unsharded fill: {identical}",
        joined.len()
    );
    assert!(identical && joined.len() == whole.len());
    Ok(())
}

//! Box fills — rows of a tensor with a stride between them, what a tensor-parallel rank holds —
//! on the GPU and on the CPU equal the same elements taken from a contiguous fill of the rows'
//! whole extent, bit for bit: unaligned and aligned rows (the whole-block kernel), more rows
//! than one dispatch allows, and rows wider than a binding window; bad rows are errors.

mod common;

use nninit::backend::draw::{Backend, DrawItem, Drawer};
use nninit::contract::slice::Rows;
use nninit::{Draw, Dtype, Plan, Sampler, StreamId};

const SAMPLERS: [Sampler; 4] = [
    Sampler::Normal {
        mean: 0.5,
        std: 2.0,
    },
    Sampler::Uniform {
        low: -1.0,
        high: 3.0,
    },
    Sampler::TruncNormal {
        mean: 0.0,
        std: 1.0,
        low: -2.0,
        high: 2.0,
    },
    Sampler::Constant { value: 0.25 },
];

const DTYPES: [Dtype; 3] = [Dtype::F32, Dtype::F16, Dtype::Bf16];

fn rows(first: u64, rows: u64, len: u64, stride: u64) -> Rows {
    Rows {
        first,
        rows,
        len,
        stride,
    }
}

/// The bytes of `rows`, taken from a CPU fill of elements `0..` the rows' end.
fn from_contiguous(sampler: &Sampler, stream: StreamId, rows: Rows, dtype: Dtype) -> Vec<u8> {
    let size = dtype.size_bytes();
    let end = rows.row(rows.rows - 1).end;
    let mut all = vec![0u8; end as usize * size];
    nninit::backend::cpu::fill_bytes(sampler, stream, 0, dtype, &mut all).unwrap();
    (0..rows.rows)
        .flat_map(|r| {
            let row = rows.row(r);
            all[row.start as usize * size..row.end as usize * size].to_vec()
        })
        .collect()
}

/// The CPU's box fill, the same bytes on every instruction set this CPU runs (each forced).
fn cpu_rows(sampler: &Sampler, stream: StreamId, rows: Rows, dtype: Dtype) -> Vec<u8> {
    use nninit::backend::cpu::{CpuIsa, fill_rows_bytes, with_isa};
    let fill = |isa| {
        let mut bytes = vec![0u8; rows.numel() as usize * dtype.size_bytes()];
        with_isa(isa, || {
            fill_rows_bytes(sampler, stream, rows, dtype, &mut bytes)
        })
        .unwrap()
        .unwrap();
        bytes
    };
    let widest = fill(CpuIsa::widest());
    for isa in CpuIsa::supported() {
        assert!(
            fill(isa) == widest,
            "{isa} differs from {}",
            CpuIsa::widest()
        );
    }
    widest
}

#[test]
fn box_fills_equal_the_same_elements_of_a_contiguous_fill() {
    let cases = [
        rows(0, 1, 1000, 0),
        rows(3, 7, 5, 13),
        rows(1, 9, 3, 3),
        rows(8, 33, 64, 96),
        rows(1536, 64, 512, 4096),
        rows(4, 100, 8, 8),
        rows(6, 5, 1000, 1007),
    ];
    let stream = StreamId::new(11, 22);
    for sampler in &SAMPLERS {
        for dtype in DTYPES {
            for &case in &cases {
                let expected = from_contiguous(sampler, stream, case, dtype);
                assert!(
                    cpu_rows(sampler, stream, case, dtype) == expected,
                    "CPU {case:?}"
                );
                let gpu = common::gpu()
                    .fill_rows_bytes(sampler, stream, case, dtype)
                    .unwrap();
                assert!(gpu == expected, "GPU {sampler:?} {dtype} {case:?}");
            }
        }
    }
}

#[test]
fn more_rows_than_one_dispatch_and_rows_wider_than_a_binding() {
    let stream = StreamId::new(5, 6);
    let sampler = SAMPLERS[0];
    // 70000 rows: more than the 65535 workgroups one dispatch dimension allows.
    let many = rows(2, 70_000, 8, 12);
    let expected = from_contiguous(&sampler, stream, many, Dtype::Bf16);
    let gpu = common::gpu()
        .fill_rows_bytes(&sampler, stream, many, Dtype::Bf16)
        .unwrap();
    assert!(gpu == expected);
    // 4 KiB bindings: boxes split into windows of a few rows, and rows split within themselves.
    for case in [rows(1, 40, 100, 130), rows(4, 6, 3000, 3100)] {
        for dtype in DTYPES {
            let expected = from_contiguous(&sampler, stream, case, dtype);
            let gpu = common::small_window_gpu()
                .fill_rows_bytes(&sampler, stream, case, dtype)
                .unwrap();
            assert!(gpu == expected, "{dtype} {case:?}");
        }
    }
}

#[test]
fn a_batch_of_boxes_draws_each_as_alone() {
    let plans: Vec<Plan> = SAMPLERS
        .iter()
        .map(|&sampler| Plan {
            fans: None,
            gain: None,
            draw: Draw::Sample(sampler),
        })
        .collect();
    let shape = [64u64, 96];
    let cases = [rows(5, 64, 40, 96), rows(48, 64, 48, 96), rows(0, 1, 77, 0)];
    let mut items = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        for (j, &case) in cases.iter().enumerate() {
            items.push(DrawItem {
                plan,
                shape: &shape,
                stream: StreamId::new(i as u64, j as u64),
                elements: case,
                dtype: DTYPES[(i + j) % 3],
            });
        }
    }
    let drawn = Drawer::new(Backend::Gpu(common::gpu()))
        .draw_batch(&items)
        .unwrap();
    for (item, bytes) in items.iter().zip(drawn) {
        let Draw::Sample(sampler) = item.plan.draw else {
            unreachable!()
        };
        let expected = from_contiguous(&sampler, item.stream, item.elements, item.dtype);
        assert!(bytes == expected, "{:?}", item.elements);
    }
}

#[test]
fn overlapping_rows_and_reversed_ranges_are_errors_not_panics() {
    let error = common::gpu()
        .fill_rows_bytes(
            &SAMPLERS[0],
            StreamId::new(0, 0),
            rows(0, 3, 10, 4),
            Dtype::F32,
        )
        .unwrap_err()
        .to_string();
    assert!(error.contains("stride"), "{error}");
    // A reversed range is refused too, not taken for an empty one.
    let gpu = common::gpu();
    let buffer = common::buffer_holding(gpu, &[0u8; 64]);
    let mut encoder = gpu.device().create_command_encoder(&Default::default());
    let dst = nninit::Destination {
        buffer: &buffer,
        byte_offset: 0,
    };
    let (start, end) = (5, 3);
    let reversed = start..end;
    let error = gpu
        .kernels()
        .record_fill(
            gpu.device(),
            &mut encoder,
            dst,
            &SAMPLERS[0],
            StreamId::new(0, 0),
            reversed,
        )
        .unwrap_err()
        .to_string();
    assert!(error.contains("start must not exceed end"), "{error}");
}

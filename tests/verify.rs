//! The verifier catches every realistic way a tensor can be wrong, and raises no false alarm:
//! 200 seeds per random scheme pass, with uniform p-values by a second-level KS test.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nninit::Dtype;
use nninit::StreamId;
use nninit::backend::draw::{Backend, draw_bytes};
use nninit::model::safetensors::{TensorRecord, write};
use nninit::scheme::{FanRule, Init};
use nninit::verify::stats::p_value_uniformity;
use nninit::verify::{Claim, VerifyOptions, verify_file, verify_values};

const SHAPE: [u64; 2] = [256, 512];

/// (name, spec, dtype) of the tensors in the test file.
const TENSORS: [(&str, &str, Dtype); 5] = [
    ("fc.weight", "normal(std=0.02)", Dtype::F32),
    ("fc.bias", "uniform(a=-0.1,b=0.1)", Dtype::F32),
    (
        "attn.weight",
        "trunc_normal(std=0.02,a=-0.04,b=0.04)",
        Dtype::F32,
    ),
    (
        "conv.weight",
        "kaiming_normal(mode=fan_out,nonlinearity=relu)",
        Dtype::Bf16,
    ),
    ("proj.weight", "xavier_uniform", Dtype::F16),
];

/// A tensor of the test file: its record and its bytes.
#[derive(Clone)]
struct Tensor {
    record: TensorRecord,
    bytes: Vec<u8>,
}

fn tensor(name: &str, spec: &str, dtype: Dtype, stream: StreamId, bytes: Vec<u8>) -> Tensor {
    let record = TensorRecord {
        name: name.to_string(),
        dtype: dtype.safetensors_dtype(),
        shape: SHAPE.to_vec(),
        full_shape: None,
        spec: spec.to_string(),
        stream,
        layout: "torch".to_string(),
        range: None,
        ranges: None,
        zero_row: None,
    };
    Tensor { record, bytes }
}

fn write_file(path: &Path, tensors: &[Tensor]) {
    let records: Vec<TensorRecord> = tensors.iter().map(|t| t.record.clone()).collect();
    write(path, &records, &[], |i| Ok(tensors[i].bytes.clone())).unwrap();
}

fn draw(spec: &str, stream: StreamId, dtype: Dtype) -> Vec<u8> {
    let plan = Init::parse(spec)
        .unwrap()
        .plan(&SHAPE, &FanRule::torch())
        .unwrap();
    draw_bytes(
        Backend::Gpu(common::gpu()),
        &plan,
        &SHAPE,
        stream,
        0..SHAPE[0] * SHAPE[1],
        dtype,
    )
    .unwrap()
}

/// The clean file's tensors, drawn on the GPU.
fn clean_tensors() -> Vec<Tensor> {
    TENSORS
        .iter()
        .map(|&(name, spec, dtype)| {
            let stream = StreamId::named(11, name);
            tensor(name, spec, dtype, stream, draw(spec, stream, dtype))
        })
        .collect()
}

fn temp_path(test: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "nninit-verify-{test}-{}.safetensors",
        std::process::id()
    ))
}

fn verdicts(path: &Path) -> BTreeMap<String, bool> {
    verify_file(path, &VerifyOptions::default())
        .unwrap()
        .into_iter()
        .map(|r| (r.name.clone(), r.passed()))
        .collect()
}

/// Rewrites `tensor`'s f32 values with `change`.
fn tamper_f32(tensor: &mut Tensor, change: impl Fn(usize, f32) -> f32) {
    let values = Dtype::F32.decode(&tensor.bytes);
    let changed: Vec<f32> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| change(i, v))
        .collect();
    tensor.bytes = Dtype::F32.encode(&changed);
}

#[test]
fn passes_the_clean_file_and_fails_every_tampered_tensor() {
    let path = temp_path("tamper");
    let clean = clean_tensors();
    write_file(&path, &clean);
    assert!(
        verdicts(&path).values().all(|&passed| passed),
        "clean file failed: {:?}",
        verdicts(&path)
    );

    let fc = 0; // normal(std=0.02)
    let attn = 2; // trunc_normal(std=0.02, ±0.04)
    type Tamper = Box<dyn Fn(&mut Tensor)>;
    let tampers: Vec<(&str, usize, Tamper)> = vec![
        (
            "scaled by 1.02",
            fc,
            Box::new(|t| tamper_f32(t, |_, v| v * 1.02)),
        ),
        (
            "shifted by 0.01σ",
            fc,
            Box::new(|t| tamper_f32(t, |_, v| v + 0.01 * 0.02)),
        ),
        (
            "another seed",
            fc,
            Box::new(|t| {
                t.bytes = draw(
                    "normal(std=0.02)",
                    StreamId::named(12, "fc.weight"),
                    Dtype::F32,
                )
            }),
        ),
        (
            "another stream",
            fc,
            Box::new(|t| t.bytes = draw("normal(std=0.02)", StreamId::new(11, 5), Dtype::F32)),
        ),
        (
            "uniform where normal was declared",
            fc,
            Box::new(|t| {
                let bound = 0.02 * 3f64.sqrt();
                t.bytes = draw(
                    &format!("uniform(a={},b={bound})", -bound),
                    StreamId::named(11, "fc.weight"),
                    Dtype::F32,
                )
            }),
        ),
        (
            "clipped at ±0.03 instead of ±0.04",
            attn,
            Box::new(|t| tamper_f32(t, |_, v| v.clamp(-0.03, 0.03))),
        ),
        (
            "one element altered",
            fc,
            Box::new(|t| tamper_f32(t, |i, v| if i == 77_777 { v + 1e-3 } else { v })),
        ),
        // Bit 4 of the mantissa: 16 bf16 ulps, beyond the 1-ulp tolerance.
        (
            "one element altered in bf16",
            3,
            Box::new(|t| t.bytes[2 * 4242] ^= 0x10),
        ),
    ];
    for (what, index, tamper) in tampers {
        let mut tensors = clean.clone();
        tamper(&mut tensors[index]);
        write_file(&path, &tensors);
        let verdicts = verdicts(&path);
        for (name, passed) in &verdicts {
            let tampered = name == &tensors[index].record.name;
            assert_eq!(
                *passed,
                !tampered,
                "{what}: {name} {}",
                if tampered { "passed" } else { "failed" }
            );
        }
    }
    // The CLI agrees: exit 1 on the last tampered file, 0 on the clean one.
    let cli = |path: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_nninit"))
            .arg("verify")
            .arg(path)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(cli(&path), Some(1));
    write_file(&path, &clean);
    assert_eq!(cli(&path), Some(0));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn refuses_files_it_cannot_verify() {
    let path = temp_path("foreign");
    // A valid safetensors file without nninit metadata.
    let data = vec![0u8; 16];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![4], &data).unwrap();
    std::fs::write(&path, safetensors::serialize([("x", view)], None).unwrap()).unwrap();
    let refusal = |path: &std::path::Path| match verify_file(path, &VerifyOptions::default()) {
        Err(nninit::Error::Parse { what, reason, .. }) => {
            assert_eq!(what, "safetensors file");
            reason
        }
        other => panic!("{}: {other:?}", path.display()),
    };
    let reason = refusal(&path);
    assert!(reason.contains("no nninit metadata"), "{reason}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nninit"))
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no nninit metadata"), "{stderr}");
    std::fs::write(&path, b"not a safetensors file").unwrap();
    refusal(&path);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn no_false_alarms_over_200_seeds_and_uniform_p_values() {
    let shape = [64u64, 128];
    let n = 64 * 128;
    for (spec, dtype) in [
        ("uniform(a=-0.3,b=0.7)", Dtype::F32),
        ("normal(mean=0.1,std=0.02)", Dtype::F32),
        ("trunc_normal(std=1,a=-1,b=2)", Dtype::F32),
        ("kaiming_normal", Dtype::Bf16),
        ("xavier_uniform", Dtype::F16),
    ] {
        let plan = Init::parse(spec)
            .unwrap()
            .plan(&shape, &FanRule::torch())
            .unwrap();
        let mut p_values: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
        for seed in 0..200u64 {
            let stream = StreamId::new(seed, 1);
            let bytes = draw_bytes(Backend::Cpu, &plan, &shape, stream, 0..n, dtype).unwrap();
            let claim = Claim {
                name: "t".into(),
                shape: shape.to_vec(),
                spec: spec.into(),
                layout: "torch".into(),
                stream,
                dtype,
                range: None,
                ranges: None,
                zero_row: None,
            };
            let report =
                verify_values(&dtype.decode(&bytes), &claim, &VerifyOptions::default()).unwrap();
            assert!(report.passed(), "{spec} {dtype} seed {seed}: {report:?}");
            for test in report.tests {
                p_values.entry(test.name).or_default().push(test.p_value);
            }
        }
        assert_eq!(p_values.len(), 7, "{spec}: {:?}", p_values.keys());
        for (test, ps) in &p_values {
            let second = p_value_uniformity(ps, common::ALPHA).unwrap();
            println!(
                "{spec} {dtype} {test}: second-level p = {:.3}",
                second.p_value
            );
            assert!(
                second.passed,
                "{spec} {dtype}: {test} p-values are not uniform (p = {:.2e})",
                second.p_value
            );
        }
    }
}

/// `verify_file` streams each tensor in pieces (the whole file is never in memory): a tensor
/// of several pieces and a battery subsample is compared element by element — one altered
/// element is exactly one mismatch — `--sample` checks only its elements, and a file cut short
/// is refused, naming the tensor that runs past its end.
#[test]
fn streamed_verification_counts_every_element_and_refuses_a_truncated_file() {
    let shape = [1100u64, 1000]; // 1.1M elements: five pieces
    let n = shape[0] * shape[1];
    let spec = "normal(std=0.02)";
    let stream = StreamId::named(5, "big.weight");
    let plan = Init::parse(spec)
        .unwrap()
        .plan(&shape, &FanRule::torch())
        .unwrap();
    let bytes = draw_bytes(Backend::Cpu, &plan, &shape, stream, 0..n, Dtype::F32).unwrap();
    let record = TensorRecord {
        shape: shape.to_vec(),
        ..tensor("big.weight", spec, Dtype::F32, stream, Vec::new()).record
    };
    let path = temp_path("streamed");
    let write_one = |bytes: &[u8]| {
        write(&path, std::slice::from_ref(&record), &[], |_| {
            Ok(bytes.to_vec())
        })
        .unwrap()
    };
    write_one(&bytes);
    let report = &verify_file(&path, &VerifyOptions::default()).unwrap()[0];
    assert!(report.passed(), "{report:?}");
    assert_eq!((report.checked, report.mismatches), (n, 0));
    assert_eq!(report.tests.len(), 7, "{:?}", report.tests);
    let sampled = &verify_file(
        &path,
        &VerifyOptions {
            sample: Some(1000),
            ..VerifyOptions::default()
        },
    )
    .unwrap()[0];
    assert!(sampled.passed() && sampled.checked == 1000, "{sampled:?}");
    // One element of the last piece, changed by 1e-3 (far past the tolerance).
    let mut tampered = Dtype::F32.decode(&bytes);
    tampered[1_050_001] += 1e-3;
    write_one(&Dtype::F32.encode(&tampered));
    let report = &verify_file(&path, &VerifyOptions::default()).unwrap()[0];
    assert_eq!((report.checked, report.mismatches), (n, 1), "{report:?}");
    assert!(!report.passed());
    assert!((report.worst_difference - 1e-3).abs() < 1e-6, "{report:?}");
    // Cut short: refused, naming the tensor.
    let whole = std::fs::read(&path).unwrap();
    std::fs::write(&path, &whole[..whole.len() - 4096]).unwrap();
    match verify_file(&path, &VerifyOptions::default()) {
        Err(nninit::Error::Parse { reason, .. }) => {
            assert!(
                reason.contains("big.weight") && reason.contains("truncated"),
                "{reason}"
            )
        }
        other => panic!("a truncated file gave {other:?}"),
    }
    std::fs::remove_file(&path).unwrap();
}

/// The streamed battery's p-values (distribution tests on the subsample, moments over every
/// element) are uniform over 40 seeds of a tensor larger than the subsample, second level.
#[test]
fn streamed_battery_p_values_are_uniform_over_40_seeds() {
    let shape = [400u64, 500]; // 200,000 elements: more than BATTERY_SAMPLE
    let n = shape[0] * shape[1];
    assert!(n > nninit::verify::BATTERY_SAMPLE);
    let path = temp_path("streamed-seeds");
    for (spec, dtype) in [
        ("normal(mean=0.1,std=0.02)", Dtype::F32),
        ("uniform(a=-1,b=1)", Dtype::Bf16),
    ] {
        let plan = Init::parse(spec)
            .unwrap()
            .plan(&shape, &FanRule::torch())
            .unwrap();
        let mut p_values: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
        for seed in 0..40u64 {
            let stream = StreamId::new(seed, 3);
            let bytes = draw_bytes(Backend::Cpu, &plan, &shape, stream, 0..n, dtype).unwrap();
            let record = TensorRecord {
                shape: shape.to_vec(),
                ..tensor("t", spec, dtype, stream, Vec::new()).record
            };
            write(&path, &[record], &[], |_| Ok(bytes.clone())).unwrap();
            let report = verify_file(&path, &VerifyOptions::default())
                .unwrap()
                .remove(0);
            assert!(report.passed(), "{spec} seed {seed}: {report:?}");
            for test in report.tests {
                p_values.entry(test.name).or_default().push(test.p_value);
            }
        }
        assert_eq!(p_values.len(), 7, "{spec}: {:?}", p_values.keys());
        for (test, ps) in &p_values {
            let second = p_value_uniformity(ps, common::ALPHA).unwrap();
            assert!(
                second.passed,
                "{spec}: streamed {test} p = {:.2e}",
                second.p_value
            );
        }
    }
    std::fs::remove_file(&path).unwrap();
}

/// A file verifies to the same report, bit for bit, on every instruction set the CPU has (the
/// regenerated pieces and the moment sums are forced through each; the threads that verify
/// take the caller's), and a tampered element is one mismatch on each.
#[test]
fn every_instruction_set_gives_the_same_report() {
    let path = temp_path("isa");
    let mut tensors = clean_tensors();
    tamper_f32(&mut tensors[1], |i, v| if i == 777 { v + 0.5 } else { v });
    write_file(&path, &tensors);
    let summary = |reports: Vec<nninit::verify::Report>| -> Vec<(String, u64, u64, u64, Vec<u64>)> {
        reports
            .into_iter()
            .map(|r| {
                let tests = r.tests.iter().map(|t| t.p_value.to_bits()).collect();
                (
                    r.name,
                    r.checked,
                    r.mismatches,
                    r.worst_difference.to_bits(),
                    tests,
                )
            })
            .collect()
    };
    let isas = nninit::backend::cpu::CpuIsa::supported();
    let reports: Vec<_> = isas
        .iter()
        .map(|&isa| {
            let reports = nninit::backend::cpu::with_isa(isa, || {
                verify_file(&path, &VerifyOptions::default())
            })
            .unwrap()
            .unwrap();
            summary(reports)
        })
        .collect();
    let mismatched: Vec<(&str, u64)> = reports[0]
        .iter()
        .map(|(name, _, mismatches, ..)| (name.as_str(), *mismatches))
        .filter(|&(_, m)| m > 0)
        .collect();
    assert_eq!(mismatched, [("fc.bias", 1)]);
    for (isa, report) in isas.iter().zip(&reports) {
        assert_eq!(report, &reports[0], "{isa:?} against {:?}", isas[0]);
    }
    std::fs::remove_file(&path).unwrap();
}

/// Many tensors of many pieces at once, rows longer than a fill chunk: each piece's fill runs in
/// parallel inside the verifier's own parallel loop, so a thread waiting for its fill takes up
/// another piece. Each piece once held its thread's buffers across its fill, and the nested piece
/// then panicked ("RefCell already borrowed", first seen on an 8B checkpoint).
#[test]
fn pieces_nested_in_their_fills_verify_without_a_panic() {
    let shape = [16u64, 1 << 17]; // 2M elements, rows of 128K: eight pieces, each of two rows
    let n = shape[0] * shape[1];
    let spec = "normal(std=0.02)";
    let plan = Init::parse(spec)
        .unwrap()
        .plan(&shape, &FanRule::torch())
        .unwrap();
    let tensors: Vec<(TensorRecord, Vec<u8>)> = (0..12)
        .map(|t| {
            let name = format!("layer{t}.weight");
            let stream = StreamId::named(3, &name);
            let bytes = draw_bytes(Backend::Cpu, &plan, &shape, stream, 0..n, Dtype::Bf16).unwrap();
            let record = TensorRecord {
                shape: shape.to_vec(),
                ..tensor(&name, spec, Dtype::Bf16, stream, Vec::new()).record
            };
            (record, bytes)
        })
        .collect();
    let path = temp_path("nested");
    let records: Vec<TensorRecord> = tensors.iter().map(|(r, _)| r.clone()).collect();
    write(&path, &records, &[], |i| Ok(tensors[i].1.clone())).unwrap();
    for _ in 0..3 {
        let reports = verify_file(&path, &VerifyOptions::default()).unwrap();
        assert_eq!(reports.len(), 12);
        for report in &reports {
            assert!(report.passed() && report.checked == n, "{report:?}");
        }
    }
    std::fs::remove_file(&path).unwrap();
}

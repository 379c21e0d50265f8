//! `NNINIT_CPU_ISA` end to end: the binary draws the same bytes on every instruction set this CPU
//! runs, and a value that names no path, or one this CPU lacks, is a usage error.

mod common;

use common::cli::{
    assert_nothing_left_in, assert_success, assert_usage_error, nninit_with_env, temp_dir,
};
use nninit::backend::cpu::{CpuIsa, ISA_ENV};

/// `nninit fill` of a model-sized tensor on the CPU, forced onto `isa`: the file's bytes.
fn fill_on(isa: &str, path: &std::path::Path) -> Vec<u8> {
    let args = [
        "fill",
        "--shape",
        "257,1031",
        "--init",
        "trunc_normal(std=0.02)",
        "--name",
        "h.0.mlp.c_fc.weight",
        "--dtype",
        "bf16",
        "--device",
        "cpu",
        "--out",
        path.to_str().unwrap(),
    ];
    let run = nninit_with_env(&args, &[(ISA_ENV, isa)]);
    assert_success(&run);
    std::fs::read(path).unwrap()
}

#[test]
fn every_instruction_set_writes_the_same_file() {
    let dir = temp_dir("cpu-isa");
    let widest = fill_on(CpuIsa::widest().name(), &dir.join("widest.safetensors"));
    // 257·1031 bf16 values and a header.
    assert!(widest.len() > 2 * 257 * 1031, "{} bytes", widest.len());
    for isa in CpuIsa::supported() {
        let path = dir.join(format!("{isa}.safetensors"));
        assert!(fill_on(isa.name(), &path) == widest, "{isa}");
        println!("{isa}: the same {} bytes", widest.len());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unknown_or_missing_instruction_set_is_a_usage_error_that_writes_nothing() {
    let dir = temp_dir("cpu-isa-refused");
    let out = dir.join("x.npy");
    let args = [
        "fill",
        "--shape",
        "8",
        "--init",
        "uniform",
        "--device",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ];
    let mut refused = vec![("sse9".to_string(), "must be avx512, avx2 or portable")];
    // Where this CPU lacks a path, asking for it names the ones it runs.
    for isa in CpuIsa::ALL.into_iter().filter(|i| !i.is_supported()) {
        refused.push((isa.name().to_string(), "this CPU runs portable"));
    }
    for (value, says) in refused {
        let run = nninit_with_env(&args, &[(ISA_ENV, &value)]);
        let (line, _) = assert_usage_error(&args, &run);
        assert!(line.contains(&value) && line.contains(says), "{line}");
        assert_nothing_left_in(&dir);
    }
}

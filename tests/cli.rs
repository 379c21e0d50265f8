//! The `nninit` binary: `bits` and `fill` outputs, exit codes, and no file left behind on error.

mod common;

use std::path::Path;

use common::cli::{assert_nothing_left_in, assert_success, assert_usage_error, nninit, temp_dir};
use nninit::{Sampler, StreamId};

/// Reads a float32 .npy file written by nninit: (shape, values).
fn read_npy(path: &Path) -> (String, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'descr': '<f4'"), "{header}");
    let shape =
        header[header.find("'shape': ").unwrap() + 9..header.find(", }").unwrap()].to_string();
    let values = bytes[10 + header_len..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (shape, values)
}

#[test]
fn fill_writes_the_tensor_on_gpu_and_cpu() {
    let dir = temp_dir("cli-fill");
    let gpu_path = dir.join("gpu.npy");
    let cpu_path = dir.join("cpu.npy");
    let spec = "normal(mean=0,std=0.02)";
    for (device, path) in [("gpu", &gpu_path), ("cpu", &cpu_path)] {
        let out = nninit(&[
            "fill",
            "--shape",
            "64,128",
            "--init",
            spec,
            "--seed",
            "5",
            "--name",
            "fc.weight",
            "--device",
            device,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_success(&out);
    }
    let (shape, gpu) = read_npy(&gpu_path);
    let (_, cpu) = read_npy(&cpu_path);
    assert_eq!(shape, "(64, 128)");
    let mut expected = vec![0.0; 64 * 128];
    nninit::backend::cpu::fill(
        &Sampler::Normal {
            mean: 0.0,
            std: 0.02,
        },
        StreamId::named(5, "fc.weight"),
        0,
        &mut expected,
    )
    .unwrap();
    assert_eq!(cpu, expected);
    let worst = gpu
        .iter()
        .zip(&cpu)
        .map(|(g, c)| (g - c).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-4 * 0.02, "worst {worst}");

    let range_path = dir.join("range.npy");
    let out = nninit(&[
        "fill",
        "--shape",
        "64,128",
        "--init",
        spec,
        "--seed",
        "5",
        "--name",
        "fc.weight",
        "--range",
        "101..2050",
        "--device",
        "cpu",
        "--out",
        range_path.to_str().unwrap(),
    ]);
    assert_success(&out);
    let (shape, part) = read_npy(&range_path);
    assert_eq!(shape, "(1949,)");
    assert_eq!(part, cpu[101..2050]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bits_streams_raw_words_little_endian() {
    for device in ["gpu", "cpu"] {
        let out = nninit(&[
            "bits", "--seed", "7", "--stream", "9", "--offset", "3", "--count", "1001", "--device",
            device,
        ]);
        assert_success(&out);
        let words: Vec<u32> = out
            .stdout
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let id = StreamId::new(7, 9);
        let expected: Vec<u32> = (3..1004).map(|i| id.word(i)).collect();
        assert_eq!(words, expected, "device {device}");
    }
}

#[test]
fn bad_input_exits_2_with_one_line_and_leaves_no_file() {
    let dir = temp_dir("cli-bad");
    let out_path = dir.join("x.npy");
    let out_arg = out_path.to_str().unwrap();
    for args in [
        vec![
            "fill",
            "--shape",
            "4",
            "--init",
            "normal(std=0)",
            "--out",
            out_arg,
        ],
        vec![
            "fill",
            "--shape",
            "4",
            "--init",
            "uniform(a=1,b=1)",
            "--out",
            out_arg,
        ],
        vec![
            "fill",
            "--shape",
            "4",
            "--init",
            "uniform(a=1",
            "--out",
            out_arg,
        ],
        vec!["fill", "--shape", "4", "--init", "wobble", "--out", out_arg],
        vec![
            "fill", "--shape", "4,x", "--init", "normal", "--out", out_arg,
        ],
        vec![
            "fill", "--shape", "4", "--init", "normal", "--range", "2..9", "--out", out_arg,
        ],
        vec![
            "fill",
            "--shape",
            "4",
            "--init",
            "normal",
            "--out",
            "/nonexistent-dir/x.npy",
        ],
        vec![
            "fill", "--shape", "4", "--init", "normal", "--stream", "1", "--name", "a", "--out",
            out_arg,
        ],
        vec!["fill", "--shape", "4", "--out", out_arg],
        vec!["bits", "--count", "1", "--offset", "18446744073709551615"],
    ] {
        assert_usage_error(&args, &nninit(&args));
    }
    assert_nothing_left_in(&dir);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn explain_prints_one_json_line_without_sampling() {
    let out = nninit(&[
        "fill",
        "--shape",
        "128,64,3,3",
        "--init",
        "kaiming_uniform",
        "--explain",
    ]);
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["fan_in"], 576.0);
    assert_eq!(json["fan_out"], 1152.0);
    assert_eq!(json["dist"], "uniform");
    assert!((json["high"].as_f64().unwrap() - 0.102_062).abs() < 1e-6);
    let out = nninit(&[
        "fill",
        "--shape",
        "3,3,64,128",
        "--layout",
        "jax",
        "--init",
        "he_normal",
        "--explain",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["fan_in"].as_f64(), json["dist"].as_str()),
        (Some(576.0), Some("trunc_normal"))
    );
}

#[test]
fn fill_writes_every_dtype_to_safetensors_with_metadata() {
    let dir = temp_dir("cli-safetensors");
    for dtype in ["f32", "f16", "bf16"] {
        let path = dir.join(format!("w-{dtype}.safetensors"));
        let spec = "trunc_normal(std=0.02,a=-0.04,b=0.04)";
        let out = nninit(&[
            "fill",
            "--shape",
            "32,16",
            "--init",
            spec,
            "--name",
            "layer.weight",
            "--seed",
            "3",
            "--dtype",
            dtype,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_success(&out);
        let bytes = std::fs::read(&path).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let view = file.tensor("layer.weight").unwrap();
        assert_eq!(view.shape(), [32, 16]);
        let values = nninit::Dtype::parse(dtype).unwrap().decode(view.data());
        assert!(
            values.iter().all(|v| (-0.04..=0.04).contains(v)),
            "{dtype}: value outside the bounds"
        );
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = header.metadata().clone().unwrap();
        assert_eq!(
            metadata["nninit.contract"],
            nninit::CONTRACT_VERSION.to_string()
        );
        let record: serde_json::Value =
            serde_json::from_str(&metadata["nninit.tensor.layer.weight"]).unwrap();
        assert_eq!(record["spec"], spec);
        assert_eq!(record["seed"], "3");
        assert_eq!(
            record["stream"],
            nninit::stream_of_name("layer.weight").to_string()
        );
    }
    let out = nninit(&[
        "fill",
        "--shape",
        "4",
        "--init",
        "normal",
        "--dtype",
        "bf16",
        "--out",
        dir.join("x.npy").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "bf16 has no .npy type");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--device auto` (every drawing subcommand's default) draws on a hardware adapter when there is
/// one and on the CPU reference otherwise (lavapipe, here and in CI), says which in one line, and
/// writes the same bytes as `--device gpu` and `--device cpu`.
#[test]
fn device_auto_chooses_by_adapter_type_and_writes_the_same_values() {
    let dir = temp_dir("cli-auto");
    let info = common::gpu().adapter_info();
    let hardware = matches!(
        info.device_type,
        wgpu::DeviceType::DiscreteGpu
            | wgpu::DeviceType::IntegratedGpu
            | wgpu::DeviceType::VirtualGpu
    );
    let mut files = Vec::new();
    for device in ["auto", "gpu", "cpu"] {
        let path = dir.join(format!("{device}.safetensors"));
        let out = nninit(&[
            "fill",
            "--shape",
            "96,80",
            "--init",
            "trunc_normal(std=0.02,a=-0.04,b=0.04)",
            "--name",
            "w",
            "--seed",
            "4",
            "--dtype",
            "bf16",
            "--device",
            device,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_success(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if device == "auto" {
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{stderr}");
            let expected = if hardware {
                format!("nninit: device auto: GPU {}", info.name)
            } else {
                "nninit: device auto: the CPU reference".to_string()
            };
            assert!(
                lines[0].starts_with(&expected),
                "{adapter:?}: {stderr}",
                adapter = info.device_type
            );
        }
        files.push(std::fs::read(&path).unwrap());
    }
    assert_eq!(files[0], files[1], "auto and gpu");
    assert_eq!(files[0], files[2], "auto and cpu");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Nothing a run prints on stderr is someone else's: on a headless machine (no
/// `XDG_RUNTIME_DIR`), Mesa's Wayland probing would print `error: XDG_RUNTIME_DIR is invalid…`
/// when the GPU is opened.
#[test]
fn a_headless_gpu_run_prints_only_its_own_lines() {
    let dir = temp_dir("cli-headless");
    let path = dir.join("x.npy");
    for args in [
        vec!["adapter"],
        vec![
            "fill",
            "--shape",
            "8,8",
            "--init",
            "normal",
            "--device",
            "gpu",
            "--out",
            path.to_str().unwrap(),
        ],
        vec![
            "fill",
            "--shape",
            "8,8",
            "--init",
            "normal",
            "--out",
            path.to_str().unwrap(),
        ],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nninit"))
            .args(&args)
            .env_remove("XDG_RUNTIME_DIR")
            .output()
            .unwrap();
        assert_success(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        for line in stderr.lines() {
            assert!(
                line.starts_with("nninit: "),
                "{args:?}: a line not nninit's: {line:?}"
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `nninit study --out DIR` creates DIR (and its parents) when it does not exist.
#[test]
fn study_creates_its_output_directory() {
    let dir = temp_dir("cli-study");
    let out = dir.join("not").join("yet");
    let run = nninit(&["study", "--device", "cpu", "--out", out.to_str().unwrap()]);
    assert_success(&run);
    for file in ["study.json", "study.svg"] {
        assert!(out.join(file).is_file(), "{file} not written");
    }
    let blocked = dir.join("a-file");
    std::fs::write(&blocked, b"").unwrap();
    let args = [
        "study",
        "--device",
        "cpu",
        "--out",
        blocked.to_str().unwrap(),
    ];
    let (line, _) = assert_usage_error(&args, &nninit(&args));
    assert!(line.contains("out"), "{line}");
    std::fs::remove_dir_all(dir).unwrap();
}

//! `nninit init`: presets match the real models' state dicts, files verify, shards concatenate to
//! the unsharded file, a tensor regenerated alone equals its bytes, tied weights are identical.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use nninit::backend::cpu::orthogonal::orthogonal_cpu;
use nninit::backend::draw::Backend;
use nninit::model::init::{InitJob, Part, Shard, run};
use nninit::model::json::{FileTensor, parse_model_json};
use nninit::model::presets::{Gpt2Config, gpt2, preset};
use nninit::scheme::layers::ParamInit;
use nninit::verify::orthogonality::orthogonality_error;
use nninit::verify::{VerifyOptions, verify_file};
use nninit::{Dtype, StreamId};

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("nninit-init-{}-{name}", std::process::id()))
}

fn file_tensors(tensors: Vec<nninit::model::presets::ModelTensor>) -> Vec<FileTensor> {
    tensors.into_iter().map(FileTensor::from).collect()
}

/// name → (dtype, shape, bytes) of a safetensors file.
fn read(path: &PathBuf) -> HashMap<String, (safetensors::Dtype, Vec<usize>, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| {
            (
                name,
                (view.dtype(), view.shape().to_vec(), view.data().to_vec()),
            )
        })
        .collect()
}

#[test]
fn presets_match_the_real_models_state_dicts() {
    // tests/data/presets/*.json: written by scripts/preset_keys.py from the real models
    // (transformers GPT2LMHeadModel(GPT2Config()), torchvision resnet18()/resnet50()).
    for model in ["gpt2", "resnet18", "resnet50"] {
        let path = format!(
            "{}/tests/data/presets/{model}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let real: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let ours = preset(model).unwrap();
        let real = real.as_array().unwrap();
        assert_eq!(ours.len(), real.len(), "{model}: tensor count");
        for (tensor, entry) in ours.iter().zip(real) {
            let param = &tensor.param;
            assert_eq!(param.name, entry["name"], "{model}");
            let shape: Vec<u64> = entry["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap())
                .collect();
            assert_eq!(param.shape, shape, "{model}: {}", param.name);
            let dtype = if param.init == ParamInit::ZeroI64 {
                "I64"
            } else {
                "F32"
            };
            assert_eq!(dtype, entry["dtype"], "{model}: {}", param.name);
        }
    }
}

#[test]
fn resnet18_follows_torchvisions_recipe_and_verifies() {
    let path = temp("resnet18.safetensors");
    let job = InitJob {
        tensors: file_tensors(preset("resnet18").unwrap()),
        seed: 7,
        dtype: Dtype::F32,
        part: Part::Whole,
        metadata: Vec::new(),
    };
    let summary = run(Backend::Gpu(common::gpu()), &job, &path, |_, _| {}).unwrap();
    assert_eq!(summary.tensors, 122);
    let tensors = read(&path);
    for (name, (dtype, shape, bytes)) in &tensors {
        if name.ends_with("num_batches_tracked") {
            assert_eq!(
                (*dtype, shape.len(), bytes.as_slice()),
                (safetensors::Dtype::I64, 0, &[0u8; 8][..])
            );
            continue;
        }
        let values = Dtype::F32.decode(bytes);
        if name.ends_with("running_var")
            || (name.contains("bn") || name.contains("downsample.1")) && name.ends_with("weight")
        {
            assert!(values.iter().all(|&v| v == 1.0), "{name}");
        } else if name.ends_with("running_mean")
            || name.ends_with("bias") && !name.starts_with("fc")
        {
            assert!(values.iter().all(|&v| v == 0.0), "{name}");
        } else if shape.len() == 4 {
            // kaiming_normal_(mode="fan_out", nonlinearity="relu"): std √2/√(out·kh·kw).
            let std = (2.0 / (shape[0] * shape[2] * shape[3]) as f64).sqrt();
            let n = values.len() as f64;
            let mean_square = values.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n;
            let z = (mean_square / (std * std) - 1.0) / (2.0 / n).sqrt();
            assert!(z.abs() < 4.89, "{name}: variance z = {z}");
        }
    }
    // fc keeps nn.Linear's default: U(±1/√512).
    let fc = Dtype::F32.decode(&tensors["fc.weight"].2);
    let bound = 1.0 / 512f32.sqrt();
    assert!(fc.iter().all(|v| v.abs() <= bound) && fc.iter().any(|v| v.abs() > 0.99 * bound));
    let reports = verify_file(&path, &VerifyOptions::default()).unwrap();
    assert!(
        reports.iter().all(|r| r.passed()),
        "{:?}",
        reports.iter().find(|r| !r.passed())
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn tied_lm_head_is_written_identical_to_the_embedding() {
    let config = Gpt2Config {
        vocab_size: 300,
        n_positions: 16,
        n_embd: 32,
        n_layer: 2,
        initializer_range: 0.02,
    };
    let path = temp("gpt2-small.safetensors");
    let job = InitJob {
        tensors: file_tensors(gpt2(&config)),
        seed: 0,
        dtype: Dtype::Bf16,
        part: Part::Whole,
        metadata: Vec::new(),
    };
    run(Backend::Gpu(common::gpu()), &job, &path, |_, _| {}).unwrap();
    let tensors = read(&path);
    assert_eq!(tensors["lm_head.weight"], tensors["transformer.wte.weight"]);
    assert_ne!(
        tensors["transformer.wpe.weight"].2,
        tensors["transformer.wte.weight"].2[..tensors["transformer.wpe.weight"].2.len()]
    );
    assert!(
        verify_file(&path, &VerifyOptions::default())
            .unwrap()
            .iter()
            .all(|r| r.passed())
    );
    std::fs::remove_file(path).unwrap();
}

const MODEL_JSON: &str = r#"[
    {"layer": "embedding", "name": "embed", "num": 37, "dim": 9, "padding_idx": 3},
    {"layer": "linear", "name": "fc1", "in": 9, "out": 31},
    {"layer": "batch_norm", "name": "bn", "features": 31},
    {"name": "proj", "shape": [31, 5, 3], "init": "orthogonal(gain=2)"},
    {"name": "gate", "shape": [7, 40], "init": "sparse(sparsity=0.3)", "dtype": "f16"},
    {"name": "head", "shape": [11, 31], "init": "trunc_normal(std=0.02,a=-0.04,b=0.04)", "dtype": "bf16"},
    {"name": "kernel", "shape": [3, 3, 8, 16], "init": "he_normal", "layout": "jax"}
]"#;

#[test]
fn shards_concatenate_to_the_unsharded_file_and_verify() {
    let tensors = parse_model_json(MODEL_JSON).unwrap();
    let whole_path = temp("whole.safetensors");
    let job = InitJob {
        tensors: tensors.clone(),
        seed: 5,
        dtype: Dtype::F32,
        part: Part::Whole,
        metadata: Vec::new(),
    };
    run(Backend::Gpu(common::gpu()), &job, &whole_path, |_, _| {}).unwrap();
    let whole = read(&whole_path);
    assert!(
        verify_file(&whole_path, &VerifyOptions::default())
            .unwrap()
            .iter()
            .all(|r| r.passed())
    );
    // The padding row of the embedding is zero.
    let embed = Dtype::F32.decode(&whole["embed.weight"].2);
    assert!(embed[27..36].iter().all(|&v| v == 0.0) && embed[..27].iter().all(|&v| v != 0.0));

    // proj (orthogonal, 31 × 15, gain 2): the GPU's in the whole file, within the documented
    // 2e-5·|gain| of the CPU reference's (docs/orthogonal.md), whose rows the CPU shard holds.
    let proj_whole = Dtype::F32.decode(&whole["proj"].2);
    let proj_cpu = orthogonal_cpu(&[31, 5, 3], 2.0, StreamId::named(5, "proj")).unwrap();
    let worst = proj_whole
        .iter()
        .zip(&proj_cpu)
        .map(|(g, c)| (g - c).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 2e-5 * 2.0, "proj: max|GPU − CPU| {worst:e}");

    let count = 3;
    let mut joined: HashMap<String, Vec<u8>> = HashMap::new();
    for index in 0..count {
        let path = temp(&format!("shard{index}.safetensors"));
        let job = InitJob {
            tensors: tensors.clone(),
            seed: 5,
            dtype: Dtype::F32,
            part: Part::Shard(Shard { index, count }),
            metadata: Vec::new(),
        };
        // Shards may come from different workers and backends.
        let backend = if index == 1 {
            Backend::Cpu
        } else {
            Backend::Gpu(common::gpu())
        };
        run(backend, &job, &path, |_, _| {}).unwrap();
        let reports = verify_file(&path, &VerifyOptions::default()).unwrap();
        assert!(
            reports.iter().all(|r| r.passed()),
            "shard {index}: {:?}",
            reports.iter().find(|r| !r.passed())
        );
        let shard = read(&path);
        // Rows [10i, 10i + 10) of 31 (the last shard [20, 31)): bit-identical to the whole file
        // from the GPU, to the CPU reference from the CPU.
        let (first, last) = Shard { index, count }.rows(31);
        let proj = Dtype::F32.decode(&shard["proj"].2);
        let want = if index == 1 { &proj_cpu } else { &proj_whole };
        assert!(
            proj.iter()
                .zip(&want[first as usize * 15..last as usize * 15])
                .all(|(a, b)| a.to_bits() == b.to_bits())
                && proj.len() == (last - first) as usize * 15,
            "shard {index}: proj rows {first}..{last}"
        );
        for (name, (_, _, bytes)) in shard {
            joined.entry(name).or_default().extend(bytes);
        }
        let bytes = std::fs::read(&path).unwrap();
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(
            header.metadata().as_ref().unwrap()["nninit.shard"],
            format!("{index}/{count}")
        );
        std::fs::remove_file(path).unwrap();
    }
    for (name, (_, _, bytes)) in &whole {
        // The CPU shard's orthogonal rows differ from the GPU's within the contract's bound
        // (checked above); every other tensor is bit-identical across backends.
        if name != "proj" {
            assert_eq!(
                &joined[name], bytes,
                "{name}: shards do not concatenate to the whole"
            );
        }
    }
    // The rows joined from both backends are still orthonormal columns, times the gain.
    let proj_joined = Dtype::F32.decode(&joined["proj"]);
    let error = orthogonality_error(&proj_joined, 31, 15, 2.0).unwrap();
    assert!(error <= 1e-4, "proj joined: max|QᵀQ/g² − I| {error:e}");
    std::fs::remove_file(whole_path).unwrap();
}

#[test]
fn a_tensor_regenerated_alone_equals_its_bytes_in_the_file() {
    let path = temp("regen.safetensors");
    let job = InitJob {
        tensors: parse_model_json(MODEL_JSON).unwrap(),
        seed: 9,
        dtype: Dtype::F32,
        part: Part::Whole,
        metadata: Vec::new(),
    };
    run(Backend::Gpu(common::gpu()), &job, &path, |_, _| {}).unwrap();
    let tensors = read(&path);
    let alone = nninit::backend::draw::draw_bytes(
        Backend::Gpu(common::gpu()),
        &nninit::scheme::Init::parse("trunc_normal(std=0.02,a=-0.04,b=0.04)")
            .unwrap()
            .plan(&[11, 31], &nninit::scheme::FanRule::torch())
            .unwrap(),
        &[11, 31],
        StreamId::named(9, "head"),
        0..11 * 31,
        Dtype::Bf16,
    )
    .unwrap();
    assert_eq!(tensors["head"].2, alone);
    // And through the CLI, by name and seed.
    let out = temp("fc1.safetensors");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_nninit"))
        .args([
            "fill",
            "--shape",
            "31,9",
            "--init",
            "kaiming_uniform(a=2.23606797749979)",
            "--seed",
            "9",
            "--name",
            "fc1.weight",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert_eq!(read(&out)["fc1.weight"].2, tensors["fc1.weight"].2);
    std::fs::remove_file(out).unwrap();
    std::fs::remove_file(path).unwrap();
}

#[test]
fn bad_init_arguments_exit_2_and_leave_nothing() {
    let dir = temp("bad-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let bad_json = dir.join("bad.json");
    std::fs::write(&bad_json, r#"[{"layer": "linear", "name": "fc", "in": 4}]"#).unwrap();
    let out = dir.join("out.safetensors");
    let out_arg = out.to_str().unwrap();
    for args in [
        vec!["init", "--model", "vgg16", "--out", out_arg],
        vec![
            "init",
            "--model",
            bad_json.to_str().unwrap(),
            "--out",
            out_arg,
        ],
        vec!["init", "--model", "mlp", "--shard", "3/3", "--out", out_arg],
        vec!["init", "--model", "mlp", "--shard", "0/0", "--out", out_arg],
        vec!["init", "--model", "mlp", "--dtype", "f64", "--out", out_arg],
        vec![
            "init",
            "--model",
            "mlp",
            "--out",
            "/nonexistent-dir/x.safetensors",
        ],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_nninit"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}"); // only bad.json
    std::fs::remove_dir_all(dir).unwrap();
}

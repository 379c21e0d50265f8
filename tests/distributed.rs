//! `nninit init --tp N --dp M`: for every Hugging Face layout (18 classes) and preset, every layout of
//! tp ∈ {1, 2, 4} × dp ∈ {1, 2, 3} writes rank files that, placed as the manifest says, are the
//! unsharded checkpoint byte for byte — boxes checked against `torch.chunk`'s split here, not
//! taken from the library — and `nninit assemble` rebuilds the unsharded file exactly. Ranks
//! come from each launcher's environment and from a real `mpirun`; contradictions and bad plans
//! exit 2 and write nothing.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::cli::{assert_success, assert_usage_error, nninit, nninit_with_env, temp_dir};
use serde_json::Value;

/// One config per class of distinct layout (Gemma 2/3, OLMo 2, Granite and SmolLM3 place as
/// the decoders here do), its heads divisible by 4 (the plans split attention by whole heads),
/// with odd vocabularies and small dims so that chunks are uneven and some ranks empty.
const CONFIGS: [(&str, &str); 18] = [
    (
        "llama",
        r#"{"model_type": "llama", "vocab_size": 101, "hidden_size": 32, "intermediate_size": 40,
            "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 4,
            "tie_word_embeddings": false, "pad_token_id": 100}"#,
    ),
    (
        "mistral",
        r#"{"model_type": "mistral", "vocab_size": 99, "hidden_size": 32, "intermediate_size": 44,
            "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4}"#,
    ),
    (
        "qwen2",
        r#"{"model_type": "qwen2", "vocab_size": 97, "hidden_size": 32, "intermediate_size": 36,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
            "tie_word_embeddings": false}"#,
    ),
    (
        "qwen3",
        r#"{"model_type": "qwen3", "vocab_size": 95, "hidden_size": 32, "intermediate_size": 40,
            "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
            "head_dim": 12}"#,
    ),
    (
        "gemma",
        r#"{"model_type": "gemma", "vocab_size": 93, "hidden_size": 32, "intermediate_size": 48,
            "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
            "head_dim": 8}"#,
    ),
    (
        "bert-mlm",
        r#"{"model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": 103,
            "hidden_size": 32, "intermediate_size": 52, "num_hidden_layers": 1,
            "num_attention_heads": 4, "max_position_embeddings": 7, "type_vocab_size": 2,
            "tie_word_embeddings": false}"#,
    ),
    (
        "bert-model",
        r#"{"model_type": "bert", "architectures": ["BertModel"], "vocab_size": 91,
            "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 1,
            "num_attention_heads": 4, "max_position_embeddings": 5}"#,
    ),
    (
        "vit-classifier",
        r#"{"model_type": "vit", "architectures": ["ViTForImageClassification"],
            "hidden_size": 32, "intermediate_size": 44, "num_hidden_layers": 1,
            "num_attention_heads": 4, "image_size": 16, "patch_size": 8, "num_labels": 5}"#,
    ),
    (
        "vit-model",
        r#"{"model_type": "vit", "architectures": ["ViTModel"], "hidden_size": 16,
            "intermediate_size": 20, "num_hidden_layers": 1, "num_attention_heads": 4,
            "image_size": 12, "patch_size": 6, "num_channels": 1}"#,
    ),
    (
        "t5",
        r#"{"model_type": "t5", "vocab_size": 89, "d_model": 16, "d_kv": 4, "d_ff": 28,
            "num_layers": 1, "num_decoder_layers": 2, "num_heads": 4,
            "relative_attention_num_buckets": 6, "feed_forward_proj": "gated-gelu"}"#,
    ),
    (
        "gpt2",
        r#"{"model_type": "gpt2", "vocab_size": 87, "n_positions": 10, "n_embd": 16,
            "n_layer": 2, "n_head": 4, "n_inner": 36, "tie_word_embeddings": false}"#,
    ),
    (
        "mixtral",
        r#"{"model_type": "mixtral", "vocab_size": 85, "hidden_size": 16, "intermediate_size": 20,
            "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
            "num_local_experts": 4, "num_experts_per_tok": 2}"#,
    ),
    (
        "qwen2_moe",
        r#"{"model_type": "qwen2_moe", "vocab_size": 83, "hidden_size": 16, "intermediate_size": 28,
            "moe_intermediate_size": 12, "shared_expert_intermediate_size": 20,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
            "num_experts": 4, "num_experts_per_tok": 1, "decoder_sparse_step": 2}"#,
    ),
    (
        "deepseek_v3",
        r#"{"model_type": "deepseek_v3", "vocab_size": 81, "hidden_size": 16, "intermediate_size": 36,
            "moe_intermediate_size": 12, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 4, "n_routed_experts": 4, "n_group": 2, "topk_group": 1,
            "num_experts_per_tok": 2, "first_k_dense_replace": 1, "q_lora_rank": 12,
            "kv_lora_rank": 10, "qk_rope_head_dim": 4, "qk_nope_head_dim": 6, "v_head_dim": 6}"#,
    ),
    (
        "gpt_oss",
        r#"{"model_type": "gpt_oss", "vocab_size": 79, "hidden_size": 16, "intermediate_size": 12,
            "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
            "head_dim": 4, "num_local_experts": 4, "num_experts_per_tok": 2}"#,
    ),
    (
        "llama4_text",
        r#"{"model_type": "llama4_text", "vocab_size": 77, "hidden_size": 16,
            "intermediate_size": 12, "intermediate_size_mlp": 28, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 4, "head_dim": 4,
            "num_local_experts": 4, "interleave_moe_layer_step": 2}"#,
    ),
    (
        "phi3",
        r#"{"model_type": "phi3", "vocab_size": 75, "hidden_size": 16, "intermediate_size": 20,
            "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
            "pad_token_id": 3}"#,
    ),
    (
        "starcoder2",
        r#"{"model_type": "starcoder2", "vocab_size": 73, "hidden_size": 16, "intermediate_size": 28,
            "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4}"#,
    ),
];

const LAYOUTS: [(u64, u64); 9] = [
    (1, 1),
    (1, 2),
    (1, 3),
    (2, 1),
    (2, 2),
    (2, 3),
    (4, 1),
    (4, 2),
    (4, 3),
];

/// A tp × dp layout, without expert parallelism.
fn tp_dp(tp: u64, dp: u64) -> Layout {
    Layout {
        tp,
        dp,
        ep: 1,
        experts: 0,
    }
}

/// [`LAYOUTS`] as [`Layout`]s.
fn tp_dp_layouts() -> Vec<Layout> {
    LAYOUTS.iter().map(|&(tp, dp)| tp_dp(tp, dp)).collect()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `torch.chunk(n)[i]` of `count` chunks, as a range (empty past the last chunk).
fn torch_chunk(n: u64, i: u64, count: u64) -> (u64, u64) {
    let size = n.div_ceil(count);
    ((i * size).min(n), ((i + 1) * size).min(n))
}

/// The routed expert whose own tensor `name` is (`Some(Some(e))` for `…experts.{e}.…`), or
/// `Some(None)` for a fused tensor of every expert (`…experts.gate_up_proj`); `None` elsewhere.
fn routed_expert(name: &str) -> Option<Option<u64>> {
    let (_, rest) = name.split_once(".experts.")?;
    Some(rest.split('.').next().and_then(|e| e.parse().ok()))
}

/// A tp × dp mesh with its dp ranks grouped `ep` ways for `experts` routed experts.
#[derive(Clone, Copy)]
struct Layout {
    tp: u64,
    dp: u64,
    ep: u64,
    experts: u64,
}

/// The box rank `rank` of a tp × dp mesh (tp fastest) must hold of tensor `name`: the tp chunk
/// of the sharded dimension, then the dp chunk of that tp-local tensor's dim 0 — or, for a
/// routed expert's tensor with ep > 1, its whole experts: those of ep rank `dp_rank mod ep`,
/// `experts / ep` of them in order (all or nothing of one expert's tensor; a chunk of dim 0 of
/// a fused one), not split by dp.
fn expected_box(
    shape: &[u64],
    name: &str,
    tp_placement: &str,
    layout: Layout,
    rank: u64,
) -> Vec<(u64, u64)> {
    let Layout {
        tp,
        dp,
        ep,
        experts,
    } = layout;
    let (tp_rank, dp_rank) = (rank % tp, rank / tp);
    let mut ranges: Vec<(u64, u64)> = shape.iter().map(|&d| (0, d)).collect();
    if let Some(dim) = tp_placement
        .strip_prefix("Shard(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        let dim: usize = dim.parse().unwrap();
        ranges[dim] = torch_chunk(shape[dim], tp_rank, tp);
    } else {
        assert_eq!(tp_placement, "Replicate");
    }
    if let Some(expert) = routed_expert(name).filter(|_| ep > 1) {
        let ep_rank = dp_rank % ep;
        match expert {
            Some(e) if e / (experts / ep) != ep_rank => ranges[0] = (ranges[0].0, ranges[0].0),
            Some(_) => {}
            None => ranges[0] = torch_chunk(shape[0], ep_rank, ep),
        }
        return ranges;
    }
    if let Some(first) = ranges.first_mut() {
        let (a, b) = torch_chunk(first.1 - first.0, dp_rank, dp);
        *first = (first.0 + a, first.0 + b);
    }
    ranges
}

/// Places every rank's box of every tensor into the tensor's whole (run by run along the last
/// dimension, replicas compared), checks every element is covered, and compares each tensor
/// with the unsharded file's bytes. Returns how many tensors the ranks split unevenly, and how
/// many boxes were empty.
fn assert_ranks_place_into_unsharded(
    dir: &Path,
    unsharded: &Path,
    layout: Layout,
) -> (usize, usize) {
    let Layout {
        tp,
        dp,
        ep,
        experts,
    } = layout;
    let manifest = json(&dir.join("manifest.json"));
    assert_eq!(manifest["mesh"]["tp"], tp);
    assert_eq!(manifest["mesh"]["dp"], dp);
    assert_eq!(
        manifest["mesh"]["ep"],
        if ep > 1 { Value::from(ep) } else { Value::Null }
    );
    let files: Vec<Vec<u8>> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| std::fs::read(dir.join(f.as_str().unwrap())).unwrap())
        .collect();
    assert_eq!(files.len() as u64, tp * dp);
    let ranks: Vec<safetensors::SafeTensors<'_>> = files
        .iter()
        .map(|bytes| safetensors::SafeTensors::deserialize(bytes).unwrap())
        .collect();
    let whole_bytes = std::fs::read(unsharded).unwrap();
    let whole = safetensors::SafeTensors::deserialize(&whole_bytes).unwrap();
    let tensors = manifest["tensors"].as_array().unwrap();
    assert_eq!(tensors.len(), whole.len());
    let (mut uneven, mut empty) = (0, 0);
    for tensor in tensors {
        let name = tensor["name"].as_str().unwrap();
        let ep_wanted = routed_expert(name)
            .filter(|_| ep > 1)
            .map(|expert| match expert {
                Some(e) => format!("Expert({e} of {experts})"),
                None => "Experts(0)".to_string(),
            });
        let ep_said = tensor["placements"]["ep"].as_str().map(str::to_string);
        assert_eq!(ep_said, ep_wanted, "{name}: the manifest's ep placement");
        let shape: Vec<u64> = serde_json::from_value(tensor["shape"].clone()).unwrap();
        let expected = whole.tensor(name).unwrap();
        assert_eq!(
            expected.shape(),
            shape.iter().map(|&d| d as usize).collect::<Vec<_>>()
        );
        let size = expected.dtype().bitsize() / 8;
        let numel: u64 = shape.iter().product();
        let mut rebuilt = vec![0u8; numel as usize * size];
        let mut covered = vec![false; numel as usize];
        let mut sizes = Vec::new();
        for (rank, file) in ranks.iter().enumerate() {
            let ranges = expected_box(
                &shape,
                name,
                tensor["placements"]["tp"].as_str().unwrap(),
                layout,
                rank as u64,
            );
            let said: Vec<(u64, u64)> =
                serde_json::from_value(tensor["ranks"][rank].clone()).unwrap();
            assert_eq!(said, ranges, "{name} rank {rank}: the manifest's box");
            let local = file.tensor(name).unwrap();
            let local_shape: Vec<usize> = ranges.iter().map(|r| (r.1 - r.0) as usize).collect();
            assert_eq!(local.shape(), local_shape, "{name} rank {rank}");
            assert_eq!(local.dtype(), expected.dtype());
            let local_numel: usize = local_shape.iter().product();
            sizes.push(local_numel);
            if local_numel == 0 {
                empty += 1;
                continue;
            }
            // Row-major strides of the whole tensor, and the runs along the last dimension.
            let dims = shape.len();
            let run = local_shape.last().copied().unwrap_or(1);
            let mut strides = vec![1u64; dims];
            for d in (0..dims.saturating_sub(1)).rev() {
                strides[d] = strides[d + 1] * shape[d + 1];
            }
            for r in 0..local_numel / run {
                // Coordinates of the run's first element, in the box and then in the whole.
                let mut rest = r;
                let mut index = ranges.last().map_or(0, |last| last.0);
                for d in (0..dims.saturating_sub(1)).rev() {
                    let extent = local_shape[d];
                    index += (ranges[d].0 + (rest % extent) as u64) * strides[d];
                    rest /= extent;
                }
                let from = &local.data()[r * run * size..(r + 1) * run * size];
                let to = index as usize;
                if covered[to] {
                    assert_eq!(
                        &rebuilt[to * size..(to + run) * size],
                        from,
                        "{name}: rank {rank}'s replica differs"
                    );
                }
                rebuilt[to * size..(to + run) * size].copy_from_slice(from);
                covered[to..to + run].fill(true);
            }
        }
        assert!(
            covered.iter().all(|&c| c),
            "{name}: an element no rank holds"
        );
        if sizes.iter().any(|&n| n != sizes[0]) {
            uneven += 1;
        }
        assert!(
            rebuilt == expected.data(),
            "{name}: placed ranks differ from the unsharded tensor"
        );
    }
    (uneven, empty)
}

/// Writes the unsharded checkpoint of `model` (the args that name it), then every layout of
/// [`LAYOUTS`] (the last on the GPU, the others on the CPU), and checks each against it, by
/// placement and through `nninit assemble`. Returns how many boxes were empty.
fn check_every_layout(
    case: &str,
    model: &[&str],
    dtype: &str,
    config: bool,
    layouts: &[Layout],
) -> usize {
    let dir = temp_dir(&format!("layouts-{case}"));
    let unsharded = dir.join("unsharded");
    let unsharded_path = unsharded.to_str().unwrap().to_string();
    let whole = if config {
        unsharded.join("model.safetensors")
    } else {
        unsharded.with_extension("safetensors")
    };
    let whole_out = if config {
        unsharded_path.clone()
    } else {
        whole.to_str().unwrap().to_string()
    };
    let mut args = vec![
        "init", "--dtype", dtype, "--device", "cpu", "--out", &whole_out,
    ];
    args.extend(model);
    assert_success(&nninit(&args));
    let (mut uneven, mut empty) = (0, 0);
    for (index, &layout) in layouts.iter().enumerate() {
        let Layout { tp, dp, ep, .. } = layout;
        let out = dir.join(format!("tp{tp}-dp{dp}-ep{ep}"));
        let (tp_text, dp_text, ep_text) = (tp.to_string(), dp.to_string(), ep.to_string());
        let device = if index == layouts.len() - 1 {
            "gpu"
        } else {
            "cpu"
        };
        let out_text = out.to_str().unwrap();
        let mut args = vec![
            "init", "--tp", &tp_text, "--dp", &dp_text, "--dtype", dtype, "--device", device,
            "--out", out_text,
        ];
        if ep > 1 {
            args.extend(["--ep", &ep_text]);
        }
        args.extend(model);
        assert_success(&nninit(&args));
        let (layout_uneven, layout_empty) = assert_ranks_place_into_unsharded(&out, &whole, layout);
        uneven += layout_uneven;
        empty += layout_empty;
        let assembled = dir.join(format!("assembled-tp{tp}-dp{dp}-ep{ep}"));
        let assembled_file = if config {
            assembled.join("model.safetensors")
        } else {
            assembled.with_extension("safetensors")
        };
        let target = if config { &assembled } else { &assembled_file };
        assert_success(&nninit(&[
            "assemble",
            out_text,
            "--out",
            target.to_str().unwrap(),
        ]));
        assert!(
            std::fs::read(&assembled_file).unwrap() == std::fs::read(&whole).unwrap(),
            "{case} tp {tp} dp {dp}: the assembled file is not the unsharded one"
        );
        if config {
            assert_eq!(
                std::fs::read(assembled.join("config.json")).unwrap(),
                std::fs::read(unsharded.join("config.json")).unwrap()
            );
        }
    }
    assert!(uneven > 0, "{case}: every split was even");
    let _ = std::fs::remove_dir_all(&dir);
    empty
}

#[test]
fn every_architecture_in_every_layout_is_the_unsharded_checkpoint() {
    let dir = temp_dir("layout-configs");
    let mut empty = 0;
    for (case, config) in CONFIGS {
        let path = dir.join(format!("{case}.json"));
        std::fs::write(&path, config).unwrap();
        let dtype = if case.starts_with("bert") {
            "bf16"
        } else {
            "f32"
        };
        let model = ["--config", path.to_str().unwrap()];
        empty += check_every_layout(case, &model, dtype, true, &tp_dp_layouts());
    }
    // Small dimensions (type vocabularies, the ViT class token) leave the last ranks empty.
    assert!(empty > 0, "no empty box in any layout");
}

/// `--ep`: for every mixture-of-experts layout (per-expert keys, fused experts with biases,
/// latent attention, a shared expert, dense layers between), with ep 2 and 4 within dp and tp
/// 1, 2 and 4, the rank files place into the unsharded checkpoint and assemble to it byte for
/// byte, each ep rank holding its whole experts (boxes computed here from the expert index in
/// each key).
#[test]
fn every_mixture_of_experts_in_every_expert_parallel_layout_is_the_unsharded_checkpoint() {
    let dir = temp_dir("layout-experts");
    let layouts: Vec<Layout> = [(1, 2, 2), (2, 2, 2), (1, 4, 4), (2, 4, 2), (4, 4, 4)]
        .into_iter()
        .map(|(tp, dp, ep)| Layout {
            tp,
            dp,
            ep,
            experts: 4,
        })
        .collect();
    let mut empty = 0;
    for (case, config) in CONFIGS {
        if ![
            "mixtral",
            "qwen2_moe",
            "deepseek_v3",
            "gpt_oss",
            "llama4_text",
        ]
        .contains(&case)
        {
            continue;
        }
        let path = dir.join(format!("{case}.json"));
        std::fs::write(&path, config).unwrap();
        let model = ["--config", path.to_str().unwrap()];
        empty += check_every_layout(case, &model, "bf16", true, &layouts);
    }
    // An expert's own tensor is empty on every ep rank but one.
    assert!(empty > 0, "no empty box in any layout");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_preset_in_every_layout_is_the_unsharded_file() {
    for (preset, dtype) in [
        ("mlp", "f32"),
        ("resnet18", "f16"),
        ("resnet50", "bf16"),
        ("gpt2", "bf16"),
    ] {
        check_every_layout(preset, &["--model", preset], dtype, false, &tp_dp_layouts());
    }
}

#[test]
fn verify_checks_rank_files_against_the_manifest() {
    let dir = temp_dir("verify-ranks");
    let out = dir.join("ranks");
    let out_text = out.to_str().unwrap();
    let args = [
        "init", "--model", "mlp", "--tp", "2", "--dp", "3", "--device", "cpu", "--out", out_text,
    ];
    assert_success(&nninit(&args));
    let verified = nninit(&["verify", out_text]);
    assert_success(&verified);
    let report = String::from_utf8_lossy(&verified.stdout);
    assert!(
        report.contains("24 tensors in 6 files, 24 passed, 0 failed"),
        "{report}"
    );
    // A rank file of another rank in its place is caught against the manifest.
    std::fs::copy(
        out.join("rank-00001-of-00006.safetensors"),
        out.join("rank-00002-of-00006.safetensors"),
    )
    .unwrap();
    let output = nninit(&["verify", out_text]);
    let (line, _) = assert_usage_error(&["verify"], &output);
    assert!(
        line.contains("rank-00002-of-00006") && line.contains("rank 2"),
        "{line}"
    );
}

/// `nninit init` with `args` in `processes` concurrent processes, `per_rank` giving each its
/// rank (by environment or flags); each must succeed.
fn run_ranks(processes: u64, args: &[&str], per_rank: impl Fn(u64, &mut Command)) {
    let children: Vec<_> = (0..processes)
        .map(|rank| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_nninit"));
            command.args(args);
            per_rank(rank, &mut command);
            command
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        assert_success(&child.wait_with_output().unwrap());
    }
}

#[test]
fn ranks_come_from_each_launchers_environment_and_from_flags() {
    let dir = temp_dir("launchers");
    let whole = dir.join("whole.safetensors");
    assert_success(&nninit(&[
        "init",
        "--model",
        "mlp",
        "--device",
        "cpu",
        "--out",
        whole.to_str().unwrap(),
    ]));
    type Env = fn(u64) -> Vec<(String, String)>;
    let launchers: [(&str, Env); 3] = [
        ("torchrun", |rank| {
            vec![
                ("RANK".into(), rank.to_string()),
                ("WORLD_SIZE".into(), "4".into()),
                ("LOCAL_RANK".into(), (rank % 2).to_string()),
            ]
        }),
        ("openmpi", |rank| {
            vec![
                ("OMPI_COMM_WORLD_RANK".into(), rank.to_string()),
                ("OMPI_COMM_WORLD_SIZE".into(), "4".into()),
            ]
        }),
        ("slurm", |rank| {
            vec![
                ("SLURM_PROCID".into(), rank.to_string()),
                ("SLURM_NTASKS".into(), "4".into()),
                ("SLURM_LOCALID".into(), "0".into()),
                ("SLURM_STEP_ID".into(), "0".into()),
            ]
        }),
    ];
    for (launcher, env) in launchers {
        let out = dir.join(launcher);
        let out_text = out.to_str().unwrap();
        let args = [
            "init", "--model", "mlp", "--tp", "2", "--dp", "2", "--device", "cpu", "--out",
            out_text,
        ];
        run_ranks(4, &args, |rank, command| {
            command.envs(env(rank));
        });
        assert_ranks_place_into_unsharded(&out, &whole, tp_dp(2, 2));
    }
    // Flags, one process per rank.
    let out = dir.join("flags");
    let out_text = out.to_str().unwrap();
    let args = [
        "init", "--model", "mlp", "--tp", "4", "--dp", "1", "--device", "cpu", "--out", out_text,
    ];
    run_ranks(4, &args, |rank, command| {
        command.args(["--rank", &rank.to_string(), "--world-size", "4"]);
    });
    assert_ranks_place_into_unsharded(&out, &whole, tp_dp(4, 1));
    // A rank other than 0 writes its own file and no manifest.
    let out = dir.join("one-rank");
    let out_text = out.to_str().unwrap();
    let output = nninit_with_env(
        &[
            "init", "--model", "mlp", "--tp", "2", "--dp", "2", "--device", "cpu", "--out",
            out_text,
        ],
        &[("RANK", "3"), ("WORLD_SIZE", "4")],
    );
    assert_success(&output);
    let written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, vec!["rank-00003-of-00004.safetensors".to_string()]);
}

#[test]
fn mpirun_four_ranks_assemble_to_the_unsharded_checkpoint() {
    let mpirun = Command::new("mpirun").arg("--version").output();
    assert!(
        mpirun.is_ok_and(|o| o.status.success()),
        "mpirun not found: install Open MPI (apt-get install openmpi-bin) to run this test"
    );
    let dir = temp_dir("mpirun");
    let config = dir.join("config.json");
    std::fs::write(&config, CONFIGS[0].1).unwrap();
    let unsharded = dir.join("unsharded");
    let config_text = config.to_str().unwrap();
    let init = [
        "init",
        "--config",
        config_text,
        "--dtype",
        "bf16",
        "--device",
        "cpu",
    ];
    let mut unsharded_args = init.to_vec();
    unsharded_args.extend(["--out", unsharded.to_str().unwrap()]);
    assert_success(&nninit(&unsharded_args));
    let out = dir.join("ranks");
    // As root, Open MPI refuses to start without --allow-run-as-root; more ranks than cores
    // need --oversubscribe.
    let output = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-n", "4"])
        .arg(env!("CARGO_BIN_EXE_nninit"))
        .args(init)
        .args(["--tp", "2", "--dp", "2", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_success(&output);
    let whole = unsharded.join("model.safetensors");
    assert_ranks_place_into_unsharded(&out, &whole, tp_dp(2, 2));
    let assembled = dir.join("assembled");
    assert_success(&nninit(&[
        "assemble",
        out.to_str().unwrap(),
        "--out",
        assembled.to_str().unwrap(),
    ]));
    assert!(
        std::fs::read(assembled.join("model.safetensors")).unwrap()
            == std::fs::read(&whole).unwrap()
    );
}

#[test]
fn bad_layouts_exit_2_naming_the_problem_and_write_nothing() {
    let dir = temp_dir("bad-layouts");
    let config = dir.join("config.json");
    std::fs::write(&config, CONFIGS[0].1).unwrap();
    let config = config.to_str().unwrap().to_string();
    let plan = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let unmatched = plan(
        "unmatched.json",
        r#"[{"pattern": "fc1.*", "placement": "Shard(0)"},
        {"pattern": "decoder.*.weight", "placement": "Shard(0)"}]"#,
    );
    let beyond = plan(
        "beyond.json",
        r#"[{"pattern": "fc1.bias", "placement": "Shard(1)"}]"#,
    );
    let bad_placement = plan(
        "placement.json",
        r#"[{"pattern": "fc1.bias", "placement": "Split(0)"}]"#,
    );
    let out = dir.join("out");
    let out_text = out.to_str().unwrap().to_string();
    let mlp = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "init", "--model", "mlp", "--device", "cpu", "--out", &out_text,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let moe_config = dir.join("moe.json");
    let moe_config = moe_config.to_str().unwrap().to_string();
    let mixtral = CONFIGS
        .iter()
        .find(|(case, _)| *case == "mixtral")
        .unwrap()
        .1;
    std::fs::write(&moe_config, mixtral).unwrap();
    let moe = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "init",
            "--config",
            &moe_config,
            "--device",
            "cpu",
            "--out",
            &out_text,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let no_env: &[(&str, &str)] = &[];
    // (arguments, environment, what the error line must name)
    type Case<'a> = (Vec<String>, &'a [(&'a str, &'a str)], &'a str);
    let cases: Vec<Case> = vec![
        (
            mlp(&["--tp", "2", "--plan", &unmatched]),
            no_env,
            "decoder.*.weight",
        ),
        (mlp(&["--tp", "2", "--plan", &beyond]), no_env, "fc1.bias"),
        (
            mlp(&["--tp", "2", "--plan", &bad_placement]),
            no_env,
            "Split(0)",
        ),
        (
            vec![
                "init".into(),
                "--config".into(),
                config.clone(),
                "--tp".into(),
                "3".into(),
                "--out".into(),
                out_text.clone(),
            ],
            no_env,
            "num_attention_heads",
        ),
        (
            mlp(&["--tp", "2", "--dp", "2", "--rank", "4", "--world-size", "4"]),
            no_env,
            "--rank 4",
        ),
        (
            mlp(&["--tp", "2", "--dp", "2", "--rank", "0", "--world-size", "3"]),
            no_env,
            "tp × dp",
        ),
        (mlp(&["--tp", "0"]), no_env, "tp"),
        (mlp(&["--tp", "2", "--shard", "0/2"]), no_env, "--shard"),
        (mlp(&["--tp", "2", "--rank", "1"]), no_env, "world-size"),
        (
            mlp(&["--tp", "2", "--dp", "2", "--rank", "2"]),
            &[("RANK", "1"), ("WORLD_SIZE", "4")],
            "torchrun",
        ),
        (
            mlp(&["--tp", "2", "--dp", "2"]),
            &[("OMPI_COMM_WORLD_RANK", "4"), ("OMPI_COMM_WORLD_SIZE", "4")],
            "OMPI_COMM_WORLD_SIZE",
        ),
        (
            mlp(&["--tp", "2"]),
            &[
                ("SLURM_PROCID", "0"),
                ("SLURM_NTASKS", "4"),
                ("SLURM_STEP_ID", "1"),
            ],
            "Slurm",
        ),
        (mlp(&[]), &[("RANK", "0"), ("WORLD_SIZE", "2")], "tp × dp"),
        (
            mlp(&["--tp", "2", "--dp", "2"]),
            &[("WORLD_SIZE", "4")],
            "RANK",
        ),
        // Expert parallelism: within dp, whole experts per ep rank, a model with experts.
        (
            moe(&["--dp", "4", "--ep", "3"]),
            no_env,
            "ep = 3: a divisor of dp = 4",
        ),
        (
            moe(&["--dp", "3", "--ep", "3"]),
            no_env,
            "ep = 3: a divisor of the 4 routed experts",
        ),
        (moe(&["--dp", "2", "--ep", "0"]), no_env, "ep = 0"),
        (
            mlp(&["--dp", "2", "--ep", "2"]),
            no_env,
            "has no routed experts",
        ),
        (mlp(&["--ep", "2", "--shard", "0/2"]), no_env, "--shard"),
    ];
    let model_json = plan(
        "model.json",
        r#"[{"layer": "linear", "name": "fc", "in": 4, "out": 6}]"#,
    );
    let json_case = vec![
        "init".to_string(),
        "--model".into(),
        model_json,
        "--tp".into(),
        "2".into(),
        "--out".into(),
        out_text.clone(),
    ];
    for (args, env, named) in cases
        .iter()
        .map(|(a, e, n)| (a.clone(), *e, *n))
        .chain([(json_case, no_env, "--plan")])
    {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = nninit_with_env(&args, env);
        let (line, _) = assert_usage_error(&args, &output);
        assert!(
            line.contains(named),
            "{args:?}: {line:?} does not name {named}"
        );
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
    // Existing rank files are kept unless --force.
    let args = mlp(&["--tp", "2"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_success(&nninit(&args));
    let output = nninit(&args);
    let (line, _) = assert_usage_error(&args, &output);
    assert!(line.contains("--force"), "{line}");
    let mut forced = args.clone();
    forced.push("--force");
    assert_success(&nninit(&forced));
}

/// `nninit verify DIR` under a launcher (torchrun's variables here) or with `--rank/--world-size`
/// verifies only this rank's share of the files — in a rank directory of the same world size, its
/// own file — and the shares add up to every tensor once.
#[test]
fn verify_per_rank_checks_only_its_share_and_the_shares_add_up() {
    let dir = temp_dir("verify-per-rank");
    let out = dir.join("mlp");
    let run = nninit(&[
        "init",
        "--model",
        "mlp",
        "--tp",
        "2",
        "--dp",
        "2",
        "--device",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_success(&run);
    let tensors_in = |output: &std::process::Output| -> (usize, usize) {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let last = stdout.lines().last().unwrap_or_default().to_string();
        let words: Vec<&str> = last.split_whitespace().collect();
        assert_eq!(
            words.get(1..5),
            Some(&["tensors", "in", "1", "file,"][..]),
            "{last}"
        );
        (words[0].parse().unwrap(), words[5].parse().unwrap())
    };
    let mut total = 0;
    for rank in 0..4u64 {
        let rank_text = rank.to_string();
        let env = [
            ("RANK", rank_text.as_str()),
            ("WORLD_SIZE", "4"),
            ("LOCAL_RANK", "0"),
        ];
        let output = nninit_with_env(&["verify", out.to_str().unwrap()], &env);
        assert_success(&output);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!(
                "rank {rank} of 4 (torchrun): verifying 1 of 4 files"
            )),
            "{stderr}"
        );
        let (tensors, passed) = tensors_in(&output);
        assert_eq!(tensors, passed);
        total += tensors;
    }
    // The mlp has 4 tensors; each of the 4 rank files holds a box of each.
    assert_eq!(total, 16);
    let flags = nninit(&[
        "verify",
        out.to_str().unwrap(),
        "--rank",
        "3",
        "--world-size",
        "4",
    ]);
    assert_success(&flags);
    assert_eq!(tensors_in(&flags).0, 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

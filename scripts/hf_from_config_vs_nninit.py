#!/usr/bin/env python3
"""transformers' `from_config` + `save_pretrained` against `nninit init --config`, on one
config, on this machine: wall time and peak RSS of each, side by side in one run.

transformers is timed as its users write it, in a process of its own:

    model = AutoModelForCausalLM.from_config(config, dtype=DTYPE)   # builds and initializes
    model.save_pretrained(out)

with the imports of torch and transformers done before the clock starts (not counted); its
peak RSS is the process's own (imports included: that memory is held while it works). nninit
is the released binary in a child process, timed from start to exit; its time includes the
fsync of every file before it is renamed into place, which save_pretrained does not do.
Each run starts after `sync`, so neither pays for the other's writeback.

The configs (`--config`): `llama-3.2-1b`, Llama-3.2-1B's published values (hidden 2048,
intermediate 8192, 16 layers, 32 heads, 8 KV heads, head_dim 64, vocab 128256, tied embeddings,
rope llama3); `qwen3-30b-a3b-4-layers`, Qwen3-30B-A3B's published config (hidden 2048, 32/4
heads of 128, vocab 151936, 128 experts of 768, top-8) cut to 4 layers: 3.1 B parameters.

Usage: python scripts/hf_from_config_vs_nninit.py [--config NAME] [--dtype f32|bf16] [--repeat N]
                                                  [--out DIR] [--nninit BIN]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

LLAMA_3_2_1B = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 128000,
    "eos_token_id": 128001,
    "head_dim": 64,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "initializer_range": 0.02,
    "intermediate_size": 8192,
    "max_position_embeddings": 131072,
    "mlp_bias": False,
    "num_attention_heads": 32,
    "num_hidden_layers": 16,
    "num_key_value_heads": 8,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
        "factor": 32.0,
        "high_freq_factor": 4.0,
        "low_freq_factor": 1.0,
        "original_max_position_embeddings": 8192,
        "rope_type": "llama3",
    },
    "rope_theta": 500000.0,
    "tie_word_embeddings": True,
    "use_cache": True,
    "vocab_size": 128256,
}

# Qwen3-30B-A3B's config.json as published (transformers_version 4.51.0), 4 of its 48 layers.
QWEN3_30B_A3B_4_LAYERS = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "model_type": "qwen3_moe",
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "decoder_sparse_step": 1,
    "eos_token_id": 151645,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "initializer_range": 0.02,
    "intermediate_size": 6144,
    "max_position_embeddings": 40960,
    "max_window_layers": 48,
    "mlp_only_layers": [],
    "moe_intermediate_size": 768,
    "norm_topk_prob": True,
    "num_attention_heads": 32,
    "num_experts": 128,
    "num_experts_per_tok": 8,
    "num_hidden_layers": 4,
    "num_key_value_heads": 4,
    "output_router_logits": False,
    "rms_norm_eps": 1e-06,
    "rope_scaling": None,
    "rope_theta": 1000000.0,
    "router_aux_loss_coef": 0.001,
    "sliding_window": None,
    "tie_word_embeddings": False,
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": 151936,
}

CONFIGS = {"llama-3.2-1b": LLAMA_3_2_1B, "qwen3-30b-a3b-4-layers": QWEN3_30B_A3B_4_LAYERS}

TRANSFORMERS_CHILD = r"""
import json, resource, sys, time
import torch, transformers
config_path, out, dtype = sys.argv[1:4]
config = transformers.AutoConfig.from_pretrained(config_path)
dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype]
after_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
built = time.perf_counter()
model.save_pretrained(out)
done = time.perf_counter()
print(json.dumps({
    "seconds": done - start, "init_seconds": built - start, "save_seconds": done - built,
    "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "rss_after_imports_kb": after_imports,
    "parameters": sum(p.numel() for p in model.parameters()),
    "versions": [transformers.__version__, torch.__version__, torch.get_num_threads()],
}))
"""


def measure_nninit(binary, config_path, out, dtype):
    """Wall time and peak RSS of one `nninit init --config` process (wait4 gives its own)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [binary, "init", "--config", config_path, "--out", out, "--dtype", dtype, "--force"],
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"nninit exited {process.returncode}")
    return {"seconds": seconds, "peak_rss_kb": usage.ru_maxrss}


def one_round(args, root, config_path):
    """One nninit run and one transformers run, each after `sync`, their outputs removed after."""
    try:
        os.sync()
        ours = measure_nninit(args.nninit, config_path, os.path.join(root, "nninit"), args.dtype)
        os.sync()
        child = subprocess.run(
            [sys.executable, "-c", TRANSFORMERS_CHILD, config_path, os.path.join(root, "hf"), args.dtype],
            check=True,
            capture_output=True,
            text=True,
        )
        theirs = json.loads(child.stdout.strip().splitlines()[-1])
        sizes = {
            name: sum(os.path.getsize(os.path.join(root, name, f)) for f in os.listdir(os.path.join(root, name)))
            for name in ("nninit", "hf")
        }
    finally:
        for name in ("nninit", "hf"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        os.sync()
    return ours, theirs, sizes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="llama-3.2-1b", choices=list(CONFIGS))
    parser.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--out", default=None, help="scratch directory on the disk to measure")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--nninit", default=os.path.join(here, "..", "target", "release", "nninit"))
    args = parser.parse_args()
    root = tempfile.mkdtemp(dir=args.out)
    try:
        config_path = os.path.join(root, "config.json")
        with open(config_path, "w") as f:
            json.dump(CONFIGS[args.config], f)
        rounds = [one_round(args, root, config_path) for _ in range(args.repeat)]
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def median(values):
        values = sorted(values)
        return values[len(values) // 2]

    ours_s = [r[0]["seconds"] for r in rounds]
    theirs_s = [r[1]["seconds"] for r in rounds]
    init_s = [r[1]["init_seconds"] for r in rounds]
    ours_rss = median([r[0]["peak_rss_kb"] for r in rounds]) / 1024
    theirs_rss = median([r[1]["peak_rss_kb"] for r in rounds]) / 1024
    _, theirs, sizes = rounds[0]
    tv, tt, threads = theirs["versions"]
    print(f"{args.config} config, {theirs['parameters']:,} parameters, {args.dtype}, {os.cpu_count()} CPUs, "
          f"median of {len(rounds)} rounds (each round: nninit, then transformers)")
    print(f"{'':44} {'seconds':>9} {'peak RSS MB':>12} {'bytes written':>14}  every round's seconds")
    print(f"{'transformers from_config + save_pretrained':44} {median(theirs_s):9.2f} {theirs_rss:12.0f} "
          f"{sizes['hf']:14,}  {', '.join(f'{t:.2f}' for t in theirs_s)}")
    print(f"{'  of which from_config (build + init)':44} {median(init_s):9.2f} {'':12} {'':14}  "
          f"{', '.join(f'{t:.2f}' for t in init_s)}")
    print(f"{'  RSS after imports':44} {'':9} {theirs['rss_after_imports_kb'] / 1024:12.0f}")
    print(f"{'nninit init --config':44} {median(ours_s):9.2f} {ours_rss:12.0f} {sizes['nninit']:14,}  "
          f"{', '.join(f'{t:.2f}' for t in ours_s)}")
    print(f"nninit / transformers (medians): time {median(ours_s) / median(theirs_s):.3f}x, "
          f"peak RSS {ours_rss / theirs_rss:.3f}x; round by round: "
          f"{', '.join(f'{o / t:.3f}' for o, t in zip(ours_s, theirs_s))} "
          f"(transformers {tv}, torch {tt} with {threads} threads)")


if __name__ == "__main__":
    main()

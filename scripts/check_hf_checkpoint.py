#!/usr/bin/env python3
"""Load nninit's `init --config` checkpoints with transformers' `from_pretrained` and compare
every tensor with transformers' own initialization of the same config.

For each case of tests/data/hf/configs.json (the `default-*` configs, published sizes up to
DeepSeek-V3's 671B, are skipped: they do not fit this machine twice), this:

1. runs `nninit init --config CASE.json --out DIR` (f32, and for every case also bf16 with
   --max-shard-size small enough to shard it, so the index path is loaded too);
2. loads DIR with `AutoModel...from_pretrained(DIR, output_loading_info=True)` and fails on any
   missing, unexpected or mismatched key, or on a dtype other than the one written;
3. builds the same class from the same config with transformers' own `_init_weights`
   (`torch.manual_seed(0)`), and compares tensor by tensor:
   - a tensor that transformers fills with one constant must be bit-for-bit that constant;
   - a random one must agree in mean and std (|Δmean| < 6 SE, |std ratio - 1| < 6 SE), its
     all-zero rows (the padding row) must be the same rows, and a two-sample
     Kolmogorov-Smirnov test of the two must not reject at α = 1e-6.

Prints one line per tensor family and a verdict per case; exits 1 if any check fails.

Usage: python scripts/check_hf_checkpoint.py [NNINIT_BINARY] [CASE ...]
       (default target/release/nninit and every case)
"""

import json
import os
import subprocess
import sys
import tempfile

import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python", "tests"))
from distribution import compare  # noqa: E402  (the tests' own judgement of a distribution)
from hf_keys import USUAL_HEAD  # noqa: E402  (the class nninit builds without `architectures`)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data", "hf", "configs.json")
SKIP_PREFIX = "default-"  # the published-size default configs do not fit this machine twice


def run_case(nninit, case, fields, out_root, dtype, shard_size):
    path = os.path.join(out_root, f"{case}.json")
    with open(path, "w") as f:
        json.dump(fields, f)
    out = os.path.join(out_root, f"{case}-{dtype}")
    command = [nninit, "init", "--config", path, "--out", out, "--dtype", dtype, "--device", "cpu",
               "--seed", "7"]
    if shard_size:
        command += ["--max-shard-size", shard_size]
    subprocess.run(command, check=True, capture_output=True)
    class_name = (fields.get("architectures") or [USUAL_HEAD[fields["model_type"]]])[0]
    cls = getattr(transformers, class_name)
    model, info = cls.from_pretrained(out, output_loading_info=True)
    problems = [f"{k}: {v}" for k, v in info.items() if v and k != "error_msgs"]
    problems += info.get("error_msgs", [])
    want = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype]
    if model.dtype != want:
        problems.append(f"loaded as {model.dtype}, {want} written")
    files = sorted(f for f in os.listdir(out) if f.endswith(".safetensors"))
    config = transformers.AutoConfig.from_pretrained(out)
    torch.manual_seed(0)
    reference = cls(config)
    ours = model.state_dict()
    theirs = reference.state_dict()
    checked = 0
    for name, tensor in theirs.items():
        if name not in ours:
            problems.append(f"{name}: not in the loaded model")
            continue
        if tensor.dtype == torch.int64:
            continue
        why = compare(ours[name].float(), tensor.to(want).float())
        checked += 1
        if why:
            problems.append(f"{name}: {why}")
    return problems, checked, len(files)


def main():
    nninit = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "release", "nninit")
    with open(DATA) as f:
        cases = json.load(f)["cases"]
    failed = 0
    with tempfile.TemporaryDirectory() as out_root:
        chosen = sys.argv[2:]
        for case, fields in cases.items():
            if case.startswith(SKIP_PREFIX) or (chosen and case not in chosen):
                continue
            for dtype, shard in (("f32", None), ("bf16", "60KB")):
                problems, checked, files = run_case(nninit, case, fields, out_root, dtype, shard)
                verdict = "ok" if not problems else "FAIL"
                print(f"{case:28} {dtype:5} {files:3} file(s) {checked:4} tensors compared  {verdict}")
                for problem in problems[:10]:
                    print(f"    {problem}")
                failed += bool(problems)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}: "
          f"{failed} case(s) failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

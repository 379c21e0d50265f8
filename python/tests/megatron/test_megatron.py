"""megatron-core 0.19's GPTModel (local layer spec, CPU initialization) under
``init_module_(recipe="megatron")``: each tensor's distribution against Megatron's own init for a
dense (untied, tied, with biases), a MoE and an MLA model, and the values of every tensor-parallel
× expert-parallel layout — Megatron's plain local shards, put together as Megatron splits them —
equal to one process bit for bit. Runs in .venv-megatron (Python 3.12), beside the other tests."""

import os
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).with_name("megatron_worker.py")


def run(*command):
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
        cwd="/tmp",
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_megatron_recipe_draws_what_megatron_draws_and_every_layout_the_one_process_values():
    out = run(sys.executable, str(WORKER), "single")
    assert "single: 0 differ" in out, out
    for variant in ("dense", "dense_tied", "dense_bias", "moe", "mla"):
        assert f"{variant}: " in out, out
    for processes, tp, ep in [(2, 2, 1), (4, 4, 1), (2, 1, 2), (4, 2, 2), (4, 1, 4)]:
        out = run(
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc-per-node={processes}",
            str(WORKER),
            "layout",
            str(tp),
            str(ep),
        )
        assert f"layout tp {tp} ep {ep}: 0 differ" in out, out
        assert "differs" not in out, out

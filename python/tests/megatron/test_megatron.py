"""megatron-core 0.19's GPTModel (local layer spec, CPU initialization) under
``init_module_(recipe="megatron")``: each tensor's distribution against Megatron's own init for a
dense (untied, tied, with biases), a MoE and an MLA model, and the values of every tensor-parallel
× expert-parallel layout — Megatron's plain local shards, put together as Megatron splits them —
equal to one process bit for bit, and so are two pipeline stages each filled alone. Runs in
.venv-megatron (Python 3.12), beside the other tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from launch import run, torchrun  # noqa: E402

WORKER = Path(__file__).with_name("megatron_worker.py")


def test_megatron_recipe_draws_what_megatron_draws_and_every_layout_the_one_process_values():
    out = run(sys.executable, str(WORKER), "single", cwd="/tmp")
    assert "single: 0 differ" in out, out
    for variant in ("dense", "dense_tied", "dense_bias", "moe", "mla"):
        assert f"{variant}: " in out, out
    for processes, tp, ep in [(2, 2, 1), (4, 4, 1), (2, 1, 2), (4, 2, 2), (4, 1, 4)]:
        out = torchrun(processes, WORKER, "layout", tp, ep, cwd="/tmp")
        assert f"layout tp {tp} ep {ep}: 0 differ" in out, out
        assert "differs" not in out, out
    # Two pipeline stages, each filled alone, hold the one-process values under global names.
    out = torchrun(2, WORKER, "pipeline", cwd="/tmp")
    assert "pipeline: 0 differ on stage 0; stages hold every tensor once: True" in out, out
    assert "differs" not in out, out

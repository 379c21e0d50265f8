"""DTensor parameters filled by nninit.torch under torchrun on the CPU (gloo), 2 and then 4
processes: a Linear and an Embedding under Shard(0), Shard(1) and Replicate on a 1-D mesh, and
(Shard(0), Shard(1)) on a 2×2 mesh — distributed from the CPU, and built on the meta device then
materialized with to_empty (the torchtitan flow) — gathered, equal bit for bit what a single
process fills; and a Mixtral's fused experts under expert- and tensor-parallel placements."""

from pathlib import Path

import torch  # noqa: F401  (the workers need it: pip install torch)

import launch

WORKER = Path(__file__).with_name("dtensor_worker.py")
EXPERTS_WORKER = Path(__file__).with_name("dtensor_experts_worker.py")


def torchrun(processes, *args, worker=WORKER):
    return launch.torchrun(processes, worker, *args)


def test_two_ranks_on_a_1d_mesh():
    out = torchrun(2, "2", "S0", "S1", "R")
    assert "mesh 2: 3 placements, 0 differ" in out, out
    assert "partial: refused True, untouched True" in out, out


def test_four_ranks_on_a_1d_mesh_and_a_2x2_mesh():
    out = torchrun(4, "4", "S0", "S1", "R")
    assert "mesh 4: 3 placements, 0 differ" in out, out
    out = torchrun(4, "2x2", "S0,S1", "S1,S0", "R,S0")
    assert "mesh 2x2: 3 placements, 0 differ" in out, out


def test_fused_experts_as_dtensors_on_expert_and_tensor_parallel_meshes():
    # Mixtral's fused experts under expert parallelism (Shard(0)), tensor parallelism (Shard(1),
    # Shard(2)) and both: each rank fills its experts' parts from their per-expert streams.
    out = torchrun(2, "2", "S0", "S1", "S2", "R", worker=EXPERTS_WORKER)
    assert "experts mesh 2: 4 placements, 0 differ" in out, out
    out = torchrun(4, "2x2", "S0,S1", "S0,S2", "S1,S0", worker=EXPERTS_WORKER)
    assert "experts mesh 2x2: 3 placements, 0 differ" in out, out

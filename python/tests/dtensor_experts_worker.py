"""Run under torchrun (CPU, gloo) by test_dtensor.py: a tiny Mixtral (transformers), its fused
experts (`experts.gate_up_proj` [E, 2I, H], `experts.down_proj` [E, H, I]) made DTensors under
the given placements — expert parallel Shard(0), tensor parallel Shard(1) or Shard(2), both on a
2-D mesh — filled by `init_module_(recipe="hf")`, gathered, and compared on rank 0 with the same
model filled in one process. Exits 1 on any difference."""

import sys

import torch
import torch.distributed as dist
import transformers
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Replicate, Shard, distribute_tensor

import nninit.torch as nt
from gathered import finish

CONFIG = dict(
    vocab_size=37,
    hidden_size=12,
    intermediate_size=10,
    num_hidden_layers=2,
    num_attention_heads=2,
    num_key_value_heads=1,
    num_local_experts=4,
    num_experts_per_tok=2,
)


def model():
    torch.manual_seed(0)
    return transformers.MixtralForCausalLM(transformers.MixtralConfig(**CONFIG))


def placements(text):
    return [Replicate() if p == "R" else Shard(int(p[1:])) for p in text.split(",")]


def main():
    mesh_shape = tuple(int(d) for d in sys.argv[1].split("x"))
    cases = sys.argv[2:]
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    mesh = init_device_mesh("cpu", mesh_shape)
    single = nt.init_module_(model(), seed=5, recipe="hf", device="cpu")
    expected = {n: p.detach().clone() for n, p in single.named_parameters() if ".experts." in n}
    assert len(expected) == 2 * CONFIG["num_hidden_layers"], sorted(expected)
    failures = 0
    for case in cases:
        sharded = model()
        for name, param in list(sharded.named_parameters()):
            if ".experts." in name:
                owner, attr = name.rsplit(".", 1)
                shards = distribute_tensor(param.data, mesh, placements(case))
                setattr(sharded.get_submodule(owner), attr, torch.nn.Parameter(shards))
        nt.init_module_(sharded, seed=5, recipe="hf", device="cpu")
        for name, param in sharded.named_parameters():
            if name in expected:
                full = param.full_tensor()
                if rank == 0 and not torch.equal(full, expected[name]):
                    failures += 1
                    print(f"{name} {case}: differs")
    if rank == 0:
        print(f"experts mesh {sys.argv[1]}: {len(cases)} placements, {failures} differ")
    finish(1 if failures else 0)


if __name__ == "__main__":
    main()

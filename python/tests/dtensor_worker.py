"""Run under torchrun (CPU, gloo) by test_dtensor.py: a Linear and an Embedding whose parameters
are DTensors under the given placements (distributed from the CPU, and built on the meta device
then materialized with `to_empty`, as torchtitan does), filled by nninit.torch, gathered, and
compared on rank 0 with the same modules filled in a single process. Exits 1 on any
difference."""

import sys

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Replicate, Shard, distribute_tensor

import nninit.torch as nt
from gathered import finish


def placements(text, dims):
    """Placements from text like "S0,S1"; a Shard beyond the tensor's dimensions (a bias under
    Shard(1)) is Replicate, as a row-parallel layer's bias is."""
    out = []
    for p in text.split(","):
        out.append(Shard(int(p[1:])) if p != "R" and int(p[1:]) < dims else Replicate())
    return out


def as_bytes(tensor):
    t = tensor.detach().contiguous().reshape(-1)
    return t.view({4: torch.int32, 2: torch.int16}[t.element_size()]).numpy().tobytes()


def modules(dtype):
    # Odd sizes, so chunks are uneven.
    return [torch.nn.Linear(7, 5).to(dtype), torch.nn.Embedding(11, 6, padding_idx=4).to(dtype)]


def sharded(dtype, mesh, case, on_meta):
    """The modules with DTensor parameters under `case`, filled by init_module_: built on the
    CPU and distributed, or — the torchtitan flow — built on the meta device, distributed,
    materialized with `to_empty` and then filled."""
    with torch.device("meta" if on_meta else "cpu"):
        built = modules(dtype)
    for module in built:
        for name, param in list(module.named_parameters()):
            shards = distribute_tensor(param.data, mesh, placements(case, param.dim()))
            setattr(module, name, torch.nn.Parameter(shards))
        if on_meta:
            module.to_empty(device="cpu")
        nt.init_module_(module, seed=11, device="cpu")
    return built


def compare(single, many_modules, rank, case, on_meta):
    """How many parameters, gathered, differ from the single-process ones (counted on rank 0)."""
    failures = 0
    for one, many in zip(single, many_modules):
        for (name, expected), (_, got) in zip(one.named_parameters(), many.named_parameters()):
            full = got.full_tensor()
            if rank == 0 and as_bytes(full) != as_bytes(expected):
                failures += 1
                flow = "meta → to_empty" if on_meta else "distributed"
                print(f"{type(one).__name__}.{name} {case} {expected.dtype} ({flow}): differs")
    return failures


def partial_refused(mesh):
    """A Partial placement (pending sums, not values) is refused with a ValueError naming the
    parameter, and the tensor is left as it was."""
    from torch.distributed.tensor import DTensor, Partial

    linear = torch.nn.Linear(4, 3)
    local = torch.full((3, 4), 7.0)
    placements = [Partial()] * mesh.ndim
    linear.weight = torch.nn.Parameter(DTensor.from_local(local, mesh, placements))
    try:
        nt.init_module_(linear, seed=1)
    except ValueError as error:
        refused = "weight" in str(error) and "Partial" in str(error)
    else:
        refused = False
    untouched = bool((linear.weight.to_local() == 7).all())
    if dist.get_rank() == 0:
        print(f"partial: refused {refused}, untouched {untouched}")


def main():
    mesh_shape = tuple(int(d) for d in sys.argv[1].split("x"))
    cases = sys.argv[2:]
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    mesh = init_device_mesh("cpu", mesh_shape)
    failures = 0
    for case in cases:
        for dtype in (torch.float32, torch.bfloat16):
            single = modules(dtype)
            for module in single:
                nt.init_module_(module, seed=11, device="cpu")
            for on_meta in (False, True):
                failures += compare(
                    single, sharded(dtype, mesh, case, on_meta), rank, case, on_meta
                )
    if rank == 0:
        print(f"mesh {sys.argv[1]}: {len(cases)} placements, {failures} differ")
    partial_refused(mesh)
    finish(1 if failures else 0)


if __name__ == "__main__":
    main()

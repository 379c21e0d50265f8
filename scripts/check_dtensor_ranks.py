"""One-off check of `nninit init --tp T --dp D` against PyTorch's DTensor: every rank loads its
own file, wraps each tensor with `DTensor.from_local` on the mesh and placements the manifest
gives, and the gathered `full_tensor()` must equal the unsharded checkpoint bit for bit.

    torchrun --nproc-per-node 4 scripts/check_dtensor_ranks.py RANK_DIR UNSHARDED.safetensors

On the CPU with the gloo backend. The mesh has dims ("tp", "dp") and ranks numbered tp-fastest
(rank = dp_rank * tp + tp_rank), so DTensor applies the tp split first and the dp split to the
tp-local tensor, as nninit does.
"""

import json
import os
import sys

import torch
import torch.distributed as dist
from safetensors.torch import load_file
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.tensor import DTensor, Replicate, Shard


def placement(text):
    if text == "Replicate":
        return Replicate()
    return Shard(int(text[len("Shard(") : -1]))


def as_bytes(tensor):
    return tensor.contiguous().flatten().view(torch.uint8)


def main():
    rank_dir, unsharded = sys.argv[1], sys.argv[2]
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    with open(os.path.join(rank_dir, "manifest.json")) as file:
        manifest = json.load(file)
    tp, dp = manifest["mesh"]["tp"], manifest["mesh"]["dp"]
    assert world == tp * dp, f"launched {world} ranks for tp {tp} × dp {dp}"
    ranks = torch.arange(world).reshape(dp, tp).T
    mesh = DeviceMesh("cpu", ranks, mesh_dim_names=("tp", "dp"))
    local = load_file(os.path.join(rank_dir, manifest["files"][rank]))
    whole = load_file(unsharded) if rank == 0 else None
    failed = 0
    for tensor in manifest["tensors"]:
        name, shape = tensor["name"], torch.Size(tensor["shape"])
        placements = [placement(tensor["placements"][d]) for d in ("tp", "dp")]
        stride = torch.empty(shape, device="meta").stride()
        dtensor = DTensor.from_local(
            local[name], mesh, placements, run_check=False, shape=shape, stride=stride
        )
        full = dtensor.full_tensor()
        if rank == 0 and not torch.equal(as_bytes(full), as_bytes(whole[name])):
            failed += 1
            print(f"{name}: the gathered DTensor differs from the unsharded tensor")
    if rank == 0:
        print(
            f"torch {torch.__version__}, tp {tp} × dp {dp}: {len(manifest['tensors'])} "
            f"tensors gathered, {failed} differ"
        )
    dist.barrier()  # every rank done before gloo is torn down
    dist.destroy_process_group()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

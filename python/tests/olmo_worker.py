"""Run under torchrun (CPU, gloo) by test_frameworks.py: an OLMo-core 3.0 model built on the
meta device and parallelized by OLMo-core's own ``parallelize_model`` (FSDP, TP, HSDP with
expert parallelism) for the layout given, filled by ``nninit.torch.init_module_(recipe="olmo")``,
gathered and compared on rank 0 with the unsharded model filled in one process."""

import sys

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor

import nninit.torch as nt
from frameworks_models import olmo_model

SEED = 3


def tensors(model):
    out = {}
    for name, tensor in nt._named_tensors(model):
        whole = tensor.full_tensor() if isinstance(tensor, DTensor) else tensor.detach()
        out[nt._frameworks.canonical_name(name)] = whole.clone()
    return out


def main():
    kind, layout = sys.argv[1:]
    dist.init_process_group("gloo")
    from olmo_core.distributed.parallel import DataParallelType, build_world_mesh
    from olmo_core.train.train_module.transformer.common import parallelize_model
    from olmo_core.train.train_module.transformer.config import (
        TransformerDataParallelConfig,
        TransformerExpertParallelConfig,
        TransformerTensorParallelConfig,
    )

    tp = ep = None
    if layout == "fsdp4":
        dp = TransformerDataParallelConfig(name=DataParallelType.fsdp)
    elif layout.startswith("fsdp") and "tp" in layout:  # fsdp2tp2, fsdp1tp4
        dp = TransformerDataParallelConfig(name=DataParallelType.fsdp)
        tp = TransformerTensorParallelConfig(degree=int(layout.split("tp")[1]))
    elif layout.startswith("hsdp"):  # hsdp{replicas}x{shards}ep{E}: EP needs HSDP here
        shards = int(layout.split("x")[1].split("ep")[0])
        dp = TransformerDataParallelConfig(name=DataParallelType.hsdp, shard_degree=shards)
        ep = TransformerExpertParallelConfig(degree=int(layout.split("ep")[1]))
    else:
        raise ValueError(layout)
    reference = None
    if dist.get_rank() == 0:
        whole = olmo_model(kind).build(init_device="meta")
        whole.to_empty(device="cpu")
        reference = tensors(nt.init_module_(whole, recipe="olmo", seed=SEED))
    mesh = build_world_mesh(dp=dp, tp=tp, ep=ep, device_type="cpu")
    model = olmo_model(kind).build(init_device="meta")
    model = parallelize_model(
        model, world_mesh=mesh, device=torch.device("cpu"), dp_config=dp, tp_config=tp, ep_config=ep
    )
    nt.init_module_(model, recipe="olmo", seed=SEED)
    placements = sorted(
        {type(p).__name__ for _, t in nt._named_tensors(model) if isinstance(t, DTensor) for p in t.placements}
    )
    gathered = tensors(model)
    if dist.get_rank() == 0:
        differ = [n for n, v in reference.items() if n not in gathered or not torch.equal(gathered[n], v)]
        print(
            f"olmo {kind} {layout}: placements {','.join(placements)}; {len(reference)} tensors, "
            f"{len(differ)} differ {differ[:3]}",
            flush=True,
        )
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

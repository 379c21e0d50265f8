"""Run under torchrun (CPU, gloo) by test_frameworks.py: an OLMo-core 3.0 model built on the
meta device and parallelized by OLMo-core's own ``parallelize_model`` (FSDP, TP, HSDP with
expert parallelism) for the layout given, filled by ``nninit.torch.init_module_(recipe="olmo")``,
gathered and compared on rank 0 with the unsharded model filled in one process."""

import sys

import torch
import torch.distributed as dist

import nninit.torch as nt
from frameworks_models import olmo_model
from gathered import finish, report, whole_tensors

SEED = 3


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
        reference = whole_tensors(nt.init_module_(whole, recipe="olmo", seed=SEED))
    mesh = build_world_mesh(dp=dp, tp=tp, ep=ep, device_type="cpu")
    model = olmo_model(kind).build(init_device="meta")
    model = parallelize_model(
        model, world_mesh=mesh, device=torch.device("cpu"), dp_config=dp, tp_config=tp, ep_config=ep
    )
    nt.init_module_(model, recipe="olmo", seed=SEED)
    gathered = whole_tensors(model)
    if dist.get_rank() == 0:
        report(f"olmo {kind} {layout}", model, reference, gathered)
    finish()


if __name__ == "__main__":
    main()

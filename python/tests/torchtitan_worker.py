"""Run under torchrun (CPU, gloo) by test_frameworks.py: a torchtitan 0.3.0 debug model built on
the meta device, parallelized by torchtitan's own ``parallelize_fn`` for each layout given as
``DP,TP,EP`` (FSDP over dp, tensor parallel over tp, expert parallel over ep), materialized
with ``to_empty``, filled by ``nninit.torch.init_module_(recipe="torchtitan")``, gathered with
``full_tensor()`` and compared on rank 0 with the unsharded model filled in one process.
Prints one line per layout: its placements seen and how many tensors differ."""

import importlib
import sys
import types

import torch
import torch.distributed as dist

import nninit.torch as nt
from gathered import finish, report, whole_tensors

SEED = 5


def build(model_name, flavor):
    spec = importlib.import_module(f"torchtitan.models.{model_name}").model_registry(flavor)
    return spec


def main():
    model_name, flavor, *layouts = sys.argv[1:]
    dist.init_process_group("gloo")
    world = dist.get_world_size()
    import torchtitan.trainer  # noqa: F401  (registers the c10d backend build_mesh uses)
    import torchtitan.distributed.parallel_dims as parallel_dims
    from torchtitan.config import CompileConfig, ParallelismConfig, TrainingConfig
    from torchtitan.distributed import ParallelDims
    from torchtitan.tools import utils as tt_utils

    # torchtitan falls back to "cuda" when there is no accelerator; these meshes are CPU ones.
    parallel_dims.device_type = "cpu"
    reference = None
    if dist.get_rank() == 0:
        with torch.device("meta"):
            whole = build(model_name, flavor).model.build()
        whole.to_empty(device="cpu")
        nt.init_module_(whole, recipe="torchtitan", seed=SEED)
        reference = whole_tensors(whole)
    for layout in layouts:
        dp, tp, ep = (int(x) for x in layout.split(","))
        parallelism = ParallelismConfig(
            data_parallel_shard_degree=dp, tensor_parallel_degree=tp, expert_parallel_degree=ep
        )
        dims = ParallelDims.from_config(parallelism, world)
        dims.build_mesh()
        spec = build(model_name, flavor)
        config = spec.model
        training = TrainingConfig(seq_len=2048)
        config.update_from_config(
            config=types.SimpleNamespace(parallelism=parallelism, training=training)
        )
        with torch.device("meta"), tt_utils.set_default_dtype(torch.float32):
            model = config.build()
        model = spec.parallelize_fn(
            model,
            parallel_dims=dims,
            training=training,
            parallelism=parallelism,
            compile_config=CompileConfig(),
            ac_config=None,
            dump_folder="/tmp",
        )
        model.to_empty(device="cpu")
        nt.init_module_(model, recipe="torchtitan", seed=SEED)
        gathered = whole_tensors(model)
        if dist.get_rank() == 0:
            label = f"torchtitan {model_name} {flavor} dp{dp} tp{tp} ep{ep}"
            report(label, model, reference, gathered)
    finish()


if __name__ == "__main__":
    main()

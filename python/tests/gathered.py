"""What the distributed workers share: a model's tensors gathered whole, the placements its
DTensors use, and the line comparing them with one process's."""

import os
import sys

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor

import nninit.torch as nt


def whole_tensors(model):
    """Every parameter and persistent buffer, whole, under its canonical name (a collective:
    every rank calls it)."""
    out = {}
    for name, tensor in nt._named_tensors(model):
        whole = tensor.full_tensor() if isinstance(tensor, DTensor) else tensor.detach()
        out[nt._frameworks.canonical_name(name)] = whole.clone()
    return out


def placements(model):
    """The placement types the model's DTensors use, sorted."""
    return sorted(
        {
            type(p).__name__
            for _, t in nt._named_tensors(model)
            if isinstance(t, DTensor)
            for p in t.placements
        }
    )


def report(label, model, reference, gathered):
    """``label: placements …; N tensors, K differ [the first few]``."""
    differ = [
        name
        for name, value in reference.items()
        if name not in gathered or not torch.equal(gathered[name], value)
    ]
    print(
        f"{label}: placements {','.join(placements(model))}; {len(reference)} tensors, "
        f"{len(differ)} differ {differ[:3]}",
        flush=True,
    )


def finish(status=0):
    """Every rank done, each leaves at once with ``status``: tearing down the process groups
    can abort a process in gloo's threads (seen in CI: rank 0 SIGABRT, "terminate called without
    an active exception", after its report, the other ranks still closing), which would fail a
    run whose checks passed."""
    dist.barrier()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)

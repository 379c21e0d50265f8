"""One rank of FSDP 8 on torchtitan 0.3.0's llama3 8B: time and peak RSS of
``nninit.torch.init_module_(model, recipe="torchtitan", seed=0)`` against torchtitan's own
``model.init_states()`` (after ``torch.manual_seed(0)``, under ``torch.no_grad()``), both filling
only this rank's local shards (~1.0 B parameters, ~4 GB float32).

How FSDP 8 is simulated in one process: ``init_process_group("fake", rank=R, world_size=8)``
(torch's fake backend: no communication; registered by importing ``torchtitan.trainer``), then
torchtitan's own path: ``ParallelismConfig(data_parallel_shard_degree=8)`` →
``ParallelDims.from_config(...).build_mesh()`` (with ``parallel_dims.device_type = "cpu"``, since
torchtitan falls back to "cuda" without an accelerator) → llama3 "8B" built on meta in float32 →
``spec.parallelize_fn`` (``fully_shard`` per block and root) → ``model.to_empty(device="cpu")``.
Every parameter is then a DTensor ``(Shard(0),)`` over 8 ranks holding rank R's rows.

One side per fresh process, so ru_maxrss is that side's own:

    python scripts/torchtitan_8b_rank.py --rank 0 --side nninit      # one JSON line
    python scripts/torchtitan_8b_rank.py --all [--reps 3]            # the table (a/b alternating)

``rss_before`` is the RSS just before the init call. ``to_empty`` only reserves the shards'
memory, so the init is what first touches it: peak − before ≈ the shards' bytes + the 32
per-layer RoPE caches both sides compute (131072×64 complex64, 2 GiB, unsharded) + the init's
own temporaries (``--prefault`` zeroes the shards before, to take their first touch out of both
sides' time and increment). Sanity (after the timing, outside it): std of the local shard of
``layers.3.attention.wo.weight`` (expected 0.02/sqrt(2·(3+1)) = 0.02/sqrt(8)); for nninit,
that the shard equals rank R's rows of the same parameter filled whole with ``nninit.torch.init_``.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import types
import warnings

NAME, LAYER = "layers.3.attention.wo.weight", 3


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def one(rank, side, prefault=False):
    import torch
    import torch.distributed as dist

    import torchtitan.trainer  # noqa: F401  registers the c10d "fake" backend
    import torchtitan.distributed.parallel_dims as pdm
    from torchtitan.config import CompileConfig, ParallelismConfig, TrainingConfig
    from torchtitan.distributed import ParallelDims
    from torchtitan.models import llama3
    from torchtitan.tools.utils import set_default_dtype

    warnings.filterwarnings("ignore")
    dist.init_process_group("fake", rank=rank, world_size=8)
    pdm.device_type = "cpu"
    parallelism = ParallelismConfig(data_parallel_shard_degree=8)
    dims = ParallelDims.from_config(parallelism, 8)
    dims.build_mesh()
    spec = llama3.model_registry("8B")
    training = TrainingConfig()
    spec.model.update_from_config(config=types.SimpleNamespace(parallelism=parallelism, training=training))
    with torch.device("meta"), set_default_dtype(torch.float32):
        model = spec.model.build()
    model = spec.parallelize_fn(model, parallel_dims=dims, training=training, parallelism=parallelism,
                                compile_config=CompileConfig(), ac_config=None, dump_folder="/tmp")
    model.to_empty(device="cpu")
    params = dict(model.named_parameters())
    local_numel = sum(p.to_local().numel() for p in params.values())
    import nninit.torch

    if prefault:  # touch the shards' pages first, so the init's own cost and temporaries stand alone
        with torch.no_grad():
            for p in params.values():
                p.to_local().zero_()
    rss_before = rss_mib()
    t0 = time.perf_counter()
    if side == "torchtitan":
        torch.manual_seed(0)
        with torch.no_grad():
            model.init_states()
    else:
        nninit.torch.init_module_(model, recipe="torchtitan", seed=0)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB -> MiB

    wo = params[NAME]
    shard = wo.to_local()
    std = 0.02 / (2 * (LAYER + 1)) ** 0.5
    out = {"side": side, "rank": rank, "prefault": prefault, "init_s": round(seconds, 3), "rss_before_mib": round(rss_before),
           "peak_rss_mib": round(peak), "local_params": local_numel,
           "local_mib": round(local_numel * 4 / 2**20), "placements": str(wo.placements),
           "wo_local_shape": list(shard.shape), "wo_std": shard.std().item(), "wo_std_expected": std}
    if side == "nninit":
        whole = nninit.torch.init_(torch.empty(wo.shape), f"trunc_normal(mean=0,std={std!r},a=-2,b=2)",
                                   seed=0, name=NAME)
        out["wo_equals_whole_rows"] = torch.equal(shard, torch.chunk(whole, 8, dim=0)[rank])
    print(json.dumps(out), flush=True)
    dist.destroy_process_group()


def run_all(reps, extra):
    rows = []
    for rank in (0, 5):
        for rep in range(reps):
            for side in ("torchtitan", "nninit"):  # alternating a/b
                cmd = [sys.executable, __file__, "--rank", str(rank), "--side", side] + extra
                done = subprocess.run(cmd, capture_output=True, text=True)
                line = [x for x in done.stdout.splitlines() if x.startswith("{")]
                if done.returncode or not line:
                    sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
                rows.append({**json.loads(line[-1]), "rep": rep, "load": os.getloadavg()[0]})
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"python {' '.join(sys.argv)}  (each row: `python {__file__} --rank R --side S`)\n")
    print("| rank | rep | side | init s | RSS before MiB | peak RSS MiB | peak − before MiB | "
          "local f32 MiB | wo std (exp. %.5f) | shard = whole rows | load1 |" % rows[0]["wo_std_expected"])
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['rank']} | {r['rep']} | {r['side']} | {r['init_s']:.2f} | {r['rss_before_mib']} | "
              f"{r['peak_rss_mib']} | {r['peak_rss_mib'] - r['rss_before_mib']} | {r['local_mib']} | "
              f"{r['wo_std']:.5f} | {r.get('wo_equals_whole_rows', '–')} | {r['load']:.2f} |")
    print(f"\nload average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rank", type=int, default=0)
    ap.add_argument("--side", choices=("torchtitan", "nninit"), default="nninit")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--prefault", action="store_true", help="zero the shards before the timed init")
    a = ap.parse_args()
    run_all(a.reps, ["--prefault"] * a.prefault) if a.all else one(a.rank, a.side, a.prefault)

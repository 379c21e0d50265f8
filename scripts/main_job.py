#!/usr/bin/env python3
"""The main job side by side, in one run on this machine: `nninit init --model gpt2` on its
default device, PyTorch building, initializing and saving the same model as its users write it
(`GPT2LMHeadModel(GPT2Config())` + `safetensors.torch.save_file`, imports not counted), and
`cp` of a file of the same size on the same disk (plain, and followed by `sync`: nninit fsyncs
its file before renaming it into place, so `cp && sync` is the copy with the same durability).

    python3 scripts/main_job.py [--nninit target/release/nninit] [--dir DIR] [--runs 3]

The runs alternate, round after round (each round runs every case once, after one untimed round
that leaves `nninit`'s output to copy), so every case sees the same load on a shared machine.
Prints each median wall time and the ratios the targets are stated in (README, "Performance").
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nninit", default="target/release/nninit")
    parser.add_argument("--dir", help="where the files go (default: a temporary directory)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = args.dir or tempfile.mkdtemp(prefix="nninit-main-job-")
    ours = os.path.join(work, "nninit-gpt2.safetensors")
    theirs = os.path.join(work, "torch-gpt2.safetensors")
    copy = os.path.join(work, "copy.safetensors")

    def fresh(path):
        if os.path.exists(path):
            os.remove(path)
        os.sync()

    def nninit():
        fresh(ours)
        start = time.perf_counter()
        subprocess.run([args.nninit, "init", "--model", "gpt2", "--out", ours], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    cases = {"nninit init --model gpt2": nninit}

    try:
        import torch
        from safetensors.torch import save_file
        from transformers import GPT2Config, GPT2LMHeadModel

        def pytorch():
            fresh(theirs)
            start = time.perf_counter()
            model = GPT2LMHeadModel(GPT2Config())
            state = model.state_dict()
            # save_file refuses tensors that share memory; nninit writes the tied head as its own
            # tensor, so PyTorch writes a copy of it too.
            state["lm_head.weight"] = state["lm_head.weight"].clone()
            save_file(state, theirs, metadata={"format": "pt"})
            return time.perf_counter() - start

        label = (f"PyTorch {torch.__version__} GPT2LMHeadModel(GPT2Config()) + save_file "
                 f"(torch threads {torch.get_num_threads()})")
        cases[label] = pytorch
    except ImportError as error:
        label = None
        print(f"PyTorch peer left out: {error}")

    def cp(then_sync):
        def run():
            fresh(copy)
            start = time.perf_counter()
            subprocess.run(["cp", ours, copy], check=True)
            if then_sync:
                subprocess.run(["sync", copy], check=True)
            return time.perf_counter() - start
        return run

    cases["cp (same size, same disk)"] = cp(False)
    cases["cp && sync"] = cp(True)
    for run in cases.values():
        run()
    times = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, run in cases.items():
            times[name].append(run())
    rows = {name: statistics.median(t) for name, t in times.items()}

    size = os.path.getsize(ours)
    print(f"{size / 1e6:.1f} MB, median of {args.runs} alternating runs, {work}")
    print("| run | median s | min–max s |\n|---|---:|---:|")
    for name, seconds in rows.items():
        print(f"| {name} | {seconds:.2f} | {min(times[name]):.2f}–{max(times[name]):.2f} |")
    t = rows["nninit init --model gpt2"]
    print("\n| ratio | value | target |\n|---|---:|---:|")
    if label:
        print(f"| nninit / PyTorch | {t / rows[label]:.2f} | ≤ 0.25 |")
    print(f"| nninit / cp | {t / rows['cp (same size, same disk)']:.2f} | ≤ 1.5 |")
    print(f"| nninit / (cp && sync) | {t / rows['cp && sync']:.2f} | ≤ 1.1 |")
    if not args.dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()

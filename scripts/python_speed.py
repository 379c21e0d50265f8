"""The Python package's speed, side by side in one run on this machine:

1. 16 M normal f32 values into a NumPy array: `nninit.fill` (into a preallocated array with
   `out=`, and into a fresh one), the Rust CPU reference (`nninit bench --quick`'s
   `cpu_all_normal_f32_16M`, the same kernel called from Rust), `torch.nn.init.normal_` and
   NumPy's `Generator.standard_normal(out=)`;
2. GPT-2 (124 M): `nninit.torch.init_module_(model, recipe="gpt2")` on the CPU against the time
   `GPT2LMHeadModel(GPT2Config())` spends initializing (its constructor's time minus the same
   constructor under transformers' `no_init_weights`); each nninit run fills a fresh model.

    python scripts/python_speed.py [--nninit target/release/nninit] [--repeat 7]

Each Python figure is the median of three rounds of --repeat runs (after a warm-up), taken
before, between and after two runs of `nninit bench`, whose medians give the Rust figure; torch
and NumPy use their default threads (torch: one per core).
"""

import argparse
import json
import statistics
import subprocess
import tempfile
import time

import nninit
import nninit.torch as nt
import numpy as np
import torch

N = 16 * 1024 * 1024


def median_seconds(work, repeat):
    work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rust_reference(binary):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [binary, "bench", "--quick", "--json", out.name],
            check=True,
            capture_output=True,
        )
        with open(out.name) as file:
            rows = json.load(file)["rows"]
    row = next(r for r in rows if r["name"] == "cpu_all_normal_f32_16M")
    return row["median_s"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nninit", default="target/release/nninit")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    r = args.repeat

    buffer = np.empty(N, dtype=np.float32)
    tensor = torch.empty(N)
    generator = np.random.default_rng(0)
    cases = [
        (
            "`nninit.fill(..., out=buffer)`",
            lambda: nninit.fill((N,), "normal", out=buffer, device="cpu"),
        ),
        (
            "`nninit.fill(...)`, a fresh array",
            lambda: nninit.fill((N,), "normal", device="cpu"),
        ),
        ("`torch.nn.init.normal_(tensor)`", lambda: torch.nn.init.normal_(tensor)),
        (
            "NumPy `standard_normal(out=buffer)`",
            lambda: generator.standard_normal(out=buffer, dtype=np.float32),
        ),
    ]
    # The machine drifts; the Rust reference (another process) and the Python cases alternate:
    # three rounds of the Python cases around two of `nninit bench`, medians of all rounds.
    python_times = {name: [] for name, _ in cases}
    rust_times = []
    for round_ in range(3):
        for name, work in cases:
            python_times[name].append(median_seconds(work, r))
        if round_ < 2:
            rust_times.append(rust_reference(args.nninit))
    rows = [("Rust CPU reference (`nninit bench`)", statistics.median(rust_times))]
    rows += [(name, statistics.median(times)) for name, times in python_times.items()]
    reference = rows[0][1]
    print(
        f"16 M normal f32 values (torch {torch.__version__}, {torch.get_num_threads()} threads; NumPy {np.__version__})"
    )
    print("| what | median | M values/s | × the Rust reference |")
    print("|---|---|---|---|")
    for name, seconds in rows:
        print(
            f"| {name} | {seconds * 1e3:.1f} ms | {N / seconds / 1e6:.0f} | {seconds / reference:.2f}× |"
        )

    import transformers
    from transformers.initialization import no_init_weights

    config = transformers.GPT2Config()
    construct = median_seconds(
        lambda: transformers.GPT2LMHeadModel(config), max(3, r // 2)
    )

    def allocate_only():
        with no_init_weights():
            return transformers.GPT2LMHeadModel(config)

    allocate = median_seconds(allocate_only, max(3, r // 2))
    # Each run fills a fresh model, as the constructor fills fresh memory (first touch included).
    times = []
    for _ in range(r + 1):
        model = allocate_only()
        start = time.perf_counter()
        nt.init_module_(model, recipe="gpt2", device="cpu")
        times.append(time.perf_counter() - start)
        del model
    ours = statistics.median(times[1:])
    hf_init = construct - allocate
    print()
    print(f"GPT-2 124M (transformers {transformers.__version__})")
    print("| what | median |")
    print("|---|---|")
    print(f"| `GPT2LMHeadModel(GPT2Config())` | {construct:.3f} s |")
    print(f"| the same under `no_init_weights` (allocation only) | {allocate:.3f} s |")
    print(f"| transformers' initialization (the difference) | {hf_init:.3f} s |")
    print(f'| `nninit.torch.init_module_(model, recipe="gpt2")` | {ours:.3f} s |')
    print(f"| **nninit / transformers' initialization** | **{ours / hf_init:.2f}×** |")


if __name__ == "__main__":
    main()

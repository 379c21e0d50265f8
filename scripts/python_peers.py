#!/usr/bin/env python3
"""The Python peers of `nninit bench`, timed side by side in one run: NumPy's
`default_rng().standard_normal(n, dtype=np.float32)` and PyTorch's `torch.empty(n).normal_()`
(with torch's thread count stated, at 1 thread and at all threads), as their users write them.
Each into a preallocated output as well, since nninit's rows write into preallocated memory.

    python3 scripts/python_peers.py [--elements N] [--json FILE]

Prints one row per peer: elements per second (median of 5 runs after one untimed run). Imports
are not timed. Compare with `nninit bench` run in the same minute (README, "Performance").
"""

import argparse
import json
import os
import statistics
import time


def median_rate(n, run, runs=5):
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elements", type=int, default=1 << 24)
    parser.add_argument("--json", help="also write the rows as JSON")
    args = parser.parse_args()
    n = args.elements
    rows = []

    try:
        import numpy as np

        rng = np.random.default_rng(0)
        out = np.empty(n, dtype=np.float32)
        rows.append(("numpy_standard_normal_f32", f"numpy {np.__version__}, 1 thread",
                     median_rate(n, lambda: rng.standard_normal(n, dtype=np.float32))))
        rows.append(("numpy_standard_normal_f32_out", f"numpy {np.__version__}, 1 thread",
                     median_rate(n, lambda: rng.standard_normal(dtype=np.float32, out=out))))
        rows.append(("numpy_random_f32_out", f"numpy {np.__version__}, 1 thread",
                     median_rate(n, lambda: rng.random(dtype=np.float32, out=out))))
    except ImportError:
        print("numpy not installed: its rows are left out")

    try:
        import torch

        torch.manual_seed(0)
        all_threads = os.cpu_count()
        for threads in sorted({1, all_threads}):
            torch.set_num_threads(threads)
            label = f"torch {torch.__version__}, torch.get_num_threads() = {torch.get_num_threads()}"
            rows.append((f"torch_normal_f32_{threads}t", label,
                         median_rate(n, lambda: torch.empty(n).normal_())))
            t = torch.empty(n)
            rows.append((f"torch_normal_f32_out_{threads}t", label,
                         median_rate(n, lambda: t.normal_())))
            rows.append((f"torch_uniform_f32_out_{threads}t", label,
                         median_rate(n, lambda: t.uniform_())))
    except ImportError:
        print("torch not installed: its rows are left out")

    print(f"{n} elements, median of 5 runs")
    print("| peer | as run | M elem/s |\n|---|---|---:|")
    for name, label, rate in rows:
        print(f"| {name} | {label} | {rate / 1e6:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"name": a, "as_run": b, "elements_per_s": c} for a, b, c in rows], f,
                      indent=1)


if __name__ == "__main__":
    main()

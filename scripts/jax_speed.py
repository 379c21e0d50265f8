"""nninit.jax.array against jax.random.normal, side by side in one run: an (8192, 8192) array
sharded P('x', 'y') over 8 CPU devices (a 4×2 mesh), f32 and bf16, each timed to
``block_until_ready``; jax's as its users write it, ``jax.jit`` with ``out_shardings`` (compiled
before timing, partitionable threefry, jax's default), and once more standalone in a fresh
process to check the side-by-side figure does not handicap it.

    python scripts/jax_speed.py [--repeat 7]          # prints a markdown table
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("JAX_NUM_CPU_DEVICES", "8")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

SHAPE = (8192, 8192)


def jax_normal(dtype):
    """jax.random.normal of SHAPE born sharded, compiled: a function of the key."""
    mesh = jax.make_mesh((4, 2), ("x", "y"))
    sharding = NamedSharding(mesh, P("x", "y"))
    made = jax.jit(lambda key: jax.random.normal(key, SHAPE, dtype), out_shardings=sharding)
    made(jax.random.key(0)).block_until_ready()
    return lambda: made(jax.random.key(1)).block_until_ready()


def nninit_normal(dtype):
    import nninit.jax as nj

    mesh = jax.make_mesh((4, 2), ("x", "y"))
    sharding = NamedSharding(mesh, P("x", "y"))
    name = {jnp.float32: "float32", jnp.bfloat16: "bfloat16"}[dtype]
    return lambda: nj.array(SHAPE, "normal(std=1)", sharding=sharding, seed=1, dtype=name,
                            name="w").block_until_ready()


def seconds(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--standalone", choices=["float32", "bfloat16"])
    args = parser.parse_args()
    dtypes = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
    if args.standalone:
        run = jax_normal(dtypes[args.standalone])
        print(statistics.median(seconds(run) for _ in range(args.repeat)))
        return
    print(f"{SHAPE} normal over 8 CPU devices (4×2 mesh, P('x','y')), jax {jax.__version__}, "
          f"{os.cpu_count()} CPUs; median of {args.repeat}, alternating\n")
    print("| dtype | jax.random.normal (jit) | standalone | nninit.jax.array | nninit / jax |")
    print("|---|---|---|---|---|")
    for name, dtype in dtypes.items():
        theirs, ours = jax_normal(dtype), nninit_normal(dtype)
        ours()  # first touch of the allocator's pages, as jax's warm-up had
        times = {"jax": [], "nninit": []}
        for _ in range(args.repeat):
            times["jax"].append(seconds(theirs))
            times["nninit"].append(seconds(ours))
        standalone = float(subprocess.run(
            [sys.executable, __file__, "--standalone", name, "--repeat", str(args.repeat)],
            capture_output=True, text=True, check=True).stdout.split()[-1])
        jax_s, ours_s = (statistics.median(times[k]) for k in ("jax", "nninit"))
        print(f"| {name} | {jax_s * 1e3:.0f} ms | {standalone * 1e3:.0f} ms | "
              f"{ours_s * 1e3:.0f} ms | {ours_s / jax_s:.2f}× |")


if __name__ == "__main__":
    main()

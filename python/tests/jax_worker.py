"""Run as two processes by test_jax.py: JAX on 4 CPU devices each, joined by
``jax.distributed.initialize`` over loopback; ``nninit.jax.array`` on the 8 devices of both.
Each process prints the boxes it drew and whether the gathered array equals ``nninit.fill``."""

import sys

import jax

jax.config.update("jax_num_cpu_devices", 4)
jax.config.update("jax_cpu_collectives_implementation", "gloo")
process, port = int(sys.argv[1]), sys.argv[2]
jax.distributed.initialize(
    coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=process
)

import numpy as np  # noqa: E402
from jax.experimental import multihost_utils  # noqa: E402
from jax.sharding import Mesh, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import nninit  # noqa: E402
import nninit.jax as nj  # noqa: E402

drawn = []
fill_into = nj._fill_into


def counting(view, shape, spec, **kwargs):
    drawn.append(tuple(kwargs["offsets"]))
    return fill_into(view, shape, spec, **kwargs)


nj._fill_into = counting
shape, spec = (16, 8), "normal(std=0.5)"
mesh = Mesh(np.array(jax.devices()).reshape(4, 2), ("x", "y"))
ok = True
for partition in (P("x", "y"), P(None, "y"), P(("x", "y"), None)):
    for dtype in ("float32", "bfloat16"):
        drawn.clear()
        arr = nj.array(shape, spec, sharding=NamedSharding(mesh, partition), seed=5, name="w",
                       dtype=dtype)
        whole = np.asarray(multihost_utils.process_allgather(arr, tiled=True))
        want = nninit.fill(shape, spec, seed=5, name="w", dtype=dtype, layout="jax")
        mine = {tuple(s.start or 0 for s in shard.index) for shard in arr.addressable_shards}
        ok &= whole.tobytes() == want.tobytes() and set(drawn) == mine
        ok &= len(drawn) == len(set(drawn))
        print(f"process {process} {partition} {dtype}: drew {sorted(drawn)}", flush=True)
print(f"process {process}: {'all equal' if ok else 'DIFFERS'}", flush=True)
jax.distributed.shutdown()

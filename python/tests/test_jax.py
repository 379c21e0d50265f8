"""nninit.jax on 8 CPU devices (conftest sets JAX_NUM_CPU_DEVICES): every addressable shard of
``array`` is its box of ``nninit.fill(..., layout="jax")`` byte for byte on meshes 8×1, 4×2 and
2×4 under fully, partially and not sharded specs, in f32/f16/bf16; each distinct box is drawn
once; two processes under ``jax.distributed`` each draw only their own boxes; ``materialize``
names leaves by their paths; traced calls and bad input raise naming what is wrong."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nninit

import jax  # noqa: E402  (after nninit: importing nninit must not need jax)
import jax.numpy as jnp  # noqa: E402
from jax.sharding import Mesh, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import nninit.jax as nj  # noqa: E402

SPEC = "variance_scaling(scale=1, mode=fan_in, distribution=truncated_normal)"
SPECS = [P("x", "y"), P("y", "x"), P(None, "y"), P("x", None), P(("x", "y"), None), P()]


def mesh(rows, columns):
    return Mesh(np.array(jax.devices()).reshape(rows, columns), ("x", "y"))


@pytest.mark.parametrize("shape_of_mesh", [(8, 1), (4, 2), (2, 4)])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_every_shard_is_its_box_of_fill(shape_of_mesh, dtype):
    assert jax.device_count() == 8
    shape = (16, 24)
    want = nninit.fill(shape, SPEC, seed=7, name="w", dtype=dtype, layout="jax")
    for partition in SPECS:
        arr = nj.array(
            shape, SPEC, sharding=NamedSharding(mesh(*shape_of_mesh), partition), seed=7,
            name="w", dtype=dtype,
        )
        assert arr.dtype == want.dtype
        for shard in arr.addressable_shards:
            assert np.asarray(shard.data).tobytes() == want[shard.index].tobytes(), partition
        assert np.asarray(arr).tobytes() == want.tobytes(), partition


def test_each_distinct_box_is_drawn_once(monkeypatch):
    drawn = []
    fill_into = nj._fill_into

    def counting(view, shape, spec, **kwargs):
        drawn.append(tuple(kwargs["offsets"]))
        return fill_into(view, shape, spec, **kwargs)

    monkeypatch.setattr(nj, "_fill_into", counting)
    # P(None, "y") on 4×2: 8 devices, 2 distinct boxes.
    nj.array((16, 8), "normal(std=1)", sharding=NamedSharding(mesh(4, 2), P(None, "y")),
             seed=0, dtype="float32")
    assert sorted(drawn) == [(0, 0), (0, 4)]


def test_two_processes_each_draw_only_their_own_boxes():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    worker = Path(__file__).with_name("jax_worker.py")
    env = {k: v for k, v in os.environ.items() if k != "JAX_NUM_CPU_DEVICES"}
    runs = [
        subprocess.Popen([sys.executable, str(worker), str(p), port], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=env)
        for p in (0, 1)
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for process, (run, out) in enumerate(zip(runs, outputs)):
        assert run.returncode == 0, out
        assert f"process {process}: all equal" in out, out
    # Process 0 holds rows 0–7 of P("x", "y"), process 1 rows 8–15: neither drew the other's.
    assert "P('x', 'y') float32: drew [(0, 0), (0, 4), (4, 0), (4, 4)]" in outputs[0]
    assert "P('x', 'y') float32: drew [(8, 0), (8, 4), (12, 0), (12, 4)]" in outputs[1]


def test_materialize_draws_each_leaf_from_the_stream_of_its_path():
    sharded = NamedSharding(mesh(4, 2), P("x", "y"))
    tree = {
        "params": {
            "Dense_0": {
                "kernel": jax.ShapeDtypeStruct((8, 4), jnp.float32, sharding=sharded),
                "bias": jax.ShapeDtypeStruct((4,), jnp.bfloat16),
            },
            "layers": [jax.ShapeDtypeStruct((4, 4), jnp.float32)],
        }
    }
    rules = [("kernel$", "normal(std=0.02)"), ("bias$", "zeros"), ("layers", "ones")]
    out = nj.materialize(tree, rules, seed=3)
    kernel = out["params"]["Dense_0"]["kernel"]
    assert kernel.sharding == sharded
    want = nninit.fill((8, 4), "normal(std=0.02)", seed=3, name="params/Dense_0/kernel",
                       layout="jax")
    assert np.asarray(kernel).tobytes() == want.tobytes()
    assert out["params"]["Dense_0"]["bias"].dtype == jnp.bfloat16
    assert np.all(np.asarray(out["params"]["layers"][0]) == 1)
    # A callable rule sees each leaf's name.
    seen = []
    nj.materialize(tree, lambda name, leaf: seen.append(name) or "zeros", seed=3)
    assert sorted(seen) == ["params/Dense_0/bias", "params/Dense_0/kernel", "params/layers/0"]


def test_a_traced_call_refuses_and_says_what_to_do_instead():
    sharding = NamedSharding(mesh(4, 2), P())
    make = lambda: nj.array((4,), "normal(std=1)", sharding=sharding, seed=0, dtype="float32")  # noqa: E731
    with pytest.raises(TypeError, match="under a JAX trace.*outside"):
        jax.jit(make)()
    with pytest.raises(TypeError, match="under a JAX trace"):
        jax.vmap(lambda x: make() + x)(jnp.ones(3))
    tree = {"w": jax.ShapeDtypeStruct((4,), jnp.float32)}
    with pytest.raises(TypeError, match="materialize was called under a JAX trace"):
        jax.jit(lambda: nj.materialize(tree, [("w", "zeros")], seed=0))()


def test_bad_input_names_what_is_wrong():
    sharding = NamedSharding(mesh(4, 2), P("x", "y"))
    with pytest.raises(ValueError, match="gaussian"):
        nj.array((16, 8), "gaussian(std=1)", sharding=sharding, seed=0, dtype="float32")
    with pytest.raises(TypeError, match="int32"):
        nj.array((16, 8), "normal(std=1)", sharding=sharding, seed=0, dtype=jnp.int32)
    with pytest.raises(TypeError, match="dtype is required"):
        nj.array((16, 8), "normal(std=1)", sharding=sharding, seed=0, dtype=None)
    with pytest.raises(ValueError, match=r"shape \[15, 8\]"):
        nj.array((15, 8), "normal(std=1)", sharding=sharding, seed=0, dtype="float32")
    tree = {"w": jax.ShapeDtypeStruct((4,), jnp.float32)}
    with pytest.raises(ValueError, match="'bias' gives no leaf"):
        nj.materialize(tree, [("w", "zeros"), ("bias", "zeros")], seed=0)
    with pytest.raises(ValueError, match="w: no rule"):
        nj.materialize(tree, lambda name, leaf: None, seed=0)


def test_importing_nninit_or_nninit_torch_does_not_import_jax():
    code = "import sys, nninit, nninit.torch; assert 'jax' not in sys.modules, 'jax imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_package_ships_its_types():
    import importlib.resources

    package = importlib.resources.files("nninit")
    assert package.joinpath("py.typed").is_file()
    assert package.joinpath("_nninit.pyi").is_file()

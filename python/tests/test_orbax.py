"""nninit.orbax.save on 8 CPU devices: a checkpoint of MaxText-like names written from a 4×2
mesh, restored by orbax.checkpoint onto a 2×4 mesh under other specs, holds nninit.fill's
values for each path."""

import re

import numpy as np

import nninit

import jax  # noqa: E402  (conftest set 8 CPU devices first)
import jax.numpy as jnp  # noqa: E402
import orbax.checkpoint as ocp  # noqa: E402
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import nninit.orbax as no  # noqa: E402


def tree(mesh, specs):
    leaf = lambda shape, spec, dtype: jax.ShapeDtypeStruct(  # noqa: E731
        shape, dtype, sharding=NamedSharding(mesh, spec))
    return {
        "decoder": {
            "mlp": {"wi": leaf((16, 64), specs[0], jnp.bfloat16),
                    "wo": leaf((64, 16), specs[1], jnp.bfloat16)},
            "norm": {"scale": leaf((16,), P(), jnp.float32)},
        },
        "token_embedder": {"embedding": leaf((128, 16), specs[2], jnp.float32)},
    }


RULES = [("scale$", "ones"), ("embedding$", "normal(std=1)"),
         ("mlp", "variance_scaling(scale=1, mode=fan_in, distribution=truncated_normal)")]


def test_a_checkpoint_restores_onto_another_mesh_with_the_same_values(tmp_path):
    saving = jax.make_mesh((4, 2), ("data", "model"))
    path = tmp_path / "ckpt"
    no.save(path, tree(saving, [P(None, "model"), P("model", None), P("data", None)]), RULES,
            seed=3)
    other = jax.make_mesh((2, 4), ("data", "model"))
    target = tree(other, [P("data", None), P(None, "data"), P(None, "model")])
    restored = ocp.StandardCheckpointer().restore(path, target)
    flat, _ = jax.tree_util.tree_flatten_with_path(restored)
    assert len(flat) == 4
    for path_keys, array in flat:
        name = nninit.jax.path_name(path_keys)
        spec = next(s for pattern, s in RULES if re.search(pattern, name))
        want = nninit.fill(array.shape, spec, seed=3, name=name, layout="jax",
                           dtype=np.dtype(array.dtype).name)
        assert np.asarray(array).tobytes() == want.tobytes(), name
    assert restored["decoder"]["mlp"]["wi"].sharding.spec == P("data", None)

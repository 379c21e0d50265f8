"""nninit.flax on 8 CPU devices: an NNX model built abstractly with nninit initializers and
sharding annotations, materialized on meshes 8×1, 4×2 and 2×4, has the same parameters on each,
each equal to ``nninit.fill`` of its path (f32 and bf16), and runs; a Linen model's
``nn.Partitioned`` boxes likewise; an eager initializer fills by its name."""

import numpy as np
import pytest

import nninit

import jax  # noqa: E402  (conftest set 8 CPU devices first)
import jax.numpy as jnp  # noqa: E402
from flax import nnx  # noqa: E402
from jax.sharding import AxisType  # noqa: E402

import nninit.flax as nf  # noqa: E402
from nninit.jax import path_name  # noqa: E402

AUTO = (AxisType.Auto, AxisType.Auto)
SPECS = {
    "fc1/kernel": "normal(std=0.25)",
    "fc1/bias": "zeros",
    "fc2/kernel": "variance_scaling(scale=1, mode=fan_in, distribution=truncated_normal)",
    "fc2/bias": "zeros",
    "norm/scale": "ones",
    "norm/bias": "zeros",
}


class MLP(nnx.Module):
    def __init__(self, rngs, dtype):
        self.fc1 = nnx.Linear(16, 64, rngs=rngs, param_dtype=dtype,
                              kernel_init=nf.init(SPECS["fc1/kernel"], sharding=(None, "model")),
                              bias_init=nf.init("zeros", sharding=("model",)))
        self.norm = nnx.LayerNorm(64, rngs=rngs, param_dtype=dtype)
        self.fc2 = nnx.Linear(64, 32, rngs=rngs, param_dtype=dtype,
                              kernel_init=nf.init(SPECS["fc2/kernel"], sharding=("model", "data")))

    def __call__(self, x):
        return self.fc2(jax.nn.gelu(self.norm(self.fc1(x))))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_an_nnx_model_has_the_same_parameters_on_every_mesh(dtype):
    seen = {}
    for shape in [(8, 1), (4, 2), (2, 4)]:
        mesh = jax.make_mesh(shape, ("data", "model"), axis_types=AUTO)
        graphdef, abstract = nnx.get_abstract_model(lambda: MLP(nnx.Rngs(0), dtype), mesh)
        # norm/* and fc2/bias carry no nninit metadata: the rules give theirs.
        state = nf.materialize(abstract, seed=4, rules=[("scale", "ones"), ("bias", "zeros")])
        model = nnx.merge(graphdef, state)
        assert model.fc1.kernel.get_value().sharding.spec == jax.sharding.PartitionSpec(None, "model")
        values = {path_name(p): np.asarray(v.get_value()) for p, v in nnx.to_flat_state(nnx.state(model))}
        assert sorted(values) == sorted(SPECS)
        for name, value in values.items():
            want = nninit.fill(value.shape, SPECS[name], seed=4, name=name, layout="jax",
                               dtype=np.dtype(dtype).name)
            assert value.tobytes() == want.tobytes(), (shape, name)
        seen[shape] = values
        with jax.set_mesh(mesh):
            y = jax.jit(lambda m, x: m(x))(model, jnp.ones((8, 16), dtype))
        assert y.shape == (8, 32) and bool(jnp.isfinite(y).all())
    first = seen[(8, 1)]
    assert all(first[n].tobytes() == v[n].tobytes() for v in seen.values() for n in first)


def test_a_linen_models_partitioned_boxes_are_filled_by_path():
    from flax import linen as nn

    class Model(nn.Module):
        @nn.compact
        def __call__(self, x):
            kernel = nn.with_partitioning(nn.initializers.lecun_normal(), (None, "model"))
            bias = nn.with_partitioning(nn.initializers.zeros_init(), ("model",))
            x = nn.Dense(64, kernel_init=kernel, bias_init=bias)(x)
            return nn.Dense(32)(x)

    mesh = jax.make_mesh((4, 2), ("data", "model"), axis_types=AUTO)
    abstract = jax.eval_shape(Model().init, jax.random.key(0), jnp.ones((8, 16)))
    variables = nf.materialize_linen(
        abstract, mesh, [("kernel", "normal(std=0.1)"), ("bias", "zeros")], seed=2
    )
    kernel = nn.unbox(variables)["params"]["Dense_0"]["kernel"]
    assert kernel.sharding.spec == jax.sharding.PartitionSpec(None, "model")
    want = nninit.fill((16, 64), "normal(std=0.1)", seed=2, name="params/Dense_0/kernel",
                       layout="jax")
    assert np.asarray(kernel).tobytes() == want.tobytes()
    with jax.set_mesh(mesh):
        assert jax.jit(Model().apply)(variables, jnp.ones((8, 16))).shape == (8, 32)


def test_an_eager_initializer_fills_by_its_name():
    linear = nnx.Linear(4, 3, rngs=nnx.Rngs(0), kernel_init=nf.init("normal(std=1)", name="k"))
    want = nninit.fill((4, 3), "normal(std=1)", name="k", layout="jax")
    assert np.asarray(linear.kernel.get_value()).tobytes() == want.tobytes()
    with pytest.raises(ValueError, match="no nninit metadata and no rules"):
        mesh = jax.make_mesh((8, 1), ("data", "model"), axis_types=AUTO)
        _, abstract = nnx.get_abstract_model(lambda: MLP(nnx.Rngs(0), jnp.float32), mesh)
        nf.materialize(abstract, seed=0)


def test_the_eval_shape_route_gives_the_same_parameters():
    # nnx.eval_shape, shardings from nnx.get_named_sharding, materialize, nnx.update: as
    # get_abstract_model and merge.
    mesh = jax.make_mesh((4, 2), ("data", "model"), axis_types=AUTO)
    rules = [("scale", "ones"), ("bias", "zeros")]
    graphdef, abstract = nnx.get_abstract_model(lambda: MLP(nnx.Rngs(0), jnp.float32), mesh)
    merged = nnx.merge(graphdef, nf.materialize(abstract, seed=4, rules=rules))
    with jax.set_mesh(mesh):
        model = nnx.eval_shape(lambda: MLP(nnx.Rngs(0), jnp.float32))
    state = nnx.state(model)
    shardings = nnx.get_named_sharding(state, mesh)
    state = jax.tree.map(
        lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), state, shardings
    )
    nnx.update(model, nf.materialize(state, seed=4, rules=rules))
    for (path, ours), (_, theirs) in zip(nnx.to_flat_state(nnx.state(model)),
                                         nnx.to_flat_state(nnx.state(merged))):
        assert np.asarray(ours.get_value()).tobytes() == np.asarray(theirs.get_value()).tobytes(), path

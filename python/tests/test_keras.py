"""nninit.keras on 8 CPU devices: a model under Keras 3.15's ModelParallel with a LayoutMap,
its weights made by nninit's Initializer through the layout (each device's shard only) and
re-filled by materialize, equal to nninit.fill of each name/path; the initializer serializes."""

import numpy as np
import pytest

import nninit

import jax  # noqa: E402  (conftest set 8 CPU devices and the JAX backend first)
import keras  # noqa: E402

import nninit.keras as nk  # noqa: E402


def model_under_a_layout():
    mesh = keras.distribution.DeviceMesh((4, 2), ("batch", "model"),
                                         keras.distribution.list_devices())
    layouts = keras.distribution.LayoutMap(mesh)
    layouts[".*fc1.*kernel"] = (None, "model")
    layouts[".*fc1.*bias"] = ("model",)
    layouts[".*fc2.*kernel"] = ("model", None)
    distribution = keras.distribution.ModelParallel(layout_map=layouts, batch_dim_name="batch")
    with distribution.scope():
        return keras.Sequential([
            keras.Input((16,)),
            keras.layers.Dense(64, name="fc1", kernel_initializer=nk.Initializer(
                "normal(std=0.25)", name="fc1/kernel"),
                bias_initializer=nk.Initializer("uniform(a=-0.1, b=0.1)", name="fc1/bias")),
            keras.layers.Dense(32, name="fc2", kernel_initializer=nk.Initializer(
                "variance_scaling(scale=1, mode=fan_in, distribution=normal)", name="fc2/kernel")),
        ])


def test_initializers_fill_each_shard_through_the_layout_and_materialize_by_path(monkeypatch):
    drawn = []
    fill_into = nninit.jax._fill_into

    def counting(view, shape, spec, **kwargs):
        drawn.append((tuple(shape), tuple(kwargs["local_shape"])))
        return fill_into(view, shape, spec, **kwargs)

    monkeypatch.setattr(nninit.jax, "_fill_into", counting)
    model = model_under_a_layout()
    kernel = model.get_layer("fc1").kernel
    assert kernel.value.sharding.spec == jax.sharding.PartitionSpec(None, "model")
    # The layout-aware call drew fc1's kernel as its 2 distinct (16, 32) column blocks.
    assert drawn.count(((16, 64), (16, 32))) == 2
    for layer, part, spec in [("fc1", "kernel", "normal(std=0.25)"),
                              ("fc1", "bias", "uniform(a=-0.1, b=0.1)"),
                              ("fc2", "kernel", "variance_scaling(scale=1, mode=fan_in, distribution=normal)")]:
        value = np.asarray(getattr(model.get_layer(layer), part).value)
        want = nninit.fill(value.shape, spec, name=f"{layer}/{part}", layout="jax")
        assert value.tobytes() == want.tobytes(), (layer, part)
    assert model(np.ones((8, 16), np.float32)).shape == (8, 32)
    nk.materialize(model, [("kernel", "normal(std=0.02)"), ("bias", "zeros")], seed=3)
    for variable in model.weights:
        spec = "zeros" if variable.path.endswith("bias") else "normal(std=0.02)"
        want = nninit.fill(tuple(variable.shape), spec, seed=3, name=variable.path, layout="jax")
        assert np.asarray(variable.value).tobytes() == want.tobytes(), variable.path
    assert kernel.value.sharding.spec == jax.sharding.PartitionSpec(None, "model")


def test_the_initializer_serializes_and_needs_a_name():
    initializer = nk.Initializer("normal(std=0.5)", name="w", seed=9)
    again = keras.initializers.deserialize(keras.initializers.serialize(initializer))
    assert isinstance(again, nk.Initializer)
    assert again.get_config() == {"spec": "normal(std=0.5)", "name": "w", "seed": 9}
    assert np.asarray(again((3, 4))).tobytes() == nninit.fill(
        (3, 4), "normal(std=0.5)", seed=9, name="w", layout="jax").tobytes()
    with pytest.raises(ValueError, match="name is required"):
        nk.Initializer("normal(std=0.5)")
    with pytest.raises(TypeError, match="int32"):
        initializer((3, 4), dtype="int32")

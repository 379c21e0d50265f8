"""nninit.keras: Keras 3 initializers and weights with nninit's values (JAX backend).

- ``Initializer(spec, name=...)``: a ``keras.initializers.Initializer``, serializable. Given a
  Keras 3.15 ``layout`` (a model under a ``keras.distribution`` such as ``ModelParallel``), it
  builds the sharded array itself, each device's shard only, through ``nninit.jax.array``;
  without one, it fills the whole array. Keras does not tell an initializer which variable it
  fills, so ``name`` (its stream) is required.
- ``materialize(model, rules, *, seed)``: every weight of a built model re-filled from the
  stream of its path (``sequential/fc1/kernel``) on the sharding it has, the spec from
  ``rules`` (a callable ``(path, variable)`` or ``(regex, spec)`` pairs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from . import fill
from .jax import Rules, _dtype_name, _specs, array

__all__ = ["Initializer", "materialize"]


@keras.saving.register_keras_serializable(package="nninit")
class Initializer(keras.initializers.Initializer):
    """Initializes a Keras variable as the spec ``spec`` says, from the stream of ``name``, with
    ``seed``: the values of ``nninit.fill(shape, spec, seed=seed, name=name, layout="jax")``."""

    def __init__(self, spec: str, name: str | None = None, seed: int = 0) -> None:
        if not isinstance(spec, str):
            raise TypeError(f"spec must be a spec string, not {type(spec).__name__}")
        if not isinstance(name, str):
            raise ValueError(
                "name is required: a Keras initializer is not told which variable it fills, and "
                "the name picks the stream (or leave the initializers as they are and call "
                "nninit.keras.materialize on the built model)"
            )
        self.spec, self.name, self.seed = spec, name, int(seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None, layout: Any = None) -> Any:
        shape = tuple(int(d) for d in shape)
        dtype = _dtype_name(keras.backend.standardize_dtype(dtype or "float32"))
        if layout is None:
            return fill(shape, self.spec, seed=self.seed, name=self.name, dtype=dtype, layout="jax")
        import jax

        if isinstance(layout, keras.distribution.TensorLayout):
            layout = layout.backend_layout
        # Keras passes NamedSharding(abstract mesh, spec) inside jax.set_mesh(concrete mesh).
        sharding = jax.sharding.NamedSharding(jax.sharding.get_mesh(), layout.spec)
        return array(shape, self.spec, sharding=sharding, seed=self.seed, dtype=dtype, name=self.name)

    def get_config(self) -> dict[str, Any]:
        return {"spec": self.spec, "name": self.name, "seed": self.seed}


def materialize(model: keras.Model, rules: Rules, *, seed: int) -> keras.Model:
    """Re-fills every weight of the built Keras ``model`` in place on its own sharding, each from
    the stream of its ``path`` with the spec ``rules`` gives it (checked for every weight before
    any is filled), and returns the model."""
    weights = list(model.weights)
    paths = [v.path for v in weights]
    specs = _specs(paths, weights, rules)
    for variable, path, spec in zip(weights, paths, specs):
        dtype = _dtype_name(np.dtype(variable.dtype))
        variable.assign(
            array(tuple(variable.shape), spec, sharding=variable.value.sharding, seed=seed,
                  dtype=dtype, name=path)
        )
    return model

"""nninit.flax: a Flax model's parameters with nninit's values, each filled on the devices that
hold it.

NNX: build the model abstractly (``nnx.get_abstract_model`` or ``nnx.eval_shape``), then
``materialize`` the abstract state and ``nnx.merge`` it::

    kernel_init=nninit.flax.init("variance_scaling(scale=1, mode=fan_in, distribution=normal)",
                                 sharding=(None, "model"))
    graphdef, abstract = nnx.get_abstract_model(lambda: Model(rngs=nnx.Rngs(0)), mesh)
    model = nnx.merge(graphdef, nninit.flax.materialize(abstract, seed=0, rules=...))

Linen: ``materialize_linen(jax.eval_shape(model.init, key, x), mesh, rules, seed=...)`` fills
the ``nn.Partitioned`` boxes. Each parameter is named by its path joined by ``/``
(``fc1/kernel``, ``params/Dense_0/kernel``), and that name picks its stream: any mesh gives the
same parameters, those of ``nninit.fill(..., name=path, layout="jax")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _seed, fill
from .jax import Rules, _one_device, _refuse_under_trace, _specs, array, path_name

if TYPE_CHECKING:
    import jax

__all__ = ["init", "materialize", "materialize_linen"]


def _nnx():
    from flax import nnx

    return nnx


def init(
    spec: str, *, sharding: Sequence[str | None] | None = None, name: str | None = None
) -> Callable[..., Any]:
    """An NNX initializer ``(key, shape, dtype)`` for ``spec``, which it carries as the
    Variable's ``nninit`` metadata (with ``sharding``, through ``nnx.with_partitioning``), so
    that :func:`materialize` finds it on the abstract state.

    Called on concrete values (a model built eagerly) it fills the whole array on the host from
    the stream of ``name`` (else of the key's data). Under a trace (``eval_shape``,
    ``get_abstract_model``) it returns NaNs of the shape, a placeholder ``materialize``
    replaces; under ``nnx.jit`` those NaNs would be the model: materialize instead."""
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a spec string, not {type(spec).__name__}")
    import jax
    import jax.numpy as jnp

    def initializer(key, shape, dtype=jnp.float32, out_sharding=None):
        from jax._src import core

        if not isinstance(core.trace_ctx.trace, core.EvalTrace):
            return jnp.full(shape, jnp.nan, dtype)
        stream = None
        if name is None:
            data = np.asarray(jax.random.key_data(key)).astype(np.uint64).reshape(-1)
            stream = int(data[0] << np.uint64(32) | data[-1])
        values = fill(
            shape,
            spec,
            seed=0,
            name=name,
            stream=stream,
            dtype=np.dtype(dtype).name,
            layout="jax",
        )
        return jnp.asarray(values, dtype)

    nnx = _nnx()
    if sharding is not None:
        return nnx.with_partitioning(initializer, sharding, nninit=spec)
    return nnx.with_metadata(initializer, nninit=spec)


def materialize(abstract_state: Any, *, seed: int, rules: Rules | None = None) -> Any:
    """The NNX state ``abstract_state`` (its Variables holding ``jax.ShapeDtypeStruct``s with
    their shardings, as ``nnx.get_abstract_model`` gives it) with every Variable's value a
    sharded ``jax.Array`` drawn from the stream of its path (on one device where a leaf has no
    sharding). A Variable's spec is its ``nninit``
    metadata (:func:`init`), else what ``rules`` gives its name (a callable ``(name, leaf)`` or
    ``(regex, spec)`` pairs, as :func:`nninit.jax.materialize`). Everything is checked before
    anything is drawn."""
    nnx = _nnx()
    _refuse_under_trace("flax.materialize")
    seed = _seed(seed)
    flat = list(nnx.to_flat_state(abstract_state))
    names = [path_name(path) for path, _ in flat]
    leaves = [variable.get_value() for _, variable in flat]
    own = [variable.get_metadata().get("nninit") for _, variable in flat]
    missing = [i for i, spec in enumerate(own) if spec is None]
    specs = list(own)
    if missing:
        if rules is None:
            raise ValueError(f"{names[missing[0]]}: no nninit metadata and no rules")
        found = _specs([names[i] for i in missing], [leaves[i] for i in missing], rules)
        for i, spec in zip(missing, found):
            specs[i] = spec
    values = {
        name: array(
            leaf.shape,
            spec,
            sharding=getattr(leaf, "sharding", None) or _one_device(),
            seed=seed,
            dtype=leaf.dtype,
            name=name,
        )
        for name, leaf, spec in zip(names, leaves, specs)
    }

    def replace(path, variable):
        return variable.replace(values[path_name(path)])

    return nnx.map_state(replace, abstract_state)


def materialize_linen(
    abstract_variables: Any, mesh: jax.sharding.Mesh, rules: Rules, *, seed: int
) -> Any:
    """Linen's abstract variables (``jax.eval_shape(model.init, key, x)``) filled: each
    ``nn.Partitioned`` box (or bare ``ShapeDtypeStruct``, replicated) gets a ``jax.Array``
    sharded on ``mesh`` by the box's names, drawn from the stream of its path
    (``params/Dense_0/kernel``) with the spec ``rules`` gives it."""
    import jax
    from flax import linen as nn
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    _refuse_under_trace("flax.materialize_linen")
    is_box = lambda x: isinstance(x, nn.Partitioned)  # noqa: E731
    flat, treedef = jax.tree_util.tree_flatten_with_path(abstract_variables, is_leaf=is_box)
    names = [path_name(path) for path, _ in flat]
    leaves = [box.value if is_box(box) else box for _, box in flat]
    specs = _specs(names, leaves, rules)
    filled = []
    for (_, box), name, leaf, spec in zip(flat, names, leaves, specs):
        partition = box.get_partition_spec() if is_box(box) else P()
        values = array(
            leaf.shape,
            spec,
            sharding=NamedSharding(mesh, partition),
            seed=seed,
            dtype=leaf.dtype,
            name=name,
        )
        filled.append(box.replace_boxed(values) if is_box(box) else values)
    return jax.tree_util.tree_unflatten(treedef, filled)


"""nninit.jax: sharded JAX arrays filled where they live, with nninit's values.

- ``array(shape, spec, *, sharding, seed, dtype, ...)``: a ``jax.Array`` whose every addressable
  shard is the same box of ``nninit.fill(shape, spec, ..., layout="jax")``, byte for byte, for
  any mesh, any ``PartitionSpec`` and any number of processes (``jax.distributed``). Each
  process draws only its own devices' boxes, each distinct box once (a partially replicated
  sharding asks for the same box on several devices).
- ``materialize(abstract_tree, rules, *, seed, shardings=None)``: a pytree of
  ``jax.ShapeDtypeStruct`` leaves made real, each leaf drawn from the stream of its path joined
  by ``/`` (``params/Dense_0/kernel``), its spec from ``rules``.

Both fill on the host, outside any trace: under ``jit`` or ``vmap`` they raise rather than bake
a whole array into the program as a constant on one device. jax is imported when these are
first called, never by ``import nninit``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from . import _dtype, _fill_into, _out_array, _seed, _stream, bfloat16_dtype, explain

if TYPE_CHECKING:
    import jax

__all__ = ["Rules", "array", "materialize", "path_name"]

#: How leaves get their specs: a function of (name, leaf) giving a spec (or None), or ordered
#: (regex, spec) pairs, the first whose regex is found in the name winning.
Rules = Union[Callable[[str, Any], Union[str, None]], Sequence[tuple[str, str]]]

_NAMES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}


def _jax():
    import jax

    return jax


def _refuse_under_trace(what):
    """A TypeError when called while jax traces (jit, vmap, grad): the host fill would become a
    constant of the traced program, the whole array on one device."""
    from jax._src import core

    if not isinstance(core.trace_ctx.trace, core.EvalTrace):
        raise TypeError(
            f"nninit.jax.{what} was called under a JAX trace (jit, vmap, grad): it fills each "
            "device's shard on the host and cannot run inside a traced function. Call it "
            "outside, before jit (for Flax: nnx.get_abstract_model or eval_shape, then "
            "nninit's materialize)."
        )


def _dtype_name(dtype):
    """nninit's dtype name of ``dtype`` (a string, a NumPy or JAX dtype); integer and other
    dtypes are a TypeError."""
    if dtype is None:
        raise TypeError("dtype is required (float32, float16 or bfloat16): JAX never casts a shard")
    if isinstance(dtype, str) and dtype in _NAMES:
        return dtype
    try:
        numpy_dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype {dtype!r}: one of float32, float16, bfloat16") from None
    if numpy_dtype == bfloat16_dtype() and numpy_dtype != np.dtype(np.uint16):
        return "bfloat16"
    if numpy_dtype in (np.dtype(np.float32), np.dtype(np.float16)):
        return numpy_dtype.name
    raise TypeError(f"dtype {numpy_dtype}: nninit fills float32, float16 and bfloat16")


def _box(index, shape):
    """(starts, sizes) of a ``make_array_from_callback`` index: one slice per dimension, with
    ``slice(None)`` for an unsharded one."""
    starts, sizes = [], []
    for part, n in zip(index, shape):
        start, stop, _ = part.indices(n)
        starts.append(start)
        sizes.append(stop - start)
    return tuple(starts), tuple(sizes)


def _from_boxes(shape, sharding, numpy_dtype, draw):
    """A ``jax.Array`` of ``shape`` under ``sharding`` whose addressable shards are
    ``draw(starts, sizes)``, each distinct box drawn once: a partially replicated sharding asks
    for the same box on several devices."""
    drawn = {}

    def shard(index):
        box = _box(index, shape)
        if box not in drawn:
            drawn[box] = draw(*box)
        return drawn[box]

    return _jax().make_array_from_callback(shape, sharding, shard, dtype=numpy_dtype)


def _one_device():
    """Where a leaf without a sharding goes: the first device."""
    jax = _jax()
    return jax.sharding.SingleDeviceSharding(jax.devices()[0])


def array(
    shape: Sequence[int],
    spec: str,
    *,
    sharding: jax.sharding.Sharding,
    seed: int,
    dtype: Any,
    name: str | None = None,
    stream: int | None = None,
    layout: str = "jax",
) -> jax.Array:
    """A ``jax.Array`` of ``shape`` under ``sharding``, initialized as the spec ``spec`` says
    (``"variance_scaling(scale=1, mode=fan_in, distribution=truncated_normal)"``,
    ``"normal(std=0.02)"``, …): every addressable shard equals the same box of
    ``nninit.fill(shape, spec, seed=seed, name=name, stream=stream, dtype=dtype, layout=layout)``.

    ``dtype`` (``"float32"``, ``"float16"``, ``"bfloat16"`` or the NumPy/JAX dtype) is required.
    ``layout="jax"`` reads fans as JAX does (the last axis out, the one before in). Raises
    ``ValueError`` for an unknown spec or a shape the sharding does not divide, ``TypeError``
    for a non-float dtype or a call under a JAX trace."""
    _refuse_under_trace("array")
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a spec string, not {type(spec).__name__}")
    shape = tuple(int(d) for d in shape)
    name_of_dtype = _dtype_name(dtype)
    code, dtypes = _dtype(name_of_dtype)
    explain(shape, spec, layout=layout)  # an unknown spec or parameter fails here, before JAX
    seed, stream = _seed(seed), _stream(name, stream)
    try:
        sharding.shard_shape(shape)
    except Exception as error:  # jax's IndivisibleError and shape mismatches
        raise ValueError(f"shape {list(shape)}: {sharding} cannot hold it ({error})") from None

    def draw(starts, sizes):
        out = np.empty(sizes, dtype=dtypes[0])
        _fill_into(
            _out_array(out, dtypes, out.size),
            shape,
            spec,
            seed=seed,
            stream=stream,
            dtype=code,
            layout=layout,
            device="cpu",
            offsets=starts,
            local_shape=sizes,
        )
        return out

    return _from_boxes(shape, sharding, dtypes[0], draw)


def path_name(path: Sequence[Any]) -> str:
    """A leaf's name from its pytree path: the keys joined by ``/`` (``params/Dense_0/kernel``),
    Flax NNX's ``value`` wrapper left out."""
    parts = []
    for key in path:
        for attribute in ("key", "name", "idx"):
            if hasattr(key, attribute):
                parts.append(str(getattr(key, attribute)))
                break
        else:
            parts.append(str(key))
    if parts and parts[-1] == "value":
        parts.pop()
    return "/".join(parts)


def _specs(names, leaves, rules):
    """The spec of each leaf by ``rules``: a callable (name, leaf) → spec, or ordered
    (regex, spec) pairs, the first whose regex is found in the name winning. A leaf without a
    spec, or a pair that gives none, is a ValueError naming it."""
    if callable(rules):
        specs = [rules(name, leaf) for name, leaf in zip(names, leaves)]
    else:
        try:
            pairs = [(re.compile(pattern), spec) for pattern, spec in rules]
        except (TypeError, ValueError):
            raise TypeError(
                "rules must be a callable (name, leaf) -> spec, or (regex, spec) pairs"
            ) from None
        chosen = [next((i for i, (p, _) in enumerate(pairs) if p.search(n)), None) for n in names]
        for i, (pattern, _) in enumerate(pairs):
            if i not in chosen:
                raise ValueError(f"rule {pattern.pattern!r} gives no leaf its spec")
        specs = [None if i is None else pairs[i][1] for i in chosen]
    for name, spec in zip(names, specs):
        if spec is None:
            raise ValueError(f"{name}: no rule gives it a spec")
    return specs


def materialize(abstract_tree: Any, rules: Rules, *, seed: int, shardings: Any = None) -> Any:
    """The pytree ``abstract_tree`` with every ``jax.ShapeDtypeStruct`` leaf replaced by an
    ``array`` of its shape and dtype, under its own ``sharding`` (or the leaf of ``shardings``,
    a tree of the same structure; else one device), drawn from the stream of its name
    (:func:`path_name`) with the spec ``rules`` gives it: a callable ``(name, leaf) -> spec``,
    or ordered ``(regex, spec)`` pairs, the first whose regex is found in the name winning.

    Everything is checked before anything is drawn: a leaf no rule gives a spec, or a rule that
    gives no leaf one, is a ``ValueError`` naming it."""
    jax = _jax()
    _refuse_under_trace("materialize")
    flat, treedef = jax.tree_util.tree_flatten_with_path(abstract_tree)
    names = [path_name(path) for path, _ in flat]
    leaves = [leaf for _, leaf in flat]
    for name, leaf in zip(names, leaves):
        if not hasattr(leaf, "shape") or not hasattr(leaf, "dtype"):
            raise TypeError(f"{name}: a {type(leaf).__name__}, not a jax.ShapeDtypeStruct")
        _dtype_name(leaf.dtype)
    specs = _specs(names, leaves, rules)
    given = [None] * len(leaves) if shardings is None else treedef.flatten_up_to(shardings)
    arrays = [
        array(
            leaf.shape,
            spec,
            sharding=sharding or getattr(leaf, "sharding", None) or _one_device(),
            seed=seed,
            dtype=leaf.dtype,
            name=name,
        )
        for name, leaf, spec, sharding in zip(names, leaves, specs, given)
    ]
    return jax.tree_util.tree_unflatten(treedef, arrays)

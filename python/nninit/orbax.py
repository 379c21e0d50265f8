"""nninit.orbax: an Orbax checkpoint of a model's initial weights, each array drawn on the
devices its sharding names (``nninit.jax.materialize``) and written by Orbax's
``StandardCheckpointer``; ``orbax.checkpoint`` restores it onto any other mesh with the same
values."""

from __future__ import annotations

import os
from typing import Any

from .jax import Rules, materialize

__all__ = ["save"]


def save(
    path: str | os.PathLike[str],
    abstract_tree: Any,
    rules: Rules,
    *,
    seed: int,
    shardings: Any = None,
) -> Any:
    """Writes the checkpoint directory ``path`` (absolute, as Orbax requires) of
    ``abstract_tree``'s leaves (``jax.ShapeDtypeStruct``s, with their shardings or those of
    ``shardings``) drawn by ``rules`` as :func:`nninit.jax.materialize` draws them, and returns
    the tree of arrays it wrote. An existing ``path`` is an error (Orbax's)."""
    import orbax.checkpoint as ocp

    arrays = materialize(abstract_tree, rules, seed=seed, shardings=shardings)
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(path, arrays)
    checkpointer.wait_until_finished()
    return arrays

"""Types of the compiled module (python/src/lib.rs): plain values in, plain values or JSON text
out; errors as ValueError, TypeError, OSError or RuntimeError."""

from typing import Any, Callable

import numpy as np

versions: dict[str, str]

def fill_array(
    out: np.ndarray,
    shape: list[int],
    init: str,
    *,
    seed: int,
    stream: int,
    dtype: str,
    layout: str,
    fan_in: float | None,
    fan_out: float | None,
    range: tuple[int, int] | None,
    offsets: list[int] | None,
    local_shape: list[int] | None,
    device: str,
) -> None: ...
def explain(
    shape: list[int], init: str, *, layout: str, fan_in: float | None, fan_out: float | None
) -> str: ...
def stream_of_name(name: str) -> int: ...
def describe(kind: str, text: str, recipe: str = "hf") -> str: ...
def init_checkpoint(
    model: str,
    out: str,
    *,
    seed: int,
    dtype: str,
    device: str,
    progress: Callable[[int, int], Any] | None,
    force: bool,
    recipe: str = "hf",
) -> str: ...
def verify(path: str, *, sample: int | None, alpha: float) -> str: ...

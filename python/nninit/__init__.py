"""nninit: neural-network weight initialization, reproducible everywhere.

A value depends only on (seed, stream, element index, parameters): the same from Python as from
the ``nninit`` command line and the Rust library, on every device, in every process and in every
parallel layout. This module is the NumPy face; ``nninit.torch`` fills PyTorch tensors and
modules (DTensor shards included).

- ``fill(shape, init, ...)``: a NumPy array, byte for byte ``nninit fill``'s, or filled in place
  with ``out=``;
- ``explain(shape, init, ...)``: what ``fill`` would draw (fans, gain, primitive), as a dict;
- ``init_checkpoint(config_or_preset, out, ...)``: the main job, a preset into a .safetensors
  file or a Hugging Face config into a checkpoint directory;
- ``verify(path)``: every tensor of a file or directory checked against its metadata.

Bad parameters raise ValueError, bad types TypeError, file errors OSError; each carries the Rust
library's one-line message.
"""

# `int | None` and `list[…]` annotations on Python 3.9.
from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Mesa's Vulkan drivers probe Wayland when wgpu looks for an adapter, and on a machine without a
# display session libwayland prints "error: XDG_RUNTIME_DIR is invalid or not set" — not an
# nninit error. Where it is unset it points at the temporary directory (no compositor there, so
# nothing is printed), as the nninit binary does.
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())

from . import _nninit

__all__ = [
    "CONTRACT_VERSION",
    "TensorReport",
    "VerifyReport",
    "__version__",
    "bfloat16_dtype",
    "explain",
    "fill",
    "init_checkpoint",
    "stream_of_name",
    "verify",
]

__version__ = _nninit.versions["nninit"]
CONTRACT_VERSION = _nninit.versions["contract"]

_DTYPES = {"float32": "f32", "float16": "f16", "bfloat16": "bf16"}


def bfloat16_dtype() -> np.dtype:
    """The NumPy dtype bfloat16 arrays come as: ``ml_dtypes.bfloat16`` where ml_dtypes is
    installed, else ``numpy.uint16`` holding the raw bits."""
    try:
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:
        return np.dtype(np.uint16)


def _dtype(dtype):
    """(nninit's name, the NumPy dtypes an ``out`` array may have) of a dtype name."""
    if not isinstance(dtype, str):
        raise TypeError(
            f"dtype must be a string (float32, float16 or bfloat16), not {type(dtype).__name__}"
        )
    if dtype not in _DTYPES:
        raise ValueError(f"dtype {dtype!r}: one of float32, float16, bfloat16")
    if dtype == "float32":
        return "f32", [np.dtype(np.float32)]
    if dtype == "float16":
        return "f16", [np.dtype(np.float16)]
    return "bf16", list(dict.fromkeys([bfloat16_dtype(), np.dtype(np.uint16)]))


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(
            f"shape must be a sequence of integers, not {type(shape).__name__}"
        ) from None
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"shape {shape!r}: its entries must be integers")
        if d < 0:
            raise ValueError(f"shape {shape!r}: its entries must be non-negative")
    return [int(d) for d in dims]


def stream_of_name(name: str) -> int:
    """The stream a tensor named ``name`` draws from (the FNV-1a hash of its UTF-8 bytes)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, not {type(name).__name__}")
    return _nninit.stream_of_name(name)


def _stream(name, stream):
    if name is not None and stream is not None:
        raise ValueError("give name or stream, not both")
    if name is not None:
        return stream_of_name(name)
    if stream is None:
        return 0
    if not isinstance(stream, (int, np.integer)) or stream < 0 or stream >= 1 << 64:
        raise ValueError(f"stream {stream!r}: an integer in [0, 2^64)")
    return int(stream)


def _seed(seed):
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, not {type(seed).__name__}")
    if seed < 0 or seed >= 1 << 64:
        raise ValueError(f"seed {seed}: an integer in [0, 2^64)")
    return int(seed)


def _out_array(out, dtypes, count):
    """``out`` checked: a writable, C-contiguous NumPy array of one of ``dtypes`` with ``count``
    elements; returned as a flat byte-compatible view of the same memory."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, not {type(out).__name__}")
    if out.dtype not in dtypes:
        names = ", ".join(str(d) for d in dtypes)
        raise TypeError(f"out has dtype {out.dtype}; this fill writes {names}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if out.size != count:
        raise ValueError(f"out holds {out.size} elements; the fill writes {count}")
    # A view as unsigned integers of the element's size: the Rust side reads its memory through
    # __array_interface__, which every NumPy dtype, ml_dtypes' included, provides.
    return out.reshape(-1).view({4: np.uint32, 2: np.uint16}[out.dtype.itemsize])


def fill(
    shape: int | Sequence[int],
    init: str,
    *,
    seed: int = 0,
    name: str | None = None,
    stream: int | None = None,
    dtype: str = "float32",
    layout: str = "torch",
    fan_in: float | None = None,
    fan_out: float | None = None,
    range: tuple[int, int] | None = None,
    out: np.ndarray | None = None,
    device: str = "auto",
) -> np.ndarray:
    """A tensor of ``shape`` initialized as the spec ``init`` says (``"kaiming_normal(mode=fan_out)"``,
    ``"normal(std=0.02)"``, …), as a NumPy array whose bytes are those of ``nninit fill`` with the
    same arguments.

    ``name`` draws from the stream of that tensor name (as ``nninit init`` names every tensor),
    ``stream`` from a stream number (default 0). ``dtype`` is ``"float32"``, ``"float16"`` or
    ``"bfloat16"``; bfloat16 arrives as ``ml_dtypes.bfloat16`` where ml_dtypes is installed, and
    as ``numpy.uint16`` raw bits otherwise (``bfloat16_dtype()``). ``range=(a, b)`` gives elements
    ``a..b`` of the row-major flattening, as a 1-D array. ``out=`` fills an existing C-contiguous
    array of that dtype and element count in place, with no copy, and returns it. ``device`` is
    ``"auto"`` (a hardware GPU if wgpu finds one, else the CPU reference), ``"gpu"`` or ``"cpu"``;
    the values are the same on each.
    """
    if not isinstance(init, str):
        raise TypeError(f"init must be a spec string, not {type(init).__name__}")
    dims = _shape(shape)
    code, dtypes = _dtype(dtype)
    numel = math.prod(dims)
    if range is not None:
        try:
            start, end = (int(range[0]), int(range[1]))
        except (TypeError, ValueError, IndexError):
            raise TypeError(
                f"range must be a pair of integers (start, end), not {range!r}"
            ) from None
        if not 0 <= start <= end <= numel:
            raise ValueError(f"range {range!r}: must satisfy 0 ≤ start ≤ end ≤ {numel}")
        count, out_shape, flat_range = end - start, (end - start,), (start, end)
    else:
        count, out_shape, flat_range = numel, tuple(dims), None
    if out is None:
        out = np.empty(out_shape, dtype=dtypes[0])
    view = _out_array(out, dtypes, count)
    _fill_into(
        view,
        dims,
        init,
        seed=_seed(seed),
        stream=_stream(name, stream),
        dtype=code,
        layout=layout,
        fan_in=fan_in,
        fan_out=fan_out,
        range=flat_range,
        device=device,
    )
    return out


def _fill_into(
    view,
    shape,
    init,
    *,
    seed,
    stream,
    dtype,
    layout,
    device,
    fan_in=None,
    fan_out=None,
    range=None,
    offsets=None,
    local_shape=None,
):
    """Fills ``view`` (a flat array from ``_out_array``, or the memory of a tensor) with a tensor
    of ``shape``: all of it, elements ``range`` of its flattening, or the box at ``offsets`` of
    ``local_shape`` (what a DTensor shard holds)."""
    _nninit.fill_array(
        view,
        list(shape),
        init,
        seed=seed,
        stream=stream,
        dtype=dtype,
        layout=layout,
        fan_in=None if fan_in is None else float(fan_in),
        fan_out=None if fan_out is None else float(fan_out),
        range=range,
        offsets=None if offsets is None else list(offsets),
        local_shape=None if local_shape is None else list(local_shape),
        device=device,
    )


def explain(
    shape: int | Sequence[int],
    init: str,
    *,
    layout: str = "torch",
    fan_in: float | None = None,
    fan_out: float | None = None,
) -> dict[str, Any]:
    """What ``fill`` would draw, without drawing: the JSON ``nninit fill --explain`` prints (fans,
    gain, the primitive and its parameters), as a dict."""
    if not isinstance(init, str):
        raise TypeError(f"init must be a spec string, not {type(init).__name__}")
    text = _nninit.explain(
        _shape(shape),
        init,
        layout=layout,
        fan_in=None if fan_in is None else float(fan_in),
        fan_out=None if fan_out is None else float(fan_out),
    )
    return json.loads(text)


def _describe(kind, text, recipe="hf"):
    return json.loads(_nninit.describe(kind, text, recipe))


def init_checkpoint(
    config_or_preset: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    dtype: str = "float32",
    progress: bool = True,
    device: str = "auto",
    force: bool = False,
    recipe: str = "hf",
) -> dict[str, Any]:
    """The main job. A preset (``"gpt2"``, ``"resnet18"``, ``"resnet50"``, ``"mlp"``) is written
    to the .safetensors file ``out``; a Hugging Face ``config.json`` (or a directory holding one)
    becomes the checkpoint directory ``out`` that ``from_pretrained`` loads, as ``nninit init
    --config`` writes it. ``progress`` prints tensors done to stderr. Returns the summary (tensors,
    parameters, bytes, seconds) as a dict.

    As the command line: ``out`` is written whole or not at all, by one run at a time (another
    run writing it raises ``RuntimeError`` naming its pid); an existing file or checkpoint is
    replaced only with ``force=True``. ``recipe`` is ``nninit init --recipe``'s: ``hf`` (the
    model's own), ``torchtitan``, ``megatron`` or ``olmo`` (with a variant after a colon)."""
    code, _ = _dtype(dtype)
    callback = None
    if progress:

        def callback(done, total):
            end = "\n" if done == total else ""
            print(f"\rnninit: {done}/{total} tensors", end=end, file=sys.stderr, flush=True)

    text = _nninit.init_checkpoint(
        str(config_or_preset),
        str(out),
        seed=_seed(seed),
        dtype=code,
        device=device,
        progress=callback,
        force=bool(force),
        recipe=str(recipe),
    )
    return json.loads(text)


@dataclass
class TensorReport:
    """One tensor's verification: its scheme, how many elements were checked, the worst
    difference from the CPU reference, the p-value of each statistical test, and the verdict."""

    file: str
    name: str
    scheme: str
    checked: int
    worst_difference: float
    mismatches: int
    p_values: dict[str, float] = field(default_factory=dict)
    passed: bool = False


@dataclass
class VerifyReport:
    """Every tensor's report; ``passed`` when all passed."""

    tensors: list[TensorReport]

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors)

    def __iter__(self) -> Iterator[TensorReport]:
        return iter(self.tensors)


def verify(
    path: str | os.PathLike[str], *, sample: int | None = None, alpha: float = 1e-6
) -> VerifyReport:
    """Verifies every tensor of a .safetensors file nninit wrote, of a checkpoint directory
    (against its index) or of a rank directory (against its manifest): element by element
    against the CPU reference (all elements, or ``sample`` evenly spaced ones) and by KS,
    Anderson–Darling, χ² and moment tests at level ``alpha``."""
    reports = json.loads(_nninit.verify(str(path), sample=sample, alpha=float(alpha)))
    return VerifyReport([TensorReport(**r) for r in reports])

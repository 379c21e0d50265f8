"""Shared helpers: the `nninit` binary of this checkout (built by `cargo test --release` or
`cargo build --release`), and reading .safetensors files back."""

import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

# JAX's CPU backend as 8 devices, set before anything imports jax (the JAX, Flax and Keras tests'
# meshes), and Keras on JAX.
os.environ.setdefault("JAX_NUM_CPU_DEVICES", "8")
os.environ.setdefault("KERAS_BACKEND", "jax")

ROOT = Path(__file__).resolve().parents[2]


def nninit_binary():
    path = Path(os.environ.get("NNINIT_BIN", ROOT / "target" / "release" / "nninit"))
    if not path.is_file():
        pytest.fail(
            f"{path} not found: build it first with `cargo build --release` (or set NNINIT_BIN)"
        )
    return str(path)


def run_cli(*args):
    """Runs the nninit binary; fails the test with its stderr unless it succeeds."""
    done = subprocess.run(
        [nninit_binary(), *map(str, args)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def tensors_of(path):
    """{name: (dtype, shape, raw bytes)} of a .safetensors file, read with the format's own
    layout (no PyTorch needed)."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header.pop("__metadata__", None)
    base = 8 + length
    return {
        name: (
            entry["dtype"],
            entry["shape"],
            data[base + entry["data_offsets"][0] : base + entry["data_offsets"][1]],
        )
        for name, entry in header.items()
    }

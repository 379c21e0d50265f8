"""nninit.maxtext on 8 CPU devices: MaxText's Llama parameter tree (scanned and unscanned
layers, f32 and bf16, sharded over a 4×2 mesh) holds, leaf by leaf and layer by layer, the
tensors ``nninit init --config`` writes for the same Hugging Face model, viewed as the mapping
in ``nninit/maxtext.py`` says (transposed to JAX's (in, out) kernels)."""

import json

import numpy as np
import pytest

import nninit
from conftest import run_cli, tensors_of

import jax  # noqa: E402  (conftest set 8 CPU devices first)
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import nninit.maxtext as mt  # noqa: E402

CONFIG = {"model_type": "llama", "vocab_size": 128, "hidden_size": 64, "intermediate_size": 96,
          "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2}


def sharding(mesh):
    """The first dimension over `data` and the last over `model` where they divide."""
    def of(name, shape):
        spec = [None] * len(shape)
        if shape[0] % 4 == 0:
            spec[0] = "data"
        if len(shape) > 1 and shape[-1] % 2 == 0:
            spec[-1] = "model"
        return NamedSharding(mesh, P(*spec))
    return of


@pytest.mark.parametrize("dtype,code", [("float32", "F32"), ("bfloat16", "BF16")])
@pytest.mark.parametrize("scan_layers", [True, False])
def test_maxtext_leaves_are_the_hugging_face_tensors_nninit_init_writes(tmp_path, dtype, code,
                                                                         scan_layers):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    out = tmp_path / "hf"
    run_cli("init", "--config", config, "--out", out, "--seed", "11", "--device", "cpu",
            "--dtype", {"float32": "f32", "bfloat16": "bf16"}[dtype])
    hf = tensors_of(out / "model.safetensors")
    numpy_dtype = nninit.bfloat16_dtype() if dtype == "bfloat16" else np.dtype(np.float32)
    mesh = jax.make_mesh((4, 2), ("data", "model"))
    tree = mt.params(CONFIG, seed=11, sharding=sharding(mesh), dtype=dtype,
                     scan_layers=scan_layers)
    checked = 0
    for name, (shape, keys, split, perm) in mt.leaves(CONFIG, scan_layers=scan_layers).items():
        node = tree
        for part in name.split("/"):
            node = node[part]
        value = np.asarray(node)
        assert value.shape == shape and value.dtype == numpy_dtype, name
        for l, key in enumerate(keys):
            stored, hf_shape, data = hf[key]
            assert stored == code
            want = np.frombuffer(data, dtype=numpy_dtype).reshape(hf_shape)
            want = want.reshape(split).transpose(perm)
            got = np.take(value, l, axis=mt.SCAN_AXIS) if len(keys) > 1 else value
            assert got.tobytes() == np.ascontiguousarray(want).tobytes(), (name, key)
            checked += 1
    assert checked == 1 + 9 * 3 + 2  # embedding, 9 tensors per layer, final norm, head

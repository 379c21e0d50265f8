"""MaxText's Llama parameters with the values ``nninit init --config`` writes for the same
Hugging Face model: one model starts identically in PyTorch and JAX.

``params(config, *, seed, sharding, recipe="hf", scan_layers=True)`` returns MaxText's
parameter tree (``token_embedder/embedding``, ``decoder/layers/self_attention/query/kernel``,
…) as sharded ``jax.Array``s. Each leaf is its Hugging Face tensor, or the tensors of every layer
stacked on MaxText's ``param_scan_axis`` (1), in JAX's ``(in, out)`` layout:

| MaxText leaf (scanned) | shape | Hugging Face tensor of layer l | as |
|---|---|---|---|
| ``token_embedder/embedding`` | [V, d] | ``model.embed_tokens.weight`` [V, d] | itself |
| ``decoder/layers/self_attention/query/kernel`` | [d, L, h, k] | ``q_proj.weight`` [h·k, d] | ``w.reshape(h, k, d).transpose(2, 0, 1)`` |
| ``…/key/kernel``, ``…/value/kernel`` | [d, L, g, k] | ``k_proj``/``v_proj.weight`` [g·k, d] | the same |
| ``…/out/kernel`` | [h, L, k, d] | ``o_proj.weight`` [d, h·k] | ``w.reshape(d, h, k).transpose(1, 2, 0)`` |
| ``decoder/layers/mlp/wi_0/kernel``, ``wi_1`` | [d, L, f] | ``gate_proj``/``up_proj.weight`` [f, d] | ``w.T`` |
| ``decoder/layers/mlp/wo/kernel`` | [f, L, d] | ``down_proj.weight`` [d, f] | ``w.T`` |
| ``…/pre_self_attention_layer_norm/scale``, ``post_…`` | [d, L] | ``input_layernorm``/``post_attention_layernorm.weight`` | itself |
| ``decoder/decoder_norm/scale`` | [d] | ``model.norm.weight`` | itself |
| ``decoder/logits_dense/kernel`` | [d, V] | ``lm_head.weight`` [V, d] | ``w.T`` (absent when tied) |

(MaxText's own converter, ``llama_or_mistral_ckpt.py``, also permutes q and k rows for its RoPE
layout and may scale the query by 1/√k; those are layout choices of a converted checkpoint, not
of a fresh model, and nninit leaves them out: a row permutation of i.i.d. values is the same
distribution.) With ``scan_layers=False`` the layers are ``decoder/layers_{l}/…`` without the
L axis. Each device draws only the part of each Hugging Face tensor its shard holds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _describe, _dtype, _fill_into, _out_array, _seed, stream_of_name
from .jax import _dtype_name, _from_boxes, _refuse_under_trace

if TYPE_CHECKING:
    import jax

#: A leaf: its shape, the Hugging Face key of each layer (or the one key), the split of the HF
#: tensor and the permutation that make one layer's slice.
Leaf = tuple[tuple[int, ...], list[str], tuple[int, ...], tuple[int, ...]]

__all__ = ["params", "leaves"]

SCAN_AXIS = 1


def leaves(config: str | Mapping[str, Any], *, scan_layers: bool = True) -> dict[str, Leaf]:
    """MaxText's Llama leaves for the Hugging Face ``config`` (a dict or config.json text):
    {name: (shape, [Hugging Face key of each layer, or the one key], split, permutation)}, where
    a layer's slice is ``hf.reshape(split).transpose(permutation)``."""
    fields = json.loads(config) if isinstance(config, str) else dict(config)
    if fields.get("model_type") != "llama":
        raise ValueError(f"model_type {fields.get('model_type')!r}: MaxText's Llama names fit llama")
    d, f, layers = fields["hidden_size"], fields["intermediate_size"], fields["num_hidden_layers"]
    vocab, heads = fields["vocab_size"], fields["num_attention_heads"]
    groups = fields.get("num_key_value_heads") or heads
    k = fields.get("head_dim") or d // heads
    out: dict[str, Leaf] = {
        "token_embedder/embedding": ((vocab, d), ["model.embed_tokens.weight"], (vocab, d), (0, 1))
    }
    per_layer = {
        "self_attention/query/kernel": ("self_attn.q_proj.weight", (heads, k, d), (2, 0, 1)),
        "self_attention/key/kernel": ("self_attn.k_proj.weight", (groups, k, d), (2, 0, 1)),
        "self_attention/value/kernel": ("self_attn.v_proj.weight", (groups, k, d), (2, 0, 1)),
        "self_attention/out/kernel": ("self_attn.o_proj.weight", (d, heads, k), (1, 2, 0)),
        "mlp/wi_0/kernel": ("mlp.gate_proj.weight", (f, d), (1, 0)),
        "mlp/wi_1/kernel": ("mlp.up_proj.weight", (f, d), (1, 0)),
        "mlp/wo/kernel": ("mlp.down_proj.weight", (d, f), (1, 0)),
        "pre_self_attention_layer_norm/scale": ("input_layernorm.weight", (d,), (0,)),
        "post_self_attention_layer_norm/scale": ("post_attention_layernorm.weight", (d,), (0,)),
    }
    for leaf, (key, split, perm) in per_layer.items():
        layer_shape = tuple(split[p] for p in perm)
        keys = [f"model.layers.{l}.{key}" for l in range(layers)]
        if scan_layers:
            shape = layer_shape[:SCAN_AXIS] + (layers,) + layer_shape[SCAN_AXIS:]
            out[f"decoder/layers/{leaf}"] = (shape, keys, split, perm)
        else:
            for l, one in enumerate(keys):
                out[f"decoder/layers_{l}/{leaf}"] = (layer_shape, [one], split, perm)
    out["decoder/decoder_norm/scale"] = ((d,), ["model.norm.weight"], (d,), (0,))
    if not fields.get("tie_word_embeddings", False):
        out["decoder/logits_dense/kernel"] = ((d, vocab), ["lm_head.weight"], (vocab, d), (1, 0))
    return out


def _layer_block(key, described, box, split, perm, seed, code, numpy_dtype):
    """The block ``box`` (starts, sizes in the per-layer JAX shape) of Hugging Face tensor
    ``key`` viewed as ``reshape(split).transpose(perm)``: the HF rows (or columns) it needs
    drawn whole along the split's inner dimensions, then sliced and transposed."""
    tensor = described[key]
    hf_shape = tensor["shape"]
    split_lo, split_size = [0] * len(split), list(split)
    for j, p in enumerate(perm):
        split_lo[p], split_size[p] = box[0][j], box[1][j]
    # Which HF dimension each split dimension comes from: the split refines HF's dims in order.
    owner, dims = [], list(hf_shape)
    i, acc = 0, 1
    for s in split:
        owner.append(i)
        acc *= s
        if acc == dims[i]:
            i, acc = i + 1, 1
    # The HF box: for each HF dim, its split dims' outermost range, the inner ones whole.
    hf_lo, hf_size, inner = [], [], []
    for h in range(len(hf_shape)):
        mine = [q for q in range(len(split)) if owner[q] == h]
        stride = math.prod(split[q] for q in mine[1:])
        hf_lo.append(split_lo[mine[0]] * stride)
        hf_size.append(split_size[mine[0]] * stride)
        inner.extend(mine[1:])
    out = np.empty(hf_size, dtype=numpy_dtype)
    _fill_into(
        _out_array(out, [numpy_dtype], out.size), hf_shape, tensor["spec"], seed=seed,
        stream=stream_of_name(tensor["tied_to"] or key), dtype=code, layout=tensor["layout"],
        device="cpu", offsets=hf_lo, local_shape=hf_size,
    )
    if tensor["zero_row"] is not None and hf_lo[0] <= tensor["zero_row"] < hf_lo[0] + hf_size[0]:
        out[tensor["zero_row"] - hf_lo[0]] = 0
    block_shape = [split_size[q] if q not in inner else split[q] for q in range(len(split))]
    block = out.reshape(block_shape)
    block = block[tuple(
        slice(split_lo[q], split_lo[q] + split_size[q]) if q in inner else slice(None)
        for q in range(len(split))
    )]
    return block.transpose(perm)


def params(
    config: str | Mapping[str, Any],
    *,
    seed: int,
    sharding: Callable[[str, tuple[int, ...]], jax.sharding.Sharding],
    recipe: str = "hf",
    dtype: Any = "float32",
    scan_layers: bool = True,
) -> dict[str, Any]:
    """MaxText's Llama parameter tree for the Hugging Face ``config`` as sharded ``jax.Array``s
    of ``dtype``, each shard the same values as the tensor ``nninit init --config`` (with
    ``--recipe recipe``) writes, viewed as the table above says. ``sharding(name, shape)``
    gives each leaf's sharding."""
    _refuse_under_trace("maxtext.params")
    seed = _seed(seed)
    code, dtypes = _dtype(_dtype_name(dtype))
    text = config if isinstance(config, str) else json.dumps(config)
    described = {t["name"]: t for t in _describe("hf", text, recipe)}
    tree: dict[str, Any] = {}
    for name, (shape, keys, split, perm) in leaves(config, scan_layers=scan_layers).items():

        def draw(starts, sizes, keys=keys, split=split, perm=perm):
            if len(keys) == 1:
                block = _layer_block(keys[0], described, (starts, sizes), split, perm, seed,
                                     code, dtypes[0])
                return np.ascontiguousarray(block)
            starts, sizes = list(starts), list(sizes)
            lo, count = starts.pop(SCAN_AXIS), sizes.pop(SCAN_AXIS)
            layers = [
                _layer_block(keys[l], described, (starts, sizes), split, perm, seed, code,
                             dtypes[0])
                for l in range(lo, lo + count)
            ]
            return np.ascontiguousarray(np.stack(layers, axis=SCAN_AXIS))

        array = _from_boxes(shape, sharding(name, shape), dtypes[0], draw)
        node = tree
        *path, last = name.split("/")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = array
    return tree

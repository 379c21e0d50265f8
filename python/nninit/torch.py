"""nninit.torch: PyTorch tensors and modules filled in place with nninit's values.

- ``init_(tensor, init, ...)`` fills one tensor;
- ``init_module_(module, recipe=...)`` fills every parameter and persistent buffer of a module,
  each from the stream of its qualified name, with the recipe of its layer type.

A CPU tensor is filled directly in its memory. A tensor on another device (CUDA, MPS, …) is
drawn into host memory and copied to it (``Tensor.copy_``): one host buffer of the tensor's size
and one host-to-device copy per tensor. A ``DTensor`` gets only its local shard, computed at its
global offset, so the global tensor equals the unsharded one for any mesh and any placement
(``Shard(d)``, ``Replicate``, uneven chunks).

torch is imported when these functions are first called, not by ``import nninit``.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING

import numpy as np

from . import _describe, _fill_into, _seed, _stream, stream_of_name
from . import frameworks as _frameworks

if TYPE_CHECKING:
    import torch

__all__ = ["RECIPES", "init_", "init_module_"]

#: The recipes ``init_module_`` takes, besides the presets' names; the frameworks' take a
#: variant after a colon (``torchtitan:qwen3``, ``olmo:llama``).
RECIPES = ("torch", "hf", "torchtitan", "megatron", "olmo")

_PRESETS = ("gpt2", "resnet18", "resnet50", "mlp")


def _torch():
    import torch

    return torch


def _dtype_code(tensor):
    torch = _torch()
    codes = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16"}
    if tensor.dtype not in codes:
        raise TypeError(
            f"tensor has dtype {tensor.dtype}; nninit fills float32, float16 and bfloat16"
        )
    return codes[tensor.dtype]


def _dtensor_class():
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:  # a torch built without distributed
        return None
    return DTensor


class Box:
    """Where one contiguous block of a tensor's local memory lies in the global tensor: its
    offsets there, its offsets in the local tensor, and its shape."""

    __slots__ = ("global_lo", "local_lo", "shape")

    def __init__(self, global_lo, local_lo, shape):
        self.global_lo, self.local_lo, self.shape = global_lo, local_lo, shape

    def of(self, local):
        """The block's view of ``local``."""
        return local[tuple(slice(lo, lo + n) for lo, n in zip(self.local_lo, self.shape))]


def _runs(indices):
    """[(first global index, first local index, length)] of the consecutive runs of ``indices``."""
    runs = []
    for local, index in enumerate(indices):
        if runs and runs[-1][0] + runs[-1][2] == index:
            runs[-1][2] += 1
        else:
            runs.append([index, local, 1])
    return runs


def _global_indices(tensor, name):
    """For each dimension of DTensor ``tensor``, the global indices its local shard holds, in
    order: each placement splits the indices the earlier ones left, as DTensor places the data
    (``Shard(d)`` one contiguous chunk; ``_StridedShard``, which ``fully_shard`` over tensor
    parallelism gives, a piece of each of its ``split_factor`` chunks)."""
    torch = _torch()
    from torch.distributed.tensor import Replicate, Shard

    mesh = tensor.device_mesh
    coordinate = mesh.get_coordinate()
    indices = [torch.arange(n) for n in tensor.shape]
    for mesh_dim, placement in enumerate(tensor.placements):
        if isinstance(placement, Replicate):
            continue
        if not isinstance(placement, Shard) and type(placement).__name__ != "_StridedShard":
            raise ValueError(
                f"{name}: DTensor placement {type(placement).__name__} ({placement}) cannot hold "
                "initial weights; nninit fills Shard(d), _StridedShard and Replicate"
            )
        dim = placement.dim
        shaped = indices[dim].reshape([1] * dim + [-1])
        pieces, _ = placement._split_tensor(shaped, mesh.size(mesh_dim), with_padding=False)
        indices[dim] = pieces[coordinate[mesh_dim]].reshape(-1)
    return [index.tolist() for index in indices]


def _local_boxes(tensor, name="tensor"):
    """(global shape, the tensor whose memory is filled, its boxes): a DTensor's local shard, as
    the blocks of the global tensor it holds (one for Shard and Replicate placements, several
    for _StridedShard); any other tensor itself, one box."""
    import itertools

    DTensor = _dtensor_class()
    if DTensor is None or not isinstance(tensor, DTensor):
        shape = list(tensor.shape)
        return shape, tensor, [Box([0] * len(shape), [0] * len(shape), shape)]
    indices = _global_indices(tensor, name)
    local = tensor.to_local()
    if list(local.shape) != [len(i) for i in indices]:
        raise ValueError(
            f"{name}: DTensor local shard of shape {list(local.shape)}; its placements give "
            f"{[len(i) for i in indices]}"
        )
    per_dim = [_runs(i) for i in indices]
    boxes = [
        Box([r[0] for r in runs], [r[1] for r in runs], [r[2] for r in runs])
        for runs in itertools.product(*per_dim)
    ]
    return list(tensor.shape), local, boxes


_BITS = {4: (np.uint32, "int32"), 2: (np.uint16, "int16")}


def _fill_local(local, global_shape, spec, *, seed, stream, layout, offsets, local_shape, device):
    """Fills the torch tensor ``local`` in place with its box of the global tensor."""
    torch = _torch()
    code = _dtype_code(local)
    size = local.element_size()
    numpy_bits, torch_bits = _BITS[size]
    # A contiguous CPU tensor's own memory through NumPy, as unsigned integers of its element
    # size; anything else through a host buffer, then copy_.
    direct = local.device.type == "cpu" and local.is_contiguous()
    if direct:
        view = local.detach().reshape(-1).view(getattr(torch, torch_bits)).numpy().view(numpy_bits)
    else:
        view = np.empty(local.numel(), dtype=numpy_bits)
    _fill_into(
        view,
        global_shape,
        spec,
        seed=seed,
        stream=stream,
        dtype=code,
        layout=layout,
        offsets=offsets,
        local_shape=local_shape,
        device=device,
    )
    if not direct:
        drawn = torch.from_numpy(view.view(getattr(np, torch_bits)))
        with torch.no_grad():
            local.copy_(drawn.view(local.dtype).reshape(local.shape))


def _zero_row(local, row, offsets):
    """Zeroes global dim-0 row ``row`` where it falls in ``local`` (whose box starts at
    ``offsets``): Embedding's padding row."""
    start = offsets[0] if offsets else 0
    if start <= row < start + local.shape[0]:
        with _torch().no_grad():
            local[row - start].zero_()


def _fill(
    tensor,
    spec,
    *,
    seed,
    stream,
    layout,
    device,
    zero_row=None,
    integer_zeros=False,
    name="tensor",
    placed=None,
):
    """Fills ``tensor`` (its local boxes: ``placed``, or as :func:`_local_boxes` finds them)."""
    torch = _torch()
    global_shape, local, boxes = placed or _local_boxes(tensor, name)
    if integer_zeros or (not local.is_floating_point() and spec == "zeros"):
        with torch.no_grad():
            local.zero_()
        return
    if local is tensor:
        local = tensor.data
    for box in boxes:
        view = box.of(local)
        _fill_local(
            view,
            global_shape,
            spec,
            seed=seed,
            stream=stream,
            layout=layout,
            offsets=box.global_lo,
            local_shape=box.shape,
            device=device,
        )
        if zero_row is not None:
            _zero_row(view, zero_row, box.global_lo)


def init_(
    tensor: torch.Tensor,
    init: str,
    *,
    seed: int = 0,
    name: str | None = None,
    stream: int | None = None,
    layout: str = "torch",
    device: str = "auto",
) -> torch.Tensor:
    """Fills ``tensor`` in place as the spec ``init`` says (``"kaiming_uniform(a=2.236…)"``,
    ``"normal(std=0.02)"``, …) and returns it: the values of ``nninit.fill`` with the same
    arguments, for the tensor's shape (a DTensor's global shape; its local shard gets its own
    box). ``name`` draws from the stream of that name, ``stream`` from a stream number (default
    0)."""
    torch = _torch()
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, not {type(tensor).__name__}")
    if not isinstance(init, str):
        raise TypeError(f"init must be a spec string, not {type(init).__name__}")
    _fill(
        tensor, init, seed=_seed(seed), stream=_stream(name, stream), layout=layout, device=device
    )
    return tensor


def _layer_entry(module):
    """The model-description entry (``nninit.model.json``'s format, without its name) of a
    module whose own parameters have a PyTorch ``reset_parameters`` recipe, or None."""
    nn = _torch().nn
    bias = getattr(module, "bias", None) is not None
    if isinstance(module, nn.MultiheadAttention):
        if not module._qkv_same_embed_dim or module.bias_k is not None:
            return None
        return {
            "layer": "multihead_attention",
            "embed_dim": module.embed_dim,
            "num_heads": module.num_heads,
            "bias": module.in_proj_bias is not None,
        }
    if isinstance(module, nn.Linear):
        return {
            "layer": "linear",
            "in": module.in_features,
            "out": module.out_features,
            "bias": bias,
        }
    if isinstance(module, nn.Bilinear):
        return {
            "layer": "bilinear",
            "in1": module.in1_features,
            "in2": module.in2_features,
            "out": module.out_features,
            "bias": bias,
        }
    convs = {
        nn.Conv1d: "conv1d",
        nn.Conv2d: "conv2d",
        nn.Conv3d: "conv3d",
        nn.ConvTranspose1d: "conv_transpose1d",
        nn.ConvTranspose2d: "conv_transpose2d",
        nn.ConvTranspose3d: "conv_transpose3d",
    }
    for kind, layer in convs.items():
        if type(module) is kind:
            return {
                "layer": layer,
                "in": module.in_channels,
                "out": module.out_channels,
                "kernel": list(module.kernel_size),
                "groups": module.groups,
                "bias": bias,
            }
    if isinstance(module, nn.Embedding):
        return {
            "layer": "embedding",
            "num": module.num_embeddings,
            "dim": module.embedding_dim,
            "padding_idx": module.padding_idx,
        }
    if isinstance(module, nn.LayerNorm):
        return {"layer": "layer_norm", "shape": list(module.normalized_shape)}
    if isinstance(module, nn.GroupNorm):
        return {"layer": "group_norm", "groups": module.num_groups, "channels": module.num_channels}
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return {"layer": "batch_norm", "features": module.num_features}
    if hasattr(nn, "RMSNorm") and isinstance(module, nn.RMSNorm):
        return {"tensor": "weight", "shape": list(module.normalized_shape), "init": "ones"}
    recurrent = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru"}
    for kind, layer in recurrent.items():
        if type(module) is kind:
            if getattr(module, "proj_size", 0):
                return None
            return {
                "layer": layer,
                "input": module.input_size,
                "hidden": module.hidden_size,
                "num_layers": module.num_layers,
                "bias": module.bias,
                "bidirectional": module.bidirectional,
            }
    return None


def _own_tensors(module):
    """Names of the module's own parameters and persistent buffers."""
    names = [name for name, _ in module.named_parameters(recurse=False)]
    persistent = set(module._buffers) - getattr(module, "_non_persistent_buffers_set", set())
    return names + [
        name for name in module._buffers if name in persistent and module._buffers[name] is not None
    ]


def _torch_recipe(module, skip_unknown):
    """Each layer's PyTorch recipe, described by the Rust library exactly as ``nninit init`` of
    the same layers in a model description: (qualified name → description), and the qualified
    names of the tensors of modules left alone (``skip_unknown``)."""
    entries, prefixes = [], []
    covered, skipped = set(), set()
    for prefix, child in module.named_modules():
        if prefix in covered or not _own_tensors(child):
            continue
        entry = _layer_entry(child)
        if entry is None:
            message = (
                f"{prefix or 'the module'}: {type(child).__name__} has parameters or buffers "
                f"({', '.join(_own_tensors(child))}) and no known initialization recipe"
            )
            if skip_unknown:
                warnings.warn(message + "; left as it is", stacklevel=3)
                skipped.update(
                    f"{prefix}.{name}" if prefix else name for name in _own_tensors(child)
                )
                continue
            raise TypeError(message + " (skip_unknown=True leaves it as it is)")
        if entry.get("layer") == "multihead_attention":
            covered.add(f"{prefix}.out_proj" if prefix else "out_proj")
        placeholder = f"m{len(entries)}"
        if "tensor" in entry:
            entries.append(
                {
                    "name": f"{placeholder}.{entry['tensor']}",
                    "shape": entry["shape"],
                    "init": entry["init"],
                }
            )
        else:
            entries.append({"name": placeholder, **entry})
        prefixes.append(prefix)
    if not entries:
        return {}, skipped
    import json

    described = {}
    for tensor in _describe("json", json.dumps(entries)):
        placeholder, _, suffix = tensor["name"].partition(".")
        prefix = prefixes[int(placeholder[1:])]
        tensor["name"] = f"{prefix}.{suffix}" if prefix else suffix
        described[tensor["name"]] = tensor
    return described, skipped


# transformers 5.x builds ViT under modeling names and renames them on save; nninit's streams are
# the checkpoint names. (modeling pattern, checkpoint replacement), applied in order.
_VIT_CHECKPOINT_NAMES = [
    (r"(^|\.)layers\.(\d+)\.", r"\1encoder.layer.\2."),
    (r"\.attention\.q_proj\.", ".attention.attention.query."),
    (r"\.attention\.k_proj\.", ".attention.attention.key."),
    (r"\.attention\.v_proj\.", ".attention.attention.value."),
    (r"\.attention\.o_proj\.", ".attention.output.dense."),
    (r"\.mlp\.fc1\.", ".intermediate.dense."),
    (r"\.mlp\.fc2\.", ".output.dense."),
]


# Mixtures of experts that transformers 5.x holds fused in memory (`experts.gate_up_proj`
# [E, 2I, H], `experts.down_proj` [E, H, I]) and `save_pretrained` splits into one key per expert:
# model_type → (the block's name on disk, the per-expert names of gate, up and down).
_SPLIT_EXPERTS = {
    "mixtral": ("block_sparse_moe", ("w1", "w3", "w2")),
    "qwen2_moe": ("mlp", ("gate_proj", "up_proj", "down_proj")),
    "qwen3_moe": ("mlp", ("gate_proj", "up_proj", "down_proj")),
    "deepseek_v3": ("mlp", ("gate_proj", "up_proj", "down_proj")),
}


def _expert_parts(model_type, name, shape):
    """The parts of fused expert tensor ``name`` (its in-memory name) as the checkpoint's
    per-expert keys:
    [(index into the tensor, checkpoint key)], gate then up along dim 1 of ``gate_up_proj``;
    ``None`` for any other tensor."""
    if model_type not in _SPLIT_EXPERTS:
        return None
    match = re.fullmatch(r"(.*)\.mlp\.experts\.(gate_up_proj|down_proj)", name)
    if match is None:
        return None
    block, (gate, up, down) = _SPLIT_EXPERTS[model_type]
    prefix, fused = match.groups()
    key = lambda e, part: f"{prefix}.{block}.experts.{e}.{part}.weight"  # noqa: E731
    if fused == "down_proj":
        return [((e,), key(e, down)) for e in range(shape[0])]
    half = shape[1] // 2
    return [
        ((e, slice(lo, lo + half)), key(e, part))
        for e in range(shape[0])
        for lo, part in ((0, gate), (half, up))
    ]


def _hf_recipe(module):
    """transformers' ``_init_weights`` recipe of the module's class, from its config, as ``nninit
    init --config`` describes it: (checkpoint name → description), the renaming from the
    module's names to the checkpoint's, and the model type."""
    import json

    config = getattr(module, "config", None)
    if config is None or not hasattr(config, "to_dict"):
        raise TypeError(
            f"recipe='hf' needs a transformers model with a config; {type(module).__name__} has none"
        )
    fields = config.to_dict()
    fields["architectures"] = [type(module).__name__]
    described = {t["name"]: t for t in _describe("hf", json.dumps(fields, default=str))}
    rename = {
        "vit": _VIT_CHECKPOINT_NAMES,
        # Mixtral's block is `mlp` in memory and `block_sparse_moe` on disk.
        "mixtral": [(r"\.mlp\.", ".block_sparse_moe.")],
    }.get(fields.get("model_type"), [])

    def checkpoint_name(name):
        for pattern, replacement in rename:
            name = re.sub(pattern, replacement, name)
        return name

    return described, checkpoint_name, fields.get("model_type")


def init_module_(
    module: torch.nn.Module,
    *,
    seed: int = 0,
    recipe: str = "torch",
    skip_unknown: bool = False,
    device: str = "auto",
) -> torch.nn.Module:
    """Fills every parameter and persistent buffer of ``module`` in place, each from the stream of
    its qualified name (``encoder.layers.0.linear1.weight``), and returns the module.

    - ``recipe="torch"``: each layer type's ``reset_parameters``: Linear, Bilinear,
      Conv1d/2d/3d, ConvTranspose1d/2d/3d, Embedding (its ``padding_idx`` row 0), LayerNorm,
      GroupNorm, BatchNorm (running statistics 0/1), RMSNorm, RNN, LSTM, GRU,
      MultiheadAttention. A module with parameters and no known recipe is a TypeError naming it;
      ``skip_unknown=True`` leaves it as it is with a warning instead.
    - ``recipe="hf"``: transformers' ``_init_weights`` recipe for the module's class (every
      family of ``nninit init --config``: Llama, Mistral, Qwen2/3, the Gemmas, Phi-3, OLMo 2,
      Granite, SmolLM3, StarCoder2, Mixtral, Qwen2/3-MoE, DeepSeek-V3, gpt-oss, Llama 4, BERT, ViT,
      T5, GPT-2), read from ``module.config``; experts that transformers holds fused and saves
      per expert are filled part by part, each from its checkpoint key's stream (as DTensors
      too: each part's box within the local shard).
    - ``recipe="gpt2"``, ``"resnet18"``, ``"resnet50"``, ``"mlp"``: a preset's recipe, for a
      module whose state dict is the preset's (GPT-2's, torchvision's ResNets).

    The values are those ``nninit init`` writes for the same model (the layers as a model
    description, the Hugging Face config, or the preset). Tied tensors are filled once. DTensor
    parameters get their local shards (the torchtitan flow: meta device → parallelize →
    ``to_empty`` → ``init_module_``).
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, not {type(module).__name__}")
    seed = _seed(seed)
    if isinstance(recipe, str) and recipe.split(":")[0] in _frameworks.FRAMEWORKS:
        return _init_framework(module, recipe, seed=seed, device=device)
    rename, skipped, model_type = None, set(), None
    if recipe == "torch":
        described, skipped = _torch_recipe(module, skip_unknown)
    elif recipe == "hf":
        described, rename, model_type = _hf_recipe(module)
    elif recipe in _PRESETS:
        described = {t["name"]: t for t in _describe("preset", recipe)}
    else:
        raise ValueError(f"recipe {recipe!r}: one of {', '.join(RECIPES + _PRESETS)}")
    state = module.state_dict(keep_vars=True)
    filled: dict[int, str] = {}
    filled_keys: set[str] = set()
    for name, tensor in state.items():
        key = rename(name) if rename else name
        if id(tensor) in filled:
            continue  # tied to a tensor already filled
        parts = _expert_parts(model_type, name, list(tensor.shape))
        if parts is not None:
            _fill_expert_parts(name, tensor, parts, described, seed=seed, device=device)
            filled[id(tensor)] = key
            filled_keys.update(part for _, part in parts)
            continue
        description = described.get(key)
        if description is None:
            if name in skipped:
                continue
            raise ValueError(f"{name}: the {recipe} recipe has no tensor of that name")
        if list(tensor.shape) != description["shape"]:
            raise ValueError(
                f"{name}: shape {list(tensor.shape)}; the {recipe} recipe has {description['shape']}"
            )
        stream = stream_of_name(description["tied_to"] or description["name"])
        _fill(
            tensor,
            description["spec"],
            seed=seed,
            stream=stream,
            layout=description["layout"],
            device=device,
            zero_row=description["zero_row"],
            integer_zeros=description["int64"],
            name=name,
        )
        filled[id(tensor)] = key
        filled_keys.add(key)
    missing = sorted(set(described) - filled_keys - _tied_names(described))
    if missing and recipe != "torch":
        raise ValueError(f"the module has no tensor {missing[0]}, which the {recipe} recipe has")
    return module


def _fill_expert_parts(name, tensor, parts, described, *, seed, device):
    """Fills fused expert tensor ``tensor`` part by part, each part the values of its
    checkpoint key (its own stream), so that ``save_pretrained``'s split gives ``nninit init``'s
    per-expert tensors. A DTensor gets only its local shard: each part's box within each of its
    blocks, drawn at that box's offset in the part's own tensor, for any Shard/_StridedShard/
    Replicate placements (expert parallel Shard(0), tensor parallel Shard(1) or Shard(2),
    both)."""
    global_shape, local, boxes = _local_boxes(tensor, name)
    if local is tensor:
        local = tensor.data
    for index, key in parts:
        description = described.get(key)
        if description is None:
            raise ValueError(f"{name}: the hf recipe has no expert tensor {key}")
        expert = index[0]
        rows = index[1] if len(index) > 1 else slice(0, global_shape[1])
        part_shape = [rows.stop - rows.start, *global_shape[2:]]
        if part_shape != description["shape"]:
            raise ValueError(
                f"{name}[{expert}]: shape {part_shape}; {key} has {description['shape']}"
            )
        # The part's box in the global tensor, [expert] × rows × everything, met with each block.
        part_lo = [expert, rows.start] + [0] * (len(global_shape) - 2)
        part_hi = [expert + 1, rows.stop] + list(global_shape[2:])
        for box in boxes:
            lo = [max(p, o) for p, o in zip(part_lo, box.global_lo)]
            hi = [min(p, o + n) for p, o, n in zip(part_hi, box.global_lo, box.shape)]
            if any(l >= h for l, h in zip(lo, hi)):
                continue
            inner = tuple(
                slice(l - g + b, h - g + b)
                for l, h, g, b in zip(lo, hi, box.global_lo, box.local_lo)
            )
            _fill_local(
                local[inner][0],
                description["shape"],
                description["spec"],
                seed=seed,
                stream=stream_of_name(key),
                layout=description["layout"],
                offsets=[lo[1] - rows.start, *lo[2:]],
                local_shape=[h - l for l, h in zip(lo[1:], hi[1:])],
                device=device,
            )


def _named_tensors(module, owners=False):
    """(qualified name, tensor) of every parameter and persistent buffer, tied ones under each
    of their names: the module's own tensors, not ``state_dict``'s (whose hooks may hand out
    copies, as torchtitan's split of its fused ``wqkv``). ``owners``: (name, tensor, the module
    holding it)."""
    for prefix, child in module.named_modules(remove_duplicate=False):
        for name in _own_tensors(child):
            tensor = child._parameters.get(name)
            if tensor is None:
                tensor = child._buffers[name]
            if tensor is not None:
                full = f"{prefix}.{name}" if prefix else name
                yield (full, tensor, child) if owners else (full, tensor)


def _init_framework(module, recipe, *, seed, device):
    """``init_module_`` with a pretraining framework's recipe: every parameter and persistent
    buffer's role read from its name, its spec from the recipe's table, everything checked
    before anything is filled."""
    import json

    framework = _frameworks.FRAMEWORKS[recipe.split(":")[0]]
    # (the name that picks the stream, the tensor, (global shape, local tensor, boxes))
    named = []
    for name, tensor, owner in _named_tensors(module, owners=True):
        key = _frameworks.canonical_name(name)
        placed = framework.placement(module, key, tensor, owner)
        if placed is None:
            placed = _local_boxes(tensor, key)
        else:
            key, placed = placed
        named.append((key, tensor, placed))
    # The roles, with the model's depth where it says it (a placeholder until that is checked,
    # after the names: a model of another framework is named by its parameters first).
    depth = framework.depth(module)
    known = isinstance(depth, int) and depth > 0
    roles = [framework.role(module, k, p[0], depth if known else 1) for k, _, p in named]
    unknown = [k for (k, _, _), role in zip(named, roles) if role is None]
    if unknown:
        listed = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise ValueError(
            f"recipe {recipe!r}: {type(module).__name__} has parameters a {framework.name} model "
            f"does not: {listed}"
        )
    if not known:
        raise ValueError(
            f"recipe {recipe!r}: {type(module).__name__} has no {framework.name} config giving "
            "its number of layers; is it a model built by the framework?"
        )
    # One entry per name; a tied tensor's later names point at its first.
    entries, tensors, first = [], {}, {}
    for (key, tensor, placed), role in zip(named, roles):
        if id(tensor) in first:
            tied = entries[first[id(tensor)]]
            entries.append({**tied, "name": key, "tied_to": tied["name"]})
            continue
        first[id(tensor)] = len(entries)
        entries.append({"name": key, "shape": placed[0], "tied_to": None, **role})
        tensors[key] = (tensor, placed)
    resolved = _frameworks.resolve_recipe(recipe, framework, module, list(tensors))
    _frameworks.check_model_settings(framework, module)
    request = {"tied_embeddings": framework.tied(module), "tensors": entries}
    described = {t["name"]: t for t in _describe("roles", json.dumps(request), resolved)}
    # Check everything first: nothing is half-filled.
    for key, (tensor, (_, local, _)) in tensors.items():
        if local.device.type == "meta":
            raise ValueError(
                f"{key} is on the meta device: materialize the module first (to_empty)"
            )
        try:
            _dtype_code(local)
        except TypeError as error:
            raise TypeError(f"{key}: {error}") from None
    framework.init_buffers(module)
    for key, (tensor, placed) in tensors.items():
        description = described[key]
        _fill(
            tensor,
            description["spec"],
            seed=seed,
            stream=stream_of_name(key),
            layout=description["layout"],
            device=device,
            name=key,
            placed=placed,
        )
    return module


def _tied_names(described):
    return {name for name, t in described.items() if t["tied_to"]}

"""The pretraining frameworks' own model classes as nninit sees them: each parameter's role (the
key of a recipe) read from its name, its layer, the model's depth and the weight's fan-in. The
recipes themselves (role → spec) are the Rust library's, in one place (``src/model/recipe.rs``);
this module only names what each framework's parameters are.

- torchtitan 0.3.0: llama3, qwen3 (dense and MoE) and deepseek_v3 (``layers.N.…``; DeepSeek's
  ``mtp_layers.N.…`` as the last layer, whose config they copy);
- megatron-core: ``GPTModel`` (``embedding.word_embeddings``, ``decoder.layers.N.…``,
  ``output_layer``), dense, MoE and MLA;
- OLMo-core 3.0: ``Transformer`` and ``MoETransformer`` (``embeddings``, ``blocks.N.…``,
  ``lm_head.w_out``).

A parameter whose name a framework's table does not know is reported, never guessed.
"""

import math
import re

# Segments wrappers insert in parameter names (activation checkpointing, torch.compile, FSDP1).
_WRAPPERS = re.compile(r"(?:_checkpoint_wrapped_module|_orig_mod|_fsdp_wrapped_module)\.")


def _last(shape):
    """The fan-in of a weight whose last dimension is its input: torchtitan's fused experts
    (E, out, in)."""
    return shape[-1] if shape else 0


# (name pattern, role, fan-in: None for torch's `shape[1]·prod(shape[2:])`, or a function of
# (model, shape)). The layer is the number after `layers.`/`blocks.`.
_TORCHTITAN = [
    (r"tok_embeddings\.weight", "embedding", None),
    (r"(?:output|lm_head)\.weight", "output_head", None),
    (r"norm\.weight", "norm", None),
    (r"L\.attention\.qkv_linear\.wqkv\.weight", "attention.qkv", None),
    (r"L\.attention\.(?:qkv_linear\.)?wq\.weight", "attention.q", None),
    (r"L\.attention\.(?:qkv_linear\.)?wk\.weight", "attention.k", None),
    (r"L\.attention\.(?:qkv_linear\.)?wv\.weight", "attention.v", None),
    (r"L\.attention\.wq_a\.weight", "attention.q_a", None),
    (r"L\.attention\.wq_b\.weight", "attention.q_b", None),
    (r"L\.attention\.wkv_a\.weight", "attention.kv_a", None),
    (r"L\.attention\.wkv_b\.weight", "attention.kv_b", None),
    (r"L\.attention\.wo\.weight", "attention.o", None),
    (r"L\.attention\.(?:q_norm|k_norm|kv_norm)\.weight", "norm", None),
    (r"L\.(?:attention_norm|ffn_norm|enorm|hnorm|mtp_norm)\.weight", "norm", None),
    (r"L\.feed_forward\.w1\.weight", "mlp.gate", None),
    (r"L\.feed_forward\.w3\.weight", "mlp.up", None),
    (r"L\.feed_forward\.w2\.weight", "mlp.down", None),
    (r"L\.moe\.router\.gate\.weight", "router", None),
    (r"L\.moe\.routed_experts\.inner_experts\.w1_EFD", "expert.gate", lambda m, s: _last(s)),
    (r"L\.moe\.routed_experts\.inner_experts\.w3_EFD", "expert.up", lambda m, s: _last(s)),
    (r"L\.moe\.routed_experts\.inner_experts\.w2_EDF", "expert.down", lambda m, s: _last(s)),
    (r"L\.moe\.shared_experts\.w1\.weight", "shared_expert.gate", None),
    (r"L\.moe\.shared_experts\.w3\.weight", "shared_expert.up", None),
    (r"L\.moe\.shared_experts\.w2\.weight", "shared_expert.down", None),
    (r"L\.moe\.expert_bias_E", "router.score_bias", None),
    # DeepSeek's multi-token prediction projection has no param_init: reset_parameters.
    (r"L\.eh_proj\.weight", "linear", None),
]

# OLMo-core's MoE router is one flat [E·d] tensor, its experts [E·d, f] or [E·f, d]: the fan-ins
# are the model's width (router, w1, w3) and the expert's hidden size (w2).
_OLMO = [
    (r"embeddings\.weight", "embedding", None),
    (r"lm_head\.w_out\.weight", "output_head", None),
    (r"lm_head\.norm\.weight", "norm", None),
    (r"L\.attention\.w_qkv\.weight", "attention.qkv", None),
    (r"L\.attention\.w_q\.weight", "attention.q", None),
    (r"L\.attention\.w_k\.weight", "attention.k", None),
    (r"L\.attention\.w_v\.weight", "attention.v", None),
    (r"L\.attention\.w_out\.weight", "attention.o", None),
    (r"L\.attention\.(?:q_norm|k_norm)\.weight", "norm", None),
    (r"L\.(?:attention_norm|feed_forward_norm)\.weight", "norm", None),
    (r"L\.feed_forward\.w1\.weight", "mlp.gate", None),
    (r"L\.feed_forward\.w3\.weight", "mlp.up", None),
    (r"L\.feed_forward\.w2\.weight", "mlp.down", None),
    (r"L\.feed_forward_moe\.router\.weight", "router", lambda m, s: m.d_model),
    (r"L\.feed_forward_moe\.experts\.mlp\.w1", "expert.gate", lambda m, s: m.d_model),
    (r"L\.feed_forward_moe\.experts\.mlp\.w3", "expert.up", lambda m, s: m.d_model),
    (r"L\.feed_forward_moe\.experts\.mlp\.w2", "expert.down", lambda m, s: _olmo_hidden(m, s)),
]


def _olmo_hidden(model, shape):
    """An OLMo-core expert's hidden size: w2 is [E·f, d]."""
    blocks = getattr(model, "blocks", {})
    for block in blocks.values() if hasattr(blocks, "values") else blocks:
        moe = getattr(block, "feed_forward_moe", None)
        if moe is not None:
            return moe.experts.mlp.hidden_size
    return shape[0]


# megatron-core GPTModel (local and Transformer Engine layer specs). `linear_qkv` holds q, k
# and v; `linear_fc1` gate and up (SwiGLU): Megatron draws each with one init_method.
_MEGATRON = [
    (r"embedding\.word_embeddings\.weight", "embedding", None),
    (r"embedding\.position_embeddings\.weight", "position_embedding", None),
    (r"output_layer\.weight", "output_head", None),
    (r"decoder\.final_layernorm\.(?:weight|bias)", "norm", None),
    (r"L\.self_attention\.linear_qkv\.(?:weight|bias)", "attention.qkv", None),
    (r"L\.self_attention\.linear_qkv\.layer_norm_(?:weight|bias)", "norm", None),
    (r"L\.self_attention\.linear_q_proj\.weight", "attention.q", None),
    (r"L\.self_attention\.linear_q_down_proj\.weight", "attention.q_a", None),
    (r"L\.self_attention\.linear_q_up_proj\.weight", "attention.q_b", None),
    (r"L\.self_attention\.linear_kv_down_proj\.weight", "attention.kv_a", None),
    (r"L\.self_attention\.linear_kv_up_proj\.weight", "attention.kv_b", None),
    (r"L\.self_attention\.linear_(?:q_up|kv_up)_proj\.layer_norm_weight", "norm", None),
    (r"L\.self_attention\.(?:q_layernorm|k_layernorm|kv_layernorm)\.(?:weight|bias)", "norm", None),
    (r"L\.self_attention\.linear_proj\.(?:weight|bias)", "attention.o", None),
    (r"L\.(?:input_layernorm|pre_mlp_layernorm)\.(?:weight|bias)", "norm", None),
    (r"L\.mlp\.linear_fc1\.(?:weight|bias)", "mlp.gate_up", None),
    (r"L\.mlp\.linear_fc1\.layer_norm_(?:weight|bias)", "norm", None),
    (r"L\.mlp\.linear_fc2\.(?:weight|bias)", "mlp.down", None),
    (r"L\.mlp\.router\.(?:weight|bias)", "router", None),
    (r"L\.mlp\.router\.expert_bias", "router.score_bias", None),
    (r"L\.mlp\.experts\.(?:local_experts\.\d+\.)?linear_fc1\.weight\d*", "expert.gate_up", None),
    (r"L\.mlp\.experts\.(?:local_experts\.\d+\.)?linear_fc2\.weight\d*", "expert.down", None),
    (r"L\.mlp\.experts\.weight1", "expert.gate_up", lambda m, s: s[0]),
    (r"L\.mlp\.experts\.weight2", "expert.down", lambda m, s: s[0]),
    (r"L\.mlp\.shared_experts\.linear_fc1\.weight", "shared_expert.gate_up", None),
    (r"L\.mlp\.shared_experts\.linear_fc2\.weight", "shared_expert.down", None),
    (r"L\.mlp\.shared_experts\.gate_weight", "shared_expert.router", None),
]


class Framework:
    """One framework's naming: its rule table, the name of its layer stack, where its model
    keeps its depth."""

    def __init__(self, name, stack, rules, depth, tied, placement=None, buffers=None):
        self.name, self.depth, self.tied = name, depth, tied
        self._placement, self._buffers = placement, buffers
        layer = rf"(?P<stack>{stack})\.(?P<layer>\d+)"
        self.rules = [
            (re.compile(pattern.replace("L", layer, 1) if pattern.startswith("L") else pattern), role, fan_in)
            for pattern, role, fan_in in rules
        ]

    def init_buffers(self, model):
        """The framework's own computed buffers (torchtitan's RoPE caches), which are no
        initial weights: what its init computes besides its draws."""
        if self._buffers:
            self._buffers(model)

    def placement(self, model, name, tensor, owner):
        """For a framework whose shards are plain tensors (Megatron): (the global name, (global
        shape, local tensor, boxes)); None where the tensor says itself (a DTensor, or whole)."""
        return self._placement(model, name, tensor, owner) if self._placement else None

    def role(self, model, name, shape, depth):
        """The role entry of parameter ``name`` of ``shape``, or None if no rule knows it."""
        for pattern, role, fan_in in self.rules:
            match = pattern.fullmatch(name)
            if match is None:
                continue
            groups = match.groupdict()
            layer = int(groups["layer"]) if groups.get("layer") is not None else None
            # DeepSeek's MTP blocks copy the last layer's config: torchtitan scales them as
            # layer L - 1.
            if layer is not None and groups["stack"].startswith("mtp"):
                layer = depth - 1
            last = name.rsplit(".", 1)[-1]
            part = "bias" if last.endswith("bias") and role != "router.score_bias" else "weight"
            if role == "router.score_bias":
                part = "buffer"
            if fan_in is None:
                fan = shape[1] * math.prod(shape[2:]) if len(shape) >= 2 else 0
            else:
                fan = int(fan_in(model, shape))
            return {"role": role, "part": part, "layer": layer, "depth": depth, "fan_in": fan}
        return None


def _titan_buffers(model):
    """torchtitan's ``init_states`` with every module's parameter init switched off: its RoPE
    caches and MoE counters computed (and re-distributed where they are DTensors) as torchtitan
    computes them, no parameter drawn."""
    try:
        from torchtitan.protocols.module import Module
    except ImportError:
        return
    if not isinstance(model, Module):
        return
    switched = [m for m in model.modules() if isinstance(m, Module)]
    for module in switched:
        module._init_self_parameters = lambda: None
    try:
        model.init_states()
    finally:
        for module in switched:
            del module._init_self_parameters


def _titan_depth(model):
    config = getattr(model, "config", None)
    layers = getattr(config, "layers", None)
    if layers is not None and not isinstance(layers, int):
        return len(layers)
    for attribute in ("n_layers", "num_layers"):
        if isinstance(getattr(config, attribute, None), int):
            return getattr(config, attribute)
    return None


def _megatron_placement(model, name, tensor, owner):
    """A megatron-core tensor's global name and boxes. Megatron's tensor-parallel shards are
    plain tensors: ``tensor_model_parallel``, ``partition_dim`` and ``partition_stride`` say how
    the owning layer's ``tp_group`` splits them (rank r holds chunks r, r + T, … of T·stride
    chunks: gate and up of ``linear_fc1`` each split T ways); an expert-parallel rank's
    ``local_experts.e`` is global expert ep_rank · n_local + e, and a pipeline stage's
    ``decoder.layers.i`` its ``layer_number - 1``."""
    from .torch import Box

    name = _megatron_global_name(model, name)
    shape = list(tensor.shape)
    whole = [Box([0] * len(shape), [0] * len(shape), shape)]
    if not getattr(tensor, "tensor_model_parallel", False):
        return name, (shape, tensor.data, whole)
    group = getattr(owner, "tp_group", None)
    size, rank = (group.size(), group.rank()) if group is not None else (1, 0)
    dim, stride = tensor.partition_dim, getattr(tensor, "partition_stride", 1)
    global_shape = list(shape)
    global_shape[dim] = shape[dim] * size
    chunk = shape[dim] // stride
    boxes = []
    for s in range(stride):
        global_lo, local_lo, extent = [0] * len(shape), [0] * len(shape), list(shape)
        global_lo[dim], local_lo[dim], extent[dim] = (s * size + rank) * chunk, s * chunk, chunk
        boxes.append(Box(global_lo, local_lo, extent))
    return name, (global_shape, tensor.data, boxes)


def _megatron_global_name(model, name):
    """``name`` with a pipeline stage's local layer index and an expert-parallel rank's local
    expert index made global."""
    match = re.match(r"decoder\.layers\.(\d+)\.", name)
    if match:
        layer = model.decoder.layers[int(match.group(1))]
        name = f"decoder.layers.{layer.layer_number - 1}." + name[match.end() :]
    match = re.search(r"\.mlp\.experts\.local_experts\.(\d+)\.", name)
    if match:
        from megatron.core import parallel_state

        experts = model.get_submodule(name[: match.start()] + ".mlp.experts")
        first = parallel_state.get_expert_model_parallel_rank() * len(experts.local_experts)
        index = first + int(match.group(1))
        name = f"{name[: match.start()]}.mlp.experts.local_experts.{index}.{name[match.end():]}"
    return name


def _megatron_depth(model):
    return getattr(getattr(model, "config", None), "num_layers", None)


def _olmo_depth(model):
    return getattr(model, "n_layers", None)


def _titan_tied(model):
    return bool(getattr(getattr(model, "config", None), "enable_weight_tying", False))


def _megatron_tied(model):
    return bool(getattr(model, "share_embeddings_and_output_weights", False))


def _olmo_tied(model):
    return bool(getattr(model, "tie_word_embeddings", False))


# Each framework: its name, its layer stack, its rules, and where its model keeps
# its depth and whether its head is its embedding (a pipeline stage holds one of them or none).
FRAMEWORKS = {
    "torchtitan": Framework(
        "torchtitan",
        "mtp_layers|layers",
        _TORCHTITAN,
        _titan_depth,
        _titan_tied,
        buffers=_titan_buffers,
    ),
    "megatron": Framework(
        "megatron",
        "decoder\\.layers",
        _MEGATRON,
        _megatron_depth,
        _megatron_tied,
        _megatron_placement,
    ),
    "olmo": Framework("olmo", "blocks", _OLMO, _olmo_depth, _olmo_tied),
}


def canonical_name(name):
    """A parameter's name without the segments wrappers insert."""
    return _WRAPPERS.sub("", name)


def resolve_recipe(recipe, framework, model, names):
    """The full recipe name for ``model``: torchtitan's family from its class and whether it
    has routed experts; OLMo-core's method from the model's own ``init_method``."""
    if ":" in recipe:
        return recipe
    if framework.name == "torchtitan":
        kind = type(model).__name__.lower()
        moe = any("routed_experts" in n for n in names)
        if "qwen3" in kind:
            return "torchtitan:qwen3_moe" if moe else "torchtitan:qwen3"
        if "deepseek" in kind:
            return "torchtitan:deepseek_v3"
        return "torchtitan:llama3"
    if framework.name == "olmo":
        method = str(getattr(model, "init_method", "normal"))
        return f"olmo:{method}"
    return recipe


# Settings of a framework's model that nninit's tables take at their defaults: (attribute path,
# the value assumed).
_ASSUMED = {
    "olmo": [("init_std", 0.02), ("embedding_init_std", None)],
    "megatron": [("config.init_method_std", 0.02)],
}


def check_model_settings(framework, model):
    """A ValueError naming the first setting of ``model`` that the recipe as nninit draws it
    does not take (a base σ other than 0.02)."""
    for path, wanted in _ASSUMED.get(framework.name, []):
        value = model
        for part in path.split("."):
            value = getattr(value, part, wanted)
        if value != wanted:
            raise ValueError(
                f"{type(model).__name__}.{path} = {value}: nninit's {framework.name} recipe "
                f"draws with {path} = {wanted}"
            )

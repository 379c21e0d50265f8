"""The small framework models the tests build with each framework's own config classes."""


def olmo_model(kind, method="llama_depth", shared_expert=False):
    """An OLMo-core 3.0 ``TransformerConfig``: ``dense`` (a llama-like GQA model with q/k norms)
    or ``moe`` (llama-like MoE, 4 experts; a shared expert only if asked: OLMo-core's recipe
    leaves it to PyTorch's global generator), with init method ``method``."""
    from olmo_core.nn.transformer import InitMethod, TransformerBlockType, TransformerConfig

    if kind == "dense":
        return TransformerConfig.llama_like(
            d_model=64,
            vocab_size=96,
            n_layers=3,
            n_heads=8,
            n_kv_heads=4,
            qk_norm=True,
            block_name=TransformerBlockType.reordered_norm,
            hidden_size_multiple_of=32,
            init_method=InitMethod(method),
        )
    return TransformerConfig.llama_like_moe(
        d_model=64,
        vocab_size=96,
        n_layers=2,
        n_heads=8,
        num_experts=4,
        top_k=2,
        expert_hidden_size=32,
        shared_expert_hidden_size=32 if shared_expert else None,
        reordered_norm=True,
        init_method=InitMethod(method),
    )

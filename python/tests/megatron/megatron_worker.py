"""megatron-core's GPTModel filled by nninit.torch.init_module_(recipe="megatron"), checked
against megatron-core itself; run by test_megatron.py in .venv-megatron (megatron-core 0.19
needs Python >= 3.12):

    python megatron_worker.py single                                  # vs Megatron's own init
    torchrun --nproc-per-node N megatron_worker.py layout TP EP       # vs one process
    torchrun --nproc-per-node 2 megatron_worker.py pipeline           # 2 stages vs one process

`single`: for a dense (untied, tied, with biases), a MoE (shared expert with its gate, expert
bias, router bias) and an MLA model (local layer spec, use_cpu_initialization), every tensor of
init_module_'s model against the same model as Megatron initializes it: constants exactly, then
moments, zero rows and a two-sample KS test at 1e-6 (python/tests/distribution.py). It also saves
init_module_'s values to /tmp/megatron-one-process-<variant>.pt.
`pipeline`: the dense model in 2 pipeline stages (each building its own layers, the first the
embedding, the last the final norm and head), each filled alone: every tensor, under its global
name, equals the one-process value.
`layout TP EP`: the same models built with tensor parallel TP and expert parallel EP (plain local
tensors with Megatron's partition attributes), filled by init_module_, gathered and put together
as Megatron splits them (rank r holds chunks r, r+T, ... along partition_dim), compared bit for
bit with the one-process values.

CPU workarounds (megatron-core assumes CUDA in a few constructors; none touches a value):
`torch.cuda.current_device` returns "cpu" (router expert bias, MLA rotary embedding); the
allgather token dispatcher; MLA's local spec gets a DotProductAttention that accepts the
k_channels/v_channels it is passed, and `HAVE_TE` is off.
"""

import os
import sys
import warnings

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from distribution import compare  # noqa: E402
from gathered import finish  # noqa: E402

warnings.filterwarnings("ignore")
VARIANTS = ["dense", "dense_tied", "dense_bias", "moe", "mla"]


def setup(tp=1, ep=1, pp=1):
    torch.cuda.current_device = lambda: "cpu"
    if not dist.is_initialized():
        if "WORLD_SIZE" in os.environ:
            dist.init_process_group("gloo")
        else:
            dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    from megatron.core import parallel_state

    parallel_state.destroy_model_parallel()
    parallel_state.initialize_model_parallel(
        tensor_model_parallel_size=tp,
        expert_model_parallel_size=ep,
        pipeline_model_parallel_size=pp,
    )


def build(variant, tp=1, ep=1, pp=1):
    import torch.nn.functional as F
    from megatron.core.models.gpt import GPTModel
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
    from megatron.core.transformer.transformer_config import (
        MLATransformerConfig,
        TransformerConfig,
    )

    kw = dict(
        num_layers=4,
        pipeline_model_parallel_size=pp,
        pipeline_dtype=torch.float32, hidden_size=64, ffn_hidden_size=128, num_attention_heads=4,
        num_query_groups=2, gated_linear_unit=True, activation_func=F.silu,
        normalization="RMSNorm", add_bias_linear=variant == "dense_bias",
        use_cpu_initialization=True, init_method_std=0.02, params_dtype=torch.float32,
        hidden_dropout=0.0, attention_dropout=0.0, tensor_model_parallel_size=tp,
        expert_model_parallel_size=ep,
    )
    config_class = TransformerConfig
    if variant == "moe":
        kw.update(
            num_moe_experts=4, moe_router_topk=2, moe_ffn_hidden_size=32,
            moe_token_dispatcher_type="allgather", moe_shared_expert_intermediate_size=48,
            moe_shared_expert_gate=True, moe_router_enable_expert_bias=True,
            moe_router_score_function="sigmoid", moe_router_bias_update_rate=1e-3,
        )
    if variant == "mla":
        config_class = MLATransformerConfig
        kw.pop("num_query_groups")
        kw.update(
            multi_latent_attention=True, q_lora_rank=32, kv_lora_rank=16, qk_head_dim=16,
            qk_pos_emb_head_dim=8, v_head_dim=16, rope_type="rope", qk_layernorm=True,
        )
    config = config_class(**kw)
    spec = get_gpt_layer_local_spec(
        num_experts=config.num_moe_experts,
        qk_layernorm=config.qk_layernorm,
        multi_latent_attention=config.multi_latent_attention,
        normalization=config.normalization,
    )
    if config.multi_latent_attention:
        import megatron.core.transformer.multi_latent_attention as mla
        from megatron.core.transformer.dot_product_attention import DotProductAttention

        class Attention(DotProductAttention):
            def __init__(self, *a, k_channels=None, v_channels=None, **kw):
                super().__init__(*a, **kw)

        spec.submodules.self_attention.submodules.core_attention = Attention
        mla.HAVE_TE = False
    from megatron.core import parallel_state

    return GPTModel(
        config=config, transformer_layer_spec=spec, vocab_size=256, max_sequence_length=32,
        share_embeddings_and_output_weights=variant == "dense_tied",
        pre_process=parallel_state.is_pipeline_first_stage(),
        post_process=parallel_state.is_pipeline_last_stage(),
    )


def single():
    import nninit.torch as nt

    setup()
    failures = 0
    for variant in VARIANTS:
        torch.manual_seed(1234)
        theirs = dict(nt._named_tensors(build(variant)))
        ours = nt.init_module_(build(variant), recipe="megatron", seed=7)
        values = {}
        for name, tensor in nt._named_tensors(ours):
            why = compare(tensor, theirs[name])
            failures += why is not None
            if why:
                print(f"{variant} {name}: {why}")
            values[name] = tensor.detach().clone()
        torch.save(values, f"/tmp/megatron-one-process-{variant}.pt")
        print(f"{variant}: {len(values)} tensors against Megatron's own init")
    print(f"single: {failures} differ")


def layout(tp, ep):
    import nninit.torch as nt
    from megatron.core import parallel_state

    setup(tp, ep)
    failures = 0
    for variant in VARIANTS:
        if ep > 1 and variant != "moe":
            continue
        model = nt.init_module_(build(variant, tp, ep), recipe="megatron", seed=7)
        expected = torch.load(f"/tmp/megatron-one-process-{variant}.pt")
        ep_rank = parallel_state.get_expert_model_parallel_rank()
        for name, tensor, owner in nt._named_tensors(model, owners=True):
            local = tensor.detach()
            if getattr(tensor, "tensor_model_parallel", False):
                group = owner.tp_group
                pieces = [torch.empty_like(local) for _ in range(group.size())]
                dist.all_gather(pieces, local.contiguous(), group=group)
                stride, dim = tensor.partition_dim, tensor.partition_dim
                stride = getattr(tensor, "partition_stride", 1)
                chunks = [p.chunk(stride, dim) for p in pieces]
                local = torch.cat([chunks[r][s] for s in range(stride) for r in range(len(pieces))], dim)
            key = nt._frameworks._megatron_global_name(model, name)
            same = torch.equal(local, expected[key])
            failures += not same
            if not same:
                print(f"rank {dist.get_rank()} ep {ep_rank} {variant} {key}: differs")
    dist.barrier()
    if dist.get_rank() == 0:
        print(f"layout tp {tp} ep {ep}: {failures} differ on rank 0")


def pipeline():
    import nninit.torch as nt

    setup(pp=2)
    model = nt.init_module_(build("dense", pp=2), recipe="megatron", seed=7)
    expected = torch.load("/tmp/megatron-one-process-dense.pt")
    names, failures = [], 0
    for name, tensor in nt._named_tensors(model):
        key = nt._frameworks._megatron_global_name(model, name)
        names.append(key)
        if not torch.equal(tensor.detach(), expected[key]):
            failures += 1
            print(f"stage {dist.get_rank()} {key}: differs")
    held = [None] * dist.get_world_size()
    dist.all_gather_object(held, names)
    if dist.get_rank() == 0:
        every = sorted(n for stage in held for n in stage)
        print(f"pipeline: {failures} differ on stage 0; stages hold every tensor once: "
              f"{every == sorted(expected)}")


if __name__ == "__main__":
    if sys.argv[1] == "single":
        single()
    elif sys.argv[1] == "pipeline":
        pipeline()
    else:
        layout(int(sys.argv[2]), int(sys.argv[3]))
    finish()

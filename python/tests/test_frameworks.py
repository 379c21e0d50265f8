"""The pretraining frameworks' recipes in their own model classes (torchtitan 0.3.0 here):
``init_module_(recipe="torchtitan")`` on the models the framework builds, each tensor's
distribution against the framework's own ``init_states()`` (constants exactly; moments, zero
rows and a two-sample KS test at 1e-6), bit-identical values for every FSDP × TP × EP layout
that torchtitan's own ``parallelize_fn`` gives (``_StridedShard`` included) and for a pipeline
stage filled on its own, and bad input refused before anything is filled."""

import importlib
from pathlib import Path

import pytest
import torch

import nninit.torch as nt
from distribution import compare
from launch import torchrun

TORCHTITAN_WORKER = Path(__file__).with_name("torchtitan_worker.py")


def titan(model_name, flavor, **options):
    """A torchtitan model as its users build it: from the model registry, on the meta device,
    then materialized on the CPU."""
    module = importlib.import_module(f"torchtitan.models.{model_name}")
    spec = module.model_registry(flavor, **options)
    with torch.device("meta"):
        model = spec.model.build()
    model.to_empty(device="cpu")
    return model


@pytest.mark.parametrize(
    "model_name,flavor,options",
    [
        ("llama3", "debugmodel", {}),
        ("qwen3", "debugmodel", {}),  # tied embeddings
        ("qwen3", "debugmodel_moe", {}),
        ("deepseek_v3", "debugmodel", {"num_mtp_layers": 1}),  # with a multi-token prediction block
    ],
)
def test_torchtitan_recipe_draws_what_init_states_draws(model_name, flavor, options):
    theirs = titan(model_name, flavor, **options)
    torch.manual_seed(0)
    with torch.no_grad():
        theirs.init_states()
    ours = nt.init_module_(titan(model_name, flavor, **options), recipe="torchtitan", seed=1)
    theirs_tensors = dict(nt._named_tensors(theirs))
    checked = 0
    for name, tensor in nt._named_tensors(ours):
        why = compare(tensor, theirs_tensors[name])
        assert why is None, f"{model_name} {name}: {why}"
        checked += 1
    assert checked == len(theirs_tensors)


def test_torchtitan_layouts_give_the_one_process_values():
    # FSDP 4, FSDP 2 × TP 2 (torchtitan's own parallelize: fully_shard over TP, _StridedShard),
    # TP 4; DeepSeek-V3's experts under EP 4 and FSDP 2 × TP 2 × EP 2.
    out = torchrun(4, TORCHTITAN_WORKER, "llama3", "debugmodel", "4,1,1", "2,2,1", "1,4,1")
    lines = [line for line in out.splitlines() if line.startswith("torchtitan")]
    assert len(lines) == 3, out
    assert all("0 differ" in line for line in lines), out
    assert "_StridedShard" in lines[1], lines[1]
    out = torchrun(4, TORCHTITAN_WORKER, "deepseek_v3", "debugmodel", "4,1,4", "2,2,2")
    lines = [line for line in out.splitlines() if line.startswith("torchtitan")]
    assert len(lines) == 2 and all("0 differ" in line for line in lines), out


def test_a_torchtitan_pipeline_stage_filled_alone_holds_the_one_process_values():
    from torchtitan.distributed.pipeline_parallel import (
        _generate_llm_fqn_per_model_part,
        _split_module,
    )

    whole = nt.init_module_(titan("llama3", "debugmodel"), recipe="torchtitan", seed=9)
    values = dict(nt._named_tensors(whole))
    spec = importlib.import_module("torchtitan.models.llama3").model_registry("debugmodel")
    parts = _generate_llm_fqn_per_model_part(
        num_stages=2, num_layers=len(spec.model.layers), input_weight=1, output_weight=1
    )
    for names in parts:
        with torch.device("meta"):
            stage = _split_module(spec.model.build(), names)
        stage.to_empty(device="cpu")
        nt.init_module_(stage, recipe="torchtitan", seed=9)
        held = dict(nt._named_tensors(stage))
        assert held, names
        for name, tensor in held.items():
            assert torch.equal(tensor, values[name]), name


def sevens(model):
    """``model`` with every tensor 7 (``to_empty`` leaves whatever memory held, NaNs too)."""
    with torch.no_grad():
        for _, tensor in nt._named_tensors(model):
            tensor.fill_(7)
    return model


def test_a_recipe_for_another_framework_names_the_parameters_it_does_not_know():
    model = sevens(titan("llama3", "debugmodel"))
    before = {n: t.clone() for n, t in nt._named_tensors(model)}
    with pytest.raises(ValueError, match=r"megatron.*tok_embeddings\.weight"):
        nt.init_module_(model, recipe="megatron", seed=0)
    with pytest.raises(ValueError, match="recipe 'titan'"):
        nt.init_module_(model, recipe="titan", seed=0)
    with pytest.raises(ValueError, match="torchtitan:gpt9"):
        nt.init_module_(model, recipe="torchtitan:gpt9", seed=0)
    after = dict(nt._named_tensors(model))
    assert all(torch.equal(before[n], after[n]) for n in before), "a refused call filled something"


def test_a_parameter_left_on_the_meta_device_is_refused_before_anything_is_filled():
    model = sevens(titan("llama3", "debugmodel"))
    before = {n: t.clone() for n, t in nt._named_tensors(model)}
    model.norm.weight = torch.nn.Parameter(torch.empty(model.norm.weight.shape, device="meta"))
    with pytest.raises(ValueError, match=r"norm\.weight is on the meta device"):
        nt.init_module_(model, recipe="torchtitan", seed=0)
    after = dict(nt._named_tensors(model))
    for name, tensor in before.items():
        if name != "norm.weight":
            assert torch.equal(tensor, after[name]), f"{name} was filled"


OLMO_WORKER = Path(__file__).with_name("olmo_worker.py")


@pytest.mark.parametrize("kind", ["dense", "moe"])
@pytest.mark.parametrize("method", ["normal", "llama", "llama_depth", "fan_in"])
def test_olmo_recipe_draws_what_init_weights_draws(kind, method):
    from frameworks_models import olmo_model

    theirs = olmo_model(kind, method).build(init_device="meta")
    theirs.init_weights(device=torch.device("cpu"))
    ours = olmo_model(kind, method).build(init_device="meta")
    ours.to_empty(device="cpu")
    # recipe="olmo" takes the model's own init_method.
    nt.init_module_(ours, recipe="olmo", seed=2)
    theirs_tensors = dict(nt._named_tensors(theirs))
    for name, tensor in nt._named_tensors(ours):
        why = compare(tensor, theirs_tensors[name])
        assert why is None, f"{kind} {method} {name}: {why}"


def test_olmo_layouts_give_the_one_process_values():
    # OLMo-core's own parallelize_model: FSDP 4, FSDP 2 × TP 2 (_StridedShard), TP 4, and the
    # MoE under HSDP with expert parallelism 2 and 4.
    for kind, layout in [
        ("dense", "fsdp4"),
        ("dense", "fsdp2tp2"),
        ("dense", "fsdp1tp4"),
        ("moe", "hsdp2x2ep2"),
        ("moe", "hsdp1x4ep4"),
    ]:
        out = torchrun(4, OLMO_WORKER, kind, layout)
        line = next(line for line in out.splitlines() if line.startswith("olmo"))
        assert "0 differ" in line, out
        if "tp2" in layout:
            assert "_StridedShard" in line, line


def forward_equals_the_frameworks_own(ours, theirs, tokens):
    """``ours`` (filled by nninit) and ``theirs`` (initialized by the framework, then given
    ours' parameters) compute the same logits: whatever the framework computes at init besides
    its draws (RoPE caches, …) is there."""
    theirs.load_state_dict(ours.state_dict())
    with torch.no_grad():
        assert torch.equal(ours(tokens), theirs(tokens))


@pytest.mark.parametrize("model_name", ["llama3", "deepseek_v3"])
def test_torchtitans_computed_buffers_are_there_after_nninit(model_name):
    # init_states computes RoPE caches (non-persistent) and MoE counters besides its draws;
    # in place of init_states, init_module_ leaves them as torchtitan computes them.
    ours = nt.init_module_(titan(model_name, "debugmodel"), recipe="torchtitan", seed=4)
    theirs = titan(model_name, "debugmodel")
    with torch.no_grad():
        theirs.init_states()
    theirs_buffers = dict(theirs.named_buffers())
    assert any("rope" in name for name in theirs_buffers), list(theirs_buffers)
    for name, buffer in ours.named_buffers():
        assert torch.equal(buffer, theirs_buffers[name]), name


def test_an_olmo_model_filled_by_nninit_runs_as_the_framework_initialized_it():
    from frameworks_models import olmo_model

    ours = olmo_model("dense").build(init_device="meta")
    ours.to_empty(device="cpu")
    nt.init_module_(ours, recipe="olmo", seed=4)
    theirs = olmo_model("dense").build(init_device="meta")
    theirs.init_weights(device=torch.device("cpu"))
    forward_equals_the_frameworks_own(ours, theirs, torch.randint(0, 96, (2, 16)))


def test_olmo_settings_and_parameters_its_recipe_does_not_draw_are_refused_by_name():
    from frameworks_models import olmo_model

    config = olmo_model("dense")
    config.init_std = 0.01
    model = config.build(init_device="meta")
    model.to_empty(device="cpu")
    with pytest.raises(ValueError, match=r"init_std = 0\.01"):
        nt.init_module_(model, recipe="olmo", seed=0)
    # OLMo-core 3.0 never draws a MoE's shared MLP (it keeps nn.Linear's default from the global
    # generator): nninit names it rather than guess.
    config = olmo_model("moe", shared_expert=True)
    model = config.build(init_device="meta")
    model.to_empty(device="cpu")
    with pytest.raises(ValueError, match=r"shared_mlp"):
        nt.init_module_(model, recipe="olmo", seed=0)

"""nninit.torch: init_ and init_module_ give the values `nninit init` writes for the same model —
PyTorch's layer recipes through a model description, transformers' through the config, the
presets by name — on contiguous and strided tensors; unknown modules are refused by name."""

import json

import pytest
import torch  # the tests need it: pip install torch
from conftest import run_cli, tensors_of

import nninit
import nninit.torch as nt


def as_bytes(tensor):
    t = tensor.detach().contiguous().reshape(-1)
    if t.is_floating_point():
        t = t.view({4: torch.int32, 2: torch.int16}[t.element_size()])
    return t.numpy().tobytes()


def assert_state_equals_file(module, path, skip=()):
    stored = tensors_of(path)
    state = module.state_dict()
    for name, (dtype, shape, data) in stored.items():
        assert list(state[name].shape) == shape, name
        assert as_bytes(state[name]) == data, name
    left = set(state) - set(stored) - set(skip)
    return left


def test_init_fills_cpu_and_strided_tensors_with_fill_values():
    for dtype, name in [
        (torch.float32, "float32"),
        (torch.float16, "float16"),
        (torch.bfloat16, "bfloat16"),
    ]:
        t = torch.empty(30, 40, dtype=dtype)
        nt.init_(t, "kaiming_normal(mode=fan_out)", seed=5, name="w")
        expected = nninit.fill(
            (30, 40), "kaiming_normal(mode=fan_out)", seed=5, name="w", dtype=name, device="cpu"
        )
        assert as_bytes(t) == expected.tobytes()
        # A transposed view goes through a host buffer and copy_: the values of its own shape.
        base = torch.empty(40, 30, dtype=dtype)
        view = base.T
        nt.init_(view, "kaiming_normal(mode=fan_out)", seed=5, name="w")
        assert as_bytes(view) == expected.tobytes()
    p = torch.nn.Parameter(torch.empty(8, 8))
    nt.init_(p, "orthogonal")
    assert p.requires_grad


# Every layer type init_module_'s torch recipe knows, and the same layers as a model description.
class Everything(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(12, 7)
        self.nobias = torch.nn.Linear(5, 3, bias=False)
        self.bil = torch.nn.Bilinear(4, 6, 3)
        self.c1 = torch.nn.Conv1d(4, 6, 3)
        self.c2 = torch.nn.Conv2d(4, 8, (3, 5), groups=2)
        self.c3 = torch.nn.Conv3d(2, 3, 2, bias=False)
        self.t2 = torch.nn.ConvTranspose2d(6, 4, 3, groups=2)
        self.emb = torch.nn.Embedding(20, 6, padding_idx=3)
        self.ln = torch.nn.LayerNorm([4, 6])
        self.gn = torch.nn.GroupNorm(2, 8)
        self.bn = torch.nn.BatchNorm2d(8)
        self.rms = torch.nn.RMSNorm(6)
        self.rnn = torch.nn.RNN(5, 4)
        self.lstm = torch.nn.LSTM(5, 4, num_layers=2, bidirectional=True)
        self.gru = torch.nn.GRU(3, 6, bias=False)
        self.mha = torch.nn.MultiheadAttention(8, 2)
        self.seq = torch.nn.Sequential(
            torch.nn.Linear(3, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)
        )


DESCRIPTION = [
    {"layer": "linear", "name": "fc", "in": 12, "out": 7},
    {"layer": "linear", "name": "nobias", "in": 5, "out": 3, "bias": False},
    {"layer": "bilinear", "name": "bil", "in1": 4, "in2": 6, "out": 3},
    {"layer": "conv1d", "name": "c1", "in": 4, "out": 6, "kernel": 3},
    {"layer": "conv2d", "name": "c2", "in": 4, "out": 8, "kernel": [3, 5], "groups": 2},
    {"layer": "conv3d", "name": "c3", "in": 2, "out": 3, "kernel": 2, "bias": False},
    {"layer": "conv_transpose2d", "name": "t2", "in": 6, "out": 4, "kernel": 3, "groups": 2},
    {"layer": "embedding", "name": "emb", "num": 20, "dim": 6, "padding_idx": 3},
    {"layer": "layer_norm", "name": "ln", "shape": [4, 6]},
    {"layer": "group_norm", "name": "gn", "groups": 2, "channels": 8},
    {"layer": "batch_norm", "name": "bn", "features": 8},
    {"name": "rms.weight", "shape": [6], "init": "ones"},
    {"layer": "rnn", "name": "rnn", "input": 5, "hidden": 4},
    {
        "layer": "lstm",
        "name": "lstm",
        "input": 5,
        "hidden": 4,
        "num_layers": 2,
        "bidirectional": True,
    },
    {"layer": "gru", "name": "gru", "input": 3, "hidden": 6, "bias": False},
    {"layer": "multihead_attention", "name": "mha", "embed_dim": 8, "num_heads": 2},
    {"layer": "linear", "name": "seq.0", "in": 3, "out": 3},
    {"layer": "linear", "name": "seq.2", "in": 3, "out": 2},
]


def test_the_torch_recipe_is_nninit_init_of_the_same_layers(tmp_path):
    description = tmp_path / "everything.json"
    description.write_text(json.dumps(DESCRIPTION))
    path = tmp_path / "everything.safetensors"
    run_cli("init", "--model", description, "--seed", 9, "--device", "cpu", "--out", path)
    module = Everything()
    nt.init_module_(module, seed=9, device="cpu")
    assert assert_state_equals_file(module, path) == set()
    assert torch.all(module.emb.weight[3] == 0)


def test_presets_and_hugging_face_configs(tmp_path):
    import torchvision

    path = tmp_path / "resnet18.safetensors"
    run_cli("init", "--model", "resnet18", "--seed", 1, "--device", "cpu", "--out", path)
    resnet = torchvision.models.resnet18()
    nt.init_module_(resnet, seed=1, recipe="resnet18", device="cpu")
    assert assert_state_equals_file(resnet, path) == set()


def test_gpt2_through_the_preset_and_its_config(tmp_path):
    import transformers

    path = tmp_path / "gpt2.safetensors"
    run_cli("init", "--model", "gpt2", "--seed", 2, "--device", "cpu", "--out", path)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config())
    nt.init_module_(model, seed=2, recipe="gpt2", device="cpu")
    assert assert_state_equals_file(model, path) == set()
    # The same model through transformers' recipe for its config: nninit init --config.
    config = tmp_path / "config.json"
    config.write_text(model.config.to_json_string())
    run_cli("init", "--config", config, "--seed", 2, "--device", "cpu", "--out", tmp_path / "hf")
    nt.init_module_(model, seed=2, recipe="hf", device="cpu")
    left = assert_state_equals_file(model, tmp_path / "hf" / "model.safetensors")
    assert left == {"lm_head.weight"}  # tied to transformer.wte.weight, not saved
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()


# One small config per class: init_module_(recipe="hf") equals `nninit init --config`.
CONFIGS = {
    # Mixtures of experts: fused in memory; Mixtral, Qwen2-MoE and DeepSeek-V3 saved per expert.
    "MixtralForCausalLM": {
        "model_type": "mixtral",
        "vocab_size": 85,
        "hidden_size": 16,
        "intermediate_size": 20,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "num_local_experts": 4,
        "num_experts_per_tok": 2,
    },
    "Qwen2MoeForCausalLM": {
        "model_type": "qwen2_moe",
        "vocab_size": 83,
        "hidden_size": 16,
        "intermediate_size": 28,
        "moe_intermediate_size": 12,
        "shared_expert_intermediate_size": 20,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "num_experts": 3,
        "num_experts_per_tok": 1,
        "decoder_sparse_step": 2,
    },
    "DeepseekV3ForCausalLM": {
        "model_type": "deepseek_v3",
        "vocab_size": 81,
        "hidden_size": 16,
        "intermediate_size": 36,
        "moe_intermediate_size": 12,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "n_routed_experts": 4,
        "n_group": 2,
        "topk_group": 1,
        "num_experts_per_tok": 2,
        "first_k_dense_replace": 1,
        "q_lora_rank": 12,
        "kv_lora_rank": 10,
        "qk_rope_head_dim": 4,
        "qk_nope_head_dim": 6,
        "v_head_dim": 6,
    },
    "GptOssForCausalLM": {
        "model_type": "gpt_oss",
        "vocab_size": 79,
        "hidden_size": 16,
        "intermediate_size": 12,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 4,
        "num_local_experts": 3,
        "num_experts_per_tok": 2,
        "pad_token_id": 78,
    },
    "Llama4ForCausalLM": {
        "model_type": "llama4_text",
        "vocab_size": 77,
        "hidden_size": 16,
        "intermediate_size": 12,
        "intermediate_size_mlp": 28,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 4,
        "num_local_experts": 3,
        "interleave_moe_layer_step": 2,
    },
    "Phi3ForCausalLM": {
        "model_type": "phi3",
        "vocab_size": 75,
        "hidden_size": 16,
        "intermediate_size": 20,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "pad_token_id": 3,
    },
    "LlamaForCausalLM": {
        "model_type": "llama",
        "vocab_size": 101,
        "hidden_size": 32,
        "intermediate_size": 40,
        "num_hidden_layers": 2,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "tie_word_embeddings": False,
        "pad_token_id": 100,
    },
    "MistralForCausalLM": {
        "model_type": "mistral",
        "vocab_size": 99,
        "hidden_size": 32,
        "intermediate_size": 44,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
    },
    "Qwen2ForCausalLM": {
        "model_type": "qwen2",
        "vocab_size": 97,
        "hidden_size": 32,
        "intermediate_size": 36,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
    },
    "Qwen3ForCausalLM": {
        "model_type": "qwen3",
        "vocab_size": 95,
        "hidden_size": 32,
        "intermediate_size": 40,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 12,
    },
    "GemmaForCausalLM": {
        "model_type": "gemma",
        "vocab_size": 93,
        "hidden_size": 32,
        "intermediate_size": 48,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "num_key_value_heads": 1,
        "head_dim": 8,
    },
    "BertForMaskedLM": {
        "model_type": "bert",
        "vocab_size": 103,
        "hidden_size": 32,
        "intermediate_size": 52,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "max_position_embeddings": 7,
    },
    "BertModel": {
        "model_type": "bert",
        "vocab_size": 91,
        "hidden_size": 16,
        "intermediate_size": 24,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "max_position_embeddings": 5,
    },
    "ViTForImageClassification": {
        "model_type": "vit",
        "hidden_size": 32,
        "intermediate_size": 44,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "image_size": 16,
        "patch_size": 8,
        "num_labels": 5,
    },
    "ViTModel": {
        "model_type": "vit",
        "hidden_size": 16,
        "intermediate_size": 20,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "image_size": 12,
        "patch_size": 6,
        "num_channels": 1,
    },
    "T5ForConditionalGeneration": {
        "model_type": "t5",
        "vocab_size": 89,
        "d_model": 16,
        "d_kv": 4,
        "d_ff": 28,
        "num_layers": 1,
        "num_decoder_layers": 2,
        "num_heads": 4,
        "relative_attention_num_buckets": 6,
        "feed_forward_proj": "gated-gelu",
    },
    "GPT2LMHeadModel": {
        "model_type": "gpt2",
        "vocab_size": 87,
        "n_positions": 10,
        "n_embd": 16,
        "n_layer": 2,
        "n_head": 4,
        "n_inner": 36,
        "tie_word_embeddings": False,
    },
}


@pytest.mark.parametrize("class_name", list(CONFIGS))
def test_the_hf_recipe_is_nninit_init_of_the_config(tmp_path, class_name):
    import transformers

    fields = dict(CONFIGS[class_name], architectures=[class_name])
    config = tmp_path / "config.json"
    config.write_text(json.dumps(fields))
    run_cli("init", "--config", config, "--seed", 3, "--device", "cpu", "--out", tmp_path / "hf")
    model = getattr(transformers, class_name)(transformers.AutoConfig.from_pretrained(tmp_path))
    nt.init_module_(model, seed=3, recipe="hf", device="cpu")
    # Compare through save_pretrained's own names (ViT renames its modules on save).
    model.save_pretrained(tmp_path / "saved")
    saved = tensors_of(tmp_path / "saved" / "model.safetensors")
    written = tensors_of(tmp_path / "hf" / "model.safetensors")
    assert set(saved) == set(written)
    for name, (_, shape, data) in written.items():
        assert saved[name][1] == shape and saved[name][2] == data, name


def test_unknown_modules_are_refused_by_name_or_skipped_with_a_warning():
    class Scale(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gain = torch.nn.Parameter(torch.ones(3))

    model = torch.nn.Sequential(torch.nn.Linear(3, 3), Scale())
    with pytest.raises(TypeError, match="Scale"):
        nt.init_module_(model)
    before = model[1].gain.clone()
    with pytest.warns(UserWarning, match="Scale"):
        nt.init_module_(model, skip_unknown=True)
    assert torch.equal(model[1].gain, before)
    with pytest.raises(ValueError, match="recipe"):
        nt.init_module_(model, recipe="jax")
    with pytest.raises(TypeError, match="nn.Module"):
        nt.init_module_("model")
    with pytest.raises(TypeError, match="dtype"):
        nt.init_(torch.zeros(3, 3, dtype=torch.float64), "normal")
    with pytest.raises(ValueError, match="normol"):
        nt.init_(torch.zeros(3, 3), "normol")
    with pytest.raises(ValueError, match="recipe has no tensor"):
        nt.init_module_(torch.nn.Linear(784, 256), recipe="mlp")

    class Gated(torch.nn.Linear):
        def __init__(self):
            super().__init__(3, 3)
            self.gate = torch.nn.Parameter(torch.ones(3))

    # A known layer with a tensor its recipe does not have is not silently left alone.
    with pytest.raises(ValueError, match="gate"):
        nt.init_module_(Gated())

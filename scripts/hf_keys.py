#!/usr/bin/env python3
"""Record what transformers' real classes save for each test config of nninit's architectures.

For every case of tests/data/hf/configs.json this builds the class nninit builds for it
(`architectures[0]`, else the usual head of the `model_type`, as nninit::model::hf picks it),
with transformers' own config defaults for every field the case leaves out, and records the
keys, shapes and dtypes that `save_pretrained` writes, in the order it hands them to the shards:
state_dict order, except for the families with a checkpoint conversion (mixtral, qwen2_moe,
qwen3_moe, deepseek_v3: `revert_weight_conversion` sorts the keys naturally, layers.2 before
layers.10, and writes each layer's split experts as all down_proj, then all gate, then all up):

- models up to 300M parameters are really built and saved with `save_pretrained` into a
  temporary directory, and the file's keys are read back;
- larger ones (the default configs of the 7B-class decoders) are built on the meta device, and
  their saved keys are found by the two steps save_pretrained takes on the state_dict (drop the
  tied keys, rename back to the checkpoint format). The small cases check that these steps give
  exactly what `save_pretrained` wrote, so the script stops if they ever do not.

The really built cases are built and saved a second time in bfloat16 (`_from_config(config,
dtype=torch.bfloat16)`, as `from_config(..., dtype=)` does), and the dtype each key is saved in
is recorded too: BF16, except what a class keeps in f32 (DeepSeek-V3's router `mlp.gate.weight`
and `e_score_correction_bias`).

Writes tests/data/hf/keys.json: {"versions": {...}, "cases": {name: {"class": ...,
"tensors": [[name, shape, dtype], ...], "bf16": [[name, dtype], ...]}}} (`bf16` in the same
key order, and only for the really built cases). nninit's tests compare against it without
PyTorch.

Usage: python scripts/hf_keys.py    (needs torch and transformers==5.25.0)
"""

import json
import os
import sys
import tempfile

import safetensors
import torch
import transformers
from transformers.core_model_loading import revert_weight_conversion
from transformers.modeling_utils import remove_tied_weights_from_state_dict

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data", "hf")

# The class nninit builds when a config names no `architectures`.
USUAL_HEAD = {
    "llama": "LlamaForCausalLM",
    "mistral": "MistralForCausalLM",
    "qwen2": "Qwen2ForCausalLM",
    "qwen3": "Qwen3ForCausalLM",
    "gemma": "GemmaForCausalLM",
    "bert": "BertForMaskedLM",
    "vit": "ViTForImageClassification",
    "t5": "T5ForConditionalGeneration",
    "gpt2": "GPT2LMHeadModel",
    "mixtral": "MixtralForCausalLM",
    "qwen2_moe": "Qwen2MoeForCausalLM",
    "qwen3_moe": "Qwen3MoeForCausalLM",
    "deepseek_v3": "DeepseekV3ForCausalLM",
    "gpt_oss": "GptOssForCausalLM",
    "llama4_text": "Llama4ForCausalLM",
    "gemma2": "Gemma2ForCausalLM",
    "gemma3_text": "Gemma3ForCausalLM",
    "phi3": "Phi3ForCausalLM",
    "olmo2": "Olmo2ForCausalLM",
    "granite": "GraniteForCausalLM",
    "smollm3": "SmolLM3ForCausalLM",
    "starcoder2": "Starcoder2ForCausalLM",
}

DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}

REAL_BUILD_LIMIT = 300_000_000


def build_config(fields):
    fields = dict(fields)
    model_type = fields.pop("model_type")
    architectures = fields.pop("architectures", None)
    config = transformers.AutoConfig.for_model(model_type, **fields)
    class_name = (architectures or [USUAL_HEAD[model_type]])[0]
    return config, class_name


def parameter_count(config, class_name):
    with torch.device("meta"):
        model = getattr(transformers, class_name)(config)
    return model, sum(p.numel() for p in model.parameters())


def meta_keys(model):
    """What save_pretrained saves, in the order it shards: the state_dict less the tied keys,
    then renamed back to the checkpoint format (save_original_format, the default)."""
    state_dict = remove_tied_weights_from_state_dict(model.state_dict(), model)
    state_dict = revert_weight_conversion(model, state_dict)
    return [[name, list(t.shape), DTYPE[t.dtype]] for name, t in state_dict.items()]


def saved_keys(config, class_name, meta_order, dtype=None):
    """[name, shape, dtype] of every key save_pretrained writes, in meta_order's order; built
    in the default dtype (f32), or with `_from_config(config, dtype=dtype)`."""
    torch.manual_seed(0)
    cls = getattr(transformers, class_name)
    model = cls(config) if dtype is None else cls._from_config(config, dtype=dtype)
    with tempfile.TemporaryDirectory() as out:
        model.save_pretrained(out)
        files = sorted(f for f in os.listdir(out) if f.endswith(".safetensors"))
        shapes = {}
        for name in files:
            with safetensors.safe_open(os.path.join(out, name), "pt") as f:
                assert f.metadata().get("format") == "pt", f.metadata()
                for key in f.keys():
                    t = f.get_slice(key)
                    shapes[key] = [key, list(t.get_shape()), t.get_dtype()]
    order = [key for key, _, _ in meta_order]
    if sorted(shapes) != sorted(order):
        sys.exit(
            f"{class_name}: save_pretrained wrote {sorted(set(shapes) ^ set(order))} "
            "differently from save_pretrained's own steps on the state_dict"
        )
    return [shapes[key] for key in order]


def main():
    with open(os.path.join(DATA, "configs.json")) as f:
        cases = json.load(f)["cases"]
    recorded = {}
    for name, fields in cases.items():
        config, class_name = build_config(fields)
        meta_model, params = parameter_count(config, class_name)
        order = meta_keys(meta_model)
        if params <= REAL_BUILD_LIMIT:
            tensors = saved_keys(config, class_name, order)
            if tensors != order:
                sys.exit(f"{name}: save_pretrained wrote {tensors}, its own steps give {order}")
            config, _ = build_config(fields)  # _from_config sets config.dtype
            bf16 = saved_keys(config, class_name, order, torch.bfloat16)
            if [t[:2] for t in bf16] != [t[:2] for t in tensors]:
                sys.exit(f"{name}: in bf16 save_pretrained wrote other keys or shapes")
            recorded[name] = {"class": class_name, "tensors": tensors,
                              "bf16": [[key, dtype] for key, _, dtype in bf16]}
            how = "save_pretrained, f32 and bf16"
        else:
            recorded[name] = {"class": class_name, "tensors": order}
            tensors = order
            how = "meta device, save_pretrained's steps"
        print(f"{name:28} {class_name:28} {len(tensors):4} tensors {params:>14,} parameters ({how})")
    out = {
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__},
        "cases": recorded,
    }
    with open(os.path.join(DATA, "keys.json"), "w") as f:
        json.dump(out, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()

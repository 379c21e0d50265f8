#!/usr/bin/env python3
"""Record transformers' own tensor-parallel and expert-parallel plans for nninit's HF families.

For each model_type in FAMILIES this reads, without building any model:
- from the config class (`transformers.CONFIG_MAPPING[model_type]`), the class attributes
  `base_model_tp_plan` and `base_model_ep_plan` (null where the class sets none);
- from the family's usual causal-LM class (`MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[model_type]`,
  null where the family has none), the class attribute `_tp_plan` (the head's plan, e.g.
  {"lm_head": "colwise_gather_output"}; null where the class sets none).
Plan keys and values are written exactly as transformers spells them
(e.g. "layers.*.self_attn.q_proj": "colwise"). nninit's tests check its TP split against them.

Writes tests/data/hf/tp_plans.json (sorted keys, so reruns give the same bytes).

Usage: /tmp/tf525/bin/python scripts/hf_tp_plans.py    (needs torch and transformers==5.25.0)
"""

import json
import os

import transformers
from transformers import CONFIG_MAPPING
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

FAMILIES = [
    "llama", "mistral", "qwen2", "qwen3", "gemma", "bert", "vit", "t5", "gpt2", "mixtral",
    "qwen2_moe", "qwen3_moe", "deepseek_v3", "gpt_oss", "llama4_text", "gemma2",
    "gemma3_text", "phi3", "olmo2", "granite", "smollm3", "starcoder2",
]

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "hf", "tp_plans.json")


def plan(obj, attr):
    value = getattr(obj, attr, None)
    return dict(value) if value is not None else None


def main():
    version = transformers.__version__
    families = {}
    for model_type in FAMILIES:
        config_class = CONFIG_MAPPING[model_type]
        head_name = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.get(model_type)
        head = getattr(transformers, head_name) if head_name else None
        families[model_type] = {
            "config_class": config_class.__name__,
            "base_model_tp_plan": plan(config_class, "base_model_tp_plan"),
            "base_model_ep_plan": plan(config_class, "base_model_ep_plan"),
            "head_class": head_name,
            "head_tp_plan": plan(head, "_tp_plan") if head is not None else None,
        }
    data = {
        "source": f"transformers {version}: <ConfigClass>.base_model_tp_plan / base_model_ep_plan"
        " and <CausalLMClass>._tp_plan, recorded by scripts/hf_tp_plans.py",
        "transformers": version,
        "families": families,
    }
    with open(OUT, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write the state_dict key lists of the real models behind nninit's presets.

For each preset (gpt2, resnet18, resnet50) this builds the real model exactly as
`scripts/check_model_file.py` does — no pretrained weights, nothing downloaded:

    gpt2      transformers.GPT2LMHeadModel(transformers.GPT2Config())
    resnet18  torchvision.models.resnet18()
    resnet50  torchvision.models.resnet50()

and writes OUT_DIR/<preset>.json: a JSON array, in state_dict order, of
{"name": ..., "shape": [...], "dtype": "F32" | "I64"} (dtype as safetensors names it).
It also writes OUT_DIR/versions.json with the library versions used, and prints a
summary (key count, parameter count with tied weights counted once, buffers).

Usage: python scripts/preset_keys.py [OUT_DIR]    (default: tests/data/presets)
"""

import json
import os
import sys

import torch

# torch dtype -> safetensors dtype name
SAFETENSORS_DTYPE = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}

PRESETS = ("gpt2", "resnet18", "resnet50")


def build(name):
    """The freshly built real model for a preset name (also used by check_model_file.py)."""
    if name == "gpt2":
        import transformers

        return transformers.GPT2LMHeadModel(transformers.GPT2Config())
    if name in ("resnet18", "resnet50"):
        import torchvision

        return getattr(torchvision.models, name)()
    raise ValueError(f"unknown preset {name!r}")


def keys(model):
    return [
        {
            "name": name,
            "shape": list(tensor.shape),
            "dtype": SAFETENSORS_DTYPE[tensor.dtype],
        }
        for name, tensor in model.state_dict().items()
    ]


def parameter_count(model):
    # model.parameters() yields each Parameter once, so tied weights count once.
    return sum(p.numel() for p in model.parameters())


def write_json_array(path, entries):
    # One entry per line: readable, and diffs stay small.
    with open(path, "w") as f:
        f.write("[\n")
        f.write(",\n".join("  " + json.dumps(e) for e in entries))
        f.write("\n]\n")


def versions():
    import torchvision
    import transformers

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "transformers": transformers.__version__,
    }


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "data", "presets")
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)  # the values are not recorded; only keys, shapes and dtypes
    for name in PRESETS:
        model = build(name)
        entries = keys(model)
        write_json_array(os.path.join(out_dir, f"{name}.json"), entries)
        param_names = {n for n, _ in model.named_parameters(remove_duplicate=False)}
        buffers = [e["name"] for e in entries if e["name"] not in param_names]
        print(
            f"{name}: {len(entries)} state_dict keys, "
            f"{parameter_count(model):,} parameters (tied counted once), "
            f"{len(buffers)} buffers in state_dict"
        )
        if name == "gpt2":
            # Older transformers registered the causal mask as attn.bias / attn.masked_bias
            # buffers (non-persistent since 4.x); newer ones have no such buffer at all.
            all_buffers = [n for n, _ in model.named_buffers()]
            mask_keys = [e["name"] for e in entries if e["name"].endswith((".attn.bias", ".attn.masked_bias"))]
            print(f"  gpt2 named_buffers (persistent or not): {len(all_buffers)} {all_buffers[:4]}")
            print(f"  gpt2 attn.bias / attn.masked_bias in state_dict: {len(mask_keys)} {mask_keys[:2]}")
            print(
                "  lm_head.weight is transformer.wte.weight: "
                f"{model.lm_head.weight is model.transformer.wte.weight}"
            )
    with open(os.path.join(out_dir, "versions.json"), "w") as f:
        json.dump(versions(), f, indent=2)
        f.write("\n")
    print("versions:", versions())


if __name__ == "__main__":
    main()

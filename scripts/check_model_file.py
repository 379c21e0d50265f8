#!/usr/bin/env python3
"""Check a whole-model .safetensors file against the real model it claims to be.

    python scripts/check_model_file.py MODEL FILE.safetensors [--all]
    python scripts/check_model_file.py --self-test MODEL

MODEL is one of gpt2, resnet18, resnet50, mlp. The real model is built fresh, with
no pretrained weights and nothing downloaded:

    gpt2      transformers.GPT2LMHeadModel(transformers.GPT2Config())
    resnet18  torchvision.models.resnet18()
    resnet50  torchvision.models.resnet50()
    mlp       MLP below: fc1 = Linear(784, 256), fc2 = Linear(256, 10)

The file is read with safetensors.torch.load_file and loaded with
model.load_state_dict(sd, strict=True). Then:

- the key set and shapes must equal the model's state_dict exactly (checked directly:
  from a plain dict, BatchNorm's loader fills in a missing num_batches_tracked, so
  strict=True alone would not notice one missing);
- integer tensors must be I64 and floats one of F32/F16/BF16, all finite;
- after loading, every tensor in the model equals the file's (after the dtype cast);
- gpt2: the file's lm_head.weight equals its transformer.wte.weight bit for bit;
- every tensor's sample statistics match the model's own initialization recipe:
    gpt2      Conv1D weights and embeddings N(0, 0.02); c_proj.weight
              N(0, 0.02/sqrt(2*n_layer)) = 0.02/sqrt(24); biases 0; LayerNorm 1/0
    resnet*   Conv2d kaiming_normal_(fan_out, relu): N(0, sqrt(2/(out*kh*kw)));
              BatchNorm weight 1, bias 0, running_mean 0, running_var 1,
              num_batches_tracked 0; fc: PyTorch's Linear default
    mlp       PyTorch's Linear default: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  Constants must hold exactly. Random tensors: |mean| and |std - sigma| within
  6 standard errors, and uniform values inside their bounds.

It prints "loaded strictly: N tensors", a table of the statistics of a few tensors
(every tensor with --all; every failing one always), and exits 1 on any failure
(2 on bad usage).

--self-test MODEL writes the real model's own freshly initialized state_dict to a
temporary .safetensors (tied GPT-2 weights cloned), checks it (must pass), then checks
broken copies that must each fail: a key missing, an extra key, a weight transposed or
scaled by 1.1; gpt2: lm_head untied, a c_proj weight with std 0.02; resnet: a missing
num_batches_tracked (which load_state_dict(strict=True) alone accepts from a plain dict),
num_batches_tracked as F32, a running_var of 2; mlp: a bias out of its bounds.
"""

import math
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import preset_keys  # noqa: E402

MODELS = ("gpt2", "resnet18", "resnet50", "mlp")
FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
Z_LIMIT = 6.0


class MLP(torch.nn.Module):
    """nninit's `mlp` preset: 784 -> 256 -> 10 with PyTorch Linear defaults."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 256)
        self.fc2 = torch.nn.Linear(256, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def build(name):
    if name == "mlp":
        return MLP()
    return preset_keys.build(name)


# --- expected distributions -------------------------------------------------------

def const(value):
    return ("const", value)


def normal(std):
    return ("normal", std)


def uniform(bound):
    return ("uniform", bound)


def linear_default(module, attr):
    # nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) -> U(+-1/sqrt(fan_in)),
    # bias U(+-1/sqrt(fan_in)).
    fan_in = module.weight.shape[1]
    return uniform(1.0 / math.sqrt(fan_in))


def expected(model_name, model, modules, name):
    """The recipe for state_dict entry `name` of `model`."""
    prefix, _, attr = name.rpartition(".")
    module = modules[prefix]
    if model_name == "gpt2":
        cfg = model.config
        if isinstance(module, torch.nn.LayerNorm):
            return const(1.0 if attr == "weight" else 0.0)
        if attr == "bias":
            return const(0.0)
        if name.endswith("c_proj.weight"):
            return normal(cfg.initializer_range / math.sqrt(2 * cfg.n_layer))
        return normal(cfg.initializer_range)  # Conv1D, Embedding, lm_head (tied to wte)
    if model_name in ("resnet18", "resnet50"):
        if isinstance(module, torch.nn.Conv2d):
            out, _, kh, kw = module.weight.shape
            return normal(math.sqrt(2.0 / (out * kh * kw)))
        if isinstance(module, torch.nn.BatchNorm2d):
            return {
                "weight": const(1.0),
                "bias": const(0.0),
                "running_mean": const(0.0),
                "running_var": const(1.0),
                "num_batches_tracked": const(0),
            }[attr]
        if isinstance(module, torch.nn.Linear):
            return linear_default(module, attr)
    if model_name == "mlp" and isinstance(module, torch.nn.Linear):
        return linear_default(module, attr)
    raise AssertionError(f"no recipe for {name} ({type(module).__name__})")


def stats_check(tensor, recipe):
    """(mean, std, expected text, failure or None) for one tensor."""
    kind, value = recipe
    x = tensor.detach().to(torch.float64).flatten()
    n = x.numel()
    mean = x.mean().item()
    std = x.std(unbiased=False).item() if n > 1 else 0.0
    if kind == "const":
        ok = bool((x == value).all())
        return mean, std, f"all {value}", None if ok else f"not all {value}"
    if kind == "normal":
        sigma = value
        se_mean = sigma / math.sqrt(n)
        se_std = sigma / math.sqrt(2 * n)
        text = f"N(0, {sigma:.6g})"
    else:
        bound = value
        sigma = bound / math.sqrt(3)
        se_mean = sigma / math.sqrt(n)
        se_std = bound * math.sqrt(4.0 / 45.0) / (2 * sigma) / math.sqrt(n)
        text = f"U(+-{bound:.6g}) std {sigma:.6g}"
        top = x.abs().max().item()
        # f16/bf16 rounding may land exactly on a rounded bound
        if top > bound * (1 + 2**-7):
            return mean, std, text, f"max |x| {top:.6g} exceeds bound {bound:.6g}"
    z_mean = abs(mean) / se_mean
    z_std = abs(std - sigma) / se_std
    if z_std > Z_LIMIT:
        return mean, std, text, f"std {std:.6g} is {z_std:.1f} standard errors from {sigma:.6g}"
    if z_mean > Z_LIMIT:
        return mean, std, text, f"mean {mean:.6g} is {z_mean:.1f} standard errors from 0"
    return mean, std, text, None


# --- the check --------------------------------------------------------------------

def check(model_name, sd, show_all=False, quiet=False):
    """Checks state dict `sd` (as loaded from a file); returns a list of failures."""
    say = (lambda *a: None) if quiet else print
    failures = []
    torch.manual_seed(0)
    model = build(model_name)
    reference = model.state_dict()

    # The key set, checked here and not left to load_state_dict alone: from a plain dict
    # (no _metadata versions, as load_file returns) BatchNorm's loader fills in a missing
    # num_batches_tracked, so strict=True does not catch that one.
    missing = [k for k in reference if k not in sd]
    unexpected = [k for k in sd if k not in reference]
    if missing:
        failures.append(f"{len(missing)} missing key(s): {missing[:5]}")
    if unexpected:
        failures.append(f"{len(unexpected)} unexpected key(s): {unexpected[:5]}")
    for name, ref in reference.items():
        if name in sd and tuple(sd[name].shape) != tuple(ref.shape):
            failures.append(f"{name}: shape {list(sd[name].shape)}, expected {list(ref.shape)}")
    if failures:
        return failures

    # dtypes and finiteness: load_state_dict casts silently
    for name, t in sd.items():
        ref = reference.get(name)
        if ref is None:
            continue
        if ref.is_floating_point():
            if t.dtype not in FLOAT_DTYPES:
                failures.append(f"{name}: dtype {t.dtype}, expected a float dtype")
            elif not bool(torch.isfinite(t).all()):
                failures.append(f"{name}: holds NaN or infinity")
        elif t.dtype != ref.dtype:
            failures.append(f"{name}: dtype {t.dtype}, expected {ref.dtype}")
    dtypes = sorted({str(t.dtype).replace("torch.", "") for t in sd.values()})
    say(f"file dtypes: {', '.join(dtypes)}")

    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        failures.append(f"load_state_dict(strict=True) failed: {e}")
        return failures
    say(f"loaded strictly: {len(sd)} tensors")

    if model_name == "gpt2":
        tied = torch.equal(sd["lm_head.weight"], sd["transformer.wte.weight"])
        say(f"lm_head.weight == transformer.wte.weight in the file: {tied}")
        if not tied:
            failures.append("lm_head.weight differs from transformer.wte.weight")

    loaded = model.state_dict()
    for name, t in loaded.items():
        if not torch.equal(t, sd[name].to(t.dtype)):
            failures.append(f"{name}: the model does not hold the file's values after loading")

    modules = dict(model.named_modules())
    rows = []
    shown_kinds = set()
    for name in reference:  # state_dict order
        t = sd[name]
        recipe = expected(model_name, model, modules, name)
        mean, std, text, failure = stats_check(t, recipe)
        # show the first tensor of each distinct recipe, plus every failure
        key = (recipe[0], round(recipe[1], 12) if recipe[0] != "const" else recipe[1])
        if failure or show_all or key not in shown_kinds:
            rows.append((name, t.numel(), mean, std, text, failure))
        shown_kinds.add(key)
        if failure:
            failures.append(f"{name}: {failure}")
    say(f"{'tensor':<44} {'numel':>10} {'mean':>12} {'std':>12}  expected")
    for name, n, mean, std, text, failure in rows:
        mark = f"  FAIL: {failure}" if failure else ""
        say(f"{name:<44} {n:>10} {mean:>12.4e} {std:>12.6f}  {text}{mark}")
    params = sum(p.numel() for p in model.parameters())
    say(f"{len(sd)} tensors checked; the model has {params:,} parameters (tied counted once)")
    return failures


def check_file(model_name, path, show_all=False):
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
    if metadata:
        shown = {k: v for k, v in metadata.items() if not k.startswith("nninit.tensor.")}
        print(f"metadata: {shown} (+{len(metadata) - len(shown)} per-tensor records)")
    sd = load_file(path)
    return check(model_name, sd, show_all=show_all)


def self_test(model_name):
    from safetensors.torch import load_file, save_file

    torch.manual_seed(1234)
    model = build(model_name)
    # clone: save_file refuses tensors that share memory (GPT-2's tied lm_head)
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"{model_name}.safetensors")
        save_file(sd, path)
        print(f"== self-test {model_name}: the real model's own init, via {path}")
        found = check_file(model_name, path)
        if found:
            failures.append(f"the real model's own file failed: {found}")
        sd = load_file(path)

    def without(key):
        return {k: v for k, v in sd.items() if k != key}

    broken = {}
    weight = {
        "gpt2": "transformer.h.0.attn.c_attn.weight",
        "resnet18": "layer2.0.conv1.weight",  # not square in dims 0/1
        "resnet50": "layer2.0.conv1.weight",
        "mlp": "fc1.weight",
    }[model_name]
    broken[f"missing {weight}"] = without(weight)
    broken[f"extra key {weight}_copy"] = {**sd, f"{weight}_copy": sd[weight]}
    broken[f"{weight} transposed"] = {**sd, weight: sd[weight].transpose(0, 1).contiguous()}
    broken[f"{weight} scaled by 1.1"] = {**sd, weight: sd[weight] * 1.1}
    if model_name == "gpt2":
        other = sd["lm_head.weight"].clone()
        other[0, 0] += 1.0
        broken["lm_head.weight untied"] = {**sd, "lm_head.weight": other}
        c_proj = "transformer.h.0.mlp.c_proj.weight"
        broken[f"{c_proj} with std 0.02"] = {**sd, c_proj: sd[c_proj] * math.sqrt(24)}
    elif model_name.startswith("resnet"):
        broken["missing bn1.num_batches_tracked"] = without("bn1.num_batches_tracked")
        broken["bn1.num_batches_tracked as F32"] = {
            **sd, "bn1.num_batches_tracked": sd["bn1.num_batches_tracked"].float()}
        broken["bn1.running_var 2"] = {**sd, "bn1.running_var": sd["bn1.running_var"] * 2}
    else:
        broken["fc2.bias out of bounds"] = {**sd, "fc2.bias": sd["fc2.bias"] + 1.0}
    for what, bad in broken.items():
        found = check(model_name, bad, quiet=True)
        print(f"== broken copy ({what}): {'rejected' if found else 'ACCEPTED'}"
              + (f": {found[0][:160]}" if found else ""))
        if not found:
            failures.append(f"broken copy accepted: {what}")
    return failures


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    if flags - {"--all", "--self-test"}:
        print(__doc__, file=sys.stderr)
        return 2
    if "--self-test" in flags:
        if len(args) != 1 or args[0] not in MODELS:
            print(__doc__, file=sys.stderr)
            return 2
        failures = self_test(args[0])
    else:
        if len(args) != 2 or args[0] not in MODELS:
            print(__doc__, file=sys.stderr)
            return 2
        failures = check_file(args[0], args[1], show_all="--all" in flags)
    if failures:
        print(f"FAILED: {len(failures)} problem(s)")
        for f in failures[:50]:
            print(f"  {f}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""nninit.fill and nninit.explain: the bytes and JSON of `nninit fill`, for every scheme and
dtype, in place into `out=` without touching the bytes around it, on the CPU and the GPU; and
bad input raising ValueError, TypeError or OSError with the library's message."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import run_cli, tensors_of

import nninit

# (shape, spec) for every scheme of the README's table.
SCHEMES = [
    ((37, 19), "uniform(a=-2, b=3)"),
    ((37, 19), "normal(mean=1, std=0.5)"),
    ((37, 19), "trunc_normal(std=0.02)"),
    ((37, 19), "constant(val=0.25)"),
    ((5, 7), "zeros"),
    ((5, 7), "ones"),
    ((6, 9), "eye"),
    ((4, 2, 3, 3), "dirac(groups=2)"),
    ((48, 32), "xavier_uniform(gain=2)"),
    ((48, 32), "xavier_normal"),
    ((64, 16, 3, 3), "kaiming_uniform(a=2.23606797749979)"),
    ((64, 16, 3, 3), "kaiming_normal(mode=fan_out, nonlinearity=relu)"),
    ((24, 40), "orthogonal(gain=1.5)"),
    ((30, 20), "sparse(sparsity=0.3)"),
    ((32, 48), "variance_scaling(scale=2, mode=fan_avg, distribution=uniform)"),
    ((32, 48), "glorot_normal"),
    ((32, 48), "he_uniform"),
    ((32, 48), "lecun_normal"),
    ((32, 48), "truncated_normal(stddev=0.1)"),
]
DTYPES = {"float32": "f32", "float16": "f16", "bfloat16": "bf16"}


@pytest.mark.parametrize("shape,spec", SCHEMES)
@pytest.mark.parametrize("dtype", list(DTYPES))
def test_fill_equals_the_cli_bytes(tmp_path, shape, spec, dtype):
    out = tmp_path / "t.safetensors"
    name = "encoder.w"
    run_cli(
        "fill",
        "--shape",
        ",".join(map(str, shape)),
        "--init",
        spec,
        "--seed",
        7,
        "--name",
        name,
        "--dtype",
        DTYPES[dtype],
        "--device",
        "cpu",
        "--out",
        out,
    )
    (_, stored_shape, expected) = tensors_of(out)[name]
    got = nninit.fill(shape, spec, seed=7, name=name, dtype=dtype, device="cpu")
    assert got.shape == tuple(stored_shape)
    assert got.tobytes() == expected
    assert (
        got.dtype
        == {"float32": np.float32, "float16": np.float16, "bfloat16": nninit.bfloat16_dtype()}[
            dtype
        ]
    )


def test_the_gpu_draws_the_same_bytes():
    for shape, spec in SCHEMES:
        for dtype in DTYPES:
            cpu = nninit.fill(shape, spec, seed=2, stream=5, dtype=dtype, device="cpu")
            gpu = nninit.fill(shape, spec, seed=2, stream=5, dtype=dtype, device="gpu")
            if spec.startswith("orthogonal"):
                # An f32 QR on the GPU against the f64 one on the CPU: within the README's bound
                # (5.2e-7 · gain), plus one rounding of the dtype.
                difference = np.abs(cpu.astype(np.float64) - gpu.astype(np.float64)).max()
                assert difference <= 1.5 * 1e-6 + np.abs(cpu.astype(np.float64)).max() * 2**-8
                continue
            assert cpu.tobytes() == gpu.tobytes(), (spec, dtype)


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_out_is_filled_in_place_and_the_bytes_around_it_stay(dtype):
    n = 1000
    reference = nninit.fill((n,), "normal", seed=1, name="x", dtype=dtype, device="cpu")
    guard = 8
    whole = np.zeros(n + 2 * guard, dtype=reference.dtype)
    whole.view(np.uint8)[:] = 0x5A
    before = whole.copy()
    out = whole[guard:-guard]
    returned = nninit.fill((n,), "normal", seed=1, name="x", dtype=dtype, out=out, device="cpu")
    assert returned is out
    assert out.tobytes() == reference.tobytes()
    assert whole[:guard].tobytes() == before[:guard].tobytes()
    assert whole[-guard:].tobytes() == before[-guard:].tobytes()
    # Any shape with the right element count and dtype.
    matrix = np.zeros((10, 100), dtype=reference.dtype)
    nninit.fill((n,), "normal", seed=1, name="x", dtype=dtype, out=matrix, device="cpu")
    assert matrix.tobytes() == reference.tobytes()


def test_bfloat16_fills_raw_uint16_bits_too():
    bits = np.empty(100, dtype=np.uint16)
    nninit.fill((100,), "normal", dtype="bfloat16", out=bits, device="cpu")
    assert bits.tobytes() == nninit.fill((100,), "normal", dtype="bfloat16", device="cpu").tobytes()


def test_a_range_is_those_elements_of_the_whole():
    whole = nninit.fill((50, 40), "kaiming_normal", seed=3, name="w", device="cpu")
    part = nninit.fill(
        (50, 40), "kaiming_normal", seed=3, name="w", range=(123, 1777), device="cpu"
    )
    assert part.tobytes() == whole.reshape(-1)[123:1777].tobytes()


def test_explain_is_the_cli_json():
    for shape, spec in SCHEMES:
        cli = json.loads(
            run_cli("fill", "--shape", ",".join(map(str, shape)), "--init", spec, "--explain")
        )
        assert nninit.explain(shape, spec) == cli, spec
    assert nninit.explain((3, 4), "kaiming_uniform", fan_in=10)["fan_in"] == 10.0


def test_bad_input_raises_with_the_librarys_message():
    with pytest.raises(ValueError, match="kaiming_normol"):
        nninit.fill((4, 4), "kaiming_normol")
    with pytest.raises(ValueError, match="fan-based schemes need at least 2 dims"):
        nninit.fill((4,), "kaiming_normal")
    with pytest.raises(ValueError, match="float64"):
        nninit.fill((4, 4), "normal", dtype="float64")
    with pytest.raises(TypeError, match="dtype"):
        nninit.fill((4, 4), "normal", out=np.zeros(16, dtype=np.float64))
    with pytest.raises(ValueError, match="C-contiguous"):
        nninit.fill((4, 4), "normal", out=np.zeros((4, 8), dtype=np.float32)[:, ::2])
    read_only = np.zeros(16, dtype=np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        nninit.fill((4, 4), "normal", out=read_only)
    with pytest.raises(ValueError, match="holds 15 elements"):
        nninit.fill((4, 4), "normal", out=np.zeros(15, dtype=np.float32))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        nninit.fill((4, 4), "normal", out=[0.0] * 16)
    with pytest.raises(TypeError):
        nninit.fill("4,4", "normal")
    with pytest.raises(ValueError, match="non-negative"):
        nninit.fill((4, -1), "normal")
    with pytest.raises(ValueError, match="range"):
        nninit.fill((4, 4), "normal", range=(3, 17))
    with pytest.raises(ValueError, match="name or stream"):
        nninit.fill((4,), "normal", name="a", stream=1)
    with pytest.raises(ValueError, match="device"):
        nninit.fill((4,), "normal", device="tpu")
    with pytest.raises(ValueError, match="seed"):
        nninit.fill((4,), "normal", seed=-1)
    with pytest.raises(OSError):
        nninit.verify("/nonexistent/model.safetensors")
    with pytest.raises(ValueError, match="preset"):
        nninit.init_checkpoint("gpt3", "/tmp/never.safetensors")


def test_init_checkpoint_writes_the_cli_file_and_verify_reports_on_it(tmp_path):
    cli = tmp_path / "cli.safetensors"
    run_cli(
        "init", "--model", "mlp", "--seed", 4, "--dtype", "bf16", "--device", "cpu", "--out", cli
    )
    ours = tmp_path / "ours.safetensors"
    summary = nninit.init_checkpoint(
        "mlp", ours, seed=4, dtype="bfloat16", progress=False, device="cpu"
    )
    assert summary["tensors"] == 4 and summary["parameters"] == 784 * 256 + 256 + 256 * 10 + 10
    assert ours.read_bytes() == cli.read_bytes()
    # An existing file is replaced only with force=True, and then whole.
    with pytest.raises(ValueError, match="exists; pass --force"):
        nninit.init_checkpoint("mlp", ours, seed=4, dtype="bfloat16", progress=False, device="cpu")
    nninit.init_checkpoint(
        "mlp", ours, seed=4, dtype="bfloat16", progress=False, device="cpu", force=True
    )
    assert ours.read_bytes() == cli.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.safetensors", "ours.safetensors"]
    report = nninit.verify(ours)
    assert report.passed and len(report) == 4
    weight = next(t for t in report if t.name == "fc1.weight")
    assert weight.checked == 784 * 256 and weight.worst_difference == 0.0
    assert set(weight.p_values) >= {"kolmogorov-smirnov", "anderson-darling"}
    # A tensor changed on disk is caught.
    data = bytearray(ours.read_bytes())
    data[-40:] = bytes(40)
    ours.write_bytes(bytes(data))
    assert not nninit.verify(ours).passed


def test_init_checkpoint_of_a_config_writes_the_cli_directory(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "model_type": "llama",
                "vocab_size": 64,
                "hidden_size": 32,
                "intermediate_size": 48,
                "num_hidden_layers": 1,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
            }
        )
    )
    for recipe in ("hf", "torchtitan", "megatron", "olmo:llama_depth"):
        cli = tmp_path / f"cli-{recipe}"
        run_cli("init", "--config", config, "--device", "cpu", "--out", cli, "--recipe", recipe)
        ours = tmp_path / f"ours-{recipe}"
        nninit.init_checkpoint(config, ours, progress=False, device="cpu", recipe=recipe)
        for name in ("model.safetensors", "config.json"):
            assert (ours / name).read_bytes() == (cli / name).read_bytes(), recipe
        assert nninit.verify(ours).passed
    with pytest.raises(ValueError, match="recipe"):
        nninit.init_checkpoint(config, tmp_path / "bad", progress=False, recipe="titan")


def test_importing_nninit_does_not_import_torch():
    code = "import sys, nninit, nninit.torch; assert 'torch' not in sys.modules, 'torch imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

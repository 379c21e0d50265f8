#!/usr/bin/env bash
# Issue 5's device check, for a machine with a real GPU: the adapter, one full `nninit bench`
# (JSON and table), and, if PyTorch with CUDA is there, torch.randn / nn.init.normal_ on the same
# sizes side by side. Everything goes to $OUT (default /tmp/nninit-device).
#
#   bash scripts/device_bench.sh            # builds target/release/nninit if it is not there
#
# The values are not checked here (the test suite does that); this measures. Targets on real
# hardware: gpu_normal_f32_vs_copy >= 0.8 (f32 normal fill against the device's own
# buffer-to-buffer copy, bytes written per second).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/nninit-device}"
mkdir -p "$OUT"
BIN=target/release/nninit
[ -x "$BIN" ] || cargo build --release --bin nninit
date -u +%Y-%m-%dT%H:%MZ | tee "$OUT/date.txt"
"$BIN" adapter 2>&1 | tee "$OUT/adapter.txt"
command -v nvidia-smi >/dev/null && nvidia-smi -L | tee "$OUT/nvidia-smi.txt" || true
"$BIN" bench --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.txt"
python3 - <<'PY' 2>&1 | tee "$OUT/torch.txt" || true
import time
try:
    import torch
except ImportError:
    print("no torch"); raise SystemExit
if not torch.cuda.is_available():
    print("torch without CUDA"); raise SystemExit
dev = torch.device("cuda")
print(torch.__version__, torch.cuda.get_device_name(0))
for n in (1 << 20, 1 << 24, 1 << 26):
    x = torch.empty(n, device=dev)
    y = torch.empty(n, device=dev)
    for name, f in (("randn", lambda: torch.randn(n, device=dev, out=x)),
                    ("normal_", lambda: torch.nn.init.normal_(x, 0.0, 0.02)),
                    ("uniform_", lambda: torch.nn.init.uniform_(x, -0.1, 0.1)),
                    ("copy_", lambda: y.copy_(x)),
                    ("fill_", lambda: x.fill_(0.5))):
        f(); torch.cuda.synchronize()
        times = []
        for _ in range(7):
            t = time.perf_counter(); f(); torch.cuda.synchronize(); times.append(time.perf_counter() - t)
        t = sorted(times)[3]
        print(f"torch {name:9} f32 {n:>9}: {n / t / 1e9:7.2f} G elem/s  {4 * n / t / 1e9:7.1f} GB/s written")
PY
echo "results in $OUT"

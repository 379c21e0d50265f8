#!/usr/bin/env bash
# The bench's rand_distr peer against the same loop built as a program of its own
# (examples/peer.rs compiles src/bin/nninit/bench/peer.rs), in one run: prints both figures and
# their ratio, and exits 1 when they differ by more than 15%.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin nninit --example peer
json=$(mktemp --suffix=.json)
trap 'rm -f "$json"' EXIT
./target/release/nninit bench --quick --json "$json" > /dev/null
standalone=$(./target/release/examples/peer $((1 << 24)))
python3 - "$json" "$standalone" <<'PY'
import json, sys
rows = {r["name"]: r for r in json.load(open(sys.argv[1]))["rows"]}
worst = 0.0
for line in sys.argv[2].splitlines():
    name, n, rate = line.split()
    bench = rows[f"{name}_16M"]["elements_per_s"] / 1e6
    ratio = bench / float(rate)
    worst = max(worst, abs(ratio - 1))
    print(f"{name}: nninit bench {bench:.1f} M/s, standalone {float(rate):.1f} M/s, ratio {ratio:.3f}")
print(f"largest difference {worst:.1%} (limit 15%)")
sys.exit(0 if worst <= 0.15 else 1)
PY

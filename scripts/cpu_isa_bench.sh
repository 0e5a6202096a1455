#!/usr/bin/env bash
# Cost of the CPU kernel pin (BENCHMARKS.md §10): the default study's teacher
# (brain-mri, 48 px, depth 5, 20 epochs, 1 thread) trained under
# cpu_isa = "avx2" and "native", interleaved, REPS times each, each run in a
# fresh store; prints the teacher stage's wall_s (from its manifest) per run
# and the medians.
#   scripts/cpu_isa_bench.sh [REPS]   (default 5; needs `make build` and `make data`)
set -euo pipefail
reps=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
kdpipe="$root/target/release/kdpipe"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for isa in avx2 native; do
  sed -e '/^\[sweep\]/,$d' "$root/experiments/default.toml" >"$tmp/$isa.toml"
  cat >>"$tmp/$isa.toml" <<TOML
[sweep]
depth = [1]
alpha = [0.0]
temperature = [4.0]

[explain]
methods = []

[run]
device = "cpu"
cpu_isa = "$isa"
TOML
  sed -i -e 's/^seeds = .*/seeds = [0]/' "$tmp/$isa.toml"
done
for r in $(seq 1 "$reps"); do
  for isa in avx2 native; do
    store="$tmp/store-$isa-$r"
    "$kdpipe" --store "$store" run "$tmp/$isa.toml" --jobs 1 --plain >/dev/null
    m=$(grep -l '"name": "teacher/brain-mri/s0"' "$store"/objects/*/*/manifest.json)
    python3 -c "import json,sys; m=json.load(open('$m')); print('$r', '$isa', m['wall_s'])"
  done
done | tee "$tmp/times"
python3 - "$tmp/times" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    _, isa, s = line.split()
    t.setdefault(isa, []).append(float(s))
a, n = statistics.median(t["avx2"]), statistics.median(t["native"])
print(f"median teacher wall_s: avx2 {a:.2f} s, native {n:.2f} s, ratio {a / n:.3f}")
PY

#!/usr/bin/env bash
# Old (49d0912: one timing process per architecture) vs new (one process, models interleaved):
# ROUNDS alternating reruns of only the timing stages of the default study, each on a store that
# already holds every other stage; prints per-model min/median/max of the per-round medians and
# ratios to the teacher (BENCHMARKS.md section 8).
# Usage: OLD=/path/to/old-checkout SO=/path/to/old-store SN=/path/to/new-store scripts/timing_compare.sh
set -euo pipefail
: "${OLD:?OLD=checkout of 49d0912 with its release build}" "${SO:?SO=store of the default study made by OLD}" "${SN:?SN=store of the default study made by NEW}"
NEW=${NEW:-$(cd "$(dirname "$0")/.." && pwd)}; ROUNDS=${ROUNDS:-5}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
for r in $(seq 1 "$ROUNDS"); do
  for v in old new; do
    if [ $v = old ]; then B=$OLD; S=$SO; else B=$NEW; S=$SN; fi
    (cd "$B" && target/release/kdpipe --store "$S" run experiments/default.toml --force 'timing/*' --plain >/dev/null 2>&1 &&
     target/release/kdpipe --store "$S" compare experiments/default.toml --format csv > "$OUT/$v-$r.csv")
  done
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import csv, sys, statistics as st
out, rounds = sys.argv[1], int(sys.argv[2])
M = ["feature_maps", "gradcam", "expected_gradients"]
for v in ["old", "new"]:
    print(f"== {v}")
    per = {}
    for r in range(1, rounds + 1):
        rows = list(csv.DictReader(open(f"{out}/{v}-{r}.csv")))
        t = {}
        for x in rows:
            k = "teacher" if x["model"] == "teacher" else f"d{x['depth']}"
            if k in t: continue
            t[k] = {m: float(x[f"{m}_s_mean"]) for m in M}
        for k in t:
            for m in M:
                per.setdefault((k, m), []).append((t[k][m], t[k][m] / t["teacher"][m]))
    for m in M:
        for k in ["teacher", "d1", "d2", "d3", "d4"]:
            xs = per[(k, m)]
            ab = [a * 1000 for a, _ in xs]; ra = [b for _, b in xs]
            print(f"  {m:19s} {k:8s} ms min {min(ab):7.2f} med {st.median(ab):7.2f} max {max(ab):7.2f} (max/min {max(ab)/min(ab):.2f})"
                  + ("" if k == "teacher" else f"   ratio min {min(ra):.3f} med {st.median(ra):.3f} max {max(ra):.3f}"))
PY

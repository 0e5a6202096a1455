#!/usr/bin/env bash
# kdpipe benchmarks (BENCHMARKS.md): `make bench` runs this.
#
#   1. `kdpipe run --dry-run` / `kdpipe status` on 1,000+ stages
#      (the toy experiments/bench-1000.toml and a generated 1,001-stage KD study)
#   2. no-op `kdpipe run` on the fully cached bench-1000
#   3. input hashing: `kdpipe status` hashing a 1 GiB .npz vs `sha256sum`
#   4. optional (SNAKEMAKE=path): Snakemake dry run / no-op on the equivalent DAG
#   5. Slurm executor overhead per stage vs the local executor (toy experiment)
#   6. training throughput kdpipe (tch) vs PyTorch eager (BENCH_TRAIN=1)
#
# Commands are interleaved (A B A B ...) and repeated; medians are printed.
# Env: RUNS (default 21) repetitions for 1-2; HASH_RUNS (3) for 3; HASH_GB (1);
#      SLURM_RUNS (3); BENCH_SLURM=0 skips 5; BENCH_TRAIN=0 skips 6;
#      TRAIN_ROUNDS (3); BENCH_DIR (default: a fresh mktemp dir, removed at the end
#      unless KEEP=1). Slurm: uses a running one, else scripts/slurm-up.sh (root)
#      and stops it again with scripts/slurm-down.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
K=$ROOT/target/release/kdpipe
RUNS=${RUNS:-21}
HASH_RUNS=${HASH_RUNS:-3}
HASH_GB=${HASH_GB:-1}
SLURM_RUNS=${SLURM_RUNS:-3}
BENCH_SLURM=${BENCH_SLURM:-1}
BENCH_TRAIN=${BENCH_TRAIN:-1}
TRAIN_ROUNDS=${TRAIN_ROUNDS:-3}
export PATH=$ROOT/.venv/bin:$PATH LIBTORCH_USE_PYTORCH=1

[[ -x $K ]] || { echo "bench: build first (make build)" >&2; exit 1; }
B=${BENCH_DIR:-$(mktemp -d /tmp/kdpipe-bench.XXXXXX)}
mkdir -p "$B"
STARTED_SLURM=0
cleanup() {
    rm -f "$B/hash/big.npz"
    if [[ $STARTED_SLURM == 1 ]]; then scripts/slurm-down.sh >/dev/null 2>&1 || true; fi
    if [[ ${KEEP:-0} != 1 && -z ${BENCH_DIR:-} ]]; then rm -rf "$B"; fi
}
trap cleanup EXIT

SUMMARY=$B/summary.txt
: >"$SUMMARY"
say() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }
now_ns() { date +%s%N; }

# stats FILE -> "median min max n" in ms (FILE: one duration in ns per line)
stats() {
    sort -n "$1" | awk '{ v[NR] = $1 / 1e6 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
        printf "%.1f %.1f %.1f %d\n", m, v[1], v[NR], NR }'
}
median_of() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# time_once OUTFILE CMD... : run CMD (stdout/stderr to /dev/null), append ns to OUTFILE
time_once() {
    local out=$1; shift
    local t0 t1
    t0=$(now_ns)
    "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
    t1=$(now_ns)
    echo $((t1 - t0)) >>"$out"
}

say "== kdpipe benchmarks $(date -u +%Y-%m-%dT%H:%MZ) on $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
say "   $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') uptime:$(uptime | sed 's/.*load average/ load average/')"
say "   bench dir: $B"

# ---------------------------------------------------------------- inputs
# The KD experiment (9 seeds, 1,001 stages). pipeline/study/src/kd/tests/expand.rs
# loads this here-document and checks its stage count: keep the two in step.
mkdir -p "$B/kd/imgs/a" "$B/kd/imgs/b"
for i in 1 2 3; do
    printf 'dummy-a-%d' "$i" >"$B/kd/imgs/a/$i.png"
    printf 'dummy-b-%d' "$i" >"$B/kd/imgs/b/$i.png"
done
cat >"$B/kd/bench-large.toml" <<'EOF'
# The KD benchmark study of scripts/bench.sh: 1001 stages.
name = "bench-large"
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8]

[[dataset]]
name = "bench"
format = "imagefolder"
path = "imgs"

[sweep]
depth = [1, 2, 3, 4]
temperature = [1, 2, 4, 8]
alpha = [0.0, 0.5, 0.9]

[explain]
methods = ["feature_maps", "gradcam", "expected_gradients"]
timing_scope = "model"
EOF
TOY1000=$ROOT/experiments/bench-1000.toml
KD1001=$B/kd/bench-large.toml

# ---------------------------------------------------------------- 1 + 2
say ""
say "== 1/2: planning 1,000+ stages ($RUNS runs each, interleaved; ms: median min max)"
$K --store "$B/s-full" run -j 2 --plain "$TOY1000" >"$B/full-run.log" 2>&1
grep '^ok:' "$B/full-run.log" | sed 's/^/   full toy run (-j 2, untimed set-up): /' | tee -a "$SUMMARY"
declare -a NAMES=(toy-dry-run toy-status kd-dry-run kd-status toy-noop-run toy-status-cached)
declare -a CMDS=(
    "$K --store $B/s-toy-dry run --dry-run $TOY1000"
    "$K --store $B/s-toy-status status $TOY1000"
    "$K --store $B/s-kd-dry run --dry-run $KD1001"
    "$K --store $B/s-kd-status status $KD1001"
    "$K --store $B/s-full run --plain $TOY1000"
    "$K --store $B/s-full status $TOY1000"
)
for n in "${NAMES[@]}"; do : >"$B/t-$n"; done
# one untimed warm-up round (page cache, fresh stores' first write)
for i in "${!NAMES[@]}"; do ${CMDS[$i]} >/dev/null 2>&1; done
for ((r = 0; r < RUNS; r++)); do
    for i in "${!NAMES[@]}"; do
        # shellcheck disable=SC2086
        time_once "$B/t-${NAMES[$i]}" ${CMDS[$i]}
    done
done
for i in "${!NAMES[@]}"; do
    read -r med min max n < <(stats "$B/t-${NAMES[$i]}")
    printf '   %-18s median %6.1f ms  min %6.1f  max %6.1f  (n=%d)  %s\n' "${NAMES[$i]}" "$med" "$min" "$max" "$n" \
        "$([[ ${med%.*} -lt 100 ]] && echo ok || echo 'OVER 100 ms')" | tee -a "$SUMMARY"
done
# The no-op run must compute nothing.
$K --store "$B/s-full" run --plain "$TOY1000" 2>&1 | grep '^ok:' | sed 's/^/   no-op run says: /' | tee -a "$SUMMARY"

# ---------------------------------------------------------------- 3
say ""
say "== 3: hashing a ${HASH_GB} GiB input: sha256sum vs first kdpipe status (fresh store) ($HASH_RUNS runs each, interleaved)"
say "   (CPU has SHA-NI: $(grep -q -m1 -w sha_ni /proc/cpuinfo && echo yes || echo no); $(sha256sum --version | head -n 1))"
mkdir -p "$B/hash"
head -c "${HASH_GB}G" /dev/urandom >"$B/hash/big.npz"
sed -e 's|format = "imagefolder"|format = "medmnist"|' -e 's|path = "imgs"|path = "big.npz"|' \
    "$KD1001" >"$B/hash/exp.toml"
cat "$B/hash/big.npz" >/dev/null # warm the page cache for both
: >"$B/t-sha256sum"; : >"$B/t-openssl-sha256"; : >"$B/t-status-cold"; : >"$B/t-status-cached"
for ((r = 0; r < HASH_RUNS; r++)); do
    time_once "$B/t-sha256sum" sha256sum "$B/hash/big.npz"
    if command -v openssl >/dev/null; then time_once "$B/t-openssl-sha256" openssl dgst -sha256 "$B/hash/big.npz"; fi
    rm -rf "$B/hash/store"
    time_once "$B/t-status-cold" "$K" --store "$B/hash/store" status "$B/hash/exp.toml"
done
for ((r = 0; r < RUNS; r++)); do
    time_once "$B/t-status-cached" "$K" --store "$B/hash/store" status "$B/hash/exp.toml"
done
read -r sha _ < <(stats "$B/t-sha256sum")
read -r cold _ < <(stats "$B/t-status-cold")
for n in sha256sum openssl-sha256 status-cold status-cached; do
    [[ -s $B/t-$n ]] || continue
    read -r med min max cnt < <(stats "$B/t-$n")
    printf '   %-18s median %8.1f ms  min %8.1f  max %8.1f  (n=%d)\n' "$n" "$med" "$min" "$max" "$cnt" | tee -a "$SUMMARY"
done
awk -v s="$sha" -v c="$cold" -v g="$HASH_GB" 'BEGIN { printf "   sha256sum %.0f MB/s; kdpipe status (cold, incl. planning) %.0f MB/s; kdpipe/sha256sum time ratio %.2f\n",
    g * 1073.741824 / (s / 1000), g * 1073.741824 / (c / 1000), c / s }' | tee -a "$SUMMARY"
rm -f "$B/hash/big.npz"

# ---------------------------------------------------------------- 4 (optional)
# SNAKEMAKE=/path/to/snakemake (e.g. python3 -m venv /tmp/snk && /tmp/snk/bin/pip install snakemake):
# the same 10 seeds x (gen + 100 squares + sum) DAG as bench-1000, dry run and no-op run.
if [[ -n ${SNAKEMAKE:-} ]]; then
    say ""
    say "== 4: Snakemake $("$SNAKEMAKE" --version) on the equivalent 1,021-job DAG (5 runs each, interleaved with kdpipe)"
    mkdir -p "$B/snk" && cd "$B/snk"
    cat >Snakefile <<'EOF2'
SEEDS = range(10)
VALUES = range(1, 101)
rule all:
    input: expand("out/sum/s{s}.txt", s=SEEDS)
rule gen:
    output: "out/gen/s{s}.txt"
    run:
        open(output[0], "w").write(" ".join(str(i) for i in range(4)))
rule square:
    input: "out/gen/s{s}.txt"
    output: "out/square/s{s}/x{v}.txt"
    run:
        v = int(wildcards.v); open(output[0], "w").write(str(v * v))
rule sum:
    input: lambda w: expand("out/square/s{s}/x{v}.txt", s=w.s, v=VALUES)
    output: "out/sum/s{s}.txt"
    run:
        open(output[0], "w").write(str(sum(int(open(f).read()) for f in input)))
EOF2
    : >"$B/t-snk-dry"; : >"$B/t-snk-noop"; : >"$B/t-kd-dry2"; : >"$B/t-kd-noop2"
    for ((r = 0; r < 5; r++)); do
        time_once "$B/t-snk-dry" "$SNAKEMAKE" -n -c1 --quiet
        time_once "$B/t-kd-dry2" "$K" --store "$B/s-toy-dry" run --dry-run "$TOY1000"
    done
    # Outputs made by hand in dependency order (a full Snakemake run of 1,021 python jobs
    # takes minutes here), so that Snakemake sees everything up to date.
    mkdir -p out/gen out/sum
    for s in $(seq 0 9); do echo 0 >"out/gen/s$s.txt"; done
    sleep 1
    for s in $(seq 0 9); do mkdir -p "out/square/s$s"; for v in $(seq 1 100); do echo $((v * v)) >"out/square/s$s/x$v.txt"; done; done
    sleep 1
    for s in $(seq 0 9); do echo 1 >"out/sum/s$s.txt"; done
    "$SNAKEMAKE" -c1 --quiet 2>&1 | grep -q 'Nothing to be done' || say "   warning: Snakemake did not see an up-to-date DAG"
    for ((r = 0; r < 5; r++)); do
        time_once "$B/t-snk-noop" "$SNAKEMAKE" -c1 --quiet
        time_once "$B/t-kd-noop2" "$K" --store "$B/s-full" run --plain "$TOY1000"
    done
    cd "$ROOT"
    for n in snk-dry kd-dry2 snk-noop kd-noop2; do
        read -r med min max cnt < <(stats "$B/t-$n")
        printf '   %-10s median %8.1f ms  min %8.1f  max %8.1f  (n=%d)\n' "$n" "$med" "$min" "$max" "$cnt" | tee -a "$SUMMARY"
    done
fi

# ---------------------------------------------------------------- 5
if [[ $BENCH_SLURM == 1 ]]; then
    say ""
    say "== 5: Slurm executor overhead vs local (experiments/toy.toml, fresh store per run, $SLURM_RUNS runs each, interleaved)"
    if ! timeout 5 sinfo -h >/dev/null 2>&1 || [[ -z $(timeout 5 sinfo -h -o %T 2>/dev/null | grep -E 'idle|mix|alloc') ]]; then
        scripts/slurm-up.sh >"$B/slurm-up.log" 2>&1 && STARTED_SLURM=1 || { say "   Slurm not available: skipped"; BENCH_SLURM=0; }
    fi
fi
if [[ $BENCH_SLURM == 1 ]]; then
    TOY=$ROOT/experiments/toy.toml
    STAGES=$($K --store "$B/s-count" status "$TOY" | tail -n 1 | sed -n 's/.*: \([0-9]*\) stages.*/\1/p')
    : >"$B/t-local"; : >"$B/t-slurm"
    for ((r = 0; r < SLURM_RUNS; r++)); do
        rm -rf "$B/s-local" "$B/s-slurm"
        time_once "$B/t-local" "$K" --store "$B/s-local" run --plain "$TOY"
        time_once "$B/t-slurm" "$K" --store "$B/s-slurm" run --plain --executor slurm "$TOY"
    done
    read -r loc _ < <(stats "$B/t-local")
    read -r slu _ < <(stats "$B/t-slurm")
    for n in local slurm; do
        read -r med min max cnt < <(stats "$B/t-$n")
        printf '   %-8s median %8.1f ms  min %8.1f  max %8.1f  (n=%d)\n' "$n" "$med" "$min" "$max" "$cnt" | tee -a "$SUMMARY"
    done
    awk -v l="$loc" -v s="$slu" -v n="$STAGES" 'BEGIN { printf "   %d stages: Slurm overhead (median slurm - median local) / stages = %.0f ms per stage\n", n, (s - l) / n }' | tee -a "$SUMMARY"
fi

# ---------------------------------------------------------------- 6
if [[ $BENCH_TRAIN == 1 ]]; then
    say ""
    say "== 6: training throughput, 1 thread, batch 32, 48x48x1, 512 images x 3 epochs ($TRAIN_ROUNDS rounds, interleaved)"
    cargo test --release -p stages --test tiny_stages --no-run >"$B/train-build.log" 2>&1 ||
        { say "   cargo test build failed: skipped (see $B/train-build.log)"; BENCH_TRAIN=0; }
fi
if [[ $BENCH_TRAIN == 1 ]]; then
    TEST_BIN=$(cargo test --release -p stages --test tiny_stages --no-run --message-format=json 2>/dev/null |
        jq -r 'select(.executable != null and .target.name == "tiny_stages") | .executable' | tail -n 1)
    for spec in "teacher 5" "student 2"; do
        set -- $spec
        : >"$B/ips-kd-$1"; : >"$B/ips-pt-$1"
        for ((r = 0; r < TRAIN_ROUNDS; r++)); do
            KDPIPE_BENCH_THREADS=1 KDPIPE_BENCH_DEPTH=$2 KDPIPE_BENCH_WIDTH=16 KDPIPE_BENCH_MAX_WIDTH=128 \
                "$TEST_BIN" --ignored --nocapture --exact bench_train_throughput 2>&1 |
                grep kdpipe-bench | tee -a "$B/train.log" | sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p' >>"$B/ips-kd-$1"
            python bench/pytorch_train.py --threads 1 --depth "$2" --width 16 --max-width 128 2>&1 |
                grep pytorch-bench | tee -a "$B/train.log" | sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p' >>"$B/ips-pt-$1"
        done
        kd=$(median_of <"$B/ips-kd-$1"); pt=$(median_of <"$B/ips-pt-$1")
        rr=$(paste "$B/ips-kd-$1" "$B/ips-pt-$1" | awk '{ print $1 / $2 }' | median_of)
        gf=$(grep "kdpipe-bench depth=$2 " "$B/train.log" | tail -n 1 | sed -n 's/.*macs=\([0-9]*\).*/\1/p')
        awk -v n="$1" -v d="$2" -v k="$kd" -v p="$pt" -v m="$gf" -v rr="$rr" 'BEGIN {
            printf "   %-8s depth %d: kdpipe %.1f img/s, pytorch %.1f img/s (medians), ratio %.2fx (median per-round ratio %.2fx); ~%.2f GFLOP/s (6 x %d MACs/img)\n",
                n, d, k, p, k / p, rr, 6 * m * k / 1e9, m }' | tee -a "$SUMMARY"
    done
    python - 2>/dev/null <<'EOF' | tee -a "$SUMMARY"
import time, torch
torch.set_num_threads(1)
a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
for _ in range(3): a @ b
ts = []
for _ in range(10):
    t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
ts.sort()
print(f"   matmul 1024x1024 fp32, 1 thread: {2 * 1024**3 / ts[len(ts) // 2] / 1e9:.1f} GFLOP/s (median of 10)")
EOF
fi

say ""
say "== done $(date -u +%H:%MZ); uptime:$(uptime | sed 's/.*load average/ load average/')"

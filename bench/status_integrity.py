"""status on a fully cached bench-1000 store: main's binary vs this branch's
(stamps warm) vs this branch's with verified.json removed before each run
(every output hashed), interleaved, N rounds, medians."""
import os, statistics, subprocess, sys, time
before, after, exp, store = sys.argv[1:5]
n = int(sys.argv[5]) if len(sys.argv) > 5 else 30
stamps = os.path.join(store, "verified.json")
cases = {"before (main)": (before, False), "after, stamps warm": (after, False),
         "after, no stamps (all hashed)": (after, True)}
times = {k: [] for k in cases}
def once(exe):
    t0 = time.perf_counter()
    r = subprocess.run([exe, "--store", store, "status", exp], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = (time.perf_counter() - t0) * 1000
    assert r.returncode == 0, r.stderr
    assert b"1020 cached, 0 will run" in r.stdout, r.stdout[-200:]
    return dt
# warm up: page cache, stamps
for exe, _ in cases.values():
    once(exe)
for _ in range(n):
    for k, (exe, cold) in cases.items():
        if cold and os.path.exists(stamps):
            os.remove(stamps)
        times[k].append(once(exe))
    # restore warm stamps for the next round
    once(after)
for k, v in times.items():
    print(f"{k:32s} median {statistics.median(v):7.1f} ms  min {min(v):6.1f}  max {max(v):6.1f}  (n={len(v)})")

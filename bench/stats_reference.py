#!/usr/bin/env python3
"""Reference values for the `stats` crate (pipeline/stats), computed with
SciPy, statsmodels and scikit-learn. The Rust unit tests pin what this prints:
a printed name is the name (or the start of the name) of the test that pins
it, in pipeline/stats/src/<module>.rs or <module>/tests.rs; the synthetic
data's point estimates are pinned in metrics::tests::synthetic_sets_match_sklearn
and bootstrap::tests::pinned_*.

Versions used to produce the pinned values:
    Python 3.11.7, numpy 2.4.6, scipy 1.17.1, statsmodels 0.15.0,
    scikit-learn 1.9.1

How to run:
    python3 -m venv /tmp/statsvenv
    /tmp/statsvenv/bin/pip install scipy statsmodels scikit-learn numpy
    /tmp/statsvenv/bin/python bench/stats_reference.py

The bootstrap section uses SciPy's own RNG, which differs from the crate's
ChaCha8, so those numbers are matched within a Monte-Carlo tolerance, not
exactly. The synthetic data sets are built from integer formulas that the
Rust tests repeat operation for operation (see pipeline/stats/src/testdata.rs).
"""

import warnings

import numpy as np
import scipy
import sklearn
import statsmodels
from scipy import stats
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

warnings.simplefilter("ignore")


def show(name, value):
    if isinstance(value, (list, tuple, np.ndarray)):
        print(f"{name} = [{', '.join(repr(float(v)) for v in value)}]")
    else:
        print(f"{name} = {float(value)!r}")


# ---------------------------------------------------------------- metrics
# Small hand-written cases (the same literals are in metrics/tests.rs).
CASES = {
    # 3 classes, ties in the scores of every class.
    "three_class_ties": (
        [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
        [
            [0.6, 0.3, 0.1],
            [0.5, 0.3, 0.2],
            [0.2, 0.5, 0.3],
            [0.4, 0.4, 0.2],
            [0.3, 0.5, 0.2],
            [0.2, 0.6, 0.2],
            [0.5, 0.3, 0.2],
            [0.2, 0.4, 0.4],
            [0.2, 0.2, 0.6],
            [0.3, 0.3, 0.4],
            [0.2, 0.5, 0.3],
            [0.4, 0.4, 0.2],
        ],
    ),
    # Class 2 occurs in the labels but is never predicted.
    "class_never_predicted": (
        [0, 0, 1, 1, 2, 2, 0, 1],
        [
            [0.7, 0.2, 0.1],
            [0.4, 0.5, 0.1],
            [0.2, 0.7, 0.1],
            [0.5, 0.3, 0.2],
            [0.5, 0.2, 0.3],
            [0.3, 0.4, 0.3],
            [0.8, 0.1, 0.1],
            [0.1, 0.8, 0.1],
        ],
    ),
    # Class 3 of 4 is neither a label nor a prediction; class 2 is only
    # predicted (never a label).
    "class_absent_from_both": (
        [0, 1, 1, 0, 1, 0],
        [
            [0.5, 0.2, 0.2, 0.1],
            [0.1, 0.6, 0.2, 0.1],
            [0.2, 0.2, 0.5, 0.1],
            [0.3, 0.4, 0.2, 0.1],
            [0.2, 0.5, 0.2, 0.1],
            [0.6, 0.1, 0.2, 0.1],
        ],
    ),
    # Binary, with scores tied across the two classes.
    "binary_ties": (
        [0, 1, 0, 1, 1, 0, 1, 0, 0, 1],
        [
            [0.7, 0.3],
            [0.3, 0.7],
            [0.3, 0.7],
            [0.5, 0.5],
            [0.7, 0.3],
            [0.5, 0.5],
            [0.2, 0.8],
            [0.9, 0.1],
            [0.7, 0.3],
            [0.3, 0.7],
        ],
    ),
}


def macro_auc_defined(y, p):
    """Mean one-vs-rest AUC over the classes with positives and negatives."""
    y = np.asarray(y)
    aucs = [
        roc_auc_score(y == c, p[:, c])
        for c in range(p.shape[1])
        if 0 < (y == c).sum() < len(y)
    ]
    return float(np.mean(aucs))


print("# metrics")
for name, (y, rows) in CASES.items():
    y = np.asarray(y)
    p = np.asarray(rows)
    yp = p.argmax(axis=1)
    present = sorted(set(y) | set(yp))
    show(f"{name}.accuracy", accuracy_score(y, yp))
    show(f"{name}.macro_f1", f1_score(y, yp, average="macro", labels=present))
    show(f"{name}.balanced_accuracy", balanced_accuracy_score(y, yp))
    if p.shape[1] == 2:
        show(f"{name}.roc_auc", roc_auc_score(y, p[:, 1]))
    elif len(set(y)) == p.shape[1]:
        show(f"{name}.roc_auc", roc_auc_score(y, p, multi_class="ovr", average="macro"))
    else:
        sk = roc_auc_score(y, p, multi_class="ovr", average="macro", labels=list(range(p.shape[1])))
        print(f"# {name}: sklearn with all labels gives {sk} (a class has no positives)")
        show(f"{name}.roc_auc", macro_auc_defined(y, p))

# ---------------------------------------------------------------- wilson
print("# wilson: proportion_confint(k, n, alpha, method='wilson')")
for k, n, conf in [
    (0, 20, 0.95),
    (20, 20, 0.95),
    (7, 20, 0.95),
    (1, 1, 0.95),
    (160, 200, 0.95),
    (850, 1000, 0.95),
    (7, 20, 0.90),
    (7, 20, 0.99),
]:
    lo, hi = proportion_confint(k, n, alpha=1 - conf, method="wilson")
    show(f"wilson_{k}_of_{n}_at_{round(conf * 100)}", [lo, hi])

# ---------------------------------------------------------------- mcnemar
print("# mcnemar: mcnemar([[a, b], [c, d]], exact=True).pvalue")
for b, c in [(0, 0), (5, 0), (3, 7), (10, 10), (1, 2), (40, 60), (200, 230), (0, 25)]:
    show(f"mcnemar_b{b}_c{c}", mcnemar([[50, b], [c, 50]], exact=True).pvalue)

# ---------------------------------------------------------------- holm
print("# holm: multipletests(p, method='holm')[1]")
HOLM = {
    "holm_four": [0.01, 0.04, 0.03, 0.005],
    "holm_ties": [0.02, 0.02, 0.01, 0.5, 0.02],
    "holm_capped": [0.3, 0.6, 0.9],
    "holm_single": [0.2],
    "holm_monotone_step": [0.001, 0.04, 0.045, 0.0125],
}
for name, p in HOLM.items():
    show(name, multipletests(p, method="holm")[1])

# ---------------------------------------------------------------- corrected t
print("# corrected t: t = mean / sqrt((1/J + n_test/n_train) var), p = 2 t.sf(|t|, J-1)")


def corrected_t(d, n_train, n_test):
    d = np.asarray(d, dtype=float)
    j = len(d)
    t = d.mean() / np.sqrt((1 / j + n_test / n_train) * d.var(ddof=1))
    return t, 2 * stats.t.sf(abs(t), j - 1)


CT = {
    "corrected_t_5x2": ([0.012, 0.018, -0.004, 0.021, 0.009, 0.015, 0.002, 0.011, 0.019, 0.007], 800, 200),
    "corrected_t_negative": ([-0.03, -0.01, -0.025, 0.005, -0.02, -0.015], 900, 100),
    "corrected_t_10x10": ([((i * 37) % 23 - 9) / 1000 for i in range(100)], 900, 100),
}
for name, (d, ntr, nte) in CT.items():
    t, p = corrected_t(d, ntr, nte)
    show(f"{name}.t", t)
    show(f"{name}.p", p)

# ---------------------------------------------------------------- percentile
print("# percentile: numpy.quantile(x, q) (linear, Hyndman-Fan type 7)")
X = [((i * 29) % 41) / 7 for i in range(41)] + [1.5, 1.5]
show("quantile_linear", np.quantile(X, [0.0, 0.025, 0.05, 0.5, 0.95, 0.975, 1.0]))


# ---------------------------------------------------------------- bootstrap
def binary200(mult, add, scale):
    """y = i % 2; p1 = ((mult*i + add) % 100 / 100 + scale*y) / (1 + scale)."""
    y = np.array([i % 2 for i in range(200)])
    p1 = np.array([(((mult * i + add) % 100) / 100 + scale * (i % 2)) / (1 + scale) for i in range(200)])
    return y, np.stack([1 - p1, p1], axis=1)


def three_class150(shift):
    """y = i % 3; s_c = ((i*(13+7c) + 5c + 17*shift) % 50)/50 + 0.5*[c == y], rows normalised."""
    y = np.array([i % 3 for i in range(150)])
    rows = []
    for i in range(150):
        s = [((i * (13 + 7 * c) + 5 * c + 17 * shift) % 50) / 50 + (0.5 if c == i % 3 else 0.0) for c in range(3)]
        tot = s[0] + s[1] + s[2]
        rows.append([s[0] / tot, s[1] / tot, s[2] / tot])
    return y, np.array(rows)


print("# bootstrap point estimates on the synthetic data")
ya, pa = binary200(37, 11, 0.3)
yb, pb = binary200(53, 29, 0.2)
ym, pm = [None] * 3, [None] * 3
for s in range(3):
    ym[s], pm[s] = three_class150(s)
ca = (pa.argmax(1) == ya).astype(float)
cb = (pb.argmax(1) == yb).astype(float)
show("binary200_a.accuracy", ca.mean())
show("binary200_a.roc_auc", roc_auc_score(ya, pa[:, 1]))
show("binary200_b.accuracy", cb.mean())
show("three_class150_seed0.macro_f1", f1_score(ym[0], pm[0].argmax(1), average="macro"))
show("three_class150_3seeds.mean_macro_f1", np.mean([f1_score(ym[s], pm[s].argmax(1), average="macro") for s in range(3)]))
show("three_class150_3seeds.mean_roc_auc", np.mean([roc_auc_score(ym[s], pm[s], multi_class="ovr") for s in range(3)]))
show("three_class150_3seeds.mean_balanced_accuracy", np.mean([balanced_accuracy_score(ym[s], pm[s].argmax(1)) for s in range(3)]))

print("# scipy.stats.bootstrap(..., method='percentile', confidence_level=0.95), 10000 resamples")
B = 10000


def boot(data, statistic, paired, vectorized, seed):
    res = stats.bootstrap(
        data,
        statistic,
        n_resamples=B,
        paired=paired,
        vectorized=vectorized,
        method="percentile",
        confidence_level=0.95,
        rng=np.random.default_rng(seed),
    )
    return [res.confidence_interval.low, res.confidence_interval.high]


show("scipy_bootstrap_accuracy", boot((ca,), np.mean, False, True, 1))
show(
    "scipy_bootstrap_roc_auc",
    boot((ya, pa[:, 1]), lambda y, s: roc_auc_score(y, s), True, False, 2),
)
show(
    "scipy_bootstrap_macro_f1",
    boot((ym[0], pm[0].argmax(1)), lambda y, yp: f1_score(y, yp, average="macro"), True, False, 3),
)
show("scipy_bootstrap_paired_accuracy_difference", boot((ca - cb,), np.mean, False, True, 4))

print(
    f"# versions: numpy {np.__version__}, scipy {scipy.__version__}, "
    f"statsmodels {statsmodels.__version__}, scikit-learn {sklearn.__version__}"
)

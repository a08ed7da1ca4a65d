#!/usr/bin/python3
"""metrics_sklearn.py TOOL: random predictions (with ties, unlabelled rows, binary, 3 and 4
classes, regression) scored by gfuse's metrics (TOOL, tests/metrics_tool) and by scikit-learn;
prints one line per comparison and exits 1 when any differs by more than 1e-6."""
import subprocess, sys
import numpy as np
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

tool = sys.argv[1]
bad = 0

def run(text):
    out = subprocess.run([tool], input=text, capture_output=True, text=True, check=True).stdout
    res = {}
    for line in out.splitlines():
        key, *vals = line.split()
        res[key] = [float(v) for v in vals] if len(vals) > 1 else float(vals[0])
    return res

def compare(case, name, mine, theirs):
    global bad
    ok = abs(mine - theirs) <= 1e-6
    bad += not ok
    print("%s: %s %s gfuse %.9f sklearn %.9f" % ("ok" if ok else "FAIL", case, name, mine, theirs))

rng = np.random.default_rng(7)
for case in range(12):
    k = [2, 2, 2, 3, 3, 4][case % 6]
    n = int(rng.integers(20, 300))
    y = rng.integers(0, k, n)
    y[: k] = np.arange(k)  # every class present
    raw = rng.random((n, k))
    if case % 2 == 0:  # coarse probabilities: many ties
        raw = np.round(raw * 4) + 0.5
    p = raw / raw.sum(1, keepdims=True)
    if case == 5:
        p[0] = 0; p[0, (y[0] + 1) % k] = 1  # a confident miss: log-loss clipping
    lab = y.copy()
    if case % 3 == 1:
        lab[rng.random(n) < 0.2] = -1  # unlabelled rows are skipped
    rows = "\n".join("%d,%s" % (lab[i], ",".join(repr(float(v)) for v in p[i])) for i in range(n))
    got = run("classify %d\n%s\n" % (k, rows))
    keep = lab >= 0
    yt, pt = y[keep], p[keep]
    pred = pt.argmax(1)
    tag = "case %d (k=%d n=%d)" % (case, k, keep.sum())
    compare(tag, "accuracy", got["accuracy"], skm.accuracy_score(yt, pred))
    compare(tag, "balanced_accuracy", got["balanced_accuracy"], skm.balanced_accuracy_score(yt, pred))
    compare(tag, "f1_macro", got["f1_macro"], skm.f1_score(yt, pred, average="macro"))
    compare(tag, "f1_weighted", got["f1_weighted"], skm.f1_score(yt, pred, average="weighted"))
    compare(tag, "log_loss", got["log_loss"], skm.log_loss(yt, pt, labels=list(range(k))))
    cm = skm.confusion_matrix(yt, pred, labels=list(range(k))).ravel()
    compare(tag, "confusion", float(np.abs(np.array(got["confusion"] if isinstance(got["confusion"], list) else [got["confusion"]]) - cm).max()), 0.0)
    if k == 2:
        compare(tag, "f1", got["f1"], skm.f1_score(yt, pred))
        compare(tag, "auroc", got["auroc"], skm.roc_auc_score(yt, pt[:, 1]))
        compare(tag, "auprc", got["auprc"], skm.average_precision_score(yt, pt[:, 1]))
        compare(tag, "brier", got["brier"], skm.brier_score_loss(yt, pt[:, 1]))
    else:
        compare(tag, "auroc", got["auroc"], skm.roc_auc_score(yt, pt, multi_class="ovr"))
        compare(tag, "auprc", got["auprc"],
                skm.average_precision_score(label_binarize(yt, classes=list(range(k))), pt, average="macro"))
        onehot = np.eye(k)[yt]
        compare(tag, "brier", got["brier"], float(((pt - onehot) ** 2).sum(1).mean()))

for case in range(4):
    n = int(rng.integers(10, 200))
    t = rng.normal(size=n) * 3 + 1
    v = t + rng.normal(size=n)
    if case == 3:
        t[::5] = np.nan
    rows = "\n".join("%r,%r" % (float(t[i]), float(v[i])) for i in range(n))
    got = run("regress\n%s\n" % rows)
    keep = ~np.isnan(t)
    tag = "regression %d (n=%d)" % (case, keep.sum())
    compare(tag, "rmse", got["rmse"], np.sqrt(skm.mean_squared_error(t[keep], v[keep])))
    compare(tag, "mae", got["mae"], skm.mean_absolute_error(t[keep], v[keep]))
    compare(tag, "r2", got["r2"], skm.r2_score(t[keep], v[keep]))

print("%d comparisons differ" % bad)
sys.exit(1 if bad else 0)

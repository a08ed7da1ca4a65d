#!/usr/bin/python3
"""baseline_sklearn.py: the scikit-learn side of baseline_sklearn.sh.

  baseline_sklearn.py make DIR CLASSES SEED
      writes a random cohort folder: modalities a, b, c (with NaN cells), labels.csv,
      split.csv (train/test) and mask.csv (hidden modalities, one kept per sample)
  baseline_sklearn.py check DIR METHOD C PROBS
      computes METHOD (mean or late) as ../shared/bench/baselines.py does, with the values as
      gfuse reads them (float32), and compares with gfuse's probabilities in PROBS (CSV: id,
      one column per class): prints the largest difference to the recipe with
      LogisticRegression(C, max_iter=5000), as baselines.py has it, and with
      LogisticRegression(C, solver="newton-cg", tol=1e-10), and fails when they exceed 5e-4 and
      1e-6. The default lbfgs stops on its relative decrease of the objective (ftol = 64 eps)
      with a gradient of about 1e-4 left, which leaves its probabilities about 1e-4 from the
      optimum that gfuse reaches; newton-cg reaches it too.
"""
import sys
import warnings
import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

NAMES = ["a", "b", "c"]
WIDTHS = [7, 4, 11]


def make(folder, k, seed):
    rng = np.random.default_rng(seed)
    n = 180
    y = rng.integers(0, k, n)
    ids = ["s%03d" % i for i in range(n)]
    for m, (name, d) in enumerate(zip(NAMES, WIDTHS)):
        centre = rng.normal(0, 0.8, (k, d))
        x = centre[y] + rng.normal(0, 1, (n, d)) * (1 + np.arange(d) / 3) + np.arange(d)
        x[rng.random((n, d)) < 0.03] = np.nan
        with open("%s/%s.csv" % (folder, name), "w") as f:
            f.write("id," + ",".join("%s%d" % (name, j) for j in range(d)) + "\n")
            for i in range(n):
                f.write(ids[i] + "," + ",".join("nan" if np.isnan(v) else "%.9g" % np.float32(v)
                                                for v in x[i]) + "\n")
    with open(folder + "/labels.csv", "w") as f:
        f.write("id,label\n" + "".join("%s,%d\n" % (i, c) for i, c in zip(ids, y)))
    with open(folder + "/split.csv", "w") as f:
        f.write("id,split\n" + "".join("%s,%s\n" % (i, "train" if j < 120 else "test")
                                       for j, i in enumerate(ids)))
    keep = np.ones((n, len(NAMES)), dtype=int)
    for i in range(n):
        for m in rng.permutation(len(NAMES)):
            if keep[i].sum() > 1 and rng.random() < 0.35:
                keep[i, m] = 0
    with open(folder + "/mask.csv", "w") as f:
        f.write("id," + ",".join(NAMES) + "\n")
        for i in range(n):
            f.write(ids[i] + "," + ",".join(str(v) for v in keep[i]) + "\n")


def load(folder):
    def table(path):
        rows = [line.rstrip("\n").split(",") for line in open(path)][1:]
        return [r[0] for r in rows], [r[1:] for r in rows]
    ids, lab = table(folder + "/labels.csv")
    y = np.array([int(r[0]) for r in lab])
    _, sp = table(folder + "/split.csv")
    tr = np.array([r[0] == "train" for r in sp])
    _, mk = table(folder + "/mask.csv")
    mask = np.array(mk, dtype=int).astype(bool)
    mods = []
    for name in NAMES:
        _, rows = table("%s/%s.csv" % (folder, name))
        mods.append(np.array(rows, dtype=np.float32).astype(np.float64))
    return ids, y, tr, mask, mods


def reference(method, C, tight, y, tr, mask, mods):
    def lr():
        if tight:
            return LogisticRegression(C=C, solver="newton-cg", tol=1e-10, max_iter=5000)
        return LogisticRegression(C=C, max_iter=5000)
    if method == "mean":
        X = np.hstack([np.where(mask[:, [j]], x, np.nan) for j, x in enumerate(mods)])
        Xi = SimpleImputer(strategy="mean").fit(X[tr]).transform(X)
        sc = StandardScaler().fit(Xi[tr])
        return lr().fit(sc.transform(Xi[tr]), y[tr]).predict_proba(sc.transform(Xi[~tr]))
    k = len(np.unique(y[tr]))
    P = np.zeros(((~tr).sum(), k))
    cnt = np.zeros((~tr).sum())
    for j, x in enumerate(mods):
        have = mask[:, j]
        imp = SimpleImputer(strategy="mean").fit(x[tr & have])
        sc = StandardScaler().fit(imp.transform(x[tr & have]))
        clf = lr().fit(sc.transform(imp.transform(x[tr & have])), y[tr & have])
        p = clf.predict_proba(sc.transform(imp.transform(x[~tr])))
        h = have[~tr]
        P[h] += p[h]
        cnt[h] += 1
    return P / cnt[:, None]


def check(folder, method, C, probs):
    ids, y, tr, mask, mods = load(folder)
    rows = [line.rstrip("\n").split(",") for line in open(probs)]
    classes = [int(c) for c in rows[0][1:]]
    got_ids = [r[0] for r in rows[1:]]
    assert got_ids == [i for i, t in zip(ids, tr) if not t], "test samples differ"
    got = np.array([r[1:] for r in rows[1:]], dtype=float)[:, np.argsort(classes)]
    ok = True
    for tight, limit in ((False, 5e-4), (True, 1e-6)):
        diff = np.abs(got - reference(method, C, tight, y, tr, mask, mods)).max()
        print("%s C=%g, %d classes, sklearn %s: max |difference| %.3g (limit %g)" %
              (method, C, len(classes), "newton-cg tol=1e-10" if tight else "lbfgs default",
               diff, limit))
        ok &= diff <= limit
    return ok


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(0 if check(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]) else 1)

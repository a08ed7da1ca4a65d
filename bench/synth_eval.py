"""synth_eval.py: the arithmetic behind bench/synth_eval.sh (needs numpy).

  synth_eval.py complete SYNTH DEST
      DEST becomes a complete cohort: SYNTH/truth/<modality>.csv for every modality, with
      SYNTH's labels.csv and split.csv.
  synth_eval.py baseline SYNTH
      Prints the train-mean imputation RMSE over SYNTH's missing (sample, modality) cells.
  synth_eval.py score SYNTH IMPUTED PRED_INCOMPLETE PRED_COMPLETE SEED
      Prints one JSON line: imputation RMSE of IMPUTED and of the train-mean baseline over the
      missing cells (pooled and per modality), and test accuracy of both prediction files.
  synth_eval.py table ROWS OUT [--max-ratio R] [--max-drop P] [--header TEXT]
      Reads the JSON lines of ROWS, prints the per-seed table, the means and one PASS/FAIL line
      per claim, writes the same text to OUT (temp file + rename) and exits 1 when a claim fails:
      claim 1 holds when the mean over seeds of RMSE(gfuse) / RMSE(train-mean) is at most R
      (default 0.8), claim 2 when the mean over seeds of the test accuracy on the complete cohort
      minus that on the incomplete one is within P points either way (default 3).

Missing cells are those of truth/missing.csv with 0. The train-mean baseline fills feature f of
modality m with the mean of f over the split=train samples that have m. RMSE is in the units of
the cohort files: sqrt(sum of squared errors / number of cells).

Two references put the ratio in context (they are reported, not judged):
  ridge   multi-output ridge regression of the missing modality on the modalities the sample
          has, fitted on the samples that have all of them (observed values only, every split,
          as gfuse sees them), penalty chosen by 5-fold cross-validation on those samples;
  latent  ridge regression on the true latent coordinates (truth/latent.csv): what an imputer
          that recovered z exactly and used it linearly would reach; the noise the generator
          adds keeps even this well above zero.
"""
import csv
import json
import math
import os
import shutil
import sys

import numpy as np


def die(msg):
    sys.stderr.write("synth_eval.py: %s\n" % msg)
    sys.exit(1)


def read_rows(path):
    """A CSV with an id column: (header, {id: list of cells})."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        die("%s is empty" % path)
    out = {}
    for r in rows[1:]:
        if r:
            out[r[0]] = r[1:]
    return rows[0], out


def read_matrix(path):
    """A modality CSV: (feature names, {id: float vector}); empty/NA/NaN cells are NaN."""
    header, rows = read_rows(path)
    vals = {}
    for sid, cells in rows.items():
        v = np.array([float("nan") if c.strip() in ("", "NA", "NaN", "nan") else float(c)
                      for c in cells])
        if len(v) != len(header) - 1:
            die("%s: row %s has %d values, header %d" % (path, sid, len(v), len(header) - 1))
        vals[sid] = v
    return header[1:], vals


def read_column(path):
    _, rows = read_rows(path)
    return {sid: cells[0] for sid, cells in rows.items()}


class Synth:
    """A gfuse synth folder: modalities, ids, presence, truth, labels, split."""

    def __init__(self, folder):
        self.folder = folder
        header, pres = read_rows(os.path.join(folder, "truth", "missing.csv"))
        self.modalities = header[1:]
        self.ids = list(pres)
        self.present = {sid: [c == "1" for c in cells] for sid, cells in pres.items()}
        self.labels = read_column(os.path.join(folder, "labels.csv"))
        self.split = read_column(os.path.join(folder, "split.csv"))
        self.truth = {m: read_matrix(os.path.join(folder, "truth", m + ".csv"))[1]
                      for m in self.modalities}

    def missing_ids(self, j):
        return [sid for sid in self.ids if not self.present[sid][j]]

    def train_means(self):
        """Per modality: mean of each feature over split=train samples that have it, from the
        modality file the model sees (not from the truth)."""
        means = {}
        for m in self.modalities:
            _, obs = read_matrix(os.path.join(self.folder, m + ".csv"))
            rows = [v for sid, v in obs.items() if self.split.get(sid) == "train"]
            if not rows:
                die("no training sample has modality %s" % m)
            means[m] = np.nanmean(np.vstack(rows), axis=0)
        return means


def sq_errors(synth, fill):
    """(sum of squared errors, cells) over the missing cells, keyed by (modality, number of
    modalities the sample keeps); fill(m, sid) gives the filled vector."""
    out = {}
    for j, m in enumerate(synth.modalities):
        for sid in synth.missing_ids(j):
            d = fill(m, sid) - synth.truth[m][sid]
            if np.isnan(d).any():
                die("modality %s of %s is not filled" % (m, sid))
            key = (m, sum(synth.present[sid]))
            sse, n = out.get(key, (0.0, 0))
            out[key] = (sse + float(np.dot(d, d)), n + d.size)
    return out


def rmse(err, modality=None, kept=None):
    """RMSE over the cells of err, or those of one modality, or of samples keeping `kept`."""
    parts = [v for (m, k), v in err.items()
             if modality in (None, m) and kept in (None, k)]
    sse = sum(p[0] for p in parts)
    n = sum(p[1] for p in parts)
    return math.sqrt(sse / n) if n else float("nan")


def baseline_errors(synth):
    means = synth.train_means()
    return sq_errors(synth, lambda m, sid: means[m])


def imputed_errors(synth, folder):
    """Checks that the imputed folder fills exactly the missing cells and leaves observed rows
    as they were, then scores the filled cells."""
    header, mask = read_rows(os.path.join(folder, "mask.csv"))
    if header[1:] != synth.modalities:
        die("%s/mask.csv has modalities %s, expected %s" % (folder, header[1:], synth.modalities))
    filled = {}
    for j, m in enumerate(synth.modalities):
        _, filled[m] = read_matrix(os.path.join(folder, m + ".csv"))
        _, given = read_matrix(os.path.join(synth.folder, m + ".csv"))
        for sid in synth.ids:
            want = "0" if synth.present[sid][j] else "1"
            if sid not in mask or mask[sid][j] != want:
                die("%s/mask.csv: %s/%s should be %s" % (folder, sid, m, want))
            if synth.present[sid][j]:
                a, b = filled[m][sid], given[sid]
                if not np.allclose(a, b, rtol=1e-6, atol=1e-6, equal_nan=True):
                    die("%s/%s.csv changed observed row %s" % (folder, m, sid))
    return sq_errors(synth, lambda m, sid: filled[m][sid])


def test_accuracy(synth, pred_path):
    with open(pred_path, newline="") as f:
        pred = {r["id"]: r["predicted"] for r in csv.DictReader(f)}
    test = [sid for sid in synth.ids if synth.split.get(sid) == "test"]
    if not test:
        die("%s has no split=test samples" % synth.folder)
    missing = [sid for sid in test if sid not in pred]
    if missing:
        die("%s has no prediction for %s" % (pred_path, missing[0]))
    return sum(pred[sid] == synth.labels[sid] for sid in test) / len(test), len(test)


RIDGE_PENALTIES = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)


def ridge_fit(X, Y, penalty):
    """Ridge on standardised X with centred Y; returns the predictor."""
    mx, my = X.mean(axis=0), Y.mean(axis=0)
    sx = X.std(axis=0)
    sx[sx == 0] = 1.0
    Xs = (X - mx) / sx
    W = np.linalg.solve(Xs.T @ Xs + penalty * np.eye(X.shape[1]), Xs.T @ (Y - my))
    return lambda x: ((x - mx) / sx) @ W + my


def ridge_cv(X, Y, folds=5):
    """Ridge with the penalty of least 5-fold cross-validated squared error."""
    fold = np.arange(len(X)) % folds
    best, best_sse = RIDGE_PENALTIES[0], float("inf")
    for penalty in RIDGE_PENALTIES:
        sse = 0.0
        for k in range(folds):
            f = ridge_fit(X[fold != k], Y[fold != k], penalty)
            sse += float(((f(X[fold == k]) - Y[fold == k]) ** 2).sum())
        if sse < best_sse:
            best, best_sse = penalty, sse
    return ridge_fit(X, Y, best)


def ridge_errors(synth):
    """The ridge reference: one fit per (missing modality, modalities the sample has)."""
    obs = {m: read_matrix(os.path.join(synth.folder, m + ".csv"))[1] for m in synth.modalities}
    fits = {}

    def fill(m, sid):
        j = synth.modalities.index(m)
        have = tuple(k for k, p in enumerate(synth.present[sid]) if p)
        if (j, have) not in fits:
            rows = [t for t in synth.ids
                    if synth.present[t][j] and all(synth.present[t][k] for k in have)]
            X = np.vstack([np.concatenate([obs[synth.modalities[k]][t] for k in have])
                           for t in rows])
            Y = np.vstack([obs[m][t] for t in rows])
            fits[(j, have)] = ridge_cv(X, Y)
        return fits[(j, have)](np.concatenate([obs[synth.modalities[k]][sid] for k in have]))

    return sq_errors(synth, fill)


def latent_errors(synth):
    """The latent reference: each modality regressed on the true z over the samples that
    have it."""
    _, rows = read_rows(os.path.join(synth.folder, "truth", "latent.csv"))
    z = {sid: np.array([float(c) for c in cells[1:]]) for sid, cells in rows.items()}
    fits = {}
    for j, m in enumerate(synth.modalities):
        have = [t for t in synth.ids if synth.present[t][j]]
        fits[m] = ridge_fit(np.vstack([z[t] for t in have]),
                            np.vstack([synth.truth[m][t] for t in have]), 1.0)
    return sq_errors(synth, lambda m, sid: fits[m](z[sid]))


def cmd_complete(synth_dir, dest):
    synth = Synth(synth_dir)
    os.makedirs(dest)
    for m in synth.modalities:
        shutil.copyfile(os.path.join(synth_dir, "truth", m + ".csv"), os.path.join(dest, m + ".csv"))
    for name in ("labels.csv", "split.csv"):
        shutil.copyfile(os.path.join(synth_dir, name), os.path.join(dest, name))


def cmd_baseline(synth_dir):
    synth = Synth(synth_dir)
    err = baseline_errors(synth)
    for m in synth.modalities:
        print("%s\t%d missing samples\ttrain-mean RMSE %.4f" %
              (m, len(synth.missing_ids(synth.modalities.index(m))), rmse(err, modality=m)))
    print("all\ttrain-mean RMSE %.4f" % rmse(err))


def cmd_score(synth_dir, imputed, pred_inc, pred_comp, seed):
    synth = Synth(synth_dir)
    base = baseline_errors(synth)
    imp = imputed_errors(synth, imputed)
    ridge = ridge_errors(synth)
    latent = latent_errors(synth)
    acc_inc, n_test = test_accuracy(synth, pred_inc)
    acc_comp, _ = test_accuracy(synth, pred_comp)
    incomplete = sum(not all(p) for p in synth.present.values())
    row = {
        "seed": seed,
        "samples": len(synth.ids),
        "incomplete": incomplete,
        "test": n_test,
        "rmse_model": rmse(imp),
        "rmse_mean": rmse(base),
        "rmse_ridge": rmse(ridge),
        "rmse_latent": rmse(latent),
        "per_modality": {m: {"missing": len(synth.missing_ids(j)),
                             "rmse_model": rmse(imp, modality=m),
                             "rmse_mean": rmse(base, modality=m)}
                         for j, m in enumerate(synth.modalities)},
        "by_kept": {str(k): {"cells": sum(v[1] for (m, kk), v in imp.items() if kk == k),
                             "rmse_model": rmse(imp, kept=k),
                             "rmse_mean": rmse(base, kept=k),
                             "rmse_ridge": rmse(ridge, kept=k)}
                    for k in sorted({k for _, k in imp})},
        "acc_incomplete": acc_inc,
        "acc_complete": acc_comp,
    }
    print(json.dumps(row))


def table_row(cells, width=11):
    return "  ".join("%-*s" % (width, c) for c in cells).rstrip()


def cmd_table(rows_path, out, max_ratio, max_drop, header):
    with open(rows_path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        die("%s holds no results" % rows_path)
    modalities = list(rows[0]["per_modality"])
    lines = []
    if header:
        lines.append(header)
    lines.append("")
    lines.append("Claim 1: imputation RMSE over the missing (sample, modality) cells, original units;")
    lines.append("ratio = RMSE / train-mean RMSE (per modality: ratio and missing samples); ridge and")
    lines.append("latent are reference imputers (see bench/synth_eval.py), not part of the claim")
    cols = ["seed", "incomplete", "RMSE gfuse", "RMSE mean", "ratio"] + \
           ["%s (n)" % m for m in modalities] + ["ridge", "latent"]
    lines.append(table_row(cols))
    ratios = [r["rmse_model"] / r["rmse_mean"] for r in rows]
    for r, ratio in zip(rows, ratios):
        cells = [str(r["seed"]), "%d/%d" % (r["incomplete"], r["samples"]),
                 "%.4f" % r["rmse_model"], "%.4f" % r["rmse_mean"], "%.3f" % ratio]
        for m in modalities:
            pm = r["per_modality"][m]
            cells.append("%.3f (%d)" % (pm["rmse_model"] / pm["rmse_mean"], pm["missing"]))
        cells += ["%.3f" % (r[k] / r["rmse_mean"]) for k in ("rmse_ridge", "rmse_latent")]
        lines.append(table_row(cells))
    mean_ratio = float(np.mean(ratios))
    cells = ["mean", "", "%.4f" % np.mean([r["rmse_model"] for r in rows]),
             "%.4f" % np.mean([r["rmse_mean"] for r in rows]), "%.3f" % mean_ratio]
    for m in modalities:
        cells.append("%.3f" % np.mean([r["per_modality"][m]["rmse_model"] /
                                       r["per_modality"][m]["rmse_mean"] for r in rows]))
    cells += ["%.3f" % np.mean([r[k] / r["rmse_mean"] for r in rows])
              for k in ("rmse_ridge", "rmse_latent")]
    lines.append(table_row(cells))
    lines.append("")
    lines.append("Claim 1 by how many modalities the incomplete sample keeps: ratio of gfuse (of ridge)")
    kept = sorted({k for r in rows for k in r["by_kept"]}, key=int)
    lines.append(table_row(["seed"] + ["keeps %s" % k for k in kept], 16))
    for r in rows:
        cells = [str(r["seed"])]
        for k in kept:
            b = r["by_kept"].get(k)
            cells.append("%.3f (%.3f)" % (b["rmse_model"] / b["rmse_mean"],
                                          b["rmse_ridge"] / b["rmse_mean"]) if b else "-")
        lines.append(table_row(cells, 16))
    lines.append("")
    lines.append("Claim 2: test accuracy (split=test) of the model trained on the incomplete cohort and")
    lines.append("of the same model trained on the complete cohort; drop = complete - incomplete")
    lines.append(table_row(["seed", "test", "incomplete", "complete", "drop (points)"]))
    drops = []
    for r in rows:
        drop = 100.0 * (r["acc_complete"] - r["acc_incomplete"])
        drops.append(drop)
        cells = [str(r["seed"]), str(r["test"]), "%.4f" % r["acc_incomplete"],
                 "%.4f" % r["acc_complete"], "%+.2f" % drop]
        lines.append(table_row(cells))
    mean_drop = sum(drops) / len(drops)
    cells = ["mean", "", "%.4f" % np.mean([r["acc_incomplete"] for r in rows]),
             "%.4f" % np.mean([r["acc_complete"] for r in rows]), "%+.2f" % mean_drop]
    lines.append(table_row(cells))

    lines.append("")
    ok1 = mean_ratio <= max_ratio
    ok2 = abs(mean_drop) <= max_drop
    n1 = sum(x <= max_ratio for x in ratios)
    n2 = sum(abs(x) <= max_drop for x in drops)
    lines.append("%s  claim 1: mean RMSE ratio gfuse/train-mean %.3f, limit %.2f (%d of %d seeds within)"
                 % ("PASS" if ok1 else "FAIL", mean_ratio, max_ratio, n1, len(rows)))
    lines.append("%s  claim 2: mean accuracy drop %+.2f points, limit +-%.1f (%d of %d seeds within)"
                 % ("PASS" if ok2 else "FAIL", mean_drop, max_drop, n2, len(rows)))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if out:
        tmp = "%s.tmp.%d" % (out, os.getpid())
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, out)
    return 0 if ok1 and ok2 else 1


def main(argv):
    if len(argv) == 3 and argv[0] == "complete":
        cmd_complete(argv[1], argv[2])
        return 0
    if len(argv) == 2 and argv[0] == "baseline":
        cmd_baseline(argv[1])
        return 0
    if len(argv) == 6 and argv[0] == "score":
        cmd_score(*argv[1:5], int(argv[5]))
        return 0
    if len(argv) >= 3 and argv[0] == "table":
        opts = {"--max-ratio": "0.8", "--max-drop": "3", "--header": ""}
        rest = argv[3:]
        while rest:
            if rest[0] not in opts or len(rest) < 2:
                die("table: unknown or incomplete option '%s'" % rest[0])
            opts[rest[0]] = rest[1]
            rest = rest[2:]
        return cmd_table(argv[1], argv[2], float(opts["--max-ratio"]),
                         float(opts["--max-drop"]), opts["--header"])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

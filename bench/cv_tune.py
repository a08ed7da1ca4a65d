#!/usr/bin/python3
"""Cross-validation inside a cohort's training split, for choosing gfuse's default
hyperparameters without ever looking at the test split.

usage: cv_tune.py GFUSE COHORT_DIR [--folds 5] [--seeds 1,2] [--rates 0,50] [--threads 1]
                  [--extra "ARGS"] [--work DIR]

The samples of split "train" are dealt into stratified folds (seeded, fixed); for each fold a
cohort folder holding only the training samples is written (the test samples' rows are left
out altogether) with split.csv marking the fold "test" and the rest "train". Masks for rate r
are the protocol masks mask_rRR_sS.csv restricted to those samples. gfuse trains on each fold's
train part (transductively, as the protocol does) and is scored on the fold. Prints one CSV row
per rate: rate, mean and sd over (fold, seed) runs of ACC and AUROC, and the seconds taken.
"""
import argparse, csv, os, random, shlex, subprocess, sys, tempfile, time
import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score


def read(path):
    with open(path) as f:
        return list(csv.reader(f))


def write(path, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)


def make_folds(cohort, work, n_folds):
    split = {r[0]: r[1] for r in read(os.path.join(cohort, "split.csv"))[1:]}
    labels = {r[0]: r[1] for r in read(os.path.join(cohort, "labels.csv"))[1:]}
    train = [i for i in sorted(split) if split[i] == "train"]
    rng = random.Random(20261122)
    fold = {}
    for cls in sorted(set(labels[i] for i in train)):
        ids = [i for i in train if labels[i] == cls]
        rng.shuffle(ids)
        for t, i in enumerate(ids):
            fold[i] = t % n_folds
    keep = set(train)
    modal = [f for f in os.listdir(cohort) if f.endswith(".csv")
             and f not in ("labels.csv", "split.csv") and not f.startswith("mask")]
    masks = [f for f in os.listdir(cohort) if f.startswith("mask_r")]
    dirs = []
    for k in range(n_folds):
        d = os.path.join(work, "fold%d" % k)
        os.makedirs(d, exist_ok=True)
        for f in modal + masks + ["labels.csv"]:
            rows = read(os.path.join(cohort, f))
            write(os.path.join(d, f), [rows[0]] + [r for r in rows[1:] if r[0] in keep])
        write(os.path.join(d, "split.csv"),
              [["id", "split"]] + [[i, "test" if fold[i] == k else "train"] for i in train])
        dirs.append(d)
    return dirs, labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gfuse"); ap.add_argument("cohort")
    ap.add_argument("--folds", type=int, default=5); ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--rates", default="0,50"); ap.add_argument("--threads", default="1")
    ap.add_argument("--extra", default=""); ap.add_argument("--work", default=None)
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="gfuse_cv_")
    dirs, labels = make_folds(a.cohort, work, a.folds)
    classes = sorted(set(labels.values()))
    print("rate,acc_mean,acc_std,auc_mean,auc_std,seconds", flush=True)
    for rate in [int(x) for x in a.rates.split(",")]:
        res, t0 = [], time.time()
        for d in dirs:
            test = [r[0] for r in read(os.path.join(d, "split.csv"))[1:] if r[1] == "test"]
            for seed in a.seeds.split(","):
                mask = [] if rate == 0 else ["--mask", os.path.join(d, "mask_r%02d_s%s.csv" % (rate, seed))]
                model, pred = os.path.join(work, "m.gfm"), os.path.join(work, "p.csv")
                base = ["--cohort", d, "--threads", a.threads, "--quiet"] + mask
                for cmd in ([a.gfuse, "train"] + base + ["--model", model, "--seed", seed] + shlex.split(a.extra),
                            [a.gfuse, "predict", "--model", model, "--out", pred] + base):
                    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                    if p.returncode != 0:
                        sys.exit("failed: %s: %s" % (" ".join(cmd), p.stderr.strip()[-300:]))
                rows = {r["id"]: r for r in csv.DictReader(open(pred))}
                P = np.array([[float(rows[i]["p_" + c]) for c in classes] for i in test])
                y = np.array([classes.index(labels[i]) for i in test])
                auc = roc_auc_score(y, P[:, 1]) if len(classes) == 2 else roc_auc_score(y, P, multi_class="ovr")
                res.append((accuracy_score(y, P.argmax(1)), auc))
        r = np.array(res)
        print("%d,%.3f,%.3f,%.3f,%.3f,%.1f" % (rate, r[:, 0].mean(), r[:, 0].std(), r[:, 1].mean(),
              r[:, 1].std(), time.time() - t0), flush=True)


if __name__ == "__main__":
    main()

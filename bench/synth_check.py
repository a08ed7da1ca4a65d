#!/usr/bin/python3
"""Completion and robustness on gfuse synth cohorts, whose truth/ folder keeps the complete
matrices.

usage: synth_check.py GFUSE [--samples 1000] [--missing 0.4] [--seeds 1,2,3] [--threads 1]
                      [--synth "ARGS"] [--extra "ARGS"] [--work DIR]

For each seed: `gfuse synth` writes an incomplete cohort (--missing) and the same cohort with
nothing missing (same seed, so the same values, labels and split); gfuse trains on each (train
split), predicts, and imputes the incomplete one. Reported per seed and on average:
  rmse_gfuse   RMSE of the filled (missing) modality cells against truth/, in raw units
  rmse_mean    the same cells filled with the per-feature mean of the training samples that
               have the modality (train-mean imputation)
  ratio        rmse_gfuse / rmse_mean (the target is <= 0.8)
  acc_missing, acc_complete   test accuracy of the model trained on each cohort, and their
               difference in points (the target is within 3)
"""
import argparse, csv, os, shlex, subprocess, sys, tempfile
import numpy as np


def read_matrix(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0][1:], {r[0]: np.array([float(v) if v not in ("", "NA", "NaN") else np.nan
                                         for v in r[1:]]) for r in rows[1:]}


def read_map(path):
    with open(path) as f:
        return {r[0]: r[1] for r in list(csv.reader(f))[1:]}


def gfuse(args, exe):
    p = subprocess.run([exe] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("failed: gfuse %s: %s" % (" ".join(args), p.stderr.strip()[-400:]))


def accuracy(pred_path, cohort):
    labels, split = read_map(os.path.join(cohort, "labels.csv")), read_map(os.path.join(cohort, "split.csv"))
    with open(pred_path) as f:
        rows = list(csv.DictReader(f))
    test = [r for r in rows if split.get(r["id"]) == "test"]
    return np.mean([r["predicted"] == labels[r["id"]] for r in test])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gfuse")
    ap.add_argument("--samples", default="1000"); ap.add_argument("--missing", default="0.4")
    ap.add_argument("--seeds", default="1,2,3"); ap.add_argument("--threads", default="1")
    ap.add_argument("--synth", default=""); ap.add_argument("--extra", default="")
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="gfuse_synth_check_")
    os.makedirs(work, exist_ok=True)
    print("seed,rmse_gfuse,rmse_mean,ratio,acc_missing,acc_complete,diff_points", flush=True)
    out = []
    for seed in a.seeds.split(","):
        inc, full = os.path.join(work, "inc%s" % seed), os.path.join(work, "full%s" % seed)
        for d, miss in ((inc, a.missing), (full, "0")):
            gfuse(["synth", "--out", d, "--samples", a.samples, "--missing", miss, "--seed", seed,
                   "--force", "--quiet"] + shlex.split(a.synth), a.gfuse)
        accs = []
        for d in (inc, full):
            model, pred = d + ".gfm", d + ".pred.csv"
            gfuse(["train", "--cohort", d, "--model", model, "--seed", seed, "--threads", a.threads,
                   "--quiet"] + shlex.split(a.extra), a.gfuse)
            gfuse(["predict", "--model", model, "--cohort", d, "--out", pred, "--quiet"], a.gfuse)
            accs.append(accuracy(pred, d))
        gfuse(["impute", "--model", inc + ".gfm", "--cohort", inc, "--out", inc + ".imputed",
               "--quiet"], a.gfuse)
        split = read_map(os.path.join(inc, "split.csv"))
        err_g, err_m = [], []
        mods = sorted(f[:-4] for f in os.listdir(os.path.join(inc, "truth"))
                      if f.startswith("mod") and f.endswith(".csv"))
        mask = read_matrix(os.path.join(inc + ".imputed", "mask.csv"))
        for m in mods:
            _, truth = read_matrix(os.path.join(inc, "truth", m + ".csv"))
            _, have = read_matrix(os.path.join(inc, m + ".csv"))
            _, filled = read_matrix(os.path.join(inc + ".imputed", m + ".csv"))
            col = mask[0].index(m)
            mean = np.nanmean(np.array([have[i] for i in have if split.get(i) == "train"]), axis=0)
            for i, flags in mask[1].items():
                if flags[col] != 1:
                    continue
                assert i not in have
                err_g.append(filled[i] - truth[i])
                err_m.append(mean - truth[i])
        rg = float(np.sqrt(np.mean(np.square(err_g))))
        rm = float(np.sqrt(np.mean(np.square(err_m))))
        out.append((rg, rm, rg / rm, accs[0], accs[1], 100 * (accs[1] - accs[0])))
        print("%s,%.4f,%.4f,%.3f,%.3f,%.3f,%.1f" % ((seed,) + out[-1]), flush=True)
    r = np.array(out)
    print("mean,%.4f,%.4f,%.3f,%.3f,%.3f,%.1f" % tuple(r.mean(0)), flush=True)


if __name__ == "__main__":
    main()

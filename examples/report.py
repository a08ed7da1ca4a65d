#!/usr/bin/env python3
"""report.py: train -> predict -> report on a cohort from Python, as an analyst's script does.

Runs the gfuse tool with subprocess, checks every exit code, reads the CSV outputs with the
standard library (no numpy needed) and checks them against the metrics JSON:

    python3 examples/report.py [COHORT [OUTDIR]]   (defaults: data/example, a temporary folder)

GFUSE names the tool (default: gfuse on PATH, else ./gfuse). Writes OUTDIR/model.gfm,
train_log.csv, predictions.csv, attention.csv, metrics.json and report.html; exits 0 when
every step succeeded and the outputs agree, 1 otherwise.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

QUICK = ["--epochs", "40", "--ensemble", "2", "--seed", "7"]


def tool():
    if os.environ.get("GFUSE"):
        return os.environ["GFUSE"]
    return shutil.which("gfuse") or os.path.join(os.getcwd(), "gfuse")


def gfuse(*args, expect=0):
    """Runs gfuse ARGS; stops the script when the exit code is not the one expected."""
    r = subprocess.run([tool(), *args], capture_output=True, text=True)
    if r.returncode != expect:
        sys.exit(f"report.py: gfuse {args[0]} exited {r.returncode}, expected {expect}:\n"
                 f"{r.stderr}")
    return r


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    cohort = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data", "example")
    out = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="gfuse_report_py_")
    os.makedirs(out, exist_ok=True)
    p = {k: os.path.join(out, v) for k, v in {
        "model": "model.gfm", "log": "train_log.csv", "pred": "predictions.csv",
        "att": "attention.csv", "metrics": "metrics.json", "html": "report.html"}.items()}

    gfuse("train", "--cohort", cohort, "--model", p["model"], "--log", p["log"], "--quiet",
          *QUICK)
    gfuse("predict", "--model", p["model"], "--cohort", cohort, "--out", p["pred"],
          "--attention", p["att"], "--metrics", p["metrics"], "--quiet")
    gfuse("report", "--model", p["model"], "--cohort", cohort, "--log", p["log"],
          "--out", p["html"], "--quiet")
    # A usage error is exit code 2 (and writes nothing).
    gfuse("report", "--model", p["model"], "--cohort", cohort, expect=2)

    labels = {r["id"]: r["label"] for r in read_csv(os.path.join(cohort, "labels.csv"))}
    split_path = os.path.join(cohort, "split.csv")
    split = {r["id"]: r["split"] for r in read_csv(split_path)} if os.path.exists(split_path) \
        else {}
    pred = read_csv(p["pred"])
    problems = []
    if len(pred) != len(labels):
        problems.append(f"{len(pred)} predictions for {len(labels)} labelled samples")
    for row in pred:
        total = sum(float(v) for k, v in row.items() if k.startswith("p_"))
        if abs(total - 1) > 1e-5:
            problems.append(f"{row['id']}: probabilities sum to {total}")
    for row in read_csv(p["att"]):
        total = sum(float(v) for k, v in row.items() if k != "id")
        if abs(total - 1) > 1e-4:
            problems.append(f"{row['id']}: fusion weights sum to {total}")
    test = [r for r in pred if split.get(r["id"]) == "test" and labels.get(r["id"])]
    with open(p["metrics"]) as f:
        metrics = json.load(f)
    if test:
        acc = sum(r["predicted"] == labels[r["id"]] for r in test) / len(test)
        if abs(acc - metrics["test"]["accuracy"]) > 1e-12:
            problems.append(f"test accuracy {acc} here, {metrics['test']['accuracy']} in "
                            "metrics.json")
        print(f"test samples {len(test)}: accuracy {acc:.3f}, AUROC "
              f"{metrics['test']['auroc']:.3f}")
    with open(p["html"], encoding="utf-8") as f:
        page = f.read()
    if not page.startswith("<!DOCTYPE html>") or page.count("<svg") < 8:
        problems.append("report.html is not the page expected")
    for problem in problems:
        print(f"report.py: {problem}", file=sys.stderr)
    print(f"report.py: {len(pred)} predictions, {page.count('<svg')} charts in {p['html']}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

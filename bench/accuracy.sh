#!/bin/sh
# accuracy.sh: gfuse's accuracy beside the baselines, in one table.
#
#   bench/accuracy.sh [--gfuse PATH] [--rates 0,10,30,50,67] [--seeds 1,2,3,4,5] [--threads 2]
#                     [--extra "TRAIN ARGS"] [--no-synth] [--synth-samples 600] [--out FILE]
#
# ROSMAP (../shared/data/rosmap): for every protocol mask (rate RR, seed S: mask_rRR_sS.csv;
# the complete cohort for rate 0) `gfuse cv --use-split` trains on split=train with training
# seed S and scores split=test, the fold the shared protocol scores (its numbers are those of
# ../shared/bench/protocol.py, which trains and predicts with the same seeds); the same runs
# also score gfuse's built-in baselines on the same samples. The table puts gfuse's mean +- sd
# over the seeds of ACC, F1 and AUROC beside every recorded baseline with C = 0.1
# (../shared/bench/results/rosmap-baselines.csv) and MOGONET, with gfuse's gap to the best
# recorded baseline of each metric.
# Synthetic cohorts (gfuse synth: 2, 3 and 5 modalities, 3 classes, --synth-samples samples):
# 5-fold `gfuse cv --baselines --rates 0,0.3,0.5` (pooled over the folds), gfuse beside the
# built-in baselines.
# Writes the table to bench/results/accuracy.txt (or --out) and prints it, the means to
# accuracy.csv beside it and the ROSMAP robustness curve (ACC and AUROC against the missing
# rate, gfuse beside the baselines) to accuracy-curve.svg. Run from a build folder (or give
# --gfuse). Needs only the gfuse tool and python3 (the table and the figure).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
shared=${GFUSE_SHARED:-$here/../../shared}
gfuse=${GFUSE:-./gfuse}
rates=0,10,30,50,67
seeds=1,2,3,4,5
threads=2
extra=
synth=1
synth_samples=600
out=$here/results/accuracy.txt

usage() {
    sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
    exit "$1"
}

while [ $# -gt 0 ]; do
    case $1 in
    --gfuse) gfuse=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --extra) extra=$2; shift 2 ;;
    --no-synth) synth=0; shift ;;
    --synth-samples) synth_samples=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "accuracy.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
    esac
done
[ -x "$gfuse" ] || { echo "accuracy.sh: no gfuse at $gfuse (run from a build folder or give --gfuse)" >&2; exit 2; }
rosmap=$shared/data/rosmap
[ -f "$rosmap/labels.csv" ] || { echo "accuracy.sh: $rosmap is absent" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/gfuse_accuracy.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# ---- ROSMAP, fixed split, protocol masks -------------------------------------------------------
: >"$work/rosmap.csv"
for rate in $(echo "$rates" | tr ',' ' '); do
    for seed in $(echo "$seeds" | tr ',' ' '); do
        mask=
        [ "$rate" -eq 0 ] || mask="--mask $rosmap/mask_r$(printf %02d "$rate")_s$seed.csv"
        start=$(date +%s)
        # shellcheck disable=SC2086
        "$gfuse" cv --cohort "$rosmap" $mask --use-split --baselines --seed "$seed" \
            --threads "$threads" --quiet $extra --out "$work/cv.json" --csv "$work/cv.csv" \
            >/dev/null
        echo "rosmap rate $rate seed $seed: $(($(date +%s) - start)) s" >&2
        awk -F, -v r="$rate" -v s="$seed" 'NR > 1 && $4 == "pooled" {
            print "rosmap," r "," s "," $2 "," $6 "," $8 "," $11 }' "$work/cv.csv" \
            >>"$work/rosmap.csv"
    done
done

# ---- synthetic cohorts: 2, 3, 5 modalities, 3 classes ----------------------------------------
: >"$work/synth.csv"
if [ "$synth" -eq 1 ]; then
    for m in 2 3 5; do
        "$gfuse" synth --out "$work/synth$m" --samples "$synth_samples" --modalities "$m" \
            --classes 3 --missing 0 --seed "$m" --quiet
        start=$(date +%s)
        # shellcheck disable=SC2086
        "$gfuse" cv --cohort "$work/synth$m" --folds 5 --baselines --rates 0,0.3,0.5 --seed 1 \
            --threads "$threads" --quiet $extra --out "$work/cv.json" --csv "$work/cv.csv" \
            >/dev/null
        echo "synth M=$m: $(($(date +%s) - start)) s" >&2
        awk -F, -v m="$m" 'NR > 1 && $4 == "pooled" {
            print "synth" m "," $1 "," $3 "," $2 "," $6 "," $9 "," $11 }' "$work/cv.csv" \
            >>"$work/synth.csv"
    done
fi

python3 - "$work/rosmap.csv" "$work/synth.csv" "$shared/bench/results" "$rates" "$work/means.csv" >"$work/table" <<'PY'
import csv, math, os, sys
rosmap, synth, results, rates, means_path = sys.argv[1:6]

def stats(v):
    m = sum(v) / len(v)
    return m, math.sqrt(sum((x - m) ** 2 for x in v) / len(v))

def cell(m, s): return "%.3f +- %.3f" % (m, s)

runs = {}
for src in (rosmap, synth):
    for row in csv.reader(open(src)):
        cohort, rate, seed, method = row[0], float(row[1]), row[2], row[3]
        runs.setdefault((cohort, rate, method), []).append([float(x) for x in row[4:7]])

with open(means_path, "w") as f:
    f.write("cohort,rate,method,acc_mean,acc_sd,f1_mean,f1_sd,auc_mean,auc_sd,runs\n")
    for (cohort, rate, method), v in sorted(runs.items()):
        st = [stats([r[k] for r in v]) for k in range(3)]
        f.write("%s,%g,%s,%s,%d\n" % (cohort, rate / 100 if cohort == "rosmap" else rate, method,
                ",".join("%.4f,%.4f" % x for x in st), len(v)))

recorded = {}
path = os.path.join(results, "rosmap-baselines.csv")
if os.path.exists(path):
    for r in csv.DictReader(open(path)):
        if r["C"] == "0.1":
            recorded.setdefault(int(r["rate"]), []).append((r["method"] + " (recorded)", r))
path = os.path.join(results, "rosmap-mogonet.csv")
if os.path.exists(path):
    for r in csv.DictReader(open(path)):
        recorded.setdefault(int(r["rate"]), []).append(("MOGONET (recorded)", r))

head = "%-6s %-6s %-22s %-15s %-15s %-15s" % ("cohort", "rate", "method", "ACC", "F1 (macro)", "AUROC")
print("ROSMAP, fixed split, protocol masks, mean +- sd over the seeds (F1 binary)")
print(head.replace("F1 (macro)", "F1        "))
wins = []
for rate in [int(x) for x in rates.split(",")]:
    key = lambda m: ("rosmap", float(rate), m)
    g = runs.get(key("gfuse"))
    if not g: continue
    gs = [stats([r[k] for r in g]) for k in range(3)]
    print("%-6s %-6s %-22s %-15s %-15s %-15s" % ("rosmap", rate / 100, "gfuse", *[cell(*x) for x in gs]))
    for method in ("mean", "late"):
        b = runs.get(key(method))
        if b:
            print("%-6s %-6s %-22s %-15s %-15s %-15s" % ("", "", method + " (built in)",
                  *[cell(*stats([r[k] for r in b])) for k in range(3)]))
    best = [None, None, None]
    for name, r in recorded.get(rate, []):
        vals = [(float(r[k + "_mean"]), float(r[k + "_std"])) for k in ("acc", "f1", "auc")]
        print("%-6s %-6s %-22s %-15s %-15s %-15s" % ("", "", name, *[cell(*v) for v in vals]))
        if "MOGONET" in name: continue
        for k in range(3):
            if best[k] is None or vals[k][0] > best[k]: best[k] = vals[k][0]
    if best[0] is not None:
        gaps = [gs[k][0] - best[k] for k in range(3)]
        print("%-6s %-6s %-22s %-15s %-15s %-15s" % ("", "", "gap to best baseline",
              *["%+.3f" % x for x in gaps]))
        wins.append((rate, gaps))
print()
if wins:
    print("gfuse at or above the best recorded baseline (ACC, AUROC):",
          ", ".join("r=%g %s/%s" % (r / 100, "yes" if g[0] >= 0 else "no", "yes" if g[2] >= 0 else "no")
                    for r, g in wins))
    print()
if any(k[0].startswith("synth") for k in runs):
    print("gfuse synth cohorts (3 classes), 5-fold cv pooled over the folds (F1 macro)")
    print(head)
    for cohort in sorted({k[0] for k in runs if k[0].startswith("synth")}):
        for rate in sorted({k[1] for k in runs if k[0] == cohort}):
            for method in ("gfuse", "mean", "late"):
                v = runs.get((cohort, rate, method))
                if not v: continue
                print("%-6s %-6s %-22s %-15s %-15s %-15s" % (cohort if method == "gfuse" else "",
                      rate if method == "gfuse" else "", method if method == "gfuse" else method + " (built in)",
                      *[cell(*stats([r[k] for r in v])) for k in range(3)]))
PY
cp "$work/table" "$out.tmp.$$" && mv "$out.tmp.$$" "$out"
means=${out%.txt}.csv
cp "$work/means.csv" "$means.tmp.$$" && mv "$means.tmp.$$" "$means"
svg=${out%.txt}-curve.svg
python3 "$here/curve_svg.py" "$means" "$shared/bench/results" >"$svg.tmp.$$" && mv "$svg.tmp.$$" "$svg"
cat "$out"
echo "wrote $out, $means and $svg" >&2

#!/bin/sh
# protocol.sh: gfuse through the shared missing-modality protocol (../shared/bench/protocol.py)
# on ../shared/data/rosmap, held beside the recorded peers: late fusion (the best classical
# baseline) and MOGONET.
#
#   bench/protocol.sh [--gfuse PATH] [--rates 0,50] [--seeds 1,2,3,4,5] [--threads 2]
#                     [--extra "TRAIN ARGS"] [--cohort DIR] [--out FILE]
#
# For every rate, gfuse trains on split=train (with mask_rRR_sS.csv for rate RR and training
# seed S; the complete cohort for rate 0), predicts every sample and is scored on split=test;
# the table (rate, mean and sd of ACC, F1, AUROC over the seeds, seconds) is written to
# bench/results/rosmap-protocol.csv (or --out) and printed with the peers' rows.
# Needs Debian's python3-numpy and python3-sklearn for /usr/bin/python3 (the bench only).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
shared=${GFUSE_SHARED:-$here/../../shared}
gfuse=${GFUSE:-./gfuse}
rates=0,50
seeds=1,2,3,4,5
threads=2
extra=
cohort=
out=$here/results/rosmap-protocol.csv
python=/usr/bin/python3

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit "$1"
}

while [ $# -gt 0 ]; do
    case $1 in
    --gfuse) gfuse=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --extra) extra=$2; shift 2 ;;
    --cohort) cohort=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "protocol.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
    esac
done
cohort=${cohort:-$shared/data/rosmap}
baselines=$shared/bench/results/rosmap-baselines.csv
mogonet=$shared/bench/results/rosmap-mogonet.csv

fail() {
    echo "protocol.sh: $*" >&2
    exit 1
}
[ -x "$gfuse" ] || fail "no gfuse program at '$gfuse' (give --gfuse PATH or set GFUSE)"
[ -f "$shared/bench/protocol.py" ] || fail "no $shared/bench/protocol.py (set GFUSE_SHARED)"
[ -f "$cohort/labels.csv" ] || fail "no cohort at '$cohort'"
"$python" -c 'import numpy, sklearn' 2>/dev/null ||
    fail "$python needs numpy and scikit-learn: apt-get install -y python3-numpy python3-sklearn"

mkdir -p "$(dirname "$out")"
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT INT TERM
echo "protocol: $gfuse on $cohort, rates $rates, seeds $seeds, $threads threads${extra:+, train args: $extra}" >&2
if ! "$python" "$shared/bench/protocol.py" "$gfuse" "$cohort" --rates "$rates" --seeds "$seeds" \
    --threads "$threads" --extra "$extra" >"$tmp"; then
    cat "$tmp" >&2
    fail "the protocol run failed"
fi
mv "$tmp" "$out"
trap - EXIT INT TERM
echo "wrote $out" >&2

# gfuse's rows beside the late-fusion rows (both C) and MOGONET (complete data only)
"$python" - "$out" "$baselines" "$mogonet" <<'PY'
import csv, os, sys
ours, baselines, mogonet = sys.argv[1:4]
rows = [("gfuse", r) for r in csv.DictReader(open(ours))]
peers = {}
if os.path.exists(baselines):
    for r in csv.DictReader(open(baselines)):
        if r["method"] == "late":
            peers.setdefault(r["rate"], []).append(("late C=" + r["C"], r))
if os.path.exists(mogonet):
    for r in csv.DictReader(open(mogonet)):
        peers.setdefault(r["rate"], []).append((r["method"], r))
print("%-4s  %-12s  %-15s  %-15s  %-15s" % ("rate", "method", "ACC", "F1", "AUROC"))
for name, r in rows:
    for who, p in [(name, r)] + peers.get(r["rate"], []):
        cells = ["%s +- %s" % (p[k + "_mean"], p[k + "_std"]) for k in ("acc", "f1", "auc")]
        print("%-4s  %-12s  %-15s  %-15s  %-15s" % (r["rate"], who, *cells))
PY

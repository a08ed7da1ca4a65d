#!/bin/sh
# synth_eval.sh: gfuse on synthetic cohorts with a known truth (the synth claims of the model).
#
#   bench/synth_eval.sh [--gfuse PATH] [--threads T] [--seeds 1,2,3] [--samples 600]
#                       [--missing 0.4] [--synth "SYNTH ARGS"] [--extra "TRAIN ARGS"]
#                       [--max-ratio 0.8] [--max-drop 3] [--out FILE]
#
# For every seed S: `gfuse synth --modalities 3 --missing R --seed S` writes a cohort whose
# truth/ keeps the complete matrices; gfuse trains on it (split=train, --seed S), imputes it and
# predicts it; the truth matrices with the same labels and split form a complete cohort that the
# same model (same flags, same seed) is trained on and predicts. Two claims, on the means over
# the seeds:
#   1. RMSE of the imputed missing (sample, modality) cells against the truth, in the cohort's
#      units, is at most --max-ratio times that of train-mean imputation (each feature's mean
#      over the split=train samples that have the modality);
#   2. test accuracy (split=test) on the incomplete cohort is within --max-drop points of
#      that on the complete cohort.
# The table (per seed and mean) and a PASS/FAIL line per claim go to stdout and to
# bench/results/synth-eval.txt (or --out); the exit status is 1 when a claim fails.
# GFUSE (default ./gfuse) names the program when --gfuse is not given. Needs numpy for
# /usr/bin/python3 (Debian's python3-numpy).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
gfuse=${GFUSE:-./gfuse}
threads=2
seeds=1,2,3
samples=600
missing=0.4
synth_args=
extra=
max_ratio=0.8
max_drop=3
out=$here/results/synth-eval.txt
python=/usr/bin/python3

usage() {
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit "$1"
}

while [ $# -gt 0 ]; do
    case $1 in
    -h | --help) ;;
    *) [ $# -ge 2 ] || { echo "synth_eval.sh: $1 needs a value" >&2; usage 2 >&2; } ;;
    esac
    case $1 in
    --gfuse) gfuse=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --missing) missing=$2; shift 2 ;;
    --synth) synth_args=$2; shift 2 ;;
    --extra) extra=$2; shift 2 ;;
    --max-ratio) max_ratio=$2; shift 2 ;;
    --max-drop) max_drop=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "synth_eval.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
    esac
done

fail() {
    echo "synth_eval.sh: $*" >&2
    exit 1
}
[ -x "$gfuse" ] || fail "no gfuse program at '$gfuse' (give --gfuse PATH or set GFUSE)"
"$python" -c 'import numpy' 2>/dev/null ||
    fail "$python needs numpy: apt-get install -y python3-numpy"
case $gfuse in /*) ;; *) gfuse=$(pwd)/$gfuse ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/synth_eval.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
rows=$work/rows.jsonl
: >"$rows"

# run LOGNAME CMD...: quiet on success, the command's output on failure
run() {
    log=$work/$1.log
    shift
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        fail "failed: $*"
    fi
}

start=$(date +%s)
for seed in $(echo "$seeds" | tr ',' ' '); do
    d=$work/s$seed
    mkdir -p "$d"
    # shellcheck disable=SC2086 # the SYNTH and TRAIN ARGS are word lists
    run "synth$seed" "$gfuse" synth --out "$d/cohort" --samples "$samples" --modalities 3 \
        --missing "$missing" --seed "$seed" --quiet $synth_args
    run "complete$seed" "$python" "$here/synth_eval.py" complete "$d/cohort" "$d/complete"
    for c in cohort complete; do
        if [ "$c" = cohort ]; then what=incomplete; else what=complete; fi
        echo "seed $seed: train, predict on the $what cohort" >&2
        # shellcheck disable=SC2086
        run "train$seed$c" "$gfuse" train --cohort "$d/$c" --model "$d/$c.gfm" --seed "$seed" \
            --threads "$threads" --quiet $extra
        run "predict$seed$c" "$gfuse" predict --model "$d/$c.gfm" --cohort "$d/$c" \
            --out "$d/$c.pred.csv" --threads "$threads" --quiet
    done
    run "impute$seed" "$gfuse" impute --model "$d/cohort.gfm" --cohort "$d/cohort" \
        --out "$d/imputed" --threads "$threads" --quiet
    "$python" "$here/synth_eval.py" score "$d/cohort" "$d/imputed" "$d/cohort.pred.csv" \
        "$d/complete.pred.csv" "$seed" >>"$rows" || fail "scoring seed $seed failed"
    rm -rf "$d"
done
secs=$(($(date +%s) - start))

mkdir -p "$(dirname "$out")"
header="gfuse synth: $samples samples, 3 modalities, missing $missing${synth_args:+, $synth_args}; seeds $seeds
train: defaults${extra:+ with $extra}, --seed = synth seed, $threads threads; $secs s in all
$("$gfuse" --version 2>/dev/null | head -1), source $(git -C "$here/.." describe --always --dirty 2>/dev/null || echo unknown)"
"$python" "$here/synth_eval.py" table "$rows" "$out" --max-ratio "$max_ratio" \
    --max-drop "$max_drop" --header "$header"

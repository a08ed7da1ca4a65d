#!/bin/sh
# valgrind.sh: `make check-valgrind`. Runs a representative subset of the Check programs, the
# fuzz replays and the command-line tool's end-to-end paths (inspect, graph, mask, train,
# info, predict, impute, cv, and a malformed cohort's exit 3) under memcheck with zero errors
# and zero definite leaks allowed: any memcheck error, any definite leak or an unexpected exit
# status fails the script, and the memcheck log of the failing run is printed.
#
# Subset (about 100-150 s of memcheck on two cores): the Check programs whose suites run in
# about a second natively (api, bench, cli, cohort, gat, head, mask, metrics, modelfile,
# options, view), every fuzz replay (the seed corpus and the kept crash inputs of the five
# readers), and the CLI on data/example with small training options. The heavier suites
# (baseline, layers, alloc, reader, graph, model, synth, train: large inputs, many trainings,
# every allocation failing in turn) run under AddressSanitizer in .ci/run instead; their paths
# are the same code the CLI runs here.
#
# Third-party noise (OpenBLAS's and libgomp's thread pools, say) would be suppressed in
# tests/valgrind.supp, each entry with its reason (none is needed today); nothing of gfuse's
# own is ever suppressed.
# make sets top_srcdir, top_builddir and GFUSE; run by hand from a build folder otherwise.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
GFUSE=${GFUSE:-$top_builddir/gfuse}
EXAMPLE=$top_srcdir/data/example
LIBTOOL=${LIBTOOL:-$top_builddir/libtool}

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind.sh: valgrind is not installed"
    exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/gfuse_valgrind.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

# The library's parallel loops run with two threads (memcheck serialises them, but the OpenMP
# paths are taken); Check runs every test in the one process memcheck watches.
OMP_NUM_THREADS=2
OMP_WAIT_POLICY=passive
CK_FORK=no
export OMP_NUM_THREADS OMP_WAIT_POLICY CK_FORK

passed=0
failed=0
n_run=0

# vg EXPECTED_RC DESCRIPTION PROGRAM ARGS...: runs PROGRAM under memcheck through libtool (the
# tool is a libtool wrapper script); passes when it exits EXPECTED_RC. memcheck exits 1 on an
# error or a definite leak, so every EXPECTED_RC here is another status.
vg() {
    want=$1
    desc=$2
    shift 2
    n_run=$((n_run + 1))
    log=$T/vg.$n_run.log
    t0=$(date +%s)
    "$LIBTOOL" --mode=execute valgrind -q --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=yes \
        --suppressions="$top_srcdir/tests/valgrind.supp" --log-file="$log" \
        "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -eq "$want" ]; then
        passed=$((passed + 1))
        echo "ok: $desc (exit $got, $(($(date +%s) - t0)) s)"
    else
        failed=$((failed + 1))
        echo "FAIL: $desc: expected exit $want, got exit $got (memcheck exits 1 on an error or a definite leak)"
        cat "$log"
        tail -n 20 "$T/err"
    fi
}

start=$(date +%s)

# ---- Check programs and fuzz replays ---------------------------------------------------------
for t in api bench cli cohort gat head mask metrics modelfile options view; do
    vg 0 "tests/check_$t" "$top_builddir/tests/check_$t"
done
for h in csv labels split mask model; do
    vg 0 "tests/fuzz/replay_$h" "$top_builddir/tests/fuzz/replay_$h"
done

# ---- the command-line tool on the example cohort ---------------------------------------------
vg 0 "inspect --json" "$GFUSE" inspect --cohort "$EXAMPLE" --json --out "$T/inspect.json"
vg 0 "graph --json --graphml --edges" "$GFUSE" graph --cohort "$EXAMPLE" --k 5 --order amd \
    --json --out "$T/graph.json" --graphml "$T/graph.graphml" --edges "$T/edges.tsv"
vg 0 "mask" "$GFUSE" mask --cohort "$EXAMPLE" --rate 0.3 --seed 2 --out "$T/mask.csv"
vg 0 "train" "$GFUSE" train --cohort "$EXAMPLE" --mask "$T/mask.csv" --model "$T/m.gfm" \
    --epochs 4 --ensemble 2 --hidden 8 --heads 2 --k 5 --graph-variants 2 --log "$T/log.csv" \
    --quiet
vg 0 "info --json" "$GFUSE" info --model "$T/m.gfm" --json
vg 0 "predict" "$GFUSE" predict --cohort "$EXAMPLE" --model "$T/m.gfm" --out "$T/pred.csv" \
    --quiet
vg 0 "impute" "$GFUSE" impute --cohort "$EXAMPLE" --model "$T/m.gfm" --out "$T/imputed" --quiet
vg 0 "cv with the baselines" "$GFUSE" cv --cohort "$EXAMPLE" --folds 2 --rates 0.3 \
    --baselines --epochs 2 --ensemble 1 --hidden 4 --heads 2 --layers 1 --k 3 \
    --graph-variants 0 --out "$T/cv.json" --csv "$T/cv.csv" --predictions "$T/cv_pred.csv" \
    --quiet
# A malformed cohort: the error path frees what the load had built.
mkdir "$T/bad"
cp "$EXAMPLE/labels.csv" "$EXAMPLE/mod2.csv" "$T/bad/"
sed '3s/,[^,]*$/,oops/' "$EXAMPLE/mod1.csv" >"$T/bad/mod1.csv"
vg 3 "malformed cohort" "$GFUSE" train --cohort "$T/bad" --model "$T/bad.gfm" --quiet
# A damaged model file.
head -c 2000 "$T/m.gfm" >"$T/cut.gfm"
vg 3 "truncated model file" "$GFUSE" predict --cohort "$EXAMPLE" --model "$T/cut.gfm" \
    --out "$T/cut.csv" --quiet

echo "valgrind.sh: $passed passed, $failed failed in $(($(date +%s) - start)) s"
[ "$failed" -eq 0 ]

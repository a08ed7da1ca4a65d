#!/bin/sh
# load_memory.sh: time and peak memory of loading a wide numeric CSV with libgfuse.
#
#   bench/load_memory.sh [BUILDDIR]        (BUILDDIR: where libgfuse was built; default .)
#
# Generates a ROWS x COLS CSV (default 10,000 x 10,000, values with 6 decimals) in a temporary
# folder, loads it REPEATS times (default 3) in fresh processes, and prints the wall time of
# gfuse_cohort_load, the process's CPU time (wall time suffers on a busy machine) and its peak
# resident memory for each run, then the medians and the ratio peak RSS / (4 * ROWS * COLS),
# the size of the float32 values. The ratio must be at most 2.0 (exit 1 otherwise). The
# temporary folder is removed at the end.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(dirname "$here")
builddir=$(cd "${1:-.}" && pwd)
rows=${ROWS:-10000}
cols=${COLS:-10000}
repeats=${REPEATS:-3}
limit=${LIMIT:-2.0}

lib="$builddir/.libs/libgfuse.so"
if [ ! -f "$lib" ]; then
    echo "load_memory.sh: $lib not found; build the library first (make libgfuse.la)" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gfuse_load_memory.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

${CC:-cc} -std=c11 -O2 -I"$srcdir/include" "$here/load_cohort.c" -o "$tmp/load_cohort" \
    -L"$builddir/.libs" -lgfuse -Wl,-rpath,"$builddir/.libs"

mkdir "$tmp/cohort"
echo "generating a $rows x $cols CSV ..."
gen_start=$(date +%s.%N)
"$tmp/load_cohort" gen "$tmp/cohort/wide.csv" "$rows" "$cols" 1
gen_end=$(date +%s.%N)
bytes=$(wc -c < "$tmp/cohort/wide.csv")
echo "file: $bytes bytes, written in $(awk -v a="$gen_start" -v b="$gen_end" 'BEGIN { printf "%.1f", b - a }') s"

: > "$tmp/runs"
run=1
while [ "$run" -le "$repeats" ]; do
    out=$("$tmp/load_cohort" load "$tmp/cohort")
    set -- $out
    if [ "$1" != "$rows" ] || [ "$2" != "$cols" ]; then
        echo "load_memory.sh: loaded $1 x $2, expected $rows x $cols" >&2
        exit 1
    fi
    echo "run $run: load $3 s wall, $5 s CPU, peak RSS $4 bytes"
    echo "$3 $4 $5" >> "$tmp/runs"
    run=$((run + 1))
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
time_median=$(awk '{ print $1 }' "$tmp/runs" | median)
rss_median=$(awk '{ print $2 }' "$tmp/runs" | median)
cpu_median=$(awk '{ print $3 }' "$tmp/runs" | median)
values=$((4 * rows * cols))
ratio=$(awk -v r="$rss_median" -v v="$values" 'BEGIN { printf "%.3f", r / v }')
mbps=$(awk -v b="$bytes" -v t="$time_median" 'BEGIN { printf "%.0f", b / t / 1e6 }')
echo "median of $repeats: load $time_median s wall ($mbps MB/s of CSV), $cpu_median s CPU, peak RSS $rss_median bytes"
echo "float32 values: $values bytes; peak RSS / values = $ratio (limit $limit)"
awk -v r="$ratio" -v l="$limit" 'BEGIN { exit !(r <= l) }' || {
    echo "FAIL: peak memory is more than $limit times the size of the values" >&2
    exit 1
}

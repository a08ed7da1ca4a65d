#!/bin/sh
# rosmap_time.sh: wall time of a default `gfuse train` on ../shared/data/rosmap (5-member
# ensemble), interleaved with MOGONET's training on the same data on the same machine, so that
# the ratio holds however fast the machine is at the hour.
#
#   bench/rosmap_time.sh [--gfuse PATH] [--mogonet DIR] [--rounds 5] [--threads 2]
#                        [--out FILE]
#
# Every round trains gfuse once and then MOGONET once (bench/peer_mogonet.py; DIR is a checkout
# of github txWang/MOGONET; without --mogonet only gfuse runs). Prints every time, the medians
# and gfuse's share of MOGONET's median; the same lines go to FILE with --out.
# Needs Debian's python3-torch, python3-sklearn and python3-pandas for MOGONET.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
shared=${GFUSE_SHARED:-$here/../../shared}
gfuse=${GFUSE:-./gfuse}
mogonet=
rounds=5
threads=2
out=
python=/usr/bin/python3

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit "$1"
}

while [ $# -gt 0 ]; do
    case $1 in
    --gfuse) gfuse=$2; shift 2 ;;
    --mogonet) mogonet=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "rosmap_time.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
    esac
done

fail() {
    echo "rosmap_time.sh: $*" >&2
    exit 1
}
cohort=$shared/data/rosmap
[ -x "$gfuse" ] || fail "no gfuse program at '$gfuse' (give --gfuse PATH or set GFUSE)"
[ -f "$cohort/labels.csv" ] || fail "no cohort at '$cohort' (set GFUSE_SHARED)"
case $rounds in '' | *[!0-9]*) fail "--rounds must be a positive integer, not '$rounds'" ;; esac
[ "$rounds" -gt 0 ] || fail "--rounds must be a positive integer, not '$rounds'"
if [ -n "$mogonet" ]; then
    [ -f "$mogonet/train_test.py" ] || fail "'$mogonet' is not a checkout of txWang/MOGONET"
    "$python" -c 'import torch, sklearn, pandas' 2>/dev/null ||
        fail "MOGONET needs python3-torch, python3-sklearn and python3-pandas"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gfuse_rosmap_time.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
now() { date +%s.%N; }
: >"$work/gfuse"
: >"$work/mogonet"
report() {
    echo "$*"
    [ -z "$out" ] || echo "$*" >>"$work/out"
}
report "# rosmap_time.sh $(date -u +%Y-%m-%dT%H:%MZ) on $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $threads threads"
i=1
while [ "$i" -le "$rounds" ]; do
    t0=$(now)
    "$gfuse" train --cohort "$cohort" --model "$work/m.gfm" --threads "$threads" --quiet
    t1=$(now)
    g=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
    echo "$g" >>"$work/gfuse"
    line="round $i gfuse $g s"
    if [ -n "$mogonet" ]; then
        THREADS=$threads "$python" "$here/peer_mogonet.py" "$mogonet" >"$work/mog.log" 2>&1 ||
            { cat "$work/mog.log" >&2; fail "MOGONET failed"; }
        s=$(sed -n 's/^mogonet_seconds \([0-9.]*\) .*/\1/p' "$work/mog.log")
        echo "$s" >>"$work/mogonet"
        line="$line mogonet $s s"
    fi
    report "$line"
    i=$((i + 1))
done
median() { sort -n "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
gm=$(median "$work/gfuse")
if [ -n "$mogonet" ]; then
    mm=$(median "$work/mogonet")
    report "median gfuse $gm s, MOGONET $mm s ($(sed -n 's/^mogonet_seconds [0-9.]* //p' "$work/mog.log")): gfuse takes $(awk -v g="$gm" -v m="$mm" 'BEGIN {printf "%.4f of MOGONET'"'"'s time (1/%.1f)", g / m, m / g}')"
else
    report "median gfuse $gm s over $rounds rounds"
fi
[ -z "$out" ] || { mkdir -p "$(dirname "$out")" && cp "$work/out" "$out"; }

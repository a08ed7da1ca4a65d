#!/bin/sh
# race.sh: gfuse beside the PyTorch Geometric peer (../shared/bench/peer_pyg.py), back to back in
# one run, on the peer's graph shape: N samples, M = 3 modalities of D = 200 features, k = 10,
# hidden 64 in 4 heads, 2 layers. For every N of --sizes, in this order:
#   1. the peer (its GAT model and its SpMM kernels), exporting its graph as raw int32;
#   2. gfuse bench --like-peer on exactly that graph (the peer's model on gfuse's kernels);
#   3. gfuse bench with gfuse's own whole model on a synthetic cohort of the same size;
#   4. bench/gat_bench --peer: the fused GAT kernel against GraphBLAS GrB_mxm (PLUS_TIMES, FP32)
#      and gfuse's SpMM on the same graph at width 64 (without GraphBLAS, configure
#      --without-graphblas or not found, the GrB_mxm ratios are reported as skipped);
# then, at N = --scaling (default: the largest size), steps 2 and 3 again on one thread: the
# speed-up of --threads T over one thread per epoch, and whether the trained parameters are
# the same bit for bit (their digests);
# with STREAM (../shared/bench/stream.c, compiled into a temporary folder) first, as the bound
# for these memory-bound kernels. It prints the ratios (gfuse / PyG epoch time and peak
# memory, fused GAT / GrB_mxm, kernel bandwidth as a share of the STREAM triad) beside the
# times, with the torch and PyG versions and the machine's load. Without PyG the peer's steps
# are skipped with a message and --like-peer builds the same recipe itself.
#
#   bench/race.sh [--sizes "1000 10000 100000"] [--epochs E] [--warmup W] [--threads T]
#                 [--model-max N] [--scaling N] [--results DIR]
#
# Run from the build folder (make bench-race does), or set GFUSE and GAT_BENCH. The peer runs
# with ${PYTHON:-/usr/bin/python3}; PyG is found on PYTHONPATH or PYG_PATH. Its graphs are
# cached in ${TMPDIR:-/tmp}/peer_pyg_cache (N = 10^5 takes minutes to build the first time).
# Output: the report on stdout, also written to DIR/race.txt, and every JSON record appended
# to DIR/race.jsonl (DIR defaults to bench/results beside this script).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
GFUSE=${GFUSE:-./gfuse}
GAT_BENCH=${GAT_BENCH:-./bench/gat_bench}
SHARED=${GFUSE_SHARED:-$top_srcdir/../shared}
PYTHON=${PYTHON:-/usr/bin/python3}
sizes="1000 10000 100000"
epochs=10
warmup=2
threads=${OMP_NUM_THREADS:-2}
model_max=100000000
scaling=
results=$top_srcdir/bench/results

usage() {
    cat <<EOF
Usage: bench/race.sh [OPTIONS]
  --sizes "N ..."   sample counts to run (default: "1000 10000 100000")
  --epochs E        timed epochs per run, medians over them (default: 10)
  --warmup W        epochs before the timed ones (default: 2)
  --threads T       threads for every program (default: OMP_NUM_THREADS or 2)
  --model-max N     run gfuse's whole model only up to N samples (default: no limit)
  --scaling N       the size of the one-thread runs (default: the largest size; 0: none)
  --results DIR     where race.txt and race.jsonl go (default: bench/results)
EOF
}

die() {
    echo "race.sh: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --sizes) [ $# -ge 2 ] || die "--sizes needs a list"; sizes=$2; shift 2 ;;
    --epochs) [ $# -ge 2 ] || die "--epochs needs a number"; epochs=$2; shift 2 ;;
    --warmup) [ $# -ge 2 ] || die "--warmup needs a number"; warmup=$2; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a number"; threads=$2; shift 2 ;;
    --model-max) [ $# -ge 2 ] || die "--model-max needs a number"; model_max=$2; shift 2 ;;
    --scaling) [ $# -ge 2 ] || die "--scaling needs a number"; scaling=$2; shift 2 ;;
    --results) [ $# -ge 2 ] || die "--results needs a folder"; results=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
    esac
done
is_count() { case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }
for n in $sizes; do
    is_count "$n" && [ "$n" -ge 11 ] || die "--sizes takes sample counts above 10, got '$n'"
done
[ -n "$sizes" ] || die "--sizes is empty"
is_count "$epochs" && [ "$epochs" -ge 1 ] || die "--epochs must be a positive count"
is_count "$warmup" || die "--warmup must be a count"
is_count "$threads" && [ "$threads" -ge 1 ] || die "--threads must be a positive count"
is_count "$model_max" || die "--model-max must be a count"
if [ -z "$scaling" ]; then
    for n in $sizes; do [ -z "$scaling" ] || [ "$n" -gt "$scaling" ] && scaling=$n; done
fi
is_count "$scaling" || die "--scaling must be a count"
[ "$scaling" -eq 0 ] || case " $sizes " in *" $scaling "*) ;; *)
    die "--scaling $scaling is not one of --sizes" ;; esac
[ -x "$GFUSE" ] || die "gfuse not found at $GFUSE (run from the build folder or set GFUSE)"
[ -x "$GAT_BENCH" ] || die "$GAT_BENCH not found: make bench/gat_bench (or set GAT_BENCH)"
mkdir -p "$results" || die "cannot create $results"

work=$(mktemp -d "${TMPDIR:-/tmp}/gfuse_race.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
export OMP_NUM_THREADS="$threads"
report=$work/race.txt
records=$work/race.jsonl
: >"$records"
say() { echo "$*" | tee -a "$report"; }
# record TAG FILE: appends FILE's JSON objects (one per line, or one indented object) to the
# records, each tagged with the run and the step; the temporary folder is written WORK.
record() {
    tr -d '\n' <"$2" | sed 's/}[[:space:]]*{/}\n{/g' | grep '^{' |
        sed "s/^{/{\"race_step\": \"$1\", \"race_run\": \"$run_id\", /; s|$work/|WORK/|g" \
            >>"$records"
    echo >>"$records"
}
run_id=$(date -u +%Y-%m-%dT%H:%M:%SZ)

say "# gfuse race $run_id"
say "host: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'), $(nproc) cores," \
    "threads $threads, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
say "gfuse: $("$GFUSE" --version)"
say "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}  sizes: $sizes  epochs: $epochs after $warmup warm-up"

# ---- STREAM ----------------------------------------------------------------------------------
triad=
if [ -f "$SHARED/bench/stream.c" ] && ${CC:-gcc} -O3 -march=native -fopenmp \
    "$SHARED/bench/stream.c" -o "$work/stream" 2>"$work/stream.err"; then
    "$work/stream" 25 20 >"$work/stream.out" 2>&1
    grep '^{' "$work/stream.out" >"$work/stream.json"
    record stream "$work/stream.json"
    triad=$(sed 's/.*"triad_best_GBs":\([0-9.]*\).*/\1/' "$work/stream.json")
    say "STREAM triad (best of 20, $threads threads): $triad GB/s"
else
    say "STREAM skipped: $SHARED/bench/stream.c missing or not compiled ($(head -c 200 "$work/stream.err" 2>/dev/null))"
fi

# ---- the peer --------------------------------------------------------------------------------
peer=
pyg_path=${PYG_PATH:-}
if [ ! -f "$SHARED/bench/peer_pyg.py" ]; then
    say "PyG peer skipped: $SHARED/bench/peer_pyg.py not found (set GFUSE_SHARED)"
elif ! versions=$(PYTHONPATH="${pyg_path:+$pyg_path:}${PYTHONPATH:-}" "$PYTHON" -c \
    'import torch, torch_geometric; print("torch", torch.__version__, "PyG", torch_geometric.__version__)' \
    2>"$work/pyg.err"); then
    say "PyG peer skipped: $PYTHON cannot import torch and torch_geometric" \
        "($(tail -n 1 "$work/pyg.err")); put PyG 2.4 on PYTHONPATH or PYG_PATH (bench/README.md)"
else
    peer=yes
    say "peer: $versions (python $("$PYTHON" -c 'import platform; print(platform.python_version())'))"
fi

# ---- the sizes -------------------------------------------------------------------------------
for n in $sizes; do
    say ""
    say "## N = $n (load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null))"
    stem=
    if [ -n "$peer" ]; then
        PYTHONPATH="${pyg_path:+$pyg_path:}${PYTHONPATH:-}" "$PYTHON" "$SHARED/bench/peer_pyg.py" \
            --n "$n" --models gat,spmm --threads "$threads" --epochs "$epochs" \
            --warmup "$warmup" --export-dir "$work/peer" >"$work/peer_$n.jsonl" 2>"$work/peer_$n.err"
        record peer "$work/peer_$n.jsonl"
        s=$(sed -n 's/.*"kind": "export", "stem": "\([^"]*\)".*/\1/p' "$work/peer_$n.jsonl")
        if [ -n "$s" ] && [ -f "$work/peer/$s.edges.i32" ]; then
            stem=$work/peer/$s
        else
            say "peer failed at N = $n: $(tail -n 3 "$work/peer_$n.err")"
        fi
    fi
    if [ -n "$stem" ]; then
        "$GFUSE" bench --like-peer --peer-graph "$stem" --samples "$n" --epochs "$epochs" \
            --warmup "$warmup" --threads "$threads" --json >"$work/like_$n.json" 2>"$work/like_$n.err"
    else
        "$GFUSE" bench --like-peer --samples "$n" --epochs "$epochs" --warmup "$warmup" \
            --threads "$threads" --json >"$work/like_$n.json" 2>"$work/like_$n.err"
    fi || say "gfuse bench --like-peer failed: $(cat "$work/like_$n.err")"
    record like_peer "$work/like_$n.json"
    [ "$n" -ne "$scaling" ] || scaling_stem=$stem
    if [ "$n" -le "$model_max" ]; then
        "$GFUSE" bench --samples "$n" --epochs "$epochs" --warmup "$warmup" --threads "$threads" \
            --json >"$work/model_$n.json" 2>"$work/model_$n.err" ||
            say "gfuse bench failed: $(cat "$work/model_$n.err")"
        record model "$work/model_$n.json"
    else
        : >"$work/model_$n.json"
        say "gfuse's whole model skipped at N = $n (above --model-max $model_max)"
    fi
    reps=30
    [ "$n" -le 10000 ] || reps=10
    "$GAT_BENCH" --peer "${stem:--}" "$n" 4 16 "$reps" >"$work/gat_$n.json" 2>"$work/gat_$n.err" ||
        say "gat_bench failed: $(cat "$work/gat_$n.err")"
    record gat "$work/gat_$n.json"
done

# ---- one thread ------------------------------------------------------------------------------
if [ "$scaling" -gt 0 ] && [ "$threads" -gt 1 ]; then
    say ""
    say "## N = $scaling on one thread (load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null))"
    n=$scaling
    if [ -n "${scaling_stem:-}" ]; then
        set -- --peer-graph "$scaling_stem"
    else
        set --
    fi
    OMP_NUM_THREADS=1 "$GFUSE" bench --like-peer "$@" --samples "$n" --epochs "$epochs" \
        --warmup "$warmup" --threads 1 --json >"$work/like1_$n.json" 2>"$work/like1_$n.err" ||
        say "gfuse bench --like-peer --threads 1 failed: $(cat "$work/like1_$n.err")"
    record like_peer_1t "$work/like1_$n.json"
    if [ "$n" -le "$model_max" ]; then
        OMP_NUM_THREADS=1 "$GFUSE" bench --samples "$n" --epochs "$epochs" --warmup "$warmup" \
            --threads 1 --json >"$work/model1_$n.json" 2>"$work/model1_$n.err" ||
            say "gfuse bench --threads 1 failed: $(cat "$work/model1_$n.err")"
        record model_1t "$work/model1_$n.json"
    fi
fi

# ---- the ratios --------------------------------------------------------------------------------
say ""
if command -v "$PYTHON" >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1; then
    py=$PYTHON
    command -v "$py" >/dev/null 2>&1 || py=python3
    "$py" - "$records" "$run_id" "${triad:-}" <<'EOF' | tee -a "$report"
import json, sys
path, run, triad = sys.argv[1], sys.argv[2], sys.argv[3]
triad = float(triad) if triad else None
recs = []
for line in open(path):
    line = line.strip()
    if line.startswith("{"):
        recs.append(json.loads(line))
def find(step, n, **kw):
    for r in recs:
        if r.get("race_step") != step:
            continue
        if r.get("n", r.get("samples", r.get("N"))) != n:
            continue
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None
sizes = sorted({r.get("samples", r.get("N")) for r in recs if r.get("race_step") in ("like_peer", "gat")} - {None})
def f(x, fmt="%.4f"):
    return "-" if x is None else fmt % x
def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b
print("%-8s %-22s %10s %10s %10s %10s %9s %10s" % ("N", "run", "epoch s", "fwd s", "bwd s",
      "setup s", "RSS MB", "params"))
rows = []
for n in sizes:
    pg = find("peer", n, kind="train", model="gat")
    lp = find("like_peer", n)
    gm = find("model", n)
    for name, r, ep, fw, bw, su in [
            ("PyG GAT", pg, "epoch_median_s", "fwd_median_s", "bwd_median_s", "setup_s"),
            ("gfuse --like-peer", lp, "epoch_median_s", "forward_s", "backward_s", "setup_s"),
            ("gfuse model", gm, "epoch_median_s", "forward_s", "backward_s", "setup_s")]:
        if r is None:
            continue
        print("%-8d %-22s %10s %10s %10s %10s %9s %10s" % (n, name, f(r.get(ep)), f(r.get(fw)),
              f(r.get(bw)), f(r.get(su)), f(r.get("peak_rss_mb"), "%.0f"),
              r.get("params", r.get("parameters"))))
    rows.append((n, pg, lp, gm, find("gat", n), find("peer", n, kind="spmm"),
                 find("peer", n, kind="graph")))
print()
print("ratios (below 1: gfuse is faster / smaller)")
for n, pg, lp, gm, gb, sp, gr in rows:
    print("N = %d" % n)
    if pg and lp:
        print("  epoch time, gfuse --like-peer / PyG GAT:      %s  (PyG undisturbed epochs %s of %s)"
              % (f(ratio(lp["epoch_median_s"], pg["epoch_median_s"]), "%.3f"),
                 pg.get("clean_epochs"), pg.get("epochs")))
        print("  forward, backward:                            %s, %s"
              % (f(ratio(lp["forward_s"], pg["fwd_median_s"]), "%.3f"),
                 f(ratio(lp["backward_s"], pg["bwd_median_s"]), "%.3f")))
        print("  peak memory, gfuse --like-peer / PyG GAT:     %s"
              % f(ratio(lp["peak_rss_mb"], pg["peak_rss_mb"]), "%.3f"))
        print("  graph, gfuse / PyG edges (self loops incl.):  %d / %d"
              % (lp["edges"], pg["E_with_self_loops"]))
    elif lp:
        print("  (no PyG run: --like-peer on the recipe built by gfuse, %d edges)" % lp["edges"])
    if pg and gm:
        print("  epoch time, gfuse model / PyG GAT:            %s"
              % f(ratio(gm["epoch_median_s"], pg["epoch_median_s"]), "%.3f"))
        print("  peak memory, gfuse model / PyG GAT:           %s"
              % f(ratio(gm["peak_rss_mb"], pg["peak_rss_mb"]), "%.3f"))
    if pg and gr and gr.get("build_s") is not None and lp:
        print("  graph build, gfuse / PyG:                     %s"
              % f(ratio(lp["graph_build_s"], gr["build_s"]), "%.3f"))
    if gb and gb.get("grb_mxm_median_s") is None:
        print("  GrB_mxm: skipped (gat_bench built without GraphBLAS)")
        print("  fused GAT forward (4 x 16), gfuse SpMM (64):  %.5f s, %.5f s"
              % (gb["gat_fwd_median_s"], gb["gfuse_spmm_median_s"]))
        if sp and "csr" in sp.get("results", {}):
            print("  fused GAT forward / torch.sparse.mm CSR:      %s"
                  % f(ratio(gb["gat_fwd_median_s"], sp["results"]["csr"]["median_s"]), "%.3f"))
        if triad:
            print("  bandwidth / STREAM triad %.1f GB/s: GAT forward %.1f%%, gfuse SpMM %.1f%%"
                  % (triad, 100 * gb["gat_fwd_GBs"] / triad, 100 * gb["gfuse_spmm_GBs"] / triad))
    elif gb:
        print("  fused GAT forward (4 x 16) / GrB_mxm (64):    %s  (%.5f s / %.5f s)"
              % (f(gb["gat_fwd_over_mxm"], "%.3f"), gb["gat_fwd_median_s"], gb["grb_mxm_median_s"]))
        print("  gfuse SpMM / GrB_mxm:                         %s" % f(gb["spmm_over_mxm"], "%.3f"))
        if sp and "csr" in sp.get("results", {}):
            print("  GrB_mxm / torch.sparse.mm CSR:                %s"
                  % f(ratio(gb["grb_mxm_median_s"], sp["results"]["csr"]["median_s"]), "%.3f"))
            print("  fused GAT forward / torch.sparse.mm CSR:      %s"
                  % f(ratio(gb["gat_fwd_median_s"], sp["results"]["csr"]["median_s"]), "%.3f"))
        if triad:
            print("  bandwidth / STREAM triad %.1f GB/s: GAT forward %.1f%%, GrB_mxm %.1f%%, "
                  "gfuse SpMM %.1f%%" % (triad, 100 * gb["gat_fwd_GBs"] / triad,
                                         100 * gb["grb_mxm_GBs"] / triad,
                                         100 * gb["gfuse_spmm_GBs"] / triad))
    if gm and gm.get("graph_build_s") and gm.get("epoch_s"):
        wall = sum(gm["epoch_s"])
        print("  gfuse model setup / its graph build:          %s  (%.3f s / %.3f s)"
              % (f(ratio(gm["setup_s"], gm["graph_build_s"]), "%.3f"), gm["setup_s"],
                 gm["graph_build_s"]))
        print("  decoder refit / the %d epochs' wall time:     %s  (%.3f s / %.3f s)"
              % (len(gm["epoch_s"]), f(ratio(gm["refit_s"], wall), "%.3f"), gm["refit_s"], wall))
    for name, r in (("--like-peer", lp), ("model", gm)):
        if r and r.get("kernel_gbs") is not None and triad:
            print("  gfuse bench %s GAT kernel: %.2f GB/s = %.1f%% of triad"
                  % (name, r["kernel_gbs"], 100 * r["kernel_gbs"] / triad))
for n in sizes:
    for name, step in (("--like-peer", "like_peer"), ("model", "model")):
        one, many = find(step + "_1t", n), find(step, n)
        if not one or not many:
            continue
        d1, d2 = one.get("params_digest"), many.get("params_digest")
        same = d1 is not None and d1 == d2
        print("N = %d, gfuse %s: %d threads / 1 thread per epoch: %s x faster (%.4f s / %.4f s), "
              "trained parameters %s" % (n, name, many["threads"],
                                         f(ratio(one["epoch_median_s"], many["epoch_median_s"]),
                                           "%.2f"), many["epoch_median_s"], one["epoch_median_s"],
                                         "bitwise identical" if same else "DIFFERENT"))
EOF
else
    say "python3 not found: the ratios are left out; the records are in $results/race.jsonl"
fi
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
cat "$records" >>"$results/race.jsonl"
cp "$report" "$results/race.txt"
echo "written: $results/race.txt, appended: $results/race.jsonl"

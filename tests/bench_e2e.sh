#!/bin/sh
# bench_e2e.sh: `gfuse bench` end to end: the gfuse model's JSON keys, --like-peer on the recipe
# graph and on a tiny graph in the peer's export format (STEM.edges.i32, STEM.labels.i32), the
# same losses for any thread count, the text output, and usage and data errors.
# make check sets GFUSE (the built tool) and top_srcdir.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

# ---- the gfuse model -------------------------------------------------------------------------
run 0 "bench --samples 200 --epochs 2 --json" bench --samples 200 --epochs 2 --warmup 1 \
    --features 20 --kernel-reps 2 --json
for key in graph_build_s setup_s epoch_median_s epoch_min_s epoch_max_s forward_s backward_s \
    optimizer_s peak_rss_mb nodes edges threads parameters kernel_gbs epoch_s params_digest; do
    check "json has $key" out_has "\"$key\":"
done
check "json nodes = 200 x (3 + 1)" test "$(json_num nodes)" = 800
check "json model is gfuse" out_has '"model": *"gfuse"'
check "median epoch within min and max" awk -v a="$(json_num epoch_min_s)" \
    -v b="$(json_num epoch_median_s)" -v c="$(json_num epoch_max_s)" \
    'BEGIN { exit !(a > 0 && a <= b && b <= c) }'
run 0 "bench as text" bench --samples 100 --epochs 1 --warmup 0 --features 10 --kernel-reps 0
check "text has the epoch line" out_has "^epoch  *median"

# ---- --like-peer on the recipe graph -----------------------------------------------------------
run 0 "bench --like-peer (recipe)" bench --like-peer --samples 100 --features 16 --epochs 3 \
    --warmup 1 --threads 1 --json
check "peer json model" out_has '"model": *"peer_gat"'
check "peer parameters: 64 + 3 (16 x 64 + 64) + 64 x 64 + 3 x 64 + 2 x 64 + 3 x 2" \
    test "$(json_num parameters)" = 7750
check "peer nodes = 100 + 3 x 100" test "$(json_num nodes)" = 400
loss1=$(json_num loss_last)
digest1=$(sed -n 's/.*"params_digest": *"\([0-9a-f]*\)".*/\1/p' "$T/out")
run 0 "bench --like-peer with 2 threads" bench --like-peer --samples 100 --features 16 \
    --epochs 3 --warmup 1 --threads 2 --json
check "the same loss for 1 and 2 threads" test "$(json_num loss_last)" = "$loss1"
check "a 16-digit parameter digest" test "${#digest1}" -eq 16
check "the same parameter digest for 1 and 2 threads" out_has "\"params_digest\": *\"$digest1\""

# ---- --like-peer on a tiny exported graph -------------------------------------------------------
# i32 V...: little-endian int32 of small non-negative values
i32() {
    for v in "$@"; do
        printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((v % 256)) $((v / 256 % 256)) 0 0)"
    done
}
# N = 4, M = 1: samples 0..3, modality nodes 4..7; member edges both ways, a ring of kNN edges
src="0 1 2 3 4 5 6 7 4 5 5 6 6 7 7 4"
dst="4 5 6 7 0 1 2 3 5 4 6 5 7 6 4 7"
{ i32 $src; i32 $dst; } >"$T/tiny.edges.i32"
i32 0 1 0 1 >"$T/tiny.labels.i32"
check "tiny export is 2 x 16 int32" test "$(wc -c <"$T/tiny.edges.i32")" -eq 128
run 0 "bench --like-peer --peer-graph (tiny)" bench --like-peer --peer-graph "$T/tiny" \
    --samples 4 --modalities 1 --features 3 --epochs 2 --json
check "tiny: 16 edges + 8 self loops" test "$(json_num edges)" = 24
check "tiny: loss is a number" awk -v l="$(json_num loss_last)" 'BEGIN { exit !(l > 0) }'

# ---- errors ----------------------------------------------------------------------------------
run 2 "--peer-graph without --like-peer" bench --peer-graph "$T/tiny"
check "names the flag" err_has "needs --like-peer"
run 2 "--samples below the minimum" bench --samples 1
run 2 "--k not below --samples" bench --samples 8 --k 8
check "says why" err_has "must be below --samples"
run 2 "--hidden not a multiple of --heads" bench --hidden 10 --heads 4
check "says why" err_has "multiple of --heads"
run 2 "unknown option" bench --nonsense 1
run 1 "missing export" bench --like-peer --peer-graph "$T/absent" --samples 4 --modalities 1
check "names the file" err_has "absent.labels.i32"
run 3 "export of another size" bench --like-peer --peer-graph "$T/tiny" --samples 20 \
    --modalities 1
check "says what does not fit" err_has "holds 4 labels"
run 0 "bench --help" bench --help
for flag in samples modalities features classes missing epochs warmup kernel-reps like-peer \
    peer-graph heads hidden k lr seed threads json; do
    check "help documents --$flag" out_has "\-\-$flag"
done

e2e_summary bench_e2e

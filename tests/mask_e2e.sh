#!/bin/sh
# mask_e2e.sh: `gfuse mask` end to end: exact hidden counts on the example cohort (which lacks
# cells already) and on a complete `gfuse synth` cohort, one modality kept per sample,
# determinism, masks that `gfuse inspect --mask` reads back with the same counts, a mask as
# input, usage and data errors with their exit codes and no file left, refusal to overwrite an
# input, and on ../shared/data/rosmap (when present) the counts of the shared protocol masks.
# make check sets GFUSE (the built tool), top_srcdir and GFUSE_SHARED.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

# zeros FILE: the number of 0 cells of a mask (every column after id).
zeros() { awk -F, 'NR > 1 { for (j = 2; j <= NF; j++) z += ($j == 0) } END { print z + 0 }' "$1"; }
# min_kept FILE: the fewest modalities a sample keeps; max_kept likewise.
min_kept() {
    awk -F, 'NR > 1 { k = 0; for (j = 2; j <= NF; j++) k += $j; if (lo == "" || k < lo) lo = k }
        END { print lo }' "$1"
}
max_kept() {
    awk -F, 'NR > 1 { k = 0; for (j = 2; j <= NF; j++) k += $j; if (k > hi) hi = k }
        END { print hi + 0 }' "$1"
}
# zeros_by_column FILE: the 0 count of each modality column, one line "name count" each.
zeros_by_column() {
    awk -F, 'NR == 1 { for (j = 2; j <= NF; j++) name[j] = $j; m = NF; next }
        { for (j = 2; j <= NF; j++) z[j] += ($j == 0) }
        END { for (j = 2; j <= m; j++) print name[j], z[j] + 0 }' "$1"
}
# missing_by_modality JSON SAMPLES NAMES: "name missing" per modality from inspect --json.
missing_by_modality() {
    i=0
    for name in $3; do
        i=$((i + 1))
        p=$(grep -o '"present": [0-9]*' "$1" | sed -n "${i}p" | sed 's/.*: //')
        echo "$name $(($2 - p))"
    done
}
header_names() { head -n 1 "$1" | cut -d, -f2- | tr ',' ' '; }

# check_mask DESC FILE ROWS HIDDEN: the header, ROWS samples, HIDDEN zeros, >= 1 kept each.
check_mask() {
    check "$1: $3 rows" test "$(($(wc -l <"$2") - 1))" -eq "$3"
    check "$1: $4 cells hidden" test "$(zeros "$2")" -eq "$4"
    check "$1: every sample keeps a modality" test "$(min_kept "$2")" -ge 1
    check "$1: only 0 and 1" test "$(awk -F, 'NR > 1' "$2" | cut -d, -f2- | tr -d '01,\n' |
        wc -c)" -eq 0
}

# inspect_agrees DESC COHORT MASK N: inspect --mask reads MASK; its missing counts are MASK's.
inspect_agrees() {
    run 0 "$1: inspect --mask reads it" inspect --cohort "$2" --mask "$3" --json --quiet \
        --out "$T/inspect.json"
    check "$1: inspect reports no problem" grep -q '"warnings": \[\]' "$T/inspect.json"
    missing_by_modality "$T/inspect.json" "$4" "$(header_names "$3")" >"$T/from_inspect"
    zeros_by_column "$3" >"$T/from_mask"
    check "$1: inspect's missing counts per modality are the mask's" \
        cmp -s "$T/from_inspect" "$T/from_mask"
}

# ---- the example cohort: 300 samples x 3 modalities, 153 of the 900 cells missing already -----
if [ -f "$EXAMPLE/mod1.csv" ]; then
    for pair in 0.2:180 0.3:270 0.5:450 0.66:594 0.67:600; do
        r=${pair%%:*}
        h=${pair#*:}
        run 0 "example rate $r" mask --cohort "$EXAMPLE" --rate "$r" --seed 3 --out "$T/ex_$r.csv"
        check_mask "example rate $r" "$T/ex_$r.csv" 300 "$h"
        check "example rate $r: summary on stderr" err_has "^gfuse mask: $h of 900 cells hidden"
        check "example rate $r: 153 missing before" err_has "153 missing before"
    done
    check "example 0.67: every sample keeps exactly one" test "$(max_kept "$T/ex_0.67.csv")" -eq 1
    check "example: header names the modalities in cohort order" \
        test "$(head -n 1 "$T/ex_0.3.csv")" = "id,mod1,mod2,mod3"
    # cells the cohort lacks stay hidden
    for m in 1 2 3; do
        lack=$(awk -F, -v m="$m" 'NR == FNR { if (FNR > 1) have[$1] = 1; next }
            FNR > 1 && !($1 in have) && $(m + 1) != 0 { bad++ } END { print bad + 0 }' \
            "$EXAMPLE/mod$m.csv" "$T/ex_0.3.csv")
        check "example: samples without mod$m keep it hidden" test "$lack" -eq 0
    done
    inspect_agrees "example 0.5" "$EXAMPLE" "$T/ex_0.5.csv" 300

    run 0 "example: same seed again" mask --cohort "$EXAMPLE" --rate 0.3 --seed 3 \
        --out "$T/ex_again.csv" --quiet
    check "same seed: identical bytes" cmp -s "$T/ex_0.3.csv" "$T/ex_again.csv"
    check "--quiet: nothing on stderr" test ! -s "$T/err"
    run 0 "example: another seed" mask --cohort "$EXAMPLE" --rate 0.3 --seed 4 \
        --out "$T/ex_s4.csv" --quiet
    check "another seed: another mask" test -n "$(cmp "$T/ex_0.3.csv" "$T/ex_s4.csv" 2>&1)"
    check "another seed: the same count" test "$(zeros "$T/ex_s4.csv")" -eq 270
    run 0 "example: --threads 1" mask --cohort "$EXAMPLE" --rate 0.3 --seed 3 --threads 1 \
        --out "$T/ex_t1.csv" --quiet
    run 0 "example: --threads 2" mask --cohort "$EXAMPLE" --rate 0.3 --seed 3 --threads 2 \
        --out "$T/ex_t2.csv" --quiet
    check "any thread count: identical bytes" cmp -s "$T/ex_t1.csv" "$T/ex_t2.csv"
    check "the thread count does not change the mask" cmp -s "$T/ex_t1.csv" "$T/ex_0.3.csv"
    run 0 "example: --out - writes standard output" mask --cohort "$EXAMPLE" --rate 0.3 --seed 3 \
        --out -
    check "--out -: the same bytes as the file" cmp -s "$T/out" "$T/ex_0.3.csv"
    check "--out -: the summary stays on stderr" err_has "^gfuse mask: 270 of 900"

    # a mask as input: its zeros stay, and count towards the rate
    run 0 "example: --mask as input" mask --cohort "$EXAMPLE" --mask "$T/ex_0.3.csv" --rate 0.5 \
        --seed 9 --out "$T/ex_more.csv"
    check_mask "on top of a mask" "$T/ex_more.csv" 300 450
    check "on top of a mask: 270 missing before" err_has "270 missing before"
    check "on top of a mask: the input's hidden cells stay hidden" test "$(paste -d, \
        "$T/ex_0.3.csv" "$T/ex_more.csv" | awk -F, 'NR > 1 { for (j = 2; j <= 4; j++)
            if ($j == 0 && $(j + 4) != 0) bad++ } END { print bad + 0 }')" -eq 0

    # the cohort lacks more than the rate hides; more than one modality per sample allows
    run 3 "example rate 0.1: the cohort lacks more cells already" mask --cohort "$EXAMPLE" \
        --rate 0.1 --out "$T/no.csv"
    check "lacks more: the message says how many" err_has "lacks 153 of its 900"
    run 3 "example rate 0: the cohort lacks cells already" mask --cohort "$EXAMPLE" --rate 0 \
        --out "$T/no.csv"
    run 3 "example rate 0.7: above one modality per sample" mask --cohort "$EXAMPLE" \
        --rate 0.7 --out "$T/no.csv"
    check "rate 0.7: the message names the rate and the limit" err_has "rate 0.7 hides 630.*at most 600"
    check "data errors: no output file" test ! -e "$T/no.csv"

    # usage errors
    run 2 "--rate 1" mask --cohort "$EXAMPLE" --rate 1 --out "$T/no.csv"
    check "--rate 1: the message names the value" err_has "rate.*\[0, 1).*'1'"
    run 2 "--rate -0.1" mask --cohort "$EXAMPLE" --rate -0.1 --out "$T/no.csv"
    check "--rate -0.1: the message names the value" err_has "'-0.1'"
    run 2 "--rate abc" mask --cohort "$EXAMPLE" --rate abc --out "$T/no.csv"
    run 2 "--rate nan" mask --cohort "$EXAMPLE" --rate nan --out "$T/no.csv"
    run 2 "no --rate" mask --cohort "$EXAMPLE" --out "$T/no.csv"
    check "no --rate: says it is required" err_has "rate R is required"
    run 2 "--seed -1" mask --cohort "$EXAMPLE" --rate 0.3 --seed -1 --out "$T/no.csv"
    run 2 "--seed x" mask --cohort "$EXAMPLE" --rate 0.3 --seed x --out "$T/no.csv"
    run 2 "no --out" mask --cohort "$EXAMPLE" --rate 0.3
    check "no --out: says it is required" err_has "out FILE is required"
    run 2 "--out a folder" mask --cohort "$EXAMPLE" --rate 0.3 --out "$T"
    run 1 "--out in a missing folder" mask --cohort "$EXAMPLE" --rate 0.3 --out "$T/none/m.csv"
    run 2 "no cohort" mask --rate 0.3 --out "$T/no.csv"
    check "usage errors: no output file" test ! -e "$T/no.csv"
    check "usage errors: no folder made" test ! -e "$T/none"

    # inputs are never overwritten
    cp -r "$EXAMPLE" "$T/cohort"
    cp "$T/cohort/mod1.csv" "$T/mod1.before"
    run 2 "--out onto a modality file" mask --cohort "$T/cohort" --rate 0.3 \
        --out "$T/cohort/mod1.csv"
    check "refusal: says it is an input" err_has "input"
    check "refusal: the modality file is unchanged" cmp -s "$T/cohort/mod1.csv" "$T/mod1.before"
    cp "$T/ex_0.3.csv" "$T/in_mask.csv"
    run 2 "--out onto the --mask it reads" mask --cohort "$T/cohort" --mask "$T/in_mask.csv" \
        --rate 0.5 --out "$T/in_mask.csv"
    check "refusal: the mask is unchanged" cmp -s "$T/in_mask.csv" "$T/ex_0.3.csv"
    run 2 "--out onto labels.csv" mask --cohort "$T/cohort" --rate 0.3 \
        --out "$T/cohort/labels.csv"
    check "no temporary files left" test "$(find "$T" -name '*.tmp.*' | wc -l)" -eq 0
    run 0 "mask --help" mask --help
    for flag in cohort modality labels split mask threads quiet rate seed out; do
        check "--help documents --$flag" out_has "^  --$flag"
    done
    check "--help gives the seed's default" out_has "default: 1)"
    run 0 "gfuse --help lists mask" --help
    check "gfuse --help lists mask" out_has "^  mask "
else
    fail "data/example is missing"
fi

# ---- a complete synthetic cohort: 200 samples x 4 modalities = 800 cells ----------------------
run 0 "synth a complete cohort" synth --out "$T/syn" --samples 200 --modalities 4 --features 5 \
    --missing 0 --seed 2 --quiet
run 0 "synth rate 0" mask --cohort "$T/syn" --rate 0 --seed 1 --out "$T/syn_0.csv"
check_mask "synth rate 0" "$T/syn_0.csv" 200 0
check "synth rate 0: 0 samples incomplete" err_has "0 of 200 samples incomplete"
check "synth: header" test "$(head -n 1 "$T/syn_0.csv")" = "id,mod1,mod2,mod3,mod4"
for pair in 0.1:80 0.25:200 0.5:400 0.74:592 0.75:600; do
    r=${pair%%:*}
    h=${pair#*:}
    run 0 "synth rate $r" mask --cohort "$T/syn" --rate "$r" --seed 5 --out "$T/syn_$r.csv"
    check_mask "synth rate $r" "$T/syn_$r.csv" 200 "$h"
done
check "synth 0.75: every sample keeps exactly one" test "$(max_kept "$T/syn_0.75.csv")" -eq 1
run 3 "synth rate 0.8: above one modality per sample" mask --cohort "$T/syn" --rate 0.8 \
    --out "$T/syn_no.csv"
check "synth rate 0.8: no output file" test ! -e "$T/syn_no.csv"
inspect_agrees "synth 0.25" "$T/syn" "$T/syn_0.25.csv" 200
run 0 "synth: same seed again" mask --cohort "$T/syn" --rate 0.25 --seed 5 --out - --quiet
check "synth same seed: identical bytes" cmp -s "$T/out" "$T/syn_0.25.csv"
run 0 "synth: seed 6" mask --cohort "$T/syn" --rate 0.25 --seed 6 --out - --quiet
check "synth another seed: another mask" test -n "$(cmp "$T/out" "$T/syn_0.25.csv" 2>&1)"

# ---- ROSMAP (../shared): the shared masks' counts ---------------------------------------------
ROSMAP=$SHARED/data/rosmap
if [ -d "$ROSMAP" ] && [ -f "$ROSMAP/mask_r67_s1.csv" ]; then
    for pct in 10 30 50 67; do
        shared=$ROSMAP/mask_r${pct}_s1.csv
        r=0.$pct
        run 0 "rosmap rate $r" mask --cohort "$ROSMAP" --rate "$r" --seed 1 --out "$T/ros_$pct.csv"
        check_mask "rosmap rate $r" "$T/ros_$pct.csv" 351 "$(zeros "$shared")"
        check "rosmap rate $r: the shared mask's header" \
            test "$(head -n 1 "$T/ros_$pct.csv")" = "$(head -n 1 "$shared")"
        check "rosmap rate $r: the shared mask's ids in order" \
            test "$(cut -d, -f1 "$T/ros_$pct.csv" | cksum)" = "$(cut -d, -f1 "$shared" | cksum)"
    done
    check "rosmap 0.67: 702 hidden, as the shared masks" test "$(zeros "$T/ros_67.csv")" -eq 702
    check "rosmap 0.67: every sample keeps exactly one" test "$(max_kept "$T/ros_67.csv")" -eq 1
    inspect_agrees "rosmap 0.5" "$ROSMAP" "$T/ros_50.csv" 351
else
    echo "skip: $ROSMAP not found, the ROSMAP checks did not run"
fi

e2e_summary mask_e2e

#!/bin/sh
# cli_e2e.sh: runs the gfuse command-line tool end to end: help and version, exit codes, the
# message and the absence of output for each class of malformed input, inspect on the example
# cohort (and on ../shared/data/rosmap when present), synth determinism.
# make check sets GFUSE (the built tool), top_srcdir and GFUSE_SHARED.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

# ---- help and version -----------------------------------------------------------------------
run 0 "gfuse --help" --help
check "gfuse --help lists commands" out_has "Commands:"
run 0 "gfuse --version" --version
check "version string" out_has "gfuse [0-9]"
commands=$("$GFUSE" --help | awk '/^Commands:/ { f = 1; next } f && /^$/ { f = 0 } f { print $1 }')
check "at least inspect and synth listed" test "$(echo "$commands" | grep -c -x -e inspect -e synth)" -eq 2
for c in $commands; do
    run 0 "gfuse $c --help" "$c" --help
    check "$c --help shows usage" out_has "Usage: gfuse $c"
    check "$c --help documents --help" out_has "--help"
done

# ---- usage errors: exit 2 ---------------------------------------------------------------------
run 2 "no command" 
run 2 "unknown command" frobnicate
check "unknown command named" err_has "unknown command 'frobnicate'"
run 2 "unknown option" inspect --cohort "$EXAMPLE" --bogus
check "unknown option named" err_has "unknown option '--bogus'"
check "usage hint" err_has "Try 'gfuse inspect --help'"
run 2 "missing value" inspect --cohort
check "missing value named" err_has "--cohort needs a value"
run 2 "bad integer" inspect --cohort "$EXAMPLE" --threads x
check "bad integer message" err_has "--threads: expected an integer >= 0, got 'x'"
run 2 "negative integer" inspect --cohort "$EXAMPLE" --threads=-1
run 2 "flag with a value" inspect --cohort "$EXAMPLE" --json=yes
run 2 "no cohort" inspect
check "no cohort message" err_has "no cohort given"
run 2 "bad --modality" inspect --modality mod1.csv
check "bad --modality message" err_has "expected NAME=FILE"
run 2 "synth without --out" synth
run 2 "synth bad number" synth --out "$T/x" --missing 1.5
check "synth bad number message" err_has "--missing: expected a number in \[0, 1\], got '1.5'"
run 2 "synth bad choice" synth --out "$T/x" --mechanism sometimes
check "synth bad choice message" err_has "expected one of mcar|mnar"
run 2 "synth bad --features" synth --out "$T/x" --modalities 3 --features 5,6
check "synth --features message" err_has "--features: expected one integer"
check "nothing written on usage errors" test ! -e "$T/x"

# ---- runtime failure: exit 1 ------------------------------------------------------------------
run 1 "cohort folder that does not exist" inspect --cohort "$T/no-such-folder"

# ---- malformed input: exit 3, FILE:LINE:COL, no output ----------------------------------------
# bad_cohort NAME LINE COL: writes $T/NAME/ with labels.csv and a good mod2.csv; the caller
# writes mod1.csv. Then expects exit 3, "$T/NAME/mod1.csv:LINE:COL:" and no output file.
good_cohort() {
    mkdir -p "$T/$1"
    printf 'id,label\na,x\nb,y\nc,x\n' >"$T/$1/labels.csv"
    printf 'id,g1,g2\na,1,2\nb,3,4\nc,5,6\n' >"$T/$1/mod2.csv"
}
expect_data_error() {
    name=$1
    where=$2
    run 3 "malformed: $name" inspect --cohort "$T/$name" --json --out "$T/$name.json"
    check "malformed: $name names $where" err_has "$T/$name/$where"
    check "malformed: $name writes nothing" test ! -e "$T/$name.json"
    check "malformed: $name leaves no temporary file" \
        test -z "$(ls "$T" | grep "^$name\.json\.tmp")"
}
good_cohort non_numeric
printf 'id,f1,f2\na,1,2\nb,3,oops\nc,5,6\n' >"$T/non_numeric/mod1.csv"
expect_data_error non_numeric "mod1.csv:3:3:"
good_cohort too_many_fields
printf 'id,f1,f2\na,1,2\nb,3,4,5\nc,5,6\n' >"$T/too_many_fields/mod1.csv"
expect_data_error too_many_fields "mod1.csv:3:[0-9]*:"
good_cohort too_few_fields
printf 'id,f1,f2\na,1,2\nb,3\nc,5,6\n' >"$T/too_few_fields/mod1.csv"
expect_data_error too_few_fields "mod1.csv:3:[0-9]*:"
good_cohort duplicate_id
printf 'id,f1,f2\na,1,2\nb,3,4\na,5,6\n' >"$T/duplicate_id/mod1.csv"
expect_data_error duplicate_id "mod1.csv:4:1:"
good_cohort duplicate_feature
printf 'id,f1,f1\na,1,2\nb,3,4\nc,5,6\n' >"$T/duplicate_feature/mod1.csv"
expect_data_error duplicate_feature "mod1.csv:1:3:"
good_cohort infinite_value
printf 'id,f1,f2\na,1,2\nb,3,4\nc,inf,6\n' >"$T/infinite_value/mod1.csv"
expect_data_error infinite_value "mod1.csv:4:2:"
good_cohort empty_file
: >"$T/empty_file/mod1.csv"
expect_data_error empty_file "mod1.csv:1:1:"
good_cohort missing_header
printf '1,2,3\n4,5,6\n' >"$T/missing_header/mod1.csv"
expect_data_error missing_header "mod1.csv:1:[0-9]*:"
good_cohort unterminated_quote
printf 'id,f1,f2\na,1,2\n"b,3,4\nc,5,6\n' >"$T/unterminated_quote/mod1.csv"
expect_data_error unterminated_quote "mod1.csv:3:[0-9]*:"
# A label for an unknown sample is only a warning.
good_cohort unknown_label
printf 'id,f1\na,1\nb,2\nc,3\n' >"$T/unknown_label/mod1.csv"
printf 'zz,x\n' >>"$T/unknown_label/labels.csv"
run 0 "label for an unknown sample" inspect --cohort "$T/unknown_label"
check "label for an unknown sample is a warning" err_has "gfuse: warning: .*zz"

# Regression labels.
good_cohort regression
printf 'id,f1\na,1\nb,2\nc,3\n' >"$T/regression/mod1.csv"
printf 'id,label\na,1.5\nb,-2\n' >"$T/regression/labels.csv"
run 0 "inspect --task regress" inspect --cohort "$T/regression" --task regress --json
check "regression: task and range" sh -c "grep -q '\"task\": \"regress\"' '$T/out' && grep -q '\"max\": 1.5' '$T/out' && grep -q '\"unlabelled\": 1' '$T/out'"

# ---- inspect on the example cohort --------------------------------------------------------------
# patterns_of_json JSON NAMES: "bits count" per pattern, bits in the order of NAMES (comma list).
patterns_of_json() {
    awk -v names="$2" '
        BEGIN { n = split(names, nm, ",") }
        /"patterns": \[/ { inp = 1; next }
        inp && /"count":/ { c = $0; gsub(/[^0-9]/, "", c); next }
        inp && /"present": \{/ { pres = 1; split("", v); next }
        pres && /\}/ {
            pres = 0; k = ""
            for (i = 1; i <= n; i++) k = k v[nm[i]]
            print k, c; next
        }
        pres { split($0, q, "\""); val = $0; sub(/.*:/, "", val); gsub(/[^0-9]/, "", val); v[q[2]] = val }
        inp && /^  \]/ { inp = 0 }
    ' "$1" | sort
}
# patterns_of_table CSV: "bits count" from an id,<modality...> table of 0/1 (header skipped).
patterns_of_table() {
    awk -F, 'NR > 1 { sub(/\r$/, ""); k = ""; for (i = 2; i <= NF; i++) k = k $i; c[k]++ }
             END { for (k in c) print k, c[k] }' "$1" | sort
}
header_names() { head -n 1 "$1" | tr -d '\r' | cut -d, -f2-; }

if [ -d "$EXAMPLE" ]; then
    run 0 "inspect data/example" inspect --cohort "$EXAMPLE"
    check "example: text report" out_has "samples: 300"
    run 0 "inspect data/example --json --out" inspect --cohort "$EXAMPLE" --json --out "$T/example.json"
    check "example: --out file written" test -s "$T/example.json"
    check "example: no temporary file left" test -z "$(ls "$T" | grep 'example\.json\.tmp')"
    check "example: 300 samples" test "$(json_num samples "$T/example.json")" = 300
    check "example: 3 modalities" test "$(grep -c '"features":' "$T/example.json")" -eq 3
    check "example: 100 per class" test "$(grep -c '"c[123]": 100' "$T/example.json")" -eq 3
    patterns_of_json "$T/example.json" "$(header_names "$EXAMPLE/truth/missing.csv")" >"$T/p_json"
    patterns_of_table "$EXAMPLE/truth/missing.csv" >"$T/p_truth"
    check "example: patterns read from the JSON" test -s "$T/p_json"
    check "example: patterns match truth/missing.csv" cmp -s "$T/p_json" "$T/p_truth"
    check "example: about a third incomplete" \
        test "$(awk '$1 != "111" { s += $2 } END { print s }' "$T/p_truth")" -ge 80
    if command -v python3 >/dev/null 2>&1; then
        check "example: JSON parses" python3 -m json.tool "$T/example.json" >/dev/null
    fi
else
    fail "data/example is missing"
fi

# ---- inspect on ROSMAP (../shared) ---------------------------------------------------------------
ROSMAP=$SHARED/data/rosmap
MASK=$ROSMAP/mask_r50_s1.csv
if [ -d "$ROSMAP" ] && [ -f "$MASK" ]; then
    run 0 "inspect rosmap" inspect --cohort "$ROSMAP" --json --out "$T/rosmap.json"
    check "rosmap: 351 samples" test "$(json_num samples "$T/rosmap.json")" = 351
    check "rosmap: 3 modalities of 200 features" \
        test "$(grep -c '"features": 200' "$T/rosmap.json")" -eq 3
    check "rosmap: classes 182/169" test "$(sed -n '/"classes"/,/}/p' "$T/rosmap.json" |
        grep -o ': [0-9][0-9]*' | tr -d ': ' | sort -n | tr '\n' ' ')" = "169 182 "
    run 0 "inspect rosmap --mask" inspect --cohort "$ROSMAP" --mask "$MASK" --json \
        --out "$T/rosmap_mask.json"
    patterns_of_json "$T/rosmap_mask.json" "$(header_names "$MASK")" >"$T/p_mask_json"
    patterns_of_table "$MASK" >"$T/p_mask"
    check "rosmap: mask patterns exactly as the mask implies" cmp -s "$T/p_mask_json" "$T/p_mask"
    check "rosmap: mask has several patterns" test "$(wc -l <"$T/p_mask_json")" -ge 2
else
    echo "skip: $ROSMAP not found, the ROSMAP checks did not run"
fi

# ---- synth ------------------------------------------------------------------------------------------
run 0 "synth a" synth --out "$T/sa" --samples 120 --features 6,5,4 --seed 9 --quiet
run 0 "synth b, same seed" synth --out "$T/sb" --samples 120 --features 6,5,4 --seed 9 --quiet
check "synth: same seed, identical files" diff -r "$T/sa" "$T/sb"
run 0 "synth c, another seed" synth --out "$T/sc" --samples 120 --features 6,5,4 --seed 10 --quiet
check "synth: another seed, different values" sh -c "! cmp -s '$T/sa/truth/mod1.csv' '$T/sc/truth/mod1.csv'"
run 0 "synth mnar" synth --out "$T/sm" --samples 120 --mechanism mnar --missing 0.5 --quiet
check "synth mnar: 60 incomplete samples" \
    test "$(awk -F, 'NR > 1 && /,0/ { n++ } END { print n }' "$T/sm/truth/missing.csv")" -eq 60
run 2 "synth refuses a non-empty folder" synth --out "$T/sa" --seed 11
check "synth: refusing leaves the folder as it was" diff -r "$T/sa" "$T/sb"
run 0 "synth --force replaces an earlier cohort" synth --out "$T/sa" --samples 50 --seed 11 --force --quiet
check "synth --force: the new cohort is in place" test "$(wc -l <"$T/sa/labels.csv")" -eq 51
check "synth --force: nothing left beside it" test -z "$(ls "$T" | grep '^sa\.')"
mkdir "$T/own"
echo keep >"$T/own/notes.txt"
run 2 "synth --force keeps a folder it did not write" synth --out "$T/own" --force
check "synth --force: foreign file untouched" test "$(cat "$T/own/notes.txt")" = keep
run 0 "inspect a synth cohort" inspect --cohort "$T/sb" --quiet
check "synth cohort: 120 samples" out_has "samples: 120"

# ---- examples ----------------------------------------------------------------------------------
SUMMARY=${top_builddir:-$(dirname "$GFUSE")}/examples/cohort_summary
if [ -x "$SUMMARY" ] && [ -d "$EXAMPLE" ]; then
    "$SUMMARY" "$EXAMPLE" >"$T/out" 2>"$T/err"
    check "examples/cohort_summary runs" test $? -eq 0
    check "examples/cohort_summary: 300 samples" out_has "300 samples, 3 modalities, 3 classes"
else
    fail "examples/cohort_summary was not built at $SUMMARY"
fi
sh "$top_srcdir/examples/robustness.sh" "$GFUSE" "$T/robust" >"$T/out" 2>"$T/err"
check "examples/robustness.sh runs" test $? -eq 0
check "examples/robustness.sh: all 200 complete with nothing hidden" out_has "^0.0 200 1$"
check "examples/robustness.sh: fewer complete as more is hidden" \
    test "$(awk '$1 == "0.6" { print $2 }' "$T/out")" -lt 100

e2e_summary cli_e2e

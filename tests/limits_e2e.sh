#!/bin/sh
# limits_e2e.sh: limits and checks on hostile input, end to end: --threads above the cap, thread
# pools under an address-space limit (a clean exit, never a hang), the memory estimate before
# training, NUL bytes and invalid UTF-8 in cohort files, escaping in the JSON, GraphML and TSV
# writers, model files whose values fail validation, and the warnings on doubtful cohorts.
# make check sets GFUSE (the built tool) and top_srcdir.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

# run_limited KB EXPECTED_RC DESCRIPTION ARGS...: run under `ulimit -v KB` with a 60 s timeout;
# exit 124 (the timeout) is a hang and always fails.
run_limited() {
    kb=$1
    want=$2
    desc=$3
    shift 3
    (ulimit -v "$kb" && exec timeout 60 "$GFUSE" "$@") >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -eq 124 ]; then
        fail "$desc: hung (killed after 60 s); stderr: $(head -c 400 "$T/err")"
    elif [ "$want" = any ] || [ "$got" -eq "$want" ]; then
        ok "$desc (exit $got)"
    else
        fail "$desc: expected exit $want, got $got; stderr: $(head -c 400 "$T/err")"
    fi
}

# Sanitizer builds reserve terabytes of shadow memory and cannot start under `ulimit -v`.
limited_ok=0
(ulimit -v 1500000 && exec "$GFUSE" --version) >/dev/null 2>&1 && limited_ok=1
[ "$limited_ok" = 1 ] || echo "skip: gfuse does not start under ulimit -v (a sanitizer build?)"

# ---- threads -----------------------------------------------------------------------------
run 0 "graph --threads 100000 is capped" graph --cohort "$EXAMPLE" --threads 100000
check "the warning names the value and the cap" err_has "warning: --threads 100000 is more than [0-9]"
[ "$limited_ok" = 1 ] && run_limited 1500000 0 "graph --threads 16 under ulimit -v 1500000" \
    graph --cohort "$EXAMPLE" --threads 16
[ "$limited_ok" = 1 ] && check "the warning names the address-space limit" err_has "address-space limit"
[ "$limited_ok" = 1 ] && run_limited 1500000 0 "train --threads 16 under ulimit -v 1500000" \
    train --cohort "$EXAMPLE" --threads 16 --epochs 2 --model "$T/lim.gfm" --quiet

# ---- memory estimate and wide modalities ----------------------------------------------------
# 5 samples x 10^5 features: about 1.5 GB to train (the issue's 10^6 columns took 17 GB)
mkdir -p "$T/wide"
awk 'BEGIN { d = 100000; printf "id"; for (j = 1; j <= d; j++) printf ",f%d", j; print ""
             for (i = 1; i <= 5; i++) { printf "s%d", i; for (j = 1; j <= d; j++) printf ",%d", (i * j) % 7; print "" } }' \
    >"$T/wide/mod1.csv"
printf 'id,label\ns1,a\ns2,b\ns3,a\ns4,b\ns5,a\n' >"$T/wide/labels.csv"
run 0 "inspect a 5 x 100000 modality" inspect --cohort "$T/wide"
check "warning: features outnumber samples" err_has "warning: .*100000 features for 5 samples"
if [ "$limited_ok" = 1 ]; then
    run_limited 1000000 1 "train on 5 x 100000 under ulimit -v 1000000 is refused" \
        train --cohort "$T/wide" --epochs 3 --k 2 --model "$T/wide.gfm" --quiet
    check "the refusal names the estimate and the limit" \
        err_has "training needs about [0-9]* MiB.*address-space limit (ulimit -v) of [0-9]* MiB"
    check "no model written" test ! -e "$T/wide.gfm"
fi

# ---- what the writers cannot hold -----------------------------------------------------------
# quoted ids with a tab, a line break, a control character and U+FFFE; class names with the
# last two
mkdir -p "$T/odd"
printf 'id,f1,f2\n"a\tb",1,2\ns2,2,3\ns3,3,1\n"x\ny",1,1\n"\001q\357\277\276",0,1\n' >"$T/odd/mod1.csv"
printf 'id,label\ns2,"x\ny"\ns3,"\001q"\n' >"$T/odd/labels.csv"
run 3 "graph --edges refuses an id with a tab" graph --cohort "$T/odd" --k 1 \
    --edges "$T/odd.tsv" --graphml "$T/odd.graphml" --quiet
check "the error names the id and the tab" err_has 'sample id "a.b" holds a tab'
check "nothing written" test ! -e "$T/odd.tsv" -a ! -e "$T/odd.graphml"
run 0 "graph --graphml with odd ids" graph --cohort "$T/odd" --k 1 --graphml "$T/odd.graphml" --quiet
run 0 "inspect --json with odd ids" inspect --cohort "$T/odd" --json --out "$T/odd.json" --quiet
check "JSON escapes a control character as \\u0001" grep -q '\\u0001q' "$T/odd.json"
check "JSON escapes a line break" grep -q '"x\\ny":' "$T/odd.json"
if command -v python3 >/dev/null 2>&1; then
    check "GraphML with odd ids parses as XML" python3 -c 'import sys, xml.etree.ElementTree as E
E.parse(sys.argv[1])' "$T/odd.graphml"
    check "JSON with odd ids parses" python3 -c 'import sys, json; json.load(open(sys.argv[1]))' \
        "$T/odd.json"
else
    echo "skip: python3 absent, GraphML and JSON not parsed"
fi

# ---- paths with non-ASCII bytes in the JSON -------------------------------------------------
# A folder named in UTF-8 keeps its bytes in the JSON; in one whose name is not UTF-8 each bad
# byte becomes \ufffd, so that the JSON stays valid.
utf=$(printf 'ex_\303\251')
bad=$(printf 'ex_\377')
cp -R "$EXAMPLE" "$T/$utf" && cp -R "$EXAMPLE" "$T/$bad"
run 0 "inspect --json on a UTF-8 folder name" inspect --cohort "$T/$utf" --json \
    --out "$T/utf.json" --quiet
check "the JSON keeps the UTF-8 path byte for byte" grep -q "$utf/mod1.csv" "$T/utf.json"
run 0 "inspect --json on a folder name that is not UTF-8" inspect --cohort "$T/$bad" --json \
    --out "$T/bad.json" --quiet
check "the JSON writes the bad byte as \\ufffd" grep -q 'ex_\\ufffd/mod1.csv' "$T/bad.json"
check "... and holds no byte that is not UTF-8" \
    sh -c "! LC_ALL=C grep -q '$(printf '\377')' '$T/bad.json'"
run 0 "graph --json on a folder name that is not UTF-8" graph --cohort "$T/$bad" --k 3 --json \
    --out "$T/bad_graph.json" --quiet
# a modality name that is not UTF-8 (it would reach the JSON and the GraphML) is refused
run 2 "--modality with a name that is not UTF-8" graph --cohort "$EXAMPLE" \
    --modality "$(printf 'b\377d')=$EXAMPLE/mod1.csv" --graphml "$T/badname.graphml" --quiet
check "the error names the modality name" err_has "modality name 1 is not valid UTF-8"
check "... and nothing is written" test ! -e "$T/badname.graphml"
mkdir "$T/badfile"
cp "$EXAMPLE/labels.csv" "$T/badfile/" && cp "$EXAMPLE/mod1.csv" "$T/badfile/$(printf 'm\377').csv"
run 3 "a modality file whose name is not UTF-8" inspect --cohort "$T/badfile" --quiet
check "the error names the file" err_has "the file name is not valid UTF-8"
if command -v python3 >/dev/null 2>&1; then
    for f in utf bad bad_graph; do
        check "$f.json parses as UTF-8 JSON" python3 -c 'import sys, json
json.load(open(sys.argv[1], encoding="utf-8"))' "$T/$f.json"
    done
fi

# ---- warnings on doubtful cohorts -------------------------------------------------------------
mkdir -p "$T/doubt"
cp "$EXAMPLE/mod1.csv" "$EXAMPLE/mod2.csv" "$EXAMPLE/split.csv" "$T/doubt/"
sed 1d "$EXAMPLE/labels.csv" >"$T/doubt/labels.csv"
run 0 "a labels file without a header line" inspect --cohort "$T/doubt"
check "warning: the first line looks like data" \
    err_has 'warning: .*labels.csv: the first line ("s001,[^"]*") looks like data, not a header'
sed '1s/^id,/sample,/' "$EXAMPLE/labels.csv" >"$T/doubt/labels.csv"
sed '1s/^id,/ID,/' "$EXAMPLE/mod2.csv" >"$T/doubt/mod2.csv"
run 0 "a first column not named id" inspect --cohort "$T/doubt"
check "warning: the first column is not id" \
    err_has 'warning: .*labels.csv: the first column is named "sample", not "id"'
check "ID in any case is id" test "$(grep -c 'mod2.csv: the first column' "$T/err")" -eq 0
cp "$EXAMPLE/labels.csv" "$T/doubt/labels.csv"
awk -F, 'NR == 1 { print "id,mod1,mod2"; next } { print $1 ",0,0" }' "$EXAMPLE/labels.csv" >"$T/all0.csv"
run 3 "a mask that hides everything is an error" inspect --cohort "$T/doubt" --mask "$T/all0.csv"
check "the error names the mask" err_has 'all0.csv: the mask hides every modality of every sample'
awk -F, 'NR == 1 { print "id,mod1,mod2"; next } { print $1 ",1,0" }' "$EXAMPLE/labels.csv" >"$T/no2.csv"
run 0 "a mask that hides one modality entirely" inspect --cohort "$T/doubt" --mask "$T/no2.csv"
check "warning: the mask hides mod2 for every sample" \
    err_has 'warning: .*no2.csv: the mask hides modality mod2 for every sample'
awk -F, 'NR == FNR { split_of[$1] = $2; next } FNR > 1 && split_of[$1] == "train" { $0 = $1 ",c1" } { print }' \
    "$EXAMPLE/split.csv" "$EXAMPLE/labels.csv" >"$T/doubt/labels.csv"
run 0 "training labels of one class: a warning" \
    train --cohort "$T/doubt" --epochs 2 --ensemble 1 --model "$T/one.gfm"
check "warning: every training sample is of one class" \
    err_has 'warning: .*labelled training samples are all of class "c1"'
awk -F, 'NR == 1 { print; next } { print $1 ",c1" }' "$EXAMPLE/labels.csv" >"$T/doubt/labels.csv"
run 3 "labels of one class: training cannot proceed" \
    train --cohort "$T/doubt" --epochs 2 --model "$T/one.gfm"
check "the error says why" err_has 'classification needs at least 2 classes'

e2e_summary limits_e2e

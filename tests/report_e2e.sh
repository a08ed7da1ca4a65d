#!/bin/sh
# report_e2e.sh: `gfuse report` end to end on the example cohort: every chart present and
# drawn, nothing external; the AUROC, every metric and the confusion counts equal those of
# `gfuse predict --metrics` (and of `gfuse cv --out` with --cv); regression; ids with quotes,
# markup, ampersands, commas and UTF-8 shown safely; completion scored against truth/ and
# against a mask's hidden values; the same page for any --threads; bad --log and --cv files
# refused naming file, line and column with no output written; usage errors.
# make check sets GFUSE (the built tool) and top_srcdir. Needs python3 to read the page.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

need_python3 "to read the HTML"
CHECK="$PY $top_srcdir/tests/report_check.py"
QUICK="--epochs 15 --ensemble 2 --patience 5 --graph-variants 2 --hidden 16 --heads 2"
ex=$EXAMPLE

# shellcheck disable=SC2086
run 0 "train with --log" train --cohort "$ex" --model "$T/m.gfm" --log "$T/log.csv" --seed 5 \
    $QUICK --quiet
run 0 "predict --metrics" predict --model "$T/m.gfm" --cohort "$ex" --out "$T/p.csv" \
    --metrics "$T/met.json" --quiet
run 0 "report with --log" report --model "$T/m.gfm" --cohort "$ex" --log "$T/log.csv" \
    --out "$T/r.html"
check "it says how many charts it wrote" err_has "charts written to"
check "every chart drawn, with a table, nothing external" $CHECK charts "$T/r.html" --min 11
check "AUROC, every metric and the confusion counts equal predict --metrics" \
    $CHECK metrics "$T/r.html" "$T/met.json"
for section in cohort training performance attention completion robustness; do
    check "section $section" grep -q "<section id=\"$section\">" "$T/r.html"
done
check "the loss curves are drawn" grep -q "Loss per epoch" "$T/r.html"
check "completion scored against truth/" grep -q 'id="completion-table"' "$T/r.html"

# The same page for any thread count, and on standard output.
run 0 "report, 1 thread" report --model "$T/m.gfm" --cohort "$ex" --log "$T/log.csv" \
    --threads 1 --out "$T/r1.html" --quiet
run 0 "report, 2 threads, to stdout" report --model "$T/m.gfm" --cohort "$ex" \
    --log "$T/log.csv" --threads 2 --out - --quiet
check "the same page for 1 and 2 threads and on stdout" cmp -s "$T/r1.html" "$T/out"
check "the same page as before" cmp -s "$T/r.html" "$T/r1.html"

# Without --log: the chosen epochs from the model, and a hint.
run 0 "report without --log" report --model "$T/m.gfm" --cohort "$ex" --out "$T/nolog.html" \
    --quiet
check "without --log the page says how to get the curves" grep -q "No training log given" \
    "$T/nolog.html"
check "without --log the charts still check" $CHECK charts "$T/nolog.html" --min 9

# --cv: the folds of gfuse cv, and the robustness curves.
# shellcheck disable=SC2086
run 0 "cv over two rates with baselines" cv --cohort "$ex" --folds 3 --rates 0,0.3 \
    --baselines --seed 2 $QUICK --quiet --out "$T/cv.json"
run 0 "report with --cv" report --model "$T/m.gfm" --cohort "$ex" --log "$T/log.csv" \
    --cv "$T/cv.json" --out "$T/cv.html" --quiet
check "with --cv every chart drawn" $CHECK charts "$T/cv.html" --min 15
check "the folds, pools and pooled confusion equal gfuse cv" $CHECK cv "$T/cv.html" "$T/cv.json"
check "the robustness curves name the baselines" grep -q '>late</text>' "$T/cv.html"

# Regression: RMSE, MAE and R2 as predict --metrics gives them.
mkdir -p "$T/reg"
cp "$ex"/mod*.csv "$ex/split.csv" "$T/reg/"
awk -F, 'NR == 1 { print "id,label" } NR > 1 { print $1 "," $3 }' "$ex/truth/latent.csv" \
    >"$T/reg/labels.csv"
# shellcheck disable=SC2086
run 0 "train a regression" train --cohort "$T/reg" --task regress --model "$T/reg.gfm" $QUICK \
    --quiet
run 0 "predict --metrics (regression)" predict --model "$T/reg.gfm" --cohort "$T/reg" \
    --out "$T/reg_p.csv" --metrics "$T/reg_met.json" --quiet
run 0 "report (regression)" report --model "$T/reg.gfm" --cohort "$T/reg" --out "$T/reg.html" \
    --quiet
check "regression: RMSE, MAE, R2 equal predict --metrics" \
    $CHECK metrics "$T/reg.html" "$T/reg_met.json"
check "regression: charts drawn" $CHECK charts "$T/reg.html" --min 5
check "regression: predicted against true" grep -q "Predicted against true value" "$T/reg.html"
check "no truth/ in the regression copy: the page says so" grep -q "No truth to score" \
    "$T/reg.html"

# A mask's hidden values score the completion when there is no truth/.
run 0 "a protocol mask" mask --cohort "$T/reg" --rate 0.4 --seed 3 --out "$T/mask.csv" --quiet
run 0 "report with --mask" report --model "$T/reg.gfm" --cohort "$T/reg" --mask "$T/mask.csv" \
    --out "$T/masked.html" --quiet
check "completion scored against the hidden values" grep -q 'id="completion-table"' \
    "$T/masked.html"

# Ids with quotes, markup, ampersands, a comma and UTF-8 (CSV-quoted in every file).
mkdir -p "$T/odd"
for f in "$ex"/mod*.csv "$ex/labels.csv" "$ex/split.csv"; do
    awk -F, -v OFS=, 'NR > 1 { $1 = "\"<i>" $1 "</i> & \"\"q\"\" \047\303\251\342\200\224\360\237\230\200, x\"" } 1' \
        "$f" >"$T/odd/$(basename "$f")"
done
awk -F, 'NR > 1 { print "<i>" $1 "</i> & \"q\" \047\303\251\342\200\224\360\237\230\200, x" }' \
    "$ex/labels.csv" >"$T/odd_ids.txt"
# shellcheck disable=SC2086
run 0 "train on odd ids" train --cohort "$T/odd" --model "$T/odd.gfm" $QUICK --quiet
run 0 "report on odd ids" report --model "$T/odd.gfm" --cohort "$T/odd" --out "$T/odd.html" \
    --quiet
check "odd ids: every chart well-formed" $CHECK charts "$T/odd.html" --min 8
check "odd ids: shown as they are, never unescaped" $CHECK ids "$T/odd.html" "$T/odd_ids.txt"
check "odd ids: no raw <i> from an id" sh -c "! grep -q '<i>s0' '$T/odd.html'"

# Bad --log files: file, line and column; exit 3; nothing written, an old page kept.
echo "an older page" >"$T/keep.html"
printf 'member,epoch,loss\n1,1,0.5\n' >"$T/bad_head.csv"
run 3 "a log with another header" report --model "$T/m.gfm" --cohort "$ex" \
    --log "$T/bad_head.csv" --out "$T/keep.html"
check "the header error names file, line 1 and column 1" err_has "bad_head.csv:1:1:"
check "the old page is kept" grep -q "an older page" "$T/keep.html"
{ head -n 2 "$T/log.csv"; echo "1,2,0.5,0.4,oops,0.3,0.6,0.1"; } >"$T/bad_cell.csv"
run 3 "a log with a bad cell" report --model "$T/m.gfm" --cohort "$ex" --log "$T/bad_cell.csv" \
    --out "$T/e1.html"
check "the cell error names line 3, column 13 and the column" \
    err_has 'bad_cell.csv:3:13: column "rec_loss": "oops"'
check "no page after a bad log" test ! -e "$T/e1.html"
{ head -n 2 "$T/log.csv"; echo "1,2,0.5"; } >"$T/bad_short.csv"
run 3 "a log row with 3 columns" report --model "$T/m.gfm" --cohort "$ex" \
    --log "$T/bad_short.csv" --out "$T/e2.html"
check "the short row names line 3" err_has "bad_short.csv:3:"
run 1 "a log that does not exist" report --model "$T/m.gfm" --cohort "$ex" \
    --log "$T/absent.csv" --out "$T/e3.html"
check "the missing log is named" err_has "absent.csv"

# Bad --cv files.
head -c 300 "$T/cv.json" >"$T/cv_cut.json"
run 3 "a truncated cv file" report --model "$T/m.gfm" --cohort "$ex" --cv "$T/cv_cut.json" \
    --out "$T/e4.html"
check "the JSON error names file, line and column" err_has "cv_cut.json:[0-9]*:[0-9]*:"
check "no page after a bad cv file" test ! -e "$T/e4.html"
printf '{"task": "classify", "classes": ["a", "b"],\n "folds": 3, "repeats": 1}\n' >"$T/cv_keys.json"
run 3 "a cv file without results" report --model "$T/m.gfm" --cohort "$ex" \
    --cv "$T/cv_keys.json" --out "$T/e5.html"
check "the missing key is named with its place" err_has 'cv_keys.json:1:1: the document: no key "results"'
sed 's/"rate": 0.3/"rate": "high"/' "$T/cv.json" >"$T/cv_type.json"
run 3 "a cv file with a string rate" report --model "$T/m.gfm" --cohort "$ex" \
    --cv "$T/cv_type.json" --out "$T/e6.html"
check "the wrong type is named" err_has 'cv_type.json:[0-9]*:[0-9]*: results\[[0-9]*\]: "rate" must be a number'

sed 's/"folds": 3,/"folds": 1e300,/' "$T/cv.json" >"$T/cv_big.json"
run 3 "a cv file with 1e300 folds" report --model "$T/m.gfm" --cohort "$ex" \
    --cv "$T/cv_big.json" --out "$T/e9.html"
check "the count out of range is named" err_has '"folds" must be a whole number'
sed '0,/"fold": 0,/s//"fold": -2.5,/' "$T/cv.json" >"$T/cv_fold.json"
run 3 "a cv fold numbered -2.5" report --model "$T/m.gfm" --cohort "$ex" \
    --cv "$T/cv_fold.json" --out "$T/e10.html"
check "the fold number is named with its place" err_has 'results\[0\].folds\[0\]: "fold" must be'

# Usage errors.
run 2 "no --model" report --cohort "$ex" --out "$T/e7.html"
run 2 "--out is the --log" report --model "$T/m.gfm" --cohort "$ex" --log "$T/log.csv" \
    --out "$T/log.csv"
check "the log is left as it was" grep -q "^member,epoch" "$T/log.csv"
run 2 "an unknown option" report --model "$T/m.gfm" --cohort "$ex" --out "$T/e8.html" --bogus
run 0 "report --help" report --help
check "the help names --cv" out_has "--cv FILE"

e2e_summary report_e2e

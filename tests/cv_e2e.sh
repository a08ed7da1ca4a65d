#!/bin/sh
# cv_e2e.sh: `gfuse cv` end to end: on the example cohort, folds that cover every labelled
# sample once, the same numbers and predictions for any --threads, the JSON keys, a robustness
# curve over --rates, the fixed split as the one fold, usage errors with no output left, and an
# input never overwritten; on ../shared/data/rosmap (when present), --only-baselines on the
# fixed split reproduces the recorded mean-imputation and late-fusion rows (C = 0.1) of
# ../shared/bench/results/rosmap-baselines.csv within 0.01 ACC and AUROC at every rate; and
# predict --metrics.
# make check sets GFUSE (the built tool), top_srcdir and GFUSE_SHARED.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

# Quick training options: the test checks the procedure, not the model's accuracy.
QUICK="--epochs 15 --ensemble 1 --patience 5 --graph-variants 2 --hidden 16 --heads 2"

ex=$EXAMPLE
labelled=$(awk -F, 'NR > 1 && $2 != ""' "$ex/labels.csv" | wc -l)

# shellcheck disable=SC2086
run 0 "cv with baselines, 1 thread" cv --cohort "$ex" --folds 3 --baselines --seed 3 $QUICK \
    --threads 1 --quiet --out "$T/a.json" --csv "$T/a.csv" --predictions "$T/a_pred.csv"
# shellcheck disable=SC2086
run 0 "the same, 2 threads" cv --cohort "$ex" --folds 3 --baselines --seed 3 $QUICK \
    --threads 2 --quiet --out "$T/b.json" --csv "$T/b.csv" --predictions "$T/b_pred.csv"
check "metrics identical for 1 and 2 threads" cmp -s "$T/a.csv" "$T/b.csv"
check "predictions identical for 1 and 2 threads" cmp -s "$T/a_pred.csv" "$T/b_pred.csv"
check "the summary table is printed" grep -q '^0 *gfuse' "$T/out"
for key in '"results"' '"pooled_mean"' '"fold_sd"' '"accuracy"' '"auroc"' '"auprc"' \
    '"log_loss"' '"confusion"' '"method": "late"' '"method": "mean"' '"method": "gfuse"'; do
    check "the JSON has $key" grep -q "$key" "$T/a.json"
done
for method in gfuse mean late; do
    rows=$(awk -F, -v m="$method" 'NR > 1 && $2 == m' "$T/a_pred.csv" | wc -l)
    check "$method: one prediction per labelled sample ($rows of $labelled)" \
        test "$rows" -eq "$labelled"
    ids=$(awk -F, -v m="$method" 'NR > 1 && $2 == m { print $5 }' "$T/a_pred.csv" | sort -u | wc -l)
    check "$method: every labelled sample predicted once" test "$ids" -eq "$labelled"
done
folds=$(awk -F, 'NR > 1 && $2 == "gfuse" && $4 != "pooled" && $3 != "all" { print $4 }' "$T/a.csv" |
    sort -u | wc -l)
check "3 folds scored" test "$folds" -eq 3
acc=$(awk -F, 'NR > 1 && $2 == "late" && $4 == "pooled" { print $6 }' "$T/a.csv")
check "late fusion's pooled accuracy is a probability ($acc)" \
    awk -v a="$acc" 'BEGIN { exit !(a > 0.3 && a <= 1) }'

# A different seed deals other folds.
run 0 "baselines with another seed" cv --cohort "$ex" --folds 3 --only-baselines --seed 4 \
    --quiet --out "$T/c.json" --predictions "$T/c_pred.csv"
check "another seed, other folds" sh -c "! cmp -s '$T/a_pred.csv' '$T/c_pred.csv'"

# A robustness curve, repeated: the example cohort lacks 17% of its cells already.
run 0 "baselines over --rates 0,0.3 with 2 repeats" cv --cohort "$ex" --folds 3 --repeats 2 \
    --only-baselines --rates 0,0.3 --quiet --out "$T/r.json" --csv "$T/r.csv"
for rate in 0 0.3; do
    n=$(awk -F, -v r="$rate" 'NR > 1 && $1 == r && $4 == "pooled"' "$T/r.csv" | wc -l)
    check "rate $rate: a pooled row per method and repeat ($n)" test "$n" -eq 4
done
check "the rates are in the JSON" grep -q '"rate": 0.3' "$T/r.json"

# The fixed split: the split file's test samples are the one fold.
tests=$(awk -F, 'NR > 1 && $2 == "test"' "$ex/split.csv" | wc -l)
run 0 "--use-split" cv --cohort "$ex" --use-split --only-baselines --quiet --out "$T/s.json" \
    --predictions "$T/s_pred.csv"
rows=$(awk -F, 'NR > 1 && $2 == "late"' "$T/s_pred.csv" | wc -l)
check "--use-split scores the $tests test samples ($rows)" test "$rows" -eq "$tests"

# Usage errors: exit 2, nothing written.
run 2 "--folds 1" cv --cohort "$ex" --folds 1 --out "$T/e1.json"
check "--folds 1: no output" test ! -e "$T/e1.json"
run 2 "--rates 1.2" cv --cohort "$ex" --rates 0,1.2 --out "$T/e2.json"
check "--rates 1.2 named" err_has "1.2"
check "--rates 1.2: no output" test ! -e "$T/e2.json"
run 2 "--rates with junk" cv --cohort "$ex" --rates 0,x --out "$T/e3.json"
run 2 "--out missing" cv --cohort "$ex" --only-baselines
run 2 "--baseline-c 0" cv --cohort "$ex" --only-baselines --baseline-c 0 --out "$T/e4.json"
run 2 "more folds than a class has samples" cv --cohort "$ex" --folds 1000 --only-baselines \
    --out "$T/e5.json"
check "the error names the class" err_has "class"
check "no output after the fold error" test ! -e "$T/e5.json"
cp "$ex/labels.csv" "$T/labels_copy.csv"
run 2 "refuses to overwrite an input" cv --cohort "$ex" --only-baselines \
    --out "$ex/labels.csv"
check "the input is unchanged" cmp -s "$ex/labels.csv" "$T/labels_copy.csv"

# Regression: numeric labels, RMSE/MAE/R2; the baselines are classifiers.
mkdir "$T/reg"
for f in mod1 mod2 mod3; do cp "$ex/$f.csv" "$T/reg/"; done
awk -F, 'NR == 1 { print; next } { print $1 "," (NR % 7) * 0.5 }' "$ex/labels.csv" >"$T/reg/labels.csv"
run 0 "cv of a regression" cv --cohort "$T/reg" --task regress --folds 3 --epochs 5 --ensemble 1 \
    --quiet --out "$T/reg.json" --csv "$T/reg.csv"
check "regression metrics in the CSV" grep -q '^rate,method,repeat,fold,n,rmse,mae,r2$' "$T/reg.csv"
run 2 "baselines on a regression" cv --cohort "$T/reg" --task regress --baselines \
    --out "$T/reg2.json"
check "no output after the regression refusal" test ! -e "$T/reg2.json"

# predict --metrics: the metrics JSON of every split's labelled samples.
# shellcheck disable=SC2086
run 0 "a quick model" train --cohort "$ex" --model "$T/m.gfm" $QUICK --quiet
run 0 "predict --metrics" predict --model "$T/m.gfm" --cohort "$ex" --out "$T/pred.csv" \
    --metrics "$T/metrics.json" --quiet
for key in '"train"' '"test"' '"all"' '"auroc"' '"log_loss"' '"confusion"'; do
    check "predict --metrics has $key" grep -q "$key" "$T/metrics.json"
done
n_all=$(grep -A1 '"all"' "$T/metrics.json" | grep -o '"n": [0-9]*' | sed 's/.*: //')
check "predict --metrics scores every labelled sample ($n_all of $labelled)" \
    test "$n_all" = "$labelled"
run 2 "predict --metrics onto --out" predict --model "$T/m.gfm" --cohort "$ex" \
    --out "$T/same.csv" --metrics "$T/same.csv"

# ---- the recorded baselines on ROSMAP's fixed split --------------------------------------------
rosmap=$SHARED/data/rosmap
recorded=$SHARED/bench/results/rosmap-baselines.csv
if [ -f "$rosmap/labels.csv" ] && [ -f "$recorded" ]; then
    : >"$T/mine.csv"
    for rate in 0 10 30 50 67; do
        for seed in 1 2 3 4 5; do
            mask=
            if [ "$rate" -ne 0 ]; then
                mask="--mask $rosmap/mask_r${rate}_s$seed.csv"
            elif [ "$seed" -ne 1 ]; then
                continue # the complete cohort has one mask
            fi
            # shellcheck disable=SC2086
            if ! "$GFUSE" cv --cohort "$rosmap" $mask --use-split --only-baselines \
                --baseline-c 0.1 --quiet --out "$T/ros.json" --csv "$T/ros.csv" \
                >/dev/null 2>"$T/err"; then
                fail "rosmap rate $rate seed $seed: $(head -c 300 "$T/err")"
                continue
            fi
            awk -F, -v r="$rate" 'NR > 1 && $4 == "pooled" { print r "," $2 "," $6 "," $11 }' \
                "$T/ros.csv" >>"$T/mine.csv"
        done
    done
    for method in mean late; do
        for rate in 0 10 30 50 67; do
            mine=$(awk -F, -v r="$rate" -v m="$method" '$1 == r && $2 == m { a += $3; u += $4; n++ }
                END { if (n) printf "%.4f %.4f", a / n, u / n }' "$T/mine.csv")
            theirs=$(awk -F, -v r="$rate" -v m="$method" '$1 == m && $2 == r && $9 == "0.1" {
                print $3, $7; exit }' "$recorded")
            # shellcheck disable=SC2086
            check "rosmap $method rate $rate: ACC AUROC $mine vs recorded $theirs, within 0.01" \
                awk -v a="$mine" -v b="$theirs" 'BEGIN { split(a, x, " "); split(b, y, " ");
                    d1 = x[1] - y[1]; d2 = x[2] - y[2]; if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2;
                    exit !(x[1] != "" && y[1] != "" && d1 <= 0.01 && d2 <= 0.01) }'
        done
    done
else
    echo "skip: $rosmap or $recorded is absent; the recorded-baseline comparison did not run"
fi

e2e_summary cv_e2e

#!/bin/sh
# model_e2e.sh: gfuse train, predict, impute and info end to end on the example cohort
# (data/example): defaults shown by --help, usage errors, a full default training run that
# gives bitwise-identical predictions with --threads 1 and --threads 2, predictions whose
# probabilities and fusion weights sum to 1, the epoch log, a model file that predicts the same
# after a copy and is refused after one flipped byte, new samples predicted inductively, and
# imputation that keeps observed rows and fills exactly the missing modalities.
# make check sets GFUSE (the built tool) and top_srcdir.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

# Rows (after the header) of a CSV whose columns FROM..NF-SKIP do not sum to 1 within 1e-5.
bad_sums() {
    awk -F, -v from="$2" -v skip="$3" 'NR > 1 {
        s = 0; for (i = from; i <= NF - skip; i++) s += $i
        if (s < 1 - 1e-5 || s > 1 + 1e-5) bad++ } END { print bad + 0 }' "$1"
}

if [ ! -d "$EXAMPLE" ]; then
    echo "the example cohort $EXAMPLE is missing"
    exit 1
fi

# ---- help and usage ---------------------------------------------------------------------------
run 0 "train --help" train --help
for flag in layers heads hidden k epochs lr weight-decay dropout attn-dropout modality-dropout \
    lambda-rec patience class-weights val-fraction seed threads log; do
    check "train --help shows --$flag with its default" \
        grep -q -- "--$flag .*(default: " "$T/out"
done
check "train --help: 2 layers, 4 heads, width 64, k 10" \
    sh -c "grep -q -- '--layers L .*(default: 2)' '$T/out' && grep -q -- '--heads H .*(default: 4)' '$T/out' && grep -q -- '--hidden F .*(default: 64)' '$T/out' && grep -q -- '--k K .*(default: 10)' '$T/out'"
run 0 "predict --help" predict --help
check "predict --help names --attention" out_has "--attention"
run 0 "impute --help" impute --help
run 2 "train without --model" train --cohort "$EXAMPLE"
check "says --model is required" err_has "model"
run 2 "train --hidden 10 --heads 4" train --cohort "$EXAMPLE" --model "$T/x.gfm" --hidden 10 --heads 4
run 2 "train --class-weights nonsense" train --cohort "$EXAMPLE" --model "$T/x.gfm" --class-weights 1,abc
run 2 "train --dropout 1.5" train --cohort "$EXAMPLE" --model "$T/x.gfm" --dropout 1.5
run 2 "predict without --out" predict --model "$T/x.gfm" --cohort "$EXAMPLE"
run 1 "predict with a model file that does not exist" predict --model "$T/none.gfm" \
    --cohort "$EXAMPLE" --out "$T/p.csv"
check "nothing written on failure" test ! -e "$T/p.csv"
run 3 "train with 2 class weights for 3 classes" train --cohort "$EXAMPLE" --model "$T/x.gfm" \
    --class-weights 1,2 --epochs 2 --quiet
check "names the class-weight mismatch" err_has "class weights"
check "no model written after a failure" test ! -e "$T/x.gfm"

# ---- a full default training run, 1 and 2 threads ----------------------------------------------
run 0 "train on data/example, 1 thread" train --cohort "$EXAMPLE" --model "$T/m1.gfm" \
    --threads 1 --log "$T/log1.csv" --seed 3
check "progress on stderr ends with the model path" err_has "m1.gfm"
run 0 "train on data/example, 2 threads" train --cohort "$EXAMPLE" --model "$T/m2.gfm" \
    --threads 2 --log "$T/log2.csv" --seed 3 --quiet
check "--quiet: nothing on stderr" test ! -s "$T/err"
run 0 "predict, 1 thread" predict --model "$T/m1.gfm" --cohort "$EXAMPLE" --out "$T/p1.csv" \
    --attention "$T/a1.csv" --threads 1
run 0 "predict, 2 threads" predict --model "$T/m2.gfm" --cohort "$EXAMPLE" --out "$T/p2.csv" \
    --attention "$T/a2.csv" --threads 2
check "1 and 2 threads: identical predictions" cmp -s "$T/p1.csv" "$T/p2.csv"
check "1 and 2 threads: identical fusion weights" cmp -s "$T/a1.csv" "$T/a2.csv"
check "1 and 2 threads: identical model files" cmp -s "$T/m1.gfm" "$T/m2.gfm"
check "the epoch logs agree but for the seconds" \
    test "$(cut -d, -f1-7 "$T/log1.csv")" = "$(cut -d, -f1-7 "$T/log2.csv")"

# ---- predictions ---------------------------------------------------------------------------------
check "prediction header" test "$(head -1 "$T/p1.csv")" = "id,p_c1,p_c2,p_c3,predicted"
check "one prediction per sample" \
    test "$(($(wc -l <"$T/p1.csv") - 1))" -eq "$(($(wc -l <"$EXAMPLE/labels.csv") - 1))"
check "probabilities sum to 1 in every row" test "$(bad_sums "$T/p1.csv" 2 1)" -eq 0
check "attention header" test "$(head -1 "$T/a1.csv")" = "id,mod1,mod2,mod3,hub"
check "fusion weights sum to 1 in every row" test "$(bad_sums "$T/a1.csv" 2 0)" -eq 0
check "the predicted class is the most probable" test "$(awk -F, 'NR > 1 {
    b = 2; for (i = 3; i <= 4; i++) if ($i > $b) b = i
    if ("p_" $NF != h[b]) bad++ } NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i }
    END { print bad + 0 }' "$T/p1.csv")" -eq 0
acc=$(awk -F, 'FNR == NR { if ($2 == "test") t[$1] = 1; next }
    FILENAME ~ /labels/ { y[$1] = $2; next }
    FNR > 1 && ($1 in t) { n++; if ($NF == y[$1]) hit++ } END { printf "%.3f", hit / n }' \
    "$EXAMPLE/split.csv" "$EXAMPLE/labels.csv" "$T/p1.csv")
echo "test accuracy on data/example: $acc"
check "test accuracy on data/example above 0.6 (chance 0.33)" \
    awk -v a="$acc" 'BEGIN { exit !(a > 0.6) }'
check "the log has a header and one row per epoch" \
    test "$(head -1 "$T/log1.csv")" = "member,epoch,train_loss,task_loss,rec_loss,val_loss,val_metric,seconds"
check "log epochs count up from 1 within each ensemble member" \
    test "$(awk -F, 'NR > 1 { if ($1 != m) { m = $1; e = 0 } if ($2 != ++e) bad++ } END { print bad + 0 }' "$T/log1.csv")" -eq 0

# ---- the model file --------------------------------------------------------------------------------
cp "$T/m1.gfm" "$T/copy.gfm"
run 0 "predict with a copied model file" predict --model "$T/copy.gfm" --cohort "$EXAMPLE" \
    --out "$T/p3.csv" --quiet
check "a copied model predicts identically" cmp -s "$T/p1.csv" "$T/p3.csv"
run 0 "gfuse info on the model" info --model "$T/m1.gfm"
check "info: task classify" out_has "classify"
size=$(wc -c <"$T/m1.gfm")
for at in 100 $((size / 2)) $((size - 10)); do
    cp "$T/m1.gfm" "$T/bad.gfm"
    printf '\377' | dd of="$T/bad.gfm" bs=1 seek="$at" conv=notrunc 2>/dev/null
    if cmp -s "$T/bad.gfm" "$T/m1.gfm"; then
        printf '\000' | dd of="$T/bad.gfm" bs=1 seek="$at" conv=notrunc 2>/dev/null
    fi
    run 3 "predict refuses a model with byte $at changed" predict --model "$T/bad.gfm" \
        --cohort "$EXAMPLE" --out "$T/pbad.csv"
    check "the message names the damage" sh -c "grep -q -e checksum -e corrupt '$T/err'"
done
head -c $((size / 3)) "$T/m1.gfm" >"$T/short.gfm"
run 3 "predict refuses a truncated model" predict --model "$T/short.gfm" --cohort "$EXAMPLE" \
    --out "$T/pbad.csv"
check "the message says truncated" err_has "truncated"
check "nothing written for a bad model" test ! -e "$T/pbad.csv"

# ---- new samples: the test samples under new ids, given as separate files ---------------------
mkdir "$T/new"
for f in mod1 mod2 mod3; do
    awk -F, 'FNR == NR { if ($2 == "test") t[$1] = 1; next }
        FNR == 1 || ($1 in t) { if (FNR > 1) sub(/^s/, "n"); print }' \
        "$EXAMPLE/split.csv" "$EXAMPLE/$f.csv" >"$T/new/$f.csv"
done
run 0 "predict new samples" predict --model "$T/m1.gfm" --modality mod1="$T/new/mod1.csv" \
    --modality mod2="$T/new/mod2.csv" --modality mod3="$T/new/mod3.csv" --out "$T/pn.csv"
check "says the samples are new" err_has "new)"
n_test=$(grep -c ',test$' "$EXAMPLE/split.csv")
check "one row per new sample" test "$(grep -c '^n' "$T/pn.csv")" -eq "$n_test"
check "new samples: probabilities sum to 1" test "$(bad_sums "$T/pn.csv" 2 1)" -eq 0
run 0 "predict one modality of new samples" predict --model "$T/m1.gfm" \
    --modality mod2="$T/new/mod2.csv" --out "$T/pn2.csv" --attention "$T/an2.csv"
check "absent modalities weigh 0" test "$(awk -F, 'NR > 1 && ($2 != 0 || $4 != 0) { bad++ }
    END { print bad + 0 }' "$T/an2.csv")" -eq 0

# ---- imputation ------------------------------------------------------------------------------------
run 0 "impute" impute --model "$T/m1.gfm" --cohort "$EXAMPLE" --out "$T/imp"
for f in mod1 mod2 mod3 mask; do
    check "impute wrote $f.csv" test -s "$T/imp/$f.csv"
done
n_samples=$(($(wc -l <"$EXAMPLE/labels.csv") - 1))
check "every sample in every completed modality" \
    test "$(($(wc -l <"$T/imp/mod1.csv") - 1))" -eq "$n_samples"
for f in mod1 mod2 mod3; do
    missing=$((n_samples - $(wc -l <"$EXAMPLE/$f.csv") + 1))
    col=$(head -1 "$T/imp/mask.csv" | tr ',' '\n' | grep -n -x "$f" | cut -d: -f1)
    filled=$(awk -F, -v c="$col" 'NR > 1 && $c == 1 { n++ } END { print n + 0 }' "$T/imp/mask.csv")
    check "$f: mask marks the $missing missing rows filled" test "$filled" -eq "$missing"
    changed=$(awk -F, 'FNR == NR { if (FNR > 1) row[$1] = $0; next }
        FNR > 1 && ($1 in row) { n = split(row[$1], a, ",")
            for (i = 2; i <= n; i++) { d = a[i] - $i; if (d < 0) d = -d
                m = a[i] < 0 ? -a[i] : a[i]; if (d > 1e-6 * (1 + m)) bad++ } }
        END { print bad + 0 }' "$EXAMPLE/$f.csv" "$T/imp/$f.csv")
    check "$f: observed values unchanged" test "$changed" -eq 0
    check "$f: filled values are numbers" test "$(awk -F, 'NR > 1 { for (i = 2; i <= NF; i++)
        if ($i !~ /^-?[0-9]/) bad++ } END { print bad + 0 }' "$T/imp/$f.csv")" -eq 0
done

e2e_summary model_e2e

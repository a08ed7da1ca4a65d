#!/bin/sh
# baseline_sklearn.sh: gfuse_baseline_predict beside scikit-learn on random cohorts (two and
# three classes, hidden modalities, NaN cells): the probabilities of "mean" and "late" against
# the recipes of ../shared/bench/baselines.py (baseline_sklearn.py), for two values of C.
# Skipped (exit 77) when /usr/bin/python3 lacks scikit-learn.
# make check sets GFUSE (the built tool), top_srcdir, top_builddir and GFUSE_SHARED.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

PY=/usr/bin/python3
if ! "$PY" -c "import numpy, sklearn" 2>/dev/null; then
    echo "skipped: $PY lacks numpy or scikit-learn (Debian: python3-sklearn)"
    exit 77
fi
HELPER=${top_builddir:-.}/tests/check_baseline
if [ ! -x "$HELPER" ]; then
    echo "$HELPER not built (make tests/check_baseline)"
    exit 1
fi

for classes in 2 3; do
    dir=$T/k$classes
    mkdir -p "$dir"
    check "random cohort of $classes classes" "$PY" "$top_srcdir/tests/baseline_sklearn.py" \
        make "$dir" "$classes" "$((40 + classes))"
    for method in mean late; do
        for C in 0.1 2; do
            if "$HELPER" --probs "$dir" "$method" "$C" "$dir/mask.csv" >"$T/probs.csv" 2>"$T/err"; then
                check "$method, C=$C, $classes classes: as scikit-learn" \
                    "$PY" "$top_srcdir/tests/baseline_sklearn.py" check "$dir" "$method" "$C" \
                    "$T/probs.csv"
            else
                fail "$method, C=$C, $classes classes: $(cat "$T/err")"
            fi
        done
    done
done

e2e_summary baseline_sklearn

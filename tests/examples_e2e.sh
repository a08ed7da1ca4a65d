#!/bin/sh
# examples_e2e.sh: the analyst's examples, examples/report.py (python3) and examples/report.R
# (Rscript): train -> predict -> report on data/example from their language, checking every
# exit code and reading the CSV outputs. Each runs when its interpreter is installed and is
# skipped with a message otherwise; the test is skipped (exit 77) when neither is.
# make check sets GFUSE (the built tool) and top_srcdir.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

ran=0
PY=$(command -v python3 || true)
[ -n "$PY" ] || { [ -x /usr/bin/python3 ] && PY=/usr/bin/python3; }
if [ -n "$PY" ]; then
    ran=1
    check "examples/report.py: train, predict, report, outputs read and checked" \
        env GFUSE="$GFUSE" "$PY" "$top_srcdir/examples/report.py" "$EXAMPLE" "$T/py"
    check "examples/report.py wrote the page" test -s "$T/py/report.html"
else
    echo "skipped: examples/report.py (python3 is not installed)"
fi
if command -v Rscript >/dev/null 2>&1; then
    ran=1
    check "examples/report.R: train, predict, report, outputs read and checked" \
        env GFUSE="$GFUSE" Rscript "$top_srcdir/examples/report.R" "$EXAMPLE" "$T/R"
    check "examples/report.R wrote the page" test -s "$T/R/report.html"
else
    echo "skipped: examples/report.R (Rscript is not installed: apt-get install r-base-core)"
fi
if [ "$ran" -eq 0 ]; then
    echo "skipped: neither python3 nor Rscript is installed"
    exit 77
fi
e2e_summary examples_e2e

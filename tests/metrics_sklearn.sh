#!/bin/sh
# metrics_sklearn.sh: gfuse's metrics (tests/metrics_tool) agree with scikit-learn's on the
# same random predictions to 1e-6 (tests/metrics_sklearn.py). Skipped, saying why, where
# /usr/bin/python3 has no scikit-learn. make check sets top_srcdir and top_builddir.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
tool=${top_builddir:-.}/tests/metrics_tool
python=/usr/bin/python3
if ! [ -x "$python" ] || ! "$python" -c 'import sklearn, numpy' 2>/dev/null; then
    echo "skip: $python with scikit-learn and numpy is not installed (Debian: python3-sklearn)"
    exit 77
fi
[ -x "$tool" ] || { echo "metrics_sklearn.sh: $tool not built"; exit 99; }
exec "$python" "$top_srcdir/tests/metrics_sklearn.py" "$tool"

# e2e_lib.sh: what the end-to-end scripts share. Sourced (". e2e_lib.sh") first thing:
# it sets top_srcdir, GFUSE (the built tool; make check sets it),
# SHARED (../shared, for the benchmark cohorts) and EXAMPLE, makes a scratch folder $T that is
# removed on exit, and defines the check helpers. Each script ends with e2e_summary.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
GFUSE=${GFUSE:-${top_builddir:-.}/gfuse}
SHARED=${GFUSE_SHARED:-$top_srcdir/../shared}
EXAMPLE=$top_srcdir/data/example

passed=0
failed=0
T=$(mktemp -d "${TMPDIR:-/tmp}/gfuse_$(basename "$0" .sh).XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

ok() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
    desc=$1
    shift
    if "$@"; then ok "$desc"; else fail "$desc"; fi
}

# run EXPECTED_RC DESCRIPTION ARGS...: runs gfuse ARGS, keeps stdout/stderr in $T/out, $T/err.
run() {
    want=$1
    desc=$2
    shift 2
    "$GFUSE" "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -eq "$want" ]; then
        ok "$desc (exit $got)"
    else
        fail "$desc: expected exit $want, got $got; stderr: $(head -c 400 "$T/err")"
    fi
}

err_has() { grep -q -- "$1" "$T/err"; }
out_has() { grep -q -- "$1" "$T/out"; }
# json_num KEY [FILE]: the first number after "KEY": in FILE (default: the last stdout).
json_num() { grep -m1 "\"$1\":" "${2:-$T/out}" | sed 's/.*": *//; s/[^0-9.-]//g'; }

if [ ! -x "$GFUSE" ]; then
    echo "gfuse not found at $GFUSE (set GFUSE)"
    exit 1
fi

# e2e_summary NAME: the closing line, and the exit status of the script.
e2e_summary() {
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# need_python3 WHY: sets PY to Debian's python3 (or the first on PATH), or skips the script
# (exit 77) saying it needs python3 for WHY.
need_python3() {
    PY=/usr/bin/python3
    [ -x "$PY" ] || PY=$(command -v python3 || true)
    if [ -z "$PY" ]; then
        echo "skipped: $(basename "$0") needs python3 $1, which is not installed"
        exit 77
    fi
}

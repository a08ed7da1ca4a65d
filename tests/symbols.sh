#!/bin/sh
# symbols.sh: the shared library exports exactly the public API: every dynamic symbol it
# defines is gfuse_*, and every function include/gfuse.h marks GFUSE_API is among them.
# Skipped (exit 77) when the shared library or nm is not there.
set -u

builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
lib="$builddir/.libs/libgfuse.so"
header="$srcdir/include/gfuse.h"

if [ ! -f "$lib" ]; then
    echo "skipped: $lib not built (shared libraries disabled?)"
    exit 77
fi
if ! command -v nm >/dev/null 2>&1; then
    echo "skipped: nm not found"
    exit 77
fi
if [ ! -f "$header" ]; then
    echo "FAIL: $header not found (set top_srcdir)"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gfuse_symbols.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# Defined dynamic symbols (functions and data), names only.
nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u > "$tmp/exported"
if [ ! -s "$tmp/exported" ]; then
    echo "FAIL: $lib exports no symbols"
    exit 1
fi

status=0
grep -v '^gfuse_' "$tmp/exported" > "$tmp/foreign"
if [ -s "$tmp/foreign" ]; then
    echo "FAIL: $lib exports symbols outside the gfuse_ namespace:"
    sed 's/^/    /' "$tmp/foreign"
    status=1
fi
if grep -q '^gfuse_i_' "$tmp/exported"; then
    echo "FAIL: $lib exports internal gfuse_i_ symbols:"
    grep '^gfuse_i_' "$tmp/exported" | sed 's/^/    /'
    status=1
fi

# Every GFUSE_API declaration (declarations may span lines: join the header, then cut it at
# semicolons and braces so each piece holds at most one declaration).
tr '\n' ' ' < "$header" | tr ';{}' '\n\n\n' |
    sed -n 's/.*GFUSE_API[^(]*[^A-Za-z0-9_]\(gfuse_[A-Za-z0-9_]*\)[[:space:]]*(.*/\1/p' |
    sort -u > "$tmp/declared"
if [ ! -s "$tmp/declared" ]; then
    echo "FAIL: no GFUSE_API declarations found in $header"
    exit 1
fi
comm -23 "$tmp/declared" "$tmp/exported" > "$tmp/missing"
if [ -s "$tmp/missing" ]; then
    echo "FAIL: declared GFUSE_API in gfuse.h but not exported by $lib:"
    sed 's/^/    /' "$tmp/missing"
    status=1
fi

if [ "$status" -eq 0 ]; then
    echo "ok: $(wc -l < "$tmp/exported") symbols exported, all gfuse_*; all $(wc -l < "$tmp/declared") GFUSE_API functions present"
fi
exit "$status"

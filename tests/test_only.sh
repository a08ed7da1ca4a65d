#!/bin/sh
# test_only.sh: every function the library defines is used by the library or the tool, not
# only by the tests and benchmarks. A function defined non-static in src/ or graph/ (the
# objects of libgfuse_core and of the gfuse tool) fails the test and is printed when nothing
# in those objects refers to it (a call or an address taken, found as a relocation against its
# symbol) and its name stands nowhere else in the library's C sources (a call the compiler
# inlined into its own file). Exempt: the public API (GFUSE_API in include/gfuse.h), which
# programs outside call, the serial twins named *_ref, which stay as the reference the
# kernel tests compare the parallel kernels with, and the test hooks on the keep list below.
# Skipped (exit 77) when nm, objdump or the built objects are not there.
set -u

builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
header="$srcdir/include/gfuse.h"

for tool in nm objdump awk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skipped: $tool not found"
        exit 77
    fi
done

# The library's objects: the PIC ones of a shared build, else the plain ones.
libobjs=$(ls "$builddir"/src/*/.libs/libgfuse_core_la-*.o "$builddir"/graph/.libs/libgfuse_core_la-*.o \
          2>/dev/null)
if [ -z "$libobjs" ]; then
    libobjs=$(ls "$builddir"/src/*/libgfuse_core_la-*.o "$builddir"/graph/libgfuse_core_la-*.o \
              2>/dev/null)
fi
cliobjs=$(ls "$builddir"/src/cli/*.o 2>/dev/null)
if [ -z "$libobjs" ] || [ -z "$cliobjs" ]; then
    echo "skipped: the objects of libgfuse_core and gfuse are not built"
    exit 77
fi
if [ ! -f "$header" ]; then
    echo "FAIL: $header not found (set top_srcdir)"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gfuse_test_only.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# Functions defined with external linkage (T; i for the multiversioned kernels), without the
# clones and OpenMP outlined bodies, whose names hold a dot.
# shellcheck disable=SC2086
nm --defined-only $libobjs $cliobjs |
    awk 'NF == 3 && ($2 == "T" || $2 == "i") && $3 !~ /\./ { print $3 }' | sort -u > "$tmp/defined"
if [ ! -s "$tmp/defined" ]; then
    echo "FAIL: no functions found in the objects"
    exit 1
fi

# The public API (declarations may span lines: cut the header at semicolons and braces).
tr '\n' ' ' < "$header" | tr ';{}' '\n\n\n' |
    sed -n 's/.*GFUSE_API[^(]*[^A-Za-z0-9_]\(gfuse_[A-Za-z0-9_]*\)[[:space:]]*(.*/\1/p' |
    sort -u > "$tmp/api"

# Symbols the objects refer to through relocations ("name", "name-0x4", "name+0x10").
# shellcheck disable=SC2086
objdump -r $libobjs $cliobjs |
    awk 'NF == 3 && $1 ~ /^[0-9a-f]+$/ { s = $3; sub(/[-+]0x[0-9a-f]+$/, "", s); print s }' |
    sort -u > "$tmp/referenced"

grep -v '_ref$' "$tmp/defined" | grep -v '^main$' | comm -23 - "$tmp/api" |
    comm -23 - "$tmp/referenced" > "$tmp/candidates"

# The library's C sources without comments, one identifier a line: a candidate named there
# only twice (its definition and its declaration in a header) has no caller the compiler
# inlined either.
find "$srcdir/src" "$srcdir/graph" \( -name '*.c' -o -name '*.h' \) -print | sort |
    while read -r f; do
        awk '
        {
            line = $0; out = ""
            while (line != "") {
                if (incomment) {
                    i = index(line, "*/")
                    if (i == 0) { line = ""; break }
                    line = substr(line, i + 2); incomment = 0
                } else {
                    i = index(line, "/*"); j = index(line, "//")
                    if (j > 0 && (i == 0 || j < i)) { out = out substr(line, 1, j - 1); line = "" }
                    else if (i > 0) { out = out substr(line, 1, i - 1); line = substr(line, i + 2); incomment = 1 }
                    else { out = out line; line = "" }
                }
            }
            print out
        }' "$f"
    done | grep -o '[A-Za-z_][A-Za-z0-9_]*' | sort | uniq -c |
    awk '{ print $2, $1 }' > "$tmp/counts"

# Exempt beyond the public API and the *_ref twins, each for its reason:
#   gfuse_i_alloc_fail_after  the allocation-failure hook of src/core/util.c: it has to live
#                             in the one allocation function the library uses, and only the
#                             failure-path test (tests/check_alloc.c) sets it.
keep="gfuse_i_alloc_fail_after"
printf '%s\n' $keep | sort -u > "$tmp/keep"

comm -23 "$tmp/candidates" "$tmp/keep" |
    awk 'NR == FNR { n[$1] = $2; next } !($1 in n) || n[$1] <= 2' "$tmp/counts" - > "$tmp/unused"

if [ -s "$tmp/unused" ]; then
    echo "FAIL: functions of the library that only tests or benchmarks call (delete them, or name"
    echo "a serial reference twin *_ref):"
    sed 's/^/    /' "$tmp/unused"
    exit 1
fi
echo "ok: $(wc -l < "$tmp/defined") functions defined, each used by the library or the tool"
exit 0

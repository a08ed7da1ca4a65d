#!/bin/sh
# layering.sh: the library's folders form layers, and a folder includes only itself and the
# folders below it:
#
#   core  <  cohort  <  graph  <  nn  <  model  <  eval  <  cli
#
# (src/core, src/cohort, graph/, src/nn, src/model, src/eval, src/cli). include/gfuse.h, the public header,
# and config.h may be included anywhere. A quoted include names its folder ("core/util.h") or a
# file beside the including one. Any other include, or one of a higher folder, fails the test
# and is printed as FILE:LINE: INCLUDE.
set -u
srcdir=${top_srcdir:-.}
cd "$srcdir" || exit 99

rank() {
    case $1 in
    src/core) echo 0 ;; src/cohort) echo 1 ;; graph) echo 2 ;; src/nn) echo 3 ;;
    src/model) echo 4 ;; src/eval) echo 5 ;; src/cli) echo 6 ;; *) echo -1 ;;
    esac
}
folder_of_include() { # "core/util.h" -> src/core; "graph/graph.h" -> graph
    case $1 in
    graph/*) echo graph ;;
    */*) echo "src/${1%%/*}" ;;
    *) echo "" ;;
    esac
}

tmp=$(mktemp) || exit 99
trap 'rm -f "$tmp"' EXIT
bad=0
checked=0
for dir in src/core src/cohort graph src/nn src/model src/eval src/cli; do
    own=$(rank "$dir")
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -f "$f" ] || continue
        checked=$((checked + 1))
        grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
            sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' >"$tmp"
        while read -r line inc; do
            case $inc in gfuse.h | config.h) continue ;; esac
            target=$(folder_of_include "$inc")
            if [ -z "$target" ]; then
                if [ -f "$dir/$inc" ]; then continue; fi
                echo "$f:$line: \"$inc\" is neither beside it nor named by its folder"
                bad=$((bad + 1))
                continue
            fi
            r=$(rank "$target")
            if [ "$r" -lt 0 ] || [ ! -f "$target/${inc#*/}" ]; then
                echo "$f:$line: \"$inc\" is not a file of a library folder"
                bad=$((bad + 1))
            elif [ "$r" -gt "$own" ]; then
                echo "$f:$line: \"$inc\": $dir may not include the higher folder $target"
                bad=$((bad + 1))
            fi
        done <"$tmp"
    done
done
if [ "$checked" -eq 0 ]; then
    echo "no source files found under $srcdir"
    exit 99
fi
echo "$checked files checked, $bad include(s) against the layers"
[ "$bad" -eq 0 ]

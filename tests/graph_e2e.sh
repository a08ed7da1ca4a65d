#!/bin/sh
# graph_e2e.sh: `gfuse graph` end to end: statistics as text and JSON on the example cohort,
# the TSV and GraphML exports (GraphML parsed as XML when python3 is at hand), usage errors,
# an unwritable output, and on ../shared/data/rosmap (when present) the node count and the
# reach of missing nodes under a protocol mask.
# make check sets GFUSE (the built tool), top_srcdir and GFUSE_SHARED.

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

# ---- statistics on the example cohort --------------------------------------------------------
if [ -f "$EXAMPLE/mod1.csv" ]; then
    run 0 "graph on the example" graph --cohort "$EXAMPLE" --quiet
    check "text names the node count" out_has "^graph: 1200 nodes"
    check "text has the hop table" out_has "2 hops:"
    run 0 "graph --json" graph --cohort "$EXAMPLE" --json --hops 2 --quiet
    check "json nodes = 300 x 4" test "$(json_num nodes)" = 1200
    for key in edges edges_by_relation missing_nodes missing_unreachable reachable_within_hops \
        components in_degree; do
        check "json has $key" out_has "\"$key\":"
    done
    check "json knn edges = 300 x 3 x 10" test "$(json_num knn)" = 9000
    check "json: no missing node unreachable" test "$(json_num missing_unreachable)" = 0

    run 0 "graph --edges --graphml" graph --cohort "$EXAMPLE" --k 5 --metric euclidean \
        --edges "$T/edges.tsv" --graphml "$T/g.graphml" --quiet
    check "edges header" test "$(head -n 1 "$T/edges.tsv")" = "$(printf 'src\tdst\trelation\tweight')"
    check "edges: a member row names ID/MODALITY and the hub ID" \
        grep -q "$(printf '^s002/mod1\ts002\tmember\t1$')" "$T/edges.tsv"
    nodes_tsv=$(awk -F'\t' 'NR > 1 && $3 == "knn"' "$T/edges.tsv" | wc -l)
    check "edges: 300 x 3 x 5 knn rows" test "$nodes_tsv" -eq 4500
    check "no temporary files left" test "$(find "$T" -name '*.tmp.*' | wc -l)" -eq 0
    if command -v python3 >/dev/null 2>&1; then
        n=$(python3 -c 'import sys, xml.etree.ElementTree as E
ns = "{http://graphml.graphdrawing.org/xmlns}"
r = E.parse(sys.argv[1]).getroot()
print(sum(1 for _ in r.iter(ns + "node")))' \
            "$T/g.graphml" 2>/dev/null)
        check "GraphML parses as XML with 1200 nodes" test "$n" = 1200
    else
        echo "skip: python3 absent, GraphML not parsed"
    fi

    # ---- failures ----------------------------------------------------------------------------
    run 2 "--k 0 is a usage error" graph --cohort "$EXAMPLE" --k 0
    run 2 "unknown metric is a usage error" graph --cohort "$EXAMPLE" --metric manhattan
    run 2 "no cohort is a usage error" graph
    run 1 "unwritable --edges is a runtime failure" graph --cohort "$EXAMPLE" --quiet \
        --edges "$T/no/such/dir/e.tsv"
    check "and says which file" err_has "no/such/dir/e.tsv"
    check "and writes nothing" test ! -e "$T/no"
else
    echo "skip: $EXAMPLE is absent"
fi

# ---- ROSMAP ------------------------------------------------------------------------------------
ROSMAP=$SHARED/data/rosmap
if [ -f "$ROSMAP/mRNA.csv" ]; then
    run 0 "rosmap, k 10" graph --cohort "$ROSMAP" --k 10 --json --quiet
    check "rosmap: 351 x (3 + 1) = 1404 nodes" test "$(json_num nodes)" = 1404
    run 0 "rosmap with mask_r50_s1" graph --cohort "$ROSMAP" --mask "$ROSMAP/mask_r50_s1.csv" \
        --k 10 --json --hops 2 --quiet
    missing=$(json_num missing_nodes)
    within2=$(grep -A 3 '"reachable_within_hops"' "$T/out" | sed -n 3p | sed 's/[^0-9]//g')
    check "rosmap r50: some missing nodes ($missing)" test "$missing" -gt 0
    check "rosmap r50: all $missing missing nodes within 2 hops ($within2)" test "$within2" = "$missing"
    check "rosmap r50: none unreachable" test "$(json_num missing_unreachable)" = 0
else
    echo "skip: $ROSMAP is absent"
fi

e2e_summary graph_e2e

#!/bin/sh
# robustness.sh: how the missing-modality patterns of a cohort change as more modalities are
# hidden. It makes a synthetic cohort with gfuse synth, writes masks that hide a growing share
# of (sample, modality) pairs (keeping at least one modality per sample), and runs
# gfuse inspect --mask on each, printing the number of complete samples.
#
# Usage: examples/robustness.sh [GFUSE] [WORKDIR]   (defaults: ./gfuse and a temporary folder)
set -eu
GFUSE=${1:-./gfuse}
WORK=${2:-$(mktemp -d "${TMPDIR:-/tmp}/gfuse_robustness.XXXXXX")}
mkdir -p "$WORK"

"$GFUSE" synth --out "$WORK/cohort" --samples 200 --modalities 3 --missing 0 --seed 3 --quiet
echo "rate complete_samples patterns"
for rate in 0.0 0.2 0.4 0.6; do
    # id,mod1,mod2,mod3 with 1 = keep: each pair hidden with probability rate, never all three.
    awk -F, -v rate="$rate" -v seed=17 '
        BEGIN { srand(seed) }
        NR == 1 { print "id,mod1,mod2,mod3"; next }
        {
            a = rand() >= rate; b = rand() >= rate; c = rand() >= rate
            if (!a && !b && !c) a = 1
            print $1 "," a "," b "," c
        }' "$WORK/cohort/labels.csv" >"$WORK/mask_$rate.csv"
    "$GFUSE" inspect --cohort "$WORK/cohort" --mask "$WORK/mask_$rate.csv" --json \
        --out "$WORK/inspect_$rate.json"
    complete=$(awk '/"count":/ { c = $2 + 0 } /"missing": 0/ { print c }' "$WORK/inspect_$rate.json")
    patterns=$(grep -c '"count":' "$WORK/inspect_$rate.json")
    echo "$rate ${complete:-0} $patterns"
done

#!/bin/sh
# report_chromium.sh: the page of `gfuse report` on the example cohort (with --log and --cv)
# rendered by headless Chromium: it loads with no console message and no request of the page
# beyond file:// (Chromium's --log-net-log), every chart's SVG is present and drawn, and the
# first screen's screenshot is written. A page with an external image and a console error is
# rendered the same way first, and must be caught, so that the checks are known to work.
# Skipped (exit 77) when Chromium (Debian's chromium package) or python3 is missing.
# REPORT_SCREENSHOT=FILE keeps the screenshot there (docs/report-first-screen.png).

. "$(cd "$(dirname "$0")" && pwd)/e2e_lib.sh"

BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then
    echo "skipped: report_chromium.sh needs headless Chromium (apt-get install chromium)"
    exit 77
fi
need_python3 "to read the page and Chromium's net log"
CHECK="$PY $top_srcdir/tests/report_check.py"
QUICK="--epochs 30 --ensemble 2 --patience 8 --graph-variants 2 --hidden 16 --heads 2"
ex=$EXAMPLE

# render PAGE NAME: screenshot $T/NAME.png, net log $T/NAME.net.json, messages $T/NAME.err.
# A fresh profile, and the browser's own background services off, so that what the net log
# holds besides them is the page's.
render() {
    timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$T/profile_$2" --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --disable-default-apps --disable-extensions \
        --disable-features=Translate,OptimizationHints,MediaRouter,SpellCheck \
        --enable-logging=stderr --v=0 --log-net-log="$T/$2.net.json" \
        --window-size=1280,1600 --screenshot="$T/$2.png" "file://$1" >"$T/$2.out" 2>"$T/$2.err"
}
no_console() { ! grep -q "CONSOLE" "$T/$1.err"; }

# The control: an external image and a console error must both be seen.
printf '<!DOCTYPE html><html><body><img src="http://gfuse.invalid/x.png">
<script>console.error("control")</script></body></html>\n' >"$T/control.html"
check "Chromium renders the control page" render "$T/control.html" control
check "the control's console error is caught" grep -q 'CONSOLE.*"control"' "$T/control.err"
check "the control's external request is caught" \
    sh -c "! $CHECK netlog '$T/control.net.json' 2>/dev/null"

# shellcheck disable=SC2086
run 0 "train with --log" train --cohort "$ex" --model "$T/m.gfm" --log "$T/log.csv" --seed 1 \
    $QUICK --quiet
# shellcheck disable=SC2086
run 0 "cv over rates with baselines" cv --cohort "$ex" --folds 3 --rates 0,0.2,0.4 --baselines \
    --seed 1 $QUICK --quiet --out "$T/cv.json"
# Run from $T with relative names, so that the page (and its screenshot) names no absolute path.
ln -s "$ex" "$T/example"
check "report, run in the scratch folder" sh -c "cd '$T' && '$GFUSE' report --model m.gfm \
    --cohort example --log log.csv --cv cv.json --out report.html --quiet"
check "every chart's SVG present and drawn, nothing external in the page" \
    $CHECK charts "$T/report.html" --min 15
check "Chromium renders the report" render "$T/report.html" report
check "no console message while loading" no_console report
check "no request of the page beyond file://" $CHECK netlog "$T/report.net.json"
size=$(wc -c <"$T/report.png" 2>/dev/null || echo 0)
check "a screenshot of the first screen ($size bytes)" test "$size" -gt 20000
check "the screenshot is a 1280 x 1600 PNG" "$PY" -c "
import struct, sys
b = open('$T/report.png', 'rb').read(24)
sys.exit(not (b[:8] == b'\x89PNG\r\n\x1a\n' and struct.unpack('>II', b[16:24]) == (1280, 1600)))"

# The print style sheet: the page prints to PDF, over several pages.
check "the page prints to PDF" timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$T/profile_pdf" --no-first-run --disable-background-networking \
    --disable-component-update --no-pdf-header-footer --print-to-pdf="$T/report.pdf" \
    "file://$T/report.html" >"$T/pdf.out" 2>&1
pages=$("$PY" -c "
import re, sys
print(len(re.findall(rb'/Type\s*/Page(?!s)', open(sys.argv[1], 'rb').read())))" "$T/report.pdf" \
    2>/dev/null)
check "the PDF has several pages (${pages:-none})" test "${pages:-0}" -gt 3

# Ids with markup and quotes render without a console message either.
mkdir -p "$T/odd"
for f in "$ex"/mod*.csv "$ex/labels.csv" "$ex/split.csv"; do
    awk -F, -v OFS=, 'NR > 1 { $1 = "\"<script>x()</script>" $1 " \"\"q\"\" \047&amp;\"" } 1' \
        "$f" >"$T/odd/$(basename "$f")"
done
# shellcheck disable=SC2086
run 0 "train on ids holding markup" train --cohort "$T/odd" --model "$T/odd.gfm" $QUICK --quiet
run 0 "report on ids holding markup" report --model "$T/odd.gfm" --cohort "$T/odd" \
    --out "$T/odd.html" --quiet
check "ids holding markup: no script element in the page" \
    sh -c "! grep -qi '<script' '$T/odd.html'"
check "Chromium renders the page of odd ids" render "$T/odd.html" odd
check "odd ids: no console message" no_console odd
check "odd ids: no request beyond file://" $CHECK netlog "$T/odd.net.json"

if [ -n "$REPORT_SCREENSHOT" ] && [ -s "$T/report.png" ]; then
    cp "$T/report.png" "$REPORT_SCREENSHOT" && echo "screenshot kept in $REPORT_SCREENSHOT"
fi
e2e_summary report_chromium

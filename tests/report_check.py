#!/usr/bin/python3
"""report_check.py: checks of the HTML page `gfuse report` writes, for the end-to-end tests.

  report_check.py charts PAGE [--min N]   every chart's SVG is well-formed XML, has a title and
                                          something drawn; a table per chart; nothing external
  report_check.py metrics PAGE JSON       the page's metrics and confusion counts equal those
                                          of `gfuse predict --metrics` (split test, else all)
  report_check.py cv PAGE JSON            the page's cross-validation folds, pools and pooled
                                          confusion equal those of `gfuse cv --out`
  report_check.py ids PAGE IDS            the ids (one per line of IDS) that the page shows
                                          read back unchanged, and none is left unescaped
  report_check.py netlog NETLOG           Chromium's --log-net-log: no request of the page
                                          went anywhere but file://
Exit status 0 when the check passes, 1 with the reasons on stderr.
"""
import html.parser
import json
import math
import re
import sys
import xml.etree.ElementTree as ET


class Page(html.parser.HTMLParser):
    """The tables (by the id of the div around them) and the text of the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables = {}  # div id -> rows of cells (text, data-value)
        self.div_stack = []
        self.rows = None
        self.cell = None
        self.text = []
        self.n_tables = 0
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "action", "poster", "data"):
            if key in a and not (a[key] or "").startswith("#"):
                self.external.append(f"<{tag} {key}={a[key]!r}>")
        if tag in ("script", "link", "iframe", "object", "embed", "img", "image"):
            self.external.append(f"<{tag}> element")
        if tag == "div":
            self.div_stack.append(a.get("id"))
        elif tag == "table":
            self.n_tables += 1
            owner = next((d for d in reversed(self.div_stack) if d), None)
            self.rows = []
            if owner and owner not in self.tables:
                self.tables[owner] = self.rows
        elif tag == "tr" and self.rows is not None:
            self.rows.append([])
        elif tag in ("td", "th") and self.rows is not None:
            self.cell = [tag, "", a.get("data-value")]

    def handle_endtag(self, tag):
        if tag == "div" and self.div_stack:
            self.div_stack.pop()
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(tuple(self.cell))
            self.cell = None
        elif tag == "table":
            self.rows = None

    def handle_data(self, data):
        self.text.append(data)
        if self.cell is not None:
            self.cell[1] += data


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    page = Page()
    page.feed(text)
    page.close()
    return text, page


def number(cell):
    """The exact value of a number cell (NaN for NA)."""
    v = cell[2] if cell[2] is not None else cell[1]
    return math.nan if v in ("NA", "", None) else float(v)


def same(a, b):
    if a is None:
        a = math.nan
    if b is None:
        b = math.nan
    return (math.isnan(a) and math.isnan(b)) or a == b


def body_rows(rows):
    return [r for r in rows if r and r[0][0] == "td"]


def confusion(page, div):
    """The counts of the confusion table in div#DIV, rows the true class."""
    return [[int(number(c)) for c in r[1:]] for r in body_rows(page.tables.get(div, []))]


def check_charts(path, minimum):
    text, page = load(path)
    errors = []
    svgs = re.findall(r"<svg\b.*?</svg>", text, flags=re.S)
    for k, svg in enumerate(svgs):
        try:
            root = ET.fromstring(svg)
        except ET.ParseError as e:
            errors.append(f"chart {k + 1}: not well-formed XML: {e}")
            continue
        ns = "{http://www.w3.org/2000/svg}"
        title = root.find(ns + "title")
        if title is None or not (title.text or "").strip():
            errors.append(f"chart {k + 1}: no title")
        drawn = [e for e in root.iter() if e.tag[len(ns):] in
                 ("line", "polyline", "rect", "circle", "path")]
        texts = [e for e in root.iter() if e.tag == ns + "text" and (e.text or "").strip()]
        if len(drawn) < 2 or len(texts) < 2:
            errors.append(f"chart {k + 1} ({title.text if title is not None else '?'}): "
                          f"empty ({len(drawn)} shapes, {len(texts)} labels)")
    if len(svgs) < minimum:
        errors.append(f"{len(svgs)} charts, expected at least {minimum}")
    if page.n_tables < len(svgs):
        errors.append(f"{page.n_tables} tables for {len(svgs)} charts")
    errors += [f"external reference: {e}" for e in page.external]
    for pattern in (r"https?://(?!www\.w3\.org/2000/svg\")", r"url\(", r"@import", r"<script",
                    r"<link\b", r"\bsrc="):
        m = re.search(pattern, text)
        if m:
            errors.append(f"external reference {m.group(0)!r} at offset {m.start()}")
    if "<style>" not in text or "@media print" not in text:
        errors.append("no inline style sheet with a print section")
    print(f"{path}: {len(svgs)} charts, {page.n_tables} tables")
    return errors


def check_metrics(path, json_path):
    _, page = load(path)
    with open(json_path) as f:
        want = json.load(f)
    group = want.get("test") or want["all"]
    errors = []
    rows = body_rows(page.tables.get("metrics-eval", []))
    if not rows:
        return ["no metrics table (div#metrics-eval)"]
    got = {r[0][1]: number(r[1]) for r in rows}
    compared = 0
    for key, value in group.items():
        if key == "confusion":
            continue
        compared += 1
        if key not in got:
            errors.append(f"metric {key} missing from the page")
        elif not same(got[key], value):
            errors.append(f"{key}: page {got[key]!r}, predict --metrics {value!r}")
    if "confusion" in group:
        conf = confusion(page, "confusion-eval")
        if conf != group["confusion"]:
            errors.append(f"confusion: page {conf}, predict --metrics {group['confusion']}")
        else:
            print(f"confusion {conf} equal")
    print(f"{compared} metrics compared, auroc {got.get('auroc')}")
    return errors


def check_cv(path, json_path):
    _, page = load(path)
    with open(json_path) as f:
        cv = json.load(f)
    results = [r for r in cv["results"] if r["method"] == "gfuse"] or cv["results"]
    res = min(results, key=lambda r: r["rate"])
    rows = body_rows(page.tables.get("cv-folds", []))
    head = [c[1] for c in page.tables.get("cv-folds", [[]])[0]]
    entries = res["folds"] + res["pooled"]
    errors = []
    if len(rows) != len(entries):
        return [f"{len(rows)} fold rows on the page, {len(entries)} in the cv file"]
    for row, entry in zip(rows, entries):
        for name, cell in zip(head[2:], row[2:]):
            if name in entry and not same(number(cell), entry[name]):
                errors.append(f"{name} of {row[0][1]}/{row[1][1]}: page {number(cell)!r}, "
                              f"cv {entry[name]!r}")
    if cv["task"] == "classify":
        conf = confusion(page, "confusion-cv")
        if conf != res["pooled"][0]["confusion"]:
            errors.append(f"pooled confusion: page {conf}, cv {res['pooled'][0]['confusion']}")
    print(f"{len(rows)} cv rows compared, pooled auroc {res['pooled'][0].get('auroc')}")
    return errors


def check_ids(path, ids_path):
    text, page = load(path)
    with open(ids_path, encoding="utf-8") as f:
        ids = [line.rstrip("\n") for line in f if line.strip()]
    shown = set(c[1] for rows in page.tables.values() for r in rows for c in r)
    top = [r[0][1] for r in body_rows(page.tables.get("attention-top", []))]
    errors = []
    if not top:
        errors.append("no table of dominant samples (div#attention-top)")
    for sid in top:
        if sid not in ids:
            errors.append(f"id {sid!r} on the page is none of the cohort's")
    for sid in ids:
        raw = re.escape(sid)
        if re.search(r"[<&\"]", sid) and re.search(raw, text):
            errors.append(f"id {sid!r} appears unescaped")
    print(f"{len(top)} ids in the dominant-sample table read back; {len(shown)} cells")
    return errors


def check_netlog(path):
    with open(path) as f:
        log = json.load(f)
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    errors, pages = [], 0
    for e in log["events"]:
        p = e.get("params") or {}
        if types.get(e["type"]) != "URL_REQUEST_START_JOB" or "url" not in p:
            continue
        # requests the page made carry its file:// site; the browser's own services do not
        if "file://" not in str(p.get("network_isolation_key", "")):
            continue
        pages += 1
        if not p["url"].startswith("file:"):
            errors.append(f"the page requested {p['url']}")
    print(f"{path}: {pages} requests of the page")
    return errors


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    what = argv[1]
    if what == "charts":
        minimum = int(argv[4]) if len(argv) > 4 and argv[3] == "--min" else 1
        errors = check_charts(argv[2], minimum)
    elif what == "metrics":
        errors = check_metrics(argv[2], argv[3])
    elif what == "cv":
        errors = check_cv(argv[2], argv[3])
    elif what == "ids":
        errors = check_ids(argv[2], argv[3])
    elif what == "netlog":
        errors = check_netlog(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for e in errors:
        print(f"report_check {what}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

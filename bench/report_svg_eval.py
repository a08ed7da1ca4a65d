#!/usr/bin/python3
"""report_svg_eval.py: reads the three SVG files bench/report_svg_eval.c wrote
(bench/out/report_svg_{plplot,cairo,gfuse}.svg) and says, for each, whether it parses as XML,
whether the chart's title (with its '<', '&', quotes and UTF-8) is in the file as text a reader
can search and copy, whether it has an accessible <title>, and whether it names anything
outside the file (a DTD, a font)."""
import re
import xml.etree.ElementTree as ET

TITLE = 'AUROC <0.9> & "ids" \u00e9\u2014'
for name in ("plplot", "cairo", "gfuse"):
    path = f"bench/out/report_svg_{name}.svg"
    text = open(path, encoding="utf-8").read()
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        print(f"{name:7s} not XML: {e}")
        continue
    words = "".join(root.itertext())
    title = any(e.tag.endswith("}title") for e in root.iter())
    outside = sorted(set(re.findall(r"https?://[^\"' >]+", text)) - {"http://www.w3.org/2000/svg",
                                                                   "http://www.w3.org/1999/xlink"})
    print(f"{name:7s} XML ok; title as text: {TITLE in words}; <title>: {title}; "
          f"names outside: {outside or 'nothing'}")

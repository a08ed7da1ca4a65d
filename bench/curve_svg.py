#!/usr/bin/python3
"""curve_svg.py MEANS_CSV RESULTS_DIR > curve.svg: the ROSMAP robustness curve that
bench/accuracy.sh measures, as a self-contained SVG: ACC and AUROC (mean +- sd over the seeds)
against the missing rate, gfuse beside the built-in baselines (which reproduce the recorded
ones) and MOGONET's recorded point on complete data (RESULTS_DIR/rosmap-mogonet.csv)."""
import csv, os, sys

means_path, results = sys.argv[1:3]
rows = [r for r in csv.DictReader(open(means_path)) if r["cohort"] == "rosmap"]
series = {}
for r in rows:
    series.setdefault(r["method"], []).append(r)
for v in series.values():
    v.sort(key=lambda r: float(r["rate"]))
mogonet = None
path = os.path.join(results, "rosmap-mogonet.csv")
if os.path.exists(path):
    for r in csv.DictReader(open(path)):
        if r["rate"] == "0":
            mogonet = r

style = {"gfuse": ("#c0392b", "gfuse"), "late": ("#2471a3", "late fusion (C = 0.1)"),
         "mean": ("#7d8c8d", "mean imputation + logistic (C = 0.1)")}
W, H, pad_l, pad_r, pad_t, pad_b = 400, 300, 52, 24, 34, 44
out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
       'font-size="12">' % (2 * W, H + 40)]
out.append('<rect width="100%" height="100%" fill="white"/>')
for panel, (key, title, lo, hi) in enumerate([("acc", "ACC", 0.6, 0.9), ("auc", "AUROC", 0.65, 0.95)]):
    x0 = panel * W
    def px(rate): return x0 + pad_l + rate / 0.7 * (W - pad_l - pad_r)
    def py(v): return pad_t + (hi - v) / (hi - lo) * (H - pad_t - pad_b)
    out.append('<text x="%d" y="20" font-size="14" font-weight="bold">ROSMAP: %s</text>'
               % (x0 + pad_l, title))
    for i in range(7):
        v = lo + i * (hi - lo) / 6
        out.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/>' %
                   (px(0), px(0.7), py(v), py(v)))
        out.append('<text x="%.1f" y="%.1f" text-anchor="end">%.2f</text>' % (px(0) - 5, py(v) + 4, v))
    for rate in (0, 0.1, 0.3, 0.5, 0.67):
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (px(rate), H - pad_b + 16, rate))
    out.append('<text x="%.1f" y="%d" text-anchor="middle">share of (sample, modality) cells hidden</text>'
               % (px(0.35), H - pad_b + 34))
    for method in ("mean", "late", "gfuse"):
        if method not in series: continue
        color = style[method][0]
        pts = [(float(r["rate"]), float(r[key + "_mean"]), float(r[key + "_sd"])) for r in series[method]]
        out.append('<polyline fill="none" stroke="%s" stroke-width="%s" points="%s"/>' %
                   (color, "2.5" if method == "gfuse" else "1.5",
                    " ".join("%.1f,%.1f" % (px(r), py(m)) for r, m, _ in pts)))
        for r, m, s in pts:
            out.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>' %
                       (px(r), px(r), py(m - s), py(m + s), color))
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %g: %.3f +- %.3f'
                       '</title></circle>' % (px(r), py(m), color, method, r, m, s))
    if mogonet:
        m = float(mogonet[key + "_mean"])
        out.append('<rect x="%.1f" y="%.1f" width="7" height="7" fill="#27ae60"><title>MOGONET '
                   '(recorded): %.3f</title></rect>' % (px(0) - 3.5, py(m) - 3.5, m))
y = H + 8
x = pad_l
for method in ("gfuse", "late", "mean"):
    color, label = style[method]
    out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2.5"/>' % (x, x + 18, y, y, color))
    out.append('<text x="%d" y="%d">%s</text>' % (x + 24, y + 4, label))
    x += 36 + 6 * len(label)
out.append('<rect x="%d" y="%d" width="7" height="7" fill="#27ae60"/>' % (x, y - 3.5))
out.append('<text x="%d" y="%d">MOGONET (recorded)</text>' % (x + 12, y + 4))
out.append('<text x="%d" y="%d" fill="#555">mean +- sd over the 5 protocol seeds; fixed split; '
           'bench/accuracy.sh</text>' % (pad_l, y + 24))
out.append("</svg>")
print("\n".join(out))

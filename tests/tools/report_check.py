#!/usr/bin/env python3
"""Checks an HTML training report against the log it shows.

    report_check.py html REPORT.html LOG.csv [--samples N] [--best E]
                    [--stop E] [--running]
    report_check.py png SHOT.png

html: the file is UTF-8, parses, has no script and no reference to
anything outside it (no src/href/srcset/action attribute, no url(),
no @import, no "://"); every column of the log but epoch and seconds is
a series of one chart with one point per epoch of the log, in order,
with the log's values; seconds is the timing chart's data-seconds (and
with --samples N its points are N / seconds samples per second); the
best epoch and the early stop are marked on every curve's chart; a
finished report does not reload itself, a running one does. Without
--stop no chart may mark an early stop; without --best the best epoch
is not checked.

png: the screenshot is a real picture of the report: mostly a light
background, with pixels of the training (blue) and validation (orange)
curves' colours.

Prints what is wrong and exits 1; prints nothing and exits 0 if all is
well.
"""
import csv
import html.parser
import re
import struct
import sys
import zlib

FORBIDDEN_TAGS = {"script", "iframe", "link", "img", "object", "embed",
                  "image", "use", "base", "frame", "audio", "video",
                  "source", "form"}
FORBIDDEN_ATTRS = {"src", "href", "xlink:href", "srcset", "action",
                   "formaction", "poster", "data"}


class Report(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.errors = []
        self.charts = {}          # chart id -> {series -> [(attrs)]}
        self.marks = {}           # chart id -> {"best"/"stop": epoch}
        self.chart = None
        self.series = None
        self.refresh = False
        self.tags = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags += 1
        if tag in FORBIDDEN_TAGS:
            self.errors.append("a <%s> element" % tag)
        for k, v in attrs:
            if k in FORBIDDEN_ATTRS or k.startswith("on"):
                self.errors.append("<%s %s=%r>" % (tag, k, v))
        if tag == "meta" and a.get("http-equiv") == "refresh":
            self.refresh = True
        if tag == "svg" and "chart" in a.get("class", "").split():
            self.chart = a.get("data-chart")
            if self.chart in self.charts:
                self.errors.append("chart %s twice" % self.chart)
            self.charts[self.chart] = {}
            self.marks[self.chart] = {}
        elif tag == "g" and a.get("class") == "series":
            if self.chart is None:
                self.errors.append("a series outside a chart")
                return
            self.series = a.get("data-series")
            self.charts[self.chart][self.series] = []
        elif tag == "circle" and a.get("class") == "pt":
            if self.series is None:
                self.errors.append("a point outside a series")
                return
            self.charts[self.chart][self.series].append(a)
        elif tag == "line" and "mark" in a.get("class", "").split():
            kind = a["class"].split()[1]
            self.marks[self.chart][kind] = int(a["data-epoch"])

    def handle_endtag(self, tag):
        if tag == "svg":
            self.chart = None
        elif tag == "g":
            self.series = None


def close(a, b):
    return abs(a - b) <= 1e-5 * max(abs(a), abs(b)) + 1e-12


def check_series(name, pts, epochs, values, errs, key="data-value"):
    got = [int(p["data-epoch"]) for p in pts]
    if got != epochs:
        errs.append("%s: points at epochs %s, the log has %s"
                    % (name, got[:8], epochs[:8]))
        return
    for e, p, v in zip(epochs, pts, values):
        if not close(float(p[key]), v):
            errs.append("%s, epoch %d: %s %s, the log has %r"
                        % (name, e, key, p[key], v))
            return


def check_html(argv):
    path, log = argv[0], argv[1]
    opt, rest = {}, argv[2:]
    while rest:
        if rest[0] == "--running":
            opt["--running"], rest = True, rest[1:]
        else:
            opt[rest[0]], rest = rest[1], rest[2:]
    errs = []
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["not UTF-8: %s" % e]
    if not text.startswith("<!DOCTYPE html>"):
        errs.append("no <!DOCTYPE html>")
    if '<meta charset="utf-8">' not in text:
        errs.append("no <meta charset=\"utf-8\">")
    for bad in ("://", "url(", "@import"):
        if bad in text:
            errs.append("%r in the file" % bad)
    p = Report()
    p.feed(text)
    p.close()
    errs += p.errors
    if p.tags < 100:
        errs.append("only %d elements" % p.tags)
    if p.refresh != ("--running" in opt):
        errs.append("reloads itself" if p.refresh else "does not reload")

    with open(log, newline="") as f:
        rows = list(csv.reader(f))
    head, rows = rows[0], [r for r in rows[1:] if r != rows[0]]
    cols = {c: [float(r[i]) for r in rows] for i, c in enumerate(head)}
    epochs = [int(e) for e in cols["epoch"]]
    where = {}
    for chart, series in p.charts.items():
        for s in series:
            where.setdefault(s, []).append(chart)
    for c in head:
        if c in ("epoch", "seconds"):
            continue
        if len(where.get(c, [])) != 1:
            errs.append("column %s is in %d charts" % (c, len(where.get(c, []))))
            continue
        check_series(c, p.charts[where[c][0]][c], epochs, cols[c], errs)
    timing = p.charts.get("timing", {})
    if "--samples" in opt:
        pts = timing.get("samples_per_second")
        if pts is None:
            errs.append("no samples_per_second series")
        else:
            check_series("seconds", pts, epochs, cols["seconds"], errs,
                         "data-seconds")
            n = float(opt["--samples"])
            check_series("samples_per_second", pts, epochs,
                         [n / s for s in cols["seconds"]], errs)
    else:
        pts = timing.get("seconds")
        if pts is None:
            errs.append("no seconds series")
        else:
            check_series("seconds", pts, epochs, cols["seconds"], errs)
    for chart, marks in p.marks.items():
        if chart == "timing":
            continue
        for kind in ("best", "stop"):
            want = int(opt["--" + kind]) if "--" + kind in opt else None
            if kind == "best" and want is None:
                continue
            if marks.get(kind) != want:
                errs.append("chart %s: %s mark at %s, expected %s"
                            % (chart, kind, marks.get(kind), want))
    if len(p.charts) < 3:
        errs.append("only %d charts" % len(p.charts))
    return errs


def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, lace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or lace:
                raise ValueError("PNG type %d/%d not read" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    out = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        out.append(bytes(line))
        prev = line
    return w, h, bpp, out


def check_png(argv):
    w, h, bpp, rows = png_pixels(argv[0])
    counts = {}
    for line in rows[::2]:
        for x in range(0, w * bpp, bpp * 2):
            px = tuple(line[x:x + 3])
            counts[px] = counts.get(px, 0) + 1
    total = sum(counts.values())
    bg, nbg = max(counts.items(), key=lambda kv: kv[1])
    errs = []
    if min(bg) < 230 or nbg < total * 0.4:
        errs.append("background %s covers %d of %d pixels" % (bg, nbg, total))

    def near(rgb):
        return sum(n for px, n in counts.items()
                   if all(abs(p - q) <= 24 for p, q in zip(px, rgb)))
    for name, rgb in (("training blue", (0x1f, 0x77, 0xb4)),
                      ("validation orange", (0xff, 0x7f, 0x0e))):
        if near(rgb) < 100:
            errs.append("only %d pixels of the %s" % (near(rgb), name))
    if len(counts) < 50:
        errs.append("only %d colours" % len(counts))
    return errs


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("html", "png"):
        sys.exit(__doc__)
    errs = (check_html if sys.argv[1] == "html" else check_png)(sys.argv[2:])
    for e in errs[:20]:
        print(e)
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()

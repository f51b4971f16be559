"""report.py: bench/results.md and bench/results.png from run.py's runs.

Every number is a median over the repetitions with (min-max); a ratio
is the median of the per-repetition ratios (nnc and its counterpart ran
back to back), with their (min-max). Each target of issue 8 stands next
to its ratio with `met` or `NOT met`.
"""
import re
import subprocess

from proc import stats


def fmt(xs, unit="", scale=1.0, digits=3):
    """'36.4k (35.1k-37.0k)' of a list of numbers."""
    def one(v):
        v *= scale
        for div, suf in ((1e6, "M"), (1e3, "k")):
            if unit == "k" and abs(v) >= div:
                return "%.*g%s" % (digits, v / div, suf)
        if abs(v) >= 10 ** digits:
            return "%.0f" % v
        return "%.*g" % (digits, v)
    med, lo, hi = stats(xs)
    if lo == hi:
        return one(med)
    return "%s (%s-%s)" % (one(med), one(lo), one(hi))


def ratio(xs, ys, target=None, ge=True):
    """The per-repetition ratios xs[i] / ys[i]: text, median, verdict."""
    rs = [x / y for x, y in zip(xs, ys)]
    med = stats(rs)[0]
    text = fmt(rs, digits=3)
    if target is None:
        return text, med, ""
    ok = med >= target if ge else med <= target
    return text, med, "met" if ok else "NOT met"


class Doc:
    def __init__(self):
        self.lines = []

    def __call__(self, *rows):
        self.lines.extend(rows)

    def table(self, head, rows):
        self("| " + " | ".join(head) + " |",
             "|" + "---|" * len(head))
        for r in rows:
            self("| " + " | ".join(str(c) for c in r) + " |")
        self("")


def col(runs, i):
    return [r[i] for r in runs]


PLOT = {"mlp64": "MLP b64", "mlp256": "MLP b256", "cnn": "CNN"}


def throughput(d, cases, res, ratios):
    rows = []
    for c in cases:
        key, label, nthr, layers, target = c.key, c.label, c.threads, \
            c.layers, c.target
        r = res[key]
        nnc, tor = col(r["nnc"], 0), col(r["torch"], 0)
        text, med, ok = ratio(nnc, tor, target)
        bound = btext = bok = ""
        if layers:
            bound = fmt(r["bound"], "k")
            btext, bmed, bok = ratio(nnc, r["bound"],
                                     0.9 if key == "gemm" else None)
            if key == "gemm":
                ratios.append(("GEMM MLP\\nvs sgemm bound", bmed, 0.9,
                               "GEMM-bound MLP, samples/s / sgemm bound",
                               btext, ">= 0.9", bok))
        if target:
            ratios.append(("%s\\nvs PyTorch" % PLOT[key], med, target,
                           "%s, samples/s nnc / PyTorch" % label, text,
                           ">= %g" % target, ok))
        rows.append((label, nthr, fmt(nnc, "k"), fmt(tor, "k"), text,
                     ">= %g" % target if target else "", ok, bound, btext,
                     ">= 0.9" if key == "gemm" else "", bok,
                     "%.4f / %.4f" % (r["nnc"][0][4], r["torch"][0][3])))
    d("### Throughput: training samples/s over an epoch", "",
      "The last column is the epoch's mean training loss on each side "
      "(first repetition): the same work from the same initial weights "
      "(different shuffles).", "")
    d.table(["case", "threads", "nnc", "PyTorch", "nnc/PyTorch", "target",
             "", "GEMM-only bound", "nnc/bound", "target", "",
             "loss nnc / PyTorch"], rows)


def thread_scaling(d, res, ratios):
    one = res["mlp256"]
    rows = []
    for key, label, target in (("mlp256t2", "2 threads", 1.6),
                               ("mlp256busy", "2 threads, busy neighbour",
                                1.0)):
        r = res[key]
        n_text, n_med, n_ok = ratio(col(r["nnc"], 0), col(one["nnc"], 0),
                                    target)
        t_text = ratio(col(r["torch"], 0), col(one["torch"], 0))[0]
        rows.append((label, fmt(col(r["nnc"], 0), "k"), n_text,
                     ">= %g" % target, n_ok, fmt(col(r["torch"], 0), "k"),
                     t_text))
        ratios.append(("MLP b256%s\\n2 vs 1 thread"
                       % (" busy" if "busy" in key else ""), n_med, target,
                       "Fashion MLP batch 256, nnc %s / 1 thread" % label,
                       n_text, ">= %g" % target, n_ok))
    d("### Threads: Fashion MLP batch 256, against 1 thread", "",
      "Both sides with their defaults (PyTorch's OpenMP workers wait "
      "actively; bench/README.md).", "")
    d.table(["", "nnc samples/s", "nnc vs 1 thread", "target", "",
             "PyTorch samples/s", "PyTorch vs 1 thread"], rows)


def tiny_nets(d, nets, res, ratios):
    rows, rat = [], []
    for name, _, _ in nets:
        r = res[name]
        for tool, label in (("nnc", "nnc"), ("torch", "PyTorch"),
                            ("fann", "FANN")):
            runs = r[tool]
            rows.append((name, label, fmt(col(runs, 0), scale=1e3),
                         fmt(col(runs, 1), scale=1e3), runs[0][2],
                         fmt([x[1] / x[2] for x in runs], scale=1e6),
                         fmt([x[1] / x[3] for x in runs], scale=1e6),
                         "%.1f" % (stats(col(runs, 4))[0] / 2**20)))
        step = [x[1] / x[2] for x in r["nnc"]]
        sample = [x[1] / x[3] for x in r["nnc"]]
        t_text, t_med, t_ok = ratio([x[1] / x[2] for x in r["torch"]],
                                    step, 30)
        f_text, f_med, f_ok = ratio([x[1] / x[3] for x in r["fann"]],
                                    sample, 1)
        rat.append((name, t_text, ">= 30", t_ok, f_text, ">= 1", f_ok))
        ratios.append(("%s per step\\nvs PyTorch" % name, t_med, 30,
                       "%s as shipped, time a step PyTorch / nnc" % name,
                       t_text, ">= 30", t_ok))
        ratios.append(("%s per sample\\nvs FANN" % name, f_med, 1,
                       "%s as shipped, time a sample FANN / nnc" % name,
                       f_text, ">= 1", f_ok))
    d("### Tiny nets as shipped (examples/xor.nn, examples/iris.nn), "
      "1 thread", "")
    d.table(["net", "", "whole run, ms", "training loop, ms", "steps",
             "us a step", "us a sample", "peak RSS, MB"], rows)
    d.table(["net", "nnc speed-up a step over PyTorch", "target", "",
             "nnc speed-up a sample over FANN", "target", ""], rat)


def compile_times(d, builds, ratios):
    rows = []
    for name, (t_nnc, t_cc) in builds.items():
        n_med, c_med = stats(t_nnc)[0], stats(t_cc)[0]
        rows.append((name, fmt(t_nnc, scale=1e3, digits=2),
                     "met" if n_med < 0.05 else "NOT met",
                     fmt(t_cc, digits=2), "met" if c_med < 2 else "NOT met"))
    worst_n = max(stats(t[0])[0] for t in builds.values())
    worst_c = max(stats(t[1])[0] for t in builds.values())
    ratios.append((None, 0, 0, "`nnc`, slowest model, ms",
                   "%.1f" % (worst_n * 1e3), "< 50",
                   "met" if worst_n < 0.05 else "NOT met"))
    ratios.append((None, 0, 0, "`cc -O2` of the emitted C, slowest, s",
                   "%.2f" % worst_c, "< 2", "met" if worst_c < 2 else
                   "NOT met"))
    d("### Compile time: `nnc` (target < 50 ms) and `cc -O2` of its "
      "output (target < 2 s)", "")
    d.table(["model", "nnc, ms", "", "cc -O2, s", ""], rows)


def loading(d, cases, res):
    rows, seen = [], set()
    for c in cases:
        key, model = c.key, c.model
        if model in seen:
            continue
        seen.add(model)
        r = res[key]
        rows.append((model, r["all_rows"],
                     fmt(col(r["nnc"], 3), digits=2),
                     fmt(col(r["nnc"], 2), digits=2),
                     fmt(col(r["torch"], 2), digits=2)))
    d("### Data loading, seconds", "",
      "nnc `init` reads the data, initialises the tensors and writes one "
      "checkpoint; `train` outside its epochs is the trainer's wall time "
      "minus the log's `seconds` (start, data, the checkpoints, an "
      "evaluation pass when there are metrics); PyTorch's is reading and "
      "converting the same files to float tensors.", "")
    d.table(["case", "rows", "nnc init", "nnc train outside the epochs",
             "PyTorch read + convert"], rows)


def memory(d, nets, cases, tiny, res, plans, ratios):
    MB = 2**20
    rows = []

    def row(label, model, nnc_rss, torch_rss, data):
        rss = stats(nnc_rss)[0]
        limit = 1.2 * (plans[model] + data) + 10 * MB
        rows.append((label, "%.1f" % (rss / MB), "%.2f" % (plans[model] / MB),
                     "%.2f" % (data / MB), "%.1f" % (limit / MB),
                     "met" if rss <= limit else "NOT met",
                     "%.1f" % (stats(torch_rss)[0] / MB)))
    for name, _, nin in nets:
        row(name, name, col(tiny[name]["nnc"], 4),
            col(tiny[name]["torch"], 4), 0)
    seen = set()
    for c in cases:
        key, model, nin = c.key, c.model, c.inputs
        if model in seen:
            continue
        seen.add(model)
        r = res[key]
        row(model, model, col(r["nnc"], 1),
            col(r["torch"], 1), r["all_rows"] * (nin + 1) * 4)
    d("### Peak RSS, MB (target: nnc <= 1.2 x (plan + data) + 10 MB)", "",
      "plan: the `summary` subcommand's memory total (parameters, "
      "gradients, optimizer state, workspace); data: the rows as floats "
      "(features and target), 0 for the tiny nets (under 3 KB).", "")
    d.table(["case", "nnc", "plan", "data", "limit", "", "PyTorch"], rows)
    ok = sum(r[5] == "met" for r in rows)
    ratios.append((None, 0, 0, "nnc peak RSS <= 1.2 x (plan + data) + 10 MB",
                   "%d of %d cases" % (ok, len(rows)), "all",
                   "met" if ok == len(rows) else "NOT met"))


def mpi_ratio(mpi, ratios):
    """Issue 10's target, from bench/mpi.sh's efficiency row."""
    m = re.search(r"scaling efficiency[^|]*\| (\d+)% \(([^)]*)\) \| "
                  r"[^|]*\| ([^|]*) \|", mpi)
    if not m:
        return
    eff = int(m.group(1)) / 100
    ratios.append(("MPI 2 ranks\\nvs 2 x 1 rank", eff, 0.9,
                   "Fashion MLP, 256 rows a rank, MPI: 2 ranks / "
                   "(2 x 1 rank), samples/s", "%.2f (%s)"
                   % (eff, m.group(2).split(";")[0]), ">= 0.9",
                   m.group(3).strip()))


def render(env, builds, nets, tiny, cases, res, plans, mpi):
    d, ratios = Doc(), []
    d("## `make bench` results", "",
      "%s; CPU %s; OpenBLAS core %s (OPENBLAS_CORETYPE %s); PyTorch %s "
      "(its BLAS: %s); nnc %s; medians of %d runs (min-max), nnc and "
      "PyTorch alternating; every trainer built with `cc -O2` and "
      "`pkg-config nnrt` as the README says; this run took %.1f minutes; "
      "load average %s."
      % (env["date"], env["cpu"], env["openblas"], env["coretype"],
         env["torch"], env.get("torch_blas", "?"), env["commit"],
         env["reps"], env["minutes"], env.get("load", "not recorded")), "")
    throughput(d, cases, res, ratios)
    thread_scaling(d, res, ratios)
    tiny_nets(d, nets, tiny, ratios)
    compile_times(d, builds, ratios)
    loading(d, cases, res)
    memory(d, nets, cases, tiny, res, plans, ratios)
    if mpi is not None:
        d("### MPI: 1 against 2 ranks (bench/mpi.sh)", "", mpi, "")
        mpi_ratio(mpi, ratios)
    met = sum(line.count("| met |") for line in d.lines)
    miss = sum(line.count("| NOT met |") for line in d.lines)
    d("Targets: %d met, %d not met." % (met, miss), "")
    return "\n".join(d.lines), ratios


def summary(env, ratios):
    """The README's short form: one line per target."""
    d = Doc()
    d("`make bench` on %s (%s, OpenBLAS %s, %d runs; PyTorch %s; load "
      "average %s); the full tables: [bench/results.md](bench/results.md)."
      % (env["date"], env["cpu"], env["openblas"], env["reps"],
         env["torch"], env.get("load", "not recorded")), "")
    d.table(["measure (the targets of issues 8 and 10)", "nnc", "target", ""],
            [r[3:] for r in ratios])
    d("![nnc's ratios against the targets](bench/results.png)")
    return "\n".join(d.lines)


GNUPLOT = """
set terminal pngcairo size 1100,520 font ",9"
set output '%s'
set title "make bench: nnc's ratios against their targets (log scale; 1 = parity)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [*<0.1:*]
set bmargin 5
set grid ytics
set key top left
set xtics rotate by 0 font ",8"
set ylabel "ratio (higher is better for nnc)"
plot '%s' using 2:xtic(1) title "measured" lc rgb "#3465a4", \\
     '' using 3 title "target" lc rgb "#aaaaaa"
"""


def plot(ratios, dat, png):
    with open(dat, "w") as f:
        for label, med, target, *_ in ratios:
            if label is None:
                continue
            f.write('"%s" %g %g\n' % (label, med, target))
    subprocess.run(["gnuplot"], input=GNUPLOT % (png, dat), text=True,
                   check=True)

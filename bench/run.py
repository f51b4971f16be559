#!/usr/bin/python3
"""run.py: `make bench`, nnc's trainers against PyTorch, FANN and the BLAS.

Run from the repository root after `make` (the Makefile's bench target
does both). BENCH_REPS (default 3) repetitions of every measurement;
within a repetition nnc and PyTorch run back to back, in alternating
order from one repetition to the next, so slow phases of a shared
machine hit both. Writes bench/results.md and bench/results.png and
prints the table; what each number means is in bench/README.md.

Every trainer is built with the README's line:
  cc -O2 model.c $(PKG_CONFIG_PATH=build pkg-config --cflags --libs nnrt)
"""
import collections
import glob
import json
import math
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proc     # noqa: E402
import report   # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = "build/bench"
REPS = int(os.environ.get("BENCH_REPS", "3"))
CNN_ROWS = int(os.environ.get("BENCH_CNN_ROWS", "6000"))
GEMM_ROWS = 3072
PY = "/usr/bin/python3"
FASHION = "/usr/share/datasets/fashion-mnist/train-%s-idx%d-ubyte.gz"
FIMG, FLAB = FASHION % ("images", 3), FASHION % ("labels", 1)


def threads(n):
    return {"OPENBLAS_NUM_THREADS": str(n), "OMP_NUM_THREADS": str(n)}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True,
                          **kw).stdout.strip()


# ---------------------------------------------------------------------
# building: nnc and cc -O2 of every example and bench model, timed

def build_all():
    """Builds every trainer into B/bin; returns {name: (nnc s, cc s)}
    as lists of REPS (nnc: 5) wall times."""
    flags = sh(["pkg-config", "--cflags", "--libs", "nnrt"],
               env=dict(os.environ, PKG_CONFIG_PATH="build")).split()
    models = sorted(glob.glob("examples/*.nn")) + \
        sorted(glob.glob("bench/*.nn"))
    os.makedirs(B + "/bin", exist_ok=True)
    times = {}
    for path in models:
        name = os.path.basename(path)[:-3]
        c, exe = "%s/bin/%s.c" % (B, name), "%s/bin/%s" % (B, name)
        t_nnc = [proc.run(["build/nnc", path, "-o", c], name="nnc").wall
                 for _ in range(5)]
        t_cc = [proc.run(["cc", "-O2", c] + flags + ["-o", exe],
                         name="cc").wall for _ in range(REPS)]
        times[name] = (t_nnc, t_cc)
        if name in NATIVE:      # the README's build for this machine only
            proc.run(["cc"] + NATIVE_FLAGS + [c] + flags
                     + ["-o", exe + "_native"], name="cc")
    return times


def helpers():
    blas = sh(["pkg-config", "--cflags", "--libs", "openblas"]).split()
    for prog, libs in (("rss", []), ("corename", blas), ("sgemm_bound", blas),
                       ("fann_train", ["-lfann", "-lm"])):
        sh(["cc", "-O2", "-Wall", "bench/%s.c" % prog, "-o",
            "%s/%s" % (B, prog)] + libs)
    sh([PY, "bench/mkdata.py", B, str(CNN_ROWS), str(GEMM_ROWS)])


def environment():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    core = sh([B + "/corename"]).split()[0]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": "%s, %d cores" % (cpu, os.cpu_count()),
        "openblas": core,
        "coretype": os.environ.get("OPENBLAS_CORETYPE", "not set"),
        "commit": sh(["git", "rev-parse", "--short", "HEAD"]),
        "torch": sh([PY, "-c", "import torch; print(torch.__version__)"]),
        # Debian's torch calls the libblas.so.3 alternative
        "torch_blas": os.path.realpath(
            "/usr/lib/x86_64-linux-gnu/libblas.so.3"),
        "reps": REPS,
        "load": os.getloadavg()[0],     # a shared machine says so here
    }


# ---------------------------------------------------------------------
# one nnc trainer run

def train_rows(out):
    """The training rows from `train NAME: N rows (T train, V validation)`."""
    m = re.search(r"\((\d+) train, (\d+) validation\)", out)
    return int(m.group(1)), int(m.group(1)) + int(m.group(2))


def read_log(path):
    """Each epoch's seconds (the last column) and the last epoch's loss."""
    with open(path) as f:
        rows = [r.split(",") for r in f.read().split("\n")[1:] if r]
    return [float(r[-1]) for r in rows], float(rows[-1][1])


def nnc_init(name, extra, env):
    """`init` (start, read the data, initialise, one checkpoint write),
    then the initial tensors exported as .npy for PyTorch."""
    ck, w = "%s/%s-init.ckpt" % (B, name), "%s/w/%s" % (B, name)
    r = proc.run(["%s/bin/%s" % (B, name), "init", "--checkpoint", ck]
                 + extra, env, name=name + "-init")
    if not os.path.isdir(w):
        proc.run(["%s/bin/%s" % (B, name), "export", "--checkpoint", ck,
                  "--npy", w], name=name + "-export")
    return r.wall, w


def nnc_train(name, extra, env):
    log = "%s/%s.csv" % (B, name)
    r = proc.run(["%s/bin/%s" % (B, name), "train", "--checkpoint",
                  "%s/%s.ckpt" % (B, name), "--log", log] + extra, env,
                 name=name + "-train")
    r.seconds, r.loss = read_log(log)
    r.rows, r.all_rows = train_rows(r.out)
    return r


def torch_train(args, env):
    r = proc.run([PY, "bench/torch_train.py"] + args, env, name="torch")
    r.res = json.loads(r.out)
    return r


def summary_bytes(name):
    """The memory plan's total from `summary` (params, grads, optimizer
    state, workspace), in bytes."""
    out = sh(["%s/bin/%s" % (B, name), "summary"])
    m = re.search(r"total ([\d.]+) (B|KiB|MiB|GiB)", out)
    unit = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
    return float(m.group(1)) * unit[m.group(2)]


# ---------------------------------------------------------------------
# the cases

TINY = [("xor", 4, 2), ("iris", 16, 4)]     # name, batch, input size

# also built with the README's native line, as NAME_native
NATIVE = ("mlp_b64", "mlp_b256")
NATIVE_FLAGS = ["-O3", "-march=native", "-fno-math-errno"]

# model: the trainer (examples/ or bench/); busy: next to a spinning
# neighbour; nnc, torch: their options; inputs: floats a row; layers:
# the MLP's widths, for the GEMM bound; target: nnc/PyTorch of issue 8
Case = collections.namedtuple("Case", "key label model threads busy batch "
                              "nnc torch inputs layers target")
CASES = [Case(*c) for c in [
    ("mlp64", "Fashion MLP 784-256-128-10, batch 64", "mlp_b64", 1, False,
     64, [], ["mlp", "--images", FIMG, "--labels", FLAB], 784,
     [784, 256, 128, 10], 1.7),
    ("mlp256", "Fashion MLP 784-256-128-10, batch 256", "mlp_b256", 1,
     False, 256, [], ["mlp", "--images", FIMG, "--labels", FLAB], 784,
     [784, 256, 128, 10], 1.35),
    ("cnn", "Fashion CNN (examples/fashion_cnn.nn), batch 64, %d rows"
     % CNN_ROWS, "fashion_cnn", 1, False, 64,
     ["--epochs", "1", "--data", B + "/cnn-images.idx," + B
      + "/cnn-labels.idx", "--test", B + "/cnn-test-images.idx," + B
      + "/cnn-test-labels.idx"],
     ["cnn", "--images", B + "/cnn-images.idx", "--labels",
      B + "/cnn-labels.idx"], 784, None, 1.5),
    ("gemm", "GEMM-bound MLP 1024-2048-2048-10, batch 256, random data",
     "gemm_mlp", 1, False, 256, [],
     ["mlp", "--layers", "1024,2048,2048,10", "--images",
      B + "/gemm-images.idx", "--labels", B + "/gemm-labels.idx"], 1024,
     [1024, 2048, 2048, 10], None),
    ("mlp64n", "Fashion MLP, batch 64, native build (-O3 -march=native)",
     "mlp_b64_native", 1, False, 64, [],
     ["mlp", "--images", FIMG, "--labels", FLAB], 784,
     [784, 256, 128, 10], None),
    ("mlp256n", "Fashion MLP, batch 256, native build (-O3 -march=native)",
     "mlp_b256_native", 1, False, 256, [],
     ["mlp", "--images", FIMG, "--labels", FLAB], 784,
     [784, 256, 128, 10], None),
    ("mlp256t2", "Fashion MLP, batch 256, 2 threads", "mlp_b256", 2,
     False, 256, [], ["mlp", "--images", FIMG, "--labels", FLAB], 784,
     [784, 256, 128, 10], None),
    ("mlp256busy", "Fashion MLP, batch 256, 2 threads, busy neighbour",
     "mlp_b256", 2, True, 256, [],
     ["mlp", "--images", FIMG, "--labels", FLAB], 784,
     [784, 256, 128, 10], None),
]]


def tiny_rep(r, name, batch, res):
    env = threads(1)

    def nnc():
        init, w = nnc_init(name, [], env)
        t = nnc_train(name, [], env)
        steps = len(t.seconds) * math.ceil(t.rows / batch)
        res.setdefault("nnc", []).append(
            (t.wall, t.wall - init, steps, len(t.seconds) * t.rows, t.rss))
        res["epochs"], res["weights"] = len(t.seconds), w

    def torch():
        t = torch_train([name, "--threads", "1", "--epochs",
                         str(res["epochs"]), "--weights", res["weights"]],
                        env)
        res.setdefault("torch", []).append(
            (t.wall, t.res["loop_seconds"], t.res["steps"],
             t.res["samples"], t.rss))

    def fann():
        t = proc.run([B + "/fann_train", name, str(res["epochs"])], env,
                     name="fann")
        loop, steps, samples = t.out.split()
        res.setdefault("fann", []).append(
            (t.wall, float(loop), int(steps), int(samples), t.rss))

    # nnc first in the first repetition: its run decides the epochs
    # (iris stops early) and writes the initial weights
    order = [nnc, torch, fann] if r % 2 == 0 else [fann, torch, nnc]
    for f in order:
        f()


def case_rep(r, case, res):
    model, nthr, batch, layers = case.model, case.threads, case.batch, \
        case.layers
    nopt, topt = case.nnc, case.torch
    env = threads(nthr)

    def nnc():
        i = nopt.index("--data") if "--data" in nopt else len(nopt)
        init, w = nnc_init(model, nopt[i:i + 2], env)
        t = nnc_train(model, nopt, env)
        res.setdefault("nnc", []).append(
            (t.rows / t.seconds[-1], t.rss, t.wall - sum(t.seconds), init,
             t.loss))
        res["epochs"], res["weights"] = len(t.seconds), w
        res["all_rows"] = t.all_rows

    def torch():
        t = torch_train(topt + ["--threads", str(nthr), "--batch",
                                str(batch), "--epochs", str(res["epochs"]),
                                "--weights", res["weights"]], env)
        n = t.res["samples"] / len(t.res["epoch_seconds"])
        res.setdefault("torch", []).append(
            (n / t.res["epoch_seconds"][-1], t.rss,
             t.res["load_seconds"], t.res["loss"]))

    def bound():
        out = proc.run([B + "/sgemm_bound", str(batch)]
                       + [str(n) for n in layers], env, name="sgemm").out
        res.setdefault("bound", []).append(float(out.split()[0]))

    order = [nnc, torch] if r % 2 == 0 else [torch, nnc]
    if layers:
        order.append(bound)
    if case.busy:
        with proc.Busy():
            for f in order:
                f()
    else:
        for f in order:
            f()


def mpi_rows():
    if not os.path.exists("bench/mpi.sh"):
        return None
    r = subprocess.run(["bash", "bench/mpi.sh"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return "bench/mpi.sh failed (exit %d): %s" % (
            r.returncode, r.stderr.strip().split("\n")[-1])
    return r.stdout.strip()


def readme(text):
    """Puts the summary between README.md's bench markers (the Speed
    section), so the README shows the latest run."""
    begin, end = "<!-- bench:begin -->\n", "<!-- bench:end -->"
    with open("README.md") as f:
        old = f.read()
    i, j = old.find(begin), old.find(end)
    if i < 0 or j < i:
        print("bench: no bench markers in README.md, not updated",
              file=sys.stderr)
        return
    with open("README.md", "w") as f:
        f.write(old[:i + len(begin)] + text + "\n" + old[j:])


def main():
    os.chdir(ROOT)
    if sys.argv[1:] == ["--report"]:    # the tables again from the last run
        with open(B + "/raw.json") as f:
            raw = json.load(f)
        mpi = None
        if os.path.exists(B + "/mpi.md"):
            with open(B + "/mpi.md") as f:
                mpi = f.read()
        write(*raw, mpi=mpi)
        return
    t0 = time.time()
    proc.OUT, proc.RSS = B + "/out", B + "/rss"
    os.makedirs(B, exist_ok=True)
    print("bench: helpers, data and %d trainers (nnc and cc -O2, timed)"
          % (len(glob.glob("examples/*.nn")) + len(glob.glob("bench/*.nn"))),
          file=sys.stderr)
    helpers()
    env = environment()
    builds = build_all()

    tiny = {name: {} for name, _, _ in TINY}
    cases = {c.key: {} for c in CASES}
    for r in range(REPS):
        print("bench: repetition %d of %d" % (r + 1, REPS), file=sys.stderr)
        for name, batch, _ in TINY:
            tiny_rep(r, name, batch, tiny[name])
        for c in CASES:
            case_rep(r, c, cases[c.key])

    plans = {c.model: summary_bytes(c.model) for c in CASES}
    plans.update({n: summary_bytes(n) for n, _, _ in TINY})
    env["minutes"] = (time.time() - t0) / 60
    env["load"] = "%.1f at the start, %.1f at the end" % (
        env["load"], os.getloadavg()[0])
    with open(B + "/raw.json", "w") as f:    # for --report
        json.dump([env, builds, tiny, cases, plans], f)
    write(env, builds, tiny, cases, plans)


def write(env, builds, tiny, cases, plans, mpi=None):
    """The tables, the README summary and the plot; bench/mpi.sh runs
    now unless its rows are given (--report: the last run's)."""
    if mpi is None:
        mpi = mpi_rows()
        if mpi is not None:
            with open(B + "/mpi.md", "w") as f:
                f.write(mpi)
    md, ratios = report.render(env, builds, TINY, tiny, CASES, cases, plans,
                               mpi)
    with open("bench/results.md", "w") as f:
        f.write(md)
    readme(report.summary(env, ratios))
    report.plot(ratios, B + "/ratios.dat", "bench/results.png")
    print(md)


if __name__ == "__main__":
    main()

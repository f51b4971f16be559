"""proc.py: running the benchmark's child processes (bench/run.py).

Every measured program runs under build/bench/rss (bench/rss.c), which
forks it, reaps it with wait4 and writes that child's own peak RSS
(getrusage's RUSAGE_CHILDREN would give the largest over all children
so far, and a child forked from Python would count Python's 13 MB,
which Linux carries across exec). Its standard output goes to a file
under build/bench/out/ (a pipe could fill while we wait), which is read
back afterwards.
"""
import os
import shutil
import subprocess
import time

OUT = None      # set by run.py: the directory of the children's outputs
RSS = None      # and the path of the rss program


class Run:
    """One finished child: wall seconds, peak RSS in bytes, its stdout."""

    def __init__(self, wall, rss, out):
        self.wall, self.rss, self.out = wall, rss, out


def run(cmd, env=None, name="run"):
    """Runs cmd (a list), fails loudly on a non-zero exit."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".out")
    e = dict(os.environ)
    e.update(env or {})
    with open(path, "w") as out, open(path + ".err", "w") as err:
        t0 = time.perf_counter()
        rc = subprocess.call([RSS, path + ".rss"] + cmd, stdout=out,
                             stderr=err, env=e)
        wall = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit("bench: %s failed (exit %d), see %s.err"
                         % (" ".join(cmd), rc, path))
    with open(path + ".rss") as f:
        rss = int(f.read()) * 1024
    with open(path) as f:
        return Run(wall, rss, f.read())


class Busy:
    """A neighbour that spins on one core (CPU 0 when taskset exists)
    while the `with` block runs: the '2 threads next to a busy process'
    case. It is killed by its own pid on the way out."""

    def __enter__(self):
        cmd = ["sh", "-c", "while :; do :; done"]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "0"] + cmd
        self.p = subprocess.Popen(cmd)
        time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait()


def stats(xs):
    """(median, min, max) of a list of numbers."""
    s = sorted(xs)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return med, s[0], s[-1]

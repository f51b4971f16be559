#!/usr/bin/python3
"""The torch tier's reference: the same programs trained by PyTorch.

    /usr/bin/python3 tests/torch/reference.py init DIR
    /usr/bin/python3 tests/torch/reference.py check DIR

`init` (numpy only) writes every case's initial tensors, drawn from a
fixed seed and rounded to float32, to DIR/CASE/init/<tensor>.npy in nnc's
layout (a dense layer's W is [n_in, units], the transpose of
torch.nn.Linear.weight). run.sh imports them into a checkpoint, trains
each case's f32 and f64 trainers from it, exports and predicts:

    DIR/CASE/PREC/out.ckpt   the checkpoint after the train block's epochs
    DIR/CASE/PREC/npy/       export --npy of it
    DIR/CASE/PREC/log.csv    the per-epoch losses (%.9g)
    DIR/CASE/PREC/pred.csv   predict on the training file

    DIR/CASE/lrtrace         tests/torch/lrtrace.c built on the f64 C

`check` trains the same model with torch.nn modules, losses, torch.optim
and torch.optim.lr_scheduler from the same tensors on the same batches,
and prints one `NAME ... ok` or `NAME ... FAILED (why)` line per
comparison. f64 trainers are compared with float64 torch, f32 trainers
with float32 torch; the rate of every step (lrtrace) with the torch
scheduler's. docs/testing-torch.md explains what is compared and the
tolerances. Exit status 0 even with FAILED lines (run.sh counts them);
anything else means the script itself broke.
"""
import glob
import math
import os
import struct
import subprocess
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

torch = None  # imported by `check` only: it takes a second or two
nn = None

# --- tolerances: |got - want| <= ATOL + RTOL * |want| ------------------
TOL = {
    # the tensors after K steps, the per-epoch losses
    "f64": (1e-12, 1e-12),
    "f32": (1e-5, 1e-5),
}
LOG_RTOL = {"f64": 2e-8, "f32": 1e-4}      # the log has %.9g
LOG_LR_RTOL = 1e-5                          # ... and the rate as %g
PRED_TOL = {"f64": (1e-9, 1e-5), "f32": (1e-5, 1e-5)}  # predict has %.6g


class Case:
    """One .nn program and what PyTorch does with it."""

    def __init__(self, name, data, x, y, batch, epochs, tensors, build,
                 optim, loss, classes=0, normalize=None, init=None,
                 known_bug=None, sched=None, validation=0.0, seed=0):
        self.name = name
        self.data = data          # (path, skip)
        self.x = x                # feature columns [a, b)
        self.y = y                # target columns [c, d)
        self.batch = batch        # the train block's; checked against
        self.epochs = epochs      # the checkpoint's step and epoch
        self.classes = classes    # K for a class target, else 0
        self.normalize = normalize
        self.tensors = tensors    # [(nnc name, shape)], descriptor order
        self.build = build        # () -> nn.Module: forward(x) -> (z, outs)
        self.optim = optim        # params -> torch.optim.Optimizer
        self.loss = loss          # () -> loss module, applied to (z, y)
        self.init = init          # {name: array} overriding the draws
        self.known_bug = known_bug
        # (optimizer, steps per epoch, total steps) -> a Stepper, or None
        # for a constant rate
        self.sched = sched
        self.validation = validation  # the train block's split and seed
        self.seed = seed


# --- the models, written with torch.nn; each forward returns what the
# loss takes and the trainer's outputs (in `output` order) --------------

def dense_mlp(n_in, hidden, n_out, act, out, head):
    """h = act(dense(x, hidden)); OUT = dense(h, n_out); head(OUT) gives
    (what the loss takes, the trainer's output)."""
    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.h = nn.Linear(n_in, hidden)
            setattr(self, out, nn.Linear(hidden, n_out))

        def forward(self, x):
            return head(getattr(self, out)(act(self.h(x))))
    return Mlp()


def logits_softmax(z):
    return z, torch.softmax(z, dim=-1)


def sigmoid_both(z):
    p = torch.sigmoid(z)
    return p, p


def both(z):
    return z, z


def hand_where_build():
    """hand_where.nn: W @ x + b (x @ W^T with a batch), leaky via where,
    where, g @ V."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.W = nn.Parameter(torch.empty(5, 3))
            self.b = nn.Parameter(torch.empty(5))
            self.V = nn.Parameter(torch.empty(5, 2))

        def forward(self, x):
            z = x @ self.W.T + self.b
            h = torch.where(z > 0, z, 0.01 * z)
            g = torch.where(h <= 0.5, h * h, h)
            yhat = g @ self.V
            return yhat, yhat
    return M()


def ops_build():
    """ops.nn: x @ P per sample, sums and means over axes, exp, log, ^,
    /, log_softmax, cross_entropy with a distribution target."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.P = nn.Parameter(torch.empty(4, 2, 3))
            self.z = nn.Linear(3, 3)

        def forward(self, x):
            h = torch.tanh(torch.einsum("bi,ijk->bjk", x, self.P))
            s = h.sum(dim=1)
            m = h.mean(dim=2)
            z = (self.z(s) + torch.log(1 + torch.exp(s)) / (2 + s ** 2)
                 - m.mean(dim=1, keepdim=True))
            return z, torch.log_softmax(z, dim=-1)
    return M()


def sat_build():
    """bce_saturated.nn: sigmoid(dense(x, 1))."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.yhat = nn.Linear(1, 1)

        def forward(self, x):
            p = torch.sigmoid(self.yhat(x))
            return p, p
    return M()


# --- schedules: torch.optim.lr_scheduler, stepped the way nnc counts ---

class Stepper:
    """A torch scheduler and when it steps: after every optimizer step
    ("step"), after every epoch ("epoch"), or after every epoch with the
    validation loss ("plateau": ReduceLROnPlateau)."""

    def __init__(self, sched, per):
        self.sched = sched
        self.per = per

    def after_step(self):
        if self.per == "step":
            self.sched.step()

    def after_epoch(self, val_loss):
        if self.per == "epoch":
            self.sched.step()
        elif self.per == "plateau":
            self.sched.step(val_loss)


class WarmupThenEpochs:
    """`warmup(steps = n) then B` with B counted in epochs, as a PyTorch
    user writes it: the warmup stepped after each of its n steps, then B
    built from the base rate (as SequentialLR resets it) and stepped
    after every epoch that ran at least one of its steps."""

    def __init__(self, opt, n, make_after):
        self.opt, self.n, self.make_after = opt, n, make_after
        self.warmup = lrs().LambdaLR(opt, lambda t: t / n)
        self.after = None
        self.steps = 0

    def after_step(self):
        self.steps += 1
        if self.steps < self.n:
            self.warmup.step()
        elif self.steps == self.n:
            for g in self.opt.param_groups:
                g["lr"] = g["initial_lr"]
            self.after = self.make_after(self.opt)

    def after_epoch(self, val_loss):
        if self.steps > self.n:
            self.after.step()


def lrs():
    return torch.optim.lr_scheduler


def warmup(n):
    """nnc's warmup(steps = n): lr * t / n."""
    return lambda opt: lrs().LambdaLR(opt, lambda t: t / n)


def sequential(opt, parts, milestones):
    """`A then B then ...`: SequentialLR over the parts, built in order
    (each part: optimizer -> scheduler), stepped after every step."""
    built = [make(opt) for make in parts]
    return Stepper(lrs().SequentialLR(opt, built, milestones=milestones),
                   "step")


IRIS = ("examples/data/iris.csv", 1)
BINARY = ("tests/torch/data/binary.csv", 1)
REGRESS = ("tests/torch/data/regress.csv", 1)
DIST = ("tests/torch/data/dist.csv", 1)
SATURATED = ("tests/torch/data/saturated.csv", 1)


def mlp_tensors(n_in, hidden, n_out, out):
    return [("h.W", (n_in, hidden)), ("h.b", (hidden,)),
            (out + ".W", (hidden, n_out)), (out + ".b", (n_out,))]


def sched_case(name, sched, optim, epochs=6, validation=0.0):
    """tests/torch/sched_*.nn: tanh(dense(x, 4)), dense(h, 2), mse on
    regress.csv in batches of 8 (5 steps an epoch), with a schedule."""
    return Case(name, REGRESS, (0, 3), (3, 5), 8, epochs,
                mlp_tensors(3, 4, 2, "yhat"),
                build=lambda: dense_mlp(3, 4, 2, torch.tanh, "yhat", both),
                optim=optim, loss=lambda: nn.MSELoss(), sched=sched,
                validation=validation)


def sgd(**kw):
    return lambda p: torch.optim.SGD(p, **kw)


CASES = [
    Case("mlp_adam", IRIS, (0, 4), (4, 5), 30, 5,
         mlp_tensors(4, 8, 3, "logits"), classes=3, normalize="standard",
         build=lambda: dense_mlp(4, 8, 3, torch.relu, "logits",
                                 logits_softmax),
         optim=lambda p: torch.optim.Adam(p, lr=0.01),
         loss=lambda: nn.CrossEntropyLoss()),
    Case("bce_momentum", BINARY, (0, 3), (3, 4), 8, 4,
         mlp_tensors(3, 6, 1, "yhat"),
         build=lambda: dense_mlp(3, 6, 1, torch.tanh, "yhat", sigmoid_both),
         optim=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
         loss=lambda: nn.BCELoss()),
    Case("nesterov_wd", IRIS, (0, 4), (4, 5), 50, 6,
         mlp_tensors(4, 6, 3, "logits"), classes=3, normalize="minmax",
         build=lambda: dense_mlp(4, 6, 3, torch.tanh, "logits",
                                 logits_softmax),
         optim=lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9,
                                         nesterov=True, weight_decay=0.01),
         loss=lambda: nn.CrossEntropyLoss()),
    Case("mse_adam", REGRESS, (0, 3), (3, 5), 16, 5,
         mlp_tensors(3, 5, 2, "yhat"),
         build=lambda: dense_mlp(3, 5, 2, torch.relu, "yhat", both),
         optim=lambda p: torch.optim.Adam(p, lr=0.005, betas=(0.8, 0.99),
                                          eps=1e-6, weight_decay=0.01),
         loss=lambda: nn.MSELoss()),
    Case("label_smoothing", IRIS, (0, 4), (4, 5), 150, 10,
         mlp_tensors(4, 5, 3, "logits"), classes=3, normalize="standard",
         build=lambda: dense_mlp(4, 5, 3, torch.sigmoid, "logits",
                                 logits_softmax),
         optim=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5,
                                         dampening=0.3),
         loss=lambda: nn.CrossEntropyLoss(label_smoothing=0.1)),
    Case("hand_where", REGRESS, (0, 3), (3, 5), 8, 3,
         [("W", (5, 3)), ("b", (5,)), ("V", (5, 2))],
         build=hand_where_build,
         optim=lambda p: torch.optim.SGD(p, lr=0.05),
         loss=lambda: nn.MSELoss()),
    Case("ops", DIST, (0, 4), (4, 7), 6, 4,
         [("P", (4, 2, 3)), ("z.W", (3, 3)), ("z.b", (3,))],
         build=ops_build,
         optim=lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.9),
         loss=lambda: nn.CrossEntropyLoss()),
    Case("bce_saturated", SATURATED, (0, 1), (1, 2), 2, 2,
         [("yhat.W", (1, 1)), ("yhat.b", (1,))],
         build=sat_build,
         optim=lambda p: torch.optim.SGD(p, lr=0.1),
         loss=lambda: nn.BCELoss(),
         # regression: bce's backward was NaN where sigmoid saturates to
         # exactly 1 (0/0 in d log(1 - p)); torch's gradient is 0 there
         init={"yhat.W": np.array([[40.0]]), "yhat.b": np.array([0.0])}),
    sched_case("sched_step",
               lambda o, spe, n: Stepper(lrs().StepLR(o, 2, 0.5), "epoch"),
               sgd(lr=0.1)),
    sched_case("sched_step_steps",
               lambda o, spe, n: Stepper(lrs().StepLR(o, 7, 0.5), "step"),
               sgd(lr=0.1, momentum=0.9)),
    sched_case("sched_multistep",
               lambda o, spe, n: Stepper(lrs().MultiStepLR(o, [2, 4], 0.3),
                                         "epoch"),
               sgd(lr=0.1)),
    sched_case("sched_exponential",
               lambda o, spe, n: Stepper(lrs().ExponentialLR(o, 0.7),
                                         "epoch"),
               sgd(lr=0.2)),
    sched_case("sched_cosine",
               lambda o, spe, n: Stepper(lrs().CosineAnnealingLR(
                   o, T_max=n, eta_min=0.01), "step"),
               sgd(lr=0.1, momentum=0.5)),
    sched_case("sched_warmup_cosine",
               lambda o, spe, n: sequential(o, [warmup(6), lambda o2: lrs().
                                                CosineAnnealingLR(
                                                    o2, T_max=n - 6,
                                                    eta_min=0.001)], [6]),
               lambda p: torch.optim.Adam(p, lr=0.02)),
    sched_case("sched_chain3",
               lambda o, spe, n: sequential(o, [warmup(3), warmup(5),
                                                lambda o2: lrs().MultiStepLR(
                                                    o2, [5, 12], 0.5)],
                                            [3, 8]),
               sgd(lr=0.1)),
    sched_case("sched_warmup_step",
               lambda o, spe, n: WarmupThenEpochs(
                   o, 7, lambda o2: lrs().StepLR(o2, 2, 0.5)),
               sgd(lr=0.1)),
    sched_case("sched_one_cycle",
               lambda o, spe, n: Stepper(lrs().OneCycleLR(
                   o, max_lr=0.3, total_steps=n, cycle_momentum=False),
                   "step"),
               sgd(lr=0.1, momentum=0.9)),
    sched_case("sched_poly",
               lambda o, spe, n: Stepper(lrs().PolynomialLR(
                   o, total_iters=n, power=2.0), "step"),
               sgd(lr=0.1)),
    # the split's rows come from the trainer's generator (split_rows)
    sched_case("sched_plateau",
               lambda o, spe, n: Stepper(lrs().ReduceLROnPlateau(
                   o, mode="min", factor=0.5, patience=1), "plateau"),
               sgd(lr=1.2), epochs=10, validation=0.25),
]


# --- init ---------------------------------------------------------------

def init(root):
    for i, c in enumerate(CASES):
        rng = np.random.default_rng(1000 + i)
        d = os.path.join(root, c.name, "init")
        os.makedirs(d, exist_ok=True)
        for name, shape in c.tensors:
            if c.init and name in c.init:
                a = c.init[name]
            elif name.endswith("b") and len(shape) == 1:
                a = 0.1 * rng.standard_normal(shape)
            else:
                a = rng.standard_normal(shape) / np.sqrt(shape[0])
            np.save(os.path.join(d, name + ".npy"), a.astype("<f4"))


# --- reading what the trainers wrote -----------------------------------

def read_ckpt(path):
    """The documented checkpoint format (docs/trainer.md): the tensors at
    full precision, step, epoch and normalisation."""
    with open(path, "rb") as f:
        b = f.read()
    pos = [0]

    def take(fmt):
        v = struct.unpack_from("<" + fmt, b, pos[0])
        pos[0] += struct.calcsize("<" + fmt)
        return v if len(v) > 1 else v[0]

    def string():
        n = take("I")
        s = b[pos[0]:pos[0] + n].decode()
        pos[0] += n
        return s

    if b[:8] != b"NNRTCKPT":
        raise ValueError("%s: not a checkpoint" % path)
    pos[0] = 8
    take("I")
    string()
    real = take("I")
    n_params, _ = take("QQ")
    tensors = []
    for _ in range(take("I")):
        name = string()
        rank = take("I")
        dims = [take("I") for _ in range(rank)]
        off, size, _ = take("QQI")
        tensors.append((name, dims, off, size))
    step = take("Q")
    epoch = take("I")
    take("Q")
    take("d")
    string()
    take("I")
    for _ in range(take("I")):
        string()
    kind = take("I")
    n = take("Q")
    shift = np.array(struct.unpack_from("<%dd" % n, b, pos[0]))
    pos[0] += 8 * n
    scale = np.array(struct.unpack_from("<%dd" % n, b, pos[0]))
    pos[0] += 8 * n
    take("IIdI")
    for _ in range(take("I")):  # the schedule's state
        take("d")
    dt = "<f8" if real == 8 else "<f4"
    p = np.frombuffer(b, dt, n_params, pos[0]).astype(np.float64)
    params = {name: p[off:off + size].reshape(dims)
              for name, dims, off, size in tensors}
    return {"params": params, "step": step, "epoch": epoch,
            "norm": (kind, shift, scale)}


def read_predict(path):
    with open(path) as f:
        head = f.readline().strip().split(",")
        rows = [r.strip().split(",") for r in f if r.strip()]
    a = np.array(rows, dtype=np.float64)
    if head[-1] == "class":
        return a[:, :-1], a[:, -1]
    return a, None


def read_log(path):
    """The log's columns by name: epoch, loss, [val_loss,] lr."""
    with open(path) as f:
        head = f.readline().strip().split(",")
    a = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: a[:, i] for i, name in enumerate(head)}


# --- the trainer's validation split (runtime/rng.c, runtime/prep.c) ----

def pcg32(seed):
    """rng.c's PCG32 on the stream "NNRT", seeded as nnrt_rng_seed does;
    returns a function giving the next 32-bit output."""
    mask = (1 << 64) - 1
    inc = (0x4E4E5254 << 1) | 1
    state = [0]

    def next32():
        old = state[0]
        state[0] = (old * 6364136223846793005 + inc) & mask
        xs = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        rot = old >> 59
        return ((xs >> rot) | (xs << ((-rot) & 31))) & 0xFFFFFFFF
    next32()
    state[0] = (state[0] + seed) & mask
    next32()
    return next32


def below(next32, n):
    """nnrt_rng_below: uniform in [0, n) (n < 2^32), rejecting the
    biased low range."""
    if n <= 1:
        return 0
    threshold = ((1 << 32) - n) % n
    while True:
        v = next32()
        if v >= threshold:
            return v % n


def split_rows(c, n):
    """The trainer's split of n rows: (training rows, validation rows),
    each in file order. The permutation is drawn right after the initial
    tensors; the sched_* models' kernels are xavier_uniform (two 32-bit
    draws an element) and their biases zeros (none)."""
    if not c.validation:
        return np.arange(n), np.arange(0)
    next32 = pcg32(c.seed)
    for name, shape in c.tensors:
        if name.endswith(".W"):
            for _ in range(2 * int(np.prod(shape))):
                next32()
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = below(next32, i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    n_val = int(math.floor(c.validation * n + 0.5))    # C's round()
    return np.array(sorted(perm[n_val:])), np.array(sorted(perm[:n_val]))


# --- torch --------------------------------------------------------------

def tensor_of(model, name):
    """nnc's name -> (torch parameter, transposed): `h.W` is the
    transpose of model.h.weight, `h.b` model.h.bias, `W` model.W."""
    if "." not in name:
        return getattr(model, name), False
    layer, what = name.rsplit(".", 1)
    mod = getattr(model, layer)
    return (mod.weight, True) if what == "W" else (mod.bias, False)


def set_params(model, params):
    with torch.no_grad():
        for name, a in params.items():
            p, t = tensor_of(model, name)
            p.copy_(torch.from_numpy(np.ascontiguousarray(a.T if t else a)))


def get_params(model, names):
    out = {}
    for name in names:
        p, t = tensor_of(model, name)
        a = p.detach().double().numpy()
        out[name] = a.T if t else a
    return out


def load_data(c):
    """The rows as the runtime holds them: every CSV value read as a
    double and stored as a float."""
    path, skip = c.data
    a = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
    x = a[:, c.x[0]:c.x[1]].astype(np.float32).astype(np.float64)
    y = a[:, c.y[0]:c.y[1]].astype(np.float32).astype(np.float64)
    return x, y


def fit_norm(c, x):
    """Population std (or min and range) of each feature; 1 if constant."""
    if c.normalize == "standard":
        shift, scale = x.mean(axis=0), x.std(axis=0)
    else:
        shift, scale = x.min(axis=0), x.max(axis=0) - x.min(axis=0)
    scale[scale == 0] = 1.0
    return shift, scale


def targets(c, y, dtype):
    if c.classes:
        return torch.from_numpy(y[:, 0].astype(np.int64))
    return torch.from_numpy(y).to(dtype)


def train_torch(c, x, y, val, init_params, dtype):
    """K epochs of the train block's batches of the training rows (x, y),
    in file order, at the rates of the case's schedule, which sees the
    loss on the validation rows val = (x, y) after each epoch (without
    them, the epoch's loss). Returns the tensors, the per-epoch losses
    (batch losses weighted by size) and the rate of every step."""
    torch.manual_seed(0)
    model = c.build().to(dtype)
    set_params(model, init_params)
    opt = c.optim(list(model.parameters()))
    lossf = c.loss()
    batch, epochs = c.batch, c.epochs
    X = torch.from_numpy(x).to(dtype)
    Y = targets(c, y, dtype)
    spe = -(-len(X) // batch)
    sched = c.sched(opt, spe, spe * epochs) if c.sched else None
    losses, rates = [], []
    for _ in range(epochs):
        total = 0.0
        for lo in range(0, len(X), batch):
            xb, yb = X[lo:lo + batch], Y[lo:lo + batch]
            opt.zero_grad()
            loss = lossf(model(xb)[0], yb)
            loss.backward()
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            if sched:
                sched.after_step()
            total += loss.item() * len(xb)
        losses.append(total / len(X))
        if sched and len(val[0]):
            with torch.no_grad():
                sched.after_epoch(lossf(model(torch.from_numpy(val[0]).to(
                    dtype))[0], targets(c, val[1], dtype)).item())
        elif sched:
            sched.after_epoch(losses[-1])
    return (get_params(model, [n for n, _ in c.tensors]), np.array(losses),
            np.array(rates))


def torch_rates(c, spe, epochs, val_losses):
    """The rate of every step of the case's torch schedule, on an
    optimizer of one tensor, given each epoch's validation loss; and
    whether the schedule is ReduceLROnPlateau."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = c.optim([p])
    sched = c.sched(opt, spe, spe * epochs) if c.sched else None
    rates = []
    for e in range(epochs):
        for _ in range(spe):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()      # no gradient: moves nothing, counts the step
            if sched:
                sched.after_step()
        if sched:
            sched.after_epoch(val_losses[e])
    return np.array(rates), isinstance(getattr(sched, "sched", None),
                                       lrs().ReduceLROnPlateau)


def forward_torch(c, x, params, dtype):
    model = c.build().to(dtype)
    set_params(model, params)
    with torch.no_grad():
        out = model(torch.from_numpy(x).to(dtype))[1]
    return out.double().numpy().reshape(len(x), -1)


# --- comparing ----------------------------------------------------------

class Report:
    def ok(self, name):
        print("%s ... ok" % name)

    def fail(self, name, why, details=()):
        print("%s ... FAILED (%s)" % (name, why))
        for d in list(details)[:20]:
            print("    | " + d)


def excess(got, want, atol, rtol):
    """max |got - want| and whether every element is within tolerance;
    NaN never is."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return np.inf, False
    d = np.abs(got - want)
    good = np.all(d <= atol + rtol * np.abs(want))
    return (float(np.max(d)) if d.size else 0.0), bool(good)


def compare_tensors(rep, c, prec, got, want, what):
    atol, rtol = TOL[prec]
    worst, bad = 0.0, []
    for name, _ in c.tensors:
        d, good = excess(got[name], want[name], atol, rtol)
        worst = max(worst, d) if np.isfinite(d) else np.inf
        if not good:
            g = np.asarray(got[name]).ravel()
            w = np.asarray(want[name]).ravel()
            k = int(np.nanargmax(np.abs(g - w))) if np.any(
                np.isfinite(g - w)) else 0
            bad.append("%s: max |diff| %.3g; element %d: nnc %.17g, torch "
                       "%.17g" % (name, d, k, g[k], w[k]))
    label = "torch %s %s: %s" % (c.name, prec, what)
    if bad:
        why = "%d of %d tensors differ, tolerance %g + %g |x|" % (
            len(bad), len(c.tensors), atol, rtol)
        if not all(np.all(np.isfinite(v)) for v in got.values()):
            why += "; nnc's are NaN, so losses and predict are not compared"
        if c.known_bug:
            why = "KNOWN " + c.known_bug + "; " + why
        rep.fail(label, why, bad)
    else:
        rep.ok("%s (max |diff| %.1e)" % (label, worst))


def check_log(rep, c, prec, path, losses, rates, spe):
    """The log: its per-epoch losses against torch's, and its rate (the
    epoch's last step, %g) against the torch schedule's."""
    label = "torch %s %s" % (c.name, prec)
    try:
        log = read_log(path)
    except (OSError, ValueError) as e:
        rep.fail(label + ": log", str(e))
        return
    rt = LOG_RTOL[prec]
    dl, good = excess(log["loss"], losses, 1e-12, rt)
    if good:
        rep.ok("%s: %d epoch losses (max |diff| %.1e)" %
               (label, c.epochs, dl))
    else:
        rep.fail(label + ": epoch losses", "tolerance %g |x|" % rt,
                 ["nnc   " + " ".join("%.9g" % v for v in log["loss"]),
                  "torch " + " ".join("%.9g" % v for v in losses)])
    if not c.sched:
        return
    want = rates[spe - 1::spe]
    dr, good = excess(log["lr"], want, 0, LOG_LR_RTOL)
    if good:
        rep.ok("%s: the log's rate of %d epochs (max |diff| %.1e)" %
               (label, c.epochs, dr))
    else:
        rep.fail(label + ": the log's rates", "tolerance %g |x|" %
                 LOG_LR_RTOL,
                 ["nnc   " + " ".join("%g" % v for v in log["lr"]),
                  "torch " + " ".join("%g" % v for v in want)])


def lrtrace(root, c, spe, val_losses):
    """nnc's rate of every step: the case's lr_at and lr_epoch driven by
    tests/torch/lrtrace.c as train.c drives them."""
    args = [os.path.join(root, c.name, "lrtrace"), str(spe), str(c.epochs)]
    r = subprocess.run(args + ["%.17g" % v for v in val_losses],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, check=True)
    return np.array([float(v) for v in r.stdout.split()])


# Validation losses for plateau that sit on either side of its 1e-4
# relative threshold (0.99995 does not improve on 1, 0.99985 does, ...),
# then stall: fed to nnc's and torch's schedule beside the trained ones.
THRESHOLD_PROBE = [1.0, 0.99995, 0.99985, 0.99985, 0.9997, 0.5, 0.5, 0.5,
                   0.5, 0.5, 0.5, 0.5]


def compare_rates(rep, c, root, spe, vals, what):
    """nnc's rate of every step against the torch scheduler's, both given
    the per-epoch validation losses vals. Returns torch's rates and
    whether the schedule is a plateau, or None if lrtrace failed."""
    label = "torch %s: the rate of every step (%s)" % (c.name, what)
    try:
        got = lrtrace(root, c, spe, vals)
    except (OSError, ValueError, subprocess.CalledProcessError) as e:
        rep.fail(label, str(e))
        return None
    want, plateau = torch_rates(c, spe, c.epochs, vals)
    atol, rtol = TOL["f64"]
    d, good = excess(got, want, atol, rtol)
    if good:
        rep.ok("%s: %d steps from %.4g to %.4g (max |diff| %.1e)" %
               (label, len(want), want[0], want[-1], d))
    else:
        bad = [k for k in range(min(len(got), len(want)))
               if not excess(got[k], want[k], atol, rtol)[1]]
        rep.fail(label, "%d steps from nnc, %d from torch, %d differ" %
                 (len(got), len(want), len(bad)),
                 ["step %d: nnc %.17g, torch %.17g" % (k, got[k], want[k])
                  for k in bad])
    return want, plateau


def check_rates(rep, c, root, spe):
    """The rate of every step, given the validation losses of nnc's f64
    run (its training losses without a split), and for a plateau, given
    THRESHOLD_PROBE too. A plateau must reduce the rate in the run."""
    try:
        log = read_log(os.path.join(root, c.name, "f64", "log.csv"))
    except (OSError, ValueError) as e:
        rep.fail("torch %s: the rate of every step" % c.name, str(e))
        return
    r = compare_rates(rep, c, root, spe, log.get("val_loss", log["loss"]),
                      "the run's validation losses")
    if not r or not r[1]:
        return
    compare_rates(rep, c, root, spe, THRESHOLD_PROBE[:c.epochs],
                  "losses probing the threshold")
    want = r[0]
    k = int(np.argmax(want < want[0]))
    if want[k] < want[0]:
        rep.ok("torch %s: plateau reduced the rate within the run (to %g "
               "at step %d)" % (c.name, want[k], k))
    else:
        rep.fail("torch %s: plateau" % c.name, "the rate never went down: "
                 "the case does not test plateau")


def check_case(rep, c, root):
    x, y = load_data(c)
    init_params = {n: np.load(os.path.join(root, c.name, "init",
                                           n + ".npy")).astype(np.float64)
                   for n, _ in c.tensors}
    batch, epochs = c.batch, c.epochs
    rows, val_rows = split_rows(c, len(x))
    spe = -(-len(rows) // batch)
    steps = epochs * spe
    for prec, dtype in (("f64", torch.float64), ("f32", torch.float32)):
        d = os.path.join(root, c.name, prec)
        label = "torch %s %s" % (c.name, prec)
        try:
            ck = read_ckpt(os.path.join(d, "out.ckpt"))
        except (OSError, ValueError, struct.error) as e:
            rep.fail(label + ": checkpoint", str(e))
            continue
        if ck["step"] != steps or ck["epoch"] != epochs:
            rep.fail(label + ": schedule",
                     "checkpoint at epoch %d step %d, reference %d and %d"
                     % (ck["epoch"], ck["step"], epochs, steps))
            continue

        # normalisation: the fitted statistics, then the inputs as the
        # runtime scales them (in double, stored as float)
        kind, shift, scale = ck["norm"]
        xn = x
        if c.normalize:
            s, k = fit_norm(c, x[rows])
            ds, good1 = excess(shift, s, 1e-12, 1e-12)
            dk, good2 = excess(scale, k, 1e-12, 1e-12)
            if prec == "f64":
                if good1 and good2 and kind == (1 if c.normalize ==
                                                "standard" else 2):
                    rep.ok("torch %s: normalize = %s statistics (max |diff| "
                           "%.1e)" % (c.name, c.normalize, max(ds, dk)))
                else:
                    rep.fail("torch %s: normalize = %s statistics" %
                             (c.name, c.normalize),
                             "kind %d, shift %s vs %s, scale %s vs %s" %
                             (kind, shift, s, scale, k))
            xn = ((x - shift) / scale).astype(np.float32).astype(np.float64)

        # the trajectory: every tensor after K epochs, and the losses
        want, losses, rates = train_torch(
            c, xn[rows], y[rows], (xn[val_rows], y[val_rows]), init_params,
            dtype)
        if prec == "f64":
            got = ck["params"]      # export would round to float32
            what = "%d tensors after %d steps (checkpoint)" % (
                len(c.tensors), steps)
        else:
            got = {n: np.load(os.path.join(d, "npy", n + ".npy"))
                   for n, _ in c.tensors}
            what = "%d tensors after %d steps (export --npy)" % (
                len(c.tensors), steps)
        compare_tensors(rep, c, prec, got, want, what)
        if not all(np.all(np.isfinite(v)) for v in got.values()):
            continue    # said by compare_tensors

        check_log(rep, c, prec, os.path.join(d, "log.csv"), losses, rates,
                  spe)

        # predict: the trainer's outputs for its final tensors against a
        # torch forward pass with those tensors
        try:
            out, cls = read_predict(os.path.join(d, "pred.csv"))
        except (OSError, ValueError) as e:
            rep.fail(label + ": predict", str(e))
            continue
        fwd = forward_torch(c, xn, ck["params"], dtype)
        atol, rtol = PRED_TOL[prec]
        dp, good = excess(out, fwd, atol, rtol)
        if good and cls is not None:
            good = np.array_equal(cls, fwd.argmax(axis=1))
        if good:
            rep.ok("%s: predict, %d rows x %d outputs (max |diff| %.1e)" %
                   (label, out.shape[0], out.shape[1], dp))
        else:
            r = int(np.argmax(np.max(np.abs(out - fwd), axis=1))) \
                if out.shape == fwd.shape else 0
            rep.fail(label + ": predict", "tolerance %g + %g |x|, or the "
                     "class column" % (atol, rtol),
                     ["row %d nnc   " % r + " ".join("%.6g" % v
                                                     for v in out[r]),
                      "row %d torch " % r + " ".join("%.6g" % v
                                                     for v in fwd[r])])
    check_rates(rep, c, root, spe)


def check(root):
    global torch, nn
    import torch as t
    import torch.nn as tnn
    torch, nn = t, tnn
    torch.set_num_threads(1)
    rep = Report()
    known = {c.name for c in CASES}
    for p in sorted(glob.glob(os.path.join(HERE, "*.nn"))):
        name = os.path.basename(p)[:-3]
        if name not in known:
            rep.fail("torch %s" % name, "no reference in reference.py")
    warnings.filterwarnings("ignore", category=UserWarning,
                            module="torch.optim.lr_scheduler")
    for c in CASES:
        check_case(rep, c, root)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("init", "check"):
        sys.stderr.write("usage: reference.py init|check DIR\n")
        return 2
    if sys.argv[1] == "init":
        init(sys.argv[2])
    else:
        check(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
import copy
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
                 known_bug=None, reg=None, clip=(None, None), variants=(),
                 covers=(), sched=None, validation=0.0, seed=0):
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
        self.reg = reg            # model -> a term added to the loss
        self.known_bug = known_bug
        # (optimizer, steps per epoch, total steps) -> a Stepper, or None
        # for a constant rate
        self.sched = sched
        self.validation = validation  # the train block's split and seed
        self.seed = seed
        self.clip = clip          # (clip_value, clip_norm), None = off
        # [(what, case -> case)]: the case with one option changed; each
        # must end outside the tolerance of nnc's f64 tensors, which shows
        # that the comparison sees that option (a clip that never
        # triggers, an amsgrad that never takes the maximum would not)
        self.variants = variants
        # [(what, f(steps) -> bool)]: facts about the run that must hold
        self.covers = covers

    def but(self, **changes):
        c = copy.copy(self)
        c.__dict__.update(changes)
        return c


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


def norm_layers_build():
    """norm_layers.nn: relu(batchnorm(dense)), layernorm, dense."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.h_1 = nn.Linear(4, 8)
            self.h_2 = nn.BatchNorm1d(8, momentum=0.2)
            self.n = nn.LayerNorm(8, eps=1e-3)
            self.logits = nn.Linear(8, 3)

        def forward(self, x):
            h = torch.relu(self.h_2(self.h_1(x)))
            z = self.logits(self.n(h))
            return z, torch.softmax(z, dim=-1)
    return M()


def bn_channels_build():
    """batchnorm_channels.nn: BatchNorm2d on [2, 1, 2] samples, a dense
    over the last axis, sums over the first two."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.z = nn.BatchNorm2d(2)
            self.f = nn.Linear(2, 4)
            self.logits = nn.Linear(4, 3)

        def forward(self, x):
            z = self.z(x.reshape(-1, 2, 1, 2))
            m = torch.tanh(self.f(z)).sum(dim=(1, 2))
            lg = self.logits(m)
            return lg, torch.softmax(lg, dim=-1)
    return M()


M64 = (1 << 64) - 1


def mix64(z):
    """SplitMix64's finalizer, as runtime/rng.c."""
    z = (z + 0x9e3779b97f4a7c15) & M64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return z ^ (z >> 31)


def drop_mask(seed, step, stream, shape, p):
    """nnrt.h's counter-based dropout mask for one step: element i of
    the batch's flat tensor is 0 when mix(key ^ i) >> 11 scaled to [0, 1)
    is below p, else 1 / (1 - p)."""
    key = mix64(mix64(mix64(seed) ^ step) ^ stream)
    n = int(np.prod(shape))
    u = np.array([(mix64(key ^ i) >> 11) * 2.0 ** -53 for i in range(n)])
    return np.where(u < p, 0.0, 1.0 / (1.0 - p)).reshape(shape)


def dropout_build():
    """dropout.nn: the masks of step `model.step` (seed 5, streams 0
    and 1 in program order); identity in eval mode."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.h = nn.Linear(4, 8)
            self.logits = nn.Linear(8, 3)
            self.step = 0

        def drop(self, v, stream, p):
            if not self.training:
                return v
            m = drop_mask(5, self.step, stream, tuple(v.shape), p)
            return v * torch.from_numpy(m).to(v.dtype)

        def forward(self, x):
            h = self.drop(torch.relu(self.h(x)), 0, 0.3)
            z = self.logits(self.drop(h, 1, 0.5))
            return z, torch.softmax(z, dim=-1)
    return M()


def reg_build():
    """regularizers.nn: tanh(dense(x @ P)), dense."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.P = nn.Parameter(torch.empty(4, 4))
            self.h = nn.Linear(4, 6)
            self.logits = nn.Linear(6, 3)

        def forward(self, x):
            z = self.logits(torch.tanh(self.h(x @ self.P)))
            return z, torch.softmax(z, dim=-1)
    return M()


def reg_terms(m):
    """0.01 l1(weights) + 0.05 l2([P, "h.b"]) + 0.002 l2(params)."""
    weights = (m.P, m.h.weight, m.logits.weight)
    return (0.01 * sum(w.abs().sum() for w in weights)
            + 0.05 * ((m.P ** 2).sum() + (m.h.bias ** 2).sum())
            + 0.002 * sum((p ** 2).sum() for p in m.parameters()))


def norm_init(names, rng):
    """Batchnorm and layernorm tensors near their defaults, so the test
    sees each one's role: gamma ~ 1, running_var ~ 1."""
    out = {}
    for n, size in names:
        what = n.rsplit(".", 1)[1]
        v = 0.1 * rng.standard_normal(size)
        out[n] = np.abs(1 + v) if what in ("gamma", "running_var") else v
    return out


class Opt:
    """torch.optim.NAME(params, **keys), and the same with keys changed:
    the optimizers of a case and of its variants."""

    def __init__(self, name, **keys):
        self.name, self.keys = name, keys

    def __call__(self, params):
        return getattr(torch.optim, self.name)(params, **self.keys)

    def but(self, name=None, **changes):
        """another optimizer or other keys; a key set to None takes
        torch's default"""
        keys = dict(self.keys, **changes)
        return Opt(name or self.name,
                   **{k: v for k, v in keys.items() if v is not None})


def opt_but(name=None, **changes):
    """a variant: the case's optimizer with Opt.but(name, **changes)"""
    return lambda c: c.but(optim=c.optim.but(name, **changes))


def clip_but(clip):
    """a variant: the case with other (clip_value, clip_norm)"""
    return lambda c: c.but(clip=clip)


def radam_switches(beta2, steps):
    """RAdam's rho_t (torch.optim.RAdam) is <= 5 at the first step and
    > 5 at the last: the run takes both of its updates."""
    rho_inf = 2 / (1 - beta2) - 1

    def rho(t):
        return rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    return rho(1) <= 5 < rho(steps)


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


def conv_pool_build():
    """conv_pool.nn: conv (stride 2, pad 1) relu maxpool; conv (no bias)
    then an overlapping avgpool and maxpool; three dense heads summed."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(1, 4, 3, stride=2, padding=1)
            self.d = nn.Conv2d(1, 2, 3, bias=False)
            self.logits_1 = nn.Linear(16, 10)
            self.logits_2 = nn.Linear(8, 10)
            self.logits_3 = nn.Linear(32, 10)

        def forward(self, x):
            x = x.reshape(-1, 1, 8, 8)
            m = nn.functional.max_pool2d(torch.relu(self.c(x)), 2)
            d = self.d(x)
            a = nn.functional.avg_pool2d(d, 3, stride=2)
            q = nn.functional.max_pool2d(d, 3, stride=1)
            z = (self.logits_1(m.flatten(1)) + self.logits_2(a.flatten(1))
                 + self.logits_3(q.flatten(1)))
            return z, torch.softmax(z, dim=-1)
    return M()


def digits_cnn_build():
    """digits_cnn.nn: avgpool(relu(batchnorm(conv2d))), dense."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_1 = nn.Conv2d(1, 8, 3, padding=1)
            self.c_2 = nn.BatchNorm2d(8)
            self.logits = nn.Linear(128, 10)

        def forward(self, x):
            c = self.c_2(self.c_1(x.reshape(-1, 1, 8, 8)))
            c = nn.functional.avg_pool2d(torch.relu(c), 2)
            z = self.logits(c.flatten(1))
            return z, torch.softmax(z, dim=-1)
    return M()


def bmm_build():
    """batched_matmul.nn: q = tanh(x @ Wq), k = Wk @ x, softmax(q @ k) @ x,
    a mean over the first axis, dense."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.Wq = nn.Parameter(torch.empty(4, 3))
            self.Wk = nn.Parameter(torch.empty(3, 4))
            self.yhat = nn.Linear(4, 1)

        def forward(self, x):
            x = x.reshape(-1, 4, 4)
            q = torch.tanh(x @ self.Wq)
            k = self.Wk @ x
            h = torch.softmax(q @ k, dim=-1) @ x
            z = self.yhat(h.mean(dim=1))
            return z, z
    return M()


def ties_first(pick):
    """torch.maximum (pick = "ge") or torch.minimum ("le") but giving all
    of the gradient of equal arguments to the first: where(a pick b, a,
    b). For variants."""
    return lambda a, b: torch.where(getattr(torch, pick)(a, b), a, b)


def clamp_open(x, lo, hi):
    """torch.clamp but passing no gradient at its bounds. For variants."""
    inside = (x > lo) & (x < hi)
    return torch.where(inside, x, torch.clamp(x, lo, hi).detach())


def model_of(forward, params=(), **linears):
    """An nn.Module with an nn.Parameter for each (name, size) of params
    and an nn.Linear(n_in, n_out) for each name = (n_in, n_out) of
    linears, registered in that order; forward(m, x) gives what the loss
    takes and the trainer's outputs."""
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            for name, size in params:
                setattr(self, name, nn.Parameter(torch.empty(size)))
            for name, (n_in, n_out) in linears.items():
                setattr(self, name, nn.Linear(n_in, n_out))

        def forward(self, x):
            return forward(self, x)
    return M()


def min_max_clamp_build(maximum=None, minimum=None, clamp=None):
    """min_max_clamp.nn, with torch.maximum, torch.minimum and torch.clamp
    unless given others."""
    maximum = maximum or torch.maximum
    minimum = minimum or torch.minimum
    clamp = clamp or torch.clamp

    def forward(m, x):
        h, g = m.h(x), m.g(x)
        u = (maximum(h, g) + minimum(h, torch.full_like(h, 0.2))
             * maximum(m.A, m.B) + minimum(m.A, m.B)
             + clamp(h, -0.5, 0.5) + clamp(m.C, -0.5, 0.25) * g)
        yhat = m.yhat(u)
        return yhat, yhat
    return model_of(forward, [("A", 4), ("B", 4), ("C", 4)], h=(3, 4),
                    g=(3, 4), yhat=(4, 2))


def abs_sqrt_square_build(absf=None):
    """abs_sqrt_square.nn, with torch.abs unless given another."""
    absf = absf or torch.abs

    def forward(m, x):
        h = m.h(x)
        u = (torch.sqrt(torch.square(h) + 0.5) + absf(h) * absf(m.P)
             + torch.square(m.P) - torch.sqrt(absf(h) + 1))
        yhat = m.yhat(u)
        return yhat, yhat
    return model_of(forward, [("P", 4)], h=(3, 4), yhat=(4, 2))


def abs_grad_one(x):
    """|x| with derivative 1 at 0 (where(x >= 0, x, -x)). For variants."""
    return torch.where(x >= 0, x, -x)


def relu_family_build(leaky=None, elu=None, relu=None, softplus=None):
    """relu_family.nn, with torch.nn.functional's leaky_relu, elu,
    softplus and torch.relu unless given others."""
    F = nn.functional
    leaky, elu = leaky or F.leaky_relu, elu or F.elu
    relu, softplus = relu or torch.relu, softplus or F.softplus

    def forward(m, x):
        h = leaky(m.h(x), 0.1)
        e = elu(m.e(h), 1.5)
        s = softplus(m.s(e) + 20.5)
        k = leaky(m.P, 0.2) + elu(m.P, 2.0) + relu(m.P)
        yhat = m.yhat(s - 20.5 + e * k + h)
        return yhat, yhat
    return model_of(forward, [("P", 4)], h=(3, 4), e=(4, 4), s=(4, 4),
                    yhat=(4, 2))


def slope_at_zero(f, d):
    """f(x, *args) but with derivative d at x = 0 (f(0) = 0): for
    variants that move a kink's choice."""
    def g(x, *args):
        y = f(x, *args)
        zero = (x == 0).to(x.dtype)
        return y + zero * (x - x.detach()) * d
    return g


def gelu_silu_build(gelu=None):
    """gelu_silu.nn: gelu then silu hidden layers, logits."""
    gelu = gelu or nn.functional.gelu

    def forward(m, x):
        z = m.logits(nn.functional.silu(m.g(gelu(m.h(x)))))
        return z, torch.softmax(z, dim=-1)
    return model_of(forward, h=(4, 6), g=(6, 6), logits=(6, 3))


def ce_dist_build():
    """ce_distribution_smoothing.nn: dense(tanh(dense(x, 5)), 3)"""
    def forward(m, x):
        z = m.z_2(torch.tanh(m.z_1(x)))
        return z, torch.softmax(z, dim=-1)
    return model_of(forward, z_1=(4, 5), z_2=(5, 3))


def mae_huber_loss(delta=0.5):
    """mae_huber.nn's loss: L1Loss + HuberLoss(delta) + 0.5 HuberLoss()"""
    l1, h, h1 = nn.L1Loss(), nn.HuberLoss(delta=delta), nn.HuberLoss()
    return lambda z, y: l1(z, y) + h(z, y) + 0.5 * h1(z, y)


def dense_weights(m):
    """the `weights` collection of a model of Linear layers"""
    return [mod.weight for mod in m.modules() if isinstance(mod, nn.Linear)]


def build_but(build, **fns):
    """a variant: the case's model built with other functions"""
    return lambda c: c.but(build=lambda: build(**fns))


IRIS = ("examples/data/iris.csv", 1)
DIGITS = ("examples/data/digits.csv", 0)
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
    Case("norm_layers", IRIS, (0, 4), (4, 5), 32, 5,
         [("h.1.W", (4, 8)), ("h.1.b", (8,)), ("h.2.gamma", (8,)),
          ("h.2.beta", (8,)), ("h.2.running_mean", (8,)),
          ("h.2.running_var", (8,)), ("n.gamma", (8,)), ("n.beta", (8,)),
          ("logits.W", (8, 3)), ("logits.b", (3,))],
         classes=3, normalize="standard", build=norm_layers_build,
         optim=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
         loss=lambda: nn.CrossEntropyLoss(),
         init=norm_init([("h.2.gamma", 8), ("h.2.beta", 8),
                         ("h.2.running_mean", 8), ("h.2.running_var", 8),
                         ("n.gamma", 8), ("n.beta", 8)],
                        np.random.default_rng(7))),
    Case("batchnorm_channels", IRIS, (0, 4), (4, 5), 40, 6,
         [("z.gamma", (2,)), ("z.beta", (2,)), ("z.running_mean", (2,)),
          ("z.running_var", (2,)), ("f.W", (2, 4)), ("f.b", (4,)),
          ("logits.W", (4, 3)), ("logits.b", (3,))],
         classes=3, build=bn_channels_build,
         optim=lambda p: torch.optim.Adam(p, lr=0.02),
         loss=lambda: nn.CrossEntropyLoss(),
         init=norm_init([("z.gamma", 2), ("z.beta", 2),
                         ("z.running_mean", 2), ("z.running_var", 2)],
                        np.random.default_rng(8))),
    Case("dropout", IRIS, (0, 4), (4, 5), 30, 5,
         mlp_tensors(4, 8, 3, "logits"), classes=3, normalize="standard",
         build=dropout_build,
         optim=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
         loss=lambda: nn.CrossEntropyLoss()),
    Case("regularizers", IRIS, (0, 4), (4, 5), 25, 4,
         [("P", (4, 4)), ("h.W", (4, 6)), ("h.b", (6,)),
          ("logits.W", (6, 3)), ("logits.b", (3,))],
         classes=3, normalize="standard", build=reg_build,
         optim=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5),
         loss=lambda: nn.CrossEntropyLoss(), reg=reg_terms),
    Case("conv_pool", DIGITS, (0, 64), (64, 65), 300, 4,
         [("c.W", (4, 1, 3, 3)), ("c.b", (4,)), ("d.W", (2, 1, 3, 3)),
          ("logits.1.W", (16, 10)), ("logits.1.b", (10,)),
          ("logits.2.W", (8, 10)), ("logits.2.b", (10,)),
          ("logits.3.W", (32, 10)), ("logits.3.b", (10,))],
         classes=10, normalize="minmax", build=conv_pool_build,
         optim=lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
         loss=lambda: nn.CrossEntropyLoss()),
    Case("digits_cnn", DIGITS, (0, 64), (64, 65), 32, 1,
         [("c.1.W", (8, 1, 3, 3)), ("c.1.b", (8,)), ("c.2.gamma", (8,)),
          ("c.2.beta", (8,)), ("c.2.running_mean", (8,)),
          ("c.2.running_var", (8,)), ("logits.W", (128, 10)),
          ("logits.b", (10,))],
         classes=10, normalize="minmax", build=digits_cnn_build,
         optim=lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9,
                                         nesterov=True),
         loss=lambda: nn.CrossEntropyLoss(label_smoothing=0.05),
         clip=(5.0, None),
         init=norm_init([("c.2.gamma", 8), ("c.2.beta", 8),
                         ("c.2.running_mean", 8), ("c.2.running_var", 8)],
                        np.random.default_rng(9))),
    Case("batched_matmul", DIGITS, (0, 16), (64, 65), 100, 2,
         [("Wq", (4, 3)), ("Wk", (3, 4)), ("yhat.W", (4, 1)), ("yhat.b", (1,))],
         normalize="standard", build=bmm_build,
         optim=lambda p: torch.optim.Adam(p, lr=0.01),
         loss=lambda: nn.MSELoss()),
    Case("bce_saturated", SATURATED, (0, 1), (1, 2), 2, 2,
         [("yhat.W", (1, 1)), ("yhat.b", (1,))],
         build=sat_build,
         optim=lambda p: torch.optim.SGD(p, lr=0.1),
         loss=lambda: nn.BCELoss(),
         # regression: bce's backward was NaN where sigmoid saturates to
         # exactly 1 (0/0 in d log(1 - p)); torch's gradient is 0 there
         init={"yhat.W": np.array([[40.0]]), "yhat.b": np.array([0.0])}),
    # the optimizers of the contract with their options, then clipping
    Case("adagrad_decay", REGRESS, (0, 3), (3, 5), 8, 5,
         mlp_tensors(3, 5, 2, "yhat"),
         build=lambda: dense_mlp(3, 5, 2, torch.tanh, "yhat", both),
         optim=Opt("Adagrad", lr=0.1, lr_decay=0.05, weight_decay=0.01,
                   eps=1e-6, initial_accumulator_value=0.5),
         loss=lambda: nn.MSELoss(),
         variants=[("initial_accumulator_value = 0",
                    opt_but(initial_accumulator_value=None)),
                   ("lr_decay = 0", opt_but(lr_decay=None))]),
    Case("rmsprop_centered", BINARY, (0, 3), (3, 4), 8, 6,
         mlp_tensors(3, 6, 1, "yhat"),
         build=lambda: dense_mlp(3, 6, 1, torch.tanh, "yhat", sigmoid_both),
         optim=Opt("RMSprop", lr=0.005, alpha=0.9, eps=1e-6,
                   weight_decay=0.01, momentum=0.5, centered=True),
         loss=lambda: nn.BCELoss(),
         variants=[("centered = false", opt_but(centered=None))]),
    Case("rmsprop_plain", REGRESS, (0, 3), (3, 5), 8, 5,
         mlp_tensors(3, 5, 2, "yhat"),
         build=lambda: dense_mlp(3, 5, 2, torch.relu, "yhat", both),
         optim=Opt("RMSprop", lr=0.003),
         loss=lambda: nn.MSELoss()),
    Case("adam_amsgrad", IRIS, (0, 4), (4, 5), 30, 5,
         mlp_tensors(4, 6, 3, "logits"), classes=3, normalize="standard",
         build=lambda: dense_mlp(4, 6, 3, torch.tanh, "logits",
                                 logits_softmax),
         optim=Opt("Adam", lr=0.02, betas=(0.85, 0.95), eps=1e-7,
                   weight_decay=0.005, amsgrad=True),
         loss=lambda: nn.CrossEntropyLoss(),
         variants=[("amsgrad = false", opt_but(amsgrad=None))]),
    Case("adamw_amsgrad", REGRESS, (0, 3), (3, 5), 8, 5,
         mlp_tensors(3, 5, 2, "yhat"),
         build=lambda: dense_mlp(3, 5, 2, torch.relu, "yhat", both),
         optim=Opt("AdamW", lr=0.01, betas=(0.8, 0.9), eps=1e-6,
                   weight_decay=0.2, amsgrad=True),
         loss=lambda: nn.MSELoss(),
         variants=[("amsgrad = false", opt_but(amsgrad=None)),
                   ("adam's L2 weight decay", opt_but(name="Adam"))]),
    Case("nadam", IRIS, (0, 4), (4, 5), 25, 4,
         mlp_tensors(4, 6, 3, "logits"), classes=3, normalize="standard",
         build=lambda: dense_mlp(4, 6, 3, torch.tanh, "logits",
                                 logits_softmax),
         # the documented formula, which torch 1.13 computes with foreach
         optim=Opt("NAdam", lr=0.01, betas=(0.85, 0.99), eps=1e-7,
                   weight_decay=0.01, momentum_decay=0.01, foreach=True),
         loss=lambda: nn.CrossEntropyLoss(),
         variants=[("torch 1.13's single-tensor NAdam (mu_t twice)",
                    opt_but(foreach=False)),
                   ("momentum_decay = 4e-3", opt_but(momentum_decay=None))]),
    Case("radam", REGRESS, (0, 3), (3, 5), 8, 5,
         mlp_tensors(3, 5, 2, "yhat"),
         build=lambda: dense_mlp(3, 5, 2, torch.tanh, "yhat", both),
         optim=Opt("RAdam", lr=0.01, betas=(0.8, 0.95), eps=1e-6,
                   weight_decay=0.01),
         loss=lambda: nn.MSELoss(),
         covers=[("rho_t <= 5 (unrectified) then > 5 (rectified)",
                  lambda steps: radam_switches(0.95, steps))]),
    Case("adadelta_wd", BINARY, (0, 3), (3, 4), 8, 6,
         mlp_tensors(3, 6, 1, "yhat"),
         build=lambda: dense_mlp(3, 6, 1, torch.tanh, "yhat", sigmoid_both),
         optim=Opt("Adadelta", lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01),
         loss=lambda: nn.BCELoss(),
         variants=[("weight_decay = 0", opt_but(weight_decay=None))]),
    Case("clip_both", REGRESS, (0, 3), (3, 5), 8, 5,
         mlp_tensors(3, 5, 2, "yhat"),
         build=lambda: dense_mlp(3, 5, 2, torch.tanh, "yhat", both),
         optim=Opt("SGD", lr=0.5, momentum=0.9, dampening=0.2,
                   weight_decay=0.001),
         loss=lambda: nn.MSELoss(), clip=(0.1, 0.3),
         variants=[("clip_norm alone", clip_but((None, 0.3))),
                   ("clip_value alone", clip_but((0.1, None))),
                   ("dampening = 0", opt_but(dampening=None))]),
    Case("clip_norm_adamw", IRIS, (0, 4), (4, 5), 30, 5,
         mlp_tensors(4, 6, 3, "logits"), classes=3, normalize="standard",
         build=lambda: dense_mlp(4, 6, 3, torch.relu, "logits",
                                 logits_softmax),
         optim=Opt("AdamW", lr=0.05, weight_decay=0.05),
         loss=lambda: nn.CrossEntropyLoss(), clip=(None, 0.2),
         variants=[("no clipping", clip_but((None, None)))]),
    Case("clip_value_adagrad", BINARY, (0, 3), (3, 4), 8, 6,
         mlp_tensors(3, 6, 1, "yhat"),
         build=lambda: dense_mlp(3, 6, 1, torch.tanh, "yhat", sigmoid_both),
         optim=Opt("Adagrad", lr=0.2),
         loss=lambda: nn.BCELoss(), clip=(0.05, None),
         variants=[("no clipping", clip_but((None, None)))]),
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
    # activations, math and losses, at the end: a case's initial tensors
    # are drawn from its index in this list
    Case("min_max_clamp", REGRESS, (0, 3), (3, 5), 8, 4,
         [("A", (4,)), ("B", (4,)), ("C", (4,)), ("h.W", (3, 4)),
          ("h.b", (4,)), ("g.W", (3, 4)), ("g.b", (4,)),
          ("yhat.W", (4, 2)), ("yhat.b", (2,))],
         build=min_max_clamp_build,
         optim=Opt("SGD", lr=0.1, momentum=0.5),
         loss=lambda: nn.MSELoss(),
         init={"A": np.array([0.25, -0.5, 0.75, 0.125]),
               "B": np.array([0.25, -0.5, 0.75, 0.125]),
               "C": np.array([-0.5, 0.25, 0.125, 0.75])},
         variants=[
             ("max giving equal arguments' gradient to the first",
              build_but(min_max_clamp_build, maximum=ties_first("ge"))),
             ("min giving equal arguments' gradient to the first",
              build_but(min_max_clamp_build, minimum=ties_first("le"))),
             ("clamp passing no gradient at its bounds",
              build_but(min_max_clamp_build, clamp=clamp_open))]),
    Case("abs_sqrt_square", REGRESS, (0, 3), (3, 5), 8, 4,
         [("P", (4,)), ("h.W", (3, 4)), ("h.b", (4,)), ("yhat.W", (4, 2)),
          ("yhat.b", (2,))],
         build=abs_sqrt_square_build,
         optim=Opt("SGD", lr=0.05, momentum=0.9),
         loss=lambda: nn.MSELoss(),
         init={"P": np.array([0.0, 0.5, -0.25, 0.0])},
         variants=[("abs'(0) = 1",
                    build_but(abs_sqrt_square_build, absf=abs_grad_one))]),
    Case("relu_family", REGRESS, (0, 3), (3, 5), 8, 4,
         [("P", (4,)), ("h.W", (3, 4)), ("h.b", (4,)), ("e.W", (4, 4)),
          ("e.b", (4,)), ("s.W", (4, 4)), ("s.b", (4,)),
          ("yhat.W", (4, 2)), ("yhat.b", (2,))],
         build=relu_family_build,
         optim=Opt("SGD", lr=0.05, momentum=0.5),
         loss=lambda: nn.MSELoss(),
         init={"P": np.array([0.0, 0.5, -0.5, 0.0])},
         variants=[
             ("leaky_relu'(0) = 1", build_but(
                 relu_family_build, leaky=lambda x, s: slope_at_zero(
                     nn.functional.leaky_relu, 1 - s)(x, s))),
             ("elu'(0) = 1", build_but(
                 relu_family_build, elu=lambda x, a: slope_at_zero(
                     nn.functional.elu, 1 - a)(x, a))),
             ("relu'(0) = 1", build_but(
                 relu_family_build,
                 relu=lambda x: slope_at_zero(torch.relu, 1)(x))),
             ("softplus without its threshold", build_but(
                 relu_family_build, softplus=lambda x: nn.functional.
                 softplus(x, threshold=1000)))]),
    Case("gelu_silu", IRIS, (0, 4), (4, 5), 30, 5,
         [("h.W", (4, 6)), ("h.b", (6,)), ("g.W", (6, 6)), ("g.b", (6,)),
          ("logits.W", (6, 3)), ("logits.b", (3,))],
         classes=3, normalize="standard", build=gelu_silu_build,
         optim=Opt("Adam", lr=0.02),
         loss=lambda: nn.CrossEntropyLoss(),
         variants=[("gelu's tanh approximation", build_but(
             gelu_silu_build, gelu=lambda x: nn.functional.gelu(
                 x, approximate="tanh")))]),
    Case("mae_huber", REGRESS, (0, 3), (3, 5), 8, 4,
         mlp_tensors(3, 5, 2, "yhat"),
         build=lambda: dense_mlp(3, 5, 2, torch.tanh, "yhat", both),
         optim=Opt("SGD", lr=0.1, momentum=0.9),
         loss=mae_huber_loss,
         reg=lambda m: 0.01 * sum((w ** 2).sum() for w in dense_weights(m)),
         variants=[("huber's delta 1 for 0.5",
                    lambda c: c.but(loss=lambda: mae_huber_loss(1.0)))]),
    Case("bce_logits", BINARY, (0, 3), (3, 4), 8, 5,
         mlp_tensors(3, 6, 1, "logit"),
         build=lambda: dense_mlp(3, 6, 1, torch.relu, "logit",
                                 lambda z: (z, torch.sigmoid(z))),
         optim=Opt("Adam", lr=0.05),
         loss=lambda: nn.BCEWithLogitsLoss(),
         reg=lambda m: 1e-3 * sum(w.abs().sum() for w in dense_weights(m))),
    Case("ce_distribution_smoothing", DIST, (0, 4), (4, 7), 6, 5,
         [("z.1.W", (4, 5)), ("z.1.b", (5,)), ("z.2.W", (5, 3)),
          ("z.2.b", (3,))],
         build=ce_dist_build,
         optim=Opt("SGD", lr=0.2, momentum=0.9),
         loss=lambda: nn.CrossEntropyLoss(label_smoothing=0.2),
         variants=[("label_smoothing = 0", lambda c: c.but(
             loss=lambda: nn.CrossEntropyLoss()))]),
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
    def norm():
        """kind u32, n u64, f64 shift[n], f64 scale[n]"""
        kind, n = take("I"), take("Q")
        a = np.array(struct.unpack_from("<%dd" % (2 * n), b, pos[0]))
        pos[0] += 16 * n
        return kind, a[:n], a[n:]

    norm_x, norm_y = norm(), norm()     # normalize, normalize_target
    take("IIdI")
    for _ in range(take("I")):  # the schedule's state
        take("d")
    dt = "<f8" if real == 8 else "<f4"
    p = np.frombuffer(b, dt, n_params, pos[0]).astype(np.float64)
    params = {name: p[off:off + size].reshape(dims)
              for name, dims, off, size in tensors}
    return {"params": params, "step": step, "epoch": epoch,
            "norm": norm_x, "tnorm": norm_y}


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
    """nnc's name -> (torch parameter or buffer, transposed): `h.W` is
    the transpose of model.h.weight, `h.b` model.h.bias, `W` model.W;
    `h.2.gamma` is model.h_2.weight, `beta` bias, `running_mean` and
    `running_var` the buffers. A conv2d's `c.W` is model.c.weight as it is
    ([F, C, k, k] in both)."""
    if "." not in name:
        return getattr(model, name), False
    layer, what = name.rsplit(".", 1)
    mod = getattr(model, layer.replace(".", "_"))
    if what == "W":     # a dense kernel is Linear's transposed, a conv's not
        return mod.weight, mod.weight.dim() == 2
    attr = {"b": "bias", "gamma": "weight", "beta": "bias"}.get(what, what)
    return getattr(mod, attr), False


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


def clip_grads(c, params):
    """The train block's clip_value, then clip_norm (the contract's
    order), as torch.nn.utils does them."""
    value, norm = c.clip
    if value is not None:
        torch.nn.utils.clip_grad_value_(params, value)
    if norm is not None:
        torch.nn.utils.clip_grad_norm_(params, norm)


def train_torch(c, x, y, val, init_params, dtype):
    """K epochs of the train block's batches of the training rows (x, y),
    in file order, at the rates of the case's schedule, which sees the
    loss on the validation rows val = (x, y) after each epoch (without
    them, the epoch's loss). Returns the tensors, the per-epoch losses
    (batch losses weighted by size) and the rate of every step.

    The default dtype is the trainer's: torch keeps an optimizer's scalar
    state (NAdam's mu_product) in a tensor of the default dtype, as nnc
    keeps it in the trainer's real type."""
    torch.manual_seed(0)
    torch.set_default_dtype(dtype)
    try:
        model = c.build().to(dtype)
        set_params(model, init_params)
        params = list(model.parameters())
        opt = c.optim(params)
        lossf = c.loss()
        batch, epochs = c.batch, c.epochs
        X = torch.from_numpy(x).to(dtype)
        Y = targets(c, y, dtype)
        spe = -(-len(X) // batch)
        sched = c.sched(opt, spe, spe * epochs) if c.sched else None
        losses, rates = [], []
        step = 0
        for _ in range(epochs):
            total = 0.0
            for lo in range(0, len(X), batch):
                xb, yb = X[lo:lo + batch], Y[lo:lo + batch]
                step += 1
                model.step = step   # the step's dropout masks (dropout.nn)
                opt.zero_grad()
                loss = lossf(model(xb)[0], yb)
                if c.reg:
                    loss = loss + c.reg(model)
                loss.backward()
                clip_grads(c, params)
                rates.append(opt.param_groups[0]["lr"])
                opt.step()
                if sched:
                    sched.after_step()
                total += loss.item() * len(xb)
            losses.append(total / len(X))
            if sched and len(val[0]):
                model.eval()    # the trainer's validation: inference mode
                with torch.no_grad():
                    sched.after_epoch(lossf(model(torch.from_numpy(
                        val[0]).to(dtype))[0], targets(c, val[1],
                                                       dtype)).item())
                model.train()
            elif sched:
                sched.after_epoch(losses[-1])
    finally:
        torch.set_default_dtype(torch.float32)
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
    model.eval()
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


def relative(got, want):
    """max |got - want| / |want| over the elements where want != 0"""
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    nz = want != 0
    return float(np.max(np.abs(got[nz] - want[nz]) / np.abs(want[nz]))) \
        if np.any(nz) else 0.0


def compare_tensors(rep, c, prec, got, want, what):
    atol, rtol = TOL[prec]
    worst, worst_rel, bad = 0.0, 0.0, []
    for name, _ in c.tensors:
        d, good = excess(got[name], want[name], atol, rtol)
        worst = max(worst, d) if np.isfinite(d) else np.inf
        if good:
            worst_rel = max(worst_rel, relative(got[name], want[name]))
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
        rep.ok("%s (max |diff| %.1e, relative %.1e)" % (label, worst,
                                                         worst_rel))


def check_options_seen(rep, c, xn, y, init_params, got, steps):
    """Each variant of the case, trained by torch in float64, must end
    outside the f64 tolerance of nnc's tensors; each cover must hold."""
    atol, rtol = TOL["f64"]
    for what, change in c.variants:
        other = train_torch(change(c), xn, y, (xn[:0], y[:0]), init_params,
                            torch.float64)[0]
        worst = max(excess(got[n], other[n], atol, rtol)[0]
                    for n, _ in c.tensors)
        same = all(excess(got[n], other[n], atol, rtol)[1]
                   for n, _ in c.tensors)
        label = "torch %s f64: differs from %s" % (c.name, what)
        if same:
            rep.fail(label, "within tolerance: the case does not exercise "
                     "what it is meant to")
        else:
            rep.ok("%s (max |diff| %.1e)" % (label, worst))
    for what, holds in c.covers:
        label = "torch %s: %s" % (c.name, what)
        if holds(steps):
            rep.ok(label)
        else:
            rep.fail(label, "does not hold over %d steps" % steps)


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
        if prec == "f64":
            check_options_seen(rep, c, xn, y, init_params, got, steps)

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

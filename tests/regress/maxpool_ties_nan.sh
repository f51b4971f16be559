#!/bin/sh
# Regression guard for the pooling kernels' fast paths (emit_conv.c):
# maxpool takes the maximum as a select chain, in blocks of 4 windows the
# compiler vectorizes (the last block of a row overlapping the one before
# when the row is not a multiple of 4), and maxpool_dx finds the first
# maximum as the count of leading positions that differ from it, falling
# back to PyTorch's rule as written when a window holds a NaN. PyTorch
# routes the gradient to the FIRST maximum among ties and a NaN wins the
# window. Small integer images make ties in most windows; one step of SGD
# on tiling (2x2) and overlapping (3x3, stride 1) windows is compared with
# torch's, and the forward over images with NaNs (sqrt of negatives).
. tests/tools/lib.sh
T=$TMP/mp
cat >"$T.nn" <<NN
model mp

input  x[2, 4, 10]
target y[20]

param s[2, 4, 10] = ones

h = x * s
a = maxpool(h, 2)                    # [2, 2, 5]: blocks 0..3 and 1..4
b = maxpool(h, 3, stride = 1)        # [2, 2, 8]
output o = flatten(maxpool(sqrt(h), 2))

loss = mse(flatten(a), y) + mean(b * b)

optimizer sgd(lr = 0.1)

train {
  data       = csv("$T.csv", x = 0:80, y = 80:100)
  batch      = 8
  epochs     = 1
  shuffle    = false
  validation = 0
}
NN
/usr/bin/python3 -c "
import random
r = random.Random(5)
with open('$T.csv', 'w') as f:
    for i in range(8):
        f.write(','.join(str(r.choice([0, 1, 1, 2, 2, 2])) for _ in range(80)) + ','
                + ','.join(str(r.randint(-2, 2)) for _ in range(20)) + '\n')
with open('$T-nan.csv', 'w') as f:
    for i in range(4):
        f.write(','.join(str(r.choice([-1, 0, 1, 1, 2, 2, 2])) for _ in range(80)) + ','
                + ','.join('0' for _ in range(20)) + '\n')
" || exit 1
build_trainer "$T.nn" "$T" || { cat "$T.log"; exit 1; }
"$T" init --checkpoint "$T.ckpt" >/dev/null || exit 1
"$T" train --resume "$T.ckpt" --checkpoint "$T.ckpt" >/dev/null || exit 1
"$T" export --checkpoint "$T.ckpt" --npy "$T.npy" >/dev/null || exit 1
"$T" predict --checkpoint "$T.ckpt" --input "$T-nan.csv" >"$T.out" || exit 1
/usr/bin/python3 -c "
import numpy as np, torch, torch.nn.functional as F, sys
d = np.loadtxt('$T.csv', delimiter=',', dtype=np.float32)
x = torch.tensor(d[:, :80]).reshape(8, 2, 4, 10)
y = torch.tensor(d[:, 80:])
s = torch.ones(2, 4, 10, requires_grad=True)
h = x * s
a = F.max_pool2d(h, 2)
b = F.max_pool2d(h, 3, stride=1)
loss = ((a.flatten(1) - y) ** 2).mean() + (b * b).flatten(1).mean(1).mean()
loss.backward()
ref = (s - 0.1 * s.grad).detach().numpy()
got = np.load('$T.npy/s.npy')
err = np.abs(got - ref).max()
print('s after one step: max abs error %.3g' % err)
ok = err < 1e-5
dn = np.loadtxt('$T-nan.csv', delimiter=',', dtype=np.float32)
xn = torch.tensor(dn[:, :80]).reshape(4, 2, 4, 10)
refo = F.max_pool2d(torch.sqrt(xn * torch.tensor(got)), 2).flatten(1).numpy()
goto = np.genfromtxt('$T.out', delimiter=',', skip_header=1)[:, -20:]
same_nan = (np.isnan(goto) == np.isnan(refo)).all()
fin = ~np.isnan(refo)
ferr = np.abs(goto[fin] - refo[fin]).max()
print('forward: %d NaN windows, same NaNs %s, max abs error %.3g'
      % (np.isnan(refo).sum(), same_nan, ferr))
ok = ok and same_nan and np.isnan(refo).sum() > 0 and ferr < 1e-5
sys.exit(0 if ok else 1)"

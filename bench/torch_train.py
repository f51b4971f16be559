#!/usr/bin/python3
"""torch_train.py: the PyTorch side of `make bench` (bench/run.py runs it).

  torch_train.py CASE --threads N --epochs E [--batch B] [--weights DIR]
                 [--images F --labels F] [--layers 784,256,128,10]

CASE is one of
  xor    examples/xor.nn: 2-8-1 tanh/sigmoid, bce, SGD(0.5, momentum 0.9)
  iris   examples/iris.nn: 4-16-3 relu, cross-entropy, Adam(0.01),
         standardised features, 120 rows train and 30 validate (a loss
         and accuracy pass after every epoch, as nnc's trainer does)
  mlp    dense relu layers --layers, cross-entropy, Adam(1e-3), IDX data
  cnn    examples/fashion_cnn.nn: conv 16, pool, conv 32, pool, dense 10,
         Adam(1e-3), IDX data

--weights DIR reads nnc's initial tensors (`MODEL init` then `MODEL
export --npy DIR`): a dense layer's W is Linear's weight transposed, a
conv's W is Conv2d's as it is. The data is read and converted to float32
tensors before the clock starts; each epoch's shuffle (randperm) and each
batch's gather copy (index_select) are inside it, as they are in nnc's
epoch. Prints one JSON object:

  epoch_seconds  per epoch, the training steps only (nnc's log `seconds`)
  loss           the last epoch's mean loss (nnc's log `loss`)
  loop_seconds   every epoch with its validation pass (the tiny nets)
  load_seconds   reading and converting the data
  steps, samples the optimizer steps and training samples of the run
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_idx(path):
    """An IDX file's array (unsigned bytes), plain or gzipped."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def read_csv(path, skip):
    rows = open(path).read().split("\n")[skip:]
    return np.array([[float(v) for v in r.split(",")] for r in rows if r],
                    np.float32)


def build(case, layers):
    """The network and the nnc names of its weighted layers, in order."""
    if case == "xor":
        return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1),
                             nn.Sigmoid()), ["h", "yhat"]
    if case == "iris":
        return nn.Sequential(nn.Linear(4, 16), nn.ReLU(),
                             nn.Linear(16, 3)), ["h", "logits"]
    if case == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 10)), ["c1", "c2", "logits"]
    mods = []
    for i in range(len(layers) - 1):
        mods.append(nn.Linear(layers[i], layers[i + 1]))
        if i < len(layers) - 2:
            mods.append(nn.ReLU())
    names = ["h%d" % (i + 1) for i in range(len(layers) - 2)] + ["logits"]
    return nn.Sequential(*mods), names


def load_weights(model, names, wdir):
    weighted = [m for m in model if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        for m, name in zip(weighted, names):
            w = np.load(os.path.join(wdir, name + ".W.npy"))
            if isinstance(m, nn.Linear):
                w = w.T
            m.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            m.bias.copy_(torch.from_numpy(
                np.load(os.path.join(wdir, name + ".b.npy"))))


def load_data(a):
    """(x, y, x_val, y_val) as tensors; the validation pair may be None."""
    if a.case == "xor":
        d = read_csv(os.path.join(ROOT, "examples/data/xor.csv"), 0)
        return (torch.from_numpy(d[:, :2].copy()),
                torch.from_numpy(d[:, 2:3].copy()), None, None)
    if a.case == "iris":
        d = read_csv(os.path.join(ROOT, "examples/data/iris.csv"), 1)
        g = torch.Generator().manual_seed(42)
        perm = torch.randperm(len(d), generator=g).numpy()
        x, y = d[:, :4], d[:, 4].astype(np.int64)
        nval = round(0.2 * len(d))
        tr, va = perm[nval:], perm[:nval]
        mean, sd = x[tr].mean(0), x[tr].std(0)
        x = (x - mean) / sd
        return (torch.from_numpy(x[tr].copy()), torch.from_numpy(y[tr]),
                torch.from_numpy(x[va].copy()), torch.from_numpy(y[va]))
    img = read_idx(a.images).astype(np.float32) * np.float32(1 / 255)
    lab = read_idx(a.labels).astype(np.int64)
    img = img.reshape(len(img), 1, 28, 28) if a.case == "cnn" \
        else img.reshape(len(img), -1)
    return torch.from_numpy(img), torch.from_numpy(lab), None, None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=["xor", "iris", "mlp", "cnn"])
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--batch", type=int)
    p.add_argument("--weights")
    p.add_argument("--images")
    p.add_argument("--labels")
    p.add_argument("--layers", default="784,256,128,10")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    batch = a.batch or {"xor": 4, "iris": 16}.get(a.case, 64)

    t0 = time.perf_counter()
    x, y, xv, yv = load_data(a)
    load = time.perf_counter() - t0

    model, names = build(a.case, [int(v) for v in a.layers.split(",")])
    if a.weights:
        load_weights(model, names, a.weights)
    if a.case == "xor":
        opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        lossf = F.binary_cross_entropy
    else:
        opt = torch.optim.Adam(model.parameters(),
                               lr=0.01 if a.case == "iris" else 1e-3)
        lossf = F.cross_entropy

    n, steps, epoch_s = len(x), 0, []
    t_loop = time.perf_counter()
    for _ in range(a.epochs):
        t = time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(xb), yb)
            loss.backward()
            opt.step()
            steps += 1
            total += loss.item() * len(idx)
        epoch_s.append(time.perf_counter() - t)
        if xv is not None:
            model.eval()
            with torch.no_grad():
                out = model(xv)
                lossf(out, yv).item()
                (out.argmax(1) == yv).float().mean().item()
    loop = time.perf_counter() - t_loop

    print(json.dumps({"epoch_seconds": epoch_s, "loop_seconds": loop,
                      "loss": total / n,
                      "load_seconds": load, "steps": steps,
                      "samples": n * a.epochs}))


if __name__ == "__main__":
    main()

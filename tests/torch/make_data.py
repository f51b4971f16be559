#!/usr/bin/python3
"""Writes the torch tier's small CSV files into tests/torch/data/.

The files are committed; this script says how they were made and is not
run by the tier. numpy only, fixed seed:

    /usr/bin/python3 tests/torch/make_data.py
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, header, rows):
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    with open(os.path.join(HERE, "data", name), "w") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")


def num(v):
    return "%.4f" % v


def main():
    rng = np.random.default_rng(20240611)

    # binary.csv: 32 rows, 3 features, a 0/1 label from a noisy plane
    x = rng.normal(size=(32, 3))
    y = (x @ [1.0, -2.0, 0.5] + 0.5 * rng.normal(size=32) > 0).astype(int)
    write("binary.csv", "x0,x1,x2,y",
          [[num(v) for v in xi] + [str(yi)] for xi, yi in zip(x, y)])

    # regress.csv: 40 rows, 3 features, 2 real targets
    x = rng.normal(size=(40, 3))
    t = np.stack([np.sin(x[:, 0]) + 0.5 * x[:, 1],
                  x[:, 2] * x[:, 0] - 0.3], axis=1)
    t += 0.05 * rng.normal(size=t.shape)
    write("regress.csv", "x0,x1,x2,t0,t1",
          [[num(v) for v in np.concatenate([xi, ti])]
           for xi, ti in zip(x, t)])

    # dist.csv: 24 rows, 4 features, a 3-class probability distribution
    x = rng.normal(size=(24, 4))
    z = x[:, :3] + 0.3 * rng.normal(size=(24, 3))
    d = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    d = np.round(d, 4)
    d[:, 2] = np.round(1 - d[:, 0] - d[:, 1], 4)
    write("dist.csv", "x0,x1,x2,x3,d0,d1,d2",
          [[num(v) for v in np.concatenate([xi, di])]
           for xi, di in zip(x, d)])

    # saturated.csv: 2 rows that a confident model gets right
    write("saturated.csv", "x,y", [["1", "1"], ["-1", "0"]])


if __name__ == "__main__":
    main()

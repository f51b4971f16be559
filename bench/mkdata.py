#!/usr/bin/python3
"""mkdata.py DIR CNN_ROWS GEMM_ROWS: the benchmark's data files in DIR.

  cnn-images.idx cnn-labels.idx    the first CNN_ROWS Fashion-MNIST
                                   training images (the CNN case trains
                                   one epoch on them: the trainer has no
                                   row limit)
  cnn-test-images.idx ...labels    64 of them, the CNN's test set (so its
                                   final test pass is not the 10000 rows)
  gemm-images.idx gemm-labels.idx  GEMM_ROWS random 32x32 images with
                                   random labels 0..9 (bench/gemm_mlp.nn)

Plain (not gzipped) IDX files, stdlib only, from a fixed seed.
"""
import gzip
import os
import random
import struct
import sys

FASHION = "/usr/share/datasets/fashion-mnist/"


def write_idx(path, images, labels, n, rows, cols):
    with open(path % "images", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, rows, cols) + images)
    with open(path % "labels", "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels)


def main():
    out, cnn_rows, gemm_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    img = gzip.open(FASHION + "train-images-idx3-ubyte.gz").read()[16:]
    lab = gzip.open(FASHION + "train-labels-idx1-ubyte.gz").read()[8:]
    write_idx(os.path.join(out, "cnn-%s.idx"), img[:784 * cnn_rows],
              lab[:cnn_rows], cnn_rows, 28, 28)
    write_idx(os.path.join(out, "cnn-test-%s.idx"), img[-784 * 64:],
              lab[-64:], 64, 28, 28)
    rng = random.Random(8)
    write_idx(os.path.join(out, "gemm-%s.idx"),
              rng.randbytes(1024 * gemm_rows),
              bytes(rng.randrange(10) for _ in range(gemm_rows)),
              gemm_rows, 32, 32)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""mkidx.py DIR: the data tier's IDX and CSV files (tests/tools/data.sh).

Tiny 4x4 images, one of four quadrants bright (the class, 0..3), on a
dim noisy background, from a fixed seed:

  train-images.idx  train-labels.idx    40 images (and .gz copies)
  val-images.idx    val-labels.idx      12 images
  test-images.idx   test-labels.idx     20 images
  train.csv val.csv test.csv            the same rows as CSV: 16 pixels
                                        (bytes / 255), then the class
and one broken file per error the reader reports:

  magic.idx           the training labels as an image file
  f32-images.idx      element type 0x0d (f32)
  short-header.idx    9 bytes of an image header
  short-images.idx    40 images announced, 600 of 640 bytes present
  short-images.idx.gz the gzipped images cut in the middle of the stream
  short-labels.idx    40 labels announced, 39 present
  huge-images.idx     2^32 - 1 images announced, 40 present
  huge-labels.idx     2^32 - 1 labels announced, 40 present
  count-labels.idx    39 labels, whole
  big-images.idx      40 images of 5x5
  range-labels.idx    class 9 at row 7
  trailing-labels.idx one byte after the 40 labels
"""
import gzip
import os
import random
import struct
import sys


def images_bytes(imgs, rows=4, cols=4, magic=0x00000803):
    head = struct.pack(">IIII", magic, len(imgs), rows, cols)
    return head + b"".join(bytes(im) for im in imgs)


def labels_bytes(labels):
    return struct.pack(">II", 0x00000801, len(labels)) + bytes(labels)


def sample(rng, label):
    im = [rng.randrange(0, 60) for _ in range(16)]
    r0, c0 = 2 * (label // 2), 2 * (label % 2)
    for r in range(r0, r0 + 2):
        for c in range(c0, c0 + 2):
            im[4 * r + c] = rng.randrange(180, 256)
    return im


def dataset(rng, n):
    labels = [i % 4 for i in range(n)]
    rng.shuffle(labels)
    return [sample(rng, k) for k in labels], labels


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def write_set(d, name, imgs, labels):
    write(d, name + "-images.idx", images_bytes(imgs))
    write(d, name + "-labels.idx", labels_bytes(labels))
    with open(os.path.join(d, name + ".csv"), "w") as f:
        f.write(",".join("p%d" % i for i in range(16)) + ",label\n")
        for im, k in zip(imgs, labels):
            f.write(",".join(repr(v / 255) for v in im) + ",%d\n" % k)


def write_broken(d, imgs, labels):
    img = images_bytes(imgs)
    write(d, "magic.idx", labels_bytes(labels))
    write(d, "f32-images.idx", images_bytes(imgs, magic=0x00000D03))
    write(d, "short-header.idx", img[:9])
    write(d, "short-images.idx", img[:16 + 600])
    packed = gzip.compress(img, mtime=0)
    write(d, "short-images.idx.gz", packed[:len(packed) // 2])
    write(d, "short-labels.idx", labels_bytes(labels)[:8 + 39])
    huge = struct.pack(">I", 0xFFFFFFFF)
    write(d, "huge-images.idx", img[:4] + huge + img[8:])
    write(d, "huge-labels.idx", labels_bytes(labels)[:4] + huge + bytes(labels))
    write(d, "count-labels.idx", labels_bytes(labels[:39]))
    big = [im + [0] * 9 for im in imgs]
    write(d, "big-images.idx", images_bytes(big, rows=5, cols=5))
    bad = list(labels)
    bad[6] = 9
    write(d, "range-labels.idx", labels_bytes(bad))
    write(d, "trailing-labels.idx", labels_bytes(labels) + b"\0")


def main():
    d = sys.argv[1]
    rng = random.Random(6)
    train = dataset(rng, 40)
    write_set(d, "train", *train)
    write_set(d, "val", *dataset(rng, 12))
    write_set(d, "test", *dataset(rng, 20))
    for name in ("train-images.idx", "train-labels.idx"):
        with open(os.path.join(d, name), "rb") as f:
            write(d, name + ".gz", gzip.compress(f.read(), mtime=0))
    write_broken(d, *train)


if __name__ == "__main__":
    main()

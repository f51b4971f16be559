#!/usr/bin/env python3
"""Writes tests/fuzz/corpus_rt, fuzz_rt's seed corpus: each file is the
selector byte (0 CSV, 1 CSV prediction input, 2 IDX, 3 IDX prediction
input, 4 checkpoint, 5 checkpoint whose checksum fuzz_rt recomputes,
6 training log for `report --log`) and the file fuzz_rt.c's models
read."""
import gzip, os, struct, sys, zlib

out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus_rt"
os.makedirs(out, exist_ok=True)

def put(name, kind, body):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([kind]) + body)

csv = b"a,b,label\n1,2,red\n3.5,-4e-1,blue\n\"5\", 6 ,green\r\n\n7,8,red\n"
put("csv_labels", 0, csv)
put("csv_numbers", 0, b"h\n1,2,0\n3,4,2\n0.5,1e3,1\n")
put("csv_gzip", 0, gzip.compress(csv, mtime=0))
put("csv_predict", 1, b"1,2\n3,4\n")
put("csv_predict_layout", 1, b"skipped\n1,2,red\n3,4,\n")

def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + data

images = idx(0x803, [2, 4, 4], bytes(range(32)))
labels = idx(0x801, [2], bytes([3, 9]))
put("idx_train", 2, struct.pack("<H", len(images)) + images + labels)
put("idx_predict", 3, struct.pack("<H", len(images)) + images)
put("idx_gzip", 2, (lambda i, l: struct.pack("<H", len(i)) + i + l)(
    gzip.compress(images, mtime=0), gzip.compress(labels, mtime=0)))

def s(b):
    return struct.pack("<I", len(b)) + b

def norm(kind, vals):
    n = len(vals) // 2
    return struct.pack("<IQ", kind, n) + b"".join(struct.pack("<d", v) for v in vals)

def ckpt(has_best, step=10, epoch=2):
    b = b"NNRTCKPT" + struct.pack("<I", 3) + s(b"fz") + struct.pack("<IQQI", 4, 9, 9, 2)
    b += s(b"out.W") + struct.pack("<III", 2, 2, 3) + struct.pack("<QQI", 0, 6, 1)
    b += s(b"out.b") + struct.pack("<II", 1, 3) + struct.pack("<QQI", 6, 3, 1)
    b += struct.pack("<QIQd", step, epoch, 42, 0.25) + s(b"data.csv")
    b += struct.pack("<II", 1, 3) + s(b"blue") + s(b"green") + s(b"red")
    b += norm(1, [0.5, -1.0, 2.0, 3.0]) + norm(0, [])
    b += struct.pack("<IIdI", 1, 1, 0.125, has_best) + struct.pack("<I", 1) + struct.pack("<d", 2.0)
    reals = b"".join(struct.pack("<f", v / 8) for v in range(9))
    b += reals + reals + (reals if has_best else b"")
    return b + struct.pack("<I", zlib.crc32(b))

put("ckpt_plain", 4, ckpt(0))
put("ckpt_best", 4, ckpt(1))
put("ckpt_restored", 4, ckpt(2, step=20, epoch=4))
put("ckpt_crc_best", 5, ckpt(1))
put("ckpt_crc_restored", 5, ckpt(2, step=20, epoch=4))

put("log_plain", 6, b"epoch,loss,val_loss,val_accuracy,lr,seconds\n"
    b"1,1.2,0.9,0.5,0.01,0.002\n2,0.8,0.7,0.75,0.01,0.0021\n"
    b"3,0.5,0.6,0.8,0.005,0.0019\n")
put("log_resumed", 6, b"epoch,loss,accuracy,lr,seconds\n1,2,0.1,1e-3,1\n"
    b"2,1.5,0.2,1e-3,1\nepoch,loss,accuracy,lr,seconds\n2,1.4,0.25,1e-3,1\n"
    b"3,1e-310,1,1e-300,0\n")

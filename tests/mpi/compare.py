"""compare.py DIR_A DIR_B TOL: the .npy tensors of two exports agree,
each to TOL relative to its largest element (an element near zero has
no relative error of its own). Prints the worst tensor; exit 1 if over.
Reads the .npy files itself (float32 or float64, little-endian, as the
trainer's export writes them): no NumPy needed."""
import ast
import os
import struct
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit("%s: not a .npy file" % path)
    if data[6] == 1:
        hlen, start = struct.unpack("<H", data[8:10])[0], 10
    else:
        hlen, start = struct.unpack("<I", data[8:12])[0], 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    code = {"<f4": "f", "<f8": "d"}[header["descr"]]
    body = data[start + hlen:]
    return struct.unpack("<%d%s" % (len(body) // struct.calcsize(code),
                                    code), body)


a_dir, b_dir, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
names = sorted(f for f in os.listdir(a_dir) if f.endswith(".npy"))
if not names or names != sorted(f for f in os.listdir(b_dir)
                                if f.endswith(".npy")):
    sys.exit("tensors differ: %s vs %s" % (names, os.listdir(b_dir)))
worst, worst_name = 0.0, ""
for f in names:
    a = load(os.path.join(a_dir, f))
    b = load(os.path.join(b_dir, f))
    if len(a) != len(b):
        sys.exit("%s: %d elements vs %d" % (f, len(a), len(b)))
    scale = max(max(abs(v) for v in a), max(abs(v) for v in b), 1e-300)
    err = max(abs(x - y) for x, y in zip(a, b)) / scale
    if err >= worst:
        worst, worst_name = err, f
print("max relative difference %.3g (%s)" % (worst, worst_name))
sys.exit(0 if worst <= tol else 1)

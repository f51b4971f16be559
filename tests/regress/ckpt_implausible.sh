#!/bin/sh
# Regression: a checkpoint with a valid checksum but implausible fields
# was loaded as it was: epoch 0x7fffffff hung `train --resume` (it
# replays every epoch's shuffle), step 2^64-1 trained into NaN, a NaN or
# infinite tensor value loaded silently. Each field is now checked and a
# bad one refused by name. The checkpoints here are a good one with one
# field patched and the CRC recomputed.
. tests/tools/lib.sh
F=$(pwd)/$TMP/fake
$CC -std=c11 -O2 -Iruntime tests/runtime/fake_linear.c build/libnnrt.a \
	$BLAS_LIBS -lz -lm -o "$F" || exit 1
cp -r tests/runtime/data "$TMP/" && cd "$TMP" || exit 1
TMP=.
"$F" train --epochs 3 --checkpoint "$TMP/good.ckpt" >/dev/null || exit 1
# patch NAME FIELD VALUE: good.ckpt with FIELD set, as NAME.ckpt
patch() {
	/usr/bin/python3 - "$TMP/good.ckpt" "$TMP/$1.ckpt" "$2" "$3" <<'PY'
import struct, sys, zlib
src, dst, field, value = sys.argv[1:]
b = bytearray(open(src, "rb").read())
p = 12
def u32():
    global p
    p += 4
    return struct.unpack_from("<I", b, p - 4)[0]
def skip_str():
    global p
    n = u32()
    p += n
skip_str()                                  # model
rs = u32(); p += 16; nt = u32()             # real_size, n_params, n_state
for _ in range(nt):
    skip_str()
    rank = u32()
    p += 4 * rank + 20         # name, dims, offset, size, trainable
at = {"step": p, "epoch": p + 8, "seed": p + 12, "validation": p + 20}
end = len(b) - 4
if field in at:
    fmt = {"step": "<Q", "epoch": "<I", "seed": "<Q", "validation": "<d"}[field]
    struct.pack_into(fmt, b, at[field], float(value) if fmt == "<d" else int(value, 0))
elif field == "param":                      # the first tensor's first number
    n_params, n_state = struct.unpack_from("<QQ", b, 16 + struct.unpack_from("<I", b, 12)[0] + 4)
    struct.pack_into("<d", b, end - 8 * (n_params + n_state), float(value))
elif field == "state":
    struct.pack_into("<d", b, end - 8, float(value))
struct.pack_into("<I", b, end, zlib.crc32(bytes(b[:end])))
open(dst, "wb").write(b)
PY
}
# refused NAME TEXT: resuming NAME.ckpt fails at once, naming the field
refused() {
	timeout 20 "$F" train --epochs 5 --resume "$TMP/$1.ckpt" \
		--checkpoint "$TMP/out.ckpt" >"$TMP/$1.out" 2>&1
	rc=$?
	if [ "$rc" -ne 1 ] || ! grep -qF -- "$2" "$TMP/$1.out"; then
		echo "$1: exit $rc, expected 1 and '$2':"
		cat "$TMP/$1.out"
		return 1
	fi
}
st=0
patch epoch epoch 0x7fffffff && refused epoch "epoch 2147483647 is more than" || st=1
patch step step 0xffffffffffffffff &&
	refused step "step 18446744073709551615 is more than 2^53" || st=1
patch early epoch 20 && refused early "epoch 20 after only 15 steps" || st=1
# step 0 is no exemption any more: import resets the epoch to 0 as well
patch zero step 0 && refused zero "epoch 3 after only 0 steps" || st=1
patch seed seed 0x7fffffffffffffff && refused seed "seed 9223372036854775807" || st=1
patch val validation nan && refused val "validation fraction nan" || st=1
patch nan param nan && refused nan "tensor 'lin.W' element 0 is nan" || st=1
patch inf param inf && refused inf "tensor 'lin.W' element 0 is inf" || st=1
patch state state -inf && refused state "optimizer state number 2 is -inf" || st=1
# the file is the one named, and a good checkpoint still resumes
grep -q "^fake: ./nan.ckpt: implausible checkpoint: " nan.out || st=1
patch same step 15 && "$F" train --epochs 5 --resume "$TMP/same.ckpt" \
	--checkpoint "$TMP/out.ckpt" >/dev/null || st=1
exit $st

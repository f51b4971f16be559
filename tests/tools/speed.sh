#!/bin/sh
# Speed tier: what makes training fast does not change its numbers.
#   - nnc -O0 (the naive reference) and the default level agree over 50
#     steps of dense, relu, batchnorm, softmax cross-entropy and Adam:
#     the epoch losses, and every tensor after them (relative to the
#     tensor's largest entry: 1e-5 in f32, 1e-12 in f64; the dense
#     before batchnorm has no bias, whose gradient is zero but for
#     rounding, which Adam would scale up to a step);
#   - flush-to-zero (train.c) acts in f32 (the optimizer state differs,
#     the run's subnormals are flushed), changes the losses by less than
#     1e-5 relative, and is off in f64, with --no-ftz and NNRT_FTZ=0;
#   - --threads 2 gives the losses of one thread (1e-5 relative);
#   - the update's folded finiteness check stops a run whose update
#     makes a parameter infinite.
cd "$(dirname "$0")/../.." || exit 2
TIER=speed
. tests/tools/lib.sh
PY=${TORCH_PYTHON:-/usr/bin/python3}

# losses_agree A.csv B.csv TOL: the loss column of two logs, relative
losses_agree() {
	paste -d, "$1" "$2" | tail -n +2 | awk -F, -v tol="$3" -v n="$(head -1 "$1" | tr ',' '\n' | wc -l)" '
		{ a = $2; b = $(n + 2); d = a - b; if (d < 0) d = -d
		  m = a < 0 ? -a : a; if (d > tol * m) bad = 1; rows++ }
		END { exit bad || rows == 0 }'
}

# tensors_agree DIR_A DIR_B TOL: every .npy of A matches B's
tensors_agree() {
	"$PY" - "$1" "$2" "$3" <<'EOT'
import glob, os, sys
import numpy as np
a, b, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
files = sorted(glob.glob(os.path.join(a, "*.npy")))
worst = 0.0
for f in files:
    x = np.load(f).astype(np.float64)
    y = np.load(os.path.join(b, os.path.basename(f))).astype(np.float64)
    scale = max(np.abs(x).max(), 1e-30)
    worst = max(worst, np.abs(x - y).max() / scale)
print("%d tensors, max relative difference %.2e" % (len(files), worst))
sys.exit(0 if files and worst <= tol else 1)
EOT
}

# ---- -O0 and the default level: 5 epochs of 10 steps ---------------
cat >"$TMP/oz.nn" <<'EOT'
model oz
input  x[4]
target y : class(3)
h      = relu(batchnorm(dense(x, 16, bias = false)))
logits = dense(h, 3)
output probs = softmax(logits)
loss = cross_entropy(logits, y)
optimizer adam(lr = 0.01)
train {
  data       = csv("examples/data/iris.csv", skip = 1, x = 0:4, y = 4)
  normalize  = standard
  validation = 0
  batch      = 16
  epochs     = 5
  seed       = 3
}
EOT
for prec in f32 f64; do
	tol=1e-5
	[ $prec = f64 ] && tol=1e-12
	d=$TMP/oz_$prec
	mkdir -p "$d"
	if ! build_trainer "$TMP/oz.nn" "$d/o0" -O0 --precision=$prec ||
	   ! build_trainer "$TMP/oz.nn" "$d/od" --precision=$prec; then
		not_ok "-O0 and default agree ($prec)" "build failed" "$d/o0.log"
		continue
	fi
	for v in o0 od; do
		"$d/$v" train --checkpoint "$d/$v.ckpt" --log "$d/$v.csv" \
			>"$d/$v.out" 2>&1 &&
		"$d/$v" export --checkpoint "$d/$v.ckpt" --npy "$d/$v.npy" \
			>>"$d/$v.out" 2>&1
	done
	steps=$(grep -c . "$d/od.csv")
	if losses_agree "$d/o0.csv" "$d/od.csv" $tol &&
	   tensors_agree "$d/o0.npy" "$d/od.npy" $tol >"$d/cmp" 2>&1 &&
	   [ "$steps" = 6 ]; then
		ok "-O0 and default agree over 50 steps ($prec, $(cat "$d/cmp"))"
	else
		paste "$d/o0.csv" "$d/od.csv" >>"$d/cmp"
		not_ok "-O0 and default agree over 50 steps ($prec)" \
			"losses or tensors differ by more than $tol" "$d/cmp"
	fi
done

# ---- flush-to-zero ---------------------------------------------------
# Column x1 is ~1e-19: its weights' gradients are ~1e-20, their squares
# in Adam's v subnormal in f32 (below 1.2e-38), which FTZ flushes.
awk 'BEGIN { srand(7); print "x0,x1,y"
	for (i = 0; i < 200; i++) {
		a = rand() * 4 - 2; b = (rand() * 2 - 1) * 1e-19
		printf "%.4f,%.6g,%d\n", a, b, (a > 0.3) }
}' >"$TMP/tiny.csv"
cat >"$TMP/tiny.nn" <<EOT
model tiny
input  x[2]
target y : class(2)
h      = relu(dense(x, 8))
logits = dense(h, 2)
output probs = softmax(logits)
loss = cross_entropy(logits, y)
optimizer adam(lr = 0.01)
train {
  data       = csv("$TMP/tiny.csv", skip = 1, x = 0:2, y = 2)
  validation = 0
  batch      = 20
  epochs     = 20
  seed       = 1
}
EOT
for prec in f32 f64; do
	d=$TMP/ftz_$prec
	mkdir -p "$d"
	if ! build_trainer "$TMP/tiny.nn" "$d/t" --precision=$prec; then
		not_ok "ftz ($prec)" "build failed" "$d/t.log"
		continue
	fi
	"$d/t" train --checkpoint "$d/on.ckpt" --log "$d/on.csv" >"$d/out" 2>&1
	"$d/t" train --no-ftz --checkpoint "$d/off.ckpt" --log "$d/off.csv" \
		>>"$d/out" 2>&1
	NNRT_FTZ=0 "$d/t" train --checkpoint "$d/env.ckpt" --log "$d/env.csv" \
		>>"$d/out" 2>&1
	if ! cmp -s "$d/off.ckpt" "$d/env.ckpt"; then
		not_ok "ftz ($prec): NNRT_FTZ=0 is --no-ftz" "checkpoints differ" "$d/out"
	elif [ $prec = f64 ]; then
		if cmp -s "$d/on.ckpt" "$d/off.ckpt"; then
			ok "ftz: off in f64 (a run with and without is bit for bit the same)"
		else
			not_ok "ftz: off in f64" "--no-ftz changed an f64 run" "$d/out"
		fi
	elif cmp -s "$d/on.ckpt" "$d/off.ckpt"; then
		not_ok "ftz: on in f32" "no subnormal was flushed: the checkpoints are the same" "$d/out"
	elif losses_agree "$d/on.csv" "$d/off.csv" 1e-5; then
		ok "ftz: on in f32, losses within 1e-5 of --no-ftz (and NNRT_FTZ=0 = --no-ftz)"
	else
		paste "$d/on.csv" "$d/off.csv" >>"$d/out"
		not_ok "ftz: f32 losses within 1e-5 of --no-ftz" "they differ" "$d/out"
	fi
done

# ---- threads ---------------------------------------------------------
d=$TMP/oz_f32
if [ -x "$d/od" ] &&
   "$d/od" train --threads 2 --checkpoint "$d/t2.ckpt" --log "$d/t2.csv" \
	>"$d/t2.out" 2>&1 && losses_agree "$d/od.csv" "$d/t2.csv" 1e-5; then
	ok "--threads 2 trains as one thread does"
else
	not_ok "--threads 2 trains as one thread does" "failed or losses differ" "$d/t2.out"
fi
# ---- the finiteness check folded into the update -------------------
# A rate of 1e39 is an infinite f32 rate: the first update makes the
# parameters infinite while that step's loss was finite. The update's
# own check (emit_optim.c) must stop the run there, naming the tensor.
d=$TMP/inf
mkdir -p "$d"
if build_trainer examples/xor.nn "$d/xor"; then
	"$d/xor" train --lr 1e39 --checkpoint "$d/x.ckpt" >"$d/out" 2>&1
	rc=$?
	if [ $rc = 1 ] && grep -q "parameter 'h.W' is -inf at epoch 1, step 1" "$d/out"; then
		ok "an update that makes a parameter infinite stops the run at that step"
	else
		echo "exit $rc" >>"$d/out"
		not_ok "an update that makes a parameter infinite" "not stopped" "$d/out"
	fi
else
	not_ok "an update that makes a parameter infinite" "build failed" "$d/xor.log"
fi
finish

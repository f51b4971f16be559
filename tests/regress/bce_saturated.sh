#!/bin/sh
# Regression: bce's gradient was NaN where sigmoid saturates to exactly 1
# (0/0 in the derivative of log(1 - p)), so one confident, correct
# prediction turned every weight into NaN; and max() hid the NaN loss by
# returning the clamp bound (-100), so training "succeeded" with loss 100.
# Now bce is one op with PyTorch's derivative (p - y) / max(p (1 - p),
# 1e-12), and max propagates NaN.
. tests/tools/lib.sh
T=$TMP/bce_saturated
build_trainer tests/torch/bce_saturated.nn "$T" || { cat "$T.log"; exit 1; }
mkdir -p "$T.npy"
/usr/bin/python3 -c "
import numpy as np
np.save('$T.npy/yhat.W.npy', np.array([[40]], dtype=np.float32))
np.save('$T.npy/yhat.b.npy', np.array([0], dtype=np.float32))" || exit 1
"$T" import --npy "$T.npy" --checkpoint "$T.init" >/dev/null || exit 1
"$T" train --resume "$T.init" --checkpoint "$T.ckpt" >"$T.out" 2>&1 || { cat "$T.out"; exit 1; }
"$T" export --checkpoint "$T.ckpt" --npy "$T.out.npy" >/dev/null || exit 1
/usr/bin/python3 -c "
import numpy as np, sys
w = np.load('$T.out.npy/yhat.W.npy'); b = np.load('$T.out.npy/yhat.b.npy')
sys.exit(0 if np.isfinite(w).all() and np.isfinite(b).all() and abs(w[0,0] - 40) < 1e-3 else 1)"

#!/bin/sh
# Regression: a loss that became NaN did not stop training when it went
# through bce, because the clamp max(log p, -100) returned -100 for a NaN
# log; the run "succeeded" with loss 100 and exit 0. max() now propagates
# NaN and the trainer stops with a non-zero exit. Here the weights are NaN
# from the start (imported); since checkpoints are checked for
# non-finite numbers (ckpt_implausible.sh), the resume refuses them
# before the first step, which is also a failed run. The bce NaN path
# itself is checked by tests/unit/test_ir.c (op_eval of bce on a NaN
# probability is NaN: the same expression as the emitted C).
. tests/tools/lib.sh
T=$TMP/bce
build_trainer tests/torch/bce_saturated.nn "$T" || { cat "$T.log"; exit 1; }
mkdir -p "$T.npy"
/usr/bin/python3 -c "
import numpy as np
np.save('$T.npy/yhat.W.npy', np.array([[np.nan]], dtype=np.float32))
np.save('$T.npy/yhat.b.npy', np.array([0], dtype=np.float32))" || exit 1
"$T" import --npy "$T.npy" --checkpoint "$T.init" >/dev/null || exit 1
"$T" train --resume "$T.init" --checkpoint "$T.ckpt" >"$T.out" 2>&1
rc=$?
cat "$T.out"
[ "$rc" -ne 0 ] && grep -qE "loss is nan|tensor 'yhat.W' element 0 is nan" "$T.out"

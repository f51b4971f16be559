#!/bin/sh
# Targets tier: targets, metrics and inputs end to end, on trainers
# generated from tests/e2e/units.nn (a [2] target from columns 5:7 with
# normalize_target, mae and rmse) and tests/e2e/colors.nn (string class
# labels): the epoch line, the log, eval, the test line and predict, with
# the metrics recomputed by hand in Python from predict's output, the
# data and the exported target statistics; and tests/e2e/two_inputs.nn,
# two inputs from their own columns, trained, predicted from the
# training layout and from features only, and checked against a numpy
# forward pass of the exported tensors.
cd "$(dirname "$0")/../.." || exit 2
TIER=targets
. tests/tools/lib.sh
PY=/usr/bin/python3

for m in units colors two_inputs; do
	if ! build_trainer "tests/e2e/$m.nn" "$TMP/$m"; then
		not_ok "$m builds" "nnc or cc failed" "$TMP/$m.log"
		finish
		exit 1
	fi
done
U=$TMP/units
C=$TMP/colors
DATA=tests/e2e/data/units.csv

# --- normalize_target, mae, rmse: the epoch line, the log, final -------
"$U" train --checkpoint "$U.ckpt" --log "$U.log.csv" --test "$DATA" \
	>"$U.train" 2>&1
num='[0-9]+\.[0-9]{4}'
if grep -qE "^epoch 40/40 loss $num val_loss $num val_mae $num val_rmse $num lr 0\.02$" "$U.train" &&
	grep -qE "^final val_loss $num val_mae $num val_rmse $num \(epoch 40\)$" "$U.train"; then
	ok "units: the epoch and final lines carry val_mae and val_rmse"
else
	not_ok "units: epoch lines with val_mae, val_rmse" "no such line" "$U.train"
fi
if [ "$(head -1 "$U.log.csv")" = "epoch,loss,val_loss,val_mae,val_rmse,lr,seconds" ] &&
	[ "$(wc -l <"$U.log.csv")" = 41 ]; then
	ok "units: the log's columns are epoch,loss,val_loss,val_mae,val_rmse,lr,seconds"
else
	not_ok "units: the log's columns" "header or row count" "$U.log.csv"
fi

# eval on every row and the test line: the metrics against a hand
# computation from predict (in the target's units) and the data; the
# loss against the same predictions scaled by the exported statistics
"$U" eval --checkpoint "$U.ckpt" --data "$DATA" >"$U.eval" 2>&1 &&
"$U" predict --checkpoint "$U.ckpt" --output "$U.pred" >>"$U.eval" 2>&1 &&
"$U" export --checkpoint "$U.ckpt" --npy "$TMP/npy" >>"$U.eval" 2>&1
if "$PY" - "$U.eval" "$U.train" "$U.pred" "$DATA" "$TMP/npy" >"$U.check" 2>&1 <<'EOF'
import sys
import numpy as np
ev, tr, pred, data, npy = sys.argv[1:]
def numbers(path, prefix):
    line = [l for l in open(path) if l.startswith(prefix + " ")][0].split()
    return {line[i]: float(line[i + 1]) for i in range(1, len(line) - 2, 2)}
e, t = numbers(ev, "eval"), numbers(tr, "test")
p = np.loadtxt(pred, delimiter=",", skiprows=1)
y = np.loadtxt(data, delimiter=",", skiprows=1)[:, 5:7]
shift = np.load(npy + "/normalize_target.shift.npy")
scale = np.load(npy + "/normalize_target.scale.npy")
assert p.shape == (80, 10), p.shape     # yhat [2], then h [8] as computed
err = p[:, :2] - y
mae, rmse = np.abs(err).mean(), np.sqrt((err ** 2).mean())
loss = ((err / scale) ** 2).mean()
for got in (e, t):
    assert abs(got["mae"] - mae) < 2e-3 * mae, (got, mae)
    assert abs(got["rmse"] - rmse) < 2e-3 * rmse, (got, rmse)
    assert abs(got["loss"] - loss) < 1e-3 + 1e-2 * loss, (got, loss)
assert abs(p[:, 0].mean() - 500) < 30 and abs(p[:, 1].mean() + 20) < 3
assert abs(shift[0] - 500) < 30 and scale[0] > 30, (shift, scale)
assert np.abs(p[:, 2:]).max() <= 1, "h is a tanh, not in the target's units"
assert mae < 15, mae
print("mae %.4f rmse %.4f loss %.4f by hand" % (mae, rmse, loss))
EOF
then
	ok "units: eval and test mae, rmse (target units) and loss (scaled) match predict by hand: $(cat "$U.check")"
else
	not_ok "units: metrics by hand" "python check failed" "$U.check"
fi

# --- string class labels: predict writes them; unseen labels fail -----
"$C" train --checkpoint "$C.ckpt" >"$C.train" 2>&1 &&
"$C" predict --checkpoint "$C.ckpt" --output "$C.pred" >>"$C.train" 2>&1
tail -n +2 tests/runtime/data/blobs.csv >"$TMP/blobs.rows"
right=$(tail -n +2 "$C.pred" | cut -d, -f4 |
	paste -d, - "$TMP/blobs.rows" | awk -F, '$1 == $4' | wc -l)
if [ "$(head -1 "$C.pred")" = "p_0,p_1,p_2,class" ] && [ "$right" -ge 57 ]; then
	ok "colors: predict writes the string labels ($right/60 right)"
else
	not_ok "colors: predict writes labels" "$right/60 rows match" "$C.pred"
fi
{ head -3 tests/runtime/data/blobs.csv; echo "20.5,40.25,purple"; } >"$TMP/purple.csv"
want="$TMP/purple.csv:4: column 3: class label 'purple' was not in the training data (its 3 labels: blue, green, red)"
for cmd in "eval --data" "predict --input"; do
	# shellcheck disable=SC2086
	"$C" $cmd "$TMP/purple.csv" --checkpoint "$C.ckpt" >"$C.bad" 2>&1
	rc=$?
	if [ $rc = 1 ] && grep -qxF "colors: $want" "$C.bad"; then
		ok "colors: $cmd names the file, line, column and unseen label"
	else
		not_ok "colors: $cmd of an unseen label" "exit $rc" "$C.bad"
	fi
done

# --- two inputs: a = 0:3, b = 3:5 ------------------------------------
T=$TMP/two_inputs
"$T" train --checkpoint "$T.ckpt" >"$T.train" 2>&1 &&
"$T" predict --checkpoint "$T.ckpt" --output "$T.pred" >>"$T.train" 2>&1 &&
cut -d, -f1-5 "$DATA" >"$TMP/features.csv" &&
"$T" predict --checkpoint "$T.ckpt" --input "$TMP/features.csv" \
	--output "$T.pred2" >>"$T.train" 2>&1 &&
"$T" export --checkpoint "$T.ckpt" --npy "$TMP/npy2" >>"$T.train" 2>&1
if "$PY" - "$T.pred" "$T.pred2" "$DATA" "$TMP/npy2" "$T.train" >"$T.check" 2>&1 <<'EOF'
import sys
import numpy as np
pred, pred2, data, d, train = sys.argv[1:]
L = lambda n: np.load("%s/%s.npy" % (d, n)).astype(np.float64)
raw = np.loadtxt(data, delimiter=",", skiprows=1)
x = (raw[:, :5] - L("normalize.shift")) / L("normalize.scale")
a, b, y = x[:, :3], x[:, 3:5], raw[:, 5]
h = np.tanh(a @ L("h.W") + L("h.b"))
g = np.tanh(b @ L("g.W") + L("g.b"))
z = h @ L("yhat.1.W") + L("yhat.1.b") + g @ L("yhat.2.W") + L("yhat.2.b")
want = z[:, 0] * L("normalize_target.scale")[0] + L("normalize_target.shift")[0]
got = np.loadtxt(pred, delimiter=",", skiprows=1)
assert open(pred).read() == open(pred2).read(), "features-only input differs"
assert np.allclose(got, want, rtol=1e-4, atol=1e-3), abs(got - want).max()
mae = np.abs(got - y).mean()
line = [l for l in open(train) if l.startswith("final ")][0].split()
assert abs(float(line[line.index("mae") + 1]) - mae) < 2e-3 * mae, (line, mae)
assert mae < 20, mae
print("mae %.4f" % mae)
EOF
then
	ok "two inputs: trained, predict (training layout and features only) matches numpy's forward pass: $(cat "$T.check")"
else
	not_ok "two inputs: predict against numpy" "python check failed" "$T.check"
fi
finish

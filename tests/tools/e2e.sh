#!/bin/sh
# End-to-end tier: the supported examples train to the thresholds in their
# headers, every trainer subcommand works on a real generated trainer, bad
# data is rejected clearly, -O0 and -O1 trainers agree, runs are
# reproducible, and an installed nnrt builds a trainer through pkg-config.
cd "$(dirname "$0")/../.." || exit 2
TIER=e2e
. tests/tools/lib.sh

# field NAME FILE: the value after NAME on the last line that has it
field() {
	grep -E "(^| )$1 " "$2" | tail -1 | sed -E "s/.*(^| )$1 ([^ ]+).*/\2/"
}

# check NAME COMMAND...: ok if the command succeeds
check() {
	name=$1
	shift
	if "$@" >"$TMP/check.log" 2>&1; then
		ok "$name"
	else
		not_ok "$name" "failed: $*" "$TMP/check.log"
	fi
}

below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
atleast() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

X=$TMP/xor
if ! build_trainer examples/xor.nn "$X"; then
	not_ok "xor builds" "nnc or cc failed" "$X.log"
	finish
	exit 1
fi
ok "xor builds with -Wall -Wextra -Werror"

# --- xor: loss < 0.05 and 4/4 correct (its header) -------------------
"$X" train --checkpoint "$TMP/xor.ckpt" >"$TMP/xor.train" 2>&1
loss=$(field loss "$TMP/xor.train")
if [ -n "$loss" ] && below "$loss" 0.05; then
	ok "xor trains to loss $loss < 0.05"
else
	not_ok "xor trains to loss < 0.05" "final loss '$loss'" "$TMP/xor.train"
fi
if grep -qE '^epoch 500/500 loss [0-9.]+ lr 0.5$' "$TMP/xor.train"; then
	ok "xor prints one greppable line per epoch"
else
	not_ok "xor epoch lines" "no 'epoch 500/500 loss X lr 0.5' line" "$TMP/xor.train"
fi
"$X" predict --checkpoint "$TMP/xor.ckpt" >"$TMP/xor.pred" 2>&1
right=$(tail -n +2 "$TMP/xor.pred" | paste -d, - examples/data/xor.csv |
	awk -F, '{ if (($1 > 0.5) == ($4 > 0.5)) n++ } END { print n + 0 }')
if [ "$right" = 4 ]; then
	ok "xor predicts 4/4"
else
	not_ok "xor predicts 4/4" "$right/4 correct" "$TMP/xor.pred"
fi
check "xor summary" sh -c "'$X' summary | grep -q 'h.W *\[2, 8\] *16'"
check "xor gradcheck (f32)" "$X" gradcheck
check "xor eval" sh -c "'$X' eval --checkpoint '$TMP/xor.ckpt' | grep -q '^eval loss'"

# export, then import into a new checkpoint: same predictions
rm -rf "$TMP/npy"
check "xor export --npy" sh -c "'$X' export --checkpoint '$TMP/xor.ckpt' --npy '$TMP/npy' && test -f '$TMP/npy/h.W.npy' && test -f '$TMP/npy/yhat.b.npy'"
check "xor import --npy" "$X" import --npy "$TMP/npy" --checkpoint "$TMP/xor2.ckpt"
"$X" predict --checkpoint "$TMP/xor2.ckpt" >"$TMP/xor2.pred" 2>&1
if cmp -s "$TMP/xor.pred" "$TMP/xor2.pred"; then
	ok "xor predictions identical after export and import"
else
	not_ok "xor export/import round trip" "predictions differ" "$TMP/xor2.pred"
fi
check "every xor subcommand answers --help" sh -c "for c in train eval predict gradcheck summary export import; do '$X' \$c --help | grep -q usage || exit 1; done"

# --- reproducible, and -O0 agrees with -O1 ---------------------------
"$X" train --epochs 30 --checkpoint "$TMP/a.ckpt" >"$TMP/run1" 2>&1
"$X" train --epochs 30 --checkpoint "$TMP/b.ckpt" >"$TMP/run2" 2>&1
sed -i '/checkpoint/d' "$TMP/run1" "$TMP/run2"
if cmp -s "$TMP/run1" "$TMP/run2"; then
	ok "same seed, same run"
else
	not_ok "same seed, same run" "outputs differ" "$TMP/run2"
fi
if build_trainer examples/xor.nn "$TMP/xor0" -O0; then
	"$TMP/xor0" train --epochs 30 --checkpoint "$TMP/c.ckpt" >"$TMP/run0" 2>&1
	l1=$(field loss "$TMP/run1")
	l0=$(field loss "$TMP/run0")
	if [ -n "$l0" ] && awk -v a="$l0" -v b="$l1" \
		'BEGIN { d = a - b; exit !(d < 1e-4 && d > -1e-4) }'; then
		ok "-O0 and -O1 trainers agree (loss $l0 vs $l1)"
	else
		not_ok "-O0 and -O1 agree" "loss '$l0' vs '$l1'" "$TMP/run0"
	fi
else
	not_ok "xor builds at -O0" "nnc or cc failed" "$TMP/xor0.log"
fi
# iris over 7 epochs (56 steps): -O1's softmax_xent, relu mask from the
# output and fused loops against -O0's plain ops; every epoch's loss and
# val_loss in the log (columns 2 and 3) to 1e-5
if build_trainer examples/iris.nn "$TMP/iris0" -O0 &&
	build_trainer examples/iris.nn "$TMP/iris1" -O1; then
	for o in 0 1; do
		"$TMP/iris$o" train --epochs 7 --checkpoint "$TMP/iris$o.ckpt" \
			--log "$TMP/iris$o.csv" >"$TMP/iris$o.run" 2>&1
	done
	if [ "$(wc -l <"$TMP/iris1.csv")" -eq 8 ] &&
		paste -d, "$TMP/iris0.csv" "$TMP/iris1.csv" | awk -F, '
		NR > 1 { for (c = 2; c <= 3; c++) { d = $c - $(c + 6)
			if (d > 1e-5 || d < -1e-5) bad = 1 } }
		END { exit bad }'; then
		ok "iris -O0 and -O1 agree over 56 steps (7 epoch losses to 1e-5)"
	else
		not_ok "iris -O0 and -O1 agree" "epoch losses differ" "$TMP/iris1.csv"
	fi
else
	not_ok "iris builds at -O0 and -O1" "nnc or cc failed" "$TMP/iris0.log"
fi

# reaches NAME METRIC OP BOUND: examples/NAME.nn builds, trains as its
# train block says and ends with METRIC >= BOUND (OP ge) or < BOUND (OP
# lt): the threshold in its header
reaches() {
	T=$TMP/$1
	if ! build_trainer "examples/$1.nn" "$T"; then
		not_ok "$1 builds" "nnc or cc failed" "$T.log"
		return
	fi
	"$T" train --checkpoint "$T.ckpt" >"$T.train" 2>&1
	v=$(field "$2" "$T.train")
	if [ "$3" = ge ] && [ -n "$v" ] && atleast "$v" "$4"; then
		ok "$1 reaches $2 $v >= $4"
	elif [ "$3" = lt ] && [ -n "$v" ] && below "$v" "$4"; then
		ok "$1 reaches $2 $v < $4"
	else
		not_ok "$1 $2 $3 $4" "got '$v'" "$T.train"
	fi
}

reaches iris val_accuracy ge 0.85
I=$TMP/iris          # the bad-data tests below use its trainer
reaches digits_cnn val_accuracy ge 0.95
reaches breast_cancer val_accuracy ge 0.92
reaches diabetes val_mae lt 55

# --- a schedule's state survives --resume: 10 epochs = 5 + 5 ---------
# tests/e2e/plateau_resume.nn: warmup then plateau, which cuts the rate
# before epoch 5 and after it; the resumed run must match bit for bit.
R=$TMP/plateau
if build_trainer tests/e2e/plateau_resume.nn "$R"; then
	{ "$R" train --checkpoint "$TMP/full.ckpt" --log "$TMP/full.csv" &&
		"$R" train --epochs 5 --checkpoint "$TMP/half.ckpt" \
			--log "$TMP/half.csv" &&
		"$R" train --resume "$TMP/half.ckpt" --checkpoint "$TMP/half.ckpt" \
			--log "$TMP/half.csv"; } >"$TMP/plateau.out" 2>&1
	if cmp -s "$TMP/full.ckpt" "$TMP/half.ckpt" &&
		sed 's/,[^,]*$//' "$TMP/full.csv" >"$TMP/full.cols" &&
		sed 's/,[^,]*$//' "$TMP/half.csv" >"$TMP/half.cols" &&
		cmp -s "$TMP/full.cols" "$TMP/half.cols"; then
		ok "plateau schedule: 5 epochs + --resume 5 = 10, checkpoint and log (all but seconds) bit for bit"
	else
		not_ok "plateau schedule resumes" "checkpoints or logs differ" "$TMP/plateau.out"
	fi
	rates=$(cut -d, -f4 "$TMP/full.csv" | tail -n +2 | tr '\n' ' ')
	if echo "$rates" | awk '{ exit !($5 < $1 && $10 < $6) }'; then
		ok "plateau cuts the rate before and after epoch 5 ($rates)"
	else
		not_ok "plateau cuts the rate before and after epoch 5" "rates $rates" "$TMP/full.csv"
	fi
else
	not_ok "plateau_resume builds" "nnc or cc failed" "$R.log"
fi

# --- bad data: a clear error naming file and line, non-zero exit -----
# resume: 10 epochs equal 5 + train --resume 5, byte for byte
R=$TMP/resume
if build_trainer tests/e2e/resume.nn "$R" --precision=f64; then
	"$R" train --checkpoint "$R.a" >"$R.a.out" 2>&1 &&
	"$R" train --epochs 5 --checkpoint "$R.b" >/dev/null 2>&1 &&
	"$R" train --resume "$R.b" --checkpoint "$R.b" >"$R.b.out" 2>&1
	rc=$?
	grep -E '^(epoch ([6-9]|10)/|final)' "$R.a.out" >"$R.a.lines"
	grep -E '^(epoch|final)' "$R.b.out" >"$R.b.lines"
	# the plateau schedule must have cut the rate after epoch 5
	if [ $rc = 0 ] && cmp -s "$R.a" "$R.b" &&
	   cmp -s "$R.a.lines" "$R.b.lines" && [ -s "$R.b.lines" ] &&
	   grep -q '^epoch 10/10 .* lr 0\.0125$' "$R.a.out"; then
		ok "resume: 10 epochs = 5 + 5 (batchnorm, dropout, plateau, split, momentum)"
	else
		not_ok "resume: 10 epochs = 5 + 5" "checkpoints or epoch lines differ, or plateau never cut the rate" "$R.a.out"
	fi
else
	not_ok "resume model builds" "nnc or cc failed" "$R.log"
fi

bad() {
	name=$1 file=$2 want=$3
	"$I" train --data "$file" --epochs 1 --checkpoint "$TMP/bad.ckpt" \
		>"$TMP/bad.out" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && grep -qF -- "$want" "$TMP/bad.out"; then
		ok "bad data: $name"
	else
		not_ok "bad data: $name" "exit $rc, expected message '$want'" "$TMP/bad.out"
	fi
}
head -5 examples/data/iris.csv >"$TMP/good.csv"
{ head -3 "$TMP/good.csv"; echo "5.1,3.5,1.4"; } >"$TMP/ragged.csv"
{ head -3 "$TMP/good.csv"; echo "5.1,abc,1.4,0.2,0"; } >"$TMP/nan.csv"
{ head -3 "$TMP/good.csv"; echo "5.1,3.5,1.4,0.2,7"; } >"$TMP/label.csv"
bad "missing file" "$TMP/none.csv" "$TMP/none.csv"
bad "ragged row" "$TMP/ragged.csv" "$TMP/ragged.csv:4:"
bad "not a number" "$TMP/nan.csv" "$TMP/nan.csv:4:"
bad "label out of range" "$TMP/label.csv" "$TMP/label.csv:4:"
test -e "$TMP/bad.ckpt" && not_ok "bad data writes no checkpoint" "$TMP/bad.ckpt exists" || ok "bad data writes no checkpoint"

# --- install, then build through pkg-config ---------------------------
if make -s install PREFIX="$PWD/$TMP/prefix" >"$TMP/install.log" 2>&1; then
	P=$PWD/$TMP/prefix
	if PATH="$P/bin:$PATH" nnc examples/xor.nn -o "$TMP/xi.c" &&
		$CC -O2 "$TMP/xi.c" $(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config \
			--cflags --libs nnrt) -o "$TMP/xi" >>"$TMP/install.log" 2>&1 &&
		"$TMP/xi" summary >/dev/null; then
		ok "installed nnc + pkg-config nnrt build a trainer"
	else
		not_ok "pkg-config build" "failed" "$TMP/install.log"
	fi
else
	not_ok "make install" "failed" "$TMP/install.log"
fi
finish

#!/usr/bin/env bash
#
# tests/runtime/run.sh - the runtime library's tests.
#
# Builds hand-written fake models (fake_linear.c: logistic regression;
# fake_softmax.c: three classes with string labels, a validation split,
# normalisation and early stopping) against build/libnnrt.a and checks
# what the trainer does: training, determinism, output formats,
# checkpoints, export/import, predict, bad data, gradcheck, summary.
#
# Run from anywhere after `make build/libnnrt.a`. Prints `NAME ... ok`
# or `NAME ... FAILED` (with the test's log), then a count line, and
# exits 1 if anything failed. LIBNNRT=path tests another build of the
# library; EXTRA_CFLAGS (e.g. -fsanitize=address,undefined) is added
# when building the fakes.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build/tests/runtime
W=$B/work
ERR=$ROOT/tests/errors-data
PY=/usr/bin/python3
CC=${CC:-cc}
LIBNNRT=${LIBNNRT:-$ROOT/build/libnnrt.a}
EXTRA_CFLAGS=${EXTRA_CFLAGS:-}

passed=0
failed=0

# ---- helpers --------------------------------------------------------

run_test() {
	local name=$1
	if (cd "$W" && "t_$name") >"$B/$name.log" 2>&1; then
		echo "$name ... ok"
		passed=$((passed + 1))
	else
		echo "$name ... FAILED"
		sed 's/^/    /' "$B/$name.log" | tail -n 25
		failed=$((failed + 1))
	fi
}

fail() {
	echo "FAIL: $*"
	return 1
}

# expect CODE TEXT CMD...: CMD exits with CODE and prints TEXT (fixed
# string) on stdout or stderr.
expect() {
	local code=$1 text=$2 rc
	shift 2
	"$@" >out.txt 2>err.txt
	rc=$?
	if [ "$rc" != "$code" ]; then
		cat out.txt err.txt
		fail "'$*' exited $rc, expected $code"
		return 1
	fi
	if ! grep -qF -- "$text" out.txt err.txt; then
		cat out.txt err.txt
		fail "'$*' did not print '$text'"
		return 1
	fi
}

# The number after KEY on the line starting with PREFIX.
field() {
	awk -v p="$1" -v k="$2" '$1 == p { for (i = 1; i < NF; i++)
		if ($i == k) { print $(i + 1); exit } }' "$3"
}

# ---- the tests ------------------------------------------------------

t_help() {
	expect 2 "usage: fake <command>" "$B/fake" || return 1
	expect 0 "predict" "$B/fake" --help || return 1
	for c in train init eval predict gradcheck summary export import; do
		grep -q "^  $c " out.txt || fail "usage does not list $c" || return 1
	done
	for c in train init eval predict gradcheck summary export import; do
		expect 0 "usage: fake $c [options]" "$B/fake" "$c" --help || return 1
		grep -q -- "--help" out.txt || return 1
	done
}

t_misuse() {
	expect 2 "fake: unknown option '--foo' for 'train'" "$B/fake" train --foo || return 1
	grep -qF "run 'fake train --help'" err.txt || return 1
	expect 2 "fake: unknown command 'bogus'" "$B/fake" bogus || return 1
	expect 2 "invalid value 'abc' for '--epochs'" "$B/fake" train --epochs abc || return 1
	expect 2 "needs a value" "$B/fake" train --epochs || return 1
	expect 2 "unknown option '--npy' for 'train'" "$B/fake" train --npy x || return 1
	expect 2 "'export' needs --npy DIR" "$B/fake" export || return 1
	expect 2 "unexpected argument 'x'" "$B/fake" eval x || return 1
	# --seed has the .nn file's limit, 2^53
	expect 2 "an integer from 0 to 9007199254740992" \
		"$B/fake" train --seed 9007199254740993 || return 1
}

t_train_converges() {
	"$B/fake" train >train.out || return 1
	grep -q '^final loss ' train.out || fail "no final line" || return 1
	awk '/^final/ { exit !($3 < 0.05 && $5 == "1.0000") }' train.out ||
		fail "did not converge: $(grep final train.out)"
}

t_deterministic() {
	"$B/fake" train --checkpoint a.ckpt >a.out || return 1
	"$B/fake" train --checkpoint b.ckpt >b.out || return 1
	sed -i 's/[ab]\.ckpt/X.ckpt/' a.out b.out
	cmp a.out b.out || fail "same seed, different output" || return 1
	cmp a.ckpt b.ckpt || fail "same seed, different checkpoint" || return 1
	"$B/fake" train --seed 4 --checkpoint c.ckpt >c.out || return 1
	sed -i 's/c\.ckpt/X.ckpt/' c.out
	! cmp -s a.out c.out || fail "--seed changed nothing"
}

t_epoch_lines() {
	local num='[0-9]+\.[0-9]{4}'
	"$B/fake" train --epochs 12 --lr 0.25 >f.out || return 1
	[ "$(grep -c '^epoch ' f.out)" = 12 ] || fail "not 12 epoch lines" || return 1
	[ "$(grep -cE "^epoch ([1-9]|1[0-2])/12 loss $num accuracy $num lr 0\.25\$" f.out)" = 12 ] ||
		fail "bad epoch line: $(grep '^epoch' f.out | head -1)" || return 1
	"$B/soft" train >s.out || return 1
	if grep -E '^epoch ' s.out |
	   grep -vqE "^epoch [0-9]+/200 loss $num val_loss $num val_accuracy $num lr 0\.[0-9]+\$"; then
		fail "bad epoch line in: $(grep '^epoch' s.out | head -3)"
		return 1
	fi
	# soft's schedule: 0.3 * 0.999^(epoch - 1), the rate of the last step
	grep -q '^epoch 1/200 .* lr 0\.3$' s.out &&
		grep -q '^epoch 2/200 .* lr 0\.2997$' s.out &&
		grep -q '^epoch 3/200 .* lr 0\.2994$' s.out ||
		fail "schedule rates: $(grep '^epoch' s.out | head -3)" || return 1
	! grep -q $'\r' f.out s.out || fail "carriage return without a terminal"
}

t_early_stop() {
	"$B/soft" train >s.out || return 1
	grep -qE '^early stop at epoch [0-9]+ \(best epoch [0-9]+\)$' s.out ||
		fail "no early stop line" || return 1
	local best
	best=$(sed -n 's/^early stop at epoch [0-9]* (best epoch \([0-9]*\))$/\1/p' s.out)
	grep -qE "^final val_loss [0-9.]+ val_accuracy [0-9.]+ \(epoch $best, best\)\$" s.out ||
		fail "final line: $(grep final s.out)" || return 1
	# the final numbers are those of the best epoch's line
	[ "$(field final val_loss s.out)" = "$(awk -v e="epoch $best/200" \
		'index($0, e " ") == 1 { print $6 }' s.out)" ] ||
		fail "final val_loss is not the best epoch's"
}

t_ckpt_roundtrip() {
	"$B/soft" train --checkpoint s.ckpt >s.out || return 1
	"$B/soft" eval --checkpoint s.ckpt >e.out || return 1
	grep -qE '^eval loss [0-9.]+ accuracy [0-9.]+ \(15 samples\)$' e.out ||
		fail "eval line: $(cat e.out)" || return 1
	[ "$(field final val_loss s.out)" = "$(field eval loss e.out)" ] ||
		fail "train says $(grep final s.out), eval says $(cat e.out)" || return 1
	[ "$(field final val_accuracy s.out)" = "$(field eval accuracy e.out)" ] || return 1
	"$B/fake" train --checkpoint f.ckpt >f.out || return 1
	"$B/fake" eval --checkpoint f.ckpt >e.out || return 1
	[ "$(field final loss f.out)" = "$(field eval loss e.out)" ] ||
		fail "train says $(grep final f.out), eval says $(cat e.out)"
	"$B/fake" eval --checkpoint f.ckpt --data data/sep.csv >e2.out || return 1
	cmp e.out e2.out || fail "--data of the same file differs" || return 1
	# eval splits the file the checkpoint was trained on
	sed 's/red/RED/' data/blobs.csv >other.csv
	"$B/soft" train --data other.csv --checkpoint o.ckpt >o.out || return 1
	"$B/soft" eval --checkpoint o.ckpt >e3.out || return 1
	[ "$(field final val_loss o.out)" = "$(field eval loss e3.out)" ] ||
		fail "eval after train --data: $(cat e3.out)"
}

t_f32() {
	"$B/fake32" train --checkpoint f.ckpt >f.out || return 1
	awk '/^final/ { exit !($3 < 0.05) }' f.out || fail "f32 did not converge" || return 1
	"$B/fake32" eval --checkpoint f.ckpt >e1.out || return 1
	[ "$(field final loss f.out)" = "$(field eval loss e1.out)" ] || return 1
	"$B/fake32" export --checkpoint f.ckpt --npy npy >/dev/null || return 1
	"$B/fake32" import --npy npy --checkpoint g.ckpt >/dev/null || return 1
	"$B/fake32" eval --checkpoint g.ckpt >e2.out || return 1
	cmp e1.out e2.out || return 1
	"$B/fake" train --epochs 1 --checkpoint d.ckpt >/dev/null || return 1
	expect 1 "d.ckpt: checkpoint holds f64 numbers, this trainer was built for f32" \
		"$B/fake32" eval --checkpoint d.ckpt
}

t_resume() {
	"$B/fake" train --epochs 10 --checkpoint a.ckpt >a.out || return 1
	"$B/fake" train --epochs 4 --checkpoint b.ckpt >/dev/null || return 1
	"$B/fake" train --epochs 10 --resume b.ckpt --checkpoint b.ckpt >b.out || return 1
	grep -q '^resume fake from b.ckpt at epoch 4 (step 20)$' b.out || return 1
	[ "$(grep -c '^epoch ' b.out)" = 6 ] || fail "resumed run is not 6 epochs" || return 1
	cmp a.ckpt b.ckpt || fail "resumed run differs from an uninterrupted one" || return 1
	diff <(grep -E '^(epoch [5-9]|epoch 10|final)' a.out) \
		<(grep -E '^(epoch|final)' b.out) || return 1
	expect 1 "--seed cannot be combined with --resume" "$B/fake" train --resume b.ckpt --seed 1
}

# soft has a running statistic (stat.count, bumped by every training
# step) and one number of schedule state: both survive a resume exactly.
t_resume_state() {
	"$B/soft" train --epochs 8 --checkpoint a.ckpt >a.out || return 1
	"$B/soft" train --epochs 3 --checkpoint b.ckpt >/dev/null || return 1
	"$B/soft" train --epochs 8 --resume b.ckpt --checkpoint b.ckpt >b.out || return 1
	cmp a.ckpt b.ckpt || fail "resumed run differs from an uninterrupted one" || return 1
	diff <(grep -E '^(epoch [4-8]|final)' a.out) <(grep -E '^(epoch|final)' b.out) || return 1
	"$B/soft" export --checkpoint a.ckpt --npy npy >/dev/null || return 1
	# stat.count starts at 5 and counts steps: 8 epochs of ceil(train / 16)
	local rows steps
	rows=$(sed -n 's/.*(\([0-9]*\) train.*/\1/p' a.out)
	steps=$(( (rows + 15) / 16 * 8 + 5 ))
	$PY -c 'import numpy as np, sys
c = np.load("npy/stat.count.npy")
sys.exit(0 if c.shape == (1,) and c[0] == int(sys.argv[1]) else "stat.count %r" % c)' "$steps" ||
		fail "stat.count is not 5 + 8 epochs of steps ($steps)" || return 1
}

# Regression: the end-of-run checkpoint of a restore_best run held the
# best epoch's tensors with the last epoch's step and optimizer state, so
# resuming it mixed the two. It now keeps both (has_best 2): eval uses the
# best, a resume continues from the last. soft stops early at epoch 47
# (best 44); a run of 46 epochs resumed to 50 is the run of 50.
t_resume_best() {
	"$B/soft" train --epochs 50 --checkpoint a.ckpt >a.out || return 1
	grep -q '^early stop at epoch 47 (best epoch 4[0-6])$' a.out ||
		fail "soft no longer stops at 47: $(grep early a.out)" || return 1
	"$B/soft" train --epochs 46 --checkpoint b.ckpt >b1.out || return 1
	grep -qE '^final .*\(epoch 4[0-5], best\)$' b1.out ||
		fail "46 epochs did not restore an earlier best: $(grep final b1.out)" || return 1
	"$B/soft" eval --checkpoint b.ckpt >e.out || return 1
	[ "$(field final val_loss b1.out)" = "$(field eval loss e.out)" ] ||
		fail "eval is not of the best epoch: $(cat e.out)" || return 1
	"$B/soft" train --epochs 50 --resume b.ckpt --checkpoint b.ckpt >b.out || return 1
	cmp a.ckpt b.ckpt || fail "resume of a restored checkpoint differs" || return 1
	diff <(grep -E '^(epoch 47|early|final)' a.out) \
		<(grep -E '^(epoch|early|final)' b.out)
}

# Regression: SIGINT and SIGTERM killed training and lost the unfinished
# epoch; a stale PATH.tmp stayed; "cannot create" did not say why. A
# signal now stops after the step with a checkpoint, a message and exit
# 128 + signal, and the resume is the run that never stopped (big.csv
# has 2,500 steps an epoch, so the signal lands inside one).
t_signal() {
	$PY -c 'import random
r = random.Random(1)
for _ in range(20000):
    a, b = r.uniform(-2, 2), r.uniform(-2, 2)
    print("%.3f,%.3f,%d" % (a, b, a + b > 0))' >big.csv || return 1
	echo junk >s.ckpt.tmp
	"$B/fake" train --epochs 100000 --data big.csv --checkpoint s.ckpt >s.out 2>s.err &
	local pid=$! rc e
	sleep 1
	kill -INT $pid
	wait $pid
	rc=$?
	[ "$rc" = 130 ] || fail "exit $rc after SIGINT: $(cat s.err)" || return 1
	grep -qE '^fake: interrupted by SIGINT in epoch [0-9]+ after step [0-9]+: checkpoint s\.ckpt written \(train --resume s\.ckpt continues\)$' s.err ||
		fail "message: $(cat s.err)" || return 1
	[ ! -e s.ckpt.tmp ] || fail "stale temp file left" || return 1
	e=$(sed -n 's/.* in epoch \([0-9]*\) .*/\1/p' s.err)
	"$B/fake" train --epochs $((e + 1)) --resume s.ckpt --checkpoint s.ckpt >r.out || return 1
	grep -qE "^resume fake from s\.ckpt at epoch $((e - 1)) \(step [0-9]+(, batch [0-9]+ of epoch $e)?\)\$" r.out ||
		fail "resume line: $(head -1 r.out)" || return 1
	"$B/fake" train --epochs $((e + 1)) --data big.csv --checkpoint u.ckpt >/dev/null || return 1
	cmp s.ckpt u.ckpt || fail "interrupted and resumed differs from uninterrupted" || return 1
	"$B/fake" train --epochs 100000 --data big.csv --checkpoint t.ckpt >t.out 2>t.err &
	pid=$!
	sleep 0.5
	kill -TERM $pid
	wait $pid
	rc=$?
	[ "$rc" = 143 ] && grep -q 'interrupted by SIGTERM' t.err ||
		fail "SIGTERM: exit $rc, $(cat t.err)" || return 1
	# a second signal exits at once
	"$B/fake" train --epochs 100000 --data big.csv --checkpoint v.ckpt >v.out 2>v.err &
	pid=$!
	sleep 0.5
	kill -INT $pid
	kill -TERM $pid
	wait $pid
	rc=$?
	# (either may be delivered first)
	{ [ "$rc" = 130 ] || [ "$rc" = 143 ]; } &&
		grep -q 'interrupted again: exiting at once' v.err ||
		fail "second signal: exit $rc, $(cat v.err)" || return 1
	mkdir ro && chmod 555 ro
	expect 1 "cannot create 'ro/x.ckpt.tmp': Permission denied" \
		"$B/fake" train --checkpoint ro/x.ckpt ||
		[ "$(id -u)" = 0 ]
}

# The checkpoint policy (train.c, epoch_ckpt): after an epoch at most
# one every 30 s by default, --checkpoint-every 0 after every epoch; the
# end of a run always writes one (and a signal: t_signal). A run killed
# with SIGKILL after 2 s of short epochs shows which were written.
t_ckpt_every() {
	local pid
	"$B/fake" train --epochs 1000000 --checkpoint-every 0 --checkpoint e.ckpt >e.out 2>&1 &
	pid=$!
	sleep 2
	kill -KILL $pid
	wait $pid
	[ -s e.ckpt ] || fail "--checkpoint-every 0: no checkpoint after 2 s of epochs" || return 1
	"$B/fake" eval --checkpoint e.ckpt >/dev/null || fail "e.ckpt does not load" || return 1
	"$B/fake" train --epochs 1000000 --checkpoint d.ckpt >d.out 2>&1 &
	pid=$!
	sleep 2
	kill -KILL $pid
	wait $pid
	[ "$(grep -c '^epoch ' d.out)" -gt 1 ] || fail "fewer than 2 epochs in 2 s" || return 1
	[ ! -e d.ckpt ] || fail "the default policy wrote a checkpoint within 2 s" || return 1
	"$B/fake" train --epochs 3 --checkpoint f.ckpt >/dev/null || return 1
	"$B/fake" eval --checkpoint f.ckpt >/dev/null || fail "no checkpoint at the end" || return 1
	expect 2 "invalid value '-1' for '--checkpoint-every': expected a number of seconds >= 0" \
		"$B/fake" train --checkpoint-every -1 || return 1
	expect 2 "invalid value '0' for '--threads': expected a positive integer" \
		"$B/fake" train --threads 0 || return 1
	expect 2 "option '--no-ftz=1' for 'train' takes no value" \
		"$B/fake" train --no-ftz=1
}

# init writes the checkpoint train starts from: resuming it is training
t_init() {
	"$B/soft" init --checkpoint i.ckpt >i.out || return 1
	grep -q '^checkpoint i.ckpt$' i.out || fail "init: $(cat i.out)" || return 1
	"$B/soft" train --epochs 4 --checkpoint a.ckpt >/dev/null || return 1
	"$B/soft" train --epochs 4 --resume i.ckpt --checkpoint i.ckpt >/dev/null || return 1
	cmp a.ckpt i.ckpt || fail "train from init differs from train" || return 1
	"$B/fake" init --seed 9 --checkpoint f.ckpt >/dev/null || return 1
	"$B/fake" export --checkpoint f.ckpt --npy a >/dev/null || return 1
	"$B/fake" init --seed 9 --checkpoint g.ckpt >/dev/null || return 1
	cmp f.ckpt g.ckpt || fail "init is not deterministic" || return 1
}

t_ckpt_corrupt() {
	"$B/fake" train --epochs 3 --checkpoint good.ckpt >/dev/null || return 1
	"$B/soft" train --epochs 3 --checkpoint soft.ckpt >/dev/null || return 1
	cp good.ckpt flip.ckpt
	printf '\x5a' | dd of=flip.ckpt bs=1 seek=60 conv=notrunc 2>/dev/null
	expect 1 "flip.ckpt: checkpoint is corrupt or truncated (checksum mismatch)" \
		"$B/fake" eval --checkpoint flip.ckpt || return 1
	head -c 100 good.ckpt >short.ckpt
	expect 1 "short.ckpt: checkpoint is corrupt or truncated" \
		"$B/fake" eval --checkpoint short.ckpt || return 1
	head -c 5 good.ckpt >tiny.ckpt
	expect 1 "'tiny.ckpt' is not a checkpoint" "$B/fake" eval --checkpoint tiny.ckpt || return 1
	expect 1 "'data/sep.csv' is not a checkpoint" "$B/fake" eval --checkpoint data/sep.csv || return 1
	expect 1 "soft.ckpt: checkpoint is for model 'soft', not 'fake'" \
		"$B/fake" eval --checkpoint soft.ckpt || return 1
	expect 1 "cannot open checkpoint 'none.ckpt'" "$B/fake" eval --checkpoint none.ckpt || return 1
	# failures never clobber the old checkpoint nor leave a temp file
	cp good.ckpt keep.ckpt
	expect 1 "checksum mismatch" "$B/fake" train --resume flip.ckpt --checkpoint good.ckpt || return 1
	expect 1 "ragged.csv:3:" "$B/fake" train --data "$ERR/ragged.csv" --checkpoint good.ckpt || return 1
	cmp good.ckpt keep.ckpt || fail "checkpoint clobbered" || return 1
	[ ! -e good.ckpt.tmp ] || fail "temp file left" || return 1
	expect 1 "cannot write checkpoint 'nodir/x.ckpt'" "$B/fake" train --checkpoint nodir/x.ckpt
}

t_export_npy() {
	"$B/soft" train --checkpoint s.ckpt >/dev/null || return 1
	"$B/soft" export --checkpoint s.ckpt --npy npy/soft >x.out || return 1
	grep -q '^export soft: 3 tensors to npy/soft$' x.out || return 1
	"$B/soft" predict --checkpoint s.ckpt --output pred.csv || return 1
	"$PY" - <<'EOF' || return 1
import numpy as np
d = "npy/soft/"
W, b, n = (np.load(d + f + ".npy") for f in ("out.W", "out.b", "stat.count"))
assert W.shape == (2, 3) and W.dtype == np.float64, W  # a double trainer
assert b.shape == (3,) and n.shape == (1,), (b.shape, n.shape)
assert n[0] > 5 and n[0] == int(n[0]), n       # running stat: 5 + updates
shift, scale = np.load(d + "normalize.shift.npy"), np.load(d + "normalize.scale.npy")
assert shift.shape == (2,) and shift.dtype == np.float64
raw = np.loadtxt("data/blobs.csv", delimiter=",", skiprows=1, usecols=(0, 1))
z = ((raw - shift) / scale) @ W + b
p = np.exp(z - z.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
got = np.loadtxt("pred.csv", delimiter=",", skiprows=1, usecols=(0, 1, 2))
cls = np.loadtxt("pred.csv", delimiter=",", skiprows=1, usecols=3, dtype=str)
assert got.shape == (60, 3), got.shape
assert np.allclose(got, p, atol=1e-5), abs(got - p).max()
assert (cls == np.array(["blue", "green", "red"])[p.argmax(1)]).all(), cls
EOF
}

t_import_npy() {
	"$B/soft" train --checkpoint s.ckpt >/dev/null || return 1
	"$B/soft" eval --checkpoint s.ckpt >e1.out || return 1
	"$B/soft" export --checkpoint s.ckpt --npy npy >/dev/null || return 1
	# into a new checkpoint: normalisation from npy/normalize.*.npy
	"$B/soft" import --npy npy --checkpoint new.ckpt >/dev/null || return 1
	"$B/soft" eval --checkpoint new.ckpt >e2.out || return 1
	cmp e1.out e2.out || fail "import round trip: $(cat e1.out) vs $(cat e2.out)" || return 1
	# without them: normalisation fitted from the data, as train does
	rm npy/normalize.*.npy
	"$B/soft" import --npy npy --checkpoint new2.ckpt >/dev/null || return 1
	"$B/soft" eval --checkpoint new2.ckpt >e3.out || return 1
	cmp e1.out e3.out || fail "refitted normalisation differs" || return 1
	# changed values come through; f8 files are accepted
	"$PY" -c 'import numpy as np; np.save("npy/out.W.npy", np.zeros((2, 3))); np.save("npy/out.b.npy", np.zeros(3))' || return 1
	"$B/soft" import --npy npy --checkpoint s.ckpt >/dev/null || return 1
	"$B/soft" predict --checkpoint s.ckpt >p.csv || return 1
	[ "$(sed -n 2p p.csv)" = "0.333333,0.333333,0.333333,blue" ] ||
		fail "zero weights: $(sed -n 2p p.csv)" || return 1
	# a wrong shape is an error naming the file, and the old file stays
	cp s.ckpt keep.ckpt
	"$PY" -c 'import numpy as np; np.save("npy/out.b.npy", np.zeros(4, np.float32))' || return 1
	expect 1 "npy/out.b.npy: shape [4] does not match tensor 'out.b' [3]" \
		"$B/soft" import --npy npy --checkpoint s.ckpt || return 1
	cmp s.ckpt keep.ckpt || fail "failed import changed the checkpoint" || return 1
	[ ! -e s.ckpt.tmp ] || fail "temp file left" || return 1
	rm npy/out.b.npy
	expect 1 "cannot open 'npy/out.b.npy'" "$B/soft" import --npy npy --checkpoint s.ckpt
}

t_predict() {
	"$B/fake" train --checkpoint f.ckpt >/dev/null || return 1
	"$B/fake" predict --checkpoint f.ckpt --output p.csv >o.txt || return 1
	[ ! -s o.txt ] || fail "predict --output wrote to stdout" || return 1
	[ "$(head -1 p.csv)" = yhat ] || fail "header $(head -1 p.csv)" || return 1
	[ "$(wc -l <p.csv)" = 41 ] || fail "not 40 rows" || return 1
	paste -d, <(tail -n +2 p.csv) data/sep.csv |
		awk -F, '{ if (($1 > 0.5) != ($4 > 0.5)) bad++ } END { exit bad > 0 }' ||
		fail "predictions disagree with the labels" || return 1
	cut -d, -f1-2 data/sep.csv >feat.csv
	"$B/fake" predict --checkpoint f.ckpt --input feat.csv >p2.csv || return 1
	cmp p.csv p2.csv || fail "features-only input differs" || return 1
	"$B/soft" train --checkpoint s.ckpt >/dev/null || return 1
	"$B/soft" predict --checkpoint s.ckpt >s.csv || return 1
	[ "$(head -1 s.csv)" = probs_0,probs_1,probs_2,class ] || return 1
	# string labels are classes in sorted order: blue 0, green 1, red 2;
	# predict writes the label, the argmax of the probabilities
	paste -d, <(tail -n +2 s.csv) <(tail -n +2 data/blobs.csv) | awk -F, '
		{ c = $7 == "blue" ? 0 : $7 == "green" ? 1 : 2
		  m = $1 >= $2 && $1 >= $3 ? 0 : $2 >= $3 ? 1 : 2
		  if ($4 != $7 || m != c) bad++ }
		END { exit bad > 0 }' || fail "classes do not match the labels" || return 1
	printf '1,2\n3\n' >short.csv
	expect 1 "short.csv:2: expected 2 columns (features) or at least 2 (training layout), found 1" \
		"$B/fake" predict --checkpoint f.ckpt --input short.csv --output bad.csv || return 1
	expect 1 "nonnum.csv:2: column 2: expected a number, found 'abc'" \
		"$B/fake" predict --checkpoint f.ckpt --input "$ERR/nonnum.csv" --output bad.csv || return 1
	{ [ ! -e bad.csv ] && [ ! -e bad.csv.tmp ]; } ||
		fail "half-written output"
}

t_bad_data() {
	expect 1 "fake: cannot open 'nope.csv': No such file or directory" \
		"$B/fake" train --data nope.csv || return 1
	expect 1 "ragged.csv:3: expected 3 columns, found 2" \
		"$B/fake" train --data "$ERR/ragged.csv" || return 1
	expect 1 "nonnum.csv:2: column 2: expected a number, found 'abc'" \
		"$B/fake" train --data "$ERR/nonnum.csv" || return 1
	expect 1 "classrange.csv:4: class 7 out of range 0..2" \
		"$B/soft" train --data "$ERR/classrange.csv" || return 1
	expect 1 "fraction.csv:3: column 3: expected a class 0..2, found '1.5'" \
		"$B/soft" train --data "$ERR/fraction.csv" || return 1
	expect 1 "toomany.csv:5: class label 'pink' out of range" \
		"$B/soft" train --data "$ERR/toomany.csv" || return 1
	expect 1 "header_only.csv: no data rows" \
		"$B/soft" train --data "$ERR/header_only.csv" || return 1
	expect 1 "nonnum.csv:2:" "$B/fake" gradcheck --data "$ERR/nonnum.csv" || return 1
	{ [ ! -e fake.ckpt ] && [ ! -e soft.ckpt ]; } || fail "a checkpoint was written"
}

t_gzip() {
	gzip -c data/sep.csv >sep.csv.gz
	"$B/fake" train --checkpoint a.ckpt >a.out || return 1
	"$B/fake" train --checkpoint b.ckpt --data sep.csv.gz >b.out || return 1
	diff <(grep -E '^(epoch|final)' a.out) <(grep -E '^(epoch|final)' b.out) ||
		fail ".gz data trains differently" || return 1
	"$B/fake" export --checkpoint a.ckpt --npy a >/dev/null || return 1
	"$B/fake" export --checkpoint b.ckpt --npy b >/dev/null || return 1
	diff -r a b || return 1
	head -c 150 sep.csv.gz >cut.csv.gz
	expect 1 "cut.csv.gz:" "$B/fake" train --data cut.csv.gz
}

t_gradcheck() {
	expect 0 "gradcheck: ok (2 tensors)" "$B/fake" gradcheck || return 1
	grep -qE '^lin\.W  \[2, 1\]  max_abs [0-9.]+e[-+][0-9]+  max_rel [0-9.]+e[-+][0-9]+  ok$' out.txt ||
		fail "tensor line: $(grep lin.W out.txt)" || return 1
	expect 0 "gradcheck: ok (2 tensors)" "$B/fake32" gradcheck || return 1
	expect 0 "gradcheck: ok (2 tensors)" "$B/soft" gradcheck --samples 16 || return 1
	! grep -q stat.count out.txt || fail "checked a non-trainable tensor" || return 1
	expect 1 "gradcheck: FAILED (1 of 2 tensors)" "$B/fakewrong" gradcheck || return 1
	grep -qE '^lin\.W .* FAILED$' out.txt || return 1
	grep -qE '^lin\.b .* ok$' out.txt
}

# Regression: a NaN or infinite gradient or parameter that the loss did
# not show (a relu hides a NaN input) went unnoticed; training went on
# and the checkpoint was garbage. Both buffers are checked every step.
t_nonfinite() {
	expect 1 "gradient of 'lin.b' is nan at epoch 2, step 7 (element 0); try a smaller --lr" \
		"$B/fakenan" train --checkpoint n.ckpt || return 1
	expect 1 "parameter 'lin.W' is inf at epoch 2, step 7 (element 1)" \
		"$B/fakeinf" train --checkpoint-every 0 --checkpoint i.ckpt || return 1
	# the last good checkpoint (epoch 1's) stays and loads
	{ [ ! -e n.ckpt.tmp ] && [ ! -e i.ckpt.tmp ]; } || fail "temp file left" || return 1
	expect 0 "eval loss" "$B/fakeinf" eval --checkpoint i.ckpt
}

t_summary() {
	expect 0 "lin.W" "$B/fake" summary || return 1
	grep -qE '^ +lin\.W +\[2, 1\] +2 +xavier_uniform$' out.txt || return 1
	grep -q '^parameters  *3 (3 trainable)$' out.txt || return 1
	grep -q '^flops/sample  *8 (forward)$' out.txt || return 1
	grep -q 'optimizer  *sgd(lr = 0.5, momentum = 0.9)' out.txt || return 1
	expect 0 "constant(5) (not trainable)" "$B/soft" summary || return 1
	grep -q '^parameters  *10 (9 trainable)$' out.txt
}

t_log() {
	"$B/soft" train --epochs 4 --log run.csv >/dev/null || return 1
	[ "$(head -1 run.csv)" = "epoch,loss,val_loss,val_accuracy,lr,seconds" ] ||
		fail "header: $(head -1 run.csv)" || return 1
	[ "$(wc -l <run.csv)" = 5 ] || fail "not 4 rows" || return 1
	awk -F, 'NR > 1 && (NF != 6 || $1 != NR - 1 || $6 < 0) { exit 1 }' run.csv || return 1
	# a resumed run appends its epochs
	"$B/soft" train --epochs 6 --resume soft.ckpt --log run.csv >/dev/null || return 1
	[ "$(wc -l <run.csv)" = 7 ] || fail "resume did not append" || return 1
	awk -F, 'NR > 1 && $1 != NR - 1 { exit 1 }' run.csv
}

# Epoch lines and log rows go out at most ten times a second (and at the
# end), not with a write(2) each: 3000 short epochs into a pipe and a log.
t_flush() {
	command -v strace >/dev/null || { echo "no strace: skipped"; return 0; }
	strace -f -e trace=write -o st.out "$B/fake" train --epochs 3000 \
		--log run.csv 2>/dev/null | cat >lines.txt || return 1
	[ "$(grep -c '^epoch ' lines.txt)" = 3000 ] ||
		fail "$(grep -c '^epoch ' lines.txt) epoch lines" || return 1
	[ "$(wc -l <run.csv)" = 3001 ] || fail "log rows" || return 1
	n=$(grep -c '^[0-9]* *write(' st.out)
	[ "$n" -lt 300 ] || fail "$n writes for 3000 epochs"
}

t_test_file() {
	expect 0 "test loss" "$B/fake" train --epochs 5 --test data/sep.csv || return 1
	grep -qE '^test loss [0-9.]+ accuracy [0-9.]+ \(40 samples\)$' out.txt
}

t_tty() {
	if ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
		echo "script(1) cannot make a terminal here: skipped"
		return 0
	fi
	script -qec "$B/soft train --epochs 3" /dev/null </dev/null >tty.out || return 1
	grep -q $'\r' tty.out || fail "no carriage returns" || return 1
	grep -q 'eta ' tty.out || fail "no ETA" || return 1
	grep -q '\] 3/3 loss' tty.out || fail "no batch bar" || return 1
	grep -qE 'epoch 3/3 loss [0-9.]+ val_loss' tty.out
}

# ---- main -----------------------------------------------------------

if [ ! -f "$LIBNNRT" ]; then
	echo "runtime: $LIBNNRT is missing (make build/libnnrt.a)"
	exit 1
fi
rm -rf "$B"
mkdir -p "$B"
LIBS="$LIBNNRT $(pkg-config --libs openblas 2>/dev/null) -lz -lm"
FLAGS="-std=c11 -O2 -Wall -Wextra -Werror -I$ROOT/runtime $EXTRA_CFLAGS"
build() {
	local out=$1 src=$2
	shift 2
	# shellcheck disable=SC2086
	$CC $FLAGS "$@" -o "$B/$out" "$ROOT/tests/runtime/$src" $LIBS
}
if build fake fake_linear.c && build fake32 fake_linear.c -DFAKE_F32 &&
   build fakewrong fake_linear.c -DWRONG_GRAD &&
   build fakenan fake_linear.c -DNAN_GRAD && build fakeinf fake_linear.c -DINF_PARAM &&
   build soft fake_softmax.c; then
	echo "build ... ok"
	passed=$((passed + 1))
else
	echo "build ... FAILED"
	echo "runtime: $passed passed, 1 failed"
	exit 1
fi

for t in help misuse train_converges deterministic epoch_lines early_stop \
	 ckpt_roundtrip f32 resume resume_state resume_best signal ckpt_every init ckpt_corrupt export_npy import_npy predict \
	 bad_data gzip gradcheck nonfinite summary log flush test_file tty; do
	rm -rf "$W"
	mkdir -p "$W"
	cp -r "$ROOT/tests/runtime/data" "$W/data"
	run_test "$t"
done

echo "runtime: $passed passed, $failed failed"
[ "$failed" = 0 ]

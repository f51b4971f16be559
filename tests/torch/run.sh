#!/bin/sh
# Torch tier: generated trainers compute PyTorch's numbers. Each program
# in tests/torch/*.nn is built in f32 and f64, started from the same
# tensors (reference.py init, then `import --npy`), trained for its train
# block's epochs (`train --resume`, no shuffle), exported and run through
# `predict`; reference.py check trains the same model with torch.nn,
# torch.optim and torch.optim.lr_scheduler on the same batches and
# compares the tensors, the per-epoch losses and rates, the predictions,
# and the rate of every step (lrtrace.c) with the torch scheduler's.
# docs/testing-torch.md has the tolerances. Needs /usr/bin/python3 with
# torch and numpy (Debian's python3-torch, python3-numpy).
cd "$(dirname "$0")/../.." || exit 2
TIER=torch
. tests/tools/lib.sh
PY=${TORCH_PYTHON:-/usr/bin/python3}

if ! "$PY" -c 'import importlib.util as u, sys
sys.exit(not (u.find_spec("torch") and u.find_spec("numpy")))' >"$TMP/python.log" 2>&1; then
	not_ok "torch available" "$PY cannot import torch and numpy (Debian: apt-get install python3-torch python3-numpy)" "$TMP/python.log"
	finish
	exit 1
fi

cases=$(for f in tests/torch/*.nn; do basename "$f" .nn; done)

# build_lrtrace PROG.c OUT: tests/torch/lrtrace.c around a generated
# trainer's C, printing the rate of every step of its schedule
build_lrtrace() {
	$CC -O0 -std=c11 -Wall -Wextra -Werror -Iruntime $BLAS_CFLAGS \
		-DMODEL_C="\"$PWD/$1\"" tests/torch/lrtrace.c build/libnnrt.a \
		$BLAS_LIBS -lz -lm -o "$2" >"$2.log" 2>&1
}

# build every trainer: one background job per program, f32 then f64,
# then the f64 C's lrtrace
for c in $cases; do
	mkdir -p "$TMP/$c/f32" "$TMP/$c/f64"
	(build_trainer "tests/torch/$c.nn" "$TMP/$c/f32/prog" &&
		build_trainer "tests/torch/$c.nn" "$TMP/$c/f64/prog" \
			--precision=f64 &&
		build_lrtrace "$TMP/$c/f64/prog.c" "$TMP/$c/lrtrace") &
done
wait

if ! "$PY" tests/torch/reference.py init "$TMP" >"$TMP/init.log" 2>&1; then
	not_ok "torch reference init" "reference.py init failed" "$TMP/init.log"
	finish
	exit 1
fi

# run CASE PREC: import, train, export, predict; the trainers' outputs
# go to $TMP/CASE/PREC/ for reference.py check
run() {
	d=$TMP/$1/$2
	p=$d/prog
	"$p" import --npy "$TMP/$1/init" --checkpoint "$d/init.ckpt" &&
		"$p" train --resume "$d/init.ckpt" --checkpoint "$d/out.ckpt" \
			--log "$d/log.csv" &&
		"$p" export --checkpoint "$d/out.ckpt" --npy "$d/npy" &&
		"$p" predict --checkpoint "$d/out.ckpt" --output "$d/pred.csv"
}

for c in $cases; do
	for prec in f32 f64; do
		d=$TMP/$c/$prec
		if [ ! -x "$d/prog" ]; then
			not_ok "torch $c $prec builds" "nnc or cc failed" "$d/prog.log"
		elif [ ! -x "$TMP/$c/lrtrace" ]; then
			not_ok "torch $c lrtrace builds" "cc failed" "$TMP/$c/lrtrace.log"
		elif ! run "$c" "$prec" >"$d/run.log" 2>&1; then
			not_ok "torch $c $prec runs" "import, train, export or predict failed" "$d/run.log"
		fi
	done
done

# the comparisons: reference.py prints the ok/FAILED lines, counted here
"$PY" tests/torch/reference.py check "$TMP" >"$TMP/check.out" 2>"$TMP/check.err"
rc=$?
cat "$TMP/check.out"
passed=$((passed + $(grep -c ' \.\.\. ok' "$TMP/check.out")))
failed=$((failed + $(grep -c ' \.\.\. FAILED' "$TMP/check.out")))
if [ "$rc" -ne 0 ]; then
	not_ok "torch reference check" "reference.py check exited $rc" "$TMP/check.err"
fi
finish

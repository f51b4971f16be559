#!/bin/sh
# `make examples`: build and train every example in examples/ (or the
# ones named as arguments: `tests/tools/examples.sh iris fashion_mlp`) and
# print a table: the example, the metric its header names, the threshold,
# the value reached, pass or fail, and the training's wall time.
#
# An example that nnc rejects with "not supported yet" is skipped, with the
# first such diagnostic as the reason; any other failure to build or train,
# a header whose threshold cannot be read, or a value that misses its
# threshold fails the run (exit 1).
#
# The threshold is read from the example's header comment, the first
# "Reaches METRIC OP NUMBER" or "Trains to METRIC OP NUMBER", where METRIC
# is [validation|test] accuracy|loss|MAE|RMSE and OP is >=, >, <= or <:
#   "test accuracy"       the `test` line's accuracy (the test set)
#   "validation accuracy" the `final` line's val_accuracy
#   "loss"                the `final` line's loss (training rows)
# (xor's "and 4/4 correct" is the e2e tier's to check, not this table's.)
#
# Each example runs from the repository root (its data paths are relative
# to it), writing its trainer, checkpoint, log and output to build/examples/.
cd "$(dirname "$0")/../.." || exit 2
NNC=${NNC:-build/nnc}
CC=${CC:-cc}
BLAS_CFLAGS=$(pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS=$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
OUT=build/examples
mkdir -p "$OUT"
ROWS=$OUT/table.rows
: >"$ROWS"
passed=0
failed=0
skipped=0

# threshold FILE: "KIND METRIC OP NUMBER" (KIND test, validation or train)
threshold() {
	sed -n '/^#/!q; p' "$1" | tr '\n' ' ' |
		grep -oE '(Reaches|Trains to) (validation |test )?(accuracy|loss|MAE|RMSE) (>=|>|<=|<) [0-9.]*[0-9]' |
		head -1 | sed -E 's/^(Reaches|Trains to) //' |
		awk '{ if (NF == 3) print "train", $1, $2, $3; else print }'
}

# value KIND METRIC FILE: the number the trainer printed for it
value() {
	metric=$(echo "$2" | tr 'A-Z' 'a-z')
	case $1 in
	test)       prefix=test key=$metric ;;
	validation) prefix=final key=val_$metric ;;
	*)          prefix=final key=$metric ;;
	esac
	awk -v p="$prefix" -v k="$key" '$1 == p { for (i = 2; i < NF; i++)
		if ($i == k) { print $(i + 1); exit } }' "$3"
}

meets() {
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
		v += 0; t += 0
		ok = op == ">=" ? v >= t : op == ">" ? v > t : op == "<=" ? v <= t : v < t
		exit !ok }'
}

row() {
	printf '| %s | %s | %s | %s | %s | %s |\n' "$@" >>"$ROWS"
}

# run NAME: build, train and judge one example
run() {
	name=$1 src=examples/$1.nn t=$OUT/$1
	th=$(threshold "$src")
	set -- $th
	kind=${1:-?} metric=${2:-?} op=${3:-} limit=${4:-}
	shown="$metric"
	[ "$kind" = train ] || shown="$kind $metric"
	if ! "$NNC" "$src" -o "$t.c" 2>"$t.nnc"; then
		why=$(grep -m1 -o 'not supported yet: .*' "$t.nnc")
		more=$(grep -c 'not supported yet' "$t.nnc")
		[ "$more" -gt 1 ] && why="$why and $((more - 1)) more"
		if [ -n "$why" ] && ! grep ': error: ' "$t.nnc" | grep -qv 'not supported yet'; then
			echo "$name: skipped ($why)"
			row "$name" "$shown" "$op $limit" - "skipped: $why" -
			skipped=$((skipped + 1))
			return
		fi
		echo "$name: FAILED (nnc)"
		sed 's/^/    | /' "$t.nnc" | head -20
		row "$name" "$shown" "$op $limit" - "FAIL (nnc)" -
		failed=$((failed + 1))
		return
	fi
	if [ -z "$limit" ]; then
		echo "$name: FAILED (no 'Reaches METRIC OP NUMBER' in its header)"
		row "$name" ? ? - "FAIL (no threshold)" -
		failed=$((failed + 1))
		return
	fi
	if ! $CC -O2 -std=c11 -Iruntime $BLAS_CFLAGS "$t.c" build/libnnrt.a \
		$BLAS_LIBS -lz -lm -o "$t" 2>"$t.cc"; then
		echo "$name: FAILED (cc)"
		sed 's/^/    | /' "$t.cc" | head -20
		row "$name" "$shown" "$op $limit" - "FAIL (cc)" -
		failed=$((failed + 1))
		return
	fi
	echo "$name: training ($shown $op $limit) ..."
	t0=$(date +%s.%N)
	"$t" train --checkpoint "$t.ckpt" --log "$t.csv" >"$t.out" 2>&1
	rc=$?
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	wall=$(awk -v s="$secs" 'BEGIN { printf "%d:%04.1f", s / 60, s % 60 }')
	grep -E '^(final|test|early stop) ' "$t.out" | sed 's/^/    /'
	v=$(value "$kind" "$metric" "$t.out")
	if [ $rc -ne 0 ] || [ -z "$v" ]; then
		echo "$name: FAILED (train exited $rc, or printed no $shown)"
		sed 's/^/    | /' "$t.out" | tail -5
		row "$name" "$shown" "$op $limit" "${v:--}" "FAIL (train)" "$wall"
		failed=$((failed + 1))
	elif meets "$v" "$op" "$limit"; then
		row "$name" "$shown" "$op $limit" "$v" pass "$wall"
		passed=$((passed + 1))
	else
		echo "$name: FAILED ($shown $v misses $op $limit)"
		row "$name" "$shown" "$op $limit" "$v" FAIL "$wall"
		failed=$((failed + 1))
	fi
}

if [ $# -eq 0 ]; then
	set -- $(ls examples/*.nn | sed 's|examples/||; s|\.nn$||')
fi
for ex in "$@"; do
	if [ ! -f "examples/$ex.nn" ]; then
		echo "examples: no examples/$ex.nn"
		exit 2
	fi
	run "$ex"
done

echo
echo "| example | metric | threshold | value | result | wall time (training) |"
echo "|---|---|---|---|---|---|"
cat "$ROWS"
echo
echo "examples: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

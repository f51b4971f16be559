#!/bin/sh
# Regression: numbers were not range-checked. 1e39, 3.5e38 and 1e-46 went
# into f32 C as literals that overflow or underflow a float (-Werror
# failed), 1e300 * 1e300 folded to inf, and seed = 1e10, skip =
# 21474836474 and the literal printer (x ^ 1e20) converted doubles beyond
# an integer's range (undefined; UBSan). Now a program's numbers must fit
# a float (an error at their location), folded hyperparameters must be
# finite, integers are range-checked before conversion (seed: 0 .. 2^53),
# and the C of a constant folded out of range is INFINITY.
. tests/tools/lib.sh
T=$TMP/num
fail=0
program() { # program NAME OUTPUT-EXPR [TRAIN-KEY]
	printf 'model m\ninput x[2]\ntarget y[1]\noutput o = %s\n' "$2" >"$T.$1.nn"
	printf 'loss = mse(o, y)\noptimizer sgd(lr = 0.1)\n' >>"$T.$1.nn"
	printf 'train {\n  data = csv("d.csv", skip = 1, x = 0:2, y = 2:3)\n' \
		>>"$T.$1.nn"
	printf '  %s\n}\n' "${3:-epochs = 1}" >>"$T.$1.nn"
}
expect_error() { # expect_error NAME LINE:COL MESSAGE
	"$NNC" "$T.$1.nn" -o "$T.$1.c" 2>"$T.$1.err"
	rc=$?
	grep -q "^$T.$1.nn:$2: error: $3" "$T.$1.err" && [ $rc = 1 ] &&
		[ ! -e "$T.$1.c" ] ||
		{ echo "$1: wanted exit 1 and $2: $3"; cat "$T.$1.err"; fail=1; }
}
program big 'dense(x, 1) * 1e39'
expect_error big 4:26 "number 1e+39 is outside the range of a float"
program above 'dense(x, 1) + 3.5e38'
expect_error above 4:26 "number 3.5e+38 is outside the range of a float"
program tiny 'dense(x, 1) - 1e-46'
expect_error tiny 4:26 "number 1e-46 is outside the range of a float"
program fold 'dense(x, 1) * 1e300 * 1e300'
expect_error fold 4:26 "number 1e+300 is outside the range of a float"
program lr 'dense(x, 1)' 'epochs = 1e200 * 1e200'
expect_error lr 9:18 "the result of '\*' is out of range"
program skip 'dense(x, 1)'
sed -i 's/skip = 1/skip = 21474836474/' "$T.skip.nn"
expect_error skip 8:30 "skip must be at most 2147483647"
program seed_big 'dense(x, 1)' 'seed = 1e16'
expect_error seed_big 9:10 "seed must be at most 9007199254740992"
# in range: compiles, and the C builds with -Werror under gcc and clang
program ok 'dense(x, 1) * 1e30 * 1e30 + 1e-40 + x[0] ^ 1e20' 'seed = 1e10'
sed -i 's/x\[0\]/sum(x)/' "$T.ok.nn"
"$NNC" "$T.ok.nn" -o "$T.ok.c" || exit 1
grep -q '\.seed = 10000000000UL' "$T.ok.c" || { echo "seed 1e10"; fail=1; }
for cc in gcc clang; do
	for p in f32 f64; do
		"$NNC" --precision=$p "$T.ok.nn" -o "$T.ok.$p.c" || exit 1
		$cc -std=c11 -Wall -Wextra -Werror -Iruntime $BLAS_CFLAGS -c \
			"$T.ok.$p.c" -o "$T.ok.$p.$cc.o" ||
			{ echo "$cc rejects the $p C"; fail=1; }
	done
done
exit $fail

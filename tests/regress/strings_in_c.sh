#!/bin/sh
# Regression: strings from the .nn went into the C unescaped. A data path
# with a newline or a non-UTF-8 byte gave C that did not compile, `??!`
# was a trigraph (another path), the source file's name went raw into the
# header comment (a newline or `*/` in it ended the comment), and
# --dump-after's argument was copied into that comment unchecked
# (`x*/ int evil; /*` became code). Now every string is an escaped C
# literal (octal escapes, `\?`), comments escape their text, and unknown
# pass names are rejected. The trainer reads a file whose path has all of
# these bytes, so the descriptor's path is the same byte for byte.
. tests/tools/lib.sh
T=$TMP/strings
dir=$(printf '%s/d\n??!\377*' "$TMP")
src=$(printf '%s/m\n*??!\377 x.nn' "$TMP")
mkdir -p "$dir" || exit 1
printf 'a,b,y\n1,2,3\n2,1,3\n0,1,1\n1,1,2\n' >"$dir/data.csv"
{
	printf 'model strings\ninput  x[2]\ntarget y[1]\n'
	printf 'output o = dense(x, 1)\nloss = mse(o, y)\n'
	printf 'optimizer sgd(lr = 0.01)\ntrain {\n'
	# \\n is the .nn escape for a newline; \377 a raw byte
	printf '  data = csv("%s/d\\n??!\377*/data.csv", skip = 1, ' "$TMP"
	printf 'x = 0:2, y = 2:3)\n  epochs = 2\n  batch = 2\n'
	printf '  validation = 0\n}\n'
} >"$src"
fail=0
"$NNC" "$src" -o "$T.c" || exit 1
for cc in gcc clang; do
	$cc -std=c11 -Wall -Wextra -Werror -Iruntime $BLAS_CFLAGS -c "$T.c" \
		-o "$T.$cc.o" || { echo "$cc rejects the C"; fail=1; }
done
build_trainer "$src" "$T" || { cat "$T.log"; exit 1; }
"$T" train --checkpoint "$T.ckpt" >"$T.out" 2>&1 ||
	{ echo "the trainer did not read the path:"; cat "$T.out"; fail=1; }
"$NNC" --dump-after='x*/ int evil; /*' "$src" -o "$T.dump.c" 2>"$T.err"
[ $? = 2 ] && grep -q "unknown pass .* (all, simplify, constfold" "$T.err" ||
	{ echo "--dump-after accepted an unknown pass"; cat "$T.err"; fail=1; }
[ ! -e "$T.dump.c" ] || { echo "wrote $T.dump.c"; fail=1; }
exit $fail

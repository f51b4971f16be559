#!/bin/sh
# Error tier: each tests/errors/NAME.nn must fail to compile with exit
# status 1, write no output file, and print exactly NAME.err on stderr.
# Every example of the contract compiles cleanly (--check: no diagnostic,
# exit 0) and is listed in tests/tools/supported_examples, which the
# gradcheck and e2e tiers train from.
cd "$(dirname "$0")/../.." || exit 2
TIER=errors
. tests/tools/lib.sh

for src in tests/errors/*.nn; do
	name=$(basename "$src" .nn)
	out=$TMP/$name.c
	"$NNC" "$src" -o "$out" 2>"$TMP/$name.stderr"
	rc=$?
	if [ "$rc" -ne 1 ]; then
		not_ok "$name" "exit status $rc, expected 1" "$TMP/$name.stderr"
	elif [ -e "$out" ]; then
		not_ok "$name" "wrote $out despite the errors"
	elif ! diff -u "tests/errors/$name.err" "$TMP/$name.stderr" \
		>"$TMP/$name.diff"; then
		not_ok "$name" "diagnostics differ" "$TMP/$name.diff"
	else
		ok "$name"
	fi
done

# Every example compiles: no construct of the contract is left out.
for src in examples/*.nn; do
	name=example_$(basename "$src" .nn)
	if ! grep -q "^$(basename "$src")$" tests/tools/supported_examples; then
		echo "$src is not in tests/tools/supported_examples" >"$TMP/$name.stderr"
		not_ok "$name" "not listed as supported" "$TMP/$name.stderr"
	elif "$NNC" --check "$src" 2>"$TMP/$name.stderr" && [ ! -s "$TMP/$name.stderr" ]; then
		ok "$name compiles"
	else
		not_ok "$name" "nnc --check failed or said something" "$TMP/$name.stderr"
	fi
done
finish

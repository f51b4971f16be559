#!/bin/sh
# Golden tier: tests/golden/NAME.nn compiled must give exactly
# NAME.c.expected (the C) and NAME.ir.expected (--emit=ir then
# --emit=grad). A mismatch prints the diff. The golden C must also compile
# warning-free under gcc and clang. `make golden` (--update) rewrites the
# expected files so the change is reviewed as a diff.
cd "$(dirname "$0")/../.." || exit 2
TIER=golden
. tests/tools/lib.sh
update=0
[ "${1:-}" = "--update" ] && update=1

for src in tests/golden/*.nn; do
	name=$(basename "$src" .nn)
	base=tests/golden/$name
	"$NNC" "$src" -o "$TMP/$name.c" 2>"$TMP/$name.err" &&
	{ "$NNC" --emit=ir "$src" && "$NNC" --emit=grad "$src"; } \
		>"$TMP/$name.ir" 2>>"$TMP/$name.err"
	if [ $? -ne 0 ]; then
		not_ok "$name" "nnc failed" "$TMP/$name.err"
		continue
	fi
	if [ "$update" -eq 1 ]; then
		cp "$TMP/$name.c" "$base.c.expected"
		cp "$TMP/$name.ir" "$base.ir.expected"
	fi
	for kind in c ir; do
		if ! diff -u "$base.$kind.expected" "$TMP/$name.$kind" \
			>"$TMP/$name.$kind.diff" 2>&1; then
			not_ok "$name.$kind" "differs from $base.$kind.expected" \
				"$TMP/$name.$kind.diff"
		else
			ok "$name.$kind"
		fi
	done
	for cc in gcc clang; do
		command -v $cc >/dev/null || continue
		if $cc -std=c11 -Wall -Wextra -Werror -Iruntime $BLAS_CFLAGS \
			-c "$TMP/$name.c" -o "$TMP/$name.$cc.o" 2>"$TMP/$name.$cc.log"; then
			ok "$name.c compiles with $cc -Wall -Wextra -Werror"
		else
			not_ok "$name.c compiles with $cc" "warnings or errors" \
				"$TMP/$name.$cc.log"
		fi
	done
done
finish

#!/bin/sh
# Golden tier: tests/golden/NAME.nn compiled must give exactly
# NAME.c.expected (the C) and NAME.ir.expected (--emit=ir then
# --emit=grad). A mismatch prints the diff. The golden C must also compile
# warning-free under gcc and clang, and its training graph as Graphviz
# (--emit=dot) must have a node per IR node and be accepted by
# `dot -Tsvg`. `make golden` (--update) rewrites the expected files so the
# change is reviewed as a diff.
cd "$(dirname "$0")/../.." || exit 2
TIER=golden
. tests/tools/lib.sh
update=0
[ "${1:-}" = "--update" ] && update=1

# dot_check SRC NAME: --emit=dot has one node per node of --emit=grad's
# training graph, and Graphviz renders it
dot_check() {
	"$NNC" --emit=dot "$1" -o "$TMP/$2.dot" 2>"$TMP/$2.dot.log" || {
		not_ok "$2.dot" "nnc --emit=dot failed" "$TMP/$2.dot.log"; return; }
	want=$("$NNC" --emit=grad "$1" | grep -c '^  %')
	got=$(grep -c '^	*n[0-9]* \[label=' "$TMP/$2.dot")
	if [ "$want" != "$got" ]; then
		echo "$got dot nodes, $want IR nodes" >"$TMP/$2.dot.log"
		not_ok "$2.dot" "not one node per IR node" "$TMP/$2.dot.log"
	elif ! command -v dot >/dev/null; then
		echo "dot not found: apt-get install graphviz (make test-deps)" \
			>"$TMP/$2.dot.log"
		not_ok "$2.dot" "no Graphviz" "$TMP/$2.dot.log"
	elif dot -Tsvg "$TMP/$2.dot" -o "$TMP/$2.svg" 2>"$TMP/$2.dot.log"; then
		ok "$2.dot renders with dot -Tsvg ($got nodes)"
	else
		not_ok "$2.dot" "dot -Tsvg refused it" "$TMP/$2.dot.log"
	fi
}

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
	dot_check "$src" "$name"
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

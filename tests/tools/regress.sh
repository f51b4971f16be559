#!/bin/sh
# Regression tier: each tests/regress/NAME.sh reproduces a fixed bug (its
# comment says what broke) and exits 0 when the bug stays fixed.
cd "$(dirname "$0")/../.." || exit 2
TIER=regress
. tests/tools/lib.sh
for t in tests/regress/*.sh; do
	name=$(basename "$t" .sh)
	if TIER=regress/$name sh "$t" >"$TMP/$name.log" 2>&1; then
		ok "$name"
	else
		not_ok "$name" "the bug is back" "$TMP/$name.log"
	fi
done
finish

# Shared by the test tiers: counting, reporting, building trainers.
# Each tier sources this, calls ok/not_ok per test, and ends with `finish`,
# which prints "TIER: N passed, M failed" and sets the exit status.

NNC=${NNC:-build/nnc}
CC=${CC:-cc}
BLAS_CFLAGS=$(pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS=$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
: "${TIER:?set TIER before sourcing tests/tools/lib.sh}"
TMP=${TMP_ROOT:-build/tests/tmp}/$TIER
rm -rf "$TMP" && mkdir -p "$TMP"
passed=0
failed=0

ok() {
	printf '%s ... ok\n' "$1"
	passed=$((passed + 1))
}

# not_ok NAME WHY [FILE-WITH-DETAILS]
not_ok() {
	printf '%s ... FAILED (%s)\n' "$1" "$2"
	if [ -n "${3:-}" ] && [ -s "$3" ]; then
		sed 's/^/    | /' "$3" | head -40
	fi
	failed=$((failed + 1))
}

finish() {
	printf '%s: %d passed, %d failed\n' "$TIER" "$passed" "$failed"
	[ "$failed" -eq 0 ]
}

# build_trainer MODEL.nn OUT [nnc flags...]: nnc then the documented cc
# line (from the source tree). Output of failures goes to OUT.log.
build_trainer() {
	src=$1 out=$2
	shift 2
	"$NNC" "$@" "$src" -o "$out.c" >"$out.log" 2>&1 &&
	$CC -O2 -std=c11 -Wall -Wextra -Werror -Iruntime $BLAS_CFLAGS \
		"$out.c" build/libnnrt.a $BLAS_LIBS -lz -lm -o "$out" \
		>>"$out.log" 2>&1
}

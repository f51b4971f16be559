#!/bin/sh
# Fuzz tier: the libFuzzer harnesses build/fuzz/fuzz_nnc and fuzz_rt
# (make fuzz-build) once over their corpora, failing on any crash or
# sanitizer report; then the C that nnc emits for a sample of the
# accepted corpus programs, compiled with -Wall -Wextra -Werror by gcc
# and by clang.
#
#   tests/tools/fuzz.sh               the tier (make test)
#   tests/tools/fuzz.sh --run SECS    fuzz for SECS seconds in total, half
#                                     each harness (make fuzz)
#
# fuzz_rt's corpus is tests/fuzz/corpus_rt (tests/fuzz/mkcorpus_rt.py
# writes its seeds; inputs that once crashed a reader are kept there).
#
# The corpus: every .nn of examples/ and tests/ (copied at each run into
# build/fuzz/corpus_nnc) and the checked-in tests/fuzz/corpus_nnc, which
# keeps the inputs that once crashed nnc and the limits' edge cases.
cd "$(dirname "$0")/../.." || exit 2
TIER=fuzz
. tests/tools/lib.sh
FUZZ=build/fuzz/fuzz_nnc
SEEDS=build/fuzz/corpus_nnc
SAMPLE=16
rm -rf "$SEEDS" && mkdir -p "$SEEDS"
for f in examples/*.nn tests/*/*.nn; do
	cp "$f" "$SEEDS/$(echo "$f" | tr / _)"
done
if [ "${1:-}" = --run ]; then
	total=${2:-600}
	mkdir -p build/fuzz/corpus_new build/fuzz/corpus_rt_new
	"$FUZZ" -max_total_time=$((total / 2)) -max_len=65536 -timeout=10 \
		-dict=tests/fuzz/nnc.dict -artifact_prefix=build/fuzz/ \
		-print_final_stats=1 build/fuzz/corpus_new "$SEEDS" \
		tests/fuzz/corpus_nnc || exit 1
	exec build/fuzz/fuzz_rt -max_total_time=$((total - total / 2)) \
		-max_len=65536 -timeout=10 -artifact_prefix=build/fuzz/rt- \
		-print_final_stats=1 build/fuzz/corpus_rt_new tests/fuzz/corpus_rt
fi
n=$(ls tests/fuzz/corpus_rt | wc -l)
if build/fuzz/fuzz_rt -runs=0 -max_len=65536 -timeout=10 tests/fuzz/corpus_rt \
	>"$TMP/corpus_rt.log" 2>&1; then
	ok "fuzz_rt over the corpus ($n inputs)"
else
	not_ok "fuzz_rt over the corpus" "a crash" "$TMP/corpus_rt.log"
fi
n=$(ls "$SEEDS" tests/fuzz/corpus_nnc | wc -l)
if "$FUZZ" -runs=0 -max_len=65536 -timeout=10 "$SEEDS" tests/fuzz/corpus_nnc \
	>"$TMP/corpus.log" 2>&1; then
	ok "fuzz_nnc over the corpus ($n inputs)"
else
	not_ok "fuzz_nnc over the corpus" "a crash" "$TMP/corpus.log"
fi
# The accepted programs, every k-th in name order so at most $SAMPLE.
ls "$SEEDS"/* tests/fuzz/corpus_nnc/* | sort >"$TMP/all"
: >"$TMP/accepted"
while read -r f; do
	"$NNC" --check "$f" >/dev/null 2>&1 && echo "$f" >>"$TMP/accepted"
done <"$TMP/all"
total=$(wc -l <"$TMP/accepted")
step=$(( (total + SAMPLE - 1) / SAMPLE ))
awk -v k="$step" '(NR - 1) % k == 0' "$TMP/accepted" >"$TMP/sample"
while read -r f; do
	name=$(basename "$f" .nn)
	if ! "$NNC" "$f" -o "$TMP/$name.c" >"$TMP/$name.log" 2>&1; then
		not_ok "$name: C" "nnc --check accepted it, nnc failed" \
			"$TMP/$name.log"
		continue
	fi
	bad=
	for cc in gcc clang; do
		$cc -std=c11 -Wall -Wextra -Werror -Iruntime $BLAS_CFLAGS -c \
			"$TMP/$name.c" -o "$TMP/$name.$cc.o" \
			>>"$TMP/$name.log" 2>&1 || bad="$bad $cc"
	done
	if [ -z "$bad" ]; then
		ok "$name: C with -Werror (gcc, clang)"
	else
		not_ok "$name: C" "rejected by$bad" "$TMP/$name.log"
	fi
done <"$TMP/sample"
finish

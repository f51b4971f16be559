#!/bin/sh
# make asan, second half: every example's trainer built with ASan and
# UBSan runs every subcommand once (train for one epoch). A sanitizer
# report exits 99 and fails; a subcommand's own error (exit 1, e.g. an f32
# gradcheck over its tolerance) is not what this looks for and passes.
cd "$(dirname "$0")/../.." || exit 2
B=build/asan
CC=${CC:-cc}
BLAS_LIBS=$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
ASAN_FLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"
export ASAN_OPTIONS=detect_leaks=0:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:exitcode=99
status=0

# run NAME CMD...: CMD's exit status must not be a sanitizer's (99) or a
# signal's
run() {
	name=$1
	shift
	"$@" >"$B/ex.$name.log" 2>&1
	rc=$?
	if [ "$rc" -ge 2 ]; then
		echo "asan: $name: exit $rc"
		tail -20 "$B/ex.$name.log"
		status=1
	fi
}

for src in examples/*.nn; do
	ex=$(basename "$src" .nn)
	T=$B/ex_$ex
	$B/nnc "$src" -o "$T.c" || { echo "asan: nnc $src"; status=1; continue; }
	$CC $ASAN_FLAGS -Iruntime "$T.c" $B/libnnrt.a $BLAS_LIBS -lz -lm \
		-o "$T" || { echo "asan: cc $src"; status=1; continue; }
	rm -rf "$T.npy"
	run "$ex.summary" "$T" summary
	run "$ex.init" "$T" init --checkpoint "$T.init.ckpt"
	run "$ex.train" "$T" train --epochs 1 --checkpoint "$T.ckpt" \
		--log "$T.csv" --report "$T.html"
	run "$ex.report" "$T" report --log "$T.csv" --checkpoint "$T.ckpt" \
		-o "$T.report.html"
	run "$ex.eval" "$T" eval --checkpoint "$T.ckpt"
	run "$ex.predict" "$T" predict --checkpoint "$T.ckpt" --output "$T.pred"
	run "$ex.export" "$T" export --checkpoint "$T.ckpt" --npy "$T.npy"
	run "$ex.import" "$T" import --npy "$T.npy" --checkpoint "$T.imp.ckpt"
	run "$ex.gradcheck" "$T" gradcheck --samples 2
	echo "asan: $ex: every subcommand ran clean"
done
exit $status

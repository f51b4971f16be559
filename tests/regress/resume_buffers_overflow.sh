#!/bin/sh
# Regression: resuming a model with buffers (batchnorm's running
# statistics) replayed the initial draws into the gradient buffer, which
# holds only the trainable tensors: a heap overflow that overwrote the
# parameters (seen as z.gamma and z.beta jumping after one step). Resumed
# training must equal an uninterrupted run, byte for byte, and run clean
# under AddressSanitizer.
. tests/tools/lib.sh
T=$TMP/resume_buffers
"$NNC" --precision=f64 tests/torch/batchnorm_channels.nn -o "$T.c" || exit 1
$CC -O1 -g -fsanitize=address -Iruntime $BLAS_CFLAGS "$T.c" build/libnnrt.a \
	$BLAS_LIBS -lz -lm -o "$T" || exit 1
export ASAN_OPTIONS=detect_leaks=0
"$T" train --epochs 2 --checkpoint "$T.a" >/dev/null || exit 1
"$T" train --epochs 1 --checkpoint "$T.b" >/dev/null || exit 1
"$T" train --epochs 2 --resume "$T.b" --checkpoint "$T.b" >/dev/null || exit 1
cmp "$T.a" "$T.b"

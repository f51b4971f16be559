#!/bin/sh
# Vectorize tier: the optimizer update vectorizes at the README's plain
# -O2 (compiler/emit_optim.c says how). For each optimizer variant of
# optim.def, in f32 and f64, with clipping and weight decay, the main
# loops of the emitted update function (over a multiple of 16 elements,
# and the clip_norm sum) must be reported vectorized by gcc's
# -fopt-info-vec-optimized and, when clang is installed, by clang's
# -Rpass=loop-vectorize.
cd "$(dirname "$0")/../.." || exit 2
TIER=vectorize
. tests/tools/lib.sh
GCC=${VEC_GCC:-gcc}
CLANG=${VEC_CLANG:-clang}

# name: optimizer line, then extra train keys
variants='sgd|sgd(lr = 0.1)|
sgd_momentum_wd|sgd(lr = 0.1, momentum = 0.9, dampening = 0.1, weight_decay = 1e-4)|clip_value = 0.5
nesterov|sgd(lr = 0.1, momentum = 0.9, nesterov = true)|clip_norm = 1
adagrad|adagrad(lr = 0.1, lr_decay = 0.01, weight_decay = 1e-3, initial_accumulator_value = 0.1)|
rmsprop|rmsprop(lr = 0.01)|
rmsprop_centered|rmsprop(lr = 0.01, centered = true, momentum = 0.9, weight_decay = 1e-3)|clip_norm = 1
adam|adam(lr = 1e-3, weight_decay = 1e-4)|
adamw_clip|adamw(lr = 1e-3)|clip_norm = 1
adam_clip_value|adam(lr = 1e-3)|clip_value = 1
amsgrad|adam(lr = 1e-3, amsgrad = true, weight_decay = 1e-4)|
amsgrad_clip_value|adam(lr = 1e-3, amsgrad = true)|clip_value = 1
adamw_amsgrad|adamw(lr = 1e-3, amsgrad = true)|clip_norm = 1
nadam|nadam(lr = 2e-3, weight_decay = 1e-3)|
radam|radam(lr = 1e-3)|clip_norm = 2
adadelta|adadelta(lr = 1, weight_decay = 1e-3)|'

# gen NAME OPT KEYS: a model of 1130 trainable elements (a remainder of
# 10 after 70 blocks of 16: both loops exist)
gen() {
	cat <<EOT
model $1
input  x[16]
target y : class(2)
h = relu(dense(x, 64))
logits = dense(h, 2)
output p = softmax(logits)
loss = cross_entropy(logits, y)
optimizer $2
train {
  data   = csv("unused.csv", x = 0:16, y = 16:17)
  batch  = 8
  epochs = 1
  $3
}
EOT
}

# main_loops FILE.c: line numbers of the vector loops of the update:
# `for (long i = 0; i < N; i++)` with N a multiple of 16, between the
# update function's first line and its end; and for the clip_norm sum
# (`i += 8` over blocks) its inner loop over the lanes, as LINE:gcc:
# gcc vectorizes that loop, clang unrolls it and SLP-vectorizes the
# block (a remark without the loop's line)
main_loops() {
	awk '/^static int [a-z_0-9]*_update_step\(/ { on = 1 }
	     on && /^}/ { on = 0 }
	     on && match($0, /for \(long i = 0; i < [0-9]+; i\+\+\)/) {
		split(substr($0, RSTART, RLENGTH), w, /[ ;]+/)
		if (w[7] % 16 == 0) print NR
	     }
	     on && /for \(long i = 0; i < [0-9]+; i \+= 8\)/ {
		print NR + 1 ":gcc"
	     }' "$1"
}

have_clang=0
command -v "$CLANG" >/dev/null 2>&1 && have_clang=1
echo "$variants" | while IFS='|' read -r name opt keys; do
	for prec in f32 f64; do
		c=$TMP/${name}_$prec.c
		gen "$name" "$opt" "$keys" >"$TMP/$name.nn"
		if ! "$NNC" --precision=$prec "$TMP/$name.nn" -o "$c" \
			>"$c.log" 2>&1; then
			not_ok "$name $prec" "nnc failed" "$c.log"
			continue
		fi
		loops=$(main_loops "$c")
		if [ -z "$loops" ]; then
			not_ok "$name $prec" "no main loop in the update" "$c"
			continue
		fi
		for cc in gcc clang; do
			[ $cc = clang ] && [ $have_clang = 0 ] && continue
			if [ $cc = gcc ]; then
				$GCC -O2 -std=c11 -Iruntime -fopt-info-vec-optimized \
					-c "$c" -o "$c.o" >"$c.$cc" 2>&1
			else
				$CLANG -O2 -std=c11 -Iruntime -Rpass=loop-vectorize \
					-c "$c" -o "$c.o" >"$c.$cc" 2>&1
			fi
			miss=
			for l in $loops; do
				case $l in
				*:gcc) [ $cc = gcc ] || continue; l=${l%:gcc} ;;
				esac
				grep -Eq "^[^:]*:$l:[0-9]+: (optimized|remark): .*vectorized" \
					"$c.$cc" || miss="$miss $l"
			done
			if [ -n "$miss" ]; then
				not_ok "$name $prec $cc" "update loops at lines$miss not vectorized" "$c.$cc"
			else
				ok "$name $prec $cc"
			fi
		done
	done
done | tee "$TMP/results"
passed=$(grep -c ' \.\.\. ok$' "$TMP/results")
failed=$(grep -c ' \.\.\. FAILED' "$TMP/results")
finish

#!/bin/sh
# Gradient-check tier: every program in tests/gradcheck (one primitive op
# or layer each) and every supported example, compiled in double
# precision, must pass the trainer's own `gradcheck`: analytic gradients
# against central differences, max relative error < 1e-6 per tensor.
cd "$(dirname "$0")/../.." || exit 2
TIER=gradcheck
. tests/tools/lib.sh

check() {
	src=$1 name=$2
	shift 2
	if ! build_trainer "$src" "$TMP/$name" --precision=f64 "$@"; then
		not_ok "$name" "build failed" "$TMP/$name.log"
	elif ! "$TMP/$name" gradcheck --tol 1e-6 >"$TMP/$name.out" 2>&1; then
		not_ok "$name" "gradcheck failed" "$TMP/$name.out"
	else
		ok "$name ($(grep -c ' ok$' "$TMP/$name.out") tensors)"
	fi
}

for src in tests/gradcheck/*.nn; do
	check "$src" "$(basename "$src" .nn)"
	check "$src" "$(basename "$src" .nn)-O0" -O0
done
# Examples at a kink from their first step are not checked here:
#   fashion_cnn.nn: its conv biases start at 0 and Fashion-MNIST's blank
#   background makes whole windows of conv outputs exactly 0 under relu,
#   where a central difference measures 1/2 and relu'(0) is 0 (PyTorch's
#   choice). Its layers are checked by tests/gradcheck/conv_*.nn,
#   pools_overlap.nn and cnn_bn_pool.nn away from the kink.
AT_KINK="fashion_cnn.nn"
for ex in $(cat tests/tools/supported_examples); do
	case " $AT_KINK " in *" $ex "*) continue ;; esac
	check "examples/$ex" "example_${ex%.nn}"
done
finish

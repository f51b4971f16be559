#!/bin/sh
# Runs every test tier; each fails `make test` on its own. Ends with one
# count line over all tests: "N passed, M failed".
cd "$(dirname "$0")/../.." || exit 2
total_pass=0
total_fail=0
status=0
log=build/tests/tiers.log
mkdir -p build/tests
: >"$log"
run_tier() {
	name=$1
	shift
	echo "== $name"
	"$@" 2>&1 | tee build/tests/$name.out
	rc=$(cat build/tests/$name.rc 2>/dev/null || echo 1)
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' build/tests/$name.out | tail -1)
	p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\2/')
	[ -n "$line" ] || { p=0; f=1; echo "$name: no count line"; }
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}
tier() {
	name=$1
	shift
	run_tier "$name" sh -c '"$@"; echo $? > build/tests/'"$name"'.rc' sh "$@"
	if [ "$(cat build/tests/$name.rc)" != 0 ]; then
		status=1
		echo "$name: FAILED" >>"$log"
	fi
}
tier unit build/tests/unit
tier golden tests/tools/golden.sh
tier errors tests/tools/errors.sh
tier gradcheck tests/tools/gradcheck.sh
tier e2e tests/tools/e2e.sh
tier data tests/tools/data.sh
tier targets tests/tools/targets.sh
tier runtime tests/runtime/run.sh
tier man tests/tools/man.sh
tier report tests/tools/report.sh
tier regress tests/tools/regress.sh
tier fuzz tests/tools/fuzz.sh
tier vectorize tests/tools/vectorize.sh
tier speed tests/tools/speed.sh
tier torch tests/torch/run.sh
tier mpi tests/tools/mpi.sh
echo
cat "$log"
echo "$total_pass passed, $total_fail failed"
[ "$status" -eq 0 ] && [ "$total_fail" -eq 0 ]

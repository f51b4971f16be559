#!/bin/sh
# Report tier: the HTML training report (runtime/report.c, chart.c).
# The iris example trains with --log and --report; tests/tools/
# report_check.py reads the report back with Python's html.parser and
# checks it against the log (one point per epoch with the log's values
# in every chart, the best epoch and the early stop marked, UTF-8, no
# script, no external reference); `report --log` rebuilds it (with and
# without --checkpoint); the train block's report key; a resumed run's
# report keeps the epochs of its log; the report is rewritten after
# every long epoch and less often after many short ones (strace counts
# the renames); a run stopped by SIGTERM leaves an "interrupted" report,
# one that dies a "failed" one;
# bad logs fail with FILE:LINE and leave the old output alone. Then headless Chromium, without
# network and stdin, renders the report to a PNG that must not be blank
# (and a blank page must fail that check).
cd "$(dirname "$0")/../.." || exit 2
TIER=report
. tests/tools/lib.sh

CHECK="python3 tests/tools/report_check.py"
T=$TMP/iris
if ! build_trainer examples/iris.nn "$T"; then
	not_ok "build the iris trainer" "failed" "$T.log"
	finish
	exit
fi

# check NAME CHECKER-ARGS...: report_check.py must pass
check() {
	name=$1
	shift
	if $CHECK "$@" >"$TMP/check.out" 2>&1; then
		ok "$name"
	else
		not_ok "$name" "report_check.py" "$TMP/check.out"
	fi
}

# --- train --report -------------------------------------------------------
"$T" train --log "$TMP/run.csv" --report "$TMP/run.html" \
	--checkpoint "$TMP/iris.ckpt" >"$TMP/train.out" 2>&1
rc=$?
stop=$(sed -n 's/^early stop at epoch \([0-9]*\) (best epoch \([0-9]*\))$/\1/p' "$TMP/train.out")
best=$(sed -n 's/^early stop at epoch \([0-9]*\) (best epoch \([0-9]*\))$/\2/p' "$TMP/train.out")
rows=$(sed -n 's/^train iris: [0-9]* rows (\([0-9]*\) train.*/\1/p' "$TMP/train.out")
if [ "$rc" -ne 0 ] || [ -z "$stop" ] || [ -z "$rows" ]; then
	not_ok "iris train --report" "exit $rc, or no early stop line" "$TMP/train.out"
	finish
	exit
fi
ok "iris train --report (stopped at $stop, best $best, $rows rows)"
if [ -e "$TMP/run.html.tmp" ]; then
	not_ok "no run.html.tmp left" "it is there"
else
	ok "no run.html.tmp left"
fi
check "the report has the log's numbers" html "$TMP/run.html" "$TMP/run.csv" \
	--samples "$rows" --best "$best" --stop "$stop"

# The checker can fail: a changed value, an external image, a script.
sed '0,/data-value="[^"]*"/s//data-value="9.5"/' "$TMP/run.html" >"$TMP/bad1.html"
cat "$TMP/run.html" >"$TMP/bad2.html"
printf '<img src="http://example.com/x.png">\n' >>"$TMP/bad2.html"
sed 's|</main>|<script>alert(1)</script></main>|' "$TMP/run.html" >"$TMP/bad3.html"
for b in bad1 bad2 bad3; do
	if $CHECK html "$TMP/$b.html" "$TMP/run.csv" --samples "$rows" \
		--best "$best" --stop "$stop" >"$TMP/$b.out" 2>&1; then
		not_ok "a broken report ($b) fails the check" "it passes"
	else
		ok "a broken report ($b) fails the check: $(head -1 "$TMP/$b.out")"
	fi
done

# --- report --log ---------------------------------------------------------
if "$T" report --log "$TMP/run.csv" -o "$TMP/rebuilt.html" >"$TMP/rb.out" 2>&1; then
	check "report --log -o rebuilds it (seconds per epoch)" html \
		"$TMP/rebuilt.html" "$TMP/run.csv" --best "$best" --stop "$stop"
else
	not_ok "report --log -o" "failed" "$TMP/rb.out"
fi
if "$T" report --log "$TMP/run.csv" --checkpoint "$TMP/iris.ckpt" \
	>"$TMP/stdout.html" 2>"$TMP/rb.out"; then
	check "report --checkpoint to stdout (samples per second)" html \
		"$TMP/stdout.html" "$TMP/run.csv" --samples "$rows" \
		--best "$best" --stop "$stop"
else
	not_ok "report --log --checkpoint" "failed" "$TMP/rb.out"
fi

# --- the train block's key, a resumed run, one rewrite per epoch ---------
sed "s|^  seed       = 42|&\n  report     = \"$TMP/key.html\"\n  log        = \"$TMP/key.csv\"|" \
	examples/iris.nn >"$TMP/key.nn"
if build_trainer "$TMP/key.nn" "$TMP/key" &&
	"$TMP/key" train --epochs 3 --checkpoint "$TMP/key.ckpt" \
	>"$TMP/key.out" 2>&1 &&
	"$TMP/key" train --epochs 6 --resume "$TMP/key.ckpt" \
	--checkpoint "$TMP/key.ckpt" >>"$TMP/key.out" 2>&1; then
	check "report = \"...\" in the train block; a resume keeps epochs 1-3" \
		html "$TMP/key.html" "$TMP/key.csv" --samples "$rows"
	n=$(grep -c '^[0-9]' "$TMP/key.csv")
	[ "$n" -eq 6 ] && ok "the resumed log has 6 rows" ||
		not_ok "the resumed log" "$n rows, expected 6"
else
	not_ok "report key and --resume" "failed" "$TMP/key.out"
fi
# Epochs of 300,000 rows (iris 2000 times) take far longer than writing
# the report: it is renamed into place before the first, after each and
# at the end. 500 epochs of xor are shorter than a write each: fewer
# writes, the last one with every epoch.
awk 'NR == 1 || NR > 1 { print } NR > 1 { for (i = 1; i < 2000; i++) print }' \
	examples/data/iris.csv >"$TMP/big.csv"
# renames LOG PATH: how many times strace saw PATH.tmp renamed to PATH
renames() {
	grep -c "$2.tmp\", .*$2\"" "$1"
}
if strace -f -e trace=rename,renameat,renameat2 -o "$TMP/strace.out" \
	"$T" train --epochs 4 --data "$TMP/big.csv" --report "$TMP/live.html" \
	--checkpoint "$TMP/live.ckpt" >"$TMP/live.out" 2>&1; then
	n=$(renames "$TMP/strace.out" live.html)
	if [ "$n" -eq 6 ]; then
		ok "the report is renamed into place 6 times in 4 long epochs"
	else
		not_ok "the report is rewritten every epoch" "$n renames, expected 6" \
			"$TMP/strace.out"
	fi
else
	not_ok "strace train --report" "failed" "$TMP/live.out"
fi
# SIGTERM (SIGINT is ignored in a background job of sh) stops the run
# after a step: the report is written once more, "interrupted", no
# longer reloading, with the log's epochs.
"$T" train --epochs 100 --data "$TMP/big.csv" --report "$TMP/int.html" \
	--log "$TMP/int.csv" --checkpoint "$TMP/int.ckpt" >"$TMP/int.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ]; do
	n=$(grep -c '^[0-9]' "$TMP/int.csv" 2>/dev/null)
	[ "${n:-0}" -ge 2 ] && break
	sleep 0.1
	i=$((i + 1))
done
kill -TERM $pid
wait $pid
rc=$?
if [ "$rc" -ne 143 ]; then
	not_ok "SIGTERM: the report" "exit $rc, expected 143" "$TMP/int.out"
elif ! grep -q 'status interrupted">interrupted after epoch' "$TMP/int.html"; then
	not_ok "SIGTERM: the report" "does not say interrupted" "$TMP/int.out"
else
	big=$(sed -n 's/^train iris: [0-9]* rows (\([0-9]*\) train.*/\1/p' "$TMP/int.out")
	check "SIGTERM: the report says interrupted, has the log's epochs" \
		html "$TMP/int.html" "$TMP/int.csv" --samples "$big"
fi

# The test set, measured after training, is in the final report with
# the numbers the trainer prints.
"$T" train --epochs 5 --test examples/data/iris.csv --report "$TMP/test.html" \
	--checkpoint "$TMP/test.ckpt" >"$TMP/test.out" 2>&1
acc=$(sed -n 's/^test loss \([0-9.]*\) accuracy \([0-9.]*\) .*/\2/p' "$TMP/test.out")
loss=$(sed -n 's/^test loss \([0-9.]*\) accuracy .*/\1/p' "$TMP/test.out")
if [ -n "$acc" ] && grep -q "test_accuracy</div><div class=\"v\">$acc</div><div class=\"d\">150 rows, after training; loss $loss<" \
	"$TMP/test.html"; then
	ok "the test set's accuracy and loss are in the report ($acc, $loss)"
else
	not_ok "the test set in the report" "no card with $acc" "$TMP/test.out"
fi

# A fatal error while training (a NaN loss) rewrites the report as
# failed, with the error, and it no longer reloads itself.
"$T" train --lr 1e30 --report "$TMP/nan.html" --checkpoint "$TMP/nan.ckpt" \
	>"$TMP/nan.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] &&
	grep -q 'status failed">failed after epoch 0 of 200: loss is nan' \
		"$TMP/nan.html" && grep -q 'no epochs yet' "$TMP/nan.html" &&
	! grep -q 'http-equiv' "$TMP/nan.html"; then
	ok "a run that dies: the report says failed, and why, and stops reloading"
else
	echo "exit $rc" >>"$TMP/nan.out"
	not_ok "a run that dies: the report" "not marked failed" "$TMP/nan.out"
fi

if build_trainer examples/xor.nn "$TMP/xor" &&
	strace -f -e trace=rename,renameat,renameat2 -o "$TMP/strace.out" \
	"$TMP/xor" train --report "$TMP/xor.html" --log "$TMP/xor.csv" \
	--checkpoint "$TMP/xor.ckpt" >"$TMP/xor.out" 2>&1; then
	n=$(renames "$TMP/strace.out" xor.html)
	if [ "$n" -ge 2 ] && [ "$n" -lt 450 ]; then
		ok "500 short epochs: the report is written $n times"
	else
		not_ok "500 short epochs" "$n writes of the report" "$TMP/xor.out"
	fi
	check "... and the last write has every epoch" html "$TMP/xor.html" \
		"$TMP/xor.csv" --samples 4
else
	not_ok "strace xor train --report" "failed" "$TMP/xor.out"
fi


# --- bad logs ---------------------------------------------------------------
# bad NAME LINE CONTENT: `report` exits 1 naming FILE:LINE, and the old
# output is untouched.
bad() {
	printf '%b' "$3" >"$TMP/$1.csv"
	echo old >"$TMP/out.html"
	"$T" report --log "$TMP/$1.csv" -o "$TMP/out.html" >"$TMP/$1.out" 2>&1
	rc=$?
	if [ "$rc" -ne 1 ]; then
		not_ok "bad log: $1" "exit $rc, expected 1" "$TMP/$1.out"
	elif ! grep -q "^iris: $TMP/$1.csv:$2: " "$TMP/$1.out"; then
		not_ok "bad log: $1" "no $1.csv:$2: message" "$TMP/$1.out"
	elif [ "$(cat "$TMP/out.html")" != old ] || [ -e "$TMP/out.html.tmp" ]; then
		not_ok "bad log: $1" "the output was touched"
	else
		ok "bad log: $1: $(sed "s|$TMP/||" "$TMP/$1.out")"
	fi
}
H='epoch,loss,val_loss,lr,seconds\n'
bad empty 1 ''
bad header_only 1 "$H"
bad unknown_column 1 'epoch,loss,speed\n1,0.5,3\n'
bad no_epoch 1 'loss,epoch\n0.5,1\n'
bad short_row 3 "${H}1,0.5,0.6,0.01,0.1\n2,0.4,0.5,0.01\n"
bad long_row 2 "${H}1,0.5,0.6,0.01,0.1,7\n"
bad not_a_number 3 "${H}1,0.5,0.6,0.01,0.1\n2,0.4,abc,0.01,0.1\n"
bad epoch_zero 2 "${H}0,0.5,0.6,0.01,0.1\n"
bad nul_byte 2 "${H}1,0.5\0,0.6,0.01,0.1\n"
"$T" report --log "$TMP/run.csv" -o "$TMP/run.csv" >"$TMP/same.out" 2>&1
if [ $? -eq 1 ] && grep -q 'overwrite its log' "$TMP/same.out"; then
	ok "report -o LOG is refused"
else
	not_ok "report -o LOG" "not refused" "$TMP/same.out"
fi
"$T" train --log "$TMP/same.csv" --report "$TMP/same.csv" >"$TMP/same.out" 2>&1
if [ $? -eq 1 ] && grep -q 'report and the log are both' "$TMP/same.out" &&
	! [ -e "$TMP/same.csv" ]; then
	ok "train --report LOG is refused before training"
else
	not_ok "train --report LOG" "not refused" "$TMP/same.out"
fi
"$T" report -o "$TMP/x.html" >"$TMP/nolog.out" 2>&1
if [ $? -eq 2 ] && grep -q "'report' needs --log CSV" "$TMP/nolog.out"; then
	ok "report without --log is a usage error"
else
	not_ok "report without --log" "not refused" "$TMP/nolog.out"
fi

# --- a real browser ---------------------------------------------------------
# No network: a network namespace of our own when the kernel lets us,
# and a host resolver that resolves nothing either way. The picture is
# the README's (cp $TMP/report.png docs/report-iris.png).
net=
unshare -rn true 2>/dev/null && net="unshare -rn"
shoot() {
	HOME=$TMP/home $net chromium --headless --no-sandbox --disable-gpu \
		--no-first-run --user-data-dir="$TMP/chromium" \
		--host-resolver-rules="MAP * ~NOTFOUND" --hide-scrollbars \
		--window-size=1200,940 --screenshot="$2" "file://$PWD/$1" \
		</dev/null >"$TMP/chromium.out" 2>&1
}
if ! command -v chromium >/dev/null 2>&1; then
	not_ok "chromium renders the report" "no chromium (make test-deps installs it)"
elif shoot "$TMP/run.html" "$TMP/report.png" && [ -s "$TMP/report.png" ]; then
	ok "chromium renders the report${net:+ (no network: $net)}"
	check "the screenshot is not blank" png "$TMP/report.png"
	printf '<!DOCTYPE html><html><body></body></html>\n' >"$TMP/blank.html"
	if shoot "$TMP/blank.html" "$TMP/blank.png" &&
		! $CHECK png "$TMP/blank.png" >"$TMP/blank.out" 2>&1; then
		ok "a blank page fails the screenshot check"
	else
		not_ok "a blank page" "passes the check or did not render" \
			"$TMP/chromium.out"
	fi
else
	not_ok "chromium renders the report" "failed" "$TMP/chromium.out"
fi

finish

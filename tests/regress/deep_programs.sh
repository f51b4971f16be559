#!/bin/sh
# Regression: nnc recursed as deep as the program was long. A 30,000-term
# sum (x + x + ... + x) and a chain of 50,000 statements (a1 = a0 + 1, ...)
# overflowed the stack (SIGSEGV in sema and lower.c), 10,000 nested
# parentheses gave a bare "error: memory exhausted" without a location,
# and a linked-list symbol table made compile time quadratic (100,000
# statements took minutes). Now left-associative chains and the
# expression DAG are walked with loops, nesting beyond NN_MAX_NESTING is
# an error at its location, and names live in a hash table.
. tests/tools/lib.sh
T=$TMP/deep
program() { # program NAME BODY-GENERATOR: the common frame around it
	{
		printf 'model %s\ninput x[4]\ntarget y[4]\n' "$1"
		cat
		printf 'loss = mse(o, y)\noptimizer sgd(lr = 0.1)\n'
		printf 'train {\n  data = csv("d.csv", x = 0:4, y = 4:8)\n}\n'
	} >"$T.$1.nn"
}
awk 'BEGIN { printf "output o = x"; for (i = 1; i < 30000; i++)
	printf " + x"; print "" }' | program sum
awk 'BEGIN { print "a0 = x"; for (i = 1; i <= 100000; i++)
	printf "a%d = a%d + 1\n", i, i - 1; print "output o = a100000" }' |
	program chain
awk 'BEGIN { printf "output o = "; for (i = 0; i < 10000; i++) printf "(";
	printf "x"; for (i = 0; i < 10000; i++) printf ")"; print "" }' |
	program parens
awk 'BEGIN { print "def f0(v) = v + 1"; for (i = 1; i < 5000; i++)
	printf "def f%d(v) = f%d(v) * 2\n", i, i - 1;
	print "output o = f4999(x)" }' | program defs
fail=0
for p in sum chain; do
	timeout 60 "$NNC" "$T.$p.nn" -o "$T.$p.c" 2>"$T.$p.err" ||
		{ echo "$p: exit $?"; cat "$T.$p.err"; fail=1; }
	grep -q '^int main' "$T.$p.c" || { echo "$p: no C"; fail=1; }
done
expect_error() { # expect_error NAME LOCATION MESSAGE
	timeout 60 "$NNC" "$T.$1.nn" -o "$T.$1.c" 2>"$T.$1.err"
	rc=$?
	[ $rc = 1 ] || { echo "$1: exit $rc, not 1"; fail=1; }
	grep -q "^$T.$1.nn:$2: error: $3" "$T.$1.err" ||
		{ echo "$1: wanted $2: $3"; head -c 600 "$T.$1.err"; fail=1; }
	[ ! -e "$T.$1.c" ] || { echo "$1: wrote output"; fail=1; }
}
expect_error parens 4:1006 "nested too deeply: more than 1000"
expect_error defs 4904:16 "defs calling defs more than 100 deep"
exit $fail

#!/bin/sh
# Regression: a NUL byte in a .nn file ended the program silently; the
# lexer saw a C string, so everything after the NUL was ignored (here the
# second, broken half of the program) and nnc exited 0. Now it is an
# error at the NUL's line and column, and nothing is written.
. tests/tools/lib.sh
T=$TMP/nul
printf 'model m\ninput x[4]\n  \000 this is not nnc at all\n' >"$T.nn"
"$NNC" "$T.nn" -o "$T.c" 2>"$T.err"
rc=$?
cat "$T.err"
[ $rc = 1 ] || { echo "exit $rc, not 1"; exit 1; }
grep -q "^$T.nn:3:3: error: NUL byte in source" "$T.err" || exit 1
[ ! -e "$T.c" ] || { echo "wrote $T.c"; exit 1; }

#!/bin/sh
# Man page tier: docs/man/nnc.1 and docs/man/nnrt-trainer.1 format with no
# groff warning and render through man (or groff -Tutf8 without man-db);
# every option `nnc --help` prints is a tag in nnc.1's OPTIONS; every
# command a trainer's --help lists is a tag in nnrt-trainer.1's COMMANDS
# whose paragraph names the options that command's --help prints, and
# each of those options is a tag in OPTIONS. The checks are run once on a
# page with an option deleted (and groff on one with an undefined
# macro), which they must reject.
cd "$(dirname "$0")/../.." || exit 2
TIER=man
. tests/tools/lib.sh

NNC_PAGE=docs/man/nnc.1
TRAINER_PAGE=docs/man/nnrt-trainer.1

for page in "$NNC_PAGE" "$TRAINER_PAGE"; do
	name=$(basename "$page")
	if groff -ww -z -man "$page" >"$TMP/$name.groff" 2>&1 &&
		! [ -s "$TMP/$name.groff" ]; then
		ok "$name: groff -ww -z -man, no warning"
	else
		not_ok "$name: groff -ww -z -man" "warnings" "$TMP/$name.groff"
	fi
	if command -v man >/dev/null 2>&1; then
		how="man -l"
		MANWIDTH=80 man -l "$page" >"$TMP/$name.txt" 2>"$TMP/$name.err"
	else
		how="groff -Tutf8"
		groff -man -Tutf8 "$page" >"$TMP/$name.txt" 2>"$TMP/$name.err"
	fi
	rc=$?
	if [ "$rc" -eq 0 ] && ! [ -s "$TMP/$name.err" ] &&
		grep -q '^NAME' "$TMP/$name.txt" &&
		grep -q '^EXIT STATUS' "$TMP/$name.txt"; then
		ok "$name: $how renders it"
	else
		not_ok "$name: $how" "exit $rc or no NAME/EXIT STATUS" \
			"$TMP/$name.err"
	fi
done

# render PAGE OUT: plain ASCII, one line per paragraph (no filling into
# the next line, no hyphenation), so a tag is one line at indent 7.
render() {
	groff -man -Tascii -rLL=1000n -rHY=0 "$1" 2>/dev/null | col -bx >"$2"
}

# section TEXT NAME: the lines of section NAME of a rendered page.
section() {
	awk -v s="$2" '/^[A-Z]/ { on = ($0 == s); next } on' "$1"
}

# is_tag TEXT SECTION OPT: OPT starts a tagged paragraph of SECTION, or
# follows ", " in its tag ("--help, -h"). An OPT ending in '=' may be
# followed by anything (its placeholder).
is_tag() {
	re=$(printf '%s' "$3" | sed 's/[][\.|*+?(){}^$]/\\&/g')
	case $3 in
	*=) end= ;;
	*) end='([ ,]|$)' ;;
	esac
	section "$1" "$2" | grep -qE "^ {7}([^ ]+, )*$re$end"
}

# the options of a --help text: the first column of each line that
# starts with two spaces and a dash, split at ", "; "-o FILE" is "-o",
# "--dump-after=PASS" is "--dump-after=".
help_options() {
	sed -n 's/^  \(-[^ ].*\)$/\1/p' "$1" |
		sed 's/   *.*//; s/, /\n/g' |
		sed 's/ .*//; s/=[A-Z][A-Z]*$/=/'
}

# the paragraph of COMMAND in the COMMANDS section, up to the next tag
command_text() {
	section "$1" COMMANDS | awk -v c="$2" '
		/^       [^ ]/ { on = ($1 == c) }
		on'
}

# --- nnc.1 ---------------------------------------------------------------
render "$NNC_PAGE" "$TMP/nnc.txt"
if ! "$NNC" --help >"$TMP/nnc.help" 2>&1; then
	not_ok "nnc --help" "failed" "$TMP/nnc.help"
fi
help_options "$TMP/nnc.help" >"$TMP/nnc.opts"
n=$(wc -l <"$TMP/nnc.opts")
if [ "$n" -ge 10 ]; then
	ok "nnc --help: $n options read"
else
	not_ok "nnc --help" "only $n options read" "$TMP/nnc.help"
fi
while read -r opt; do
	if is_tag "$TMP/nnc.txt" OPTIONS "$opt"; then
		ok "nnc.1 documents $opt"
	else
		not_ok "nnc.1 documents $opt" "no tag in OPTIONS"
	fi
done <"$TMP/nnc.opts"

# --- nnrt-trainer.1 ------------------------------------------------------
render "$TRAINER_PAGE" "$TMP/trainer.txt"
T=$TMP/xor
if ! build_trainer examples/xor.nn "$T"; then
	not_ok "build the xor trainer" "failed" "$T.log"
	finish
	exit
fi
"$T" --help >"$TMP/trainer.help" 2>&1
sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' "$TMP/trainer.help" \
	>"$TMP/commands"
n=$(wc -l <"$TMP/commands")
if [ "$n" -ge 8 ]; then
	ok "xor --help: $n commands read"
else
	not_ok "xor --help" "only $n commands read" "$TMP/trainer.help"
fi
: >"$TMP/all.opts"
while read -r cmd; do
	"$T" "$cmd" --help >"$TMP/$cmd.help" 2>&1
	help_options "$TMP/$cmd.help" | tee -a "$TMP/all.opts" >"$TMP/$cmd.opts"
	if ! is_tag "$TMP/trainer.txt" COMMANDS "$cmd"; then
		not_ok "nnrt-trainer.1 documents $cmd" "no tag in COMMANDS"
		continue
	fi
	command_text "$TMP/trainer.txt" "$cmd" >"$TMP/$cmd.page"
	missing=
	while read -r opt; do
		[ "$opt" = --help ] && continue
		grep -qE -- "(^|[^-a-z])$opt([^-a-z]|$)" "$TMP/$cmd.page" ||
			missing="$missing $opt"
	done <"$TMP/$cmd.opts"
	if ! grep -qx -- --help "$TMP/$cmd.opts"; then
		not_ok "nnrt-trainer.1 documents $cmd" "$cmd --help has no --help"
	elif [ -n "$missing" ]; then
		not_ok "nnrt-trainer.1 documents $cmd" \
			"its paragraph does not name$missing"
	else
		ok "nnrt-trainer.1 documents $cmd and its options"
	fi
done <"$TMP/commands"
sort -u "$TMP/all.opts" >"$TMP/trainer.opts"
while read -r opt; do
	if is_tag "$TMP/trainer.txt" OPTIONS "$opt"; then
		ok "nnrt-trainer.1 documents $opt"
	else
		not_ok "nnrt-trainer.1 documents $opt" "no tag in OPTIONS"
	fi
done <"$TMP/trainer.opts"

# --- the checks can fail -------------------------------------------------
# nnc.1 without --check's paragraph, nnrt-trainer.1 without --tol's and
# without gradcheck's mention of --samples: each check must see it.
sed '/^\.B \\-\\-check$/d' "$NNC_PAGE" >"$TMP/broken.1"
render "$TMP/broken.1" "$TMP/broken.txt"
if is_tag "$TMP/broken.txt" OPTIONS --check; then
	not_ok "a page without --check" "the check still passes"
elif ! grep -q -- '--check' "$TMP/nnc.opts"; then
	not_ok "a page without --check" "nnc --help has no --check"
else
	ok "a page without --check fails the check"
fi
sed '/^\.BI \\-\\-tol " t"$/d' "$TRAINER_PAGE" >"$TMP/broken.1"
render "$TMP/broken.1" "$TMP/broken.txt"
if is_tag "$TMP/broken.txt" OPTIONS --tol; then
	not_ok "a trainer page without --tol" "the check still passes"
else
	ok "a trainer page without --tol fails the check"
fi
sed '/^\.BR \\-\\-samples ,$/d' "$TRAINER_PAGE" >"$TMP/broken.1"
render "$TMP/broken.1" "$TMP/broken.txt"
command_text "$TMP/broken.txt" gradcheck >"$TMP/broken.page"
if grep -q -- '--samples' "$TMP/broken.page" ||
	! grep -q -- '--samples' "$TMP/gradcheck.page"; then
	not_ok "gradcheck's paragraph without --samples" "not seen"
else
	ok "gradcheck's paragraph without --samples fails the check"
fi
sed 's/^\.SH NAME$/.SH NAME\n.XX undefined/' "$NNC_PAGE" >"$TMP/broken.1"
if groff -ww -z -man "$TMP/broken.1" 2>&1 | grep -q warning; then
	ok "a page with an undefined macro gets a groff warning"
else
	not_ok "a page with an undefined macro" "no groff warning"
fi

finish

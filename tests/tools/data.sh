#!/bin/sh
# Data tier: the train block's data sources, end to end. tests/tools/mkidx.py
# writes small IDX files (4x4 images, plain and gzipped), their CSV twins
# and one broken file per error of the IDX reader; trainers generated from
# tests/e2e/idx_quad.nn, csv_sources.nn and idx_image.nn read them: idx()
# data, validation = SOURCE and test = SOURCE with IDX and CSV files,
# eval --test, predict from IDX images, and each bad file's exact message.
cd "$(dirname "$0")/../.." || exit 2
TIER=data
. tests/tools/lib.sh

ROOT=$PWD
PY=/usr/bin/python3
D=$ROOT/$TMP/files
mkdir -p "$D"
if ! $PY tests/tools/mkidx.py "$D" >"$TMP/mkidx.log" 2>&1; then
	not_ok "mkidx.py writes the IDX files" "python3 failed" "$TMP/mkidx.log"
	finish
	exit 1
fi
for m in idx_quad csv_sources idx_image; do
	if ! build_trainer "tests/e2e/$m.nn" "$TMP/$m"; then
		not_ok "$m builds" "nnc or cc failed" "$TMP/$m.log"
		finish
		exit 1
	fi
done
Q=$ROOT/$TMP/idx_quad
C=$ROOT/$TMP/csv_sources
I=$ROOT/$TMP/idx_image

# in DIR: run a trainer where the train block's relative paths point
in_dir() { (cd "$D" && "$@"); }

# field NAME PREFIX FILE: the value after NAME on the line starting PREFIX
field() {
	awk -v p="$2" -v k="$1" '$1 == p { for (i = 1; i < NF; i++)
		if ($i == k) { print $(i + 1); exit } }' "$3"
}
atleast() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

# train_sources KEY TRAINER MODEL: train on the train block's sources (40
# training rows, a validation source of 12, a test source of 20): the test
# accuracy reaches 0.9; eval repeats the final validation loss and
# eval --test train's test line.
train_sources() {
	key=$1 t=$2 model=$3 out=$TMP/$1
	in_dir "$t" train --checkpoint "$key.ckpt" >"$out.train" 2>&1
	acc=$(field accuracy test "$out.train")
	if grep -q "^train $model: 52 rows (40 train, 12 validation)," "$out.train" &&
		grep -qE '^test loss [0-9.]+ accuracy [0-9.]+ \(20 samples\)$' "$out.train" &&
		atleast "$acc" 0.9; then
		ok "$key: 40 rows train, a source of 12 validates, one of 20 tests (test accuracy $acc)"
	else
		not_ok "$key: validation and test sources" "no rows line, or test accuracy '$acc' < 0.9" "$out.train"
	fi
	in_dir "$t" eval --checkpoint "$key.ckpt" --test >"$out.eval" 2>&1
	if [ "$(grep '^test ' "$out.train")" = "$(grep '^test ' "$out.eval")" ] &&
		[ "$(field val_loss final "$out.train")" = "$(field loss eval "$out.eval")" ] &&
		grep -q '^eval .*(12 samples)$' "$out.eval"; then
		ok "$key: eval measures the validation source as train did, eval --test prints train's test line"
	else
		not_ok "$key: eval and eval --test" "lines differ from train's" "$out.eval"
	fi
}

# --- idx() data, an IDX validation source, an IDX test source --------
train_sources idx "$Q" quad
in_dir "$Q" eval --checkpoint idx.ckpt --test test-images.idx,test-labels.idx \
	>"$TMP/qp.out" 2>&1
if cmp -s "$TMP/idx.eval" "$TMP/qp.out"; then
	ok "eval --test IMAGES,LABELS: the same test set by name"
else
	not_ok "eval --test IMAGES,LABELS" "differs from eval --test" "$TMP/qp.out"
fi

# --- gzipped IDX files read as the plain ones ------------------------
in_dir "$Q" train --data train-images.idx.gz,train-labels.idx.gz \
	--checkpoint gz.ckpt >"$TMP/gz.out" 2>&1
in_dir "$Q" export --checkpoint idx.ckpt --npy plain >/dev/null 2>&1
in_dir "$Q" export --checkpoint gz.ckpt --npy gz >/dev/null 2>&1
if diff "$TMP/idx.train" "$TMP/gz.out" | grep -q '^[<>] \(epoch\|final\|test\)' ||
	! diff -r "$D/plain" "$D/gz" >/dev/null || [ ! -s "$D/gz/h.W.npy" ]; then
	not_ok "gzipped IDX files" "training differs from the plain files" "$TMP/gz.out"
else
	ok "gzipped IDX files train exactly as the plain ones"
fi

# --- predict from IDX images -----------------------------------------
in_dir "$Q" predict --checkpoint idx.ckpt --input test-images.idx >"$TMP/qpred.csv" 2>&1
tail -n +2 "$D/test.csv" >"$TMP/test.rows"
right=$(tail -n +2 "$TMP/qpred.csv" | paste -d, - "$TMP/test.rows" |
	awk -F, '{ if ($5 == $NF) n++ } END { print n + 0 }')
if [ "$(head -1 "$TMP/qpred.csv")" = "probs_0,probs_1,probs_2,probs_3,class" ] &&
	[ "$(wc -l <"$TMP/qpred.csv")" = 21 ] && [ "$right" -ge 18 ]; then
	ok "predict --input IMAGES: 20 rows, $right/20 classes right"
else
	not_ok "predict --input IMAGES" "$right/20 right" "$TMP/qpred.csv"
fi

# --- resume with a validation source: 10 epochs = 5 + 5 --------------
in_dir "$Q" train --epochs 10 --checkpoint r10.ckpt >/dev/null 2>&1
in_dir "$Q" train --epochs 5 --checkpoint r5.ckpt >/dev/null 2>&1
in_dir "$Q" train --epochs 10 --resume r5.ckpt --checkpoint r5.ckpt >"$TMP/r.out" 2>&1
if cmp -s "$D/r10.ckpt" "$D/r5.ckpt"; then
	ok "resume with a validation source: 10 epochs = 5 + 5, bit for bit"
else
	not_ok "resume with a validation source" "checkpoints differ" "$TMP/r.out"
fi

# --- bad IDX files: exit 1, one exact line, nothing written ----------
# One case a line: name | trainer (quad or image) | its arguments |
# exactly what it prints on stderr. Nothing may train.
L=train-labels.idx
while IFS='|' read -r name which args want; do
	t=$Q
	[ "$which" = image ] && t=$I
	# shellcheck disable=SC2086
	in_dir "$t" $args --checkpoint bad.ckpt </dev/null >"$TMP/bad.out" \
		2>"$TMP/bad.err"
	rc=$?
	if [ "$rc" = 1 ] && [ "$(cat "$TMP/bad.err")" = "$want" ] &&
		! grep -q '^epoch' "$TMP/bad.out"; then
		ok "bad IDX: $name"
	else
		echo "exit $rc; stderr:" | cat - "$TMP/bad.err" >"$TMP/bad.log"
		not_ok "bad IDX: $name" "expected '$want'" "$TMP/bad.log"
	fi
done <<EOF
wrong magic (labels as images)|quad|train --data magic.idx,$L|quad: magic.idx: not an IDX image file (magic 0x00000801, expected 0x00000803)
wrong magic (images as labels)|quad|train --data train-images.idx,train-images.idx|quad: train-images.idx: not an IDX label file (magic 0x00000803, expected 0x00000801)
element type f32|quad|train --data f32-images.idx,$L|quad: f32-images.idx: IDX element type 0x0d (f32) is not supported, only unsigned bytes (0x08)
truncated header|quad|train --data short-header.idx,$L|quad: short-header.idx: truncated: the IDX header needs 16 bytes, the file has 9
truncated images|quad|train --data short-images.idx,$L|quad: short-images.idx: truncated: 40 images of 4x4 need 640 bytes after the header, the file has 600
truncated gzip stream|quad|train --data short-images.idx.gz,$L|quad: short-images.idx.gz: truncated: 40 images of 4x4 need 640 bytes after the header, the gzip stream ends early
a header announcing 2^32 - 1 images|quad|train --data huge-images.idx,huge-labels.idx|quad: huge-images.idx: truncated: 4294967295 images of 4x4 need 68719476720 bytes after the header, the file has 640
truncated labels|quad|train --data train-images.idx,short-labels.idx|quad: short-labels.idx: truncated: 40 labels need 40 bytes after the header, the file has 39
trailing bytes|quad|train --data train-images.idx,trailing-labels.idx|quad: trailing-labels.idx: more data than the header announces (40 labels need 40 bytes after the header)
count mismatch|quad|train --data train-images.idx,count-labels.idx|quad: train-images.idx has 40 images but count-labels.idx has 39 labels
shape mismatch|quad|train --data big-images.idx,$L|quad: big-images.idx: images of 5x5 (25 values) do not fit the input [16] (16 values)
shape mismatch, [1, 4, 4] input|image|init --data big-images.idx,$L|quadimg: big-images.idx: images of 5x5 (25 values) do not fit the input [1, 4, 4] (16 values)
label out of range|quad|train --data train-images.idx,range-labels.idx|quad: range-labels.idx: row 7: class 9 out of range 0..3
a bad test set fails before training|quad|train --test train-images.idx,range-labels.idx|quad: range-labels.idx: row 7: class 9 out of range 0..3
missing file|quad|train --test none.idx,$L|quad: cannot open 'none.idx': No such file or directory
EOF
if [ -e "$D/bad.ckpt" ] || [ -e "$D/bad.ckpt.tmp" ]; then
	not_ok "bad IDX files write no checkpoint" "$D/bad.ckpt exists"
else
	ok "bad IDX files write no checkpoint"
fi
in_dir "$Q" train --data train-images.idx >"$TMP/pair.out" 2>&1
if [ $? = 2 ] && grep -qF "invalid value 'train-images.idx' for '--data': expected IMAGES,LABELS" "$TMP/pair.out"; then
	ok "--data of an idx model is IMAGES,LABELS (exit 2 otherwise)"
else
	not_ok "--data IMAGES,LABELS" "no usage error" "$TMP/pair.out"
fi

# --- a [1, 4, 4] input reads 4x4 images; a validation fraction -------
in_dir "$I" train --checkpoint i.ckpt >"$TMP/i.out" 2>&1
if grep -q '^train quadimg: 40 rows (30 train, 10 validation),' "$TMP/i.out" &&
	grep -q '^final val_loss' "$TMP/i.out"; then
	ok "idx: gzipped files from the train block into a [1, 4, 4] input"
else
	not_ok "idx into a [1, 4, 4] input" "no rows line" "$TMP/i.out"
fi
in_dir "$I" eval --checkpoint i.ckpt --test >"$TMP/it.out" 2>&1
if [ $? = 1 ] && grep -qxF "quadimg: the train block names no test source; pass --test PATH" "$TMP/it.out"; then
	ok "eval --test without a test source: a clear error"
else
	not_ok "eval --test without a test source" "no error" "$TMP/it.out"
fi

# --- CSV sources: validation = csv(...), test = csv(...) -------------
train_sources csv "$C" quadcsv
in_dir "$C" eval --checkpoint csv.ckpt --data test.csv >"$TMP/cd.out" 2>&1
if [ "$(field loss test "$TMP/csv.train")" = "$(field loss eval "$TMP/cd.out")" ] &&
	[ "$(field accuracy test "$TMP/csv.train")" = "$(field accuracy eval "$TMP/cd.out")" ]; then
	ok "csv: the test source is normalised as eval --data normalises the file"
else
	not_ok "csv: the test source's normalisation" "eval --data test.csv differs from the test line" "$TMP/cd.out"
fi
in_dir "$C" export --checkpoint csv.ckpt --npy cnpy >/dev/null 2>&1
if $PY - "$D" <<'EOF' >"$TMP/norm.log" 2>&1
import sys
import numpy as np
d = sys.argv[1]
x = np.loadtxt(d + "/train.csv", delimiter=",", skiprows=1)[:, :16]
shift = np.load(d + "/cnpy/normalize.shift.npy")
scale = np.load(d + "/cnpy/normalize.scale.npy")
assert np.allclose(shift, x.mean(0), atol=1e-6), shift - x.mean(0)
assert np.allclose(scale, x.std(0), atol=1e-6), scale - x.std(0)
EOF
then
	ok "csv: normalisation fitted on the training file alone"
else
	not_ok "csv: normalisation of the training file" "statistics differ" "$TMP/norm.log"
fi
in_dir "$C" train --epochs 2 --test val.csv --checkpoint c2.ckpt >"$TMP/c2.out" 2>&1
if grep -qE '^test loss [0-9.]+ accuracy [0-9.]+ \(12 samples\)$' "$TMP/c2.out"; then
	ok "train --test PATH replaces the train block's test source"
else
	not_ok "train --test PATH" "no test line of 12 samples" "$TMP/c2.out"
fi
finish

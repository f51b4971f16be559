#!/bin/sh
# `make demo`: compile examples/iris.nn, build the trainer with the
# documented cc line, train it (live progress on a terminal) and print the
# final validation accuracy.
set -eu
cd "$(dirname "$0")/../.."
mkdir -p build/demo
echo "nnc examples/iris.nn -o build/demo/iris.c"
build/nnc examples/iris.nn -o build/demo/iris.c
echo "cc -O2 build/demo/iris.c -Iruntime build/libnnrt.a -lopenblas -lz -lm -o build/demo/iris"
cc -O2 -std=c11 -Iruntime $(pkg-config --cflags openblas) build/demo/iris.c \
	build/libnnrt.a $(pkg-config --libs openblas) -lz -lm -o build/demo/iris
echo "build/demo/iris train --checkpoint build/demo/iris.ckpt"
build/demo/iris train --checkpoint build/demo/iris.ckpt
echo
echo "build/demo/iris eval --checkpoint build/demo/iris.ckpt"
build/demo/iris eval --checkpoint build/demo/iris.ckpt | tee build/demo/eval.log
acc=$(sed -nE 's/.*accuracy ([0-9.]+).*/\1/p' build/demo/eval.log)
echo "final validation accuracy: $acc"

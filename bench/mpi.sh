#!/bin/sh
# Data-parallel scaling over MPI: the Fashion-MNIST MLP 784-256-128-10
# (bench/mpi_mlp.nn, Adam) at 256 rows per rank, one epoch of 60000 rows
# with 1 rank (global batch 256) and with 2 ranks (global batch 512),
# one OpenBLAS thread per rank, on this machine (shared memory between
# the ranks, Open MPI's vader; TCP over loopback is several times
# slower for the 1 MB gradient each step). Prints
# markdown table rows: samples/s of each (the median of RUNS epochs, the
# runs alternating; an epoch's time is the log's seconds column, the
# training steps alone) and the scaling efficiency,
# (samples/s with 2 ranks) / (2 x samples/s with 1 rank); target >= 90%.
# Run it on an idle machine: every step waits for the slower rank, so a
# rank the scheduler leaves off its core slows the whole job, which one
# process does not feel (on this 2-core machine, busy with other
# builds, the efficiency swung between 15% and 81%; an allreduce of the
# gradient takes 0.1 ms over shared memory against 3.7 ms of a 256-row
# step on a core of its own).
#
#   bench/mpi.sh            (from the source tree; builds what it needs)
#   RUNS=5 bench/mpi.sh
cd "$(dirname "$0")/.." || exit 2
RUNS=${RUNS:-3}
OUT=build/bench/mpi
DATA=/usr/share/datasets/fashion-mnist
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null; then
	echo "bench/mpi.sh: Open MPI missing (apt-get install openmpi-bin libopenmpi-dev)" >&2
	exit 1
fi
if [ ! -f $DATA/train-images-idx3-ubyte.gz ]; then
	echo "bench/mpi.sh: $DATA missing (apt-get install dataset-fashion-mnist)" >&2
	exit 1
fi
make -s all mpi >/dev/null || exit 1
mkdir -p $OUT
export OPENBLAS_NUM_THREADS=1
MPIRUN="mpirun --allow-run-as-root --oversubscribe --bind-to none
 --mca btl self,vader,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo"

# one trainer per rank count: the global batch is 256 x ranks
for np in 1 2; do
	sed "s/batch  = 256/batch  = $((256 * np))/" bench/mpi_mlp.nn \
		>$OUT/mlp$np.nn
	build/nnc $OUT/mlp$np.nn -o $OUT/mlp$np.c &&
	mpicc -O2 $OUT/mlp$np.c $(PKG_CONFIG_PATH=build pkg-config --cflags \
		--libs nnrt-mpi) -o $OUT/mlp$np || exit 1
done

# run NP: one epoch; prints the epoch's samples/s
run() {
	rm -f $OUT/log$1.csv
	$MPIRUN -np $1 $OUT/mlp$1 train --checkpoint $OUT/mlp$1.ckpt \
		--log $OUT/log$1.csv >$OUT/out$1 2>&1 || {
		cat $OUT/out$1 >&2
		exit 1
	}
	tail -1 $OUT/log$1.csv | awk -F, '{ printf "%.1f\n", 60000 / $NF }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: >$OUT/r1
: >$OUT/r2
i=0
while [ $i -lt "$RUNS" ]; do
	run 1 >>$OUT/r1 || exit 1
	run 2 >>$OUT/r2 || exit 1
	i=$((i + 1))
done
s1=$(median <$OUT/r1)
s2=$(median <$OUT/r2)
eff=$(awk -v a="$s1" -v b="$s2" 'BEGIN { printf "%.0f", 100 * b / (2 * a) }')
echo "| mpi: fashion MLP 784-256-128-10, 1 rank (batch 256) | $s1 samples/s |"
echo "| mpi: fashion MLP 784-256-128-10, 2 ranks (batch 256 per rank, 512 global) | $s2 samples/s |"
echo "| mpi: scaling efficiency, 2 ranks over 1 (target >= 90%) | $eff% |"

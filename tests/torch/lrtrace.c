/*
 * lrtrace.c - the learning rate of every step of a generated trainer's
 * schedule, for the torch tier's per-step comparison.
 *
 * It includes the generated C (MODEL_C, a quoted path given with -D) with
 * nnrt_main renamed, so the trainer's main() hands its descriptor to
 * lrtrace_main below instead of the runtime:
 *
 *   cc -DMODEL_C='"prog.c"' -Iruntime tests/torch/lrtrace.c ... -o lrtrace
 *   lrtrace STEPS_PER_EPOCH EPOCHS [VAL_LOSS...]
 *
 * prints the rate of each step (%.17g, one a line), calling lr_at and
 * lr_epoch with the clocks runtime/train.c gives them: lr_at before each
 * step with the steps and epochs done, lr_epoch after each epoch with its
 * steps counted but not the epoch itself, and the epoch's validation
 * loss (VAL_LOSS number e, or 0 when fewer are given).
 */
#define nnrt_main lrtrace_main
#include MODEL_C
#undef nnrt_main

#include <stdio.h>
#include <stdlib.h>

int lrtrace_main(const NnrtModel *m, int argc, char **argv)
{
	NnrtClock c = {0};
	double *sched;
	long epochs;

	if (argc < 3) {
		fprintf(stderr, "usage: lrtrace STEPS_PER_EPOCH EPOCHS "
			"[VAL_LOSS...]\n");
		return 2;
	}
	c.steps_per_epoch = atol(argv[1]);
	epochs = atol(argv[2]);
	c.total_steps = epochs * c.steps_per_epoch;
	c.base_lr = m->lr;
	sched = calloc((size_t)m->n_sched + 1, sizeof(double));
	if (!sched)
		return 1;
	for (c.epoch = 0; c.epoch < epochs; c.epoch++) {
		long b;
		for (b = 0; b < c.steps_per_epoch; b++) {
			printf("%.17g\n", m->lr_at(sched, &c));
			c.step++;
		}
		m->lr_epoch(sched, &c,
			    3 + c.epoch < argc ? atof(argv[3 + c.epoch]) : 0);
	}
	free(sched);
	return 0;
}

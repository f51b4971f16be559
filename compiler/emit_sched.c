/*
 * emit_sched.c - the learning-rate schedule: two functions the runtime
 * calls (runtime/nnrt.h, NnrtClock):
 *
 *   double NAME_lr_at(double *sched, const NnrtClock *c)
 *       the rate of the optimizer step c->step + 1, from the clock (steps
 *       and epochs done, steps per epoch, the run's total steps, the base
 *       rate: the optimizer's lr or --lr) and the schedule's own state;
 *   void NAME_lr_epoch(double *sched, const NnrtClock *c, double val_loss)
 *       after each epoch, with the validation loss: where a plateau
 *       schedule keeps its memory.
 *
 * `sched` holds emit_sched_size() doubles, zero at the start of a run and
 * carried by checkpoints, so a resumed run continues the same schedule.
 * Without a schedule statement the rate is constant.
 */
#include "nnc.h"

int emit_sched_size(const Model *m)
{
	(void)m;
	return 0;
}

const char *emit_sched_str(Emitter *E)
{
	(void)E;
	return "constant";
}

void emit_schedule(Emitter *E)
{
	const char *mn = E->m->name;
	emit(E, "static double %s_lr_at(double *sched, const NnrtClock *c)", mn);
	emit(E, "{");
	emit(E, "\t(void)sched;");
	emit(E, "\treturn c->base_lr;");
	emit(E, "}");
	emit(E, "%s", "");
	emit(E, "static void %s_lr_epoch(double *sched, const NnrtClock *c, "
	     "double val_loss)", mn);
	emit(E, "{");
	emit(E, "\t(void)sched;");
	emit(E, "\t(void)c;");
	emit(E, "\t(void)val_loss;");
	emit(E, "}");
	emit(E, "%s", "");
}

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
 *
 * The schedule is Model.sched, a chain of pieces (sema_sched.c). Every
 * piece before the last is a warmup, which ends after its steps, so each
 * piece starts at a step S known here and NAME_lr_at is straight-line C:
 * one block per piece in order, its formula in a comment; a warmup
 * returns while c->step < S + steps and falls through to the next piece
 * after that. In the formulas (docs/language.md):
 *
 *   lr  c->base_lr: every piece starts from it, as in PyTorch's
 *       SequentialLR, except one_cycle, which has its own rates
 *   t   the piece's steps, c->step - S
 *   e   the piece's epochs, c->epoch - S / c->steps_per_epoch: the epoch
 *       boundaries crossed since it started (its first epoch may be
 *       partial)
 *   T   its steps in the configured run, c->total_steps - S
 *
 * They are PyTorch's closed forms (torch.optim.lr_scheduler); each
 * comment names the class.
 */
#include "nnc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A double as C: the shortest text that reads back as v. */
static const char *dbl(Emitter *E, double v)
{
	char buf[64];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	return arena_strdup(&E->arena, buf);
}

/* The piece's clocks as C expressions of type long. */
static const char *clock_steps(Emitter *E, const SchedPiece *p)
{
	if (p->start == 0)
		return "c->step";
	return arena_printf(&E->arena, "(c->step - %ld)", p->start);
}

static const char *clock_epochs(Emitter *E, const SchedPiece *p)
{
	if (p->start == 0)
		return "c->epoch";
	return arena_printf(&E->arena, "(c->epoch - %ld / c->steps_per_epoch)",
			    p->start);
}

/* " from step S" or "" */
static const char *from(Emitter *E, const SchedPiece *p)
{
	if (p->start == 0)
		return "";
	return arena_printf(&E->arena, " from step %ld", p->start);
}

static const char *piece_str(Emitter *E, const SchedPiece *p)
{
	return sema_sched_str(&E->arena, p);
}

/* The comment over a piece: the piece as written and where it starts,
 * then the lines of fmt (separated by newlines), on one line if it
 * fits. */
__attribute__((format(printf, 3, 4)))
static void piece_comment(Emitter *E, const SchedPiece *p, const char *fmt,
			  ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	const char *head = arena_printf(&E->arena, "%s%s:", piece_str(E, p),
					from(E, p));
	if (!strchr(text, '\n') && strlen(head) + strlen(text) < 64) {
		emit(E, "/* %s %s */", head, text);
		return;
	}
	emit(E, "/* %s", head);
	for (char *line = strtok(text, "\n"); line;) {
		char *next = strtok(NULL, "\n");
		emit(E, " * %s%s", line, next ? "" : " */");
		line = next;
	}
}

/* ---- the rate of each schedule ---------------------------------------- */

/* warmup(steps = N): lr * t / N for t = 0..N-1, then the next piece (or
 * lr, when it is the last). */
static void rate_warmup(Emitter *E, const SchedPiece *p, bool last)
{
	long n = (long)sema_sched_val(p, "steps");
	piece_comment(E, p, "lr * t / %ld for t = 0..%ld", n, n - 1);
	emit(E, "if (c->step < %ld)", p->start + n);
	emit(E, "\treturn c->base_lr * ((double)%s / %ld);", clock_steps(E, p), n);
	if (last) {
		emit(E, "/* after the warmup: lr */");
		emit(E, "return c->base_lr;");
	}
}

/* step, multistep and exponential count epochs (e), or steps (t) when
 * given steps =. */
static const char *counter(const SchedPiece *p)
{
	return sema_sched_given(p, "steps") ? "t" : "e";
}

/* Opens the block of such a piece, with its counter. */
static void open_counted(Emitter *E, const SchedPiece *p)
{
	bool steps = sema_sched_given(p, "steps");
	emit(E, "{");
	emit(E, "\tconst long %s = %s;", counter(p), steps ? clock_steps(E, p)
							     : clock_epochs(E, p));
}

/* step and exponential: lr * gamma^floor(n / N), PyTorch's StepLR
 * (ExponentialLR when N = 1) */
static void rate_step(Emitter *E, const SchedPiece *p)
{
	const char *c = counter(p);
	long n = (long)sema_sched_val(p, c[0] == 't' ? "steps" : "epochs");
	const char *k = n == 1 ? c : arena_printf(&E->arena, "%s / %ld", c, n);
	if (n == 1)
		piece_comment(E, p, "PyTorch's ExponentialLR, lr * gamma^%s", c);
	else
		piece_comment(E, p, "PyTorch's StepLR(step_size = %ld), lr * "
			      "gamma^floor(%s / %ld)", n, c, n);
	open_counted(E, p);
	emit(E, "\treturn c->base_lr * pow(%s, (double)(%s));",
	     dbl(E, sema_sched_val(p, "gamma")), k);
	emit(E, "}");
}

/* MultiStepLR: lr * gamma^(the milestones reached) */
static void rate_multistep(Emitter *E, const SchedPiece *p)
{
	const char *c = counter(p);
	const char *sum = "";
	for (int i = 0; i < p->nlist; i++)
		sum = arena_printf(&E->arena, "%s%s(%s >= %ld)", sum,
				   i ? " + " : "", c, p->list[i]);
	piece_comment(E, p, "PyTorch's MultiStepLR, lr * gamma^(the "
		      "milestones %s has reached)", c);
	open_counted(E, p);
	emit(E, "\treturn c->base_lr * pow(%s, (double)(%s));",
	     dbl(E, sema_sched_val(p, "gamma")), sum);
	emit(E, "}");
}

/* The opening of a piece that lasts to the end of the run: its t and T
 * as doubles (and pi). */
static void open_run_piece(Emitter *E, const SchedPiece *p, bool pi)
{
	emit(E, "{");
	E->indent++;
	if (pi)
		emit(E, "const double pi = %s;", dbl(E, 3.14159265358979323846));
	emit(E, "const double t = (double)%s;", clock_steps(E, p));
	if (p->start == 0)
		emit(E, "const double T = (double)c->total_steps;");
	else
		emit(E, "const double T = (double)(c->total_steps - %ld);",
		     p->start);
}

static void close_run_piece(Emitter *E)
{
	E->indent--;
	emit(E, "}");
}

/* CosineAnnealingLR with T_max = T: min_lr + (lr - min_lr) (1 + cos(pi
 * t / T)) / 2 */
static void rate_cosine(Emitter *E, const SchedPiece *p)
{
	const char *min = dbl(E, sema_sched_val(p, "min_lr"));
	piece_comment(E, p, "PyTorch's CosineAnnealingLR with T_max = T, the "
		      "rest of the run:\nmin_lr + (lr - min_lr) (1 + cos(pi t / "
		      "T)) / 2");
	open_run_piece(E, p, true);
	emit(E, "return %s + (c->base_lr - %s) * (1 + cos(pi * t / T)) / 2;",
	     min, min);
	close_run_piece(E);
}

/* OneCycleLR (two phases, cosine, no momentum), total_steps = T: up
 * from max_lr / 25 to max_lr until step pct_start T - 1, then down to
 * max_lr / 25 / 1e4; each phase end + (start - end) / 2 (cos(pi p) + 1)
 * with p going from 0 to 1. A peak at step 0 (pct_start T = 1) leaves
 * only the second phase, where PyTorch would divide 0 by 0. */
static void rate_one_cycle(Emitter *E, const SchedPiece *p)
{
	double max = sema_sched_val(p, "max_lr");
	double initial = max / 25.0, min = initial / 1e4;
	const char *hi = dbl(E, max), *lo0 = dbl(E, initial), *lo1 = dbl(E, min);
	piece_comment(E, p, "PyTorch's OneCycleLR (no momentum cycling) with "
		      "total_steps = T, the rest\nof the run: from max_lr / 25 "
		      "= %s up to max_lr by step up = pct_start T - 1,\nthen "
		      "down to %s; each phase end + (start - end) / 2 (cos(pi p) "
		      "+ 1)\nas p goes from 0 to 1 (a peak at t = 0 leaves only "
		      "the second)", lo0, lo1);
	open_run_piece(E, p, true);
	emit(E, "const double up = %s * T - 1;",
	     dbl(E, sema_sched_val(p, "pct_start")));
	emit(E, "if (t <= up && up > 0)");
	emit(E, "\treturn %s + (%s - %s) / 2.0 * (cos(pi * (t / up)) + 1);", hi,
	     lo0, hi);
	emit(E, "return %s + (%s - %s) / 2.0 * (cos(pi * ((t - up) / (T - 1 - "
	     "up))) + 1);", lo1, hi, lo1);
	close_run_piece(E);
}

/* PolynomialLR with total_iters = T: lr * (1 - t / T)^power */
static void rate_poly(Emitter *E, const SchedPiece *p)
{
	piece_comment(E, p, "PyTorch's PolynomialLR with total_iters = T, the "
		      "rest of the run:\nlr * (1 - t / T)^power");
	open_run_piece(E, p, false);
	emit(E, "return c->base_lr * pow(1.0 - t / T, %s);",
	     dbl(E, sema_sched_val(p, "power")));
	close_run_piece(E);
}

/* ReduceLROnPlateau: lr * factor^n after n reductions (sched[state + 3],
 * counted by NAME_lr_epoch) */
static void rate_plateau(Emitter *E, const SchedPiece *p)
{
	piece_comment(E, p, "PyTorch's ReduceLROnPlateau, lr * factor^n after "
		      "n reductions");
	emit(E, "return c->base_lr * pow(%s, sched[%d]);",
	     dbl(E, sema_sched_val(p, "factor")), p->state + 3);
}

static void piece_rate(Emitter *E, const SchedPiece *p, bool last)
{
	switch (p->kind) {
	case SCHED_CONSTANT:
		piece_comment(E, p, "lr");
		emit(E, "return c->base_lr;");
		return;
	case SCHED_STEP:
	case SCHED_EXPONENTIAL:
		rate_step(E, p);
		return;
	case SCHED_MULTISTEP:
		rate_multistep(E, p);
		return;
	case SCHED_COSINE:
		rate_cosine(E, p);
		return;
	case SCHED_WARMUP:
		rate_warmup(E, p, last);
		return;
	case SCHED_ONE_CYCLE:
		rate_one_cycle(E, p);
		return;
	case SCHED_POLY:
		rate_poly(E, p);
		return;
	case SCHED_PLATEAU:
		rate_plateau(E, p);
		return;
	case SCHED_COUNT:
		break;
	}
	ice("schedule kind %d has no rate", (int)p->kind);
}

/* ---- the end-of-epoch update ------------------------------------------ */

/*
 * ReduceLROnPlateau, mode min, threshold 1e-4 rel, cooldown 0, min_lr 0,
 * eps 1e-8. Its state, zero at the start: the best loss, 1 once there is
 * one (before it, best is +inf), the epochs without improvement and the
 * reductions so far. It sees the epochs that ran at least one of its
 * steps.
 */
static void epoch_plateau(Emitter *E, const SchedPiece *p)
{
	const char *factor = dbl(E, sema_sched_val(p, "factor"));
	piece_comment(E, p, "PyTorch's ReduceLROnPlateau (mode min, threshold "
		      "1e-4 rel, cooldown 0,\nmin_lr 0, eps 1e-8) on the "
		      "validation loss");
	emit(E, "{");
	E->indent++;
	emit(E, "double *best = &sched[%d];", p->state);
	emit(E, "double *has_best = &sched[%d];", p->state + 1);
	emit(E, "double *bad_epochs = &sched[%d];", p->state + 2);
	emit(E, "double *reductions = &sched[%d];", p->state + 3);
	if (p->start > 0) {
		emit(E, "if (c->step <= %ld)", p->start);
		emit(E, "\treturn; /* no step of the epoch was a plateau step */");
	}
	emit(E, "if (val_loss < (*has_best != 0 ? *best : INFINITY) * "
	     "(1 - 1e-4)) {");
	emit(E, "\t*best = val_loss;");
	emit(E, "\t*has_best = 1;");
	emit(E, "\t*bad_epochs = 0;");
	emit(E, "} else {");
	emit(E, "\t*bad_epochs += 1;");
	emit(E, "}");
	emit(E, "if (*bad_epochs > %ld) {", (long)sema_sched_val(p, "patience"));
	emit(E, "\tconst double now = c->base_lr * pow(%s, *reductions);",
	     factor);
	emit(E, "\tif (now - now * %s > 1e-8)", factor);
	emit(E, "\t\t*reductions += 1;");
	emit(E, "\t*bad_epochs = 0;");
	emit(E, "}");
	E->indent--;
	emit(E, "}");
}

/* Emits the piece's part of NAME_lr_epoch; false if it has none. */
static bool piece_epoch(Emitter *E, const SchedPiece *p)
{
	switch (p->kind) {
	case SCHED_CONSTANT:
	case SCHED_STEP:
	case SCHED_EXPONENTIAL:
	case SCHED_MULTISTEP:
	case SCHED_COSINE:
	case SCHED_WARMUP:
	case SCHED_ONE_CYCLE:
	case SCHED_POLY:
		return false;
	case SCHED_PLATEAU:
		epoch_plateau(E, p);
		return true;
	case SCHED_COUNT:
		break;
	}
	ice("schedule kind %d has no epoch rule", (int)p->kind);
}

/* ---- the two functions ------------------------------------------------ */

int emit_sched_size(const Model *m)
{
	return m->sched.nstate;
}

const char *emit_sched_str(Emitter *E)
{
	const Schedule *s = &E->m->sched;
	const char *out = "";
	if (s->npieces == 0)
		return "constant";
	for (int i = 0; i < s->npieces; i++)
		out = arena_printf(&E->arena, "%s%s%s", out, i ? " then " : "",
				   piece_str(E, &s->pieces[i]));
	return out;
}

static void emit_lr_at(Emitter *E)
{
	const Schedule *s = &E->m->sched;
	emit(E, "static double %s_lr_at(double *sched, const NnrtClock *c)",
	     E->m->name);
	emit(E, "{");
	E->indent++;
	if (s->nstate == 0)
		emit(E, "(void)sched;");
	if (s->npieces == 0)
		emit(E, "return c->base_lr;");
	for (int i = 0; i < s->npieces; i++)
		piece_rate(E, &s->pieces[i], i == s->npieces - 1);
	E->indent--;
	emit(E, "}");
	emit(E, "%s", "");
}

static void emit_lr_epoch(Emitter *E)
{
	const Schedule *s = &E->m->sched;
	bool any = false;
	emit(E, "static void %s_lr_epoch(double *sched, const NnrtClock *c, "
	     "double val_loss)", E->m->name);
	emit(E, "{");
	E->indent++;
	for (int i = 0; i < s->npieces; i++)
		any = piece_epoch(E, &s->pieces[i]) || any;
	if (!any) {
		emit(E, "(void)sched;");
		emit(E, "(void)c;");
		emit(E, "(void)val_loss;");
	}
	E->indent--;
	emit(E, "}");
	emit(E, "%s", "");
}

void emit_schedule(Emitter *E)
{
	if (E->m->sched.npieces > 0) {
		emit(E, "/*");
		emit(E, " * The schedule:");
		emit(E, " *   %s", emit_sched_str(E));
		emit(E, " * lr is the base rate (the optimizer's lr or --lr); "
		     "each piece counts");
		emit(E, " * its own steps t and epochs e from where the one "
		     "before it ended.");
		emit(E, " */");
	}
	emit_lr_at(E);
	emit_lr_epoch(E);
}

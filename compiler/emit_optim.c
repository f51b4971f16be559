/*
 * emit_optim.c - the optimizer update, generated for the model's flat
 * parameter layout: one loop over every trainable element, with the
 * hyperparameters as literals. The learning rate and the step count come
 * from the runtime (schedules and --lr change them).
 *
 * The formulas are PyTorch's (torch.optim.SGD and torch.optim.Adam):
 *
 *   sgd:   g += wd * p
 *          momentum: buf = step == 1 ? g : mu * buf + (1 - dampening) * g
 *                    g = nesterov ? g + mu * buf : buf
 *          p -= lr * g
 *   adam:  g += wd * p
 *          m = b1 * m + (1 - b1) * g ; v = b2 * v + (1 - b2) * g^2
 *          p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 */
#include "nnc.h"

/* optim.def's slots and scalars: the state the update reads and writes,
 * the slots one after another, each nparams long, then the scalars. */
long emit_state_size(const Model *m)
{
	const Optim *o = &m->optim;
	switch (o->kind) {
#define OPTIM(id, name, slots, scalars, emit, ...) \
	case OPT_##id: \
		return (long)(slots) * m->nparams + (scalars);
#include "optim.def"
#undef OPTIM
	case OPT_COUNT:
		break;
	}
	ice("optimizer kind %d", (int)o->kind);
}

/* The trainable elements are contiguous runs of the flat buffer. */
static void open_loops(Emitter *E)
{
	Model *m = E->m;
	long lo = 0, hi = 0;
	bool all = true;
	for (int i = 0; i < m->ntensors; i++)
		all &= m->tensors[i].trainable;
	if (!all)
		ice("non-trainable tensors are not supported by the optimizer");
	hi = m->nparams;
	emit(E, "for (long i = %ld; i < %ld; i++) {", lo, hi);
	E->indent++;
}

static void weight_decay(Emitter *E)
{
	double wd = E->m->optim.weight_decay;
	if (wd > 0)
		emit(E, "%s gi = g[i] + %s * p[i];", E->real, emit_lit(E, wd));
	else
		emit(E, "%s gi = g[i];", E->real);
}

static void emit_sgd(Emitter *E)
{
	Optim *o = &E->m->optim;
	const char *r = E->real;
	emit(E, "const %s rate = (%s)lr;", r, r);
	if (o->momentum > 0) {
		emit(E, "%s *buf = state;", r);
		emit(E, "const int first = step == 1;");
	} else {
		emit(E, "(void)state;");
		emit(E, "(void)step;");
	}
	open_loops(E);
	weight_decay(E);
	if (o->momentum > 0) {
		emit(E, "buf[i] = first ? gi : %s * buf[i] + %s * gi;",
		     emit_lit(E, o->momentum), emit_lit(E, 1 - o->dampening));
		if (o->nesterov)
			emit(E, "gi = gi + %s * buf[i];", emit_lit(E, o->momentum));
		else
			emit(E, "gi = buf[i];");
	}
	emit(E, "p[i] -= rate * gi;");
	E->indent--;
	emit(E, "}");
}

static void emit_adam(Emitter *E)
{
	Optim *o = &E->m->optim;
	const char *r = E->real;
	emit(E, "%s *m = state;", r);
	emit(E, "%s *v = m + %ld;", r, E->m->nparams);
	emit(E, "const double bc1 = 1 - pow(%.17g, (double)step);", o->beta1);
	emit(E, "const double bc2 = 1 - pow(%.17g, (double)step);", o->beta2);
	emit(E, "const %s step_size = (%s)(lr / bc1);", r, r);
	emit(E, "const %s bc2_sqrt = (%s)sqrt(bc2);", r, r);
	open_loops(E);
	weight_decay(E);
	emit(E, "m[i] = %s * m[i] + %s * gi;", emit_lit(E, o->beta1),
	     emit_lit(E, 1 - o->beta1));
	emit(E, "v[i] = %s * v[i] + %s * gi * gi;", emit_lit(E, o->beta2),
	     emit_lit(E, 1 - o->beta2));
	emit(E, "p[i] -= step_size * m[i] / (sqrt%s(v[i]) / bc2_sqrt + %s);",
	     E->fs, emit_lit(E, o->eps));
	E->indent--;
	emit(E, "}");
}

void emit_update(Emitter *E)
{
	Model *m = E->m;
	emit(E, "static void %s_update(void *params, const void *grads, "
	     "void *state,", m->name);
	emit(E, "\t\tdouble lr, long step)");
	emit(E, "{");
	E->indent++;
	emit(E, "%s *p = params;", E->real);
	emit(E, "const %s *g = grads;", E->real);
	switch (m->optim.kind) {
#define OPTIM(id, name, slots, scalars, emit, ...) \
	case OPT_##id: \
		emit(E); \
		break;
#include "optim.def"
#undef OPTIM
	case OPT_COUNT:
		ice("optimizer kind OPT_COUNT");
	}
	E->indent--;
	emit(E, "}");
	emit(E, "%s", "");
}

/* The optimizer with every key, as `summary` prints it:
 * "adam(lr = 0.001, beta1 = 0.9, ...)". */
const char *emit_optim_str(Emitter *E)
{
	const Optim *o = &E->m->optim;
	const OptimInfo *info = &optim_info[o->kind];
	const char *s = arena_printf(&E->arena, "%s(", info->name);
	for (int i = 0; i < info->nkeys; i++) {
		const OptimKey *k = &info->keys[i];
		const char *field = (const char *)o + k->offset;
		if (k->flag)
			s = arena_printf(&E->arena, "%s%s%s = %s", s,
					 i ? ", " : "", k->name,
					 *(const bool *)field ? "true" : "false");
		else
			s = arena_printf(&E->arena, "%s%s%s = %g", s,
					 i ? ", " : "", k->name,
					 *(const double *)field);
	}
	return arena_printf(&E->arena, "%s)", s);
}

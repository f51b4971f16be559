/*
 * sema_train.c - the train block: keys, values, defaults, and the checks
 * that tie them to the input and target (column counts, idx labels that
 * need a class, metrics that need a class, early stopping that needs
 * validation data). The data sources (data, validation, test) are
 * csv(...) or idx(...). The optimizer statement is sema_optim.c's.
 */
#include "nnc.h"

#include <math.h>
#include <string.h>

void sema_train_defaults(Model *m)
{
	TrainCfg *t = &m->train;
	t->batch = 32;
	t->epochs = 10;
	t->shuffle = true;
	t->es_patience = 5;
	t->es_restore_best = true;
}

/* ---- train block ------------------------------------------------------ */

static bool col_range(Sema *s, Ast *v, int *lo, int *hi)
{
	if (v->kind == A_SLICE)
		return sema_int(s, v->lhs, "a column", 0, lo) &&
		       sema_int(s, v->rhs, "a column", 0, hi) &&
		       (*hi > *lo || (sema_error(s, v->loc, "empty column "
						 "range %d:%d", *lo, *hi), 0));
	if (!sema_int(s, v, "a column", 0, lo))
		return false;
	*hi = *lo + 1;
	return true;
}

static void check_columns(Sema *s, Kwarg *k, const char *what, int lo, int hi,
			  long want, const char *name)
{
	if (hi - lo != want)
		sema_error(s, k->value->loc, "csv(): %s = %d:%d gives %d "
			   "column%s but '%s' needs %ld", what, lo, hi, hi - lo,
			   hi - lo == 1 ? "" : "s", name, want);
}

static void train_csv(Sema *s, Ast *c, DataSrc *d)
{
	Model *m = s->m;
	Kwarg *xk = NULL, *yk = NULL;
	if (c->nargs != 1 || c->args[0]->kind != A_STR) {
		sema_error(s, c->loc, "csv() takes the file name as a string "
			   "first: csv(\"data.csv\", x = 0:4, y = 4)");
		return;
	}
	d->kind = NNRT_SRC_CSV;
	d->path = c->args[0]->str;
	for (int i = 0; i < c->nkw; i++) {
		Kwarg *k = &c->kw[i];
		if (strcmp(k->name, "skip") == 0)
			sema_int(s, k->value, "skip", 0, &d->skip);
		else if (strcmp(k->name, "x") == 0 &&
			 col_range(s, k->value, &d->x_lo, &d->x_hi))
			xk = k;
		else if (strcmp(k->name, "y") == 0 &&
			 col_range(s, k->value, &d->y_lo, &d->y_hi))
			yk = k;
		else if (strcmp(k->name, "skip") && strcmp(k->name, "x") &&
			 strcmp(k->name, "y"))
			sema_error(s, k->loc, "csv() has no argument '%s'",
				   k->name);
	}
	if (!xk || !yk) {
		sema_error(s, c->loc, "csv() needs the feature and target "
			   "columns: x = a:b, y = c");
		return;
	}
	if (s->input)
		check_columns(s, xk, "x", d->x_lo, d->x_hi,
			      shape_numel(m->input), m->input_name);
	if (s->target)
		check_columns(s, yk, "y", d->y_lo, d->y_hi,
			      m->nclasses ? 1 : shape_numel(m->target),
			      m->target_name);
}

/* idx(images, labels, scale = 1): two file names and a positive scale.
 * The labels are class indices, so the target must be a class; the
 * images' shape is known only when the trainer reads them (it checks
 * that an image has the input's element count). */
static void train_idx(Sema *s, Ast *c, DataSrc *d)
{
	static const char *const what[] = {"images", "labels"};
	Model *m = s->m;
	double v;
	if (c->nargs != 2) {
		sema_error(s, c->loc, "idx() takes two files, the images and "
			   "the labels: idx(\"images.gz\", \"labels.gz\", "
			   "scale = 1/255)");
		return;
	}
	d->kind = NNRT_SRC_IDX;
	d->scale = 1;
	for (int i = 0; i < 2; i++)
		if (c->args[i]->kind != A_STR)
			sema_error(s, c->args[i]->loc, "idx(): the %s file "
				   "must be a string", what[i]);
	d->path = c->args[0]->str;
	d->labels = c->args[1]->str;
	for (int i = 0; i < c->nkw; i++) {
		Kwarg *k = &c->kw[i];
		if (strcmp(k->name, "scale") != 0)
			sema_error(s, k->loc, "idx() has no argument '%s'",
				   k->name);
		else if (!sema_const(s, k->value, &v))
			continue;
		else if (!(v > 0) || isinf(v))
			sema_error(s, k->value->loc, "idx(): scale must be a "
				   "positive number, found %g", v);
		else
			d->scale = v;
	}
	if (s->target && !m->nclasses) {
		sema_error(s, c->loc, "idx() reads class labels, but '%s' is "
			   "not a class(K) target", m->target_name);
		diag_note(s->d, s->target->loc, "'%s' declared here",
			  m->target_name);
	}
}

/* data, test and validation: csv(...) or idx(...) */
static void train_source(Sema *s, Ast *v, DataSrc *d)
{
	if (v->kind == A_CALL && strcmp(v->str, "idx") == 0)
		train_idx(s, v, d);
	else if (v->kind == A_CALL && strcmp(v->str, "csv") == 0)
		train_csv(s, v, d);
	else
		sema_error(s, v->loc, "expected a data source: csv(...) or "
			   "idx(...)");
}

/* validation = f (a fraction split off the data) or a source */
static void train_validation(Sema *s, Kwarg *k)
{
	TrainCfg *t = &s->m->train;
	if (k->value->kind == A_CALL)
		train_source(s, k->value, &t->val);
	else if (sema_const(s, k->value, &t->validation) &&
		 (t->validation < 0 || t->validation >= 1))
		sema_error(s, k->value->loc, "validation must be a fraction "
			   "in [0, 1) or a data source");
}

/* runtime/nnrt.h's names of the monitors and the scalings */
#define NAME_ROW(id, name) name,
static const char *const monitors[] = {NNRT_MONITORS(NAME_ROW)};
static const char *const norms[] = {NNRT_NORMS(NAME_ROW)};
#undef NAME_ROW

/* The index of id in names[0..n), or -1. */
static int find_name(const char *id, const char *const *names, int n)
{
	for (int i = 0; id && i < n; i++)
		if (strcmp(id, names[i]) == 0)
			return i;
	return -1;
}

static bool monitors_val(NnrtMonitor m)
{
	return m == NNRT_MON_VAL_LOSS || m == NNRT_MON_VAL_ACCURACY;
}

static bool monitors_accuracy(NnrtMonitor m)
{
	return m == NNRT_MON_VAL_ACCURACY || m == NNRT_MON_ACCURACY;
}

static void train_early_stop(Sema *s, Kwarg *k)
{
	TrainCfg *t = &s->m->train;
	Ast *c = k->value;
	if (c->kind != A_CALL || strcmp(c->str, "early_stop") != 0 ||
	    c->nargs) {
		sema_error(s, c->loc, "expected early_stop(monitor = val_loss, "
			   "patience = 5, ...)");
		return;
	}
	t->early_stop = true;
	for (int i = 0; i < c->nkw; i++) {
		Kwarg *a = &c->kw[i];
		const char *id = sema_ident(a->value);
		if (strcmp(a->name, "patience") == 0)
			sema_int(s, a->value, "patience", 0, &t->es_patience);
		else if (strcmp(a->name, "min_delta") == 0)
			sema_const(s, a->value, &t->es_min_delta);
		else if (strcmp(a->name, "restore_best") == 0)
			sema_bool(s, a->value, &t->es_restore_best);
		else if (strcmp(a->name, "monitor") == 0) {
			int j = find_name(id, monitors, NNRT_MON_COUNT);
			if (j < 0)
				sema_error(s, a->value->loc, "monitor must be "
					   "val_loss, val_accuracy, loss or "
					   "accuracy");
			else
				t->es_monitor = (NnrtMonitor)j;
		} else
			sema_error(s, a->loc, "early_stop() has no argument "
				   "'%s'", a->name);
	}
}

static void train_metrics(Sema *s, Kwarg *k)
{
	Ast *v = k->value;
	if (v->kind != A_LIST) {
		sema_error(s, v->loc, "expected a list, e.g. [accuracy]");
		return;
	}
	for (int i = 0; i < v->nargs; i++) {
		const char *id = sema_ident(v->args[i]);
		if (id && strcmp(id, "accuracy") == 0)
			s->m->train.metrics |= 1;
		else if (id && (!strcmp(id, "mae") || !strcmp(id, "rmse")))
			sema_error(s, v->args[i]->loc, "not supported yet: "
				   "metric '%s'", id);
		else
			sema_error(s, v->args[i]->loc, "unknown metric");
	}
}

static void train_string(Sema *s, Kwarg *k, const char **dst)
{
	if (k->value->kind != A_STR)
		sema_error(s, k->value->loc, "%s needs a string", k->name);
	else
		*dst = k->value->str;
}

static void train_normalize(Sema *s, Kwarg *k)
{
	int j = find_name(sema_ident(k->value), norms, NNRT_NORM_COUNT);
	if (j < 0)
		sema_error(s, k->value->loc, "normalize must be standard, "
			   "minmax or none");
	else
		s->m->train.normalize = (NnrtNorm)j;
}

/* clip_value = v, clip_norm = t: a positive number each */
static void train_clip(Sema *s, Kwarg *k, double *dst)
{
	double v;
	if (!sema_const(s, k->value, &v))
		return;
	if (!(v > 0) || isinf(v))
		sema_error(s, k->value->loc, "%s must be a positive number, "
			   "found %g", k->name, v);
	else
		*dst = v;
}

static void train_key(Sema *s, Kwarg *k)
{
	static const char *later[] = {"normalize_target"};
	TrainCfg *t = &s->m->train;
	int iv;
	if (!strcmp(k->name, "data"))
		train_source(s, k->value, &t->data);
	else if (!strcmp(k->name, "test"))
		train_source(s, k->value, &t->test);
	else if (!strcmp(k->name, "batch")) {
		if (sema_int(s, k->value, "batch", 1, &iv))
			t->batch = iv;
	} else if (!strcmp(k->name, "epochs")) {
		if (sema_int(s, k->value, "epochs", 1, &iv))
			t->epochs = iv;
	} else if (!strcmp(k->name, "seed")) {
		sema_long(s, k->value, "seed", 0, NNC_MAX_SEED, &t->seed);
	} else if (!strcmp(k->name, "shuffle"))
		sema_bool(s, k->value, &t->shuffle);
	else if (!strcmp(k->name, "drop_last"))
		sema_bool(s, k->value, &t->drop_last);
	else if (!strcmp(k->name, "validation"))
		train_validation(s, k);
	else if (!strcmp(k->name, "normalize"))
		train_normalize(s, k);
	else if (!strcmp(k->name, "metrics"))
		train_metrics(s, k);
	else if (!strcmp(k->name, "early_stop"))
		train_early_stop(s, k);
	else if (!strcmp(k->name, "clip_value"))
		train_clip(s, k, &t->clip_value);
	else if (!strcmp(k->name, "clip_norm"))
		train_clip(s, k, &t->clip_norm);
	else if (!strcmp(k->name, "checkpoint"))
		train_string(s, k, &t->checkpoint);
	else if (!strcmp(k->name, "log"))
		train_string(s, k, &t->log);
	else {
		for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
			if (!strcmp(k->name, later[i])) {
				sema_error(s, k->loc, "not supported yet: "
					   "train key '%s'", k->name);
				return;
			}
		sema_error(s, k->loc, "unknown train key '%s'", k->name);
	}
}

void sema_train(Sema *s, Stmt *st)
{
	for (int i = 0; i < st->nkeys; i++) {
		for (int j = 0; j < i; j++)
			if (!strcmp(st->keys[i].name, st->keys[j].name)) {
				sema_error(s, st->keys[i].loc, "train key '%s' "
					   "given twice", st->keys[i].name);
				break;
			}
		train_key(s, &st->keys[i]);
	}
	bool has_data = false;
	for (int i = 0; i < st->nkeys; i++)
		has_data |= !strcmp(st->keys[i].name, "data");
	if (!has_data)
		sema_error(s, st->loc, "the train block needs data = csv(...) "
			   "or idx(...)");
	s->m->train_loc = st->loc;
}

void sema_train_finish(Sema *s)
{
	Model *m = s->m;
	TrainCfg *t = &m->train;
	Loc loc = m->train_loc;
	if (!loc.line || !s->target)
		return;
	bool real1 = !m->nclasses && shape_numel(m->target) == 1;
	if ((t->metrics & 1) && !m->nclasses && !real1)
		sema_error(s, loc, "accuracy needs a class target or a real "
			   "target of shape [1]");
	if (t->early_stop && monitors_val(t->es_monitor) &&
	    t->validation <= 0 && t->val.kind == NNRT_SRC_NONE)
		sema_error(s, loc, "early_stop monitors %s but there is no "
			   "validation split or source",
			   monitors[t->es_monitor]);
	if (t->early_stop && monitors_accuracy(t->es_monitor) &&
	    !(t->metrics & 1))
		sema_error(s, loc, "early_stop monitors %s but accuracy is not "
			   "in metrics", monitors[t->es_monitor]);
}

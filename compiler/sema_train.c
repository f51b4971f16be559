/*
 * sema_train.c - the train block: keys, values, defaults, and the checks
 * that tie them to the input and target (column counts, idx labels that
 * need a class, metrics that need a class or a real target,
 * normalize_target that needs a real target, early stopping that needs
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

static void check_columns(Sema *s, Kwarg *k, int lo, int hi, long want,
			  const char *name)
{
	if (hi - lo != want)
		sema_error(s, k->value->loc, "csv(): %s = %d:%d gives %d "
			   "column%s but '%s' needs %ld", k->name, lo, hi,
			   hi - lo, hi - lo == 1 ? "" : "s", name, want);
}

/* Which columns a csv() keyword names: input k (0..ninputs-1), the
 * target (ninputs), or -1. An input's or the target's own name, else
 * `x` for the only input and `y` for the target. */
static int csv_key(const Model *m, const char *key)
{
	for (int i = 0; i < m->ninputs; i++)
		if (!strcmp(key, m->inputs[i].name))
			return i;
	if (m->target_name && !strcmp(key, m->target_name))
		return m->ninputs;
	if (!strcmp(key, "x") && m->ninputs == 1)
		return 0;
	if (!strcmp(key, "y") && m->target_name)
		return m->ninputs;
	return -1;
}

static void csv_unknown(Sema *s, Kwarg *k)
{
	Model *m = s->m;
	char names[256];
	size_t len = 0;
	for (int i = 0; i < m->ninputs && len < sizeof(names); i++)
		len += snprintf(names + len, sizeof(names) - len, "%s%s",
				i ? ", " : "", m->inputs[i].name);
	if (!strcmp(k->name, "x") && m->ninputs > 1)
		sema_error(s, k->loc, "csv(): the model has %d inputs (%s); "
			   "give each its columns by name", m->ninputs, names);
	else
		sema_error(s, k->loc, "csv() has no argument '%s': columns "
			   "are named after the input%s (%s) and the target "
			   "(%s)", k->name, m->ninputs == 1 ? "" : "s", names,
			   m->target_name ? m->target_name : "y");
}

/* One keyword's columns into d; returns the input or target it names,
 * or -1. */
static int csv_columns(Sema *s, Kwarg *k, DataSrc *d)
{
	Model *m = s->m;
	int j = csv_key(m, k->name), lo, hi;
	if (j < 0) {
		csv_unknown(s, k);
		return -1;
	}
	if (!col_range(s, k->value, &lo, &hi))
		return j;
	if (j < m->ninputs) {
		d->x_lo[j] = lo;
		d->x_hi[j] = hi;
		check_columns(s, k, lo, hi, shape_numel(m->inputs[j].shape),
			      m->inputs[j].name);
	} else {
		d->y_lo = lo;
		d->y_hi = hi;
		if (s->target)
			check_columns(s, k, lo, hi, m->nclasses ? 1 :
				      shape_numel(m->target), m->target_name);
	}
	return j;
}

/* csv(path, skip = 0, NAME = a:b ...): every input's columns and the
 * target's, keyed by their names. */
static void train_csv(Sema *s, Ast *c, DataSrc *d)
{
	Model *m = s->m;
	bool given[NNRT_MAX_INPUTS + 1] = {false};
	bool bare_x = false;  /* x = ... for several inputs: said once */
	if (c->nargs != 1 || c->args[0]->kind != A_STR) {
		sema_error(s, c->loc, "csv() takes the file name as a string "
			   "first: csv(\"data.csv\", x = 0:4, y = 4)");
		return;
	}
	d->kind = NNRT_SRC_CSV;
	d->path = c->args[0]->str;
	for (int i = 0; i < c->nkw; i++) {
		Kwarg *k = &c->kw[i];
		int j = 0;
		if (strcmp(k->name, "skip") == 0)
			sema_int(s, k->value, "skip", 0, &d->skip);
		else if ((j = csv_columns(s, k, d)) >= 0)
			given[j] = true;
		else
			bare_x |= !strcmp(k->name, "x");
	}
	for (int j = 0; j < m->ninputs && !bare_x; j++)
		if (!given[j])
			sema_error(s, c->loc, "csv() needs the columns of input "
				   "'%s' (%s = lo:hi)", m->inputs[j].name,
				   m->ninputs == 1 ? "x" : m->inputs[j].name);
	if (m->target_name && !given[m->ninputs])
		sema_error(s, c->loc, "csv() needs the target's columns: "
			   "y = c");
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
	if (m->ninputs > 1)
		sema_error(s, c->loc, "idx() reads one image per sample, but "
			   "the model has %d inputs: use csv() with each "
			   "input's columns", m->ninputs);
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
static const char *const metrics[] = {NNRT_METRICS(NAME_ROW)};
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
	s->m->train.metrics_loc = k->loc;
	for (int i = 0; i < v->nargs; i++) {
		int j = find_name(sema_ident(v->args[i]), metrics,
				  NNRT_METRIC_COUNT);
		if (j < 0)
			sema_error(s, v->args[i]->loc, "unknown metric: "
				   "expected accuracy, mae or rmse");
		else
			s->m->train.metrics |= 1u << j;
	}
}

static void train_string(Sema *s, Kwarg *k, const char **dst)
{
	if (k->value->kind != A_STR)
		sema_error(s, k->value->loc, "%s needs a string", k->name);
	else
		*dst = k->value->str;
}

/* report = "run.html": a file name, not the log's (checked once both
 * are read, in sema_train) */
static void train_report(Sema *s, Kwarg *k, const char **dst)
{
	train_string(s, k, dst);
	if (*dst && !**dst)
		sema_error(s, k->value->loc, "report needs a file name, "
			   "found \"\"");
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

/* normalize_target = standard | none; the target is checked at the end */
static void train_normalize_target(Sema *s, Kwarg *k)
{
	int j = find_name(sema_ident(k->value), norms, NNRT_NORM_COUNT);
	if (j != NNRT_NORM_STANDARD && j != NNRT_NORM_NONE)
		sema_error(s, k->value->loc, "normalize_target must be "
			   "standard or none");
	else
		s->m->train.normalize_target = (NnrtNorm)j;
	s->m->train.norm_target_loc = k->loc;
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
	else if (!strcmp(k->name, "normalize_target"))
		train_normalize_target(s, k);
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
	else if (!strcmp(k->name, "report"))
		train_report(s, k, &t->report);
	else
		sema_error(s, k->loc, "unknown train key '%s'", k->name);
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
	const TrainCfg *t = &s->m->train;
	for (int i = 0; i < st->nkeys; i++) {
		Kwarg *k = &st->keys[i];
		has_data |= !strcmp(k->name, "data");
		if (!strcmp(k->name, "report") && t->report && t->log &&
		    !strcmp(t->report, t->log))
			sema_error(s, k->value->loc, "report and log are both "
				   "\"%s\": the report would overwrite the "
				   "log", t->log);
	}
	if (!has_data)
		sema_error(s, st->loc, "the train block needs data = csv(...) "
			   "or idx(...)");
	s->m->train_loc = st->loc;
}

/* mae and rmse compare the first output with a real target of the
 * same size; the first of them that cannot is the one reported. */
static void finish_real_metrics(Sema *s)
{
	Model *m = s->m;
	TrainCfg *t = &m->train;
	char want[64], got[64];
	for (int j = NNRT_METRIC_MAE; j <= NNRT_METRIC_RMSE; j++) {
		if (!(t->metrics & 1u << j))
			continue;
		if (m->nclasses) {
			sema_error(s, t->metrics_loc, "metric '%s' needs a "
				   "real-valued target, but '%s' is a "
				   "class(%d) target", metrics[j],
				   m->target_name, m->nclasses);
			diag_note(s->d, s->target->loc, "'%s' declared here",
				  m->target_name);
			return;
		} else if (m->noutputs > 0 &&
			   shape_numel(m->outputs[0].shape) !=
			   shape_numel(m->target)) {
			sema_error(s, t->metrics_loc, "metric '%s' compares the "
				   "first output '%s' %s with the target '%s' "
				   "%s: their sizes differ", metrics[j],
				   m->outputs[0].name,
				   shape_user_str(m->outputs[0].shape, got,
						  sizeof(got)), m->target_name,
				   shape_user_str(m->target, want,
						  sizeof(want)));
			return;
		}
	}
}

void sema_train_finish(Sema *s)
{
	Model *m = s->m;
	TrainCfg *t = &m->train;
	Loc loc = m->train_loc;
	if (!loc.line || !s->target)
		return;
	bool real1 = !m->nclasses && shape_numel(m->target) == 1;
	if ((t->metrics & NNRT_METRIC_BIT(ACCURACY)) && !m->nclasses && !real1)
		sema_error(s, t->metrics_loc, "accuracy needs a class target "
			   "or a real target of shape [1]");
	finish_real_metrics(s);
	if (t->normalize_target != NNRT_NORM_NONE && m->nclasses) {
		sema_error(s, t->norm_target_loc, "normalize_target scales a "
			   "real-valued target, but '%s' is a class(%d) "
			   "target", m->target_name, m->nclasses);
		diag_note(s->d, s->target->loc, "'%s' declared here",
			  m->target_name);
	}
	if (t->early_stop && monitors_val(t->es_monitor) &&
	    t->validation <= 0 && t->val.kind == NNRT_SRC_NONE)
		sema_error(s, loc, "early_stop monitors %s but there is no "
			   "validation split or source",
			   monitors[t->es_monitor]);
	if (t->early_stop && monitors_accuracy(t->es_monitor) &&
	    !(t->metrics & NNRT_METRIC_BIT(ACCURACY)))
		sema_error(s, loc, "early_stop monitors %s but accuracy is not "
			   "in metrics", monitors[t->es_monitor]);
}

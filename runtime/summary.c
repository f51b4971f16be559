/*
 * summary.c - the `summary` subcommand: what the model is and what a
 * run of it costs, from the descriptor alone (no data, no checkpoint).
 *
 *   model, source, precision
 *   layers: name, kind, output shape per sample, params, FLOPs/sample
 *   tensors: name, shape, params, initialiser (running statistics are
 *            marked "not trainable")
 *   totals: parameters (trainable), forward FLOPs per sample
 *   memory: params, grads, optimizer state, workspace (the per-batch
 *           activations, ws_size reals), and their sum
 *   optimizer and train block settings
 */
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define MAX_COLS 6

/* A text table: cells are formatted first, then columns are sized. */
typedef struct Table {
	int ncols, nrows;
	char **cell;              /* nrows x ncols */
	int right[MAX_COLS];      /* right-aligned (numbers) */
} Table;

#define NAME_ROW(id, name) name,

const char *nnrt_summary_norm_name(NnrtNorm n)
{
	static const char *const names[] = {NNRT_NORMS(NAME_ROW)};

	return (unsigned)n < NNRT_NORM_COUNT ? names[n] : "?";
}

const char *nnrt_summary_monitor_name(NnrtMonitor mon)
{
	static const char *const names[] = {NNRT_MONITORS(NAME_ROW)};

	return (unsigned)mon < NNRT_MON_COUNT ? names[mon] : "?";
}

const char *nnrt_summary_metric_name(NnrtMetric k)
{
	static const char *const names[] = {NNRT_METRICS(NAME_ROW)};

	return (unsigned)k < NNRT_METRIC_COUNT ? names[k] : "?";
}

#undef NAME_ROW

static void table_init(const Rt *rt, Table *t, int nrows, int ncols)
{
	memset(t, 0, sizeof *t);
	t->nrows = nrows;
	t->ncols = ncols;
	t->cell = nnrt_base_alloc(rt, (size_t)(nrows * ncols), sizeof(char *));
}

static void table_print(Table *t)
{
	int w[MAX_COLS] = { 0 }, r, c, len;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			len = (int)strlen(t->cell[r * t->ncols + c]);
			w[c] = len > w[c] ? len : w[c];
		}
	for (r = 0; r < t->nrows; r++) {
		printf(" ");
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cell[r * t->ncols + c];
			int last = c == t->ncols - 1;
			if (t->right[c])
				printf(" %*s", w[c], s);
			else if (last)
				printf(" %s", s);
			else
				printf(" %-*s", w[c], s);
		}
		printf("\n");
	}
	for (r = 0; r < t->nrows * t->ncols; r++)
		free(t->cell[r]);
	free(t->cell);
}

static char *shape_cell(const Rt *rt, int rank, const int *dims)
{
	char buf[64];

	nnrt_base_shape(buf, sizeof buf, rank, dims);
	return nnrt_base_strdup(rt, buf);
}

static void print_layers(const Rt *rt)
{
	const NnrtModel *m = rt->m;
	Table t;
	int i;

	if (m->n_layers == 0)
		return;
	table_init(rt, &t, m->n_layers + 1, 5);
	t.right[3] = t.right[4] = 1;
	t.cell[0] = nnrt_base_strdup(rt, "layer");
	t.cell[1] = nnrt_base_strdup(rt, "kind");
	t.cell[2] = nnrt_base_strdup(rt, "output");
	t.cell[3] = nnrt_base_strdup(rt, "params");
	t.cell[4] = nnrt_base_strdup(rt, "flops");
	for (i = 0; i < m->n_layers; i++) {
		const NnrtLayer *l = &m->layers[i];
		char **row = t.cell + (i + 1) * 5;
		row[0] = nnrt_base_strdup(rt, l->name);
		row[1] = nnrt_base_strdup(rt, l->kind);
		row[2] = shape_cell(rt, l->rank, l->dims);
		row[3] = nnrt_base_printf(rt, "%ld", l->params);
		row[4] = nnrt_base_printf(rt, "%.0f", l->flops);
	}
	printf("\n");
	table_print(&t);
}

static void print_tensors(const Rt *rt)
{
	const NnrtModel *m = rt->m;
	char init[64];
	Table t;
	int i;

	table_init(rt, &t, m->n_tensors + 1, 4);
	t.right[2] = 1;
	t.cell[0] = nnrt_base_strdup(rt, "tensor");
	t.cell[1] = nnrt_base_strdup(rt, "shape");
	t.cell[2] = nnrt_base_strdup(rt, "params");
	t.cell[3] = nnrt_base_strdup(rt, "init");
	for (i = 0; i < m->n_tensors; i++) {
		const NnrtTensor *x = &m->tensors[i];
		char **row = t.cell + (i + 1) * 4;
		nnrt_init_describe(x, init, sizeof init);
		row[0] = nnrt_base_strdup(rt, x->name);
		row[1] = shape_cell(rt, x->rank, x->dims);
		row[2] = nnrt_base_printf(rt, "%ld", x->size);
		row[3] = nnrt_base_printf(rt, "%s%s", init, x->trainable ? ""
					  : " (not trainable)");
	}
	printf("\n");
	table_print(&t);
}

/* "1.5 KiB": also the report's */
void nnrt_summary_bytes(char *buf, size_t n, double b)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

void nnrt_summary_totals(const NnrtModel *m, Totals *t)
{
	double rs = m->real_size;
	int i;

	t->flops = 0;
	for (i = 0; i < m->n_layers; i++)
		t->flops += m->layers[i].flops;
	t->bytes[MEM_PARAMS] = rs * (double)m->n_params;
	t->bytes[MEM_GRADS] = rs * (double)m->n_trainable;
	t->bytes[MEM_STATE] = rs * (double)m->n_state;
	t->bytes[MEM_WS] = rs * (double)m->ws_size;
	t->total = 0;
	for (i = 0; i < MEM_COUNT; i++)
		t->total += t->bytes[i];
}

static void print_totals(const Rt *rt)
{
	const NnrtModel *m = rt->m;
	char a[32], b[32], c[32], d[32], e[32], g[32];
	Totals t;

	nnrt_summary_totals(m, &t);
	nnrt_summary_bytes(a, sizeof a, t.bytes[MEM_PARAMS]);
	nnrt_summary_bytes(g, sizeof g, t.bytes[MEM_GRADS]);
	nnrt_summary_bytes(b, sizeof b, t.bytes[MEM_STATE]);
	nnrt_summary_bytes(c, sizeof c, t.bytes[MEM_WS]);
	nnrt_summary_bytes(d, sizeof d, t.total);
	nnrt_summary_bytes(e, sizeof e,
			   t.bytes[MEM_WS] / (double)m->max_batch);
	printf("\nparameters      %ld (%ld trainable)\n", m->n_params,
	       m->n_trainable);
	printf("flops/sample    %.0f (forward)\n", t.flops);
	printf("memory          params %s, grads %s, optimizer state %s,\n"
	       "                workspace %s (activations of a batch of %d, "
	       "%s a sample); total %s\n", a, g, b, c, m->max_batch, e, d);
}

/* "data            idx(\"a.gz\", \"b.gz\", scale = 0.00392157)" */
static void print_source(const NnrtModel *m, const char *key,
			 const NnrtSource *s)
{
	int k, n = m->n_inputs;

	printf("%-15s ", key);
	switch (s->kind) {
	case NNRT_SRC_CSV:
		printf("csv(\"%s\", skip = %d", s->path ? s->path : "",
		       s->skip);
		for (k = 0; k < n; k++)
			printf(", %s = %d:%d", n > 1 ? m->inputs[k].name : "x",
			       s->x_lo[k], s->x_hi[k]);
		printf(", y = %d:%d)\n", s->y_lo, s->y_hi);
		break;
	case NNRT_SRC_IDX:
		printf("idx(\"%s\", \"%s\", scale = %g)\n", s->path,
		       s->labels, s->scale);
		break;
	default:
		printf("none (pass --data)\n");
		break;
	}
}

static void print_train(const Rt *rt)
{
	const NnrtModel *m = rt->m;
	const NnrtTrainConfig *t = &m->train;
	const char *sep;
	int k;

	printf("optimizer       %s\n", m->optimizer ? m->optimizer : "?");
	printf("schedule        %s\n", m->schedule ? m->schedule : "constant");
	print_source(m, "data", &t->data);
	if (t->val.kind != NNRT_SRC_NONE)
		print_source(m, "validation", &t->val);
	if (t->test.kind != NNRT_SRC_NONE)
		print_source(m, "test", &t->test);
	printf("train           batch %d, epochs %d, shuffle %s, drop_last "
	       "%s, seed %lu\n", t->batch, t->epochs,
	       t->shuffle ? "true" : "false", t->drop_last ? "true" : "false",
	       t->seed);
	if (t->val.kind != NNRT_SRC_NONE)
		printf("                validation source");
	else
		printf("                validation %g", t->validation);
	printf(", normalize %s", nnrt_summary_norm_name(t->normalize));
	if (t->normalize_target != NNRT_NORM_NONE)
		printf(", normalize_target %s",
		       nnrt_summary_norm_name(t->normalize_target));
	printf(", metrics [");
	for (k = 0, sep = ""; k < NNRT_METRIC_COUNT; k++)
		if (t->metrics & 1u << k) {
			printf("%s%s", sep, nnrt_summary_metric_name(k));
			sep = ", ";
		}
	printf("]\n");
	if (t->early_stop)
		printf("early_stop      monitor %s, patience %d, min_delta %g, "
		       "restore_best %s\n", nnrt_summary_monitor_name(t->monitor),
		       t->patience, t->min_delta,
		       t->restore_best ? "true" : "false");
	printf("checkpoint      %s\n", nnrt_prep_ckpt_path(rt));
	printf("log             %s\n", t->log ? t->log : "none");
}

int nnrt_summary_run(Rt *rt)
{
	const NnrtModel *m = rt->m;
	char in[64];
	int k;

	printf("model %s (%s, nnc %s, f%d)\n", m->name,
	       m->source ? m->source : "?",
	       m->nnc_version ? m->nnc_version : "?", m->real_size * 8);
	/* "input [4], ..." or "inputs a [3], b [2], ..." */
	printf("input%s", m->n_inputs > 1 ? "s" : "");
	for (k = 0; k < m->n_inputs; k++) {
		nnrt_base_shape(in, sizeof in, m->inputs[k].rank,
				m->inputs[k].dims);
		if (m->n_inputs > 1)
			printf("%s %s", k ? "," : "", m->inputs[k].name);
		printf(" %s", in);
	}
	if (m->n_classes > 0)
		printf(", target class(%d)\n", m->n_classes);
	else
		printf(", target [%ld]\n", m->target_size);
	print_layers(rt);
	print_tensors(rt);
	print_totals(rt);
	print_train(rt);
	return 0;
}

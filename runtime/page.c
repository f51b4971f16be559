/*
 * page.c - the HTML page of the training report (report.c keeps its
 * rows): one self-contained UTF-8 file, inline CSS and inline SVG
 * (chart.c), no script and no reference to anything outside it, so it
 * opens from a mail or an archive as it did where it was written.
 *
 *   title, the run's state (running, finished, stopped early,
 *   interrupted), key numbers at the best epoch;
 *   Curves: loss, each metric (training and validation), learning
 *   rate, samples per second (seconds per epoch if the rows of an
 *   epoch are unknown), the best epoch and an early stop marked;
 *   Timing: data load, training time, samples per second;
 *   Model: what `summary` prints (summary.c): layers, tensors,
 *   parameters, FLOPs, memory;
 *   Settings: optimizer, schedule, batch, epochs, seed, data, ...;
 *   Epochs: every row of the log.
 *
 * While a run is going the page asks the browser to reload it every
 * REFRESH_SECONDS. Nothing in it depends on the clock except what the
 * log holds (seconds) and the data load time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define REFRESH_SECONDS 5

static const char train_color[] = "#1f77b4", val_color[] = "#ff7f0e",
	lr_color[] = "#2ca02c", time_color[] = "#9467bd";

static long row_of_epoch(const Report *r, int epoch)
{
	long i;

	for (i = 0; i < r->nrows; i++)
		if (nnrt_report_cell(r, i, 0) == epoch)
			return i;
	return -1;
}

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default:  fputc(*s, f); break;
		}
}

static const char css[] =
	":root{--fg:#1d2330;--muted:#5f6b7a;--line:#e3e7ee;--card:#f6f8fb}\n"
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
	"'Helvetica Neue',Arial,sans-serif;color:var(--fg);background:#fff;"
	"margin:0}\n"
	"main{max-width:1200px;margin:0 auto;padding:18px 28px 36px}\n"
	"h1{font-size:24px;margin:0}h2{font-size:18px;margin:26px 0 8px;"
	"border-bottom:1px solid var(--line);padding-bottom:4px}\n"
	"h3{font-size:14px;margin:12px 0 4px}\n"
	".sub{color:var(--muted);margin:2px 0 10px}\n"
	".status{display:inline-block;padding:3px 12px;border-radius:12px;"
	"font-weight:600;background:#e6f4ea;color:#1e6b34}\n"
	".status.running{background:#fff4e0;color:#8a5300}\n"
	".status.interrupted,.status.failed{background:#fde8e8;color:#8a1c1c}\n"
	".cards{display:grid;grid-template-columns:repeat(auto-fit,"
	"minmax(180px,1fr));gap:12px;margin:14px 0 4px}\n"
	".card{background:var(--card);border:1px solid var(--line);"
	"border-radius:8px;padding:8px 14px}\n"
	".card .k{color:var(--muted);font-size:12px;text-transform:uppercase;"
	"letter-spacing:.04em}.card .v{font-size:20px;font-weight:600}"
	".card .d{color:var(--muted);font-size:12px}\n"
	".charts{display:grid;grid-template-columns:repeat(auto-fill,"
	"minmax(460px,1fr));gap:14px}\n"
	"figure{margin:0;border:1px solid var(--line);border-radius:8px;"
	"padding:6px 8px 2px}figcaption{font-weight:600;padding:2px 4px}\n"
	"svg.chart{width:100%;height:auto;display:block}\n"
	".grid{stroke:#e8ebf0;stroke-width:1}.axis{stroke:#8a94a3;"
	"stroke-width:1}\n"
	".tick{font-size:11px;fill:#5f6b7a}.label,.legend{font-size:12px;"
	"fill:#3a4452}\n"
	".line{fill:none;stroke-width:2;stroke-linejoin:round}\n"
	".mark{stroke-width:1.5}.mark.best{stroke:#6b7280;"
	"stroke-dasharray:5 4}.mark.stop{stroke:#d62728}\n"
	".mark-label{font-size:11px;font-weight:600}.mark-label.best"
	"{fill:#4b5563}.mark-label.stop{fill:#d62728;paint-order:stroke;"
	"stroke:#fff;stroke-width:3px}\n"
	"table{border-collapse:collapse;margin:4px 0 12px;"
	"font-variant-numeric:tabular-nums}\n"
	"th,td{padding:3px 12px;border-bottom:1px solid var(--line);"
	"text-align:left;vertical-align:top}\n"
	"th{color:var(--muted);font-weight:600;font-size:12px}"
	"td.n,th.n{text-align:right}tr.best td{background:#eef6ee}\n"
	"code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
	".two{display:grid;grid-template-columns:repeat(auto-fit,"
	"minmax(420px,1fr));gap:0 28px}\n"
	"summary{cursor:pointer;font-weight:600}\n"
	"footer{color:var(--muted);font-size:12px;margin-top:28px}\n";

static void head(FILE *f, const Rt *rt, const Report *r)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	      "content=\"width=device-width, initial-scale=1\">\n", f);
	if (r->state == REPORT_RUNNING)
		fprintf(f, "<meta http-equiv=\"refresh\" content=\"%d\">\n",
			REFRESH_SECONDS);
	fputs("<title>", f);
	esc(f, rt->m->name);
	fprintf(f, ": training report</title>\n<style>\n%s</style>\n"
		"</head>\n<body>\n<main>\n", css);
}

static void status(FILE *f, const Report *r, int best, int stop)
{
	static const char *const cls[] = {
		[REPORT_RUNNING] = "running", [REPORT_FINISHED] = "finished",
		[REPORT_INTERRUPTED] = "interrupted",
		[REPORT_FROM_LOG] = "finished", [REPORT_FAILED] = "failed",
	};
	int last = r->nrows ? (int)nnrt_report_cell(r, r->nrows - 1, 0) : 0;

	fprintf(f, "<p><span class=\"status %s\">", cls[r->state]);
	switch (r->state) {
	case REPORT_RUNNING:
		fprintf(f, "running: epoch %d of %d done", last, r->epochs);
		break;
	case REPORT_INTERRUPTED:
		fprintf(f, "interrupted after epoch %d of %d", last,
			r->epochs);
		break;
	case REPORT_FAILED:
		fprintf(f, "failed after epoch %d of %d: ", last, r->epochs);
		esc(f, r->failure);
		break;
	default:
		fprintf(f, "%s %d epoch%s", r->state == REPORT_FROM_LOG
			? "log of" : "finished:", last, last == 1 ? "" : "s");
		break;
	}
	if (stop)
		fprintf(f, ", stopped early at epoch %d", stop);
	if (best)
		fprintf(f, ", best epoch %d", best);
	fputs("</span>", f);
	if (r->first_epoch > 1)
		fprintf(f, " <span class=\"sub\">epochs 1 to %ld are not in "
			"this report (trained before a resume, without a "
			"log)</span>", r->first_epoch - 1);
	fputs("</p>\n", f);
}

/* "2.31 s", "18.7 ms", "265 µs" */
static void duration(char *buf, size_t n, double s)
{
	if (!(s >= 0))
		snprintf(buf, n, "?");
	else if (s >= 60)
		snprintf(buf, n, "%.0f min %.0f s", floor(s / 60),
			 s - 60 * floor(s / 60));
	else if (s >= 1)
		snprintf(buf, n, "%.3g s", s);
	else if (s >= 1e-3)
		snprintf(buf, n, "%.3g ms", s * 1e3);
	else
		snprintf(buf, n, "%.3g \xc2\xb5s", s * 1e6);
}

static void card(FILE *f, const char *key, const char *value,
		 const char *detail)
{
	fprintf(f, "<div class=\"card\"><div class=\"k\">%s</div>"
		"<div class=\"v\">%s</div><div class=\"d\">%s</div></div>\n",
		key, value, detail);
}

/* Training rows per second of row i; NaN if unknown. */
static double rate(const Report *r, long i)
{
	double s = nnrt_report_cell(r, i, nnrt_report_col(r, "seconds"));

	return r->samples[i] > 0 && s > 0 ? (double)r->samples[i] / s : NAN;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median rate over the epochs that have one; NaN if none. */
static double median_rate(const Rt *rt, const Report *r)
{
	double *v = nnrt_base_alloc(rt, (size_t)r->nrows + 1, sizeof *v), m;
	long i, n = 0;

	for (i = 0; i < r->nrows; i++)
		if (isfinite(rate(r, i)))
			v[n++] = rate(r, i);
	qsort(v, (size_t)n, sizeof *v, by_value);
	m = n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : NAN;
	free(v);
	return m;
}

static double total_seconds(const Report *r)
{
	int c = nnrt_report_col(r, "seconds");
	double t = 0;
	long i;

	for (i = 0; c >= 0 && i < r->nrows; i++)
		t += nnrt_report_cell(r, i, c);
	return c >= 0 ? t : NAN;
}

/* The test set, measured once after training with the kept tensors:
 * accuracy when the model has it, else the loss. */
static void test_card(FILE *f, const Score *t)
{
	char v[64], d[160];

	if (t->m.which & NNRT_METRIC_BIT(ACCURACY)) {
		snprintf(v, sizeof v, "%.4f", t->m.v[NNRT_METRIC_ACCURACY]);
		snprintf(d, sizeof d, "%ld rows, after training; loss %.4f",
			 t->n, t->loss);
		card(f, "test_accuracy", v, d);
	} else {
		snprintf(v, sizeof v, "%.4f", t->loss);
		snprintf(d, sizeof d, "%ld rows, after training", t->n);
		card(f, "test_loss", v, d);
	}
}

static void cards(FILE *f, const Rt *rt, const Report *r, int best)
{
	char v[64], d[256], ld[64];
	long b = best ? row_of_epoch(r, best) : -1, i = r->nrows - 1;
	int c, n = 0;

	snprintf(v, sizeof v, "%ld / %d", r->nrows ? (long)nnrt_report_cell(r, i, 0) : 0L,
		 r->epochs);
	card(f, "epochs", v, r->state == REPORT_RUNNING ? "so far" : "run");
	for (c = 1; b >= 0 && c < r->ncols && n < 3; c++) {
		if (!strcmp(r->col[c], "lr") || !strcmp(r->col[c], "seconds"))
			continue;
		if (strncmp(r->col[c], "val_", 4) &&
		    nnrt_report_col(r, "val_loss") >= 0)
			continue;         /* the validation numbers if any */
		snprintf(v, sizeof v, "%.4f", nnrt_report_cell(r, b, c));
		snprintf(d, sizeof d, "at the best epoch, %d (last %.4f)",
			 best, nnrt_report_cell(r, i, c));
		card(f, r->col[c], v, d);
		n++;
	}
	if (r->has_test)
		test_card(f, &r->test);
	duration(v, sizeof v, total_seconds(r));
	duration(ld, sizeof ld, r->load_seconds);
	snprintf(d, sizeof d, "training steps; data %s", ld);
	card(f, "time", v, r->load_seconds >= 0 ? d : "training steps");
	if (isfinite(median_rate(rt, r))) {
		nnrt_chart_si(v, sizeof v, median_rate(rt, r));
		card(f, "samples / s", v, "median over the epochs");
	}
}

/* A chart's title: "Loss", "Accuracy"; the errors' abbreviations in
 * capitals, "MAE". */
static const char *title(char *buf, size_t n, const char *name)
{
	int caps = !strcmp(name, "mae") || !strcmp(name, "rmse");
	size_t i;

	snprintf(buf, n, "%s", name);
	for (i = 0; buf[i]; i++)
		if ((i == 0 || caps) && buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	return buf;
}

/* The curves: loss, each metric, the learning rate, the timing. */
static void charts(FILE *f, const Rt *rt, const Report *r, int best,
		   int stop)
{
	Series s[2];
	double *y[2], *secs;
	int c, k, n, sc = nnrt_report_col(r, "seconds");
	long i;

	y[0] = nnrt_base_alloc(rt, (size_t)r->nrows + 1, sizeof(double));
	y[1] = nnrt_base_alloc(rt, (size_t)r->nrows + 1, sizeof(double));
	secs = nnrt_base_alloc(rt, (size_t)r->nrows + 1, sizeof(double));
	fputs("<h2>Curves</h2>\n<div class=\"charts\">\n", f);
	for (k = -1; k < NNRT_METRIC_COUNT; k++) {
		const char *base = k < 0 ? "loss"
					 : nnrt_summary_metric_name(k);
		char vname[32], title_buf[32];
		snprintf(vname, sizeof vname, "val_%s", base);
		n = 0;
		for (c = 0; c < 2; c++) {
			int col = nnrt_report_col(r, c ? vname : base);
			if (col < 0)
				continue;
			for (i = 0; i < r->nrows; i++)
				y[n][i] = nnrt_report_cell(r, i, col);
			s[n].name = r->col[col];
			s[n].color = c ? val_color : train_color;
			s[n].seconds = NULL;
			s[n].y = y[n];
			n++;
		}
		if (n)
			nnrt_chart_svg(f, r, base, title(title_buf,
				       sizeof title_buf, base), s, n, best,
				       stop);
	}
	if ((c = nnrt_report_col(r, "lr")) >= 0) {
		for (i = 0; i < r->nrows; i++)
			y[0][i] = nnrt_report_cell(r, i, c);
		s[0] = (Series){ "lr", lr_color, y[0], NULL };
		nnrt_chart_svg(f, r, "lr", "Learning rate", s, 1, best, stop);
	}
	if (sc >= 0) {
		int known = r->nrows > 0;
		for (i = 0; i < r->nrows; i++) {
			secs[i] = nnrt_report_cell(r, i, sc);
			y[0][i] = rate(r, i);
			known &= r->samples[i] > 0;
		}
		if (known)
			s[0] = (Series){ "samples_per_second", time_color,
					 y[0], secs };
		else
			s[0] = (Series){ "seconds", time_color, secs, secs };
		nnrt_chart_svg(f, r, "timing", known ? "Samples per second"
			       : "Seconds per epoch", s, 1, 0, 0);
	}
	fputs("</div>\n", f);
	free(y[0]);
	free(y[1]);
	free(secs);
}

/* ---- the model and the settings ---- */

static void shape(FILE *f, int rank, const int *dims)
{
	char buf[64];

	nnrt_base_shape(buf, sizeof buf, rank, dims);
	fputs(buf, f);
}

static void layers(FILE *f, const NnrtModel *m)
{
	int i;

	if (m->n_layers == 0)
		return;
	fputs("<h3>Layers</h3>\n<table>\n<tr><th>layer</th><th>kind</th>"
	      "<th>output</th><th class=\"n\">params</th><th class=\"n\">"
	      "FLOPs / sample</th></tr>\n", f);
	for (i = 0; i < m->n_layers; i++) {
		const NnrtLayer *l = &m->layers[i];
		fputs("<tr><td><code>", f);
		esc(f, l->name);
		fputs("</code></td><td>", f);
		esc(f, l->kind);
		fputs("</td><td>", f);
		shape(f, l->rank, l->dims);
		fprintf(f, "</td><td class=\"n\">%ld</td><td class=\"n\">%.0f"
			"</td></tr>\n", l->params, l->flops);
	}
	fputs("</table>\n", f);
}

static void tensors(FILE *f, const NnrtModel *m)
{
	char init[64];
	int i;

	fputs("<h3>Tensors</h3>\n<table>\n<tr><th>tensor</th><th>shape</th>"
	      "<th class=\"n\">params</th><th>init</th></tr>\n", f);
	for (i = 0; i < m->n_tensors; i++) {
		const NnrtTensor *t = &m->tensors[i];
		nnrt_init_describe(t, init, sizeof init);
		fputs("<tr><td><code>", f);
		esc(f, t->name);
		fputs("</code></td><td>", f);
		shape(f, t->rank, t->dims);
		fprintf(f, "</td><td class=\"n\">%ld</td><td>", t->size);
		esc(f, init);
		fprintf(f, "%s</td></tr>\n", t->trainable ? ""
			: " (not trainable)");
	}
	fputs("</table>\n", f);
}

/* summary.c's totals: parameters, FLOPs, memory. */
static void totals(FILE *f, const NnrtModel *m)
{
	static const char *const what[MEM_COUNT] = {
		[MEM_PARAMS] = "parameters", [MEM_GRADS] = "gradients",
		[MEM_STATE] = "optimizer state",
		[MEM_WS] = "workspace (activations of a batch)"
	};
	char b[32];
	Totals t;
	int i;

	nnrt_summary_totals(m, &t);
	fprintf(f, "<h3>Totals</h3>\n<table>\n<tr><td>parameters</td>"
		"<td class=\"n\">%ld</td><td>%ld trainable</td></tr>\n"
		"<tr><td>FLOPs / sample</td><td class=\"n\">%.0f</td>"
		"<td>forward</td></tr>\n", m->n_params, m->n_trainable,
		t.flops);
	for (i = 0; i < MEM_COUNT; i++) {
		nnrt_summary_bytes(b, sizeof b, t.bytes[i]);
		fprintf(f, "<tr><td>memory: %s</td><td class=\"n\">%s</td>"
			"<td>%.0f reals</td></tr>\n", what[i], b,
			t.bytes[i] / m->real_size);
	}
	nnrt_summary_bytes(b, sizeof b, t.total);
	fprintf(f, "<tr><td>memory: total</td><td class=\"n\">%s</td>"
		"<td>batch of %d, f%d</td></tr>\n</table>\n", b, m->max_batch,
		m->real_size * 8);
}

static void model(FILE *f, const NnrtModel *m)
{
	int k;

	fputs("<h2>Model</h2>\n<p>", f);
	for (k = 0; k < m->n_inputs; k++) {
		fputs(k ? ", input <code>" : "input <code>", f);
		esc(f, m->inputs[k].name);
		fputs("</code> ", f);
		shape(f, m->inputs[k].rank, m->inputs[k].dims);
	}
	if (m->n_classes > 0)
		fprintf(f, "; target class(%d)", m->n_classes);
	else
		fprintf(f, "; target [%ld]", m->target_size);
	fputs("; output", f);
	for (k = 0; k < m->n_outputs; k++) {
		fputs(k ? ", <code>" : " <code>", f);
		esc(f, m->output_names[k]);
		fprintf(f, "</code> [%ld]", m->output_sizes[k]);
	}
	fputs("</p>\n<div class=\"two\"><div>\n", f);
	layers(f, m);
	totals(f, m);
	fputs("</div><div>\n", f);
	tensors(f, m);
	fputs("</div></div>\n", f);
}

static void source(FILE *f, const NnrtModel *m, const NnrtSource *s)
{
	int k;

	fputs("<code>", f);
	switch (s->kind) {
	case NNRT_SRC_CSV:
		fputs("csv(\"", f);
		esc(f, s->path);
		fprintf(f, "\", skip = %d", s->skip);
		for (k = 0; k < m->n_inputs; k++) {
			fputs(", ", f);
			esc(f, m->n_inputs > 1 ? m->inputs[k].name : "x");
			fprintf(f, " = %d:%d", s->x_lo[k], s->x_hi[k]);
		}
		fprintf(f, ", y = %d:%d)", s->y_lo, s->y_hi);
		break;
	case NNRT_SRC_IDX:
		fputs("idx(\"", f);
		esc(f, s->path);
		fputs("\", \"", f);
		esc(f, s->labels);
		fprintf(f, "\", scale = %g)", s->scale);
		break;
	default:
		fputs("none", f);
		break;
	}
	fputs("</code>", f);
}

static void setting(FILE *f, const char *key, const char *value)
{
	fprintf(f, "<tr><th>%s</th><td>", key);
	esc(f, value);
	fputs("</td></tr>\n", f);
}

static void settings(FILE *f, const Rt *rt, const Report *r)
{
	const NnrtModel *m = rt->m;
	const NnrtTrainConfig *t = &m->train;
	char b[256];
	const char *sep = "";
	int k;

	fputs("<h2>Settings</h2>\n<table>\n", f);
	setting(f, "optimizer", m->optimizer ? m->optimizer : "?");
	if (r->base_lr > 0 && r->base_lr != m->lr) {
		snprintf(b, sizeof b, "%g (--lr)", r->base_lr);
		setting(f, "learning rate", b);
	}
	setting(f, "schedule", m->schedule ? m->schedule : "constant");
	snprintf(b, sizeof b, "%ld%s", r->batch > 0 ? r->batch
		 : (long)(t->batch > 0 ? t->batch : m->max_batch),
		 t->drop_last ? " (drop_last)" : "");
	setting(f, "batch", b);
	snprintf(b, sizeof b, "%d%s", r->epochs, t->shuffle
		 ? ", shuffled each epoch" : "");
	setting(f, "epochs", b);
	snprintf(b, sizeof b, "%lu%s", r->has_run ? rt->seed : t->seed,
		 r->has_run ? "" : " (the train block's)");
	setting(f, "seed", b);
	fputs("<tr><th>data</th><td>", f);
	if (r->has_run && rt->data_spec) {
		fputs("<code>", f);
		esc(f, rt->data_spec);
		fputs("</code>", f);
	} else {
		source(f, m, &t->data);
	}
	if (r->n_train > 0)
		fprintf(f, ": %ld rows, %ld for training, %ld for validation",
			r->n_train + r->n_val, r->n_train, r->n_val);
	fputs("</td></tr>\n<tr><th>validation</th><td>", f);
	if (t->val.kind != NNRT_SRC_NONE)
		source(f, m, &t->val);
	else
		fprintf(f, "%g of the data", t->validation);
	fputs("</td></tr>\n", f);
	if (t->test.kind != NNRT_SRC_NONE) {
		fputs("<tr><th>test</th><td>", f);
		source(f, m, &t->test);
		fputs("</td></tr>\n", f);
	}
	snprintf(b, sizeof b, "%s", nnrt_summary_norm_name(t->normalize));
	setting(f, "normalize", b);
	if (t->normalize_target != NNRT_NORM_NONE)
		setting(f, "normalize_target",
			nnrt_summary_norm_name(t->normalize_target));
	b[0] = '\0';
	for (k = 0; k < NNRT_METRIC_COUNT; k++)
		if (t->metrics & 1u << k) {
			strcat(strcat(b, sep), nnrt_summary_metric_name(k));
			sep = ", ";
		}
	setting(f, "metrics", b[0] ? b : "none");
	if (t->early_stop)
		snprintf(b, sizeof b, "monitor %s, patience %d, min_delta %g, "
			 "restore_best %s",
			 nnrt_summary_monitor_name(t->monitor), t->patience,
			 t->min_delta, t->restore_best ? "true" : "false");
	setting(f, "early_stop", t->early_stop ? b : "off");
	setting(f, "checkpoint", r->ckpt);
	if (r->log)
		setting(f, "log", r->log);
	else
		setting(f, "log", rt->opt.log ? rt->opt.log
			: t->log ? t->log : "none");
	fputs("</table>\n", f);
}

/* Every row, as the log has it, the best one highlighted. */
static void epochs(FILE *f, const Report *r, int best)
{
	long i;
	int c;

	fprintf(f, "<h2>Epochs</h2>\n<details%s><summary>%ld rows</summary>\n"
		"<table>\n<tr>", r->nrows <= 30 ? " open" : "", r->nrows);
	for (c = 0; c < r->ncols; c++)
		fprintf(f, "<th class=\"n\">%s</th>", r->col[c]);
	fputs("</tr>\n", f);
	for (i = 0; i < r->nrows; i++) {
		fprintf(f, "<tr%s>", nnrt_report_cell(r, i, 0) == best && best
			? " class=\"best\"" : "");
		for (c = 0; c < r->ncols; c++) {
			const char *name = r->col[c];
			double v = nnrt_report_cell(r, i, c);
			if (c == 0)
				fprintf(f, "<td class=\"n\">%.0f</td>", v);
			else if (!strcmp(name, "lr") ||
				 !strcmp(name, "seconds"))
				fprintf(f, "<td class=\"n\">%g</td>", v);
			else
				fprintf(f, "<td class=\"n\">%.4f</td>", v);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n</details>\n", f);
}

static void timing(FILE *f, const Rt *rt, const Report *r)
{
	double med = median_rate(rt, r), tot = total_seconds(r);
	char a[64], b[64];

	fputs("<h2>Timing</h2>\n<table>\n", f);
	duration(a, sizeof a, r->load_seconds);
	if (r->load_seconds >= 0)
		fprintf(f, "<tr><th>loading and preparing the data</th>"
			"<td class=\"n\">%s</td></tr>\n", a);
	duration(a, sizeof a, tot);
	duration(b, sizeof b, r->nrows ? tot / (double)r->nrows : 0);
	if (isfinite(tot))
		fprintf(f, "<tr><th>training steps, all epochs</th>"
			"<td class=\"n\">%s</td></tr>\n<tr><th>per epoch, "
			"mean</th><td class=\"n\">%s</td></tr>\n", a, b);
	if (isfinite(med))
		fprintf(f, "<tr><th>samples per second, median</th>"
			"<td class=\"n\">%.0f</td></tr>\n", med);
	else
		fputs("<tr><th>samples per second</th><td>unknown: the log "
		      "does not say how many rows an epoch took (rebuild "
		      "with --checkpoint)</td></tr>\n", f);
	fputs("</table>\n<p class=\"sub\">Seconds are the wall time of an "
	      "epoch's training steps; measuring the validation rows and "
	      "writing the checkpoint are not in them.</p>\n", f);
}

void nnrt_page_write(FILE *f, const Rt *rt, const Report *r)
{
	const NnrtModel *m = rt->m;
	int best, stop;

	nnrt_report_best(rt, r, &best, &stop);
	head(f, rt, r);
	fputs("<h1>", f);
	esc(f, m->name);
	fputs("</h1>\n<p class=\"sub\">training report of <code>", f);
	esc(f, m->source ? m->source : "?");
	fprintf(f, "</code>, nnc %s, f%d", m->nnc_version ? m->nnc_version
		: "?", m->real_size * 8);
	if (r->log) {
		fputs(", rebuilt from the log <code>", f);
		esc(f, r->log);
		fputs("</code>", f);
	}
	fputs("</p>\n", f);
	status(f, r, best, stop);
	fputs("<div class=\"cards\">\n", f);
	cards(f, rt, r, best);
	fputs("</div>\n", f);
	charts(f, rt, r, best, stop);
	timing(f, rt, r);
	model(f, m);
	settings(f, rt, r);
	epochs(f, r, best);
	fprintf(f, "<footer>Written by nnrt %s. One file: no script, nothing "
		"loaded from elsewhere.</footer>\n</main>\n</body>\n</html>\n",
		NNRT_VERSION);
}

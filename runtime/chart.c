/*
 * chart.c - the report's line charts, as inline SVG.
 *
 * One chart: values per epoch of one or more series (a training and a
 * validation curve, the learning rate, samples per second), with a
 * grid, ticks at round numbers on both axes, axis labels and a legend.
 * The best epoch is a dashed grey line, an early stop a red one. A
 * learning rate that spans more than a factor of 20 is drawn on a log
 * scale.
 *
 * Every point is a circle that carries its numbers, so a reader (or a
 * test) gets them back without the log:
 *
 *   <g class="series" data-series="val_loss">
 *     <circle class="pt" data-epoch="3" data-value="0.392100003" ...>
 *       <title>epoch 3: val_loss 0.3921</title></circle>
 *
 * data-value is printed with %.9g, as the log prints it; a timing point
 * also has data-seconds. The <title> is the browser's tooltip.
 *
 * Nothing here depends on the clock or on pointers: the same rows give
 * the same bytes.
 */
#include <math.h>
#include <string.h>

#include "rt.h"

/* The SVG's size in its own units; the page scales it to its column. */
enum { W = 560, H = 300, X0 = 64, X1 = W - 20, Y0 = 40, Y1 = H - 46 };

typedef struct Axis {
	double lo, hi, step;      /* log: powers of ten */
	int log;
} Axis;

/* "6.13M", "250k", "12": counts of samples per second */
void nnrt_chart_si(char *buf, size_t n, double v)
{
	static const char *const unit[] = { "", "k", "M", "G", "T" };
	int u = 0;

	while (fabs(v) >= 1e4 && u < 4) {
		v /= 1000;
		u++;
	}
	while (u > 0 && fabs(v) >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.3g%s", v, unit[u]);
}

/* 1, 2 or 5 times a power of ten, near span / n */
static double nice_step(double span, int n)
{
	double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;

	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* Round ends around [lo, hi], about n ticks; integer steps if asked. */
static void axis_fit(Axis *a, double lo, double hi, int n, int integer)
{
	if (!(hi > lo)) {
		double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
		lo -= pad;
		hi += pad;
	}
	a->log = 0;
	a->step = nice_step(hi - lo, n);
	if (integer && a->step < 1)
		a->step = 1;
	a->lo = floor(lo / a->step + 1e-9) * a->step;
	a->hi = ceil(hi / a->step - 1e-9) * a->step;
}

static void axis_log(Axis *a, double lo, double hi)
{
	a->log = 1;
	a->step = 1;
	a->lo = floor(log10(lo) + 1e-9);
	a->hi = ceil(log10(hi) - 1e-9);
}

static double at(const Axis *a, double v, double p0, double p1)
{
	if (a->log)
		v = log10(v);
	return p0 + (v - a->lo) / (a->hi - a->lo) * (p1 - p0);
}

static void tick_label(char *buf, size_t n, const Axis *a, double v)
{
	int dec;

	if (a->log) {
		snprintf(buf, n, "1e%d", (int)lround(v));
		return;
	}
	if (fabs(v) < a->step * 1e-6)
		v = 0;            /* not "-0.00" */
	if (fabs(a->hi) >= 1e4 && a->step >= 1) {
		nnrt_chart_si(buf, n, v);
		return;
	}
	if (a->step < 1e-5) {
		snprintf(buf, n, "%.3g", v);
		return;
	}
	dec = a->step >= 1 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
	snprintf(buf, n, "%.*f", dec, v);
}

/* The value range over every series; 0 if no point is finite. */
static int y_range(const Report *r, const Series *s, int n, double *lo,
		   double *hi)
{
	int k, any = 0;
	long i;

	for (k = 0; k < n; k++)
		for (i = 0; i < r->nrows; i++) {
			double v = s[k].y[i];
			if (!isfinite(v))
				continue;
			*lo = any && *lo < v ? *lo : v;
			*hi = any && *hi > v ? *hi : v;
			any = 1;
		}
	return any;
}

static void grid(FILE *f, const Axis *xa, const Axis *ya)
{
	char buf[32];
	double v, p;
	int i, n;

	n = (int)lround((ya->hi - ya->lo) / ya->step);
	for (i = 0; i <= n; i++) {
		v = ya->lo + i * ya->step;
		p = Y1 - (double)i / n * (Y1 - Y0);
		tick_label(buf, sizeof buf, ya, v);
		fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" "
			"x2=\"%d\" y2=\"%.1f\"/><text class=\"tick\" "
			"x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			X0, p, X1, p, X0 - 6, p + 4, buf);
	}
	n = (int)lround((xa->hi - xa->lo) / xa->step);
	for (i = 0; i <= n; i++) {
		v = xa->lo + i * xa->step;
		p = at(xa, v, X0, X1);
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" "
			"x2=\"%.1f\" y2=\"%d\"/><text class=\"tick\" "
			"x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f</text>\n",
			p, Y0, p, Y1, p, Y1 + 16, v);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
		"y2=\"%d\"/><line class=\"axis\" x1=\"%d\" y1=\"%d\" "
		"x2=\"%d\" y2=\"%d\"/>\n", X0, Y1, X1, Y1, X0, Y0, X0, Y1);
	fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\" "
		"text-anchor=\"middle\">epoch</text>\n", (X0 + X1) / 2, H - 8);
}

/* A vertical line at an epoch with its label: the best epoch's above
 * the plot, the early stop's inside it, left of the line, so the two
 * do not collide when the stop is close to the best epoch. */
static void mark(FILE *f, const Axis *xa, const char *cls, int epoch,
		 const char *label)
{
	double p = at(xa, epoch, X0, X1);
	int inside = !strcmp(cls, "stop");

	fprintf(f, "<line class=\"mark %s\" data-epoch=\"%d\" x1=\"%.1f\" "
		"y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/><text class=\"mark-label "
		"%s\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s %d</text>\n",
		cls, epoch, p, Y0 - 4, p, Y1, cls, inside ? p - 4 : p,
		inside ? Y0 + 12 : Y0 - 8,
		inside || p > X1 - 40 ? "end" : p < X0 + 40 ? "start" : "middle",
		label, epoch);
}

static void legend(FILE *f, const Series *s, int n)
{
	int k, x = X0;

	for (k = 0; k < n; k++) {
		fprintf(f, "<line x1=\"%d\" y1=\"14\" x2=\"%d\" y2=\"14\" "
			"stroke=\"%s\" stroke-width=\"2.5\"/><circle cx=\"%d\" "
			"cy=\"14\" r=\"3\" fill=\"%s\"/><text class=\"legend\" "
			"x=\"%d\" y=\"18\">%s</text>\n", x, x + 22, s[k].color,
			x + 11, s[k].color, x + 28, s[k].name);
		x += 40 + 8 * (int)strlen(s[k].name);
	}
}

static void series(FILE *f, const Report *r, const Series *s,
		   const Axis *xa, const Axis *ya)
{
	int ep = nnrt_report_col(r, "epoch");
	double rad = r->nrows <= 40 ? 3 : r->nrows <= 120 ? 2 : 1.2;
	const char *cmd = "M";
	long i;

	fprintf(f, "<g class=\"series\" data-series=\"%s\">\n<path "
		"class=\"line\" stroke=\"%s\" d=\"", s->name, s->color);
	for (i = 0; i < r->nrows; i++) {
		double e = r->v[i * r->ncols + ep], v = s->y[i];
		if (!isfinite(v) || (ya->log && !(v > 0))) {
			cmd = "M";
			continue;
		}
		fprintf(f, "%s%.1f %.1f", cmd, at(xa, e, X0, X1),
			at(ya, v, Y1, Y0));
		cmd = "L";
	}
	fprintf(f, "\"/>\n");
	for (i = 0; i < r->nrows; i++) {
		double e = r->v[i * r->ncols + ep], v = s->y[i];
		if (!isfinite(v) || (ya->log && !(v > 0)))
			continue;
		fprintf(f, "<circle class=\"pt\" data-epoch=\"%.0f\" "
			"data-value=\"%.9g\"", e, v);
		if (s->seconds)
			fprintf(f, " data-seconds=\"%.9g\"", s->seconds[i]);
		fprintf(f, " cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\">"
			"<title>epoch %.0f: %s %.6g</title></circle>\n",
			at(xa, e, X0, X1), at(ya, v, Y1, Y0), rad, s->color, e,
			s->name, v);
	}
	fprintf(f, "</g>\n");
}

void nnrt_chart_svg(FILE *f, const Report *r, const char *id,
		    const char *title, const Series *s, int n, int best,
		    int stop)
{
	int ep = nnrt_report_col(r, "epoch"), k;
	double lo = 0, hi = 0, e0, e1;
	Axis xa, ya;

	fprintf(f, "<figure><figcaption>%s</figcaption>\n<svg class=\"chart\" "
		"data-chart=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\" "
		"aria-label=\"%s, by epoch\">\n", title, id, W, H, title);
	if (r->nrows == 0 || !y_range(r, s, n, &lo, &hi)) {
		fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\" "
			"text-anchor=\"middle\">no epochs yet</text>\n</svg>"
			"</figure>\n", W / 2, H / 2);
		return;
	}
	e0 = r->v[ep];
	e1 = r->v[(r->nrows - 1) * r->ncols + ep];
	axis_fit(&xa, e0 == e1 ? e0 - 1 : e0, e0 == e1 ? e1 + 1 : e1, 8, 1);
	if (!strcmp(id, "lr") && lo > 0 && hi / lo > 20)
		axis_log(&ya, lo, hi);
	else
		axis_fit(&ya, lo, hi, 5, 0);
	legend(f, s, n);
	if (ya.log)
		fprintf(f, "<text class=\"legend\" x=\"%d\" y=\"18\" "
			"text-anchor=\"end\">log scale</text>\n", X1);
	grid(f, &xa, &ya);
	if (best)
		mark(f, &xa, "best", best, "best");
	if (stop)
		mark(f, &xa, "stop", stop, "early stop");
	for (k = 0; k < n; k++)
		series(f, r, &s[k], &xa, &ya);
	fprintf(f, "</svg></figure>\n");
}

/*
 * emit_conv.c - the kernels of convolution and pooling (ops.def names
 * them), shape-specialized: every size is a literal.
 *
 * Layouts are PyTorch's: x [B, C, H, W], w [F, C, k, k] (read as the
 * matrix [F, C k k]), y [B, F, OH, OW]. A convolution is, per sample, one
 * GEMM over the im2col matrix of the sample (rows c k k + ki k + kj,
 * columns oh OW + ow; zero where the window hangs over the padding), kept
 * in the kernel's scratch s0 (plan.c reserves it):
 *
 *   y_b  = w @ col(x_b)                          [F, P] = [F, Ckk] [Ckk, P]
 *   dx_b = col2im(w^T @ dy_b)                    accumulated into x's shape
 *   dw   = dy^T @ [col(x_0) .. col(x_n-1)]^T     one GEMM over the batch
 *
 * The forward and dx stay one GEMM per sample: their results are NCHW
 * directly, where a batch-wide GEMM would give [F, B P] and need a
 * transposing copy of the output.
 *
 * Pooling takes windows of size x size with a stride, floor mode, no
 * padding (PyTorch's defaults). maxpool's gradient recomputes each
 * window's maximum from x instead of storing indices: the first position
 * holding the maximum (a NaN counts as the maximum), as PyTorch picks.
 */
#include "nnc.h"

/* Sizes of a convolution or a pool: x [c, h, w] windows over y [f, oh, ow] */
typedef struct Geom {
	long c, h, w, f, oh, ow;
	int k, stride, pad;
} Geom;

static Geom geom(Shape x, Shape y, int k, int stride, int pad)
{
	return (Geom){x.dim[0], x.dim[1], x.dim[2], y.dim[0], y.dim[1],
		      y.dim[2], k, stride, pad};
}

static const char *gemm(Emitter *E)
{
	return E->o->f64 ? "cblas_dgemm" : "cblas_sgemm";
}

static void open_for(Emitter *E, const char *v, long n)
{
	emit(E, "for (long %s = 0; %s < %ld; %s++) {", v, v, n, v);
	E->indent++;
}

static void close_for(Emitter *E, int levels)
{
	while (levels-- > 0) {
		E->indent--;
		emit(E, "}");
	}
}

/*
 * Opens the loops over the im2col matrix of the sample at `xb`: `row` is
 * row (ci k + ki) k + kj of the matrix at `base` whose rows are `ld` long
 * (C expressions),
 * column oh OW + ow, and `inside` says whether (ih, iw) falls in the image
 * (always, without padding). The caller writes the body over `xb[xi]` and
 * `row[oh * OW + ow]`, then closes 5 loops.
 */
static void open_im2col(Emitter *E, const Geom *g, const char *base,
			const char *ld)
{
	open_for(E, "ci", g->c);
	open_for(E, "ki", g->k);
	open_for(E, "kj", g->k);
	emit(E, "%s *restrict row = %s + ((ci * %d + ki) * %d + kj) * %s;",
	     E->real, base, g->k, g->k, ld);
	open_for(E, "oh", g->oh);
	emit(E, "const long ih = oh * %d - %d + ki;", g->stride, g->pad);
	open_for(E, "ow", g->ow);
	emit(E, "const long iw = ow * %d - %d + kj;", g->stride, g->pad);
	emit(E, "const long xi = (ci * %ld + ih) * %ld + iw;", g->h, g->w);
	if (g->pad)
		emit(E, "const int inside = ih >= 0 && ih < %ld && iw >= 0 && "
		     "iw < %ld;", g->h, g->w);
	else
		emit(E, "const int inside = 1;\t/* no padding */");
}

/* the matrix at base = im2col of the sample at xb, rows `ld` long */
static void im2col(Emitter *E, const Geom *g, const char *base,
		   const char *ld)
{
	open_im2col(E, g, base, ld);
	emit(E, "row[oh * %ld + ow] = inside ? xb[xi] : 0;", g->ow);
	close_for(E, 5);
}

/* y_b = w @ im2col(x_b): a0 x, a1 w, o0 y */
void emit_conv2d(Emitter *E, Kernel *k)
{
	Node *y = k->members[0];
	const Attr_conv *at = &y->attr.conv;
	Geom g = geom(y->in[0]->shape, y->shape, at->k, at->stride, at->pad);
	long ckk = g.c * g.k * g.k, p = g.oh * g.ow;
	emit(E, "for (long b = 0; b < n; b++) {");
	E->indent++;
	emit(E, "const %s *restrict xb = a0 + b * %ld;", E->real, g.c * g.h * g.w);
	im2col(E, &g, "s0", arena_printf(&E->arena, "%ld", p));
	emit(E, "%s(CblasRowMajor, CblasNoTrans, CblasNoTrans,", gemm(E));
	emit(E, "            %ld, %ld, %ld,", g.f, p, ckk);
	emit(E, "            1, a1, %ld, s0, %ld, 0, o0 + b * %ld, %ld);", ckk,
	     p, g.f * p, p);
	E->indent--;
	emit(E, "}");
}

/* dx_b = col2im(w^T @ dy_b): a0 dy, a1 w, o0 dx */
void emit_conv2d_dx(Emitter *E, Kernel *k)
{
	Node *dx = k->members[0];
	const Attr_conv *at = &dx->attr.conv;
	Geom g = geom(dx->shape, dx->in[0]->shape, at->k, at->stride, at->pad);
	long ckk = g.c * g.k * g.k, p = g.oh * g.ow, chw = g.c * g.h * g.w;
	emit(E, "for (long b = 0; b < n; b++) {");
	E->indent++;
	emit(E, "%s *restrict xb = o0 + b * %ld;", E->real, chw);
	emit(E, "for (long i = 0; i < %ld; i++) {", chw);
	emit(E, "\txb[i] = 0;");
	emit(E, "}");
	emit(E, "%s(CblasRowMajor, CblasTrans, CblasNoTrans,", gemm(E));
	emit(E, "            %ld, %ld, %ld,", ckk, p, g.f);
	emit(E, "            1, a1, %ld, a0 + b * %ld, %ld, 0, s0, %ld);", ckk,
	     g.f * p, p, p);
	open_im2col(E, &g, "s0", arena_printf(&E->arena, "%ld", p));
	emit(E, "if (inside) {");
	emit(E, "\txb[xi] += row[oh * %ld + ow];", g.ow);
	emit(E, "}");
	close_for(E, 5);
	E->indent--;
	emit(E, "}");
}

/*
 * dw = sum_b dy_b @ im2col(x_b)^T as one GEMM over the batch: s0 holds
 * the im2col matrices of every sample side by side ([C k k, n P], sample
 * b in columns b P ..), dyt = dy as [F, n P]: dw = dyt @ s0^T.
 * a0 x, a1 dy, o0 dw.
 */
void emit_conv2d_dw(Emitter *E, Kernel *k)
{
	Node *dw = k->members[0];
	const Attr_conv *at = &dw->attr.conv;
	Geom g = geom(dw->in[0]->shape, dw->in[1]->shape, at->k, at->stride,
		      at->pad);
	long ckk = g.c * g.k * g.k, p = g.oh * g.ow;
	emit(E, "const long np = (long)n * %ld;", p);
	emit(E, "%s *restrict dyt = s0 + %ld * np;", E->real, ckk);
	emit(E, "for (long b = 0; b < n; b++) {");
	E->indent++;
	emit(E, "const %s *restrict xb = a0 + b * %ld;", E->real, g.c * g.h * g.w);
	emit(E, "%s *restrict sb = s0 + b * %ld;", E->real, p);
	emit(E, "for (long f = 0; f < %ld; f++) {", g.f);
	emit(E, "\tfor (long q = 0; q < %ld; q++) {", p);
	emit(E, "\t\tdyt[f * np + b * %ld + q] = a1[(b * %ld + f) * %ld + q];", p,
	     g.f, p);
	emit(E, "\t}");
	emit(E, "}");
	im2col(E, &g, "sb", "np");
	E->indent--;
	emit(E, "}");
	emit(E, "%s(CblasRowMajor, CblasNoTrans, CblasTrans,", gemm(E));
	emit(E, "            %ld, %ld, np,", g.f, ckk);
	emit(E, "            1, dyt, np, s0, np, 0, o0, %ld);", ckk);
}

/* ---- pooling ------------------------------------------------------ */

/* One plane a window loop walks: the C pointer `name` to the plane of
 * (sample, channel) bc in the buffer `buf`, an input (x-sized) plane or
 * an output (y-sized) one, written or only read. */
typedef struct Plane {
	const char *name, *buf;
	bool input_sized, write;
} Plane;

/*
 * Opens the loops over every output position (oh, ow) of every (sample,
 * channel) plane bc, with a pointer to each of the given planes, and
 * `at`, the window's first input position. The caller closes 3 loops.
 */
static void open_windows(Emitter *E, const Geom *g, const Plane *p, int n)
{
	emit(E, "for (long bc = 0; bc < (long)n * %ld; bc++) {", g->c);
	for (int i = 0; i < n; i++)
		emit(E, "\t%s%s *restrict %s = %s + bc * %ld;",
		     p[i].write ? "" : "const ", E->real, p[i].name, p[i].buf,
		     p[i].input_sized ? g->h * g->w : g->oh * g->ow);
	emit(E, "\tfor (long oh = 0; oh < %ld; oh++) {", g->oh);
	emit(E, "\t\tfor (long ow = 0; ow < %ld; ow++) {", g->ow);
	emit(E, "\t\t\tconst long at = oh * %ld + ow * %d;", g->stride * g->w,
	     g->stride);
}

/* o0, n samples of shape s, set to 0 (the gradients accumulate in it) */
static void zero_out(Emitter *E, Shape s)
{
	emit(E, "for (long i = 0; i < (long)n * %ld; i++) {", shape_numel(s));
	emit(E, "\to0[i] = 0;");
	emit(E, "}");
}

static void close_windows(Emitter *E)
{
	emit(E, "\t\t}");
	emit(E, "\t}");
	emit(E, "}");
}

/* m, mi: the window's first maximum and its position, NaN winning */
static void window_max(Emitter *E, const Geom *g, const char *x)
{
	emit(E, "\t\t\t%s m = %s[at];", E->real, x);
	emit(E, "\t\t\tlong mi = at;");
	emit(E, "\t\t\tfor (long ki = 0; ki < %d; ki++) {", g->k);
	emit(E, "\t\t\t\tfor (long kj = 0; kj < %d; kj++) {", g->k);
	emit(E, "\t\t\t\t\tconst long i = at + ki * %ld + kj;", g->w);
	emit(E, "\t\t\t\t\tif (%s[i] > m || isnan(%s[i])) {", x, x);
	emit(E, "\t\t\t\t\t\tm = %s[i];", x);
	emit(E, "\t\t\t\t\t\tmi = i;");
	emit(E, "\t\t\t\t\t}");
	emit(E, "\t\t\t\t}");
	emit(E, "\t\t\t}");
}

static Geom pool_geom(Shape x, Shape y, const Attr_pool *at)
{
	return geom(x, y, at->size, at->stride, 0);
}

/* y = the maximum of each window: a0 x, o0 y */
void emit_maxpool(Emitter *E, Kernel *k)
{
	Node *y = k->members[0];
	Geom g = pool_geom(y->in[0]->shape, y->shape, &y->attr.pool);
	const Plane p[] = {{"xp", "a0", true, false}, {"yp", "o0", false, true}};
	open_windows(E, &g, p, 2);
	window_max(E, &g, "xp");
	emit(E, "\t\t\t(void)mi;");
	emit(E, "\t\t\typ[oh * %ld + ow] = m;", g.ow);
	close_windows(E);
}

/* dx: each window's dy to its first maximum in x: a0 x, a1 dy, o0 dx */
void emit_maxpool_dx(Emitter *E, Kernel *k)
{
	Node *dx = k->members[0];
	Geom g = pool_geom(dx->shape, dx->in[1]->shape, &dx->attr.pool);
	const Plane p[] = {{"xp", "a0", true, false}, {"dyp", "a1", false, false},
			   {"dxp", "o0", true, true}};
	zero_out(E, dx->shape);
	open_windows(E, &g, p, 3);
	window_max(E, &g, "xp");
	emit(E, "\t\t\tdxp[mi] += dyp[oh * %ld + ow];", g.ow);
	close_windows(E);
}

/* y = the mean of each window: a0 x, o0 y */
void emit_avgpool(Emitter *E, Kernel *k)
{
	Node *y = k->members[0];
	Geom g = pool_geom(y->in[0]->shape, y->shape, &y->attr.pool);
	const Plane p[] = {{"xp", "a0", true, false}, {"yp", "o0", false, true}};
	open_windows(E, &g, p, 2);
	emit(E, "\t\t\t%s s = 0;", E->real);
	emit(E, "\t\t\tfor (long ki = 0; ki < %d; ki++) {", g.k);
	emit(E, "\t\t\t\tfor (long kj = 0; kj < %d; kj++) {", g.k);
	emit(E, "\t\t\t\t\ts += xp[at + ki * %ld + kj];", g.w);
	emit(E, "\t\t\t\t}");
	emit(E, "\t\t\t}");
	emit(E, "\t\t\typ[oh * %ld + ow] = s / %s;", g.ow,
	     emit_lit(E, (double)g.k * g.k));
	close_windows(E);
}

/* dx: each window's dy / size^2 to each of its positions: a0 dy, o0 dx */
void emit_avgpool_dx(Emitter *E, Kernel *k)
{
	Node *dx = k->members[0];
	Geom g = pool_geom(dx->shape, dx->in[0]->shape, &dx->attr.pool);
	const Plane p[] = {{"xp", "o0", true, true}, {"yp", "a0", false, false}};
	zero_out(E, dx->shape);
	open_windows(E, &g, p, 2);
	emit(E, "\t\t\tconst %s d = yp[oh * %ld + ow] / %s;", E->real, g.ow,
	     emit_lit(E, (double)g.k * g.k));
	emit(E, "\t\t\tfor (long ki = 0; ki < %d; ki++) {", g.k);
	emit(E, "\t\t\t\tfor (long kj = 0; kj < %d; kj++) {", g.k);
	emit(E, "\t\t\t\t\txp[at + ki * %ld + kj] += d;", g.w);
	emit(E, "\t\t\t\t}");
	emit(E, "\t\t\t}");
	close_windows(E);
}

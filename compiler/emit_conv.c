/*
 * emit_conv.c - the kernels of convolution and pooling (ops.def names
 * them), shape-specialized: every size is a literal.
 *
 * Layouts are PyTorch's: x [B, C, H, W], w [F, C, k, k] (read as the
 * matrix [F, C k k]), y [B, F, OH, OW]. A convolution is a GEMM per
 * sample over the sample's im2col matrix (rows c k k + ki k + kj, columns
 * oh OW + ow; zero where the window hangs over the padding), kept in the
 * kernel's scratch s0 (plan.c reserves it), where it is still in cache
 * when the GEMM reads it:
 *
 *   y_b  = w @ col(x_b)                 [F, P] = [F, Ckk] [Ckk, P]
 *   dx_b = col2im(w^T @ dy_b)           stored into x's shape
 *   dw^T += col(x_b) @ dy_b^T           beta 0 for the first sample
 *
 * The batch is not folded into the GEMMs: their results would be [F, B P]
 * and need a transposing copy into NCHW (and dy one out of it), and with
 * OpenBLAS's small-matrix kernels a per-sample GEMM of these shapes ran
 * faster than one GEMM over the batch: 111 against 81 GFLOP/s for the
 * Fashion CNN's second convolution (forward and dx; dw alike at 76-78),
 * 99 against 24-70 for its first, on an AMD EPYC with AVX-512.
 *
 * im2col copies contiguous runs of x (memcpy at stride 1; for a stride-1
 * convolution as large as its input, a whole shifted plane per tap) and
 * works out once per tap which output columns fall in the padding, so no
 * element is bounds-checked; col2im adds the same runs back.
 *
 * Pooling takes windows of size x size with a stride, floor mode, no
 * padding (PyTorch's defaults). maxpool's gradient recomputes each
 * window's maximum from x instead of storing indices: the first position
 * holding the maximum (a later NaN wins), as PyTorch picks. Windows that
 * tile x store every element of dx once (no zeroing pass); others clear
 * each plane in cache and accumulate.
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

/* Opens the loops over the taps (ci, ki, kj) of the im2col matrix in s0,
 * `xc` pointing at channel ci of the image `img` (const when cimg), and
 * skipping the centre tap (ki = kj = pad) if asked. The caller closes 3. */
static void open_taps(Emitter *E, const Geom *g, const char *img, bool cimg,
		      bool skip_centre)
{
	open_for(E, "ci", g->c);
	emit(E, "%s%s *restrict xc = %s + ci * %ld;", cimg ? "const " : "",
	     E->real, img, g->h * g->w);
	open_for(E, "ki", g->k);
	open_for(E, "kj", g->k);
	if (skip_centre) {
		emit(E, "if (ki == %d && kj == %d) {", g->pad, g->pad);
		emit(E, "\tcontinue;\t/* the centre tap, stored first */");
		emit(E, "}");
	}
	emit(E, "%s *restrict r = s0 + ((ci * %d + ki) * %d + kj) * %ld;",
	     E->real, g->k, g->k, g->oh * g->ow);
}

/*
 * Inside open_taps: [lo, hi), the output columns whose window column
 * ow s - pad + kj falls inside the image (all of them without padding).
 */
static void tap_columns(Emitter *E, const Geom *g)
{
	int p = g->pad, s = g->stride;
	if (!p) {
		emit(E, "const long lo = 0, hi = %ld;\t/* no padding */", g->ow);
		return;
	}
	emit(E, "long lo = kj >= %d ? 0 : (%d - kj) / %d;", p, p + s - 1, s);
	emit(E, "long hi = (%ld - kj) / %d;", g->w + p + s - 1, s);
	emit(E, "lo = lo > %ld ? %ld : lo;", g->ow, g->ow);
	emit(E, "hi = hi > %ld ? %ld : hi < lo ? lo : hi;", g->ow, g->ow);
}

/*
 * Inside open_taps, after tap_columns: the loop over the output rows oh
 * whose window row ih is inside the image (`outside`, if not NULL, runs
 * for the others), with `row` at the tap's run of OW columns and `xr` at
 * image row ih (element ow of the window row is xr[ow s + kj - pad]). The
 * caller closes 1 loop.
 */
static void open_rows(Emitter *E, const Geom *g, bool cimg,
		      const char *outside)
{
	open_for(E, "oh", g->oh);
	emit(E, "%s *restrict row = r + oh * %ld;", E->real, g->ow);
	emit(E, "const long ih = oh * %d - %d + ki;", g->stride, g->pad);
	if (g->pad) {
		emit(E, "if (ih < 0 || ih >= %ld) {", g->h);
		E->indent++;
		if (outside)
			emit(E, "%s", outside);
		emit(E, "continue;");
		E->indent--;
		emit(E, "}");
	}
	emit(E, "%s%s *restrict xr = xc + ih * %ld;", cimg ? "const " : "",
	     E->real, g->w);
}

/*
 * A stride-1 convolution as large as its input ("same" padding): tap
 * (ki, kj) of column q = oh W + ow reads x at q + d, d = (ki - pad) W +
 * kj - pad, so the tap's row of the im2col matrix is one shifted run of
 * x, [q0, q1), but for the rows oh < h0 or >= h1 outside the image and,
 * in the others, the columns ow < lo or >= hi (a run wraps there).
 */
static bool same_size(const Geom *g)
{
	return g->stride == 1 && g->oh == g->h && g->ow == g->w;
}

static void same_bounds(Emitter *E, const Geom *g)
{
	int p = g->pad;
	emit(E, "const long d = (ki - %d) * %ld + kj - %d;", p, g->w, p);
	emit(E, "long h0 = ki < %d ? %d - ki : 0, h1 = %ld - ki;", p, p,
	     g->h + p);
	emit(E, "long lo = kj < %d ? %d - kj : 0, hi = %ld - kj;", p, p,
	     g->w + p);
	emit(E, "h0 = h0 > %ld ? %ld : h0;", g->h, g->h);
	emit(E, "h1 = h1 > %ld ? %ld : h1 < h0 ? h0 : h1;", g->h, g->h);
	emit(E, "lo = lo > %ld ? %ld : lo;", g->w, g->w);
	emit(E, "hi = hi > %ld ? %ld : hi < lo ? lo : hi;", g->w, g->w);
	emit(E, "const long q0 = h0 * %ld + lo, q1 = (h1 - 1) * %ld + hi;",
	     g->w, g->w);
}

/* zeroes the entries of rows [h0, h1) of r whose window column is out */
static void same_zero_columns(Emitter *E, const Geom *g)
{
	emit(E, "for (long oh = h0; oh < h1; oh++) {");
	emit(E, "\tfor (long ow = 0; ow < lo; ow++) {");
	emit(E, "\t\tr[oh * %ld + ow] = 0;", g->w);
	emit(E, "\t}");
	emit(E, "\tfor (long ow = hi; ow < %ld; ow++) {", g->w);
	emit(E, "\t\tr[oh * %ld + ow] = 0;", g->w);
	emit(E, "\t}");
	emit(E, "}");
}

/*
 * A loop over q in [q0, q1) running `block` (over q + u) in blocks of 8,
 * which the compiler vectorizes at -O2 (a fixed trip count), and `tail`
 * (over q) for the rest. (A memcpy of the run was inlined by gcc 12 as
 * rep movsq, slow on these short, unaligned runs.)
 */
static void run_loop(Emitter *E, const char *block, const char *tail)
{
	emit(E, "long q = q0;");
	emit(E, "for (; q + 8 <= q1; q += 8) {");
	emit(E, "\tfor (long u = 0; u < 8; u++) {");
	emit(E, "\t\t%s;", block);
	emit(E, "\t}");
	emit(E, "}");
	emit(E, "for (; q < q1; q++) {");
	emit(E, "\t%s;", tail);
	emit(E, "}");
}

/*
 * s0 = im2col of the sample at xb. The loop over kj is unrolled here, so
 * that [lo, hi), the output columns whose window column ow s - pad + kj
 * is inside the image, are literals: a row of the matrix is a memcpy of
 * a fixed size (inlined as a few vector moves) between fixed zero runs.
 */
static void im2col(Emitter *E, const Geom *g)
{
	int p = g->pad, s = g->stride;
	open_for(E, "ci", g->c);
	emit(E, "const %s *restrict xc = xb + ci * %ld;", E->real, g->h * g->w);
	open_for(E, "ki", g->k);
	for (int kj = 0; kj < g->k; kj++) {
		long lo = kj >= p ? 0 : (p - kj + s - 1) / s;
		long hi = g->w + p - kj <= 0 ? 0 : (g->w + p - kj + s - 1) / s;
		lo = lo < g->ow ? lo : g->ow;
		hi = hi < g->ow ? hi : g->ow;
		hi = hi > lo ? hi : lo;
		emit(E, "{\t/* kj = %d: columns [%ld, %ld) inside */", kj, lo, hi);
		E->indent++;
		emit(E, "%s *restrict r = s0 + ((ci * %d + ki) * %d + %d) * %ld;",
		     E->real, g->k, g->k, kj, g->oh * g->ow);
		open_for(E, "oh", g->oh);
		emit(E, "%s *restrict row = r + oh * %ld;", E->real, g->ow);
		emit(E, "const long ih = oh * %d - %d + ki;", s, p);
		if (p) {
			emit(E, "if (ih < 0 || ih >= %ld) {", g->h);
			emit(E, "\tmemset(row, 0, %ld * sizeof(%s));", g->ow,
			     E->real);
			emit(E, "\tcontinue;");
			emit(E, "}");
		}
		emit(E, "const %s *restrict xr = xc + ih * %ld;", E->real, g->w);
		if (lo > 0)
			emit(E, "memset(row, 0, %ld * sizeof(%s));", lo, E->real);
		if (hi > lo && s == 1) {
			emit(E, "memcpy(row + %ld, xr + %ld, %ld * sizeof(%s));", lo,
			     lo + kj - p, hi - lo, E->real);
		} else if (hi > lo) {
			emit(E, "for (long ow = %ld; ow < %ld; ow++) {", lo, hi);
			emit(E, "\trow[ow] = xr[ow * %d + %d];", s, kj - p);
			emit(E, "}");
		}
		if (hi < g->ow)
			emit(E, "memset(row + %ld, 0, %ld * sizeof(%s));", hi,
			     g->ow - hi, E->real);
		close_for(E, 2);
	}
	close_for(E, 2);
}

/*
 * The sample at xb = col2im of s0 (w^T @ dy_b): each element of x sums
 * the entries of the matrix that read it. When the centre tap (ki = kj =
 * pad) of a stride-1 convolution reads every element of x once (y as
 * large as x), it is stored first and the other taps add to it (as runs,
 * blocks of 8 the compiler vectorizes); else the sample is cleared first.
 */
static void col2im(Emitter *E, const Geom *g)
{
	long hw = g->h * g->w;
	bool same = same_size(g) && g->pad < g->k;
	if (!same) {
		emit(E, "memset(xb, 0, %ld * sizeof(%s));", g->c * hw, E->real);
		open_taps(E, g, "xb", false, false);
		tap_columns(E, g);
		open_rows(E, g, false, NULL);
		emit(E, "for (long ow = lo; ow < hi; ow++) {");
		emit(E, "\txr[ow * %d + kj - %d] += row[ow];", g->stride, g->pad);
		emit(E, "}");
		close_for(E, 4);
		return;
	}
	emit(E, "for (long ci = 0; ci < %ld; ci++) {", g->c);
	emit(E, "\tmemcpy(xb + ci * %ld, s0 + ((ci * %d + %d) * %d + %d) * %ld, "
	     "%ld * sizeof(%s));", hw, g->k, g->pad, g->k, g->pad, hw, hw,
	     E->real);
	emit(E, "}");
	open_taps(E, g, "xb", false, true);
	same_bounds(E, g);
	emit(E, "if (h0 >= h1 || lo >= hi) {");
	emit(E, "\tcontinue;");
	emit(E, "}");
	same_zero_columns(E, g);
	run_loop(E, "xc[q + u + d] += r[q + u]", "xc[q + d] += r[q]");
	close_for(E, 3);
}

static void open_samples(Emitter *E, const char *xb_decl)
{
	emit(E, "for (long b = 0; b < n; b++) {");
	E->indent++;
	emit(E, "%s", xb_decl);
}

/* y_b = w @ im2col(x_b): a0 x, a1 w, o0 y */
void emit_conv2d(Emitter *E, Kernel *k)
{
	Node *y = k->members[0];
	const Attr_conv *at = &y->attr.conv;
	Geom g = geom(y->in[0]->shape, y->shape, at->k, at->stride, at->pad);
	long ckk = g.c * g.k * g.k, p = g.oh * g.ow;
	open_samples(E, arena_printf(&E->arena,
		     "const %s *restrict xb = a0 + b * %ld;", E->real,
		     g.c * g.h * g.w));
	im2col(E, &g);
	emit(E, "%s(CblasRowMajor, CblasNoTrans, CblasNoTrans,", gemm(E));
	emit(E, "            %ld, %ld, %ld,", g.f, p, ckk);
	emit(E, "            1, a1, %ld, s0, %ld, 0, o0 + b * %ld, %ld);", ckk,
	     p, g.f * p, p);
	close_for(E, 1);
}

/* dx_b = col2im(w^T @ dy_b): a0 dy, a1 w, o0 dx */
void emit_conv2d_dx(Emitter *E, Kernel *k)
{
	Node *dx = k->members[0];
	const Attr_conv *at = &dx->attr.conv;
	Geom g = geom(dx->shape, dx->in[0]->shape, at->k, at->stride, at->pad);
	long ckk = g.c * g.k * g.k, p = g.oh * g.ow;
	open_samples(E, arena_printf(&E->arena,
		     "%s *restrict xb = o0 + b * %ld;", E->real, g.c * g.h * g.w));
	emit(E, "%s(CblasRowMajor, CblasTrans, CblasNoTrans,", gemm(E));
	emit(E, "            %ld, %ld, %ld,", ckk, p, g.f);
	emit(E, "            1, a1, %ld, a0 + b * %ld, %ld, 0, s0, %ld);", ckk,
	     g.f * p, p, p);
	col2im(E, &g);
	close_for(E, 1);
}

/*
 * dw^T = sum_b im2col(x_b) @ dy_b^T, summed in the scratch (the first
 * sample storing: beta 0) and transposed into dw at the end: a0 x, a1 dy,
 * o0 dw. The GEMM as [C k k, P] @ [P, F] ran faster than dw = dy_b @
 * im2col(x_b)^T: 92 against 81 GFLOP/s for the Fashion CNN's second
 * convolution, 101 against 97 for its first. With many input channels
 * (C k k >= DW_NN_MIN) dy_b is first laid out as dy_b^T [P, F], so the
 * GEMM is NN: 103 GFLOP/s there, while for C k k = 9 the copy costs more
 * than the whole GEMM.
 */
#define DW_NN_MIN 64

void emit_conv2d_dw(Emitter *E, Kernel *k)
{
	Node *dw = k->members[0];
	const Attr_conv *at = &dw->attr.conv;
	Geom g = geom(dw->in[0]->shape, dw->in[1]->shape, at->k, at->stride,
		      at->pad);
	long ckk = g.c * g.k * g.k, p = g.oh * g.ow;
	bool nn = ckk >= DW_NN_MIN;
	emit(E, "%s *restrict dwt = s0 + %ld;\t/* dw^T [C k k, F] */", E->real,
	     ckk * p);
	if (nn)
		emit(E, "%s *restrict dyt = dwt + %ld;\t/* dy_b^T [P, F] */",
		     E->real, ckk * g.f);
	emit(E, "if (n == 0) {");
	emit(E, "\tmemset(dwt, 0, %ld * sizeof(%s));\t/* a sum over no sample */",
	     g.f * ckk, E->real);
	emit(E, "}");
	open_samples(E, arena_printf(&E->arena,
		     "const %s *restrict xb = a0 + b * %ld;", E->real,
		     g.c * g.h * g.w));
	im2col(E, &g);
	if (nn) {
		emit(E, "const %s *restrict dyb = a1 + b * %ld;", E->real, g.f * p);
		emit(E, "for (long q = 0; q < %ld; q++) {", p);
		emit(E, "\tfor (long f = 0; f < %ld; f++) {", g.f);
		emit(E, "\t\tdyt[q * %ld + f] = dyb[f * %ld + q];", g.f, p);
		emit(E, "\t}");
		emit(E, "}");
		emit(E, "%s(CblasRowMajor, CblasNoTrans, CblasNoTrans,", gemm(E));
		emit(E, "            %ld, %ld, %ld,", ckk, g.f, p);
		emit(E, "            1, s0, %ld, dyt, %ld, b ? 1 : 0, dwt, %ld);",
		     p, g.f, g.f);
	} else {
		emit(E, "%s(CblasRowMajor, CblasNoTrans, CblasTrans,", gemm(E));
		emit(E, "            %ld, %ld, %ld,", ckk, g.f, p);
		emit(E, "            1, s0, %ld, a1 + b * %ld, %ld, b ? 1 : 0, dwt, %ld);",
		     p, g.f * p, p, g.f);
	}
	close_for(E, 1);
	emit(E, "for (long f = 0; f < %ld; f++) {", g.f);
	emit(E, "\tfor (long r = 0; r < %ld; r++) {", ckk);
	emit(E, "\t\to0[f * %ld + r] = dwt[r * %ld + f];", ckk, g.f);
	emit(E, "\t}");
	emit(E, "}");
}

/* ---- pooling ------------------------------------------------------ */

/* One plane a window loop walks: the C pointer `name` to the plane of
 * (sample, channel) bc in the buffer `buf`, an input (x-sized) plane or
 * an output (y-sized) one, written or only read. */
typedef struct Plane {
	const char *name, *buf;
	bool input_sized, write;
} Plane;

/* Windows of at most this many positions are unrolled */
#define POOL_UNROLL 9

/* Opens the loop over the planes bc with pointers to each of p */
static void open_planes(Emitter *E, const Geom *g, const Plane *p, int n)
{
	emit(E, "for (long bc = 0; bc < (long)n * %ld; bc++) {", g->c);
	E->indent++;
	for (int i = 0; i < n; i++)
		emit(E, "%s%s *restrict %s = %s + bc * %ld;",
		     p[i].write ? "" : "const ", E->real, p[i].name, p[i].buf,
		     p[i].input_sized ? g->h * g->w : g->oh * g->ow);
}

/*
 * Opens the loops over every output position (oh, ow) of every (sample,
 * channel) plane bc, with a pointer to each of the given planes, and
 * `at`, the window's first input position. If `clear` names a plane, it
 * is set to 0 first (in cache, just before the windows add to it). The
 * caller closes 3 loops.
 */
static void open_windows(Emitter *E, const Geom *g, const Plane *p, int n,
			 const char *clear)
{
	open_planes(E, g, p, n);
	if (clear)
		emit(E, "memset(%s, 0, %ld * sizeof(%s));", clear, g->h * g->w,
		     E->real);
	open_for(E, "oh", g->oh);
	open_for(E, "ow", g->ow);
	emit(E, "const long at = oh * %ld + ow * %d;", g->stride * g->w,
	     g->stride);
}

/* Windows that tile x: each element of x in exactly one window */
static bool windows_tile(const Geom *g)
{
	return g->stride == g->k && g->oh * g->k == g->h &&
	       g->ow * g->k == g->w;
}

/* The offset from `at` of window position j (ki k + kj) */
static long window_off(const Geom *g, int j)
{
	return j / g->k * g->w + j % g->k;
}

/* PyTorch's rule over the window's positions j >= 1, starting from m =
 * x[at], mi = 0 (the loop for large windows, and for a NaN) */
static void window_max_rule(Emitter *E, const Geom *g, const char *x,
			    bool index)
{
	emit(E, "for (long j = 1; j < %d; j++) {", g->k * g->k);
	emit(E, "\tconst %s v = %s[at + j / %d * %ld + j %% %d];", E->real, x,
	     g->k, g->w, g->k);
	emit(E, "\tif (v > m || isnan(v)) {");
	emit(E, "\t\tm = v;");
	if (index)
		emit(E, "\t\tmi = j;");
	emit(E, "\t}");
	emit(E, "}");
}

/*
 * m: the window's maximum; with the index, mi: the position (ki k + kj)
 * of its first maximum. A NaN wins over any number and a later NaN over
 * an earlier one, as in PyTorch's `val > max || isnan(val)`. Small
 * windows are unrolled: without a NaN in the window (a branch that is
 * always predicted) the maximum is a chain of `v > m ? v : m` (maxss),
 * and mi the count of leading positions that differ from it (n_j: all
 * of 0..j differ), no branch on the data; else the rule runs as written.
 */
static void window_max(Emitter *E, const Geom *g, const char *x, bool index)
{
	int kk = g->k * g->k;
	emit(E, "%s m = %s[at];", E->real, x);
	if (index)
		emit(E, "long mi = 0;");
	if (kk > POOL_UNROLL) {
		window_max_rule(E, g, x, index);
		return;
	}
	if (kk == 1)
		return;
	char cond[256] = "";
	size_t len = 0;
	for (int j = 1; j < kk; j++) {
		emit(E, "const %s v%d = %s[at + %ld];", E->real, j, x,
		     window_off(g, j));
		len += snprintf(cond + len, sizeof(cond) - len, "%sisnan(v%d)",
				j > 1 ? " | " : "", j);
	}
	/* the forward needs no test of m: a NaN there stays in the chain */
	emit(E, "if (%s%s) {", index ? "isnan(m) | " : "", cond);
	E->indent++;
	window_max_rule(E, g, x, index);
	E->indent--;
	emit(E, "} else {");
	E->indent++;
	for (int j = 1; j < kk; j++)
		emit(E, "m = v%d > m ? v%d : m;", j, j);
	if (index) {
		emit(E, "int nd = %s[at] != m;", x);
		emit(E, "mi = nd;");
		for (int j = 1; j < kk - 1; j++) {
			emit(E, "nd &= v%d != m;", j);
			emit(E, "mi += nd;");
		}
	}
	E->indent--;
	emit(E, "}");
}

/* Gives each position of the window the C expression `val`, stored
 * (the windows tile x) or added */
static void window_each(Emitter *E, const Geom *g, const char *dst,
			const char *val, bool store)
{
	const char *op = store ? "=" : "+=";
	if (g->k * g->k <= POOL_UNROLL) {
		for (int j = 0; j < g->k * g->k; j++)
			emit(E, "%s[at + %ld] %s %s;", dst, window_off(g, j), op,
			     val);
		return;
	}
	open_for(E, "ki", g->k);
	open_for(E, "kj", g->k);
	emit(E, "%s[at + ki * %ld + kj] %s %s;", dst, g->w, op, val);
	close_for(E, 2);
}

static Geom pool_geom(Shape x, Shape y, const Attr_pool *at)
{
	return geom(x, y, at->size, at->stride, 0);
}

/*
 * The fast path of maxpool and maxpool_dx, for small windows: the output
 * rows of a plane in blocks of 4 windows (a loop of fixed trip count that
 * gcc vectorizes at -O2, interleaved loads and all; with fewer than 4 a
 * plain loop), `body` emitting one window at column ow (the row's window start xr +
 * ow s). The maximum is a chain of `v > m ? v : m`, PyTorch's rule when
 * the window holds no NaN; `nan` records one (the forward needs no test
 * of the first position: a NaN there stays in the chain), and the caller
 * then redoes the plane with the rule as written. Closes nothing; the
 * caller is inside the plane loop and tests `nan` after.
 */
static void window_rows(Emitter *E, const Geom *g, bool dx,
			void (*body)(Emitter *E, const Geom *g))
{
	long ow4 = g->ow / 4 * 4;
	emit(E, "int nan = 0;\t/* a NaN in a window: redone below */");
	open_for(E, "oh", g->oh);
	emit(E, "const %s *restrict xr = xp + oh * %ld;", E->real,
	     g->stride * g->w);
	if (dx) {
		emit(E, "const %s *restrict dyr = dyp + oh * %ld;", E->real,
		     g->ow);
		emit(E, "%s *restrict dr = dxp + oh * %ld;", E->real,
		     g->stride * g->w);
	} else {
		emit(E, "%s *restrict yr = yp + oh * %ld;", E->real, g->ow);
	}
	if (ow4) {
		/* the last block ends at the row's end: it may redo windows
		 * of the one before, storing the same values again */
		emit(E, "for (long o = 0; o < %ld; o += 4) {", g->ow);
		E->indent++;
		if (ow4 < g->ow)
			emit(E, "const long o4 = o < %ld ? o : %ld;", g->ow - 4,
			     g->ow - 4);
		else
			emit(E, "const long o4 = o;");
		emit(E, "for (long u = 0; u < 4; u++) {");
		E->indent++;
		emit(E, "const long ow = o4 + u;");
		body(E, g);
		close_for(E, 2);
	} else {
		open_for(E, "ow", g->ow);
		body(E, g);
		close_for(E, 1);
	}
	close_for(E, 1);
}

/* the window's values v0 .. and their maximum m, NaNs noted */
static void window_chain(Emitter *E, const Geom *g, bool test_first)
{
	int kk = g->k * g->k;
	char cond[256] = "";
	size_t len = 0;
	emit(E, "const long at = ow * %d;", g->stride);
	for (int j = 0; j < kk; j++) {
		emit(E, "const %s v%d = xr[at + %ld];", E->real, j,
		     window_off(g, j));
		if (j || test_first)
			len += snprintf(cond + len, sizeof(cond) - len,
					"%s(v%d != v%d)", len ? " | " : "", j, j);
	}
	emit(E, "nan |= %s;", cond);
	emit(E, "%s m = v0;", E->real);
	for (int j = 1; j < kk; j++)
		emit(E, "m = v%d > m ? v%d : m;", j, j);
}

static void max_body(Emitter *E, const Geom *g)
{
	window_chain(E, g, false);
	emit(E, "yr[ow] = m;");
}

/*
 * n_j: every position 0..j differs from the maximum, so the first
 * maximum is at j when n_(j-1) and not n_j: dy goes there, 0 elsewhere,
 * as selects.
 */
static void max_dx_body(Emitter *E, const Geom *g)
{
	int kk = g->k * g->k;
	window_chain(E, g, true);
	emit(E, "const int n0 = v0 != m;");
	for (int j = 1; j < kk - 1; j++)
		emit(E, "const int n%d = n%d & (v%d != m);", j, j - 1, j);
	emit(E, "const %s d = dyr[ow];", E->real);
	emit(E, "dr[at] = n0 ? 0 : d;");
	for (int j = 1; j < kk - 1; j++)
		emit(E, "dr[at + %ld] = (n%d & !n%d) ? d : 0;", window_off(g, j),
		     j - 1, j);
	emit(E, "dr[at + %ld] = n%d ? d : 0;", window_off(g, kk - 1), kk - 2);
}

static bool fast_windows(const Geom *g)
{
	return g->k >= 2 && g->k * g->k <= POOL_UNROLL;
}


/* Opens the loops over the windows (oh, ow) of the current plane, `at`
 * the window's first input position; the caller closes 2. */
static void open_plane_windows(Emitter *E, const Geom *g)
{
	open_for(E, "oh", g->oh);
	open_for(E, "ow", g->ow);
	emit(E, "const long at = oh * %ld + ow * %d;", g->stride * g->w,
	     g->stride);
}

/* y = the maximum of each window: a0 x, o0 y */
void emit_maxpool(Emitter *E, Kernel *k)
{
	Node *y = k->members[0];
	Geom g = pool_geom(y->in[0]->shape, y->shape, &y->attr.pool);
	const Plane p[] = {{"xp", "a0", true, false}, {"yp", "o0", false, true}};
	bool fast = fast_windows(&g);
	open_planes(E, &g, p, 2);
	if (fast) {
		window_rows(E, &g, false, max_body);
		emit(E, "if (nan) {");
		E->indent++;
	}
	open_plane_windows(E, &g);
	window_max(E, &g, "xp", false);
	emit(E, "yp[oh * %ld + ow] = m;", g.ow);
	close_for(E, 2);
	close_for(E, fast ? 2 : 1);
}

/*
 * dx: each window's dy to its first maximum in x: a0 x, a1 dy, o0 dx.
 * Tiling windows store 0 at each position, then dy at the maximum (small
 * ones as selects, see max_dx_body); others add dy at the maximum of a
 * cleared plane (overlapping windows may pick one position twice).
 */
void emit_maxpool_dx(Emitter *E, Kernel *k)
{
	Node *dx = k->members[0];
	Geom g = pool_geom(dx->shape, dx->in[1]->shape, &dx->attr.pool);
	const Plane p[] = {{"xp", "a0", true, false}, {"dyp", "a1", false, false},
			   {"dxp", "o0", true, true}};
	bool tile = windows_tile(&g), fast = tile && fast_windows(&g);
	open_planes(E, &g, p, 3);
	if (fast) {
		window_rows(E, &g, true, max_dx_body);
		emit(E, "if (nan) {");
		E->indent++;
	} else if (!tile) {
		emit(E, "memset(dxp, 0, %ld * sizeof(%s));", g.h * g.w, E->real);
	}
	open_plane_windows(E, &g);
	window_max(E, &g, "xp", true);
	emit(E, "const %s d = dyp[oh * %ld + ow];", E->real, g.ow);
	if (tile)
		window_each(E, &g, "dxp", "0", true);
	emit(E, "dxp[at + mi / %d * %ld + mi %% %d] %s d;", g.k, g.w, g.k,
	     tile ? "=" : "+=");
	close_for(E, 2);
	close_for(E, fast ? 2 : 1);
}

/* y = the mean of each window: a0 x, o0 y */
void emit_avgpool(Emitter *E, Kernel *k)
{
	Node *y = k->members[0];
	Geom g = pool_geom(y->in[0]->shape, y->shape, &y->attr.pool);
	const Plane p[] = {{"xp", "a0", true, false}, {"yp", "o0", false, true}};
	open_windows(E, &g, p, 2, NULL);
	emit(E, "%s s = 0;", E->real);
	open_for(E, "ki", g.k);
	open_for(E, "kj", g.k);
	emit(E, "s += xp[at + ki * %ld + kj];", g.w);
	close_for(E, 2);
	emit(E, "yp[oh * %ld + ow] = s / %s;", g.ow,
	     emit_lit(E, (double)g.k * g.k));
	close_for(E, 3);
}

/* dx: each window's dy / size^2 to each of its positions: a0 dy, o0 dx
 * (stored when the windows tile x, else added to a cleared plane) */
void emit_avgpool_dx(Emitter *E, Kernel *k)
{
	Node *dx = k->members[0];
	Geom g = pool_geom(dx->shape, dx->in[0]->shape, &dx->attr.pool);
	const Plane p[] = {{"xp", "o0", true, true}, {"yp", "a0", false, false}};
	bool tile = windows_tile(&g);
	open_windows(E, &g, p, 2, tile ? NULL : "xp");
	emit(E, "const %s d = yp[oh * %ld + ow] / %s;", E->real, g.ow,
	     emit_lit(E, (double)g.k * g.k));
	window_each(E, &g, "xp", "d", tile);
	close_for(E, 3);
}

/*
 * emit_conv.c - the kernels of convolution and pooling (ops.def names
 * them), shape-specialized: every size is a literal.
 *
 * Layouts are PyTorch's: x [B, C, H, W], w [F, C, k, k] (read as the
 * matrix [F, C k k]), y [B, F, OH, OW]. A convolution is a GEMM over the
 * im2col matrix (rows c k k + ki k + kj, one column per output position;
 * zero where the window hangs over the padding). The batch is folded into
 * the GEMMs by chunks of nb samples (ops_conv_chunk: a chunk's matrices
 * stay in cache), in the kernel's scratch s0 (plan.c reserves it):
 *
 *   col  = [col(x_b0) .. col(x_b0+nb-1)]          [C k k, nb P]
 *   dyt  = [dy_b0 .. dy_b0+nb-1]                  [F, nb P]
 *   y    = w @ col, then laid out as [nb, F, P]   [F, nb P] = [F, Ckk] [Ckk, nb P]
 *   dx   = col2im(w^T @ dyt)                      per sample into x's shape
 *   dw  += dyt @ col^T                            beta 0 for the first chunk
 *
 * im2col copies contiguous runs of a row of x (memcpy at stride 1): the
 * range of output columns whose window column is inside the image is
 * worked out once per kernel column, so no element is bounds-checked.
 *
 * Pooling takes windows of size x size with a stride, floor mode, no
 * padding (PyTorch's defaults). maxpool's gradient recomputes each
 * window's maximum from x instead of storing indices: the first position
 * holding the maximum (a later NaN wins), as PyTorch picks. Windows that
 * do not overlap and tile x write every element of dx once (no zeroing
 * pass); others clear each plane in cache and accumulate.
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
 * Opens the chunk loop of a convolution kernel: b0 its first sample, nb
 * its samples, ld = nb P the row length of its matrices. Returns the
 * chunk size; the caller closes one loop.
 */
static long open_chunks(Emitter *E, const Geom *g)
{
	long p = g->oh * g->ow;
	long nb = ops_conv_chunk((g->c * g->k * g->k + g->f) * p);
	emit(E, "for (long b0 = 0; b0 < n; b0 += %ld) {", nb);
	E->indent++;
	emit(E, "const long nb = n - b0 < %ld ? n - b0 : %ld;", nb, nb);
	emit(E, "const long ld = nb * %ld;", p);
	return nb;
}

/*
 * Opens the loops over the rows (ci, ki, kj) of an im2col matrix whose
 * sample starts at column `base` of rows ld long, and over the output
 * rows oh whose window row ih is inside the image: `r` points at the
 * row's run of OW columns, `xr` at image row ih of channel ci of `img`
 * (x's element (ci, ih, ow s - pad + kj) is xr[ow * s + kj - pad]), and
 * output columns [lo, hi) are the ones whose window column is inside.
 * Rows of the padding run `pad_rows` (may be NULL) first. The caller
 * closes 4 loops.
 */
static void open_taps(Emitter *E, const Geom *g, const char *base,
		      const char *img, bool cimg, const char *pad_rows,
		      bool skip_centre)
{
	open_for(E, "ci", g->c);
	emit(E, "%s%s *restrict xc = %s + ci * %ld;", cimg ? "const " : "",
	     E->real, img, g->h * g->w);
	open_for(E, "ki", g->k);
	open_for(E, "kj", g->k);
	if (skip_centre) {
		emit(E, "if (ki == %d && kj == %d) {", g->pad, g->pad);
		emit(E, "\tcontinue;\t/* the centre tap, stored above */");
		emit(E, "}");
	}
	emit(E, "%s *restrict rows = %s + ((ci * %d + ki) * %d + kj) * ld;",
	     E->real, base, g->k, g->k);
	if (g->pad) {
		/* lo: first ow with ow s - pad + kj >= 0; hi: first past w */
		emit(E, "long lo = kj >= %d ? 0 : (%d - kj) / %d;", g->pad,
		     g->pad + g->stride - 1, g->stride);
		emit(E, "long hi = (%ld - kj) / %d;",
		     g->w + g->pad + g->stride - 1, g->stride);
		emit(E, "lo = lo > %ld ? %ld : lo;", g->ow, g->ow);
		emit(E, "hi = hi > %ld ? %ld : hi < lo ? lo : hi;", g->ow, g->ow);
	} else {
		emit(E, "const long lo = 0;\t/* no padding */");
		emit(E, "const long hi = %ld;", g->ow);
	}
	open_for(E, "oh", g->oh);
	emit(E, "%s *restrict r = rows + oh * %ld;", E->real, g->ow);
	emit(E, "const long ih = oh * %d - %d + ki;", g->stride, g->pad);
	if (g->pad) {
		emit(E, "if (ih < 0 || ih >= %ld) {", g->h);
		E->indent++;
		if (pad_rows)
			emit(E, "%s", pad_rows);
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
 * x, [q0, q1), with the window columns outside the image (ow < lo, ow >=
 * hi) of the rows h0 <= oh < h1 inside it to fix, and the rows outside.
 * Opens the loops over ci, ki, kj; the caller closes 3.
 */
static bool same_size(const Geom *g)
{
	return g->stride == 1 && g->oh == g->h && g->ow == g->w;
}

static void open_same_taps(Emitter *E, const Geom *g, const char *base,
			   const char *img, bool cimg, bool skip_centre)
{
	int p = g->pad;
	open_for(E, "ci", g->c);
	emit(E, "%s%s *restrict xc = %s + ci * %ld;", cimg ? "const " : "",
	     E->real, img, g->h * g->w);
	open_for(E, "ki", g->k);
	open_for(E, "kj", g->k);
	if (skip_centre) {
		emit(E, "if (ki == %d && kj == %d) {", p, p);
		emit(E, "\tcontinue;\t/* the centre tap, stored above */");
		emit(E, "}");
	}
	emit(E, "%s *restrict r = %s + ((ci * %d + ki) * %d + kj) * ld;",
	     E->real, base, g->k, g->k);
	emit(E, "const long d = (ki - %d) * %ld + kj - %d;", p, g->w, p);
	emit(E, "long h0 = ki < %d ? %d - ki : 0, h1 = %ld + %d - ki;", p, p,
	     g->h, p);
	emit(E, "long lo = kj < %d ? %d - kj : 0, hi = %ld + %d - kj;", p, p,
	     g->w, p);
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

static void im2col_same(Emitter *E, const Geom *g, const char *base)
{
	open_same_taps(E, g, base, "xb", true, false);
	emit(E, "memset(r, 0, h0 * %ld * sizeof(%s));", g->w, E->real);
	emit(E, "memset(r + h1 * %ld, 0, (%ld - h1) * %ld * sizeof(%s));", g->w,
	     g->h, g->w, E->real);
	emit(E, "if (h0 < h1 && lo < hi) {");
	emit(E, "\tmemcpy(r + q0, xc + q0 + d, (q1 - q0) * sizeof(%s));",
	     E->real);
	emit(E, "}");
	same_zero_columns(E, g);
	close_for(E, 3);
}

/* dx += the shifted runs of every tap but the centre (stored before):
 * the entries of a run that wrap to the next row are zeroed first */
static void col2im_same(Emitter *E, const Geom *g, const char *base)
{
	open_same_taps(E, g, base, "xb", false, true);
	emit(E, "if (h0 >= h1 || lo >= hi) {");
	emit(E, "\tcontinue;");
	emit(E, "}");
	same_zero_columns(E, g);
	emit(E, "long q = q0;");
	emit(E, "for (; q + 8 <= q1; q += 8) {");
	emit(E, "\tfor (long u = 0; u < 8; u++) {");
	emit(E, "\t\txc[q + u + d] += r[q + u];");
	emit(E, "\t}");
	emit(E, "}");
	emit(E, "for (; q < q1; q++) {");
	emit(E, "\txc[q + d] += r[q];");
	emit(E, "}");
	close_for(E, 3);
}

/* im2col of the sample at xb into the columns at `base` of rows ld long */
static void im2col(Emitter *E, const Geom *g, const char *base)
{
	if (same_size(g)) {
		im2col_same(E, g, base);
		return;
	}
	char zero[128];
	snprintf(zero, sizeof(zero), "memset(r, 0, %ld * sizeof(%s));", g->ow,
		 E->real);
	open_taps(E, g, base, "xb", true, zero, false);
	if (g->pad) {
		emit(E, "for (long ow = 0; ow < lo; ow++) {");
		emit(E, "\tr[ow] = 0;");
		emit(E, "}");
	}
	if (g->stride == 1) {
		emit(E, "memcpy(r + lo, xr + lo + kj - %d, (hi - lo) * sizeof(%s));",
		     g->pad, E->real);
	} else {
		emit(E, "for (long ow = lo; ow < hi; ow++) {");
		emit(E, "\tr[ow] = xr[ow * %d + kj - %d];", g->stride, g->pad);
		emit(E, "}");
	}
	if (g->pad) {
		emit(E, "for (long ow = hi; ow < %ld; ow++) {", g->ow);
		emit(E, "\tr[ow] = 0;");
		emit(E, "}");
	}
	close_for(E, 4);
}

/* im2col of every sample of the chunk into s0 ([C k k, ld]); a0 is x */
static void im2col_chunk(Emitter *E, const Geom *g)
{
	emit(E, "for (long bi = 0; bi < nb; bi++) {");
	E->indent++;
	emit(E, "const %s *restrict xb = a0 + (b0 + bi) * %ld;", E->real,
	     g->c * g->h * g->w);
	im2col(E, g, arena_printf(&E->arena, "s0 + bi * %ld", g->oh * g->ow));
	E->indent--;
	emit(E, "}");
}

/*
 * Copies between the chunk's [nb, F, P] slice of the NCHW buffer `nchw`
 * and the [F, ld] matrix `mat` (to the matrix if to_mat).
 */
static void relayout(Emitter *E, const Geom *g, const char *nchw,
		     const char *mat, bool to_mat)
{
	long p = g->oh * g->ow;
	const char *a = arena_printf(&E->arena, "%s + ((b0 + bi) * %ld + f) * %ld",
				     nchw, g->f, p);
	const char *b = arena_printf(&E->arena, "%s + f * ld + bi * %ld", mat, p);
	emit(E, "for (long bi = 0; bi < nb; bi++) {");
	emit(E, "\tfor (long f = 0; f < %ld; f++) {", g->f);
	emit(E, "\t\tmemcpy(%s, %s, %ld * sizeof(%s));", to_mat ? b : a,
	     to_mat ? a : b, p, E->real);
	emit(E, "\t}");
	emit(E, "}");
}

/* y = w @ col(x), chunk by chunk: a0 x, a1 w, o0 y */
void emit_conv2d(Emitter *E, Kernel *k)
{
	Node *y = k->members[0];
	const Attr_conv *at = &y->attr.conv;
	Geom g = geom(y->in[0]->shape, y->shape, at->k, at->stride, at->pad);
	long ckk = g.c * g.k * g.k;
	open_chunks(E, &g);
	emit(E, "%s *restrict yc = s0 + %ld * ld;\t/* [F, ld] */", E->real, ckk);
	im2col_chunk(E, &g);
	emit(E, "%s(CblasRowMajor, CblasNoTrans, CblasNoTrans,", gemm(E));
	emit(E, "            %ld, ld, %ld,", g.f, ckk);
	emit(E, "            1, a1, %ld, s0, ld, 0, yc, ld);", ckk);
	relayout(E, &g, "o0", "yc", false);
	close_for(E, 1);
}

/*
 * dx of one sample = col2im of its columns of s0 (the chunk's w^T @ dy):
 * each element of x sums the entries of the matrix that read it. When
 * the centre tap (ki = kj = pad) of a stride-1 convolution reads every
 * element of x once (y as large as x), it is stored first and the other
 * taps add to it; else the sample is cleared in cache first.
 */
static void col2im(Emitter *E, const Geom *g, const char *base)
{
	bool centre = g->stride == 1 && g->pad < g->k && g->oh == g->h &&
		      g->ow == g->w;
	long hw = g->h * g->w;
	if (centre) {
		/* the centre tap of channel ci is row (ci k + pad) k + pad,
		 * and its column (oh, ow) reads x at (oh, ow) */
		emit(E, "for (long ci = 0; ci < %ld; ci++) {", g->c);
		emit(E, "\tmemcpy(xb + ci * %ld, %s + ((ci * %d + %d) * %d + %d) * ld, "
		     "%ld * sizeof(%s));", hw, base, g->k, g->pad, g->k, g->pad,
		     hw, E->real);
		emit(E, "}");
	} else {
		emit(E, "memset(xb, 0, %ld * sizeof(%s));", g->c * hw, E->real);
	}
	if (centre && same_size(g)) {
		col2im_same(E, g, base);
		return;
	}
	open_taps(E, g, base, "xb", false, NULL, centre);
	emit(E, "for (long ow = lo; ow < hi; ow++) {");
	emit(E, "\txr[ow * %d + kj - %d] += r[ow];", g->stride, g->pad);
	emit(E, "}");
	close_for(E, 4);
}
/* dx = col2im(w^T @ dy), chunk by chunk: a0 dy, a1 w, o0 dx */
void emit_conv2d_dx(Emitter *E, Kernel *k)
{
	Node *dx = k->members[0];
	const Attr_conv *at = &dx->attr.conv;
	Geom g = geom(dx->shape, dx->in[0]->shape, at->k, at->stride, at->pad);
	long ckk = g.c * g.k * g.k;
	open_chunks(E, &g);
	emit(E, "%s *restrict dcol = s0 + %ld * ld;\t/* [C k k, ld] */", E->real,
	     g.f);
	relayout(E, &g, "a0", "s0", true);
	emit(E, "%s(CblasRowMajor, CblasTrans, CblasNoTrans,", gemm(E));
	emit(E, "            %ld, ld, %ld,", ckk, g.f);
	emit(E, "            1, a1, %ld, s0, ld, 0, dcol, ld);", ckk);
	emit(E, "for (long bi = 0; bi < nb; bi++) {");
	E->indent++;
	emit(E, "%s *restrict xb = o0 + (b0 + bi) * %ld;", E->real,
	     g.c * g.h * g.w);
	col2im(E, &g, arena_printf(&E->arena, "dcol + bi * %ld", g.oh * g.ow));
	close_for(E, 2);
}

/* dw = sum over the chunks of dy @ col(x)^T: a0 x, a1 dy, o0 dw */
void emit_conv2d_dw(Emitter *E, Kernel *k)
{
	Node *dw = k->members[0];
	const Attr_conv *at = &dw->attr.conv;
	Geom g = geom(dw->in[0]->shape, dw->in[1]->shape, at->k, at->stride,
		      at->pad);
	long ckk = g.c * g.k * g.k;
	open_chunks(E, &g);
	emit(E, "%s *restrict dyt = s0 + %ld * ld;\t/* [F, ld] */", E->real, ckk);
	im2col_chunk(E, &g);
	relayout(E, &g, "a1", "dyt", true);
	emit(E, "%s(CblasRowMajor, CblasNoTrans, CblasTrans,", gemm(E));
	emit(E, "            %ld, %ld, ld,", g.f, ckk);
	emit(E, "            1, dyt, ld, s0, ld, b0 ? 1 : 0, o0, %ld);", ckk);
	close_for(E, 1);
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
	emit(E, "for (long bc = 0; bc < (long)n * %ld; bc++) {", g->c);
	E->indent++;
	for (int i = 0; i < n; i++)
		emit(E, "%s%s *restrict %s = %s + bc * %ld;",
		     p[i].write ? "" : "const ", E->real, p[i].name, p[i].buf,
		     p[i].input_sized ? g->h * g->w : g->oh * g->ow);
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

/*
 * m: the window's maximum; with the index, mi: the position (ki k + kj)
 * of its first maximum. A NaN wins over any number and a later NaN over
 * an earlier one, as in PyTorch's `val > max || isnan(val)`. Small
 * windows are unrolled: without a NaN after the first position (a branch
 * that is always predicted) `v > m ? v : m` is PyTorch's rule and
 * compiles to selects (maxss); else the rule runs as written.
 */
static void window_max(Emitter *E, const Geom *g, const char *x, bool index)
{
	int kk = g->k * g->k;
	emit(E, "%s m = %s[at];", E->real, x);
	if (index)
		emit(E, "long mi = 0;");
	if (kk > POOL_UNROLL) {
		open_for(E, "ki", g->k);
		open_for(E, "kj", g->k);
		emit(E, "const %s v = %s[at + ki * %ld + kj];", E->real, x, g->w);
		emit(E, "if (v > m || isnan(v)) {");
		emit(E, "\tm = v;");
		if (index)
			emit(E, "\tmi = ki * %d + kj;", g->k);
		emit(E, "}");
		close_for(E, 2);
		return;
	}
	char cond[256] = "";
	size_t len = 0;
	for (int j = 1; j < kk; j++) {
		emit(E, "const %s v%d = %s[at + %ld];", E->real, j, x,
		     window_off(g, j));
		len += snprintf(cond + len, sizeof(cond) - len, "%sisnan(v%d)",
				j > 1 ? " | " : "", j);
	}
	if (kk == 1)
		return;
	emit(E, "if (%s) {", cond);
	E->indent++;
	emit(E, "for (long j = 1; j < %d; j++) {", kk);
	emit(E, "\tconst %s v = %s[at + j / %d * %ld + j %% %d];", E->real, x,
	     g->k, g->w, g->k);
	emit(E, "\tif (v > m || isnan(v)) {");
	emit(E, "\t\tm = v;");
	if (index)
		emit(E, "\t\tmi = j;");
	emit(E, "\t}");
	emit(E, "}");
	E->indent--;
	emit(E, "} else {");
	E->indent++;
	for (int j = 1; j < kk; j++) {
		if (index)
			emit(E, "mi = v%d > m ? %d : mi;", j, j);
		emit(E, "m = v%d > m ? v%d : m;", j, j);
	}
	E->indent--;
	emit(E, "}");
}

/*
 * Gives each position of the window the C expression `val` (over the
 * position j, a C expression), stored (the windows tile x) or added.
 */
static void window_each(Emitter *E, const Geom *g, const char *dst,
			const char *val, bool store)
{
	const char *op = store ? "=" : "+=";
	if (g->k * g->k <= POOL_UNROLL) {
		for (int j = 0; j < g->k * g->k; j++) {
			char jv[16];
			snprintf(jv, sizeof(jv), "%d", j);
			emit(E, "%s[at + %ld] %s %s;", dst, window_off(g, j), op,
			     arena_printf(&E->arena, val, jv, jv));
		}
		return;
	}
	open_for(E, "ki", g->k);
	open_for(E, "kj", g->k);
	const char *jv = arena_printf(&E->arena, "ki * %d + kj", g->k);
	emit(E, "%s[at + ki * %ld + kj] %s %s;", dst, g->w, op,
	     arena_printf(&E->arena, val, jv, jv));
	close_for(E, 2);
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
	open_windows(E, &g, p, 2, NULL);
	window_max(E, &g, "xp", false);
	emit(E, "yp[oh * %ld + ow] = m;", g.ow);
	close_for(E, 3);
}

/*
 * dx: each window's dy to its first maximum in x: a0 x, a1 dy, o0 dx.
 * Tiling windows store dy or 0 at each position; others add dy at the
 * maximum of a cleared plane (overlapping windows may pick one twice).
 */
void emit_maxpool_dx(Emitter *E, Kernel *k)
{
	Node *dx = k->members[0];
	Geom g = pool_geom(dx->shape, dx->in[1]->shape, &dx->attr.pool);
	const Plane p[] = {{"xp", "a0", true, false}, {"dyp", "a1", false, false},
			   {"dxp", "o0", true, true}};
	bool tile = windows_tile(&g);
	open_windows(E, &g, p, 3, tile ? NULL : "dxp");
	window_max(E, &g, "xp", true);
	emit(E, "const %s d = dyp[oh * %ld + ow];", E->real, g.ow);
	if (tile) {
		window_each(E, &g, "dxp", "(mi == %s ? d : 0)", true);
	} else {
		emit(E, "dxp[at + mi / %d * %ld + mi %% %d] += d;", g.k, g.w, g.k);
	}
	close_for(E, 3);
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

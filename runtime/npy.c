/*
 * npy.c - the `export` and `import` subcommands: tensors as NumPy .npy
 * files (format version 1.0; numpy.lib.format).
 *
 * export --checkpoint CKPT --npy DIR writes DIR/<tensor name>.npy for
 * every tensor ('<f4', or '<f8' from a double-precision trainer; C order,
 * the tensor's shape) and, when the model
 * normalises its inputs, DIR/normalize.shift.npy and
 * DIR/normalize.scale.npy ('<f8', [input_size]; x' = (x - shift) /
 * scale: shift is the mean or min, scale the std or max - min), and with
 * normalize_target DIR/normalize_target.{shift,scale}.npy ([target_size];
 * y' = (y - shift) / scale).
 *
 * import --npy DIR --checkpoint CKPT reads every tensor's file ('<f4' or
 * '<f8', shape exactly the tensor's) and writes CKPT atomically with the
 * optimizer state and step count reset. If CKPT exists, everything else
 * in it (epoch, seed, labels, normalisation) is kept; otherwise each
 * scaling comes from DIR/normalize*.npy if present, else it is fitted on
 * the training split of the data file as train would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define NPY_MAGIC "\x93NUMPY"
#define MAX_HEADER 65536

typedef struct NpyArray {
	int rank;
	int dims[NNRT_MAX_RANK];
	int f8;                   /* '<f8', else '<f4' */
	long size;
} NpyArray;

/* ---- writing ---- */

static void write_header(FILE *f, const NpyArray *a)
{
	char dict[256], shape[128];
	size_t len = 0, total, pad;
	int i;

	len += (size_t)snprintf(shape, sizeof shape, "(");
	for (i = 0; i < a->rank; i++)
		len += (size_t)snprintf(shape + len, sizeof shape - len,
					"%s%d", i ? ", " : "", a->dims[i]);
	snprintf(shape + len, sizeof shape - len, a->rank == 1 ? ",)" : ")");
	len = (size_t)snprintf(dict, sizeof dict, "{'descr': '%s', "
			       "'fortran_order': False, 'shape': %s, }",
			       a->f8 ? "<f8" : "<f4", shape);
	total = 10 + len + 1;
	pad = (64 - total % 64) % 64;
	fwrite(NPY_MAGIC "\x01\x00", 1, 8, f);
	fputc((int)((len + pad + 1) & 0xff), f);
	fputc((int)((len + pad + 1) >> 8), f);
	fwrite(dict, 1, len, f);
	for (i = 0; i < (int)pad; i++)
		fputc(' ', f);
	fputc('\n', f);
}

/* Writes v[0..size) as a's dtype to path, atomically. */
static void npy_write(Rt *rt, const char *path, const NpyArray *a,
		      const double *v)
{
	AtomicFile af;
	FILE *f = nnrt_base_create(rt, &af, path);
	long i;

	write_header(f, a);
	for (i = 0; i < a->size; i++) {
		unsigned char b[8];
		uint64_t u;
		uint32_t w;
		int k;
		if (a->f8) {
			memcpy(&u, &v[i], 8);
		} else {
			float x = (float)v[i];
			memcpy(&w, &x, 4);
			u = w;
		}
		for (k = 0; k < 8; k++)
			b[k] = (unsigned char)(u >> (8 * k));
		fwrite(b, 1, a->f8 ? 8 : 4, f);
	}
	nnrt_base_commit(rt, &af);
}

/* ---- reading ---- */

/* The value after 'key': in a header dict, or NULL. */
static const char *dict_value(const char *h, const char *key)
{
	char q1[32], q2[32];
	const char *p;

	snprintf(q1, sizeof q1, "'%s'", key);
	snprintf(q2, sizeof q2, "\"%s\"", key);
	p = strstr(h, q1);
	if (!p)
		p = strstr(h, q2);
	if (!p)
		return NULL;
	p += strlen(q1);
	while (*p == ' ')
		p++;
	if (*p++ != ':')
		return NULL;
	while (*p == ' ')
		p++;
	return p;
}

static int parse_shape(const char *p, NpyArray *a)
{
	char *end;

	if (!p || *p++ != '(')
		return 0;
	a->rank = 0;
	a->size = 1;
	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ')')
			return 1;
		if (a->rank == NNRT_MAX_RANK)
			return 0;
		long d = strtol(p, &end, 10);
		if (end == p || d < 0)
			return 0;
		a->dims[a->rank++] = (int)d;
		a->size *= d;
		p = end;
		while (*p == 'L')
			p++;
	}
}

static void parse_header(Rt *rt, const char *path, const char *h,
			 NpyArray *a)
{
	const char *descr = dict_value(h, "descr");
	const char *order = dict_value(h, "fortran_order");

	if (!descr || !order || !parse_shape(dict_value(h, "shape"), a))
		nnrt_base_die(rt, "%s: bad .npy header", path);
	if (strncmp(descr + 1, "<f4", 3) == 0)
		a->f8 = 0;
	else if (strncmp(descr + 1, "<f8", 3) == 0)
		a->f8 = 1;
	else
		nnrt_base_die(rt, "%s: dtype %.*s is not supported (expected "
			      "'<f4' or '<f8')", path,
			      (int)strcspn(descr, ","), descr);
	if (strncmp(order, "True", 4) == 0 && a->rank > 1)
		nnrt_base_die(rt, "%s: Fortran-order arrays are not supported",
			      path);
}

/* Reads the header of an open .npy file. */
static void read_header(Rt *rt, const char *path, FILE *f, NpyArray *a)
{
	unsigned char pre[12];
	size_t hlen, nlen;
	char *h;

	if (fread(pre, 1, 10, f) != 10 || memcmp(pre, NPY_MAGIC, 6) != 0)
		nnrt_base_die(rt, "%s: not a .npy file", path);
	if (pre[6] == 1) {
		hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
	} else if (pre[6] == 2 || pre[6] == 3) {
		if (fread(pre + 10, 1, 2, f) != 2)
			nnrt_base_die(rt, "%s: truncated .npy file", path);
		hlen = (size_t)pre[8] | (size_t)pre[9] << 8 |
		       (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
	} else {
		nnrt_base_die(rt, "%s: .npy format version %d is not supported",
			      path, pre[6]);
	}
	if (hlen > MAX_HEADER)
		nnrt_base_die(rt, "%s: bad .npy header", path);
	h = nnrt_base_alloc(rt, hlen + 1, 1);
	nlen = fread(h, 1, hlen, f);
	if (nlen != hlen)
		nnrt_base_die(rt, "%s: truncated .npy file", path);
	parse_header(rt, path, h, a);
	free(h);
}

/* Reads path into v[0..size), checking its shape against want. */
static void npy_read(Rt *rt, const char *path, const NpyArray *want,
		     const char *what, double *v)
{
	FILE *f = fopen(path, "rb");
	char got_s[64], want_s[64];
	NpyArray a;
	long i;

	if (!f)
		nnrt_base_die(rt, "cannot open '%s': %s", path,
			      strerror(errno));
	read_header(rt, path, f, &a);
	if (a.rank != want->rank ||
	    memcmp(a.dims, want->dims, (size_t)a.rank * sizeof(int)) != 0) {
		nnrt_base_shape(got_s, sizeof got_s, a.rank, a.dims);
		nnrt_base_shape(want_s, sizeof want_s, want->rank, want->dims);
		nnrt_base_die(rt, "%s: shape %s does not match %s %s", path,
			      got_s, what, want_s);
	}
	for (i = 0; i < a.size; i++) {
		unsigned char b[8];
		uint64_t u = 0;
		uint32_t w;
		float x;
		int k, n = a.f8 ? 8 : 4;
		if (fread(b, 1, (size_t)n, f) != (size_t)n)
			nnrt_base_die(rt, "%s: truncated .npy file (%ld of %ld "
				      "values)", path, i, a.size);
		for (k = n - 1; k >= 0; k--)
			u = u << 8 | b[k];
		if (a.f8) {
			memcpy(&v[i], &u, 8);
		} else {
			w = (uint32_t)u;
			memcpy(&x, &w, 4);
			v[i] = x;
		}
	}
	fclose(f);
}

/* ---- the subcommands ---- */

static char *tensor_path(const Rt *rt, const char *name)
{
	if (strchr(name, '/'))
		nnrt_base_die(rt, "tensor name '%s' cannot be a file name",
			      name);
	return nnrt_base_printf(rt, "%s/%s.npy", rt->opt.npy, name);
}

/* A tensor's file: '<f4' from a float trainer, '<f8' from a double one,
 * so an export loses nothing. */
static NpyArray tensor_array(const NnrtModel *m, const NnrtTensor *t)
{
	NpyArray a;

	memset(&a, 0, sizeof a);
	a.rank = t->rank;
	memcpy(a.dims, t->dims, sizeof a.dims);
	a.size = t->size;
	a.f8 = m->real_size == 8;
	return a;
}

/* A scaling's statistics as '<f8' [n]. */
static NpyArray norm_array(long n)
{
	NpyArray a;

	memset(&a, 0, sizeof a);
	a.rank = 1;
	a.dims[0] = (int)n;
	a.size = n;
	a.f8 = 1;
	return a;
}

/* DIR/PREFIX.shift.npy and DIR/PREFIX.scale.npy, if z scales. */
static void export_norm(Rt *rt, const Norm *z, const char *prefix)
{
	NpyArray na = norm_array(z->n);
	char *p;

	if (z->kind == NNRT_NORM_NONE || z->n == 0)
		return;
	p = nnrt_base_printf(rt, "%s/%s.shift.npy", rt->opt.npy, prefix);
	npy_write(rt, p, &na, z->shift);
	free(p);
	p = nnrt_base_printf(rt, "%s/%s.scale.npy", rt->opt.npy, prefix);
	npy_write(rt, p, &na, z->scale);
	free(p);
}

int nnrt_npy_export(Rt *rt)
{
	const NnrtModel *m = rt->m;
	double *v = nnrt_base_alloc(rt, (size_t)m->n_params, sizeof(double));
	int i;
	long k;

	nnrt_prep_buffers(rt);
	nnrt_ckpt_load(rt, nnrt_prep_ckpt_path(rt));
	nnrt_base_mkdirs(rt, rt->opt.npy);
	for (i = 0; i < m->n_tensors; i++) {
		const NnrtTensor *t = &m->tensors[i];
		NpyArray a = tensor_array(m, t);
		char *path = tensor_path(rt, t->name);
		for (k = 0; k < t->size; k++)
			v[k] = nnrt_base_get_real(rt, rt->params, t->offset + k);
		npy_write(rt, path, &a, v);
		free(path);
	}
	export_norm(rt, &rt->norm, "normalize");
	export_norm(rt, &rt->tnorm, "normalize_target");
	printf("export %s: %d tensors to %s\n", m->name, m->n_tensors,
	       rt->opt.npy);
	free(v);
	return 0;
}

/* Reads z's statistics (kind, n columns) from DIR/PREFIX.*.npy;
 * returns 0 if the files are not there. */
static int import_stats(Rt *rt, Norm *z, NnrtNorm kind, long n,
			const char *prefix)
{
	NpyArray na = norm_array(n);
	char *shift = nnrt_base_printf(rt, "%s/%s.shift.npy", rt->opt.npy,
				       prefix);
	char *scale = nnrt_base_printf(rt, "%s/%s.scale.npy", rt->opt.npy,
				       prefix);
	int have = nnrt_base_exists(shift) && nnrt_base_exists(scale);
	long j;

	if (have) {
		z->kind = kind;
		z->n = n;
		z->shift = nnrt_base_alloc(rt, (size_t)n, 8);
		z->scale = nnrt_base_alloc(rt, (size_t)n, 8);
		npy_read(rt, shift, &na, prefix, z->shift);
		npy_read(rt, scale, &na, prefix, z->scale);
		for (j = 0; j < n; j++)
			if (!(z->scale[j] > 0))
				nnrt_base_die(rt, "%s: scales must be > 0",
					      scale);
	}
	free(shift);
	free(scale);
	return have;
}

/* Whether a scaling of kind is wanted and DIR lacks its statistics. */
static int must_fit(const Rt *rt, NnrtNorm kind, const char *prefix)
{
	char *p = nnrt_base_printf(rt, "%s/%s.scale.npy", rt->opt.npy, prefix);
	int missing = kind != NNRT_NORM_NONE && !nnrt_base_exists(p);

	free(p);
	return missing;
}

/* Both scalings for a new checkpoint: each from DIR, else fitted on
 * the training split as train does (the drawn tensors go to scratch). */
static void import_norm(Rt *rt)
{
	const NnrtTrainConfig *t = &rt->m->train;

	if (must_fit(rt, t->normalize, "normalize") ||
	    must_fit(rt, t->normalize_target, "normalize_target"))
		nnrt_prep_data(rt, 1, NULL);
	if (t->normalize != NNRT_NORM_NONE)
		import_stats(rt, &rt->norm, t->normalize, rt->m->input_size,
			     "normalize");
	if (t->normalize_target != NNRT_NORM_NONE)
		import_stats(rt, &rt->tnorm, t->normalize_target,
			     rt->m->target_size, "normalize_target");
}

int nnrt_npy_import(Rt *rt)
{
	const NnrtModel *m = rt->m;
	const char *ckpt = nnrt_prep_ckpt_path(rt);
	double *v = nnrt_base_alloc(rt, (size_t)m->n_params, sizeof(double));
	char what[128];
	int i;
	long k;

	nnrt_prep_buffers(rt);
	rt->seed = rt->opt.has_seed ? rt->opt.seed : m->train.seed;
	rt->validation = m->train.validation;
	if (nnrt_base_exists(ckpt))
		nnrt_ckpt_load(rt, ckpt);
	else
		import_norm(rt);
	for (i = 0; i < m->n_tensors; i++) {
		const NnrtTensor *t = &m->tensors[i];
		NpyArray a = tensor_array(m, t);
		char *path = tensor_path(rt, t->name);
		snprintf(what, sizeof what, "tensor '%s'", t->name);
		npy_read(rt, path, &a, what, v);
		for (k = 0; k < t->size; k++)
			nnrt_base_set_real(rt, rt->params, t->offset + k, v[k]);
		free(path);
	}
	memset(rt->state, 0, (size_t)m->n_state * (size_t)m->real_size);
	memset(rt->sched, 0, (size_t)m->n_sched * sizeof(double));
	rt->step = 0;	/* a new run starts from these tensors */
	rt->epoch = 0;
	memset(&rt->es, 0, sizeof rt->es);
	nnrt_ckpt_save(rt, ckpt, NULL);
	printf("import %s: %d tensors from %s into %s\n", m->name,
	       m->n_tensors, rt->opt.npy, ckpt);
	free(v);
	return 0;
}

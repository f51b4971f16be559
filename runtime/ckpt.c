/*
 * ckpt.c - checkpoints.
 *
 * A checkpoint is one little-endian binary file:
 *
 *   magic       8 bytes  "NNRTCKPT"
 *   version     u32      3 (2 had no normalize_target)
 *   model       str      the model's name  (str = u32 length, bytes)
 *   real_size   u32      4 (f32 build) or 8 (f64)
 *   n_params    u64
 *   n_state     u64
 *   n_tensors   u32
 *   tensor      n_tensors x { name str, rank u32, dims u32[rank],
 *                             offset u64, size u64, trainable u32 }
 *   step        u64      optimizer steps taken
 *   epoch       u32      epochs completed
 *   seed        u64      the run's seed (fixes the validation split)
 *   validation  f64      the run's validation fraction
 *   data        str      the run's data file ("" if none was read)
 *   labels      u32 known, u32 n, n x str   (string class labels, sorted)
 *   normalize   u32 kind (0 none, 1 standard, 2 minmax), u64 n,
 *               f64 shift[n], f64 scale[n]     x' = (x - shift) / scale
 *   normalize_target  the same for the target (n 0 or target_size):
 *               y' = (y - shift) / scale
 *   early stop  u32 best epoch, u32 epochs since, f64 best value,
 *               u32 has_best: 0 none, 1 `best` is the best epoch's
 *               copy, 2 restored (the end of a restore_best run):
 *               params are the best epoch's, `best` the last epoch's
 *   schedule    u32 n_sched, f64[n_sched]   the schedule's state
 *   params      real[n_params]
 *   state       real[n_state]
 *   best        real[n_params]   only if has_best (restore_best's copy,
 *                                or the last epoch's if has_best is 2)
 *   crc32       u32      zlib crc32 of every byte before it
 *
 * It is written to PATH.tmp, flushed, fsynced and renamed over PATH, so
 * a crash leaves the previous checkpoint whole. Loading checks the
 * magic, the version, the checksum, then that the model, real size and
 * tensor table match this trainer's exactly.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rt.h"

#define MAGIC "NNRTCKPT"
#define VERSION 3u
#define LIMIT_2_53 9007199254740992ULL
#define MAX_EPOCH 16777216u           /* 2^24 */

typedef struct Writer {
	Rt *rt;
	FILE *f;
	const char *path;
	uLong crc;
} Writer;

typedef struct Cursor {
	const Rt *rt;
	const char *path;
	const unsigned char *p, *end;
} Cursor;

/* ---- writing ---- */

static void put(Writer *w, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (fwrite(p, 1, n, w->f) != n)
		nnrt_base_die(w->rt, "cannot write '%s': %s", w->path,
			      strerror(errno));
	w->crc = crc32_z(w->crc, p, n);
}

static void put_u32(Writer *w, uint32_t v)
{
	unsigned char b[4];
	int i;

	for (i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(w, b, 4);
}

static void put_u64(Writer *w, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(w, b, 8);
}

static void put_f64(Writer *w, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	put_u64(w, u);
}

static void put_str(Writer *w, const char *s)
{
	put_u32(w, (uint32_t)strlen(s));
	put(w, s, strlen(s));
}

static void put_model(Writer *w)
{
	const NnrtModel *m = w->rt->m;
	int i, d;

	put_str(w, m->name);
	put_u32(w, (uint32_t)m->real_size);
	put_u64(w, (uint64_t)m->n_params);
	put_u64(w, (uint64_t)m->n_state);
	put_u32(w, (uint32_t)m->n_tensors);
	for (i = 0; i < m->n_tensors; i++) {
		const NnrtTensor *t = &m->tensors[i];
		put_str(w, t->name);
		put_u32(w, (uint32_t)t->rank);
		for (d = 0; d < t->rank; d++)
			put_u32(w, (uint32_t)t->dims[d]);
		put_u64(w, (uint64_t)t->offset);
		put_u64(w, (uint64_t)t->size);
		put_u32(w, (uint32_t)t->trainable);
	}
}

static void put_norm(Writer *w, const Norm *z)
{
	long j;

	put_u32(w, (uint32_t)z->kind);
	put_u64(w, (uint64_t)z->n);
	for (j = 0; j < z->n; j++)
		put_f64(w, z->shift[j]);
	for (j = 0; j < z->n; j++)
		put_f64(w, z->scale[j]);
}

static void put_run(Writer *w, const void *best)
{
	const Rt *rt = w->rt;
	int i;

	put_u64(w, (uint64_t)rt->step);
	put_u32(w, (uint32_t)rt->epoch);
	put_u64(w, (uint64_t)rt->seed);
	put_f64(w, rt->validation);
	put_str(w, rt->data_spec ? rt->data_spec : "");
	put_u32(w, (uint32_t)rt->labels.known);
	put_u32(w, (uint32_t)rt->labels.n);
	for (i = 0; i < rt->labels.n; i++)
		put_str(w, rt->labels.names[i]);
	put_norm(w, &rt->norm);
	put_norm(w, &rt->tnorm);
	put_u32(w, (uint32_t)rt->es.epoch);
	put_u32(w, (uint32_t)rt->es.wait);
	put_f64(w, rt->es.value);
	put_u32(w, best == NULL ? 0 : rt->es.restored ? 2 : 1);
	put_u32(w, (uint32_t)rt->m->n_sched);
	for (i = 0; i < rt->m->n_sched; i++)
		put_f64(w, rt->sched[i]);
}

/* Writes rt's params, state and run counters (and `best`, if not NULL)
 * to path, atomically. */
void nnrt_ckpt_save(Rt *rt, const char *path, const void *best)
{
	const NnrtModel *m = rt->m;
	size_t rs = (size_t)m->real_size;
	AtomicFile af;
	Writer w;

	if (nnrt_dist_rank() > 0)
		return;         /* the ranks hold the same numbers */
	w.rt = rt;
	w.f = nnrt_base_create(rt, &af, path);
	w.path = af.tmp;
	w.crc = crc32_z(0L, Z_NULL, 0);
	put(&w, MAGIC, 8);
	put_u32(&w, VERSION);
	put_model(&w);
	put_run(&w, best);
	put(&w, rt->params, (size_t)m->n_params * rs);
	put(&w, rt->state, (size_t)m->n_state * rs);
	if (best)
		put(&w, best, (size_t)m->n_params * rs);
	put_u32(&w, (uint32_t)w.crc);
	nnrt_base_commit(rt, &af);
}

/* ---- reading ---- */

static const unsigned char *take(Cursor *c, size_t n)
{
	const unsigned char *p = c->p;

	if ((size_t)(c->end - c->p) < n)
		nnrt_base_die(c->rt, "%s: truncated checkpoint", c->path);
	c->p += n;
	return p;
}

static uint32_t get_u32(Cursor *c)
{
	const unsigned char *b = take(c, 4);

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static uint64_t get_u64(Cursor *c)
{
	uint64_t lo = get_u32(c);

	return lo | (uint64_t)get_u32(c) << 32;
}

static double get_f64(Cursor *c)
{
	uint64_t u = get_u64(c);
	double v;

	memcpy(&v, &u, 8);
	return v;
}

/* A string as a NUL-terminated copy. */
static char *get_str(Cursor *c)
{
	uint32_t n = get_u32(c);
	const unsigned char *p = take(c, n);
	char *s = nnrt_base_alloc(c->rt, (size_t)n + 1, 1);

	memcpy(s, p, n);
	return s;
}

static unsigned char *slurp(const Rt *rt, const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	size_t cap = 1 << 16, n = 0, got;

	if (!f)
		nnrt_base_die(rt, "cannot open checkpoint '%s': %s", path,
			      strerror(errno));
	buf = nnrt_base_alloc(rt, cap, 1);
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = nnrt_base_grow(rt, buf, cap, 1);
		}
	}
	if (ferror(f))
		nnrt_base_die(rt, "cannot read checkpoint '%s': %s", path,
			      strerror(errno));
	fclose(f);
	*size = n;
	return buf;
}

static void check_envelope(const Rt *rt, const char *path,
			   const unsigned char *buf, size_t n)
{
	uint32_t version, stored;

	if (n < 8 || memcmp(buf, MAGIC, 8) != 0)
		nnrt_base_die(rt, "'%s' is not a checkpoint (no NNRTCKPT "
			      "magic)", path);
	if (n < 16)
		nnrt_base_die(rt, "%s: truncated checkpoint", path);
	version = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 |
		  (uint32_t)buf[10] << 16 | (uint32_t)buf[11] << 24;
	if (version != VERSION)
		nnrt_base_die(rt, "%s: checkpoint version %u, this trainer "
			      "reads version %u", path, version, VERSION);
	stored = (uint32_t)buf[n - 4] | (uint32_t)buf[n - 3] << 8 |
		 (uint32_t)buf[n - 2] << 16 | (uint32_t)buf[n - 1] << 24;
	if (stored != (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), buf, n - 4))
		nnrt_base_die(rt, "%s: checkpoint is corrupt or truncated "
			      "(checksum mismatch)", path);
}

static void check_tensor(Cursor *c, const NnrtTensor *t, int i)
{
	char *name = get_str(c);
	int dims[NNRT_MAX_RANK], d, same;
	uint32_t rank = get_u32(c);
	char want[64], got[64];

	if (rank > NNRT_MAX_RANK)
		nnrt_base_die(c->rt, "%s: tensor %d has rank %u", c->path,
			      i + 1, rank);
	for (d = 0; d < (int)rank; d++)
		dims[d] = (int)get_u32(c);
	same = strcmp(name, t->name) == 0 && (int)rank == t->rank &&
	       memcmp(dims, t->dims, rank * sizeof(int)) == 0;
	nnrt_base_shape(got, sizeof got, (int)rank, dims);
	nnrt_base_shape(want, sizeof want, t->rank, t->dims);
	if (!same)
		nnrt_base_die(c->rt, "%s: tensor %d is '%s' %s in the "
			      "checkpoint but '%s' %s in this model", c->path,
			      i + 1, name, got, t->name, want);
	if (get_u64(c) != (uint64_t)t->offset ||
	    get_u64(c) != (uint64_t)t->size ||
	    get_u32(c) != (uint32_t)t->trainable)
		nnrt_base_die(c->rt, "%s: tensor '%s' is laid out differently "
			      "in this model", c->path, t->name);
	free(name);
}

static void check_model(Cursor *c)
{
	const NnrtModel *m = c->rt->m;
	char *name = get_str(c);
	uint32_t rs, nt;
	uint64_t np, ns;
	int i;

	if (strcmp(name, m->name) != 0)
		nnrt_base_die(c->rt, "%s: checkpoint is for model '%s', not "
			      "'%s'", c->path, name, m->name);
	free(name);
	rs = get_u32(c);
	if ((int)rs != m->real_size)
		nnrt_base_die(c->rt, "%s: checkpoint holds f%u numbers, this "
			      "trainer was built for f%d", c->path, rs * 8,
			      m->real_size * 8);
	np = get_u64(c);
	ns = get_u64(c);
	nt = get_u32(c);
	if (np != (uint64_t)m->n_params || ns != (uint64_t)m->n_state ||
	    nt != (uint32_t)m->n_tensors)
		nnrt_base_die(c->rt, "%s: checkpoint has %u tensors, %llu "
			      "parameters and %llu optimizer state; this model "
			      "has %d, %ld and %ld", c->path, nt,
			      (unsigned long long)np, (unsigned long long)ns,
			      m->n_tensors, m->n_params, m->n_state);
	for (i = 0; i < m->n_tensors; i++)
		check_tensor(c, &m->tensors[i], i);
}

static void get_labels(Cursor *c, Rt *rt)
{
	uint32_t known = get_u32(c), n = get_u32(c), i;

	if (n > (uint32_t)(rt->m->n_classes > 0 ? rt->m->n_classes : 0))
		nnrt_base_die(rt, "%s: checkpoint has %u class labels for %d "
			      "classes", c->path, n, rt->m->n_classes);
	rt->labels.known = known != 0;
	rt->labels.n = (int)n;
	rt->labels.names = nnrt_base_alloc(rt, n, sizeof(char *));
	for (i = 0; i < n; i++)
		rt->labels.names[i] = get_str(c);
}

/* One scaling: none, or `size` columns' statistics. */
static void get_norm(Cursor *c, Rt *rt, Norm *z, long size)
{
	uint32_t kind = get_u32(c);
	uint64_t n = get_u64(c), j;

	if (kind > NNRT_NORM_MINMAX || (n != 0 && n != (uint64_t)size) ||
	    (kind && !n))
		nnrt_base_die(rt, "%s: bad normalisation statistics", c->path);
	z->kind = (NnrtNorm)kind;
	z->n = (long)n;
	free(z->shift);
	free(z->scale);
	z->shift = nnrt_base_alloc(rt, (size_t)n, sizeof(double));
	z->scale = nnrt_base_alloc(rt, (size_t)n, sizeof(double));
	for (j = 0; j < n; j++)
		z->shift[j] = get_f64(c);
	for (j = 0; j < n; j++) {
		z->scale[j] = get_f64(c);
		if (!(z->scale[j] > 0) || !isfinite(z->shift[j]))
			nnrt_base_die(rt, "%s: bad normalisation statistics",
				      c->path);
	}
}

static void get_sched(Cursor *c, Rt *rt)
{
	uint32_t n = get_u32(c), i;

	if (n != (uint32_t)rt->m->n_sched)
		nnrt_base_die(rt, "%s: checkpoint has %u numbers of schedule "
			      "state; this model has %d", c->path, n,
			      rt->m->n_sched);
	for (i = 0; i < n; i++) {
		rt->sched[i] = get_f64(c);
		if (isnan(rt->sched[i]))
			nnrt_base_die(rt, "%s: schedule state %u is NaN",
				      c->path, i);
	}
}

/* The counters a sound run can have: at most 2^53 steps (what a double
 * counts exactly) and MAX_EPOCH epochs, an epoch being at least one step
 * (import resets both to 0). */
static void check_counters(const Cursor *c, uint64_t step, uint32_t epoch,
			   uint64_t seed, double validation)
{
	const char *p = c->path;

	if (step > LIMIT_2_53)
		nnrt_base_die(c->rt, "%s: implausible checkpoint: step %llu "
			      "is more than 2^53", p, (unsigned long long)step);
	if (epoch > MAX_EPOCH)
		nnrt_base_die(c->rt, "%s: implausible checkpoint: epoch %u is "
			      "more than %u", p, epoch, MAX_EPOCH);
	if (epoch > step)
		nnrt_base_die(c->rt, "%s: implausible checkpoint: epoch %u "
			      "after only %llu steps", p, epoch,
			      (unsigned long long)step);
	if (seed > LIMIT_2_53)
		nnrt_base_die(c->rt, "%s: implausible checkpoint: seed %llu "
			      "is more than 2^53", p, (unsigned long long)seed);
	if (!(validation >= 0 && validation < 1))
		nnrt_base_die(c->rt, "%s: implausible checkpoint: validation "
			      "fraction %g is not in [0, 1)", p, validation);
}

static void check_early(const Cursor *c, const Rt *rt)
{
	if ((uint32_t)rt->es.epoch > (uint32_t)rt->epoch ||
	    (uint32_t)rt->es.wait > (uint32_t)rt->epoch)
		nnrt_base_die(c->rt, "%s: implausible checkpoint: early "
			      "stopping's best epoch %u (%u epochs since) after "
			      "epoch %d", c->path, (uint32_t)rt->es.epoch,
			      (uint32_t)rt->es.wait, rt->epoch);
	if (isnan(rt->es.value))
		nnrt_base_die(c->rt, "%s: implausible checkpoint: early "
			      "stopping's best value is NaN", c->path);
}

static void get_run(Cursor *c, Rt *rt, int *has_best)
{
	uint64_t step = get_u64(c), seed;
	uint32_t epoch = get_u32(c);

	seed = get_u64(c);
	rt->validation = get_f64(c);
	check_counters(c, step, epoch, seed, rt->validation);
	rt->step = (long)step;
	rt->epoch = (int)epoch;
	rt->seed = (unsigned long)seed;
	rt->data_spec = get_str(c);
	if (!rt->data_spec[0])
		rt->data_spec = NULL;
	get_labels(c, rt);
	get_norm(c, rt, &rt->norm, rt->m->input_size);
	get_norm(c, rt, &rt->tnorm, rt->m->target_size);
	rt->es.epoch = (int)get_u32(c);
	rt->es.wait = (int)get_u32(c);
	rt->es.value = get_f64(c);
	check_early(c, rt);
	*has_best = (int)get_u32(c);
	if (*has_best > 2)
		nnrt_base_die(rt, "%s: implausible checkpoint: has_best is %d",
			      c->path, *has_best);
	get_sched(c, rt);
}

/* Every number of a tensor block (params, or restore_best's copy) is
 * finite; the first one that is not is named by tensor and index. */
static void check_tensors(const Cursor *c, const void *block,
			  const char *what)
{
	const NnrtModel *m = c->rt->m;
	long k;
	int i;

	for (i = 0; i < m->n_tensors; i++) {
		const NnrtTensor *t = &m->tensors[i];
		for (k = 0; k < t->size; k++) {
			double v = nnrt_base_get_real(c->rt, block,
						      t->offset + k);
			if (!isfinite(v))
				nnrt_base_die(c->rt, "%s: implausible "
					      "checkpoint: %stensor '%s' element %ld "
					      "is %g", c->path, what, t->name,
					      k, v);
		}
	}
}

static void check_state(const Cursor *c, const void *state)
{
	long k;

	for (k = 0; k < c->rt->m->n_state; k++) {
		double v = nnrt_base_get_real(c->rt, state, k);
		if (!isfinite(v))
			nnrt_base_die(c->rt, "%s: implausible checkpoint: "
				      "optimizer state number %ld is %g",
				      c->path, k, v);
	}
}

/* The block after the state. A trainer (rt->best allocated) takes the
 * run's last state back: for a restored checkpoint the params read are
 * the best epoch's and this block the last epoch's. Others keep the
 * params read, the tensors the run kept. */
static void get_best(Cursor *c, Rt *rt, int restored)
{
	size_t np = (size_t)rt->m->n_params * (size_t)rt->m->real_size;
	const unsigned char *p = take(c, np);

	if (!rt->best)
		return;
	if (restored) {
		memcpy(rt->best, rt->params, np);
		memcpy(rt->params, p, np);
		check_tensors(c, rt->params, "the last epoch's copy of ");
	} else {
		memcpy(rt->best, p, np);
		check_tensors(c, rt->best, "the best epoch's copy of ");
	}
	rt->es.has_params = 1;
}

/* Loads path into rt: params, state, step, epoch, seed, validation
 * fraction, data file, labels, both normalisations, early-stopping memory (and the best
 * params, if the file has them and rt->best is allocated). */
void nnrt_ckpt_load(Rt *rt, const char *path)
{
	const NnrtModel *m = rt->m;
	size_t n, rs = (size_t)m->real_size, np = (size_t)m->n_params * rs;
	unsigned char *buf = slurp(rt, path, &n);
	Cursor c;
	int has_best;

	check_envelope(rt, path, buf, n);
	c.rt = rt;
	c.path = path;
	c.p = buf + 12;
	c.end = buf + n - 4;
	check_model(&c);
	get_run(&c, rt, &has_best);
	memcpy(rt->params, take(&c, np), np);
	check_tensors(&c, rt->params, "");
	memcpy(rt->state, take(&c, (size_t)m->n_state * rs),
	       (size_t)m->n_state * rs);
	check_state(&c, rt->state);
	rt->es.has_params = 0;
	rt->es.restored = 0;
	if (has_best)
		get_best(&c, rt, has_best == 2);
	if (c.p != c.end)
		nnrt_base_die(rt, "%s: %ld unexpected bytes at the end of the "
			      "checkpoint", path, (long)(c.end - c.p));
	free(buf);
}

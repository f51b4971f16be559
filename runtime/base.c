/*
 * base.c - what every runtime file leans on: error exits, allocation,
 * element access to `real` buffers, and files written atomically.
 *
 * Errors in user input end the program: a message naming the program
 * ("xor: ...") on stderr and exit status 1. A file being written is
 * always PATH.tmp until it is complete; dying while one is open removes
 * it, so a failed run never leaves a half-written output or clobbers the
 * previous version of the file. Under MPI the message names the rank
 * and the whole job ends (dist_mpi.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt.h"

static void drop_pending(const Rt *rt)
{
	AtomicFile *af = rt ? rt->pending : NULL;

	if (!af)
		return;
	if (af->f)
		fclose(af->f);
	af->f = NULL;
	remove(af->tmp);
}

/* The message is written in one piece: under MPI, mpirun's own report
 * of the abort would otherwise land inside it. */
_Noreturn void nnrt_base_die(const Rt *rt, const char *fmt, ...)
{
	va_list ap;
	char buf[4096], *msg = buf;
	int n;

	fflush(stdout);
	drop_pending(rt);
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof buf && (msg = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "%s: %s%s\n", rt && rt->prog ? rt->prog : "nnrt",
		nnrt_dist_who(), msg ? msg : buf);
	nnrt_report_fail(rt, msg ? msg : buf);
	nnrt_dist_exit(1);      /* under MPI: ends every rank */
}

void nnrt_base_warn(const Rt *rt, const char *fmt, ...)
{
	va_list ap;

	if (nnrt_dist_rank() > 0)
		return;         /* rank 0 says it too */
	fflush(stdout);
	fprintf(stderr, "%s: warning: ", rt->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *nnrt_base_alloc(const Rt *rt, size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	if (n > SIZE_MAX / size)
		nnrt_base_die(rt, "out of memory (%zu x %zu bytes)", n, size);
	p = calloc(n, size);
	if (!p)
		nnrt_base_die(rt, "out of memory (%zu bytes)", n * size);
	return p;
}

void *nnrt_base_grow(const Rt *rt, void *p, size_t n, size_t size)
{
	void *q;

	if (n == 0 || size == 0)
		n = size = 1;
	if (n > SIZE_MAX / size)
		nnrt_base_die(rt, "out of memory (%zu x %zu bytes)", n, size);
	q = realloc(p, n * size);
	if (!q)
		nnrt_base_die(rt, "out of memory (%zu bytes)", n * size);
	return q;
}

char *nnrt_base_strdup(const Rt *rt, const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(nnrt_base_alloc(rt, n, 1), s, n);
}

char *nnrt_base_printf(const Rt *rt, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		nnrt_base_die(rt, "cannot format a message");
	s = nnrt_base_alloc(rt, (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* Buffers of model numbers hold float or double as real_size says. */
double nnrt_base_get_real(const Rt *rt, const void *buf, long i)
{
	if (rt->m->real_size == 8)
		return ((const double *)buf)[i];
	return ((const float *)buf)[i];
}

void nnrt_base_set_real(const Rt *rt, void *buf, long i, double v)
{
	if (rt->m->real_size == 8)
		((double *)buf)[i] = v;
	else
		((float *)buf)[i] = (float)v;
}

/* 1 if some x of p[0, n) is NaN or infinite: x - x is 0 for a finite x
 * and NaN otherwise (a sum of squares could overflow instead), summed in
 * eight independent lanes that the compiler keeps in vector registers. */
#define ANY_NONFINITE(T, p, n, i) do {					\
	T a_[8] = { 0 };						\
	int k_;								\
	for (i = 0; i + 8 <= (n); i += 8)				\
		for (k_ = 0; k_ < 8; k_++)				\
			a_[k_] += (p)[i + k_] - (p)[i + k_];		\
	for (k_ = 1; k_ < 8; k_++)					\
		a_[0] += a_[k_];					\
	if (a_[0] != 0)							\
		i = 0;                  /* bad: search from the start */ \
} while (0)

/* The index of the first non-finite number of buf[0, n), or -1. */
long nnrt_base_nonfinite(const Rt *rt, const void *buf, long n)
{
	long i;

	if (rt->m->real_size == 8)
		ANY_NONFINITE(double, (const double *)buf, n, i);
	else
		ANY_NONFINITE(float, (const float *)buf, n, i);
	for (; i < n; i++)
		if (!isfinite(nnrt_base_get_real(rt, buf, i)))
			return i;
	return -1;
}

int nnrt_base_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Opens PATH.tmp for writing; the caller writes to the returned stream
 * and then calls nnrt_base_commit(). Only one file is pending at a
 * time. */
FILE *nnrt_base_create(Rt *rt, AtomicFile *af, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		nnrt_base_die(rt, "cannot write '%s': is a directory", path);
	af->path = nnrt_base_strdup(rt, path);
	af->tmp = nnrt_base_printf(rt, "%s.tmp", path);
	af->f = fopen(af->tmp, "wb");
	if (!af->f)
		nnrt_base_die(rt, "cannot create '%s': %s", af->tmp,
			      strerror(errno));
	rt->pending = af;
	return af->f;
}

/* The directory entry of a renamed file is durable only once its
 * directory is synced; failure here loses nothing already written. */
static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	int fd;

	if (!slash) {
		strcpy(dir, ".");
	} else if ((size_t)(slash - path) < sizeof dir) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (!dir[0])
			strcpy(dir, "/");
	} else {
		return;
	}
	fd = open(dir, O_RDONLY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Flushes, syncs and renames PATH.tmp over PATH. */
void nnrt_base_commit(Rt *rt, AtomicFile *af)
{
	int err = 0;

	errno = 0;
	if (fflush(af->f) != 0 || ferror(af->f))
		err = errno ? errno : EIO;
	else if (fsync(fileno(af->f)) != 0 && errno != EINVAL)
		err = errno;
	if (fclose(af->f) != 0 && !err)
		err = errno ? errno : EIO;
	af->f = NULL;
	if (err)
		nnrt_base_die(rt, "cannot write '%s': %s", af->tmp,
			      strerror(err));
	if (rename(af->tmp, af->path) != 0)
		nnrt_base_die(rt, "cannot rename '%s' to '%s': %s", af->tmp,
			      af->path, strerror(errno));
	rt->pending = NULL;
	sync_dir(af->path);
	free(af->path);
	free(af->tmp);
	af->path = af->tmp = NULL;
}

/* mkdir -p */
void nnrt_base_mkdirs(const Rt *rt, const char *dir)
{
	char *p = nnrt_base_strdup(rt, dir);
	char *s;
	struct stat st;

	if (!p[0])
		nnrt_base_die(rt, "empty directory name");
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			nnrt_base_die(rt, "cannot create directory '%s': %s",
				      p, strerror(errno));
		*s = c;
		if (!c)
			break;
	}
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
		nnrt_base_die(rt, "'%s' is not a directory", dir);
	free(p);
}

/* "[2, 8]"; a rank-0 shape is "[]". */
void nnrt_base_shape(char *buf, size_t n, int rank, const int *dims)
{
	size_t len = 0;
	int i;

	len += (size_t)snprintf(buf, n, "[");
	for (i = 0; i < rank && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%d",
					i ? ", " : "", dims[i]);
	if (len < n)
		snprintf(buf + len, n - len, "]");
}

NnrtStep nnrt_base_step(const Rt *rt, const float *x, const float *y, int n)
{
	NnrtStep s;

	memset(&s, 0, sizeof s);
	s.params = rt->params;
	s.grads = rt->grads;
	s.state = rt->state;
	s.ws = rt->ws;
	s.x = x;
	s.y = y;
	s.n = n;
	s.step = rt->step + 1;
	s.seed = rt->seed;
	return s;
}

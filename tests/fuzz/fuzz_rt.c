/*
 * fuzz_rt.c - a libFuzzer target over the runtime's readers: CSV data
 * (training layout and prediction inputs), IDX images and labels,
 * checkpoints, and training logs (`report --log`, which also writes the
 * HTML page), each read from a file written from the fuzz input for a
 * small hand-made model descriptor (like tests/runtime/fake_*.c).
 *
 * An input is one selector byte, then the file: for IDX, two bytes more
 * give the length of the images file, the rest is the labels file; for
 * IN_CKPT_CRC the harness writes the right checksum over the last four
 * bytes, so that mutated fields get past it to the checks behind.
 *
 * The runtime's errors end the program (nnrt_base_die calls exit), which
 * a fuzzer cannot survive, so the harness is linked with ld's --wrap
 * (the Makefile's FUZZ_RT_WRAP): nnrt_base_die longjmps back
 * here, and the runtime's allocations and zlib streams are tracked so
 * that an input that failed half-way leaks nothing (with a reader's
 * fd). Production code has no hook: only this link differs.
 * FUZZ_RT_VERBOSE=1 prints each input's error.
 *
 * The seed corpus, tests/fuzz/corpus_rt, is written by mkcorpus_rt.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "rt.h"

enum { FUZZ_MAX_INPUT = 64 * 1024, MAX_LIVE = 8192 };

typedef enum { IN_CSV, IN_CSV_PREDICT, IN_IDX, IN_IDX_PREDICT, IN_CKPT,
	       IN_CKPT_CRC, IN_LOG, N_KINDS } Kind;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* ---- the models: softmax over 2 features, and over 4x4 images ---- */

static const NnrtInput csv_input[] = { { "x", 1, { 2 }, 2, 0 } };
static const NnrtInput img_input[] = { { "img", 2, { 4, 4 }, 16, 0 } };
static const char *const out_names[] = { "probs" };
static const long csv_out[] = { 3 }, img_out[] = { 10 };
static const NnrtTensor tensors[] = {
	{ .name = "out.W", .rank = 2, .dims = { 2, 3 }, .size = 6,
	  .offset = 0, .trainable = 1 },
	{ .name = "out.b", .rank = 1, .dims = { 3 }, .size = 3, .offset = 6,
	  .trainable = 1 },
};

static const NnrtModel csv_model = {
	.name = "fz", .real_size = 4, .max_batch = 4,
	.n_inputs = 1, .inputs = csv_input, .input_size = 2,
	.n_classes = 3, .target_size = 1,
	.n_outputs = 1, .output_names = out_names, .output_sizes = csv_out,
	.output_size = 3,
	.n_tensors = 2, .tensors = tensors,
	.n_params = 9, .n_trainable = 9, .n_state = 9, .n_sched = 1,
	.train = { .data = { .kind = NNRT_SRC_CSV, .skip = 1, .x_lo = { 0 },
			     .x_hi = { 2 }, .y_lo = 2, .y_hi = 3 },
		   .normalize = NNRT_NORM_STANDARD },
};

static const NnrtModel img_model = {
	.name = "fzimg", .real_size = 4, .max_batch = 4,
	.n_inputs = 1, .inputs = img_input, .input_size = 16,
	.n_classes = 10, .target_size = 1,
	.n_outputs = 1, .output_names = out_names, .output_sizes = img_out,
	.output_size = 10,
	.train = { .data = { .kind = NNRT_SRC_IDX, .scale = 1.0 / 255 } },
};

/* ---- the wrapped runtime: errors return, nothing leaks ---- */

static jmp_buf on_error;
static int running;               /* inside an input */
static void *live[MAX_LIVE];      /* the runtime's allocations */
static gzFile open_gz[8];
static char *path_a, *path_b;     /* the files written from the input */

void *__real_nnrt_base_alloc(const Rt *rt, size_t n, size_t size);
void *__real_nnrt_base_grow(const Rt *rt, void *p, size_t n, size_t size);
char *__real_nnrt_base_strdup(const Rt *rt, const char *s);
void __real_free(void *p);
gzFile __real_gzdopen(int fd, const char *mode);
int __real_gzclose(gzFile gz);
_Noreturn void __wrap_nnrt_base_die(const Rt *rt, const char *fmt, ...);
void *__wrap_nnrt_base_alloc(const Rt *rt, size_t n, size_t size);
void *__wrap_nnrt_base_grow(const Rt *rt, void *p, size_t n, size_t size);
char *__wrap_nnrt_base_strdup(const Rt *rt, const char *s);
char *__wrap_nnrt_base_printf(const Rt *rt, const char *fmt, ...);
void __wrap_free(void *p);
gzFile __wrap_gzdopen(int fd, const char *mode);
int __wrap_gzclose(gzFile gz);

_Noreturn void __wrap_nnrt_base_die(const Rt *rt, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	if (!running)
		abort();
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (getenv("FUZZ_RT_VERBOSE"))
		fprintf(stderr, "fuzz_rt: %s\n", msg);
	if (!strstr(msg, path_a) && !strstr(msg, path_b) &&
	    !strstr(msg, "out of memory"))
		fprintf(stderr, "fuzz_rt: message names no file: %s\n", msg),
		abort();
	longjmp(on_error, 1);
}

static void track(void *p, void *old)
{
	int i;

	for (i = 0; i < MAX_LIVE; i++)
		if (live[i] == old) {
			live[i] = p;
			return;
		}
	abort();                   /* more live blocks than any reader needs */
}

void *__wrap_nnrt_base_alloc(const Rt *rt, size_t n, size_t size)
{
	void *p = __real_nnrt_base_alloc(rt, n, size);

	track(p, NULL);
	return p;
}

void *__wrap_nnrt_base_grow(const Rt *rt, void *p, size_t n, size_t size)
{
	void *q = __real_nnrt_base_grow(rt, p, n, size);

	track(q, p);
	return q;
}

char *__wrap_nnrt_base_strdup(const Rt *rt, const char *s)
{
	char *p = __real_nnrt_base_strdup(rt, s);

	track(p, NULL);
	return p;
}

char *__wrap_nnrt_base_printf(const Rt *rt, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = __wrap_nnrt_base_alloc(rt, (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void __wrap_free(void *p)
{
	int i;

	if (p && running)
		for (i = 0; i < MAX_LIVE; i++)
			if (live[i] == p) {
				live[i] = NULL;
				break;
			}
	__real_free(p);
}

gzFile __wrap_gzdopen(int fd, const char *mode)
{
	gzFile gz = __real_gzdopen(fd, mode);
	size_t i;

	for (i = 0; gz && i < sizeof open_gz / sizeof *open_gz; i++)
		if (!open_gz[i]) {
			open_gz[i] = gz;
			break;
		}
	return gz;
}

int __wrap_gzclose(gzFile gz)
{
	size_t i;

	for (i = 0; i < sizeof open_gz / sizeof *open_gz; i++)
		if (open_gz[i] == gz)
			open_gz[i] = NULL;
	return __real_gzclose(gz);
}

/* After an input, failed or not: what the runtime still holds. */
static void release(void)
{
	size_t i;

	for (i = 0; i < sizeof open_gz / sizeof *open_gz; i++)
		if (open_gz[i]) {
			__real_gzclose(open_gz[i]);
			open_gz[i] = NULL;
		}
	for (i = 0; i < MAX_LIVE; i++)
		if (live[i]) {
			__real_free(live[i]);
			live[i] = NULL;
		}
}

/* ---- the readers ---- */

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		abort();
}

static void read_ckpt(Rt *rt)
{
	const NnrtModel *m = rt->m;

	rt->params = __wrap_nnrt_base_alloc(rt, (size_t)m->n_params, 4);
	rt->state = __wrap_nnrt_base_alloc(rt, (size_t)m->n_state, 4);
	rt->best = __wrap_nnrt_base_alloc(rt, (size_t)m->n_params, 4);
	rt->sched = __wrap_nnrt_base_alloc(rt, (size_t)m->n_sched, 8);
	nnrt_ckpt_load(rt, path_a);
}

static void read_input(Rt *rt, Kind kind, const uint8_t *p, size_t n)
{
	NnrtSource src = rt->m->train.data;
	DataMode mode = kind == IN_CSV || kind == IN_IDX ? DATA_TRAIN
							 : DATA_INPUT;
	Data d;

	src.path = path_a;
	if (kind == IN_CKPT_CRC && n >= 4) {
		unsigned char *b = __wrap_nnrt_base_alloc(rt, n, 1);
		uLong crc = crc32_z(crc32_z(0L, Z_NULL, 0), p, n - 4);
		int i;
		memcpy(b, p, n - 4);
		for (i = 0; i < 4; i++)
			b[n - 4 + (size_t)i] = (unsigned char)(crc >> (8 * i));
		write_file(path_a, b, n);
		read_ckpt(rt);
	} else if (kind == IN_CKPT || kind == IN_CKPT_CRC) {
		write_file(path_a, p, n);
		read_ckpt(rt);
	} else if (kind == IN_LOG) {
		write_file(path_a, p, n);
		rt->opt.log = path_a;
		rt->opt.output = path_b;
		nnrt_report_run(rt);
	} else if (kind == IN_CSV || kind == IN_CSV_PREDICT) {
		write_file(path_a, p, n);
		nnrt_data_load(rt, &src, mode, &d);
	} else {
		size_t cut = n < 2 ? 0 : (size_t)(p[0] | p[1] << 8);
		p += n < 2 ? n : 2;
		n -= n < 2 ? n : 2;
		cut = cut < n ? cut : n;
		write_file(path_a, p, cut);
		write_file(path_b, p + cut, n - cut);
		src.labels = path_b;
		nnrt_idx_load(rt, &src, mode, &d);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz_rt.XXXXXX";

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	path_a = malloc(strlen(dir) + 8);
	path_b = malloc(strlen(dir) + 8);
	sprintf(path_a, "%s/a", dir);
	sprintf(path_b, "%s/b", dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Kind kind;
	Rt rt;

	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	kind = (Kind)(data[0] % N_KINDS);
	memset(&rt, 0, sizeof rt);
	rt.m = kind == IN_IDX || kind == IN_IDX_PREDICT ? &img_model
							: &csv_model;
	rt.prog = rt.m->name;
	running = 1;
	if (!setjmp(on_error))
		read_input(&rt, kind, data + 1, size - 1);
	running = 0;
	release();
	return 0;
}

/*
 * data.c - CSV data files, and the entry point that reads any source
 * (IDX files are idx.c's).
 *
 * A file is read line by line through zlib; gzdopen reads a plain file
 * as it is, so a `.gz` file needs no special case (and a truncated one
 * is an error, not a short file). The first `skip` lines are skipped,
 * blank lines are ignored, fields are separated by commas, trimmed of
 * blanks and of one pair of surrounding double quotes (quoted commas are
 * not supported). Line endings may be LF or CRLF.
 *
 * Training layout: input k from columns [x_lo[k], x_hi[k]) into its
 * place in the row of x (the inputs side by side, in statement order),
 * the target from [y_lo, y_hi); extra columns are ignored. For a class target the label
 * is either a number 0..K-1 or a string: the first data row decides
 * which. String labels map to class indices in strcmp order of the
 * distinct labels (the mapping is kept in checkpoints, so eval of
 * another file uses the training file's classes).
 *
 * Prediction inputs (DATA_INPUT) have per row either exactly input_size
 * columns (features only: the inputs side by side) or the training
 * layout; in the latter, a
 * non-blank string label must be one of the training labels.
 *
 * Errors name the file and line, and columns counted from 1:
 *   xor: data.csv:3: expected 3 columns, found 2
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rt.h"

typedef struct Reader {
	Rt *rt;
	const char *path;
	gzFile gz;
	char *line;
	size_t cap;
	long lineno;
	char **field;
	int nfield, capfield;
} Reader;

/* A file's rows as they are read: y holds class ids in first-seen order
 * until string labels are sorted. */
typedef struct Loader {
	Reader r;
	NnrtSource src;
	DataMode mode;
	Data *d;
	long cap;
	int classes;              /* n_classes, 0 for real targets */
	int string_labels;
	Labels seen;              /* string labels of this file, unsorted */
} Loader;

/* The train block's layout, or for a model without a data source the
 * natural one: features first, then the target. */
NnrtSource nnrt_data_source(const Rt *rt)
{
	const NnrtModel *m = rt->m;
	NnrtSource s = m->train.data;

	if (s.kind == NNRT_SRC_NONE) {
		long ny = m->n_classes > 0 ? 1 : m->target_size;
		int k;
		s.kind = NNRT_SRC_CSV;
		s.path = NULL;
		s.skip = 0;
		for (k = 0; k < m->n_inputs; k++) {
			s.x_lo[k] = (int)m->inputs[k].offset;
			s.x_hi[k] = (int)(m->inputs[k].offset +
					  m->inputs[k].size);
		}
		s.y_lo = (int)m->input_size;
		s.y_hi = (int)(m->input_size + ny);
	}
	return s;
}

/* A data file opened through zlib: plain or gzipped, read the same. */
gzFile nnrt_data_open(Rt *rt, const char *path)
{
	struct stat st;
	gzFile gz;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		nnrt_base_die(rt, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		nnrt_base_die(rt, "cannot read '%s': Is a directory", path);
	}
	gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		nnrt_base_die(rt, "cannot read '%s': out of memory", path);
	}
	gzbuffer(gz, 1 << 17);
	return gz;
}

static void reader_open(Rt *rt, Reader *r, const char *path)
{
	memset(r, 0, sizeof *r);
	r->rt = rt;
	r->path = path;
	r->gz = nnrt_data_open(rt, path);
	r->cap = 4096;
	r->line = nnrt_base_alloc(rt, r->cap, 1);
	r->capfield = 64;
	r->field = nnrt_base_alloc(rt, (size_t)r->capfield, sizeof *r->field);
}

static void reader_close(Reader *r)
{
	gzclose(r->gz);
	free(r->line);
	free(r->field);
}

/* The room gzgets may fill: its length is an int, a line may be longer
 * than INT_MAX bytes (it is then read in pieces). */
static int chunk(size_t room)
{
	return room > INT_MAX ? INT_MAX : (int)room;
}

/* The next line, without its line ending, in r->line; 0 at the end. */
static int reader_next(Reader *r)
{
	size_t len = 0, piece;
	int got = 0, room, err;

	for (;;) {
		room = chunk(r->cap - len);
		if (!gzgets(r->gz, r->line + len, room)) {
			const char *msg = gzerror(r->gz, &err);
			if (err != Z_OK)
				nnrt_base_die(r->rt, "%s:%ld: cannot read: %s",
					      r->path, r->lineno + 1, msg);
			break;
		}
		got = 1;
		piece = strlen(r->line + len);
		len += piece;
		if (len > 0 && r->line[len - 1] == '\n')
			break;
		if (piece + 1 < (size_t)room)
			break;            /* the end of the file */
		if (len + 1 == r->cap) {
			if (r->cap > SIZE_MAX / 2)
				nnrt_base_die(r->rt, "%s:%ld: line too long",
					      r->path, r->lineno + 1);
			r->cap *= 2;
			r->line = nnrt_base_grow(r->rt, r->line, r->cap, 1);
		}
	}
	if (!got)
		return 0;
	r->lineno++;
	while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
		r->line[--len] = '\0';
	return 1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	if (e - s >= 2 && s[0] == '"' && e[-1] == '"') {
		e[-1] = '\0';
		s++;
	}
	return s;
}

/* Splits r->line at commas into r->field; 0 for a blank line. */
static int reader_split(Reader *r)
{
	char *s = r->line, *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	r->nfield = 0;
	for (p = r->line; ; p++) {
		char *start = p;
		while (*p && *p != ',')
			p++;
		if (r->nfield == r->capfield) {
			if (r->capfield > INT_MAX / 2)
				nnrt_base_die(r->rt, "%s:%ld: more than %d "
					      "columns", r->path, r->lineno,
					      r->capfield);
			r->capfield *= 2;
			r->field = nnrt_base_grow(r->rt, r->field,
						  (size_t)r->capfield,
						  sizeof *r->field);
		}
		int end = !*p;
		*p = '\0';
		r->field[r->nfield++] = trim(start);
		if (end)
			break;
	}
	return r->nfield;
}

/* A field quoted for a message, shortened if long. */
static const char *shown(const char *s, char *buf, size_t n)
{
	if (strlen(s) < n)
		return s;
	snprintf(buf, n, "%.*s...", (int)n - 4, s);
	return buf;
}

static int parse_number(const char *s, double *v)
{
	char *end;

	if (!*s)
		return 0;
	errno = 0;
	*v = strtod(s, &end);
	return *end == '\0' && isfinite(*v);
}

static double field_number(Reader *r, int c)
{
	char buf[48];
	double v;

	if (!parse_number(r->field[c], &v))
		nnrt_base_die(r->rt, "%s:%ld: column %d: expected a number, "
			      "found '%s'", r->path, r->lineno, c + 1,
			      shown(r->field[c], buf, sizeof buf));
	return v;
}

static float numeric_class(Loader *L, int c)
{
	Reader *r = &L->r;
	char buf[48];
	double v;

	if (!parse_number(r->field[c], &v) || v != floor(v))
		nnrt_base_die(r->rt, "%s:%ld: column %d: expected a class "
			      "0..%d, found '%s'", r->path, r->lineno, c + 1,
			      L->classes - 1,
			      shown(r->field[c], buf, sizeof buf));
	if (v < 0 || v >= L->classes)
		nnrt_base_die(r->rt, "%s:%ld: class %.0f out of range 0..%d",
			      r->path, r->lineno, v, L->classes - 1);
	return (float)v;
}

static int find_label(const Labels *t, const char *s)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->names[i], s) == 0)
			return i;
	return -1;
}

/* "its 3 labels: blue, green, red", the first few of them. */
static const char *list_labels(const Labels *t, char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "its %d labels:", t->n);
	int i;

	for (i = 0; i < t->n && i < 5 && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s %s",
					i ? "," : "", t->names[i]);
	if (t->n > 5 && len < n)
		snprintf(buf + len, n - len, ", ...");
	return buf;
}

static float string_class(Loader *L, int c)
{
	Reader *r = &L->r;
	const Labels *known = &r->rt->labels;
	const char *s = r->field[c];
	char buf[48], names[160];
	int i;

	if (!*s)
		nnrt_base_die(r->rt, "%s:%ld: column %d: empty class label",
			      r->path, r->lineno, c + 1);
	if (known->known) {
		i = find_label(known, s);
		if (i < 0)
			nnrt_base_die(r->rt, "%s:%ld: column %d: class label "
				      "'%s' was not in the training data (%s)",
				      r->path, r->lineno, c + 1,
				      shown(s, buf, sizeof buf),
				      list_labels(known, names, sizeof names));
		return (float)i;
	}
	i = find_label(&L->seen, s);
	if (i >= 0)
		return (float)i;
	if (L->seen.n == L->classes)
		nnrt_base_die(r->rt, "%s:%ld: class label '%s' out of range: "
			      "more than %d distinct labels for %d classes",
			      r->path, r->lineno, shown(s, buf, sizeof buf),
			      L->classes, L->classes);
	L->seen.names[L->seen.n] = nnrt_base_strdup(r->rt, s);
	return (float)L->seen.n++;
}

/* The first label decides numbers or strings, unless a checkpoint or an
 * earlier file already has. */
static float class_label(Loader *L, int c)
{
	Rt *rt = L->r.rt;
	double v;

	if (L->d->n == 0)
		L->string_labels = rt->labels.known
					   ? rt->labels.n > 0
					   : !parse_number(L->r.field[c], &v);
	if (L->string_labels)
		return string_class(L, c);
	return numeric_class(L, c);
}

static void reserve(Loader *L)
{
	Data *d = L->d;
	const Rt *rt = L->r.rt;

	if (d->n < L->cap)
		return;
	L->cap = L->cap ? 2 * L->cap : 1024;
	d->x = nnrt_base_grow(rt, d->x, (size_t)L->cap,
			      (size_t)d->nx * sizeof(float));
	if (L->mode == DATA_TRAIN)
		d->y = nnrt_base_grow(rt, d->y, (size_t)L->cap,
				      (size_t)d->ny * sizeof(float));
}

/* The columns a row needs for its inputs: one past the last. */
static int input_columns(const Loader *L)
{
	int k, need = 0;

	for (k = 0; k < L->r.rt->m->n_inputs; k++)
		need = L->src.x_hi[k] > need ? L->src.x_hi[k] : need;
	return need;
}

/* Input k's columns of the row into its place in the row's x. */
static void gather_inputs(Loader *L)
{
	const NnrtModel *m = L->r.rt->m;
	float *x = L->d->x + L->d->n * L->d->nx;
	int k, c;

	for (k = 0; k < m->n_inputs; k++)
		for (c = L->src.x_lo[k]; c < L->src.x_hi[k]; c++)
			x[m->inputs[k].offset + (c - L->src.x_lo[k])] =
				(float)field_number(&L->r, c);
}

static void train_row(Loader *L)
{
	Reader *r = &L->r;
	Data *d = L->d;
	int need = input_columns(L);
	int c;

	need = L->src.y_hi > need ? L->src.y_hi : need;
	if (r->nfield < need)
		nnrt_base_die(r->rt, "%s:%ld: expected %d columns, found %d",
			      r->path, r->lineno, need, r->nfield);
	reserve(L);
	gather_inputs(L);
	if (L->classes > 0) {
		d->y[d->n] = class_label(L, L->src.y_lo);
	} else {
		for (c = L->src.y_lo; c < L->src.y_hi; c++)
			d->y[d->n * d->ny + (c - L->src.y_lo)] =
				(float)field_number(r, c);
	}
	d->n++;
}

/* A prediction row in the training layout may carry its label: a
 * string label must be one the model was trained on (a blank one is
 * allowed: predict needs no target). */
static void check_label(Loader *L, int c)
{
	const Labels *known = &L->r.rt->labels;

	if (L->classes > 0 && known->n > 0 && *L->r.field[c])
		string_class(L, c);
}

/* A row of features only (the inputs side by side, input_size
 * columns) or of the training layout. */
static void input_row(Loader *L)
{
	Reader *r = &L->r;
	Data *d = L->d;
	int need = input_columns(L), c;

	reserve(L);
	if (r->nfield == d->nx) {
		for (c = 0; c < d->nx; c++)
			d->x[d->n * d->nx + c] = (float)field_number(r, c);
	} else if (r->nfield >= need) {
		gather_inputs(L);
		if (r->nfield > L->src.y_lo)
			check_label(L, L->src.y_lo);
	} else {
		nnrt_base_die(r->rt, "%s:%ld: expected %ld columns (features) "
			      "or at least %d (training layout), found %d",
			      r->path, r->lineno, d->nx, need, r->nfield);
	}
	d->n++;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts this file's string labels and renumbers y to match; they become
 * the run's labels. */
static void settle_labels(Loader *L)
{
	Rt *rt = L->r.rt;
	Labels *t = &L->seen;
	int *to = nnrt_base_alloc(rt, (size_t)t->n, sizeof *to);
	char **first = nnrt_base_alloc(rt, (size_t)t->n, sizeof *first);
	long i;
	int k;

	memcpy(first, t->names, (size_t)t->n * sizeof *first);
	qsort(t->names, (size_t)t->n, sizeof *t->names, cmp_label);
	for (k = 0; k < t->n; k++)
		to[k] = find_label(t, first[k]);
	for (i = 0; i < L->d->n; i++)
		L->d->y[i] = (float)to[(int)L->d->y[i]];
	free(to);
	free(first);
	rt->labels = *t;
	rt->labels.known = 1;
}

/* Reads a whole source into d: a CSV file here, IDX files in idx.c.
 * The run's class labels (rt->labels) are settled by the first
 * training file read, if no checkpoint did. */
void nnrt_data_load(Rt *rt, const NnrtSource *src, DataMode mode, Data *d)
{
	const NnrtModel *m = rt->m;
	const char *path = src->path;
	Loader L;
	long skipped = 0;

	if (src->kind == NNRT_SRC_IDX) {
		nnrt_idx_load(rt, src, mode, d);
		return;
	}
	memset(&L, 0, sizeof L);
	memset(d, 0, sizeof *d);
	L.src = *src;
	L.mode = mode;
	L.d = d;
	L.classes = m->n_classes;
	L.seen.names = nnrt_base_alloc(rt, (size_t)(L.classes + 1),
				       sizeof *L.seen.names);
	d->path = path;
	d->nx = m->input_size;
	d->ny = mode == DATA_TRAIN ? (m->n_classes > 0 ? 1 : m->target_size)
				   : 0;
	reader_open(rt, &L.r, path);
	while (skipped < L.src.skip && reader_next(&L.r))
		skipped++;
	while (reader_next(&L.r)) {
		if (!reader_split(&L.r))
			continue;
		if (mode == DATA_TRAIN)
			train_row(&L);
		else
			input_row(&L);
	}
	reader_close(&L.r);
	if (d->n == 0)
		nnrt_base_die(rt, "%s: no data rows%s", path,
			      L.src.skip ? " after the skipped header lines"
					 : "");
	if (mode == DATA_TRAIN && L.classes > 0 && !rt->labels.known) {
		if (L.string_labels) {
			settle_labels(&L);
			return;
		}
		rt->labels.known = 1;
	}
	free(L.seen.names);
}

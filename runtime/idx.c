/*
 * idx.c - IDX files (the MNIST format): images and their class labels.
 *
 * An IDX file is a big-endian header, then its elements in C order:
 *
 *   magic  u32      0x0000TTDD: TT the element type, DD the dimensions
 *   dims   u32 x DD
 *
 * Images are 0x00000803, unsigned bytes [N, rows, cols]; labels are
 * 0x00000801, unsigned bytes [N]. The other element types of the format
 * (0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64) are rejected with
 * their name. Files are read through zlib, so they may be gzipped, and
 * a truncated gzip stream is a truncated file.
 *
 * Each image is flattened: rows x cols must be the input's element
 * count (a [784] and a [1, 28, 28] input both take 28x28 images), and
 * byte * scale is the feature. A label is a class index 0..K-1. The
 * headers are checked before any data is read; the data must be
 * exactly what the header announces. Errors name the file:
 *
 *   m: imgs.gz: not an IDX image file (magic 0x00000801, expected 0x00000803)
 *   m: imgs.gz: truncated: 40 images of 4x4 need 640 bytes after the header, the file has 600
 *   m: imgs.gz has 40 images but labs.gz has 39 labels
 *   m: imgs.gz: images of 5x5 (25 values) do not fit the input [16] (16 values)
 *   m: labs.gz: row 7: class 9 out of range 0..3
 *   m: labs.gz: more data than the header announces (40 labels need 40 bytes after the header)
 *
 * Rows count from 1, as CSV lines do.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rt.h"

#define CHUNK (1 << 16)

typedef struct IdxFile {
	Rt *rt;
	const char *path;
	gzFile gz;
	int cut;                  /* the gzip stream ended early */
	uint32_t dims[3];
	long n;                   /* items: dims[0] */
} IdxFile;

static const char *type_name(int t)
{
	switch (t) {
	case 0x08: return "u8";
	case 0x09: return "i8";
	case 0x0B: return "i16";
	case 0x0C: return "i32";
	case 0x0D: return "f32";
	case 0x0E: return "f64";
	default:   return NULL;
	}
}

/* Up to n bytes; fewer only at the end of the data. */
static long read_some(IdxFile *f, unsigned char *buf, long n)
{
	long got = 0;
	int k, err;

	while (got < n) {
		unsigned want = (unsigned)(n - got < CHUNK ? n - got : CHUNK);
		k = gzread(f->gz, buf + got, want);
		if (k < 0)
			nnrt_base_die(f->rt, "%s: cannot read: %s", f->path,
				      gzerror(f->gz, &err));
		if (k == 0)
			break;
		got += k;
	}
	gzerror(f->gz, &err);
	f->cut = err == Z_BUF_ERROR;
	return got;
}

/* "m: f: truncated: 40 labels need 40 bytes after the header, the file
 * has 39": a gzip stream cut short hides how much of it was whole. */
_Noreturn static void truncated(const IdxFile *f, long got,
				const char *need)
{
	if (f->cut)
		nnrt_base_die(f->rt, "%s: truncated: %s, the gzip stream ends "
			      "early", f->path, need);
	nnrt_base_die(f->rt, "%s: truncated: %s, the file has %ld", f->path,
		      need, got);
}

/* Opens an IDX file of u8 elements and ndim dimensions and reads its
 * header; `what` is "image" or "label". */
static void idx_open(Rt *rt, IdxFile *f, const char *path, int ndim,
		     const char *what)
{
	unsigned char h[16];
	int hdr = 4 + 4 * ndim, d;
	long got;
	uint32_t magic;

	memset(f, 0, sizeof *f);
	f->rt = rt;
	f->path = path;
	f->gz = nnrt_data_open(rt, path);
	got = read_some(f, h, 4);
	magic = got == 4 ? (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
			   (uint32_t)h[2] << 8 | h[3] : 0;
	if (got == 4 && h[0] == 0 && h[1] == 0 && h[3] == ndim &&
	    h[2] != 0x08 && type_name(h[2]))
		nnrt_base_die(rt, "%s: IDX element type 0x%02x (%s) is not "
			      "supported, only unsigned bytes (0x08)", path,
			      h[2], type_name(h[2]));
	if (got == 4 && magic != (0x0800u | (uint32_t)ndim))
		nnrt_base_die(rt, "%s: not an IDX %s file (magic 0x%08x, "
			      "expected 0x%08x)", path, what, magic,
			      0x0800u | (uint32_t)ndim);
	got += got == 4 ? read_some(f, h + 4, hdr - 4) : 0;
	if (got < hdr)
		truncated(f, got, nnrt_base_printf(rt, "the IDX header needs "
						   "%d bytes", hdr));
	for (d = 0; d < ndim; d++) {
		const unsigned char *b = h + 4 + 4 * d;
		f->dims[d] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
			     (uint32_t)b[2] << 8 | b[3];
	}
	f->n = (long)f->dims[0];
}

/* The image header must fit the model's input. */
static void check_shape(const Rt *rt, const IdxFile *f)
{
	const NnrtModel *m = rt->m;
	uint64_t values = (uint64_t)f->dims[1] * f->dims[2];
	char in[64];

	if (f->n == 0)
		nnrt_base_die(rt, "%s: no images", f->path);
	if (values == (uint64_t)m->input_size)
		return;
	nnrt_base_shape(in, sizeof in, m->inputs[0].rank, m->inputs[0].dims);
	nnrt_base_die(rt, "%s: images of %ux%u (%llu values) do not fit the "
		      "input %s (%ld values)", f->path, f->dims[1], f->dims[2],
		      (unsigned long long)values, in, m->input_size);
}

/*
 * The file's n items of `item` bytes each, as floats byte * scale. The
 * array grows as the bytes arrive, so a corrupt header announcing more
 * than the file holds is a truncated file, not an allocation of the
 * announced size. `need` describes the data for that message; the file
 * must end right after it.
 */
static float *read_data(IdxFile *f, long item, double scale,
			const char *need)
{
	unsigned char *buf = nnrt_base_alloc(f->rt, CHUNK, 1);
	long total = f->n * item, cap = 0, done = 0, got, i;
	float *v = NULL;

	while (done < total) {
		long want = total - done < CHUNK ? total - done : CHUNK;
		got = read_some(f, buf, want);
		if (done + got > cap) {
			cap = cap ? 2 * cap : 1 << 20;
			cap = cap < total ? cap : total;
			v = nnrt_base_grow(f->rt, v, (size_t)cap, sizeof *v);
		}
		for (i = 0; i < got; i++)
			v[done + i] = (float)(buf[i] * scale);
		done += got;
		if (got < want)
			truncated(f, done, need);
	}
	if (read_some(f, buf, 1) == 1)
		nnrt_base_die(f->rt, "%s: more data than the header announces "
			      "(%s)", f->path, need);
	free(buf);
	gzclose(f->gz);
	return v;
}

static void check_labels(const IdxFile *f, const float *y, int classes)
{
	long i;

	for (i = 0; i < f->n; i++)
		if (y[i] >= classes)
			nnrt_base_die(f->rt, "%s: row %ld: class %.0f out of "
				      "range 0..%d", f->path, i + 1, y[i],
				      classes - 1);
}

/* Reads src's images (and, for DATA_TRAIN, its labels) into d. */
void nnrt_idx_load(Rt *rt, const NnrtSource *src, DataMode mode, Data *d)
{
	const NnrtModel *m = rt->m;
	IdxFile img, lab;

	memset(d, 0, sizeof *d);
	d->path = src->path;
	d->nx = m->input_size;
	d->ny = mode == DATA_TRAIN ? 1 : 0;
	idx_open(rt, &img, src->path, 3, "image");
	check_shape(rt, &img);
	if (mode == DATA_TRAIN) {
		idx_open(rt, &lab, src->labels, 1, "label");
		if (lab.n != img.n)
			nnrt_base_die(rt, "%s has %ld images but %s has %ld "
				      "labels", src->path, img.n, src->labels,
				      lab.n);
	}
	d->n = img.n;
	d->x = read_data(&img, d->nx, src->scale,
			 nnrt_base_printf(rt, "%ld images of %ux%u need %ld "
					  "bytes after the header", img.n,
					  img.dims[1], img.dims[2],
					  img.n * d->nx));
	if (mode == DATA_TRAIN) {
		d->y = read_data(&lab, 1, 1.0,
				 nnrt_base_printf(rt, "%ld labels need %ld "
						  "bytes after the header",
						  lab.n, lab.n));
		check_labels(&lab, d->y, m->n_classes);
		rt->labels.known = 1;
	}
}

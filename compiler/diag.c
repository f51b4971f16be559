/*
 * diag.c - the one diagnostic format.
 *
 *     FILE:LINE:COL: error: MESSAGE
 *     %5d | <the source line, verbatim>
 *         | <caret line>
 *
 * The caret line has spaces up to the column (tabs in the source line are
 * copied as tabs so the caret lines up), '^' under loc.col and '~' under
 * the rest of the span when it ends on the same line. Notes have the same
 * form with "note:". When the source text of loc.file is unknown, or
 * loc.line is 0 or past the end of the text, only the first line is
 * printed; with no file at all it reads "nnc: error: MESSAGE".
 *
 * Errors are counted, not fatal. After d->limit errors, "nnc: too many
 * errors, giving up" is printed once and everything after it is
 * suppressed (still counted).
 */
#include "nnc.h"

#include <stdlib.h>
#include <string.h>

/* The text of one source file, kept so diagnostics can quote it. */
struct DiagSource {
	char *file;
	char *text;
	struct DiagSource *next;
};

void diag_init(Diag *d, FILE *out)
{
	d->nerrors = 0;
	d->limit = 20;
	d->out = out ? out : stderr;
	d->sources = NULL;
}

void diag_add_source(Diag *d, const char *file, const char *text)
{
	for (struct DiagSource *s = d->sources; s; s = s->next) {
		if (strcmp(s->file, file) == 0) {
			free(s->text);
			s->text = xstrdup(text);
			return;
		}
	}
	struct DiagSource *s = xmalloc(sizeof *s);
	s->file = xstrdup(file);
	s->text = xstrdup(text);
	s->next = d->sources;
	d->sources = s;
}

void diag_free(Diag *d)
{
	struct DiagSource *s = d->sources;
	while (s) {
		struct DiagSource *next = s->next;
		free(s->file);
		free(s->text);
		free(s);
		s = next;
	}
	d->sources = NULL;
}

/* The start of line `line` (1-based) of file's text and its length
 * without the newline (or a trailing '\r'), or NULL. */
static const char *find_line(const Diag *d, const char *file, int line,
			     size_t *len)
{
	if (!file || line <= 0)
		return NULL;
	const char *p = NULL;
	for (const struct DiagSource *s = d->sources; s; s = s->next) {
		if (strcmp(s->file, file) == 0) {
			p = s->text;
			break;
		}
	}
	if (!p)
		return NULL;
	for (int l = 1; l < line; l++) {
		p = strchr(p, '\n');
		if (!p)
			return NULL;
		p++;
	}
	if (*p == '\0')
		return NULL;
	size_t n = strcspn(p, "\n");
	if (n > 0 && p[n - 1] == '\r')
		n--;
	*len = n;
	return p;
}

static void print_caret(FILE *out, const char *src, size_t len, Loc loc)
{
	fputs("      | ", out);
	for (int c = 1; c < loc.col; c++) {
		size_t i = (size_t)c - 1;
		fputc(i < len && src[i] == '\t' ? '\t' : ' ', out);
	}
	fputc('^', out);
	if (loc.end_line == loc.line)
		for (int c = loc.col + 1; c < loc.end_col; c++)
			fputc('~', out);
	fputc('\n', out);
}

static void report(Diag *d, Loc loc, const char *kind, const char *fmt,
		   va_list ap)
{
	FILE *out = d->out;
	if (!loc.file) {
		fprintf(out, "nnc: %s: ", kind);
	} else if (loc.line <= 0) {
		fprintf(out, "%s: %s: ", loc.file, kind);
	} else {
		fprintf(out, "%s:%d:%d: %s: ", loc.file, loc.line, loc.col,
			kind);
	}
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	size_t len;
	const char *src = find_line(d, loc.file, loc.line, &len);
	if (!src)
		return;
	fprintf(out, "%5d | %.*s\n", loc.line, (int)len, src);
	print_caret(out, src, len, loc);
}

/* Counts an error; false when its output is suppressed. */
static bool count_error(Diag *d)
{
	d->nerrors++;
	if (d->limit <= 0 || d->nerrors <= d->limit)
		return true;
	if (d->nerrors == d->limit + 1)
		fputs("nnc: too many errors, giving up\n", d->out);
	return false;
}

void diag_error(Diag *d, Loc loc, const char *fmt, ...)
{
	if (!count_error(d))
		return;
	va_list ap;
	va_start(ap, fmt);
	report(d, loc, "error", fmt, ap);
	va_end(ap);
}

void diag_note(Diag *d, Loc loc, const char *fmt, ...)
{
	if (d->limit > 0 && d->nerrors > d->limit)
		return;
	va_list ap;
	va_start(ap, fmt);
	report(d, loc, "note", fmt, ap);
	va_end(ap);
}

void diag_plain(Diag *d, const char *fmt, ...)
{
	if (!count_error(d))
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("nnc: error: ", d->out);
	vfprintf(d->out, fmt, ap);
	fputc('\n', d->out);
	va_end(ap);
}

_Noreturn void ice_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "nnc: internal compiler error at %s:%d: ", file, line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

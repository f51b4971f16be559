/* util.c - helpers shared by the CUnit suites. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

Shape s0(bool b)
{
	return shape_scalar(b);
}

Shape s1(bool b, int d0)
{
	int d[] = {d0};
	return shape_make(b, 1, d);
}

Shape s2(bool b, int d0, int d1)
{
	int d[] = {d0, d1};
	return shape_make(b, 2, d);
}

Shape s3(bool b, int d0, int d1, int d2)
{
	int d[] = {d0, d1, d2};
	return shape_make(b, 3, d);
}

char *ir_text(Graph *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ir_print(f, g);
	fclose(f);
	return buf;
}

bool ir_text_is(Graph *g, const char *want)
{
	char *got = ir_text(g);
	bool ok = strcmp(got, want) == 0;
	if (!ok)
		fprintf(stderr, "\n--- expected:\n%s--- got:\n%s", want, got);
	free(got);
	return ok;
}

Model *sema_run(SemaRun *r, const char *src)
{
	memset(r, 0, sizeof(*r));
	r->errf = open_memstream(&r->err, &r->errlen);
	diag_init(&r->diag, r->errf);
	Program *p = parse_string("t.nn", src, &r->arena, &r->diag);
	if (p && !r->diag.nerrors)
		r->m = sema(p, &r->arena, &r->diag, &r->c);
	fflush(r->errf);
	return r->m;
}

void sema_run_done(SemaRun *r)
{
	if (r->m)
		sema_free(r->m, &r->c);
	fclose(r->errf);
	free(r->err);
	diag_free(&r->diag);
	arena_free(&r->arena);
}

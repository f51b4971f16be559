/* unit.h - helpers shared by the CUnit suites (util.c). */
#ifndef UNIT_H
#define UNIT_H

#include "nnc.h"

Shape s0(bool batched);
Shape s1(bool batched, int d0);
Shape s2(bool batched, int d0, int d1);
Shape s3(bool batched, int d0, int d1, int d2);
/* ir_print's text; the caller frees it */
char *ir_text(Graph *g);
/* Whether g prints exactly as `want`; shows both on stderr when not. */
bool ir_text_is(Graph *g, const char *want);


/* A program through parse and sema, its diagnostics in err. */
typedef struct SemaRun {
	Arena arena;
	Diag diag;
	char *err;
	size_t errlen;
	FILE *errf;
	Model *m;
	Checked c;
} SemaRun;

/* Parses and checks `src`; diagnostics go to r->err. Returns the model,
 * or NULL after errors. */
Model *sema_run(SemaRun *r, const char *src);
void sema_run_done(SemaRun *r);

#endif

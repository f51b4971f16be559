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

/* A program through the parser and sema; diagnostics go to err. */
typedef struct UnitSema {
	Arena arena;
	Diag diag;
	char *err;
	size_t errlen;
	FILE *errf;
	Model *m;
	Checked c;
} UnitSema;
/* Parses and checks src; returns the model, NULL on errors. */
Model *unit_sema(UnitSema *r, const char *src);
void unit_sema_free(UnitSema *r);
/* src must fail to check with a diagnostic containing want. */
void expect_error(const char *src, const char *want);

#endif

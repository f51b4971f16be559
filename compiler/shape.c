/*
 * shape.c - static shapes and broadcasting.
 *
 * A Shape is a value's per-sample dimensions plus a flag saying whether it
 * carries the implicit leading batch dimension. Broadcasting follows numpy
 * on the per-sample dimensions (right-aligned, a 1 or a missing dimension
 * stretches); the batch dimension is present if either operand has it.
 */
#include "nnc.h"

#include <string.h>

Shape shape_scalar(bool batched)
{
	Shape s = {0};
	s.batched = batched;
	return s;
}

Shape shape_make(bool batched, int rank, const int *dims)
{
	Shape s = {0};
	if (rank > MAXRANK)
		ice("rank %d exceeds %d", rank, MAXRANK);
	s.batched = batched;
	s.rank = rank;
	for (int i = 0; i < rank; i++)
		s.dim[i] = dims[i];
	return s;
}

long shape_numel(Shape s)
{
	long n = 1;
	for (int i = 0; i < s.rank; i++)
		n *= s.dim[i];
	return n;
}

bool shape_eq(Shape a, Shape b)
{
	if (a.rank != b.rank || a.batched != b.batched)
		return false;
	for (int i = 0; i < a.rank; i++)
		if (a.dim[i] != b.dim[i])
			return false;
	return true;
}

bool shape_broadcast(Shape a, Shape b, Shape *out)
{
	Shape r = {0};
	r.rank = a.rank > b.rank ? a.rank : b.rank;
	r.batched = a.batched || b.batched;
	for (int i = 0; i < r.rank; i++) {
		int ia = a.rank - r.rank + i, ib = b.rank - r.rank + i;
		int da = ia >= 0 ? a.dim[ia] : 1;
		int db = ib >= 0 ? b.dim[ib] : 1;
		if (da != db && da != 1 && db != 1)
			return false;
		r.dim[i] = da == 1 ? db : da;
	}
	*out = r;
	return true;
}

bool shape_broadcasts_to(Shape a, Shape b)
{
	Shape r;
	if (a.batched && !b.batched)
		return false;
	if (!shape_broadcast(a, b, &r))
		return false;
	return r.rank == b.rank && shape_eq(r, b);
}

static char *dims_str(Shape s, bool with_batch, char *buf, size_t n)
{
	size_t len = 0;
	len += snprintf(buf + len, n - len, "[");
	if (with_batch && s.batched)
		len += snprintf(buf + len, n - len, s.rank ? "B, " : "B");
	for (int i = 0; i < s.rank && len < n; i++)
		len += snprintf(buf + len, n - len, "%s%d", i ? ", " : "",
				s.dim[i]);
	if (len < n)
		snprintf(buf + len, n - len, "]");
	return buf;
}

char *shape_str(Shape s, char *buf, size_t n)
{
	return dims_str(s, true, buf, n);
}

char *shape_user_str(Shape s, char *buf, size_t n)
{
	return dims_str(s, false, buf, n);
}

/*
 * arena.c - the compiler's memory: one raw allocator that reports
 * exhaustion, and bump arenas that are freed whole.
 *
 * An Arena is a list of blocks. Allocations are zeroed and 16-byte
 * aligned; a request larger than the default block size gets a block of
 * its own. Nothing allocated from an arena is freed individually.
 */
#include "nnc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
	ARENA_ALIGN = 16,
	ARENA_BLOCK = 64 * 1024,
};

struct ArenaBlock {
	ArenaBlock *next;
	size_t size;  /* usable bytes in data */
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

static _Noreturn void out_of_memory(void)
{
	fputs("nnc: out of memory\n", stderr);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory();
	return q;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

static size_t align_up(size_t n)
{
	if (n > SIZE_MAX - ARENA_ALIGN)
		out_of_memory();
	return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static ArenaBlock *block_new(size_t size)
{
	if (size > SIZE_MAX - sizeof(ArenaBlock))
		out_of_memory();
	ArenaBlock *b = xcalloc(1, sizeof(ArenaBlock) + size);
	b->size = size;
	return b;
}

void *arena_alloc(Arena *a, size_t n)
{
	n = align_up(n ? n : 1);
	ArenaBlock *b = a->head;
	if (b && b->size - b->used >= n) {
		void *p = b->data + b->used;
		b->used += n;
		return p;
	}
	if (n > ARENA_BLOCK / 4) {
		/* A big request gets its own block, kept behind the current
		 * one so the current block's free space is not wasted. */
		ArenaBlock *big = block_new(n);
		big->used = n;
		if (b) {
			big->next = b->next;
			b->next = big;
		} else {
			a->head = big;
		}
		return big->data;
	}
	b = block_new(ARENA_BLOCK);
	b->next = a->head;
	a->head = b;
	b->used = n;
	return b->data;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(Arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(Arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		ice("arena_printf: bad format '%s'", fmt);
	char *p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void arena_free(Arena *a)
{
	ArenaBlock *b = a->head;
	while (b) {
		ArenaBlock *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
}

/*
 * fuzz_nnc.c - a libFuzzer target over the whole compiler: parse from a
 * memory buffer, sema, lower, autodiff, the passes, plan and emit to a
 * memory stream, exactly as nnc runs them (main.c's translate()).
 *
 * Built with clang -fsanitize=fuzzer,address,undefined (make fuzz). An
 * input is a .nn program of up to 64 KiB; diagnostics go to /dev/null.
 * Every stage runs on the input, so a crash, a sanitizer report or an
 * ice() (an abort) anywhere in nnc is a finding; user errors are not.
 *
 * main.c is included rather than linked so that the harness runs the
 * driver's own pipeline, with its main() renamed out of the way.
 */
#define main nnc_main
#include "main.c"
#undef main

#include <stdint.h>

enum { FUZZ_MAX_INPUT = 64 * 1024 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *quiet;
	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (!quiet && !(quiet = fopen("/dev/null", "w")))
		ice("cannot open /dev/null");
	char *src = xmalloc(size + 1);
	memcpy(src, data, size);
	src[size] = '\0';
	Opts o = {.emit = "c", .opt = 1, .flags = "-O1 --precision=f32"};
	Arena a = {0};
	Diag d;
	size_t len = 0;
	diag_init(&d, quiet);
	Program *p = parse_buffer("fuzz.nn", src, size, &a, &d);
	char *text = p && !d.nerrors ? translate(p, &o, &a, &d, &len) : NULL;
	free(text);
	diag_free(&d);
	arena_free(&a);
	free(src);
	return 0;
}

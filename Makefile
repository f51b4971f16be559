# nnc: one GNU Makefile, no configure step.
#
#   make            build/nnc and build/libnnrt.a
#   make mpi        build/libnnrt_mpi.a and build/nnrt-mpi.pc: the runtime
#                   for data-parallel training under mpirun (Open MPI)
#   make demo       install what is missing, train examples/iris.nn
#   make test       install what is missing, run every test tier
#   make examples   install what is missing, train every example that
#                   compiles (EXAMPLES="iris fashion_mlp" for some), print
#                   each one's metric against its header's threshold
#   make golden     rewrite the golden files (review the diff)
#   make asan       nnc, the unit tests and every example's trainer (each
#                   subcommand) under ASan + UBSan
#   make fuzz       the libFuzzer harnesses over nnc and the runtime's
#                   readers for FUZZ_SECONDS (600) in total
#   make install    PREFIX=/usr/local (DESTDIR too); make uninstall
#   make deps       install the Debian packages the build and the examples need
#   make test-deps  ... and those the tests need (PyTorch for tests/torch)
#   make bench      install what is missing, nnc's trainers against PyTorch,
#                   FANN and the BLAS bound (BENCH_REPS=3): bench/results.md
#   make clean
#
# V=1 shows the commands.

PREFIX  ?= /usr/local
CC      ?= cc
BUILD   := build
WERROR  ?= $(if $(CI),-Werror,)
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
           -Wno-unused-parameter $(WERROR)
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
CPPFLAGS := -D_POSIX_C_SOURCE=200809L -Icompiler -I$(BUILD)/gen -Iruntime -MMD -MP

ifeq ($(V),1)
Q :=
else
Q := @
endif

DEB_PACKAGES := build-essential flex bison pkg-config libopenblas-dev \
                libcunit1-dev zlib1g-dev
# Fashion-MNIST in /usr/share/datasets (the examples that read it; the
# gradcheck tier checks examples/fashion_mlp.nn on a batch of it)
DATA_PACKAGES := dataset-fashion-mnist
# the tests also compare against PyTorch (tests/torch)
# (clang with libFuzzer for tests/fuzz, gcc and clang for the emitted C,
# groff and man-db for the man pages' tier, chromium and strace for the
# report's)
TEST_PACKAGES := $(DEB_PACKAGES) $(DATA_PACKAGES) python3-numpy python3-torch \
                 graphviz clang gcc groff-base man-db chromium strace \
                 openmpi-bin libopenmpi-dev

COMPILER_SRC := $(sort $(wildcard compiler/*.c))
RUNTIME_SRC  := $(filter-out runtime/dist_mpi.c,$(sort $(wildcard runtime/*.c)))
GEN_SRC      := $(BUILD)/gen/parser.c $(BUILD)/gen/lexer.c
COMPILER_OBJ := $(COMPILER_SRC:%.c=$(BUILD)/obj/%.o) \
                $(GEN_SRC:$(BUILD)/gen/%.c=$(BUILD)/obj/gen/%.o)
RUNTIME_OBJ  := $(RUNTIME_SRC:%.c=$(BUILD)/obj/%.o)
LIB_OBJ      := $(filter-out $(BUILD)/obj/compiler/main.o,$(COMPILER_OBJ))
# libnnrt_mpi: the same objects with dist_mpi.o in dist_one.o's place
MPI_OBJ      := $(filter-out $(BUILD)/obj/runtime/dist_one.o,$(RUNTIME_OBJ)) \
                $(BUILD)/obj/runtime/dist_mpi.o
MPICC        ?= mpicc
MPI_CFLAGS    = $(shell $(MPICC) --showme:compile 2>/dev/null)
MPI_LIBS      = $(shell $(MPICC) --showme:link 2>/dev/null)

UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)

all: $(BUILD)/nnc $(BUILD)/libnnrt.a $(BUILD)/nnrt.pc

$(BUILD)/gen/parser.c $(BUILD)/gen/parser.h: grammar/parser.y
	@mkdir -p $(@D)
	@echo "  BISON   $<"
	$(Q)bison -Wall -Werror --defines=$(BUILD)/gen/parser.h -o $(BUILD)/gen/parser.c $<

$(BUILD)/gen/lexer.c $(BUILD)/gen/lexer.h: grammar/lexer.l $(BUILD)/gen/parser.h
	@mkdir -p $(@D)
	@echo "  FLEX    $<"
	$(Q)flex --header-file=$(BUILD)/gen/lexer.h -o $(BUILD)/gen/lexer.c $<

# Generated sources get relaxed warnings: flex output is not ours.
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/gen/parser.h $(BUILD)/gen/lexer.h
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -std=c11 -Wall -Wno-unused-function -Wno-sign-compare -c -o $@ $<

$(BUILD)/obj/compiler/%.o: compiler/%.c $(BUILD)/gen/parser.h $(BUILD)/gen/lexer.h
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/obj/runtime/%.o: runtime/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(BLAS_CFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c $(BUILD)/gen/parser.h $(BUILD)/gen/lexer.h
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/nnc: $(COMPILER_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lm

$(BUILD)/libnnrt.a: $(RUNTIME_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# An uninstalled pkg-config file: PKG_CONFIG_PATH=build pkg-config nnrt
$(BUILD)/nnrt.pc: Makefile
	@mkdir -p $(@D)
	$(Q)printf '%s\n' 'Name: nnrt' 'Description: nnc runtime library' \
	  'Version: 0.1.0' 'Cflags: -I$(CURDIR)/runtime $(BLAS_CFLAGS)' \
	  'Libs: $(CURDIR)/$(BUILD)/libnnrt.a $(BLAS_LIBS) -lz -lm' > $@

# `make mpi`: mpicc model.c $(pkg-config --cflags --libs nnrt-mpi)
mpi: $(BUILD)/libnnrt_mpi.a $(BUILD)/nnrt-mpi.pc

$(BUILD)/obj/runtime/dist_mpi.o: runtime/dist_mpi.c
	@mkdir -p $(@D)
	@echo "  MPICC   $<"
	$(Q)$(MPICC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/libnnrt_mpi.a: $(MPI_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/nnrt-mpi.pc: Makefile
	@mkdir -p $(@D)
	$(Q)printf '%s\n' 'Name: nnrt-mpi' \
	  'Description: nnc runtime library, data-parallel over MPI' \
	  'Version: 0.1.0' 'Cflags: -I$(CURDIR)/runtime $(BLAS_CFLAGS) $(MPI_CFLAGS)' \
	  'Libs: $(CURDIR)/$(BUILD)/libnnrt_mpi.a $(BLAS_LIBS) $(MPI_LIBS) -lz -lm' > $@

$(BUILD)/tests/unit: $(UNIT_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lcunit -lm

# ---------------------------------------------------------------------

deps test-deps: PKGS = $(if $(filter test-deps,$@),$(TEST_PACKAGES),$(DEB_PACKAGES) $(DATA_PACKAGES))
deps test-deps:
	@missing=""; for p in $(PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing </dev/null; \
	fi

demo: deps
	$(MAKE) all
	$(Q)tests/tools/demo.sh

test: test-deps
	$(MAKE) all $(BUILD)/tests/unit
	@# the mpi tier says it skipped when Open MPI is missing
	$(Q)if command -v $(MPICC) >/dev/null; then $(MAKE) mpi; fi
	$(MAKE) fuzz-build
	$(Q)tests/tools/run_tests.sh

# Minutes, not seconds: the Fashion-MNIST examples train here, never in
# `make test`.
examples: deps
	$(MAKE) all
	$(Q)tests/tools/examples.sh $(EXAMPLES)

golden: all
	$(Q)tests/tools/golden.sh --update

# bench/run.py: nnc's trainers (the README's cc -O2 line) against
# PyTorch, FANN and cblas_sgemm, and bench/mpi.sh's 1 against 2 ranks;
# writes bench/results.md and .png.
BENCH_PACKAGES := $(DEB_PACKAGES) $(DATA_PACKAGES) python3-numpy \
                  python3-torch libfann-dev gnuplot-nox openmpi-bin \
                  libopenmpi-dev
bench-deps:
	$(Q)$(MAKE) --no-print-directory deps DEB_PACKAGES="$(BENCH_PACKAGES)" \
	  DATA_PACKAGES=

bench: bench-deps
	$(MAKE) all
	$(Q)/usr/bin/python3 bench/run.py

# nnc and the unit tests under AddressSanitizer and UBSan, then nnc on
# every program in the tree and a sanitized trainer's training run.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
asan: deps
	$(MAKE) BUILD=build/asan CFLAGS="$(ASAN_FLAGS)" build/asan/nnc \
	  build/asan/libnnrt.a build/asan/tests/unit
	UBSAN_OPTIONS=halt_on_error=1 build/asan/tests/unit
	$(Q)for f in examples/*.nn tests/*/*.nn; do \
	  UBSAN_OPTIONS=halt_on_error=1 build/asan/nnc $$f -o build/asan/t.c \
	    2>/dev/null; [ $$? -le 1 ] || { echo "asan: nnc $$f"; exit 1; }; done
	build/asan/nnc examples/iris.nn -o build/asan/iris.c
	$(CC) $(ASAN_FLAGS) -Iruntime build/asan/iris.c build/asan/libnnrt.a \
	  $(BLAS_LIBS) -lz -lm -o build/asan/iris
	@# the trainer's few large buffers live until exit by design: no leak check
	UBSAN_OPTIONS=halt_on_error=1 ASAN_OPTIONS=detect_leaks=0 \
	  build/asan/iris train --epochs 5 --checkpoint build/asan/iris.ckpt
	$(Q)tests/tools/asan_examples.sh
	@echo "asan: ok"

# The libFuzzer harnesses, tests/fuzz/fuzz_nnc.c over the compiler and
# tests/fuzz/fuzz_rt.c over the runtime's readers, built with clang, ASan
# and UBSan into build/fuzz; `make fuzz` runs them for FUZZ_SECONDS in
# total, half each (new inputs in build/fuzz/corpus_new and
# corpus_rt_new, findings as build/fuzz/crash-* and rt-crash-*), `make
# test` once over each corpus.
FUZZ_SECONDS ?= 600
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fsanitize=fuzzer-no-link -fno-omit-frame-pointer
fuzz-build:
	$(MAKE) BUILD=build/fuzz CC=$(FUZZ_CC) CFLAGS="$(FUZZ_FLAGS)" \
	  build/fuzz/fuzz_nnc build/fuzz/fuzz_rt

fuzz: deps fuzz-build
	$(Q)tests/tools/fuzz.sh --run $(FUZZ_SECONDS)

$(BUILD)/fuzz_nnc: tests/fuzz/fuzz_nnc.c $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fsanitize=fuzzer -o $@ $< \
	  $(LIB_OBJ) -lm

MAN_PAGES := docs/man/nnc.1 docs/man/nnrt-trainer.1
MAN1DIR   := $(PREFIX)/share/man/man1

# tests/fuzz/fuzz_rt.c over the runtime's readers: ld's --wrap turns
# the runtime's fatal errors into a longjmp and tracks what it allocates,
# in this link only.
comma := ,
FUZZ_RT_WRAP := $(addprefix -Wl$(comma)--wrap=,nnrt_base_die nnrt_base_alloc \
                nnrt_base_grow nnrt_base_strdup nnrt_base_printf free \
                gzdopen gzclose)

$(BUILD)/fuzz_rt: tests/fuzz/fuzz_rt.c $(BUILD)/libnnrt.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fsanitize=fuzzer -o $@ $< \
	  $(FUZZ_RT_WRAP) $(BUILD)/libnnrt.a $(BLAS_LIBS) -lz -lm

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(MAN1DIR)
	install -m 755 $(BUILD)/nnc $(DESTDIR)$(PREFIX)/bin/nnc
	install -m 644 $(BUILD)/libnnrt.a $(DESTDIR)$(PREFIX)/lib/libnnrt.a
	install -m 644 runtime/nnrt.h $(DESTDIR)$(PREFIX)/include/nnrt.h
	printf '%s\n' 'prefix=$(PREFIX)' 'Name: nnrt' \
	  'Description: nnc runtime library' 'Version: 0.1.0' \
	  'Cflags: -I$${prefix}/include $(BLAS_CFLAGS)' \
	  'Libs: -L$${prefix}/lib -lnnrt $(BLAS_LIBS) -lz -lm' \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nnrt.pc
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MAN1DIR)
	@# the MPI runtime, when `make mpi` built it
	if [ -f $(BUILD)/libnnrt_mpi.a ]; then \
	  install -m 644 $(BUILD)/libnnrt_mpi.a \
	    $(DESTDIR)$(PREFIX)/lib/libnnrt_mpi.a && \
	  printf '%s\n' 'prefix=$(PREFIX)' 'Name: nnrt-mpi' \
	    'Description: nnc runtime library, data-parallel over MPI' \
	    'Version: 0.1.0' \
	    'Cflags: -I$${prefix}/include $(BLAS_CFLAGS) $(MPI_CFLAGS)' \
	    'Libs: -L$${prefix}/lib -lnnrt_mpi $(BLAS_LIBS) $(MPI_LIBS) -lz -lm' \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nnrt-mpi.pc; fi

# Removes what install wrote, not the directories.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/nnc $(DESTDIR)$(PREFIX)/lib/libnnrt.a \
	  $(DESTDIR)$(PREFIX)/include/nnrt.h \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/nnrt.pc \
	  $(DESTDIR)$(PREFIX)/lib/libnnrt_mpi.a \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/nnrt-mpi.pc \
	  $(addprefix $(DESTDIR)$(MAN1DIR)/,$(notdir $(MAN_PAGES)))

clean:
	rm -rf $(BUILD)

.PHONY: all mpi deps test-deps demo test examples golden asan fuzz fuzz-build \
        install uninstall clean bench bench-deps

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

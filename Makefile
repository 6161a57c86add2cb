# pangolin build.
#
#   make            build build/pangolin (BPF skeletons embedded)
#   make SAN=1      the same with ASan + UBSan, in build-san/
#   make test       install dependencies, build both variants, run every test
#   make test-kernels  the kernel matrix alone: Debian kernels under QEMU and this host (docs/kernels.md)
#   make run        install dependencies, build, run the sensor (NDJSON to stdout)
#   make fuzz       build the libFuzzer targets (clang) into build/fuzz/
#   make bench      run the benchmarks in bench/ (not part of the tests)
#   make format     clang-format the lines changed since FORMAT_BASE (default HEAD)
#   make V=1        print the full commands instead of "  CC file"
#
# Sources are discovered: src/*.c is the program, src/bpf/*.bpf.c the kernel side,
# tests/unit/test_*.c the unit tests, fuzz/fuzz_*.c the fuzz targets. Adding a file
# needs no edit here.

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
LLVM_STRIP ?= llvm-strip
PROTOC_C ?= protoc-c
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

ifeq ($(SAN),1)
O        ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT      := -O1 -g
else
O        ?= build
SANFLAGS :=
OPT      := -O2 -g
endif

# Short "  CC file" lines; V=1 prints the full commands.
ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)'
endif

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# The BPF side is compiled once (not per variant) against vmlinux.h from this host's BTF.
# A build host without /sys/kernel/btf/vmlinux can point VMLINUX_BTF at any BTF file of the
# target kernel (for example a vmlinux with .BTF from the kernel's debug package).
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
BPF_OUT  := build/bpf

PKGS     := libbpf libelf zlib jansson rdkafka libprotobuf-c libpcap yaml-0.1 libcurl \
	    libpcre2-8 libmicrohttpd libcap
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldw -liberty -lm -lpthread

CFLAGS   := -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	    -Wstrict-prototypes -Wmissing-prototypes -fno-strict-aliasing \
	    -D_GNU_SOURCE -DPG_VERSION='"$(VERSION)"' \
	    -Isrc -I$(BPF_OUT) -I$(O)/gen $(PKG_CFLAGS) $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  := $(SANFLAGS) $(EXTRA_LDFLAGS)

BPF_SRCS := $(wildcard src/bpf/*.bpf.c)
BPF_OBJS := $(patsubst src/bpf/%.bpf.c,$(BPF_OUT)/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst src/bpf/%.bpf.c,$(BPF_OUT)/%.skel.h,$(BPF_SRCS))

PROTOS   := $(wildcard proto/*.proto)
PROTO_C  := $(patsubst proto/%.proto,$(O)/gen/%.pb-c.c,$(PROTOS))
PROTO_O  := $(PROTO_C:.c=.o)

SRCS     := $(filter-out src/main.c,$(wildcard src/*.c))
OBJS     := $(patsubst src/%.c,$(O)/obj/%.o,$(SRCS)) $(PROTO_O)
LIB      := $(O)/libpangolin.a
BIN      := $(O)/pangolin

TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(TEST_SRCS))

FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))

.PHONY: all deps test test-kernels unit run fuzz bench clean san format format-check
.SUFFIXES:
.SECONDARY:

all: $(BIN) $(TEST_BINS) $(O)/tests/helpers

deps:
	bash scripts/install-deps.sh

# --- BPF -----------------------------------------------------------------------------------
$(BPF_OUT)/vmlinux.h:
	@mkdir -p $(@D)
	@test -r $(VMLINUX_BTF) || { echo "no BTF at $(VMLINUX_BTF): set VMLINUX_BTF=<file with .BTF of the target kernel> (see docs/build.md)"; exit 1; }
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

# DWARF is stripped (-g is there for BTF, which stays): the objects are embedded in the binary.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I$(BPF_OUT) -Isrc

$(BPF_OUT)/%.bpf.o: src/bpf/%.bpf.c $(wildcard src/bpf/*.h) src/pg_abi.h $(BPF_OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DPG_TIER=2 -c $< -o $@ && $(LLVM_STRIP) -g $@

# The sensor once more per older kernel tier (src/bpf/common.bpf.h says what each needs);
# sensor.bpf.o above is tier 2. Userspace loads the best one the kernel accepts.
SENSOR_TIERS := 0 1
BPF_OBJS += $(patsubst %,$(BPF_OUT)/sensor_tier%.bpf.o,$(SENSOR_TIERS))
SKELS    += $(patsubst %,$(BPF_OUT)/sensor_tier%.skel.h,$(SENSOR_TIERS))

$(BPF_OUT)/sensor_tier%.bpf.o: src/bpf/sensor.bpf.c $(wildcard src/bpf/*.h) src/pg_abi.h $(BPF_OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DPG_TIER=$* -c $< -o $@ && $(LLVM_STRIP) -g $@

$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# Fixtures of the unit tests that read BPF objects (tests/unit/bpf/*.bpf.c).
TEST_BPF_OBJS := $(patsubst tests/unit/bpf/%.bpf.c,$(BPF_OUT)/test/%.bpf.o,$(wildcard tests/unit/bpf/*.bpf.c))

$(BPF_OUT)/test/%.bpf.o: tests/unit/bpf/%.bpf.c $(BPF_OUT)/vmlinux.h
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# --- protobuf ------------------------------------------------------------------------------
$(O)/gen/%.pb-c.c $(O)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	$(call msg,PROTOC,$<)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(O)/gen $<

$(O)/gen/%.pb-c.o: $(O)/gen/%.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(filter-out -Wmissing-prototypes -Wstrict-prototypes,$(CFLAGS)) -c $< -o $@

# --- generated tables ----------------------------------------------------------------------
# Syscall number -> name for the build's architecture, from the C library's <sys/syscall.h>:
# the preprocessor lists the __NR_ names and the compiler evaluates their numbers.
%/gen/syscall_names.h:
	@mkdir -p $(@D)
	echo '#include <sys/syscall.h>' | $(CC) -dM -E -x c - | sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\1/p' | \
		sort -u | awk '{ printf "#ifdef __NR_%s\n\t{ __NR_%s, \"%s\" },\n#endif\n", $$1, $$1, $$1 }' > $@.tmp
	mv $@.tmp $@

# --- userspace -----------------------------------------------------------------------------
$(O)/obj/%.o: src/%.c $(wildcard src/*.h) $(SKELS) $(PROTO_C) $(O)/gen/syscall_names.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(OBJS)
	@rm -f $@
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

$(BIN): src/main.c $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(PKG_LIBS) -o $@

# --- tests ---------------------------------------------------------------------------------
$(O)/tests/test_%: tests/unit/test_%.c $(LIB) $(wildcard tests/unit/*.h) $(TEST_BPF_OBJS)
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(LIB) $(LDFLAGS) $(PKG_LIBS) -lcmocka -o $@

# Small C workload programs the integration tests and benchmarks drive.
$(O)/tests/helpers: $(wildcard tests/helpers/*.c)
	@mkdir -p $(O)/tests
	@for f in $^; do \
		n=$$(basename $$f .c); \
		printf "  %-8s %s\n" CC $(O)/tests/$$n; \
		$(CC) -std=gnu11 -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Werror $$f -o $(O)/tests/$$n -lpthread -luring || exit 1; \
	done
	@touch $@

# --- fuzzing (clang libFuzzer; always with ASan + UBSan) -----------------------------------
# The library is rebuilt with clang and coverage instrumentation; targets link the archive, so
# each pulls in only the objects it uses.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=address,undefined -D_GNU_SOURCE -DPG_VERSION='"fuzz"' \
	       -Isrc -I$(BPF_OUT) -Ibuild/fuzz/gen $(PKG_CFLAGS)
FUZZ_OBJS := $(patsubst src/%.c,build/fuzz/obj/%.o,$(SRCS)) \
	     $(patsubst proto/%.proto,build/fuzz/gen/%.pb-c.o,$(PROTOS))

build/fuzz/obj/%.o: src/%.c $(wildcard src/*.h) $(SKELS) $(patsubst proto/%.proto,build/fuzz/gen/%.pb-c.c,$(PROTOS)) \
		build/fuzz/gen/syscall_names.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/gen/%.pb-c.c build/fuzz/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(@D)
	$(call msg,PROTOC,$<)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=build/fuzz/gen $<

build/fuzz/gen/%.pb-c.o: build/fuzz/gen/%.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/libpangolin.a: $(FUZZ_OBJS)
	@rm -f $@
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

build/fuzz/fuzz_%: fuzz/fuzz_%.c build/fuzz/libpangolin.a
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< build/fuzz/libpangolin.a $(PKG_LIBS) -o $@

fuzz: $(FUZZ_BINS)

# --- entry points --------------------------------------------------------------------------
test: deps
	$(MAKE) all
	$(MAKE) SAN=1 all
	$(MAKE) fuzz
	bash tests/run

test-kernels: deps
	$(MAKE) all
	bash tests/run kernels

# NDJSON even on a terminal (where `pangolin run` alone prints its compact lines for people)
run: deps
	$(MAKE) $(BIN)
	$(BIN) run --format ndjson

bench: all
	bash bench/run

san:
	$(MAKE) SAN=1 all

# Format what a change touched, with .clang-format (kernel style, 100 columns): the lines
# changed since FORMAT_BASE (HEAD: uncommitted work; FORMAT_BASE=main for a branch).
# Whole files are not reformatted: the tree predates the style file and lays out its tables
# by hand, and clang-format would rewrite about 9 % of its lines (2,900 of 33,000, measured
# with clang-format 14), most of them tables.
FORMAT_BASE ?= HEAD

format:
	git clang-format --force --extensions c,h $(FORMAT_BASE)

# The same as a check: prints the changes format would make, fails when there are some.
format-check:
	@out=$$(git clang-format --diff --extensions c,h $(FORMAT_BASE)) || exit 1; \
	case "$$out" in *"diff --git"*) printf '%s\n' "$$out"; exit 1;; esac; echo "format: ok"

clean:
	rm -rf build build-san

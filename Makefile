# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# One entry point: make (build), make test, make check-unit, make clean.
# `make ARCH=arm64` on an x86 host cross-builds goleaktrace-arm64 under
# .output/arm64 (tools/setup.sh --arm64 installs the cross toolchain and
# the arm64 libraries), so it never clobbers the host build.
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH ?= $(HOST_ARCH)

ifeq ($(filter $(ARCH),x86 arm64),)
$(error unsupported ARCH '$(ARCH)': goleaktrace supports x86 and arm64)
endif

ifeq ($(ARCH),$(HOST_ARCH))
OUTPUT := .output
APP := goleaktrace
else
OUTPUT := .output/$(ARCH)
APP := goleaktrace-$(ARCH)
CROSS_COMPILE_x86 := x86_64-linux-gnu-
CROSS_COMPILE_arm64 := aarch64-linux-gnu-
CROSS_COMPILE ?= $(CROSS_COMPILE_$(ARCH))
# Not ?=: make's built-in CC (cc) would win.
CC := $(CROSS_COMPILE)gcc
AR := $(CROSS_COMPILE)ar
CROSS := 1
endif

# `make SANITIZE=1 check-unit`: the unit tests under ASan and UBSan (the
# parsers read untrusted binaries), everything built apart in .output/san.
# `make test SANITIZE=1`: the whole suite on those builds (tests/run.sh
# picks them, with leak detection on and halting at the first error).
ifneq ($(SANITIZE),)
OUTPUT := $(OUTPUT)/san
APP := $(OUTPUT)/$(APP)
SAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
endif

VMLINUX := vmlinux/$(ARCH)/vmlinux.h
CFLAGS ?= -g -O2
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -I$(OUTPUT) -Iuser -Ibpf
CFLAGS += $(SAN_CFLAGS)
# libbpf is linked statically so the tool is one self-contained binary.
# libmicrohttpd: the --metrics server (not in make static, see there).
LDLIBS := -Wl,-Bstatic -lbpf -lprotobuf-c -Wl,-Bdynamic -ldw -lelf -lz \
	-lmicrohttpd -lpthread
PROTOC_C ?= protoc-c

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
# proto/*.proto -> .output/proto/*.pb-c.{c,h} (protoc-c), into the library.
PROTO_SRCS := $(wildcard proto/*.proto)
PROTO_OBJS := $(patsubst proto/%.proto,$(OUTPUT)/proto/%.pb-c.o,$(PROTO_SRCS))
PROTO_HDRS := $(PROTO_OBJS:.o=.h)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
# Dev tools the tests drive (tools/symbolize.c: the symbolizer for scripts).
DEV_TOOLS := $(OUTPUT)/symbolize

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean test check-unit unit-tests

all: $(APP) unit-tests $(DEV_TOOLS)

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/%.tmp.bpf.o: bpf/%.bpf.c bpf/*.h $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-Ivmlinux/$(ARCH) -Ibpf -c $< -o $@

$(OUTPUT)/%.bpf.o: $(OUTPUT)/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/user/%.o: user/%.c user/*.h user/*.inc bpf/*.h $(BPF_SKELS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/proto:
	$(Q)mkdir -p $@

$(OUTPUT)/proto/%.pb-c.c $(OUTPUT)/proto/%.pb-c.h: proto/%.proto | $(OUTPUT)/proto
	$(call msg,PROTOC,$@)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(OUTPUT)/proto $<

$(OUTPUT)/proto/%.pb-c.o: $(OUTPUT)/proto/%.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# The reporters include the generated headers.
$(USER_OBJS) $(OUTPUT)/user/main.o: $(PROTO_HDRS)

$(OUTPUT)/libgoleaktrace.a: $(USER_OBJS) $(PROTO_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(APP): $(OUTPUT)/user/main.o $(OUTPUT)/libgoleaktrace.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c tests/unit/*.h $(OUTPUT)/libgoleaktrace.a | $(OUTPUT)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(OUTPUT)/libgoleaktrace.a $(LDLIBS) -o $@

unit-tests: $(UNIT_BINS)

$(DEV_TOOLS): $(OUTPUT)/%: tools/%.c $(OUTPUT)/libgoleaktrace.a | $(OUTPUT)
	$(call msg,CC-TOOL,$@)
	$(Q)$(CC) $(CFLAGS) $< $(OUTPUT)/libgoleaktrace.a $(LDLIBS) -o $@

ifdef CROSS
check-unit test:
	$(error $(ARCH) binaries are built here, not run: use `make $@` on the host)
else
# Unit tests only (no root, no Go toolchains needed beyond built fixtures).
check-unit: unit-tests
	$(Q)UNIT_DIR=$(OUTPUT)/tests tests/run.sh --unit

test: all
	$(Q)SANITIZE=$(SANITIZE) tests/run.sh
endif

# make fuzz: every libFuzzer target in tests/fuzz/ for FUZZ_SECONDS each
# (tools/fuzz.sh: clang with ASan+UBSan, seeded from tests/.build).
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	$(Q)tools/fuzz.sh $(FUZZ_SECONDS)

# make static: $(APP)-static, with no runtime dependency (libc included),
# to copy into a debug pod or onto a node (tools/k8s/). The archives'
# own dependencies come from pkg-config --static; a cross build asks the
# target architecture's .pc files (Debian multiarch).
PKG_CONFIG ?= pkg-config
PC_TRIPLET_x86 := x86_64-linux-gnu
PC_TRIPLET_arm64 := aarch64-linux-gnu
STATIC_PC := $(if $(CROSS),PKG_CONFIG_LIBDIR=/usr/lib/$(PC_TRIPLET_$(ARCH))/pkgconfig:/usr/share/pkgconfig) \
	$(PKG_CONFIG) --static --libs libbpf libdw libelf libprotobuf-c zlib

.PHONY: static
static: $(APP)-static

# Without --metrics: Debian's libmicrohttpd.a needs GnuTLS, whose
# libgnutls.a needs p11-kit, of which Debian ships no static library.
# The object without the server comes before the archive, so the
# archive's report_metrics.o is never pulled in.
$(OUTPUT)/user/report_metrics-static.o: user/report_metrics.c user/*.h bpf/*.h $(PROTO_HDRS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -DGLT_NO_MICROHTTPD -c $< -o $@

$(APP)-static: $(OUTPUT)/user/main.o $(OUTPUT)/user/report_metrics-static.o $(OUTPUT)/libgoleaktrace.a
	$(call msg,LINK,$@)
	$(Q)libs=$$($(STATIC_PC)) && $(CC) $(CFLAGS) -static $^ $$libs -o $@

# The host's clean also removes the cross builds: they live in .output/ too.
clean:
	rm -rf $(OUTPUT) $(APP) $(APP)-static $(if $(CROSS),,goleaktrace-x86 \
		goleaktrace-arm64 goleaktrace-arm64-static)

# make bench: the overhead benchmark, tools/bench/run.sh (root; about
# 13 min; BENCH_ROUNDS, BENCH_SECONDS, BENCH_GO, BENCH_WORKLOADS shorten
# it). floor is its lower bound: empty BPF programs at goleaktrace's probes.
BENCH_DIR := $(OUTPUT)/bench

$(BENCH_DIR):
	$(Q)mkdir -p $@

$(BENCH_DIR)/%.tmp.bpf.o: tools/bench/%.bpf.c $(VMLINUX) | $(BENCH_DIR)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-Ivmlinux/$(ARCH) -c $< -o $@

$(BENCH_DIR)/floor: tools/bench/floor.c $(BENCH_DIR)/floor.skel.h $(OUTPUT)/libgoleaktrace.a
	$(call msg,CC-TOOL,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH_DIR) $< $(OUTPUT)/libgoleaktrace.a $(LDLIBS) -o $@

# tools/bench/scale.sh's pipeline timer.
$(BENCH_DIR)/scale: tools/bench/scale.c $(OUTPUT)/libgoleaktrace.a | $(BENCH_DIR)
	$(call msg,CC-TOOL,$@)
	$(Q)$(CC) $(CFLAGS) $< $(OUTPUT)/libgoleaktrace.a $(LDLIBS) -o $@

.PHONY: bench
ifdef CROSS
bench:
	$(error the benchmark runs on the host: use `make bench` without ARCH)
else
bench: $(APP) $(BENCH_DIR)/floor
	$(Q)tools/bench/run.sh
endif

# harvestbench build.
#
#   make            build/harvestbench (and the workload binaries under build/workloads/)
#   make demo       install what is missing, build, run configs/demo.ini on the simulator and
#                   compare its policies (results/demo/comparison.md, plots/)
#   make check      install what is missing, build, run the CI gate and every test, also under
#                   ASan+UBSan, then each fuzz target for 30 s (tests/check.sh; every phase runs)
#   make ci-bench   the CI regression gate: configs/ci.ini checked against results/ci-baseline/
#   make ci-baseline  refresh results/ci-baseline/ after an intended change (docs/ci.md)
#   make sensitivity  Libra's sensitivity map: every sweep of configs/sensitivity*.ini into
#                   results/sensitivity/ with heatmaps (docs/libra.md; under 2 min on 2 cores)
#   make bench      the simulator benchmark (harvestbench bench)
#   make soak       a 10-minute soak of `harvestbench serve` on loopback (tests/soak/soak.sh;
#                   SOAK_SECONDS=N for another length); not part of make check
#   make freyr-demo retrain configs/freyr-demo.json, the Freyr checkpoint of the demo (~20 s)
#   make freyr-paper  retrain configs/freyr-paper.json, that of configs/paper.ini (~10 s)
#   make fuzz       build the libFuzzer targets of tests/fuzz/ (clang, ASan+UBSan) and run each for
#                   FUZZ_SECONDS seconds (default 60), FUZZ_JOBS at a time (docs/fuzzing.md)
#   make install    PREFIX=DIR (default /usr/local), DESTDIR honoured: binary, headers, library and
#                   harvestbench.pc, for policies built out of tree (docs/policies.md)
#   make clean
#
# SAN=1 builds into build/asan with AddressSanitizer and UndefinedBehaviorSanitizer.
# FUZZ=1 builds into build/fuzz with clang, coverage for libFuzzer, ASan and UBSan (make fuzz).

CC       ?= cc
PKG      ?= pkg-config
PKGS     := libcjson gsl inih libcurl libmicrohttpd libzip zlib hiredis
ifeq ($(FUZZ),1)
BUILD    ?= build/fuzz
CC       := $(or $(FUZZ_CC),clang)
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
OPT      ?= -O1
else ifeq ($(SAN),1)
BUILD    ?= build/asan
SANFLAGS := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT      ?= -O1
else
BUILD    ?= build
SANFLAGS :=
OPT      ?= -O2
endif

PKG_CFLAGS := $(shell $(PKG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG) --libs $(PKGS) 2>/dev/null)

# harness/ is split by stage (docs/architecture.md): core, backends, results, analysis, cli.
HARNESS_INC := -Iharness/core -Iharness/results -Iharness/analysis -Iharness/cli -Iharness/backends \
               -Ipolicies
CPPFLAGS += -Iinclude $(HARNESS_INC) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(PKG_CFLAGS)
# The wall (docs/architecture.md, "Walls"): policies/ is compiled with include/ only (and, implicitly,
# each file's own folder and the system and library headers), so a policy that includes a harness
# header fails to build. tests/e2e/walls.sh proves it with tests/walls/*.c, built by the same rule.
POLICY_CPPFLAGS := $(filter-out $(HARNESS_INC),$(CPPFLAGS))
CFLAGS   += -std=c17 -Wall -Wextra -Wpedantic -Werror -g $(OPT) $(SANFLAGS) -MMD -MP
LDFLAGS  += $(SANFLAGS)
LDLIBS   += $(PKG_LIBS) -lcsv -lxgboost -lm -lpthread

VERSION    := 0.1.0
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

# Every .c under harness/ and policies/ is part of the library; main.c is the program.
LIB_SRC  := $(filter-out harness/cli/main.c,$(sort $(wildcard harness/*/*.c harness/*/*/*.c \
                                                   policies/*.c policies/*/*.c)))
LIB_ASM  := harness/core/embedded_data.S
# policies/ is built with include/ only (POLICY_CPPFLAGS; docs/architecture.md, "The walls").
POLICY_SRC := $(filter policies/%,$(LIB_SRC))
POLICY_OBJ := $(POLICY_SRC:%.c=$(BUILD)/obj/%.o)
WALL_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/walls/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_ASM:%.S=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libharvestbench.a
BIN      := $(BUILD)/harvestbench

TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_CFLAGS := $(shell $(PKG) --cflags check 2>/dev/null)
TEST_LIBS   := $(shell $(PKG) --libs check 2>/dev/null)

# workloads/workloads.mk adds the workload binaries and their own test binaries.
WORKLOAD_BINS  :=
EXTRA_TEST_BIN :=
-include workloads/workloads.mk

.PHONY: all demo check test test-san bench clean deps paper sensitivity install FORCE ci-bench ci-baseline freyr-demo freyr-paper soak
all: $(BIN) $(WORKLOAD_BINS)

deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(POLICY_OBJ) $(WALL_OBJ): $(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(POLICY_CPPFLAGS) $(CFLAGS) -c $< -o $@

# The predictor table is compiled in, so the binary runs from any directory.
$(BUILD)/obj/harness/core/embedded_data.o: harness/core/embedded_data.S data/libra-artifact-predictors.csv
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

# version.o carries the commit: rebuilt when the commit changes (the stamp is rewritten only then).
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(VERSION) $(GIT_COMMIT)' | cmp -s - $@ || echo '$(VERSION) $(GIT_COMMIT)' > $@
$(BUILD)/obj/harness/core/version.o: harness/core/version.c $(BUILD)/version.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DHB_VERSION='"$(VERSION)"' -DHB_GIT_COMMIT='"$(GIT_COMMIT)"' -c $< -o $@
FORCE:

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The binary exports the policy API, every function and object include/ declares (and nothing else),
# so that a policy loaded with --policy-lib resolves it there (docs/policies.md, "A policy out of
# tree"); --undefined pulls each one out of the archive even when no built-in policy calls it.
comma    := ,
API_SYMS := $(shell sh scripts/api_symbols.sh include/*.h)
API_LIST := $(BUILD)/api.dynlist
$(API_LIST): $(wildcard include/*.h) scripts/api_symbols.sh
	@mkdir -p $(dir $@)
	sh scripts/api_symbols.sh --dynamic-list include/*.h > $@

$(BIN): $(BUILD)/obj/harness/cli/main.o $(LIB) $(API_LIST)
	$(CC) $(LDFLAGS) -Wl,--dynamic-list=$(API_LIST) $(addprefix -Wl$(comma)--undefined=,$(API_SYMS)) \
	    $(BUILD)/obj/harness/cli/main.o $(LIB) $(LDLIBS) -o $@

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the public headers (in
# include/harvestbench/), the static library and harvestbench.pc (docs/policies.md). A policy
# compiled as a plugin needs `pkg-config --cflags harvestbench` only; --libs is for programs that
# link the library.
PREFIX  ?= /usr/local
INSTALL ?= install
install: $(BIN) $(LIB)
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/harvestbench \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/harvestbench
	$(INSTALL) -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/harvestbench/
	$(INSTALL) -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libharvestbench.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES@|$(PKGS)|' \
	    harvestbench.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/harvestbench.pc
	@chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/harvestbench.pc

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(TEST_CFLAGS) -Itests $< $(LIB) $(LDFLAGS) $(LDLIBS) $(TEST_LIBS) -o $@

# Unit tests, then the end-to-end tests against the built binary.
test: all $(TEST_BIN) $(EXTRA_TEST_BIN)
	@sh tests/run.sh $(BUILD)

test-san:
	@$(MAKE) --no-print-directory SAN=1 test

# every phase runs even when one fails; the closing line adds them up (tests/check.sh)
check: deps
	@MAKE="$(MAKE)" FUZZ_SECONDS=30 sh tests/check.sh

# libFuzzer targets (docs/fuzzing.md): tests/fuzz/fuzz_*.c, linked against the library built with
# FUZZ=1; each runs from its committed seed corpus (tests/fuzz/corpus/NAME), new inputs go to
# build/fuzz/corpus/NAME and crashes to build/fuzz/crashes/. Fails on any crash, leak, timeout or
# sanitizer report.
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzzers/%)

# the targets also check that no control byte of the input reaches an error message
FUZZ_DEFS    := -DFUZZ_MESSAGES_ESCAPED

$(BUILD)/fuzzers/%: tests/fuzz/%.c tests/fuzz/fuzz_util.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(FUZZ_DEFS) $(CFLAGS) -Itests/fuzz $< $(LIB) $(LDFLAGS) -fsanitize=fuzzer $(LDLIBS) -o $@

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BIN)

fuzz: deps
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-build
	@sh tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_JOBS)

demo: deps
	@$(MAKE) --no-print-directory all
	$(BIN) run configs/demo.ini
	$(BIN) compare results/demo

# The Libra evaluation's load sweep (configs/paper.ini, docs/libra.md).
paper: deps
	@$(MAKE) --no-print-directory all
	sh scripts/paper.sh configs/paper.ini results/paper

# Libra's sensitivity map: configs/sensitivity.ini and configs/sensitivity/*.ini (docs/libra.md).
sensitivity: deps
	@$(MAKE) --no-print-directory all
	HB=$(BIN) JOBS=$$(nproc) sh scripts/sensitivity.sh results/sensitivity

bench: deps
	@$(MAKE) --no-print-directory all
	$(BIN) bench

# The CI regression gate (docs/ci.md): a small benchmark on the simulator, checked against the
# committed baseline; fails on a significant regression of more than 10%.
ci-bench: all
	@rm -rf $(BUILD)/ci-bench
	$(BIN) run configs/ci.ini --out $(BUILD)/ci-bench --quiet
	$(BIN) check $(BUILD)/ci-bench --against results/ci-baseline

# Rewrites the committed baseline (only what `check` reads: manifest, invocations, summaries).
ci-baseline: all
	rm -rf results/ci-baseline
	$(BIN) run configs/ci.ini --out results/ci-baseline --quiet
	rm -rf results/ci-baseline/*/seed-*/artifact results/ci-baseline/*/seed-*/usage.csv

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj $(BUILD)/tests $(BUILD)/fuzzers -name '*.d' 2>/dev/null)

# The Freyr checkpoint configs/demo.ini loads: 50 PPO episodes on the demo trace in the simulator
# (docs/policies.md, "freyr"). The result is committed; this regenerates it, byte for byte.
freyr-demo: $(BIN)
	$(BIN) train freyr configs/demo.ini --episodes 50 --seed 1 --out configs/freyr-demo.json \
	    --curve build/freyr-demo-curve.csv

# The Freyr checkpoint configs/paper.ini loads: 50 episodes at the middle load level, k = 12.
freyr-paper: $(BIN)
	$(BIN) train freyr configs/paper.ini --set trace.per_minute=12 --episodes 50 --seed 1 \
	    --out configs/freyr-paper.json --curve build/freyr-paper-curve.csv

soak: $(BIN)
	HB=$(BIN) sh tests/soak/soak.sh

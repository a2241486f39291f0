# workloads.mk - the ten benchmark functions (included by the top Makefile).
#
#   $(BUILD)/workloads/<id>          one static binary per function (runtime + the function)
#   $(BUILD)/tests/test_wl_*         their tests (tests/workloads/*.c), run by tests/run.sh
#
# The binaries are linked with -static so they run in any container image. ASan cannot link
# statically, so under SAN=1 they are linked dynamically with the sanitizer flags instead.

# This file is included before the top Makefile's first rule: keep `all` the default goal.
.DEFAULT_GOAL := all

WL_IDS     := dh eg ip vp ir knn alu ms gd dv
WL_RT_SRC  := workloads/runtime/runtime.c workloads/runtime/sampler.c
WL_RT_OBJ  := $(WL_RT_SRC:%.c=$(BUILD)/obj/%.o)
WL_FN_SRC  := $(foreach id,$(WL_IDS),$(wildcard workloads/$(id)/*.c))
WL_FN_OBJ  := $(WL_FN_SRC:%.c=$(BUILD)/obj/%.o)
WL_LIBS    := -ljansson -lgsl -lgslcblas -lz -lm -lpthread
ifeq ($(SAN),1)
WL_LDFLAGS := $(SANFLAGS)
else
WL_LDFLAGS := -static
endif

WORKLOAD_BINS += $(WL_IDS:%=$(BUILD)/workloads/%)

$(BUILD)/obj/workloads/%.o: CPPFLAGS += -Iworkloads/runtime -Iworkloads

# One entry point, compiled once per function with the name of its wl_function.
$(BUILD)/obj/workloads/main_%.o: workloads/runtime/main.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DWL_FUNC=wl_fn_$* -c $< -o $@

# A function that reuses another's code names it here (dh renders numbers sorted by ms's sort).
WL_USES_dh := ms

define WL_BIN_RULE
$$(BUILD)/workloads/$(1): $$(BUILD)/obj/workloads/main_$(1).o $$(WL_RT_OBJ) \
        $$(patsubst %.c,$$(BUILD)/obj/%.o,$$(wildcard $$(foreach d,$(1) $$(WL_USES_$(1)),workloads/$$(d)/*.c)))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(WL_LDFLAGS) $$^ $$(WL_LIBS) -o $$@
endef
$(foreach id,$(WL_IDS),$(eval $(call WL_BIN_RULE,$(id))))

# Tests: each tests/workloads/test_wl_*.c links every function and the runtime (not main).
WL_TEST_SRC := $(sort $(wildcard tests/workloads/test_wl_*.c))
EXTRA_TEST_BIN += $(WL_TEST_SRC:tests/workloads/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/test_wl_%: tests/workloads/test_wl_%.c $(WL_FN_OBJ) $(WL_RT_OBJ) $(WORKLOAD_BINS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Iworkloads/runtime -Iworkloads $(CFLAGS) $(TEST_CFLAGS) -Itests $< \
	    $(WL_FN_OBJ) $(WL_RT_OBJ) $(LDFLAGS) $(WL_LIBS) $(TEST_LIBS) -o $@

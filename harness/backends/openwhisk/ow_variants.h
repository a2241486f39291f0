/* ow_variants.h - the size variants of the ten functions deployed on an OpenWhisk API host, and
 * which one a sizing decision invokes.
 *
 * An OpenWhisk action has one memory limit and no per-invocation size, so the harness deploys each
 * function several times and invokes the variant nearest above the (cpu, memory) a policy chose
 * (BRIEF section 3). The grid (docs/openwhisk.md):
 *   stock       one variant per memory size: every 128 MB step inside the function's memory clip
 *               range [function.ID] mem_clip_mb, plus its user memory. CPU is not a limit on stock
 *               OpenWhisk: a container gets CPU shares in proportion to its memory, so the applied
 *               CPU is memory / invoker memory x invoker cores. Named PREFIX<id>-m<MB>.
 *   libra-fork  one variant per (cores, 128 MB units) inside the CPU and memory clip ranges (whole
 *               cores 1..8, units 1..8), plus the user configuration rounded up; the action's memory
 *               limit is the fork's encoding (cores - 1) x 8 + units (libra-algorithm section 2)
 *               and the fork applies both as hard limits. Named PREFIX<id>-c<cores>-m<MB>.
 * `deploy` and the backend build the same grid from the same configuration. */
#ifndef HB_OW_VARIANTS_H
#define HB_OW_VARIANTS_H

#include <stddef.h>

#include "hb_error.h"
#include "hb_policy.h"
#include "hb_types.h"

typedef enum ow_flavor { OW_STOCK, OW_LIBRA_FORK } ow_flavor;

typedef struct ow_variant {
    int func;                          /* index into hb_functions */
    char name[96];                     /* the action's name */
    int cores;                         /* libra-fork: the core limit; stock: 0 (shares) */
    int mem_mb;                        /* the memory the container gets */
    int limit_memory;                  /* what goes in limits.memory */
    hb_res applied;                    /* the allocation the call runs with (for the records) */
    int cpu_hard;                      /* 1 when CPU is a quota (libra-fork) */
} ow_variant;

typedef struct ow_grid {
    ow_flavor flavor;
    ow_variant *v;
    size_t n;
    size_t first[HB_NWORKLOADS], count[HB_NWORKLOADS];   /* each function's variants */
} ow_grid;

/* Builds the grid for the functions' clip ranges and user configurations; invoker capacity gives
 * the CPU share of a memory size on stock OpenWhisk. */
int ow_grid_build(ow_flavor flavor, const char *prefix, const hb_func_config *funcs,
                  hb_res invoker, ow_grid *g, hb_error *err);
void ow_grid_free(ow_grid *g);

/* The variant that serves a call of func sized to alloc: the smallest one at least as large in
 * every limit the flavor applies; if none is, the largest. */
const ow_variant *ow_grid_pick(const ow_grid *g, int func, hb_res alloc);
/* The variant of the function's user configuration. */
const ow_variant *ow_grid_user(const ow_grid *g, int func, const hb_func_config *funcs);

const char *ow_flavor_name(ow_flavor f);

#endif

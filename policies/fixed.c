/* fixed.c - the Libra deployment's baseline: every call gets its user (CPU, memory) as hard limits
 * (a CPU quota, as the fork's `docker run --cpus`), placed by join-shortest-queue. */
#include "policies.h"

static int fixed_size(void *state, const hb_invocation *inv, const hb_observation *obs,
                      hb_sizing *out, hb_error *err)
{
    (void)state;
    (void)obs;
    (void)err;
    out->alloc = inv->user;
    out->reserve = inv->user;
    out->cpu_hard = 1;
    return 0;
}

const hb_policy_ops hb_policy_fixed = {
    .name = "fixed",
    .summary = "the user's CPU and memory as hard limits, join-shortest-queue placement",
    .size = fixed_size,
    .place = hb_place_jsq_hook,
    .artifact_name = "FixedRM",
};

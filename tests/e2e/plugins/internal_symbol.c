/* A policy that calls a harness function outside include/ (the binary does not export it): loading
 * fails at once with the undefined symbol, not in the middle of a run (tests/e2e/outoftree.sh). */
#include "hb_policy.h"

int hb_engine_run(const void *spec, hb_error *err);   /* harness/core/engine.h: not the API */

static int create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    (void)ctx;
    *state = NULL;
    return hb_engine_run(NULL, err);
}

static const hb_policy_ops sneaky = {.name = "sneaky", .create = create};

HB_POLICY_PLUGIN(&sneaky);

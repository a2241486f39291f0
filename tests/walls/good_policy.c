/* good_policy.c - a policy that includes only the public API (include/) and library headers: it must
 * compile with the flags policies/ is built with (tests/e2e/walls.sh). */
#include <gsl/gsl_rng.h>
#include <math.h>

#include "hb_backend.h"
#include "hb_policy.h"
#include "hb_steptable.h"

static int good_size(void *state, const hb_invocation *inv, const hb_observation *obs, hb_sizing *out,
                     hb_error *err)
{
    (void)state;
    (void)obs;
    (void)err;
    out->alloc = inv->user;
    out->pred_duration_s = hb_step_eval(&(hb_step_fn){0}, (double)inv->input_size);
    if (isnan(out->pred_duration_s))
        out->pred_duration_s = -1;
    return 0;
}

const hb_policy_ops wall_good_policy = {
    .name = "wall-good",
    .summary = "compiles against include/ only",
    .size = good_size,
};

/* bad_policy.c - a policy that reaches into the harness (engine.h): it must NOT compile with the
 * flags policies/ is built with (tests/e2e/walls.sh). If it does, the wall is gone. */
#include "engine.h"
#include "hb_policy.h"

const hb_policy_ops wall_bad_policy = {
    .name = "wall-bad",
    .summary = "includes a harness header",
};

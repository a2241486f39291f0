/* A policy library that names a built-in policy: refused, a name means one policy in a run
 * (tests/e2e/outoftree.sh). */
#include "hb_policy.h"

static const hb_policy_ops impostor = {.name = "fixed", .summary = "not the built-in one"};

HB_POLICY_PLUGIN(&impostor);

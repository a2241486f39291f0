/* A shared object with a policy table but no entry symbol (HB_POLICY_PLUGIN forgotten): refused
 * (tests/e2e/outoftree.sh). */
#include "hb_policy.h"

extern const hb_policy_ops orphan;
const hb_policy_ops orphan = {.name = "orphan"};

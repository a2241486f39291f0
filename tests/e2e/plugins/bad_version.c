/* A policy library built for another policy API version: `run --policy-lib` must refuse it, naming
 * the file and both versions (tests/e2e/outoftree.sh). */
#include "hb_policy.h"

static const hb_policy_ops future = {.name = "future", .summary = "from a later harvestbench"};
static const hb_policy_ops *const list[] = {&future, NULL};

extern const hb_policy_plugin_info hb_policy_plugin;
const hb_policy_plugin_info hb_policy_plugin = {HB_POLICY_API_VERSION + 1, sizeof(hb_policy_ops),
                                                list};

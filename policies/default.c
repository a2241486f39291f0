/* default.c - stock OpenWhisk: the user's memory as the container's limit, CPU as shares in
 * proportion to memory (no CPU limit: a container may use idle cores), and the sharding/home-invoker
 * balancer. Every hook is the engine's default, so this policy is an empty table. */
#include "policies.h"

const hb_policy_ops hb_policy_default = {
    .name = "default",
    .summary = "stock OpenWhisk: memory limit, CPU shares by memory, home-invoker placement",
    .artifact_name = "OpenWhisk",
};

/* placement.h - the engine's side of the built-in placements (placement.c; the policy side is
 * hb_place_sharding and hb_place_jsq in include/hb_policy.h).
 *
 * OpenWhisk's sharding balancer routes an action by its name alone: a home invoker and a step. The
 * engine computes them once per trace function instead of hashing the name at every call. */
#ifndef HB_PLACEMENT_H
#define HB_PLACEMENT_H

#include "hb_policy.h"

typedef struct hb_shard_route {
    int home, step;                    /* step >= 1; a zeroed route is one not computed yet */
} hb_shard_route;

/* The route of the action "guest/NAME" among n >= 1 invokers. */
hb_shard_route hb_sharding_route(const char *name, int n);
/* hb_place_sharding with the call's route already known. */
int hb_place_sharding_routed(hb_shard_route r, const hb_invocation *inv, const hb_cluster_view *v);
/* The action name the sharding balancer hashes for a call. */
const char *hb_sharding_name(const hb_invocation *inv);

#endif

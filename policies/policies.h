/* policies.h - the built-in policies, one hb_policy_ops table each (see include/hb_policy.h and
 * docs/policies.md). policies/registry.c lists them by name. */
#ifndef HB_POLICIES_H
#define HB_POLICIES_H

#include "hb_policy.h"

extern const hb_policy_ops hb_policy_greedy;   /* policies/greedy.c */
extern const hb_policy_ops hb_policy_ensure;   /* policies/ensure.c */
extern const hb_policy_ops hb_policy_freyr;    /* policies/freyr/freyr.c */

#endif

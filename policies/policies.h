/* policies.h - the built-in policies (one hb_policy_ops each; harness/core/registry.c lists them). */
#ifndef HB_POLICIES_H
#define HB_POLICIES_H

#include "hb_policy.h"

extern const hb_policy_ops hb_policy_default;
extern const hb_policy_ops hb_policy_fixed;
extern const hb_policy_ops hb_policy_libra;
extern const hb_policy_ops hb_policy_libra_np;
extern const hb_policy_ops hb_policy_greedy;   /* policies/greedy.c */
extern const hb_policy_ops hb_policy_ensure;   /* policies/ensure.c */
extern const hb_policy_ops hb_policy_freyr;    /* policies/freyr/freyr.c */

#endif

/* policies.h - the built-in policies (one hb_policy_ops each). */
#ifndef HB_POLICIES_H
#define HB_POLICIES_H

#include "hb_policy.h"

extern const hb_policy_ops hb_policy_default;
extern const hb_policy_ops hb_policy_fixed;

#endif

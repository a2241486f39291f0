/* registry.c - the table of built-in policies: the ops policies/policies.h declares. The harness may
 * include a policy's header, a policy never a harness one (docs/architecture.md, "Walls"), so the
 * table lives here. A new built-in policy adds one line. */
#include <string.h>

#include "policies.h"
#include "policy_lib.h"
#include "registry.h"

const hb_policy_ops *const hb_policy_table[] = {
    &hb_policy_default,
    &hb_policy_fixed,
    &hb_policy_libra,
    &hb_policy_libra_np,
    &hb_policy_greedy,
    &hb_policy_ensure,
    &hb_policy_freyr,
    NULL,
};

const hb_policy_ops *hb_policy_find(const char *name)
{
    const hb_policy_ops *lib = hb_policy_lib_find(name);   /* --policy-lib (harness/core/policy_lib.h) */
    if (lib)
        return lib;
    for (int i = 0; hb_policy_table[i]; i++)
        if (strcmp(hb_policy_table[i]->name, name) == 0)
            return hb_policy_table[i];
    return NULL;
}

/* policy_lib.h - policies loaded from shared objects (`harvestbench run --policy-lib FILE.so`).
 *
 * An object names its policies with HB_POLICY_PLUGIN (include/hb_policy.h), which defines the entry
 * symbol hb_policy_plugin. Loading checks it was compiled against this API version and
 * hb_policy_ops, and that none of its names is taken (a built-in policy or an earlier library): a
 * policy name means one thing in a run. The loaded set is process-wide, as dlopen is, and
 * hb_policy_find (registry.h) consults it before the built-in table, so configurations and --policy
 * name these policies like any other. Each handle stays open until hb_policy_lib_unload_all, which
 * the command calls once its runs have ended (the policies' code and tables live in the object). */
#ifndef HB_POLICY_LIB_H
#define HB_POLICY_LIB_H

#include <stddef.h>

#include "hb_policy.h"

struct cJSON;

/* Loads FILE and registers its policies. HB_EINPUT with "FILE: ..." when it cannot be opened or
 * linked (dlopen's reason: not a shared object, an undefined symbol), has no entry symbol, was built
 * for another API version (expected and found), or names a policy already taken. */
int hb_policy_lib_load(const char *file, hb_error *err);

/* The policy of that name among the loaded libraries, or NULL. */
const hb_policy_ops *hb_policy_lib_find(const char *name);

/* Adds "policy_libs": [{"path", "crc32", "api_version", "policies": [...]}] to a manifest when any
 * library is loaded (nothing otherwise), so that a results directory says which code ran. */
void hb_policy_lib_manifest(struct cJSON *manifest);

/* How many libraries are loaded; the absolute path of the i-th (for a command to repeat). */
size_t hb_policy_lib_count(void);
const char *hb_policy_lib_path(size_t i);

/* Closes every handle (after the last run) and forgets their policies. */
void hb_policy_lib_unload_all(void);

#endif

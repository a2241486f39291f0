/* registry.h - the built-in policies and backends, by name. */
#ifndef HB_REGISTRY_H
#define HB_REGISTRY_H

#include "hb_backend.h"
#include "hb_policy.h"

/* NULL-terminated table of every built-in policy (harness/core/registry.c). */
extern const hb_policy_ops *const hb_policy_table[];
const hb_policy_ops *hb_policy_find(const char *name);

/* NULL-terminated table of every backend (harness/backends/backends.c). */
extern const hb_backend_ops *const hb_backend_table[];
const hb_backend_ops *hb_backend_find(const char *name);

#endif

/* pooled.h - a policy's runs pooled over seeds, for the closing table of `run` and for trainers:
 * the successful latencies of every seed in one array, counts and integrals summed, the cluster's
 * capacity as capacity x makespan summed (core-s, MB-s), makespans and wall times summed. */
#ifndef HB_POOLED_H
#define HB_POOLED_H

#include "results.h"

typedef struct hb_policy_result {
    char name[32];                     /* the policy's */
    hb_run_stats pooled;               /* cpu_capacity, mem_capacity_mb: core-s and MB-s */
    double makespan_sum;               /* seconds */
    int seeds;                         /* runs pooled */
} hb_policy_result;

/* Adds one seed's statistics (HB_ENOMEM if the latencies cannot be kept; nothing is added then). */
int hb_pool_add(hb_policy_result *t, const hb_run_stats *s);

#endif

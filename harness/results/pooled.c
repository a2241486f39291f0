/* pooled.c - see pooled.h. */
#include "pooled.h"

#include <stdlib.h>
#include <string.h>

/* The latencies first: the only step that can fail, so a failure adds nothing. */
static int pool_latencies(hb_run_stats *p, const hb_run_stats *s)
{
    if (!s->n_lat)
        return 0;
    double *a = realloc(p->lat, (p->n_lat + s->n_lat) * sizeof *a);
    if (!a)
        return HB_ENOMEM;
    memcpy(a + p->n_lat, s->lat, s->n_lat * sizeof *a);
    p->lat = a;
    p->n_lat += s->n_lat;
    p->cap_lat = p->n_lat;
    return 0;
}

int hb_pool_add(hb_policy_result *t, const hb_run_stats *s)
{
    hb_run_stats *p = &t->pooled;
    if (pool_latencies(p, s))
        return HB_ENOMEM;
    p->invocations += s->invocations;
    for (int i = 0; i <= HB_LOST; i++)
        p->outcomes[i] += s->outcomes[i];
    p->n_success += s->n_success;
    p->lat_sum += s->lat_sum;
    p->harvested += s->harvested;
    p->accelerated += s->accelerated;
    p->safeguards += s->safeguards;
    p->harvested_cpu_s += s->harvested_cpu_s;
    p->harvested_mem_mb_s += s->harvested_mem_mb_s;
    hb_stats_pool_columns(p, s);
    p->cpu_used_core_s += s->cpu_used_core_s;
    p->cpu_alloc_core_s += s->cpu_alloc_core_s;
    p->mem_used_mb_s += s->mem_used_mb_s;
    p->mem_alloc_mb_s += s->mem_alloc_mb_s;
    p->cpu_capacity += s->cpu_capacity * hb_time_s(s->makespan);
    p->mem_capacity_mb += s->mem_capacity_mb * hb_time_s(s->makespan);
    p->wall_seconds += s->wall_seconds;
    if (s->makespan > p->makespan)
        p->makespan = s->makespan;     /* the longest seed */
    t->makespan_sum += hb_time_s(s->makespan);
    t->seeds++;
    return 0;
}

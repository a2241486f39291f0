/* libra_fork.h - the Libra fork's wire formats on its Redis side channel (libra-algorithm spec
 * sections 2, 3, 6.3 and 6.9), shared by the openwhisk backend (which talks to the fork) and
 * `harvestbench serve --flavor libra-fork --redis` (which plays the fork). Text only: no Redis here
 * (libra_redis.h carries it).
 *
 *   encoded limit   x = (cores - 1) x 8 + units, cores 1..8, units of 128 MB 1..8, so x in 1..64
 *   predict_peak    HSET predict_peak <action> "<x>"            (decimal)
 *   predict_duration HSET predict_duration <action> "<ms>"      (decimal integer milliseconds)
 *   pools           HSET invoker<i> memory_summary|cpu_summary  "None" or
 *                   "<activationId>:<value>;<startMs>;<endMs>,..." (memory in 128 MB units, CPU in
 *                   cores; only entries with start < end are listed)
 *   trajectory      HSET invocations <activationId>
 *                   "<safeguard>;<memDeltaMB> <cpuDelta>;<memIdle> <cpuIdle>;<memTraj>;<cpuTraj>"
 *                   deltas: negative = harvested (lent to the pool), positive = borrowed; idle in
 *                   ms x MB and ms x cores; each trajectory space-separated "<actId>:<amount>" in
 *                   event order, amount > 0 borrowed from that lender, < 0 lent to that borrower
 *                   (memory in MB, CPU in cores). */
#ifndef HB_LIBRA_FORK_H
#define HB_LIBRA_FORK_H

#include <stddef.h>
#include <stdint.h>

#include "hb_error.h"
#include "hb_types.h"

#define LF_MAX_CPU 8
#define LF_MAX_UNITS 8
#define LF_MAX_ENCODED (LF_MAX_CPU * LF_MAX_UNITS)
#define LF_ID_MAX 72                   /* activation ids: OpenWhisk's are 32 hex digits */

/* (cores 1..8, units 1..8) -> 1..64; -1 outside. */
int lf_encode(int cores, int units);
/* 1..64 -> cores and MB; -1 outside (outputs untouched). */
int lf_decode(int x, int *cores, int *mem_mb);
/* The smallest encoded size at least as large as r in both dimensions, clamped into the fork's
 * range (at least 1 core and 128 MB, at most 8 cores and 1024 MB). */
int lf_encode_res(hb_res r);

/* A decimal integer in [lo, hi], the whole text: predict_peak (1..64) and predict_duration (ms)
 * values. `what` names the field in the message. */
int lf_parse_long(const char *text, const char *what, long lo, long hi, long *out, hb_error *err);

typedef struct lf_pool_entry {
    char id[LF_ID_MAX];
    double value;                      /* memory: 128 MB units; CPU: cores */
    int64_t start_ms, end_ms;
} lf_pool_entry;

/* memory_summary / cpu_summary: "None" or the entries. *out is malloc'd (NULL when none). */
int lf_pool_parse(const char *text, lf_pool_entry **out, size_t *n, hb_error *err);
/* Sum of the values listed. */
double lf_pool_total(const lf_pool_entry *e, size_t n);
/* The fork's text of a pool: entries with start < end, or "None". Returns a malloc'd string. */
char *lf_pool_format(const lf_pool_entry *e, size_t n);

typedef struct lf_traj_item {
    char id[LF_ID_MAX];
    double amount;                     /* > 0 borrowed from id, < 0 lent to id (MB or cores) */
} lf_traj_item;

typedef struct lf_trajectory {
    int safeguard;                     /* 1: the safeguard restored the user allocation */
    double mem_delta_mb, cpu_delta;    /* < 0 harvested, > 0 borrowed, set at arrival */
    double mem_idle, cpu_idle;         /* ms x MB, ms x cores harvested and never lent */
    lf_traj_item *mem, *cpu;
    size_t n_mem, n_cpu;
} lf_trajectory;

int lf_trajectory_parse(const char *text, lf_trajectory *t, hb_error *err);
/* The fork's text of a trajectory (malloc'd; NULL when out of memory). */
char *lf_trajectory_format(const lf_trajectory *t);
void lf_trajectory_free(lf_trajectory *t);
/* What the trajectory lists as lent (sum of the negative amounts, positive) and borrowed. */
void lf_trajectory_sums(const lf_traj_item *it, size_t n, double *lent, double *borrowed);

#endif

/* analysis.h - the numbers `compare` and `check` report: per-policy metrics pooled over seeds, their
 * bootstrap intervals, and a policy's changes and tests against a baseline (docs/statistics.md).
 *
 * Latency statistics use every successful invocation of every seed (BRIEF section 8). Intervals
 * come from a two-stage bootstrap (stats.h): a replicate resamples the runs (seeds), then the
 * invocations within each drawn run; all statistics of one replicate use the same drawn seeds.
 * A policy and its baseline are paired when they ran the same seeds: then replicate b draws the
 * same seed indices for both, and relative changes are computed replicate by replicate. */
#ifndef HB_ANALYSIS_H
#define HB_ANALYSIS_H

#include <stddef.h>

#include "hb_error.h"
#include "results_reader.h"
#include "stats.h"

#define HB_BOOT_MIN_RESAMPLES 2000

typedef struct hb_boot_opts {
    size_t resamples;       /* B >= HB_BOOT_MIN_RESAMPLES */
    unsigned long seed;     /* of every bootstrap generator */
    double level;           /* of every interval, 0.95 */
} hb_boot_opts;

/* The bootstrap replicates kept for the relative changes. */
enum { HB_REP_MEAN, HB_REP_P99, HB_REP_SUCCESS, HB_REP_CPU_ALLOC, HB_REP_MEM_ALLOC, HB_REP_CPU_CAP,
       HB_REP_MEM_CAP, HB_REP_N };

typedef struct hb_policy_stats {
    const char *name;       /* borrowed from the hb_policy_runs */
    size_t calls, seeds, nlat, outcomes[HB_NOUTCOMES], cold_starts;
    double success_share, cold_start_share, harvested_share, accelerated_share;  /* of all calls */
    double lat_mean, lat_p50, lat_p90, lat_p95, lat_p99, lat_max;                /* ms */
    hb_ci mean_ci, p99_ci;  /* bootstrap */
    hb_ci p50_ci;           /* Le Boudec, on the pooled sample */
    double slowdown_mean;   /* over successful calls whose base duration is known */
    size_t nslowdown;
    double cpu_util_alloc, mem_util_alloc, cpu_util_capacity, mem_util_capacity;
    hb_ci cpu_util_alloc_ci, mem_util_alloc_ci;   /* over seeds; undefined with one seed */
    double *pooled;         /* successful latencies, ascending, nlat of them */
    double *seed_means;     /* mean latency per run (NAN if none), seeds of them */
    double *seed_values;    /* the seed of each run */
    size_t B;
    double *rep[HB_REP_N];  /* B replicates each */
} hb_policy_stats;

/* A derived 32-bit generator seed for one stream: (seed, name, tag) -> splitmix64 of FNV-1a. */
unsigned long hb_stream_seed(unsigned long seed, const char *name, const char *tag);

/* Computes the statistics of one policy's runs. The seed generator is set to seed_stream before
 * each statistic (so all statistics of replicate b share its seeds); call_stream seeds the
 * within-run draws. HB_OK or HB_ENOMEM. */
int hb_policy_stats_compute(const hb_policy_runs *pr, const hb_boot_opts *o,
                            unsigned long seed_stream, unsigned long call_stream,
                            hb_policy_stats *out, hb_error *err);
void hb_policy_stats_free(hb_policy_stats *s);

typedef struct hb_change {
    double pct;             /* 100 (policy - baseline) / baseline, from the point estimates */
    hb_ci ci;               /* percentile interval of the replicate-by-replicate changes */
} hb_change;

typedef struct hb_vs_baseline {
    int paired;             /* same seeds: paired resampling and the Wilcoxon test */
    hb_change mean, p99, success_share;
    hb_change cpu_util_alloc, mem_util_alloc, cpu_util_capacity, mem_util_capacity;
    hb_mwu mwu;             /* policy's pooled latencies against the baseline's */
    double cliffs_delta;
    double p_holm;          /* mwu.p, Holm-adjusted over the policies (set by the caller) */
    hb_wilcoxon wilcoxon;   /* per-seed mean latencies, policy minus baseline; NAN p if unpaired */
    double wilcoxon_p_holm;
} hb_vs_baseline;

/* Compares a with base. Both must have been computed with the same B (and, when paired, with the
 * same seed_stream). Holm fields are set to NAN. Utilization changes have no interval unless both
 * have at least two seeds. HB_OK or HB_ENOMEM. */
int hb_vs_compute(const hb_policy_stats *a, const hb_policy_stats *base, int paired, double level,
                  hb_vs_baseline *out, hb_error *err);

/* Is the change's interval clear of zero? (0 when undefined.) */
int hb_change_significant(const hb_change *c);

#endif

/* analysis.h - the numbers `compare` and `check` report: per-policy metrics pooled over seeds, their
 * bootstrap intervals, and a policy's changes and tests against a baseline (docs/statistics.md).
 *
 * Latency statistics use the calls inside the statistics window of every seed: `latency` over the
 * successful ones, `latency_censored` over all (a failed call at its timeout). Intervals come from
 * a two-stage bootstrap (stats.h): a replicate resamples the runs (seeds), then the invocations
 * within each drawn run. Against a baseline, pairing decides the scheme (results_reader.h):
 *   invocation  replicate b draws the same seeds AND the same call indices for both (stats.h
 *               hb_boot_paired); every change is computed from that one paired draw;
 *   seed        the same seeds for both, calls drawn independently;
 *   none        independent draws.
 * The p-values that decide nothing but are reported: a seed-level paired test (sign-flip
 * permutation of per-seed differences; the seed is the independent unit), and, labelled
 * descriptive, pooled Mann-Whitney and Cliff's delta, which treat correlated calls as independent. */
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
       HB_REP_MEM_CAP, HB_REP_CMEAN, HB_REP_N };

typedef struct hb_policy_stats {
    const char *name;       /* borrowed from the hb_policy_runs */
    size_t calls, seeds, nlat, outcomes[HB_NOUTCOMES], cold_starts;
    double success_share, cold_start_share, harvested_share, accelerated_share;  /* of all calls */
    double lat_mean, lat_p50, lat_p90, lat_p95, lat_p99, lat_max;                /* ms */
    hb_ci mean_ci, p99_ci;  /* bootstrap */
    /* censored latency: every call, a failed one at its function's timeout (NAN when a timeout is
     * unknown: results from before the manifest recorded them) */
    size_t ncens;
    double cens_mean, cens_p50, cens_p99;
    hb_ci cens_mean_ci;
    size_t excluded;        /* calls outside the statistics window (left out of everything) */
    int cpu_share;          /* 1: the CPU allocation is a share, not a quota: cpu_util_alloc NAN */
    hb_ci p50_ci;           /* Le Boudec, on the pooled sample */
    double slowdown_mean;   /* over successful calls whose base duration is known */
    size_t nslowdown;
    double cpu_util_alloc, mem_util_alloc, cpu_util_capacity, mem_util_capacity;
    hb_ci cpu_util_alloc_ci, mem_util_alloc_ci;   /* over seeds; undefined with one seed */
    double *pooled;         /* successful latencies, ascending, nlat of them */
    double *seed_means;     /* mean latency per run (NAN if none), seeds of them */
    double *seed_cmeans;    /* censored mean per run (NAN if unknown) */
    double *cens;           /* censored latencies, ascending, ncens of them */
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
/* The same, and with paired_only 1 without the policy's own bootstrap of mean, p99, censored
 * mean and success share (those replicates, mean_ci, p99_ci and cens_mean_ci are NAN): a change
 * paired by invocation draws replicates of its own and never reads them, so sweep.csv
 * (sweep_report.c) needs only the rest, which is the same bytes as with 0. */
int hb_policy_stats_compute_opt(const hb_policy_runs *pr, const hb_boot_opts *o,
                                unsigned long seed_stream, unsigned long call_stream,
                                int paired_only, hb_policy_stats *out, hb_error *err);
void hb_policy_stats_free(hb_policy_stats *s);

typedef struct hb_change {
    double pct;             /* 100 (policy - baseline) / baseline, from the point estimates */
    hb_ci ci;               /* percentile interval of the replicate-by-replicate changes */
} hb_change;

typedef struct hb_vs_baseline {
    int pairing;            /* HB_PAIR_* (results_reader.h) */
    hb_change mean, p99, cens_mean, success_share;
    hb_change cpu_util_alloc, mem_util_alloc, cpu_util_capacity, mem_util_capacity;
    /* seed level (the independent units; needs pairing seed or invocation): per-seed differences
     * policy minus baseline of the mean and of the censored mean, sign-flip permutation test */
    hb_signflip seed_mean, seed_cens_mean;
    double seed_mean_p_holm, seed_cens_mean_p_holm;
    hb_wilcoxon wilcoxon;   /* signed-rank on the same per-seed mean differences */
    double wilcoxon_p_holm;
    /* descriptive only: pooled calls as if independent */
    hb_mwu mwu;             /* policy's pooled latencies against the baseline's */
    double cliffs_delta;
    double p_holm;          /* mwu.p, Holm-adjusted over the policies (set by the caller) */
} hb_vs_baseline;

/* The generator streams of a comparison: with pairing (seed or invocation) policy and baseline use
 * the same seed stream, so that replicate b draws the same seeds for both. */
typedef struct hb_streams {
    unsigned long seeds_a, seeds_b, calls_a, calls_b, paired_calls;
} hb_streams;

/* Compares a (the runs pa) with base (the runs pb), under the given pairing. a and base must have
 * been computed with the same B and with st->seeds_a / seeds_b as their seed streams. Holm fields
 * are set to NAN. Utilization changes have no interval unless both have at least two seeds.
 * HB_OK or HB_ENOMEM. */
int hb_vs_compute(const hb_policy_runs *pa, const hb_policy_runs *pb, const hb_policy_stats *a,
                  const hb_policy_stats *base, int pairing, const hb_boot_opts *o,
                  const hb_streams *st, hb_vs_baseline *out, hb_error *err);

/* Is the change's interval clear of zero? (0 when undefined.) */
int hb_change_significant(const hb_change *c);

#endif

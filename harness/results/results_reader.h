/* results_reader.h - reads a result directory written by `harvestbench run` (BRIEF section 5):
 * manifest.json, and per policy and seed index k, <policy>/seed-<k>/{invocations.csv, usage.csv,
 * summary.json}. CSV columns are found by their header name (libcsv), never by position; an empty
 * field means "not applicable or unknown". Malformed input fails with HB_EINPUT and a message that
 * names the file, the line and the column. Only runs the manifest marks "complete" are read; the
 * others are listed in warnings. */
#ifndef HB_RESULTS_READER_H
#define HB_RESULTS_READER_H

#include <stddef.h>
#include <stdint.h>

#include "hb_error.h"

enum { HB_OUT_SUCCESS, HB_OUT_TIMEOUT, HB_OUT_OOM, HB_OUT_ERROR, HB_OUT_LOST, HB_NOUTCOMES };
extern const char *const hb_outcome_names[HB_NOUTCOMES];   /* "success", ... "lost" */

/* usage.csv summed over invokers, one point per second (rows sorted by time_s). */
typedef struct hb_usage {
    size_t n;
    double *time_s;
    double *cpu_capacity, *cpu_alloc, *cpu_used;              /* cores */
    double *mem_capacity_mb, *mem_alloc_mb, *mem_used_mb;     /* MB */
    double *cpu_harvested, *cpu_borrowed;                     /* cores lent / received; NULL if */
    double *mem_harvested_mb, *mem_borrowed_mb;               /* the file has no such columns */
} hb_usage;

/* One call of a run, for pairing: invocation `index` of a seed is the same call (arrival, size,
 * work draw) under every policy of one `run` (docs/statistics.md). */
typedef struct hb_call {
    uint64_t index;              /* the index column */
    double arrival_s;            /* scheduled arrival: arrival_s less dispatch_late_ms (real-time
                                  * backends); NAN when the file has no arrival_s column */
    uint32_t func;               /* FNV-1a of the function name (identity check only) */
    double lat;                  /* latency_ms if successful, else NAN */
    double cens;                 /* censored latency: lat, or the function's timeout for a
                                  * failed call (NAN when the manifest gives no timeout) */
} hb_call;

/* One complete run: what compare and check need of it. Only calls inside the statistics window
 * (arrival in [warmup_s, trace_s - drain_s], docs/config.md) count; the CSV keeps every call. */
typedef struct hb_run {
    int seed_index;              /* k of seed-k, 1-based */
    double seed;                 /* the seed value (the same k has the same value for every policy) */
    size_t calls;                /* rows of invocations.csv */
    size_t outcomes[HB_NOUTCOMES];
    size_t cold_starts;
    long harvested, accelerated; /* calls that lent / received resources; -1 if columns absent */
    double *lat;                 /* latency_ms of the successful calls, ascending */
    size_t nlat;
    double *slowdown;            /* latency_ms / base_duration_ms where base_duration_ms > 0 */
    size_t nslow;
    double *cens;                /* censored latency of every call, ascending; NULL (ncens 0)
                                  * when a failed call's timeout is unknown */
    size_t ncens;
    hb_call *call;               /* every call, ascending index (calls of them) */
    int has_index;               /* the file has index and arrival_s columns */
    size_t excluded;             /* rows outside the statistics window */
    /* summary.json integrals; NAN when absent */
    double cpu_used_core_s, cpu_alloc_core_s, cpu_capacity_core_s;
    double mem_used_mb_s, mem_alloc_mb_s, mem_capacity_mb_s;
    double makespan_s;
    hb_usage usage;              /* only with HB_READ_USAGE, and only the first run of a policy */
} hb_run;

typedef struct hb_policy_runs {
    char *name;
    size_t nruns;                /* complete runs, ascending seed index */
    hb_run *runs;
} hb_policy_runs;

typedef struct hb_results {
    char *dir;
    char *experiment, *status, *backend, *version, *git_commit;   /* "" when absent */
    size_t nseeds;
    double *seeds;               /* manifest "seeds", seed index k at [k-1] */
    size_t npolicies;
    hb_policy_runs *policies;    /* in the manifest's order */
    size_t nwarnings;
    char **warnings;             /* runs skipped and why */
    char *baseline;              /* the manifest's "baseline" ([experiment] baseline); "" if none */
    double warmup_s, drain_s;    /* the statistics window (0: none) */
    double trace_s;              /* the trace's span (NAN when unknown) */
    int timeouts_known;          /* the manifest gave every function's timeout_s */
} hb_results;

enum { HB_READ_USAGE = 1 };

/* Reads DIR. Returns HB_OK, HB_EINPUT (missing or malformed file: err names file, line, column),
 * HB_EIO or HB_ENOMEM. On failure *out holds nothing to free. */
int hb_results_read(const char *dir, unsigned flags, hb_results *out, hb_error *err);
void hb_results_free(hb_results *r);

/* The policy called name, or NULL. */
const hb_policy_runs *hb_results_policy(const hb_results *r, const char *name);

/* 1 if both have the same seed values in the same order (their runs replay the same traces). */
int hb_runs_paired(const hb_policy_runs *a, const hb_policy_runs *b);

/* How a policy's runs pair with a baseline's (docs/statistics.md):
 * HB_PAIR_INVOCATION  the same seeds, and in each seed the same calls: the same count, and index by
 *                     index the same function and scheduled arrival (within 10 us; so the same
 *                     trace);
 * HB_PAIR_SEED        the same seeds, but the calls differ (another trace or window);
 * HB_PAIR_NONE        other seeds. */
enum { HB_PAIR_NONE, HB_PAIR_SEED, HB_PAIR_INVOCATION };
extern const char *const hb_pairing_names[3];   /* "none", "seed", "invocation" */
int hb_runs_pairing(const hb_policy_runs *a, const hb_policy_runs *b);

/* One run's totals from its summary.json, as far as the file keeps them (counts, shares, means
 * and integrals; no latency array): for --resume's pooled figures. Absent numbers read as 0. */
struct hb_run_stats;
int hb_summary_read_stats(const char *path, struct hb_run_stats *s, hb_error *err);

#endif

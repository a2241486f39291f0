/* results.h - writing a run's files (BRIEF section 5, docs/outputs.md).
 *
 * One writer per (policy, seed) run directory OUT/<policy>/seed-<k>/:
 *   invocations.csv   one row per call, in event-index order (a reorder buffer holds rows that end
 *                     before an earlier call does)
 *   usage.csv         one row per second per invoker
 *   summary.json      totals and statistics of the run
 *   artifact/         the Libra artifact's trajectory, delta, cpu_usage and memory_usage CSVs
 * Every file is streamed into NAME.tmp and renamed into place when the run completes, so a finished
 * file is never half-written; an interrupted run leaves its .tmp files (and no summary.json). */
#ifndef HB_RESULTS_H
#define HB_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

#include "hb_backend.h"
#include "hb_error.h"
#include "hb_types.h"

/* Totals and statistics of one run, accumulated by the engine. */
typedef struct hb_run_stats {
    uint64_t invocations;
    uint64_t outcomes[HB_LOST + 1];
    uint64_t cold_starts;
    uint64_t harvested, accelerated, safeguards;
    uint64_t clipped_decisions;        /* sizings and resizes the engine clipped (engine.c) */
    double harvested_cpu_s, harvested_mem_mb_s, borrowed_cpu_s, borrowed_mem_mb_s;
    double borrowed_running_cpu_s, borrowed_running_mem_mb_s;   /* received while running */
    double pool_idle_cpu_s, pool_idle_mem_mb_s;
    double total_duration_s;           /* sum of durations of ended calls (the artifact's reward) */
    double wait_sum_ms;
    /* latencies of successful calls, ms (kept only when keep_latencies) */
    int keep_latencies;
    double *lat;
    size_t n_lat, cap_lat;
    double lat_sum, lat_max;
    uint64_t n_success;
    /* usage integrals */
    double cpu_used_core_s, cpu_alloc_core_s, mem_used_mb_s, mem_alloc_mb_s;
    double cpu_capacity, mem_capacity_mb;   /* cluster-wide */
    hb_time makespan;
    double wall_seconds;
    double dispatch_late_max_ms;
    /* [experiment] warmup_s / drain_s: calls arriving outside [win_lo, win_hi] and usage seconds
     * outside [win_lo, win_hi) are left out of the statistics (set by the engine) */
    int windowed;
    hb_time win_lo, win_hi;
    uint64_t excluded_calls;
    double cpu_capacity_win, mem_capacity_mb_win;   /* capacity integrals of the window's rows */
} hb_run_stats;

void hb_stats_init(hb_run_stats *st, int keep_latencies);
void hb_stats_free(hb_run_stats *st);
int hb_stats_add(hb_run_stats *st, const hb_invocation *inv);
void hb_stats_add_usage(hb_run_stats *st, const hb_usage_row *row);
/* Percentile p in [0,1] of the successful latencies (sorts them); NAN when there are none. */
double hb_stats_latency_pct(hb_run_stats *st, double p);
/* The summary.json object. */
cJSON *hb_stats_json(hb_run_stats *st, const char *policy, int seed_index, uint64_t seed,
                     const char *backend);

typedef struct hb_run_writer hb_run_writer;

typedef struct hb_writer_spec {
    const char *dir;                   /* OUT/<policy>/seed-<k> */
    const char *artifact_stem;         /* e.g. "FixedRM_0_0" */
} hb_writer_spec;

int hb_writer_open(const hb_writer_spec *spec, hb_run_writer **out, hb_error *err);
int hb_writer_invocation(hb_run_writer *w, const hb_invocation *inv, hb_error *err);
int hb_writer_usage(hb_run_writer *w, const hb_usage_row *row, hb_error *err);
/* Completes the run: flushes, writes summary.json, renames every file into place. */
int hb_writer_finish(hb_run_writer *w, cJSON *summary, hb_error *err);
/* Abandons the run (keeps the .tmp files written so far) and frees the writer. */
void hb_writer_abort(hb_run_writer *w);

/* The header line of invocations.csv (no newline). */
const char *hb_invocations_header(void);

#endif

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
#include "hb_policy.h"
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
    /* totals of the policy's extension columns marked total (hb_column), in its order */
    size_t n_columns;
    struct {
        char name[64];
        size_t col;                    /* its index among the policy's columns */
        double total;
    } column[HB_MAX_COLUMNS];
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

/* What the policy adds to one call's rows: the values of its extension columns (hb_policy.h) and
 * the artifact's per-call fields. The engine fills it from the policy's hooks. */
typedef struct hb_call_ext {
    size_t n;                          /* values, one per extension column */
    const hb_column_value *v;
    hb_artifact_fields artifact;
} hb_call_ext;

/* Checks a policy's extension columns: at most HB_MAX_COLUMNS, names of [a-z0-9_] (at most 63),
 * distinct, and none a fixed column of invocations.csv or key of summary.json. */
int hb_columns_check(const hb_column *cols, const char *policy, hb_error *err);
/* How many columns the list has (NULL: 0). */
size_t hb_columns_count(const hb_column *cols);

void hb_stats_init(hb_run_stats *st, int keep_latencies);
void hb_stats_free(hb_run_stats *st);
/* Declares the run's extension columns (checked by hb_columns_check); those marked total get one. */
void hb_stats_columns(hb_run_stats *st, const hb_column *cols);
/* ext may be NULL (no extension values); its values are added to the declared totals. */
int hb_stats_add(hb_run_stats *st, const hb_invocation *inv, const hb_call_ext *ext);
/* The total of extension column name, or NAN if the run has no such total. */
double hb_stats_column(const hb_run_stats *st, const char *name);
/* Adds s's column totals into into's (by name; new names are appended): pooling seeds. */
void hb_stats_pool_columns(hb_run_stats *into, const hb_run_stats *s);
/* Reads the declared columns' totals back from a summary.json object (absent: 0). */
void hb_stats_columns_from_json(hb_run_stats *st, const cJSON *summary);
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
    const hb_column *columns;          /* the policy's extension columns (hb_policy_ops.columns,
                                        * checked by hb_columns_check); NULL: none */
} hb_writer_spec;

int hb_writer_open(const hb_writer_spec *spec, hb_run_writer **out, hb_error *err);
/* ext NULL: no extension values. HB_ERUN when ext does not hold one value per declared column. */
int hb_writer_invocation(hb_run_writer *w, const hb_invocation *inv, const hb_call_ext *ext,
                         hb_error *err);
int hb_writer_usage(hb_run_writer *w, const hb_usage_row *row, hb_error *err);
/* Completes the run: flushes, writes summary.json, renames every file into place. */
int hb_writer_finish(hb_run_writer *w, cJSON *summary, hb_error *err);
/* Abandons the run (keeps the .tmp files written so far) and frees the writer. */
void hb_writer_abort(hb_run_writer *w);

/* The header line of invocations.csv without extension columns (no newline). */
const char *hb_invocations_header(void);

#endif

/* trace_mapping.h - the run's function table, and what a replay does with its trace.
 *
 * A run has one function per trace function (any number), each with its own identity, user
 * configuration and history, each running one workload of the catalogue (hb_functions). The table
 * is built from the configuration and the trace (docs/traces.md, "What a replay does with the
 * trace"):
 *   - function i is trace row i and runs the row's workload (the trace's `mapping`);
 *   - it starts from the workload's configuration: the catalogue and [function.WORKLOAD_ID];
 *   - [trace] user_memory = trace: its user memory is the trace's average allocated memory of the
 *     function (its memory file), rounded up to whole 128 MB units, unless [function.ID] sets
 *     user_mem_mb; the memory clip range is widened to hold it;
 *   - [trace] scale_work = true: its work is scaled by trace duration / modelled duration, so that
 *     a call alone at the user allocation lasts as long as the trace's average.
 * `run` prints the mapping, writes it to OUT/mapping.csv and warns when the offered load exceeds
 * the cluster's capacity. */
#ifndef HB_TRACE_MAPPING_H
#define HB_TRACE_MAPPING_H

#include <stdio.h>

#include "config.h"
#include "trace.h"
#include "workload_model.h"

/* Expected duration (ms) of workload w alone at user_cpu cores and its demo size (size_multi),
 * cold start included: the reference of `mapping = duration` and of scale_work. */
double hb_workload_reference_ms(const hb_profile *p, int w, double user_cpu);

/* The table above (n = t->n_funcs entries, names borrowed from t). p may be NULL when scale_work
 * is off. */
int hb_run_funcs_build(const hb_config *cfg, const hb_trace *t, const hb_profile *p,
                       hb_func_config **out, hb_error *err);

/* What the configuration asked of the trace and the file cannot give: `functions = N` (given, not
 * defaulted) above the functions the file has, or a window without any call. Errors name the file
 * and the key. */
int hb_trace_check_request(const hb_config *cfg, const hb_trace *t, hb_error *err);

/* The offered load against the cluster's capacity, from the workload model: CPU in cores (core x s
 * of work offered per second), memory in MB (user memory held by the calls in flight, Little's
 * law with each call's duration alone at its user allocation). Mean over the trace and the
 * busiest minute. */
typedef struct hb_load_estimate {
    double cpu_mean, mem_mean_mb;
    double cpu_peak, mem_peak_mb;      /* the busiest minute (by CPU) */
    size_t peak_minute;                /* 0-based, in the replayed window */
    double cpu_capacity, mem_capacity_mb;
} hb_load_estimate;

void hb_load_estimate_run(const hb_config *cfg, const hb_trace *t, const hb_profile *p,
                          const hb_func_config *funcs, hb_load_estimate *out);

/* `run`: writes OUT_DIR/mapping.csv (docs/outputs.md), prints the mapping to `out` (NULL: not)
 * and warns on `warn` when the mean offered load exceeds the capacity, naming the resource. */
int hb_run_mapping_report(const hb_config *cfg, const hb_trace *t, const hb_profile *p,
                          const char *out_dir, FILE *out, FILE *warn, hb_error *err);

#endif

/* experiment.h - what a configuration resolves to before any run: the trace (loaded once and
 * shared by every policy and seed), the workload profile, the event generation modes. */
#ifndef HB_EXPERIMENT_H
#define HB_EXPERIMENT_H

#include "config.h"
#include "events.h"
#include "workload_model.h"
#include "trace.h"

typedef struct hb_experiment {
    hb_config cfg;
    hb_trace *trace;
    hb_profile *profile;
    hb_arrival arrival;
    hb_sizes sizes;
    hb_func_config *funcs;             /* the run's function table (trace_mapping.h), bound to
                                        * cfg.run_funcs */
} hb_experiment;

/* Loads the trace and the profile named by an already-loaded configuration (taken over: freed by
 * hb_experiment_free). */
int hb_experiment_prepare(hb_experiment *x, hb_error *err);
/* Loads the workload profile of a configuration. */
int hb_experiment_profile(const hb_config *cfg, hb_profile **out, hb_error *err);
void hb_experiment_free(hb_experiment *x);

/* The baseline `compare` uses by default: [experiment] baseline when set; else `fixed` when the run
 * has it (the paper's comparator); else the first policy. */
const char *hb_experiment_baseline(const hb_config *cfg);
/* Records in a manifest what compare needs to know: "baseline" (as above) and "statistics"
 * {"warmup_s", "drain_s", "trace_s"}: calls arriving before warmup_s or after trace_s - drain_s
 * are left out of statistics (docs/config.md). trace_s: the trace's minutes x 60. */
struct cJSON;
void hb_experiment_manifest_stats(const hb_experiment *x, struct cJSON *manifest);

/* Expected duration (ms) of each workload alone at its user allocation and its demo size, from a
 * profile: the reference for mapping trace functions by duration. */
void hb_profile_reference_ms(const hb_profile *p, const hb_func_config *funcs, double out[HB_NWORKLOADS]);

#endif

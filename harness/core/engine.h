/* engine.h - the experiment engine: replays one trace under one policy and one seed on one
 * backend (BRIEF section 2: trace -> events -> engine -> (policy, backend) -> records -> results).
 *
 * The engine owns the loop: it takes the next event, lets the backend run up to its time, asks the
 * policy to size the call (or applies the default), places it (the policy's placement or
 * OpenWhisk's sharding), keeps the controller's per-invoker counts, and submits it. The backend
 * reports starts, monitor samples, ends and usage through hooks; the engine forwards them to the
 * policy's invoker-side hooks, the statistics and the writer. */
#ifndef HB_ENGINE_H
#define HB_ENGINE_H

#include <signal.h>

#include "config.h"
#include "events.h"
#include "hb_backend.h"
#include "hb_policy.h"
#include "workload_model.h"
#include "results.h"
#include "trace.h"

typedef struct hb_engine_spec {
    const hb_config *cfg;
    const hb_trace *trace;
    const hb_profile *profile;
    hb_arrival arrival;
    hb_sizes sizes;
    const hb_policy_ops *policy;
    hb_kvlist *policy_params;
    void *policy_state;                /* non-NULL: an instance made by the caller (training) */
    const hb_backend_ops *backend;
    hb_kvlist *backend_params;
    uint64_t seed;
    int seed_index;
    int training;
    hb_run_writer *writer;             /* NULL: no files */
    hb_run_stats *stats;               /* required */
    int usage;                         /* 1: collect usage rows (utilization); 0 for bench */
    volatile sig_atomic_t *stop;       /* set from a signal handler: stop at the next event */
    const char *progress_label;        /* non-NULL: a progress line on stderr */
    /* every ended call, after the policy observed it (trainers) */
    void (*on_record)(void *ctx, const hb_invocation *inv);
    void *on_record_ctx;
} hb_engine_spec;

/* Runs to the end of the trace and drains. HB_EINTR when stopped by *stop. */
int hb_engine_run(const hb_engine_spec *spec, hb_error *err);

/* HB_CAP_* bits of hook groups the policy fills and the backend cannot honour. */
unsigned hb_engine_dropped(const hb_policy_ops *p, const hb_backend_ops *b);

/* Fills a policy context for a run (rng is the caller's; caps: the backend's HB_CAP_* bits). */
void hb_engine_policy_ctx(const hb_config *cfg, const char *name, hb_kvlist *params, gsl_rng *rng,
                          int training, unsigned caps, hb_policy_ctx *ctx);

#endif

/* hb_backend.h - the backend API (BRIEF section 4).
 *
 * A backend only executes: the engine hands it calls that are already sized and placed (submit),
 * and lets it run until a time (advance) or until nothing is in flight (drain). The backend reports
 * back through the engine's hooks: a call got its container (on_start), a monitor sample
 * (on_tick), a call ended (on_end), one second of usage of one invoker (on_usage).
 * A backend declares which policy hook groups it honours (caps); the engine reports the others as
 * dropped in the manifest and on the console. */
#ifndef HB_BACKEND_H
#define HB_BACKEND_H

#include <signal.h>

#include "hb_error.h"
#include "hb_policy.h"
#include "hb_types.h"

enum {
    HB_CAP_SIZING = 1u << 0,           /* applies a per-call (cpu, memory) */
    HB_CAP_PLACEMENT = 1u << 1,        /* runs a call on the invoker the policy chose */
    HB_CAP_INVOKER = 1u << 2,          /* start/tick/end hooks and live resizing */
};

/* One invoker as the backend exposes it to invoker-side hooks. */
typedef struct hb_invoker_ops {
    hb_time (*now)(void *impl);
    int (*resize)(void *impl, hb_invocation *inv, hb_res alloc, hb_error *err);
    size_t (*running)(void *impl, hb_invocation *const **out);
} hb_invoker_ops;

struct hb_invoker {
    int id;
    hb_res capacity;
    const hb_invoker_ops *ops;
    void *impl;
};

/* One second of one invoker. Values are means over the second [t, t + 1 s). */
typedef struct hb_usage_row {
    hb_time t;
    int invoker;
    double cpu_capacity, cpu_alloc, cpu_used;
    double mem_capacity_mb, mem_alloc_mb, mem_used_mb;
    double running, queued;
    /* resources running calls held below (lent) and above (received) their user allocation */
    double cpu_harvested, cpu_borrowed;
    double mem_harvested_mb, mem_borrowed_mb;
} hb_usage_row;

typedef struct hb_backend_hooks {
    void *ctx;
    int (*on_start)(void *ctx, hb_invoker *iv, hb_invocation *inv, hb_error *err);
    int (*on_tick)(void *ctx, hb_invoker *iv, const hb_usage_sample *s, size_t n, hb_error *err);
    /* the call ended: outcome, times, peaks and resource-seconds are final */
    int (*on_end)(void *ctx, hb_invoker *iv, hb_invocation *inv, hb_error *err);
    int (*on_usage)(void *ctx, const hb_usage_row *row, hb_error *err);
    hb_time tick_interval;             /* 0: no ticks */
} hb_backend_hooks;

typedef struct hb_profile hb_profile;  /* workload model (harness/core/workload_model.h) */

typedef struct hb_backend_args {
    int n_invokers;
    hb_res capacity;                   /* per invoker */
    hb_time keep_alive;                /* idle container lifetime; 0: none */
    hb_time monitor;                   /* [cluster] monitor_ms, whether or not the policy ticks */
    hb_time cold_start;                /* < 0: the profile's per-function value */
    double cv;                         /* < 0: the profile's run-to-run variation */
    int n_funcs;                       /* the run's functions */
    const hb_func_config *funcs;       /* n_funcs entries, indexed by hb_invocation.func */
    const hb_func_config *workloads;   /* HB_NWORKLOADS entries, indexed by hb_invocation.workload:
                                        * each workload's configuration (catalogue and
                                        * [function.ID]), what `deploy` created actions from */
    const hb_profile *profile;         /* the workload model (sim) */
    uint64_t seed;                     /* the run's seed; backends derive their own streams */
    hb_kvlist *params;                 /* its [backend.NAME] section */
    const char *config_dir;
    int usage_rows;                    /* 0: the engine does not want on_usage (bench) */
    double time_scale;                 /* real-time backends: wall seconds per trace second */
    volatile sig_atomic_t *stop;       /* set by a signal: real-time backends return HB_EINTR from
                                          advance and drain instead of waiting on; may be NULL */
} hb_backend_args;

typedef struct hb_backend_ops {
    const char *name;
    unsigned caps;
    int (*open)(const hb_backend_args *args, const hb_backend_hooks *hooks, void **state,
                hb_error *err);
    void (*close)(void *state);
    /* start a call now on inv->invoker; inv is sized (alloc_start, reserve, cpu_hard) */
    int (*submit)(void *state, hb_invocation *inv, hb_error *err);
    /* process everything that happens up to and including `until` */
    int (*advance)(void *state, hb_time until, hb_error *err);
    /* run until nothing is queued or running; flushes the last usage rows */
    int (*drain)(void *state, hb_error *err);
    hb_time (*now)(void *state);

    /* optional: how this backend would confine calls under its [backend.NAME] keys, one line for
     * the manifest's "limits" (e.g. "cgroup v1", "none", "unavailable: WHY"); it probes the
     * machine and starts nothing. NULL: the manifest has no "limits". */
    void (*probe)(const hb_kvlist *params, char *limits, size_t len);
    /* optional: reads its [backend.NAME] keys before any run, starting nothing, so that a bad key
     * fails before earlier results are replaced; it marks the keys it knows as used. NULL: the
     * backend takes no keys (any key is unknown). */
    int (*check_params)(hb_kvlist *params, const char *config_dir, hb_error *err);
} hb_backend_ops;

#endif

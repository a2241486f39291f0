/* hb_types.h - the record types every part of harvestbench shares: time, resources, the catalogue
 * of the ten benchmark workloads, and one invocation's record from arrival to its outcome.
 *
 * Functions and workloads: a run has its own table of functions (one per trace function, any number;
 * hb_policy_ctx.funcs), each with its own identity, user configuration and history; each runs one
 * workload of the catalogue below (hb_functions), the code it executes.
 *
 * Units, everywhere: time in microseconds of the experiment clock (hb_time), CPU in cores (may be
 * fractional), memory in MB (the MiB of Docker's "m" suffix and of OpenWhisk's memory limit). */
#ifndef HB_TYPES_H
#define HB_TYPES_H

#include <stdint.h>
#include <stddef.h>

typedef int64_t hb_time;               /* microseconds since the start of the experiment */
#define HB_SEC ((hb_time)1000000)
#define HB_MS ((hb_time)1000)
#define HB_TIME_NEVER INT64_MAX

static inline double hb_time_s(hb_time t) { return (double)t / 1e6; }
static inline double hb_time_ms(hb_time t) { return (double)t / 1e3; }

#define HB_MEM_UNIT_MB 128             /* Libra's memory unit */

typedef struct hb_res {
    double cpu;                        /* cores */
    double mem_mb;                     /* MB */
} hb_res;

/* ---- the catalogue: the ten benchmark workloads a function can run (libra-harness spec
 * section 6). A compile-time constant only because the catalogue is code; the number of functions
 * of a run is not (hb_policy_ctx.n_funcs). ---- */

#define HB_NWORKLOADS 10

typedef struct hb_function {
    const char *id;                    /* short id: "dh", "eg", ... */
    const char *name;                  /* "dynamic-html" */
    const char *description;           /* one line */
    int user_cpu;                      /* the artifact's user configuration, cores */
    int user_mem_units;                /* ... memory in 128 MB units */
    int cpu_clip[2];                   /* the artifact's clip ranges of a decision: cores */
    int mem_clip[2];                   /* ... and 128 MB units */
    int64_t size_base;                 /* random sizes are uniform in [base*lo, base*hi - 1] */
    int size_lo, size_hi;
    int64_t size_multi;                /* the size of the artifact's "multi" (demo) traces */
    int parallel;                      /* worker count the original deployed with */
} hb_function;

extern const hb_function hb_functions[HB_NWORKLOADS];

/* Index of a workload by short id, or -1. */
int hb_function_find(const char *id);

/* ---- one invocation ---- */

typedef enum hb_outcome {
    HB_PENDING = 0,                    /* not ended yet */
    HB_SUCCESS,
    HB_TIMEOUT,
    HB_OOM,
    HB_ERROR,
    HB_LOST,
} hb_outcome;

const char *hb_outcome_name(hb_outcome o);

/* The record of one invocation. The engine owns it from arrival until its row is written; policies
 * and backends read it and fill the fields documented as theirs. */
typedef struct hb_invocation {
    /* identity (engine) */
    uint64_t index;                    /* global event index, the trace's generation order */
    char activation_id[33];            /* 32 hex digits, deterministic for (seed, index) */
    int func;                          /* index into the run's function table (hb_policy_ctx.funcs,
                                        * 0..n_funcs-1): per-function state is kept by this */
    int workload;                      /* index into hb_functions: the code the function runs */
    int trace_func;                    /* row of the trace this call came from (= func) */
    const char *trace_name;            /* that row's function name (owned by the trace) */
    int64_t input_size;

    /* user configuration of the function (engine, from its entry in the run's function table) */
    hb_res user;
    hb_time timeout;                   /* execution time limit */

    /* the sizing decision (policy) */
    hb_res pred;                       /* predicted peak; negative when the policy has none */
    double pred_duration_s;            /* predicted duration; negative when none */
    hb_res alloc_start;                /* allocation the invocation starts with */
    hb_res reserve;                    /* capacity it holds on its invoker while it runs */
    int cpu_hard;                      /* 1: CPU is a quota (--cpus); 0: CPU shares by memory */
    int clipped;                       /* 1: the engine clipped a decision of the policy about
                                        * this call into the function's clip ranges */

    /* placement (engine) */
    int invoker;

    /* execution (backend) */
    hb_time arrival;                   /* when the call reached the controller */
    hb_time start;                     /* when a container was assigned (end of queueing) */
    hb_time exec_start;                /* when the code started running (after init) */
    hb_time end;
    int started;                       /* 1 once it got a container (on_start ran) */
    int cold_start;
    hb_outcome outcome;
    hb_res alloc;                      /* current allocation; backends change it on resize */
    hb_res alloc_mean;                 /* time-weighted mean allocation over the execution */
    double cpu_peak;                   /* max cores used over any 100 ms sample */
    double mem_peak_mb;
    /* resource x seconds below (harvested) and above (borrowed) the user allocation */
    double harvested_cpu_s, harvested_mem_mb_s;
    double borrowed_cpu_s, borrowed_mem_mb_s;
    /* ... of which received while the code ran (not during its cold start) */
    double borrowed_running_cpu_s, borrowed_running_mem_mb_s;
    double base_duration_ms;           /* duration alone at the user allocation; < 0: unknown */
    double dispatch_late_ms;           /* real-time backends: how late the call was sent */
    char error_msg[96];                /* why it ended as error/lost, for the record */

    /* invoker-side management (policy) */
    int safeguard;                     /* 1 if a safeguard of an invoker-side policy restored the
                                        * call's user allocation to protect it (any policy may set
                                        * it; invocations.csv, summary.json and the artifact count it) */
    void *policy_data;                 /* the policy's own per-call state: what only that policy
                                        * keeps lives there, handed back through its release hook
                                        * and written through its extension columns (hb_policy.h) */

    void *backend_data;                /* the backend's per-invocation state */
} hb_invocation;

#endif

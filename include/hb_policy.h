/* hb_policy.h - the policy API (BRIEF section 3).
 *
 * A policy is a table of callbacks (hb_policy_ops) plus private state. It fills the hooks it needs;
 * the engine supplies defaults for the rest:
 *   1. sizing (the agent side): size() chooses the allocation of each call, observe() learns from
 *      each ended call;
 *   2. placement (the controller side): place() chooses an invoker;
 *   3. invoker-side management: on_start(), on_tick() and on_end() run on the invoker, and may resize
 *      running calls through hb_invoker_resize().
 * A policy never knows which backend runs it, beyond the capabilities the backend declares.
 * One policy instance serves one (policy, seed) run and is destroyed after it. docs/policies.md has a
 * worked example. */
#ifndef HB_POLICY_H
#define HB_POLICY_H

#include <gsl/gsl_rng.h>

#include "hb_error.h"
#include "hb_types.h"

/* ---- policies out of tree (docs/policies.md, "A policy out of tree") ----
 * A policy compiled into a shared object is loaded with `harvestbench run --policy-lib FILE.so`. The
 * object names its policies once, at file scope, with HB_POLICY_PLUGIN(&ops1, &ops2, ...): that
 * defines the entry symbol `hb_policy_plugin`, which records the API version and the size of
 * hb_policy_ops the object was compiled with; the loader refuses any other. Raise
 * HB_POLICY_API_VERSION with every change to include/ that breaks a compiled policy: the layout of a
 * struct a policy sees (hb_policy_ops, hb_policy_ctx, hb_invocation, ...) or a signature. */
#define HB_POLICY_API_VERSION 1

typedef struct hb_policy_ops hb_policy_ops;

typedef struct hb_policy_plugin_info {
    unsigned api_version;              /* HB_POLICY_API_VERSION of the headers it was built with */
    unsigned ops_size;                 /* sizeof(hb_policy_ops) there */
    const hb_policy_ops *const *policies;  /* NULL-terminated */
} hb_policy_plugin_info;

#define HB_POLICY_PLUGIN_SYMBOL "hb_policy_plugin"
#define HB_POLICY_PLUGIN(...)                                                                      \
    static const hb_policy_ops *const hb_policy_plugin_list_[] = {__VA_ARGS__, NULL};             \
    extern const hb_policy_plugin_info hb_policy_plugin;                                         \
    const hb_policy_plugin_info hb_policy_plugin = {                                             \
        HB_POLICY_API_VERSION, (unsigned)sizeof(hb_policy_ops), hb_policy_plugin_list_}

/* ---- configuration handed to a policy: the keys of its [policy.NAME] section ---- */

typedef struct hb_kv {
    const char *key;
    const char *value;
    const char *file;                  /* where it was read, for messages */
    int line;
    int used;                          /* set by the accessors below; unused keys are errors */
} hb_kv;

typedef struct hb_kvlist {
    const char *section;               /* "policy.libra" */
    hb_kv *items;
    size_t n;
} hb_kvlist;

/* Accessors: 0 when the key is absent (out untouched) or parsed; HB_EINPUT with "file:line: key: ..."
 * for a wrong type or a value outside [lo, hi]. */
int hb_kv_double(hb_kvlist *kv, const char *key, double lo, double hi, double *out, hb_error *err);
int hb_kv_int(hb_kvlist *kv, const char *key, long lo, long hi, long *out, hb_error *err);
int hb_kv_bool(hb_kvlist *kv, const char *key, int *out, hb_error *err);
/* out points into the list (valid for the policy's create call); the value must be one of choices
 * (a NULL-terminated list) unless choices is NULL. */
int hb_kv_string(hb_kvlist *kv, const char *key, const char *const *choices, const char **out,
                 hb_error *err);
/* The location of a key for the policy's own messages ("file:line"), or the section name. */
const char *hb_kv_where(const hb_kvlist *kv, const char *key, char *buf, size_t len);

/* ---- what a policy is told when it is created ---- */

/* The engine clips every decision of every policy into cpu_clip / mem_clip_mb: the alloc a size()
 * hook returns and every hb_invoker_resize() of an invoker-side hook (CPU only when it is a quota,
 * cpu_hard = 1: shares are a weight, not cores). A clipped call gets hb_invocation.clipped = 1 and
 * counts in summary.json's clipped_decisions. Policies may clip themselves too. */
typedef struct hb_func_config {
    hb_res user;                       /* the user's (cpu, memory) of the function */
    double cpu_clip[2];                /* range a decision is clipped to, cores (engine-enforced) */
    double mem_clip_mb[2];             /* ... MB */
    hb_time timeout;
    /* In the run's function table (hb_policy_ctx.funcs) also: */
    int workload;                      /* index into hb_functions: what the function runs */
    const char *name;                  /* its name in the trace (NULL: the workload's id) */
    double work_scale;                 /* multiplies the workload's work ([trace] scale_work); 0
                                        * reads as 1 */
} hb_func_config;

typedef struct hb_policy_ctx {
    const char *name;                  /* the registered name */
    int n_invokers;
    hb_res invoker_capacity;           /* per invoker */
    int n_funcs;                       /* functions of the run (the trace's, any number >= 1) */
    const hb_func_config *funcs;       /* n_funcs entries, indexed by hb_invocation.func; valid
                                        * until destroy() (keep the pointer); size per-function
                                        * state from n_funcs at create() */
    gsl_rng *rng;                      /* the policy's own seeded generator (owned by the engine) */
    hb_kvlist *params;                 /* its [policy.NAME] section (may have n == 0) */
    const char *config_dir;            /* directory of the config file, for relative paths */
    hb_time monitor_interval;          /* period of on_tick, when the backend delivers ticks */
    unsigned backend_caps;             /* HB_CAP_* groups the backend honours (hb_backend.h) */
    int training;                      /* 1 when run by `harvestbench train` */
} hb_policy_ctx;

/* ---- sizing ---- */

typedef struct hb_observation {
    hb_time now;
    int inflight;                      /* calls sent and not ended, cluster-wide */
    hb_res free;                       /* controller capacity not held by running calls, summed */
    hb_res capacity;                   /* summed over invokers */
} hb_observation;

typedef struct hb_sizing {
    hb_res alloc;                      /* allocation to start with */
    hb_res reserve;                    /* capacity held on the invoker (admission and controller) */
    int cpu_hard;                      /* 1: CPU quota of alloc.cpu; 0: CPU shares by memory */
    hb_res pred;                       /* predicted peak (for records); negative: none */
    double pred_duration_s;            /* negative: none */
} hb_sizing;

/* ---- placement ---- */

typedef struct hb_invoker_state {
    int inflight;                      /* calls sent to it and not ended */
    hb_res free;                       /* capacity not held (negative after forced placements) */
    hb_res capacity;
} hb_invoker_state;

typedef struct hb_cluster_view {
    hb_time now;
    int n;
    const hb_invoker_state *inv;
    gsl_rng *rng;                      /* the engine's placement generator, for fallbacks */
} hb_cluster_view;

/* Built-in placements a policy may call from its place() hook. Each returns an invoker index.
 * sharding: OpenWhisk's home invoker and coprime step, trying memory permits, then a random invoker.
 * jsq: invokers by ascending in-flight count (ties to the lower index) whose free capacity holds the
 *      call's reserve in both dimensions, then a random invoker. */
int hb_place_sharding(const hb_invocation *inv, const hb_cluster_view *view);
int hb_place_jsq(const hb_invocation *inv, const hb_cluster_view *view);
/* hb_place_jsq as a ready place() hook, for policies that size calls and place them by JSQ. */
int hb_place_jsq_hook(void *state, const hb_invocation *inv, const hb_cluster_view *view,
                      hb_error *err);

/* ---- invoker side ---- */

typedef struct hb_invoker hb_invoker;  /* one invoker, as the backend exposes it */

typedef struct hb_usage_sample {
    hb_invocation *inv;                /* a call running on this invoker */
    double cpu;                        /* cores used, mean over the last interval */
    double mem_mb;                     /* memory in use now */
} hb_usage_sample;

int hb_invoker_id(const hb_invoker *iv);
hb_time hb_invoker_now(const hb_invoker *iv);
hb_res hb_invoker_capacity(const hb_invoker *iv);
/* Changes the allocation of a running call, clipped first to the function's ranges. Fails (HB_ERUN) if the invoker's allocations would
 * exceed its capacity; a memory limit below the call's usage kills it (outcome oom), as the kernel
 * does. Shrink others before growing one. */
int hb_invoker_resize(hb_invoker *iv, hb_invocation *inv, hb_res alloc, hb_error *err);
/* The calls running on the invoker now (borrowed array, valid until the next backend event). */
size_t hb_invoker_running(hb_invoker *iv, hb_invocation *const **out);

/* ---- per-call state and extension columns (docs/policies.md, "Per-call state and extension
 * columns") ----
 *
 * The shared record (hb_invocation) holds what every policy and backend has in common. What only one
 * policy keeps about a call lives in the policy's own state hung on inv->policy_data (set from any
 * invoker-side hook); the engine hands it back through the release hook once the call's record is
 * done, including calls that never ended (a stopped or failed run), so nothing leaks. A policy that
 * sets policy_data must fill release.
 *
 * What a policy wants written about a call goes through extension columns: it names them in
 * hb_policy_ops.columns, and the engine asks its column hook for one call's values once the call
 * ended (after on_end, before release). The writer appends them to invocations.csv after the fixed
 * columns (docs/outputs.md) and, for columns marked total, puts the run's total in summary.json under
 * the same name. The Libra artifact's per-run CSVs (artifact/) have a fixed format; the artifact hook
 * fills its policy-specific fields. */

typedef struct hb_column {
    const char *name;                  /* header: [a-z0-9_], not a fixed column's; NULL ends a list */
    int total;                         /* 1: summary.json carries the sum over the run's calls */
} hb_column;

#define HB_MAX_COLUMNS 16              /* extension columns per policy */

typedef struct hb_column_value {
    double num;                        /* written as the fixed numbers are (at most 6 decimals);
                                        * NaN (the value the hook starts with): an empty field */
    const char *text;                  /* non-NULL: this text instead, CSV-quoted when needed; it
                                        * must live until the call's release */
} hb_column_value;

typedef struct hb_artifact_fields {
    const char *history;               /* *_trajectory.csv history; NULL: "0;0 0;0 0;;" (nothing
                                        * lent or received); must live until the call's release */
    double cpu_idle_s;                 /* *_delta.csv cpu_idle: core x s lent that no call took */
    double memory_idle_mb_s;           /* ... memory_idle, MB x s */
} hb_artifact_fields;

/* ---- the table a policy registers ---- */

typedef struct hb_policy_ops {
    const char *name;                  /* as in configs and --policy */
    const char *summary;               /* one line for `harvestbench help` */

    int (*create)(const hb_policy_ctx *ctx, void **state, hb_error *err);
    void (*destroy)(void *state);

    /* sizing: out arrives filled with the default (user allocation, CPU shares, no prediction) */
    int (*size)(void *state, const hb_invocation *inv, const hb_observation *obs, hb_sizing *out,
                hb_error *err);
    /* every ended call, any outcome, after its record is complete */
    void (*observe)(void *state, const hb_invocation *done);

    /* placement: returns an invoker index (0..view->n-1), or -1 with err set */
    int (*place)(void *state, const hb_invocation *inv, const hb_cluster_view *view, hb_error *err);

    /* invoker side: a container was assigned (cold or warm), before the code runs */
    int (*on_start)(void *state, hb_invoker *iv, hb_invocation *inv, hb_error *err);
    /* every monitor interval while the invoker runs calls */
    int (*on_tick)(void *state, hb_invoker *iv, const hb_usage_sample *s, size_t n, hb_error *err);
    /* the call ended (any outcome); its allocation is released after this returns */
    int (*on_end)(void *state, hb_invoker *iv, hb_invocation *inv, hb_error *err);

    /* ---- per-call state and what the policy writes (see above); added last, so that tables
     * written before them still compile ---- */
    /* frees inv->policy_data; called once per call whose policy_data is non-NULL when its record is
     * done: after its rows are written and observe() ran, or, for calls that never ended, before
     * destroy(). The engine sets policy_data to NULL afterwards. */
    void (*release)(void *state, hb_invocation *inv);
    /* the policy's extension columns (NULL: none), ended by an entry whose name is NULL */
    const hb_column *columns;
    /* value of column col (index into columns) of an ended call; out arrives as {NAN, NULL} */
    void (*column)(void *state, const hb_invocation *inv, size_t col, hb_column_value *out);
    /* the artifact's per-call fields of an ended call; out arrives as {NULL, 0, 0} */
    void (*artifact)(void *state, const hb_invocation *inv, hb_artifact_fields *out);
    /* the Libra artifact's name for this policy in artifact CSV file names ({name}_{exp}_{episode},
     * docs/outputs.md); "{trace}" in it stands for the trace's prefix ("libra_{trace}" gives
     * libra_multi_12_0_0). NULL: the policy's name. */
    const char *artifact_name;
} hb_policy_ops;

/* Clips a value into [lo, hi]. */
static inline double hb_clip(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

#endif

/* experiment_run.h - the front door: one experiment (every policy x seed of a configuration) in one
 * call (docs/architecture.md). `run`, `bench`, both trainers and the tests call it; a command only
 * parses flags into an hb_run_spec, calls hb_experiment_run and prints the hb_run_result.
 *
 *     hb_experiment x = {0};
 *     hb_config_load("configs/demo.ini", &x.cfg, &err);
 *     hb_run_spec spec = {.x = &x, .usage = 1};
 *     hb_run_result *res;
 *     rc = hb_experiment_run(&spec, &res, &err);    (res: pooled statistics per policy, runs)
 *     hb_run_result_free(res);
 *     hb_experiment_free(&x);
 *
 * What it owns: the overrides (--set, policies, seeds, backend) and loading the trace and the
 * workload model; reading every selected policy's and the backend's section before anything runs
 * (a bad key fails at once, naming file, line and key); the results directory and its
 * manifest.json; the policy x seed loop (run k of a policy uses seed [experiment] seed + k - 1);
 * resume; each run's files (results.h); pooling each policy's seeds. */
#ifndef HB_EXPERIMENT_RUN_H
#define HB_EXPERIMENT_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "experiment.h"
#include "hb_backend.h"
#include "hb_policy.h"
#include "pooled.h"
#include "results.h"

typedef enum { HB_RUN_PENDING, HB_RUN_COMPLETE, HB_RUN_FAILED } hb_run_status;

/* One (policy, seed) run. */
typedef struct hb_run_entry {
    char policy[32];
    int seed_index;                    /* k, 1-based: the directory seed-k */
    uint64_t seed;
    hb_run_status status;
    int kept;                          /* complete already (--resume): read from its summary.json */
} hb_run_entry;

typedef struct hb_run_result {
    char out[HB_PATH_MAX];             /* the results directory; "" when nothing was written */
    int n_policies;
    hb_policy_result *policies;        /* in the configuration's order */
    size_t n_runs;
    hb_run_entry *runs;                /* policy-major: policy p, seed k at [p * seeds + k - 1] */
    int complete;                      /* every run complete */
    int interrupted;                   /* stopped by the stop flag or a signal */
    int failed;                        /* code of the last failed run (reported through on_run;
                                        * HB_EINTR is not a failure); 0: none */
    int experiment_rc;                 /* a failure of no one run, which stopped the loop: the
                                        * manifest could not be written, statistics not pooled */
    hb_error experiment_err;           /* ... and its message, for the caller to print */
} hb_run_result;

typedef struct hb_run_spec {
    /* The experiment, the caller's (freed with hb_experiment_free). x->cfg loaded and x->trace
     * NULL: the run applies the overrides below, loads the trace and the workload model and checks
     * every selected section. x->trace set: prepared by the caller (a synthetic trace, a test's
     * trace): used as it is, no override, no check. */
    hb_experiment *x;
    const char *const *sets;           /* "SECTION.KEY=VALUE" overrides, in order */
    int n_sets;
    const char *policies;              /* comma-separated: overrides [experiment] policies */
    int seeds;                         /* > 0: overrides [experiment] seeds */
    const char *backend;               /* overrides [experiment] backend */

    const char *out;                   /* results directory; NULL: [experiment] out, else
                                        * results/NAME */
    int no_files;                      /* 1: no directory, manifest or run files */
    int resume;                        /* keep the runs of out that have a summary.json (the
                                        * manifest's configuration must be this one) */
    int usage;                         /* 1: usage rows and utilization (0: none, faster) */
    int no_latencies;                  /* 1: no latency array (memory does not grow with the
                                        * trace; no percentiles) */
    int training;                      /* the policy's ctx->training */
    int progress;                      /* a progress line per run on stderr */
    int quiet;                         /* no "replacing the previous results" notice */
    const char *who;                   /* prefix of the notices on stderr ("harvestbench run");
                                        * NULL: no notice */
    volatile sig_atomic_t *stop;       /* set by the caller (a signal handler): stop at the next
                                        * event; may be NULL */
    int catch_signals;                 /* 1: SIGINT/SIGTERM stop the loop (stop_signal.h), only
                                        * while it runs */

    /* Policies looked up before the built-in table (out-of-tree policies, --policy-lib; a test's
     * own policy). */
    const hb_policy_ops *const *extra_policies;
    size_t n_extra_policies;
    /* An instance the caller made (trainers): used for every run instead of create(); the caller
     * destroys it. The experiment should then have one policy and one seed. */
    void *policy_state;

    /* every ended call, after the policy observed it */
    void (*on_record)(void *ctx, const hb_invocation *inv);
    void *on_record_ctx;
    /* after each run: complete (st its statistics), kept (st NULL) or failed (err says why) */
    void (*on_run)(void *ctx, const hb_run_entry *run, const hb_run_stats *st, const hb_error *err);
    void *on_run_ctx;
} hb_run_spec;

/* Runs the experiment. Returns 0 when every run completed; otherwise the code of what stopped it
 * (HB_EINTR when interrupted), with err saying why. *out: the result whenever the runs started
 * (even if some failed), NULL when the experiment could not be set up (bad configuration, trace,
 * results directory); free it with hb_run_result_free. */
int hb_experiment_run(const hb_run_spec *spec, hb_run_result **out, hb_error *err);
void hb_run_result_free(hb_run_result *r);

/* The policy of that name: spec's extra policies first, then the built-in table; NULL if none. */
const hb_policy_ops *hb_run_policy_find(const hb_run_spec *spec, const char *name);

/* The result of a named policy, or NULL. */
const hb_policy_result *hb_run_result_policy(const hb_run_result *r, const char *name);

/* `run`'s exit status: 0 complete, 2 a run failed on bad input, else 1. */
int hb_run_exit_status(const hb_run_result *r);

#endif

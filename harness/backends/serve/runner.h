/* runner.h - how `harvestbench serve` executes an activation: the interface between the
 * OpenWhisk-compatible endpoint (serve.c) and whatever runs the action's code.
 *
 * serve does the controller's work (auth, entities, throttling, activation records); a runner does
 * the invoker's: it assigns a container (warm if an idle one holds the same code, else a cold one,
 * which it initializes), runs the call under its limits, and reports back once. Two runners exist
 * or are planned:
 *   - runner_exec.c (hb_runner_exec_new): a fork/exec per call of the action's `exec` with the
 *     dockerskeleton contract (parameters as argv[1], or on stdin when large; the last stdout line is
 *     the result), its time limit enforced, no cgroups. "Containers" are directories: a cold start
 *     unpacks the code into a fresh one (the /init of the dockerskeleton image), a warm start reuses
 *     an idle one of the same code within the keep-alive.
 *   - runner_local.c (hb_runner_local_new): the local executor (harness/backends/common/executor.h): each
 *     container a cgroup with the call's limits, warm ActionLoop processes or dockerskeleton
 *     processes per call, timeouts killed, out-of-memory kills read from the group. cmd_serve.c
 *     uses it (--runner local, the default where cgroups can be made).
 * What both keep of a request and build from it (the copied request, the __OW_* environment, the
 * code unpacked as `exec`) is runner_job.h's.
 *
 * Contract for an implementation:
 *   - start() copies what it keeps from the request (the caller's strings may go away when start
 *     returns), and either fails synchronously (no callback; serve records a "whisk internal error"
 *     activation) or returns 0 and later calls req->done exactly once, from any thread.
 *   - done() receives times as Unix epoch milliseconds: start_ms when the call got its container
 *     (before any initialization), end_ms when it ended; init_ms is the initialization of a cold
 *     start (0 when warm) and is counted inside end_ms - start_ms, as OpenWhisk's duration is. The
 *     result pointer and strings in hb_run_result are valid only during the callback.
 *   - forget() says a code key is no longer deployed: idle containers of it may be removed.
 *   - close() stops everything still running (results: HB_RUN_INTERNAL "shutting down"), waits
 *     until every pending callback has returned, and frees the runner. */
#ifndef HB_RUNNER_H
#define HB_RUNNER_H

#include <stdint.h>
#include <sys/types.h>

#include "hb_error.h"

typedef enum hb_run_status {
    HB_RUN_SUCCESS,                    /* a JSON object without "error" */
    HB_RUN_APP_ERROR,                  /* a JSON object with "error": OpenWhisk "application error" */
    HB_RUN_DEV_ERROR,                  /* no JSON object, a crash, a failed init: "action developer error" */
    HB_RUN_TIMEOUT,                    /* killed at its time limit (a developer error, timeout annotation) */
    HB_RUN_OOM,                        /* killed at its memory limit (a developer error) */
    HB_RUN_INTERNAL,                   /* the runner failed: "whisk internal error" */
} hb_run_status;

typedef struct hb_run_code {
    const char *key;                   /* identifies the code: containers are reused for the same key */
    const char *path;                  /* a zip holding `exec`, or an executable script */
    int is_zip;
    const char *image;                 /* blackbox image without code: a runner may refuse it */
} hb_run_code;

typedef struct hb_run_limits {
    int64_t timeout_ms;
    int memory_mb;
    double cpu;                        /* a CPU quota in cores; 0: none (CPU shares by memory) */
} hb_run_limits;

typedef struct hb_run_result {
    hb_run_status status;
    const char *result;                /* the action's JSON object (text) for SUCCESS and APP_ERROR */
    const char *message;               /* what went wrong otherwise */
    int64_t start_ms, end_ms;          /* Unix epoch ms */
    int64_t init_ms;                   /* cold start initialization (0 when warm) */
    int cold;
    const char *logs;                  /* the action's output lines but the result, '\n'-separated */
} hb_run_result;

typedef void (*hb_run_done_fn)(void *ctx, const hb_run_result *r);

typedef struct hb_run_request {
    const char *activation_id;
    const char *action;                /* "namespace/name" */
    const char *api_host;              /* for __OW_API_HOST */
    hb_run_code code;
    const char *params;                /* a JSON object (text) */
    hb_run_limits limits;
    int64_t deadline_ms;               /* Unix epoch ms, for __OW_DEADLINE */
    hb_run_done_fn done;
    void *ctx;
} hb_run_request;

typedef struct hb_runner hb_runner;

typedef struct hb_runner_ops {
    const char *name;
    int (*start)(hb_runner *r, const hb_run_request *req, hb_error *err);
    void (*forget)(hb_runner *r, const char *code_key);
    void (*close)(hb_runner *r);
} hb_runner_ops;

struct hb_runner {
    const hb_runner_ops *ops;
    void *impl;
};

typedef struct hb_runner_exec_opts {
    const char *work_dir;              /* containers are directories under it */
    int64_t keep_alive_ms;             /* idle containers older than this are removed */
    size_t max_output;                 /* bytes of stdout + stderr kept per call */
} hb_runner_exec_opts;

/* The fork/exec runner (runner_exec.c). */
int hb_runner_exec_new(const hb_runner_exec_opts *o, hb_runner **out, hb_error *err);

typedef struct hb_runner_local_opts {
    const char *work_dir;              /* the unpacked code goes in a directory under it; NULL: $TMPDIR */
    int64_t keep_alive_ms;             /* idle containers older than this are removed */
    int limits;                        /* 1: cgroups (root, v1 or v2); 0: plain processes */
    int run_as;                        /* 1: actions run as uid/gid (hb_exec_opts.run_as) */
    uid_t uid;
    gid_t gid;
    long pids_max;                     /* tasks per container (pids controller); 0: no limit */
} hb_runner_local_opts;

/* The local executor's runner (runner_local.c): cgroups, warm ActionLoop or dockerskeleton
 * containers, detected timeouts and out-of-memory kills. */
int hb_runner_local_new(const hb_runner_local_opts *o, hb_runner **out, hb_error *err);

/* Unix epoch milliseconds now. */
int64_t hb_epoch_ms(void);

#endif

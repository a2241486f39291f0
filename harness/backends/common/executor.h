/* executor.h - the local executor: calls run as real processes in cgroups, with warm containers,
 * live resizing, usage readings and detected outcomes. The local backend (local_backend.c) drives
 * it to replay traces; `harvestbench serve` can run actions through it (docs/local.md).
 *
 * Model.
 *   pool       one invoker: a cgroup nested in this process's own, with the invoker's CPU quota
 *              (its share of the machine); the containers of the invoker nest inside it.
 *   container  one ActionLoop process (OpenWhisk's warm-process contract, docs/workloads.md) in a
 *              cgroup of its own, nested in its pool's: requests go to its standard input (one JSON
 *              line each), results come back on its file descriptor 3 (one line each), its standard
 *              output and error are its logs. The process is placed in the group before it execs.
 *   call       one request. It takes an idle container of the same code key in its pool (warm:
 *              the group is resized to the call's limits) or spawns one (cold: a new group with the
 *              call's limits; the process is started with __OW_WAIT_FOR_ACK=1 and is ready when it
 *              writes {"ok":true} on fd 3, so the cold start is measured from spawn to ready).
 *              The request is written once the container is ready; the call ends when its result
 *              line arrives (ok / application error / not a JSON object), or when the process dies:
 *              out of memory (the group's OOM-kill counter rose), timeout (the executor killed it at
 *              the call's time limit), or a crash (any other death, with its status and last log
 *              line). A container whose call ended with a result stays idle for the keep-alive,
 *              then is removed; any other ends with its container.
 * One-shot containers (hb_exec_spec.oneshot) follow OpenWhisk's dockerskeleton contract instead, for
 * native actions that are not ActionLoop programs: each call is a new process of the executable in
 * the container's group, the parameter object as argv[1] (on standard input when over 64 KiB), its
 * result the last line of its standard output (the lines before it and standard error are logs);
 * the container is its group, warm between calls, and a cold start is the making of the group.
 * With limits on, when a call ends every process left in its container's group but the
 * container's own (an ActionLoop process) is killed: a child that outlives its call dies with it.
 * With limits off (hb_exec_opts.limits = 0) there are no groups: no CPU quota, no memory limit, no
 * OOM counter; usage comes from /proc/PID (CPU time of all threads; resident memory, its peak reset
 * per call through /proc/PID/clear_refs).
 *
 * Threading: not thread-safe. One thread drives an executor (every function below) and every
 * callback runs on it, inside hb_exec_run. Only hb_exec_wake may be called from another thread: it
 * makes hb_exec_run return, for a caller that collects work from other threads (serve's runner).
 *
 * The loop (hb_exec_run) waits in ppoll(2) on each container's result pipe, log pipe and pidfd
 * (process exit), its request socket while a request is being written, and a wake eventfd, until
 * the nearest deadline: a call's time limit, an idle container's keep-alive, the caller's `until`.
 * poll over an array rebuilt on each wait, rather than epoll: containers come and go with calls,
 * there are tens of them, and callbacks that start and kill containers cannot leave a stale
 * registration behind. pidfds (Linux 5.3) report exits without a SIGCHLD handler, which would be
 * process-wide state; without them a closed result pipe stands for an exit.
 * All times are CLOCK_MONOTONIC nanoseconds (hb_exec_now). Hand-written: no packaged library
 * supervises ActionLoop processes in cgroups. */
#ifndef HB_EXECUTOR_H
#define HB_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hb_error.h"

typedef struct hb_exec hb_exec;
typedef struct hb_exec_call hb_exec_call;

typedef enum hb_exec_status {
    HB_EXEC_OK,                        /* a JSON object without "error" */
    HB_EXEC_APP_ERROR,                 /* a JSON object with "error" */
    HB_EXEC_CRASH,                     /* died, failed to start, or answered with no JSON object */
    HB_EXEC_TIMEOUT,                   /* killed at its time limit */
    HB_EXEC_OOM,                       /* killed at its memory limit (by the kernel, or a shrink
                                        * below its usage) */
    HB_EXEC_ABORTED,                   /* hb_exec_abort_all */
} hb_exec_status;

const char *hb_exec_status_name(hb_exec_status s);

typedef struct hb_exec_result {
    hb_exec_status status;
    const char *result;                /* the result line, when one came (else NULL) */
    const char *message;               /* what went wrong ("" for OK) */
    const char *logs;                  /* its stdout and stderr during the call, bounded */
    size_t logs_out;                   /* one-shot: the first logs_out bytes of logs are its
                                        * standard output (but the result line), the rest its
                                        * standard error; ActionLoop: 0 (one pipe for both) */
    int cold;
    int64_t t_assigned;                /* hb_exec_start */
    int64_t t_running;                 /* the request was written (after a cold start); 0: never */
    int64_t t_end;                     /* the result came, or the process was killed / seen dead */
    uint64_t cpu_ns;                   /* CPU time of the container since t_assigned */
    double mem_peak_mb;                /* its memory peak since t_assigned; < 0: unknown */
} hb_exec_result;

typedef struct hb_exec_usage {
    int64_t t;                         /* when read */
    uint64_t cpu_ns;                   /* CPU time of the container since the call's t_assigned */
    double mem_mb;                     /* memory in use now (cgroup: what its limit counts) */
    double mem_peak_mb;                /* highest since t_assigned; < 0: unknown */
} hb_exec_usage;

/* Callbacks of a call; each returns 0 or an error code with err filled (hb_exec_run then stops and
 * returns it). on_done is the call's last event: its handle is freed when on_done returns. */
typedef struct hb_exec_events {
    int (*on_running)(void *ctx, hb_exec_call *c, int64_t t, hb_error *err);
    int (*on_done)(void *ctx, hb_exec_call *c, const hb_exec_result *r, hb_error *err);
    void *ctx;
} hb_exec_events;

typedef struct hb_exec_limits {
    double cpu;                        /* CPU quota, cores; <= 0: none (shares) */
    double shares;                     /* CPU weight when cores compete (cpu.shares units) */
    double mem_mb;                     /* memory limit, MB, swap off; <= 0: none */
} hb_exec_limits;

typedef struct hb_exec_spec {
    int pool;
    const char *key;                   /* code identity: warm containers serve equal keys */
    const char *path;                  /* the executable */
    int oneshot;                       /* 0: it speaks ActionLoop; 1: dockerskeleton (below) */
    const char *request;               /* ActionLoop: one JSON object {"value":{...},...}, no
                                        * newline; one-shot: the parameter object */
    hb_exec_limits limits;
    int64_t timeout_ns;                /* time limit of the execution (not the cold start); 0: none */
    char *const *env;                  /* the process's whole environment ("K=V", NULL-ended); NULL:
                                        * this process's. Applies when a process starts: every
                                        * one-shot call, an ActionLoop container's first call */
    const char *dir;                   /* its working directory; NULL: this process's */
    hb_exec_events ev;
} hb_exec_spec;

typedef struct hb_exec_opts {
    int limits;                        /* 1: cgroups (needs root or a delegated v2 subtree); 0: none */
    int64_t keep_alive_ns;             /* idle containers are removed after this; 0: never idle */
    size_t max_log;                    /* bytes of logs kept per call (0: 64 KiB) */
    size_t max_result;                 /* bytes of a result line (0: 16 MiB) */
    /* Isolation of untrusted code (serve's actions; the local backend runs the repository's
     * workloads as this process's user and leaves these 0): */
    int run_as;                        /* 1: processes run as uid/gid, no supplementary groups,
                                        * no new privileges (needs root) */
    uid_t uid;
    gid_t gid;
    long pids_max;                     /* > 0 (with limits): each container also in a group of
                                        * the pids controller (v1) holding at most this many tasks */
} hb_exec_opts;

/* Creates an executor. With limits, fails with a message saying what is missing (root, a
 * hierarchy) when groups cannot be created. */
int hb_exec_new(const hb_exec_opts *o, hb_exec **out, hb_error *err);

/* Adds a pool (an invoker): with limits, a group holding a CPU quota of `cpu` cores (<= 0: none),
 * a CPU weight of `cpu` default tasks against the rest of the machine (without a quota: one per CPU
 * this process may use), and a memory limit of `mem_mb` (<= 0: none). Pools are numbered from 0. */
int hb_exec_pool_add(hb_exec *ex, double cpu, double mem_mb, int *pool, hb_error *err);

/* Starts a call: the request is written when its container is ready, on the next hb_exec_run.
 * Fails (no callbacks) when a process or group cannot be made. The spec's strings are copied. */
int hb_exec_start(hb_exec *ex, const hb_exec_spec *s, hb_exec_call **out, hb_error *err);

/* Did the call get a new container (a cold start)? */
int hb_exec_call_cold(const hb_exec_call *c);

/* Would a call of `key` in `pool` find a warm container now? */
int hb_exec_has_idle(const hb_exec *ex, int pool, const char *key);
/* Memory limits held by the idle containers of a pool, MB. */
double hb_exec_idle_mem(const hb_exec *ex, int pool);
/* Removes the least recently used idle container of a pool; returns 0 when there is none. */
int hb_exec_evict_lru(hb_exec *ex, int pool);
/* Removes every idle container of `key` (its code is gone); returns how many. */
int hb_exec_forget(hb_exec *ex, const char *key);

/* Changes a call's limits while it runs (or starts). A memory limit below what the container uses
 * ends the call as HB_EXEC_OOM: cgroup v2 kills it itself; v1 refuses the write (EBUSY), and the
 * executor then kills the container, so both end alike. The end is reported by hb_exec_run. */
int hb_exec_resize(hb_exec *ex, hb_exec_call *c, const hb_exec_limits *l, hb_error *err);

/* Reads a call's usage now. */
int hb_exec_usage_read(hb_exec *ex, hb_exec_call *c, hb_exec_usage *u, hb_error *err);

/* Services processes until the clock reaches `until`, a signal interrupts the wait, or
 * hb_exec_wake is called; returns HB_OK (read the clock to tell which) or a callback's error.
 * Always handles what is ready now, even when `until` has passed. */
int hb_exec_run(hb_exec *ex, int64_t until, hb_error *err);

/* From any thread: makes the current or next hb_exec_run return. */
void hb_exec_wake(hb_exec *ex);

/* Ends every call now with HB_EXEC_ABORTED (callbacks run; their errors are ignored). */
void hb_exec_abort_all(hb_exec *ex, const char *message);

/* Calls not ended. */
size_t hb_exec_live_calls(const hb_exec *ex);

/* Kills every process, reaps it, removes every group; no callbacks. Calls still running are
 * dropped (their handles become invalid). */
void hb_exec_free(hb_exec *ex);

/* CLOCK_MONOTONIC, nanoseconds. */
int64_t hb_exec_now(void);

#endif

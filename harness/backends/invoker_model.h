/* invoker_model.h - the invoker model the simulator and the local backend share (docs/simulator.md,
 * docs/local.md): admission of a call by its reserve and its allocation against the invoker's
 * capacity, else a FIFO queue; warm and cold containers with keep-alive (for a backend whose
 * containers are virtual; the local backend's are the executor's processes); live resizing refused
 * beyond capacity; the exact integration of usage into one row per invoker and second; and the
 * bookkeeping of a call's outcome, times, peaks and resource-seconds.
 *
 * As Redis's ae.c takes its polling from ae_epoll.c or ae_select.c, the model takes a backend's
 * primitives from a small table (hb_im_ops): the clock, and start, resize, sample and stop of a
 * call - virtual for the simulator, a process in a cgroup for the local backend. The backend owns
 * its timers: the model never schedules anything, so a backend may sample every invoker on one
 * cluster-wide tick (hb_im_tick_all) or each on its own (hb_im_tick). */
#ifndef HB_INVOKER_MODEL_H
#define HB_INVOKER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "hb_backend.h"

enum { HB_IM_QUEUED, HB_IM_INIT, HB_IM_RUN };

/* The quantities of a usage row, integrated per invoker and second. */
enum { HB_IM_CPU_ALLOC, HB_IM_CPU_USED, HB_IM_MEM_ALLOC, HB_IM_MEM_USED, HB_IM_RUNNING,
       HB_IM_QUEUED_N, HB_IM_CPU_HARV, HB_IM_CPU_BORR, HB_IM_MEM_HARV, HB_IM_MEM_BORR, HB_IM_NV };

typedef struct hb_im hb_im;
typedef struct hb_im_invoker hb_im_invoker;

/* A virtual container (hb_im_config.containers): warm while idle, until its keep-alive ends. */
typedef struct hb_im_container {
    int func;
    double mem_mb;
    hb_time idle_since;
    struct hb_im_container *lru_prev, *lru_next;   /* the invoker's idle ones, oldest first */
    struct hb_im_container *fn_prev, *fn_next;     /* idle ones of the same function */
} hb_im_container;

/* The model's part of a call; a backend's call struct begins with it. */
typedef struct hb_im_call {
    hb_invocation *inv;
    hb_im_invoker *iv;
    int phase;                         /* HB_IM_QUEUED, _INIT, _RUN */
    hb_time seg_t0;                    /* start of the open segment of its own accounting */
    hb_time run_t0;                    /* when it began running */
    /* usage the backend models as levels (the simulator); 0 where it comes from readings
     * (hb_im_usage_add) */
    double rate;                       /* cores used now, while running */
    double mem_start;                  /* MB used from admission */
    double mem_slope;                  /* MB per microsecond it adds while its memory ramps */
    double contrib[HB_IM_NV];          /* what it adds to its invoker's levels (not memory used) */
    double run_alloc_cpu, run_alloc_mem;   /* allocation x microseconds while running */
    double peak_cpu, peak_mem;
    hb_im_container *ctr;              /* its virtual container */
    size_t run_pos;
    struct hb_im_call *q_next;
} hb_im_call;

struct hb_im_invoker {
    hb_invoker pub;                    /* what policies see; pub.impl is this */
    hb_im *m;
    hb_res reserved;                   /* sum of reserves of admitted calls */
    hb_res alloc_sum;                  /* sum of allocations of admitted calls */
    hb_im_call **run;                  /* running calls in start order */
    hb_invocation **run_inv;
    size_t n_run, cap_run;
    hb_im_call *q_head, *q_tail;
    size_t n_queued;
    hb_im_container *lru_head, *lru_tail;
    hb_im_container **idle_by_fn;      /* n_funcs heads */
    double idle_mem;
    double lv[HB_IM_NV];               /* sums over calls, now (memory used: at lv_t0) */
    double mem_slope;
    hb_time lv_t0;                     /* levels are integrated up to here */
    int64_t lv_sec;                    /* the second holding lv_t0, and its end */
    hb_time lv_end;
    double (*bins)[HB_IM_NV];          /* integrals of the open seconds: a ring, second s at
                                          s & (cap_bins - 1), for s from m->bin0 */
    double *acc;                       /* the ring's entry of second lv_sec */
    size_t cap_bins;
    hb_usage_sample *samples;
    size_t cap_samples;
};

/* A backend's primitives. ctx is hb_im_config.ctx. */
typedef struct hb_im_ops {
    hb_time (*now)(void *ctx);         /* the clock, in trace microseconds */
    /* a zeroed call of the backend's size (it begins with hb_im_call), and its release (at the
     * end of a call, or at close for calls still held) */
    hb_im_call *(*call_new)(void *ctx);
    void (*call_free)(void *ctx, hb_im_call *c);
    /* the call is admitted (its container chosen, if virtual): start it; set c->mem_start if
     * memory is a level; inv->cold_start unless the containers are virtual. On failure the model
     * releases the call. */
    int (*start)(void *ctx, hb_im_call *c, hb_error *err);
    /* after the policy's on_start hook: begin its init or its execution (may be NULL) */
    int (*begin)(void *ctx, hb_im_call *c, hb_error *err);
    /* its allocation changed (inv->alloc), cpu_changed when the CPU did */
    int (*resize)(void *ctx, hb_im_call *c, int cpu_changed, hb_error *err);
    /* monitor samples at `now` of the invoker's running calls (iv->run[i] into out[i]: the call,
     * its cores, its MB); one call per invoker, as the monitor reads them all at once */
    int (*sample)(void *ctx, hb_im_invoker *iv, hb_time now, hb_usage_sample *out, hb_error *err);
    /* closes the backend's part of the call's accounting over [t0, t1] (may be NULL) */
    void (*seg)(void *ctx, hb_im_call *c, hb_time t0, hb_time t1);
    /* the call left the invoker's running set (may be NULL) */
    void (*stop)(void *ctx, hb_im_call *c);
    /* the invoker has a call admitted or queued (may be NULL): a per-invoker monitor starts */
    void (*busy)(void *ctx, hb_im_invoker *iv);
    /* the set of running calls of the invoker changed after an end (may be NULL) */
    void (*settle)(void *ctx, hb_im_invoker *iv);
} hb_im_ops;

typedef struct hb_im_config {
    int n_invokers;
    hb_res capacity;                   /* per invoker */
    int n_funcs;
    int containers;                    /* 1: the model keeps virtual containers */
    hb_time keep_alive;                /* virtual containers: idle lifetime; 0: none */
    int usage_rows;                    /* 0: integrate, but hand no row to on_usage */
    const hb_backend_hooks *hooks;
    const hb_im_ops *ops;
    void *ctx;
} hb_im_config;

struct hb_im {
    hb_backend_hooks hooks;
    const hb_im_ops *ops;
    void *ctx;
    int n;
    hb_im_invoker *iv;
    int n_funcs;
    int containers;
    hb_time keep_alive;
    int usage_rows;
    int64_t bin0;                      /* the first second not yet written */
};

int hb_im_open(hb_im *m, const hb_im_config *cfg, hb_error *err);
/* Releases every call still held (ops->call_free) and every container. */
void hb_im_close(hb_im *m);

/* A sized and placed call arrives: rejected at once if it can never fit, admitted if it fits and
 * nothing waits, else queued. */
int hb_im_submit(hb_im *m, hb_invocation *inv, hb_error *err);
/* The call began running at `now` (its init, if any, is over). */
void hb_im_running(hb_im_call *c, hb_time now);
/* The call ended at `end` with `outcome` (messages and peaks set by the backend); mem_now is the
 * memory it held as a level (0 where memory comes from readings). Releases it, runs on_end and
 * admits what now fits. */
int hb_im_end(hb_im_call *c, hb_time end, hb_outcome outcome, double mem_now, hb_error *err);
/* Closes the open segment of a call's own accounting at `now`. */
void hb_im_seg_close(hb_im_call *c, hb_time now);
/* Recomputes what a running call adds to its invoker's levels (after a rate change). */
int hb_im_contrib_update(hb_im_call *c, hb_time now);
/* The same when only the call's rate changed (to `rate`), cheaper: the simulator's CPU sharing
 * changes every rate of an oversubscribed invoker at each start and end. */
int hb_im_rate_set(hb_im_call *c, hb_time now, double rate);
/* The invoker's used-memory level jumps by d_mb, or its slope changes by d_slope, at `now`. */
int hb_im_mem_jump(hb_im_invoker *iv, hb_time now, double d_mb);
int hb_im_mem_slope(hb_im_invoker *iv, hb_time now, double d_slope);
/* Adds level x (t1 - t0) of quantity v to the open seconds it spans (readings). */
int hb_im_usage_add(hb_im_invoker *iv, int v, hb_time t0, hb_time t1, double level);
/* Samples the running calls of one invoker (or of all) and runs the policy's monitor hook. Inline:
 * the simulator ticks every invoker every 100 ms while it runs calls. */
int hb_im_samples_grow(hb_im_invoker *iv, hb_error *err);

static inline int hb_im_tick(hb_im_invoker *iv, hb_time now, hb_error *err)
{
    hb_im *m = iv->m;
    size_t n = iv->n_run;
    if (n == 0)
        return 0;
    int rc = n > iv->cap_samples ? hb_im_samples_grow(iv, err) : 0;
    if (!rc)
        rc = m->ops->sample(m->ctx, iv, now, iv->samples, err);
    if (!rc && m->hooks.on_tick && m->hooks.tick_interval > 0)
        rc = m->hooks.on_tick(m->hooks.ctx, &iv->pub, iv->samples, n, err);
    return rc;
}

int hb_im_tick_all(hb_im *m, hb_time now, hb_error *err);
/* Writes every second that ends by t, all invokers in lockstep. Inline: the simulator asks at
 * every event, and most events end no second. */
int hb_im_flush_seconds(hb_im *m, hb_time t, hb_error *err);

static inline int hb_im_flush(hb_im *m, hb_time t, hb_error *err)
{
    return t < (m->bin0 + 1) * HB_SEC ? 0 : hb_im_flush_seconds(m, t, err);
}
/* At the end of a run: writes up to t and the partial second holding it. */
int hb_im_flush_last(hb_im *m, hb_time t, hb_error *err);

#endif

/* local_backend.c - the `local` backend (BRIEF section 4, docs/local.md): this machine is the
 * controller and the invokers; every call is a real process of one of the ten C workloads, run
 * by the local executor (executor.h) in a cgroup with its allocation as limits, replayed in real
 * time.
 *
 * Time. Trace time t (microseconds) is played at wall time w0 + t * time_scale. Every time the
 * backend reports is trace time: a wall instant w becomes (w - w0) / time_scale, so durations
 * measured on the wall clock are divided by time_scale (a call that ran 2 s at time_scale 0.5
 * lasted 4 s of trace time). Limits that are trace durations (timeouts, keep-alive) are multiplied
 * by it to act on the wall clock. The usage monitor samples every [cluster] monitor_ms of wall
 * time: cores and MB are physical rates, independent of the scale.
 *
 * advance(until) waits until the wall clock reaches the scaled `until` inside the executor's loop,
 * which services every process meanwhile (results, exits, timeouts, keep-alive), and samples
 * usage on a global grid of monitor periods. So many calls are in flight, and a call is never
 * waited for. A call's arrival is when it was dispatched; dispatch_late_ms says how late that was.
 *
 * The invoker model follows the simulator's (docs/simulator.md), with real processes: admission
 * by reserve and allocation against capacity, else a FIFO queue; a warm container of the function
 * (most recently idle) or a cold one (evicting idle containers, least recently used first, when
 * their memory is needed); the allocation as the group's limits (a CPU quota when the policy asks
 * for one, else CPU shares in proportion to memory); live resizing refused beyond capacity.
 * Usage rows (one per invoker and trace second) integrate the allocation levels exactly and the
 * monitor's samples of each call's group over their intervals. */
#define _GNU_SOURCE
#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cgroup.h"
#include "hb_backend.h"
#include "common/executor.h"
#include "seed.h"

#define EPS 1e-9

enum { PH_QUEUED, PH_INIT, PH_RUN };
enum { V_CPU_ALLOC, V_CPU_USED, V_MEM_ALLOC, V_MEM_USED, V_RUNNING, V_QUEUED,
       V_CPU_HARV, V_CPU_BORR, V_MEM_HARV, V_MEM_BORR, NV };

typedef struct lb lb;
typedef struct lb_invoker lb_invoker;

typedef struct lb_call {
    hb_invocation *inv;
    lb_invoker *iv;
    hb_exec_call *x;                   /* NULL while queued */
    int phase;
    hb_time seg_t0;                    /* start of the open segment of its own accounting */
    double contrib[NV];                /* what it adds to its invoker's levels (not the used ones) */
    double run_alloc_cpu, run_alloc_mem;   /* allocation x trace microseconds while running */
    hb_time run_t0;                    /* when it began running */
    int64_t s_t;                       /* the last usage reading: when (wall ns), CPU ns, MB */
    uint64_t s_cpu;
    double s_mem;
    double peak_cpu, peak_mem;
    struct lb_call *q_next;
} lb_call;

struct lb_invoker {
    hb_invoker pub;
    lb *b;
    int pool;
    hb_res reserved, alloc_sum;
    lb_call **run;
    hb_invocation **run_inv;
    size_t n_run, cap_run;
    lb_call *q_head, *q_tail;
    size_t n_queued;
    double lv[NV];                     /* levels of the allocation quantities, since lv_t0 */
    hb_time lv_t0;
    double (*bins)[NV];                /* integrals of the open seconds, from lb.bin0 */
    size_t cap_bins;
    hb_usage_sample *samples;
    size_t cap_samples;
};

struct lb {
    hb_backend_hooks hooks;
    hb_exec *ex;
    int n;
    lb_invoker *iv;
    double scale;                      /* wall seconds per trace second */
    int64_t w0;                        /* wall ns of trace time 0 */
    int64_t monitor_ns;
    int64_t next_sample;
    int64_t bin0;                      /* the first second not yet written */
    volatile sig_atomic_t *stop;
    int usage_rows;
    int limits;
    char path[HB_NWORKLOADS][PATH_MAX];
    cJSON *extra[HB_NWORKLOADS];           /* [backend.local] params_ID */
    uint64_t input_key;
    hb_time last_event;
    size_t live;                       /* calls submitted and not ended */
    hb_error *err;
};

/* ---- time ---- */

static hb_time trace_of(const lb *b, int64_t wall)
{
    double t = (double)(wall - b->w0) / (b->scale * 1e3);
    return t < 0 ? 0 : (hb_time)t;
}

static int64_t wall_of(const lb *b, hb_time t)
{
    return b->w0 + (int64_t)((double)t * b->scale * 1e3);
}

static hb_time now_trace(const lb *b) { return trace_of(b, hb_exec_now()); }

/* ---- usage integration ---- */

static int bins_reserve(lb_invoker *iv, size_t k)
{
    if (k < iv->cap_bins)
        return 0;
    size_t cap = iv->cap_bins ? iv->cap_bins : 8;
    while (cap <= k)
        cap *= 2;
    double (*a)[NV] = realloc(iv->bins, cap * sizeof *a);
    if (!a)
        return -1;
    memset(a + iv->cap_bins, 0, (cap - iv->cap_bins) * sizeof *a);
    iv->bins = a;
    iv->cap_bins = cap;
    return 0;
}

/* Adds level x (t1 - t0) of quantity v to the seconds it spans. */
static int bins_add(lb_invoker *iv, int v, hb_time t0, hb_time t1, double level)
{
    lb *b = iv->b;
    if (t0 < b->bin0 * HB_SEC)
        t0 = b->bin0 * HB_SEC;         /* a second already written cannot change */
    if (t1 <= t0 || level == 0)
        return 0;
    for (int64_t s = t0 / HB_SEC; s * HB_SEC < t1; s++) {
        hb_time a = s * HB_SEC > t0 ? s * HB_SEC : t0;
        hb_time e = (s + 1) * HB_SEC < t1 ? (s + 1) * HB_SEC : t1;
        size_t k = (size_t)(s - b->bin0);
        if (bins_reserve(iv, k))
            return -1;
        iv->bins[k][v] += level * (double)(e - a);
    }
    return 0;
}

static int lv_advance(lb_invoker *iv, hb_time t)
{
    if (t <= iv->lv_t0)
        return 0;
    for (int v = 0; v < NV; v++)
        if (v != V_CPU_USED && v != V_MEM_USED && bins_add(iv, v, iv->lv_t0, t, iv->lv[v]))
            return -1;
    iv->lv_t0 = t;
    return 0;
}

/* A call's own accounting over its open segment: resource-seconds lent and received, and the
 * allocation while it runs. */
static void seg_close(lb_call *c, hb_time now)
{
    hb_time dt = now - c->seg_t0;
    if (dt <= 0 || c->phase == PH_QUEUED)
        return;
    hb_invocation *inv = c->inv;
    double sec = (double)dt / 1e6;
    inv->harvested_cpu_s += c->contrib[V_CPU_HARV] * sec;
    inv->borrowed_cpu_s += c->contrib[V_CPU_BORR] * sec;
    inv->harvested_mem_mb_s += c->contrib[V_MEM_HARV] * sec;
    inv->borrowed_mem_mb_s += c->contrib[V_MEM_BORR] * sec;
    if (c->phase == PH_RUN) {
        inv->borrowed_running_cpu_s += c->contrib[V_CPU_BORR] * sec;
        inv->borrowed_running_mem_mb_s += c->contrib[V_MEM_BORR] * sec;
        c->run_alloc_cpu += inv->alloc.cpu * (double)dt;
        c->run_alloc_mem += inv->alloc.mem_mb * (double)dt;
    }
    c->seg_t0 = now;
}

/* Recomputes what a running call adds to its invoker's levels (remove: takes it all away). */
static int contrib_set(lb_call *c, hb_time now, int remove)
{
    lb_invoker *iv = c->iv;
    hb_invocation *inv = c->inv;
    double v[NV] = {0};
    if (!remove) {
        v[V_CPU_ALLOC] = inv->alloc.cpu;
        v[V_MEM_ALLOC] = inv->alloc.mem_mb;
        v[V_RUNNING] = 1;
        if (inv->cpu_hard) {           /* lent and received CPU only where CPU is a quota */
            v[V_CPU_HARV] = fmax(0, inv->user.cpu - inv->alloc.cpu);
            v[V_CPU_BORR] = fmax(0, inv->alloc.cpu - inv->user.cpu);
        }
        v[V_MEM_HARV] = fmax(0, inv->user.mem_mb - inv->alloc.mem_mb);
        v[V_MEM_BORR] = fmax(0, inv->alloc.mem_mb - inv->user.mem_mb);
    }
    if (lv_advance(iv, now))
        return -1;
    for (int k = 0; k < NV; k++)
        if (k != V_CPU_USED && k != V_MEM_USED && k != V_QUEUED) {
            iv->lv[k] += v[k] - c->contrib[k];
            c->contrib[k] = v[k];
        }
    if (iv->n_run == 0 && remove)      /* no drift left behind */
        for (int k = 0; k < NV; k++)
            if (k != V_QUEUED)
                iv->lv[k] = 0;
    return 0;
}

static int queue_change(lb_invoker *iv, hb_time now, int delta)
{
    if (lv_advance(iv, now))
        return -1;
    iv->n_queued = (size_t)((long)iv->n_queued + delta);
    iv->lv[V_QUEUED] = (double)iv->n_queued;
    return 0;
}

/* Takes a usage reading into account: the call's cores and memory over [last reading, t]. */
static int take_reading(lb_call *c, int64_t t, uint64_t cpu_ns, double mem_mb, double *cores)
{
    lb *b = c->iv->b;
    int64_t dt = t - c->s_t;
    *cores = 0;
    if (dt <= 0)
        return 0;
    *cores = (double)(cpu_ns > c->s_cpu ? cpu_ns - c->s_cpu : 0) / (double)dt;
    hb_time t0 = trace_of(b, c->s_t), t1 = trace_of(b, t);
    if (bins_add(c->iv, V_CPU_USED, t0, t1, *cores) ||
        bins_add(c->iv, V_MEM_USED, t0, t1, 0.5 * (c->s_mem + mem_mb)))
        return -1;
    if (dt * 2 >= b->monitor_ns && *cores > c->peak_cpu)
        c->peak_cpu = *cores;          /* peaks over whole intervals, as the workloads' sampler */
    if (mem_mb > c->peak_mem)
        c->peak_mem = mem_mb;
    c->s_t = t;
    c->s_cpu = cpu_ns;
    c->s_mem = mem_mb;
    return 0;
}

/* Writes every second that ends by trace time t, all invokers in lockstep. */
static int flush_upto(lb *b, hb_time t, hb_error *err)
{
    for (int i = 0; i < b->n; i++)
        if (lv_advance(&b->iv[i], t))
            return hb_fail(err, HB_ENOMEM, "out of memory");
    while ((b->bin0 + 1) * HB_SEC <= t) {
        for (int i = 0; i < b->n; i++) {
            lb_invoker *iv = &b->iv[i];
            if (bins_reserve(iv, 0))
                return hb_fail(err, HB_ENOMEM, "out of memory");
            double *v = iv->bins[0];
            hb_usage_row row = {
                .t = b->bin0 * HB_SEC, .invoker = i,
                .cpu_capacity = iv->pub.capacity.cpu, .mem_capacity_mb = iv->pub.capacity.mem_mb,
                .cpu_alloc = v[V_CPU_ALLOC] / 1e6, .cpu_used = v[V_CPU_USED] / 1e6,
                .mem_alloc_mb = v[V_MEM_ALLOC] / 1e6, .mem_used_mb = v[V_MEM_USED] / 1e6,
                .running = v[V_RUNNING] / 1e6, .queued = v[V_QUEUED] / 1e6,
                .cpu_harvested = v[V_CPU_HARV] / 1e6, .cpu_borrowed = v[V_CPU_BORR] / 1e6,
                .mem_harvested_mb = v[V_MEM_HARV] / 1e6, .mem_borrowed_mb = v[V_MEM_BORR] / 1e6,
            };
            memmove(iv->bins, iv->bins + 1, (iv->cap_bins - 1) * sizeof *iv->bins);
            memset(iv->bins[iv->cap_bins - 1], 0, sizeof *iv->bins);
            if (b->usage_rows && b->hooks.on_usage) {
                int rc = b->hooks.on_usage(b->hooks.ctx, &row, err);
                if (rc)
                    return rc;
            }
        }
        b->bin0++;
    }
    return 0;
}

/* ---- running calls ---- */

static int run_add(lb_invoker *iv, lb_call *c)
{
    if (iv->n_run == iv->cap_run) {
        size_t cap = iv->cap_run ? iv->cap_run * 2 : 16;
        lb_call **r = realloc(iv->run, cap * sizeof *r);
        if (r)
            iv->run = r;
        hb_invocation **ri = realloc(iv->run_inv, cap * sizeof *ri);
        if (ri)
            iv->run_inv = ri;
        if (!r || !ri)
            return -1;
        iv->cap_run = cap;
    }
    iv->run[iv->n_run] = c;
    iv->run_inv[iv->n_run] = c->inv;
    iv->n_run++;
    return 0;
}

static void run_remove(lb_invoker *iv, lb_call *c)
{
    for (size_t i = 0; i < iv->n_run; i++)
        if (iv->run[i] == c) {         /* keep the start order of the others */
            memmove(iv->run + i, iv->run + i + 1, (iv->n_run - i - 1) * sizeof *iv->run);
            memmove(iv->run_inv + i, iv->run_inv + i + 1, (iv->n_run - i - 1) * sizeof *iv->run_inv);
            iv->n_run--;
            return;
        }
}

static hb_exec_limits limits_of(const hb_invocation *inv)
{
    hb_exec_limits l;
    /* a quota of 0 would mean none: the kernel's smallest quota (1 ms per 100 ms) instead */
    l.cpu = inv->cpu_hard ? fmax(inv->alloc.cpu, 0.01) : 0;
    l.shares = fmax(inv->alloc.mem_mb, 2);   /* OpenWhisk's CPU shares follow memory */
    l.mem_mb = fmax(inv->alloc.mem_mb, 1);
    return l;
}

static int fits(const lb_invoker *iv, const hb_invocation *inv)
{
    const hb_res *cap = &iv->pub.capacity;
    return iv->reserved.cpu + inv->reserve.cpu <= cap->cpu + EPS &&
           iv->reserved.mem_mb + inv->reserve.mem_mb <= cap->mem_mb + EPS &&
           iv->alloc_sum.cpu + inv->alloc_start.cpu <= cap->cpu + EPS &&
           iv->alloc_sum.mem_mb + inv->alloc_start.mem_mb <= cap->mem_mb + EPS;
}

static int on_running(void *ctx, hb_exec_call *x, int64_t t, hb_error *err);
static int on_done(void *ctx, hb_exec_call *x, const hb_exec_result *r, hb_error *err);

/* The request line: {"value":{...the [backend.local] params of the function..., "size":N,
 * "seed":S},"activation_id":"..."}. The seed is per call and the same under every policy. */
static char *request_of(lb *b, const hb_invocation *inv)
{
    cJSON *req = cJSON_CreateObject();
    cJSON *val = b->extra[inv->workload] ? cJSON_Duplicate(b->extra[inv->workload], 1) : cJSON_CreateObject();
    if (!req || !val) {
        cJSON_Delete(req);
        cJSON_Delete(val);
        return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(val, "size");
    cJSON_DeleteItemFromObjectCaseSensitive(val, "seed");
    cJSON_AddNumberToObject(val, "size", (double)inv->input_size);
    uint64_t seed = (b->input_key + inv->index) & ((1ULL << 53) - 1);   /* exact in JSON */
    cJSON_AddNumberToObject(val, "seed", (double)seed);
    cJSON_AddItemToObject(req, "value", val);
    cJSON_AddStringToObject(req, "activation_id", inv->activation_id);
    char *s = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return s;
}

/* Admits a call: a container, its limits, and the policy's on_start hook. */
static int call_start(lb *b, lb_invoker *iv, lb_call *c, hb_error *err)
{
    hb_invocation *inv = c->inv;
    hb_time now = now_trace(b);
    inv->start = now;
    iv->reserved.cpu += inv->reserve.cpu;
    iv->reserved.mem_mb += inv->reserve.mem_mb;
    inv->alloc = inv->alloc_start;
    iv->alloc_sum.cpu += inv->alloc.cpu;
    iv->alloc_sum.mem_mb += inv->alloc.mem_mb;
    /* warm containers are the function's own (as an action's), the code its workload's */
    const char *key = inv->trace_name ? inv->trace_name : hb_functions[inv->workload].id;
    if (!hb_exec_has_idle(b->ex, iv->pool, key))
        while (iv->reserved.mem_mb + hb_exec_idle_mem(b->ex, iv->pool) > iv->pub.capacity.mem_mb + EPS &&
               hb_exec_evict_lru(b->ex, iv->pool))
            ;                          /* make room among the idle containers, oldest first */
    char *req = request_of(b, inv);
    if (!req)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    hb_exec_spec spec = {
        .pool = iv->pool, .key = key, .path = b->path[inv->workload], .request = req,
        .limits = limits_of(inv),
        .timeout_ns = inv->timeout > 0 ? (int64_t)((double)inv->timeout * b->scale * 1e3) : 0,
        .ev = {on_running, on_done, c},
    };
    int rc = hb_exec_start(b->ex, &spec, &c->x, err);
    free(req);
    if (rc) {                          /* the run fails: the call is no one's any more */
        iv->alloc_sum.cpu -= inv->alloc.cpu;
        iv->alloc_sum.mem_mb -= inv->alloc.mem_mb;
        inv->backend_data = NULL;
        free(c);
        b->live--;
        return hb_error_wrap(err, "local backend: call %llu (%s)", (unsigned long long)inv->index, key);
    }
    inv->cold_start = hb_exec_call_cold(c->x);
    c->phase = PH_INIT;
    c->seg_t0 = now;
    c->s_t = hb_exec_now();
    if (run_add(iv, c) || contrib_set(c, now, 0))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (b->hooks.on_start)
        return b->hooks.on_start(b->hooks.ctx, &iv->pub, inv, err);
    return 0;
}

static int admit_queued(lb *b, lb_invoker *iv, hb_error *err)
{
    while (iv->q_head && fits(iv, iv->q_head->inv)) {
        lb_call *c = iv->q_head;
        if (queue_change(iv, now_trace(b), -1))
            return hb_fail(err, HB_ENOMEM, "out of memory");
        iv->q_head = c->q_next;
        if (!iv->q_head)
            iv->q_tail = NULL;
        int rc = call_start(b, iv, c, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int on_running(void *ctx, hb_exec_call *x, int64_t t, hb_error *err)
{
    (void)x;
    lb_call *c = ctx;
    lb *b = c->iv->b;
    hb_time now = trace_of(b, t);
    hb_invocation *inv = c->inv;
    seg_close(c, now);
    c->phase = PH_RUN;
    c->run_t0 = now;
    /* a warm call runs at once: its init is 0, as OpenWhisk reports it */
    inv->exec_start = inv->cold_start && now > inv->start ? now : inv->start;
    (void)err;
    return 0;
}

static hb_outcome outcome_of(hb_exec_status s)
{
    switch (s) {
    case HB_EXEC_OK: return HB_SUCCESS;
    case HB_EXEC_TIMEOUT: return HB_TIMEOUT;
    case HB_EXEC_OOM: return HB_OOM;
    case HB_EXEC_ABORTED: return HB_LOST;
    default: return HB_ERROR;
    }
}

static int on_done(void *ctx, hb_exec_call *x, const hb_exec_result *r, hb_error *err)
{
    (void)x;
    lb_call *c = ctx;
    lb_invoker *iv = c->iv;
    lb *b = iv->b;
    hb_invocation *inv = c->inv;
    double cores;
    if (take_reading(c, r->t_end, r->cpu_ns, c->s_mem, &cores))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    hb_time end = trace_of(b, r->t_end);
    if (end < inv->start)
        end = inv->start;
    hb_time at = end > iv->lv_t0 ? end : iv->lv_t0;   /* levels cannot change in the past */
    if (c->phase != PH_RUN)
        inv->exec_start = end;         /* never ran: no execution */
    if (end < inv->exec_start)
        end = inv->exec_start;
    seg_close(c, end);
    hb_time ran = end - c->run_t0;
    inv->alloc_mean = ran > 0 && c->phase == PH_RUN
                          ? (hb_res){c->run_alloc_cpu / (double)ran, c->run_alloc_mem / (double)ran}
                          : inv->alloc;
    inv->end = end;
    inv->outcome = outcome_of(r->status);
    if (r->status == HB_EXEC_TIMEOUT && r->t_running)   /* the limit in trace time */
        snprintf(inv->error_msg, sizeof inv->error_msg, "killed at its time limit of %g s",
                 hb_time_s(inv->timeout));
    else if (r->status != HB_EXEC_OK)
        snprintf(inv->error_msg, sizeof inv->error_msg, "%s%s",
                 r->status == HB_EXEC_APP_ERROR ? "the function failed: " : "", r->message);
    double run_wall = r->t_running ? (double)(r->t_end - r->t_running) : 0;
    if (c->peak_cpu == 0 && run_wall > 0)
        c->peak_cpu = (double)r->cpu_ns / run_wall;   /* shorter than a monitor interval */
    inv->cpu_peak = c->peak_cpu;
    inv->mem_peak_mb = r->mem_peak_mb >= 0 ? fmax(r->mem_peak_mb, c->peak_mem) : c->peak_mem;
    c->x = NULL;
    run_remove(iv, c);
    if (contrib_set(c, at, 1))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    iv->alloc_sum.cpu -= inv->alloc.cpu;
    iv->alloc_sum.mem_mb -= inv->alloc.mem_mb;
    if (end > b->last_event)
        b->last_event = end;
    hb_res reserve = inv->reserve;
    inv->backend_data = NULL;
    free(c);
    b->live--;
    if (b->hooks.on_end) {
        int rc = b->hooks.on_end(b->hooks.ctx, &iv->pub, inv, err);
        if (rc)
            return rc;
    }
    iv->reserved.cpu -= reserve.cpu;
    iv->reserved.mem_mb -= reserve.mem_mb;
    if (iv->reserved.cpu < EPS)
        iv->reserved.cpu = 0;
    if (iv->reserved.mem_mb < EPS)
        iv->reserved.mem_mb = 0;
    return admit_queued(b, iv, err);
}

/* ---- monitor ---- */

/* Reads every running call, integrates the readings, runs the policies' monitor hooks, and
 * writes the seconds that are complete. */
static int sample(lb *b, hb_error *err)
{
    int64_t now = hb_exec_now();
    for (int i = 0; i < b->n; i++) {
        lb_invoker *iv = &b->iv[i];
        size_t n = iv->n_run;
        if (n > iv->cap_samples) {
            hb_usage_sample *a = realloc(iv->samples, n * 2 * sizeof *a);
            if (!a)
                return hb_fail(err, HB_ENOMEM, "out of memory");
            iv->samples = a;
            iv->cap_samples = n * 2;
        }
        for (size_t k = 0; k < n; k++) {
            lb_call *c = iv->run[k];
            hb_exec_usage u;
            int rc = hb_exec_usage_read(b->ex, c->x, &u, err);
            if (rc)
                return hb_error_wrap(err, "local backend: reading the usage of call %llu",
                                     (unsigned long long)c->inv->index);
            double cores;
            if (take_reading(c, u.t, u.cpu_ns, u.mem_mb, &cores))
                return hb_fail(err, HB_ENOMEM, "out of memory");
            if (u.mem_peak_mb > c->peak_mem)
                c->peak_mem = u.mem_peak_mb;
            iv->samples[k] = (hb_usage_sample){c->inv, cores, u.mem_mb};
        }
        if (n && b->hooks.on_tick && b->hooks.tick_interval > 0) {
            int rc = b->hooks.on_tick(b->hooks.ctx, &iv->pub, iv->samples, n, err);
            if (rc)
                return rc;
        }
    }
    return flush_upto(b, trace_of(b, now), err);
}

/* Runs the executor until the wall clock reaches `target` (or until nothing is live, with
 * drain), sampling on the monitor grid. */
static int pump(lb *b, int64_t target, int drain, hb_error *err)
{
    for (int rounds = 0;; rounds++) {
        if (b->stop && *b->stop)
            return hb_fail(err, HB_EINTR, "stopped by a signal");
        int64_t now = hb_exec_now();
        if (now >= b->next_sample) {
            int rc = sample(b, err);
            if (rc)
                return rc;
            while (b->next_sample <= now)
                b->next_sample += b->monitor_ns;
        }
        if (drain ? b->live == 0 : now >= target) {
            /* late: still take what is ready, so that a backlog never starves the processes */
            return rounds || drain ? 0 : hb_exec_run(b->ex, 0, err);
        }
        int64_t until = drain || b->next_sample < target ? b->next_sample : target;
        int rc = hb_exec_run(b->ex, until, err);
        if (rc)
            return rc;
    }
}

/* ---- the backend interface ---- */

static hb_time inv_now(void *impl) { return now_trace(((lb_invoker *)impl)->b); }

static size_t inv_running(void *impl, hb_invocation *const **out)
{
    lb_invoker *iv = impl;
    *out = iv->run_inv;
    return iv->n_run;
}

static int inv_resize(void *impl, hb_invocation *inv, hb_res a, hb_error *err)
{
    lb_invoker *iv = impl;
    lb *b = iv->b;
    lb_call *c = inv->backend_data;
    if (!c || c->iv != iv || c->phase == PH_QUEUED || !c->x)
        return hb_fail(err, HB_ERUN, "resize of call %llu: it is not running on invoker %d",
                       (unsigned long long)inv->index, iv->pub.id);
    if (!(a.cpu >= 0) || !(a.mem_mb >= 0))
        return hb_fail(err, HB_ERUN, "resize of call %llu: negative allocation",
                       (unsigned long long)inv->index);
    double cpu = iv->alloc_sum.cpu - inv->alloc.cpu + a.cpu;
    double mem = iv->alloc_sum.mem_mb - inv->alloc.mem_mb + a.mem_mb;
    if (cpu > iv->pub.capacity.cpu + 1e-6 || mem > iv->pub.capacity.mem_mb + 1e-6)
        return hb_fail(err, HB_ERUN, "resize of call %llu to (%.3f cores, %.1f MB) would allocate "
                       "%.3f cores and %.1f MB on invoker %d (capacity %.3f, %.1f)",
                       (unsigned long long)inv->index, a.cpu, a.mem_mb, cpu, mem, iv->pub.id,
                       iv->pub.capacity.cpu, iv->pub.capacity.mem_mb);
    hb_time now = now_trace(b);
    seg_close(c, now);
    iv->alloc_sum.cpu = cpu;
    iv->alloc_sum.mem_mb = mem;
    inv->alloc = a;
    if (contrib_set(c, now, 0))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    hb_exec_limits l = limits_of(inv);
    int rc = hb_exec_resize(b->ex, c->x, &l, err);
    return rc ? hb_error_wrap(err, "local backend: resizing call %llu",
                              (unsigned long long)inv->index) : 0;
}

static const hb_invoker_ops LOCAL_INVOKER_OPS = {inv_now, inv_resize, inv_running};

static void lb_close(void *state)
{
    lb *b = state;
    if (!b)
        return;
    hb_exec_free(b->ex);               /* kills every process, removes every group */
    for (int i = 0; b->iv && i < b->n; i++) {
        lb_invoker *iv = &b->iv[i];
        for (size_t k = 0; k < iv->n_run; k++) {
            iv->run[k]->inv->backend_data = NULL;
            free(iv->run[k]);
        }
        for (lb_call *c = iv->q_head, *next; c; c = next) {
            next = c->q_next;
            c->inv->backend_data = NULL;
            free(c);
        }
        free(iv->run);
        free(iv->run_inv);
        free(iv->bins);
        free(iv->samples);
    }
    for (int f = 0; f < HB_NWORKLOADS; f++)
        cJSON_Delete(b->extra[f]);
    free(b->iv);
    free(b);
}

/* The workload binaries: [backend.local] workloads, else workloads/ next to this executable (or
 * next to its directory, for the test programs in build/tests/). */
static int find_workloads(lb *b, const hb_backend_args *a, const char *dir, hb_error *err)
{
    char base[PATH_MAX];
    if (dir && *dir) {
        if (dir[0] == '/' || !a->config_dir || !*a->config_dir)
            snprintf(base, sizeof base, "%s", dir);
        else
            snprintf(base, sizeof base, "%s/%s", a->config_dir, dir);
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0)
            return hb_fail(err, HB_ERUN, "local backend: cannot find this executable "
                           "(/proc/self/exe): %s", strerror(errno));
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(base, sizeof base, "%.4000s/workloads", exe);
        char probe[PATH_MAX + 8];
        snprintf(probe, sizeof probe, "%.4000s/%s", base, hb_functions[0].id);
        if (access(probe, X_OK) != 0)
            snprintf(base, sizeof base, "%.4000s/../workloads", exe);
    }
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        int w = snprintf(b->path[f], sizeof b->path[f], "%.4000s/%s", base, hb_functions[f].id);
        if (w < 0 || (size_t)w >= sizeof b->path[f])
            return hb_fail(err, HB_EINPUT, "local backend: the path %s is too long", base);
        if (access(b->path[f], X_OK) != 0)
            return hb_fail(err, HB_EINPUT, "local backend: workload %s: %s (build the workloads "
                           "with `make`, or set [backend.local] workloads = DIR)", b->path[f],
                           strerror(errno));
    }
    return 0;
}

/* Says when the cluster does not fit this machine (it still runs: calls then contend). */
static void check_machine(const hb_backend_args *a)
{
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    double cores = a->capacity.cpu * a->n_invokers, mem = a->capacity.mem_mb * a->n_invokers;
    if (cpus > 0 && cores > cpus + EPS)
        fprintf(stderr, "harvestbench: local backend: warning: %d invoker(s) x %g cores = %g cores, "
                "but this process may use %d CPUs: calls will get less than their allocations\n",
                a->n_invokers, a->capacity.cpu, cores, cpus);
    FILE *f = fopen("/proc/meminfo", "re");
    char line[256];
    double avail = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "MemAvailable:", 13) == 0)
            avail = strtod(line + 13, NULL) / 1024.0;
    if (f)
        fclose(f);
    if (avail > 0 && mem > avail)
        fprintf(stderr, "harvestbench: local backend: warning: %d invoker(s) x %g MB = %g MB, but "
                "the machine has %.0f MB available: memory may run out before the limits act\n",
                a->n_invokers, a->capacity.mem_mb, mem, avail);
}

static int lb_keys(lb *b, const hb_backend_args *a, hb_error *err)
{
    static const char *const modes[] = {"cgroup", "none", NULL};
    const char *limits = "cgroup", *dir = "";
    int rc = hb_kv_string(a->params, "limits", modes, &limits, err);
    if (!rc)
        rc = hb_kv_string(a->params, "workloads", NULL, &dir, err);
    if (rc)
        return rc;
    b->limits = strcmp(limits, "cgroup") == 0;
    for (size_t i = 0; a->params && i < a->params->n; i++) {
        hb_kv *kv = &a->params->items[i];
        if (strncmp(kv->key, "params_", 7) != 0)
            continue;
        int f = hb_function_find(kv->key + 7);
        if (f < 0)
            return hb_fail_at(err, HB_EINPUT, kv->file, kv->line, kv->key,
                              "unknown function '%s' (expected params_ID, ID one of dh, eg, ip, vp, "
                              "ir, knn, alu, ms, gd, dv)", kv->key + 7);
        cJSON *j = cJSON_Parse(kv->value);
        if (!cJSON_IsObject(j)) {
            cJSON_Delete(j);
            return hb_fail_at(err, HB_EINPUT, kv->file, kv->line, kv->key,
                              "'%s' is not a JSON object", kv->value);
        }
        cJSON_Delete(b->extra[f]);
        b->extra[f] = j;
        kv->used = 1;
    }
    return find_workloads(b, a, dir, err);
}

static int lb_open(const hb_backend_args *a, const hb_backend_hooks *hooks, void **state,
                   hb_error *err)
{
    *state = NULL;
    lb *b = calloc(1, sizeof *b);
    if (!b)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    b->iv = calloc((size_t)a->n_invokers, sizeof *b->iv);
    if (!b->iv) {
        free(b);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    b->n = a->n_invokers;
    b->hooks = *hooks;
    b->scale = a->time_scale > 0 ? a->time_scale : 1;
    b->monitor_ns = a->monitor > 0 ? a->monitor * 1000 : 100 * 1000000;
    b->stop = a->stop;
    b->usage_rows = a->usage_rows;
    b->input_key = hb_seed_derive(a->seed, "inputs");
    int rc = lb_keys(b, a, err);
    if (rc) {
        lb_close(b);
        return rc;
    }
    if (b->limits) {
        int version;
        char why[512];
        if (!hb_cgroup_probe(&version, why, sizeof why)) {
            lb_close(b);
            return hb_fail(err, HB_ERUN, "local backend: %s; run as root on a machine with cgroup "
                           "v1 (cpu, cpuacct, memory) or v2 (cpu, memory), or set [backend.local] "
                           "limits = none to run without limits", why);
        }
        hb_cgroup_sweep_stale("run (local backend)");
    }
    if (!b->limits)
        fprintf(stderr, "harvestbench: local backend: running without limits ([backend.local] "
                "limits = none): no CPU quota, no memory limit, no oom outcome; usage from /proc\n");
    check_machine(a);
    hb_exec_opts o = {
        .limits = b->limits,
        .keep_alive_ns = (int64_t)((double)a->keep_alive * b->scale * 1e3),
    };
    if ((rc = hb_exec_new(&o, &b->ex, err))) {
        lb_close(b);
        return rc;
    }
    for (int i = 0; i < b->n; i++) {
        lb_invoker *iv = &b->iv[i];
        iv->b = b;
        iv->pub = (hb_invoker){i, a->capacity, &LOCAL_INVOKER_OPS, iv};
        /* the invoker's group holds its cores: calls under CPU shares compete within it */
        if ((rc = hb_exec_pool_add(b->ex, a->capacity.cpu, 0, &iv->pool, err))) {
            lb_close(b);
            return hb_error_wrap(err, "local backend: invoker %d", i);
        }
    }
    b->w0 = hb_exec_now();
    b->next_sample = b->w0 + b->monitor_ns;
    *state = b;
    return 0;
}

static int lb_submit(void *state, hb_invocation *inv, hb_error *err)
{
    lb *b = state;
    if (inv->invoker < 0 || inv->invoker >= b->n)
        return hb_fail(err, HB_ERUN, "call %llu placed on invoker %d of %d",
                       (unsigned long long)inv->index, inv->invoker, b->n);
    lb_invoker *iv = &b->iv[inv->invoker];
    hb_time now = now_trace(b);
    /* arrival: when it was sent; how late against its trace time */
    inv->dispatch_late_ms = now > inv->arrival ? hb_time_ms(now - inv->arrival) : 0;
    if (now > inv->arrival)
        inv->arrival = now;
    if (now > b->last_event)
        b->last_event = now;
    if (inv->reserve.cpu > iv->pub.capacity.cpu + EPS ||
        inv->reserve.mem_mb > iv->pub.capacity.mem_mb + EPS) {
        inv->start = inv->exec_start = inv->end = inv->arrival;
        inv->outcome = HB_ERROR;
        snprintf(inv->error_msg, sizeof inv->error_msg,
                 "needs %.2f cores and %.0f MB, more than an invoker has", inv->reserve.cpu,
                 inv->reserve.mem_mb);
        inv->alloc_mean = inv->alloc = inv->alloc_start;
        return b->hooks.on_end ? b->hooks.on_end(b->hooks.ctx, &iv->pub, inv, err) : 0;
    }
    lb_call *c = calloc(1, sizeof *c);
    if (!c)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    c->inv = inv;
    c->iv = iv;
    c->phase = PH_QUEUED;
    inv->backend_data = c;
    b->live++;
    if (!iv->q_head && fits(iv, inv))
        return call_start(b, iv, c, err);
    if (queue_change(iv, now, +1))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (iv->q_tail)
        iv->q_tail->q_next = c;
    else
        iv->q_head = c;
    iv->q_tail = c;
    return 0;
}

static int lb_advance(void *state, hb_time until, hb_error *err)
{
    lb *b = state;
    return pump(b, wall_of(b, until), 0, err);
}

static int lb_drain(void *state, hb_error *err)
{
    lb *b = state;
    int rc = pump(b, 0, 1, err);
    if (rc)
        return rc;
    /* every call ended: its usage is in; write up to the last event and its partial second */
    hb_time last = b->last_event;
    rc = flush_upto(b, last, err);
    if (!rc && last > b->bin0 * HB_SEC)
        rc = flush_upto(b, (b->bin0 + 1) * HB_SEC, err);
    return rc;
}

static hb_time lb_now(void *state) { return now_trace(state); }

const hb_backend_ops hb_backend_local = {
    "local", HB_CAP_SIZING | HB_CAP_PLACEMENT | HB_CAP_INVOKER,
    lb_open, lb_close, lb_submit, lb_advance, lb_drain, lb_now,
};

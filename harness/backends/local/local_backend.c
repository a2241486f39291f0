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
 * The invoker model is the simulator's (invoker_model.h, docs/simulator.md), with real processes
 * as its primitives: admission
 * by reserve and allocation against capacity, else a FIFO queue; a warm container of the function
 * (most recently idle) or a cold one (evicting idle containers, least recently used first, when
 * their memory is needed); the allocation as the group's limits (a CPU quota when the policy asks
 * for one, else CPU shares in proportion to memory); live resizing refused beyond capacity.
 * Usage rows (one per invoker and trace second) integrate the allocation levels exactly and the
 * monitor's samples of each call's group over their intervals. The warm containers and their
 * keep-alive are the executor's (its idle processes), not the model's virtual ones. */
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
#include "invoker_model.h"
#include "common/executor.h"
#include "seed.h"

#define EPS 1e-9

typedef struct lb lb;

typedef struct lb_call {
    hb_im_call m;                      /* the invoker model's part (first) */
    hb_exec_call *x;                   /* NULL while queued */
    int64_t s_t;                       /* the last usage reading: when (wall ns), CPU ns, MB */
    uint64_t s_cpu;
    double s_mem;
} lb_call;

struct lb {
    hb_im m;                           /* the invoker model */
    hb_exec *ex;
    int *pool;                         /* each invoker's group in the executor */
    double scale;                      /* wall seconds per trace second */
    int64_t w0;                        /* wall ns of trace time 0 */
    int64_t monitor_ns;
    int64_t next_sample;
    volatile sig_atomic_t *stop;
    int limits;
    char path[HB_NWORKLOADS][PATH_MAX];
    cJSON *extra[HB_NWORKLOADS];           /* [backend.local] params_ID */
    uint64_t input_key;
    hb_time last_event;
    size_t live;                       /* calls submitted and not ended */
};

static lb *lb_of(const lb_call *c) { return c->m.iv->m->ctx; }

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

/* ---- usage readings ---- */

/* Takes a usage reading into account: the call's cores and memory over [last reading, t]. */
static int take_reading(lb_call *c, int64_t t, uint64_t cpu_ns, double mem_mb, double *cores)
{
    lb *b = lb_of(c);
    int64_t dt = t - c->s_t;
    *cores = 0;
    if (dt <= 0)
        return 0;
    *cores = (double)(cpu_ns > c->s_cpu ? cpu_ns - c->s_cpu : 0) / (double)dt;
    hb_time t0 = trace_of(b, c->s_t), t1 = trace_of(b, t);
    if (hb_im_usage_add(c->m.iv, HB_IM_CPU_USED, t0, t1, *cores) ||
        hb_im_usage_add(c->m.iv, HB_IM_MEM_USED, t0, t1, 0.5 * (c->s_mem + mem_mb)))
        return -1;
    if (dt * 2 >= b->monitor_ns && *cores > c->m.peak_cpu)
        c->m.peak_cpu = *cores;        /* peaks over whole intervals, as the workloads' sampler */
    if (mem_mb > c->m.peak_mem)
        c->m.peak_mem = mem_mb;
    c->s_t = t;
    c->s_cpu = cpu_ns;
    c->s_mem = mem_mb;
    return 0;
}

/* ---- calls as processes ---- */

static hb_exec_limits limits_of(const hb_invocation *inv)
{
    hb_exec_limits l;
    /* a quota of 0 would mean none: the kernel's smallest quota (1 ms per 100 ms) instead */
    l.cpu = inv->cpu_hard ? fmax(inv->alloc.cpu, 0.01) : 0;
    l.shares = fmax(inv->alloc.mem_mb, 2);   /* OpenWhisk's CPU shares follow memory */
    l.mem_mb = fmax(inv->alloc.mem_mb, 1);
    return l;
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


static hb_time lb_clock(void *ctx) { return now_trace(ctx); }

static hb_im_call *lb_call_new(void *ctx)
{
    lb *b = ctx;
    lb_call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    b->live++;
    return &c->m;
}

static void lb_call_free(void *ctx, hb_im_call *c)
{
    lb *b = ctx;
    free(c);
    b->live--;
}

/* Admitted: a container (room made among the idle ones, oldest first), the process in it with
 * the allocation as its group's limits. */
static int lb_start(void *ctx, hb_im_call *mc, hb_error *err)
{
    lb *b = ctx;
    lb_call *c = (lb_call *)mc;
    hb_im_invoker *iv = mc->iv;
    hb_invocation *inv = mc->inv;
    int pool = b->pool[iv->pub.id];
    /* warm containers are the function's own (as an action's), the code its workload's */
    const char *key = inv->trace_name ? inv->trace_name : hb_functions[inv->workload].id;
    if (!hb_exec_has_idle(b->ex, pool, key))
        while (iv->reserved.mem_mb + hb_exec_idle_mem(b->ex, pool) > iv->pub.capacity.mem_mb + EPS &&
               hb_exec_evict_lru(b->ex, pool))
            ;
    char *req = request_of(b, inv);
    if (!req)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    hb_exec_spec spec = {
        .pool = pool, .key = key, .path = b->path[inv->workload], .request = req,
        .limits = limits_of(inv),
        .timeout_ns = inv->timeout > 0 ? (int64_t)((double)inv->timeout * b->scale * 1e3) : 0,
        .ev = {on_running, on_done, c},
    };
    int rc = hb_exec_start(b->ex, &spec, &c->x, err);
    free(req);
    if (rc)                            /* the run fails: the model releases the call */
        return hb_error_wrap(err, "local backend: call %llu (%s)", (unsigned long long)inv->index, key);
    inv->cold_start = hb_exec_call_cold(c->x);
    c->s_t = hb_exec_now();
    return 0;
}

static int lb_resize(void *ctx, hb_im_call *mc, int cpu_changed, hb_error *err)
{
    (void)cpu_changed;                 /* the group's limits are set whole */
    lb *b = ctx;
    hb_exec_limits l = limits_of(mc->inv);
    int rc = hb_exec_resize(b->ex, ((lb_call *)mc)->x, &l, err);
    return rc ? hb_error_wrap(err, "local backend: resizing call %llu",
                              (unsigned long long)mc->inv->index) : 0;
}

/* Monitor samples: the reading of each call's group, integrated since the last one. */
static int lb_sample(void *ctx, hb_im_invoker *iv, hb_time now, hb_usage_sample *out,
                     hb_error *err)
{
    (void)now;                         /* each reading has its own wall time */
    lb *b = ctx;
    for (size_t i = 0; i < iv->n_run; i++) {
        lb_call *c = (lb_call *)iv->run[i];
        hb_exec_usage u;
        double cores;
        if (hb_exec_usage_read(b->ex, c->x, &u, err))
            return hb_error_wrap(err, "local backend: reading the usage of call %llu",
                                 (unsigned long long)c->m.inv->index);
        if (take_reading(c, u.t, u.cpu_ns, u.mem_mb, &cores))
            return hb_fail(err, HB_ENOMEM, "out of memory");
        if (u.mem_peak_mb > c->m.peak_mem)
            c->m.peak_mem = u.mem_peak_mb;
        out[i] = (hb_usage_sample){c->m.inv, cores, u.mem_mb};
    }
    return 0;
}

static void lb_stop(void *ctx, hb_im_call *mc)
{
    lb *b = ctx;
    ((lb_call *)mc)->x = NULL;         /* the executor is done with it */
    if (mc->inv->end > b->last_event)
        b->last_event = mc->inv->end;
}

static const hb_im_ops LOCAL_IM_OPS = {
    .now = lb_clock, .call_new = lb_call_new, .call_free = lb_call_free, .start = lb_start,
    .resize = lb_resize, .sample = lb_sample, .stop = lb_stop,
};

static int on_running(void *ctx, hb_exec_call *x, int64_t t, hb_error *err)
{
    (void)x;
    (void)err;
    lb_call *c = ctx;
    hb_time now = trace_of(lb_of(c), t);
    hb_invocation *inv = c->m.inv;
    hb_im_running(&c->m, now);
    /* a warm call runs at once: its init is 0, as OpenWhisk reports it */
    inv->exec_start = inv->cold_start && now > inv->start ? now : inv->start;
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
    lb *b = lb_of(c);
    hb_invocation *inv = c->m.inv;
    double cores;
    if (take_reading(c, r->t_end, r->cpu_ns, c->s_mem, &cores))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    hb_time end = trace_of(b, r->t_end);
    if (end < inv->start)
        end = inv->start;
    if (r->status == HB_EXEC_TIMEOUT && r->t_running)   /* the limit in trace time */
        snprintf(inv->error_msg, sizeof inv->error_msg, "killed at its time limit of %g s",
                 hb_time_s(inv->timeout));
    else if (r->status != HB_EXEC_OK)
        snprintf(inv->error_msg, sizeof inv->error_msg, "%s%s",
                 r->status == HB_EXEC_APP_ERROR ? "the function failed: " : "", r->message);
    double run_wall = r->t_running ? (double)(r->t_end - r->t_running) : 0;
    if (c->m.peak_cpu == 0 && run_wall > 0)
        c->m.peak_cpu = (double)r->cpu_ns / run_wall;   /* shorter than a monitor interval */
    if (r->mem_peak_mb >= 0)
        c->m.peak_mem = fmax(r->mem_peak_mb, c->m.peak_mem);
    return hb_im_end(&c->m, end, outcome_of(r->status), 0, err);
}

/* ---- monitor ---- */

/* Reads every running call, integrates the readings, runs the policies' monitor hooks, and
 * writes the seconds that are complete. */
static int sample(lb *b, hb_error *err)
{
    hb_time now = trace_of(b, hb_exec_now());
    int rc = hb_im_tick_all(&b->m, now, err);
    return rc ? rc : hb_im_flush(&b->m, now, err);
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

static void lb_close(void *state)
{
    lb *b = state;
    if (!b)
        return;
    hb_exec_free(b->ex);               /* kills every process, removes every group */
    hb_im_close(&b->m);
    for (int f = 0; f < HB_NWORKLOADS; f++)
        cJSON_Delete(b->extra[f]);
    free(b->pool);
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
    b->scale = a->time_scale > 0 ? a->time_scale : 1;
    b->monitor_ns = a->monitor > 0 ? a->monitor * 1000 : 100 * 1000000;
    b->stop = a->stop;
    b->input_key = hb_seed_derive(a->seed, "inputs");
    /* the executor keeps the warm containers (its idle processes) and their keep-alive */
    hb_im_config mc = {
        .n_invokers = a->n_invokers, .capacity = a->capacity, .n_funcs = a->n_funcs,
        .usage_rows = a->usage_rows, .hooks = hooks, .ops = &LOCAL_IM_OPS, .ctx = b,
    };
    int rc = hb_im_open(&b->m, &mc, err);
    if (!rc && !(b->pool = calloc(a->n_invokers > 0 ? (size_t)a->n_invokers : 1, sizeof *b->pool)))
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
    if (!rc)
        rc = lb_keys(b, a, err);
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
    for (int i = 0; i < a->n_invokers; i++) {
        /* the invoker's group holds its cores: calls under CPU shares compete within it */
        if ((rc = hb_exec_pool_add(b->ex, a->capacity.cpu, 0, &b->pool[i], err))) {
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
    hb_time now = now_trace(b);
    /* arrival: when it was sent; how late against its trace time */
    inv->dispatch_late_ms = now > inv->arrival ? hb_time_ms(now - inv->arrival) : 0;
    if (now > inv->arrival)
        inv->arrival = now;
    if (now > b->last_event)
        b->last_event = now;
    return hb_im_submit(&b->m, inv, err);
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
    /* every call ended: its usage is in; write up to the last event and its partial second */
    return rc ? rc : hb_im_flush_last(&b->m, b->last_event, err);
}

static hb_time lb_now(void *state) { return now_trace(state); }

/* For the manifest: [backend.local] limits (the last setting; "cgroup" by default), and whether
 * this process can create groups. Reads the keys without marking them: open() checks them. */
static void lb_probe(const hb_kvlist *params, char *out, size_t len)
{
    const char *mode = "cgroup";
    for (size_t i = 0; params && i < params->n; i++)
        if (strcmp(params->items[i].key, "limits") == 0)
            mode = params->items[i].value;
    static const char UNAV[] = "unavailable: ";
    int version;
    if (strcmp(mode, "none") == 0)
        snprintf(out, len, "none");
    else if (len > sizeof UNAV && hb_cgroup_probe(&version, out + sizeof UNAV - 1,
                                                  len - (sizeof UNAV - 1)))
        snprintf(out, len, "cgroup v%d", version);
    else if (len > sizeof UNAV)
        memcpy(out, UNAV, sizeof UNAV - 1);
    else if (len)
        out[0] = '\0';
}

/* The keys are read when the backend opens, before the first call (they name the workload
 * binaries it must find). */
static int lb_check_params(hb_kvlist *params, const char *config_dir, hb_error *err)
{
    (void)params, (void)config_dir, (void)err;
    return 0;
}

const hb_backend_ops hb_backend_local = {
    "local", HB_CAP_SIZING | HB_CAP_PLACEMENT | HB_CAP_INVOKER,
    lb_open, lb_close, lb_submit, lb_advance, lb_drain, lb_now, lb_probe, lb_check_params,
};

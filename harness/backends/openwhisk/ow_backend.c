/* ow_backend.c - the `openwhisk` backend (BRIEF section 4): replays calls against an OpenWhisk API
 * host in real time with libcurl (docs/openwhisk.md).
 *
 * Calls are dispatched at their trace times on the wall clock (times compressed by [experiment]
 * time_scale) as non-blocking invocations on one multi handle: many in flight, connections reused.
 * A 202 gives an activation id, whose record is then fetched with GET activations/{id}, polling with
 * growing intervals until it exists. 429, 5xx and transfer failures are retried with backoff within
 * a deadline. Every call ends exactly once: with the outcome its record reports, `error` when the
 * invocation was refused for good or the record is malformed (with the reason), `lost` when the
 * record never appeared.
 *
 * Times in the records are on the backend's clock: microseconds of wall time since the run started.
 * A call's arrival is when it was first sent (dispatch_late_ms says how late that was against
 * trace time x time_scale); its wait is the time until the platform accepted it (throttling
 * retries) plus the record's waitTime; init is the initTime annotation (cold starts); duration is
 * the record's duration less init. So latency = wait + init + duration, as measured by the platform.
 *
 * Only sizing is honoured (caps): the policy's allocation selects a deployed size variant
 * (ow_variants.h). Placement and invoker-side management are the platform's. Usage rows come from
 * the usage samples in the workloads' results and from the variants' allocations, attributed to
 * the invoker the engine's sharding chose (OpenWhisk does not report the invoker in a record). */
#include <curl/curl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "config.h"
#include "hb_backend.h"
#include "ow_activation.h"
#include "ow_auth.h"
#include "ow_http.h"
#include "ow_libra.h"
#include "ow_options.h"
#include "ow_variants.h"
#include "timer_heap.h"

/* PH_PREDICT and PH_TRAJECTORY only with the Libra fork's Redis side channel (ow_libra.h) */
enum { PH_PREDICT, PH_INVOKE, PH_POLL, PH_TRAJECTORY };
enum { U_CPU_ALLOC, U_CPU_USED, U_MEM_ALLOC, U_MEM_USED, U_RUNNING, U_QUEUED, U_CPU_HARV,
       U_CPU_BORR, U_MEM_HARV, U_MEM_BORR, NU };

typedef struct ow_be ow_be;

typedef struct ow_call {
    ow_be *b;
    hb_invocation *inv;
    const ow_variant *var;
    char *body;                        /* the invocation's parameters */
    int phase;
    char act_id[72];
    hb_time t_sched;                   /* when it should have been sent */
    hb_time t_add;                     /* the current request was handed to libcurl */
    hb_time t_first;                   /* the first attempt left (-1: not yet) */
    hb_time t_accept;                  /* the accepted attempt left */
    hb_time deadline;
    double backoff_ms;
    int attempts;
    CURL *easy;                        /* the request in flight, or NULL */
    ow_response resp;
    sim_timer timer;
    struct ow_call *prev, *next;       /* calls not ended, in dispatch order */
    /* Redis side channel */
    hb_time redis_first;               /* the first attempt to write the prediction (-1: none) */
    hb_time traj_deadline;             /* waiting for the trajectory until then (0: not yet) */
    char *rec_text;                    /* the record, kept while waiting for the trajectory */
    size_t rec_len;
    int has_traj;
    double traj_cpu, traj_mem_mb;      /* the trajectory's deltas (borrowed > 0) */
} ow_call;

struct ow_be {
    hb_backend_hooks hooks;
    ow_options opt;
    ow_creds creds;
    ow_grid grid;
    double *deployed_timeout_ms;       /* per variant, as the platform reports it (0: unknown) */
    const hb_func_config *funcs;
    const hb_func_config *workloads;   /* HB_NWORKLOADS: what the deployed actions were made from */
    CURLM *multi;
    struct curl_slist *hdr;
    CURL **pool;                       /* idle easy handles */
    size_t n_pool, cap_pool;
    timer_heap heap;
    struct timespec t0;
    double time_scale;
    volatile sig_atomic_t *stop;       /* the run's signal flag, or NULL */
    hb_res capacity;
    int n_inv;
    hb_invoker *iv;
    ow_call *head, *tail;
    size_t live;
    /* usage: integrals (unit x us) per second and invoker, from bin_base on */
    int usage_rows;
    int64_t bin_base;
    double *bins;
    size_t n_bins;                     /* seconds held */
    hb_time last_end;
    hb_error *err;
    int failed;
    ow_libra *libra;                   /* the Libra fork's Redis side channel, or NULL */
    hb_time last_sample;               /* pools sampled up to then */
    double *pool_cpu, *pool_mem;       /* per invoker, the latest sample */
    /* for the closing line */
    uint64_t calls, retries, lost, errors, malformed, cpu_not_applied, no_samples;
};

static hb_time now_us(const ow_be *b)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (hb_time)(ts.tv_sec - b->t0.tv_sec) * 1000000 + (ts.tv_nsec - b->t0.tv_nsec) / 1000;
}

static int fail(ow_be *b, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ow_be *b, int code, const char *fmt, ...)
{
    if (!b->failed) {
        char msg[HB_ERRMSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        hb_fail(b->err, code, "%s", msg);
        b->failed = code;
    }
    return code;
}

/* ---- invokers as the hooks see them (no resizing: caps say so) ---- */

static hb_time iv_now(void *impl) { return now_us(impl); }
static size_t iv_running(void *impl, hb_invocation *const **out)
{
    (void)impl;
    *out = NULL;
    return 0;
}
static const hb_invoker_ops IV_OPS = {iv_now, NULL, iv_running};

/* ---- usage ---- */

static int bins_reserve(ow_be *b, int64_t bin)
{
    if (bin < b->bin_base)
        return 0;
    size_t need = (size_t)(bin - b->bin_base) + 1;
    if (need <= b->n_bins)
        return 0;
    size_t cap = need * 2 > 64 ? need * 2 : 64;
    double *a = realloc(b->bins, cap * (size_t)b->n_inv * NU * sizeof *a);
    if (!a)
        return fail(b, HB_ENOMEM, "out of memory");
    memset(a + b->n_bins * (size_t)b->n_inv * NU, 0,
           (cap - b->n_bins) * (size_t)b->n_inv * NU * sizeof *a);
    b->bins = a;
    b->n_bins = cap;
    return 0;
}

/* Adds rate x time over [t0, t1) to one quantity of one invoker's bins. */
static int usage_add(ow_be *b, int inv, int q, hb_time t0, hb_time t1, double rate)
{
    if (!b->usage_rows || t1 <= t0 || rate == 0 || inv < 0 || inv >= b->n_inv)
        return 0;
    if (t0 < b->bin_base * HB_SEC)
        t0 = b->bin_base * HB_SEC;     /* cannot happen for live calls; kept safe */
    if (t1 <= t0)
        return 0;
    if (bins_reserve(b, (t1 - 1) / HB_SEC))
        return b->failed;
    for (int64_t k = t0 / HB_SEC; k * HB_SEC < t1; k++) {
        hb_time a = t0 > k * HB_SEC ? t0 : k * HB_SEC;
        hb_time e = t1 < (k + 1) * HB_SEC ? t1 : (k + 1) * HB_SEC;
        b->bins[((size_t)(k - b->bin_base) * (size_t)b->n_inv + (size_t)inv) * NU + (size_t)q] +=
            rate * (double)(e - a);
    }
    return 0;
}

/* Emits every second before `upto` (a time no later call can reach back before). */
static int usage_flush(ow_be *b, hb_time upto)
{
    int64_t last = upto / HB_SEC;      /* bins < last are complete */
    if (!b->usage_rows || last <= b->bin_base)
        return 0;
    if (bins_reserve(b, last - 1))
        return b->failed;
    int64_t k;
    for (k = b->bin_base; k < last; k++) {
        for (int i = 0; i < b->n_inv; i++) {
            const double *v = &b->bins[((size_t)(k - b->bin_base) * (size_t)b->n_inv + (size_t)i) * NU];
            hb_usage_row row = {
                .t = k * HB_SEC, .invoker = i,
                .cpu_capacity = b->capacity.cpu, .mem_capacity_mb = b->capacity.mem_mb,
                .cpu_alloc = v[U_CPU_ALLOC] / 1e6, .cpu_used = v[U_CPU_USED] / 1e6,
                .mem_alloc_mb = v[U_MEM_ALLOC] / 1e6, .mem_used_mb = v[U_MEM_USED] / 1e6,
                .running = v[U_RUNNING] / 1e6, .queued = v[U_QUEUED] / 1e6,
                .cpu_harvested = v[U_CPU_HARV] / 1e6, .cpu_borrowed = v[U_CPU_BORR] / 1e6,
                .mem_harvested_mb = v[U_MEM_HARV] / 1e6, .mem_borrowed_mb = v[U_MEM_BORR] / 1e6,
            };
            if (b->hooks.on_usage) {
                int rc = b->hooks.on_usage(b->hooks.ctx, &row, b->err);
                if (rc)
                    return b->failed = rc;
            }
        }
    }
    size_t drop = (size_t)(k - b->bin_base);
    size_t stride = (size_t)b->n_inv * NU;
    memmove(b->bins, b->bins + drop * stride, (b->n_bins - drop) * stride * sizeof *b->bins);
    memset(b->bins + (b->n_bins - drop) * stride, 0, drop * stride * sizeof *b->bins);
    b->bin_base = k;
    return 0;
}

/* The samples of one series into its bins: each covers the interval ending at its timestamp. */
static int usage_samples(ow_be *b, const hb_invocation *inv, const ow_samples *s, int q,
                         double epoch_exec0_us, double interval_us)
{
    for (size_t i = 0; i < s->n; i++) {
        double t_end = (double)inv->exec_start + (s->t[i] * 1e6 - epoch_exec0_us);
        hb_time a = (hb_time)llround(t_end - interval_us), e = (hb_time)llround(t_end);
        if (a < inv->exec_start)
            a = inv->exec_start;
        if (e > inv->end)
            e = inv->end;
        if (usage_add(b, inv->invoker, q, a, e, s->v[i]))
            return b->failed;
    }
    return 0;
}

static int usage_call(ow_be *b, const ow_call *c, const ow_activation *rec)
{
    const hb_invocation *inv = c->inv;
    int k = inv->invoker;
    hb_res a = inv->alloc, u = inv->user;
    usage_add(b, k, U_QUEUED, inv->arrival, inv->start, 1);
    usage_add(b, k, U_RUNNING, inv->start, inv->end, 1);
    usage_add(b, k, U_CPU_ALLOC, inv->start, inv->end, a.cpu);
    usage_add(b, k, U_MEM_ALLOC, inv->start, inv->end, a.mem_mb);
    if (b->libra) {
        /* harvest: the invokers' pools as sampled (usage_pools); borrowed: the trajectories */
        usage_add(b, k, U_CPU_BORR, inv->start, inv->end, fmax(0, c->traj_cpu));
        usage_add(b, k, U_MEM_BORR, inv->start, inv->end, fmax(0, c->traj_mem_mb));
    } else {
        if (c->var->cpu_hard) {
            usage_add(b, k, U_CPU_HARV, inv->start, inv->end, fmax(0, u.cpu - a.cpu));
            usage_add(b, k, U_CPU_BORR, inv->start, inv->end, fmax(0, a.cpu - u.cpu));
        }
        usage_add(b, k, U_MEM_HARV, inv->start, inv->end, fmax(0, u.mem_mb - a.mem_mb));
        usage_add(b, k, U_MEM_BORR, inv->start, inv->end, fmax(0, a.mem_mb - u.mem_mb));
    }
    if (rec && rec->has_usage) {
        double exec0 = ((double)rec->start_ms + rec->init_ms) * 1e3;
        double iv_us = rec->interval_ms * 1e3;
        if (usage_samples(b, inv, &rec->cpu, U_CPU_USED, exec0, iv_us) ||
            usage_samples(b, inv, &rec->mem, U_MEM_USED, exec0, iv_us))
            return b->failed;
    }
    return b->failed;
}

/* ---- calls ---- */

static void call_unlink(ow_be *b, ow_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        b->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        b->tail = c->prev;
    c->prev = c->next = NULL;
    b->live--;
}

static void easy_put(ow_be *b, CURL *h)
{
    if (b->n_pool == b->cap_pool) {
        size_t nc = b->cap_pool ? b->cap_pool * 2 : 64;
        CURL **p = realloc(b->pool, nc * sizeof *p);
        if (!p) {
            curl_easy_cleanup(h);
            return;
        }
        b->pool = p;
        b->cap_pool = nc;
    }
    curl_easy_reset(h);
    b->pool[b->n_pool++] = h;
}

static CURL *easy_get(ow_be *b)
{
    return b->n_pool ? b->pool[--b->n_pool] : curl_easy_init();
}

static void call_free(ow_be *b, ow_call *c)
{
    if (c->easy) {
        curl_multi_remove_handle(b->multi, c->easy);
        curl_easy_cleanup(c->easy);
    }
    timer_heap_cancel(&b->heap, &c->timer);
    ow_response_free(&c->resp);
    free(c->body);
    free(c->rec_text);
    free(c);
}

/* Ends a call: its record is complete; the engine takes it from here. */
static int call_end(ow_be *b, ow_call *c)
{
    hb_invocation *inv = c->inv;
    if (inv->end > b->last_end)
        b->last_end = inv->end;
    call_unlink(b, c);
    inv->backend_data = NULL;
    int rc = 0;
    if (inv->started && b->hooks.on_start)
        rc = b->hooks.on_start(b->hooks.ctx, &b->iv[inv->invoker >= 0 ? inv->invoker : 0], inv, b->err);
    if (!rc && b->hooks.on_end)
        rc = b->hooks.on_end(b->hooks.ctx, &b->iv[inv->invoker >= 0 ? inv->invoker : 0], inv, b->err);
    call_free(b, c);
    if (rc)
        b->failed = rc;
    return rc;
}

/* A call that ends without a usable record (refused, malformed record, lost). */
static int call_fail(ow_be *b, ow_call *c, hb_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int call_fail(ow_be *b, ow_call *c, hb_outcome o, const char *fmt, ...)
{
    hb_invocation *inv = c->inv;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inv->error_msg, sizeof inv->error_msg, fmt, ap);
    va_end(ap);
    inv->outcome = o;
    if (c->t_first < 0)
        c->t_first = c->t_add;
    inv->arrival = c->t_first;
    inv->start = inv->exec_start = inv->end = inv->arrival;
    inv->alloc_mean = inv->alloc;
    inv->dispatch_late_ms = hb_time_ms(c->t_first - c->t_sched);
    if (o == HB_LOST)
        b->lost++;
    else
        b->errors++;
    return call_end(b, c);
}

/* The platform's activation id in place of the engine's, when it fits. */
static void set_id(hb_invocation *inv, const char *id)
{
    size_t n = strlen(id);
    if (n < sizeof inv->activation_id)
        memcpy(inv->activation_id, id, n + 1);
}

static int schedule(ow_be *b, ow_call *c, double delay_ms);
static double jitter(const ow_call *c);

/* The fork's trajectory of a call whose record arrived: 1 to wait for it (the record is kept and
 * the call comes back in PH_TRAJECTORY), 0 to go on (with it or without). Only successful calls
 * wait: the fork writes none on its failure paths (spec 11.9). */
static int trajectory(ow_be *b, ow_call *c, const char *text, size_t len)
{
    hb_invocation *inv = c->inv;
    hb_time now = now_us(b);
    if (!c->traj_deadline)
        c->traj_deadline = now + b->opt.redis_trajectory_wait_ms * HB_MS;
    lf_trajectory t;
    int found = 0;
    hb_error e;
    int rc = ow_libra_trajectory(b->libra, c->act_id[0] ? c->act_id : inv->activation_id, &t, &found, &e);
    if (rc == HB_EINPUT) {             /* malformed: the record stands without it, and says why */
        ow_libra_missing(b->libra, 0);
        fprintf(stderr, "openwhisk: %s\n", e.msg);
        return 0;
    }
    if (found) {
        ow_libra_apply(b->libra, &t, c->var->applied, inv);
        c->has_traj = 1;
        c->traj_cpu = t.cpu_delta;
        c->traj_mem_mb = t.mem_delta_mb;
        lf_trajectory_free(&t);
        return 0;
    }
    if (inv->outcome == HB_SUCCESS && now + 200 * HB_MS <= c->traj_deadline) {
        if (!c->rec_text) {
            c->rec_text = malloc(len + 1);
            if (!c->rec_text)
                return fail(b, HB_ENOMEM, "out of memory"), 1;
            memcpy(c->rec_text, text, len);
            c->rec_text[len] = '\0';
            c->rec_len = len;
        }
        c->phase = PH_TRAJECTORY;
        schedule(b, c, 200);
        return 1;
    }
    ow_libra_missing(b->libra, inv->outcome == HB_SUCCESS);
    return 0;
}

/* The record arrived: the call's times, outcome, peaks and usage. */
static int call_record(ow_be *b, ow_call *c, const char *text, size_t len)
{
    hb_invocation *inv = c->inv;
    ow_activation rec;
    hb_error perr;
    if (ow_activation_parse(text, len, &rec, &perr)) {
        b->malformed++;
        /* "activation record: " is implied by the outcome; keep the field and the problem */
        const char *m = strncmp(perr.msg, "activation record: ", 19) == 0 ? perr.msg + 19 : perr.msg;
        return call_fail(b, c, HB_ERROR, "malformed record %s: %s", c->act_id, m);
    }
    char msg[sizeof inv->error_msg];
    inv->outcome = ow_activation_outcome(&rec, msg, sizeof msg);
    if (inv->outcome != HB_SUCCESS)
        snprintf(inv->error_msg, sizeof inv->error_msg, "%s", msg);
    set_id(inv, rec.id);
    double init_ms = rec.has_init ? rec.init_ms : 0;
    double run_ms = rec.duration_ms - init_ms;
    if (run_ms < 0)
        run_ms = 0;
    inv->arrival = c->t_first;
    inv->dispatch_late_ms = hb_time_ms(c->t_first - c->t_sched);
    inv->start = c->t_accept + (hb_time)llround(rec.wait_ms * 1e3);
    inv->exec_start = inv->start + (hb_time)llround(init_ms * 1e3);
    inv->end = inv->exec_start + (hb_time)llround(run_ms * 1e3);
    inv->cold_start = rec.has_init;
    inv->started = 1;
    inv->alloc = inv->alloc_mean = c->var->applied;
    inv->cpu_peak = rec.cpu_peak > 0 ? rec.cpu_peak : 0;
    inv->mem_peak_mb = rec.mem_peak_mb > 0 ? rec.mem_peak_mb : 0;
    double held_s = hb_time_s(inv->end - inv->start);
    if (c->var->cpu_hard) {
        inv->harvested_cpu_s = fmax(0, inv->user.cpu - inv->alloc.cpu) * held_s;
        inv->borrowed_cpu_s = fmax(0, inv->alloc.cpu - inv->user.cpu) * held_s;
    }
    inv->harvested_mem_mb_s = fmax(0, inv->user.mem_mb - inv->alloc.mem_mb) * held_s;
    inv->borrowed_mem_mb_s = fmax(0, inv->alloc.mem_mb - inv->user.mem_mb) * held_s;
    /* the allocation is fixed for the whole activation: what it received while running */
    double run_s = hb_time_s(inv->end - inv->exec_start);
    inv->borrowed_running_cpu_s = held_s > 0 ? inv->borrowed_cpu_s * run_s / held_s : 0;
    inv->borrowed_running_mem_mb_s = held_s > 0 ? inv->borrowed_mem_mb_s * run_s / held_s : 0;
    if (b->libra && trajectory(b, c, text, len)) {
        ow_activation_free(&rec);
        return b->failed;
    }
    if (!rec.has_usage)
        b->no_samples++;
    int rc = usage_call(b, c, &rec);
    ow_activation_free(&rec);
    return rc ? rc : call_end(b, c);
}

/* ---- requests ---- */

static int request(ow_be *b, ow_call *c)
{
    char url[2048];
    const char *method;
    if (c->phase == PH_TRAJECTORY)
        return call_record(b, c, c->rec_text, c->rec_len);
    if (c->phase == PH_PREDICT) {
        /* the fork reads the prediction when the call arrives: it is written first, or the call
         * does not go (a Redis restarting: retried until redis_timeout_ms) */
        hb_time now = now_us(b);
        if (c->redis_first < 0)
            c->redis_first = now;
        hb_error e;
        if (ow_libra_predict(b->libra, c->var->name, c->inv, &e)) {
            c->t_add = c->redis_first; /* the call arrived with its first attempt */
            /* backoff, the last attempt at the deadline itself */
            double left_ms = hb_time_ms(c->redis_first + b->opt.redis_timeout_ms * HB_MS - now);
            double wait = fmin(c->backoff_ms * jitter(c), left_ms);
            c->attempts++;
            if (wait > 0) {
                c->backoff_ms = fmin(c->backoff_ms * 2, 1000);
                return schedule(b, c, wait);
            }
            return call_fail(b, c, HB_ERROR, "prediction not written to Redis in %.1f s: %s",
                             hb_time_s(now - c->redis_first), e.msg);
        }
        c->phase = PH_INVOKE;
        c->attempts = 0;
        c->backoff_ms = 100;
    }
    if (c->phase == PH_INVOKE) {
        method = "POST";
        if (ow_url(&b->creds, "actions", c->var->name, "blocking=false", url, sizeof url))
            return call_fail(b, c, HB_ERROR, "action URL too long");
    } else {
        method = "GET";
        if (ow_url(&b->creds, "activations", c->act_id, NULL, url, sizeof url))
            return call_fail(b, c, HB_ERROR, "activation URL too long");
    }
    CURL *h = easy_get(b);
    if (!h)
        return fail(b, HB_ENOMEM, "out of memory");
    ow_response_reset(&c->resp);
    hb_error e;
    if (ow_easy_setup(h, &b->creds, method, url, c->phase == PH_INVOKE ? c->body : NULL, b->hdr,
                      (long)(b->opt.request_timeout_s * 1000), &c->resp, &e)) {
        curl_easy_cleanup(h);
        return fail(b, e.code, "%s", e.msg);
    }
    curl_easy_setopt(h, CURLOPT_PRIVATE, c);
    c->easy = h;
    c->t_add = now_us(b);
    c->attempts++;
    if (curl_multi_add_handle(b->multi, h) != CURLM_OK) {
        c->easy = NULL;
        curl_easy_cleanup(h);
        return fail(b, HB_ERUN, "libcurl refused a request");
    }
    return 0;
}

static double jitter(const ow_call *c)
{
    /* deterministic per call and attempt: 0.5 .. 1.5 */
    uint64_t x = (c->inv->index + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)c->attempts * 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 31;
    return 0.5 + (double)(x % 1000) / 1000.0;
}

static int schedule(ow_be *b, ow_call *c, double delay_ms)
{
    if (timer_heap_set(&b->heap, &c->timer, now_us(b) + (hb_time)llround(delay_ms * 1e3)))
        return fail(b, HB_ENOMEM, "out of memory");
    return 0;
}

/* A finished transfer of a call. */
static int on_response(ow_be *b, ow_call *c)
{
    ow_response *r = &c->resp;
    curl_off_t pre = 0;
    curl_easy_getinfo(c->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
    if (r->curl == CURLE_OK)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r->status);
    hb_time sent = c->t_add + (hb_time)pre;
    curl_multi_remove_handle(b->multi, c->easy);
    easy_put(b, c->easy);
    c->easy = NULL;
    hb_time now = now_us(b);
    char why[256];
    if (c->phase == PH_INVOKE) {
        if (c->t_first < 0)
            c->t_first = sent;
        if (r->curl == CURLE_OK && (r->status == 202 || r->status == 200)) {
            cJSON *j = r->body ? cJSON_ParseWithLength(r->body, r->len) : NULL;
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "activationId");
            int full = cJSON_GetObjectItemCaseSensitive(j, "response") != NULL;
            if (cJSON_IsString(id) && strlen(id->valuestring) < sizeof c->act_id)
                snprintf(c->act_id, sizeof c->act_id, "%s", id->valuestring);
            else if (r->activation_id[0])
                snprintf(c->act_id, sizeof c->act_id, "%s", r->activation_id);
            cJSON_Delete(j);
            c->t_accept = sent;
            if (!c->act_id[0])
                return call_fail(b, c, HB_ERROR, "HTTP %ld without an activation id", r->status);
            set_id(c->inv, c->act_id);   /* the platform's id, for looking the call up there */
            if (full)                  /* a server that answered with the whole record */
                return call_record(b, c, r->body, r->len);
            c->phase = PH_POLL;
            c->attempts = 0;
            c->backoff_ms = (double)b->opt.poll_initial_ms;
            /* the record can take as long as the action's time limit as deployed, then the grace */
            double limit_ms = fmax((double)c->inv->timeout / 1e3, b->deployed_timeout_ms[c->var - b->grid.v]);
            c->deadline = now + (hb_time)llround((limit_ms + b->opt.record_grace_s * 1e3) * 1e3);
            return schedule(b, c, c->backoff_ms);
        }
        ow_describe(r, why, sizeof why);
        if (ow_retryable(r)) {
            double wait = c->backoff_ms * jitter(c);
            if (now + (hb_time)llround(wait * 1e3) - c->t_first <=
                (hb_time)llround(b->opt.retry_deadline_s * 1e6)) {
                b->retries++;
                c->backoff_ms = fmin(c->backoff_ms * 2, 2000);
                return schedule(b, c, wait);
            }
            return call_fail(b, c, HB_ERROR, "not accepted after %d attempts in %.0f s: %s",
                             c->attempts, hb_time_s(now - c->t_first), why);
        }
        return call_fail(b, c, HB_ERROR, "invocation refused: %s", why);
    }
    /* polling for the record */
    if (r->curl == CURLE_OK && r->status == 200)
        return call_record(b, c, r->body ? r->body : "", r->len);
    int not_yet = r->curl == CURLE_OK && r->status == 404;
    if (not_yet || ow_retryable(r)) {
        if (!not_yet)
            b->retries++;
        double wait = c->backoff_ms * (not_yet ? 1 : jitter(c));
        if (now + (hb_time)llround(wait * 1e3) <= c->deadline) {
            c->backoff_ms = fmin(c->backoff_ms * 1.5, (double)b->opt.poll_max_ms);
            return schedule(b, c, wait);
        }
        if (r->curl != CURLE_OK)
            snprintf(why, sizeof why, "%.60s", curl_easy_strerror(r->curl));
        else
            snprintf(why, sizeof why, "HTTP %ld", r->status);
        return call_fail(b, c, HB_LOST, "no activation record after %.1f s (last answer: %s)",
                         hb_time_s(now - c->t_accept), why);
    }
    ow_describe(r, why, sizeof why);
    return call_fail(b, c, HB_ERROR, "fetching record %.32s: %s", c->act_id, why);
}

/* ---- the loop ---- */

static int drain_messages(ow_be *b)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(b->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        ow_call *c = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        if (!c)
            continue;
        c->resp.curl = m->data.result;
        if (on_response(b, c) || b->failed)
            return b->failed ? b->failed : HB_ERUN;
    }
    return 0;
}

static int fire_timers(ow_be *b, hb_time now)
{
    sim_timer *t;
    while ((t = timer_heap_top(&b->heap)) && t->t <= now) {
        timer_heap_pop(&b->heap);
        if (request(b, t->obj) || b->failed)
            return b->failed ? b->failed : HB_ERUN;
    }
    return 0;
}

/* The earliest time a usage bin may still change: the oldest call not ended was due then. */
static hb_time usage_horizon(const ow_be *b, hb_time now)
{
    return b->head && b->head->t_sched < now ? b->head->t_sched : now;
}

/* The invokers' pools (Redis side channel): each sample holds for the interval it ends. A Redis
 * that cannot be read leaves the interval out (counted in the closing line). */
static int usage_pools(ow_be *b, hb_time now)
{
    if (!b->libra || b->opt.redis_sample_ms <= 0 || now < b->last_sample + b->opt.redis_sample_ms * HB_MS)
        return 0;
    hb_error e;
    if (ow_libra_sample(b->libra, b->n_inv, b->pool_cpu, b->pool_mem, &e) == 0)
        for (int i = 0; i < b->n_inv; i++)
            if (usage_add(b, i, U_CPU_HARV, b->last_sample, now, b->pool_cpu[i]) ||
                usage_add(b, i, U_MEM_HARV, b->last_sample, now, b->pool_mem[i]))
                return b->failed;
    b->last_sample = now;
    return 0;
}

/* Runs transfers, retries and polls until the wall clock reaches target (drain: until every call
 * has ended). */
static int pump(ow_be *b, hb_time target, int drain)
{
    for (;;) {
        int running = 0;
        if (curl_multi_perform(b->multi, &running) != CURLM_OK)
            return fail(b, HB_ERUN, "libcurl's multi handle failed");
        if (drain_messages(b))
            return b->failed;
        hb_time now = now_us(b);
        if (fire_timers(b, now))
            return b->failed;
        if (usage_pools(b, now))
            return b->failed;
        if (usage_flush(b, usage_horizon(b, now)))
            return b->failed;
        if (drain ? b->live == 0 : now >= target)
            return 0;
        if (b->stop && *b->stop)       /* a signal: the engine marks the run incomplete */
            return fail(b, HB_EINTR, "stopped by a signal (%zu calls in flight)", b->live);
        hb_time wait = drain ? 3600 * HB_SEC : target - now;
        sim_timer *t = timer_heap_top(&b->heap);
        if (t && t->t - now < wait)
            wait = t->t - now;
        if (b->libra && b->opt.redis_sample_ms > 0 &&
            b->last_sample + b->opt.redis_sample_ms * HB_MS - now < wait)
            wait = b->last_sample + b->opt.redis_sample_ms * HB_MS - now;
        long cto = -1;
        curl_multi_timeout(b->multi, &cto);
        if (cto >= 0 && cto * 1000 < wait)
            wait = cto * 1000;
        if (wait <= 0)
            continue;
        if (wait < 2000) {             /* below poll's millisecond resolution: sleep it out */
            struct timespec ts = {0, (long)wait * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (curl_multi_poll(b->multi, NULL, 0, (int)(wait / 1000) - 1, NULL) != CURLM_OK)
            return fail(b, HB_ERUN, "libcurl's multi handle failed");
    }
}

/* ---- the backend ---- */

/* Every variant must be deployed with the limit the grid expects. */
static int check_actions(ow_be *b, hb_error *err)
{
    for (size_t i = 0; i < b->grid.n; i++) {
        const ow_variant *v = &b->grid.v[i];
        char url[2048];
        if (ow_url(&b->creds, "actions", v->name, "code=false", url, sizeof url))
            return hb_fail(err, HB_EINPUT, "action URL too long for %s", v->name);
        ow_response r = {0};
        int rc = ow_request(&b->creds, "GET", url, NULL, (long)(b->opt.request_timeout_s * 1000),
                            (long)(b->opt.retry_deadline_s * 1000), &r, err);
        if (rc) {
            ow_response_free(&r);
            return hb_error_wrap(err, "openwhisk: checking the deployed actions on %s",
                                 b->creds.apihost);
        }
        char why[256];
        ow_describe(&r, why, sizeof why);
        if (r.status == 401 || r.status == 403)
            rc = hb_fail(err, HB_EINPUT, "openwhisk: %s refused the key from %s (%s)",
                         b->creds.apihost, b->creds.auth_from, why);
        else if (r.status == 404)
            rc = hb_fail(err, HB_EINPUT, "openwhisk: action %s is not deployed on %s (namespace %s):"
                         " run `harvestbench deploy` with this configuration first", v->name,
                         b->creds.apihost, b->creds.ns);
        else if (r.status != 200)
            rc = hb_fail(err, HB_ERUN, "openwhisk: GET action %s: %s", v->name, why);
        if (!rc) {
            cJSON *j = cJSON_ParseWithLength(r.body ? r.body : "", r.len);
            const cJSON *lim = cJSON_GetObjectItemCaseSensitive(j, "limits");
            const cJSON *mem = cJSON_GetObjectItemCaseSensitive(lim, "memory");
            const cJSON *to = cJSON_GetObjectItemCaseSensitive(lim, "timeout");
            if (cJSON_IsNumber(to))
                b->deployed_timeout_ms[i] = to->valuedouble;
            if (!cJSON_IsNumber(mem) || (int)mem->valuedouble != v->limit_memory)
                rc = hb_fail(err, HB_EINPUT, "openwhisk: action %s on %s has memory limit %s%g, "
                             "expected %d (flavor %s): deploy again with this configuration",
                             v->name, b->creds.apihost, cJSON_IsNumber(mem) ? "" : "(none) ",
                             cJSON_IsNumber(mem) ? mem->valuedouble : 0, v->limit_memory,
                             ow_flavor_name(b->grid.flavor));
            cJSON_Delete(j);
        }
        ow_response_free(&r);
        if (rc)
            return rc;
    }
    return 0;
}

static void ow_close(void *state)
{
    ow_be *b = state;
    if (!b)
        return;
    while (b->head) {
        ow_call *c = b->head;
        call_unlink(b, c);
        call_free(b, c);
    }
    for (size_t i = 0; i < b->n_pool; i++)
        curl_easy_cleanup(b->pool[i]);
    free(b->pool);
    if (b->multi)
        curl_multi_cleanup(b->multi);
    curl_slist_free_all(b->hdr);
    timer_heap_free(&b->heap);
    ow_grid_free(&b->grid);
    ow_creds_free(&b->creds);
    free(b->bins);
    free(b->iv);
    free(b->deployed_timeout_ms);
    ow_libra_close(b->libra);
    free(b->pool_cpu);
    free(b->pool_mem);
    free(b);
    curl_global_cleanup();
}

static int ow_open(const hb_backend_args *a, const hb_backend_hooks *hooks, void **state,
                   hb_error *err)
{
    *state = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ow_be *b = calloc(1, sizeof *b);
    if (!b) {
        curl_global_cleanup();
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    b->hooks = *hooks;
    b->funcs = a->funcs;
    b->workloads = a->workloads ? a->workloads : a->funcs;
    b->time_scale = a->time_scale > 0 ? a->time_scale : 1;
    b->stop = a->stop;
    b->capacity = a->capacity;
    b->n_inv = a->n_invokers;
    b->usage_rows = a->usage_rows;
    b->err = err;
    int rc = ow_options_read(a->params, a->config_dir, &b->opt, err);
    if (!rc) {
        ow_creds_given g = {
            .apihost = b->opt.apihost,
            .auth_file = b->opt.auth_file[0] ? b->opt.auth_file : NULL,
            .ns = b->opt.ns,
            .ca_file = b->opt.ca_file[0] ? b->opt.ca_file : NULL,
            .insecure = b->opt.insecure,
            .where = "[backend.openwhisk]",
        };
        rc = ow_creds_resolve(&g, &b->creds, err);
        if (rc)
            hb_error_wrap(err, "openwhisk");
    }
    if (!rc)
        /* the deployed actions are per workload (deploy made them from the workloads' configuration) */
        rc = a->workloads || a->n_funcs == HB_NWORKLOADS
                 ? ow_grid_build(b->opt.flavor, b->opt.prefix, a->workloads ? a->workloads : a->funcs,
                                 a->capacity, &b->grid, err)
                 : hb_fail(err, HB_EINPUT, "openwhisk: no workload configuration to find the actions by");
    if (!rc) {
        b->iv = calloc((size_t)b->n_inv, sizeof *b->iv);
        b->deployed_timeout_ms = calloc(b->grid.n, sizeof *b->deployed_timeout_ms);
        b->multi = curl_multi_init();
        b->hdr = ow_json_headers();
        if (!b->iv || !b->deployed_timeout_ms || !b->multi || !b->hdr)
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
    }
    if (!rc) {
        for (int i = 0; i < b->n_inv; i++)
            b->iv[i] = (hb_invoker){i, a->capacity, &IV_OPS, b};
        long mc = b->opt.max_connections;
        curl_multi_setopt(b->multi, CURLMOPT_MAX_HOST_CONNECTIONS, mc);
        curl_multi_setopt(b->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, mc);
        curl_multi_setopt(b->multi, CURLMOPT_MAXCONNECTS, mc);
        if (b->opt.check_actions)
            rc = check_actions(b, err);
    }
    if (!rc && b->opt.redis) {
        b->pool_cpu = calloc((size_t)b->n_inv, sizeof *b->pool_cpu);
        b->pool_mem = calloc((size_t)b->n_inv, sizeof *b->pool_mem);
        if (!b->pool_cpu || !b->pool_mem)
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
        else if ((rc = ow_libra_open(&b->opt, &b->libra, err)))
            hb_error_wrap(err, "openwhisk");
    }
    if (rc) {
        ow_close(b);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &b->t0);
    *state = b;
    return 0;
}

static int ow_submit(void *state, hb_invocation *inv, hb_error *err)
{
    ow_be *b = state;
    b->err = err;
    b->failed = 0;
    ow_call *c = calloc(1, sizeof *c);
    if (!c)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    c->b = b;
    c->inv = inv;
    c->t_sched = (hb_time)llround((double)inv->arrival * b->time_scale);
    c->t_first = -1;
    c->backoff_ms = 100;
    c->timer.obj = c;
    c->redis_first = -1;
    /* with the fork's side channel the action is the user configuration and the prediction in
     * Redis sizes the call (the fork harvests or borrows); otherwise the variant is the size */
    c->var = b->libra ? ow_grid_user(&b->grid, inv->workload, b->workloads)
                      : ow_grid_pick(&b->grid, inv->workload, inv->alloc_start);
    c->phase = b->libra ? PH_PREDICT : PH_INVOKE;
    if (!b->libra && !c->var->cpu_hard && fabs(inv->alloc_start.cpu - c->var->applied.cpu) > 1e-6)
        b->cpu_not_applied++;          /* stock OpenWhisk: CPU follows memory */
    inv->alloc = c->var->applied;
    inv->backend_data = c;
    long long size = llround((double)inv->input_size * b->opt.size_scale);
    char body[160];
    snprintf(body, sizeof body, "{\"size\":%lld,\"parallel\":%d,\"seed\":%llu}", size < 1 ? 1 : size,
             hb_functions[inv->workload].parallel, (unsigned long long)inv->index + 1);
    c->body = strdup(body);
    if (!c->body) {
        free(c);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    c->prev = b->tail;
    if (b->tail)
        b->tail->next = c;
    else
        b->head = c;
    b->tail = c;
    b->live++;
    b->calls++;
    if (request(b, c))
        return b->failed;
    /* send it now rather than at the next wait */
    int running;
    curl_multi_perform(b->multi, &running);
    drain_messages(b);
    return b->failed;
}

static int ow_advance(void *state, hb_time until, hb_error *err)
{
    ow_be *b = state;
    b->err = err;
    b->failed = 0;
    return pump(b, (hb_time)llround((double)until * b->time_scale), 0);
}

static int ow_drain(void *state, hb_error *err)
{
    ow_be *b = state;
    b->err = err;
    b->failed = 0;
    int rc = pump(b, 0, 1);
    if (!rc) {
        hb_time end = b->last_end > 0 ? b->last_end : 0;
        rc = usage_flush(b, (end + HB_SEC - 1) / HB_SEC * HB_SEC);
    }
    if (!rc && (b->lost || b->errors || b->retries || b->cpu_not_applied))
        fprintf(stderr, "openwhisk: %llu calls: %llu lost, %llu errors (%llu malformed records), "
                "%llu requests retried%s\n", (unsigned long long)b->calls,
                (unsigned long long)b->lost, (unsigned long long)b->errors,
                (unsigned long long)b->malformed, (unsigned long long)b->retries,
                b->cpu_not_applied ? "; stock flavor: CPU sizes not applied (CPU follows memory)"
                                   : "");
    if (!rc && b->libra)
        ow_libra_report(b->libra, stderr);
    return rc;
}

static hb_time ow_now(void *state) { return now_us(state); }

/* Every [backend.openwhisk] key, read as open() reads it; unknown keys fail. */
static int ow_check_params(hb_kvlist *params, const char *config_dir, hb_error *err)
{
    ow_options o;
    int rc = ow_options_read(params, config_dir, &o, err);
    return rc ? rc : hb_config_check_used(params, err);
}

const hb_backend_ops hb_backend_openwhisk = {
    "openwhisk", HB_CAP_SIZING, ow_open, ow_close, ow_submit, ow_advance, ow_drain, ow_now,
    NULL, ow_check_params,
};

/* sim.c - the simulated cluster (backend "sim", BRIEF section 4; model in docs/simulator.md).
 *
 * A deterministic discrete-event simulation in virtual time (microseconds) of N OpenWhisk-like
 * invokers. Each invoker admits a call when the capacity it reserves fits (CPU and memory), else
 * queues it FIFO; a call gets a warm idle container of its function or a cold one (evicting idle
 * containers, least recently used first, when their memory is needed); a cold start takes the
 * profile's cold-start time; then the call runs its work (core-seconds from the workload profile)
 * at a rate set by CPU sharing on its invoker:
 *   - a call with a CPU quota (cpu_hard) uses at most min(parallelism, quota) cores;
 *   - a call under CPU shares uses up to its parallelism, and when the invoker's cores are
 *     oversubscribed the cores are split by weighted max-min fairness with weights proportional to
 *     memory (work-conserving, as Linux CFS shares).
 * Rates are recomputed whenever the set of running calls or an allocation changes, and completion
 * times follow. Memory grows linearly from a start level to the call's peak over a ramp; a call
 * whose memory would exceed its limit is killed (oom). Calls over their timeout are killed
 * (timeout). Usage is integrated exactly into one-second bins per invoker (usage.csv): each
 * invoker keeps the sums of its calls' allocations and usage as levels (memory as a level and a
 * slope, since it ramps), integrated forward whenever a level changes, and every invoker's bin is
 * closed in lockstep when the clock crosses a second.
 * Run-to-run variation of the work is drawn per event index, so every policy of a seed sees the
 * same draw for the same call (common random numbers).
 * That is the `flat` usage model. Under `usage = timeline` (timeline.h) a call instead replays a
 * timeline drawn from (seed, index): phases of work at a demand (the demand takes the place of the
 * parallelism in the sharing above; a phase ends when its work is done, so a rate change moves its
 * end) or fixed waits, each with its memory (over the limit: oom at that phase); cpu_peak is the
 * largest mean over a monitor window. */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hb_backend.h"
#include "workload_model.h"
#include "seed.h"
#include "timeline.h"
#include "timer_heap.h"

#define EPS 1e-9

enum { PH_QUEUED, PH_INIT, PH_RUN };
enum { TK_DONE, TK_OOM, TK_TIMEOUT, TK_TICK, TK_RAMP };
enum { V_CPU_ALLOC, V_CPU_USED, V_MEM_ALLOC, V_MEM_USED, V_RUNNING, V_QUEUED,
       V_CPU_HARV, V_CPU_BORR, V_MEM_HARV, V_MEM_BORR, NV };

typedef struct sim_container {
    int func;
    double mem_mb;
    hb_time idle_since;
    struct sim_container *lru_prev, *lru_next;   /* the invoker's idle containers, oldest first */
    struct sim_container *fn_prev, *fn_next;     /* idle containers of the same function */
} sim_container;

typedef struct sim_invoker sim_invoker;

typedef struct sim_call {
    hb_invocation *inv;
    sim_invoker *iv;
    sim_timer t_done, t_oom, t_timeout, t_ramp;
    int phase;
    sim_container *ctr;
    double work_left;                  /* core-microseconds */
    double work_total;
    double par;                        /* most cores it can use */
    double rate;                       /* cores used now */
    hb_time seg_t0;                    /* start of the open accounting segment */
    double contrib[NV];                /* what it adds to its invoker's levels (not V_MEM_USED) */
    double mem_slope;                  /* MB per microsecond it adds while its memory ramps */
    double mem_start, mem_peak;        /* MB */
    hb_time exec_t0;
    double ramp_us;
    double tick_done;                  /* work done at the last monitor sample */
    hb_time tick_t;
    double run_alloc_cpu, run_alloc_mem;  /* allocation x microseconds while running */
    double peak_cpu, peak_mem;
    size_t run_pos;
    /* usage = timeline: the call's phases (docs/simulator.md); work_left is the current phase's */
    int tl;
    hb_call_timeline tlv;              /* kept across reuse of the struct (its buffer) */
    size_t ph;
    double phase_work, done_prev;      /* work of the current phase, of the completed ones */
    hb_time wait_end;                  /* end of a wait phase; -1 in a work phase */
    double mem_cur;                    /* memory of the current phase */
    hb_time win_t0;                    /* its open monitor window: start, work done in it */
    double win_work;
    struct sim_call *q_next;
    struct sim_call *free_next;
} sim_call;

typedef struct sim sim;

struct sim_invoker {
    hb_invoker pub;
    sim *s;
    hb_res reserved;                   /* sum of reserves of admitted calls */
    hb_res alloc_sum;                  /* sum of allocations of admitted calls */
    sim_call **run;
    hb_invocation **run_inv;
    size_t n_run, cap_run;
    sim_call *q_head, *q_tail;
    size_t n_queued;
    sim_container *lru_head, *lru_tail;
    sim_container *idle_by_fn[HB_NFUNCS];
    double idle_mem;
    sim_timer tick;
    double lv[NV];                     /* sums over calls, now (V_MEM_USED: at lv_t0) */
    double mem_slope;
    hb_time lv_t0;
    double acc[NV];                    /* integrals over the current second */
    /* scratch for rate computation */
    double *caps, *weights, *rates;
    size_t *order;
    size_t cap_scratch;
    hb_usage_sample *samples;
    size_t cap_samples;
};

struct sim {
    hb_backend_hooks hooks;
    timer_heap heap;
    hb_time now;
    int n;
    sim_invoker *iv;
    const hb_profile *prof;
    const hb_func_config *funcs;
    hb_time keep_alive;
    hb_time cold_start[HB_NFUNCS];
    double noise_mu[HB_NFUNCS], noise_sigma[HB_NFUNCS];
    uint64_t noise_seed;
    uint64_t tl_seed;                  /* the timeline draws: per call from (seed, index) */
    hb_time monitor;                   /* [cluster] monitor_ms: the grid cpu_peak is sampled on */
    int usage_rows;
    int64_t cur_bin;                   /* the second being integrated */
    hb_time last_event;
    sim_call *free_calls;
    size_t live_calls;
    hb_error *err;                     /* the error of the advance in progress */
    int failed;
};

/* ---- small helpers ---- */

static int fail(sim *s, int code, const char *fmt, const char *what)
{
    if (!s->failed) {
        hb_fail(s->err, code, fmt, what);
        s->failed = code;
    }
    return code;
}

/* Memory in use at time t (a double, so the integral can use the exact end of the ramp). */
static double mem_at_d(const sim_call *c, double t)
{
    if (c->phase != PH_RUN)
        return c->mem_start;
    if (c->tl)
        return c->mem_cur;
    if (c->ramp_us <= 0)
        return c->mem_peak;
    double x = (t - (double)c->exec_t0) / c->ramp_us;
    x = x < 0 ? 0 : (x > 1 ? 1 : x);
    return c->mem_start + (c->mem_peak - c->mem_start) * x;
}

static double mem_at(const sim_call *c, hb_time t) { return mem_at_d(c, (double)t); }

/* Integrates an invoker's levels from lv_t0 to now (both inside the current second). */
static void lv_advance(sim_invoker *iv, hb_time now)
{
    if (!iv->s->usage_rows)
        return;                        /* nothing reads the bins (bench): no integration */
    hb_time dt = now - iv->lv_t0;
    if (dt <= 0)
        return;
    double d = (double)dt;
    for (int i = 0; i < NV; i++)
        if (i != V_MEM_USED)
            iv->acc[i] += iv->lv[i] * d;
    double m1 = iv->lv[V_MEM_USED] + iv->mem_slope * d;
    iv->acc[V_MEM_USED] += 0.5 * (iv->lv[V_MEM_USED] + m1) * d;
    iv->lv[V_MEM_USED] = m1;
    iv->lv_t0 = now;
}

/* Recomputes what a call adds to its invoker's levels and applies the difference. */
static void contrib_update(sim_call *c, hb_time now)
{
    sim_invoker *iv = c->iv;
    hb_invocation *inv = c->inv;
    double v[NV] = {0};
    v[V_CPU_ALLOC] = inv->alloc.cpu;
    v[V_CPU_USED] = c->phase == PH_RUN ? c->rate : 0;
    v[V_MEM_ALLOC] = inv->alloc.mem_mb;
    v[V_RUNNING] = 1;
    /* lent and received against the user allocation; CPU only where CPU is a quota */
    if (inv->cpu_hard) {
        v[V_CPU_HARV] = fmax(0, inv->user.cpu - inv->alloc.cpu);
        v[V_CPU_BORR] = fmax(0, inv->alloc.cpu - inv->user.cpu);
    }
    v[V_MEM_HARV] = fmax(0, inv->user.mem_mb - inv->alloc.mem_mb);
    v[V_MEM_BORR] = fmax(0, inv->alloc.mem_mb - inv->user.mem_mb);
    lv_advance(iv, now);
    for (int i = 0; i < NV; i++)
        if (i != V_MEM_USED) {
            iv->lv[i] += v[i] - c->contrib[i];
            c->contrib[i] = v[i];
        }
}

/* Removes a call from its invoker's levels. */
static void contrib_remove(sim_call *c, hb_time now, double mem_now)
{
    sim_invoker *iv = c->iv;
    lv_advance(iv, now);
    for (int i = 0; i < NV; i++)
        if (i != V_MEM_USED) {
            iv->lv[i] -= c->contrib[i];
            c->contrib[i] = 0;
        }
    iv->lv[V_MEM_USED] -= mem_now;
    iv->mem_slope -= c->mem_slope;
    c->mem_slope = 0;
    if (iv->n_run == 0) {              /* no drift left behind */
        memset(iv->lv, 0, sizeof iv->lv);
        iv->lv[V_QUEUED] = (double)iv->n_queued;
        iv->mem_slope = 0;
    }
}

/* usage = timeline: cpu_peak is what the monitor sees, the largest mean over a window of the
 * monitor's grid (the part of it the call ran in), not the instantaneous rate: a burst shorter
 * than a window, or straddling two, shows below its level, as on a real invoker. */
static void win_close(sim_call *c, hb_time t)
{
    if (t > c->win_t0) {
        double mean = c->win_work / (double)(t - c->win_t0);
        if (mean > c->peak_cpu)
            c->peak_cpu = mean;
    }
    c->win_work = 0;
    c->win_t0 = t;
}

static void win_add(sim_call *c, hb_time M, hb_time t0, hb_time t1, double r)
{
    while (t0 < t1) {
        hb_time wend = (c->win_t0 / M + 1) * M;
        if (t1 < wend) {
            c->win_work += r * (double)(t1 - t0);
            return;
        }
        c->win_work += r * (double)(wend - t0);
        win_close(c, wend);
        t0 = wend;
        if (t1 - t0 >= M) {            /* whole windows at this rate */
            if (r > c->peak_cpu)
                c->peak_cpu = r;
            t0 += (t1 - t0) / M * M;
            c->win_t0 = t0;
        }
    }
}

/* Closes the open accounting segment of a call at `now`: its own resource-seconds, work, peaks. */
static void seg_close(sim_call *c, hb_time now)
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
        c->work_left -= c->rate * (double)dt;
        c->run_alloc_cpu += inv->alloc.cpu * (double)dt;
        c->run_alloc_mem += inv->alloc.mem_mb * (double)dt;
        if (c->tl && c->iv->s->monitor > 0)
            win_add(c, c->iv->s->monitor, c->seg_t0, now, c->rate);
        else if (c->rate > c->peak_cpu)
            c->peak_cpu = c->rate;
    }
    double m = mem_at(c, now);
    if (m > c->peak_mem)
        c->peak_mem = m;
    c->seg_t0 = now;
}

static void queue_change(sim_invoker *iv, hb_time now, int delta)
{
    lv_advance(iv, now);
    iv->n_queued = (size_t)((long)iv->n_queued + delta);
    iv->lv[V_QUEUED] = (double)iv->n_queued;
}

static int arm(sim *s, sim_timer *t, hb_time when)
{
    if (timer_heap_set(&s->heap, t, when))
        return fail(s, HB_ENOMEM, "%s", "out of memory");
    return 0;
}

/* Monitor ticks: always the next point of one grid, so they are set in time order and take the
 * heap's FIFO lane (timer_heap.h) instead of a heap operation each. */
static int arm_tick(sim *s, sim_invoker *iv, hb_time when)
{
    if (timer_heap_set_lane(&s->heap, &iv->tick, when))
        return fail(s, HB_ENOMEM, "%s", "out of memory");
    return 0;
}

/* ---- CPU sharing ---- */

static int ensure_scratch(sim_invoker *iv, size_t n)
{
    if (n <= iv->cap_scratch)
        return 0;
    size_t cap = n < 16 ? 16 : n * 2;
    double *a = realloc(iv->caps, cap * sizeof *a);
    if (a)
        iv->caps = a;
    double *b = realloc(iv->weights, cap * sizeof *b);
    if (b)
        iv->weights = b;
    double *c = realloc(iv->rates, cap * sizeof *c);
    if (c)
        iv->rates = c;
    size_t *o = realloc(iv->order, cap * sizeof *o);
    if (o)
        iv->order = o;
    if (!a || !b || !c || !o)
        return -1;
    iv->cap_scratch = cap;
    return 0;
}

static void schedule_done(sim *s, sim_call *c)
{
    if (c->tl && c->phase == PH_RUN && c->wait_end >= 0) {
        arm(s, &c->t_done, c->wait_end);   /* a wait: no allocation shortens it */
        return;
    }
    if (c->rate > 0) {
        double us = ceil(c->work_left / c->rate);
        arm(s, &c->t_done, s->now + (us > 0 ? (hb_time)us : 0));
    } else {
        timer_heap_cancel(&s->heap, &c->t_done);
    }
}

/* Recomputes the rates of the running calls of an invoker (weighted max-min fairness). */
static void recompute_rates(sim_invoker *iv)
{
    sim *s = iv->s;
    size_t n = iv->n_run;
    if (n == 0 || ensure_scratch(iv, n)) {
        if (n)
            fail(s, HB_ENOMEM, "%s", "out of memory");
        return;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sim_call *c = iv->run[i];
        hb_invocation *inv = c->inv;
        double cap = 0, w = 1;
        if (c->phase == PH_RUN) {
            cap = inv->cpu_hard ? fmin(c->par, inv->alloc.cpu) : c->par;
            w = inv->cpu_hard ? 1024.0 : fmax(inv->alloc.mem_mb, 1.0);
        }
        iv->caps[i] = cap > 0 ? cap : 0;
        iv->weights[i] = w;
        sum += iv->caps[i];
    }
    double C = iv->pub.capacity.cpu;
    if (sum <= C + EPS) {
        for (size_t i = 0; i < n; i++)
            iv->rates[i] = iv->caps[i];
    } else {
        /* insertion sort by cap/weight: calls that want less than their fair share keep it */
        for (size_t i = 0; i < n; i++) {
            size_t j = i;
            double key = iv->caps[i] / iv->weights[i];
            while (j > 0 && iv->caps[iv->order[j - 1]] / iv->weights[iv->order[j - 1]] > key) {
                iv->order[j] = iv->order[j - 1];
                j--;
            }
            iv->order[j] = i;
        }
        double c_rem = C, w_rem = 0;
        for (size_t i = 0; i < n; i++)
            if (iv->caps[i] > 0)
                w_rem += iv->weights[i];
        for (size_t k = 0; k < n; k++) {
            size_t i = iv->order[k];
            if (iv->caps[i] <= 0) {
                iv->rates[i] = 0;
                continue;
            }
            double fair = w_rem > 0 ? c_rem * iv->weights[i] / w_rem : 0;
            if (iv->caps[i] <= fair) {
                iv->rates[i] = iv->caps[i];
                c_rem -= iv->caps[i];
                w_rem -= iv->weights[i];
            } else {
                for (size_t m = k; m < n; m++) {
                    size_t j = iv->order[m];
                    iv->rates[j] = iv->caps[j] > 0 && w_rem > 0 ? c_rem * iv->weights[j] / w_rem : 0;
                }
                break;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        sim_call *c = iv->run[i];
        if (c->phase != PH_RUN || iv->rates[i] == c->rate)
            continue;
        seg_close(c, s->now);
        c->rate = iv->rates[i];
        contrib_update(c, s->now);
        schedule_done(s, c);
    }
}

/* ---- containers ---- */

static void idle_unlink(sim_invoker *iv, sim_container *k)
{
    if (k->lru_prev)
        k->lru_prev->lru_next = k->lru_next;
    else
        iv->lru_head = k->lru_next;
    if (k->lru_next)
        k->lru_next->lru_prev = k->lru_prev;
    else
        iv->lru_tail = k->lru_prev;
    if (k->fn_prev)
        k->fn_prev->fn_next = k->fn_next;
    else
        iv->idle_by_fn[k->func] = k->fn_next;
    if (k->fn_next)
        k->fn_next->fn_prev = k->fn_prev;
    iv->idle_mem -= k->mem_mb;
    if (iv->idle_mem < EPS)
        iv->idle_mem = 0;
}

static void idle_push(sim_invoker *iv, sim_container *k, hb_time now)
{
    k->idle_since = now;
    k->lru_next = NULL;
    k->lru_prev = iv->lru_tail;
    if (iv->lru_tail)
        iv->lru_tail->lru_next = k;
    else
        iv->lru_head = k;
    iv->lru_tail = k;
    k->fn_prev = NULL;
    k->fn_next = iv->idle_by_fn[k->func];
    if (k->fn_next)
        k->fn_next->fn_prev = k;
    iv->idle_by_fn[k->func] = k;
    iv->idle_mem += k->mem_mb;
}

/* Idle containers past their keep-alive are removed (oldest first: the LRU order is idle order). */
static void expire_idle(sim *s, sim_invoker *iv)
{
    while (iv->lru_head && s->now - iv->lru_head->idle_since >= s->keep_alive) {
        sim_container *k = iv->lru_head;
        idle_unlink(iv, k);
        free(k);
    }
}

/* ---- call lifecycle ---- */

static sim_call *call_new(sim *s)
{
    sim_call *c = s->free_calls;
    if (c)
        s->free_calls = c->free_next;
    else if (!(c = calloc(1, sizeof *c)))
        return NULL;
    hb_call_timeline keep = c->tlv;    /* reuse its phase buffer */
    memset(c, 0, sizeof *c);
    c->tlv = keep;
    c->t_done.kind = TK_DONE;
    c->t_oom.kind = TK_OOM;
    c->t_timeout.kind = TK_TIMEOUT;
    c->t_ramp.kind = TK_RAMP;
    c->t_done.obj = c->t_oom.obj = c->t_timeout.obj = c->t_ramp.obj = c;
    s->live_calls++;
    return c;
}

static void call_free(sim *s, sim_call *c)
{
    timer_heap_cancel(&s->heap, &c->t_done);
    timer_heap_cancel(&s->heap, &c->t_oom);
    timer_heap_cancel(&s->heap, &c->t_timeout);
    timer_heap_cancel(&s->heap, &c->t_ramp);
    c->free_next = s->free_calls;
    s->free_calls = c;
    s->live_calls--;
}

static int run_add(sim_invoker *iv, sim_call *c)
{
    if (iv->n_run == iv->cap_run) {
        size_t cap = iv->cap_run ? iv->cap_run * 2 : 16;
        sim_call **r = realloc(iv->run, cap * sizeof *r);
        if (r)
            iv->run = r;
        hb_invocation **ri = realloc(iv->run_inv, cap * sizeof *ri);
        if (ri)
            iv->run_inv = ri;
        if (!r || !ri)
            return -1;
        iv->cap_run = cap;
    }
    c->run_pos = iv->n_run;
    iv->run[iv->n_run] = c;
    iv->run_inv[iv->n_run] = c->inv;
    iv->n_run++;
    return 0;
}

static void run_remove(sim_invoker *iv, sim_call *c)
{
    size_t i = c->run_pos, last = iv->n_run - 1;
    /* keep the order of the others: policies see calls in start order, and rates are computed in
     * that order, so removal must not permute them */
    memmove(iv->run + i, iv->run + i + 1, (last - i) * sizeof *iv->run);
    memmove(iv->run_inv + i, iv->run_inv + i + 1, (last - i) * sizeof *iv->run_inv);
    iv->n_run--;
    for (size_t k = i; k < iv->n_run; k++)
        iv->run[k]->run_pos = k;
}

static void arm_invoker_timers(sim *s, sim_invoker *iv)
{
    if (s->hooks.tick_interval > 0 && s->hooks.on_tick && !timer_scheduled(&iv->tick)) {
        hb_time I = s->hooks.tick_interval;
        arm_tick(s, iv, (s->now / I + 1) * I);
    }
}

static void schedule_oom(sim *s, sim_call *c)
{
    double lim = c->inv->alloc.mem_mb;
    if (c->tl) {                       /* memory follows the samples: over the limit now, or not */
        if (c->phase == PH_RUN && c->mem_cur > lim + EPS)
            arm(s, &c->t_oom, s->now);
        else
            timer_heap_cancel(&s->heap, &c->t_oom);
        return;
    }
    if (c->phase != PH_RUN || c->mem_peak <= lim + EPS) {
        timer_heap_cancel(&s->heap, &c->t_oom);
        return;
    }
    hb_time when = s->now;
    if (mem_at(c, s->now) <= lim + EPS && c->ramp_us > 0 && c->mem_start < lim) {
        double frac = (lim - c->mem_start) / (c->mem_peak - c->mem_start);
        hb_time t = c->exec_t0 + (hb_time)floor(frac * c->ramp_us);
        if (t > when)
            when = t;
    }
    arm(s, &c->t_oom, when);
}

/* The most cores a running call can take now (its input to the sharing of its invoker). */
static double call_cap(const sim_call *c)
{
    const hb_invocation *inv = c->inv;
    return inv->cpu_hard ? fmin(c->par, inv->alloc.cpu) : c->par;
}

/* Enters phase i of a timeline call: its demand, its work or wait, its memory. */
static void phase_enter(sim *s, sim_call *c, size_t i)
{
    const hb_tl_phase *p = &c->tlv.p[i];
    sim_invoker *iv = c->iv;
    double cap0 = call_cap(c);
    c->ph = i;
    lv_advance(iv, s->now);
    iv->lv[V_MEM_USED] += p->mem_mb - c->mem_cur;
    c->mem_cur = p->mem_mb;
    if (c->mem_cur > c->peak_mem)      /* reached now, even if it is killed for it at once */
        c->peak_mem = c->mem_cur;
    c->phase_work = c->work_left = p->work;
    if (p->work > 0) {
        c->par = p->demand;
        c->wait_end = -1;
    } else {
        c->par = 0;
        c->wait_end = s->now + (hb_time)ceil(p->wait_us);
    }
    schedule_oom(s, c);
    /* the invoker's shares depend only on the caps (and weights) of its calls: when this one's
     * cap is unchanged so is every rate, and recomputing them would be wasted */
    if (i == 0 || call_cap(c) != cap0)
        recompute_rates(iv);
    schedule_done(s, c);               /* also when its rate did not change */
}

/* The next phase, or the end of the call after the last. */
static int phase_next(sim *s, sim_call *c);

/* The call's run-to-run variation: a lognormal draw of mean 1 that depends on the seed and the
 * event index only (common random numbers). */
static double call_noise(const sim *s, const hb_invocation *inv)
{
    double u = hb_index_uniform(s->noise_seed, inv->index);
    return exp(s->noise_mu[inv->func] + s->noise_sigma[inv->func] * gsl_cdf_ugaussian_Pinv(u));
}

static void exec_begin_timeline(sim *s, sim_call *c)
{
    hb_invocation *inv = c->inv;
    c->ramp_us = 0;
    c->work_total = 0;
    for (size_t i = 0; i < c->tlv.n; i++)
        c->work_total += c->tlv.p[i].work;
    inv->base_duration_ms = hb_call_timeline_duration_us(&c->tlv, inv->user.cpu) / 1e3;
    c->mem_cur = c->mem_start;
    c->done_prev = 0;
    c->win_t0 = s->now;
    c->win_work = 0;
    if (inv->timeout > 0)
        arm(s, &c->t_timeout, s->now + inv->timeout);
    phase_enter(s, c, 0);
}

static void exec_begin(sim *s, sim_call *c)
{
    hb_invocation *inv = c->inv;
    seg_close(c, s->now);
    c->phase = PH_RUN;
    c->seg_t0 = c->exec_t0 = c->tick_t = s->now;
    inv->exec_start = s->now;
    if (c->tl) {
        exec_begin_timeline(s, c);
        return;
    }
    const hb_profile_func *pf = &s->prof->f[inv->func];
    double x = (double)inv->input_size;
    c->par = fmax(hb_profile_eval(&pf->parallelism, x), 0.01);
    double exec_s = fmax(hb_profile_eval(&pf->exec_s, x), 0);
    /* common random numbers: the draw depends on the seed and the event index only */
    double noise = call_noise(s, inv);
    c->work_total = c->work_left = exec_s * 1e6 * fmin(pf->ref_cores, c->par) * noise;
    inv->base_duration_ms = c->work_total / fmin(c->par, inv->user.cpu) / 1e3;
    double r0 = inv->cpu_hard ? fmin(c->par, inv->alloc.cpu) : c->par;
    c->ramp_us = r0 > 0 ? pf->mem_ramp_frac * c->work_total / r0 : 0;
    if (c->ramp_us > 0 && c->mem_peak > c->mem_start) {
        lv_advance(c->iv, s->now);
        c->mem_slope = (c->mem_peak - c->mem_start) / c->ramp_us;
        c->iv->mem_slope += c->mem_slope;
        arm(s, &c->t_ramp, s->now + (hb_time)ceil(c->ramp_us));
    } else if (c->mem_peak != c->mem_start) {
        lv_advance(c->iv, s->now);     /* no ramp: at its peak at once */
        c->iv->lv[V_MEM_USED] += c->mem_peak - c->mem_start;
    }
    if (inv->timeout > 0)
        arm(s, &c->t_timeout, s->now + inv->timeout);
    schedule_oom(s, c);
    recompute_rates(c->iv);
}

/* The call's timeline: drawn from (seed, index), its function and size only, never from anything a
 * policy decides (common random numbers). */
static int call_timeline(sim *s, sim_call *c)
{
    const hb_invocation *inv = c->inv;
    const hb_profile *p = s->prof;
    double u = hb_index_uniform(s->tl_seed, inv->index);
    int rc;
    if (!p->synthetic) {
        if (!p->timelines)
            return fail(s, HB_EINPUT, "%s", "usage = timeline needs a timeline library");
        rc = hb_timeline_measured(p->timelines, inv->func, inv->input_size, u, &c->tlv, s->err);
    } else {
        const hb_profile_func *pf = &p->f[inv->func];
        double x = (double)inv->input_size;
        hb_tl_artifact_call a = {
            .func = inv->func, .size = inv->input_size,
            .exec_s = hb_profile_eval(&pf->exec_s, x),
            .cpu_class_error = p->cpu_class_error, .mem_class_error = p->mem_class_error,
            .work_factor = call_noise(s, inv),
            .stream = (uint64_t)(u * 9007199254740992.0),
            .mem_cap_mb = pf->class_mem_cap_mb,
        };
        /* the predictor's classes; a profile read from a file has none: recover them from the
         * curves it was derived with (parallelism = class - 0.5, memory the class midpoint) */
        a.cpu_class = pf->cpu_class.n ? (int)lround(hb_profile_eval(&pf->cpu_class, x))
                                      : (int)lround(hb_profile_eval(&pf->parallelism, x) + 0.5);
        a.mem_class = pf->mem_class.n
                          ? (int)lround(hb_profile_eval(&pf->mem_class, x))
                          : (int)ceil(hb_profile_eval(&pf->mem_peak_mb, x) * 1048576.0 /
                                      (HB_MEM_UNIT_MB * 1e6));
        if (a.cpu_class < 1)
            a.cpu_class = 1;
        if (a.mem_class < 1)
            a.mem_class = 1;
        rc = hb_timeline_artifact(&a, &c->tlv, s->err);
    }
    if (!rc && c->tlv.n == 0)
        return fail(s, HB_EINPUT, "%s", "an empty timeline");
    if (rc)
        s->failed = rc;
    return rc;
}

static int call_start(sim *s, sim_invoker *iv, sim_call *c)
{
    hb_invocation *inv = c->inv;
    inv->start = s->now;
    iv->reserved.cpu += inv->reserve.cpu;
    iv->reserved.mem_mb += inv->reserve.mem_mb;
    inv->alloc = inv->alloc_start;
    iv->alloc_sum.cpu += inv->alloc.cpu;
    iv->alloc_sum.mem_mb += inv->alloc.mem_mb;
    expire_idle(s, iv);
    sim_container *k = iv->idle_by_fn[inv->func];
    if (k) {
        idle_unlink(iv, k);            /* warm: the most recently idle one */
        inv->cold_start = 0;
    } else {
        /* cold: make room for the new container among the idle ones */
        while (iv->lru_head &&
               iv->reserved.mem_mb + iv->idle_mem > iv->pub.capacity.mem_mb + EPS) {
            sim_container *old = iv->lru_head;
            idle_unlink(iv, old);
            free(old);
        }
        if (!(k = calloc(1, sizeof *k)))
            return fail(s, HB_ENOMEM, "%s", "out of memory");
        k->func = inv->func;
        inv->cold_start = 1;
    }
    c->ctr = k;
    const hb_profile_func *pf = &s->prof->f[inv->func];
    if (s->prof->usage == HB_USAGE_TIMELINE) {
        int rc = call_timeline(s, c);
        if (rc) {                      /* the run fails: nothing may keep the call */
            free(k);
            inv->backend_data = NULL;
            call_free(s, c);
            return rc;
        }
        c->tl = 1;
        c->mem_peak = c->tlv.mem_peak_mb;
        c->mem_start = c->tlv.p[0].mem_mb;   /* a cold start holds the first sample's memory */
    } else {
        c->mem_peak = fmax(hb_profile_eval(&pf->mem_peak_mb, (double)inv->input_size), 0);
        c->mem_start = pf->mem_start_frac * c->mem_peak;
    }
    c->phase = PH_INIT;
    c->seg_t0 = s->now;
    if (run_add(iv, c))
        return fail(s, HB_ENOMEM, "%s", "out of memory");
    contrib_update(c, s->now);
    iv->lv[V_MEM_USED] += c->mem_start;
    arm_invoker_timers(s, iv);
    if (s->hooks.on_start) {
        int rc = s->hooks.on_start(s->hooks.ctx, &iv->pub, inv, s->err);
        if (rc)
            return s->failed = rc;
    }
    if (inv->cold_start)
        arm(s, &c->t_done, s->now + s->cold_start[inv->func]);
    else
        exec_begin(s, c);
    return s->failed;
}

/* Admission: what the call holds must fit beside what admitted calls hold, and what it starts
 * with beside what they are allocated now (a resize may have grown one past its reserve). */
static int fits(const sim_invoker *iv, const hb_invocation *inv)
{
    const hb_res *cap = &iv->pub.capacity;
    return iv->reserved.cpu + inv->reserve.cpu <= cap->cpu + EPS &&
           iv->reserved.mem_mb + inv->reserve.mem_mb <= cap->mem_mb + EPS &&
           iv->alloc_sum.cpu + inv->alloc_start.cpu <= cap->cpu + EPS &&
           iv->alloc_sum.mem_mb + inv->alloc_start.mem_mb <= cap->mem_mb + EPS;
}

static int admit_queued(sim *s, sim_invoker *iv)
{
    while (iv->q_head && fits(iv, iv->q_head->inv) && !s->failed) {
        sim_call *c = iv->q_head;
        queue_change(iv, s->now, -1);
        iv->q_head = c->q_next;
        if (!iv->q_head)
            iv->q_tail = NULL;
        int rc = call_start(s, iv, c);
        if (rc)
            return rc;
    }
    return s->failed;
}

static int call_end(sim *s, sim_call *c, hb_outcome outcome)
{
    sim_invoker *iv = c->iv;
    hb_invocation *inv = c->inv;
    seg_close(c, s->now);
    if (c->tl && c->phase == PH_RUN && s->monitor > 0)
        win_close(c, s->now);          /* the last, partial window */
    if (c->phase == PH_INIT)
        inv->exec_start = s->now;      /* killed during init: no execution */
    hb_time ran = s->now - inv->exec_start;
    inv->alloc_mean = ran > 0 && c->phase == PH_RUN
                          ? (hb_res){c->run_alloc_cpu / (double)ran, c->run_alloc_mem / (double)ran}
                          : inv->alloc;
    inv->end = s->now;
    inv->outcome = outcome;
    inv->cpu_peak = c->peak_cpu;
    inv->mem_peak_mb = c->peak_mem;
    if (outcome == HB_OOM)
        snprintf(inv->error_msg, sizeof inv->error_msg, "memory %.0f MB over the %.0f MB limit",
                 mem_at(c, s->now), inv->alloc.mem_mb);
    run_remove(iv, c);
    contrib_remove(c, s->now, mem_at(c, s->now));
    if (iv->n_run == 0)
        timer_heap_cancel(&s->heap, &iv->tick);
    iv->alloc_sum.cpu -= inv->alloc.cpu;
    iv->alloc_sum.mem_mb -= inv->alloc.mem_mb;
    /* a container that ran to completion stays warm; killed ones are removed, as OpenWhisk does */
    if (outcome == HB_SUCCESS && s->keep_alive > 0) {
        c->ctr->mem_mb = inv->alloc.mem_mb;
        idle_push(iv, c->ctr, s->now);
    } else {
        free(c->ctr);
    }
    hb_res reserve = inv->reserve;
    inv->backend_data = NULL;
    call_free(s, c);
    if (s->hooks.on_end) {
        int rc = s->hooks.on_end(s->hooks.ctx, &iv->pub, inv, s->err);
        if (rc)
            return s->failed = rc;
    }
    iv->reserved.cpu -= reserve.cpu;
    iv->reserved.mem_mb -= reserve.mem_mb;
    if (iv->reserved.cpu < EPS)
        iv->reserved.cpu = 0;
    if (iv->reserved.mem_mb < EPS)
        iv->reserved.mem_mb = 0;
    int rc = admit_queued(s, iv);
    if (!rc)
        recompute_rates(iv);
    return s->failed;
}

static int phase_next(sim *s, sim_call *c)
{
    if (c->ph + 1 >= c->tlv.n)
        return call_end(s, c, HB_SUCCESS);
    seg_close(c, s->now);
    c->done_prev += c->phase_work;
    phase_enter(s, c, c->ph + 1);
    return s->failed;
}

/* ---- monitor samples ---- */

static int tick(sim *s, sim_invoker *iv)
{
    if (iv->n_run == 0)
        return 0;
    if (iv->n_run > iv->cap_samples) {
        hb_usage_sample *a = realloc(iv->samples, iv->n_run * 2 * sizeof *a);
        if (!a)
            return fail(s, HB_ENOMEM, "%s", "out of memory");
        iv->samples = a;
        iv->cap_samples = iv->n_run * 2;
    }
    size_t n = iv->n_run;
    for (size_t i = 0; i < n; i++) {
        sim_call *c = iv->run[i];
        double cpu = 0;
        if (c->phase == PH_RUN) {
            double left = c->work_left - c->rate * (double)(s->now - c->seg_t0);
            double done = c->tl ? c->done_prev + (c->phase_work - left) : c->work_total - left;
            hb_time dt = s->now - c->tick_t;
            cpu = dt > 0 ? (done - c->tick_done) / (double)dt : c->rate;
            c->tick_done = done;
            c->tick_t = s->now;
        }
        iv->samples[i] = (hb_usage_sample){c->inv, cpu < 0 ? 0 : cpu, mem_at(c, s->now)};
    }
    int rc = s->hooks.on_tick(s->hooks.ctx, &iv->pub, iv->samples, n, s->err);
    if (rc)
        return s->failed = rc;
    if (iv->n_run)
        arm_tick(s, iv, s->now + s->hooks.tick_interval);
    return s->failed;
}

/* ---- usage rows ---- */

/* Closes every invoker's second when the clock crosses it, in lockstep: all seconds before the
 * one holding `t` are emitted. */
static int flush_upto(sim *s, hb_time t)
{
    if (!s->usage_rows)
        return 0;
    while ((s->cur_bin + 1) * HB_SEC <= t) {
        hb_time edge = (s->cur_bin + 1) * HB_SEC;
        for (int i = 0; i < s->n; i++) {
            sim_invoker *iv = &s->iv[i];
            lv_advance(iv, edge);
            double *v = iv->acc;
            hb_usage_row row = {
                .t = s->cur_bin * HB_SEC, .invoker = i,
                .cpu_capacity = iv->pub.capacity.cpu, .mem_capacity_mb = iv->pub.capacity.mem_mb,
                .cpu_alloc = v[V_CPU_ALLOC] / 1e6, .cpu_used = v[V_CPU_USED] / 1e6,
                .mem_alloc_mb = v[V_MEM_ALLOC] / 1e6, .mem_used_mb = v[V_MEM_USED] / 1e6,
                .running = v[V_RUNNING] / 1e6, .queued = v[V_QUEUED] / 1e6,
                .cpu_harvested = v[V_CPU_HARV] / 1e6, .cpu_borrowed = v[V_CPU_BORR] / 1e6,
                .mem_harvested_mb = v[V_MEM_HARV] / 1e6, .mem_borrowed_mb = v[V_MEM_BORR] / 1e6,
            };
            memset(v, 0, sizeof iv->acc);
            if (s->usage_rows && s->hooks.on_usage) {
                int rc = s->hooks.on_usage(s->hooks.ctx, &row, s->err);
                if (rc)
                    return s->failed = rc;
            }
        }
        s->cur_bin++;
    }
    return 0;
}

/* ---- the backend interface ---- */

static hb_time inv_now(void *impl) { return ((sim_invoker *)impl)->s->now; }

static size_t inv_running(void *impl, hb_invocation *const **out)
{
    sim_invoker *iv = impl;
    *out = iv->run_inv;
    return iv->n_run;
}

static int inv_resize(void *impl, hb_invocation *inv, hb_res a, hb_error *err)
{
    sim_invoker *iv = impl;
    sim *s = iv->s;
    sim_call *c = inv->backend_data;
    if (!c || c->iv != iv || c->phase == PH_QUEUED)
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
    seg_close(c, s->now);
    int cpu_changed = a.cpu != inv->alloc.cpu;
    iv->alloc_sum.cpu = cpu;
    iv->alloc_sum.mem_mb = mem;
    inv->alloc = a;
    contrib_update(c, s->now);
    if (c->phase == PH_RUN) {
        schedule_oom(s, c);            /* a limit below usage kills it at once (timer at now) */
        if (cpu_changed && inv->cpu_hard)
            recompute_rates(iv);
    }
    return 0;
}

static const hb_invoker_ops SIM_INVOKER_OPS = {inv_now, inv_resize, inv_running};

static void sim_close(void *state)
{
    sim *s = state;
    if (!s)
        return;
    timer_heap_free(&s->heap);         /* first: it touches the timers inside calls */
    for (int i = 0; i < s->n; i++) {
        sim_invoker *iv = &s->iv[i];
        while (iv->lru_head) {
            sim_container *k = iv->lru_head;
            idle_unlink(iv, k);
            free(k);
        }
        for (size_t j = 0; j < iv->n_run; j++) {
            hb_call_timeline_free(&iv->run[j]->tlv);
            free(iv->run[j]->ctr);
            iv->run[j]->inv->backend_data = NULL;
            free(iv->run[j]);
        }
        for (sim_call *c = iv->q_head, *next; c; c = next) {
            next = c->q_next;
            c->inv->backend_data = NULL;
            hb_call_timeline_free(&c->tlv);
            free(c);
        }
        free(iv->run);
        free(iv->run_inv);
        free(iv->caps);
        free(iv->weights);
        free(iv->rates);
        free(iv->order);
        free(iv->samples);
    }
    while (s->free_calls) {
        sim_call *c = s->free_calls;
        s->free_calls = c->free_next;
        hb_call_timeline_free(&c->tlv);
        free(c);
    }
    free(s->iv);
    free(s);
}

static int sim_open(const hb_backend_args *a, const hb_backend_hooks *hooks, void **state,
                    hb_error *err)
{
    *state = NULL;
    if (!a->profile)
        return hb_fail(err, HB_EINPUT, "the simulator needs a workload profile");
    for (int f = 0; f < HB_NFUNCS; f++)
        if (!a->profile->f[f].present)
            return hb_fail(err, HB_EINPUT, "workload profile %s has no model of function %s",
                           a->profile->source, hb_functions[f].id);
    for (size_t i = 0; a->params && i < a->params->n; i++)
        a->params->items[i].used = 0;  /* the simulator has no [backend.sim] keys */
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    s->iv = calloc((size_t)a->n_invokers, sizeof *s->iv);
    if (!s->iv) {
        free(s);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    s->hooks = *hooks;
    s->n = a->n_invokers;
    s->prof = a->profile;
    s->funcs = a->funcs;
    s->keep_alive = a->keep_alive;
    s->usage_rows = a->usage_rows;
    s->noise_seed = hb_seed_derive(a->seed, "variation");
    s->tl_seed = hb_seed_derive(a->seed, "timeline");
    s->monitor = a->monitor;
    for (int f = 0; f < HB_NFUNCS; f++) {
        const hb_profile_func *pf = &a->profile->f[f];
        s->cold_start[f] = a->cold_start >= 0 ? a->cold_start
                                              : (hb_time)llround(pf->cold_start_s * 1e6);
        double cv = a->cv >= 0 ? a->cv : pf->cv;
        double s2 = log(1 + cv * cv);    /* lognormal with mean 1 and this coefficient of variation */
        s->noise_sigma[f] = sqrt(s2);
        s->noise_mu[f] = -s2 / 2;
    }
    for (int i = 0; i < s->n; i++) {
        sim_invoker *iv = &s->iv[i];
        iv->s = s;
        iv->pub = (hb_invoker){i, a->capacity, &SIM_INVOKER_OPS, iv};
        iv->tick = (sim_timer){.kind = TK_TICK, .obj = iv};
    }
    *state = s;
    return 0;
}

static int sim_submit(void *state, hb_invocation *inv, hb_error *err)
{
    sim *s = state;
    s->err = err;
    if (inv->invoker < 0 || inv->invoker >= s->n)
        return hb_fail(err, HB_ERUN, "call %llu placed on invoker %d of %d",
                       (unsigned long long)inv->index, inv->invoker, s->n);
    sim_invoker *iv = &s->iv[inv->invoker];
    if (inv->reserve.cpu > iv->pub.capacity.cpu + EPS ||
        inv->reserve.mem_mb > iv->pub.capacity.mem_mb + EPS) {
        /* it could never be admitted: end it now rather than block the queue forever */
        inv->start = inv->exec_start = inv->end = s->now;
        inv->outcome = HB_ERROR;
        snprintf(inv->error_msg, sizeof inv->error_msg,
                 "needs %.2f cores and %.0f MB, more than an invoker has", inv->reserve.cpu,
                 inv->reserve.mem_mb);
        inv->alloc_mean = inv->alloc = inv->alloc_start;
        return s->hooks.on_end ? s->hooks.on_end(s->hooks.ctx, &iv->pub, inv, err) : 0;
    }
    sim_call *c = call_new(s);
    if (!c)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    c->inv = inv;
    c->iv = iv;
    c->phase = PH_QUEUED;
    inv->backend_data = c;
    s->failed = 0;
    if (!iv->q_head && fits(iv, inv))
        return call_start(s, iv, c);
    queue_change(iv, s->now, +1);
    if (iv->q_tail)
        iv->q_tail->q_next = c;
    else
        iv->q_head = c;
    iv->q_tail = c;
    arm_invoker_timers(s, iv);
    return s->failed;
}

static int fire(sim *s, sim_timer *t)
{
    switch (t->kind) {
    case TK_DONE: {
        sim_call *c = t->obj;
        if (c->phase == PH_INIT) {
            exec_begin(s, c);
            return s->failed;
        }
        if (c->tl)
            return phase_next(s, c);
        return call_end(s, c, HB_SUCCESS);
    }
    case TK_OOM:
        return call_end(s, t->obj, HB_OOM);
    case TK_TIMEOUT:
        return call_end(s, t->obj, HB_TIMEOUT);
    case TK_TICK:
        return tick(s, t->obj);
    case TK_RAMP: {
        sim_call *c = t->obj;          /* memory reached its peak: the slope ends */
        seg_close(c, s->now);
        lv_advance(c->iv, s->now);
        c->iv->mem_slope -= c->mem_slope;
        c->mem_slope = 0;
        return 0;
    }
    }
    return 0;
}

static int run_timer(sim *s, sim_timer *t)
{
    int rc = flush_upto(s, t->t);
    if (rc)
        return rc;
    s->now = t->t;
    if (t->kind == TK_DONE || t->kind == TK_OOM || t->kind == TK_TIMEOUT)
        s->last_event = s->now;
    return fire(s, t);
}

static int sim_advance(void *state, hb_time until, hb_error *err)
{
    sim *s = state;
    s->err = err;
    s->failed = 0;
    sim_timer *t;
    while ((t = timer_heap_pop_due(&s->heap, until))) {
        int rc = run_timer(s, t);
        if (rc)
            return rc;
    }
    int rc = flush_upto(s, until);
    if (until > s->now)
        s->now = until;
    if (s->now > s->last_event)
        s->last_event = s->now;        /* an arrival is an event of the run too */
    return rc;
}

static int sim_drain(void *state, hb_error *err)
{
    sim *s = state;
    s->err = err;
    s->failed = 0;
    sim_timer *t;
    /* ticks only run while calls do, so the heap empties when the work is done */
    while ((t = timer_heap_pop(&s->heap))) {
        int rc = run_timer(s, t);
        if (rc)
            return rc;
    }
    s->now = s->last_event;
    /* the last, partial second */
    int rc = flush_upto(s, s->now);
    if (!rc && s->now > s->cur_bin * HB_SEC)
        rc = flush_upto(s, (s->cur_bin + 1) * HB_SEC);
    return rc;
}

static hb_time sim_now(void *state) { return ((sim *)state)->now; }

const hb_backend_ops hb_backend_sim = {
    "sim", HB_CAP_SIZING | HB_CAP_PLACEMENT | HB_CAP_INVOKER,
    sim_open, sim_close, sim_submit, sim_advance, sim_drain, sim_now,
};

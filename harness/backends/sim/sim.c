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
 * largest mean over a monitor window.
 *
 * Admission, queues, containers, resizing, the usage rows and a call's bookkeeping are the invoker
 * model's (invoker_model.h), shared with the local backend; this file supplies its primitives: the
 * virtual clock and timers, and how a call runs (its rate under CPU sharing, its memory, its end). */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hb_backend.h"
#include "dynbuf.h"
#include "fminmax.h"
#include "invoker_model.h"
#include "workload_model.h"
#include "seed.h"
#include "timeline.h"
#include "timer_heap.h"

#define EPS 1e-9

enum { PH_QUEUED = HB_IM_QUEUED, PH_INIT = HB_IM_INIT, PH_RUN = HB_IM_RUN };
enum { TK_DONE, TK_OOM, TK_TIMEOUT, TK_TICK, TK_RAMP };

typedef struct sim_call {
    hb_im_call m;                      /* the invoker model's part (first) */
    sim_timer t_done, t_oom, t_timeout, t_ramp;
    int timeout_held;                  /* t_timeout has its key (timer_heap_reserve) but waits out
                                        * of the heap while t_done is sure to come first */
    double work_left;                  /* core-microseconds */
    double work_total;
    double par;                        /* most cores it can use */
    double mem_peak;                   /* MB (its start: m.mem_start) */
    hb_time exec_t0;
    double ramp_us;
    double tick_done;                  /* work done at the last monitor sample */
    hb_time tick_t;
    /* usage = timeline: the call's phases (docs/simulator.md); work_left is the current phase's */
    int tl;
    hb_call_timeline tlv;              /* its phases while it runs (a buffer from sim.spare_tl) */
    size_t ph;
    double phase_work, done_prev;      /* work of the current phase, of the completed ones */
    hb_time wait_end;                  /* end of a wait phase; -1 in a work phase */
    double mem_cur;                    /* memory of the current phase */
    hb_time win_t0;                    /* its open monitor window: start, work done in it */
    hb_time win_end;                   /* ... and its end, (win_t0 / M + 1) M (kept: a division
                                        * per phase was a tenth of bench under timelines) */
    double win_work;
    struct sim_call *free_next;
} sim_call;

/* What the simulator keeps per invoker beside the model's part (same index). */
typedef struct sim_inv {
    sim_timer tick;
    /* scratch for rate computation */
    double *caps, *weights, *rates;
    size_t *order;
    size_t cap_scratch;
    /* the last sharing found the cores not oversubscribed (every running call at its cap): it
     * stays so while no cap grows, as each growth recomputes; an end cannot oversubscribe them
     * (the sum of the remaining caps, added in the same order, is no larger), so the sharing
     * after an end is skipped */
    int under;
} sim_inv;

typedef struct sim {
    hb_im m;                           /* the invoker model */
    sim_inv *x;
    timer_heap heap;
    hb_time now;
    hb_time tick_interval;
    int on_tick;
    const hb_profile *prof;
    const hb_func_config *funcs;       /* n_funcs: the run's function table */
    int n_funcs;
    hb_time cold_start[HB_NWORKLOADS];
    double noise_mu[HB_NWORKLOADS], noise_sigma[HB_NWORKLOADS];
    uint64_t noise_seed;
    uint64_t tl_seed;                  /* the timeline draws: per call from (seed, index) */
    hb_time monitor;                   /* [cluster] monitor_ms: the grid cpu_peak is sampled on */
    /* usage = flat: the profile's curves of a workload at the size of its last call (a function
     * is usually called at one size, and three lookups a call were 3% of bench) */
    struct flat_curves {
        int64_t size;
        int valid;
        double par, exec_s, mem_peak;
    } curves[HB_NWORKLOADS];
    hb_time last_event;
    sim_call *free_calls;
    size_t live_calls;
    /* phase buffers of ended calls, for the next call that starts: a queued call holds none, so
     * a long queue costs no timeline memory (an overloaded replay queued 2 KB of stale phases
     * per waiting call when the buffers stayed with the recycled call structs) */
    hb_call_timeline *spare_tl;
    size_t n_spare_tl, cap_spare_tl;
    hb_error *err;                     /* the error of the advance in progress */
    int failed;
} sim;

static sim_call *sc(hb_im_call *c) { return (sim_call *)c; }
static sim_inv *xv(sim *s, const hb_im_invoker *iv) { return &s->x[iv->pub.id]; }

/* ---- small helpers ---- */

static int fail(sim *s, int code, const char *fmt, const char *what)
{
    if (!s->failed) {
        hb_fail(s->err, code, fmt, what);
        s->failed = code;
    }
    return code;
}

static int nomem(sim *s, int rc)
{
    return rc ? fail(s, HB_ENOMEM, "%s", "out of memory") : 0;
}

/* Memory in use at time t (a double, so the integral can use the exact end of the ramp). */
static double mem_at_d(const sim_call *c, double t)
{
    if (c->m.phase != PH_RUN)
        return c->m.mem_start;
    if (c->tl)
        return c->mem_cur;
    if (c->ramp_us <= 0)
        return c->mem_peak;
    double dt = t - (double)c->exec_t0;
    if (dt >= c->ramp_us)              /* x clips to 1: the value at the ramp's end, no division */
        return c->m.mem_start + (c->mem_peak - c->m.mem_start);
    double x = dt / c->ramp_us;
    x = x < 0 ? 0 : (x > 1 ? 1 : x);
    return c->m.mem_start + (c->mem_peak - c->m.mem_start) * x;
}

static double mem_at(const sim_call *c, hb_time t) { return mem_at_d(c, (double)t); }


/* usage = timeline: cpu_peak is what the monitor sees, the largest mean over a window of the
 * monitor's grid (the part of it the call ran in), not the instantaneous rate: a burst shorter
 * than a window, or straddling two, shows below its level, as on a real invoker. */
static void win_close(sim_call *c, hb_time t)
{
    if (t > c->win_t0) {
        double mean = c->win_work / (double)(t - c->win_t0);
        if (mean > c->m.peak_cpu)
            c->m.peak_cpu = mean;
    }
    c->win_work = 0;
    c->win_t0 = t;
}

static void win_add(sim_call *c, hb_time M, hb_time t0, hb_time t1, double r)
{
    while (t0 < t1) {
        hb_time wend = c->win_end;
        if (t1 < wend) {
            c->win_work += r * (double)(t1 - t0);
            return;
        }
        c->win_work += r * (double)(wend - t0);
        win_close(c, wend);
        t0 = wend;
        if (t1 - t0 >= M) {            /* whole windows at this rate */
            if (r > c->m.peak_cpu)
                c->m.peak_cpu = r;
            t0 += (t1 - t0) / M * M;
            c->win_t0 = t0;
        }
        c->win_end = t0 + M;           /* t0 is on the grid here */
    }
}


/* The simulator's part of a call's accounting over [t0, t1]: its work, CPU peak and memory peak
 * (the model closes the resource-seconds). */
static void sim_seg(void *ctx, hb_im_call *mc, hb_time t0, hb_time t1)
{
    sim *s = ctx;
    sim_call *c = sc(mc);
    if (c->m.phase == PH_RUN) {
        c->work_left -= c->m.rate * (double)(t1 - t0);
        if (c->tl && s->monitor > 0)
            win_add(c, s->monitor, t0, t1, c->m.rate);
        else if (c->m.rate > c->m.peak_cpu)
            c->m.peak_cpu = c->m.rate;
    }
    double m = mem_at(c, t1);
    if (m > c->m.peak_mem)
        c->m.peak_mem = m;
}

static int arm(sim *s, sim_timer *t, hb_time when)
{
    if (timer_heap_set(&s->heap, t, when))
        return fail(s, HB_ENOMEM, "%s", "out of memory");
    return 0;
}

/* Monitor ticks: always the next point of one grid, so they are set in time order and take the
 * heap's FIFO lane (timer_heap.h) instead of a heap operation each. */
static int arm_tick(sim *s, sim_timer *t, hb_time when)
{
    if (timer_heap_set_lane(&s->heap, t, when))
        return fail(s, HB_ENOMEM, "%s", "out of memory");
    return 0;
}

/* ---- CPU sharing ---- */

static int ensure_scratch(sim_inv *iv, size_t n)
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

/* A held timeout goes into the heap unless the call's next event is sure to come before it (a
 * t_done set after now with a smaller key): a call ends, or sets t_done again, before its
 * timeout's key is reached, so the heap is always complete where it is read. Most calls end long
 * before their timeout, and their timeouts never enter the heap (each was an insertion and a
 * removal, and a third of the heap's size). */
static void timeout_check(sim *s, sim_call *c)
{
    if (!c->timeout_held)
        return;
    const sim_timer *d = &c->t_done, *o = &c->t_timeout;
    if (timer_scheduled(d) && d->t > s->now && (d->t < o->t || (d->t == o->t && d->seq < o->seq)))
        return;
    c->timeout_held = 0;
    if (timer_heap_insert_reserved(&s->heap, &c->t_timeout))
        fail(s, HB_ENOMEM, "%s", "out of memory");
}

/* The call's timeout: its key now, its place in the heap only when needed (timeout_check). */
static void timeout_hold(sim *s, sim_call *c, hb_time when)
{
    timer_heap_reserve(&s->heap, &c->t_timeout, when);
    c->timeout_held = 1;
}

static void schedule_done(sim *s, sim_call *c)
{
    if (c->tl && c->m.phase == PH_RUN && c->wait_end >= 0) {
        arm(s, &c->t_done, c->wait_end);   /* a wait: no allocation shortens it */
    } else if (c->m.rate > 0) {
        double us = ceil(c->work_left / c->m.rate);
        arm(s, &c->t_done, s->now + (us > 0 ? (hb_time)us : 0));
    } else {
        timer_heap_cancel(&s->heap, &c->t_done);
    }
    timeout_check(s, c);
}

/* Recomputes the rates of the running calls of an invoker (weighted max-min fairness). */
static void recompute_rates(sim *s, hb_im_invoker *mi)
{
    sim_inv *iv = xv(s, mi);
    size_t n = mi->n_run;
    iv->under = n == 0;
    if (n == 0 || ensure_scratch(iv, n)) {
        if (n)
            fail(s, HB_ENOMEM, "%s", "out of memory");
        return;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sim_call *c = sc(mi->run[i]);
        hb_invocation *inv = c->m.inv;
        double cap = 0, w = 1;
        if (c->m.phase == PH_RUN) {
            cap = inv->cpu_hard ? hb_fmin(c->par, inv->alloc.cpu) : c->par;
            w = inv->cpu_hard ? 1024.0 : hb_fmax(inv->alloc.mem_mb, 1.0);
        }
        iv->caps[i] = cap > 0 ? cap : 0;
        iv->weights[i] = w;
        sum += iv->caps[i];
    }
    double C = mi->pub.capacity.cpu;
    if (sum <= C + EPS) {
        iv->under = 1;
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
        sim_call *c = sc(mi->run[i]);
        if (c->m.phase != PH_RUN || iv->rates[i] == c->m.rate)
            continue;
        hb_im_seg_close(&c->m, s->now);
        nomem(s, hb_im_rate_set(&c->m, s->now, iv->rates[i]));
        schedule_done(s, c);
    }
}

static void schedule_oom(sim *s, sim_call *c)
{
    double lim = c->m.inv->alloc.mem_mb;
    if (c->tl) {                       /* memory follows the samples: over the limit now, or not */
        if (c->m.phase == PH_RUN && c->mem_cur > lim + EPS)
            arm(s, &c->t_oom, s->now);
        else
            timer_heap_cancel(&s->heap, &c->t_oom);
        return;
    }
    if (c->m.phase != PH_RUN || c->mem_peak <= lim + EPS) {
        timer_heap_cancel(&s->heap, &c->t_oom);
        return;
    }
    hb_time when = s->now;
    if (mem_at(c, s->now) <= lim + EPS && c->ramp_us > 0 && c->m.mem_start < lim) {
        double frac = (lim - c->m.mem_start) / (c->mem_peak - c->m.mem_start);
        hb_time t = c->exec_t0 + (hb_time)floor(frac * c->ramp_us);
        if (t > when)
            when = t;
    }
    arm(s, &c->t_oom, when);
}

/* The most cores a running call can take now (its input to the sharing of its invoker). */
static double call_cap(const sim_call *c)
{
    const hb_invocation *inv = c->m.inv;
    return inv->cpu_hard ? hb_fmin(c->par, inv->alloc.cpu) : c->par;
}

/* Enters phase i of a timeline call: its demand, its work or wait, its memory. */
static void phase_enter(sim *s, sim_call *c, size_t i)
{
    const hb_tl_phase *p = &c->tlv.p[i];
    hb_im_invoker *iv = c->m.iv;
    double cap0 = call_cap(c);
    c->ph = i;
    nomem(s, hb_im_mem_jump(iv, s->now, p->mem_mb - c->mem_cur));
    c->mem_cur = p->mem_mb;
    if (c->mem_cur > c->m.peak_mem)      /* reached now, even if it is killed for it at once */
        c->m.peak_mem = c->mem_cur;
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
        recompute_rates(s, iv);
    schedule_done(s, c);               /* also when its rate did not change */
}

/* The next phase, or the end of the call after the last. */
static int phase_next(sim *s, sim_call *c);

/* [trace] scale_work of the call's function (1: the workload's own work). */
static double work_scale(const sim *s, const hb_invocation *inv)
{
    double w = inv->func >= 0 && inv->func < s->n_funcs ? s->funcs[inv->func].work_scale : 1;
    return w > 0 ? w : 1;
}

/* The call's run-to-run variation: a lognormal draw of mean 1 that depends on the seed and the
 * event index only (common random numbers). */
static double call_noise(const sim *s, const hb_invocation *inv)
{
    double u = hb_index_uniform(s->noise_seed, inv->index);
    return exp(s->noise_mu[inv->workload] + s->noise_sigma[inv->workload] * gsl_cdf_ugaussian_Pinv(u));
}

static void exec_begin_timeline(sim *s, sim_call *c)
{
    hb_invocation *inv = c->m.inv;
    c->ramp_us = 0;
    c->work_total = 0;
    for (size_t i = 0; i < c->tlv.n; i++)
        c->work_total += c->tlv.p[i].work;
    inv->base_duration_ms = hb_call_timeline_duration_us(&c->tlv, inv->user.cpu) / 1e3;
    c->mem_cur = c->m.mem_start;
    c->done_prev = 0;
    c->win_t0 = s->now;
    c->win_end = s->monitor > 0 ? (s->now / s->monitor + 1) * s->monitor : 0;
    c->win_work = 0;
    if (inv->timeout > 0)
        timeout_hold(s, c, s->now + inv->timeout);
    phase_enter(s, c, 0);              /* its schedule_done places the held timeout */
}

/* The flat model's curves at the call's size: the same values as evaluating them again. */
static const struct flat_curves *curves_at(sim *s, const hb_invocation *inv)
{
    struct flat_curves *k = &s->curves[inv->workload];
    if (!k->valid || k->size != inv->input_size) {
        const hb_profile_func *pf = &s->prof->f[inv->workload];
        double x = (double)inv->input_size;
        *k = (struct flat_curves){inv->input_size, 1, hb_profile_eval(&pf->parallelism, x),
                                  hb_profile_eval(&pf->exec_s, x), hb_profile_eval(&pf->mem_peak_mb, x)};
    }
    return k;
}

static void exec_begin(sim *s, sim_call *c)
{
    hb_invocation *inv = c->m.inv;
    hb_im_running(&c->m, s->now);
    c->exec_t0 = c->tick_t = s->now;
    inv->exec_start = s->now;
    if (c->tl) {
        exec_begin_timeline(s, c);
        return;
    }
    const hb_profile_func *pf = &s->prof->f[inv->workload];
    const struct flat_curves *k = curves_at(s, inv);
    c->par = hb_fmax(k->par, 0.01);
    double exec_s = hb_fmax(k->exec_s, 0);
    /* common random numbers: the draw depends on the seed and the event index only */
    double noise = call_noise(s, inv);
    c->work_total = c->work_left = exec_s * 1e6 * hb_fmin(pf->ref_cores, c->par) * noise *
                                   work_scale(s, inv);
    inv->base_duration_ms = c->work_total / hb_fmin(c->par, inv->user.cpu) / 1e3;
    double r0 = inv->cpu_hard ? hb_fmin(c->par, inv->alloc.cpu) : c->par;
    c->ramp_us = r0 > 0 ? pf->mem_ramp_frac * c->work_total / r0 : 0;
    if (c->ramp_us > 0 && c->mem_peak > c->m.mem_start) {
        c->m.mem_slope = (c->mem_peak - c->m.mem_start) / c->ramp_us;
        nomem(s, hb_im_mem_slope(c->m.iv, s->now, c->m.mem_slope));
        arm(s, &c->t_ramp, s->now + (hb_time)ceil(c->ramp_us));
    } else if (c->mem_peak != c->m.mem_start) {
        /* no ramp: at its peak at once */
        nomem(s, hb_im_mem_jump(c->m.iv, s->now, c->mem_peak - c->m.mem_start));
    }
    if (inv->timeout > 0)
        timeout_hold(s, c, s->now + inv->timeout);
    schedule_oom(s, c);
    recompute_rates(s, c->m.iv);
    timeout_check(s, c);               /* also when the sharing left its t_done unset */
}

/* The call's timeline: drawn from (seed, index), its function and size only, never from anything a
 * policy decides (common random numbers). */
static int call_timeline(sim *s, sim_call *c)
{
    const hb_invocation *inv = c->m.inv;
    const hb_profile *p = s->prof;
    double u = hb_index_uniform(s->tl_seed, inv->index);
    int rc;
    if (!p->synthetic) {
        if (!p->timelines)
            return fail(s, HB_EINPUT, "%s", "usage = timeline needs a timeline library");
        rc = hb_timeline_measured(p->timelines, inv->workload, inv->input_size, u, &c->tlv, s->err);
    } else {
        const hb_profile_func *pf = &p->f[inv->workload];
        double x = (double)inv->input_size;
        hb_tl_artifact_call a = {
            .func = inv->workload, .size = inv->input_size,
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
    double ws = work_scale(s, inv);
    for (size_t i = 0; !rc && ws != 1 && i < c->tlv.n; i++)
        c->tlv.p[i].work *= ws;       /* [trace] scale_work: the same phases, longer or shorter */
    if (rc)
        s->failed = rc;
    return rc;
}
/* ---- the primitives the invoker model runs ---- */

static hb_time sim_clock(void *ctx) { return ((sim *)ctx)->now; }

static hb_im_call *sim_call_new(void *ctx)
{
    sim *s = ctx;
    sim_call *c = s->free_calls;
    if (c)
        s->free_calls = c->free_next;
    else if (!(c = calloc(1, sizeof *c)))
        return NULL;
    memset(c, 0, sizeof *c);
    c->t_done.kind = TK_DONE;
    c->t_oom.kind = TK_OOM;
    c->t_timeout.kind = TK_TIMEOUT;
    c->t_ramp.kind = TK_RAMP;
    c->t_done.obj = c->t_oom.obj = c->t_timeout.obj = c->t_ramp.obj = c;
    s->live_calls++;
    return &c->m;
}

static void sim_call_free(void *ctx, hb_im_call *mc)
{
    sim *s = ctx;
    sim_call *c = sc(mc);
    timer_heap_cancel(&s->heap, &c->t_done);
    timer_heap_cancel(&s->heap, &c->t_oom);
    timer_heap_cancel(&s->heap, &c->t_timeout);
    timer_heap_cancel(&s->heap, &c->t_ramp);
    if (c->tlv.p) {                    /* its phase buffer goes to the next call that starts */
        if (HB_GROW(s->spare_tl, s->cap_spare_tl, s->n_spare_tl + 1) == HB_OK)
            s->spare_tl[s->n_spare_tl++] = c->tlv;
        else
            hb_call_timeline_free(&c->tlv);
        memset(&c->tlv, 0, sizeof c->tlv);
    }
    c->free_next = s->free_calls;
    s->free_calls = c;
    s->live_calls--;
}

/* Admitted in its container: its memory model (and under usage = timeline its phases). */
static int sim_start(void *ctx, hb_im_call *mc, hb_error *err)
{
    (void)err;                         /* s->err: the error of the advance in progress */
    sim *s = ctx;
    sim_call *c = sc(mc);
    hb_invocation *inv = c->m.inv;
    const hb_profile_func *pf = &s->prof->f[inv->workload];
    if (s->prof->usage == HB_USAGE_TIMELINE) {
        if (!c->tlv.p && s->n_spare_tl)
            c->tlv = s->spare_tl[--s->n_spare_tl];
        int rc = call_timeline(s, c);
        if (rc)
            return rc;
        c->tl = 1;
        c->mem_peak = c->tlv.mem_peak_mb;
        c->m.mem_start = c->tlv.p[0].mem_mb;   /* a cold start holds the first sample's memory */
    } else {
        c->mem_peak = hb_fmax(curves_at(s, inv)->mem_peak, 0);
        c->m.mem_start = pf->mem_start_frac * c->mem_peak;
    }
    return 0;
}

/* The invoker's monitor ticks on the grid of the tick interval while it has calls. */
static void sim_busy(void *ctx, hb_im_invoker *iv)
{
    sim *s = ctx;
    sim_inv *x = xv(s, iv);
    if (s->tick_interval > 0 && s->on_tick && !timer_scheduled(&x->tick)) {
        hb_time I = s->tick_interval;
        arm_tick(s, &x->tick, (s->now / I + 1) * I);
    }
}

/* After on_start: its cold start, else its execution at once. */
static int sim_begin(void *ctx, hb_im_call *mc, hb_error *err)
{
    (void)err;
    sim *s = ctx;
    sim_call *c = sc(mc);
    hb_invocation *inv = c->m.inv;
    if (inv->cold_start)
        arm(s, &c->t_done, s->now + s->cold_start[inv->workload]);
    else
        exec_begin(s, c);
    return s->failed;
}

static int sim_resize(void *ctx, hb_im_call *mc, int cpu_changed, hb_error *err)
{
    (void)err;
    sim *s = ctx;
    sim_call *c = sc(mc);
    if (c->m.phase == PH_RUN) {
        schedule_oom(s, c);            /* a limit below usage kills it at once (timer at now) */
        if (cpu_changed && c->m.inv->cpu_hard)
            recompute_rates(s, c->m.iv);
    }
    return 0;
}

static int sim_sample(void *ctx, hb_im_invoker *iv, hb_time now, hb_usage_sample *out,
                      hb_error *err)
{
    (void)ctx;
    (void)err;
    for (size_t i = 0; i < iv->n_run; i++) {
        sim_call *c = sc(iv->run[i]);
        double cpu = 0;
        if (c->m.phase == PH_RUN) {
            double left = c->work_left - c->m.rate * (double)(now - c->m.seg_t0);
            double done = c->tl ? c->done_prev + (c->phase_work - left) : c->work_total - left;
            hb_time dt = now - c->tick_t;
            cpu = dt > 0 ? (done - c->tick_done) / (double)dt : c->m.rate;
            c->tick_done = done;
            c->tick_t = now;
        }
        out[i] = (hb_usage_sample){c->m.inv, cpu < 0 ? 0 : cpu, mem_at(c, now)};
    }
    return 0;
}

static void sim_stop(void *ctx, hb_im_call *mc)
{
    sim *s = ctx;
    if (mc->iv->n_run == 0)
        timer_heap_cancel(&s->heap, &xv(s, mc->iv)->tick);
}

static void sim_settle(void *ctx, hb_im_invoker *iv)
{
    if (!xv(ctx, iv)->under)           /* an end changes no rate of an invoker not oversubscribed */
        recompute_rates(ctx, iv);
}

static const hb_im_ops SIM_IM_OPS = {
    .now = sim_clock, .call_new = sim_call_new, .call_free = sim_call_free, .start = sim_start,
    .begin = sim_begin, .resize = sim_resize, .sample = sim_sample, .seg = sim_seg,
    .stop = sim_stop, .busy = sim_busy, .settle = sim_settle,
};

static int call_end(sim *s, sim_call *c, hb_outcome outcome)
{
    hb_im_seg_close(&c->m, s->now);
    if (c->tl && c->m.phase == PH_RUN && s->monitor > 0)
        win_close(c, s->now);          /* the last, partial window */
    double mem_now = mem_at(c, s->now);
    if (outcome == HB_OOM)
        snprintf(c->m.inv->error_msg, sizeof c->m.inv->error_msg,
                 "memory %.0f MB over the %.0f MB limit", mem_now, c->m.inv->alloc.mem_mb);
    int rc = hb_im_end(&c->m, s->now, outcome, mem_now, s->err);
    if (rc)
        return s->failed = rc;
    return s->failed;
}

static int phase_next(sim *s, sim_call *c)
{
    if (c->ph + 1 >= c->tlv.n)
        return call_end(s, c, HB_SUCCESS);
    hb_im_seg_close(&c->m, s->now);
    c->done_prev += c->phase_work;
    phase_enter(s, c, c->ph + 1);
    return s->failed;
}

/* ---- monitor samples ---- */

static int tick(sim *s, hb_im_invoker *iv)
{
    if (iv->n_run == 0)
        return 0;
    int rc = hb_im_tick(iv, s->now, s->err);
    if (rc)
        return s->failed = rc;
    if (iv->n_run)
        arm_tick(s, &xv(s, iv)->tick, s->now + s->tick_interval);
    return s->failed;
}

/* ---- the backend interface ---- */

static void sim_close(void *state)
{
    sim *s = state;
    if (!s)
        return;
    timer_heap_free(&s->heap);         /* first: it touches the timers inside calls */
    int n = s->m.n;
    hb_im_close(&s->m);                /* the calls it holds go to the free list */
    for (int i = 0; s->x && i < n; i++) {
        sim_inv *x = &s->x[i];
        free(x->caps);
        free(x->weights);
        free(x->rates);
        free(x->order);
    }
    while (s->free_calls) {
        sim_call *c = s->free_calls;
        s->free_calls = c->free_next;
        hb_call_timeline_free(&c->tlv);
        free(c);
    }
    for (size_t i = 0; i < s->n_spare_tl; i++)
        hb_call_timeline_free(&s->spare_tl[i]);
    free(s->spare_tl);
    free(s->x);
    free(s);
}

static int sim_open(const hb_backend_args *a, const hb_backend_hooks *hooks, void **state,
                    hb_error *err)
{
    *state = NULL;
    if (!a->profile)
        return hb_fail(err, HB_EINPUT, "the simulator needs a workload profile");
    if (a->n_funcs < 1 || !a->funcs)
        return hb_fail(err, HB_EINPUT, "the simulator needs the run's function table (n_funcs)");
    for (int f = 0; f < HB_NWORKLOADS; f++)
        if (!a->profile->f[f].present)
            return hb_fail(err, HB_EINPUT, "workload profile %s has no model of function %s",
                           a->profile->source, hb_functions[f].id);
    for (size_t i = 0; a->params && i < a->params->n; i++)
        a->params->items[i].used = 0;  /* the simulator has no [backend.sim] keys */
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    s->x = calloc(a->n_invokers > 0 ? (size_t)a->n_invokers : 1, sizeof *s->x);
    hb_im_config mc = {
        .n_invokers = a->n_invokers, .capacity = a->capacity, .n_funcs = a->n_funcs,
        .containers = 1, .keep_alive = a->keep_alive, .usage_rows = a->usage_rows,
        .hooks = hooks, .ops = &SIM_IM_OPS, .ctx = s,
    };
    int rc = s->x ? hb_im_open(&s->m, &mc, err) : hb_fail(err, HB_ENOMEM, "out of memory");
    if (rc) {
        sim_close(s);
        return rc;
    }
    s->tick_interval = hooks->tick_interval;
    s->on_tick = hooks->on_tick != NULL;
    s->prof = a->profile;
    s->funcs = a->funcs;
    s->n_funcs = a->n_funcs;
    s->noise_seed = hb_seed_derive(a->seed, "variation");
    s->tl_seed = hb_seed_derive(a->seed, "timeline");
    s->monitor = a->monitor;
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        const hb_profile_func *pf = &a->profile->f[f];
        s->cold_start[f] = a->cold_start >= 0 ? a->cold_start
                                              : (hb_time)llround(pf->cold_start_s * 1e6);
        double cv = a->cv >= 0 ? a->cv : pf->cv;
        double s2 = log(1 + cv * cv);    /* lognormal with mean 1 and this coefficient of variation */
        s->noise_sigma[f] = sqrt(s2);
        s->noise_mu[f] = -s2 / 2;
    }
    for (int i = 0; i < a->n_invokers; i++)
        s->x[i].tick = (sim_timer){.kind = TK_TICK, .obj = &s->m.iv[i]};
    *state = s;
    return 0;
}

static int sim_submit(void *state, hb_invocation *inv, hb_error *err)
{
    sim *s = state;
    s->err = err;
    s->failed = 0;
    if (inv->func < 0 || inv->func >= s->n_funcs || inv->workload < 0 ||
        inv->workload >= HB_NWORKLOADS)
        return hb_fail(err, HB_ERUN, "call %llu: function %d of %d, workload %d of %d",
                       (unsigned long long)inv->index, inv->func, s->n_funcs, inv->workload,
                       HB_NWORKLOADS);
    int rc = hb_im_submit(&s->m, inv, err);
    return rc ? rc : s->failed;
}

static int fire(sim *s, sim_timer *t)
{
    switch (t->kind) {
    case TK_DONE: {
        sim_call *c = t->obj;
        if (c->m.phase == PH_INIT) {
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
        hb_im_seg_close(&c->m, s->now);
        nomem(s, hb_im_mem_slope(c->m.iv, s->now, -c->m.mem_slope));
        c->m.mem_slope = 0;
        return s->failed;
    }
    }
    return 0;
}

static int run_timer(sim *s, sim_timer *t)
{
    int rc = hb_im_flush(&s->m, t->t, s->err);
    if (rc)
        return s->failed = rc;
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
    uint64_t seq;
    while ((t = timer_heap_fire_due(&s->heap, until, &seq))) {
        int rc = run_timer(s, t);
        timer_heap_fired(&s->heap, t, seq);
        if (rc)
            return rc;
    }
    int rc = hb_im_flush(&s->m, until, err);
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
    uint64_t seq;
    /* ticks only run while calls do, so the heap empties when the work is done */
    while ((t = timer_heap_fire_due(&s->heap, INT64_MAX, &seq))) {
        int rc = run_timer(s, t);
        timer_heap_fired(&s->heap, t, seq);
        if (rc)
            return rc;
    }
    s->now = s->last_event;
    return hb_im_flush_last(&s->m, s->now, err);   /* with the last, partial second */
}

static hb_time sim_now(void *state) { return ((sim *)state)->now; }

const hb_backend_ops hb_backend_sim = {
    "sim", HB_CAP_SIZING | HB_CAP_PLACEMENT | HB_CAP_INVOKER,
    sim_open, sim_close, sim_submit, sim_advance, sim_drain, sim_now, NULL, NULL,
};

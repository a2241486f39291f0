/* invoker_model.c - see invoker_model.h. The simulator's CSVs are byte-identical for a config and
 * seed, so the floating-point operations here keep the order they had in sim.c. */
#include "invoker_model.h"
#include "fminmax.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-9

enum { V_CPU_ALLOC = HB_IM_CPU_ALLOC, V_CPU_USED = HB_IM_CPU_USED, V_MEM_ALLOC = HB_IM_MEM_ALLOC,
       V_MEM_USED = HB_IM_MEM_USED, V_RUNNING = HB_IM_RUNNING, V_QUEUED = HB_IM_QUEUED_N,
       V_CPU_HARV = HB_IM_CPU_HARV, V_CPU_BORR = HB_IM_CPU_BORR, V_MEM_HARV = HB_IM_MEM_HARV,
       V_MEM_BORR = HB_IM_MEM_BORR, NV = HB_IM_NV };

/* ---- the per-second timeline ---- */

/* Makes the ring of open seconds hold second s (from m->bin0). */
static int bins_reserve(hb_im_invoker *iv, int64_t s)
{
    int64_t bin0 = iv->m->bin0;
    if (s - bin0 < (int64_t)iv->cap_bins)
        return 0;
    size_t cap = iv->cap_bins ? iv->cap_bins : 2;
    while ((int64_t)cap <= s - bin0)
        cap *= 2;
    double (*a)[NV] = calloc(cap, sizeof *a);
    if (!a)
        return -1;
    for (int64_t k = bin0; k < bin0 + (int64_t)iv->cap_bins; k++)
        memcpy(a[(size_t)k & (cap - 1)], iv->bins[(size_t)k & (iv->cap_bins - 1)], sizeof *a);
    free(iv->bins);
    iv->bins = a;
    iv->cap_bins = cap;
    iv->acc = a[(size_t)iv->lv_sec & (cap - 1)];
    return 0;
}

/* Adds the levels x d to one second's integrals (memory used as a trapezoid: it may ramp). The
 * levels are read into locals first: the ring may alias them as far as the compiler knows. */
static inline void integrate(hb_im_invoker *iv, double *acc, double d)
{
    const double *lv = iv->lv;
    double ca = lv[V_CPU_ALLOC], cu = lv[V_CPU_USED], ma = lv[V_MEM_ALLOC], mu = lv[V_MEM_USED];
    double ru = lv[V_RUNNING], qu = lv[V_QUEUED], ch = lv[V_CPU_HARV], cb = lv[V_CPU_BORR];
    double mh = lv[V_MEM_HARV], mb = lv[V_MEM_BORR];
    acc[V_CPU_ALLOC] += ca * d;
    acc[V_CPU_USED] += cu * d;
    acc[V_MEM_ALLOC] += ma * d;
    acc[V_RUNNING] += ru * d;
    acc[V_QUEUED] += qu * d;
    acc[V_CPU_HARV] += ch * d;
    acc[V_CPU_BORR] += cb * d;
    acc[V_MEM_HARV] += mh * d;
    acc[V_MEM_BORR] += mb * d;
    double m1 = mu + iv->mem_slope * d;
    acc[V_MEM_USED] += 0.5 * (mu + m1) * d;
    iv->lv[V_MEM_USED] = m1;
}

/* Integrates the levels from lv_t0 to t across the edges of seconds. */
static int lv_advance_edges(hb_im_invoker *iv, hb_time t)
{
    while (iv->lv_t0 < t) {
        hb_time e = t < iv->lv_end ? t : iv->lv_end;
        integrate(iv, iv->bins[(size_t)iv->lv_sec & (iv->cap_bins - 1)], (double)(e - iv->lv_t0));
        iv->lv_t0 = e;
        if (e == iv->lv_end) {
            iv->lv_sec++;
            iv->lv_end += HB_SEC;
            if (bins_reserve(iv, iv->lv_sec))
                return -1;
        }
    }
    iv->acc = iv->bins[(size_t)iv->lv_sec & (iv->cap_bins - 1)];
    return 0;
}

/* Integrates an invoker's levels from lv_t0 to t; most often both lie in one second. */
static inline int lv_advance(hb_im_invoker *iv, hb_time t)
{
    if (!iv->m->usage_rows)
        return 0;                      /* nothing reads the levels (bench): no integration */
    if (t <= iv->lv_t0)
        return 0;
    if (t >= iv->lv_end)
        return lv_advance_edges(iv, t);
    integrate(iv, iv->acc, (double)(t - iv->lv_t0));
    iv->lv_t0 = t;
    return 0;
}

int hb_im_mem_jump(hb_im_invoker *iv, hb_time now, double d_mb)
{
    int rc = lv_advance(iv, now);
    iv->lv[V_MEM_USED] += d_mb;
    return rc;
}

int hb_im_mem_slope(hb_im_invoker *iv, hb_time now, double d_slope)
{
    int rc = lv_advance(iv, now);
    iv->mem_slope += d_slope;
    return rc;
}

int hb_im_usage_add(hb_im_invoker *iv, int v, hb_time t0, hb_time t1, double level)
{
    int64_t bin0 = iv->m->bin0;
    if (t0 < bin0 * HB_SEC)
        t0 = bin0 * HB_SEC;            /* a second already written cannot change */
    if (t1 <= t0 || level == 0)
        return 0;
    for (int64_t s = t0 / HB_SEC; s * HB_SEC < t1; s++) {
        hb_time a = s * HB_SEC > t0 ? s * HB_SEC : t0;
        hb_time e = (s + 1) * HB_SEC < t1 ? (s + 1) * HB_SEC : t1;
        if (bins_reserve(iv, s))
            return -1;
        iv->bins[(size_t)s & (iv->cap_bins - 1)][v] += level * (double)(e - a);
    }
    return 0;
}

int hb_im_flush_seconds(hb_im *m, hb_time t, hb_error *err)
{
    if (!m->usage_rows) {              /* nothing writes rows (bench): the seconds just pass */
        if (t / HB_SEC > m->bin0)
            m->bin0 = t / HB_SEC;
        return 0;
    }
    while ((m->bin0 + 1) * HB_SEC <= t) {
        hb_time edge = (m->bin0 + 1) * HB_SEC;
        for (int i = 0; i < m->n; i++) {
            hb_im_invoker *iv = &m->iv[i];
            if (lv_advance(iv, edge))
                return hb_fail(err, HB_ENOMEM, "out of memory");
            double *v = iv->bins[(size_t)m->bin0 & (iv->cap_bins - 1)];
            hb_usage_row row = {
                .t = m->bin0 * HB_SEC, .invoker = i,
                .cpu_capacity = iv->pub.capacity.cpu, .mem_capacity_mb = iv->pub.capacity.mem_mb,
                .cpu_alloc = v[V_CPU_ALLOC] / 1e6, .cpu_used = v[V_CPU_USED] / 1e6,
                .mem_alloc_mb = v[V_MEM_ALLOC] / 1e6, .mem_used_mb = v[V_MEM_USED] / 1e6,
                .running = v[V_RUNNING] / 1e6, .queued = v[V_QUEUED] / 1e6,
                .cpu_harvested = v[V_CPU_HARV] / 1e6, .cpu_borrowed = v[V_CPU_BORR] / 1e6,
                .mem_harvested_mb = v[V_MEM_HARV] / 1e6, .mem_borrowed_mb = v[V_MEM_BORR] / 1e6,
            };
            memset(v, 0, sizeof *iv->bins);
            if (m->usage_rows && m->hooks.on_usage) {
                int rc = m->hooks.on_usage(m->hooks.ctx, &row, err);
                if (rc)
                    return rc;
            }
        }
        m->bin0++;
    }
    return 0;
}

int hb_im_flush_last(hb_im *m, hb_time t, hb_error *err)
{
    int rc = hb_im_flush(m, t, err);
    if (!rc && t > m->bin0 * HB_SEC)
        rc = hb_im_flush(m, (m->bin0 + 1) * HB_SEC, err);
    return rc;
}

/* ---- a call's levels and its own accounting ---- */

int hb_im_contrib_update(hb_im_call *c, hb_time now)
{
    hb_im_invoker *iv = c->iv;
    hb_invocation *inv = c->inv;
    double v[NV] = {0};
    v[V_CPU_ALLOC] = inv->alloc.cpu;
    v[V_CPU_USED] = c->phase == HB_IM_RUN ? c->rate : 0;
    v[V_MEM_ALLOC] = inv->alloc.mem_mb;
    v[V_RUNNING] = 1;
    /* lent and received against the user allocation; CPU only where CPU is a quota */
    if (inv->cpu_hard) {
        v[V_CPU_HARV] = hb_fmax(0, inv->user.cpu - inv->alloc.cpu);
        v[V_CPU_BORR] = hb_fmax(0, inv->alloc.cpu - inv->user.cpu);
    }
    v[V_MEM_HARV] = hb_fmax(0, inv->user.mem_mb - inv->alloc.mem_mb);
    v[V_MEM_BORR] = hb_fmax(0, inv->alloc.mem_mb - inv->user.mem_mb);
    int rc = lv_advance(iv, now);
    for (int i = 0; i < NV; i++)
        if (i != V_MEM_USED) {
            iv->lv[i] += v[i] - c->contrib[i];
            c->contrib[i] = v[i];
        }
    return rc;
}

int hb_im_rate_set(hb_im_call *c, hb_time now, double rate)
{
    /* what hb_im_contrib_update gives when only the rate changed: every other quantity would add
     * its own difference, +0 */
    hb_im_invoker *iv = c->iv;
    int rc = lv_advance(iv, now);
    c->rate = rate;
    double v = c->phase == HB_IM_RUN ? rate : 0;
    iv->lv[V_CPU_USED] += v - c->contrib[V_CPU_USED];
    c->contrib[V_CPU_USED] = v;
    return rc;
}

/* Removes a call from its invoker's levels (after it left the running set). */
static int contrib_remove(hb_im_call *c, hb_time now, double mem_now)
{
    hb_im_invoker *iv = c->iv;
    int rc = lv_advance(iv, now);
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
    return rc;
}

void hb_im_seg_close(hb_im_call *c, hb_time now)
{
    hb_time dt = now - c->seg_t0;
    if (dt <= 0 || c->phase == HB_IM_QUEUED)
        return;
    hb_invocation *inv = c->inv;
    double sec = (double)dt / 1e6;
    inv->harvested_cpu_s += c->contrib[V_CPU_HARV] * sec;
    inv->borrowed_cpu_s += c->contrib[V_CPU_BORR] * sec;
    inv->harvested_mem_mb_s += c->contrib[V_MEM_HARV] * sec;
    inv->borrowed_mem_mb_s += c->contrib[V_MEM_BORR] * sec;
    if (c->phase == HB_IM_RUN) {
        inv->borrowed_running_cpu_s += c->contrib[V_CPU_BORR] * sec;
        inv->borrowed_running_mem_mb_s += c->contrib[V_MEM_BORR] * sec;
        c->run_alloc_cpu += inv->alloc.cpu * (double)dt;
        c->run_alloc_mem += inv->alloc.mem_mb * (double)dt;
    }
    hb_im *m = c->iv->m;
    if (m->ops->seg)
        m->ops->seg(m->ctx, c, c->seg_t0, now);
    c->seg_t0 = now;
}

static int queue_change(hb_im_invoker *iv, hb_time now, int delta)
{
    int rc = lv_advance(iv, now);
    iv->n_queued = (size_t)((long)iv->n_queued + delta);
    iv->lv[V_QUEUED] = (double)iv->n_queued;
    return rc;
}

/* ---- running set ---- */

static int run_add(hb_im_invoker *iv, hb_im_call *c)
{
    if (iv->n_run == iv->cap_run) {
        size_t cap = iv->cap_run ? iv->cap_run * 2 : 16;
        hb_im_call **r = realloc(iv->run, cap * sizeof *r);
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

static void run_remove(hb_im_invoker *iv, hb_im_call *c)
{
    size_t i = c->run_pos, last = iv->n_run - 1;
    /* keep the order of the others: policies see calls in start order, and the simulator
     * computes rates in that order, so removal must not permute them */
    memmove(iv->run + i, iv->run + i + 1, (last - i) * sizeof *iv->run);
    memmove(iv->run_inv + i, iv->run_inv + i + 1, (last - i) * sizeof *iv->run_inv);
    iv->n_run--;
    for (size_t k = i; k < iv->n_run; k++)
        iv->run[k]->run_pos = k;
}

/* ---- virtual containers ---- */

static void idle_unlink(hb_im_invoker *iv, hb_im_container *k)
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

static void idle_push(hb_im_invoker *iv, hb_im_container *k, hb_time now)
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

/* A warm idle container of the call's function (the most recently idle), else a cold one,
 * evicting idle containers (least recently used first) whose memory the invoker needs. Idle
 * containers past their keep-alive are gone first (the LRU order is idle order). */
static hb_im_container *container_take(hb_im_invoker *iv, hb_invocation *inv, hb_time now)
{
    hb_im *m = iv->m;
    while (iv->lru_head && now - iv->lru_head->idle_since >= m->keep_alive) {
        hb_im_container *k = iv->lru_head;
        idle_unlink(iv, k);
        free(k);
    }
    hb_im_container *k = iv->idle_by_fn[inv->func];
    if (k) {
        idle_unlink(iv, k);
        inv->cold_start = 0;
        return k;
    }
    while (iv->lru_head && iv->reserved.mem_mb + iv->idle_mem > iv->pub.capacity.mem_mb + EPS) {
        hb_im_container *old = iv->lru_head;
        idle_unlink(iv, old);
        free(old);
    }
    if ((k = calloc(1, sizeof *k))) {
        k->func = inv->func;
        inv->cold_start = 1;
    }
    return k;
}

/* ---- admission and the end of a call ---- */

/* What the call holds must fit beside what admitted calls hold, and what it starts with beside
 * what they are allocated now (a resize may have grown one past its reserve). */
static int fits(const hb_im_invoker *iv, const hb_invocation *inv)
{
    const hb_res *cap = &iv->pub.capacity;
    return iv->reserved.cpu + inv->reserve.cpu <= cap->cpu + EPS &&
           iv->reserved.mem_mb + inv->reserve.mem_mb <= cap->mem_mb + EPS &&
           iv->alloc_sum.cpu + inv->alloc_start.cpu <= cap->cpu + EPS &&
           iv->alloc_sum.mem_mb + inv->alloc_start.mem_mb <= cap->mem_mb + EPS;
}

/* Admits a call: its reserve and allocation, a container, the backend's start, the policy's
 * on_start hook, then the backend's begin. */
static int call_start(hb_im_invoker *iv, hb_im_call *c, hb_error *err)
{
    hb_im *m = iv->m;
    hb_invocation *inv = c->inv;
    hb_time now = m->ops->now(m->ctx);
    inv->start = now;
    iv->reserved.cpu += inv->reserve.cpu;
    iv->reserved.mem_mb += inv->reserve.mem_mb;
    inv->alloc = inv->alloc_start;
    iv->alloc_sum.cpu += inv->alloc.cpu;
    iv->alloc_sum.mem_mb += inv->alloc.mem_mb;
    int rc = 0;
    if (m->containers && !(c->ctr = container_take(iv, inv, now)))
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
    if (!rc)
        rc = m->ops->start(m->ctx, c, err);
    if (rc) {                          /* the run fails: nothing may keep the call */
        iv->reserved.cpu -= inv->reserve.cpu;
        iv->reserved.mem_mb -= inv->reserve.mem_mb;
        iv->alloc_sum.cpu -= inv->alloc.cpu;
        iv->alloc_sum.mem_mb -= inv->alloc.mem_mb;
        free(c->ctr);
        inv->backend_data = NULL;
        m->ops->call_free(m->ctx, c);
        return rc;
    }
    c->phase = HB_IM_INIT;
    c->seg_t0 = now;
    if (run_add(iv, c) || hb_im_contrib_update(c, now) || hb_im_mem_jump(iv, now, c->mem_start))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (m->ops->busy)
        m->ops->busy(m->ctx, iv);
    if (m->hooks.on_start) {
        rc = m->hooks.on_start(m->hooks.ctx, &iv->pub, inv, err);
        if (rc)
            return rc;
    }
    return m->ops->begin ? m->ops->begin(m->ctx, c, err) : 0;
}

static int admit_queued(hb_im_invoker *iv, hb_error *err)
{
    hb_im *m = iv->m;
    while (iv->q_head && fits(iv, iv->q_head->inv)) {
        hb_im_call *c = iv->q_head;
        if (queue_change(iv, m->ops->now(m->ctx), -1))
            return hb_fail(err, HB_ENOMEM, "out of memory");
        iv->q_head = c->q_next;
        if (!iv->q_head)
            iv->q_tail = NULL;
        int rc = call_start(iv, c, err);
        if (rc)
            return rc;
    }
    return 0;
}

int hb_im_submit(hb_im *m, hb_invocation *inv, hb_error *err)
{
    if (inv->invoker < 0 || inv->invoker >= m->n)
        return hb_fail(err, HB_ERUN, "call %llu placed on invoker %d of %d",
                       (unsigned long long)inv->index, inv->invoker, m->n);
    hb_im_invoker *iv = &m->iv[inv->invoker];
    hb_time now = m->ops->now(m->ctx);
    if (inv->reserve.cpu > iv->pub.capacity.cpu + EPS ||
        inv->reserve.mem_mb > iv->pub.capacity.mem_mb + EPS) {
        /* it could never be admitted: end it now rather than block the queue forever */
        inv->start = inv->exec_start = inv->end = now > inv->arrival ? now : inv->arrival;
        inv->outcome = HB_ERROR;
        snprintf(inv->error_msg, sizeof inv->error_msg,
                 "needs %.2f cores and %.0f MB, more than an invoker has", inv->reserve.cpu,
                 inv->reserve.mem_mb);
        inv->alloc_mean = inv->alloc = inv->alloc_start;
        return m->hooks.on_end ? m->hooks.on_end(m->hooks.ctx, &iv->pub, inv, err) : 0;
    }
    hb_im_call *c = m->ops->call_new(m->ctx);
    if (!c)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    c->inv = inv;
    c->iv = iv;
    c->phase = HB_IM_QUEUED;
    inv->backend_data = c;
    if (!iv->q_head && fits(iv, inv))
        return call_start(iv, c, err);
    if (queue_change(iv, now, +1))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (iv->q_tail)
        iv->q_tail->q_next = c;
    else
        iv->q_head = c;
    iv->q_tail = c;
    if (m->ops->busy)
        m->ops->busy(m->ctx, iv);
    return 0;
}

void hb_im_running(hb_im_call *c, hb_time now)
{
    hb_im_seg_close(c, now);
    c->phase = HB_IM_RUN;
    c->run_t0 = now;
}

int hb_im_end(hb_im_call *c, hb_time end, hb_outcome outcome, double mem_now, hb_error *err)
{
    hb_im_invoker *iv = c->iv;
    hb_im *m = iv->m;
    hb_invocation *inv = c->inv;
    hb_time at = end > iv->lv_t0 ? end : iv->lv_t0;   /* levels cannot change in the past */
    if (c->phase != HB_IM_RUN)
        inv->exec_start = end;         /* never ran: no execution */
    if (end < inv->exec_start)
        end = inv->exec_start;
    hb_im_seg_close(c, end);
    hb_time ran = end - c->run_t0;
    inv->alloc_mean = ran > 0 && c->phase == HB_IM_RUN
                          ? (hb_res){c->run_alloc_cpu / (double)ran, c->run_alloc_mem / (double)ran}
                          : inv->alloc;
    inv->end = end;
    inv->outcome = outcome;
    inv->cpu_peak = c->peak_cpu;
    inv->mem_peak_mb = c->peak_mem;
    run_remove(iv, c);
    if (contrib_remove(c, at, mem_now))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (m->ops->stop)
        m->ops->stop(m->ctx, c);
    iv->alloc_sum.cpu -= inv->alloc.cpu;
    iv->alloc_sum.mem_mb -= inv->alloc.mem_mb;
    /* a container that ran to completion stays warm; killed ones are removed, as OpenWhisk does */
    if (m->containers && outcome == HB_SUCCESS && m->keep_alive > 0) {
        c->ctr->mem_mb = inv->alloc.mem_mb;
        idle_push(iv, c->ctr, end);
    } else {
        free(c->ctr);
    }
    c->ctr = NULL;
    hb_res reserve = inv->reserve;
    inv->backend_data = NULL;
    m->ops->call_free(m->ctx, c);
    if (m->hooks.on_end) {
        int rc = m->hooks.on_end(m->hooks.ctx, &iv->pub, inv, err);
        if (rc)
            return rc;
    }
    iv->reserved.cpu -= reserve.cpu;
    iv->reserved.mem_mb -= reserve.mem_mb;
    if (iv->reserved.cpu < EPS)
        iv->reserved.cpu = 0;
    if (iv->reserved.mem_mb < EPS)
        iv->reserved.mem_mb = 0;
    int rc = admit_queued(iv, err);
    if (!rc && m->ops->settle)
        m->ops->settle(m->ctx, iv);
    return rc;
}

/* ---- monitor samples ---- */

int hb_im_samples_grow(hb_im_invoker *iv, hb_error *err)
{
    size_t n = iv->n_run;
    hb_usage_sample *a = realloc(iv->samples, n * 2 * sizeof *a);
    if (!a)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    iv->samples = a;
    iv->cap_samples = n * 2;
    return 0;
}

int hb_im_tick_all(hb_im *m, hb_time now, hb_error *err)
{
    for (int i = 0; i < m->n; i++) {
        int rc = hb_im_tick(&m->iv[i], now, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the invoker handle policies use ---- */

static hb_time im_now(void *impl)
{
    hb_im *m = ((hb_im_invoker *)impl)->m;
    return m->ops->now(m->ctx);
}

static size_t im_running(void *impl, hb_invocation *const **out)
{
    hb_im_invoker *iv = impl;
    *out = iv->run_inv;
    return iv->n_run;
}

static int im_resize(void *impl, hb_invocation *inv, hb_res a, hb_error *err)
{
    hb_im_invoker *iv = impl;
    hb_im *m = iv->m;
    hb_im_call *c = inv->backend_data;
    if (!c || c->iv != iv || c->phase == HB_IM_QUEUED)
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
    hb_time now = m->ops->now(m->ctx);
    hb_im_seg_close(c, now);
    int cpu_changed = a.cpu != inv->alloc.cpu;
    iv->alloc_sum.cpu = cpu;
    iv->alloc_sum.mem_mb = mem;
    inv->alloc = a;
    if (hb_im_contrib_update(c, now))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    return m->ops->resize(m->ctx, c, cpu_changed, err);
}

static const hb_invoker_ops IM_INVOKER_OPS = {im_now, im_resize, im_running};

/* ---- open and close ---- */

int hb_im_open(hb_im *m, const hb_im_config *cfg, hb_error *err)
{
    memset(m, 0, sizeof *m);
    m->hooks = *cfg->hooks;
    m->ops = cfg->ops;
    m->ctx = cfg->ctx;
    m->n_funcs = cfg->n_funcs;
    m->containers = cfg->containers;
    m->keep_alive = cfg->keep_alive;
    m->usage_rows = cfg->usage_rows;
    m->iv = calloc(cfg->n_invokers > 0 ? (size_t)cfg->n_invokers : 1, sizeof *m->iv);
    if (!m->iv)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    m->n = cfg->n_invokers;
    for (int i = 0; i < m->n; i++) {
        hb_im_invoker *iv = &m->iv[i];
        iv->m = m;
        iv->pub = (hb_invoker){i, cfg->capacity, &IM_INVOKER_OPS, iv};
        iv->lv_end = HB_SEC;
        /* two open seconds: the one being integrated and, at its edge, the next */
        if (bins_reserve(iv, 1) ||
            (m->containers && !(iv->idle_by_fn = calloc((size_t)m->n_funcs, sizeof *iv->idle_by_fn))))
            return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    return 0;
}

void hb_im_close(hb_im *m)
{
    for (int i = 0; m->iv && i < m->n; i++) {
        hb_im_invoker *iv = &m->iv[i];
        while (iv->lru_head) {
            hb_im_container *k = iv->lru_head;
            idle_unlink(iv, k);
            free(k);
        }
        for (size_t j = 0; j < iv->n_run; j++) {
            hb_im_call *c = iv->run[j];
            free(c->ctr);
            c->inv->backend_data = NULL;
            m->ops->call_free(m->ctx, c);
        }
        for (hb_im_call *c = iv->q_head, *next; c; c = next) {
            next = c->q_next;
            c->inv->backend_data = NULL;
            m->ops->call_free(m->ctx, c);
        }
        free(iv->run);
        free(iv->run_inv);
        free(iv->idle_by_fn);
        free(iv->bins);
        free(iv->samples);
    }
    free(m->iv);
    m->iv = NULL;
    m->n = 0;
}

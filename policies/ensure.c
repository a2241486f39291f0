/* ensure.c - ENSURE's CPU controller (Suresh et al., ACSOS'20) as the Libra and Freyr artifacts
 * re-implemented it (libra-harness spec 4.5; anchors 2.2). CPU only; memory stays the user's.
 *
 * Per function f, at each of its calls:
 *   1. class: "MP" (update threshold 5, CPU step 1) if f's mean completion time over its successful
 *      and timed-out calls so far exceeds 5 s, else "ET" (threshold 3, step 2);
 *   2. if f's update counter has reached the threshold: with W the last 3 ended calls of f and
 *      avg their mean completion time (latency, arrival to end),
 *        if the cluster's free CPU > step:  cpu = min(W[0]'s cpu + step, 8) when
 *                                           avg / reference >= 1.10, else unchanged;
 *        else                               cpu = max(W[0]'s cpu - step, 1);
 *      and the counter restarts at 0; otherwise the counter grows by 1.
 *   The reference is f's lowest completion time among its successful calls (the latency it has
 *   shown without contention); with none yet, nothing is raised.
 * The result is clipped to f's range, and f keeps it until the controller next changes it.
 * Fixed artifact bugs: the counter and the action were effectively global (a stale loop variable
 * and one action dict shared by all functions), the "recent completion time" helper always
 * returned 0 (so CPU was never raised), and the window mean divided by 3 even with fewer calls.
 * CPU is a hard quota, reserve = allocation, JSQ placement (the artifact's balancer). */
#include <stdlib.h>
#include <string.h>

#include "policies.h"

#define ENSURE_WINDOW 3
#define ENSURE_LATENCY_THRESHOLD 1.10
#define ENSURE_MP_SECONDS 5.0
#define ENSURE_CPU_CAP 8.0

typedef struct ensure_func {
    double cpu;                        /* current allocation, cores */
    int counter;
    double win_latency[ENSURE_WINDOW]; /* newest first */
    double win_cpu[ENSURE_WINDOW];
    int win_n;
    double ct_sum;                     /* completion times of successful and timed-out calls */
    long ct_n;
    double ref_latency;                /* lowest successful completion time; 0: none */
} ensure_func;

typedef struct ensure_state {
    int n_funcs;                       /* the run's functions (ctx->n_funcs) */
    const hb_func_config *funcs;       /* the run's table (ctx->funcs): valid until destroy */
    ensure_func *f;
} ensure_state;

static void ensure_destroy(void *state)
{
    ensure_state *s = state;
    if (!s)
        return;
    free(s->f);
    free(s);
}

static int ensure_create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    ensure_state *s = calloc(1, sizeof *s);
    size_t n = ctx->n_funcs > 0 ? (size_t)ctx->n_funcs : 0;
    if (s)
        s->f = calloc(n ? n : 1, sizeof *s->f);
    if (!s || !s->f) {
        ensure_destroy(s);
        return hb_fail(err, HB_ENOMEM, "ensure: out of memory");
    }
    s->n_funcs = (int)n;
    s->funcs = ctx->funcs;
    for (size_t i = 0; i < n; i++)
        s->f[i].cpu = hb_clip(s->funcs[i].user.cpu, s->funcs[i].cpu_clip[0], s->funcs[i].cpu_clip[1]);
    *state = s;
    return 0;
}

static int ensure_size(void *state, const hb_invocation *inv, const hb_observation *obs,
                       hb_sizing *out, hb_error *err)
{
    (void)err;
    ensure_state *s = state;
    const hb_func_config *fc = &s->funcs[inv->func];
    ensure_func *f = &s->f[inv->func];

    double avg_ct = f->ct_n ? f->ct_sum / (double)f->ct_n : 0.0;
    int thr = avg_ct > ENSURE_MP_SECONDS ? 5 : 3;
    double step = avg_ct > ENSURE_MP_SECONDS ? 1.0 : 2.0;
    if (f->counter >= thr) {
        if (f->win_n > 0) {
            double avg = 0.0;
            for (int i = 0; i < f->win_n; i++)
                avg += f->win_latency[i];
            avg /= f->win_n;
            double cpu = f->cpu;
            if (obs->free.cpu > step) {
                if (f->ref_latency > 0.0 && avg / f->ref_latency >= ENSURE_LATENCY_THRESHOLD)
                    cpu = f->win_cpu[0] + step < ENSURE_CPU_CAP ? f->win_cpu[0] + step : ENSURE_CPU_CAP;
            } else {
                cpu = f->win_cpu[0] - step > 1.0 ? f->win_cpu[0] - step : 1.0;
            }
            f->cpu = hb_clip(cpu, fc->cpu_clip[0], fc->cpu_clip[1]);
        }
        f->counter = 0;
    } else {
        f->counter++;
    }

    hb_res a = {f->cpu, hb_clip(inv->user.mem_mb, fc->mem_clip_mb[0], fc->mem_clip_mb[1])};
    out->alloc = a;
    out->reserve = a;
    out->cpu_hard = 1;
    out->pred.cpu = out->pred.mem_mb = -1.0;
    out->pred_duration_s = -1.0;
    return 0;
}

static void ensure_observe(void *state, const hb_invocation *done)
{
    ensure_state *s = state;
    if (done->func < 0 || done->func >= s->n_funcs)
        return;
    ensure_func *f = &s->f[done->func];
    double latency = hb_time_s(done->end - done->arrival);
    memmove(f->win_latency + 1, f->win_latency, (ENSURE_WINDOW - 1) * sizeof *f->win_latency);
    memmove(f->win_cpu + 1, f->win_cpu, (ENSURE_WINDOW - 1) * sizeof *f->win_cpu);
    f->win_latency[0] = latency;
    f->win_cpu[0] = done->alloc_start.cpu;
    if (f->win_n < ENSURE_WINDOW)
        f->win_n++;
    if (done->outcome == HB_SUCCESS || done->outcome == HB_TIMEOUT) {
        f->ct_sum += latency;
        f->ct_n++;
    }
    if (done->outcome == HB_SUCCESS && (f->ref_latency == 0.0 || latency < f->ref_latency))
        f->ref_latency = latency;
}

const hb_policy_ops hb_policy_ensure = {
    .name = "ensure",
    .summary = "ENSURE: per-function CPU steps when latency degrades (JSQ placement)",
    .create = ensure_create,
    .destroy = ensure_destroy,
    .size = ensure_size,
    .observe = ensure_observe,
    .place = hb_place_jsq_hook,
    .artifact_name = "ENSURE_RM",
};

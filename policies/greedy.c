/* greedy.c - GreedyRM (libra-harness spec 4.4; anchors 2.1): each call of a function gets the
 * allocation its function's last measured call needed.
 *
 * Rule, with L the function's last ended call that has measurements (success, timeout or oom):
 *   cpu = floor(L.cpu_peak) + 1 cores      if L.cpu_peak <= L's CPU allocation, else 8 cores;
 *   mem = floor(L.mem_peak / 128 MB) + 1 units of 128 MB
 *                                          if L.mem_peak <= L's memory allocation and L was not
 *                                          killed for memory, else 8 units;
 * then clipped to the function's clip range. Without such a call: the user allocation.
 * Fixed artifact bugs: the artifact compared a peak in MB with an allocation in 128 MB units (so
 * memory almost always jumped to 8 units), and set memory to floor(peak) units, below the peak;
 * here both sides are MB and the allocation rounds up to the unit above the peak.
 * CPU is a hard quota, reserve = allocation, JSQ placement (the artifact's balancer). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "policies.h"

#define GREEDY_CAP_CPU 8.0
#define GREEDY_CAP_UNITS 8.0

typedef struct greedy_last {
    int valid;
    double cpu_peak, mem_peak_mb;
    double alloc_cpu, alloc_mem_mb;
    int oom;
} greedy_last;

typedef struct greedy_state {
    int n_funcs;                       /* the run's functions (ctx->n_funcs) */
    const hb_func_config *funcs;       /* the run's table (ctx->funcs): valid until destroy */
    greedy_last *last;
} greedy_state;

static void greedy_destroy(void *state)
{
    greedy_state *s = state;
    if (!s)
        return;
    free(s->last);
    free(s);
}

static int greedy_create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    greedy_state *s = calloc(1, sizeof *s);
    size_t n = ctx->n_funcs > 0 ? (size_t)ctx->n_funcs : 0;
    if (s)
        s->last = calloc(n ? n : 1, sizeof *s->last);
    if (!s || !s->last) {
        greedy_destroy(s);
        return hb_fail(err, HB_ENOMEM, "greedy: out of memory");
    }
    s->n_funcs = (int)n;
    s->funcs = ctx->funcs;
    *state = s;
    return 0;
}

static int greedy_size(void *state, const hb_invocation *inv, const hb_observation *obs,
                       hb_sizing *out, hb_error *err)
{
    (void)obs;
    (void)err;
    greedy_state *s = state;
    const hb_func_config *fc = &s->funcs[inv->func];
    const greedy_last *L = &s->last[inv->func];
    hb_res a = inv->user;
    if (L->valid) {
        a.cpu = L->cpu_peak <= L->alloc_cpu ? floor(L->cpu_peak) + 1.0 : GREEDY_CAP_CPU;
        double units = !L->oom && L->mem_peak_mb <= L->alloc_mem_mb
                           ? floor(L->mem_peak_mb / HB_MEM_UNIT_MB) + 1.0
                           : GREEDY_CAP_UNITS;
        a.mem_mb = units * HB_MEM_UNIT_MB;
    }
    a.cpu = hb_clip(a.cpu, fc->cpu_clip[0], fc->cpu_clip[1]);
    a.mem_mb = hb_clip(a.mem_mb, fc->mem_clip_mb[0], fc->mem_clip_mb[1]);
    out->alloc = a;
    out->reserve = a;
    out->cpu_hard = 1;
    out->pred.cpu = out->pred.mem_mb = -1.0;
    out->pred_duration_s = -1.0;
    return 0;
}

static void greedy_observe(void *state, const hb_invocation *done)
{
    greedy_state *s = state;
    if (done->func < 0 || done->func >= s->n_funcs)
        return;
    if (done->outcome != HB_SUCCESS && done->outcome != HB_TIMEOUT && done->outcome != HB_OOM)
        return;                        /* error / lost: no usable measurements */
    greedy_last *L = &s->last[done->func];
    L->valid = 1;
    L->cpu_peak = done->cpu_peak;
    L->mem_peak_mb = done->mem_peak_mb;
    L->alloc_cpu = done->alloc_start.cpu;
    L->alloc_mem_mb = done->alloc_start.mem_mb;
    L->oom = done->outcome == HB_OOM;
}

const hb_policy_ops hb_policy_greedy = {
    .name = "greedy",
    .summary = "GreedyRM: next allocation from the function's last measured peak (JSQ placement)",
    .create = greedy_create,
    .destroy = greedy_destroy,
    .size = greedy_size,
    .observe = greedy_observe,
    .place = hb_place_jsq_hook,
    .artifact_name = "GreedyRM",
};

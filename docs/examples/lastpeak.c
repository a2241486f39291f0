/* lastpeak.c - a complete harvestbench policy (docs/policies.md): each call gets the memory its
 * function peaked at last time plus a margin, and its user CPU as a quota; placement is
 * join-shortest-queue. Out of tree, as a plugin for `harvestbench run --policy-lib lastpeak.so`:
 *   cc -shared -fPIC $(pkg-config --cflags harvestbench) lastpeak.c -o lastpeak.so -lm
 * To build it in instead: copy it to policies/ without its last line, declare `hb_policy_lastpeak`
 * in policies/policies.h and add it to the table in harness/core/registry.c. */
#include <math.h>
#include <stdlib.h>

#include "hb_policy.h"

typedef struct lastpeak {
    const hb_func_config *funcs;       /* per-function user allocation and clip range */
    double margin;                     /* [policy.lastpeak] margin, default 0.25 */
    double *last_peak_mb;              /* per function of the run (ctx->n_funcs); 0 until its
                                        * first success */
} lastpeak;

static int lp_create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    lastpeak *p = calloc(1, sizeof *p);
    if (p && !(p->last_peak_mb = calloc((size_t)ctx->n_funcs, sizeof *p->last_peak_mb))) {
        free(p);
        p = NULL;
    }
    if (!p)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    p->funcs = ctx->funcs;             /* the run's table: valid for the policy's lifetime */
    p->margin = 0.25;
    int rc = hb_kv_double(ctx->params, "margin", 0, 10, &p->margin, err);  /* file:line errors */
    if (rc) {
        free(p->last_peak_mb);
        free(p);
        return rc;
    }
    *state = p;
    return 0;
}

static void lp_destroy(void *state)
{
    lastpeak *p = state;
    free(p->last_peak_mb);
    free(p);
}

static int lp_size(void *state, const hb_invocation *inv, const hb_observation *obs, hb_sizing *out,
                   hb_error *err)
{
    (void)obs;
    (void)err;
    lastpeak *p = state;
    const hb_func_config *f = &p->funcs[inv->func];
    double mem = inv->user.mem_mb;                        /* no history yet: the user's */
    if (p->last_peak_mb[inv->func] > 0)                   /* else the last peak + margin, 64 MB steps */
        mem = ceil(p->last_peak_mb[inv->func] * (1 + p->margin) / 64) * 64;
    out->alloc = (hb_res){inv->user.cpu, hb_clip(mem, f->mem_clip_mb[0], f->mem_clip_mb[1])};
    out->reserve = out->alloc;
    out->cpu_hard = 1;
    out->pred = (hb_res){-1, p->last_peak_mb[inv->func] > 0 ? p->last_peak_mb[inv->func] : -1};
    return 0;
}

static void lp_observe(void *state, const hb_invocation *done)
{
    lastpeak *p = state;
    if (done->outcome == HB_SUCCESS)
        p->last_peak_mb[done->func] = done->mem_peak_mb;
    else if (done->outcome == HB_OOM)
        p->last_peak_mb[done->func] = 0;                  /* too small: back to the user's */
}

const hb_policy_ops hb_policy_lastpeak = {
    .name = "lastpeak",
    .summary = "memory from the function's last peak plus a margin; user CPU; JSQ",
    .create = lp_create, .destroy = lp_destroy,
    .size = lp_size, .observe = lp_observe,
    .place = hb_place_jsq_hook,                            /* join-shortest-queue */
};

HB_POLICY_PLUGIN(&hb_policy_lastpeak);   /* the entry point of `harvestbench run --policy-lib` */

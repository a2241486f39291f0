/* freyr.c - the Freyr policy: each call's (cpu, memory) is one of 64 candidates scored by the
 * agent's network over Freyr's state, within Freyr's safeguard mask (features.h), then clipped to
 * the function's range. Evaluation takes the most probable candidate unless [policy.freyr]
 * sample = true; training always samples. CPU is a hard quota, reserve = allocation, JSQ placement
 * (the artifact ran every baseline on its JSQ balancer). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "freyr.h"

struct freyr_policy {
    int n_funcs;                       /* the run's functions (ctx->n_funcs); the network's input
                                        * does not depend on it (features.h: per-call state only) */
    const hb_func_config *funcs;       /* the run's table (ctx->funcs): valid until destroy */
    freyr_fstats *f;
    freyr_agent *agent;
    int own_agent;
    freyr_norm norm;
    int sample;                        /* sample instead of argmax */
    gsl_rng *rng;
    freyr_traj *traj;                  /* training: where decisions go */
    freyr_credit credit;
    long *step_of;                     /* training, credit by call: decision of event index i */
    size_t step_cap;
    double pending;                    /* credit by step: reward of calls ended since the last decision */
    double episode_reward;
    long completed;
    long forced;
    double x[FREYR_NCAND * FREYR_NFEAT];
    unsigned char mask[FREYR_NCAND];
    double logp[FREYR_NCAND];
};

static int policy_alloc(const hb_policy_ctx *ctx, freyr_policy **out, hb_error *err)
{
    freyr_policy *p = calloc(1, sizeof *p);
    size_t n = ctx->n_funcs > 0 ? (size_t)ctx->n_funcs : 0;
    if (p)
        p->f = calloc(n ? n : 1, sizeof *p->f);
    if (!p || !p->f) {
        free(p);
        return hb_fail(err, HB_ENOMEM, "freyr: out of memory");
    }
    p->n_funcs = (int)n;
    p->funcs = ctx->funcs;
    p->rng = ctx->rng;
    *out = p;
    return 0;
}

int freyr_policy_bind(const hb_policy_ctx *ctx, freyr_agent *agent, const freyr_norm *norm,
                      freyr_traj *traj, freyr_credit credit, int sample, freyr_policy **out,
                      hb_error *err)
{
    int rc = policy_alloc(ctx, out, err);
    if (rc)
        return rc;
    (*out)->agent = agent;
    (*out)->norm = *norm;
    (*out)->traj = traj;
    (*out)->credit = credit;
    (*out)->sample = sample;
    return 0;
}

/* Remembers that the call with event index `index` was sized by decision `step`. */
static int remember_step(freyr_policy *p, uint64_t index, long step, hb_error *err)
{
    if (index >= p->step_cap) {
        size_t cap = p->step_cap ? p->step_cap : 1024;
        while (cap <= index)
            cap *= 2;
        long *a = realloc(p->step_of, cap * sizeof *a);
        if (!a)
            return hb_fail(err, HB_ENOMEM, "freyr: out of memory");
        for (size_t i = p->step_cap; i < cap; i++)
            a[i] = -1;
        p->step_of = a;
        p->step_cap = cap;
    }
    p->step_of[index] = step;
    return 0;
}

double freyr_policy_finish(freyr_policy *p)
{
    if (p->traj && p->traj->n > 0) {
        p->traj->reward[p->traj->n - 1] += p->pending;
        p->traj->done[p->traj->n - 1] = 1;
    }
    p->pending = 0.0;
    return p->episode_reward;
}

long freyr_policy_completed(const freyr_policy *p)
{
    return p->completed;
}

long freyr_policy_forced(const freyr_policy *p)
{
    return p->forced;
}

static void freyr_destroy(void *state);

static int freyr_create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    const char *ckpt = NULL;
    int sample = 0;
    int rc = hb_kv_string(ctx->params, "checkpoint", NULL, &ckpt, err);
    if (!rc)
        rc = hb_kv_bool(ctx->params, "sample", &sample, err);
    if (rc)
        return rc;
    if (!ckpt || !*ckpt)
        return hb_fail(err, HB_EINPUT,
                       "[policy.freyr] checkpoint: required: the trained networks (make one with "
                       "`harvestbench train freyr CONFIG --episodes N --out FILE`)");
    char path[PATH_MAX];
    if (ckpt[0] == '/' || !ctx->config_dir || !*ctx->config_dir)
        snprintf(path, sizeof path, "%s", ckpt);
    else
        snprintf(path, sizeof path, "%s/%s", ctx->config_dir, ckpt);

    freyr_policy *p = NULL;
    rc = policy_alloc(ctx, &p, err);
    if (rc)
        return rc;
    p->agent = malloc(sizeof *p->agent);
    if (!p->agent) {
        freyr_destroy(p);
        return hb_fail(err, HB_ENOMEM, "freyr: out of memory");
    }
    rc = freyr_ckpt_load(path, p->agent, &p->norm, err);
    if (rc) {
        char where[512];
        hb_error_wrap(err, "%s: checkpoint", hb_kv_where(ctx->params, "checkpoint", where, sizeof where));
        free(p->agent);
        p->agent = NULL;
        freyr_destroy(p);
        return rc;
    }
    p->own_agent = 1;
    p->sample = sample;
    *state = p;
    return 0;
}

static void freyr_destroy(void *state)
{
    freyr_policy *p = state;
    if (!p)
        return;
    if (p->own_agent) {
        freyr_agent_free(p->agent);
        free(p->agent);
    }
    free(p->step_of);
    free(p->f);
    free(p);
}

static int freyr_size(void *state, const hb_invocation *inv, const hb_observation *obs,
                      hb_sizing *out, hb_error *err)
{
    freyr_policy *p = state;
    const hb_func_config *fc = &p->funcs[inv->func];
    freyr_fstats *fs = &p->f[inv->func];
    freyr_stats_arrival(fs, inv->arrival);
    int forced = freyr_mask(fs, fc, p->mask);
    int first_or_failed = !fs->has_last || !fs->last_ok;
    p->forced += forced;

    int n_allowed = 0, only = -1;
    for (int i = 0; i < FREYR_NCAND; i++)
        if (p->mask[i]) {
            n_allowed++;
            only = i;
        }
    int act = only;
    if (n_allowed > 1 || p->traj) {
        freyr_state(fs, obs, &p->norm, p->x);
        int rc = freyr_agent_policy(p->agent, p->x, p->mask, p->logp, err);
        if (rc)
            return rc;
        if (n_allowed > 1)
            act = freyr_pick(p->logp, FREYR_NCAND, p->sample ? p->rng : NULL);
    }
    if (p->traj) {
        double v;
        int rc = freyr_agent_value(p->agent, p->x, &v, err);
        if (!rc && p->traj->n > 0)
            p->traj->reward[p->traj->n - 1] += p->pending;
        if (!rc)
            rc = freyr_traj_push(p->traj, p->x, p->mask, act, p->logp[act], v, err);
        if (!rc && p->credit == FREYR_CREDIT_CALL)
            rc = remember_step(p, inv->index, (long)p->traj->n - 1, err);
        if (rc)
            return rc;
        p->pending = 0.0;
    }

    hb_res a;
    if (first_or_failed) {
        a = freyr_user_alloc(fc);      /* exactly the user's, even if it is not a whole candidate */
    } else {
        a.cpu = hb_clip(act / FREYR_CAP + 1, fc->cpu_clip[0], fc->cpu_clip[1]);
        a.mem_mb = hb_clip((act % FREYR_CAP + 1) * HB_MEM_UNIT_MB, fc->mem_clip_mb[0], fc->mem_clip_mb[1]);
    }
    out->alloc = a;
    out->reserve = a;
    out->cpu_hard = 1;
    out->pred.cpu = out->pred.mem_mb = -1.0;
    out->pred_duration_s = -1.0;
    return 0;
}

static void freyr_observe(void *state, const hb_invocation *done)
{
    freyr_policy *p = state;
    if (done->func < 0 || done->func >= p->n_funcs)
        return;
    const hb_func_config *fc = &p->funcs[done->func];
    freyr_fstats *fs = &p->f[done->func];
    double slo = freyr_slowdown(fs, fc, done);
    double r = freyr_reward(slo, ++p->completed, fc->user);
    p->episode_reward += r;
    if (p->traj && p->credit == FREYR_CREDIT_CALL && done->index < p->step_cap &&
        p->step_of[done->index] >= 0 && (size_t)p->step_of[done->index] < p->traj->n)
        p->traj->reward[p->step_of[done->index]] += r;
    else
        p->pending += r;
    freyr_stats_end(fs, fc, done);
}

const hb_policy_ops hb_policy_freyr = {
    .name = "freyr",
    .summary = "Freyr: PPO-trained scores over 64 (cpu, memory) candidates with a safeguard (JSQ placement)",
    .create = freyr_create,
    .destroy = freyr_destroy,
    .size = freyr_size,
    .observe = freyr_observe,
    .place = hb_place_jsq_hook,
    .artifact_name = "freyr_eval",
};

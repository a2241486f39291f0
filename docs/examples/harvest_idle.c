/* harvest_idle.c - a harvesting policy, walked through in docs/policies.md. Calls start at their
 * user allocation, CPU as a quota, placed by JSQ (as `fixed`). At each monitor tick, cores a call
 * leaves idle are lent to saturated calls of the same invoker (lenders shrink first); a lender gets
 * them back at the next tick when it needs them, and every call when any call of the invoker ends.
 *   cc -shared -fPIC $(pkg-config --cflags harvestbench) harvest_idle.c -o harvest_idle.so */
#include <stdlib.h>

#include "hb_policy.h"

#define SATURATED 0.95                 /* a call using this share of its quota wants more */

typedef struct harvest_idle {
    const hb_func_config *funcs;       /* each function's clip range */
    hb_time interval;                  /* monitor period */
    double headroom;                   /* [policy.harvest-idle] headroom: share kept above usage */
    double *t;                         /* a tick's targets, cap of them */
    size_t cap;
} harvest_idle;

static int hi_create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    harvest_idle *p = calloc(1, sizeof *p);
    if (!p)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    *p = (harvest_idle){ctx->funcs, ctx->monitor_interval, 0.25, NULL, 0};
    int rc = hb_kv_double(ctx->params, "headroom", 0, 10, &p->headroom, err);  /* file:line */
    if (rc)
        free(p);
    *state = rc ? NULL : p;
    return rc;
}

static void hi_destroy(void *state)
{
    harvest_idle *p = state;
    free(p->t);                        /* nothing hangs on the calls: nothing else to free */
    free(p);
}

static int hi_size(void *state, const hb_invocation *inv, const hb_observation *obs, hb_sizing *out,
                   hb_error *err)
{
    (void)state, (void)obs, (void)err;
    out->alloc = out->reserve = inv->user;   /* reserve = user: what loans may add up to */
    out->cpu_hard = 1;                 /* a quota: only then do lent cores change speed */
    return 0;
}

typedef struct budget { double give, take; } budget;   /* cores lenders give, borrowers take */

/* The cores a sampled call gets now. It wants the top of its clip range when it uses all it has,
 * else its usage plus headroom, once its code has run a whole interval (a cold start samples 0).
 * Below its user allocation it lends the difference, as far as the budget still needs cores;
 * above, it borrows what the budget still has. */
static double target(const harvest_idle *p, const hb_usage_sample *s, hb_time now, budget *b)
{
    const hb_invocation *c = s->inv;
    const double *clip = p->funcs[c->func].cpu_clip, u = c->user.cpu;
    int ran = (!c->cold_start || c->exec_start > c->start) && now - c->exec_start >= p->interval;
    double want = s->cpu >= SATURATED * c->alloc.cpu ? clip[1] : s->cpu * (1 + p->headroom);
    want = ran ? hb_clip(want, clip[0], clip[1]) : u;
    if (want < u) {                    /* idle cores: lent as far as borrowers take them */
        double give = hb_clip(u - want, 0, b->give);
        b->give -= give;
        return give == u - want ? want : u - give;   /* exact values: no drift over ticks */
    }
    double more = hb_clip(want - u, 0, b->take);
    b->take -= more;
    return more == want - u ? want : u + more;
}

static int set_cpu(hb_invoker *iv, hb_invocation *inv, double cpu, hb_error *err)
{
    return hb_invoker_resize(iv, inv, (hb_res){cpu, inv->alloc.mem_mb}, err);
}

static int hi_tick(void *state, hb_invoker *iv, const hb_usage_sample *s, size_t n, hb_error *err)
{
    harvest_idle *p = state;
    if (n > p->cap) {
        double *t = realloc(p->t, n * sizeof *t);
        if (!t)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        p->t = t;
        p->cap = n;
    }
    hb_time now = hb_invoker_now(iv);
    budget all = {1e300, 1e300};
    double idle = 0, wanted = 0;
    for (size_t i = 0; i < n; i++) {   /* idle cores, and cores wanted beyond user allocations */
        double d = target(p, &s[i], now, &all) - s[i].inv->user.cpu;
        idle += d < 0 ? -d : 0;
        wanted += d > 0 ? d : 0;
    }
    budget b = {idle < wanted ? idle : wanted, idle < wanted ? idle : wanted};
    for (size_t i = 0; i < n; i++)     /* all decided before any resize changes an allocation */
        p->t[i] = target(p, &s[i], now, &b);
    /* shrinks first: the invoker's total never exceeds its calls' reserves (its capacity) */
    for (int grow = 0; grow < 2; grow++)
        for (size_t i = 0; i < n; i++) {
            double a = s[i].inv->alloc.cpu;
            int rc = (grow ? p->t[i] > a : p->t[i] < a) ? set_cpu(iv, s[i].inv, p->t[i], err) : 0;
            if (rc)
                return rc;
        }
    return 0;
}

/* A call ended (its allocation no longer counts): every call of the invoker gets its user
 * allocation back, borrowers shrinking first, so that a queued call fits at once; the next tick
 * lends again. */
static int hi_end(void *state, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    (void)state;
    hb_invocation *const *run;
    size_t n = hb_invoker_running(iv, &run);
    for (int grow = 0; grow < 2; grow++)
        for (size_t i = 0; i < n; i++) {
            double u = run[i]->user.cpu, a = run[i]->alloc.cpu;
            int rc = run[i] != inv && (grow ? u > a : u < a) ? set_cpu(iv, run[i], u, err) : 0;
            if (rc)
                return rc;
        }
    return 0;
}

const hb_policy_ops hb_policy_harvest_idle = {
    .name = "harvest-idle",
    .summary = "user allocation as a CPU quota, JSQ; idle cores lent to saturated calls",
    .create = hi_create, .destroy = hi_destroy, .size = hi_size, .place = hb_place_jsq_hook,
    .on_tick = hi_tick, .on_end = hi_end,
};

HB_POLICY_PLUGIN(&hb_policy_harvest_idle);   /* the entry point --policy-lib looks for */

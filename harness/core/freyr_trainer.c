/* freyr_trainer.c - see freyr_trainer.h. */
#include "freyr_trainer.h"

#include <math.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "experiment_run.h"
#include "policies.h"
#include "registry.h"
#include "seed.h"

#define EVAL_SEEDS 3

/* What every replay of a training run shares. */
typedef struct trainer {
    const hb_freyr_train_spec *s;
    freyr_agent *agent;
    freyr_norm norm;
    freyr_traj traj;
} trainer;

/* The figures of a replay's one run. */
static void row_of(hb_policy_result *pr, freyr_policy *p, hb_freyr_row *row)
{
    hb_run_stats *st = &pr->pooled;
    row->reward = freyr_policy_finish(p);
    row->steps = (long)st->invocations;
    row->forced = freyr_policy_forced(p);
    row->failed = st->invocations - st->outcomes[HB_SUCCESS];
    row->oom = st->outcomes[HB_OOM];
    row->mean_latency_ms = st->n_success ? st->lat_sum / (double)st->n_success : NAN;
    row->p99_latency_ms = hb_stats_latency_pct(st, 0.99);
    row->cpu_util_alloc = st->cpu_alloc_core_s > 0 ? st->cpu_used_core_s / st->cpu_alloc_core_s : NAN;
    row->mem_util_alloc = st->mem_alloc_mb_s > 0 ? st->mem_used_mb_s / st->mem_alloc_mb_s : NAN;
}

/* One replay of the trace with an instance bound to the agent: training (traj, sampling) or
 * evaluation (traj NULL, most probable candidate). Fills row's reward and run figures. */
static int replay(trainer *t, freyr_traj *traj, uint64_t seed, uint64_t draw_seed,
                  hb_freyr_row *row, hb_error *err)
{
    hb_config *cfg = &t->s->x->cfg;
    const hb_backend_ops *sim = hb_backend_find("sim");
    memset(row, 0, sizeof *row);
    gsl_rng *rng = hb_rng_new(draw_seed, "policy:freyr");
    if (!rng)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    hb_policy_ctx ctx;
    hb_engine_policy_ctx(cfg, "freyr", hb_config_section_kv(cfg, "policy.freyr"), rng,
                         traj != NULL, sim->caps, &ctx);
    freyr_policy *p = NULL;
    if (traj)
        freyr_traj_clear(traj);
    int rc = freyr_policy_bind(&ctx, t->agent, &t->norm, traj, t->s->credit, traj != NULL, &p, err);
    hb_run_result *res = NULL;
    if (!rc) {
        cfg->seed = seed;              /* the one run's */
        hb_run_spec spec = {.x = t->s->x, .no_files = 1, .usage = 1, .training = traj != NULL,
                            .stop = t->s->stop, .policy_state = p};
        rc = hb_experiment_run(&spec, &res, err);
    }
    if (!rc)
        row_of(&res->policies[0], p, row);
    hb_run_result_free(res);
    if (p)
        hb_policy_freyr.destroy(p);
    gsl_rng_free(rng);
    return rc;
}

/* The most-probable-candidate policy on the held-out seeds: means of their rows. */
static int evaluate(trainer *t, long after, hb_freyr_row *mean, hb_error *err)
{
    memset(mean, 0, sizeof *mean);
    mean->kind = "eval";
    mean->episode = after;
    uint64_t base = hb_seed_derive(t->s->seed, "freyr:eval");
    for (int j = 0; j < EVAL_SEEDS; j++) {
        hb_freyr_row r;
        int rc = replay(t, NULL, base + (uint64_t)j, base + (uint64_t)j, &r, err);
        if (rc)
            return rc;
        mean->reward += r.reward / EVAL_SEEDS;
        mean->mean_latency_ms += r.mean_latency_ms / EVAL_SEEDS;
        mean->p99_latency_ms += r.p99_latency_ms / EVAL_SEEDS;
        mean->cpu_util_alloc += r.cpu_util_alloc / EVAL_SEEDS;
        mean->mem_util_alloc += r.mem_util_alloc / EVAL_SEEDS;
        mean->failed += r.failed;
        mean->oom += r.oom;
        mean->forced += r.forced;
        mean->steps += r.steps;
    }
    return 0;
}

/* Episode k: a replay in training mode, then one PPO update on its trajectory. */
static int episode(trainer *t, long k, gsl_rng *mb_rng, hb_freyr_row *row, hb_error *err)
{
    const hb_freyr_train_spec *s = t->s;
    uint64_t base = hb_seed_derive(s->seed, "freyr:train");
    uint64_t draws = hb_seed_derive(s->seed, "freyr:draws");
    uint64_t ep_seed = s->vary ? base + (uint64_t)k : base;
    int rc = replay(t, &t->traj, ep_seed, draws + (uint64_t)k, row, err);
    freyr_ppo_stats ps;
    if (!rc)
        rc = freyr_ppo_update(t->agent, &t->traj, mb_rng, &ps, err);
    if (rc)
        return rc;
    row->kind = "train";
    row->episode = k + 1;
    row->seed = ep_seed;
    row->loss = ps.loss;
    row->entropy = ps.entropy;
    row->kl = ps.approx_kl;
    row->clip_frac = ps.clip_frac;
    return 0;
}

static int train_loop(trainer *t, gsl_rng *mb_rng, double *first, double *last, hb_error *err)
{
    const hb_freyr_train_spec *s = t->s;
    int rc = 0;
    for (long k = 0; k <= s->episodes && !rc; k++) {
        hb_freyr_row row;
        if (s->eval_every > 0 && (k % s->eval_every == 0 || k == s->episodes)) {
            if ((rc = evaluate(t, k, &row, err)))
                break;
            if (k == 0)
                *first = row.reward;
            *last = row.reward;
            if (s->on_row)
                s->on_row(s->on_row_ctx, &row);
        }
        if (k == s->episodes)
            break;
        if ((rc = episode(t, k, mb_rng, &row, err)))
            break;
        if (s->on_row)
            s->on_row(s->on_row_ctx, &row);
    }
    return rc;
}

void hb_freyr_curve_header(FILE *f)
{
    fprintf(f, "kind,episode,seed,reward,loss,entropy,approx_kl,clip_frac,calls,forced,failed,"
               "oom,mean_latency_ms,p99_latency_ms,cpu_util_alloc,mem_util_alloc\n");
}

void hb_freyr_curve_row(FILE *f, const hb_freyr_row *r)
{
    if (strcmp(r->kind, "eval") == 0)
        fprintf(f, "eval,%ld,,%.17g,,,,,%ld,%ld,%llu,%llu,%.17g,%.17g,%.17g,%.17g\n",
                r->episode, r->reward, r->steps, r->forced, (unsigned long long)r->failed,
                (unsigned long long)r->oom, r->mean_latency_ms, r->p99_latency_ms,
                r->cpu_util_alloc, r->mem_util_alloc);
    else
        fprintf(f, "train,%ld,%llu,%.17g,%.17g,%.17g,%.17g,%.17g,%ld,%ld,%llu,%llu,%.17g,%.17g,"
                "%.17g,%.17g\n", r->episode, (unsigned long long)r->seed, r->reward, r->loss,
                r->entropy, r->kl, r->clip_frac, r->steps, r->forced, (unsigned long long)r->failed,
                (unsigned long long)r->oom, r->mean_latency_ms, r->p99_latency_ms,
                r->cpu_util_alloc, r->mem_util_alloc);
}

freyr_ppo_params hb_freyr_ppo_params(freyr_credit credit, double lr, double gamma, double lambda,
                                     int minibatch)
{
    freyr_ppo_params hp = freyr_ppo_defaults();
    hp.lr = lr;
    if (credit == FREYR_CREDIT_STEP) {
        hp.gamma = 1.0;
        hp.lambda = 1.0;
    }
    if (gamma >= 0)
        hp.gamma = gamma;
    if (lambda >= 0)
        hp.lambda = lambda;
    hp.minibatch = minibatch;
    return hp;
}

int hb_freyr_train(const hb_freyr_train_spec *s, freyr_agent *agent, freyr_norm *norm,
                   double *first, double *last, hb_error *err)
{
    *first = *last = NAN;
    hb_config *cfg = &s->x->cfg;
    /* every replay: the one policy, one run, on the simulator */
    snprintf(cfg->policies[0], sizeof cfg->policies[0], "freyr");
    cfg->n_policies = 1;
    cfg->seeds = 1;
    snprintf(cfg->backend, sizeof cfg->backend, "sim");
    trainer t = {s, agent, freyr_norm_default(), {0}};
    freyr_traj_init(&t.traj, FREYR_NFEAT);
    gsl_rng *init = hb_rng_new(s->seed, "freyr:init");
    gsl_rng *mb_rng = hb_rng_new(s->seed, "freyr:minibatch");
    int rc = init && mb_rng ? freyr_agent_init(agent, FREYR_NFEAT, &s->hp, init, err)
                            : hb_fail(err, HB_ENOMEM, "out of memory");
    gsl_rng_free(init);
    if (!rc) {
        rc = train_loop(&t, mb_rng, first, last, err);
        if (rc)
            freyr_agent_free(agent);
    }
    *norm = t.norm;
    freyr_traj_free(&t.traj);
    gsl_rng_free(mb_rng);
    return rc;
}

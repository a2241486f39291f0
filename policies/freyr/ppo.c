/* ppo.c - the Freyr agent's networks, acting and PPO update. See ppo.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "ppo.h"

freyr_ppo_params freyr_ppo_defaults(void)
{
    freyr_ppo_params p = {
        .lr = 1e-3,
        .clip = 0.2,
        .epochs = 4,
        .gamma = 0.0,
        .lambda = 0.9,
        .value_coef = 0.5,
        .entropy_coef = 0.01,
        .normalize_adv = 1,
        .minibatch = 64,
    };
    return p;
}

int freyr_agent_init(freyr_agent *a, int n_feat, const freyr_ppo_params *hp, gsl_rng *rng,
                     hb_error *err)
{
    memset(a, 0, sizeof *a);
    a->n_feat = n_feat;
    a->hp = hp ? *hp : freyr_ppo_defaults();
    int sizes[4] = {n_feat, FREYR_HIDDEN1, FREYR_HIDDEN2, 1};
    int rc = freyr_mlp_init(&a->actor, sizes, 3, rng, err);
    if (!rc)
        rc = freyr_mlp_init(&a->critic, sizes, 3, rng, err);
    if (!rc)
        rc = freyr_adam_init(&a->adam_actor, a->actor.n_params, a->hp.lr, err);
    if (!rc)
        rc = freyr_adam_init(&a->adam_critic, a->critic.n_params, a->hp.lr, err);
    if (!rc && (!(a->xs = malloc(FREYR_NCAND * (size_t)n_feat * sizeof *a->xs)) ||
                !(a->zs = malloc(FREYR_NCAND * sizeof *a->zs))))
        rc = hb_fail(err, HB_ENOMEM, "freyr: out of memory");
    if (rc)
        freyr_agent_free(a);
    return rc;
}

void freyr_agent_free(freyr_agent *a)
{
    freyr_mlp_free(&a->actor);
    freyr_mlp_free(&a->critic);
    freyr_adam_free(&a->adam_actor);
    freyr_adam_free(&a->adam_critic);
    free(a->xs);
    free(a->zs);
    a->xs = a->zs = NULL;
}

int freyr_masked_log_softmax(const double *z, const unsigned char *mask, int n, double *logp)
{
    double mx = -INFINITY;
    int k = 0;
    for (int j = 0; j < n; j++)
        if (mask[j]) {
            k++;
            if (z[j] > mx)
                mx = z[j];
        }
    if (k == 0)
        return 0;
    double s = 0.0;
    for (int j = 0; j < n; j++)
        if (mask[j])
            s += exp(z[j] - mx);
    double lse = mx + log(s);
    for (int j = 0; j < n; j++)
        logp[j] = mask[j] ? z[j] - lse : -INFINITY;
    return k;
}

int freyr_agent_policy(freyr_agent *a, const double *x, const unsigned char *mask, double *logp,
                       hb_error *err)
{
    /* only the allowed rows: each row of the network's output depends on its own row of x alone
     * (GSL's dgemm sums each entry over its row in the same order whatever the batch), and the
     * masked ones are never read, so the scores are the same bits at a fraction of the work (the
     * forward pass was nine tenths of `bench --policy freyr`) */
    size_t nf = (size_t)a->n_feat, k = 0;
    for (int j = 0; j < FREYR_NCAND; j++)
        if (mask[j])
            memcpy(a->xs + k++ * nf, x + (size_t)j * nf, nf * sizeof *x);
    if (k == 0)
        return hb_fail(err, HB_EINPUT, "freyr: no candidate allocation is allowed");
    const double *zk = freyr_mlp_forward(&a->actor, a->xs, k, err);
    if (!zk)
        return err ? err->code : HB_ENOMEM;
    k = 0;
    for (int j = 0; j < FREYR_NCAND; j++)
        a->zs[j] = mask[j] ? zk[k++] : 0.0;
    if (freyr_masked_log_softmax(a->zs, mask, FREYR_NCAND, logp) == 0)
        return hb_fail(err, HB_EINPUT, "freyr: no candidate allocation is allowed");
    return 0;
}

int freyr_agent_value(freyr_agent *a, const double *x, double *value, hb_error *err)
{
    const double *v = freyr_mlp_forward(&a->critic, x, FREYR_NCAND, err);
    if (!v)
        return err ? err->code : HB_ENOMEM;
    double s = 0.0;
    for (int j = 0; j < FREYR_NCAND; j++)
        s += v[j];
    *value = s / FREYR_NCAND;
    return 0;
}

int freyr_pick(const double *logp, int n, gsl_rng *rng)
{
    int best = -1;
    if (rng) {
        double u = gsl_rng_uniform(rng), c = 0.0;
        for (int j = 0; j < n; j++) {
            if (logp[j] == -INFINITY)
                continue;
            best = j;                  /* the last allowed one absorbs rounding */
            c += exp(logp[j]);
            if (u < c)
                return j;
        }
        return best;
    }
    for (int j = 0; j < n; j++)
        if (logp[j] != -INFINITY && (best < 0 || logp[j] > logp[best]))
            best = j;
    return best;
}

/* ---- trajectories ---- */

void freyr_traj_init(freyr_traj *t, int n_feat)
{
    memset(t, 0, sizeof *t);
    t->n_feat = n_feat;
}

void freyr_traj_free(freyr_traj *t)
{
    free(t->x);
    free(t->mask);
    free(t->action);
    free(t->logp);
    free(t->value);
    free(t->reward);
    free(t->done);
    int nf = t->n_feat;
    memset(t, 0, sizeof *t);
    t->n_feat = nf;
}

void freyr_traj_clear(freyr_traj *t)
{
    t->n = 0;
}

#define GROW(p, cap) do { void *q_ = realloc((p), (cap) * sizeof *(p)); if (!q_) goto oom; (p) = q_; } while (0)

int freyr_traj_push(freyr_traj *t, const double *x, const unsigned char *mask, int action,
                    double logp, double value, hb_error *err)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        GROW(t->x, cap * FREYR_NCAND * (size_t)t->n_feat);
        GROW(t->mask, cap * FREYR_NCAND);
        GROW(t->action, cap);
        GROW(t->logp, cap);
        GROW(t->value, cap);
        GROW(t->reward, cap);
        GROW(t->done, cap);
        t->cap = cap;
    }
    size_t row = FREYR_NCAND * (size_t)t->n_feat;
    memcpy(t->x + t->n * row, x, row * sizeof *x);
    memcpy(t->mask + t->n * FREYR_NCAND, mask, FREYR_NCAND);
    t->action[t->n] = action;
    t->logp[t->n] = logp;
    t->value[t->n] = value;
    t->reward[t->n] = 0.0;
    t->done[t->n] = 0;
    t->n++;
    return 0;
oom:
    return hb_fail(err, HB_ENOMEM, "freyr: out of memory for the trajectory");
}

/* ---- PPO ---- */

void freyr_ppo_targets(const freyr_agent *a, const freyr_traj *t, double *ret, double *adv)
{
    size_t T = t->n;
    double gae = 0.0;
    for (size_t i = T; i-- > 0;) {
        int end = i == T - 1 || t->done[i];
        double next_v = end ? 0.0 : t->value[i + 1];
        double delta = t->reward[i] + a->hp.gamma * next_v - t->value[i];
        gae = delta + (end ? 0.0 : a->hp.gamma * a->hp.lambda * gae);
        adv[i] = gae;
        ret[i] = gae + t->value[i];
    }
    if (a->hp.normalize_adv && T > 1) {
        double m = 0.0, v = 0.0;
        for (size_t i = 0; i < T; i++)
            m += adv[i];
        m /= (double)T;
        for (size_t i = 0; i < T; i++)
            v += (adv[i] - m) * (adv[i] - m);
        double sd = sqrt(v / (double)(T - 1));
        for (size_t i = 0; i < T; i++)
            adv[i] = (adv[i] - m) / (sd + 1e-8);
    }
}

int freyr_ppo_loss(freyr_agent *a, const freyr_traj *t, const size_t *idx, size_t n,
                   const double *ret, const double *adv, freyr_ppo_stats *st, hb_error *err)
{
    memset(st, 0, sizeof *st);
    size_t T = idx ? n : t->n;
    if (T == 0)
        return 0;
    const freyr_ppo_params *hp = &a->hp;
    size_t row = FREYR_NCAND * (size_t)t->n_feat;
    size_t B = T * FREYR_NCAND;
    double inv_t = 1.0 / (double)T;
    double logp[FREYR_NCAND];
    double *dz = malloc(B * sizeof *dz);
    double *xb = idx ? malloc(T * row * sizeof *xb) : NULL;
    if (!dz || (idx && !xb)) {
        free(dz);
        free(xb);
        return hb_fail(err, HB_ENOMEM, "freyr: out of memory for the update");
    }
    if (idx)                           /* the minibatch's states, contiguous for the forward pass */
        for (size_t k = 0; k < T; k++)
            memcpy(xb + k * row, t->x + idx[k] * row, row * sizeof *xb);
    const double *x = idx ? xb : t->x;

    /* actor: clipped surrogate and entropy bonus */
    freyr_mlp_zero_grad(&a->actor);
    const double *z = freyr_mlp_forward(&a->actor, x, B, err);
    if (!z) {
        free(dz);
        free(xb);
        return err ? err->code : HB_ENOMEM;
    }
    for (size_t k = 0; k < T; k++) {
        size_t i = idx ? idx[k] : k;
        const double *zk = z + k * FREYR_NCAND;
        const unsigned char *mi = t->mask + i * FREYR_NCAND;
        double *dk = dz + k * FREYR_NCAND;
        memset(dk, 0, FREYR_NCAND * sizeof *dk);
        if (freyr_masked_log_softmax(zk, mi, FREYR_NCAND, logp) == 0)
            continue;
        int act = t->action[i];
        double h = 0.0;
        for (int j = 0; j < FREYR_NCAND; j++)
            if (mi[j])
                h -= exp(logp[j]) * logp[j];
        double ratio = exp(logp[act] - t->logp[i]);
        double rclip = ratio < 1.0 - hp->clip ? 1.0 - hp->clip
                     : ratio > 1.0 + hp->clip ? 1.0 + hp->clip : ratio;
        double s1 = ratio * adv[i], s2 = rclip * adv[i];
        st->policy_loss -= (s1 < s2 ? s1 : s2) * inv_t;
        if (rclip != ratio)
            st->clip_frac += inv_t;
        st->approx_kl += (t->logp[i] - logp[act]) * inv_t;
        st->entropy += h * inv_t;
        /* d loss / d logp[act]: the unclipped term carries the gradient when it is the min */
        double gl = s1 <= s2 ? -ratio * adv[i] * inv_t : 0.0;
        for (int j = 0; j < FREYR_NCAND; j++) {
            if (!mi[j])
                continue;
            double p = exp(logp[j]);
            dk[j] = gl * ((j == act) - p) + hp->entropy_coef * inv_t * p * (logp[j] + h);
        }
    }
    freyr_mlp_backward(&a->actor, dz);

    /* critic: V = mean over candidates, SmoothL1 (beta 1) against the return */
    freyr_mlp_zero_grad(&a->critic);
    const double *v = freyr_mlp_forward(&a->critic, x, B, err);
    if (!v) {
        free(dz);
        free(xb);
        return err ? err->code : HB_ENOMEM;
    }
    for (size_t k = 0; k < T; k++) {
        size_t i = idx ? idx[k] : k;
        double s = 0.0;
        for (int j = 0; j < FREYR_NCAND; j++)
            s += v[k * FREYR_NCAND + (size_t)j];
        double d = s / FREYR_NCAND - ret[i];
        double ad = fabs(d);
        st->value_loss += (ad < 1.0 ? 0.5 * d * d : ad - 0.5) * inv_t;
        double gd = (ad < 1.0 ? d : (d > 0 ? 1.0 : -1.0)) * hp->value_coef * inv_t / FREYR_NCAND;
        for (int j = 0; j < FREYR_NCAND; j++)
            dz[k * FREYR_NCAND + (size_t)j] = gd;
        st->mean_return += ret[i] * inv_t;
    }
    freyr_mlp_backward(&a->critic, dz);
    free(dz);
    free(xb);
    st->loss = st->policy_loss + hp->value_coef * st->value_loss - hp->entropy_coef * st->entropy;
    return 0;
}

int freyr_ppo_update(freyr_agent *a, const freyr_traj *t, gsl_rng *rng, freyr_ppo_stats *st,
                     hb_error *err)
{
    memset(st, 0, sizeof *st);
    size_t T = t->n;
    if (T == 0)
        return 0;
    double *ret = malloc(T * sizeof *ret), *adv = malloc(T * sizeof *adv);
    size_t *perm = malloc(T * sizeof *perm);
    if (!ret || !adv || !perm) {
        free(ret);
        free(adv);
        free(perm);
        return hb_fail(err, HB_ENOMEM, "freyr: out of memory for the update");
    }
    freyr_ppo_targets(a, t, ret, adv);
    for (size_t i = 0; i < T; i++)
        perm[i] = i;
    /* minibatches of nearly equal size, about hp.minibatch steps each */
    size_t mb = a->hp.minibatch > 0 && (size_t)a->hp.minibatch < T ? (size_t)a->hp.minibatch : T;
    size_t n_mb = (T + mb - 1) / mb;
    int rc = 0;
    for (int ep = 0; ep < a->hp.epochs && !rc; ep++) {
        if (rng && n_mb > 1)
            gsl_ran_shuffle(rng, perm, T, sizeof *perm);
        freyr_ppo_stats last = {0};
        for (size_t b = 0; b < n_mb && !rc; b++) {
            size_t lo = b * T / n_mb, hi = (b + 1) * T / n_mb;
            freyr_ppo_stats s;
            rc = freyr_ppo_loss(a, t, n_mb > 1 ? perm + lo : NULL, hi - lo, ret, adv, &s, err);
            if (rc)
                break;
            freyr_adam_step(&a->adam_actor, a->actor.w, a->actor.g);
            freyr_adam_step(&a->adam_critic, a->critic.w, a->critic.g);
            double w = (double)(hi - lo) / (double)T;
            last.loss += s.loss * w;
            last.policy_loss += s.policy_loss * w;
            last.value_loss += s.value_loss * w;
            last.entropy += s.entropy * w;
            last.approx_kl += s.approx_kl * w;
            last.clip_frac += s.clip_frac * w;
            last.mean_return += s.mean_return * w;
        }
        double k = 1.0 / a->hp.epochs;
        st->loss += last.loss * k;
        st->policy_loss += last.policy_loss * k;
        st->value_loss += last.value_loss * k;
        st->entropy += last.entropy * k;
        st->approx_kl = last.approx_kl;
        st->clip_frac = last.clip_frac;
        st->mean_return = last.mean_return;
    }
    free(ret);
    free(adv);
    free(perm);
    return rc;
}

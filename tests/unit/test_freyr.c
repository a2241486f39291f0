/* test_freyr.c - the Freyr policy: MLP gradients and Adam, the masked softmax, the PPO loss and its
 * gradient, PPO on a toy task with a known best action. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "freyr/mlp.h"
#include "freyr/ppo.h"

static gsl_rng *rng_new(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

static double rel_err(double a, double b)
{
    return fabs(a - b) / fmax(1e-6, fabs(a) + fabs(b));
}

/* ---- MLP ---- */

static double weighted_out(freyr_mlp *m, const double *x, size_t batch, const double *c)
{
    const double *y = freyr_mlp_forward(m, x, batch, NULL);
    double s = 0.0;
    for (size_t i = 0; i < batch * (size_t)m->sizes[m->n_layers]; i++)
        s += c[i] * y[i];
    return s;
}

START_TEST(mlp_gradients_match_finite_differences)
{
    gsl_rng *r = rng_new(7);
    int sizes[4] = {5, 7, 4, 2};
    freyr_mlp m;
    ck_assert_int_eq(freyr_mlp_init(&m, sizes, 3, r, NULL), 0);
    enum { B = 6 };
    double x[B * 5], c[B * 2];
    for (size_t i = 0; i < B * 5; i++)
        x[i] = 2.0 * gsl_rng_uniform(r) - 1.0;
    for (size_t i = 0; i < B * 2; i++)
        c[i] = 2.0 * gsl_rng_uniform(r) - 1.0;

    freyr_mlp_zero_grad(&m);
    weighted_out(&m, x, B, c);
    freyr_mlp_backward(&m, c);
    double *an = malloc(m.n_params * sizeof *an);
    memcpy(an, m.g, m.n_params * sizeof *an);

    const double h = 1e-6;
    for (size_t k = 0; k < m.n_params; k++) {
        double w0 = m.w[k];
        m.w[k] = w0 + h;
        double lp = weighted_out(&m, x, B, c);
        m.w[k] = w0 - h;
        double lm = weighted_out(&m, x, B, c);
        m.w[k] = w0;
        double num = (lp - lm) / (2 * h);
        ck_assert_msg(rel_err(num, an[k]) < 1e-6 || fabs(num - an[k]) < 1e-9,
                      "param %zu: numeric %.10g analytic %.10g", k, num, an[k]);
    }
    /* gradients accumulate until zeroed */
    freyr_mlp_backward(&m, c);
    for (size_t k = 0; k < m.n_params; k++)
        ck_assert(fabs(m.g[k] - 2 * an[k]) < 1e-12);
    free(an);
    freyr_mlp_free(&m);
    gsl_rng_free(r);
}
END_TEST

START_TEST(mlp_forward_matches_hand_computation)
{
    /* 2 -> 1 (tanh) -> 1 with chosen weights */
    int sizes[3] = {2, 1, 1};
    freyr_mlp m;
    ck_assert_int_eq(freyr_mlp_init(&m, sizes, 2, NULL, NULL), 0);
    ck_assert_uint_eq(m.n_params, 2 + 1 + 1 + 1);
    m.w[m.off_w[0]] = 0.5;
    m.w[m.off_w[0] + 1] = -1.0;
    m.w[m.off_b[0]] = 0.25;
    m.w[m.off_w[1]] = 2.0;
    m.w[m.off_b[1]] = -0.5;
    double x[4] = {1.0, 2.0, -1.0, 0.0};
    const double *y = freyr_mlp_forward(&m, x, 2, NULL);
    ck_assert_double_eq_tol(y[0], 2.0 * tanh(0.5 - 2.0 + 0.25) - 0.5, 1e-15);
    ck_assert_double_eq_tol(y[1], 2.0 * tanh(-0.5 + 0.25) - 0.5, 1e-15);
    freyr_mlp_free(&m);
}
END_TEST

START_TEST(adam_first_steps)
{
    freyr_adam a;
    ck_assert_int_eq(freyr_adam_init(&a, 3, 0.1, NULL), 0);
    double w[3] = {1.0, 1.0, 1.0}, g[3] = {2.0, -0.5, 0.0};
    freyr_adam_step(&a, w, g);
    /* bias-corrected first step: w -= lr * g / (|g| + eps) */
    ck_assert_double_eq_tol(w[0], 0.9, 1e-7);
    ck_assert_double_eq_tol(w[1], 1.1, 1e-7);
    ck_assert_double_eq_tol(w[2], 1.0, 1e-15);
    /* second step with the same gradient moves by lr again */
    freyr_adam_step(&a, w, g);
    ck_assert_double_eq_tol(w[0], 0.8, 1e-7);
    freyr_adam_free(&a);
}
END_TEST

/* ---- masked softmax and acting ---- */

START_TEST(masked_log_softmax_excludes_masked)
{
    double z[4] = {1.0, 1000.0, 2.0, 3.0}, lp[4];
    unsigned char mask[4] = {1, 0, 1, 1};
    ck_assert_int_eq(freyr_masked_log_softmax(z, mask, 4, lp), 3);
    double s = exp(1) + exp(2) + exp(3);
    ck_assert_double_eq_tol(lp[0], 1.0 - log(s), 1e-12);
    ck_assert_double_eq_tol(lp[3], 3.0 - log(s), 1e-12);
    ck_assert(isinf(lp[1]) && lp[1] < 0);
    ck_assert_int_eq(freyr_pick(lp, 4, NULL), 3);
    unsigned char none[4] = {0, 0, 0, 0};
    ck_assert_int_eq(freyr_masked_log_softmax(z, none, 4, lp), 0);

    /* sampling follows the probabilities and never picks a masked candidate */
    gsl_rng *r = rng_new(3);
    freyr_masked_log_softmax(z, mask, 4, lp);
    int count[4] = {0};
    for (int i = 0; i < 20000; i++)
        count[freyr_pick(lp, 4, r)]++;
    ck_assert_int_eq(count[1], 0);
    ck_assert_double_eq_tol(count[3] / 20000.0, exp(3) / s, 0.02);
    ck_assert_double_eq_tol(count[0] / 20000.0, exp(1) / s, 0.02);
    gsl_rng_free(r);
}
END_TEST

/* ---- PPO ---- */

enum { NF = 6 };


/* A toy contextual bandit over the 64 candidates: context c in 0..3 (one-hot features); the best
 * candidate has cpu index 2c and memory index 7-2c; reward 1 - (|dcpu| + |dmem|) / 2. About 85% of
 * the candidates are masked out at each step, never the best. */
static void toy_state(gsl_rng *r, double *x, unsigned char *mask, int *best)
{
    int c = (int)gsl_rng_uniform_int(r, 4);
    *best = (2 * c) * 8 + (7 - 2 * c);
    for (int j = 0; j < FREYR_NCAND; j++) {
        for (int k = 0; k < 4; k++)
            x[j * NF + k] = k == c;
        x[j * NF + 4] = (j / 8) / 7.0;
        x[j * NF + 5] = (j % 8) / 7.0;
        mask[j] = gsl_rng_uniform(r) < 0.15;
    }
    mask[*best] = 1;
}

static double toy_reward(int a, int best)
{
    return 1.0 - (abs(a / 8 - best / 8) + abs(a % 8 - best % 8)) / 2.0;
}

/* Trains for `updates` batches of 32 one-step episodes; returns greedy accuracy on 400 states. */
static double toy_train(unsigned long seed, int updates, freyr_agent *out_agent)
{
    gsl_rng *r = rng_new(seed);
    freyr_ppo_params hp = freyr_ppo_defaults();
    hp.lr = 1e-2;
    freyr_agent a;
    ck_assert_int_eq(freyr_agent_init(&a, NF, &hp, r, NULL), 0);
    freyr_traj t;
    freyr_traj_init(&t, NF);
    double x[FREYR_NCAND * NF], lp[FREYR_NCAND];
    unsigned char mask[FREYR_NCAND];
    int best;
    for (int u = 0; u < updates; u++) {
        freyr_traj_clear(&t);
        for (int s = 0; s < 32; s++) {
            toy_state(r, x, mask, &best);
            double v;
            ck_assert_int_eq(freyr_agent_policy(&a, x, mask, lp, NULL), 0);
            ck_assert_int_eq(freyr_agent_value(&a, x, &v, NULL), 0);
            int act = freyr_pick(lp, FREYR_NCAND, r);
            ck_assert(mask[act]);
            ck_assert_int_eq(freyr_traj_push(&t, x, mask, act, lp[act], v, NULL), 0);
            t.reward[t.n - 1] = toy_reward(act, best);
            t.done[t.n - 1] = 1;
        }
        freyr_ppo_stats st;
        ck_assert_int_eq(freyr_ppo_update(&a, &t, &st, NULL), 0);
        ck_assert(isfinite(st.loss));
    }
    int hit = 0;
    for (int s = 0; s < 400; s++) {
        toy_state(r, x, mask, &best);
        freyr_agent_policy(&a, x, mask, lp, NULL);
        hit += freyr_pick(lp, FREYR_NCAND, NULL) == best;
    }
    freyr_traj_free(&t);
    gsl_rng_free(r);
    if (out_agent)
        *out_agent = a;
    else
        freyr_agent_free(&a);
    return hit / 400.0;
}

START_TEST(ppo_learns_contextual_bandit)
{
    double before = toy_train(11, 0, NULL);
    double after = toy_train(11, 150, NULL);
    ck_assert_msg(before < 0.2, "untrained accuracy %.3f", before);
    ck_assert_msg(after > 0.9, "trained accuracy %.3f", after);
}
END_TEST

START_TEST(ppo_is_deterministic_for_a_seed)
{
    freyr_agent a, b, c;
    toy_train(5, 20, &a);
    toy_train(5, 20, &b);
    toy_train(6, 20, &c);
    ck_assert_uint_eq(a.actor.n_params, b.actor.n_params);
    ck_assert(memcmp(a.actor.w, b.actor.w, a.actor.n_params * sizeof(double)) == 0);
    ck_assert(memcmp(a.critic.w, b.critic.w, a.critic.n_params * sizeof(double)) == 0);
    ck_assert(memcmp(a.actor.w, c.actor.w, a.actor.n_params * sizeof(double)) != 0);
    freyr_agent_free(&a);
    freyr_agent_free(&b);
    freyr_agent_free(&c);
}
END_TEST

static double ppo_loss_at(freyr_agent *a, const freyr_traj *t, const double *ret, const double *adv)
{
    freyr_ppo_stats st;
    ck_assert_int_eq(freyr_ppo_loss(a, t, ret, adv, &st, NULL), 0);
    return st.loss;
}

START_TEST(ppo_loss_gradient_matches_finite_differences)
{
    gsl_rng *r = rng_new(21);
    freyr_ppo_params hp = freyr_ppo_defaults();
    hp.entropy_coef = 0.3;             /* large, so the entropy term is checked too */
    freyr_agent a;
    ck_assert_int_eq(freyr_agent_init(&a, NF, &hp, r, NULL), 0);
    freyr_traj t;
    freyr_traj_init(&t, NF);
    double x[FREYR_NCAND * NF], lp[FREYR_NCAND];
    unsigned char mask[FREYR_NCAND];
    int best;
    enum { T = 8 };
    for (int s = 0; s < T; s++) {
        toy_state(r, x, mask, &best);
        for (int j = 0; j < FREYR_NCAND * NF; j++)
            x[j] += 0.3 * (gsl_rng_uniform(r) - 0.5);
        if (s == 3)                    /* a step with a single allowed candidate */
            for (int j = 0; j < FREYR_NCAND; j++)
                mask[j] = j == best;
        freyr_agent_policy(&a, x, mask, lp, NULL);
        int act = freyr_pick(lp, FREYR_NCAND, r);
        /* old log-probabilities away from the current ones, so that some ratios are clipped */
        double old = lp[act] + (s % 3 == 0 ? 0.0 : (s % 3 == 1 ? 0.5 : -0.5));
        freyr_traj_push(&t, x, mask, act, old, gsl_rng_uniform(r), NULL);
        t.reward[s] = gsl_rng_uniform(r) * 2.0 - 1.0;
        t.done[s] = s % 4 == 3;
    }
    double ret[T], adv[T];
    freyr_ppo_targets(&a, &t, ret, adv);
    /* returns restart after each done step */
    ck_assert_double_eq_tol(ret[3], t.reward[3], 1e-15);
    ck_assert_double_eq_tol(ret[2], t.reward[2] + t.reward[3], 1e-15);
    freyr_ppo_stats st;
    ck_assert_int_eq(freyr_ppo_loss(&a, &t, ret, adv, &st, NULL), 0);
    ck_assert(st.clip_frac > 0.0 && st.clip_frac < 1.0);
    double *ga = malloc(a.actor.n_params * sizeof *ga), *gc = malloc(a.critic.n_params * sizeof *gc);
    memcpy(ga, a.actor.g, a.actor.n_params * sizeof *ga);
    memcpy(gc, a.critic.g, a.critic.n_params * sizeof *gc);

    const double h = 1e-6;
    freyr_mlp *nets[2] = {&a.actor, &a.critic};
    double *grads[2] = {ga, gc};
    for (int n = 0; n < 2; n++) {
        freyr_mlp *m = nets[n];
        for (size_t k = 0; k < m->n_params; k++) {
            if (k % 7 != 0 && k != m->n_params - 1)
                continue;              /* every 7th parameter (all layers) and the last one */
            double w0 = m->w[k];
            m->w[k] = w0 + h;
            double lp_ = ppo_loss_at(&a, &t, ret, adv);
            m->w[k] = w0 - h;
            double lm = ppo_loss_at(&a, &t, ret, adv);
            m->w[k] = w0;
            double num = (lp_ - lm) / (2 * h);
            ck_assert_msg(rel_err(num, grads[n][k]) < 1e-5 || fabs(num - grads[n][k]) < 1e-8,
                          "net %d param %zu: numeric %.10g analytic %.10g", n, k, num, grads[n][k]);
        }
    }
    free(ga);
    free(gc);
    freyr_traj_free(&t);
    freyr_agent_free(&a);
    gsl_rng_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("freyr");
    TCase *tc = tcase_create("nn");
    tcase_add_test(tc, mlp_gradients_match_finite_differences);
    tcase_add_test(tc, mlp_forward_matches_hand_computation);
    tcase_add_test(tc, adam_first_steps);
    tcase_add_test(tc, masked_log_softmax_excludes_masked);
    tcase_add_test(tc, ppo_loss_gradient_matches_finite_differences);
    tcase_add_test(tc, ppo_learns_contextual_bandit);
    tcase_add_test(tc, ppo_is_deterministic_for_a_seed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

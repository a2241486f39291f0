/* ppo.h - the Freyr agent: a score network shared across the candidate allocations, a critic of
 * the same shape, a masked softmax over candidates, and proximal policy optimisation (PPO, clipped
 * objective) over recorded trajectories.
 *
 * A state is FREYR_NCAND rows of n_feat features (one row per candidate allocation) and a mask of
 * the allowed candidates. The actor scores each row (MLP n_feat -> 32 -> 16 -> 1, tanh); the policy
 * is the softmax of the scores over the allowed rows. The critic has the same shape; the state value
 * is the mean of its 64 outputs (as in the Freyr artifact).
 *
 * Masks are applied per step, exactly: a masked-out candidate has probability 0 and contributes
 * nothing to the log-probability, entropy or gradients of that step. (The artifact added a [T,64]
 * mask to [T,1,64] logits, which broadcast to [T,T,64]; that is not reproduced.) */
#ifndef FREYR_PPO_H
#define FREYR_PPO_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "hb_error.h"
#include "mlp.h"

#define FREYR_NCAND 64                 /* 8 cores x 8 memory units */
#define FREYR_HIDDEN1 32
#define FREYR_HIDDEN2 16

typedef struct freyr_ppo_params {
    double lr;                         /* Adam learning rate */
    double clip;                       /* PPO ratio clip */
    int epochs;                        /* passes over a trajectory per update */
    double gamma;                      /* discount */
    double lambda;                     /* GAE weight; 1: advantage = return - value (the artifact's) */
    double value_coef;
    double entropy_coef;
    int normalize_adv;                 /* 1: advantages scaled to mean 0, std 1 per update */
    int minibatch;                     /* steps per minibatch (shuffled); 0: one full batch */
} freyr_ppo_params;

/* clip 0.2, 4 epochs in minibatches of 64 steps, discount 0, GAE lambda 0.9 (no effect at discount
 * 0), value 0.5, entropy 0.01, lr 1e-3, advantages normalised. Freyr used discount 1 and one full
 * batch per epoch. With each call's reward credited to the decision that sized it, discount 0 makes
 * a decision's advantage its own call's reward less the critic's expectation of it. With discount
 * 1 the critic, which does not see how much of the episode is left, must learn the average return
 * to go (tens to hundreds; bootstrapped with lambda < 1 it climbs towards it by about its lag each
 * update), and the advantages carry the rewards of later, unrelated calls
 * (docs/policies.md, "freyr"). */
freyr_ppo_params freyr_ppo_defaults(void);

typedef struct freyr_agent {
    int n_feat;
    freyr_mlp actor, critic;
    freyr_adam adam_actor, adam_critic;
    freyr_ppo_params hp;
    double *xs, *zs;                   /* scratch of freyr_agent_policy: the allowed rows */
} freyr_agent;

/* Networks initialised from rng (actor first, then critic). */
int freyr_agent_init(freyr_agent *a, int n_feat, const freyr_ppo_params *hp, gsl_rng *rng,
                     hb_error *err);
void freyr_agent_free(freyr_agent *a);

/* Masked log-softmax of n scores: logp[j] for allowed j, -INFINITY for the others.
 * Returns the number of allowed entries (0: logp untouched). */
int freyr_masked_log_softmax(const double *z, const unsigned char *mask, int n, double *logp);

/* The policy at one state: logp[FREYR_NCAND] (masked: -INFINITY). x is FREYR_NCAND x n_feat.
 * HB_EINPUT if no candidate is allowed. */
int freyr_agent_policy(freyr_agent *a, const double *x, const unsigned char *mask, double *logp,
                       hb_error *err);
/* The critic's value of one state. */
int freyr_agent_value(freyr_agent *a, const double *x, double *value, hb_error *err);

/* The candidate with the highest probability (lowest index on ties), or, with rng, a sample. */
int freyr_pick(const double *logp, int n, gsl_rng *rng);

/* ---- trajectories ---- */

typedef struct freyr_traj {
    int n_feat;
    size_t n, cap;
    double *x;                         /* n x FREYR_NCAND x n_feat */
    unsigned char *mask;               /* n x FREYR_NCAND */
    int *action;
    double *logp;                      /* log-probability of the action when it was taken */
    double *value;                     /* critic's value when it was taken */
    double *reward;                    /* reward credited to the step */
    unsigned char *done;               /* 1: an episode ends after this step */
} freyr_traj;

void freyr_traj_init(freyr_traj *t, int n_feat);
void freyr_traj_free(freyr_traj *t);
void freyr_traj_clear(freyr_traj *t);
/* Appends a step with reward 0 and done 0. */
int freyr_traj_push(freyr_traj *t, const double *x, const unsigned char *mask, int action,
                    double logp, double value, hb_error *err);

typedef struct freyr_ppo_stats {
    double loss;                       /* total loss, mean over epochs */
    double policy_loss, value_loss, entropy;
    double approx_kl;                  /* mean (old logp - new logp), at the last pass */
    double clip_frac;                  /* share of steps whose ratio left [1-clip, 1+clip], same */
    double mean_return;
} freyr_ppo_stats;

/* Returns to go (ret) and advantages (adv), t->n entries each: see freyr_ppo_update. */
void freyr_ppo_targets(const freyr_agent *a, const freyr_traj *t, double *ret, double *adv);
/* The PPO loss of the steps idx[0..n-1] of t (idx NULL: all t->n steps, n ignored) under the
 * current networks for the given targets (indexed like t; stats filled), and its gradient in
 * a->actor.g and a->critic.g. Means are over those steps. */
int freyr_ppo_loss(freyr_agent *a, const freyr_traj *t, const size_t *idx, size_t n,
                   const double *ret, const double *adv, freyr_ppo_stats *st, hb_error *err);

/* Advantages by GAE(gamma, lambda) over the recorded values (episodes end at done steps and at the
 * last step; lambda 1 gives return to go - value), normalised if hp.normalize_adv; value targets =
 * advantage + recorded value (before normalisation). Then hp.epochs passes over the trajectory,
 * each in minibatches of hp.minibatch steps (the steps shuffled with rng each pass; rng NULL: in
 * order; minibatch 0 or >= t->n: one full batch): per minibatch, loss = -mean(min(r A, clip(r) A))
 * + value_coef * mean SmoothL1(V, return) - entropy_coef * mean entropy, one Adam step for each
 * network. Stats: means over the minibatches of the last pass (loss terms over all passes). */
int freyr_ppo_update(freyr_agent *a, const freyr_traj *t, gsl_rng *rng, freyr_ppo_stats *st,
                     hb_error *err);

#endif

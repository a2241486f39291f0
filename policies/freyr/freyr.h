/* freyr.h - the Freyr policy (Yu et al., WWW'22) as seen by its trainer: a policy instance bound to
 * an agent that the trainer owns across episodes, which records its decisions into a trajectory.
 * The registered table hb_policy_freyr (policies.h) loads its agent from [policy.freyr] checkpoint. */
#ifndef FREYR_FREYR_H
#define FREYR_FREYR_H

#include "features.h"
#include "hb_policy.h"
#include "ppo.h"

extern const hb_policy_ops hb_policy_freyr;   /* also listed in policies/policies.h */

typedef struct freyr_policy freyr_policy;

/* Which decision an ended call's reward is credited to. */
typedef enum freyr_credit {
    FREYR_CREDIT_CALL,                 /* the decision that sized the call */
    FREYR_CREDIT_STEP,                 /* the artifact's: the last decision before the call ended */
} freyr_credit;

/* An instance bound to an agent and normalisation that stay the caller's (ctx->params is not read).
 * With traj, a training instance: every decision is appended to traj, and each ended call's reward
 * is added to the reward of the decision `credit` names. sample: draw decisions from the policy with
 * ctx->rng (training does), else take the most probable candidate. Destroy it with
 * hb_policy_freyr.destroy. */
int freyr_policy_bind(const hb_policy_ctx *ctx, freyr_agent *agent, const freyr_norm *norm,
                      freyr_traj *traj, freyr_credit credit, int sample, freyr_policy **out,
                      hb_error *err);
/* Credits any reward still pending to the last decision, marks the episode's end in the
 * trajectory, and returns the episode's total reward (sum over its ended calls). */
double freyr_policy_finish(freyr_policy *p);
/* Calls ended so far and how many decisions the safeguard forced to the user allocation. */
long freyr_policy_completed(const freyr_policy *p);
long freyr_policy_forced(const freyr_policy *p);

#endif

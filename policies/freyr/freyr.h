/* freyr.h - the Freyr policy (Yu et al., WWW'22) as seen by its trainer: a policy instance bound to
 * an agent that the trainer owns across episodes, which records its decisions into a trajectory.
 * The registered table hb_policy_freyr (policies.h) loads its agent from [policy.freyr] checkpoint. */
#ifndef FREYR_FREYR_H
#define FREYR_FREYR_H

#include "features.h"
#include "hb_policy.h"
#include "ppo.h"

typedef struct freyr_policy freyr_policy;

/* A training instance: decisions are sampled from the agent with ctx->rng and every decision is
 * appended to traj with the reward of the calls that ended before the next decision. agent, norm
 * and traj stay the caller's. ctx->params is not read. */
int freyr_policy_open_training(const hb_policy_ctx *ctx, freyr_agent *agent, const freyr_norm *norm,
                               freyr_traj *traj, freyr_policy **out, hb_error *err);
/* Credits the reward still pending to the last decision, marks the episode's end in the
 * trajectory, and returns the episode's total reward (sum over its ended calls). */
double freyr_policy_finish(freyr_policy *p);
/* Calls ended so far and how many decisions the safeguard forced to the user allocation. */
long freyr_policy_completed(const freyr_policy *p);
long freyr_policy_forced(const freyr_policy *p);

#endif

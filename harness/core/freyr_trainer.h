/* freyr_trainer.h - PPO training of the Freyr policy in the simulator (docs/policies.md, "freyr"),
 * without its command line (harness/cli/cmd_train_freyr.c parses the flags and prints).
 *
 * Each episode replays the experiment's trace once, through hb_experiment_run on the simulator,
 * with a Freyr instance in training mode (it samples its decisions and records them); then one PPO
 * update runs over that episode's trajectory. Episode k (0-based) uses the run seed
 * hb_seed_derive(seed, "freyr:train") + k (new input sizes and run-to-run variation each episode),
 * or with vary = 0 that seed every time; the policy's draws come from a new stream every episode,
 * hb_seed_derive(seed, "freyr:draws") + k. Every eval_every episodes (and before the first) the
 * current networks are evaluated, taking the most probable candidate, on three held-out seeds
 * hb_seed_derive(seed, "freyr:eval") + j: that is the learning curve. No training or evaluation
 * seed is a seed of `run` (those are small integers). The networks start from
 * hb_rng_new(seed, "freyr:init"); the PPO minibatches are shuffled with hb_rng_new(seed,
 * "freyr:minibatch"). Same experiment, seed and options: the same networks, bit for bit. */
#ifndef HB_FREYR_TRAINER_H
#define HB_FREYR_TRAINER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "experiment.h"
#include "freyr/freyr.h"
#include "freyr/ppo.h"

/* One line of the learning curve: an episode ("train") or an evaluation ("eval", means over the
 * held-out seeds; counts summed). */
typedef struct hb_freyr_row {
    const char *kind;                  /* "train" or "eval" */
    long episode;                      /* train: 1-based; eval: episodes done before it */
    uint64_t seed;                     /* train: the run seed */
    double reward, loss, entropy, kl, clip_frac;   /* loss..clip_frac: train only */
    double mean_latency_ms, p99_latency_ms, cpu_util_alloc, mem_util_alloc;
    long steps, forced;
    uint64_t failed, oom;
} hb_freyr_row;

typedef struct hb_freyr_train_spec {
    hb_experiment *x;                  /* prepared; its [experiment] policies, seeds and seed are
                                        * set for each replay */
    long episodes;
    uint64_t seed;
    int vary;                          /* 1: a new run seed every episode */
    long eval_every;                   /* 0: never */
    freyr_credit credit;
    freyr_ppo_params hp;
    volatile sig_atomic_t *stop;       /* HB_EINTR when set */
    void (*on_row)(void *ctx, const hb_freyr_row *row);   /* every row, in order */
    void *on_row_ctx;
} hb_freyr_train_spec;

/* The PPO parameters of the flags: --lr; with credit step the artifact's discount 1 and lambda 1
 * (a step's reward is then other decisions' calls: only returns over the rest of the episode reach
 * the decision that caused them); gamma and lambda >= 0 override; minibatch. */
freyr_ppo_params hb_freyr_ppo_params(freyr_credit credit, double lr, double gamma, double lambda,
                                     int minibatch);

/* The learning curve as CSV (train freyr --curve): the header, and one row. */
void hb_freyr_curve_header(FILE *f);
void hb_freyr_curve_row(FILE *f, const hb_freyr_row *r);

/* Trains; on success the networks are in *agent (freed with freyr_agent_free), *norm the
 * feature normalisation, *first and *last the held-out reward before and after (NAN without
 * evaluations). */
int hb_freyr_train(const hb_freyr_train_spec *s, freyr_agent *agent, freyr_norm *norm,
                   double *first, double *last, hb_error *err);

#endif

/* train_freyr.c - `harvestbench train freyr CONFIG --episodes N --out FILE`: PPO training of the
 * Freyr policy in the simulator (docs/policies.md, "freyr").
 *
 * Each episode replays the configuration's trace once on the simulator with a Freyr instance in
 * training mode (it samples its decisions and records them), then one PPO update runs over that
 * episode's trajectory. Episode k (0-based) uses the run seed hb_seed_derive(seed, "freyr:train") + k
 * (new input sizes and run-to-run variation each episode), or with --fixed-seed that seed every time;
 * the policy's draws come from a new stream every episode, hb_seed_derive(seed, "freyr:draws") + k. Every --eval-every episodes (and before the first) the
 * current networks are evaluated, taking the most probable candidate, on three held-out seeds
 * hb_seed_derive(seed, "freyr:eval") + j: that is the learning curve. No training or evaluation
 * seed is a seed of `run` (those are small integers). The networks start from
 * hb_rng_new(seed, "freyr:init"); the PPO minibatches are shuffled with hb_rng_new(seed,
 * "freyr:minibatch"). Same config, seed and options: the same checkpoint, byte for byte. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "engine.h"
#include "experiment.h"
#include "freyr/checkpoint.h"
#include "freyr/freyr.h"
#include "policies.h"
#include "registry.h"
#include "seed.h"
#include "stop_signal.h"
#include "train.h"

/* What every replay of a training run shares. */
typedef struct trainer {
    hb_experiment *x;
    const hb_backend_ops *sim;
    freyr_credit credit;
    volatile sig_atomic_t *stop;       /* set by SIGINT/SIGTERM (stop_signal.h) */
} trainer;

static const char HELP[] =
    "usage: harvestbench train freyr CONFIG --out FILE [--episodes N] [--seed S] [--lr X]\n"
    "                                [--gamma G] [--lambda L] [--minibatch M]\n"
    "                                [--credit call|step] [--fixed-seed]\n"
    "                                [--eval-every K] [--set S.K=V]... [--curve CSV] [--quiet]\n"
    "\n"
    "Trains the Freyr policy with PPO in the simulator: each episode replays CONFIG's trace once\n"
    "with the policy sampling its decisions, then updates the networks on that episode. Prints one\n"
    "line per episode (reward, loss, entropy, mean latency, utilization) and saves the checkpoint\n"
    "that [policy.freyr] checkpoint = FILE loads (format: docs/policies.md).\n"
    "\n"
    "  --out FILE      checkpoint to write (JSON)\n"
    "  --episodes N    episodes (default 50)\n"
    "  --seed S        training seed (default: [experiment] seed of CONFIG)\n"
    "  --lr X          Adam learning rate (default 0.001)\n"
    "  --gamma G       discount (default 0: a decision's advantage is its own call's reward\n"
    "                  less the critic's estimate; the artifact's was 1)\n"
    "  --lambda L      GAE lambda (default 0.9, no effect at discount 0; 1: advantage =\n"
    "                  return - value, the artifact's)\n"
    "  --minibatch M   steps per PPO minibatch, shuffled (default 64; 0: one full batch per\n"
    "                  epoch, the artifact's)\n"
    "  --credit C      call: a call's reward goes to the decision that sized it (default);\n"
    "                  step: to the last decision before it ended (the artifact's; its\n"
    "                  defaults then become the artifact's --gamma 1 --lambda 1)\n"
    "  --fixed-seed    the same simulation seed every episode (default: a new one each)\n"
    "  --eval-every K  evaluate the most-probable-candidate policy on 3 held-out seeds every K\n"
    "                  episodes and before the first (default 5; 0: never)\n"
    "  --set S.K=V     override one configuration key (repeatable), as in `run`\n"
    "  --curve CSV     also write the per-episode figures to CSV\n"
    "  --quiet         no per-episode lines\n"
    "\n"
    "PPO: clip 0.2, 4 epochs per episode, value coefficient 0.5, entropy coefficient 0.01, Adam,\n"
    "advantages normalised per episode. The backend is always the simulator.\n"
    "Exit status: 0 saved, 1 a run failed or was interrupted (nothing saved), 2 bad usage or input.\n";

typedef struct episode_row {
    double reward, loss, entropy, kl, clip_frac;
    double mean_latency_ms, p99_latency_ms, cpu_util_alloc, mem_util_alloc;
    long steps, forced;
    uint64_t failed, oom;
} episode_row;

static int parse_num(const char *flag, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi))
        return hb_usage_error("train", "%s: '%s' is not a number in [%g, %g]", flag, s, lo, hi);
    *out = v;
    return 0;
}

/* One replay of the trace with an instance bound to agent: training (traj, sampling) or
 * evaluation (traj NULL, most probable candidate). Fills row's reward and run figures. */
static int replay(const trainer *t, freyr_agent *agent, const freyr_norm *norm,
                  freyr_traj *traj, uint64_t seed, uint64_t draw_seed, int seed_index,
                  episode_row *row, hb_error *err)
{
    hb_experiment *x = t->x;
    const hb_backend_ops *sim = t->sim;
    hb_config *cfg = &x->cfg;
    hb_kvlist *pkv = hb_config_section_kv(cfg, "policy.freyr");
    hb_kvlist *bkv = hb_config_section_kv(cfg, "backend.sim");
    memset(row, 0, sizeof *row);
    gsl_rng *rng = hb_rng_new(draw_seed, "policy:freyr");
    if (!rng)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    hb_policy_ctx ctx;
    hb_engine_policy_ctx(cfg, "freyr", pkv, rng, traj != NULL, sim->caps, &ctx);
    freyr_policy *p = NULL;
    if (traj)
        freyr_traj_clear(traj);
    int rc = freyr_policy_bind(&ctx, agent, norm, traj, t->credit, traj != NULL, &p, err);
    hb_run_stats st;
    hb_stats_init(&st, 1);
    if (!rc) {
        hb_engine_spec es = {
            .cfg = cfg, .trace = x->trace, .profile = x->profile, .arrival = x->arrival,
            .sizes = x->sizes, .policy = &hb_policy_freyr, .policy_params = pkv,
            .policy_state = p, .backend = sim, .backend_params = bkv, .seed = seed,
            .seed_index = seed_index, .training = traj != NULL, .writer = NULL, .stats = &st,
            .usage = 1, .stop = t->stop,
        };
        rc = hb_engine_run(&es, err);
    }
    if (!rc) {
        row->reward = freyr_policy_finish(p);
        row->steps = (long)st.invocations;
        row->forced = freyr_policy_forced(p);
        row->failed = st.invocations - st.outcomes[HB_SUCCESS];
        row->oom = st.outcomes[HB_OOM];
        row->mean_latency_ms = st.n_success ? st.lat_sum / (double)st.n_success : NAN;
        row->p99_latency_ms = hb_stats_latency_pct(&st, 0.99);
        row->cpu_util_alloc = st.cpu_alloc_core_s > 0 ? st.cpu_used_core_s / st.cpu_alloc_core_s : NAN;
        row->mem_util_alloc = st.mem_alloc_mb_s > 0 ? st.mem_used_mb_s / st.mem_alloc_mb_s : NAN;
    }
    if (p)
        hb_policy_freyr.destroy(p);
    hb_stats_free(&st);
    gsl_rng_free(rng);
    return rc;
}

#define EVAL_SEEDS 3

/* The most-probable-candidate policy on the held-out seeds: means of their rows. */
static int evaluate(const trainer *t, freyr_agent *agent, const freyr_norm *norm, uint64_t seed,
                    episode_row *mean, hb_error *err)
{
    memset(mean, 0, sizeof *mean);
    uint64_t base = hb_seed_derive(seed, "freyr:eval");
    for (int j = 0; j < EVAL_SEEDS; j++) {
        episode_row r;
        int rc = replay(t, agent, norm, NULL, base + (uint64_t)j, base + (uint64_t)j, j + 1, &r,
                        err);
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

static void print_eval(long after, const episode_row *e)
{
    printf("eval after %4ld episodes: reward %10.3f  latency mean %8.1f ms p99 %8.1f ms  "
           "cpu util %.3f  mem util %.3f  failed %llu/%ld (oom %llu)\n",
           after, e->reward, e->mean_latency_ms, e->p99_latency_ms, e->cpu_util_alloc,
           e->mem_util_alloc, (unsigned long long)e->failed, e->steps, (unsigned long long)e->oom);
}

static char *join_args(int argc, char **argv)
{
    size_t n = strlen("harvestbench train") + 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    char *s = malloc(n);
    if (!s)
        return NULL;
    strcpy(s, "harvestbench train");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

static int train_main(int argc, char **argv, const char *cmd);

int hb_train_freyr(int argc, char **argv)
{
    /* the command as typed, for the checkpoint (getopt_long permutes argv) */
    char *cmd = join_args(argc, argv);
    if (!cmd) {
        fprintf(stderr, "harvestbench train freyr: out of memory\n");
        return 1;
    }
    int status = train_main(argc, argv, cmd);
    free(cmd);
    return status;
}

static int train_main(int argc, char **argv, const char *cmd)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},   {"episodes", required_argument, NULL, 'e'},
        {"seed", required_argument, NULL, 's'},  {"lr", required_argument, NULL, 'l'},
        {"curve", required_argument, NULL, 'c'}, {"quiet", no_argument, NULL, 'q'},
        {"fixed-seed", no_argument, NULL, 'v'},  {"lambda", required_argument, NULL, 'L'},
        {"credit", required_argument, NULL, 'C'}, {"set", required_argument, NULL, 'S'},
        {"eval-every", required_argument, NULL, 'E'}, {"gamma", required_argument, NULL, 'g'},
        {"minibatch", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *curve = NULL;
    double episodes = 50, seed_flag = -1, lr = 1e-3, eval_every = 5;
    double lambda = -1, gamma = -1, minibatch = freyr_ppo_defaults().minibatch;
    int quiet = 0, vary = 1, c;
    freyr_credit credit = FREYR_CREDIT_CALL;
    const char *sets[64];
    int n_sets = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:e:s:l:c:qvE:L:C:S:g:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'v': vary = 0; break;
        case 'S':
            if (n_sets == 64)
                return hb_usage_error("train", "more than 64 --set flags");
            sets[n_sets++] = optarg;
            break;
        case 'C':
            if (strcmp(optarg, "call") == 0)
                credit = FREYR_CREDIT_CALL;
            else if (strcmp(optarg, "step") == 0)
                credit = FREYR_CREDIT_STEP;
            else
                return hb_usage_error("train", "--credit: '%s' is not call or step", optarg);
            break;
        case 'L':
            if (parse_num("--lambda", optarg, 0, 1, &lambda))
                return 2;
            break;
        case 'g':
            if (parse_num("--gamma", optarg, 0, 1, &gamma))
                return 2;
            break;
        case 'm':
            if (parse_num("--minibatch", optarg, 0, 1000000, &minibatch) || minibatch != floor(minibatch))
                return minibatch != floor(minibatch) ? hb_usage_error("train", "--minibatch: not a whole number") : 2;
            break;
        case 'E':
            if (parse_num("--eval-every", optarg, 0, 100000, &eval_every) || eval_every != floor(eval_every))
                return eval_every != floor(eval_every) ? hb_usage_error("train", "--eval-every: not a whole number") : 2;
            break;
        case 'c': curve = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(HELP, stdout); return 0;
        case 'e':
            if (parse_num("--episodes", optarg, 1, 100000, &episodes) || episodes != floor(episodes))
                return episodes != floor(episodes) ? hb_usage_error("train", "--episodes: not a whole number") : 2;
            break;
        case 's':
            if (parse_num("--seed", optarg, 0, 4294967295.0, &seed_flag) || seed_flag != floor(seed_flag))
                return seed_flag != floor(seed_flag) ? hb_usage_error("train", "--seed: not a whole number") : 2;
            break;
        case 'l':
            if (parse_num("--lr", optarg, 1e-9, 1.0, &lr))
                return 2;
            break;
        default:
            return hb_usage_error("train", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return hb_usage_error("train", optind >= argc ? "freyr: missing CONFIG" : "freyr: unexpected argument '%s'",
                              argv[optind >= argc ? 0 : optind + 1]);
    if (!out)
        return hb_usage_error("train", "freyr: --out FILE is required");
    const char *config_path = argv[optind];

    hb_error err;
    hb_error_clear(&err);
    hb_experiment x;
    memset(&x, 0, sizeof x);
    int rc = hb_config_load(config_path, &x.cfg, &err);
    for (int i = 0; i < n_sets && !rc; i++)
        rc = hb_config_set(&x.cfg, sets[i], &err);
    if (!rc)
        rc = hb_experiment_prepare(&x, &err);
    const hb_backend_ops *sim = hb_backend_find("sim");
    if (!rc && !sim)
        rc = hb_fail(&err, HB_EINPUT, "the simulator backend is not in this build");
    if (rc) {
        fprintf(stderr, "harvestbench train freyr: %s\n", err.msg);
        hb_experiment_free(&x);
        return hb_exit_status(rc);
    }
    uint64_t seed = seed_flag >= 0 ? (uint64_t)seed_flag : x.cfg.seed;

    FILE *cf = NULL;
    if (curve && !(cf = fopen(curve, "w"))) {
        fprintf(stderr, "harvestbench train freyr: %s: cannot write\n", curve);
        hb_experiment_free(&x);
        return 2;
    }
    if (cf)
        fprintf(cf, "kind,episode,seed,reward,loss,entropy,approx_kl,clip_frac,calls,forced,failed,"
                    "oom,mean_latency_ms,p99_latency_ms,cpu_util_alloc,mem_util_alloc\n");

    freyr_ppo_params hp = freyr_ppo_defaults();
    hp.lr = lr;
    if (credit == FREYR_CREDIT_STEP) {
        /* a step's reward is then other decisions' calls: only returns over the rest of the
         * episode reach the decision that caused them (the artifact's discount 1, lambda 1) */
        hp.gamma = 1.0;
        hp.lambda = 1.0;
    }
    if (gamma >= 0)
        hp.gamma = gamma;
    if (lambda >= 0)
        hp.lambda = lambda;
    hp.minibatch = (int)minibatch;
    freyr_norm norm = freyr_norm_default();
    freyr_agent agent;
    freyr_traj traj;
    freyr_traj_init(&traj, FREYR_NFEAT);
    gsl_rng *init = hb_rng_new(seed, "freyr:init");
    gsl_rng *mb_rng = hb_rng_new(seed, "freyr:minibatch");
    rc = init && mb_rng ? freyr_agent_init(&agent, FREYR_NFEAT, &hp, init, &err)
                        : hb_fail(&err, HB_ENOMEM, "out of memory");
    gsl_rng_free(init);
    if (rc) {
        gsl_rng_free(mb_rng);
        fprintf(stderr, "harvestbench train freyr: %s\n", err.msg);
        if (cf)
            fclose(cf);
        hb_experiment_free(&x);
        return hb_exit_status(rc);
    }

    hb_stop_guard guard;
    trainer tr = {&x, sim, credit, hb_stop_install(&guard)};

    long n_ep = (long)episodes, every = (long)eval_every;
    uint64_t base = hb_seed_derive(seed, "freyr:train");
    uint64_t draws = hb_seed_derive(seed, "freyr:draws");
    double first = NAN, last = NAN;
    if (!quiet)
        printf("training freyr on %s: %ld episodes of %llu calls, seed %llu\n", config_path, n_ep,
               (unsigned long long)x.trace->total, (unsigned long long)seed);
    for (long k = 0; k <= n_ep && !rc; k++) {
        if (every > 0 && (k % every == 0 || k == n_ep)) {
            episode_row ev;
            rc = evaluate(&tr, &agent, &norm, seed, &ev, &err);
            if (rc)
                break;
            if (k == 0)
                first = ev.reward;
            last = ev.reward;
            if (!quiet)
                print_eval(k, &ev);
            if (cf)
                fprintf(cf, "eval,%ld,,%.17g,,,,,%ld,%ld,%llu,%llu,%.17g,%.17g,%.17g,%.17g\n", k,
                        ev.reward, ev.steps, ev.forced, (unsigned long long)ev.failed,
                        (unsigned long long)ev.oom, ev.mean_latency_ms, ev.p99_latency_ms,
                        ev.cpu_util_alloc, ev.mem_util_alloc);
        }
        if (k == n_ep)
            break;
        episode_row row;
        uint64_t ep_seed = vary ? base + (uint64_t)k : base;
        rc = replay(&tr, &agent, &norm, &traj, ep_seed, draws + (uint64_t)k, (int)k + 1, &row,
                    &err);
        freyr_ppo_stats ps;
        if (!rc)
            rc = freyr_ppo_update(&agent, &traj, mb_rng, &ps, &err);
        if (rc)
            break;
        if (!quiet)
            printf("episode %4ld/%ld  reward %10.3f  loss %8.4f  entropy %6.3f  kl %7.4f  "
                   "latency mean %8.1f ms p99 %8.1f ms  cpu util %.3f  forced %ld/%ld  failed %llu (oom %llu)\n",
                   k + 1, n_ep, row.reward, ps.loss, ps.entropy, ps.approx_kl, row.mean_latency_ms,
                   row.p99_latency_ms, row.cpu_util_alloc, row.forced, row.steps,
                   (unsigned long long)row.failed, (unsigned long long)row.oom);
        if (cf)
            fprintf(cf, "train,%ld,%llu,%.17g,%.17g,%.17g,%.17g,%.17g,%ld,%ld,%llu,%llu,%.17g,%.17g,%.17g,%.17g\n",
                    k + 1, (unsigned long long)ep_seed, row.reward, ps.loss, ps.entropy,
                    ps.approx_kl, ps.clip_frac, row.steps, row.forced, (unsigned long long)row.failed,
                    (unsigned long long)row.oom, row.mean_latency_ms, row.p99_latency_ms,
                    row.cpu_util_alloc, row.mem_util_alloc);
        fflush(stdout);
    }
    hb_stop_restore(&guard);
    if (cf && fclose(cf) != 0 && !rc)
        rc = hb_fail(&err, HB_EIO, "%s: write failed", curve);

    if (!rc) {
        freyr_provenance prov = {n_ep, (unsigned long)seed, config_path, cmd};
        rc = freyr_ckpt_save(out, &agent, &norm, &prov, &err);
    }
    if (rc) {
        fprintf(stderr, "harvestbench train freyr: %s%s\n", err.msg,
                rc == HB_EINTR ? " (nothing saved)" : "");
    } else {
        if (every > 0)
            printf("held-out reward: %.3f before training, %.3f after\n", first, last);
        printf("saved %s\n", out);
    }
    freyr_traj_free(&traj);
    freyr_agent_free(&agent);
    gsl_rng_free(mb_rng);
    hb_experiment_free(&x);
    return hb_exit_status(rc);
}

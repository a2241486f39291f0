/* cmd_train_freyr.c - `harvestbench train freyr CONFIG --episodes N --out FILE`: the flags of PPO
 * training of the Freyr policy (docs/policies.md, "freyr"); the training itself is
 * harness/core/freyr_trainer.c. This file parses, prints each episode and saves the checkpoint. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "experiment.h"
#include "freyr/checkpoint.h"
#include "freyr_trainer.h"
#include "stop_signal.h"
#include "train.h"

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

static int parse_num(const char *flag, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi))
        return hb_usage_error("train", "%s: '%s' is not a number in [%g, %g]", flag, s, lo, hi);
    *out = v;
    return 0;
}

/* A whole number in [lo, hi]. */
static int parse_whole(const char *flag, const char *s, double lo, double hi, double *out)
{
    if (parse_num(flag, s, lo, hi, out))
        return 2;
    return *out != floor(*out) ? hb_usage_error("train", "%s: not a whole number", flag) : 0;
}

static int train_main(int argc, char **argv, const char *cmd);

int hb_train_freyr(int argc, char **argv)
{
    /* the command as typed, for the checkpoint (getopt_long permutes argv) */
    char cmd[8192] = "harvestbench train";
    for (int i = 0; i < argc; i++)
        snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " %s", argv[i]);
    return train_main(argc, argv, cmd);
}

/* Where the rows go: the console (unless --quiet) and the --curve file. */
typedef struct sink {
    int quiet;
    FILE *curve;
    long episodes;
} sink;

static void on_row(void *ctx, const hb_freyr_row *r)
{
    const sink *k = ctx;
    int eval = strcmp(r->kind, "eval") == 0;
    if (!k->quiet && eval)
        printf("eval after %4ld episodes: reward %10.3f  latency mean %8.1f ms p99 %8.1f ms  "
               "cpu util %.3f  mem util %.3f  failed %llu/%ld (oom %llu)\n", r->episode, r->reward,
               r->mean_latency_ms, r->p99_latency_ms, r->cpu_util_alloc, r->mem_util_alloc,
               (unsigned long long)r->failed, r->steps, (unsigned long long)r->oom);
    else if (!k->quiet)
        printf("episode %4ld/%ld  reward %10.3f  loss %8.4f  entropy %6.3f  kl %7.4f  "
               "latency mean %8.1f ms p99 %8.1f ms  cpu util %.3f  forced %ld/%ld  failed %llu (oom %llu)\n",
               r->episode, k->episodes, r->reward, r->loss, r->entropy, r->kl, r->mean_latency_ms,
               r->p99_latency_ms, r->cpu_util_alloc, r->forced, r->steps,
               (unsigned long long)r->failed, (unsigned long long)r->oom);
    if (k->curve)
        hb_freyr_curve_row(k->curve, r);
    if (!eval)
        fflush(stdout);
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
            if (parse_whole("--minibatch", optarg, 0, 1000000, &minibatch))
                return 2;
            break;
        case 'E':
            if (parse_whole("--eval-every", optarg, 0, 100000, &eval_every))
                return 2;
            break;
        case 'c': curve = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(HELP, stdout); return 0;
        case 'e':
            if (parse_whole("--episodes", optarg, 1, 100000, &episodes))
                return 2;
            break;
        case 's':
            if (parse_whole("--seed", optarg, 0, 4294967295.0, &seed_flag))
                return 2;
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
    if (!rc) {
        /* training runs on the simulator whatever the config's backend: load its truth model */
        snprintf(x.cfg.backend, sizeof x.cfg.backend, "sim");
        rc = hb_experiment_prepare(&x, &err);
    }
    sink k = {quiet, NULL, (long)episodes};
    if (!rc && curve && !(k.curve = fopen(curve, "w")))
        rc = hb_fail(&err, HB_EINPUT, "%s: cannot write", curve);
    if (rc) {
        fprintf(stderr, "harvestbench train freyr: %s\n", err.msg);
        hb_experiment_free(&x);
        return hb_exit_status(rc);
    }
    if (k.curve)
        hb_freyr_curve_header(k.curve);
    uint64_t seed = seed_flag >= 0 ? (uint64_t)seed_flag : x.cfg.seed;
    freyr_ppo_params hp = hb_freyr_ppo_params(credit, lr, gamma, lambda, (int)minibatch);
    if (!quiet)
        printf("training freyr on %s: %ld episodes of %llu calls, seed %llu\n", config_path,
               (long)episodes, (unsigned long long)x.trace->total, (unsigned long long)seed);
    hb_stop_guard guard;
    hb_freyr_train_spec ts = {&x, (long)episodes, seed, vary, (long)eval_every, credit, hp,
                              hb_stop_install(&guard), on_row, &k};
    freyr_agent agent;
    freyr_norm norm;
    double first, last;
    rc = hb_freyr_train(&ts, &agent, &norm, &first, &last, &err);
    int trained = rc == 0;             /* the networks are ours to free */
    hb_stop_restore(&guard);
    if (k.curve && fclose(k.curve) != 0 && !rc)
        rc = hb_fail(&err, HB_EIO, "%s: write failed", curve);
    if (!rc) {
        freyr_provenance prov = {(long)episodes, (unsigned long)seed, config_path, cmd};
        rc = freyr_ckpt_save(out, &agent, &norm, &prov, &err);
    }
    if (rc) {
        fprintf(stderr, "harvestbench train freyr: %s%s\n", err.msg,
                rc == HB_EINTR ? " (nothing saved)" : "");
    } else {
        if (eval_every > 0)
            printf("held-out reward: %.3f before training, %.3f after\n", first, last);
        printf("saved %s\n", out);
    }
    if (trained)
        freyr_agent_free(&agent);
    hb_experiment_free(&x);
    return hb_exit_status(rc);
}

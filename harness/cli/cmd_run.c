/* cmd_run.c - `harvestbench run`: every policy x seed of a configuration, into a results directory
 * with a manifest (BRIEF sections 5 and 8, docs/outputs.md). The flags become an hb_run_spec;
 * hb_experiment_run (experiment_run.h) does the rest; run_print.c prints. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "experiment_run.h"
#include "policy_lib.h"
#include "run_print.h"

static const char RUN_HELP[] =
    "usage: harvestbench run CONFIG [--out DIR] [--policy P1,P2,...] [--seeds N]\n"
    "                        [--backend sim|local|openwhisk] [--set SECTION.KEY=VALUE]...\n"
    "                        [--policy-lib FILE.so]... [--resume] [--quiet]\n"
    "\n"
    "Replays the configuration's trace under every policy and seed and writes one results\n"
    "directory (docs/outputs.md): manifest.json, and per policy and seed invocations.csv,\n"
    "usage.csv, summary.json and the Libra artifact's CSVs.\n"
    "\n"
    "  --out DIR       results directory (default: [experiment] out, else results/NAME)\n"
    "  --policy LIST   comma-separated policies, overriding [experiment] policies\n"
    "  --seeds N       number of seeds; seed k (1..N) uses [experiment] seed + k - 1\n"
    "  --backend B     sim (default), local or openwhisk\n"
    "  --set S.K=V     override one configuration key (repeatable), e.g.\n"
    "                  --set trace.per_minute=12 --set function.dh.cpu_clip=1,8\n"
    "  --policy-lib F  load the policies of a shared object built against this harvestbench\n"
    "                  (repeatable; docs/policies.md, \"A policy out of tree\")\n"
    "  --resume        continue an incomplete run in DIR: runs with a summary.json are kept\n"
    "  --quiet         no progress or per-run lines; the closing table is still printed\n"
    "\n"
    "Exit status: 0 complete, 1 a run failed or was interrupted (resume with --resume),\n"
    "2 bad usage or input.\n";

static int run_command(int argc, char **argv);

int cmd_run(int argc, char **argv)
{
    int rc = run_command(argc, argv);
    hb_policy_lib_unload_all();        /* the policies' code stays loaded until every run has ended */
    return rc;
}

static int run_command(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},   {"policy", required_argument, NULL, 'p'},
        {"seeds", required_argument, NULL, 's'}, {"backend", required_argument, NULL, 'b'},
        {"resume", no_argument, NULL, 'r'},      {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},        {"set", required_argument, NULL, 'S'},
        {"policy-lib", required_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    const char *out_flag = NULL, *policy_flag = NULL, *backend_flag = NULL;
    const char *sets[64];
    int n_sets = 0;
    long seeds_flag = 0;
    int resume = 0, quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:p:s:b:rqh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_flag = optarg; break;
        case 'p': policy_flag = optarg; break;
        case 'b': backend_flag = optarg; break;
        case 'r': resume = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(RUN_HELP, stdout); return 0;
        case 'S':
            if (n_sets == 64)
                return hb_usage_error("run", "more than 64 --set flags");
            sets[n_sets++] = optarg;
            break;
        case 'L': {
            hb_error lerr;
            if (hb_policy_lib_load(optarg, &lerr)) {   /* before the configuration names its policies */
                fprintf(stderr, "harvestbench run: --policy-lib %s\n", lerr.msg);
                return 2;
            }
            break;
        }
        case 's': {
            char *end;
            seeds_flag = strtol(optarg, &end, 10);
            if (*end || seeds_flag < 1 || seeds_flag > 1000)
                return hb_usage_error("run", "--seeds: '%s' is not a number in [1, 1000]", optarg);
            break;
        }
        default:
            return hb_usage_error("run", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return hb_usage_error("run", optind >= argc ? "missing CONFIG" : "unexpected argument '%s'",
                              argv[optind >= argc ? 0 : optind + 1]);
    const char *config_path = argv[optind];

    hb_error err;
    hb_error_clear(&err);
    hb_experiment x;
    memset(&x, 0, sizeof x);
    hb_run_spec spec = {
        .x = &x, .sets = sets, .n_sets = n_sets, .policies = policy_flag, .seeds = (int)seeds_flag,
        .backend = backend_flag, .out = out_flag, .resume = resume, .usage = 1,
        .progress = !quiet && isatty(STDERR_FILENO), .quiet = quiet, .who = "harvestbench run",
        .catch_signals = 1, .on_run = hb_print_run_line, .on_run_ctx = &quiet,
    };
    hb_run_result *res = NULL;
    int rc = hb_config_load(config_path, &x.cfg, &err);
    if (rc)
        hb_config_locate_path(&x.cfg, &err);
    else
        rc = hb_experiment_run(&spec, &res, &err);
    if (!res) {
        fprintf(stderr, "harvestbench run: %s\n", err.msg);
        hb_experiment_free(&x);
        return hb_exit_status(rc);
    }
    if (res->experiment_rc)
        fprintf(stderr, "harvestbench run: %s\n", res->experiment_err.msg);
    hb_print_run_result(res, quiet);
    if (res->interrupted)
        hb_print_resume_hint(config_path, sets, n_sets, &spec, res->out);
    int status = hb_run_exit_status(res);
    hb_run_result_free(res);
    hb_experiment_free(&x);
    return status;
}

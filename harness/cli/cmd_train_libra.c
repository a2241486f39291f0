/* cmd_train_libra.c - `harvestbench train libra CONFIG`: the flags of Libra's trainer; profiling,
 * fitting and the files are harness/core/libra_trainer.c. This file parses, prints and times. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "experiment.h"
#include "files.h"
#include "libra_trainer.h"
#include "train.h"

static const char HELP[] =
    "usage: harvestbench train libra CONFIG [--out FILE] [--reps N] [--sizes N] [--seed S]\n"
    "                                [--test-share F]\n"
    "\n"
    "Trains Libra's `trained` predictor. Profiles every benchmark function on CONFIG's workload\n"
    "model ([workload] profile) in the simulator: N sizes over its input range, each invoked --reps\n"
    "times alone and cold at 8 cores (CPU quota) and 1024 MB. Then, per function, trains random\n"
    "forests (libxgboost, random-forest mode) of the input size for the peak-CPU class, the\n"
    "peak-memory class (128 MB units) and the duration on a seeded share of the sizes, scores them\n"
    "on the held-out sizes, and exports them exactly as a predictor table that\n"
    "[policy.libra] predictor = trained, model = FILE loads (docs/libra.md).\n"
    "\n"
    "  --out FILE        the table (default configs/libra-trained.csv); beside it FILE's held-out\n"
    "                    scores (STEM.accuracy.csv) and the xgboost models (STEM.models/)\n"
    "  --reps N          calls per size (default 5)\n"
    "  --sizes N         sizes per function, evenly spaced over its range (default 100; vp has 10)\n"
    "  --seed S          the simulator's, the split's and the forests' seed (default: [experiment]\n"
    "                    seed of CONFIG)\n"
    "  --test-share F    share of each function's sizes held out (default 0.3; 0: none)\n"
    "\n"
    "The same command gives byte-identical files. Exit status: 0 written, 1 a run failed,\n"
    "2 bad usage or input.\n";

static int parse_long(const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return hb_usage_error("train", "%s: '%s' is not an integer in [%ld, %ld]", flag, s, lo, hi);
    *out = v;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* FILE without a trailing ".csv", plus suffix. */
static void beside(const char *file, const char *suffix, char *out, size_t len)
{
    size_t n = strlen(file);
    if (n > 4 && strcmp(file + n - 4, ".csv") == 0)
        n -= 4;
    snprintf(out, len, "%.*s%s", (int)n, file, suffix);
}

int hb_train_libra(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},  {"reps", required_argument, NULL, 'r'},
        {"sizes", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
        {"test-share", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = "configs/libra-trained.csv";
    long reps = 5, sizes = 100, seed = -1;
    double test_share = 0.3;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:r:n:s:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'r': if (parse_long("--reps", optarg, 1, 1000, &reps)) return 2; break;
        case 'n': if (parse_long("--sizes", optarg, 1, 100000, &sizes)) return 2; break;
        case 's': if (parse_long("--seed", optarg, 0, 0x7fffffffL, &seed)) return 2; break;
        case 't': {
            char *end;
            test_share = strtod(optarg, &end);
            if (end == optarg || *end || !(test_share >= 0 && test_share <= 0.9))
                return hb_usage_error("train", "--test-share: '%s' is not a number in [0, 0.9]",
                                      optarg);
            break;
        }
        case 'h': fputs(HELP, stdout); return 0;
        default: return hb_usage_error("train", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return hb_usage_error("train", optind >= argc ? "libra: missing CONFIG"
                                                      : "libra: unexpected argument '%s'",
                              argv[optind >= argc ? 0 : optind + 1]);
    const char *config_path = argv[optind];

    hb_error err;
    hb_error_clear(&err);
    hb_experiment x;
    memset(&x, 0, sizeof x);
    lt_obs *obs = NULL;
    size_t n_obs = 0, failed = 0;
    lt_model m;
    memset(&m, 0, sizeof m);
    int rc = hb_config_load(config_path, &x.cfg, &err);
    if (rc) {
        fprintf(stderr, "harvestbench train libra: %s\n", err.msg);
        hb_experiment_free(&x);
        return hb_exit_status(rc);
    }
    uint64_t s = seed >= 0 ? (uint64_t)seed : x.cfg.seed;
    double t0 = now_s(), t1 = t0, t2 = t0;
    /* profiling runs on the simulator whatever the config's backend: load its truth model */
    snprintf(x.cfg.backend, sizeof x.cfg.backend, "sim");
    rc = hb_experiment_profile(&x.cfg, &x.profile, &err);
    if (!rc) {
        lt_profile_opts po = {(int)sizes, (int)reps, s};
        rc = lt_profile(&x, &po, &obs, &n_obs, &failed, &err);
        t1 = now_s();
    }
    if (!rc) {
        printf("harvestbench train libra: profiled %zu calls (%zu failed, not used) on the %s profile "
               "in %.2f s\n", n_obs + failed, failed, x.profile->name, t1 - t0);
        lt_fit_opts fo = {test_share, s, 100};
        rc = lt_fit(obs, n_obs, &fo, &m, &err);
        t2 = now_s();
    }
    char acc_path[HB_PATH_MAX + 32], models[HB_PATH_MAX + 32];
    beside(out, ".accuracy.csv", acc_path, sizeof acc_path);
    beside(out, ".models", models, sizeof models);
    if (!rc) {
        char header[8192];
        lt_provenance pv = {config_path, reps, sizes, s, test_share, x.profile, n_obs + failed,
                            failed, acc_path, models};
        lt_header(&pv, header, sizeof header);
        const char *slash = strrchr(out, '/');
        if (slash && slash != out) {   /* the table's directory, if it is new */
            char dir[HB_PATH_MAX];
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - out), out);
            rc = hb_mkdirs(dir, &err);
        }
        if (!rc)
            rc = lt_write_table(m.table, header, out, &err);
    }
    if (!rc)
        rc = lt_write_accuracy(&m, acc_path, &err);
    if (!rc)
        rc = lt_write_models(&m, models, &err);
    if (!rc) {
        lt_print_scores(&m, stdout);
        printf("trained and exported %d forests in %.2f s; wrote %s, %s and %s/\n",
               HB_NWORKLOADS * HB_NTARGETS, t2 - t1, out, acc_path, models);
    } else {
        fprintf(stderr, "harvestbench train libra: %s\n", err.msg);
    }
    lt_model_free(&m);
    free(obs);
    hb_experiment_free(&x);
    return hb_exit_status(rc);
}

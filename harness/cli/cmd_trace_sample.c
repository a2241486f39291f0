/* cmd_trace_sample.c - `harvestbench trace sample DATASET_DIR ...` (see trace_sample.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "experiment.h"
#include "workload_model.h"
#include "trace_sample.h"

static const char SAMPLE_HELP[] =
    "usage: harvestbench trace sample DATASET_DIR --functions N --out DIR [--day D] [--start M]\n"
    "         [--minutes M] [--method artifact|representative] [--seed S] [--min-per-minute K]\n"
    "         [--max-per-minute K] [--trials T] [--swaps K] [--config FILE]\n"
    "\n"
    "Chooses N functions from one day of the raw Azure Functions 2019 dataset in DATASET_DIR\n"
    "(invocations_per_function_md.anon.dNN.csv, function_durations_percentiles.anon.dNN.csv,\n"
    "app_memory_percentiles.anon.dNN.csv; each may be .csv.gz), reading it streaming, and writes an\n"
    "artifact-format trace to DIR: sample_{invocation,duration,memory}_traces_0.csv, mapping.csv\n"
    "(each function's benchmark function, by duration and memory), sample_summary.csv and trace.ini\n"
    "(`harvestbench run DIR/trace.ini` replays it).\n"
    "  --method artifact        the Libra artifact's filter and uniform pick, seeded (default)\n"
    "  --method representative  the N functions whose rate and duration distributions are nearest\n"
    "                           the day's (mean 1-Wasserstein distance, log10 scale)\n"
    "  --day D (1)  --start M (1)  --minutes M (0: to the end of the day)  --seed S (1)\n"
    "  --min-per-minute/--max-per-minute: keep functions whose every minute is within bounds\n"
    "  --trials T (16) --swaps K (20000): search effort of representative\n"
    "  --config FILE: the profile and user memory the mapping uses (default: built-in defaults)\n"
    "Exit status 2 on a malformed file, naming the file, line and field.\n";

static int num(const char *flag, const char *s, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return hb_usage_error("trace sample", "%s: '%s' is not an integer in [%lld, %lld]", flag,
                              s, lo, hi);
    *out = v;
    return 0;
}

int cmd_trace_sample(int argc, char **argv)
{
    static const struct option opts[] = {
        {"functions", required_argument, NULL, 'n'}, {"day", required_argument, NULL, 'd'},
        {"start", required_argument, NULL, 'S'},     {"minutes", required_argument, NULL, 'm'},
        {"method", required_argument, NULL, 'M'},    {"seed", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},       {"min-per-minute", required_argument, NULL, 'a'},
        {"max-per-minute", required_argument, NULL, 'b'}, {"trials", required_argument, NULL, 't'},
        {"swaps", required_argument, NULL, 'w'},     {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    hb_sample_opts o = {.day = 1, .start_minute = 1, .seed = 1, .max_per_minute = UINT32_MAX,
                        .trials = 16, .swaps = 20000};
    const char *config = NULL;
    long long v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'n': bad = num("--functions", optarg, 1, 1000000, &v); o.functions = (int)v; break;
        case 'd': bad = num("--day", optarg, 1, 14, &v); o.day = (int)v; break;
        case 'S': bad = num("--start", optarg, 1, 1000000, &v); o.start_minute = (int)v; break;
        case 'm': bad = num("--minutes", optarg, 0, 1000000, &v); o.minutes = (int)v; break;
        case 's': bad = num("--seed", optarg, 0, 1LL << 62, &v); o.seed = (uint64_t)v; break;
        case 'a': bad = num("--min-per-minute", optarg, 0, UINT32_MAX, &v); o.min_per_minute = (uint32_t)v; break;
        case 'b': bad = num("--max-per-minute", optarg, 0, UINT32_MAX, &v); o.max_per_minute = (uint32_t)v; break;
        case 't': bad = num("--trials", optarg, 1, 100000, &v); o.trials = (int)v; break;
        case 'w': bad = num("--swaps", optarg, 0, 100000000, &v); o.swaps = (int)v; break;
        case 'o': o.out = optarg; break;
        case 'c': config = optarg; break;
        case 'M':
            if (strcmp(optarg, "artifact") && strcmp(optarg, "representative"))
                return hb_usage_error("trace sample", "--method: '%s' is not artifact or "
                                      "representative", optarg);
            o.representative = strcmp(optarg, "representative") == 0;
            break;
        case 'h': fputs(SAMPLE_HELP, stdout); return 0;
        case ':': return hb_usage_error("trace sample", "%s needs a value", argv[optind - 1]);
        default: return hb_usage_error("trace sample", "unknown option '%s'", argv[optind - 1]);
        }
        if (bad)
            return bad;
    }
    if (optind >= argc)
        return hb_usage_error("trace sample", "no DATASET_DIR given");
    if (optind + 1 < argc)
        return hb_usage_error("trace sample", "unexpected argument '%s'", argv[optind + 1]);
    o.dir = argv[optind];
    if (!o.functions)
        return hb_usage_error("trace sample", "--functions N is required");
    if (!o.out)
        return hb_usage_error("trace sample", "--out DIR is required");
    if (o.min_per_minute > o.max_per_minute)
        return hb_usage_error("trace sample", "--min-per-minute is above --max-per-minute");

    /* the benchmark functions' reference durations and memory, as `run` computes them */
    hb_error err;
    hb_error_clear(&err);
    hb_config cfg;
    int rc = config ? hb_config_load(config, &cfg, &err) : hb_config_defaults(&cfg, &err);
    if (rc) {
        fprintf(stderr, "harvestbench trace sample: %s\n", err.msg);
        return hb_exit_status(rc);
    }
    hb_profile *prof = NULL;
    if ((rc = hb_experiment_profile(&cfg, &prof, &err))) {
        hb_config_free(&cfg);
        fprintf(stderr, "harvestbench trace sample: %s\n", err.msg);
        return hb_exit_status(rc);
    }
    hb_profile_reference_ms(prof, cfg.funcs, o.ref_ms);
    for (int b = 0; b < HB_NWORKLOADS; b++)
        o.ref_mem_mb[b] = cfg.funcs[b].user.mem_mb;
    hb_profile_free(prof);
    hb_config_free(&cfg);

    hb_sample_result r;
    if ((rc = hb_trace_sample(&o, &r, &err))) {
        fprintf(stderr, "harvestbench trace sample: %s\n", err.msg);
        return hb_exit_status(rc);
    }
    printf("sampled %zu of %zu eligible functions (%s, seed %llu, day %d, minutes %d-%zu)\n"
           "  rows %zu: %zu repeated, %zu without calls, %zu outside the per-minute bounds, "
           "%zu without a duration, %zu without app memory\n"
           "  invocations %llu\n"
           "  wasserstein (log10 rate, log10 duration) mean %.4f: rate %.4f, duration %.4f; "
           "uniform random samples: %.4f\n"
           "  wrote %s/{sample_invocation_traces_0.csv,sample_duration_traces_0.csv,"
           "sample_memory_traces_0.csv,mapping.csv,sample_summary.csv,trace.ini}\n",
           r.chosen, r.population, o.representative ? "representative" : "artifact",
           (unsigned long long)o.seed, o.day, o.start_minute,
           (size_t)o.start_minute + r.minutes - 1, r.rows, r.duplicates, r.no_calls, r.filtered,
           r.no_duration, r.no_memory, (unsigned long long)r.invocations, r.wd, r.wd_rate,
           r.wd_duration, r.wd_random, o.out);
    if (r.shared_bench)                /* not a problem any more: said so the mapping is seen */
        printf("note: %d of the %zu functions share a benchmark workload (see mapping.csv); each "
               "stays a function of its own in `run` (its own rate, user configuration, history "
               "and predictor state) and runs that workload's code\n", r.shared_bench, r.chosen);
    return 0;
}

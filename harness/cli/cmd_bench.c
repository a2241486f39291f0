/* cmd_bench.c - `harvestbench bench`: the simulator's speed on a synthetic trace (BRIEF section 8).
 *
 * The trace: the ten functions at their demo sizes, Poisson arrivals, at a rate that keeps the
 * cluster about 70% busy under the user configuration (so queues stay bounded whatever the length).
 * The run is the real engine and simulator without writing files: the benchmark measures
 * simulation, not CSV formatting, nor the per-second usage bins and history strings that only
 * files need (the engine builds them only when something writes them). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "commands.h"
#include "clock.h"
#include "experiment_run.h"
#include "registry.h"

static const char BENCH_HELP[] =
    "usage: harvestbench bench [--invocations N] [--policy P | --all] [--invokers N] [--seed S]\n"
    "                          [--set SECTION.KEY=VALUE]... [--json]\n"
    "\n"
    "Simulates a synthetic trace (the ten functions at their demo sizes, Poisson arrivals at\n"
    "about 70% of the cluster's capacity) on invokers of 8 cores and 8 GB, and reports\n"
    "invocations simulated per second of wall time and the process's peak resident memory.\n"
    "\n"
    "  --invocations N  calls to simulate (default 1000000)\n"
    "  --policy P       policy (default fixed); freyr uses the shipped checkpoint\n"
    "                   configs/freyr-demo.json (run from the repository) unless --set\n"
    "                   policy.freyr.checkpoint=FILE names another\n"
    "  --all            every built-in policy in turn, one report (JSON object) each\n"
    "  --set S.K=V      a configuration override over the defaults (repeatable)\n"
    "  --invokers N     invokers (default 10)\n"
    "  --seed S         seed (default 1)\n"
    "  --json           one JSON object per policy: invocations, seconds (wall),\n"
    "                   invocations_per_second (wall), cpu_seconds (the process's CPU time\n"
    "                   during the run), invocations_per_cpu_second, peak_rss_mb, policy,\n"
    "                   invokers, makespan_s, mean_latency_ms, success\n";

#define FREYR_SHIPPED "configs/freyr-demo.json"

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;  /* kilobytes on Linux */
}

typedef struct bench_opts {
    long long n, invokers, seed;
    int json;
    char **sets;                       /* --set assignments, in order */
    int n_sets;
} bench_opts;

static int bench_one(const hb_policy_ops *pol, const bench_opts *o);

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"invocations", required_argument, NULL, 'n'}, {"policy", required_argument, NULL, 'p'},
        {"invokers", required_argument, NULL, 'i'},    {"seed", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},              {"help", no_argument, NULL, 'h'},
        {"all", no_argument, NULL, 'a'},               {"set", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    bench_opts o = {.n = 1000000, .invokers = 10, .seed = 1};
    const char *policy = NULL;
    int all = 0, c;
    char *sets[64];
    o.sets = sets;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "n:p:i:s:jhaS:", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'n':
            o.n = strtoll(optarg, &end, 10);
            if (*end || o.n < 1 || o.n > 1000000000LL)
                return hb_usage_error("bench", "--invocations: '%s' is not in [1, 1e9]", optarg);
            break;
        case 'i':
            o.invokers = strtoll(optarg, &end, 10);
            if (*end || o.invokers < 1 || o.invokers > 10000)
                return hb_usage_error("bench", "--invokers: '%s' is not in [1, 10000]", optarg);
            break;
        case 's':
            o.seed = strtoll(optarg, &end, 10);
            if (*end || o.seed < 0)
                return hb_usage_error("bench", "--seed: '%s' is not a non-negative integer", optarg);
            break;
        case 'S':
            if (o.n_sets == (int)(sizeof sets / sizeof sets[0]))
                return hb_usage_error("bench", "--set: more than %d", (int)(sizeof sets / sizeof sets[0]));
            sets[o.n_sets++] = optarg;
            break;
        case 'p': policy = optarg; break;
        case 'a': all = 1; break;
        case 'j': o.json = 1; break;
        case 'h': fputs(BENCH_HELP, stdout); return 0;
        default: return hb_usage_error("bench", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return hb_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    if (all && policy)
        return hb_usage_error("bench", "--all and --policy exclude each other");
    if (all) {
        for (int k = 0; hb_policy_table[k]; k++) {
            int rc = bench_one(hb_policy_table[k], &o);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (!policy)
        policy = "fixed";
    const hb_policy_ops *pol = hb_policy_find(policy);
    if (!pol)
        return hb_usage_error("bench", "unknown policy '%s'", policy);
    return bench_one(pol, &o);
}

static int bench_one(const hb_policy_ops *pol, const bench_opts *o)
{
    const char *policy = pol->name;
    long long n = o->n, invokers = o->invokers, seed = o->seed;
    int json = o->json;
    hb_error err;
    hb_error_clear(&err);
    hb_experiment x;
    memset(&x, 0, sizeof x);
    int rc = hb_config_defaults(&x.cfg, &err);
    /* freyr needs trained networks: the shipped ones unless a --set names others */
    int ckpt_set = 0;
    for (int k = 0; k < o->n_sets; k++)
        ckpt_set |= strncmp(o->sets[k], "policy.freyr.checkpoint=", 24) == 0;
    if (!rc && strcmp(policy, "freyr") == 0 && !ckpt_set)
        rc = hb_config_set(&x.cfg, "policy.freyr.checkpoint=" FREYR_SHIPPED, &err);
    for (int k = 0; !rc && k < o->n_sets; k++)
        rc = hb_config_set(&x.cfg, o->sets[k], &err);
    if (!rc)
        rc = hb_experiment_profile(&x.cfg, &x.profile, &err);
    if (rc) {
        fprintf(stderr, "harvestbench bench: %s\n", err.msg);
        hb_experiment_free(&x);
        return hb_exit_status(rc);
    }
    hb_config *cfg = &x.cfg;
    cfg->invokers = (int)invokers;
    cfg->seed = (uint64_t)seed;
    /* arrival rate for ~70% of the cores busy: mean core-seconds of a call at its user size */
    double core_s = 0;
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        const hb_profile_func *pf = &x.profile->f[f];
        double size = (double)hb_functions[f].size_multi;
        double par = hb_profile_eval(&pf->parallelism, size);
        double work = hb_profile_eval(&pf->exec_s, size) * fmin(pf->ref_cores, par);
        core_s += work / HB_NWORKLOADS;
    }
    double per_s = 0.7 * cfg->cores * (double)invokers / core_s;
    uint32_t per_minute = (uint32_t)fmax(1, floor(per_s * 60 / HB_NWORKLOADS));
    rc = hb_trace_synthetic((uint64_t)n, HB_NWORKLOADS, per_minute, &x.trace, &err);
    if (rc) {
        fprintf(stderr, "harvestbench bench: %s\n", err.msg);
        hb_experiment_free(&x);
        return hb_exit_status(rc);
    }
    x.arrival = HB_ARRIVAL_POISSON;
    x.sizes = HB_SIZES_MULTI;
    snprintf(cfg->policies[0], sizeof cfg->policies[0], "%s", policy);
    cfg->n_policies = 1;
    cfg->seeds = 1;
    snprintf(cfg->backend, sizeof cfg->backend, "sim");
    /* no files, no usage rows, no latency array: memory must not grow with the trace */
    hb_run_spec spec = {.x = &x, .no_files = 1, .usage = 0, .no_latencies = 1};
    if (!json)
        printf("harvestbench bench: policy %s, %llu calls of 10 functions (%u per function per "
               "minute, %zu minutes), %lld invokers x %.0f cores, %.0f MB\n", policy,
               (unsigned long long)x.trace->total, per_minute, x.trace->n_minutes, invokers,
               cfg->cores, cfg->memory_mb);
    hb_run_result *res = NULL;
    double cpu0 = hb_clock_s(CLOCK_PROCESS_CPUTIME_ID);
    rc = hb_experiment_run(&spec, &res, &err);
    double cpu = hb_clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    if (rc) {
        fprintf(stderr, "harvestbench bench: %s\n", err.msg);
        hb_run_result_free(res);
        hb_experiment_free(&x);
        return hb_exit_status(rc);
    }
    const hb_run_stats st = res->policies[0].pooled;
    double secs = st.wall_seconds, rate = (double)st.invocations / secs, rss = peak_rss_mb();
    double mean = st.n_success ? st.lat_sum / (double)st.n_success : 0;
    if (json)
        printf("{\"invocations\": %llu, \"seconds\": %.6f, \"invocations_per_second\": %.1f, "
               "\"cpu_seconds\": %.6f, \"invocations_per_cpu_second\": %.1f, "
               "\"peak_rss_mb\": %.2f, \"policy\": \"%s\", \"invokers\": %lld, \"makespan_s\": %.1f, "
               "\"mean_latency_ms\": %.1f, \"success\": %llu}\n",
               (unsigned long long)st.invocations, secs, rate, cpu,
               cpu > 0 ? (double)st.invocations / cpu : 0, rss, policy, invokers,
               hb_time_s(st.makespan), mean, (unsigned long long)st.n_success);
    else
        printf("  simulated %llu calls (%llu successful, mean latency %.1f ms, %.0f s of trace) in "
               "%.3f s (%.3f s of CPU): %.0f invocations/s; peak RSS %.1f MB\n",
               (unsigned long long)st.invocations, (unsigned long long)st.n_success, mean,
               hb_time_s(st.makespan), secs, cpu, rate, rss);
    hb_run_result_free(res);
    hb_experiment_free(&x);
    return 0;
}

/* cmd_run.c - `harvestbench run`: every policy x seed of a configuration, into a results directory
 * with a manifest (BRIEF sections 5 and 8, docs/outputs.md). The flags become an hb_run_spec;
 * hb_experiment_run (experiment_run.h) does the rest; this file prints. */
#define _GNU_SOURCE                    /* program_invocation_name, for the resume hint */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "experiment_run.h"

static const char RUN_HELP[] =
    "usage: harvestbench run CONFIG [--out DIR] [--policy P1,P2,...] [--seeds N]\n"
    "                        [--backend sim|local|openwhisk] [--set SECTION.KEY=VALUE]...\n"
    "                        [--resume] [--quiet]\n"
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
    "  --resume        continue an incomplete run in DIR: runs with a summary.json are kept\n"
    "  --quiet         no progress or per-run lines; the closing table is still printed\n"
    "\n"
    "Exit status: 0 complete, 1 a run failed or was interrupted (resume with --resume),\n"
    "2 bad usage or input.\n";

static void print_artifact_lines(const char *policy, const hb_policy_result *t)
{
    const hb_run_stats *s = &t->pooled;
    printf("Running %s (%d seed%s)\n", policy, t->seeds, t->seeds == 1 ? "" : "s");
    printf("Total events: %llu\n", (unsigned long long)s->invocations);
    printf("Timeout num: %llu\n", (unsigned long long)s->outcomes[HB_TIMEOUT]);
    /* the artifact's line counts every call that did not succeed or time out; what each was: */
    printf("Error num: %llu (oom %llu, error %llu, lost %llu)\n",
           (unsigned long long)(s->outcomes[HB_OOM] + s->outcomes[HB_ERROR] + s->outcomes[HB_LOST]),
           (unsigned long long)s->outcomes[HB_OOM], (unsigned long long)s->outcomes[HB_ERROR],
           (unsigned long long)s->outcomes[HB_LOST]);
    printf("system runtime: %.1f s (mean over seeds)\n", t->seeds ? t->makespan_sum / t->seeds : 0);
    if (s->harvested || s->accelerated || s->safeguards) {
        double n = s->invocations ? (double)s->invocations : 1;
        printf("Harvested: %.1f%% of calls, accelerated: %.1f%%, safeguard triggers: %llu\n",
               100.0 * (double)s->harvested / n, 100.0 * (double)s->accelerated / n,
               (unsigned long long)s->safeguards);
        printf("Lent: %.1f core-s, %.0f MB-s; of which idle in pools: %.1f core-s, %.0f MB-s\n",
               s->harvested_cpu_s, s->harvested_mem_mb_s, s->pool_idle_cpu_s, s->pool_idle_mem_mb_s);
    }
}

static void print_table(const hb_run_result *res)
{
    printf("\n%-10s %7s %7s %9s %9s %9s %9s %8s %8s %8s %8s\n", "policy", "calls", "ok",
           "mean ms", "p50 ms", "p95 ms", "p99 ms", "cpu/alloc", "mem/alloc", "cpu/cap", "mem/cap");
    for (int i = 0; i < res->n_policies; i++) {
        hb_run_stats *s = &res->policies[i].pooled;
        if (!s->invocations)
            continue;
        double mean = s->n_success ? s->lat_sum / (double)s->n_success : NAN;
        double cap_cpu = s->cpu_capacity, cap_mem = s->mem_capacity_mb;  /* core x s summed */
        printf("%-10s %7llu %7llu %9.1f %9.1f %9.1f %9.1f %8.3f %8.3f %8.3f %8.3f\n", res->policies[i].name,
               (unsigned long long)s->invocations, (unsigned long long)s->n_success, mean,
               hb_stats_latency_pct(s, 0.50), hb_stats_latency_pct(s, 0.95),
               hb_stats_latency_pct(s, 0.99),
               s->cpu_alloc_core_s > 0 ? s->cpu_used_core_s / s->cpu_alloc_core_s : NAN,
               s->mem_alloc_mb_s > 0 ? s->mem_used_mb_s / s->mem_alloc_mb_s : NAN,
               cap_cpu > 0 ? s->cpu_used_core_s / cap_cpu : NAN,
               cap_mem > 0 ? s->mem_used_mb_s / cap_mem : NAN);
    }
    printf("(latency of successful calls, pooled over seeds; utilization = used / allocated and\n"
           " used / capacity over the makespan)\n");
}

/* After each run: one line, unless --quiet; a failure always. */
static void on_run(void *ctx, const hb_run_entry *r, const hb_run_stats *st, const hb_error *err)
{
    int quiet = *(const int *)ctx;
    if (err) {
        fprintf(stderr, "harvestbench run: %s seed %d: %s\n", r->policy, r->seed_index, err->msg);
        return;
    }
    if (quiet)
        return;
    if (!st) {
        printf("%s seed %d: complete already, kept\n", r->policy, r->seed_index);
        return;
    }
    printf("%s seed %d: %llu calls, %llu ok, %llu timeout, %llu oom, %llu error; makespan %.1f s; "
           "%.2f s wall\n", r->policy, r->seed_index, (unsigned long long)st->invocations,
           (unsigned long long)st->outcomes[HB_SUCCESS], (unsigned long long)st->outcomes[HB_TIMEOUT],
           (unsigned long long)st->outcomes[HB_OOM], (unsigned long long)st->outcomes[HB_ERROR],
           hb_time_s(st->makespan), st->wall_seconds);
}

/* Appends s to buf, single-quoted for a POSIX shell when it has anything but safe characters. */
static void shell_quote(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    int plain = *s != '\0';
    for (const char *c = s; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-@%", *c))
            plain = 0;
    if (n + 1 < len)
        buf[n++] = ' ';
    if (!plain && n + 1 < len)
        buf[n++] = '\'';
    for (const char *c = s; *c && n + 5 < len; c++) {
        if (*c == '\'' && !plain) {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *c;
        }
    }
    if (!plain && n + 1 < len)
        buf[n++] = '\'';
    buf[n] = '\0';
}

/* The command that continues an interrupted run: following it must reproduce this configuration
 * exactly. */
static void print_hint(const char *config_path, const char *const *sets, int n_sets,
                       const hb_run_spec *spec, const char *out)
{
    char hint[8192] = "";
    shell_quote(hint, sizeof hint, program_invocation_name);
    shell_quote(hint, sizeof hint, "run");
    shell_quote(hint, sizeof hint, config_path);
    for (int i = 0; i < n_sets; i++) {
        shell_quote(hint, sizeof hint, "--set");
        shell_quote(hint, sizeof hint, sets[i]);
    }
    if (spec->policies) {
        shell_quote(hint, sizeof hint, "--policy");
        shell_quote(hint, sizeof hint, spec->policies);
    }
    if (spec->seeds) {
        char n[24];
        snprintf(n, sizeof n, "%d", spec->seeds);
        shell_quote(hint, sizeof hint, "--seeds");
        shell_quote(hint, sizeof hint, n);
    }
    if (spec->backend) {
        shell_quote(hint, sizeof hint, "--backend");
        shell_quote(hint, sizeof hint, spec->backend);
    }
    shell_quote(hint, sizeof hint, "--out");
    shell_quote(hint, sizeof hint, out);
    shell_quote(hint, sizeof hint, "--resume");
    if (spec->quiet)
        shell_quote(hint, sizeof hint, "--quiet");
    fprintf(stderr, "harvestbench run: interrupted; continue with:%s\n", hint);
}

/* The closing lines: per policy the artifact's lines (unless --quiet), the table, where. */
static void print_result(const hb_run_result *res, int quiet)
{
    if (!quiet)
        printf("\n");
    for (int p = 0; p < res->n_policies && !quiet; p++)
        if (res->policies[p].seeds)
            print_artifact_lines(res->policies[p].name, &res->policies[p]);
    print_table(res);
    printf("results: %s (%s)\n", res->out, res->complete ? "complete" : "incomplete");
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},   {"policy", required_argument, NULL, 'p'},
        {"seeds", required_argument, NULL, 's'}, {"backend", required_argument, NULL, 'b'},
        {"resume", no_argument, NULL, 'r'},      {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},        {"set", required_argument, NULL, 'S'},
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
        .catch_signals = 1, .on_run = on_run, .on_run_ctx = &quiet,
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
    print_result(res, quiet);
    if (res->interrupted)
        print_hint(config_path, sets, n_sets, &spec, res->out);
    int status = hb_run_exit_status(res);
    hb_run_result_free(res);
    hb_experiment_free(&x);
    return status;
}

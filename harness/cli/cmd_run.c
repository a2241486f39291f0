/* cmd_run.c - `harvestbench run`: every policy x seed of a configuration, into a results directory
 * with a manifest (BRIEF sections 5 and 8, docs/outputs.md). */
#define _GNU_SOURCE                    /* program_invocation_name, for the resume hint */
#include <errno.h>
#include <getopt.h>
#include <gsl/gsl_version.h>
#include <math.h>
#include <csv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cgroup.h"
#include "commands.h"
#include "version.h"
#include "engine.h"
#include "experiment.h"
#include "trace_mapping.h"
#include "files.h"
#include "openwhisk/ow_options.h"
#include "policy_lib.h"
#include "registry.h"
#include "results.h"
#include "seed.h"
#include "stop_signal.h"


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

typedef struct run_entry {
    char policy[32];
    int seed_index;
    uint64_t seed;
    int status;                        /* 0 pending, 1 complete, 2 failed */
} run_entry;

typedef struct policy_total {
    hb_run_stats pooled;               /* latencies of every seed, integrals summed */
    double makespan_sum;
    int seeds;
} policy_total;

static void iso_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *artifact_rm(const char *policy)
{
    static const struct { const char *p, *rm; } names[] = {
        {"default", "OpenWhisk"}, {"fixed", "FixedRM"}, {"libra", "libra"}, {"libra-np", "Libra-NP"},
        {"greedy", "GreedyRM"}, {"ensure", "ENSURE_RM"}, {"freyr", "freyr_eval"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].p, policy) == 0)
            return names[i].rm;
    return policy;
}

/* The artifact names its CSVs {rm}_{exp}_{episode}; Libra's rm carries the trace prefix. */
static void artifact_stem(const char *policy, const char *trace_path, int seed_index, char *out,
                          size_t n)
{
    const char *base = strrchr(trace_path, '/');
    base = base ? base + 1 : trace_path;
    const char *mark = strstr(base, "_invocation_traces_");
    char prefix[128] = "trace", exp[32] = "0";
    if (strncmp(base, "multi_", 6) == 0) {                /* constant traces: multi_K */
        snprintf(prefix, sizeof prefix, "%.*s", (int)strcspn(base, " "), base);
    } else if (mark) {
        snprintf(prefix, sizeof prefix, "%.*s", (int)(mark - base), base);
        const char *e = mark + strlen("_invocation_traces_");
        snprintf(exp, sizeof exp, "%.*s", (int)strcspn(e, "."), e);
    }
    if (strcmp(policy, "libra") == 0)
        snprintf(out, n, "libra_%s_%s_%d", prefix, exp, seed_index - 1);
    else
        snprintf(out, n, "%s_%s_%d", artifact_rm(policy), exp, seed_index - 1);
}

/* How the local backend confines calls ([backend.local] limits): "cgroup v1", "cgroup v2", "none",
 * or why cgroups are unavailable. */
static void manifest_limits(cJSON *m, const hb_config *cfg)
{
    const char *mode = "cgroup";
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strcmp(cfg->sections[i]->name, "backend.local") == 0)
            for (size_t j = 0; j < cfg->sections[i]->kv.n; j++)
                if (strcmp(cfg->sections[i]->kv.items[j].key, "limits") == 0)
                    mode = cfg->sections[i]->kv.items[j].value;
    char buf[600];
    int version;
    if (strcmp(mode, "none") == 0)
        snprintf(buf, sizeof buf, "none");
    else if (hb_cgroup_probe(&version, buf + 13, sizeof buf - 13))
        snprintf(buf, sizeof buf, "cgroup v%d", version);
    else
        memcpy(buf, "unavailable: ", 13);
    cJSON_AddStringToObject(m, "limits", buf);
}

static cJSON *manifest_json(const hb_experiment *x, const hb_backend_ops *be, const char *config_path,
                            const run_entry *runs, size_t n_runs, const char *started,
                            const char *ended, const char *status)
{
    const hb_config *cfg = &x->cfg;
    cJSON *m = cJSON_CreateObject();
    cJSON *hb = cJSON_AddObjectToObject(m, "harvestbench");
    cJSON_AddStringToObject(hb, "version", hb_version());
    cJSON_AddStringToObject(hb, "git_commit", hb_git_commit());
    cJSON *lib = cJSON_AddObjectToObject(hb, "libraries");
    cJSON_AddStringToObject(lib, "cjson", cJSON_Version());
    cJSON_AddStringToObject(lib, "gsl", GSL_VERSION);
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", CSV_MAJOR, CSV_MINOR, CSV_RELEASE);
    cJSON_AddStringToObject(lib, "libcsv", v);
    cJSON_AddStringToObject(m, "experiment", cfg->name);
    cJSON_AddStringToObject(m, "config_file", config_path);
    hb_policy_lib_manifest(m);
    cJSON_AddItemToObject(m, "config", hb_config_json(cfg));
    cJSON *tr = cJSON_AddObjectToObject(m, "trace");
    cJSON_AddStringToObject(tr, "source", x->trace->source);
    cJSON_AddStringToObject(tr, "format", x->trace->format);
    cJSON_AddNumberToObject(tr, "functions", (double)x->trace->n_funcs);
    cJSON_AddNumberToObject(tr, "minutes", (double)x->trace->n_minutes);
    cJSON_AddNumberToObject(tr, "invocations", (double)x->trace->total);
    cJSON *map = cJSON_AddObjectToObject(tr, "mapping");
    for (size_t i = 0; i < x->trace->n_funcs; i++)
        cJSON_AddStringToObject(map, x->trace->funcs[i].name, hb_functions[x->trace->funcs[i].bench].id);
    cJSON *pr = cJSON_AddObjectToObject(m, "profile");
    cJSON_AddStringToObject(pr, "name", x->profile->name);
    cJSON_AddStringToObject(pr, "source", x->profile->source);
    hb_experiment_manifest_stats(x, m);
    cJSON_AddStringToObject(m, "backend", be->name);
    if (strcmp(be->name, "local") == 0)
        manifest_limits(m, cfg);
    cJSON *caps = cJSON_AddArrayToObject(m, "capabilities");
    if (be->caps & HB_CAP_SIZING)
        cJSON_AddItemToArray(caps, cJSON_CreateString("sizing"));
    if (be->caps & HB_CAP_PLACEMENT)
        cJSON_AddItemToArray(caps, cJSON_CreateString("placement"));
    if (be->caps & HB_CAP_INVOKER)
        cJSON_AddItemToArray(caps, cJSON_CreateString("invoker"));
    cJSON *pol = cJSON_AddArrayToObject(m, "policies");
    cJSON *dropped = cJSON_AddObjectToObject(m, "dropped");
    for (int i = 0; i < cfg->n_policies; i++) {
        cJSON_AddItemToArray(pol, cJSON_CreateString(cfg->policies[i]));
        unsigned d = hb_engine_dropped(hb_policy_find(cfg->policies[i]), be);
        cJSON *a = cJSON_AddArrayToObject(dropped, cfg->policies[i]);
        if (d & HB_CAP_SIZING)
            cJSON_AddItemToArray(a, cJSON_CreateString("sizing"));
        if (d & HB_CAP_PLACEMENT)
            cJSON_AddItemToArray(a, cJSON_CreateString("placement"));
        if (d & HB_CAP_INVOKER)
            cJSON_AddItemToArray(a, cJSON_CreateString("invoker"));
    }
    cJSON *seeds = cJSON_AddArrayToObject(m, "seeds");
    for (int k = 0; k < cfg->seeds; k++)
        cJSON_AddItemToArray(seeds, cJSON_CreateNumber((double)(cfg->seed + (uint64_t)k)));
    cJSON_AddStringToObject(m, "started", started);
    if (ended)
        cJSON_AddStringToObject(m, "ended", ended);
    else
        cJSON_AddNullToObject(m, "ended");
    cJSON_AddStringToObject(m, "status", status);
    cJSON *ra = cJSON_AddArrayToObject(m, "runs");
    static const char *const st[] = {"pending", "complete", "failed"};
    for (size_t i = 0; i < n_runs; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "policy", runs[i].policy);
        cJSON_AddNumberToObject(r, "seed_index", runs[i].seed_index);
        cJSON_AddNumberToObject(r, "seed", (double)runs[i].seed);
        char dir[64];
        snprintf(dir, sizeof dir, "%s/seed-%d", runs[i].policy, runs[i].seed_index);
        cJSON_AddStringToObject(r, "dir", dir);
        cJSON_AddStringToObject(r, "status", st[runs[i].status]);
        cJSON_AddItemToArray(ra, r);
    }
    return m;
}

static int write_manifest(const char *out, const hb_experiment *x, const hb_backend_ops *be,
                          const char *config_path, const run_entry *runs, size_t n,
                          const char *started, const char *ended, const char *status, hb_error *err)
{
    cJSON *m = manifest_json(x, be, config_path, runs, n, started, ended, status);
    if (!m)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    char path[2200];
    snprintf(path, sizeof path, "%s/manifest.json", out);
    int rc = hb_write_json(path, m, err);
    cJSON_Delete(m);
    return rc;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* With --resume: the stored manifest must describe the same configuration. */
static int check_resume(const char *out, const hb_config *cfg, hb_error *err)
{
    char path[2200];
    snprintf(path, sizeof path, "%s/manifest.json", out);
    if (!file_exists(path))
        return hb_fail(err, HB_EINPUT, "--resume: %s does not exist (nothing to resume)", path);
    cJSON *m = NULL;
    int rc = hb_read_json(path, &m, err);
    if (rc)
        return hb_error_wrap(err, "--resume");
    cJSON *old = m ? cJSON_GetObjectItemCaseSensitive(m, "config") : NULL;
    cJSON *now = hb_config_json(cfg);
    int same = old && now && cJSON_Compare(old, now, 1);
    cJSON_Delete(m);
    cJSON_Delete(now);
    if (!old)
        return hb_fail(err, HB_EINPUT, "--resume: %s is not a harvestbench manifest", path);
    if (!same)
        return hb_fail(err, HB_EINPUT, "--resume: the configuration differs from the one in %s; "
                       "run without --resume to start again", path);
    return 0;
}

static void print_artifact_lines(const char *policy, const policy_total *t)
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
        printf("Lent: %.1f core-s, %.0f MB-s\n", s->harvested_cpu_s, s->harvested_mem_mb_s);
    }
    for (size_t i = 0; i < s->n_columns; i++)   /* the policy's extension columns */
        printf("%s%s %.1f%s", i ? ", " : "Policy totals: ", s->column[i].name, s->column[i].total,
               i + 1 == s->n_columns ? "\n" : "");
}

static void print_table(const hb_config *cfg, policy_total *tot)
{
    printf("\n%-10s %7s %7s %9s %9s %9s %9s %8s %8s %8s %8s\n", "policy", "calls", "ok",
           "mean ms", "p50 ms", "p95 ms", "p99 ms", "cpu/alloc", "mem/alloc", "cpu/cap", "mem/cap");
    for (int i = 0; i < cfg->n_policies; i++) {
        hb_run_stats *s = &tot[i].pooled;
        if (!s->invocations)
            continue;
        double mean = s->n_success ? s->lat_sum / (double)s->n_success : NAN;
        double cap_cpu = s->cpu_capacity, cap_mem = s->mem_capacity_mb;  /* core x s summed */
        printf("%-10s %7llu %7llu %9.1f %9.1f %9.1f %9.1f %8.3f %8.3f %8.3f %8.3f\n", cfg->policies[i],
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

/* Adds one seed's statistics into the policy's pooled totals. */
static int pool_stats(policy_total *t, const hb_run_stats *s)
{
    hb_run_stats *p = &t->pooled;
    p->invocations += s->invocations;
    for (int i = 0; i <= HB_LOST; i++)
        p->outcomes[i] += s->outcomes[i];
    p->n_success += s->n_success;
    p->lat_sum += s->lat_sum;
    p->harvested += s->harvested;
    p->accelerated += s->accelerated;
    p->safeguards += s->safeguards;
    p->harvested_cpu_s += s->harvested_cpu_s;
    p->harvested_mem_mb_s += s->harvested_mem_mb_s;
    hb_stats_pool_columns(p, s);
    p->cpu_used_core_s += s->cpu_used_core_s;
    p->cpu_alloc_core_s += s->cpu_alloc_core_s;
    p->mem_used_mb_s += s->mem_used_mb_s;
    p->mem_alloc_mb_s += s->mem_alloc_mb_s;
    p->cpu_capacity += s->cpu_capacity * hb_time_s(s->makespan);
    p->mem_capacity_mb += s->mem_capacity_mb * hb_time_s(s->makespan);
    t->makespan_sum += hb_time_s(s->makespan);
    t->seeds++;
    if (s->n_lat) {
        double *a = realloc(p->lat, (p->n_lat + s->n_lat) * sizeof *a);
        if (!a)
            return HB_ENOMEM;
        memcpy(a + p->n_lat, s->lat, s->n_lat * sizeof *a);
        p->lat = a;
        p->n_lat += s->n_lat;
    }
    return 0;
}

/* Reads the statistics a completed run left in summary.json (for --resume's closing table). */
static int load_summary(const char *path, hb_run_stats *s)
{
    cJSON *j = NULL;
    hb_error ignored;
    if (hb_read_json(path, &j, &ignored))
        return -1;
#define NUM(o, k) (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, k)) ? cJSON_GetObjectItemCaseSensitive(o, k)->valuedouble : 0)
    cJSON *oc = cJSON_GetObjectItemCaseSensitive(j, "outcomes");
    for (int i = HB_SUCCESS; i <= HB_LOST; i++)
        s->outcomes[i] = (uint64_t)NUM(oc, hb_outcome_name((hb_outcome)i));
    s->invocations = (uint64_t)NUM(j, "invocations");
    s->n_success = s->outcomes[HB_SUCCESS];
    s->lat_sum = NUM(cJSON_GetObjectItemCaseSensitive(j, "latency_ms"), "mean") * (double)s->n_success;
    s->harvested = (uint64_t)llround(NUM(j, "harvested_share") * (double)s->invocations);
    s->accelerated = (uint64_t)llround(NUM(j, "accelerated_share") * (double)s->invocations);
    s->safeguards = (uint64_t)NUM(j, "safeguard_triggers");
    s->harvested_cpu_s = NUM(j, "harvested_cpu_s");
    s->harvested_mem_mb_s = NUM(j, "harvested_mem_mb_s");
    hb_stats_columns_from_json(s, j);  /* the columns the caller declared */
    s->cpu_used_core_s = NUM(j, "cpu_used_core_s");
    s->cpu_alloc_core_s = NUM(j, "cpu_alloc_core_s");
    s->mem_used_mb_s = NUM(j, "mem_used_mb_s");
    s->mem_alloc_mb_s = NUM(j, "mem_alloc_mb_s");
    double mk = NUM(j, "makespan_s");
    s->makespan = (hb_time)llround(mk * 1e6);
    s->cpu_capacity = mk > 0 ? NUM(j, "cpu_capacity_core_s") / mk : 0;
    s->mem_capacity_mb = mk > 0 ? NUM(j, "mem_capacity_mb_s") / mk : 0;
#undef NUM
    cJSON_Delete(j);
    return 0;
}

/* Every selected policy, and the backend where its keys can be read without starting it, reads its
 * section now, before anything runs and before earlier results are replaced: a bad key (from the
 * file or --set) fails at once, naming file, line and key, instead of when its policy starts. A
 * policy is created with a generator of its own and destroyed: the runs do not see it. */
static int validate_sections(hb_config *cfg, const hb_backend_ops *be, hb_error *err)
{
    char sec[64];
    for (int p = 0; p < cfg->n_policies; p++) {
        const hb_policy_ops *po = hb_policy_find(cfg->policies[p]);
        snprintf(sec, sizeof sec, "policy.%s", cfg->policies[p]);
        hb_kvlist *kv = hb_config_section_kv(cfg, sec);
        int rc = 0;
        if (po && po->create) {
            gsl_rng *rng = hb_rng_new(cfg->seed, "validate");
            if (!rng)
                return hb_fail(err, HB_ENOMEM, "out of memory");
            hb_policy_ctx ctx;
            hb_engine_policy_ctx(cfg, po->name, kv, rng, 0, be->caps, &ctx);
            void *state = NULL;
            rc = po->create(&ctx, &state, err);
            if (rc)
                hb_error_wrap(err, "policy %s", po->name);
            else if (po->destroy)
                po->destroy(state);
            gsl_rng_free(rng);
        }
        if (!rc)
            rc = hb_config_check_used(kv, err);
        if (rc)
            return rc;
    }
    snprintf(sec, sizeof sec, "backend.%s", be->name);
    hb_kvlist *kv = hb_config_section_kv(cfg, sec);
    if (strcmp(be->name, "local") == 0)
        return 0;                      /* read when it opens, before the first call */
    if (strcmp(be->name, "openwhisk") == 0) {
        ow_options o;
        int rc = ow_options_read(kv, cfg->dir, &o, err);
        if (rc)
            return rc;
    }
    return hb_config_check_used(kv, err);
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
    int rc = hb_config_load(config_path, &x.cfg, &err);
    for (int i = 0; i < n_sets && !rc; i++)
        rc = hb_config_set(&x.cfg, sets[i], &err);
    if (!rc && policy_flag)
        rc = hb_config_set_policies(&x.cfg, policy_flag, "--policy", &err);
    if (!rc && seeds_flag)
        x.cfg.seeds = (int)seeds_flag;
    if (!rc && backend_flag) {
        if (strcmp(backend_flag, "sim") && strcmp(backend_flag, "local") && strcmp(backend_flag, "openwhisk"))
            rc = hb_fail(&err, HB_EINPUT, "--backend: '%s' is not sim, local or openwhisk", backend_flag);
        else
            snprintf(x.cfg.backend, sizeof x.cfg.backend, "%s", backend_flag);
    }
    const hb_backend_ops *be = NULL;
    if (!rc && !(be = hb_backend_find(x.cfg.backend)))
        rc = hb_fail(&err, HB_EINPUT, "backend '%s' is not available in this build", x.cfg.backend);
    if (!rc)
        rc = hb_experiment_prepare(&x, &err);
    if (!rc)
        rc = validate_sections(&x.cfg, be, &err);
    if (rc) {
        hb_config_locate_path(&x.cfg, &err);
        fprintf(stderr, "harvestbench run: %s\n", err.msg);
        hb_experiment_free(&x);
        return hb_exit_status(rc);
    }
    hb_config *cfg = &x.cfg;
    char out[HB_PATH_MAX];
    if (out_flag)
        snprintf(out, sizeof out, "%s", out_flag);
    else if (cfg->out[0])
        snprintf(out, sizeof out, "%s", cfg->out);
    else
        snprintf(out, sizeof out, "results/%s", cfg->name);

    size_t n_runs = (size_t)cfg->n_policies * (size_t)cfg->seeds;
    run_entry *runs = calloc(n_runs, sizeof *runs);
    policy_total *tot = calloc((size_t)cfg->n_policies, sizeof *tot);
    if (!runs || !tot) {
        free(runs);
        free(tot);
        hb_experiment_free(&x);
        fprintf(stderr, "harvestbench run: out of memory\n");
        return 1;
    }
    for (int p = 0, i = 0; p < cfg->n_policies; p++)
        for (int k = 1; k <= cfg->seeds; k++, i++) {
            snprintf(runs[i].policy, sizeof runs[i].policy, "%s", cfg->policies[p]);
            runs[i].seed_index = k;
            runs[i].seed = cfg->seed + (uint64_t)(k - 1);
        }
    for (int p = 0; p < cfg->n_policies; p++)
        hb_stats_init(&tot[p].pooled, 1);

    char started[32];
    iso_now(started, sizeof started);
    if (resume)
        rc = check_resume(out, cfg, &err);
    if (!rc)
        rc = hb_mkdirs(out, &err);
    if (!rc && !resume) {
        char path[HB_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/manifest.json", out);
        if (file_exists(path) && !quiet)
            fprintf(stderr, "harvestbench run: replacing the previous results in %s\n", out);
        for (int p = 0; p < cfg->n_policies && !rc; p++) {
            snprintf(path, sizeof path, "%s/%s", out, cfg->policies[p]);
            if (hb_remove_tree(path) != 0)
                rc = hb_fail(&err, HB_EIO, "%s: cannot remove the previous results", path);
        }
    }
    if (!rc)
        rc = write_manifest(out, &x, be, config_path, runs, n_runs, started, NULL, "incomplete", &err);
    if (!rc)   /* OUT/mapping.csv, the mapping printed, the offered-load warning (trace_mapping.h) */
        rc = hb_run_mapping_report(cfg, x.trace, x.profile, out, quiet ? NULL : stdout, stderr, &err);
    if (rc) {
        fprintf(stderr, "harvestbench run: %s\n", err.msg);
        free(runs);
        free(tot);
        hb_experiment_free(&x);
        return hb_exit_status(rc);
    }

    for (int p = 0; p < cfg->n_policies; p++) {
        unsigned d = hb_engine_dropped(hb_policy_find(cfg->policies[p]), be);
        if (d)
            fprintf(stderr, "harvestbench run: backend %s cannot honour the %s%s%s hooks of policy "
                    "%s; they are not applied (recorded in manifest.json)\n", be->name,
                    d & HB_CAP_SIZING ? "sizing " : "", d & HB_CAP_PLACEMENT ? "placement " : "",
                    d & HB_CAP_INVOKER ? "invoker-side " : "", cfg->policies[p]);
    }

    hb_stop_guard guard;
    volatile sig_atomic_t *stop = hb_stop_install(&guard);
    int tty = isatty(STDERR_FILENO);
    int failed = 0;
    for (size_t i = 0; i < n_runs && !*stop; i++) {
        run_entry *r = &runs[i];
        int p = (int)(i / (size_t)cfg->seeds);
        char dir[HB_PATH_MAX + 64], sum[HB_PATH_MAX + 96];
        snprintf(dir, sizeof dir, "%s/%s/seed-%d", out, r->policy, r->seed_index);
        snprintf(sum, sizeof sum, "%s/summary.json", dir);
        hb_run_stats st;
        hb_stats_init(&st, 1);
        hb_stats_columns(&st, hb_policy_find(r->policy)->columns);
        if (resume && file_exists(sum) && load_summary(sum, &st) == 0) {
            r->status = 1;
            pool_stats(&tot[p], &st);
            hb_stats_free(&st);
            if (!quiet)
                printf("%s seed %d: complete already, kept\n", r->policy, r->seed_index);
            continue;
        }
        hb_remove_tree(dir);
        char stem[256], label[128];
        artifact_stem(r->policy, x.trace->source, r->seed_index, stem, sizeof stem);
        snprintf(label, sizeof label, "%s seed %d/%d", r->policy, r->seed_index, cfg->seeds);
        hb_writer_spec ws = {dir, stem, hb_policy_find(r->policy)->columns};
        hb_run_writer *w = NULL;
        hb_error_clear(&err);
        rc = hb_writer_open(&ws, &w, &err);
        if (!rc) {
            char sec[64];
            snprintf(sec, sizeof sec, "policy.%s", r->policy);
            hb_kvlist *pkv = hb_config_section_kv(cfg, sec);
            snprintf(sec, sizeof sec, "backend.%s", be->name);
            hb_kvlist *bkv = hb_config_section_kv(cfg, sec);
            hb_engine_spec es = {
                .cfg = cfg, .trace = x.trace, .profile = x.profile, .arrival = x.arrival,
                .sizes = x.sizes, .policy = hb_policy_find(r->policy), .policy_params = pkv,
                .backend = be, .backend_params = bkv, .seed = r->seed, .seed_index = r->seed_index,
                .writer = w, .stats = &st, .usage = 1, .stop = stop,
                .progress_label = (!quiet && tty) ? label : NULL,
            };
            rc = hb_engine_run(&es, &err);
        }
        if (!rc) {
            cJSON *sj = hb_stats_json(&st, r->policy, r->seed_index, r->seed, be->name);
            rc = sj ? hb_writer_finish(w, sj, &err) : hb_fail(&err, HB_ENOMEM, "out of memory");
            w = NULL;
            cJSON_Delete(sj);
        }
        if (rc) {
            hb_writer_abort(w);
            r->status = rc == HB_EINTR ? 0 : 2;
            if (rc != HB_EINTR) {
                hb_config_locate_path(cfg, &err);
                fprintf(stderr, "harvestbench run: %s seed %d: %s\n", r->policy, r->seed_index, err.msg);
                failed = rc;
            }
            hb_stats_free(&st);
            if (rc == HB_EINPUT)
                break;                 /* bad input fails every run alike */
            continue;
        }
        r->status = 1;
        if (!quiet)
            printf("%s seed %d: %llu calls, %llu ok, %llu timeout, %llu oom, %llu error; makespan "
                   "%.1f s; %.2f s wall\n", r->policy, r->seed_index,
                   (unsigned long long)st.invocations, (unsigned long long)st.outcomes[HB_SUCCESS],
                   (unsigned long long)st.outcomes[HB_TIMEOUT],
                   (unsigned long long)st.outcomes[HB_OOM],
                   (unsigned long long)st.outcomes[HB_ERROR], hb_time_s(st.makespan), st.wall_seconds);
        pool_stats(&tot[p], &st);
        hb_stats_free(&st);
        write_manifest(out, &x, be, config_path, runs, n_runs, started, NULL, "incomplete", &err);
    }
    hb_stop_restore(&guard);

    int complete = 1;
    for (size_t i = 0; i < n_runs; i++)
        complete &= runs[i].status == 1;
    char ended[32];
    iso_now(ended, sizeof ended);
    hb_error merr;
    if (write_manifest(out, &x, be, config_path, runs, n_runs, started, ended,
                       complete ? "complete" : "incomplete", &merr))
        fprintf(stderr, "harvestbench run: %s\n", merr.msg);

    if (!quiet)
        printf("\n");
    for (int p = 0; p < cfg->n_policies; p++)
        if (tot[p].seeds && !quiet)
            print_artifact_lines(cfg->policies[p], &tot[p]);
    print_table(cfg, tot);
    printf("results: %s (%s)\n", out, complete ? "complete" : "incomplete");
    if (*stop) {
        /* the complete command: following it must reproduce this configuration exactly */
        char hint[8192] = "";
        shell_quote(hint, sizeof hint, program_invocation_name);
        shell_quote(hint, sizeof hint, "run");
        shell_quote(hint, sizeof hint, config_path);
        for (size_t i = 0; i < hb_policy_lib_count(); i++) {
            shell_quote(hint, sizeof hint, "--policy-lib");
            shell_quote(hint, sizeof hint, hb_policy_lib_path(i));
        }
        for (int i = 0; i < n_sets; i++) {
            shell_quote(hint, sizeof hint, "--set");
            shell_quote(hint, sizeof hint, sets[i]);
        }
        if (policy_flag) {
            shell_quote(hint, sizeof hint, "--policy");
            shell_quote(hint, sizeof hint, policy_flag);
        }
        if (seeds_flag) {
            char n[24];
            snprintf(n, sizeof n, "%ld", seeds_flag);
            shell_quote(hint, sizeof hint, "--seeds");
            shell_quote(hint, sizeof hint, n);
        }
        if (backend_flag) {
            shell_quote(hint, sizeof hint, "--backend");
            shell_quote(hint, sizeof hint, backend_flag);
        }
        shell_quote(hint, sizeof hint, "--out");
        shell_quote(hint, sizeof hint, out);
        shell_quote(hint, sizeof hint, "--resume");
        if (quiet)
            shell_quote(hint, sizeof hint, "--quiet");
        fprintf(stderr, "harvestbench run: interrupted; continue with:%s\n", hint);
    }
    for (int p = 0; p < cfg->n_policies; p++)
        hb_stats_free(&tot[p].pooled);
    free(tot);
    free(runs);
    hb_experiment_free(&x);
    if (failed == HB_EINPUT)
        return 2;
    return complete ? 0 : 1;
}

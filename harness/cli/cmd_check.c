/* check.c - `harvestbench check DIR --against BASELINE_DIR`: the CI regression gate (BRIEF
 * section 8). For every policy in both runs it compares the gate's latency metric (by default the
 * censored mean: a failed call counts at its timeout, so failing more cannot look faster), the
 * success share and the CPU and memory utilization of capacity, and fails when a metric is worse
 * by more than the tolerance AND the difference is significant: the 95% bootstrap interval of its
 * relative change excludes zero. The two latency metrics not gated are printed as information.
 * Runs of the same seeds and calls are resampled paired by invocation (docs/statistics.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "commands.h"
#include "compare_opts.h"
#include "results_reader.h"

#define DEFAULT_TOLERANCE_PCT 10.0

static const char usage[] =
    "usage: harvestbench check DIR --against BASELINE_DIR [--metric M] [--max-regression PCT]\n"
    "                          [--seed S] [--resamples B]\n"
    "\n"
    "The regression gate for CI. For every policy present in both result directories it compares\n"
    "DIR with BASELINE_DIR on: one latency metric (higher is worse; --metric), the share of\n"
    "successful invocations, and the CPU and memory utilization of capacity (lower is worse).\n"
    "A metric is a REGRESSION when it is worse by more than PCT percent (relative to the\n"
    "baseline) and the difference is significant: the 95% two-stage bootstrap interval of its\n"
    "relative change excludes zero. Runs of the same seeds and the same calls are resampled\n"
    "paired by invocation; the same seeds with other calls, by seed; others unpaired (the line\n"
    "'pairing' says which). One line per metric is printed either way; the latency metrics not\n"
    "gated are printed as 'info'.\n"
    "\n"
    "options:\n"
    "  --against DIR         the stored baseline run (required), e.g. results/ci-baseline\n"
    "  --metric M            the gated latency metric: censored-mean (default: every call, a\n"
    "                        failed one at its timeout), mean (successful calls only) or p99\n"
    "  --max-regression PCT  the tolerance in percent (default: 10)\n"
    "  --seed S              seed of the bootstrap generators (default: 1)\n"
    "  --resamples B         bootstrap resamples, at least 2000 (default: 2000)\n"
    "\n"
    "Exit status: 0 no regression; 1 a regression, or DIR is not a complete run;\n"
    "2 bad usage, a malformed directory, or no policy in common. See docs/ci.md.\n";

typedef struct metric {
    const char *name;
    int higher_is_worse;
    int unit;          /* 0 ms, 1 share */
} metric;

enum { M_CMEAN, M_MEAN, M_P99, M_SUCCESS, M_CPU, M_MEM, M_N };
static const metric metrics[M_N] = {
    {"latency_censored_mean_ms", 1, 0}, {"latency_mean_ms", 1, 0}, {"latency_p99_ms", 1, 0},
    {"success_share", 0, 1}, {"cpu_util_capacity", 0, 1}, {"mem_util_capacity", 0, 1},
};
#define GATED_PER_POLICY 4   /* one latency metric, success share, CPU and memory */

static void fmt_val(char *b, size_t n, double v, int unit)
{
    if (isnan(v))
        snprintf(b, n, "n/a");
    else if (unit == 1)
        snprintf(b, n, "%.2f%%", 100.0 * v);
    else
        snprintf(b, n, "%.2f", v);
}

/* Prints one metric's line; returns 1 if it is a regression (never when not gated). */
static int judge(const char *policy, const metric *m, double base, double now, const hb_change *ch,
                 double tol, int gated)
{
    char b[32], a[32], chs[64];
    fmt_val(b, sizeof b, base, m->unit);
    fmt_val(a, sizeof a, now, m->unit);
    if (isnan(ch->pct))
        snprintf(chs, sizeof chs, "n/a");
    else if (isnan(ch->ci.lo))
        snprintf(chs, sizeof chs, "%+.2f%% [no interval]", ch->pct);
    else
        snprintf(chs, sizeof chs, "%+.2f%% [%+.2f, %+.2f]", ch->pct, ch->ci.lo, ch->ci.hi);
    const char *verdict;
    int regression = 0;
    if (isnan(ch->pct)) {
        verdict = isnan(base) && isnan(now) ? "n/a (no data in either run)"
                  : isnan(now)              ? "n/a (no data in this run; see success_share)"
                                            : "n/a (no data in the baseline)";
    } else {
        double worse = m->higher_is_worse ? ch->pct : -ch->pct;   /* > 0: worse */
        int sig = hb_change_significant(ch);
        if (!gated) {
            verdict = "info (not gated; see --metric)";
        } else if (worse > tol && sig) {
            verdict = "REGRESSION (worse beyond the tolerance, and significant)";
            regression = 1;
        } else if (worse > tol && isnan(ch->ci.lo)) {
            verdict = "ok (worse beyond the tolerance, but no interval: needs 2 or more seeds)";
        } else if (worse > tol) {
            verdict = "ok (worse beyond the tolerance, but not significant)";
        } else if (worse > 0 && sig) {
            verdict = "ok (worse, within the tolerance)";
        } else if (worse < 0 && sig) {
            verdict = "ok (better)";
        } else {
            verdict = "ok";
        }
    }
    printf("%-12s %-24s %12s -> %-12s %-32s %s\n", policy, m->name, b, a, chs, verdict);
    return regression;
}

static int compare_policy(const hb_policy_runs *now, const hb_policy_runs *base,
                          const hb_boot_opts *o, double tol, int gate, int *regressions,
                          hb_error *err)
{
    int pairing = hb_runs_pairing(now, base);
    hb_policy_stats a, b;
    hb_streams st = {
        .seeds_a = hb_stream_seed(o->seed, pairing ? "" : now->name, "seeds-now"),
        .seeds_b = hb_stream_seed(o->seed, pairing ? "" : base->name,
                                  pairing ? "seeds-now" : "seeds-base"),
        .calls_a = hb_stream_seed(o->seed, now->name, "calls-now"),
        .calls_b = hb_stream_seed(o->seed, base->name, "calls-base"),
        .paired_calls = hb_stream_seed(o->seed, now->name, "calls-paired"),
    };
    int rc = hb_policy_stats_compute(now, o, st.seeds_a, st.calls_a, &a, err);
    if (rc)
        return rc;
    rc = hb_policy_stats_compute(base, o, st.seeds_b, st.calls_b, &b, err);
    if (rc) {
        hb_policy_stats_free(&a);
        return rc;
    }
    hb_vs_baseline v;
    rc = hb_vs_compute(now, base, &a, &b, pairing, o, &st, &v, err);
    if (!rc && gate == M_CMEAN && (isnan(a.cens_mean) || isnan(b.cens_mean)) &&
        !isnan(a.lat_mean) && !isnan(b.lat_mean)) {
        /* results whose manifest gives no timeouts (written before it did) with a failed call:
         * no censored latency on one side, so the mean of the successful calls gates */
        printf("%-12s %-24s %s\n", now->name, "gate",
               "latency_mean_ms (no censored latency: a manifest gives no timeouts)");
        gate = M_MEAN;
    }
    if (!rc) {
        printf("%-12s %-24s %s\n", now->name, "pairing", hb_pairing_names[pairing]);
        *regressions += judge(now->name, &metrics[M_CMEAN], b.cens_mean, a.cens_mean,
                              &v.cens_mean, tol, gate == M_CMEAN);
        *regressions += judge(now->name, &metrics[M_MEAN], b.lat_mean, a.lat_mean, &v.mean, tol,
                              gate == M_MEAN);
        *regressions += judge(now->name, &metrics[M_P99], b.lat_p99, a.lat_p99, &v.p99, tol,
                              gate == M_P99);
        *regressions += judge(now->name, &metrics[M_SUCCESS], b.success_share, a.success_share,
                              &v.success_share, tol, 1);
        *regressions += judge(now->name, &metrics[M_CPU], b.cpu_util_capacity,
                              a.cpu_util_capacity, &v.cpu_util_capacity, tol, 1);
        *regressions += judge(now->name, &metrics[M_MEM], b.mem_util_capacity,
                              a.mem_util_capacity, &v.mem_util_capacity, tol, 1);
    }
    hb_policy_stats_free(&a);
    hb_policy_stats_free(&b);
    return rc;
}

int cmd_check(int argc, char **argv)
{
    const char *dir = NULL, *against = NULL;
    double tol = DEFAULT_TOLERANCE_PCT;
    int gate = M_CMEAN;
    hb_boot_opts o = {HB_BOOT_MIN_RESAMPLES, 1, 0.95};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if ((r = hb_opt_value(argc, argv, &i, "--against", &v)) != 0) {
            if (r < 0)
                return hb_usage_error("check", "--against needs a result directory");
            against = v;
        } else if ((r = hb_opt_value(argc, argv, &i, "--metric", &v)) != 0) {
            if (r > 0 && strcmp(v, "censored-mean") == 0)
                gate = M_CMEAN;
            else if (r > 0 && strcmp(v, "mean") == 0)
                gate = M_MEAN;
            else if (r > 0 && strcmp(v, "p99") == 0)
                gate = M_P99;
            else
                return hb_usage_error("check", "--metric needs censored-mean, mean or p99");
        } else if ((r = hb_opt_value(argc, argv, &i, "--max-regression", &v)) != 0) {
            char *end;
            tol = r > 0 ? strtod(v, &end) : NAN;
            if (r < 0 || *end != '\0' || !(tol >= 0.0 && tol < 1e6))
                return hb_usage_error("check", "--max-regression needs a percentage >= 0");
        } else if ((r = hb_opt_boot(argc, argv, &i, &o, "check")) != 0) {
            if (r < 0)
                return 2;
        } else if (a[0] == '-' && a[1] != '\0') {
            return hb_usage_error("check", "unknown option '%s'", a);
        } else if (!dir) {
            dir = a;
        } else {
            return hb_usage_error("check", "unexpected argument '%s'", a);
        }
    }
    if (!dir)
        return hb_usage_error("check", "missing the result directory DIR");
    if (!against)
        return hb_usage_error("check", "missing --against BASELINE_DIR");

    hb_error err = {0};
    hb_results now, base;
    int rc = hb_results_read(dir, 0, &now, &err);
    if (rc) {
        fprintf(stderr, "harvestbench check: %s\n", err.msg);
        return hb_exit_status(rc);
    }
    rc = hb_results_read(against, 0, &base, &err);
    if (rc) {
        fprintf(stderr, "harvestbench check: baseline: %s\n", err.msg);
        hb_results_free(&now);
        return hb_exit_status(rc);
    }
    int status = 0;
    if (strcmp(now.status, "complete") != 0) {
        fprintf(stderr, "harvestbench check: %s: the run is not complete (status \"%s\")\n",
                now.dir, now.status);
        status = 1;
    }
    if (strcmp(base.status, "complete") != 0)
        fprintf(stderr, "harvestbench check: warning: baseline %s is not complete (status \"%s\")\n",
                base.dir, base.status);
    for (size_t i = 0; i < now.nwarnings; i++)
        fprintf(stderr, "harvestbench check: warning: %s\n", now.warnings[i]);
    for (size_t i = 0; i < base.nwarnings; i++)
        fprintf(stderr, "harvestbench check: warning: baseline: %s\n", base.warnings[i]);

    printf("harvestbench check: %s against %s: gate %s, tolerance %g%%, 95%% bootstrap intervals "
           "(%zu resamples, seed %lu)\n",
           now.dir, base.dir, metrics[gate].name, tol, o.resamples, o.seed);
    printf("%-12s %-24s %12s    %-12s %-32s %s\n", "policy", "metric", "baseline", "this run",
           "change [95% CI]", "verdict");
    int regressions = 0;
    size_t compared = 0;
    for (size_t p = 0; p < now.npolicies && !rc; p++) {
        const hb_policy_runs *a = &now.policies[p];
        const hb_policy_runs *b = hb_results_policy(&base, a->name);
        if (!b) {
            printf("%-12s not in the baseline: not checked\n", a->name);
            continue;
        }
        if (a->nruns == 0 || b->nruns == 0) {
            printf("%-12s no complete run in %s: not checked\n", a->name,
                   a->nruns == 0 ? "this run" : "the baseline");
            if (a->nruns == 0)
                status = 1;
            continue;
        }
        rc = compare_policy(a, b, &o, tol, gate, &regressions, &err);
        compared++;
    }
    for (size_t p = 0; p < base.npolicies; p++)
        if (!hb_results_policy(&now, base.policies[p].name))
            printf("%-12s only in the baseline: not checked\n", base.policies[p].name);
    if (rc) {
        fprintf(stderr, "harvestbench check: %s\n", err.msg);
        status = 1;
    } else if (compared == 0) {
        fprintf(stderr, "harvestbench check: no policy of %s has a complete run in both "
                        "directories: nothing to check\n", now.dir);
        status = 2;
    } else {
        printf("harvestbench check: %d regression%s in %zu metrics of %zu polic%s -> %s\n",
               regressions, regressions == 1 ? "" : "s", compared * GATED_PER_POLICY, compared,
               compared == 1 ? "y" : "ies", regressions || status ? "FAIL" : "pass");
        if (regressions)
            status = 1;
    }
    hb_results_free(&now);
    hb_results_free(&base);
    return status;
}

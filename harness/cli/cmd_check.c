/* cmd_check.c - `harvestbench check DIR --against BASELINE_DIR`: the CI regression gate (BRIEF
 * section 8). The flags and the result directories are read here; the comparison and verdict of
 * each policy: analysis/gate.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "gate.h"
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

int cmd_check(int argc, char **argv)
{
    const char *dir = NULL, *against = NULL;
    double tol = DEFAULT_TOLERANCE_PCT;
    int gate = HB_GATE_CMEAN;
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
                gate = HB_GATE_CMEAN;
            else if (r > 0 && strcmp(v, "mean") == 0)
                gate = HB_GATE_MEAN;
            else if (r > 0 && strcmp(v, "p99") == 0)
                gate = HB_GATE_P99;
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
           now.dir, base.dir, hb_gate_metric_name(gate), tol, o.resamples, o.seed);
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
        rc = hb_gate_policy(a, b, &o, tol, gate, stdout, &regressions, &err);
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
               regressions, regressions == 1 ? "" : "s", compared * HB_GATE_PER_POLICY, compared,
               compared == 1 ? "y" : "ies", regressions || status ? "FAIL" : "pass");
        if (regressions)
            status = 1;
    }
    hb_results_free(&now);
    hb_results_free(&base);
    return status;
}

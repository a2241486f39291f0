/* cmd_compare.c - `harvestbench compare DIR`: statistics of every policy of a run against a baseline
 * policy, written to DIR/comparison.{md,csv,json} and DIR/plots/, and printed (BRIEF section 8).
 * The statistics: analysis/comparison.h; the files: analysis/report.h, analysis/plot.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "comparison.h"
#include "compare_opts.h"
#include "commands.h"
#include "plot.h"
#include "report.h"
#include "results_reader.h"

static const char usage[] =
    "usage: harvestbench compare DIR [--baseline POLICY] [--no-plots] [--seed S] [--resamples B]\n"
    "\n"
    "Compares every policy of the result directory DIR (written by `harvestbench run`) with a\n"
    "baseline policy, and writes DIR/comparison.md (tables and plots for people),\n"
    "DIR/comparison.csv (one row per policy), DIR/comparison.json and DIR/plots/*.png (with their\n"
    "gnuplot scripts and data). The tables are also printed.\n"
    "\n"
    "Per policy: invocations, seeds, outcomes, cold-start share; latency mean, p50, p90, p95, p99,\n"
    "max of successful invocations pooled over seeds, and the censored latency of every call (a\n"
    "failed one at its timeout); mean slowdown; CPU and memory utilization of capacity (the\n"
    "headline) and of allocations; harvested and accelerated shares. Against the baseline:\n"
    "relative changes with 95% bootstrap intervals, paired by invocation when the runs replay the\n"
    "same calls (the decision); a seed-level sign-flip permutation test and Wilcoxon signed-rank;\n"
    "pooled Mann-Whitney U and Cliff's delta as descriptive statistics; Holm-adjusted p-values.\n"
    "The first plot is a forest plot of every policy's paired changes. See docs/statistics.md.\n"
    "\n"
    "options:\n"
    "  --baseline POLICY  the policy the others are compared with (default: the manifest's\n"
    "                     baseline, i.e. [experiment] baseline, else fixed if run, else the first)\n"
    "  --no-plots         do not write DIR/plots/\n"
    "  --seed S           seed of the bootstrap generators (default: 1); same seed, same numbers\n"
    "  --resamples B      bootstrap resamples, at least 2000 (default: 2000)\n"
    "\n"
    "Exit status: 0 written (a missing gnuplot only skips the plots, with a warning); 1 a plot\n"
    "or file could not be written; 2 bad usage, a malformed result directory, or a baseline\n"
    "that is not in the run.\n";

static void free_all(hb_results *res, hb_policy_stats *st, hb_vs_baseline *vs, size_t n)
{
    hb_comparison_stats_free(st, vs, n);
    hb_results_free(res);
}

int cmd_compare(int argc, char **argv)
{
    const char *dir = NULL, *baseline = NULL;
    int plots = 1;
    hb_boot_opts o = {HB_BOOT_MIN_RESAMPLES, 1, 0.95};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if ((r = hb_opt_value(argc, argv, &i, "--baseline", &v)) != 0) {
            if (r < 0)
                return hb_usage_error("compare", "--baseline needs a policy name");
            baseline = v;
        } else if (strcmp(a, "--no-plots") == 0) {
            plots = 0;
        } else if ((r = hb_opt_boot(argc, argv, &i, &o, "compare")) != 0) {
            if (r < 0)
                return 2;
        } else if (a[0] == '-' && a[1] != '\0') {
            return hb_usage_error("compare", "unknown option '%s'", a);
        } else if (!dir) {
            dir = a;
        } else {
            return hb_usage_error("compare", "unexpected argument '%s'", a);
        }
    }
    if (!dir)
        return hb_usage_error("compare", "missing the result directory DIR");

    hb_error err = {0};
    hb_results res;
    int rc = hb_results_read(dir, plots ? HB_READ_USAGE : 0, &res, &err);
    if (rc) {
        fprintf(stderr, "harvestbench compare: %s\n", err.msg);
        return hb_exit_status(rc);
    }
    for (size_t i = 0; i < res.nwarnings; i++)
        fprintf(stderr, "harvestbench compare: warning: %s\n", res.warnings[i]);
    if (strcmp(res.status, "complete") != 0)
        fprintf(stderr, "harvestbench compare: warning: %s: the run's status is \"%s\", not "
                        "complete; comparing the runs it finished\n", res.dir, res.status);
    const char *why = "--baseline";
    if (!baseline && res.baseline[0]) {
        baseline = res.baseline;
        why = "the manifest's baseline ([experiment] baseline)";
    } else if (!baseline) {
        /* results from before the manifest recorded it: the same rule as `run` */
        baseline = hb_results_policy(&res, "fixed") ? "fixed" : res.policies[0].name;
        why = "default: fixed if run, else the first policy";
    }
    const hb_policy_runs *bp = hb_results_policy(&res, baseline);
    if (!bp) {
        fprintf(stderr, "harvestbench compare: %s: the baseline policy '%s' (%s) is not in this "
                        "run (policies:", res.dir, baseline, why);
        for (size_t i = 0; i < res.npolicies; i++)
            fprintf(stderr, " %s", res.policies[i].name);
        fprintf(stderr, "); choose one with --baseline POLICY\n");
        hb_results_free(&res);
        return 2;
    }
    if (bp->nruns == 0) {
        fprintf(stderr, "harvestbench compare: %s: the baseline policy '%s' has no complete run\n",
                res.dir, baseline);
        hb_results_free(&res);
        return 2;
    }

    size_t n = res.npolicies, base = (size_t)(bp - res.policies);
    hb_policy_stats *st = NULL;
    hb_vs_baseline *vs = NULL;
    if ((rc = hb_comparison_stats(&res, base, &o, &st, &vs, &err)) != 0) {
        fprintf(stderr, "harvestbench compare: %s\n", err.msg);
        hb_results_free(&res);
        return 1;
    }

    hb_plot_set ps = {0};
    int status = 0;
    hb_comparison c = {.res = &res, .base = base, .opts = o, .n = n, .st = st, .vs = vs};
    if (plots) {
        char pdir[4200];
        snprintf(pdir, sizeof pdir, "%s/plots", res.dir);
        rc = hb_plots_write(pdir, &res, st, vs, base, n, &ps, &err);
        if (rc) {
            fprintf(stderr, "harvestbench compare: warning: plots: %s\n", err.msg);
            status = 1;
            hb_plot_set_free(&ps);
        } else {
            c.plots = &ps;
            if (ps.gnuplot_missing)
                fprintf(stderr, "harvestbench compare: warning: gnuplot is not on PATH, so no plot "
                                "was drawn (install gnuplot-nox; the data and scripts are in %s); "
                                "the tables are written\n", pdir);
            if (ps.failed) {
                fprintf(stderr, "harvestbench compare: %d plot(s) could not be drawn; see "
                                "%s/gnuplot.log\n", ps.failed, pdir);
                status = 1;
            }
        }
    }
    char path[4200];
    static const char *const names[] = {"comparison.json", "comparison.csv", "comparison.md"};
    int (*writers[])(const hb_comparison *, const char *, hb_error *) = {
        hb_report_json, hb_report_csv, hb_report_md};
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", res.dir, names[k]);
        if ((rc = writers[k](&c, path, &err)) != 0) {
            fprintf(stderr, "harvestbench compare: %s\n", err.msg);
            status = 1;
        }
    }
    hb_report_print(&c, stdout);
    printf("\nWritten: %s/comparison.md, comparison.csv, comparison.json", res.dir);
    if (c.plots && !ps.gnuplot_missing)
        printf(", plots/ (%zu plots)", ps.n - (size_t)ps.failed);
    printf("\n");
    hb_plot_set_free(&ps);
    free_all(&res, st, vs, n);
    return status;
}

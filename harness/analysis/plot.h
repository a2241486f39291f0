/* plot.h - the plots of `harvestbench compare`, drawn by gnuplot (run as a program, pngcairo).
 *
 * Under DIR/plots/ each plot NAME has NAME.png, the gnuplot script NAME.gp and its data files
 * NAME*.dat next to it, so that a user can edit and re-plot (`cd DIR/plots && gnuplot NAME.gp`):
 *   forest             the headline: each policy's paired change against the baseline (mean,
 *                      p99, censored mean, CPU utilization of capacity) with its 95% interval,
 *                      one row per policy, a panel per metric
 *   latency_cdf        the CDF of successful latencies per policy (log x), all seeds pooled
 *   latency_bars       mean and p99 latency per policy, whiskers at their bootstrap intervals
 *   usage_<policy>     CPU and memory used, allocated and capacity over time (first complete seed)
 *   harvest_<policy>   CPU and memory lent and borrowed over time, for policies that harvest
 * gnuplot runs without DISPLAY, its output going to plots/gnuplot.log. */
#ifndef HB_PLOT_H
#define HB_PLOT_H

#include <stddef.h>

#include "analysis.h"
#include "hb_error.h"
#include "results_reader.h"

typedef struct hb_plot {
    char name[96];          /* file name without extension */
    char title[160];        /* what it shows, for comparison.md */
    int drawn;              /* NAME.png was written */
} hb_plot;

typedef struct hb_plot_set {
    size_t n;
    hb_plot *plots;
    int gnuplot_missing;    /* no gnuplot on PATH: data and scripts written, nothing drawn */
    int failed;             /* plots gnuplot could not draw (see plots/gnuplot.log) */
} hb_plot_set;

/* Writes the data and scripts of every plot into plots_dir (created if needed) and runs gnuplot on
 * each. A missing gnuplot is not an error (set->gnuplot_missing); a gnuplot failure counts in
 * set->failed. Returns HB_OK, or HB_EIO / HB_ENOMEM when files cannot be written. */
int hb_plots_write(const char *plots_dir, const hb_results *res, const hb_policy_stats *st,
                   const hb_vs_baseline *vs, size_t base, size_t n, hb_plot_set *set,
                   hb_error *err);
void hb_plot_set_free(hb_plot_set *set);

/* 1 if an executable called name is in a directory of $PATH. */
int hb_find_program(const char *name);
/* A gnuplot single-quoted string: '' stands for a quote. */
void hb_gp_quote(FILE *f, const char *s);
/* Runs `gnuplot SCRIPT` in dir without DISPLAY, output appended to dir/gnuplot.log. 0 on success. */
int hb_gnuplot_run(const char *dir, const char *script);

#endif

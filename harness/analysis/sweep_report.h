/* sweep_report.h - merges the cells of a sweep into DIR/sweep.csv and DIR/sweep.md, and draws
 * heatmaps of the change against the baseline over two axes (docs/sweeps.md).
 *
 * Each cell is read as `compare` reads a run (results_reader.h) and its statistics computed the
 * same way (analysis.h, with compare's defaults: 2000 resamples, bootstrap seed 1, 95%), so a row
 * of sweep.csv holds the numbers `harvestbench compare DIR/cells/ID` prints. The output depends
 * only on the cells' CSVs: a sweep run locally and one run on Slurm give identical files. */
#ifndef HB_SWEEP_REPORT_H
#define HB_SWEEP_REPORT_H

#include "hb_error.h"
#include "sweep.h"

/* Computes the statistics of one complete cell and writes its rows of sweep.csv and sweep.md to
 * DIR/cells/ID.rows.{csv,md} (each written whole, then renamed), so that the cells' statistics are
 * computed in parallel, by the processes that ran them. */
int sweep_report_cell(const sweep *s, size_t cell, hb_error *err);

/* Writes DIR/sweep.csv (a row per cell x policy) and DIR/sweep.md from the cells' rows files,
 * computing those that are missing. Every cell must be complete: otherwise HB_ERUN naming the
 * first that is not. */
int sweep_report_write(const sweep *s, hb_error *err);

/* The metrics a heatmap can show: the *_change_pct columns of sweep.csv, by prefix ("mean"). */
extern const char *const sweep_plot_metrics[];

/* Reads DIR/sweep.csv and writes DIR/plots/heatmap_<metric>_<policy>_<x>_<y>.{dat,gp,png} for the
 * given policy, or for every policy other than the baseline when policy is NULL. Cells that share
 * an (x, y) pair (other axes varying) are averaged, and the title says so. A missing gnuplot leaves
 * the data and the script (*drawn = 0). HB_EINPUT for an unknown axis, policy or metric. */
int sweep_plot(const char *dir, const char *x, const char *y, const char *policy,
               const char *metric, int *drawn, hb_error *err);

#endif

/* workload_fit.h - fits the `measured` workload model (workload_model.h) to measured runs.
 *
 * It lives in core beside workload_model.c, not with the profiling lab (backends/local/profile_lab),
 * because it is pure arithmetic on the model's own curves: it runs nothing and reads nothing, so it
 * can be tested on made-up data and reused by any source of measurements. The method (documented for
 * users in workloads/profiles/README.md, "measured"), at the largest CPU limit (the reference):
 *   exec_s(x)       the function's own wall time, weighted least squares (GSL, weights 1/y^2) of
 *                   a + b*x (+ c*x*log2 x for the sorts), held constant below the smallest size
 *   mem_peak_mb(x)  linear between the medians at the measured sizes, continuing the last rise
 *   parallelism(x)  the busy cores cpu_s/total when clearly below the cores it had, else the worker
 *                   count (HB_FIT_CPU_CAP for functions that use every CPU under a CPU quota)
 *   constants       cold_start_s, cv, mem_start_frac, mem_ramp_frac (medians over the runs). */
#ifndef HB_WORKLOAD_FIT_H
#define HB_WORKLOAD_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "hb_error.h"
#include "workload_model.h"

#define HB_FIT_CPU_CAP 8               /* Libra's per-function core cap: "all CPUs" functions */

/* One measured run of a function, as the fit reads it. */
typedef struct hb_fit_run {
    int64_t size;
    double cores;                      /* the CPU limit */
    double wall_s;                     /* the function's own time */
    double total_s;                    /* spawn to exit */
    double cpu_s;                      /* CPU time */
    double mem_peak_mb;
    double other_load;                 /* cores the rest of the machine used meanwhile; NAN unknown */
    double mem_start_frac;             /* first memory sample / peak; NAN unknown */
    double ramp_frac;                  /* time to 90% of the peak / wall; NAN unknown */
    int workers, parallel_auto;
} hb_fit_run;

/* The grid the runs were measured on. */
typedef struct hb_fit_grid {
    const char *id;                    /* the function's id, for the summary */
    const int64_t *sizes;              /* ascending */
    int nsizes;
    const double *cpus;                /* ascending; the last is the reference limit */
    int ncpus;
    int nlogn;                         /* exec grows as x log x (the merge sorts) */
    int cpu_quota;                     /* the limit was a CPU quota (not the worker count) */
    double max_others;                 /* a run is disturbed when other_load exceeds this */
} hb_fit_grid;

/* Fits pf (zeroed first) from the runs and writes a one-line summary of the fit. */
int hb_workload_fit(const hb_fit_grid *g, const hb_fit_run *runs, size_t nr, hb_profile_func *pf,
                    char *summary, size_t sumlen, hb_error *err);

/* exec_s: fits y(x) and appends the curve to cv: constant below the smallest x, the model above.
 * Tries a + b x + c x log2 x (when nlogn), then a + b x, then b x, then the median; a fit is kept
 * when it is positive and does not decrease up to 10x the largest x. *kind names the one used. */
int hb_fit_exec_curve(const double *x, const double *y, size_t n, int nlogn, hb_profile_curve *cv,
                      const char **kind, hb_error *err);

/* mem_peak_mb: the piecewise-linear line through the median at each x; workers[i] is point i's
 * worker count (a rise that came with more workers is not continued above the largest x). */
int hb_fit_memory_curve(const double *x, const double *y, const int *workers, size_t n,
                        hb_profile_curve *cv, hb_error *err);

#endif

/* profile_measure.h - the measuring half of the profiling lab (profile_lab.h): runs one function
 * over its grid of sizes, CPU limits and repeats, each run in its own CPU-limited group (or with
 * its worker count as the limit), and fits its model from the runs (core/workload_fit.h). */
#ifndef HB_PROFILE_MEASURE_H
#define HB_PROFILE_MEASURE_H

#include <stddef.h>
#include <stdio.h>

#include "hb_error.h"
#include "local/profile_lab.h"
#include "workload_model.h"

/* Where the timelines go while measuring (the file is written at the end, with its header). */
typedef struct hb_lab_sink {
    FILE *f;                           /* an in-memory stream; NULL: not recording */
    int runs, disturbed;
    int gappy;                         /* runs with a gap over 50 ms between readings */
    size_t samples;
} hb_lab_sink;

/* Measures function f (binary path) over its grid and fits pf; progress lines go to log (unless
 * quiet), the kept runs' timelines to tl (when tl->f), a one-line summary of the fit to summary. */
int hb_lab_profile_function(const hb_lab_opts *o, int f, const char *path, hb_profile_func *pf,
                            FILE *log, hb_lab_sink *tl, char *summary, size_t sumlen,
                            hb_error *err);

/* The cpu.shares matching this process's nice value (a group's weight under cgroup v1). */
double hb_lab_shares_for_nice(int nice);

#endif

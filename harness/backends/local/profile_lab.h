/* profile_lab.h - the profiling lab behind `harvestbench profile`: runs the workload binaries on
 * this machine over a grid of input sizes and CPU limits, records each run's usage (and its 100 ms
 * timeline), fits the `measured` workload model (core/workload_fit.h) and writes the profile and
 * the timeline library. It runs real processes (in cgroups where it can), hence backends/local.
 * Method and file formats: workloads/profiles/README.md ("measured", "timelines"). */
#ifndef HB_PROFILE_LAB_H
#define HB_PROFILE_LAB_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "hb_error.h"
#include "hb_types.h"

typedef enum hb_lab_limit { HB_LAB_CGROUP, HB_LAB_THREADS } hb_lab_limit;

typedef struct hb_lab_opts {
    int quick, quiet, repeats;
    double max_others;                 /* retry a run when the rest of the machine used more */
    const char *out;
    const char *timelines;             /* NULL: next to out (after hb_lab_resolve: not written) */
    char timelines_buf[PATH_MAX];
    int funcs[HB_NWORKLOADS], nfuncs;      /* none: all */
    double cpus[16];                   /* none: 1, 2, ... up to this machine's CPUs (8 at most) */
    int ncpus;
    int64_t sizes[16];                 /* the same sizes for every function; none: per function */
    int nsizes;
    hb_lab_limit mode;                 /* set by hb_lab_resolve */
    char mode_note[512];
} hb_lab_opts;

/* The defaults: 2 repeats, 0.5 cores of other work, workloads/profiles/measured.csv. */
void hb_lab_defaults(hb_lab_opts *o);

/* Completes the options: the timeline path ("none": not written), the functions and CPU limits
 * not given, and how the CPU is limited (limit: "auto", "cgroup" or "threads"). Fails with
 * HB_EINPUT and a message for the user when they cannot be met. */
int hb_lab_resolve(hb_lab_opts *o, const char *limit, hb_error *err);

/* Measures, fits and writes. Progress goes to log (stdout), warnings to stderr. Fails with
 * HB_EINPUT when an output file cannot be written (checked before measuring), else with the
 * failure of the run, fit or write. */
int hb_lab_run(const hb_lab_opts *o, FILE *log, hb_error *err);

#endif

/* profile.h - the workload model the simulator runs (BRIEF section 6).
 *
 * Per benchmark function, as functions of the input size x:
 *   exec_s(x)        execution time in seconds at ref_cores cores and ample memory, cold start
 *                    excluded; the work is exec_s(x) * min(ref_cores, parallelism(x)) core-seconds
 *   parallelism(x)   the most cores the function can keep busy
 *   mem_peak_mb(x)   its peak memory, MB
 * and per function constants:
 *   ref_cores        cores exec_s was measured at
 *   cold_start_s     container creation and runtime initialisation
 *   cv               run-to-run coefficient of variation of the work (lognormal)
 *   mem_start_frac   memory in use when the code starts, as a fraction of the peak
 *   mem_ramp_frac    share of the expected run over which memory grows linearly to the peak
 *
 * A curve is piecewise in x over intervals (x_gt, x_le]; on each piece
 *   value = a + b*x + c*x*log2(x)      (x*log2(x) taken as 0 for x < 1).
 *
 * File format (CSV, '#' lines are comments):
 *   function_id,param,x_gt,x_le,a,b,c
 * where param is one of the names above; constants use x_gt=-inf, x_le=inf and a.
 * The `artifact` profile is derived from the Libra artifact's predictor table (how: see
 * workloads/profiles/README.md); the `measured` one is written by `harvestbench profile`. */
#ifndef HB_PROFILE_H
#define HB_PROFILE_H

#include <stdio.h>

#include "hb_error.h"
#include "hb_types.h"

typedef struct hb_profile_piece {
    double x_gt, x_le;
    double a, b, c;
} hb_profile_piece;

typedef struct hb_profile_curve {
    size_t n;
    hb_profile_piece *p;               /* sorted by x_gt, contiguous */
} hb_profile_curve;

typedef struct hb_profile_func {
    int present;
    hb_profile_curve exec_s, parallelism, mem_peak_mb;
    double ref_cores;
    double cold_start_s;
    double cv;
    double mem_start_frac;
    double mem_ramp_frac;
    /* artifact profile only (not in files): the predictor's peak classes, from which its synthetic
     * timelines are drawn, and the largest true memory peak of a correctly predicted class */
    hb_profile_curve cpu_class, mem_class;
    double class_mem_cap_mb;
} hb_profile_func;

/* How the simulator's truth uses a profile ([workload] usage, docs/simulator.md). */
enum { HB_USAGE_FLAT = 0, HB_USAGE_TIMELINE = 1 };

struct hb_timeline_lib;

struct hb_profile {
    char name[64];                     /* "artifact", "measured", or the file's name */
    char source[256];                  /* where it came from, for the manifest */
    hb_profile_func f[HB_NWORKLOADS];
    /* the truth model (set by the experiment, not stored in files) */
    int usage;                         /* HB_USAGE_FLAT or HB_USAGE_TIMELINE */
    int synthetic;                     /* timeline: 1 = artifact synthetic, 0 = measured library */
    struct hb_timeline_lib *timelines; /* the measured library (owned) */
    double cpu_class_error, mem_class_error;   /* artifact: P(true peak class = predicted +-1) */
};
typedef struct hb_profile hb_profile;

/* The artifact profile, derived from a predictor table (CSV text, columns
 * function_id,target,x_gt,x_le,value); text NULL means the table compiled into the binary. */
int hb_profile_artifact(const char *csv_text, size_t len, const char *source, hb_profile **out,
                        hb_error *err);
struct hb_predictor_table;
/* The artifact profile derived from a parsed predictor table (hb_steptable.h). */
int hb_profile_from_table(const struct hb_predictor_table *t, hb_profile **out, hb_error *err);
/* Reads the predictor table compiled into the binary (NUL-terminated). */
const char *hb_embedded_predictor_table(size_t *len);

int hb_profile_load(const char *path, hb_profile **out, hb_error *err);
int hb_profile_save(const hb_profile *p, const char *path, const char *comment, hb_error *err);
int hb_profile_write(const hb_profile *p, FILE *f, hb_error *err);
void hb_profile_free(hb_profile *p);

/* Adds a piece to a curve (used by writers of profiles); pieces must be added in x order. */
int hb_profile_curve_add(hb_profile_curve *c, double x_gt, double x_le, double a, double b,
                         double cc, hb_error *err);

/* Evaluates a curve at x (the first piece with x_gt < x <= x_le; clamps to the end pieces). */
double hb_profile_eval(const hb_profile_curve *c, double x);

/* Checks every present function has all three curves and sane constants. */
int hb_profile_validate(const hb_profile *p, const char *where, hb_error *err);

#endif

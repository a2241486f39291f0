/* hb_steptable.h - step-function predictor tables: for each of the ten functions and each target
 * (CPU class, memory class in 128 MB units, duration in seconds), a value that is constant on
 * consecutive intervals (x_gt, x_le] of the input size. This is the form of the Libra artifact's
 * trained predictors (data/libra-artifact-predictors.csv, compiled into the binary), of the tables
 * `harvestbench train libra` writes, and of the `artifact` workload model's curves; Libra's predictor
 * (a policy) reads one through this header, the harness's workload model through the same one.
 *
 * Text format (CSV with a header, columns found by name, any order):
 *     function_id,target,x_gt,x_le,value
 *     dh,cpu,-inf,50.0,0
 * function_id is a short id of hb_functions; target is cpu, memory or duration; x_gt < x_le; value
 * finite and >= 0. Every (function, target) needs at least one row, and its intervals must join
 * (each x_gt equals the previous x_le once sorted). Lines starting with '#' are comments (load only).
 * Errors name the source, line and column. The implementation is in harness/core/steptable.c. */
#ifndef HB_STEPTABLE_H
#define HB_STEPTABLE_H

#include <stddef.h>

#include "hb_error.h"
#include "hb_types.h"

enum { HB_TARGET_CPU, HB_TARGET_MEM, HB_TARGET_DUR, HB_NTARGETS };

typedef struct hb_step {
    double x_gt, x_le, v;
} hb_step;

typedef struct hb_step_fn {
    hb_step *s;                        /* sorted by x_gt */
    size_t n;
} hb_step_fn;

typedef struct hb_predictor_table {
    char source[256];
    hb_step_fn f[HB_NWORKLOADS][HB_NTARGETS];  /* cpu class, memory class (128 MB units), duration s */
} hb_predictor_table;

/* Parses CSV text (len bytes, need not be NUL-terminated; source names it in messages); text NULL
 * reads the artifact's table compiled into the binary. On success *out is the caller's to free. */
int hb_predictor_table_parse(const char *text, size_t len, const char *source,
                             hb_predictor_table **out, hb_error *err);
/* Reads a file ('#' lines are comments); path NULL or "" means the built-in table. */
int hb_predictor_table_load(const char *path, hb_predictor_table **out, hb_error *err);
void hb_predictor_table_free(hb_predictor_table *t);   /* NULL is fine */

/* The value of the step holding x (the first with x <= x_le; the ends extend outwards); NaN for an
 * empty function. Lookup: hb_step_eval(&t->f[func][HB_TARGET_CPU], (double)inv->input_size). */
double hb_step_eval(const hb_step_fn *f, double x);

#endif

/* predictor_table.h - the Libra artifact's trained predictors as exact step functions of the input
 * size (data/libra-artifact-predictors.csv: function_id,target,x_gt,x_le,value; intervals
 * (x_gt, x_le]). Used by Libra's `artifact` predictor and by the `artifact` workload profile. */
#ifndef HB_PREDICTOR_TABLE_H
#define HB_PREDICTOR_TABLE_H

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

/* Parses CSV text; text NULL reads the table compiled into the binary. */
int hb_predictor_table_parse(const char *text, size_t len, const char *source,
                             hb_predictor_table **out, hb_error *err);
/* Reads a file ('#' lines are comments); path NULL or "" means the built-in table. */
int hb_predictor_table_load(const char *path, hb_predictor_table **out, hb_error *err);
void hb_predictor_table_free(hb_predictor_table *t);

/* The value of the step holding x (the first with x <= x_le; the ends extend outwards). */
double hb_step_eval(const hb_step_fn *f, double x);

#endif

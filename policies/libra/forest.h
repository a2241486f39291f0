/* forest.h - random forests of one integer feature (a call's input size), trained with libxgboost's
 * C API in random-forest mode, and their export as exact step functions of the feature.
 *
 * Training: one boosting round of `trees` parallel trees (num_parallel_tree), each grown on a
 * `subsample` share of the rows drawn without replacement, the single feature at every node
 * (colsample_bynode 1), learning rate 1 and no L2 shrinkage of the leaves (lambda 0), so that a
 * leaf holds the mean of its rows and the forest predicts the mean of its trees, as a random forest
 * regressor does; exact greedy splits (tree_method exact), depth at most `max_depth`, one thread and
 * a fixed seed, so the same data and seed give the same forest.
 *
 * Export: a forest of one feature is constant between consecutive split thresholds. XGBoost sends a
 * value x left at a split t when (float)x < t, so for integer sizes the boundary is x <= ceil(t) - 1:
 * the step table has a breakpoint there for every threshold of every tree (read from the model's
 * JSON with cJSON), holds the forest's prediction at one integer of each interval, and merges equal
 * neighbours. The table then equals the forest at every integer size below 2^24 (where float keeps
 * integers exactly); sizes are integers (hb_invocation.input_size). What libxgboost does not do and is
 * written here: reading the thresholds back and building the table. */
#ifndef HB_LIBRA_FOREST_H
#define HB_LIBRA_FOREST_H

#include <stddef.h>
#include <stdint.h>

#include "hb_error.h"
#include "hb_steptable.h"

/* Largest size the export is exact for: float32 holds every integer up to 2^24. */
#define LF_MAX_X 16777216.0

typedef struct lf_params {
    int trees;                         /* num_parallel_tree (100) */
    double subsample;                  /* share of rows per tree (0.8) */
    int max_depth;                     /* (8: 256 leaves, enough to isolate 100 sizes) */
    int seed;                          /* xgboost's seed */
    /* what a prediction becomes: class targets round half up and clip to [class_lo, class_hi];
     * class_hi < class_lo: a real value (duration), kept as the float the forest returns */
    int class_lo, class_hi;
} lf_params;

typedef struct lf_forest lf_forest;

/* The defaults above for a class target (classes 1..8) or, with classes = 0, a real one. */
lf_params lf_defaults(int classes, int seed);

/* Trains on n rows (x must be integers in [-LF_MAX_X, LF_MAX_X], y finite). */
int lf_train(const double *x, const double *y, size_t n, const lf_params *p, lf_forest **out,
             hb_error *err);
void lf_free(lf_forest *f);

/* The forest's value at n sizes: its raw prediction (a float) passed through lf_value. */
int lf_predict(lf_forest *f, const double *x, size_t n, double *out, hb_error *err);
/* What a raw prediction becomes under the forest's parameters (rounded class, or the float). */
double lf_value(const lf_params *p, float raw);

/* The step function equal to the forest at every integer size (out is filled; free out->s). */
int lf_export(lf_forest *f, hb_step_fn *out, hb_error *err);
/* The split thresholds of every tree, as read from the model's JSON (sorted, distinct). */
int lf_thresholds(lf_forest *f, double **out, size_t *n, hb_error *err);

/* The model in xgboost's JSON format (XGBoosterSaveModelToBuffer), to a file. */
int lf_save_json(lf_forest *f, const char *path, hb_error *err);

/* "xgboost MAJOR.MINOR.PATCH" into buf */
void lf_library_version(char *buf, size_t len);

#endif

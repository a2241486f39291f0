/* predictor.h - where Libra's per-call prediction of peak CPU, peak memory and duration comes from:
 *   artifact  the artifact's trained forests, exactly (data/libra-artifact-predictors.csv): the CPU
 *             class c is c cores, the memory class c is c x 128 MB, the duration in seconds;
 *   window    Libra-NP: the mean of the function's last `window` ended calls (peaks rounded up to the
 *             next core and 128 MB unit), the user's allocation while it has none.
 * Predictions are raw here; the policy clips them to the function's range. */
#ifndef HB_LIBRA_PREDICTOR_H
#define HB_LIBRA_PREDICTOR_H

#include "hb_error.h"
#include "hb_types.h"
#include "hb_steptable.h"

typedef struct libra_pred {
    double cpu, mem_mb, dur_s;
} libra_pred;

typedef enum { LP_ARTIFACT, LP_WINDOW, LP_TRAINED } libra_pred_kind;

typedef struct lp_sample {
    double cpu_peak, mem_peak_mb, dur_s;
} lp_sample;

typedef struct libra_predictor {
    libra_pred_kind kind;
    hb_predictor_table *table;         /* artifact (and trained: the same step-function form) */
    int window;                        /* window: how many ended calls */
    int n_funcs;                       /* window: the run's functions (history is per function) */
    lp_sample *ring;                   /* window: n_funcs x window, newest at head */
    int *head, *count;                 /* window: n_funcs each */
} libra_predictor;

/* artifact or trained: a predictor table file ("" for the built-in artifact table) */
int libra_predictor_table(libra_predictor *p, libra_pred_kind kind, const char *path, hb_error *err);
int libra_predictor_window(libra_predictor *p, int window, int n_funcs, hb_error *err);
void libra_predictor_free(libra_predictor *p);

/* The prediction for a call of function f (the run's function table: the window's history) that
 * runs workload w (hb_functions: the models, trained per workload) with input size x at the given
 * user allocation. */
void libra_predict(const libra_predictor *p, int f, int w, double x, hb_res user, libra_pred *out);
/* Learns from an ended call (window only). */
void libra_predictor_observe(libra_predictor *p, const hb_invocation *done);

#endif

/* libra_trainer.h - Libra's `trained` predictor (docs/libra.md, "Trained predictors"), behind
 * `harvestbench train libra CONFIG` (harness/cli/cmd_train_libra.c parses its flags and prints).
 *
 * 1. Profiling, as the artifact's characterize_workloads: every benchmark function at a grid of input
 *    sizes over its range, each size `reps` times, every call alone, cold, at 8 cores (a CPU quota)
 *    and 1024 MB, on the configuration's workload model, through the engine and the simulator.
 * 2. Per function and target (peak-CPU class, peak-memory class, duration), a random forest of the
 *    input size (forest.h) on a seeded 70/30 split of the sizes, scored on the held-out sizes.
 * 3. Export: the forests as an exact step table in the predictor-table format
 *    (function_id,target,x_gt,x_le,value), which `[policy.libra] predictor = trained, model = FILE`
 *    loads; beside it FILE's accuracy table and the raw xgboost models. */
#ifndef HB_LIBRA_TRAINER_H
#define HB_LIBRA_TRAINER_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "experiment.h"
#include "hb_steptable.h"
#include "libra/forest.h"
#include "workload_model.h"

#define LT_CLASSES 8                   /* classes 1..8: cores, and 128 MB units */
#define LT_CORES 8.0                   /* the profiling allocation */
#define LT_MEM_MB 1024.0

/* One profiled call. */
typedef struct lt_obs {
    int func;
    double size;
    double cpu_peak, mem_peak_mb;
    double dur_s;                      /* OpenWhisk duration: init + execution */
} lt_obs;

typedef struct lt_profile_opts {
    int sizes;                         /* grid points per function (at most the range's integers) */
    int reps;                          /* calls per size */
    uint64_t seed;                     /* the simulator's seed */
} lt_profile_opts;

/* The sizes of function f: `n` points evenly spaced over [base*lo, base*(hi-1)], rounded to
 * integers, distinct (so 100 gives base x 1..100, and vp's 1..10). Returns how many (<= n). */
size_t lt_grid(int f, int n, double *out);

/* Runs the profiling calls through hb_experiment_run on the simulator, with x's configuration and
 * workload model (x->profile; x->trace is not used). For the run the cluster keys are overridden
 * (one invoker of 8 cores and 1024 MB, keep_alive 0, no clip ranges) and put back after.
 * Successful calls become observations, the others are counted in *failed. */
int lt_profile(hb_experiment *x, const lt_profile_opts *o, lt_obs **out, size_t *n, size_t *failed,
               hb_error *err);

/* The target of an observation: y_cpu = clip(int(cpu_peak)+1, 1, 8), y_mem = clip(int(mem/128)+1,
 * 1, 8), y_dur = duration in seconds. */
double lt_target(const lt_obs *o, int target);

/* Held-out scores of one (function, target). */
typedef struct lt_score {
    size_t n_train, n_test;            /* observations */
    size_t sizes_train, sizes_test;
    size_t pieces;                     /* steps of the exported table */
    double accuracy;                   /* class targets: exact-class share; NAN without a test set */
    double mse, r2;                    /* duration (s^2); NAN for class targets or without a test set */
    double artifact_accuracy;          /* the artifact's own predictor on the same test calls */
    double artifact_mse;
} lt_score;

typedef struct lt_fit_opts {
    double test_share;                 /* share of each function's sizes held out */
    uint64_t seed;                     /* the split and the forests */
    int trees;
} lt_fit_opts;

typedef struct lt_model {
    hb_predictor_table *table;         /* the exported forests */
    lf_forest *forest[HB_NWORKLOADS][HB_NTARGETS];
    lt_score score[HB_NWORKLOADS][HB_NTARGETS];
} lt_model;

/* Splits, trains, exports and scores; checks the export against the forest on every profiled
 * size and on both sides of every breakpoint. */
int lt_fit(const lt_obs *obs, size_t n, const lt_fit_opts *o, lt_model *m, hb_error *err);
void lt_model_free(lt_model *m);

/* Writes the table (with '#' comment lines `header`, one per line), FILE's accuracy table
 * (FILE without .csv + ".accuracy.csv") and, if models_dir is not NULL, the xgboost models. */
int lt_write_table(const hb_predictor_table *t, const char *header, const char *path, hb_error *err);
int lt_write_accuracy(const lt_model *m, const char *path, hb_error *err);
int lt_write_models(lt_model *m, const char *dir, hb_error *err);
void lt_print_scores(const lt_model *m, FILE *out);

/* What the table's header records: how it was made. */
typedef struct lt_provenance {
    const char *config_path;
    long reps, sizes;
    uint64_t seed;
    double test_share;
    const hb_profile *profile;
    size_t profiled, failed;           /* calls */
    const char *accuracy_path, *models_dir;
} lt_provenance;

/* The table's '#' comment lines (without the '#'), one per line. */
void lt_header(const lt_provenance *p, char *out, size_t len);

#endif

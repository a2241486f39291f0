/* trace_sample.h - `harvestbench trace sample`: choosing functions out of one day of the raw Azure
 * Functions 2019 dataset and writing them as an artifact-format trace (docs/traces.md, "Sampling
 * the raw Azure 2019 dataset").
 *
 * The dataset is read streaming: one pass over the duration and memory files keeps a key and an
 * average per row, one pass over the invocation file keeps a few numbers per function (its line,
 * key, rate, duration, memory), never a function's 1440 counts; a second pass copies the chosen
 * rows. Memory is O(functions), not O(functions x minutes).
 *
 * Methods:
 *  - artifact: the Libra artifact's sample_from_azure.py filter and random pick, seeded;
 *  - representative: the N functions whose distributions of per-function invocation rate and
 *    average duration (log10) are nearest the whole population's, by the mean of the two
 *    1-Wasserstein distances (InVitro's criterion): best of random trials, then seeded swaps.
 * Each chosen function is mapped onto a benchmark function by duration and memory
 * (hb_sample_map_bench) and the mapping is written to mapping.csv, which `run` reads with
 * [trace] mapping = file (hb_trace_mapping_apply). */
#ifndef HB_TRACE_SAMPLE_H
#define HB_TRACE_SAMPLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hb_error.h"
#include "hb_types.h"
#include "trace.h"

typedef struct hb_sample_opts {
    const char *dir;                   /* the dataset directory */
    const char *out;                   /* directory written */
    int functions;                     /* N */
    int day;                           /* 1..14 */
    int start_minute;                  /* 1-based */
    int minutes;                       /* 0: to the end of the day */
    int representative;                /* 0: artifact */
    uint64_t seed;
    uint32_t min_per_minute, max_per_minute;   /* artifact filter, every replayed minute */
    int trials, swaps;                 /* representative search effort */
    double ref_ms[HB_NWORKLOADS];          /* benchmark functions: expected duration, ms */
    double ref_mem_mb[HB_NWORKLOADS];      /* ... and user memory, MB */
} hb_sample_opts;

typedef struct hb_sample_result {
    size_t rows;                       /* function rows in the invocation file */
    size_t duplicates;                 /* rows dropped: HashFunction seen before */
    size_t no_calls, filtered;         /* no call in the window; outside the per-minute bounds */
    size_t no_duration, no_memory;     /* rows without a duration or app memory row */
    size_t population;                 /* eligible functions */
    size_t chosen;
    uint64_t invocations;              /* calls of the chosen functions in the window */
    size_t minutes;
    double wd, wd_rate, wd_duration;   /* achieved: mean, rate term, duration term */
    double wd_random;                  /* mean over `trials` seeded uniform random samples */
    int shared_bench;                  /* chosen functions sharing a benchmark function */
} hb_sample_result;

int hb_trace_sample(const hb_sample_opts *o, hb_sample_result *res, hb_error *err);

/* 1-Wasserstein distance between the empirical distribution of n sorted values and that of p
 * sorted population values, given prefix[i] = pop[0] + ... + pop[i-1] (p + 1 entries). Exact. */
double hb_wasserstein1(const double *sample, size_t n, const double *pop, const double *prefix,
                       size_t p);

/* Benchmark function nearest to (dur_ms, mem_mb): minimises |ln(dur/ref_ms)| + |ln(mem/ref_mem)|,
 * the memory term left out when mem_mb <= 0; ties go to the lower index. */
int hb_sample_map_bench(double dur_ms, double mem_mb, const double *ref_ms, const double *ref_mem_mb);

/* [trace] mapping = file: sets each trace function's benchmark function from a mapping.csv
 * (columns trace_function and bench, as `trace sample` writes it). */
int hb_trace_mapping_apply(hb_trace *t, const char *path, hb_error *err);

#endif

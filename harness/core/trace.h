/* trace.h - invocation traces: per-minute counts per function, optional input sizes, optional Azure
 * duration and memory statistics, and the mapping of trace functions onto the ten benchmark
 * functions (docs/traces.md).
 *
 * Two formats:
 *  - artifact: the Libra/Freyr artifacts' files: `HashFunction,Trigger,1..T` invocation counts,
 *    `HashFunction,Average,Count,...` durations, `HashFunction,SampleCount,AverageAllocatedMb,...`
 *    memory, and an input-size file (line 1: 1..N, line 2: N sizes in event order);
 *  - azure2019: the raw Azure Functions 2019 files: `HashOwner,HashApp,HashFunction,Trigger,1..1440`,
 *    `function_durations_percentiles` (`HashOwner,HashApp,HashFunction,Average,...`) and
 *    `app_memory_percentiles` (`HashOwner,HashApp,SampleCount,AverageAllocatedMb,...`, per app). */
#ifndef HB_TRACE_H
#define HB_TRACE_H

#include <gsl/gsl_rng.h>
#include <stdint.h>
#include <stdio.h>

#include "hb_error.h"
#include "hb_types.h"

typedef struct hb_trace_func {
    char name[72];                     /* HashFunction (a short id in artifact files) */
    char app[72];                      /* HashApp (azure2019) */
    char trigger[24];
    int bench;                         /* index into hb_functions */
    double dur_avg_ms;                 /* Azure average duration; < 0 when unknown */
    double mem_avg_mb;                 /* Azure average allocated app memory; < 0 when unknown */
    uint64_t total;                    /* invocations over the replayed minutes */
} hb_trace_func;

typedef struct hb_trace {
    char source[1024];
    char format[16];
    size_t n_funcs, n_minutes;
    hb_trace_func *funcs;
    uint32_t *counts;                  /* n_funcs x n_minutes, row-major */
    int64_t *sizes;                    /* input sizes in event order, or NULL */
    size_t n_sizes;
    uint64_t total;
    hb_time *offsets;                  /* azure2021: each call's time into its minute, in event order */
} hb_trace;

typedef struct hb_trace_spec {
    const char *format;                /* "artifact" | "azure2019" | "azure2021" */
    const char *invocations;
    const char *durations;             /* optional ("" or NULL) */
    const char *memory;                /* optional */
    const char *input_sizes;           /* optional */
    int start_minute;                  /* 1-based */
    int minutes;                       /* 0: all */
    double scale;                      /* multiplies counts (1: as is) */
    /* azure2019 selection */
    int functions;                     /* how many to keep */
    int min_per_minute, max_per_minute;
    const char *mapping;               /* "order" | "duration" */
    const double *ref_duration_ms;     /* per benchmark function, for mapping = duration */
    gsl_rng *rng;                      /* sampling of azure2019 functions */
} hb_trace_spec;

int hb_trace_load(const hb_trace_spec *spec, hb_trace **out, hb_error *err);
void hb_trace_free(hb_trace *t);

/* The benchmark function whose reference duration (ref_ms[HB_NWORKLOADS], ms) is nearest to dur_ms
 * (> 0) on a log scale: `mapping = duration`, shared by every trace reader. */
int hb_trace_nearest_by_duration(double dur_ms, const double *ref_ms);

static inline uint32_t hb_trace_count(const hb_trace *t, size_t f, size_t m)
{
    return t->counts[f * t->n_minutes + m];
}

/* A synthetic trace (bench): n_funcs functions mapped in order, every minute `per_minute` calls
 * each, for as many minutes as it takes to reach at least `invocations` calls. */
int hb_trace_synthetic(uint64_t invocations, int n_funcs, uint32_t per_minute, hb_trace **out,
                       hb_error *err);

/* `harvestbench trace info`: detects the kind of file from its header and describes it. */
int hb_trace_info(const char *path, FILE *out, hb_error *err);

#endif

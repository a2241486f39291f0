/* timeline.h - usage timelines, the simulator's truth under `[workload] usage = timeline`
 * (docs/simulator.md, workloads/profiles/README.md).
 *
 * A call's timeline is a sequence of phases. Each phase is work (core-microseconds) done at a demand
 * (the most cores it can use), with the memory in use during it; a phase with no work is a wait of
 * fixed length (I/O, sleep) that no allocation shortens. Under a rate r <= demand a phase of work w
 * takes w / r.
 *
 * Two sources:
 *   - the measured library (workloads/profiles/timelines-measured.csv, format in
 *     notes/TIMELINE-FORMAT.md and workloads/profiles/README.md): per call, a run of the call's
 *     function chosen by input size, seeded choice among the repeats, time-scaled between the
 *     measured sizes;
 *   - synthetic timelines of the `artifact` profile: start-up and I/O at low CPU, compute at the
 *     function's sustained parallelism (its process structure), short bursts to its peak.
 * Both depend only on (seed, invocation index) and the call's function and size, never on the
 * policy: the same call gets the same timeline under every policy (common random numbers). */
#ifndef HB_TIMELINE_H
#define HB_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "hb_error.h"
#include "hb_types.h"

/* One phase of a call. */
typedef struct hb_tl_phase {
    double work;                       /* core-microseconds; 0: a wait of wait_us */
    double demand;                     /* cores it can use (> 0 when work > 0) */
    double wait_us;                    /* length of a wait phase */
    double mem_mb;                     /* memory in use during the phase */
} hb_tl_phase;

/* One call's timeline (owned by the caller; reuse across calls to avoid allocations). */
typedef struct hb_call_timeline {
    hb_tl_phase *p;
    size_t n, cap;
    double peak_cpu;                   /* the largest demand (true peak), cores */
    double mem_peak_mb;
} hb_call_timeline;

void hb_call_timeline_free(hb_call_timeline *t);

/* Sum of the work of the phases / min(demand, cores) plus the waits: the call's duration alone
 * at a CPU quota of `cores` (microseconds). */
double hb_call_timeline_duration_us(const hb_call_timeline *t, double cores);

/* ---- the measured library ---- */

typedef struct hb_tl_sample {
    double dt_us, cpu, mem_mb, runnable;
} hb_tl_sample;

typedef struct hb_tl_run {
    int func;
    int64_t size;
    double cpu_limit;                  /* cores; 0: none */
    int repeat;
    size_t off, n;                     /* its samples */
    double work;                       /* core-seconds */
    double mem_peak_mb;
} hb_tl_run;

/* The runs a function's calls replay: for each measured size, the runs at the least-limited CPU
 * limit of that size (0 = no limit counts as the least limited). */
typedef struct hb_tl_size {
    int64_t size;
    size_t first, count;               /* into hb_timeline_lib.sel */
    double work, mem_peak_mb;          /* means over those runs */
} hb_tl_size;

typedef struct hb_timeline_lib {
    char source[256];
    int machine_cpus;                  /* from the header's "(<N> CPUs)"; 0 when absent */
    hb_tl_sample *s;
    size_t ns;
    hb_tl_run *runs;
    size_t nruns;
    size_t *sel;
    hb_tl_size *sizes[HB_NWORKLOADS];
    size_t nsizes[HB_NWORKLOADS];
} hb_timeline_lib;

/* Parses a library (text of len bytes; source names it in messages). */
int hb_timeline_parse(const char *text, size_t len, const char *source, hb_timeline_lib **out,
                      hb_error *err);
int hb_timeline_load(const char *path, hb_timeline_lib **out, hb_error *err);
void hb_timeline_free(hb_timeline_lib *lib);

/* The demand of a sample (the rule, documented in workloads/profiles/README.md): a sample whose
 * CPU stayed clearly below its run's limit (cpu < 0.9 x limit; no limit: the machine's CPUs, if
 * known) was not throttled, its demand is what it used; a throttled one could have used
 * max(cpu, runnable threads). */
double hb_tl_sample_demand(const hb_tl_sample *s, double cpu_limit, int machine_cpus);

/* The timeline of a call of function `func` at input size `size`: u in (0,1) picks the repeat. */
int hb_timeline_measured(const hb_timeline_lib *lib, int func, int64_t size, double u,
                         hb_call_timeline *out, hb_error *err);

/* ---- synthetic timelines of the artifact profile ---- */

/* What the synthetic shape needs of one call (workloads/profiles/README.md, "artifact phases"). */
typedef struct hb_tl_artifact_call {
    int func;
    int64_t size;
    double exec_s;                     /* execution time at the reference cores (8) */
    int cpu_class, mem_class;          /* the predictor's peak classes at this size */
    double mem_cap_mb;                 /* largest true peak when the class is not mispredicted */
    double cpu_class_error, mem_class_error;   /* probabilities of a +-1 true class */
    double work_factor;                /* run-to-run variation (lognormal draw, mean 1) */
    uint64_t stream;                   /* the call's own seed: derived from (seed, index) only */
} hb_tl_artifact_call;

/* Constants of the shape (assumptions, stated in workloads/profiles/README.md). */
#define HB_TL_SAMPLE_S 0.1             /* sample length at the reference allocation */
#define HB_TL_START_FRAC 0.10          /* start-up and input: this share of the samples */
#define HB_TL_END_FRAC 0.10            /* output (upload, joins): this share */
#define HB_TL_IO_CORES 0.5             /* CPU during start-up and output */
#define HB_TL_BURST_P 0.10             /* a compute sample is a burst with this probability */
#define HB_TL_MT_SUSTAIN 0.5           /* multi-threaded (vp, ir): sustained share of the peak */
#define HB_TL_MEM_START 0.3            /* memory at the start, share of the peak */
#define HB_TL_MEM_RAMP 0.5             /* ... reaches the peak half-way through compute */

/* Sustained parallelism of a function's compute phase from its process structure (libra-harness
 * spec section 6): the worker processes that get work, min(parallel, size); eg 1. */
double hb_tl_artifact_sustained(int func, int64_t size);

/* The true peak classes of a call (predicted class, or +-1 with the knob's probability). */
void hb_tl_artifact_classes(const hb_tl_artifact_call *a, int *cpu_class, int *mem_class);

int hb_timeline_artifact(const hb_tl_artifact_call *a, hb_call_timeline *out, hb_error *err);

#endif

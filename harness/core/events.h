/* events.h - turning a trace into timed invocation events, one minute at a time, so that memory
 * holds at most one minute of events whatever the trace's length (docs/traces.md).
 *
 * Events are numbered in the trace's generation order (minute by minute, then trace row, then the
 * i-th call of that row in the minute), as the artifact does and as input-size files count them;
 * within a minute they come out sorted by (time, index).
 * Arrival modes for the n calls of one function in minute m (times in seconds):
 *   even         60m + floor(60/n) i               the artifact's (all at 60m when n > 60)
 *   equidistant  60m + (60/n) i
 *   uniform      60m + U[0,60) each, sorted
 *   poisson      60m + 60 (g_0 + ... + g_i) / (g_0 + ... + g_n), g_j ~ Exp(1): exponential gaps
 *                scaled into the minute */
#ifndef HB_EVENTS_H
#define HB_EVENTS_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

#include "hb_error.h"
#include "hb_types.h"
#include "trace.h"

typedef enum { HB_ARRIVAL_EVEN, HB_ARRIVAL_EQUIDISTANT, HB_ARRIVAL_UNIFORM, HB_ARRIVAL_POISSON } hb_arrival;
typedef enum { HB_SIZES_FILE, HB_SIZES_RANDOM, HB_SIZES_MULTI } hb_sizes;

typedef struct hb_event {
    hb_time t;
    uint64_t index;
    int trace_func;
    int func;                          /* the run's function: the trace row */
    int workload;                      /* what it runs: the row's benchmark workload */
    int64_t input_size;
} hb_event;

typedef struct hb_eventgen hb_eventgen;

int hb_arrival_parse(const char *s, hb_arrival *out);
/* "auto" picks file when the trace has sizes, else random. */
int hb_sizes_parse(const char *s, const hb_trace *t, hb_sizes *out, hb_error *err);

/* The generator borrows the trace and the generators (they must outlive it). */
int hb_eventgen_new(const hb_trace *trace, hb_arrival arrival, hb_sizes sizes, gsl_rng *arrival_rng,
                    gsl_rng *size_rng, hb_eventgen **out, hb_error *err);
void hb_eventgen_free(hb_eventgen *g);
/* 1: *ev is the next event; 0: no more; negative: out of memory. */
int hb_eventgen_next(hb_eventgen *g, hb_event *ev);
/* Time of the next event without taking it (HB_TIME_NEVER at the end). */
hb_time hb_eventgen_peek(hb_eventgen *g);
uint64_t hb_eventgen_total(const hb_eventgen *g);

#endif

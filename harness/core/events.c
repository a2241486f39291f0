/* events.c - see events.h. */
#include "events.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"
#include "sort_cmp.h"

struct hb_eventgen {
    const hb_trace *trace;
    hb_arrival arrival;
    hb_sizes sizes;
    gsl_rng *arng, *srng;
    size_t minute;                     /* next minute to generate */
    uint64_t next_index;
    hb_event *buf;                     /* events of the current minute */
    size_t n, pos, cap;
    double *tmp;                       /* per-function scratch for random times */
    size_t tmp_cap;
    hb_time *off;                      /* per-function offsets into the minute */
    size_t off_cap;
    hb_event *merged;                  /* the minute's events in time order (swapped with buf) */
    size_t merged_cap;
    size_t *run_pos, *run_end;         /* per-function runs of buf being merged */
    size_t *mheap;                     /* the runs by their next event, a binary min-heap */
    size_t runs_cap;
};

int hb_arrival_parse(const char *s, hb_arrival *out)
{
    static const struct { const char *name; hb_arrival a; } tab[] = {
        {"even", HB_ARRIVAL_EVEN}, {"equidistant", HB_ARRIVAL_EQUIDISTANT},
        {"uniform", HB_ARRIVAL_UNIFORM}, {"poisson", HB_ARRIVAL_POISSON}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(s, tab[i].name) == 0) {
            *out = tab[i].a;
            return 0;
        }
    return -1;
}

int hb_sizes_parse(const char *s, const hb_trace *t, hb_sizes *out, hb_error *err)
{
    if (strcmp(s, "auto") == 0)
        *out = t->sizes ? HB_SIZES_FILE : HB_SIZES_RANDOM;
    else if (strcmp(s, "file") == 0) {
        if (!t->sizes)
            return hb_fail(err, HB_EINPUT, "[trace] sizes = file but no input_sizes file is given");
        *out = HB_SIZES_FILE;
    } else if (strcmp(s, "random") == 0)
        *out = HB_SIZES_RANDOM;
    else if (strcmp(s, "multi") == 0)
        *out = HB_SIZES_MULTI;
    else
        return hb_fail(err, HB_EINPUT, "[trace] sizes: '%s' is not auto, file, random or multi", s);
    return 0;
}

int hb_eventgen_new(const hb_trace *trace, hb_arrival arrival, hb_sizes sizes, gsl_rng *arrival_rng,
                    gsl_rng *size_rng, hb_eventgen **out, hb_error *err)
{
    *out = NULL;
    if ((arrival == HB_ARRIVAL_UNIFORM || arrival == HB_ARRIVAL_POISSON) && !arrival_rng)
        return hb_fail(err, HB_EINPUT, "random arrivals need a generator");
    if (sizes == HB_SIZES_RANDOM && !size_rng)
        return hb_fail(err, HB_EINPUT, "random sizes need a generator");
    if (sizes == HB_SIZES_FILE && (!trace->sizes || trace->n_sizes < trace->total))
        return hb_fail(err, HB_EINPUT, "the trace has no input size for every event");
    hb_eventgen *g = calloc(1, sizeof *g);
    if (!g)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    g->trace = trace;
    g->arrival = arrival;
    g->sizes = sizes;
    g->arng = arrival_rng;
    g->srng = size_rng;
    *out = g;
    return 0;
}

void hb_eventgen_free(hb_eventgen *g)
{
    if (!g)
        return;
    free(g->buf);
    free(g->tmp);
    free(g->off);
    free(g->merged);
    free(g->run_pos);
    free(g->run_end);
    free(g->mheap);
    free(g);
}

uint64_t hb_eventgen_total(const hb_eventgen *g) { return g->trace->total; }

static int cmp_event(const void *a, const void *b)
{
    const hb_event *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static int64_t draw_size(hb_eventgen *g, int workload, uint64_t index)
{
    const hb_function *fn = &hb_functions[workload];
    switch (g->sizes) {
    case HB_SIZES_FILE:
        return g->trace->sizes[index];
    case HB_SIZES_MULTI:
        return fn->size_multi;
    default: {
        /* uniform integer in [base*lo, base*hi - 1], the artifact's np.random.randint */
        int64_t lo = fn->size_base * fn->size_lo, hi = fn->size_base * fn->size_hi;
        return lo + (int64_t)gsl_rng_uniform_int(g->srng, (unsigned long)(hi - lo));
    }
    }
}

/* Offsets (microseconds into the minute) of the n calls of one function. */
static int offsets(hb_eventgen *g, uint32_t n, hb_time *out)
{
    const hb_time minute = 60 * HB_SEC;
    switch (g->arrival) {
    case HB_ARRIVAL_EVEN:
        for (uint32_t i = 0; i < n; i++)
            out[i] = (hb_time)(60 / n) * i * HB_SEC;
        return 0;
    case HB_ARRIVAL_EQUIDISTANT:
        for (uint32_t i = 0; i < n; i++)
            out[i] = minute * (hb_time)i / (hb_time)n;
        return 0;
    default:
        break;
    }
    if (HB_GROW(g->tmp, g->tmp_cap, (size_t)n + 1) != HB_OK)
        return -1;
    if (g->arrival == HB_ARRIVAL_UNIFORM) {
        for (uint32_t i = 0; i < n; i++)
            g->tmp[i] = gsl_rng_uniform(g->arng);
        qsort(g->tmp, n, sizeof *g->tmp, hb_cmp_double);
        for (uint32_t i = 0; i < n; i++)
            out[i] = (hb_time)floor(g->tmp[i] * (double)minute);
        return 0;
    }
    double sum = 0;
    for (uint32_t i = 0; i <= n; i++) {
        g->tmp[i] = gsl_ran_exponential(g->arng, 1.0);
        sum += g->tmp[i];
    }
    double acc = 0;
    for (uint32_t i = 0; i < n; i++) {
        acc += g->tmp[i];
        out[i] = (hb_time)floor(acc / sum * (double)minute);
        if (out[i] >= minute)
            out[i] = minute - 1;
    }
    return 0;
}

static inline int ev_before(const hb_event *x, const hb_event *y)
{
    return x->t < y->t || (x->t == y->t && x->index < y->index);
}

/* The minute's events sorted by (time, index). Each function's calls come out of offsets() in
 * time order, so the minute is nr sorted runs, merged here in O(n log nr) with no comparator
 * calls; the result is the order the sort by (time, index) gives (indices are unique). A run out
 * of order (a trace's own times) falls back to the sort. -1: out of memory. */
static int order_minute(hb_eventgen *g, size_t nr)
{
    hb_event *b = g->buf;
    for (size_t r = 0; r < nr; r++)
        for (size_t i = g->run_pos[r] + 1; i < g->run_end[r]; i++)
            if (ev_before(&b[i], &b[i - 1])) {
                qsort(b, g->n, sizeof *b, cmp_event);
                return 0;
            }
    if (nr <= 1)
        return 0;
    if (g->n > g->merged_cap) {
        hb_event *m = realloc(g->merged, g->n * sizeof *m);
        if (!m)
            return -1;
        g->merged = m;
        g->merged_cap = g->n;
    }
    size_t *h = g->mheap, hn = 0;
    for (size_t r = 0; r < nr; r++) {  /* push run r */
        size_t i = hn++;
        while (i > 0 && ev_before(&b[g->run_pos[r]], &b[g->run_pos[h[(i - 1) / 2]]])) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = r;
    }
    for (size_t k = 0; k < g->n; k++) {
        size_t r = h[0];
        g->merged[k] = b[g->run_pos[r]++];
        if (g->run_pos[r] == g->run_end[r])
            r = h[--hn];               /* the run is done: the last one moves down from the top */
        if (!hn)
            break;
        size_t i = 0;
        for (;;) {                     /* sift r down from the top */
            size_t c = 2 * i + 1;
            if (c >= hn)
                break;
            if (c + 1 < hn && ev_before(&b[g->run_pos[h[c + 1]]], &b[g->run_pos[h[c]]]))
                c++;
            if (!ev_before(&b[g->run_pos[h[c]]], &b[g->run_pos[r]]))
                break;
            h[i] = h[c];
            i = c;
        }
        h[i] = r;
    }
    hb_event *t = g->buf;              /* swap: buf holds the ordered minute */
    size_t tc = g->cap;
    g->buf = g->merged;
    g->cap = g->merged_cap;
    g->merged = t;
    g->merged_cap = tc;
    return 0;
}

/* Generates the next minute that has events. 1: some, 0: trace done, -1: out of memory. */
static int fill(hb_eventgen *g)
{
    const hb_trace *t = g->trace;
    while (g->minute < t->n_minutes) {
        size_t m = g->minute++;
        size_t n = 0;
        for (size_t f = 0; f < t->n_funcs; f++)
            n += hb_trace_count(t, f, m);
        if (n == 0)
            continue;
        if (HB_GROW(g->buf, g->cap, n) != HB_OK)
            return -1;
        if (t->n_funcs > g->runs_cap) {
            size_t *a = realloc(g->run_pos, t->n_funcs * sizeof *a);
            if (a)
                g->run_pos = a;
            size_t *b = realloc(g->run_end, t->n_funcs * sizeof *b);
            if (b)
                g->run_end = b;
            size_t *h = realloc(g->mheap, t->n_funcs * sizeof *h);
            if (h)
                g->mheap = h;
            if (!a || !b || !h)
                return -1;
            g->runs_cap = t->n_funcs;
        }
        size_t nr = 0;
        g->n = 0;
        g->pos = 0;
        hb_time base = (hb_time)m * 60 * HB_SEC;
        for (size_t f = 0; f < t->n_funcs; f++) {
            uint32_t c = hb_trace_count(t, f, m);
            if (!c)
                continue;
            g->run_pos[nr] = g->n;
            g->run_end[nr++] = g->n + c;
            hb_event *e = g->buf + g->n;
            if (HB_GROW(g->off, g->off_cap, c) != HB_OK)
                return -1;
            hb_time *off = g->off;
            if (t->offsets)            /* azure2021: the calls' real times */
                memcpy(off, t->offsets + g->next_index, c * sizeof *off);
            else if (offsets(g, c, off))
                return -1;
            for (uint32_t i = 0; i < c; i++) {
                e[i].t = base + off[i];
                e[i].index = g->next_index++;
                e[i].trace_func = (int)f;
                e[i].func = (int)f;
                e[i].workload = t->funcs[f].bench;
                e[i].input_size = draw_size(g, e[i].workload, e[i].index);
            }
            g->n += c;
        }
        return order_minute(g, nr) ? -1 : 1;
    }
    return 0;
}

int hb_eventgen_next(hb_eventgen *g, hb_event *ev)
{
    if (g->pos == g->n) {
        int r = fill(g);
        if (r <= 0)
            return r;
    }
    *ev = g->buf[g->pos++];
    return 1;
}

hb_time hb_eventgen_peek(hb_eventgen *g)
{
    if (g->pos == g->n) {
        int r = fill(g);
        if (r <= 0)
            return HB_TIME_NEVER;
    }
    return g->buf[g->pos].t;
}

/* trace_azure2021.c - see trace_azure2021.h. */
#include "trace_azure2021.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"
#include "dynbuf.h"
#include "hb_types.h"

typedef struct call {
    hb_time t;                         /* start, microseconds of the trace's clock */
    uint32_t f;                        /* function, in order of first appearance */
    float dur_ms;
} call;

typedef struct func {
    uint64_t key;
    char name[72], app[72];
} func;

typedef struct loader {
    call *calls;
    size_t n_calls, cap_calls;
    func *funcs;
    size_t n_funcs, cap_funcs;
    uint32_t *slot;                    /* open addressing: index + 1 into funcs, 0 free */
    size_t n_slots;
} loader;

static uint64_t fnv(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *s = a; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ 0x1f) * 1099511628211ull;
    for (const char *s = b; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int grow_slots(loader *L)
{
    size_t n = L->n_slots ? L->n_slots * 2 : 1024;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < L->n_funcs; i++)
        for (size_t j = L->funcs[i].key & (n - 1);; j = (j + 1) & (n - 1))
            if (!s[j]) {
                s[j] = (uint32_t)i + 1;
                break;
            }
    free(L->slot);
    L->slot = s;
    L->n_slots = n;
    return 0;
}

/* Index of (app, func), added on first sight; -1 when out of memory. */
static long func_index(loader *L, const char *app, const char *name)
{
    uint64_t key = fnv(app, name);
    if (2 * (L->n_funcs + 1) > L->n_slots && grow_slots(L))
        return -1;
    size_t j = key & (L->n_slots - 1);
    for (;; j = (j + 1) & (L->n_slots - 1)) {
        if (!L->slot[j])
            break;
        func *f = &L->funcs[L->slot[j] - 1];
        if (f->key == key && strcmp(f->name, name) == 0 && strcmp(f->app, app) == 0)
            return (long)(L->slot[j] - 1);
    }
    if (HB_GROW(L->funcs, L->cap_funcs, L->n_funcs + 1) != HB_OK)
        return -1;
    func *f = &L->funcs[L->n_funcs];
    f->key = key;
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->app, sizeof f->app, "%s", app);
    L->slot[j] = (uint32_t)++L->n_funcs;
    return (long)L->n_funcs - 1;
}

static int read_calls(const char *path, loader *L, hb_error *err)
{
    hb_csv *c;
    int rc = hb_csv_open(path, &c, err);
    if (rc)
        return rc;
    int r = hb_csv_next(c, err);
    if (r <= 0) {
        rc = r < 0 ? -r : hb_fail_at(err, HB_EINPUT, path, 0, NULL, "the file is empty");
        goto done;
    }
    if ((rc = hb_csv_take_header(c, err)))
        goto done;
    int ca = hb_csv_col(c, "app"), cf = hb_csv_col(c, "func"), ce = hb_csv_col(c, "end_timestamp"),
        cd = hb_csv_col(c, "duration");
    if (ca < 0 || cf < 0 || ce < 0 || cd < 0) {
        rc = hb_fail_at(err, HB_EINPUT, path, 1, "header",
                        "not an Azure 2021 invocation trace: expected the columns app, func, "
                        "end_timestamp, duration");
        goto done;
    }
    size_t width = hb_csv_nfields(c);
    while ((r = hb_csv_next(c, err)) > 0) {
        long line = hb_csv_line(c);
        if (hb_csv_nfields(c) != width) {
            rc = hb_fail_at(err, HB_EINPUT, path, line, NULL,
                            "%zu fields where the header has %zu (a truncated or garbled line)",
                            hb_csv_nfields(c), width);
            goto done;
        }
        const char *app = hb_csv_field(c, (size_t)ca), *name = hb_csv_field(c, (size_t)cf);
        if (!app[0] || !name[0]) {
            rc = hb_fail_at(err, HB_EINPUT, path, line, app[0] ? "func" : "app", "empty");
            goto done;
        }
        double end, dur;
        if ((rc = hb_csv_double(c, (size_t)ce, "end_timestamp", &end, err)) ||
            (rc = hb_csv_double(c, (size_t)cd, "duration", &dur, err)))
            goto done;
        if (!isfinite(end) || fabs(end) > 1e12) {
            rc = hb_fail_at(err, HB_EINPUT, path, line, "end_timestamp", "'%s' is not a time in "
                            "seconds", hb_csv_field(c, (size_t)ce));
            goto done;
        }
        if (!isfinite(dur) || dur < 0 || dur > 1e9) {
            rc = hb_fail_at(err, HB_EINPUT, path, line, "duration", "'%s' is not a non-negative "
                            "duration in seconds", hb_csv_field(c, (size_t)cd));
            goto done;
        }
        long f = func_index(L, app, name);
        if (f < 0) {
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
            goto done;
        }
        if (HB_GROW(L->calls, L->cap_calls, L->n_calls + 1) != HB_OK) {
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
            goto done;
        }
        call *k = &L->calls[L->n_calls++];
        k->t = (hb_time)llround((end - dur) * 1e6);
        k->f = (uint32_t)f;
        k->dur_ms = (float)(dur * 1e3);
    }
    if (r < 0)
        rc = -r;
    else if (!L->n_calls)
        rc = hb_fail_at(err, HB_EINPUT, path, 0, NULL, "no invocation in the trace");
done:
    hb_csv_close(c);
    return rc;
}

static int cmp_call(const void *a, const void *b)
{
    const call *x = a, *y = b;
    hb_time mx = x->t / (60 * HB_SEC), my = y->t / (60 * HB_SEC);
    if (mx != my)
        return mx < my ? -1 : 1;
    if (x->f != y->f)                  /* here f is the trace row */
        return x->f < y->f ? -1 : 1;
    return (x->t > y->t) - (x->t < y->t);
}

/* The replayed window: minutes [start, start + width) of the trace, times [w0, w1). */
typedef struct az_window {
    size_t start, width;
    hb_time w0, w1;
} az_window;

static int spec_check(const hb_trace_spec *spec, hb_error *err)
{
    if ((spec->durations && spec->durations[0]) || (spec->memory && spec->memory[0]) ||
        (spec->input_sizes && spec->input_sizes[0]))
        return hb_fail(err, HB_EINPUT, "[trace] format = azure2021: the trace has no duration, "
                       "memory or input-size file (durations are in the invocation file; leave "
                       "durations, memory and input_sizes empty)");
    if (spec->scale != 1.0 && spec->scale > 0)
        return hb_fail(err, HB_EINPUT, "[trace] scale: azure2021 calls are replayed at their real "
                       "times, so they cannot be scaled (scale = 1)");
    return 0;
}

static int find_window(const loader *L, const hb_trace_spec *spec, az_window *w, hb_error *err)
{
    /* minute 1 starts at timestamp 0, or earlier if a call started before 0 */
    hb_time lo = L->calls[0].t, hi = L->calls[0].t;
    for (size_t i = 1; i < L->n_calls; i++) {
        lo = L->calls[i].t < lo ? L->calls[i].t : lo;
        hi = L->calls[i].t > hi ? L->calls[i].t : hi;
    }
    hb_time minute = 60 * HB_SEC;
    hb_time origin = lo < 0 ? -((-lo + minute - 1) / minute) * minute : 0;
    size_t total_minutes = (size_t)((hi - origin) / minute) + 1;
    size_t start = (size_t)(spec->start_minute > 0 ? spec->start_minute - 1 : 0);
    if (start >= total_minutes)
        return hb_fail(err, HB_EINPUT, "[trace] start_minute = %zu but %s spans %zu minutes",
                       start + 1, spec->invocations, total_minutes);
    size_t width = total_minutes - start;
    if (spec->minutes > 0 && (size_t)spec->minutes < width)
        width = (size_t)spec->minutes;
    w->start = start;
    w->width = width;
    w->w0 = origin + (hb_time)start * minute;
    w->w1 = w->w0 + (hb_time)width * minute;
    return 0;
}

/* Per function: its calls in each minute of the window, and their summed duration. */
static void window_counts(const loader *L, const az_window *w, uint32_t *counts, double *dsum)
{
    hb_time minute = 60 * HB_SEC;
    for (size_t i = 0; i < L->n_calls; i++) {
        const call *k = &L->calls[i];
        if (k->t < w->w0 || k->t >= w->w1)
            continue;
        counts[k->f * w->width + (size_t)((k->t - w->w0) / minute)]++;
        dsum[k->f] += k->dur_ms;
    }
}

/* The functions that pass the [trace] filter, as azure2019, into pick[]; returns how many. */
static size_t filter_funcs(const uint32_t *counts, size_t nf, size_t width,
                           const hb_trace_spec *spec, size_t *pick)
{
    size_t kept = 0;
    for (size_t f = 0; f < nf; f++) {
        uint64_t sum = 0;
        int ok = 1;
        for (size_t m = 0; m < width; m++) {
            uint32_t v = counts[f * width + m];
            sum += v;
            ok &= v >= (uint32_t)spec->min_per_minute && v <= (uint32_t)spec->max_per_minute;
        }
        if (ok && sum)
            pick[kept++] = f;
    }
    return kept;
}

/* [trace] functions: a seeded sample of the kept functions pick[0..kept), into pick[0..*keep). */
static int sample_funcs(const hb_trace_spec *spec, size_t *pick, size_t kept, size_t *keep,
                        hb_error *err)
{
    *keep = kept;
    if ((size_t)spec->functions >= kept)
        return 0;
    *keep = (size_t)spec->functions;
    size_t *chosen = malloc(*keep * sizeof *chosen);
    if (!chosen || !spec->rng) {
        int rc = hb_fail(err, chosen ? HB_EINPUT : HB_ENOMEM, "cannot sample trace functions");
        free(chosen);
        return rc;
    }
    gsl_ran_choose(spec->rng, chosen, *keep, pick, kept, sizeof *pick);
    memcpy(pick, chosen, *keep * sizeof *pick);
    free(chosen);
    return 0;
}

static int new_trace(const hb_trace_spec *spec, size_t keep, size_t width, hb_trace **out,
                     hb_error *err)
{
    hb_trace *t = *out = calloc(1, sizeof *t);
    if (!t || !(t->funcs = calloc(keep, sizeof *t->funcs)) ||
        !(t->counts = malloc(keep * width * sizeof *t->counts)))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    snprintf(t->source, sizeof t->source, "%s", spec->invocations);
    snprintf(t->format, sizeof t->format, "azure2021");
    t->n_funcs = keep;
    t->n_minutes = width;
    return 0;
}

/* The trace's functions: pick[i] of the loader becomes function i, row[f] says which function f
 * became (UINT32_MAX: not replayed). */
static void fill_funcs(hb_trace *t, const loader *L, const size_t *pick, const uint32_t *counts,
                       const double *dsum, const hb_trace_spec *spec, uint32_t *row)
{
    size_t width = t->n_minutes;
    for (size_t f = 0; f < L->n_funcs; f++)
        row[f] = UINT32_MAX;
    for (size_t i = 0; i < t->n_funcs; i++) {
        size_t f = pick[i];
        row[f] = (uint32_t)i;
        hb_trace_func *tf = &t->funcs[i];
        snprintf(tf->name, sizeof tf->name, "%s", L->funcs[f].name);
        snprintf(tf->app, sizeof tf->app, "%s", L->funcs[f].app);
        snprintf(tf->trigger, sizeof tf->trigger, "-");
        tf->mem_avg_mb = -1;
        memcpy(t->counts + i * width, counts + f * width, width * sizeof *counts);
        for (size_t m = 0; m < width; m++)
            tf->total += counts[f * width + m];
        tf->dur_avg_ms = dsum[f] / (double)tf->total;
        t->total += tf->total;
        /* mapping: as trace.c's order and duration rules (the trace's own mean duration) */
        tf->bench = spec->mapping && strcmp(spec->mapping, "duration") == 0 && spec->ref_duration_ms
                        ? hb_trace_nearest_by_duration(fmax(tf->dur_avg_ms, 1e-3),
                                                       spec->ref_duration_ms)
                        : (int)(i % HB_NWORKLOADS);
    }
}

/* The replayed calls in event order (minute, trace row, time): their offsets into the minute. */
static int replay_offsets(hb_trace *t, loader *L, const uint32_t *row, const az_window *w,
                          hb_error *err)
{
    hb_time minute = 60 * HB_SEC;
    size_t n = 0;
    for (size_t i = 0; i < L->n_calls; i++) {
        call *k = &L->calls[i];
        if (k->t >= w->w0 && k->t < w->w1 && row[k->f] != UINT32_MAX) {
            L->calls[n] = *k;
            L->calls[n].t -= w->w0;
            L->calls[n].f = row[k->f];
            n++;
        }
    }
    qsort(L->calls, n, sizeof *L->calls, cmp_call);
    t->offsets = malloc((n ? n : 1) * sizeof *t->offsets);
    if (!t->offsets)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        t->offsets[i] = L->calls[i].t % minute;
    return 0;
}

int hb_trace_load_azure2021(const hb_trace_spec *spec, hb_trace **out, hb_error *err)
{
    *out = NULL;
    int rc = spec_check(spec, err);
    if (rc)
        return rc;
    loader L;
    memset(&L, 0, sizeof L);
    hb_trace *t = NULL;
    uint32_t *counts = NULL, *row = NULL;
    double *dsum = NULL;
    size_t *pick = NULL, kept, keep;
    az_window w = {0};
    if ((rc = read_calls(spec->invocations, &L, err)) || (rc = find_window(&L, spec, &w, err)))
        goto done;
    size_t nf = L.n_funcs;
    counts = calloc(nf * w.width, sizeof *counts);
    dsum = calloc(nf, sizeof *dsum);
    row = malloc(nf * sizeof *row);
    pick = malloc(nf * sizeof *pick);
    if (!counts || !dsum || !row || !pick) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto done;
    }
    window_counts(&L, &w, counts, dsum);
    if (!(kept = filter_funcs(counts, nf, w.width, spec, pick))) {
        rc = hb_fail(err, HB_EINPUT, "%s: no function has a call in minutes %zu-%zu%s",
                     spec->invocations, w.start + 1, w.start + w.width,
                     spec->min_per_minute > 0 || spec->max_per_minute < INT32_MAX
                         ? " within [trace] min_per_minute and max_per_minute" : "");
        goto done;
    }
    if ((rc = sample_funcs(spec, pick, kept, &keep, err)) ||
        (rc = new_trace(spec, keep, w.width, &t, err)))
        goto done;
    fill_funcs(t, &L, pick, counts, dsum, spec, row);
    if ((rc = replay_offsets(t, &L, row, &w, err)))
        goto done;
    *out = t;
    t = NULL;
done:
    hb_trace_free(t);
    free(counts);
    free(dsum);
    free(row);
    free(pick);
    free(L.calls);
    free(L.funcs);
    free(L.slot);
    return rc;
}

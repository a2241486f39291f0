/* trace.c - reading traces in the artifact and Azure Functions 2019 formats (see trace.h). */
#include "trace.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"
#include "dynbuf.h"
#include "hb_types.h"
#include "trace_azure2021.h"

/* ---- the invocation file, row by row ---- */

typedef struct inv_reader {
    hb_csv *csv;
    int azure;                         /* 1: HashOwner,HashApp,HashFunction,Trigger,1.. */
    size_t first_minute_col;
    size_t n_minutes;
    const char *path;
} inv_reader;

static int inv_open(inv_reader *r, const char *path, hb_error *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    int rc = hb_csv_open(path, &r->csv, err);
    if (rc)
        return rc;
    int n = hb_csv_next(r->csv, err);
    if (n <= 0) {
        hb_csv_close(r->csv);
        r->csv = NULL;
        return n < 0 ? -n : hb_fail_at(err, HB_EINPUT, path, 0, NULL, "the file is empty");
    }
    const char *h0 = hb_csv_field(r->csv, 0), *h1 = hb_csv_field(r->csv, 1);
    if (strcmp(h0, "HashOwner") == 0) {
        if (strcmp(h1, "HashApp") || strcmp(hb_csv_field(r->csv, 2), "HashFunction") ||
            strcmp(hb_csv_field(r->csv, 3), "Trigger"))
            goto bad_header;
        r->azure = 1;
        r->first_minute_col = 4;
    } else if (strcmp(h0, "HashFunction") == 0 && strcmp(h1, "Trigger") == 0) {
        r->first_minute_col = 2;
    } else {
        goto bad_header;
    }
    size_t nf = hb_csv_nfields(r->csv);
    if (nf <= r->first_minute_col) {
        hb_csv_close(r->csv);
        r->csv = NULL;
        return hb_fail_at(err, HB_EINPUT, path, 1, "header", "no minute columns");
    }
    for (size_t i = r->first_minute_col; i < nf; i++) {
        int64_t m;
        if (hb_parse_int64(hb_csv_field(r->csv, i), &m) || m != (int64_t)(i - r->first_minute_col + 1)) {
            char col[32];
            snprintf(col, sizeof col, "column %zu", i + 1);
            int rc2 = hb_fail_at(err, HB_EINPUT, path, 1, col,
                                 "expected minute %zu, found '%s' (minute columns are 1, 2, ..., T)",
                                 i - r->first_minute_col + 1, hb_csv_field(r->csv, i));
            hb_csv_close(r->csv);
            r->csv = NULL;
            return rc2;
        }
    }
    r->n_minutes = nf - r->first_minute_col;
    return 0;
bad_header:
    hb_csv_close(r->csv);
    r->csv = NULL;
    return hb_fail_at(err, HB_EINPUT, path, 1, "header",
                      "not an invocation trace: expected 'HashFunction,Trigger,1,2,...' (artifact) "
                      "or 'HashOwner,HashApp,HashFunction,Trigger,1,2,...' (azure2019)");
}

/* Reads the next row; counts[] gets n_minutes values. Returns 1, 0 at the end, or -code. */
static int inv_next(inv_reader *r, uint32_t *counts, hb_error *err)
{
    int n = hb_csv_next(r->csv, err);
    if (n <= 0)
        return n;
    size_t nf = hb_csv_nfields(r->csv), want = r->first_minute_col + r->n_minutes;
    long line = hb_csv_line(r->csv);
    if (nf != want)
        return -hb_fail_at(err, HB_EINPUT, r->path, line, NULL,
                           "%zu fields where the header has %zu (a truncated or garbled line)", nf,
                           want);
    size_t name_col = r->azure ? 2 : 0;
    if (hb_csv_field(r->csv, name_col)[0] == '\0')
        return -hb_fail_at(err, HB_EINPUT, r->path, line, "HashFunction", "empty");
    for (size_t m = 0; m < r->n_minutes; m++) {
        int64_t v;
        const char *s = hb_csv_field(r->csv, r->first_minute_col + m);
        if (hb_parse_int64(s, &v) || v < 0 || v > UINT32_MAX) {
            char col[32];
            snprintf(col, sizeof col, "minute %zu", m + 1);
            return -hb_fail_at(err, HB_EINPUT, r->path, line, col,
                               "'%s' is not a count of invocations (a non-negative integer)", s);
        }
        counts[m] = (uint32_t)v;
    }
    return 1;
}

static const char *inv_field(const inv_reader *r, const char *which)
{
    if (strcmp(which, "function") == 0)
        return hb_csv_field(r->csv, r->azure ? 2 : 0);
    if (strcmp(which, "trigger") == 0)
        return hb_csv_field(r->csv, r->azure ? 3 : 1);
    return r->azure ? hb_csv_field(r->csv, 1) : "";
}

/* ---- loading ---- */

void hb_trace_free(hb_trace *t)
{
    if (!t)
        return;
    free(t->funcs);
    free(t->counts);
    free(t->sizes);
    free(t->offsets);
    free(t);
}

typedef struct row_buf {
    hb_trace_func *funcs;
    uint32_t *counts;                  /* window columns only */
    size_t n, cap, width, counts_cap;
} row_buf;

static int rows_push(row_buf *b, const hb_trace_func *f, const uint32_t *counts, hb_error *err)
{
    if (HB_GROW(b->funcs, b->cap, b->n + 1) != HB_OK ||
        HB_GROW(b->counts, b->counts_cap, (b->n + 1) * b->width) != HB_OK)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    b->funcs[b->n] = *f;
    memcpy(b->counts + b->n * b->width, counts, b->width * sizeof *counts);
    b->n++;
    return 0;
}

static int read_sizes(const char *path, hb_trace *t, hb_error *err)
{
    hb_csv *c;
    int rc = hb_csv_open(path, &c, err);
    if (rc)
        return rc;
    int r = hb_csv_next(c, err);
    if (r <= 0) {
        rc = r < 0 ? -r : hb_fail_at(err, HB_EINPUT, path, 0, NULL, "the input-size file is empty");
        goto done;
    }
    size_t n = hb_csv_nfields(c);
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        if (hb_parse_int64(hb_csv_field(c, i), &v) || v != (int64_t)i + 1) {
            char col[32];
            snprintf(col, sizeof col, "column %zu", i + 1);
            rc = hb_fail_at(err, HB_EINPUT, path, hb_csv_line(c), col,
                            "expected %zu: the first line numbers the events 1, 2, ..., N", i + 1);
            goto done;
        }
    }
    r = hb_csv_next(c, err);
    if (r <= 0) {
        rc = r < 0 ? -r : hb_fail_at(err, HB_EINPUT, path, 2, NULL, "no line of sizes after the header");
        goto done;
    }
    if (hb_csv_nfields(c) != n) {
        rc = hb_fail_at(err, HB_EINPUT, path, hb_csv_line(c), NULL,
                        "%zu sizes where the header numbers %zu events", hb_csv_nfields(c), n);
        goto done;
    }
    t->sizes = malloc((n ? n : 1) * sizeof *t->sizes);
    if (!t->sizes) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        char col[32];
        snprintf(col, sizeof col, "event %zu", i + 1);
        if ((rc = hb_csv_int64(c, i, col, &t->sizes[i], err)))
            goto done;
        if (t->sizes[i] < 0) {
            rc = hb_fail_at(err, HB_EINPUT, path, hb_csv_line(c), col, "negative size");
            goto done;
        }
    }
    t->n_sizes = n;
    if ((r = hb_csv_next(c, err)) != 0)
        rc = r < 0 ? -r : hb_fail_at(err, HB_EINPUT, path, hb_csv_line(c), NULL,
                                     "unexpected third line (the file has a header and one line of sizes)");
done:
    if (rc) {                          /* the caller owns t->sizes only on success */
        free(t->sizes);
        t->sizes = NULL;
        t->n_sizes = 0;
    }
    hb_csv_close(c);
    return rc;
}

/* The rows of a statistics file, checked as docs/traces.md promises: as many fields as the header,
 * a non-negative value, and no identity (HashOwner, HashApp, HashFunction, those present) twice. */
typedef struct stat_key {
    char *id;                          /* the identity columns joined by ',' */
    long line;
} stat_key;

typedef struct stat_rows {
    hb_csv *c;
    int id_cols[3], n_id;
    int value_col;
    stat_key *keys;
    size_t n, cap;
} stat_rows;

static void stat_rows_init(stat_rows *s, hb_csv *c, int value_col)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    s->value_col = value_col;
    static const char *const ids[] = {"HashOwner", "HashApp", "HashFunction"};
    for (int k = 0; k < 3; k++)
        if (hb_csv_col(c, ids[k]) >= 0)
            s->id_cols[s->n_id++] = hb_csv_col(c, ids[k]);
}

static void stat_rows_free(stat_rows *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->keys[i].id);
    free(s->keys);
}

/* Checks the current row and reads its value. */
static int stat_row(stat_rows *s, double *v, hb_error *err)
{
    hb_csv *c = s->c;
    if (hb_csv_nfields(c) != hb_csv_ncols(c))
        return hb_fail_at(err, HB_EINPUT, hb_csv_name(c), hb_csv_line(c), NULL,
                          "%zu fields where the header has %zu (a truncated or garbled line)",
                          hb_csv_nfields(c), hb_csv_ncols(c));
    int rc = hb_csv_double(c, (size_t)s->value_col, NULL, v, err);
    if (rc)
        return rc;
    if (*v < 0)
        return hb_fail_at(err, HB_EINPUT, hb_csv_name(c), hb_csv_line(c),
                          hb_csv_colname(c, (size_t)s->value_col), "negative (%g)", *v);
    size_t len = 1;
    for (int k = 0; k < s->n_id; k++)
        len += strlen(hb_csv_field(c, (size_t)s->id_cols[k])) + 1;
    if (HB_GROW(s->keys, s->cap, s->n + 1) != HB_OK)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    char *id = malloc(len);
    if (!id)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    id[0] = '\0';
    for (int k = 0; k < s->n_id; k++) {
        strcat(id, hb_csv_field(c, (size_t)s->id_cols[k]));
        if (k + 1 < s->n_id)
            strcat(id, ",");
    }
    s->keys[s->n++] = (stat_key){id, hb_csv_line(c)};
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    const stat_key *x = a, *y = b;
    int d = strcmp(x->id, y->id);
    return d ? d : (x->line > y->line) - (x->line < y->line);
}

/* After the last row: a repeated identity is an error naming both lines. */
static int stat_rows_unique(stat_rows *s, hb_error *err)
{
    if (s->n > 1)
        qsort(s->keys, s->n, sizeof *s->keys, key_cmp);
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->keys[i].id, s->keys[i - 1].id) == 0)
            return hb_fail_at(err, HB_EINPUT, hb_csv_name(s->c), s->keys[i].line, NULL,
                              "a duplicate row: '%.200s' is already on line %ld", s->keys[i].id,
                              s->keys[i - 1].line);
    return 0;
}

/* A statistics file: durations (the Average column, ms) joined on HashFunction, or memory
 * (AverageAllocatedMb) joined on HashFunction in artifact files and on HashApp in azure2019 ones. */
static int read_stat(const char *path, int memory, hb_trace *t, hb_error *err)
{
    const char *col = memory ? "AverageAllocatedMb" : "Average";
    hb_csv *c;
    int rc = hb_csv_open(path, &c, err);
    if (rc)
        return rc;
    stat_rows sr = {0};
    int r = hb_csv_next(c, err);
    if (r <= 0) {
        rc = r < 0 ? -r : hb_fail_at(err, HB_EINPUT, path, 0, NULL, "the %s file is empty",
                                     memory ? "memory" : "duration");
        goto done;
    }
    if ((rc = hb_csv_take_header(c, err)))
        goto done;
    int cf = hb_csv_col(c, "HashFunction"), capp = hb_csv_col(c, "HashApp"), cv = hb_csv_col(c, col);
    int key = cf >= 0 ? cf : memory ? capp : -1;
    if (key < 0 || cv < 0) {
        rc = hb_fail_at(err, HB_EINPUT, path, 1, "header", "expected a %s file with %s and %s columns",
                        memory ? "memory" : "duration", memory ? "HashFunction (or HashApp)"
                                                               : "HashFunction", col);
        goto done;
    }
    stat_rows_init(&sr, c, cv);
    while ((r = hb_csv_next(c, err)) > 0) {
        double v;
        if ((rc = stat_row(&sr, &v, err)))
            goto done;
        const char *name = hb_csv_field(c, (size_t)key);
        for (size_t i = 0; i < t->n_funcs; i++) {
            const char *mine = cf >= 0 ? t->funcs[i].name : t->funcs[i].app;
            if (strcmp(mine, name) == 0)
                *(memory ? &t->funcs[i].mem_avg_mb : &t->funcs[i].dur_avg_ms) = v;
        }
    }
    if (r < 0)
        rc = -r;
    else
        rc = stat_rows_unique(&sr, err);
done:
    stat_rows_free(&sr);
    hb_csv_close(c);
    return rc;
}

int hb_trace_nearest_by_duration(double dur_ms, const double *ref_ms)
{
    int best_b = 0;
    double best = INFINITY;
    for (int b = 0; b < HB_NWORKLOADS; b++) {
        double d = fabs(log(dur_ms) - log(ref_ms[b]));
        if (d < best) {
            best = d;
            best_b = b;
        }
    }
    return best_b;
}

static void map_functions(hb_trace *t, const hb_trace_spec *spec)
{
    int by_duration = spec->mapping && strcmp(spec->mapping, "duration") == 0 && spec->ref_duration_ms;
    for (size_t i = 0; i < t->n_funcs; i++) {
        hb_trace_func *f = &t->funcs[i];
        int known = hb_function_find(f->name);
        if (known >= 0 && !by_duration) {
            f->bench = known;
            continue;
        }
        f->bench = by_duration && f->dur_avg_ms > 0
                       ? hb_trace_nearest_by_duration(f->dur_avg_ms, spec->ref_duration_ms)
                       : (int)(i % HB_NWORKLOADS);
    }
}

/* Multiplies counts by `scale`, carrying each function's rounding remainder to its next minute so
 * that totals are kept (deterministic, no random draws). A count must still fit the trace's
 * 32-bit counts. */
static int apply_scale(hb_trace *t, double scale, hb_error *err)
{
    if (scale == 1.0)
        return 0;
    for (size_t f = 0; f < t->n_funcs; f++) {
        double carry = 0;
        for (size_t m = 0; m < t->n_minutes; m++) {
            double want = t->counts[f * t->n_minutes + m] * scale + carry;
            double got = floor(want + 1e-9);
            if (got > UINT32_MAX)
                return hb_fail(err, HB_EINPUT, "[trace] scale = %g: %s: minute %zu of function '%s' "
                               "would hold %.0f invocations (at most %lu)", scale, t->source, m + 1,
                               t->funcs[f].name, got, (unsigned long)UINT32_MAX);
            carry = want - got;
            t->counts[f * t->n_minutes + m] = (uint32_t)got;
        }
    }
    return 0;
}

static void totals(hb_trace *t)
{
    t->total = 0;
    for (size_t f = 0; f < t->n_funcs; f++) {
        t->funcs[f].total = 0;
        for (size_t m = 0; m < t->n_minutes; m++)
            t->funcs[f].total += t->counts[f * t->n_minutes + m];
        t->total += t->funcs[f].total;
    }
}

/* The invocation file read through the replayed window: the kept rows, and the event counts that
 * number the input-size file. */
typedef struct inv_window {
    inv_reader r;
    size_t start, width;               /* the replayed minutes: [start, start + width) */
    row_buf rows;
    uint64_t before_window, full_total;  /* events before the window, for input sizes */
    uint64_t window_total;             /* calls in the window before any filter */
} inv_window;

/* Opens the invocation file, checks it has the configured format and fixes the window. */
static int window_open(inv_window *w, const hb_trace_spec *spec, hb_error *err)
{
    memset(w, 0, sizeof *w);
    int rc = inv_open(&w->r, spec->invocations, err);
    if (rc)
        return rc;
    int want_azure = spec->format && strcmp(spec->format, "azure2019") == 0;
    if (want_azure != w->r.azure) {
        hb_csv_close(w->r.csv);
        return hb_fail_at(err, HB_EINPUT, spec->invocations, 1, "header",
                          "this is a%s trace but [trace] format = %s",
                          w->r.azure ? "n azure2019" : "n artifact", spec->format);
    }
    size_t start = (size_t)(spec->start_minute > 0 ? spec->start_minute - 1 : 0);
    if (start >= w->r.n_minutes) {
        hb_csv_close(w->r.csv);
        return hb_fail(err, HB_EINPUT, "[trace] start_minute = %zu but %s has %zu minutes",
                       start + 1, spec->invocations, w->r.n_minutes);
    }
    size_t width = w->r.n_minutes - start;
    if (spec->minutes > 0 && (size_t)spec->minutes < width)
        width = (size_t)spec->minutes;
    w->start = start;
    w->width = width;
    w->rows.width = width;
    return 0;
}

static void row_func(const inv_reader *r, hb_trace_func *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", inv_field(r, "function"));
    snprintf(f->trigger, sizeof f->trigger, "%s", inv_field(r, "trigger"));
    snprintf(f->app, sizeof f->app, "%s", inv_field(r, "app"));
    f->dur_avg_ms = f->mem_avg_mb = -1;
}

static int rows_have(const row_buf *rows, const char *name)
{
    for (size_t i = 0; i < rows->n; i++)
        if (strcmp(rows->funcs[i].name, name) == 0)
            return 1;
    return 0;
}

/* azure2019's filter: keep functions whose every replayed minute is within the per-minute bounds
 * and that have a call. */
static int within_bounds(const uint32_t *counts, size_t width, const hb_trace_spec *spec)
{
    uint64_t sum = 0;
    for (size_t m = 0; m < width; m++) {
        uint32_t v = counts[m];
        if (v < (uint32_t)spec->min_per_minute || v > (uint32_t)spec->max_per_minute)
            return 0;
        sum += v;
    }
    return sum != 0;
}

/* Reads every row into w->rows; counts is scratch space for one row's n_minutes values. */
static int window_read(inv_window *w, uint32_t *counts, const hb_trace_spec *spec, hb_error *err)
{
    int n, rc;
    while ((n = inv_next(&w->r, counts, err)) > 0) {
        hb_trace_func f;
        row_func(&w->r, &f);
        for (size_t m = 0; m < w->r.n_minutes; m++) {
            w->full_total += counts[m];
            if (m < w->start)
                w->before_window += counts[m];
        }
        if (rows_have(&w->rows, f.name)) {
            if (!w->r.azure)
                return hb_fail_at(err, HB_EINPUT, spec->invocations, hb_csv_line(w->r.csv),
                                  "HashFunction", "'%s' appears twice", f.name);
            continue;                  /* as the artifact's sampler: later duplicates dropped */
        }
        for (size_t m = 0; m < w->width; m++)
            w->window_total += counts[w->start + m];
        if (w->r.azure && !within_bounds(counts + w->start, w->width, spec))
            continue;
        if ((rc = rows_push(&w->rows, &f, counts + w->start, err)))
            return rc;
    }
    return n < 0 ? -n : 0;
}

static int window_check(const inv_window *w, const hb_trace_spec *spec, hb_error *err)
{
    if (w->window_total == 0)          /* not the filter's fault: the window is empty */
        return hb_fail(err, HB_EINPUT, "%s: no call in the replayed window ([trace] start_minute = "
                       "%zu, minutes = %d: minutes %zu..%zu of %zu); choose a window with calls",
                       spec->invocations, w->start + 1, spec->minutes, w->start + 1,
                       w->start + w->width, w->r.n_minutes);
    if (w->rows.n == 0)
        return hb_fail(err, HB_EINPUT, "%s: no function %s", spec->invocations,
                       w->r.azure ? "passes the [trace] filter (min_per_minute, max_per_minute)"
                                  : "in the trace");
    return 0;
}

/* The trace's functions: every kept row, or for azure2019 a sample of `functions` of them in
 * their order. */
static int take_functions(hb_trace *t, const inv_window *w, const hb_trace_spec *spec,
                          hb_error *err)
{
    const row_buf *rows = &w->rows;
    size_t keep = rows->n, width = w->width;
    size_t *pick = malloc(rows->n * sizeof *pick);
    if (!pick)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    for (size_t i = 0; i < rows->n; i++)
        pick[i] = i;
    if (w->r.azure && (size_t)spec->functions < rows->n) {
        keep = (size_t)spec->functions;
        size_t *chosen = malloc(keep * sizeof *chosen);
        if (!chosen || !spec->rng) {
            free(chosen);
            free(pick);
            return hb_fail(err, chosen ? HB_EINPUT : HB_ENOMEM, "cannot sample trace functions");
        }
        gsl_ran_choose(spec->rng, chosen, keep, pick, rows->n, sizeof *pick);
        memcpy(pick, chosen, keep * sizeof *pick);
        free(chosen);
    }
    t->n_funcs = keep;
    t->n_minutes = width;
    t->funcs = malloc(keep * sizeof *t->funcs);
    t->counts = malloc(keep * width * sizeof *t->counts);
    if (!t->funcs || !t->counts) {
        free(pick);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < keep; i++) {
        t->funcs[i] = rows->funcs[pick[i]];
        memcpy(t->counts + i * width, rows->counts + pick[i] * width, width * sizeof *t->counts);
    }
    free(pick);
    return 0;
}

/* [trace] input_sizes: the file numbers the whole trace's events; keep the replayed window's. */
static int window_sizes(hb_trace *t, const inv_window *w, const hb_trace_spec *spec, hb_error *err)
{
    if (!spec->input_sizes || !spec->input_sizes[0])
        return 0;
    if (w->r.azure)
        return hb_fail(err, HB_EINPUT, "[trace] input_sizes: an input-size file only goes with "
                       "artifact traces (azure2019 sizes are drawn: sizes = random or multi)");
    int rc = read_sizes(spec->input_sizes, t, err);
    if (rc)
        return rc;
    if (t->n_sizes != w->full_total)
        return hb_fail(err, HB_EINPUT, "%s: %zu input sizes, but %s has %llu invocations",
                       spec->input_sizes, t->n_sizes, spec->invocations,
                       (unsigned long long)w->full_total);
    if (spec->scale != 1.0)
        return hb_fail(err, HB_EINPUT, "[trace] scale: the input-size file numbers the trace's "
                       "own events; with scale != 1 use sizes = random or multi");
    /* keep the sizes of the replayed window (events are numbered minute by minute) */
    totals(t);
    memmove(t->sizes, t->sizes + w->before_window, t->total * sizeof *t->sizes);
    t->n_sizes = t->total;
    return 0;
}

/* The statistics files, the scale, the totals and the workload each function runs. */
static int trace_finish(hb_trace *t, const hb_trace_spec *spec, hb_error *err)
{
    int rc;
    if (spec->durations && spec->durations[0] && (rc = read_stat(spec->durations, 0, t, err)))
        return rc;
    if (spec->memory && spec->memory[0] && (rc = read_stat(spec->memory, 1, t, err)))
        return rc;
    if ((rc = apply_scale(t, spec->scale > 0 ? spec->scale : 1.0, err)))
        return rc;
    totals(t);
    map_functions(t, spec);
    return 0;
}

int hb_trace_load(const hb_trace_spec *spec, hb_trace **out, hb_error *err)
{
    *out = NULL;
    if (!spec->invocations || !spec->invocations[0])
        return hb_fail(err, HB_EINPUT, "[trace] invocations: no trace file given");
    if (spec->format && strcmp(spec->format, "azure2021") == 0)
        return hb_trace_load_azure2021(spec, out, err);
    inv_window w;
    int rc = window_open(&w, spec, err);
    if (rc)
        return rc;
    hb_trace *t = calloc(1, sizeof *t);
    uint32_t *counts = malloc(w.r.n_minutes * sizeof *counts);
    if (!t || !counts) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(t->source, sizeof t->source, "%s", spec->invocations);
    snprintf(t->format, sizeof t->format, "%s", w.r.azure ? "azure2019" : "artifact");
    if ((rc = window_read(&w, counts, spec, err)))
        goto done;
    hb_csv_close(w.r.csv);
    w.r.csv = NULL;
    if ((rc = window_check(&w, spec, err)) || (rc = take_functions(t, &w, spec, err)) ||
        (rc = window_sizes(t, &w, spec, err)))
        goto done;
    rc = trace_finish(t, spec, err);
done:
    if (w.r.csv)
        hb_csv_close(w.r.csv);
    free(w.rows.funcs);
    free(w.rows.counts);
    free(counts);
    if (rc)
        hb_trace_free(t);
    else
        *out = t;
    return rc;
}

int hb_trace_synthetic(uint64_t invocations, int n_funcs, uint32_t per_minute, hb_trace **out,
                       hb_error *err)
{
    *out = NULL;
    if (n_funcs < 1 || per_minute < 1)
        return hb_fail(err, HB_EINPUT, "synthetic trace: need at least one function and call");
    uint64_t per = (uint64_t)n_funcs * per_minute;
    size_t minutes = (size_t)((invocations + per - 1) / per);
    if (minutes == 0)
        minutes = 1;
    hb_trace *t = calloc(1, sizeof *t);
    if (!t)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    t->funcs = calloc((size_t)n_funcs, sizeof *t->funcs);
    t->counts = malloc((size_t)n_funcs * minutes * sizeof *t->counts);
    if (!t->funcs || !t->counts) {
        hb_trace_free(t);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    snprintf(t->source, sizeof t->source, "synthetic");
    snprintf(t->format, sizeof t->format, "synthetic");
    t->n_funcs = (size_t)n_funcs;
    t->n_minutes = minutes;
    for (int f = 0; f < n_funcs; f++) {
        if (f < HB_NWORKLOADS)
            snprintf(t->funcs[f].name, sizeof t->funcs[f].name, "%s", hb_functions[f].id);
        else                           /* the (k+1)-th function running the same workload */
            snprintf(t->funcs[f].name, sizeof t->funcs[f].name, "%s-%d",
                     hb_functions[f % HB_NWORKLOADS].id, f / HB_NWORKLOADS + 1);
        snprintf(t->funcs[f].trigger, sizeof t->funcs[f].trigger, "synthetic");
        t->funcs[f].bench = f % HB_NWORKLOADS;
        t->funcs[f].dur_avg_ms = t->funcs[f].mem_avg_mb = -1;
        for (size_t m = 0; m < minutes; m++)
            t->counts[(size_t)f * minutes + m] = per_minute;
    }
    totals(t);
    *out = t;
    return 0;
}

/* ---- trace info ---- */

static int info_invocations(const char *path, FILE *out, hb_error *err)
{
    inv_reader r;
    int rc = inv_open(&r, path, err);
    if (rc)
        return rc;
    uint32_t *counts = malloc(r.n_minutes * sizeof *counts);
    uint64_t *per_minute = calloc(r.n_minutes, sizeof *per_minute);
    if (!counts || !per_minute) {
        free(counts);
        free(per_minute);
        hb_csv_close(r.csv);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    fprintf(out, "%s\n  format      %s invocation counts\n", path,
            r.azure ? "azure2019" : "artifact");
    int show = 1, n;
    size_t funcs = 0, shown = 0;
    uint64_t total = 0;
    while ((n = inv_next(&r, counts, err)) > 0) {
        uint64_t sum = 0;
        uint32_t mx = 0;
        size_t active = 0;
        for (size_t m = 0; m < r.n_minutes; m++) {
            sum += counts[m];
            per_minute[m] += counts[m];
            if (counts[m]) {
                active++;
                if (counts[m] > mx)
                    mx = counts[m];
            }
        }
        total += sum;
        funcs++;
        if (show && shown < 40) {
            if (shown == 0)
                fprintf(out, "  %-34s %-14s %10s %7s %9s %8s\n", "function", "trigger", "calls",
                        "active", "per min", "max/min");
            const char *name = inv_field(&r, "function");
            fprintf(out, "  %-34.34s %-14.14s %10llu %7zu %9.3f %8u\n", name,
                    inv_field(&r, "trigger"), (unsigned long long)sum, active,
                    (double)sum / (double)r.n_minutes, mx);
            shown++;
        }
    }
    if (n < 0) {
        rc = -n;
    } else {
        if (funcs > shown)
            fprintf(out, "  ... and %zu more functions\n", funcs - shown);
        uint64_t peak = 0;
        size_t peak_m = 0;
        for (size_t m = 0; m < r.n_minutes; m++)
            if (per_minute[m] > peak) {
                peak = per_minute[m];
                peak_m = m;
            }
        fprintf(out, "  functions   %zu\n  minutes     %zu\n  invocations %llu\n", funcs,
                r.n_minutes, (unsigned long long)total);
        fprintf(out, "  rate        %.3f invocations/minute (%.4f/s); busiest minute %zu with %llu\n",
                (double)total / (double)r.n_minutes, (double)total / (double)r.n_minutes / 60.0,
                peak_m + 1, (unsigned long long)peak);
    }
    free(counts);
    free(per_minute);
    hb_csv_close(r.csv);
    return rc;
}

int hb_trace_info(const char *path, FILE *out, hb_error *err)
{
    hb_csv *c;
    int rc = hb_csv_open(path, &c, err);
    if (rc)
        return rc;
    int n = hb_csv_next(c, err);
    if (n <= 0) {
        hb_csv_close(c);
        return n < 0 ? -n : hb_fail_at(err, HB_EINPUT, path, 0, NULL, "the file is empty");
    }
    const char *h0 = hb_csv_field(c, 0);
    int is_inv = strcmp(h0, "HashOwner") == 0 ? strcmp(hb_csv_field(c, 3), "Trigger") == 0
                                              : strcmp(hb_csv_field(c, 1), "Trigger") == 0;
    if (is_inv) {
        hb_csv_close(c);
        return info_invocations(path, out, err);
    }
    if (strcmp(h0, "1") == 0) {
        hb_csv_close(c);
        hb_trace t;
        memset(&t, 0, sizeof t);
        if ((rc = read_sizes(path, &t, err)))
            return rc;
        int64_t mn = INT64_MAX, mx = 0;
        double sum = 0;
        for (size_t i = 0; i < t.n_sizes; i++) {
            mn = t.sizes[i] < mn ? t.sizes[i] : mn;
            mx = t.sizes[i] > mx ? t.sizes[i] : mx;
            sum += (double)t.sizes[i];
        }
        fprintf(out, "%s\n  format      artifact input sizes\n  events      %zu\n", path, t.n_sizes);
        if (t.n_sizes)
            fprintf(out, "  sizes       min %lld, mean %.1f, max %lld\n", (long long)mn,
                    sum / (double)t.n_sizes, (long long)mx);
        free(t.sizes);
        return 0;
    }
    if ((rc = hb_csv_take_header(c, err))) {
        hb_csv_close(c);
        return rc;
    }
    int ca = hb_csv_col(c, "Average"), cm = hb_csv_col(c, "AverageAllocatedMb");
    int ck = hb_csv_col(c, "HashFunction") >= 0 ? hb_csv_col(c, "HashFunction") : hb_csv_col(c, "HashApp");
    if ((ca < 0 && cm < 0) || ck < 0) {
        hb_csv_close(c);
        return hb_fail_at(err, HB_EINPUT, path, 1, "header",
                          "not a trace file harvestbench knows (invocation counts, input sizes, "
                          "durations with an Average column, or memory with AverageAllocatedMb)");
    }
    int col = ca >= 0 ? ca : cm;
    fprintf(out, "%s\n  format      %s\n  %-34s %12s\n", path,
            ca >= 0 ? "Azure duration statistics (ms)" : "Azure memory statistics (MB)",
            hb_csv_colname(c, (size_t)ck), ca >= 0 ? "average ms" : "average MB");
    size_t rows = 0;
    stat_rows sr;
    stat_rows_init(&sr, c, col);
    while ((n = hb_csv_next(c, err)) > 0) {
        double v;
        if ((rc = stat_row(&sr, &v, err)))
            break;
        if (rows < 40)
            fprintf(out, "  %-34.34s %12.1f\n", hb_csv_field(c, (size_t)ck), v);
        rows++;
    }
    if (n < 0)
        rc = -n;
    if (!rc)
        rc = stat_rows_unique(&sr, err);
    if (!rc)
        fprintf(out, "  rows        %zu\n", rows);
    stat_rows_free(&sr);
    hb_csv_close(c);
    return rc;
}

/* steptable.c - the step-function predictor tables of include/hb_steptable.h. */
#include "hb_steptable.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"
#include "files.h"
#include "workload_model.h"

static int step_add(hb_step_fn *f, double gt, double le, double v, hb_error *err)
{
    hb_step *s = realloc(f->s, (f->n + 1) * sizeof *s);
    if (!s)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    f->s = s;
    f->s[f->n++] = (hb_step){gt, le, v};
    return 0;
}

static int cmp_step(const void *a, const void *b)
{
    const hb_step *x = a, *y = b;
    return (x->x_gt > y->x_gt) - (x->x_gt < y->x_gt);
}

void hb_predictor_table_free(hb_predictor_table *t)
{
    if (!t)
        return;
    for (int f = 0; f < HB_NWORKLOADS; f++)
        for (int k = 0; k < HB_NTARGETS; k++)
            free(t->f[f][k].s);
    free(t);
}

double hb_step_eval(const hb_step_fn *f, double x)
{
    if (f->n == 0)
        return NAN;
    size_t lo = 0, hi = f->n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x <= f->s[mid].x_le)
            hi = mid;
        else
            lo = mid + 1;
    }
    return f->s[lo].v;
}

static const char *target_name(int k)
{
    return k == HB_TARGET_CPU ? "cpu" : k == HB_TARGET_MEM ? "memory" : "duration";
}

/* The table's columns. */
typedef struct step_cols {
    int f, t, gt, le, v;
} step_cols;

static int table_header(hb_csv *c, const char *source, step_cols *col, hb_error *err)
{
    int r = hb_csv_next(c, err), rc;
    if (r <= 0)
        return r < 0 ? -r : hb_fail(err, HB_EINPUT, "%s: empty predictor table", source);
    if ((rc = hb_csv_take_header(c, err)))
        return rc;
    col->f = hb_csv_col(c, "function_id");
    col->t = hb_csv_col(c, "target");
    col->gt = hb_csv_col(c, "x_gt");
    col->le = hb_csv_col(c, "x_le");
    col->v = hb_csv_col(c, "value");
    if (col->f < 0 || col->t < 0 || col->gt < 0 || col->le < 0 || col->v < 0)
        return hb_fail_at(err, HB_EINPUT, source, 1, NULL,
                          "expected columns function_id,target,x_gt,x_le,value");
    return 0;
}

/* One row: a step of one function's predictor of one target. */
static int table_row(hb_csv *c, const step_cols *col, const char *source, hb_predictor_table *t,
                     hb_error *err)
{
    const char *fid = hb_csv_field(c, (size_t)col->f), *tgt = hb_csv_field(c, (size_t)col->t);
    int f = hb_function_find(fid);
    if (f < 0)
        return hb_fail_at(err, HB_EINPUT, source, hb_csv_line(c), "function_id",
                          "unknown function '%s'", fid);
    int k = strcmp(tgt, "cpu") == 0 ? HB_TARGET_CPU : strcmp(tgt, "memory") == 0 ? HB_TARGET_MEM
            : strcmp(tgt, "duration") == 0 ? HB_TARGET_DUR : -1;
    if (k < 0)
        return hb_fail_at(err, HB_EINPUT, source, hb_csv_line(c), "target",
                          "'%s' is not cpu, memory or duration", tgt);
    double gt, le, v;
    int rc;
    if ((rc = hb_csv_double(c, (size_t)col->gt, "x_gt", &gt, err)) ||
        (rc = hb_csv_double(c, (size_t)col->le, "x_le", &le, err)) ||
        (rc = hb_csv_double(c, (size_t)col->v, "value", &v, err)))
        return rc;
    if (!isfinite(v) || v < 0 || !(gt < le))
        return hb_fail_at(err, HB_EINPUT, source, hb_csv_line(c), "value",
                          "need a finite non-negative value on a non-empty interval");
    return step_add(&t->f[f][k], gt, le, v, err);
}

/* Every function has its three predictors, each sorted here into intervals that join. */
static int table_check(hb_predictor_table *t, const char *source, hb_error *err)
{
    for (int f = 0; f < HB_NWORKLOADS; f++)
        for (int k = 0; k < HB_NTARGETS; k++) {
            hb_step_fn *fn = &t->f[f][k];
            if (fn->n == 0)
                return hb_fail(err, HB_EINPUT, "%s: function %s has no %s predictor", source,
                               hb_functions[f].id, target_name(k));
            qsort(fn->s, fn->n, sizeof *fn->s, cmp_step);
            for (size_t i = 1; i < fn->n; i++)
                if (fn->s[i].x_gt != fn->s[i - 1].x_le)
                    return hb_fail(err, HB_EINPUT, "%s: %s %s: the intervals do not join at %g",
                                   source, hb_functions[f].id, target_name(k), fn->s[i - 1].x_le);
        }
    return 0;
}

int hb_predictor_table_parse(const char *text, size_t len, const char *source,
                             hb_predictor_table **out, hb_error *err)
{
    *out = NULL;
    if (!text) {
        text = hb_embedded_predictor_table(&len);
        source = "libra-artifact-predictors.csv (built in)";
    }
    hb_predictor_table *t = calloc(1, sizeof *t);
    hb_csv *c = NULL;
    int rc = t ? hb_csv_open_mem(text, len, source, &c, err) : hb_fail(err, HB_ENOMEM, "out of memory");
    if (rc)
        goto done;
    snprintf(t->source, sizeof t->source, "%s", source);
    step_cols col = {0};
    if ((rc = table_header(c, source, &col, err)))
        goto done;
    int r = 0;
    while (!rc && (r = hb_csv_next(c, err)) > 0)
        rc = table_row(c, &col, source, t, err);
    if (!rc && r < 0)
        rc = -r;
    if (!rc)
        rc = table_check(t, source, err);
done:
    hb_csv_close(c);
    if (rc)
        hb_predictor_table_free(t);
    else
        *out = t;
    return rc;
}

int hb_predictor_table_load(const char *path, hb_predictor_table **out, hb_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return hb_predictor_table_parse(NULL, 0, NULL, out, err);
    char *buf;
    size_t n;
    int rrc = hb_read_text(path, &buf, &n, err);
    if (rrc)
        return rrc;
    /* '#' lines are comments (a trained table says what made it); their newline stays, so that
     * messages keep the file's line numbers */
    size_t w = 0;
    for (size_t r = 0; r < n;) {
        int comment = buf[r] == '#';
        while (r < n && buf[r] != '\n') {
            if (!comment)
                buf[w++] = buf[r];
            r++;
        }
        if (r < n)
            buf[w++] = buf[r++];
    }
    int rc = hb_predictor_table_parse(buf, w, path, out, err);
    free(buf);
    return rc;
}

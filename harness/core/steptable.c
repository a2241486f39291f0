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
    int r = hb_csv_next(c, err);
    if (r <= 0) {
        rc = r < 0 ? -r : hb_fail(err, HB_EINPUT, "%s: empty predictor table", source);
        goto done;
    }
    if ((rc = hb_csv_take_header(c, err)))
        goto done;
    int cf = hb_csv_col(c, "function_id"), ct = hb_csv_col(c, "target"),
        cg = hb_csv_col(c, "x_gt"), cl = hb_csv_col(c, "x_le"), cv = hb_csv_col(c, "value");
    if (cf < 0 || ct < 0 || cg < 0 || cl < 0 || cv < 0) {
        rc = hb_fail_at(err, HB_EINPUT, source, 1, NULL,
                        "expected columns function_id,target,x_gt,x_le,value");
        goto done;
    }
    while ((r = hb_csv_next(c, err)) > 0) {
        const char *fid = hb_csv_field(c, (size_t)cf), *tgt = hb_csv_field(c, (size_t)ct);
        int f = hb_function_find(fid);
        if (f < 0) {
            rc = hb_fail_at(err, HB_EINPUT, source, hb_csv_line(c), "function_id",
                            "unknown function '%s'", fid);
            goto done;
        }
        int k = strcmp(tgt, "cpu") == 0 ? HB_TARGET_CPU : strcmp(tgt, "memory") == 0 ? HB_TARGET_MEM
                : strcmp(tgt, "duration") == 0 ? HB_TARGET_DUR : -1;
        if (k < 0) {
            rc = hb_fail_at(err, HB_EINPUT, source, hb_csv_line(c), "target",
                            "'%s' is not cpu, memory or duration", tgt);
            goto done;
        }
        double gt, le, v;
        if ((rc = hb_csv_double(c, (size_t)cg, "x_gt", &gt, err)) ||
            (rc = hb_csv_double(c, (size_t)cl, "x_le", &le, err)) ||
            (rc = hb_csv_double(c, (size_t)cv, "value", &v, err)))
            goto done;
        if (!isfinite(v) || v < 0 || !(gt < le)) {
            rc = hb_fail_at(err, HB_EINPUT, source, hb_csv_line(c), "value",
                            "need a finite non-negative value on a non-empty interval");
            goto done;
        }
        if ((rc = step_add(&t->f[f][k], gt, le, v, err)))
            goto done;
    }
    if (r < 0) {
        rc = -r;
        goto done;
    }
    for (int f = 0; f < HB_NWORKLOADS; f++)
        for (int k = 0; k < HB_NTARGETS; k++) {
            hb_step_fn *fn = &t->f[f][k];
            if (fn->n == 0) {
                rc = hb_fail(err, HB_EINPUT, "%s: function %s has no %s predictor", source,
                             hb_functions[f].id,
                             k == HB_TARGET_CPU ? "cpu" : k == HB_TARGET_MEM ? "memory" : "duration");
                goto done;
            }
            qsort(fn->s, fn->n, sizeof *fn->s, cmp_step);
            for (size_t i = 1; i < fn->n; i++)
                if (fn->s[i].x_gt != fn->s[i - 1].x_le) {
                    rc = hb_fail(err, HB_EINPUT, "%s: %s %s: the intervals do not join at %g", source,
                                 hb_functions[f].id, k == HB_TARGET_CPU ? "cpu"
                                 : k == HB_TARGET_MEM ? "memory" : "duration", fn->s[i - 1].x_le);
                    goto done;
                }
        }
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

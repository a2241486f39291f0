/* forest.c - see forest.h. */
#include "forest.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

struct lf_forest {
    BoosterHandle b;
    lf_params p;
};

static int xgb_fail(hb_error *err, const char *what)
{
    return hb_fail(err, HB_ERUN, "xgboost: %s: %s", what, XGBGetLastError());
}

lf_params lf_defaults(int classes, int seed)
{
    lf_params p = {.trees = 100, .subsample = 0.8, .max_depth = 8, .seed = seed,
                   .class_lo = 1, .class_hi = classes};
    if (classes <= 0)
        p.class_lo = 1, p.class_hi = 0;
    return p;
}

double lf_value(const lf_params *p, float raw)
{
    if (p->class_hi < p->class_lo)
        return (double)raw;
    /* the forest's mean class, rounded half up (a peak is better over- than under-estimated) */
    double c = floor((double)raw + 0.5);
    return c < p->class_lo ? p->class_lo : c > p->class_hi ? p->class_hi : c;
}

void lf_free(lf_forest *f)
{
    if (!f)
        return;
    if (f->b)
        XGBoosterFree(f->b);
    free(f);
}

/* A one-column DMatrix of sizes (checked: integers that float holds exactly). */
static int matrix(const double *x, size_t n, DMatrixHandle *out, hb_error *err)
{
    float *col = malloc((n ? n : 1) * sizeof *col);
    if (!col)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!(fabs(x[i]) <= LF_MAX_X) || x[i] != floor(x[i])) {
            free(col);
            return hb_fail(err, HB_EINPUT, "forest: size %g is not an integer in [-2^24, 2^24]", x[i]);
        }
        col[i] = (float)x[i];
    }
    int rc = XGDMatrixCreateFromMat(col, (bst_ulong)n, 1, NAN, out) ? xgb_fail(err, "DMatrix") : 0;
    free(col);
    return rc;
}

int lf_train(const double *x, const double *y, size_t n, const lf_params *p, lf_forest **out,
             hb_error *err)
{
    *out = NULL;
    if (n == 0)
        return hb_fail(err, HB_EINPUT, "forest: no training rows");
    lf_forest *f = calloc(1, sizeof *f);
    float *label = malloc(n * sizeof *label);
    DMatrixHandle d = NULL;
    int rc = 0;
    if (!f || !label) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto done;
    }
    f->p = *p;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            rc = hb_fail(err, HB_EINPUT, "forest: row %zu: target %g is not finite", i, y[i]);
            goto done;
        }
        label[i] = (float)y[i];
    }
    if ((rc = matrix(x, n, &d, err)))
        goto done;
    if (XGDMatrixSetFloatInfo(d, "label", label, (bst_ulong)n)) {
        rc = xgb_fail(err, "labels");
        goto done;
    }
    if (XGBoosterCreate(&d, 1, &f->b)) {
        rc = xgb_fail(err, "booster");
        goto done;
    }
    char trees[32], sub[32], depth[32], seed[32];
    snprintf(trees, sizeof trees, "%d", p->trees);
    snprintf(sub, sizeof sub, "%.17g", p->subsample);
    snprintf(depth, sizeof depth, "%d", p->max_depth);
    snprintf(seed, sizeof seed, "%d", p->seed);
    const char *kv[][2] = {
        {"booster", "gbtree"},       {"objective", "reg:squarederror"},
        {"num_parallel_tree", trees}, {"subsample", sub},
        {"colsample_bynode", "1"},   {"learning_rate", "1"},
        {"lambda", "0"},             {"max_depth", depth},
        {"tree_method", "exact"},    {"seed", seed},
        {"nthread", "1"},            {"verbosity", "1"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (XGBoosterSetParam(f->b, kv[i][0], kv[i][1])) {
            rc = xgb_fail(err, kv[i][0]);
            goto done;
        }
    if (XGBoosterUpdateOneIter(f->b, 0, d))   /* one round: the forest */
        rc = xgb_fail(err, "training");
done:
    if (d)
        XGDMatrixFree(d);
    free(label);
    if (rc)
        lf_free(f);
    else
        *out = f;
    return rc;
}

int lf_predict(lf_forest *f, const double *x, size_t n, double *out, hb_error *err)
{
    if (n == 0)
        return 0;
    DMatrixHandle d;
    int rc = matrix(x, n, &d, err);
    if (rc)
        return rc;
    bst_ulong len = 0;
    const float *res = NULL;
    if (XGBoosterPredict(f->b, d, 0, 0, 0, &len, &res))
        rc = xgb_fail(err, "prediction");
    else if (len != n)
        rc = hb_fail(err, HB_ERUN, "xgboost: %llu predictions for %zu rows",
                     (unsigned long long)len, n);
    else
        for (size_t i = 0; i < n; i++)
            out[i] = lf_value(&f->p, res[i]);
    XGDMatrixFree(d);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The model's JSON, from a buffer libxgboost owns until its next call on this booster. */
static int model_json(lf_forest *f, const char **buf, bst_ulong *len, hb_error *err)
{
    return XGBoosterSaveModelToBuffer(f->b, "{\"format\": \"json\"}", len, buf)
               ? xgb_fail(err, "saving the model") : 0;
}

int lf_thresholds(lf_forest *f, double **out, size_t *n_out, hb_error *err)
{
    *out = NULL;
    *n_out = 0;
    const char *buf;
    bst_ulong len;
    int rc = model_json(f, &buf, &len, err);
    if (rc)
        return rc;
    cJSON *root = cJSON_ParseWithLength(buf, (size_t)len);
    if (!root)
        return hb_fail(err, HB_ERUN, "xgboost: its model JSON does not parse");
    const cJSON *trees = cJSON_GetObjectItemCaseSensitive(root, "learner");
    trees = cJSON_GetObjectItemCaseSensitive(trees, "gradient_booster");
    trees = cJSON_GetObjectItemCaseSensitive(trees, "model");
    trees = cJSON_GetObjectItemCaseSensitive(trees, "trees");
    double *t = NULL;
    size_t n = 0, cap = 0;
    if (!cJSON_IsArray(trees)) {
        rc = hb_fail(err, HB_ERUN, "xgboost: no learner.gradient_booster.model.trees in its model");
        goto done;
    }
    const cJSON *tree;
    cJSON_ArrayForEach(tree, trees) {
        const cJSON *left = cJSON_GetObjectItemCaseSensitive(tree, "left_children");
        const cJSON *cond = cJSON_GetObjectItemCaseSensitive(tree, "split_conditions");
        const cJSON *feat = cJSON_GetObjectItemCaseSensitive(tree, "split_indices");
        int nodes = cJSON_GetArraySize(left);
        if (!cJSON_IsArray(left) || !cJSON_IsArray(cond) || !cJSON_IsArray(feat) ||
            cJSON_GetArraySize(cond) != nodes || cJSON_GetArraySize(feat) != nodes) {
            rc = hb_fail(err, HB_ERUN, "xgboost: a tree without matching node arrays in its model");
            goto done;
        }
        const cJSON *l = left->child, *c = cond->child, *k = feat->child;
        for (; l && c && k; l = l->next, c = c->next, k = k->next) {
            if (l->valuedouble < 0)
                continue;              /* a leaf: split_conditions holds its value */
            if (k->valuedouble != 0) {
                rc = hb_fail(err, HB_ERUN, "xgboost: a split on feature %g of a one-feature model",
                             k->valuedouble);
                goto done;
            }
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                double *a = realloc(t, nc * sizeof *a);
                if (!a) {
                    rc = hb_fail(err, HB_ENOMEM, "out of memory");
                    goto done;
                }
                t = a;
                cap = nc;
            }
            t[n++] = (double)(float)c->valuedouble;   /* the float the tree compares with */
        }
    }
    if (n > 1) {
        qsort(t, n, sizeof *t, cmp_double);
        size_t w = 1;
        for (size_t i = 1; i < n; i++)
            if (t[i] != t[w - 1])
                t[w++] = t[i];
        n = w;
    }
done:
    cJSON_Delete(root);
    if (rc) {
        free(t);
        return rc;
    }
    *out = t;
    *n_out = n;
    return 0;
}

int lf_export(lf_forest *f, hb_step_fn *out, hb_error *err)
{
    memset(out, 0, sizeof *out);
    double *t;
    size_t n;
    int rc = lf_thresholds(f, &t, &n, err);
    if (rc)
        return rc;
    /* integer x goes left at t iff x < t iff x <= ceil(t) - 1: the right ends of the intervals */
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        double b = ceil(t[i]) - 1;
        if (nb == 0 || b != t[nb - 1])
            t[nb++] = b;               /* in place: b of t[i] is never above t[i] */
    }
    size_t ni = nb + 1;                /* intervals (-inf,b0], (b0,b1], ..., (b_last, inf) */
    double *at = malloc(ni * sizeof *at), *v = malloc(ni * sizeof *v);
    hb_step *s = malloc(ni * sizeof *s);
    if (!at || !v || !s) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nb; i++)
        at[i] = t[i];                  /* the interval's right end is an integer inside it */
    at[nb] = nb ? t[nb - 1] + 1 : 0;
    if ((rc = lf_predict(f, at, ni, v, err)))
        goto done;
    size_t ns = 0;
    for (size_t i = 0; i < ni; i++) {
        double lo = i ? t[i - 1] : -INFINITY, hi = i < nb ? t[i] : INFINITY;
        if (ns && s[ns - 1].v == v[i])
            s[ns - 1].x_le = hi;       /* equal neighbours merge */
        else
            s[ns++] = (hb_step){lo, hi, v[i]};
    }
    out->s = s;
    out->n = ns;
    s = NULL;
done:
    free(t);
    free(at);
    free(v);
    free(s);
    return rc;
}

int lf_save_json(lf_forest *f, const char *path, hb_error *err)
{
    const char *buf;
    bst_ulong len;
    int rc = model_json(f, &buf, &len, err);
    if (rc)
        return rc;
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return hb_fail(err, HB_EIO, "%s: cannot write", path);
    size_t w = fwrite(buf, 1, (size_t)len, fp);
    if (fclose(fp) != 0 || w != (size_t)len)
        return hb_fail(err, HB_EIO, "%s: write failed", path);
    return 0;
}

void lf_library_version(char *buf, size_t len)
{
    int a, b, c;
    XGBoostVersion(&a, &b, &c);
    snprintf(buf, len, "xgboost %d.%d.%d", a, b, c);
}

/* gd.c - gradient-descent: for each of `size` seeded least-squares problems, fit W in Y = W X with
 * SGD-momentum, Adam and RMSprop (see README.md). Matrix products use GSL's BLAS. */
#include "gd.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#define GD_TAG 0x6764                  /* "gd" */

static const char *const method_name[GD_NMETHODS] = {"sgd_momentum", "adam", "rmsprop"};

int gd_problem_new(uint64_t seed, int64_t i, int x_row, int x_col, int w_row, gd_problem *p)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_matrix *wt = gsl_matrix_alloc((size_t)w_row, (size_t)x_row);
    p->x = gsl_matrix_alloc((size_t)x_row, (size_t)x_col);
    p->y = gsl_matrix_alloc((size_t)w_row, (size_t)x_col);
    int rc = -1;
    if (r && wt && p->x && p->y) {
        gsl_rng_set(r, wl_seed(seed, GD_TAG, (uint64_t)i));
        for (size_t k = 0; k < p->x->size1 * p->x->size2; k++)
            p->x->data[k] = gsl_ran_gaussian(r, 1.0);
        for (size_t k = 0; k < wt->size1 * wt->size2; k++)
            wt->data[k] = gsl_ran_gaussian(r, 1.0);
        gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, wt, p->x, 0.0, p->y);
        for (size_t k = 0; k < p->y->size1 * p->y->size2; k++)
            p->y->data[k] += gsl_ran_gaussian(r, 0.01);
        rc = 0;
    }
    gsl_matrix_free(wt);
    gsl_rng_free(r);
    return rc;
}

void gd_problem_free(gd_problem *p)
{
    if (p->x)
        gsl_matrix_free(p->x);
    if (p->y)
        gsl_matrix_free(p->y);
    p->x = p->y = NULL;
}

/* res = Y - W X; returns the loss. */
static double residual(const gd_problem *p, const gsl_matrix *w, gsl_matrix *res)
{
    gsl_matrix_memcpy(res, p->y);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, -1.0, w, p->x, 1.0, res);
    double s = 0;
    for (size_t k = 0; k < res->size1 * res->size2; k++)
        s += res->data[k] * res->data[k];
    return 0.5 * s / (double)p->x->size2;
}

double gd_loss(const gd_problem *p, const gsl_matrix *w)
{
    gsl_matrix *res = gsl_matrix_alloc(p->y->size1, p->y->size2);
    if (!res)
        return -1;
    double l = residual(p, w, res);
    gsl_matrix_free(res);
    return l;
}

double gd_fit(const gd_problem *p, enum gd_method m, int iters, gsl_matrix *w)
{
    size_t n = w->size1 * w->size2;
    gsl_matrix *res = gsl_matrix_alloc(p->y->size1, p->y->size2);
    gsl_matrix *g = gsl_matrix_alloc(w->size1, w->size2);
    double *s1 = calloc(n, sizeof *s1), *s2 = calloc(n, sizeof *s2);   /* optimiser state */
    double loss = -1;
    if (!res || !g || !s1 || !s2)
        goto done;
    gsl_matrix_set_zero(w);
    const double scale = 1.0 / (double)p->x->size2;
    for (int t = 1; t <= iters; t++) {
        residual(p, w, res);
        /* gradient of 1/2 ||Y - W X||^2 / x_col: -(Y - W X) X^T / x_col */
        gsl_blas_dgemm(CblasNoTrans, CblasTrans, -scale, res, p->x, 0.0, g);
        double bc1 = 1 - pow(0.9, t), bc2 = 1 - pow(0.999, t);         /* Adam's bias corrections */
        for (size_t k = 0; k < n; k++) {
            double gk = g->data[k];
            switch (m) {
            case GD_MOMENTUM:          /* v = 0.9 v + lr g; w -= v */
                s1[k] = 0.9 * s1[k] + 0.02 * gk;
                w->data[k] -= s1[k];
                break;
            case GD_ADAM: {            /* lr 0.05, beta 0.9 / 0.999, bias-corrected */
                s1[k] = 0.9 * s1[k] + 0.1 * gk;
                s2[k] = 0.999 * s2[k] + 0.001 * gk * gk;
                double mh = s1[k] / bc1, vh = s2[k] / bc2;
                w->data[k] -= 0.05 * mh / (sqrt(vh) + 1e-8);
                break;
            }
            default:                   /* RMSprop: lr 0.01, rho 0.9 */
                s2[k] = 0.9 * s2[k] + 0.1 * gk * gk;
                w->data[k] -= 0.01 * gk / (sqrt(s2[k]) + 1e-8);
                break;
            }
        }
    }
    loss = residual(p, w, res);
done:
    if (res)
        gsl_matrix_free(res);
    if (g)
        gsl_matrix_free(g);
    free(s1);
    free(s2);
    return loss;
}

/* ---- the function ---- */

typedef struct gd_job {
    uint64_t seed;
    int x_row, x_col, w_row, iters;
    double *loss0;                     /* per problem: the loss at W = 0 */
    double *loss;                      /* per problem and method */
    uint64_t *digest;                  /* per problem: checksum of the three fitted W */
} gd_job;

static int problems(void *arg, int wk, int64_t lo, int64_t hi)
{
    (void)wk;
    gd_job *j = arg;
    gsl_matrix *w = gsl_matrix_alloc((size_t)j->w_row, (size_t)j->x_row);
    int rc = w ? WL_OK : WL_ERUN;
    for (int64_t i = lo; i < hi && rc == WL_OK; i++) {
        gd_problem p = {0};
        if (gd_problem_new(j->seed, i, j->x_row, j->x_col, j->w_row, &p) != 0) {
            rc = WL_ERUN;
        } else {
            gsl_matrix_set_zero(w);
            j->loss0[i] = gd_loss(&p, w);
            uint64_t h = WL_HASH_INIT;
            for (int m = 0; m < GD_NMETHODS && rc == WL_OK; m++) {
                double l = gd_fit(&p, (enum gd_method)m, j->iters, w);
                if (l < 0)
                    rc = WL_ERUN;
                j->loss[i * GD_NMETHODS + m] = l;
                h = wl_hash(h, w->data, w->size1 * w->size2 * sizeof(double));
            }
            j->digest[i] = h;
        }
        gd_problem_free(&p);
    }
    if (w)
        gsl_matrix_free(w);
    return rc;
}

static int gd_run(const wl_call *c, wl_out *out)
{
    int64_t xr, xc, wr, iters;
    if (wl_param_int(c, "x_row", 20, 1, 1000, &xr, out) ||
        wl_param_int(c, "x_col", 20, 1, 1000, &xc, out) ||
        wl_param_int(c, "w_row", 40, 1, 1000, &wr, out) ||
        wl_param_int(c, "iterations", 1000, 1, 1000000, &iters, out))
        return out->code;
    gd_job j = {c->seed, (int)xr, (int)xc, (int)wr, (int)iters, NULL, NULL, NULL};
    j.loss0 = malloc((size_t)c->size * sizeof *j.loss0);
    j.loss = malloc((size_t)c->size * GD_NMETHODS * sizeof *j.loss);
    j.digest = malloc((size_t)c->size * sizeof *j.digest);
    if (!j.loss0 || !j.loss || !j.digest) {
        wl_fail(out, WL_ERUN, "out of memory");
    } else if (wl_parallel_for(c->size, c->parallel, problems, &j) != WL_OK) {
        wl_fail(out, WL_ERUN, "out of memory fitting");
    } else {
        uint64_t h = WL_HASH_INIT;
        double l0 = 0, lm[GD_NMETHODS] = {0};
        for (int64_t i = 0; i < c->size; i++) {
            h = wl_hash_u64(h, j.digest[i]);
            l0 += j.loss0[i] / (double)c->size;
            for (int m = 0; m < GD_NMETHODS; m++)
                lm[m] += j.loss[i * GD_NMETHODS + m] / (double)c->size;
        }
        json_t *fin = json_object();
        for (int m = 0; m < GD_NMETHODS; m++)
            json_object_set_new(fin, method_name[m], json_real(lm[m]));
        out->checksum = h;
        json_object_set_new(out->answer, "problems", json_integer((json_int_t)c->size));
        json_object_set_new(out->answer, "iterations", json_integer((json_int_t)iters));
        json_object_set_new(out->answer, "initial_loss", json_real(l0));
        json_object_set_new(out->answer, "final_loss", fin);
    }
    free(j.loss0);
    free(j.loss);
    free(j.digest);
    return out->code;
}

const wl_function wl_fn_gd = {
    .id = "gd",
    .summary = "fit W*X = Y (40x20, 20x20) with SGD-momentum, Adam and RMSprop, size problems",
    .default_size = 10,
    .max_size = 100000,
    .default_parallel = 8,
    .run = gd_run,
};

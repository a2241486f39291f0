/* workload_fit.c - the least-squares fit of the `measured` workload model (workload_fit.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_multifit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "workload_fit.h"

#define MAX_SIZES 64                   /* distinct sizes a curve is fitted over */

static double model(const double c[3], double x)
{
    return c[0] + c[1] * x + (x >= 1 ? c[2] * x * log2(x) : 0);
}

/* Weighted least squares of y on 1, x (and x log2 x when p = 3), weights 1/y^2 (relative error).
 * Returns 0 with the coefficients, or -1. */
static int wls(const double *x, const double *y, size_t n, size_t p, double c[3])
{
    c[0] = c[1] = c[2] = 0;
    if (n < p)
        return -1;
    gsl_matrix *X = gsl_matrix_alloc(n, p), *cov = gsl_matrix_alloc(p, p);
    gsl_vector *Y = gsl_vector_alloc(n), *W = gsl_vector_alloc(n), *C = gsl_vector_alloc(p);
    gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, p);
    int rc = -1;
    if (X && cov && Y && W && C && ws) {
        for (size_t i = 0; i < n; i++) {
            gsl_matrix_set(X, i, 0, 1.0);
            if (p > 1)
                gsl_matrix_set(X, i, 1, x[i]);
            if (p > 2)
                gsl_matrix_set(X, i, 2, x[i] >= 1 ? x[i] * log2(x[i]) : 0);
            gsl_vector_set(Y, i, y[i]);
            gsl_vector_set(W, i, 1.0 / fmax(y[i] * y[i], 1e-12));
        }
        double chisq;
        size_t rank;
        /* the SVD-based solver tolerates nearly collinear columns (few sizes) */
        if (gsl_multifit_wlinear_tsvd(X, W, Y, 1e-10, C, cov, &chisq, &rank, ws) == 0) {
            for (size_t k = 0; k < p; k++)
                c[k] = gsl_vector_get(C, k);
            rc = 0;
        }
    }
    gsl_matrix_free(X);
    gsl_matrix_free(cov);
    gsl_vector_free(Y);
    gsl_vector_free(W);
    gsl_vector_free(C);
    if (ws)
        gsl_multifit_linear_free(ws);
    return rc;
}

/* A fit is usable when it is positive and does not decrease over the measured sizes and an
 * extrapolation to 10x the largest. */
static int usable(const double c[3], const double *xs, size_t nx)
{
    double xmax = 0;
    for (size_t i = 0; i < nx; i++)
        xmax = fmax(xmax, xs[i]);
    double prev = -INFINITY;
    for (size_t i = 0; i <= nx; i++) {
        double x = i < nx ? xs[i] : 10 * xmax, v = model(c, x);
        if (!(v > 0) || v < prev - 1e-12 * fabs(prev))
            return 0;
        prev = v;
    }
    return 1;
}

/* The distinct values of x (at most MAX_SIZES), ascending. */
static size_t distinct(const double *x, size_t n, double xs[MAX_SIZES])
{
    size_t nx = 0;
    for (size_t i = 0; i < n && nx < MAX_SIZES; i++) {
        int seen = 0;
        for (size_t k = 0; k < nx; k++)
            seen |= xs[k] == x[i];
        if (!seen)
            xs[nx++] = x[i];
    }
    gsl_sort(xs, 1, nx);
    return nx;
}

static double median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    gsl_sort(v, 1, n);
    return gsl_stats_median_from_sorted_data(v, 1, n);
}

/* The proportional fit b*x, relative-weighted: b = sum(x y / y^2) / sum(x^2 / y^2). Written out
 * rather than gsl_fit_wmul, whose weighted-mean formulation rounds differently: the closed form
 * keeps every profile written before byte-identical (the file holds %.17g). */
static double proportional(const double *x, const double *y, size_t n)
{
    double sw = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        sw += x[i] / (y[i] * y[i]) * x[i];
        sxy += x[i] / (y[i] * y[i]) * y[i];
    }
    return sw > 0 ? sxy / sw : 0;
}

int hb_fit_exec_curve(const double *x, const double *y, size_t n, int nlogn, hb_profile_curve *cv,
                      const char **kind, hb_error *err)
{
    double xs[MAX_SIZES];
    size_t nx = distinct(x, n, xs);
    double c[3] = {0, 0, 0};
    *kind = NULL;
    if (nlogn && nx >= 3 && wls(x, y, n, 3, c) == 0 && usable(c, xs, nx))
        *kind = "a+b*x+c*x*log2(x)";
    if (!*kind && nx >= 2 && wls(x, y, n, 2, c) == 0 && usable(c, xs, nx))
        *kind = "a+b*x";
    if (!*kind && nx >= 2) {
        c[0] = 0;
        c[1] = proportional(x, y, n);
        c[2] = 0;
        if (usable(c, xs, nx))
            *kind = "b*x";
    }
    if (!*kind) {                      /* flat (or too few sizes): the median */
        double *t = malloc(n * sizeof *t);
        if (!t)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        memcpy(t, y, n * sizeof *t);
        c[0] = median(t, n);
        free(t);
        *kind = "constant";
        return hb_profile_curve_add(cv, -INFINITY, INFINITY, c[0], 0, 0, err);
    }
    int rc = hb_profile_curve_add(cv, -INFINITY, xs[0], model(c, xs[0]), 0, 0, err);
    if (rc == HB_OK)
        rc = hb_profile_curve_add(cv, xs[0], INFINITY, c[0], c[1], c[2], err);
    return rc;
}

/* Memory: constant below the smallest size; above the largest it continues the last segment when
 * that rose with the data (the worker count stayed the same), else it stays flat. A global line
 * would not do: several functions' memory grows with their worker count, then stays flat once
 * every worker has an item. */
int hb_fit_memory_curve(const double *x, const double *y, const int *workers, size_t n,
                        hb_profile_curve *cv, hb_error *err)
{
    int wmax[MAX_SIZES] = {0};
    double xs[MAX_SIZES], ms[MAX_SIZES], t[256];
    size_t nx = distinct(x, n, xs);
    for (size_t k = 0; k < nx; k++) {
        size_t nt = 0;
        for (size_t i = 0; i < n && nt < 256; i++)
            if (x[i] == xs[k]) {
                t[nt++] = y[i];
                wmax[k] = workers[i] > wmax[k] ? workers[i] : wmax[k];
            }
        ms[k] = median(t, nt);
    }
    if (nx == 0)
        return hb_fail(err, HB_ERUN, "no measurements to fit");
    int rc = hb_profile_curve_add(cv, -INFINITY, nx > 1 ? xs[0] : INFINITY, ms[0], 0, 0, err);
    for (size_t k = 0; k + 1 < nx && rc == HB_OK; k++) {
        double b = (ms[k + 1] - ms[k]) / (xs[k + 1] - xs[k]), a = ms[k] - b * xs[k];
        if (k + 2 == nx && (b < 0 || wmax[k + 1] > wmax[k]))   /* the tail: flat */
            rc = hb_profile_curve_add(cv, xs[k], INFINITY, ms[k + 1], 0, 0, err);
        else
            rc = hb_profile_curve_add(cv, xs[k], k + 2 == nx ? INFINITY : xs[k + 1], a, b, 0, err);
    }
    return rc;
}

/* parallelism per measured size, piecewise constant (the value of each size covers the interval
 * that ends at it; the last one also everything above). par_at[] receives the values. */
static int fit_parallelism(const hb_fit_grid *g, const hb_fit_run *runs, size_t nr, double *tmp,
                           hb_profile_func *pf, double *par_at, hb_error *err)
{
    double ref = g->cpus[g->ncpus - 1];
    int rc = HB_OK;
    for (int si = 0; si < g->nsizes && rc == HB_OK; si++) {
        size_t k = 0;
        int workers = 1, autop = 0, quiet = 0;
        for (size_t i = 0; i < nr; i++)
            if (runs[i].cores == ref && runs[i].size == g->sizes[si]) {
                workers = runs[i].workers > workers ? runs[i].workers : workers;
                autop |= runs[i].parallel_auto;
                /* a run while other work held cores says nothing about what the function can
                 * use: only runs on an otherwise quiet machine count */
                if (!isnan(runs[i].other_load) && runs[i].other_load < 0.2) {
                    tmp[k++] = runs[i].cpu_s / runs[i].total_s;
                    quiet++;
                }
            }
        double eff = quiet ? median(tmp, k) : INFINITY;
        double structural = autop && g->cpu_quota ? HB_FIT_CPU_CAP : workers;
        par_at[si] = eff >= fmin(structural, ref) - 0.25 ? structural : fmax(eff, 0.05);
        par_at[si] = round(par_at[si] * 100) / 100;
        double gt = si == 0 ? -INFINITY : (double)g->sizes[si - 1];
        double le = si == g->nsizes - 1 ? INFINITY : (double)g->sizes[si];
        rc = hb_profile_curve_add(&pf->parallelism, gt, le, par_at[si], 0, 0, err);
    }
    return rc;
}

/* cv: per point with repeats, sd/mean of the CPU time; the median over points (the larger points
 * when there are any over 50 ms, since tiny runs are dominated by start-up noise). */
static double fit_cv(const hb_fit_grid *g, const hb_fit_run *runs, size_t nr)
{
    double cvs[256];
    size_t ncv = 0;
    for (int pass = 0; pass < 2 && ncv == 0; pass++)
        for (int si = 0; si < g->nsizes; si++)
            for (int ci = 0; ci < g->ncpus; ci++) {
                double v[100];
                size_t nv = 0;
                for (size_t i = 0; i < nr && nv < 100; i++)
                    if (runs[i].size == g->sizes[si] && runs[i].cores == g->cpus[ci])
                        v[nv++] = runs[i].cpu_s;
                double mean = nv ? gsl_stats_mean(v, 1, nv) : 0;
                if (nv >= 2 && mean > 0 && (pass == 1 || mean >= 0.05) && ncv < 256)
                    cvs[ncv++] = gsl_stats_sd(v, 1, nv) / mean;
            }
    return ncv ? fmin(2, median(cvs, ncv)) : 0.05;
}

/* The constants; *nramp receives how many runs gave a memory ramp. */
static int fit_constants(const hb_fit_grid *g, const hb_fit_run *runs, size_t nr, double *tmp,
                         hb_profile_func *pf, size_t *nramp, hb_error *err)
{
    size_t k = 0;
    for (size_t i = 0; i < nr; i++)
        tmp[k++] = fmax(0, runs[i].total_s - runs[i].wall_s);
    pf->cold_start_s = median(tmp, k);
    pf->cv = fit_cv(g, runs, nr);
    /* memory shape: from the runs at the largest size (the most samples) */
    size_t ks = 0, kr = 0;
    double *ramp = malloc((nr ? nr : 1) * sizeof *ramp);
    if (!ramp)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    for (size_t i = 0; i < nr; i++)
        if (runs[i].size == g->sizes[g->nsizes - 1]) {
            if (!isnan(runs[i].mem_start_frac))
                tmp[ks++] = runs[i].mem_start_frac;
            if (!isnan(runs[i].ramp_frac))
                ramp[kr++] = runs[i].ramp_frac;
        }
    pf->mem_start_frac = ks ? fmin(1, fmax(0, median(tmp, ks))) : 0.1;
    pf->mem_ramp_frac = kr ? fmin(1, fmax(0, median(ramp, kr))) : 0.5;
    free(ramp);
    *nramp = kr;
    return HB_OK;
}

static void summarize(const hb_fit_grid *g, const hb_fit_run *runs, size_t nr,
                      const hb_profile_func *pf, const char *kexec, const double *par_at,
                      size_t nramp, char *summary, size_t sumlen)
{
    int contended = 0;
    for (size_t i = 0; i < nr; i++)
        contended += !isnan(runs[i].other_load) && runs[i].other_load > g->max_others;
    const hb_profile_piece *last = &pf->exec_s.p[pf->exec_s.n - 1];
    int64_t s0 = g->sizes[0], s1 = g->sizes[g->nsizes - 1];
    snprintf(summary, sumlen, "%s: exec_s %s (%.4g, %.4g, %.4g); mem_peak_mb %.1f..%.1f MB "
             "over sizes %lld..%lld; parallelism %.2f..%.2f; cold_start_s %.4f; cv %.3f; "
             "mem_start_frac %.2f; mem_ramp_frac %.2f%s; %d of %zu runs disturbed by other "
             "work", g->id, kexec, last->a, last->b, last->c,
             hb_profile_eval(&pf->mem_peak_mb, (double)s0),
             hb_profile_eval(&pf->mem_peak_mb, (double)s1), (long long)s0, (long long)s1,
             par_at[0], par_at[g->nsizes - 1], pf->cold_start_s, pf->cv, pf->mem_start_frac,
             pf->mem_ramp_frac, nramp ? "" : " (ramp: too few samples, default)", contended, nr);
}

/* exec_s and mem_peak_mb from the runs at the reference limit. */
static int fit_curves(const hb_fit_grid *g, const hb_fit_run *runs, size_t nr, hb_profile_func *pf,
                      const char **kexec, hb_error *err)
{
    double ref = g->cpus[g->ncpus - 1];
    size_t sz = nr ? nr : 1;
    double *x = malloc(sz * sizeof *x), *y = malloc(sz * sizeof *y), *m = malloc(sz * sizeof *m);
    int *wk = malloc(sz * sizeof *wk);
    int rc = x && y && m && wk ? HB_OK : hb_fail(err, HB_ENOMEM, "out of memory");
    size_t nref = 0;
    for (size_t i = 0; rc == HB_OK && i < nr; i++)
        if (runs[i].cores == ref) {
            x[nref] = (double)runs[i].size;
            y[nref] = runs[i].wall_s;
            m[nref] = runs[i].mem_peak_mb;
            wk[nref] = runs[i].workers;
            nref++;
        }
    if (rc == HB_OK)
        rc = hb_fit_exec_curve(x, y, nref, g->nlogn, &pf->exec_s, kexec, err);
    if (rc == HB_OK)
        rc = hb_fit_memory_curve(x, m, wk, nref, &pf->mem_peak_mb, err);
    free(x);
    free(y);
    free(m);
    free(wk);
    return rc;
}

int hb_workload_fit(const hb_fit_grid *g, const hb_fit_run *runs, size_t nr, hb_profile_func *pf,
                    char *summary, size_t sumlen, hb_error *err)
{
    if (g->nsizes < 1 || g->nsizes > 16 || g->ncpus < 1)
        return hb_fail(err, HB_EINPUT, "the grid needs 1 to 16 sizes and a CPU limit");
    memset(pf, 0, sizeof *pf);
    pf->present = 1;
    pf->ref_cores = g->cpus[g->ncpus - 1];
    const char *kexec = NULL;
    double par_at[16];
    size_t nramp = 0;
    double *tmp = malloc((nr ? nr : 1) * sizeof *tmp);
    int rc = tmp ? HB_OK : hb_fail(err, HB_ENOMEM, "out of memory");
    if (rc == HB_OK)
        rc = fit_curves(g, runs, nr, pf, &kexec, err);
    if (rc == HB_OK)
        rc = fit_parallelism(g, runs, nr, tmp, pf, par_at, err);
    if (rc == HB_OK)
        rc = fit_constants(g, runs, nr, tmp, pf, &nramp, err);
    if (rc == HB_OK)
        summarize(g, runs, nr, pf, kexec, par_at, nramp, summary, sumlen);
    free(tmp);
    return rc;
}

/* mlp.c - MLP forward and backward passes on GSL's BLAS, and Adam. See mlp.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>

#include "mlp.h"

static int max_width(const freyr_mlp *m)
{
    int w = 0;
    for (int l = 0; l <= m->n_layers; l++)
        if (m->sizes[l] > w)
            w = m->sizes[l];
    return w;
}

int freyr_mlp_init(freyr_mlp *m, const int *sizes, int n_layers, gsl_rng *rng, hb_error *err)
{
    memset(m, 0, sizeof *m);
    if (n_layers < 1 || n_layers > FREYR_MLP_MAX_LAYERS)
        return hb_fail(err, HB_EINPUT, "mlp: %d layers (1..%d)", n_layers, FREYR_MLP_MAX_LAYERS);
    m->n_layers = n_layers;
    size_t n = 0;
    for (int l = 0; l <= n_layers; l++) {
        if (sizes[l] < 1 || sizes[l] > 4096)
            return hb_fail(err, HB_EINPUT, "mlp: layer width %d out of range", sizes[l]);
        m->sizes[l] = sizes[l];
    }
    for (int l = 0; l < n_layers; l++) {
        m->off_w[l] = n;
        n += (size_t)sizes[l + 1] * (size_t)sizes[l];
        m->off_b[l] = n;
        n += (size_t)sizes[l + 1];
    }
    m->n_params = n;
    m->w = calloc(n, sizeof *m->w);
    m->g = calloc(n, sizeof *m->g);
    if (!m->w || !m->g) {
        freyr_mlp_free(m);
        return hb_fail(err, HB_ENOMEM, "mlp: out of memory");
    }
    if (rng) {
        for (int l = 0; l < n_layers; l++) {
            double bound = 1.0 / sqrt((double)sizes[l]);
            size_t nw = (size_t)sizes[l + 1] * (size_t)sizes[l];
            for (size_t i = 0; i < nw; i++)
                m->w[m->off_w[l] + i] = (2.0 * gsl_rng_uniform(rng) - 1.0) * bound;
            for (int i = 0; i < sizes[l + 1]; i++)
                m->w[m->off_b[l] + (size_t)i] = (2.0 * gsl_rng_uniform(rng) - 1.0) * bound;
        }
    }
    return 0;
}

void freyr_mlp_free(freyr_mlp *m)
{
    free(m->w);
    free(m->g);
    for (int l = 0; l <= FREYR_MLP_MAX_LAYERS; l++)
        free(m->act[l]);
    free(m->delta[0]);
    free(m->delta[1]);
    memset(m, 0, sizeof *m);
}

int freyr_mlp_copy(freyr_mlp *dst, const freyr_mlp *src, hb_error *err)
{
    int rc = freyr_mlp_init(dst, src->sizes, src->n_layers, NULL, err);
    if (rc)
        return rc;
    memcpy(dst->w, src->w, src->n_params * sizeof *src->w);
    return 0;
}

static int reserve_batch(freyr_mlp *m, size_t batch, hb_error *err)
{
    if (batch <= m->batch_cap)
        return 0;
    size_t cap = m->batch_cap ? m->batch_cap : 64;
    while (cap < batch)
        cap *= 2;
    for (int l = 0; l <= m->n_layers; l++) {
        double *p = realloc(m->act[l], cap * (size_t)m->sizes[l] * sizeof *p);
        if (!p)
            return hb_fail(err, HB_ENOMEM, "mlp: out of memory for a batch of %zu", batch);
        m->act[l] = p;
    }
    for (int k = 0; k < 2; k++) {
        double *p = realloc(m->delta[k], cap * (size_t)max_width(m) * sizeof *p);
        if (!p)
            return hb_fail(err, HB_ENOMEM, "mlp: out of memory for a batch of %zu", batch);
        m->delta[k] = p;
    }
    m->batch_cap = cap;
    return 0;
}

const double *freyr_mlp_forward(freyr_mlp *m, const double *x, size_t batch, hb_error *err)
{
    if (batch == 0) {
        hb_fail(err, HB_EINPUT, "mlp: empty batch");
        return NULL;
    }
    if (reserve_batch(m, batch, err))
        return NULL;
    m->batch = batch;
    memcpy(m->act[0], x, batch * (size_t)m->sizes[0] * sizeof *x);
    for (int l = 0; l < m->n_layers; l++) {
        size_t in = (size_t)m->sizes[l], out = (size_t)m->sizes[l + 1];
        gsl_matrix_const_view a = gsl_matrix_const_view_array(m->act[l], batch, in);
        gsl_matrix_const_view wv = gsl_matrix_const_view_array(m->w + m->off_w[l], out, in);
        gsl_matrix_view z = gsl_matrix_view_array(m->act[l + 1], batch, out);
        /* Z = b (each row), then Z += A W^T */
        const double *b = m->w + m->off_b[l];
        for (size_t i = 0; i < batch; i++)
            memcpy(m->act[l + 1] + i * out, b, out * sizeof *b);
        gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, &a.matrix, &wv.matrix, 1.0, &z.matrix);
        if (l < m->n_layers - 1)
            for (size_t i = 0; i < batch * out; i++)
                m->act[l + 1][i] = tanh(m->act[l + 1][i]);
    }
    return m->act[m->n_layers];
}

void freyr_mlp_zero_grad(freyr_mlp *m)
{
    memset(m->g, 0, m->n_params * sizeof *m->g);
}

void freyr_mlp_backward(freyr_mlp *m, const double *dout)
{
    size_t batch = m->batch;
    double *dz = m->delta[0], *da = m->delta[1];
    memcpy(dz, dout, batch * (size_t)m->sizes[m->n_layers] * sizeof *dout);
    for (int l = m->n_layers - 1; l >= 0; l--) {
        size_t in = (size_t)m->sizes[l], out = (size_t)m->sizes[l + 1];
        gsl_matrix_const_view dzv = gsl_matrix_const_view_array(dz, batch, out);
        gsl_matrix_const_view a = gsl_matrix_const_view_array(m->act[l], batch, in);
        gsl_matrix_view gw = gsl_matrix_view_array(m->g + m->off_w[l], out, in);
        /* dW += dZ^T A;  db += column sums of dZ */
        gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &dzv.matrix, &a.matrix, 1.0, &gw.matrix);
        double *gb = m->g + m->off_b[l];
        for (size_t i = 0; i < batch; i++)
            for (size_t j = 0; j < out; j++)
                gb[j] += dz[i * out + j];
        if (l == 0)
            break;
        /* dA = dZ W, then through tanh: dZ_prev = dA * (1 - A^2) */
        gsl_matrix_const_view wv = gsl_matrix_const_view_array(m->w + m->off_w[l], out, in);
        gsl_matrix_view dav = gsl_matrix_view_array(da, batch, in);
        gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &dzv.matrix, &wv.matrix, 0.0, &dav.matrix);
        for (size_t i = 0; i < batch * in; i++) {
            double y = m->act[l][i];
            da[i] *= 1.0 - y * y;
        }
        double *t = dz;
        dz = da;
        da = t;
    }
}

int freyr_adam_init(freyr_adam *a, size_t n, double lr, hb_error *err)
{
    memset(a, 0, sizeof *a);
    a->m = calloc(n ? n : 1, sizeof *a->m);
    a->v = calloc(n ? n : 1, sizeof *a->v);
    if (!a->m || !a->v) {
        freyr_adam_free(a);
        return hb_fail(err, HB_ENOMEM, "adam: out of memory");
    }
    a->n = n;
    a->lr = lr;
    a->beta1 = 0.9;
    a->beta2 = 0.999;
    a->eps = 1e-8;
    return 0;
}

void freyr_adam_free(freyr_adam *a)
{
    free(a->m);
    free(a->v);
    memset(a, 0, sizeof *a);
}

void freyr_adam_step(freyr_adam *a, double *w, const double *g)
{
    a->t++;
    double c1 = 1.0 - pow(a->beta1, (double)a->t);
    double c2 = 1.0 - pow(a->beta2, (double)a->t);
    for (size_t i = 0; i < a->n; i++) {
        a->m[i] = a->beta1 * a->m[i] + (1.0 - a->beta1) * g[i];
        a->v[i] = a->beta2 * a->v[i] + (1.0 - a->beta2) * g[i] * g[i];
        double mh = a->m[i] / c1, vh = a->v[i] / c2;
        w[i] -= a->lr * mh / (sqrt(vh) + a->eps);
    }
}

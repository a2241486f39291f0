/* mlp.h - a small multilayer perceptron with its gradients, and the Adam optimiser.
 *
 * Hand-written (no packaged C library offers a trainable MLP) on GSL's BLAS: every layer is one
 * gsl_blas_dgemm over a whole batch. Hidden layers use tanh, the last layer is linear.
 * Parameters and gradients live in flat arrays (per layer: W, out x in row-major, then b), so the
 * optimiser and the checkpoint see one vector.
 *
 * Use: forward(batch) keeps the activations of that batch; backward(dout) then adds the gradient of
 * sum_i dout_i * out_i with respect to every parameter into g (call zero_grad first). */
#ifndef FREYR_MLP_H
#define FREYR_MLP_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "hb_error.h"

#define FREYR_MLP_MAX_LAYERS 4         /* weight layers */

typedef struct freyr_mlp {
    int n_layers;                      /* weight layers */
    int sizes[FREYR_MLP_MAX_LAYERS + 1]; /* sizes[0] inputs ... sizes[n_layers] outputs */
    size_t n_params;
    size_t off_w[FREYR_MLP_MAX_LAYERS], off_b[FREYR_MLP_MAX_LAYERS];
    double *w;                         /* parameters */
    double *g;                         /* gradients, same layout */

    /* activations of the last forward batch: act[0] is the input copy, act[l] the output of layer l */
    size_t batch, batch_cap;
    double *act[FREYR_MLP_MAX_LAYERS + 1];
    double *delta[2];                  /* backward scratch, batch_cap x max width */
} freyr_mlp;

/* sizes: n_layers + 1 widths. Weights uniform in +-1/sqrt(fan_in) (PyTorch's default for Linear),
 * drawn from rng in layer order. */
int freyr_mlp_init(freyr_mlp *m, const int *sizes, int n_layers, gsl_rng *rng, hb_error *err);
void freyr_mlp_free(freyr_mlp *m);
int freyr_mlp_copy(freyr_mlp *dst, const freyr_mlp *src, hb_error *err);

/* x: batch x sizes[0] row-major. Returns the output (batch x sizes[n_layers]), owned by m and valid
 * until the next forward; NULL with err on allocation failure. */
const double *freyr_mlp_forward(freyr_mlp *m, const double *x, size_t batch, hb_error *err);
void freyr_mlp_zero_grad(freyr_mlp *m);
/* dout: batch x outputs, for the batch of the last forward. */
void freyr_mlp_backward(freyr_mlp *m, const double *dout);

/* Adam (Kingma and Ba), bias-corrected. */
typedef struct freyr_adam {
    size_t n;
    double *m, *v;
    long t;
    double lr, beta1, beta2, eps;
} freyr_adam;

int freyr_adam_init(freyr_adam *a, size_t n, double lr, hb_error *err);
void freyr_adam_free(freyr_adam *a);
void freyr_adam_step(freyr_adam *a, double *w, const double *g);

#endif

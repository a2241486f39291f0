/* gd.h - gradient-descent (see README.md). The pieces are public for the tests. */
#ifndef WL_GD_H
#define WL_GD_H

#include <stdint.h>

#include <gsl/gsl_matrix.h>

#include "runtime.h"

extern const wl_function wl_fn_gd;

enum gd_method { GD_MOMENTUM, GD_ADAM, GD_RMSPROP, GD_NMETHODS };

typedef struct gd_problem {
    gsl_matrix *x;                     /* x_row x x_col */
    gsl_matrix *y;                     /* w_row x x_col: W_true * X + noise */
} gd_problem;

/* Draws problem i: X ~ N(0,1), W_true ~ N(0,1) (w_row x x_row), Y = W_true X + N(0, 0.01^2). */
int gd_problem_new(uint64_t seed, int64_t i, int x_row, int x_col, int w_row, gd_problem *p);
void gd_problem_free(gd_problem *p);

/* The loss 1/2 ||Y - W X||_F^2 / x_col. */
double gd_loss(const gd_problem *p, const gsl_matrix *w);

/* Minimises the loss from W = 0 with `iters` full-gradient steps of the method; W (w_row x x_row)
 * receives the result. Returns the final loss, or a negative value out of memory. */
double gd_fit(const gd_problem *p, enum gd_method m, int iters, gsl_matrix *w);

#endif

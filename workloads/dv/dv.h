/* dv.h - dna-visualization (see README.md). The pieces are public for the tests. */
#ifndef WL_DV_H
#define WL_DV_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

#define DV_IMG_W 1024                  /* the rendered plot, 8-bit grey */
#define DV_IMG_H 256

extern const wl_function wl_fn_dv;

/* A seeded gene of n bases (ACGT), NUL-terminated in seq[n]: a Markov chain with runs and repeats. */
void dv_gene(uint64_t seed, int which, size_t n, char *seq);

/* The squiggle transform: from (0, 0), each base adds two points, half a unit apart in x:
 *   A: up 0.5, back     C: down 0.5, back     G: up 0.5, up 0.5     T: down 0.5, down 0.5
 * (other letters: flat). x and y receive 2n+1 values. */
void dv_squiggle(const char *seq, size_t n, double *x, double *y);

/* Draws the polyline (x, y) of m points, scaled to fill the image, into img (DV_IMG_W x DV_IMG_H,
 * cleared first): 255 on the line. */
void dv_plot(const double *x, const double *y, size_t m, uint8_t *img);

#endif

/* knn.h - k-nearest-neighbors (see README.md). The pieces are public for the tests. */
#ifndef WL_KNN_H
#define WL_KNN_H

#include <stdint.h>

#include "runtime.h"

#define KNN_MAX_K 64

extern const wl_function wl_fn_knn;

typedef struct knn_set {
    int n, dim, classes;
    double *x;                         /* n x dim, row-major */
    int *label;                        /* n */
    double *query;                     /* dim */
    int query_label;                   /* the class the query was drawn from */
} knn_set;

/* Allocates a set's arrays (free with knn_set_free). Returns 0 or -1. */
int knn_set_alloc(knn_set *s, int n, int dim, int classes);
void knn_set_free(knn_set *s);

/* Draws query q's fresh dataset: per class a centre with N(0,1) coordinates, each point a uniform
 * class's centre plus N(0, 5^2) noise (GSL's ziggurat); the query likewise. */
void knn_draw(uint64_t seed, int64_t q, knn_set *s);

/* The k nearest points to the query (squared Euclidean distance, ties to the lower index), in
 * increasing distance: idx[k], dist[k]. */
void knn_nearest(const knn_set *s, int k, int *idx, double *dist);

/* The majority label among the k neighbours; a tie goes to the label of the nearest among them. */
int knn_vote(const knn_set *s, int k, const int *idx);

#endif

/* knn.c - k-nearest-neighbors: for each of `size` queries, draw a fresh labelled dataset, find the
 * k nearest points and vote (see README.md). */
#include "knn.h"

#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#define KNN_TAG 0x6b6e6e               /* "knn" */
#define KNN_NOISE 5.0                  /* sd of the points around their class centre */

int knn_set_alloc(knn_set *s, int n, int dim, int classes)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->dim = dim;
    s->classes = classes;
    s->x = malloc((size_t)n * (size_t)dim * sizeof *s->x);
    s->label = malloc((size_t)n * sizeof *s->label);
    s->query = malloc((size_t)dim * sizeof *s->query);
    return s->x && s->label && s->query ? 0 : -1;
}

void knn_set_free(knn_set *s)
{
    free(s->x);
    free(s->label);
    free(s->query);
    memset(s, 0, sizeof *s);
}

void knn_draw(uint64_t seed, int64_t q, knn_set *s)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double *centre = malloc((size_t)s->classes * (size_t)s->dim * sizeof *centre);
    if (!r || !centre) {
        gsl_rng_free(r);
        free(centre);
        return;
    }
    gsl_rng_set(r, wl_seed(seed, KNN_TAG, (uint64_t)q));
    for (int i = 0; i < s->classes * s->dim; i++)
        centre[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    for (int i = 0; i <= s->n; i++) {  /* i == n: the query */
        int c = (int)gsl_rng_uniform_int(r, (unsigned long)s->classes);
        double *p = i < s->n ? s->x + (size_t)i * (size_t)s->dim : s->query;
        for (int d = 0; d < s->dim; d++)
            p[d] = centre[c * s->dim + d] + gsl_ran_gaussian_ziggurat(r, KNN_NOISE);
        if (i < s->n)
            s->label[i] = c;
        else
            s->query_label = c;
    }
    free(centre);
    gsl_rng_free(r);
}

void knn_nearest(const knn_set *s, int k, int *idx, double *dist)
{
    int have = 0;
    for (int i = 0; i < s->n; i++) {
        const double *p = s->x + (size_t)i * (size_t)s->dim;
        double d2 = 0;
        for (int d = 0; d < s->dim; d++) {
            double t = p[d] - s->query[d];
            d2 += t * t;
        }
        if (have == k && d2 >= dist[k - 1])
            continue;
        /* insert, keeping increasing distance; an equal distance stays after (lower index first) */
        int at = have < k ? have++ : k - 1;
        while (at > 0 && dist[at - 1] > d2) {
            dist[at] = dist[at - 1];
            idx[at] = idx[at - 1];
            at--;
        }
        dist[at] = d2;
        idx[at] = i;
    }
}

int knn_vote(const knn_set *s, int k, const int *idx)
{
    int best = s->label[idx[0]], best_votes = 0;
    for (int a = 0; a < k; a++) {
        int l = s->label[idx[a]], votes = 0;
        for (int b = 0; b < k; b++)
            votes += s->label[idx[b]] == l;
        if (votes > best_votes) {      /* strictly more: ties keep the nearer neighbour's label */
            best = l;
            best_votes = votes;
        }
    }
    return best;
}

/* ---- the function ---- */

typedef struct knn_job {
    uint64_t seed;
    int n, dim, classes, k;
    int *pred, *truth;
    uint64_t *digest;
} knn_job;

static int queries(void *arg, int w, int64_t lo, int64_t hi)
{
    (void)w;
    knn_job *j = arg;
    knn_set s;
    if (knn_set_alloc(&s, j->n, j->dim, j->classes) != 0) {
        knn_set_free(&s);
        return WL_ERUN;
    }
    for (int64_t q = lo; q < hi; q++) {
        int idx[KNN_MAX_K];
        double dist[KNN_MAX_K];
        knn_draw(j->seed, q, &s);
        knn_nearest(&s, j->k, idx, dist);
        j->pred[q] = knn_vote(&s, j->k, idx);
        j->truth[q] = s.query_label;
        uint64_t h = wl_hash(WL_HASH_INIT, idx, (size_t)j->k * sizeof *idx);
        j->digest[q] = wl_hash(h, dist, (size_t)j->k * sizeof *dist);
    }
    knn_set_free(&s);
    return WL_OK;
}

static int knn_run(const wl_call *c, wl_out *out)
{
    int64_t n, dim, k, classes;
    if (wl_param_int(c, "dataset_size", 1000, 1, 1000000, &n, out) ||
        wl_param_int(c, "feature_dim", 800, 1, 100000, &dim, out) ||
        wl_param_int(c, "k", 3, 1, KNN_MAX_K, &k, out) ||
        wl_param_int(c, "classes", 10, 2, 1000, &classes, out))
        return out->code;
    if (k > n)
        return wl_fail(out, WL_EINPUT, "k: must be at most dataset_size (%lld)", (long long)n);
    if (n * dim > 50000000)
        return wl_fail(out, WL_EINPUT, "dataset_size x feature_dim: at most 5e7 per query");
    knn_job j = {c->seed, (int)n, (int)dim, (int)classes, (int)k, NULL, NULL, NULL};
    j.pred = malloc((size_t)c->size * sizeof *j.pred);
    j.truth = malloc((size_t)c->size * sizeof *j.truth);
    j.digest = malloc((size_t)c->size * sizeof *j.digest);
    if (!j.pred || !j.truth || !j.digest) {
        wl_fail(out, WL_ERUN, "out of memory");
    } else if (wl_parallel_for(c->size, c->parallel, queries, &j) != WL_OK) {
        wl_fail(out, WL_ERUN, "out of memory for a %lldx%lld dataset", (long long)n, (long long)dim);
    } else {
        uint64_t h = WL_HASH_INIT;
        int64_t right = 0;
        json_t *pred = json_array();
        for (int64_t q = 0; q < c->size; q++) {
            h = wl_hash_u64(wl_hash_u64(h, (uint64_t)j.pred[q]), j.digest[q]);
            right += j.pred[q] == j.truth[q];
            if (q < 20)
                json_array_append_new(pred, json_integer(j.pred[q]));
        }
        out->checksum = h;
        json_object_set_new(out->answer, "queries", json_integer((json_int_t)c->size));
        json_object_set_new(out->answer, "accuracy", json_real((double)right / (double)c->size));
        json_object_set_new(out->answer, "predictions", pred);
    }
    free(j.pred);
    free(j.truth);
    free(j.digest);
    return out->code;
}

const wl_function wl_fn_knn = {
    .id = "knn",
    .summary = "k=3 vote for size queries, each over a fresh seeded 1000x800 dataset",
    .default_size = 50,
    .max_size = 100000,
    .default_parallel = 8,
    .run = knn_run,
};

/* ms.c - merge-sorting: draw random 32-bit integers and merge-sort them (see README.md). */
#include "ms.h"

#include <gsl/gsl_rng.h>
#include <stdlib.h>
#include <string.h>

#define MS_TAG 0x6d73                  /* "ms": the stream of input numbers */

static void insertion(uint32_t *a, int64_t n)
{
    for (int64_t i = 1; i < n; i++) {
        uint32_t x = a[i];
        int64_t j = i;
        while (j > 0 && a[j - 1] > x) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

void ms_merge_sort(uint32_t *a, uint32_t *tmp, int64_t n)
{
    if (n <= 24) {
        insertion(a, n);
        return;
    }
    int64_t h = n / 2;
    ms_merge_sort(a, tmp, h);
    ms_merge_sort(a + h, tmp, n - h);
    if (a[h - 1] <= a[h])
        return;
    /* merge the left half (copied out) with the right half, back into a */
    memcpy(tmp, a, (size_t)h * sizeof *a);
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        a[k++] = tmp[i] <= a[j] ? tmp[i++] : a[j++];
    while (i < h)
        a[k++] = tmp[i++];
}

static void gen_blocks(gsl_rng *r, uint64_t seed, int64_t n, int64_t b_lo, int64_t b_hi,
                       uint32_t *out)
{
    for (int64_t b = b_lo; b < b_hi; b++) {
        gsl_rng_set(r, wl_seed(seed, MS_TAG, (uint64_t)b));
        int64_t end = (b + 1) * MS_BLOCK < n ? (b + 1) * MS_BLOCK : n;
        for (int64_t i = b * MS_BLOCK; i < end; i++)
            out[i] = (uint32_t)gsl_rng_get(r);
    }
}

void ms_generate(uint64_t seed, int64_t n, uint32_t *out)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return;
    gen_blocks(r, seed, n, 0, (n + MS_BLOCK - 1) / MS_BLOCK, out);
    gsl_rng_free(r);
}

typedef struct sort_job {
    uint64_t seed;
    int64_t n, nblocks;
    int runs;                          /* number of runs = workers of the first phase */
    uint32_t *a, *b;
    int64_t *bound;                    /* run k is [bound[k], bound[k+1]) */
} sort_job;

/* Phase 1: worker w draws its blocks and sorts them into run w. */
static int draw_and_sort(void *arg, int w, int64_t lo, int64_t hi)
{
    (void)w;
    sort_job *j = arg;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    int64_t s = lo * MS_BLOCK, e = hi * MS_BLOCK < j->n ? hi * MS_BLOCK : j->n;
    if (!r)
        return WL_ERUN;
    gen_blocks(r, j->seed, j->n, lo, hi, j->a);
    gsl_rng_free(r);
    /* the second buffer's slice of this run is free scratch space until the merges */
    ms_merge_sort(j->a + s, j->b + s, e - s);
    return WL_OK;
}

typedef struct merge_round {
    const uint32_t *src;
    uint32_t *dst;
    const int64_t *bound;
    int runs;
} merge_round;

/* Phase 2, one round: pair p merges runs 2p and 2p+1 (a lone last run is copied). */
static int merge_pair(void *arg, int w, int64_t lo, int64_t hi)
{
    (void)w;
    merge_round *m = arg;
    for (int64_t p = lo; p < hi; p++) {
        int64_t s = m->bound[2 * p], mid = m->bound[2 * p + 1 < m->runs ? 2 * p + 1 : m->runs];
        int64_t e = m->bound[2 * p + 2 <= m->runs ? 2 * p + 2 : m->runs];
        int64_t i = s, k = s, jj = mid;
        while (i < mid && jj < e)
            m->dst[k++] = m->src[i] <= m->src[jj] ? m->src[i++] : m->src[jj++];
        while (i < mid)
            m->dst[k++] = m->src[i++];
        while (jj < e)
            m->dst[k++] = m->src[jj++];
    }
    return WL_OK;
}

uint32_t *ms_sorted(uint64_t seed, int64_t n, int parallel)
{
    sort_job j = {seed, n, (n + MS_BLOCK - 1) / MS_BLOCK, 0, NULL, NULL, NULL};
    j.runs = parallel < 1 ? 1 : parallel;
    if (j.runs > j.nblocks)
        j.runs = (int)j.nblocks;
    j.a = malloc((size_t)n * sizeof *j.a);
    j.b = malloc((size_t)n * sizeof *j.b);
    j.bound = malloc(((size_t)j.runs + 1) * sizeof *j.bound);
    if (!j.a || !j.b || !j.bound || wl_parallel_for(j.nblocks, j.runs, draw_and_sort, &j) != 0) {
        free(j.a);
        free(j.b);
        free(j.bound);
        return NULL;
    }
    for (int k = 0; k < j.runs; k++) {
        int64_t lo, hi;
        wl_split(j.nblocks, k, j.runs, &lo, &hi);
        j.bound[k] = lo * MS_BLOCK;
    }
    j.bound[j.runs] = n;
    uint32_t *src = j.a, *dst = j.b;
    int runs = j.runs;
    while (runs > 1) {
        merge_round m = {src, dst, j.bound, runs};
        int pairs = (runs + 1) / 2;
        wl_parallel_for(pairs, pairs, merge_pair, &m);
        /* the merged runs' bounds are every other old bound */
        for (int k = 0; k <= pairs; k++)
            j.bound[k] = j.bound[2 * k <= runs ? 2 * k : runs];
        runs = pairs;
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    free(dst);
    free(j.bound);
    return src;
}

static int ms_run(const wl_call *c, wl_out *out)
{
    int64_t n = c->size * MS_PER_UNIT;
    uint32_t *a = ms_sorted(c->seed, n, c->parallel);
    if (!a)
        return wl_fail(out, WL_ERUN, "out of memory sorting %lld numbers", (long long)n);
    json_object_set_new(out->answer, "count", json_integer((json_int_t)n));
    json_object_set_new(out->answer, "min", json_integer(a[0]));
    json_object_set_new(out->answer, "median", json_integer(a[(n - 1) / 2]));
    json_object_set_new(out->answer, "max", json_integer(a[n - 1]));
    out->checksum = wl_hash(WL_HASH_INIT, a, (size_t)n * sizeof *a);
    free(a);
    return WL_OK;
}

const wl_function wl_fn_ms = {
    .id = "ms",
    .summary = "merge-sort size*50 random 32-bit integers with `parallel` workers",
    .default_size = 100000,
    .max_size = 5000000,
    .default_parallel = 2,
    .run = ms_run,
};

/* dv.c - dna-visualization: `size` times, squiggle-transform two seeded genes and plot them
 * (see README.md). */
#include "dv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#define DV_TAG 0x6476                  /* "dv" */

void dv_gene(uint64_t seed, int which, size_t n, char *seq)
{
    static const char base[4] = {'A', 'C', 'G', 'T'};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return;
    gsl_rng_set(r, wl_seed(seed, DV_TAG, (uint64_t)which));
    int prev = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long u = gsl_rng_uniform_int(r, 100);
        if (u < 8 && i >= 12) {        /* copy a short earlier stretch: repeats, as in real genes */
            size_t len = 4 + gsl_rng_uniform_int(r, 9), from = gsl_rng_uniform_int(r, i - 8);
            for (size_t k = 0; k < len && i < n; k++)
                seq[i++] = seq[from + k];
            i--;
            continue;
        }
        /* otherwise stay on the same base 30% of the time: runs */
        int b = u < 38 ? prev : (int)gsl_rng_uniform_int(r, 4);
        seq[i] = base[b];
        prev = b;
    }
    seq[n] = '\0';
    gsl_rng_free(r);
}

void dv_squiggle(const char *seq, size_t n, double *x, double *y)
{
    double v = 0;
    x[0] = 0;
    y[0] = 0;
    for (size_t i = 0; i < n; i++) {
        double mid, end;
        switch (seq[i]) {
        case 'A': mid = v + 0.5; end = v; break;
        case 'C': mid = v - 0.5; end = v; break;
        case 'G': mid = v + 0.5; end = v + 1; break;
        case 'T': mid = v - 0.5; end = v - 1; break;
        default: mid = v; end = v; break;
        }
        x[2 * i + 1] = (double)i + 0.5;
        y[2 * i + 1] = mid;
        x[2 * i + 2] = (double)i + 1;
        y[2 * i + 2] = end;
        v = end;
    }
}

void dv_plot(const double *x, const double *y, size_t m, uint8_t *img)
{
    memset(img, 0, (size_t)DV_IMG_W * DV_IMG_H);
    if (m == 0)
        return;
    double x0 = x[0], x1 = x[0], y0 = y[0], y1 = y[0];
    for (size_t i = 1; i < m; i++) {
        x0 = fmin(x0, x[i]);
        x1 = fmax(x1, x[i]);
        y0 = fmin(y0, y[i]);
        y1 = fmax(y1, y[i]);
    }
    double sx = x1 > x0 ? (DV_IMG_W - 1) / (x1 - x0) : 0, sy = y1 > y0 ? (DV_IMG_H - 1) / (y1 - y0) : 0;
    int px = (int)lround((x[0] - x0) * sx), py = DV_IMG_H - 1 - (int)lround((y[0] - y0) * sy);
    img[py * DV_IMG_W + px] = 255;
    for (size_t i = 1; i < m; i++) {   /* Bresenham from the last pixel to the next */
        int qx = (int)lround((x[i] - x0) * sx), qy = DV_IMG_H - 1 - (int)lround((y[i] - y0) * sy);
        int dx = abs(qx - px), dy = -abs(qy - py), stx = px < qx ? 1 : -1, sty = py < qy ? 1 : -1;
        int e = dx + dy;
        for (;;) {
            img[py * DV_IMG_W + px] = 255;
            if (px == qx && py == qy)
                break;
            int e2 = 2 * e;
            if (e2 >= dy) {
                e += dy;
                px += stx;
            }
            if (e2 <= dx) {
                e += dx;
                py += sty;
            }
        }
    }
}

/* ---- the function ---- */

typedef struct dv_job {
    const char *gene[2];
    size_t len[2];
    uint64_t *digest;                  /* per item */
    double end_y[2];                   /* the last point of each squiggle */
    size_t ink[2];                     /* pixels drawn in each plot */
} dv_job;

static int visualise(void *arg, int w, int64_t lo, int64_t hi)
{
    (void)w;
    dv_job *j = arg;
    size_t m = (j->len[0] > j->len[1] ? j->len[0] : j->len[1]) * 2 + 1;
    double *x = malloc(m * sizeof *x), *y = malloc(m * sizeof *y);
    uint8_t *img = malloc((size_t)DV_IMG_W * DV_IMG_H);
    int rc = x && y && img ? WL_OK : WL_ERUN;
    for (int64_t i = lo; i < hi && rc == WL_OK; i++) {
        uint64_t h = WL_HASH_INIT;
        for (int g = 0; g < 2; g++) {
            size_t pts = 2 * j->len[g] + 1;
            dv_squiggle(j->gene[g], j->len[g], x, y);
            dv_plot(x, y, pts, img);
            h = wl_hash(wl_hash(h, y, pts * sizeof *y), img, (size_t)DV_IMG_W * DV_IMG_H);
            if (i == 0) {              /* the item every call has: its numbers go in the answer */
                size_t ink = 0;
                for (size_t p = 0; p < (size_t)DV_IMG_W * DV_IMG_H; p++)
                    ink += img[p] != 0;
                j->end_y[g] = y[pts - 1];
                j->ink[g] = ink;
            }
        }
        j->digest[i] = h;
    }
    free(x);
    free(y);
    free(img);
    return rc;
}

static int dv_run(const wl_call *c, wl_out *out)
{
    int64_t la, lb;
    if (wl_param_int(c, "gene_a", 11000, 1, 10000000, &la, out) ||
        wl_param_int(c, "gene_b", 17000, 1, 10000000, &lb, out))
        return out->code;
    dv_job j = {{NULL, NULL}, {(size_t)la, (size_t)lb}, NULL, {0, 0}, {0, 0}};
    char *ga = malloc((size_t)la + 1), *gb = malloc((size_t)lb + 1);
    j.digest = malloc((size_t)c->size * sizeof *j.digest);
    if (!ga || !gb || !j.digest) {
        wl_fail(out, WL_ERUN, "out of memory");
    } else {
        dv_gene(c->seed, 0, (size_t)la, ga);
        dv_gene(c->seed, 1, (size_t)lb, gb);
        j.gene[0] = ga;
        j.gene[1] = gb;
        if (wl_parallel_for(c->size, c->parallel, visualise, &j) != WL_OK) {
            wl_fail(out, WL_ERUN, "out of memory plotting");
        } else {
            uint64_t h = WL_HASH_INIT;
            for (int64_t i = 0; i < c->size; i++)
                h = wl_hash_u64(h, j.digest[i]);
            out->checksum = h;
            json_object_set_new(out->answer, "transforms", json_integer((json_int_t)(2 * c->size)));
            json_object_set_new(out->answer, "bases", json_pack("[I, I]", (json_int_t)la, (json_int_t)lb));
            json_object_set_new(out->answer, "end_height", json_pack("[f, f]", j.end_y[0], j.end_y[1]));
            json_object_set_new(out->answer, "plot_pixels",
                                json_pack("[I, I]", (json_int_t)j.ink[0], (json_int_t)j.ink[1]));
        }
    }
    free(ga);
    free(gb);
    free(j.digest);
    return out->code;
}

const wl_function wl_fn_dv = {
    .id = "dv",
    .summary = "squiggle-transform and plot two seeded genes (11 and 17 kb), size times",
    .default_size = 500,
    .max_size = 1000000,
    .default_parallel = 8,
    .run = dv_run,
};

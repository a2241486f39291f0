/* ip.c - image-processing: thumbnail a seeded picture and re-encode it as PNG, `size` times over
 * `parallel` workers (see README.md). PNG is written here on top of zlib (deflate, crc32): the
 * container format is a few dozen lines, and libpng has no simpler path to an in-memory file. */
#include "ip.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <gsl/gsl_rng.h>

#define IP_TAG 0x6970                  /* "ip" */

static uint8_t clamp8(double v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)(v + 0.5); }

void ip_source(uint64_t seed, int w, int h, uint8_t *rgb)
{
    /* a sky-to-ground gradient, seeded discs and boxes, and a little grain: smooth regions and
     * edges, like a photo, so the encoder's filters and deflate have real choices to make */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return;
    gsl_rng_set(r, wl_seed(seed, IP_TAG, 0));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
            double fy = (double)y / h, fx = (double)x / w;
            p[0] = clamp8(70 + 120 * fy + 30 * fx);
            p[1] = clamp8(130 + 60 * fy - 20 * fx);
            p[2] = clamp8(220 - 150 * fy);
        }
    for (int k = 0; k < 24; k++) {
        int cx = (int)gsl_rng_uniform_int(r, (unsigned long)w);
        int cy = (int)gsl_rng_uniform_int(r, (unsigned long)h);
        int rad = 4 + (int)gsl_rng_uniform_int(r, (unsigned long)(w / 8 + 1));
        uint8_t col[3] = {(uint8_t)gsl_rng_get(r), (uint8_t)gsl_rng_get(r), (uint8_t)gsl_rng_get(r)};
        int box = k % 3 == 0;
        for (int y = cy - rad; y <= cy + rad; y++)
            for (int x = cx - rad; x <= cx + rad; x++) {
                if (x < 0 || y < 0 || x >= w || y >= h)
                    continue;
                if (!box && (x - cx) * (x - cx) + (y - cy) * (y - cy) > rad * rad)
                    continue;
                memcpy(rgb + 3 * ((size_t)y * (size_t)w + (size_t)x), col, 3);
            }
    }
    for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++) {
        int v = rgb[i] + (int)gsl_rng_uniform_int(r, 3) - 1;
        rgb[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    gsl_rng_free(r);
}

void ip_fit(int sw, int sh, int bw, int bh, int *tw, int *th)
{
    *tw = sw;
    *th = sh;
    if (*tw > bw) {
        *th = (int)fmax(1, round((double)sh * bw / sw));
        *tw = bw;
    }
    if (*th > bh) {
        *tw = (int)fmax(1, round((double)sw * bh / sh));
        *th = bh;
    }
}

/* Per output coordinate: the first source index and the normalised weights of a triangle filter
 * with support scale = max(1, in/out). */
typedef struct taps {
    int n;                             /* taps per output */
    int *first;
    float *w;                          /* out * n weights */
} taps;

static int make_taps(int in, int out, taps *t)
{
    double scale = (double)in / out, support = scale > 1 ? scale : 1;
    t->n = (int)ceil(support) * 2 + 1;
    t->first = malloc((size_t)out * sizeof *t->first);
    t->w = malloc((size_t)out * (size_t)t->n * sizeof *t->w);
    if (!t->first || !t->w)
        return -1;
    for (int o = 0; o < out; o++) {
        double c = (o + 0.5) * scale;
        int lo = (int)floor(c - support), hi = (int)ceil(c + support);
        if (lo < 0)
            lo = 0;
        if (hi > in)
            hi = in;
        if (hi - lo > t->n)
            hi = lo + t->n;
        double sum = 0;
        float *w = t->w + (size_t)o * (size_t)t->n;
        for (int k = 0; k < t->n; k++) {
            int i = lo + k;
            double d = i < hi ? fabs((i + 0.5 - c) / support) : 1;
            w[k] = d < 1 ? (float)(1 - d) : 0;
            sum += w[k];
        }
        for (int k = 0; k < t->n; k++)
            w[k] = sum > 0 ? (float)(w[k] / sum) : (k == 0);
        t->first[o] = lo;
    }
    return 0;
}

int ip_resize(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh)
{
    taps tx = {0}, ty = {0};
    float *mid = malloc((size_t)dw * (size_t)sh * 3 * sizeof *mid);
    int rc = -1;
    if (!mid || make_taps(sw, dw, &tx) || make_taps(sh, dh, &ty))
        goto out;
    for (int y = 0; y < sh; y++) {     /* horizontal pass: sw x sh -> dw x sh */
        const uint8_t *row = src + (size_t)y * (size_t)sw * 3;
        float *m = mid + (size_t)y * (size_t)dw * 3;
        for (int x = 0; x < dw; x++) {
            const float *w = tx.w + (size_t)x * (size_t)tx.n;
            const uint8_t *p = row + (size_t)tx.first[x] * 3;
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < tx.n && tx.first[x] + k < sw; k++) {
                r += w[k] * p[3 * k];
                g += w[k] * p[3 * k + 1];
                b += w[k] * p[3 * k + 2];
            }
            m[3 * x] = r;
            m[3 * x + 1] = g;
            m[3 * x + 2] = b;
        }
    }
    for (int y = 0; y < dh; y++) {     /* vertical pass: dw x sh -> dw x dh */
        const float *w = ty.w + (size_t)y * (size_t)ty.n;
        uint8_t *d = dst + (size_t)y * (size_t)dw * 3;
        for (int i = 0; i < dw * 3; i++) {
            float v = 0;
            for (int k = 0; k < ty.n && ty.first[y] + k < sh; k++)
                v += w[k] * mid[(size_t)(ty.first[y] + k) * (size_t)dw * 3 + (size_t)i];
            d[i] = clamp8(v);
        }
    }
    rc = 0;
out:
    free(mid);
    free(tx.first);
    free(tx.w);
    free(ty.first);
    free(ty.w);
    return rc;
}

/* ---- PNG ---- */

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint8_t paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return (uint8_t)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

/* Filters one row with filter type ft into out (without the type byte); bpp = 3. */
static void filter_row(int ft, const uint8_t *cur, const uint8_t *prev, size_t n, uint8_t *out)
{
    static const uint8_t zero[3] = {0, 0, 0};
    size_t i;
    if (!prev && ft >= 2)              /* the first row: "up" is 0, Average and Paeth use a only */
        ft = ft == 2 ? 0 : 1;
    switch (ft) {
    case 0:
        memcpy(out, cur, n);
        break;
    case 1:
        memcpy(out, cur, 3);
        for (i = 3; i < n; i++)
            out[i] = (uint8_t)(cur[i] - cur[i - 3]);
        break;
    case 2:
        for (i = 0; i < n; i++)
            out[i] = (uint8_t)(cur[i] - prev[i]);
        break;
    case 3:
        for (i = 0; i < 3; i++)
            out[i] = (uint8_t)(cur[i] - prev[i] / 2);
        for (; i < n; i++)
            out[i] = (uint8_t)(cur[i] - (cur[i - 3] + prev[i]) / 2);
        break;
    default:
        for (i = 0; i < 3; i++)
            out[i] = (uint8_t)(cur[i] - paeth(0, prev[i], zero[i]));
        for (; i < n; i++)
            out[i] = (uint8_t)(cur[i] - paeth(cur[i - 3], prev[i], prev[i - 3]));
        break;
    }
}

int ip_png(const uint8_t *rgb, int w, int h, int level, uint8_t **png, size_t *len)
{
    size_t stride = (size_t)w * 3, raw_len = (size_t)h * (stride + 1);
    uint8_t *raw = malloc(raw_len), *cand = malloc(stride);
    uLong zcap = compressBound((uLong)raw_len);
    uint8_t *out = malloc(8 + 25 + 12 + zcap + 12);
    int rc = -1;
    if (!raw || !cand || !out)
        goto done;
    for (int y = 0; y < h; y++) {      /* per row, the filter with the least sum of |values| */
        const uint8_t *cur = rgb + (size_t)y * stride, *prev = y ? cur - stride : NULL;
        uint8_t *dst = raw + (size_t)y * (stride + 1);
        unsigned long best = ~0UL;
        for (int ft = 0; ft < 5; ft++) {
            filter_row(ft, cur, prev, stride, cand);
            unsigned long sum = 0;
            for (size_t i = 0; i < stride; i++)
                sum += cand[i] < 128 ? cand[i] : 256 - cand[i];
            if (sum < best) {
                best = sum;
                dst[0] = (uint8_t)ft;
                memcpy(dst + 1, cand, stride);
            }
        }
    }
    static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    size_t at = 0;
    memcpy(out, sig, 8);
    at = 8;
    uint8_t ihdr[13];
    be32(ihdr, (uint32_t)w);
    be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;                       /* bit depth */
    ihdr[9] = 2;                       /* truecolor */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    const char *types[3] = {"IHDR", "IDAT", "IEND"};
    for (int k = 0; k < 3; k++) {
        uint8_t *chunk = out + at;
        size_t n = 0;
        memcpy(chunk + 4, types[k], 4);
        if (k == 0) {
            memcpy(chunk + 8, ihdr, 13);
            n = 13;
        } else if (k == 1) {
            uLongf zl = zcap;
            if (compress2(chunk + 8, &zl, raw, (uLong)raw_len, level) != Z_OK)
                goto done;
            n = zl;
        }
        be32(chunk, (uint32_t)n);
        be32(chunk + 8 + n, (uint32_t)crc32(crc32(0L, Z_NULL, 0), chunk + 4, (uInt)(n + 4)));
        at += 12 + n;
    }
    *png = out;
    *len = at;
    out = NULL;
    rc = 0;
done:
    free(raw);
    free(cand);
    free(out);
    return rc;
}

/* ---- the function ---- */

typedef struct ip_job {
    const uint8_t *src;
    int sw, sh, tw, th, level;
    uint64_t *digest;                  /* per item */
    size_t png_len;
} ip_job;

static int thumbnails(void *arg, int w, int64_t lo, int64_t hi)
{
    ip_job *j = arg;
    uint8_t *thumb = malloc((size_t)j->tw * (size_t)j->th * 3);
    if (!thumb)
        return WL_ERUN;
    int rc = WL_OK;
    for (int64_t i = lo; i < hi && rc == WL_OK; i++) {
        uint8_t *png;
        size_t len;
        if (ip_resize(j->src, j->sw, j->sh, thumb, j->tw, j->th) != 0 ||
            ip_png(thumb, j->tw, j->th, j->level, &png, &len) != 0) {
            rc = WL_ERUN;
            break;
        }
        j->digest[i] = wl_hash(WL_HASH_INIT, png, len);
        if (w == 0 && i == lo)
            j->png_len = len;
        free(png);
    }
    free(thumb);
    return rc;
}

static int ip_run(const wl_call *c, wl_out *out)
{
    int64_t bw, bh, sw, sh, level;
    if (wl_param_int(c, "width", 400, 1, 16384, &bw, out) ||
        wl_param_int(c, "height", 400, 1, 16384, &bh, out) ||
        wl_param_int(c, "src_width", 800, 1, 8192, &sw, out) ||
        wl_param_int(c, "src_height", 600, 1, 8192, &sh, out) ||
        wl_param_int(c, "level", 3, 0, 9, &level, out))
        return out->code;
    ip_job j = {NULL, (int)sw, (int)sh, 0, 0, (int)level, NULL, 0};
    ip_fit(j.sw, j.sh, (int)bw, (int)bh, &j.tw, &j.th);
    uint8_t *src = malloc((size_t)sw * (size_t)sh * 3);
    j.digest = malloc((size_t)c->size * sizeof *j.digest);
    if (!src || !j.digest) {
        wl_fail(out, WL_ERUN, "out of memory");
    } else {
        ip_source(c->seed, j.sw, j.sh, src);
        j.src = src;
        if (wl_parallel_for(c->size, c->parallel, thumbnails, &j) != WL_OK) {
            wl_fail(out, WL_ERUN, "out of memory encoding");
        } else {
            uint64_t h = WL_HASH_INIT;
            for (int64_t i = 0; i < c->size; i++)
                h = wl_hash_u64(h, j.digest[i]);
            out->checksum = h;
            json_object_set_new(out->answer, "images", json_integer((json_int_t)c->size));
            json_object_set_new(out->answer, "thumb_width", json_integer(j.tw));
            json_object_set_new(out->answer, "thumb_height", json_integer(j.th));
            json_object_set_new(out->answer, "png_bytes", json_integer((json_int_t)j.png_len));
        }
    }
    free(src);
    free(j.digest);
    return out->code;
}

const wl_function wl_fn_ip = {
    .id = "ip",
    .summary = "thumbnail a seeded 800x600 picture to fit 400x400 and PNG-encode it, size times",
    .default_size = 100,
    .max_size = 50000,
    .default_parallel = 8,
    .run = ip_run,
};

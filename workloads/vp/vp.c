/* vp.c - video-processing: per unit of size, cut frames 0-49 and 100-149 out of a seeded clip,
 * concatenate them, blend a horizontally flipped watermark, draw a red box, and encode every frame
 * (see README.md). The original ran ffmpeg; this is an intra-frame DCT codec (the JPEG transform and
 * quantisation, with deflate as its entropy coder): the same kind of per-pixel work, no library. */
#include "vp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <gsl/gsl_rng.h>

#define VP_TAG 0x7670                  /* "vp" */
#define VP_OUT_FRAMES 100              /* frames 0-49 and 100-149 */

/* ---- the clip ---- */

void vp_source_frame(uint64_t seed, int t, int w, int h, uint8_t *rgb)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return;
    gsl_rng_set(r, wl_seed(seed, VP_TAG, (uint64_t)t));
    double ph = 2 * M_PI * t / VP_SRC_FRAMES;
    int bx = (int)(w * (0.5 + 0.35 * cos(ph))), by = (int)(h * (0.5 + 0.35 * sin(2 * ph)));
    int rad = h / 8;
    double *sx = malloc((size_t)w * sizeof *sx);
    if (!sx) {
        gsl_rng_free(r);
        return;
    }
    for (int x = 0; x < w; x++)
        sx[x] = 20 * sin(8.0 * x / w + ph);
    unsigned long bits = 0;
    for (int y = 0; y < h; y++) {
        double cy = cos(6.0 * y / h - ph);
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
            double fx = (double)x / w, fy = (double)y / h;
            double wave = sx[x] * cy;
            int dx = x - bx, dy = y - by;
            if (dx * dx + dy * dy <= rad * rad) {
                p[0] = 230;
                p[1] = (uint8_t)(180 + 40 * fy);
                p[2] = 40;
            } else {
                p[0] = (uint8_t)(40 + 60 * fy + wave + 20);
                p[1] = (uint8_t)(90 + 80 * fx + wave + 20);
                p[2] = (uint8_t)(150 + 60 * (1 - fy) + 20);
            }
            if (x % 8 == 0)                /* sensor noise: 4 random bits per pixel */
                bits = gsl_rng_get(r);
            int n = (int)((bits >> (4 * (x % 8))) & 15) % 5 - 2;
            for (int c = 0; c < 3; c++) {
                int v = p[c] + n;
                p[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    free(sx);
    gsl_rng_free(r);
}

void vp_watermark(uint64_t seed, uint8_t *rgba)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return;
    gsl_rng_set(r, wl_seed(seed, VP_TAG, 1u << 20));
    uint8_t col[3] = {(uint8_t)gsl_rng_get(r), (uint8_t)gsl_rng_get(r), (uint8_t)gsl_rng_get(r)};
    double c = (VP_MARK - 1) / 2.0;
    for (int y = 0; y < VP_MARK; y++)
        for (int x = 0; x < VP_MARK; x++) {
            uint8_t *p = rgba + 4 * (y * VP_MARK + x);
            double d = hypot(x - c, y - c) / c;
            /* a ring with a bar on its left: asymmetric, so the flip shows */
            int ink = (d > 0.6 && d < 0.9) || (x < VP_MARK / 3 && abs(y - VP_MARK / 2) < 4);
            p[0] = col[0];
            p[1] = col[1];
            p[2] = col[2];
            p[3] = (uint8_t)(ink ? 200 : 0);
        }
    gsl_rng_free(r);
}

void vp_edit(uint8_t *rgb, int w, int h, const uint8_t *mark)
{
    int ox = w - VP_MARK - 8, oy = 8;
    for (int y = 0; y < VP_MARK; y++)
        for (int x = 0; x < VP_MARK; x++) {
            int X = ox + x, Y = oy + y;
            if (X < 0 || Y < 0 || X >= w || Y >= h)
                continue;
            const uint8_t *m = mark + 4 * (y * VP_MARK + (VP_MARK - 1 - x));   /* hflip */
            uint8_t *p = rgb + 3 * ((size_t)Y * (size_t)w + (size_t)X);
            for (int c = 0; c < 3; c++)
                p[c] = (uint8_t)((p[c] * (255 - m[3]) + m[c] * m[3] + 127) / 255);
        }
    int x0 = w / 4, y0 = h / 4, x1 = 3 * w / 4, y1 = 3 * h / 4;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            if (y >= y0 + 3 && y < y1 - 3 && x >= x0 + 3 && x < x1 - 3)
                continue;
            uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
            p[0] = 255;
            p[1] = 0;
            p[2] = 0;
        }
}

/* ---- the codec ---- */

static const int zigzag[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};
static const int qluma[64] = {
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
    14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
    18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
static const int qchroma[64] = {
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99,
    99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

typedef struct codec {
    float cosv[8][8];                  /* C(u)/2 cos((2x+1) u pi / 16) */
    float q[2][64];                    /* quantisers, luma and chroma */
} codec;

static void codec_init(codec *c, int quality)
{
    for (int u = 0; u < 8; u++)
        for (int x = 0; x < 8; x++)
            c->cosv[u][x] = (float)((u == 0 ? M_SQRT1_2 : 1.0) / 2 * cos((2 * x + 1) * u * M_PI / 16));
    int s = quality < 50 ? 5000 / quality : 200 - 2 * quality;     /* the IJG scaling */
    for (int i = 0; i < 64; i++) {
        int a = (qluma[i] * s + 50) / 100, b = (qchroma[i] * s + 50) / 100;
        c->q[0][i] = (float)(a < 1 ? 1 : a > 255 ? 255 : a);
        c->q[1][i] = (float)(b < 1 ? 1 : b > 255 ? 255 : b);
    }
}

static void fdct(const codec *c, const float in[64], float out[64])
{
    float tmp[64];
    for (int y = 0; y < 8; y++)        /* rows */
        for (int u = 0; u < 8; u++) {
            float s = 0;
            for (int x = 0; x < 8; x++)
                s += c->cosv[u][x] * in[y * 8 + x];
            tmp[y * 8 + u] = s;
        }
    for (int u = 0; u < 8; u++)        /* columns */
        for (int v = 0; v < 8; v++) {
            float s = 0;
            for (int y = 0; y < 8; y++)
                s += c->cosv[v][y] * tmp[y * 8 + u];
            out[v * 8 + u] = s;
        }
}

static void idct(const codec *c, const float in[64], float out[64])
{
    float tmp[64];
    for (int v = 0; v < 8; v++)
        for (int x = 0; x < 8; x++) {
            float s = 0;
            for (int u = 0; u < 8; u++)
                s += c->cosv[u][x] * in[v * 8 + u];
            tmp[v * 8 + x] = s;
        }
    for (int x = 0; x < 8; x++)
        for (int y = 0; y < 8; y++) {
            float s = 0;
            for (int v = 0; v < 8; v++)
                s += c->cosv[v][y] * tmp[v * 8 + x];
            out[y * 8 + x] = s;
        }
}

/* The three planes of a frame, padded to whole 16x16 macroblocks by repeating the edge. */
typedef struct planes {
    int yw, yh, cw, ch;
    float *p[3];
} planes;

static int planes_alloc(planes *pl, int w, int h)
{
    pl->yw = (w + 15) / 16 * 16;
    pl->yh = (h + 15) / 16 * 16;
    pl->cw = pl->yw / 2;
    pl->ch = pl->yh / 2;
    pl->p[0] = malloc((size_t)pl->yw * (size_t)pl->yh * sizeof(float));
    pl->p[1] = malloc((size_t)pl->cw * (size_t)pl->ch * sizeof(float));
    pl->p[2] = malloc((size_t)pl->cw * (size_t)pl->ch * sizeof(float));
    return pl->p[0] && pl->p[1] && pl->p[2] ? 0 : -1;
}

static void planes_free(planes *pl)
{
    for (int i = 0; i < 3; i++)
        free(pl->p[i]);
}

static size_t coeff_count(const planes *pl)
{
    return (size_t)pl->yw * (size_t)pl->yh + 2 * (size_t)pl->cw * (size_t)pl->ch;
}

int vp_encode(const uint8_t *rgb, int w, int h, int quality, uint8_t **out, size_t *len)
{
    codec c;
    codec_init(&c, quality);
    planes pl;
    int rc = -1;
    size_t n = 0;
    int16_t *coef = NULL;
    uint8_t *z = NULL;
    if (planes_alloc(&pl, w, h) != 0)
        goto done;
    for (int y = 0; y < pl.yh; y++)    /* colour conversion and edge padding */
        for (int x = 0; x < pl.yw; x++) {
            const uint8_t *p = rgb + 3 * ((size_t)(y < h ? y : h - 1) * (size_t)w + (size_t)(x < w ? x : w - 1));
            pl.p[0][(size_t)y * (size_t)pl.yw + (size_t)x] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2] - 128;
        }
    for (int y = 0; y < pl.ch; y++)    /* chroma: the mean of each 2x2 */
        for (int x = 0; x < pl.cw; x++) {
            float cb = 0, cr = 0;
            for (int k = 0; k < 4; k++) {
                int yy = 2 * y + k / 2, xx = 2 * x + k % 2;
                const uint8_t *p = rgb + 3 * ((size_t)(yy < h ? yy : h - 1) * (size_t)w + (size_t)(xx < w ? xx : w - 1));
                cb += -0.168736f * p[0] - 0.331264f * p[1] + 0.5f * p[2];
                cr += 0.5f * p[0] - 0.418688f * p[1] - 0.081312f * p[2];
            }
            pl.p[1][(size_t)y * (size_t)pl.cw + (size_t)x] = cb / 4;
            pl.p[2][(size_t)y * (size_t)pl.cw + (size_t)x] = cr / 4;
        }
    coef = malloc(coeff_count(&pl) * sizeof *coef);
    if (!coef)
        goto done;
    for (int k = 0; k < 3; k++) {
        int pw = k ? pl.cw : pl.yw, ph = k ? pl.ch : pl.yh;
        const float *q = c.q[k ? 1 : 0];
        for (int by = 0; by < ph; by += 8)
            for (int bx = 0; bx < pw; bx += 8) {
                float blk[64], f[64];
                for (int y = 0; y < 8; y++)
                    memcpy(blk + 8 * y, pl.p[k] + (size_t)(by + y) * (size_t)pw + (size_t)bx, 8 * sizeof(float));
                fdct(&c, blk, f);
                for (int i = 0; i < 64; i++)
                    coef[n++] = (int16_t)lrintf(f[zigzag[i]] / q[zigzag[i]]);
            }
    }
    uLongf zl = compressBound((uLong)(n * sizeof *coef));
    z = malloc(zl);
    if (!z || compress2(z, &zl, (const Bytef *)coef, (uLong)(n * sizeof *coef), 1) != Z_OK)
        goto done;
    *out = z;
    *len = zl;
    z = NULL;
    rc = 0;
done:
    planes_free(&pl);
    free(coef);
    free(z);
    return rc;
}

static uint8_t clamp8(float v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)(v + 0.5f); }

int vp_decode(const uint8_t *in, size_t len, int w, int h, int quality, uint8_t *rgb)
{
    codec c;
    codec_init(&c, quality);
    planes pl;
    int rc = -1;
    int16_t *coef = NULL;
    if (planes_alloc(&pl, w, h) != 0)
        goto done;
    uLongf n = (uLongf)(coeff_count(&pl) * sizeof *coef);
    coef = malloc(n);
    if (!coef || uncompress((Bytef *)coef, &n, in, (uLong)len) != Z_OK ||
        n != coeff_count(&pl) * sizeof *coef)
        goto done;
    size_t at = 0;
    for (int k = 0; k < 3; k++) {
        int pw = k ? pl.cw : pl.yw, ph = k ? pl.ch : pl.yh;
        const float *q = c.q[k ? 1 : 0];
        for (int by = 0; by < ph; by += 8)
            for (int bx = 0; bx < pw; bx += 8) {
                float f[64], blk[64];
                for (int i = 0; i < 64; i++)
                    f[zigzag[i]] = coef[at++] * q[zigzag[i]];
                idct(&c, f, blk);
                for (int y = 0; y < 8; y++)
                    memcpy(pl.p[k] + (size_t)(by + y) * (size_t)pw + (size_t)bx, blk + 8 * y, 8 * sizeof(float));
            }
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float Y = pl.p[0][(size_t)y * (size_t)pl.yw + (size_t)x] + 128;
            float cb = pl.p[1][(size_t)(y / 2) * (size_t)pl.cw + (size_t)(x / 2)];
            float cr = pl.p[2][(size_t)(y / 2) * (size_t)pl.cw + (size_t)(x / 2)];
            uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
            p[0] = clamp8(Y + 1.402f * cr);
            p[1] = clamp8(Y - 0.344136f * cb - 0.714136f * cr);
            p[2] = clamp8(Y + 1.772f * cb);
        }
    rc = 0;
done:
    planes_free(&pl);
    free(coef);
    return rc;
}

/* ---- the function ---- */

typedef struct vp_job {
    uint64_t seed;
    int w, h, quality, frames;         /* frames per output video */
    uint8_t *src;                      /* VP_SRC_FRAMES frames */
    uint8_t mark[VP_MARK * VP_MARK * 4];
    uint64_t *digest;                  /* per output frame of every video */
    size_t *bytes;
} vp_job;

static size_t frame_bytes(const vp_job *j) { return (size_t)j->w * (size_t)j->h * 3; }

static int make_source(void *arg, int w, int64_t lo, int64_t hi)
{
    (void)w;
    vp_job *j = arg;
    for (int64_t t = lo; t < hi; t++)
        vp_source_frame(j->seed, (int)t, j->w, j->h, j->src + (size_t)t * frame_bytes(j));
    return WL_OK;
}

static int process(void *arg, int w, int64_t lo, int64_t hi)
{
    (void)w;
    vp_job *j = arg;
    uint8_t *f = malloc(frame_bytes(j));
    if (!f)
        return WL_ERUN;
    int rc = WL_OK;
    for (int64_t i = lo; i < hi; i++) {
        int k = (int)(i % j->frames);                  /* output frame k of video i / frames */
        int t = k < 50 ? k : k + 50;                   /* trim 0-49 and 100-149, concatenated */
        memcpy(f, j->src + (size_t)t * frame_bytes(j), frame_bytes(j));
        vp_edit(f, j->w, j->h, j->mark);
        uint8_t *enc;
        size_t len;
        if (vp_encode(f, j->w, j->h, j->quality, &enc, &len) != 0) {
            rc = WL_ERUN;
            break;
        }
        j->digest[i] = wl_hash(WL_HASH_INIT, enc, len);
        j->bytes[i] = len;
        free(enc);
    }
    free(f);
    return rc;
}

static int vp_run(const wl_call *c, wl_out *out)
{
    int64_t w, h, quality, duration;
    if (wl_param_int(c, "width", 640, 16, 3840, &w, out) ||
        wl_param_int(c, "height", 360, 16, 2160, &h, out) ||
        wl_param_int(c, "quality", 75, 1, 100, &quality, out) ||
        wl_param_int(c, "duration", 20, 1, 3600, &duration, out))
        return out->code;
    vp_job j = {c->seed, (int)w, (int)h, (int)quality, 0, NULL, {0}, NULL, NULL};
    j.frames = duration * VP_FPS < VP_OUT_FRAMES ? (int)(duration * VP_FPS) : VP_OUT_FRAMES;
    int64_t total = c->size * j.frames;
    j.src = malloc(VP_SRC_FRAMES * frame_bytes(&j));
    j.digest = malloc((size_t)total * sizeof *j.digest);
    j.bytes = malloc((size_t)total * sizeof *j.bytes);
    if (!j.src || !j.digest || !j.bytes) {
        wl_fail(out, WL_ERUN, "out of memory for a %dx%d clip", j.w, j.h);
    } else {
        vp_watermark(c->seed, j.mark);
        if (wl_parallel_for(VP_SRC_FRAMES, c->parallel, make_source, &j) != WL_OK ||
            wl_parallel_for(total, c->parallel, process, &j) != WL_OK) {
            wl_fail(out, WL_ERUN, "out of memory encoding");
        } else {
            uint64_t hs = WL_HASH_INIT;
            size_t bytes = 0;
            for (int64_t i = 0; i < total; i++) {
                hs = wl_hash_u64(hs, j.digest[i]);
                bytes += j.bytes[i];
            }
            out->checksum = hs;
            json_object_set_new(out->answer, "videos", json_integer((json_int_t)c->size));
            json_object_set_new(out->answer, "frames_per_video", json_integer(j.frames));
            json_object_set_new(out->answer, "width", json_integer(j.w));
            json_object_set_new(out->answer, "height", json_integer(j.h));
            json_object_set_new(out->answer, "encoded_bytes", json_integer((json_int_t)bytes));
        }
    }
    free(j.src);
    free(j.digest);
    free(j.bytes);
    return out->code;
}

const wl_function wl_fn_vp = {
    .id = "vp",
    .summary = "per unit: trim, concatenate, watermark, box and encode 100 frames of a 640x360 clip",
    .default_size = 1,
    .max_size = 1000,
    .default_parallel = 0,
    .run = vp_run,
};

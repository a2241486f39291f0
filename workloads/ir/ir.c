/* ir.c - image-recognition: classify `size` seeded images with a small convolutional network whose
 * weights are drawn from a seed (see README.md). The original ran one ResNet-50 inference whatever
 * the size; here the work is proportional to size (the number of images). */
#include "ir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#define IR_TAG 0x6972                  /* "ir" */

typedef struct conv {
    int cin, cout;
    float *w;                          /* cout x cin x 3 x 3 */
    float *b;                          /* cout */
} conv;

struct ir_net {
    conv c[3];
    float *fc_w;                       /* IR_CLASSES x 64 */
    float *fc_b;
};

static int conv_init(conv *c, int cin, int cout, gsl_rng *r)
{
    c->cin = cin;
    c->cout = cout;
    c->w = malloc((size_t)cout * (size_t)cin * 9 * sizeof *c->w);
    c->b = calloc((size_t)cout, sizeof *c->b);
    if (!c->w || !c->b)
        return -1;
    double sd = sqrt(2.0 / (cin * 9));
    for (int i = 0; i < cout * cin * 9; i++)
        c->w[i] = (float)gsl_ran_gaussian(r, sd);
    for (int i = 0; i < cout; i++)
        c->b[i] = (float)gsl_ran_gaussian(r, 0.01);
    return 0;
}

ir_net *ir_net_new(uint64_t weights_seed)
{
    ir_net *n = calloc(1, sizeof *n);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!n || !r)
        goto fail;
    gsl_rng_set(r, wl_seed(weights_seed, IR_TAG, 0));
    static const int ch[4] = {3, 16, 32, 64};
    for (int k = 0; k < 3; k++)
        if (conv_init(&n->c[k], ch[k], ch[k + 1], r) != 0)
            goto fail;
    n->fc_w = malloc((size_t)IR_CLASSES * 64 * sizeof *n->fc_w);
    n->fc_b = malloc(IR_CLASSES * sizeof *n->fc_b);
    if (!n->fc_w || !n->fc_b)
        goto fail;
    for (int i = 0; i < IR_CLASSES * 64; i++)
        n->fc_w[i] = (float)gsl_ran_gaussian(r, sqrt(1.0 / 64));
    for (int i = 0; i < IR_CLASSES; i++)
        n->fc_b[i] = (float)gsl_ran_gaussian(r, 0.01);
    gsl_rng_free(r);
    return n;
fail:
    gsl_rng_free(r);
    ir_net_free(n);
    return NULL;
}

void ir_net_free(ir_net *n)
{
    if (!n)
        return;
    for (int k = 0; k < 3; k++) {
        free(n->c[k].w);
        free(n->c[k].b);
    }
    free(n->fc_w);
    free(n->fc_b);
    free(n);
}

void ir_image(uint64_t seed, int64_t i, float *chw)
{
    /* a background colour, then seeded discs and bars: the kind of structure convolutions respond to */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return;
    gsl_rng_set(r, wl_seed(seed, IR_TAG, (uint64_t)i + 1));
    const int S = IR_SIDE;
    for (int c = 0; c < 3; c++) {
        float bg = (float)gsl_rng_uniform(r) * 2 - 1;
        for (int p = 0; p < S * S; p++)
            chw[c * S * S + p] = bg;
    }
    int shapes = 3 + (int)gsl_rng_uniform_int(r, 6);
    for (int k = 0; k < shapes; k++) {
        int cx = (int)gsl_rng_uniform_int(r, S), cy = (int)gsl_rng_uniform_int(r, S);
        int rad = 3 + (int)gsl_rng_uniform_int(r, S / 4);
        float col[3];
        for (int c = 0; c < 3; c++)
            col[c] = (float)gsl_rng_uniform(r) * 2 - 1;
        int bar = gsl_rng_uniform_int(r, 2) == 0;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                int in = bar ? abs(x - cx) < rad && abs(y - cy) < 2 + rad / 4
                             : (x - cx) * (x - cx) + (y - cy) * (y - cy) < rad * rad;
                if (in)
                    for (int c = 0; c < 3; c++)
                        chw[c * S * S + y * S + x] = col[c];
            }
    }
    for (int p = 0; p < 3 * S * S; p++)
        chw[p] += (float)(gsl_rng_uniform(r) - 0.5) * 0.1f;
    gsl_rng_free(r);
}

/* conv 3x3, padding 1, then ReLU and 2x2 max pooling: in cin x s x s -> out cout x s/2 x s/2.
 * pad holds (s+2)^2 floats, acc s*s floats. */
static void conv_relu_pool(const conv *c, const float *in, int s, float *out, float *pad, float *acc)
{
    int ps = s + 2, h = s / 2;
    for (int oc = 0; oc < c->cout; oc++) {
        for (int p = 0; p < s * s; p++)
            acc[p] = c->b[oc];
        for (int ic = 0; ic < c->cin; ic++) {
            memset(pad, 0, (size_t)ps * (size_t)ps * sizeof *pad);
            for (int y = 0; y < s; y++)
                memcpy(pad + (y + 1) * ps + 1, in + ((size_t)ic * (size_t)s + (size_t)y) * (size_t)s,
                       (size_t)s * sizeof *pad);
            const float *w = c->w + ((size_t)oc * (size_t)c->cin + (size_t)ic) * 9;
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    float wk = w[ky * 3 + kx];
                    for (int y = 0; y < s; y++) {
                        const float *src = pad + (y + ky) * ps + kx;
                        float *dst = acc + y * s;
                        for (int x = 0; x < s; x++)
                            dst[x] += wk * src[x];
                    }
                }
        }
        float *o = out + (size_t)oc * (size_t)h * (size_t)h;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < h; x++) {
                float m = 0;           /* ReLU then max: max(0, the four) */
                for (int k = 0; k < 4; k++) {
                    float v = acc[(2 * y + k / 2) * s + 2 * x + k % 2];
                    if (v > m)
                        m = v;
                }
                o[y * h + x] = m;
            }
    }
}

int ir_forward(const ir_net *n, const float *chw, float *logits)
{
    const int S = IR_SIDE;
    float *a = malloc((size_t)16 * (S / 2) * (S / 2) * sizeof *a);
    float *b = malloc((size_t)32 * (S / 4) * (S / 4) * sizeof *b);
    float *c = malloc((size_t)64 * (S / 8) * (S / 8) * sizeof *c);
    float *pad = malloc((size_t)(S + 2) * (S + 2) * sizeof *pad);
    float *acc = malloc((size_t)S * S * sizeof *acc);
    int rc = -1;
    if (a && b && c && pad && acc) {
        conv_relu_pool(&n->c[0], chw, S, a, pad, acc);
        conv_relu_pool(&n->c[1], a, S / 2, b, pad, acc);
        conv_relu_pool(&n->c[2], b, S / 4, c, pad, acc);
        float gap[64];
        int hw = (S / 8) * (S / 8);
        for (int k = 0; k < 64; k++) {
            float s = 0;
            for (int p = 0; p < hw; p++)
                s += c[k * hw + p];
            gap[k] = s / (float)hw;
        }
        for (int j = 0; j < IR_CLASSES; j++) {
            float s = n->fc_b[j];
            for (int k = 0; k < 64; k++)
                s += n->fc_w[j * 64 + k] * gap[k];
            logits[j] = s;
        }
        rc = 0;
    }
    free(a);
    free(b);
    free(c);
    free(pad);
    free(acc);
    return rc;
}

void ir_label(int k, char *buf, int len)
{
    static const char *const adj[] = {
        "striped", "spotted", "golden", "silver", "tiny", "giant", "red", "blue", "green", "wild",
        "paper", "wooden", "iron", "glass", "velvet", "arctic", "desert", "alpine", "coastal",
        "electric", "ancient", "modern", "folding", "hooded", "crested", "horned", "spiny",
        "woolly", "painted", "mossy", "frosted", "royal"};
    static const char *const noun[] = {
        "tabby", "heron", "kettle", "lantern", "beetle", "otter", "violin", "tractor", "orchid",
        "falcon", "teapot", "bicycle", "lizard", "compass", "anchor", "mushroom", "salamander",
        "kayak", "tortoise", "umbrella", "pelican", "locomotive", "cactus", "harp", "hedgehog",
        "windmill", "jellyfish", "canoe", "gazelle", "typewriter", "lobster", "parrot"};
    snprintf(buf, (size_t)len, "%s %s", adj[k / 32 % 32], noun[k % 32]);
}

/* ---- the function ---- */

typedef struct ir_job {
    const ir_net *net;
    uint64_t seed;
    int *top;                          /* per image: top-1 class */
    float *prob;                       /* its softmax probability */
    uint64_t *digest;                  /* per image: checksum of the logits */
} ir_job;

static int classify(void *arg, int w, int64_t lo, int64_t hi)
{
    (void)w;
    ir_job *j = arg;
    float *img = malloc((size_t)3 * IR_SIDE * IR_SIDE * sizeof *img);
    float *logits = malloc(IR_CLASSES * sizeof *logits);
    int rc = img && logits ? WL_OK : WL_ERUN;
    for (int64_t i = lo; i < hi && rc == WL_OK; i++) {
        ir_image(j->seed, i, img);
        if (ir_forward(j->net, img, logits) != 0) {
            rc = WL_ERUN;
            break;
        }
        int best = 0;
        for (int k = 1; k < IR_CLASSES; k++)
            if (logits[k] > logits[best])
                best = k;
        double z = 0;
        for (int k = 0; k < IR_CLASSES; k++)
            z += exp((double)(logits[k] - logits[best]));
        j->top[i] = best;
        j->prob[i] = (float)(1.0 / z);
        j->digest[i] = wl_hash(WL_HASH_INIT, logits, IR_CLASSES * sizeof *logits);
    }
    free(img);
    free(logits);
    return rc;
}

static int ir_run(const wl_call *c, wl_out *out)
{
    int64_t wseed;
    if (wl_param_int(c, "weights_seed", 2023, 0, INT64_MAX, &wseed, out))
        return out->code;
    ir_job j = {ir_net_new((uint64_t)wseed), c->seed, NULL, NULL, NULL};
    j.top = malloc((size_t)c->size * sizeof *j.top);
    j.prob = malloc((size_t)c->size * sizeof *j.prob);
    j.digest = malloc((size_t)c->size * sizeof *j.digest);
    int *count = calloc(IR_CLASSES, sizeof *count);
    if (!j.net || !j.top || !j.prob || !j.digest || !count) {
        wl_fail(out, WL_ERUN, "out of memory");
    } else if (wl_parallel_for(c->size, c->parallel, classify, &j) != WL_OK) {
        wl_fail(out, WL_ERUN, "out of memory classifying");
    } else {
        uint64_t h = WL_HASH_INIT;
        int common = 0;
        for (int64_t i = 0; i < c->size; i++) {
            h = wl_hash_u64(h, j.digest[i]);
            if (++count[j.top[i]] > count[common] ||
                (count[j.top[i]] == count[common] && j.top[i] < common))
                common = j.top[i];
        }
        char label[64];
        json_t *first = json_array();
        for (int64_t i = 0; i < c->size && i < 5; i++) {
            ir_label(j.top[i], label, sizeof label);
            json_array_append_new(first, json_pack("{s:s, s:i, s:f}", "label", label, "class",
                                                   j.top[i], "p", round(j.prob[i] * 1e4) / 1e4));
        }
        ir_label(common, label, sizeof label);
        out->checksum = h;
        json_object_set_new(out->answer, "images", json_integer((json_int_t)c->size));
        json_object_set_new(out->answer, "first", first);
        json_object_set_new(out->answer, "most_common", json_string(label));
        json_object_set_new(out->answer, "most_common_count", json_integer(count[common]));
    }
    ir_net_free((ir_net *)j.net);
    free(j.top);
    free(j.prob);
    free(j.digest);
    free(count);
    return out->code;
}

const wl_function wl_fn_ir = {
    .id = "ir",
    .summary = "classify size seeded 64x64 images with a 3-layer CNN (seeded weights)",
    .default_size = 100,
    .max_size = 100000,
    .default_parallel = 0,
    .run = ir_run,
};

/* test_wl_functions.c - the ten benchmark functions on small inputs: their answers are right, the
 * parallel checksum equals the serial one, the result JSON has its fields, and bad parameters give
 * an error result. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dv/dv.h"
#include "gd/gd.h"
#include "ip/ip.h"
#include "ir/ir.h"
#include "knn/knn.h"
#include "ms/ms.h"
#include "runtime.h"
#include "vp/vp.h"

#include "unit/hb_test.h"

extern const wl_function wl_fn_dh, wl_fn_eg, wl_fn_alu;

/* Known checksums of small calls: the image, video and network code must keep producing exactly
 * these outputs (a change here is a change of the benchmark, to be made on purpose). */
#define IP_KNOWN "3122f089cf96521d"    /* ip size 5, 64x48 source, fit in 32x32 */
#define VP_KNOWN "7835dbd73c240b36"    /* vp size 1, 64x48 */
#define IR_KNOWN "c3c0c7f7308fafa1"    /* ir size 4 */

/* Runs f with the parameters in JSON text; returns the status and the result in *res. */
static int call(const wl_function *f, const char *json, json_t **res)
{
    json_error_t e;
    json_t *p = json_loads(json, 0, &e);
    ck_assert_msg(p != NULL, "test parameters do not parse: %s", json);
    int rc = wl_invoke(f, p, res);
    json_decref(p);
    ck_assert_ptr_nonnull(*res);
    return rc;
}

static void check_fields(const json_t *r, const char *id)
{
    ck_assert_str_eq(json_string_value(json_object_get(r, "function")), id);
    ck_assert(json_is_integer(json_object_get(r, "size")));
    ck_assert(json_is_integer(json_object_get(r, "parallel")));
    ck_assert(json_is_integer(json_object_get(r, "seed")));
    ck_assert(json_is_object(json_object_get(r, "answer")));
    const char *ck = json_string_value(json_object_get(r, "checksum"));
    ck_assert_ptr_nonnull(ck);
    ck_assert_int_eq((int)strlen(ck), 16);
    ck_assert(json_real_value(json_object_get(r, "wall_s")) > 0);
    ck_assert(json_is_real(json_object_get(r, "cpu_s")));
    ck_assert(json_is_string(json_object_get(r, "sampler")));
    const char *pairs[2][2] = {{"cpu_timestamp", "cpu_usage"}, {"mem_timestamp", "mem_usage"}};
    for (int k = 0; k < 2; k++) {
        const json_t *t = json_object_get(r, pairs[k][0]), *v = json_object_get(r, pairs[k][1]);
        ck_assert(json_is_array(t) && json_is_array(v));
        ck_assert_int_eq((int)json_array_size(t), (int)json_array_size(v));
    }
    ck_assert_int_ge((int)json_array_size(json_object_get(r, "mem_usage")), 1);
    ck_assert(json_real_value(json_object_get(r, "cpu_peak")) >= 0);
    ck_assert(json_real_value(json_object_get(r, "mem_peak")) > 0);
}

static char *checksum_of(const wl_function *f, const char *json)
{
    json_t *r;
    ck_assert_int_eq(call(f, json, &r), WL_OK);
    check_fields(r, f->id);
    char *s = strdup(json_string_value(json_object_get(r, "checksum")));
    json_decref(r);
    return s;
}

/* The checksum of the call with "parallel":1 equals those with 2 and 3. */
static void same_checksum_serial_parallel(const wl_function *f, const char *params)
{
    char a[512], b[512], c[512];
    snprintf(a, sizeof a, "{%s%s\"parallel\":1}", params, *params ? "," : "");
    snprintf(b, sizeof b, "{%s%s\"parallel\":2}", params, *params ? "," : "");
    snprintf(c, sizeof c, "{%s%s\"parallel\":3}", params, *params ? "," : "");
    char *s1 = checksum_of(f, a), *s2 = checksum_of(f, b), *s3 = checksum_of(f, c);
    ck_assert_str_eq(s1, s2);
    ck_assert_str_eq(s1, s3);
    free(s1);
    free(s2);
    free(s3);
}

/* ---- ms ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

START_TEST(ms_sorts_a_permutation_of_its_input)
{
    const int64_t n = 3 * MS_BLOCK + 123;
    uint32_t *in = malloc(n * sizeof *in);
    ms_generate(7, n, in);
    qsort(in, (size_t)n, sizeof *in, cmp_u32);
    for (int p = 1; p <= 5; p++) {
        uint32_t *out = ms_sorted(7, n, p);
        ck_assert_ptr_nonnull(out);
        for (int64_t i = 1; i < n; i++)
            ck_assert(out[i - 1] <= out[i]);
        ck_assert_mem_eq(out, in, (size_t)n * sizeof *in);   /* sorted input = a permutation */
        free(out);
    }
    free(in);
}
END_TEST

START_TEST(ms_merge_sort_edge_cases)
{
    uint32_t a[200], b[200], tmp[101];
    for (int n = 0; n <= 200; n += 7) {
        for (int i = 0; i < n; i++)
            a[i] = b[i] = (uint32_t)((i * 7919) % 13);     /* many duplicates */
        ms_merge_sort(a, tmp, n);
        qsort(b, (size_t)n, sizeof *b, cmp_u32);
        ck_assert_mem_eq(a, b, (size_t)n * sizeof *a);
    }
}
END_TEST

START_TEST(ms_result_and_parallel_checksum)
{
    same_checksum_serial_parallel(&wl_fn_ms, "\"size\":300");
    json_t *r;
    ck_assert_int_eq(call(&wl_fn_ms, "{\"size\":300}", &r), WL_OK);
    const json_t *a = json_object_get(r, "answer");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "count")), 300 * MS_PER_UNIT);
    ck_assert(json_integer_value(json_object_get(a, "min")) <= json_integer_value(json_object_get(a, "median")));
    ck_assert(json_integer_value(json_object_get(a, "median")) <= json_integer_value(json_object_get(a, "max")));
    json_decref(r);
}
END_TEST

/* ---- dh ---- */

START_TEST(dh_renders_sorted_rows)
{
    same_checksum_serial_parallel(&wl_fn_dh, "\"size\":5");
    json_t *r;
    ck_assert_int_eq(call(&wl_fn_dh, "{\"size\":5}", &r), WL_OK);
    const json_t *a = json_object_get(r, "answer");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "numbers")), 7500);
    const char *rows = json_string_value(json_object_get(a, "first_rows"));
    ck_assert_ptr_nonnull(strstr(rows, "<tr class=\"even\"><td>1</td><td>"));
    /* the rows' values ascend */
    unsigned long prev = 0;
    int seen = 0;
    for (const char *p = rows; (p = strstr(p, "</td><td>")) != NULL && seen < 3; seen++) {
        unsigned long v = strtoul(p + 9, NULL, 10);
        ck_assert(v >= prev);
        prev = v;
        p = strstr(p, "</tr>");
        if (!p)
            break;
    }
    ck_assert_int_gt(seen, 1);
    /* about 120 bytes per row */
    json_int_t bytes = json_integer_value(json_object_get(a, "page_bytes"));
    ck_assert(bytes > 7500 * 80 && bytes < 7500 * 200);
    json_decref(r);
    /* the user's name is part of the page */
    char *plain = checksum_of(&wl_fn_dh, "{\"size\":5}");
    char *named = checksum_of(&wl_fn_dh, "{\"size\":5,\"username\":\"<Ada & Alan>\"}");
    ck_assert_str_ne(plain, named);
    free(plain);
    free(named);
    ck_assert_int_eq(call(&wl_fn_dh, "{\"size\":5,\"username\":7}", &r), WL_EINPUT);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r, "error")), "username"));
    json_decref(r);
}
END_TEST

/* ---- eg ---- */

START_TEST(eg_writes_the_emails)
{
    json_t *r;
    ck_assert_int_eq(call(&wl_fn_eg, "{\"size\":3100}", &r), WL_OK);
    check_fields(r, "eg");
    const json_t *a = json_object_get(r, "answer");
    ck_assert_int_eq(json_integer_value(json_object_get(a, "emails")), 3100);
    ck_assert_int_eq(json_integer_value(json_object_get(a, "files")), 3);    /* 1500+1500+100 */
    json_int_t box = json_integer_value(json_object_get(a, "mailbox_bytes"));
    json_int_t z = json_integer_value(json_object_get(a, "archive_bytes"));
    ck_assert(box > 3100 * 600 && box < 3100 * 1400);
    ck_assert(z > 0 && z < box / 2);   /* text deflates well */
    ck_assert(json_string_length(json_object_get(a, "first_subject")) > 3);
    json_decref(r);
    char *s1 = checksum_of(&wl_fn_eg, "{\"size\":100,\"seed\":1}");
    char *s2 = checksum_of(&wl_fn_eg, "{\"size\":100,\"seed\":1}");
    char *s3 = checksum_of(&wl_fn_eg, "{\"size\":100,\"seed\":2}");
    ck_assert_str_eq(s1, s2);
    ck_assert_str_ne(s1, s3);
    free(s1);
    free(s2);
    free(s3);
}
END_TEST

/* ---- ip ---- */

START_TEST(ip_fit_keeps_aspect)
{
    int w, h;
    ip_fit(800, 600, 400, 400, &w, &h);
    ck_assert(w == 400 && h == 300);
    ip_fit(600, 800, 400, 400, &w, &h);
    ck_assert(w == 300 && h == 400);
    ip_fit(200, 100, 400, 400, &w, &h);   /* never enlarged */
    ck_assert(w == 200 && h == 100);
}
END_TEST

START_TEST(ip_resize_averages)
{
    enum { SW = 40, SH = 30, DW = 10, DH = 8 };
    uint8_t src[SW * SH * 3], dst[DW * DH * 3];
    for (int i = 0; i < SW * SH; i++) {
        src[3 * i] = 200;
        src[3 * i + 1] = 10;
        src[3 * i + 2] = (uint8_t)((i % SW) < SW / 2 ? 0 : 255);   /* left half 0, right half 255 */
    }
    ck_assert_int_eq(ip_resize(src, SW, SH, dst, DW, DH), 0);
    for (int i = 0; i < DW * DH; i++) {
        ck_assert_int_eq(dst[3 * i], 200);  /* a constant channel stays constant */
        ck_assert_int_eq(dst[3 * i + 1], 10);
    }
    ck_assert_int_eq(dst[2], 0);            /* far left, far right */
    ck_assert_int_eq(dst[3 * (DW - 1) + 2], 255);
}
END_TEST

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

START_TEST(ip_png_decodes_to_its_pixels)
{
    enum { W = 37, H = 23 };
    uint8_t src[80 * 60 * 3], img[W * H * 3];
    ip_source(3, 80, 60, src);
    ck_assert_int_eq(ip_resize(src, 80, 60, img, W, H), 0);
    uint8_t *png;
    size_t len;
    ck_assert_int_eq(ip_png(img, W, H, 6, &png, &len), 0);
    static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    ck_assert_mem_eq(png, sig, 8);
    /* walk the chunks, check every CRC, inflate IDAT */
    uint8_t raw[H * (W * 3 + 1)];
    uLongf rawlen = sizeof raw;
    int chunks = 0;
    for (size_t at = 8; at < len; chunks++) {
        uint32_t n = rd32(png + at);
        uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), png + at + 4, n + 4);
        ck_assert_uint_eq(crc, rd32(png + at + 8 + n));
        if (memcmp(png + at + 4, "IHDR", 4) == 0) {
            ck_assert_uint_eq(rd32(png + at + 8), W);
            ck_assert_uint_eq(rd32(png + at + 12), H);
        }
        if (memcmp(png + at + 4, "IDAT", 4) == 0)
            ck_assert_int_eq(uncompress(raw, &rawlen, png + at + 8, n), Z_OK);
        at += 12 + n;
    }
    ck_assert_int_eq(chunks, 3);
    ck_assert_uint_eq(rawlen, sizeof raw);
    /* undo the filters and compare */
    uint8_t out[W * H * 3];
    const size_t stride = W * 3;
    for (int y = 0; y < H; y++) {
        int ft = raw[y * (stride + 1)];
        ck_assert(ft >= 0 && ft <= 4);
        for (size_t i = 0; i < stride; i++) {
            int a = i >= 3 ? out[y * stride + i - 3] : 0, b = y ? out[(y - 1) * stride + i] : 0;
            int c = (i >= 3 && y) ? out[(y - 1) * stride + i - 3] : 0;
            int pred = ft == 0 ? 0 : ft == 1 ? a : ft == 2 ? b : ft == 3 ? (a + b) / 2 : paeth(a, b, c);
            out[y * stride + i] = (uint8_t)(raw[y * (stride + 1) + 1 + i] + pred);
        }
    }
    ck_assert_mem_eq(out, img, sizeof img);
    free(png);
}
END_TEST

START_TEST(ip_known_checksum_and_parallel)
{
    const char *p = "\"size\":5,\"src_width\":64,\"src_height\":48,\"width\":32,\"height\":32";
    same_checksum_serial_parallel(&wl_fn_ip, p);
    char params[256];
    snprintf(params, sizeof params, "{%s}", p);
    char *s = checksum_of(&wl_fn_ip, params);
    ck_assert_str_eq(s, IP_KNOWN);
    free(s);
}
END_TEST

/* ---- vp ---- */

START_TEST(vp_codec_round_trips)
{
    enum { W = 72, H = 40 };
    uint8_t f[W * H * 3], back[W * H * 3];
    vp_source_frame(5, 10, W, H, f);
    uint8_t *enc;
    size_t len;
    ck_assert_int_eq(vp_encode(f, W, H, 90, &enc, &len), 0);
    ck_assert(len < sizeof f);
    ck_assert_int_eq(vp_decode(enc, len, W, H, 90, back), 0);
    double se = 0;
    for (size_t i = 0; i < sizeof f; i++)
        se += (double)(f[i] - back[i]) * (f[i] - back[i]);
    double psnr = 10 * log10(255.0 * 255.0 / (se / sizeof f));
    ck_assert_msg(psnr > 30, "PSNR %.1f dB", psnr);
    free(enc);
}
END_TEST

START_TEST(vp_edit_boxes_and_flips)
{
    enum { W = 160, H = 96 };
    uint8_t f[W * H * 3], mark[VP_MARK * VP_MARK * 4];
    memset(f, 0, sizeof f);
    vp_watermark(1, mark);
    vp_edit(f, W, H, mark);
    const uint8_t *p = f + 3 * ((H / 4) * W + W / 4);    /* the box's top-left corner */
    ck_assert(p[0] == 255 && p[1] == 0 && p[2] == 0);
    p = f + 3 * ((H / 2) * W + W / 2);                   /* its inside is untouched */
    ck_assert(p[0] == 0 && p[1] == 0 && p[2] == 0);
    /* the mark is mirrored: its left bar now shows on the right */
    int ox = W - VP_MARK - 8, oy = 8, y = oy + VP_MARK / 2;
    ck_assert_int_gt(mark[4 * ((VP_MARK / 2) * VP_MARK + 2) + 3], 0);      /* bar: x = 2 */
    const uint8_t *right = f + 3 * (y * W + ox + VP_MARK - 1 - 2);
    const uint8_t *left = f + 3 * (y * W + ox + 2);
    ck_assert(right[0] + right[1] + right[2] > 0);
    ck_assert(left[0] + left[1] + left[2] == 0);
}
END_TEST

START_TEST(vp_known_checksum_and_parallel)
{
    const char *p = "\"size\":1,\"width\":64,\"height\":48";
    same_checksum_serial_parallel(&wl_fn_vp, p);
    char *s = checksum_of(&wl_fn_vp, "{\"size\":1,\"width\":64,\"height\":48}");
    ck_assert_str_eq(s, VP_KNOWN);
    free(s);
    json_t *r;
    ck_assert_int_eq(call(&wl_fn_vp, "{\"size\":2,\"width\":64,\"height\":48,\"duration\":1}", &r), WL_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "answer"), "frames_per_video")), 25);
    json_decref(r);
}
END_TEST

/* ---- ir ---- */

START_TEST(ir_work_depends_on_size)
{
    same_checksum_serial_parallel(&wl_fn_ir, "\"size\":6");
    json_t *r3, *r5;
    ck_assert_int_eq(call(&wl_fn_ir, "{\"size\":3}", &r3), WL_OK);
    ck_assert_int_eq(call(&wl_fn_ir, "{\"size\":5}", &r5), WL_OK);
    ck_assert_str_ne(json_string_value(json_object_get(r3, "checksum")),
                     json_string_value(json_object_get(r5, "checksum")));
    const json_t *f3 = json_object_get(json_object_get(r3, "answer"), "first");
    const json_t *f5 = json_object_get(json_object_get(r5, "answer"), "first");
    ck_assert_int_eq((int)json_array_size(f3), 3);
    ck_assert_int_eq((int)json_array_size(f5), 5);
    for (size_t i = 0; i < 3; i++)     /* image i is the same image whatever the size */
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(f3, i), "class")),
                         json_integer_value(json_object_get(json_array_get(f5, i), "class")));
    json_decref(r3);
    json_decref(r5);
}
END_TEST

START_TEST(ir_forward_is_deterministic)
{
    ir_net *n = ir_net_new(9);
    ck_assert_ptr_nonnull(n);
    float img[3 * IR_SIDE * IR_SIDE], a[IR_CLASSES], b[IR_CLASSES];
    ir_image(4, 0, img);
    ck_assert_int_eq(ir_forward(n, img, a), 0);
    ck_assert_int_eq(ir_forward(n, img, b), 0);
    ck_assert_mem_eq(a, b, sizeof a);
    int differ = 0;
    for (int k = 1; k < IR_CLASSES; k++)
        differ += a[k] != a[0];
    ck_assert_int_gt(differ, IR_CLASSES / 2);    /* the logits carry information */
    ir_net_free(n);
    char *s = checksum_of(&wl_fn_ir, "{\"size\":4}");
    ck_assert_str_eq(s, IR_KNOWN);
    free(s);
}
END_TEST

/* ---- knn ---- */

static const double *sort_dist;
static int cmp_idx(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    return sort_dist[i] < sort_dist[j] ? -1 : sort_dist[i] > sort_dist[j] ? 1 : i - j;
}

START_TEST(knn_matches_brute_force)
{
    knn_set s;
    ck_assert_int_eq(knn_set_alloc(&s, 300, 16, 4), 0);
    for (int q = 0; q < 5; q++) {
        knn_draw(11, q, &s);
        int k = 5, idx[KNN_MAX_K];
        double dist[KNN_MAX_K];
        knn_nearest(&s, k, idx, dist);
        /* brute force: every distance, all sorted */
        double *all = malloc(300 * sizeof *all);
        int *order = malloc(300 * sizeof *order);
        for (int i = 0; i < 300; i++) {
            double d2 = 0;
            for (int d = 0; d < 16; d++)
                d2 += (s.x[i * 16 + d] - s.query[d]) * (s.x[i * 16 + d] - s.query[d]);
            all[i] = d2;
            order[i] = i;
        }
        sort_dist = all;
        qsort(order, 300, sizeof *order, cmp_idx);
        for (int a = 0; a < k; a++) {
            ck_assert_int_eq(idx[a], order[a]);
            ck_assert(fabs(dist[a] - all[order[a]]) < 1e-9);
        }
        /* the vote: a label with the most votes among the five */
        int v = knn_vote(&s, k, idx), votes_v = 0;
        for (int a = 0; a < k; a++)
            votes_v += s.label[idx[a]] == v;
        for (int a = 0; a < k; a++) {
            int votes = 0;
            for (int b = 0; b < k; b++)
                votes += s.label[idx[b]] == s.label[idx[a]];
            ck_assert_int_le(votes, votes_v);
        }
        free(all);
        free(order);
    }
    knn_set_free(&s);
}
END_TEST

START_TEST(knn_result_and_parallel)
{
    const char *p = "\"size\":7,\"dataset_size\":200,\"feature_dim\":32";
    same_checksum_serial_parallel(&wl_fn_knn, p);
    json_t *r;
    ck_assert_int_eq(call(&wl_fn_knn, "{\"size\":7,\"dataset_size\":200,\"feature_dim\":32}", &r), WL_OK);
    double acc = json_real_value(json_object_get(json_object_get(r, "answer"), "accuracy"));
    ck_assert(acc >= 0 && acc <= 1);
    json_decref(r);
    ck_assert_int_eq(call(&wl_fn_knn, "{\"size\":1,\"dataset_size\":2,\"k\":3}", &r), WL_EINPUT);
    json_decref(r);
}
END_TEST

/* ---- alu ---- */

START_TEST(alu_counts_and_parallel)
{
    same_checksum_serial_parallel(&wl_fn_alu, "\"size\":5000,\"rounds\":20");
    json_t *r;
    ck_assert_int_eq(call(&wl_fn_alu, "{\"size\":5000,\"rounds\":20}", &r), WL_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "answer"), "operations")),
                     4 * 5000 * 20);
    json_decref(r);
    char *a = checksum_of(&wl_fn_alu, "{\"size\":5000,\"rounds\":20}");
    char *b = checksum_of(&wl_fn_alu, "{\"size\":5000,\"rounds\":21}");
    ck_assert_str_ne(a, b);            /* every round counts */
    free(a);
    free(b);
    ck_assert_int_eq(call(&wl_fn_alu, "{\"rounds\":0}", &r), WL_EINPUT);
    json_decref(r);
}
END_TEST

/* ---- gd ---- */

START_TEST(gd_loss_falls)
{
    gd_problem p = {0};
    ck_assert_int_eq(gd_problem_new(3, 0, 20, 20, 40, &p), 0);
    gsl_matrix *w = gsl_matrix_calloc(40, 20);
    double l0 = gd_loss(&p, w);
    ck_assert(l0 > 1);
    for (int m = 0; m < GD_NMETHODS; m++) {
        double l100 = gd_fit(&p, (enum gd_method)m, 100, w);
        double l1000 = gd_fit(&p, (enum gd_method)m, 1000, w);
        ck_assert_msg(l1000 < l100 && l1000 < 0.01 * l0, "method %d: %g -> %g -> %g", m, l0, l100, l1000);
        ck_assert(fabs(gd_loss(&p, w) - l1000) < 1e-12);
    }
    gsl_matrix_free(w);
    gd_problem_free(&p);
    same_checksum_serial_parallel(&wl_fn_gd, "\"size\":4,\"iterations\":200");
}
END_TEST

/* ---- dv ---- */

START_TEST(dv_squiggle_rules)
{
    double x[9], y[9];
    dv_squiggle("ACGT", 4, x, y);
    static const double want[9] = {0, 0.5, 0, -0.5, 0, 0.5, 1, 0.5, 0};
    for (int i = 0; i < 9; i++) {
        ck_assert(fabs(y[i] - want[i]) < 1e-12);
        ck_assert(fabs(x[i] - 0.5 * i) < 1e-12);
    }
    char g[2001];
    dv_gene(5, 0, 2000, g);
    ck_assert_int_eq((int)strlen(g), 2000);
    ck_assert_int_eq((int)strspn(g, "ACGT"), 2000);
}
END_TEST

START_TEST(dv_plot_is_connected)
{
    char g[501];
    double x[1001], y[1001];
    uint8_t *img = malloc(DV_IMG_W * DV_IMG_H);
    dv_gene(8, 1, 500, g);
    dv_squiggle(g, 500, x, y);
    dv_plot(x, y, 1001, img);
    for (int col = 0; col < DV_IMG_W; col++) {   /* a line across: ink in every column */
        int ink = 0;
        for (int row = 0; row < DV_IMG_H; row++)
            ink += img[row * DV_IMG_W + col] != 0;
        ck_assert_msg(ink > 0, "column %d is empty", col);
    }
    free(img);
    same_checksum_serial_parallel(&wl_fn_dv, "\"size\":9,\"gene_a\":300,\"gene_b\":500");
}
END_TEST

/* ---- parameters ---- */

START_TEST(bad_parameters_give_an_error_result)
{
    static const struct { const char *json, *word; } bad[] = {
        {"{\"size\":-5}", "size"},
        {"{\"size\":\"abc\"}", "number"},
        {"{\"size\":1.5}", "integer"},
        {"{\"size\":null}", "number"},
        {"{\"size\":1e300}", "size"},
        {"{\"parallel\":-1}", "parallel"},
        {"{\"parallel\":100000}", "parallel"},
        {"{\"seed\":true}", "seed"},
        {"{\"size\":999999999999}", "size"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *r;
        ck_assert_int_eq(call(&wl_fn_ms, bad[i].json, &r), WL_EINPUT);
        const char *e = json_string_value(json_object_get(r, "error"));
        ck_assert_msg(e && strstr(e, bad[i].word), "%s -> %s", bad[i].json, e ? e : "(none)");
        ck_assert_ptr_null(json_object_get(r, "checksum"));
        json_decref(r);
    }
    json_t *arr = json_array(), *r;
    ck_assert_int_eq(wl_invoke(&wl_fn_ms, arr, &r), WL_EINPUT);
    ck_assert_ptr_nonnull(json_object_get(r, "error"));
    json_decref(r);
    json_decref(arr);
    /* an integral real is a fine size */
    ck_assert_int_eq(call(&wl_fn_ms, "{\"size\":2.0}", &r), WL_OK);
    json_decref(r);
}
END_TEST

HB_TEST_MAIN("workload functions", ms_sorts_a_permutation_of_its_input, ms_merge_sort_edge_cases,
             ms_result_and_parallel_checksum, dh_renders_sorted_rows, eg_writes_the_emails,
             ip_fit_keeps_aspect, ip_resize_averages, ip_png_decodes_to_its_pixels,
             ip_known_checksum_and_parallel, vp_codec_round_trips, vp_edit_boxes_and_flips,
             vp_known_checksum_and_parallel, ir_work_depends_on_size, ir_forward_is_deterministic,
             knn_matches_brute_force, knn_result_and_parallel, alu_counts_and_parallel,
             gd_loss_falls, dv_squiggle_rules, dv_plot_is_connected,
             bad_parameters_give_an_error_result)

/* dh.c - dynamic-html: merge-sort random numbers and render them into an HTML page from a template
 * (see README.md). The sort is merge-sorting's (workloads/ms), as the original reused its sort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms/ms.h"
#include "runtime.h"

#define DH_PER_UNIT 1500               /* numbers per unit of size */
#define DH_ROWS 4096                   /* rows rendered and checksummed as one block */
#define DH_SEED_TAG 0x6468             /* "dh": derives the number stream from the call's seed */

/* The page template: {{username}}, {{count}} and {{rows}} are substituted. */
static const char dh_template[] =
    "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>Random numbers</title>\n"
    "<style>td{font-family:monospace}.bar{background:#36c;height:8px}</style></head>\n"
    "<body>\n<h1>Hello, {{username}}!</h1>\n<p>{{count}} random numbers, sorted.</p>\n"
    "<table>\n<tr><th>rank</th><th>value</th><th>hex</th><th>quantile</th><th></th></tr>\n"
    "{{rows}}</table>\n</body>\n</html>\n";

/* Appends s to buf (cap checked by the caller's sizing); HTML-escapes when esc. */
static size_t put(char *buf, size_t at, size_t cap, const char *s, size_t n, int esc)
{
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        if (esc)
            rep = s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" : s[i] == '&' ? "&amp;"
                : s[i] == '"' ? "&quot;" : s[i] == '\'' ? "&#39;" : NULL;
        if (rep) {
            size_t rl = strlen(rep);
            if (at + rl < cap)
                memcpy(buf + at, rep, rl);
            at += rl;
        } else {
            if (at + 1 < cap)
                buf[at] = s[i];
            at++;
        }
    }
    return at;
}

/* Renders the template part between from and to (excluding {{rows}}) with the substitutions. */
static size_t render_part(char *buf, size_t cap, const char *from, const char *to,
                          const char *user, long long count)
{
    size_t at = 0;
    char num[32];
    snprintf(num, sizeof num, "%lld", count);
    while (from < to) {
        const char *open = strstr(from, "{{");
        if (!open || open >= to) {
            at = put(buf, at, cap, from, (size_t)(to - from), 0);
            break;
        }
        at = put(buf, at, cap, from, (size_t)(open - from), 0);
        const char *close = strstr(open, "}}");
        size_t kl = (size_t)(close - open - 2);
        if (kl == 8 && strncmp(open + 2, "username", 8) == 0)
            at = put(buf, at, cap, user, strlen(user), 1);
        else if (kl == 5 && strncmp(open + 2, "count", 5) == 0)
            at = put(buf, at, cap, num, strlen(num), 0);
        from = close + 2;
    }
    if (cap)
        buf[at < cap ? at : cap - 1] = '\0';
    return at;
}

typedef struct dh_job {
    const uint32_t *v;
    int64_t n, nblocks;
    uint64_t *digest;                  /* per block */
    int64_t *bytes;                    /* per block */
    char *preview;                     /* the first rows, for the answer */
    size_t preview_cap;
} dh_job;

static int render_rows(void *arg, int w, int64_t lo, int64_t hi)
{
    (void)w;
    dh_job *j = arg;
    size_t cap = (size_t)DH_ROWS * 192;
    char *buf = malloc(cap);
    if (!buf)
        return WL_ERUN;
    for (int64_t b = lo; b < hi; b++) {
        size_t at = 0;
        int64_t end = (b + 1) * DH_ROWS < j->n ? (b + 1) * DH_ROWS : j->n;
        for (int64_t i = b * DH_ROWS; i < end; i++) {
            uint32_t x = j->v[i];
            double q = j->n > 1 ? 100.0 * (double)i / (double)(j->n - 1) : 100.0;
            int len = snprintf(buf + at, cap - at,
                               "<tr class=\"%s\"><td>%lld</td><td>%u</td><td>0x%08x</td>"
                               "<td>%.2f%%</td><td><div class=\"bar\" style=\"width:%upx\"></div>"
                               "</td></tr>\n",
                               (i & 1) ? "odd" : "even", (long long)i + 1, x, x, q,
                               (unsigned)(x >> 24));
            at += (size_t)len;
        }
        j->digest[b] = wl_hash(WL_HASH_INIT, buf, at);
        j->bytes[b] = (int64_t)at;
        if (b == 0) {
            size_t k = at < j->preview_cap - 1 ? at : j->preview_cap - 1;
            memcpy(j->preview, buf, k);
            j->preview[k] = '\0';
        }
    }
    free(buf);
    return WL_OK;
}

static int dh_run(const wl_call *c, wl_out *out)
{
    const char *user;
    if (wl_param_str(c, "username", "harvestbench", 256, &user, out))
        return out->code;
    int64_t n = c->size * DH_PER_UNIT;
    uint32_t *v = ms_sorted(wl_hash_u64(c->seed, DH_SEED_TAG), n, c->parallel);
    dh_job j = {v, n, (n + DH_ROWS - 1) / DH_ROWS, NULL, NULL, NULL, 512};
    j.digest = malloc((size_t)j.nblocks * sizeof *j.digest);
    j.bytes = malloc((size_t)j.nblocks * sizeof *j.bytes);
    j.preview = malloc(j.preview_cap);
    int rc = !v || !j.digest || !j.bytes || !j.preview
                 ? wl_fail(out, WL_ERUN, "out of memory for %lld numbers", (long long)n)
                 : wl_parallel_for(j.nblocks, c->parallel, render_rows, &j);
    if (rc == WL_OK) {
        /* the page is header + rows + footer; its checksum chains the parts in page order */
        const char *rows = strstr(dh_template, "{{rows}}");
        char head[2048], foot[256];   /* the template's head + a 256-byte name escaped */
        size_t hl = render_part(head, sizeof head, dh_template, rows, user, (long long)n);
        size_t fl = render_part(foot, sizeof foot, rows + 8, dh_template + sizeof dh_template - 1,
                                user, (long long)n);
        uint64_t h = wl_hash(WL_HASH_INIT, head, hl);
        int64_t total = (int64_t)(hl + fl);
        for (int64_t b = 0; b < j.nblocks; b++) {
            h = wl_hash_u64(h, j.digest[b]);
            total += j.bytes[b];
        }
        out->checksum = wl_hash(h, foot, fl);
        json_object_set_new(out->answer, "numbers", json_integer((json_int_t)n));
        json_object_set_new(out->answer, "page_bytes", json_integer((json_int_t)total));
        json_object_set_new(out->answer, "min", json_integer(v[0]));
        json_object_set_new(out->answer, "max", json_integer(v[n - 1]));
        json_object_set_new(out->answer, "first_rows", json_string(j.preview));
    } else if (out->code == WL_OK) {
        wl_fail(out, WL_ERUN, "out of memory rendering");
    }
    free(v);
    free(j.digest);
    free(j.bytes);
    free(j.preview);
    return out->code;
}

const wl_function wl_fn_dh = {
    .id = "dh",
    .summary = "render an HTML page of size*1500 merge-sorted random numbers",
    .default_size = 1000,
    .max_size = 100000,
    .default_parallel = 2,
    .run = dh_run,
};

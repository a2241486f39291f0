/* checkpoint.c - reading and writing the Freyr checkpoint with cJSON. See checkpoint.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "checkpoint.h"

#define CKPT_FORMAT "harvestbench-freyr"
#define CKPT_VERSION 1

/* ---- writing ---- */

static cJSON *num17(double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    return cJSON_CreateRaw(buf);
}

static cJSON *num_array(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *x = num17(v[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *net_json(const freyr_mlp *m)
{
    cJSON *layers = cJSON_CreateArray();
    for (int l = 0; layers && l < m->n_layers; l++) {
        int in = m->sizes[l], out = m->sizes[l + 1];
        cJSON *o = cJSON_CreateObject();
        cJSON *w = cJSON_CreateArray();
        if (!o || !w || !cJSON_AddItemToArray(layers, o)) {
            cJSON_Delete(o);
            cJSON_Delete(w);
            cJSON_Delete(layers);
            return NULL;
        }
        cJSON_AddNumberToObject(o, "in", in);
        cJSON_AddNumberToObject(o, "out", out);
        cJSON_AddStringToObject(o, "activation", l < m->n_layers - 1 ? "tanh" : "linear");
        cJSON_AddItemToObject(o, "weight", w);
        for (int r = 0; r < out; r++)
            cJSON_AddItemToArray(w, num_array(m->w + m->off_w[l] + (size_t)r * (size_t)in, (size_t)in));
        cJSON_AddItemToObject(o, "bias", num_array(m->w + m->off_b[l], (size_t)out));
    }
    return layers;
}

static int all_finite(const freyr_mlp *m)
{
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->w[i]))
            return 0;
    return 1;
}

int freyr_ckpt_save(const char *path, const freyr_agent *a, const freyr_norm *norm,
                    const freyr_provenance *prov, hb_error *err)
{
    if (!all_finite(&a->actor) || !all_finite(&a->critic))
        return hb_fail(err, HB_ERUN, "%s: not saved: the networks hold non-finite weights", path);
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return hb_fail(err, HB_ENOMEM, "%s: out of memory", path);
    cJSON_AddStringToObject(root, "format", CKPT_FORMAT);
    cJSON_AddNumberToObject(root, "version", CKPT_VERSION);
    cJSON *cand = cJSON_AddObjectToObject(root, "candidates");
    if (cand) {
        int r[2] = {1, FREYR_CAP};
        cJSON_AddItemToObject(cand, "cpu", cJSON_CreateIntArray(r, 2));
        cJSON_AddItemToObject(cand, "mem_units", cJSON_CreateIntArray(r, 2));
        cJSON_AddNumberToObject(cand, "mem_unit_mb", HB_MEM_UNIT_MB);
        cJSON_AddStringToObject(cand, "order", "cpu-major");
    }
    cJSON_AddItemToObject(root, "features", cJSON_CreateStringArray(freyr_feature_names, FREYR_NFEAT));
    cJSON *nj = cJSON_AddObjectToObject(root, "norm");
    if (nj) {
        cJSON_AddItemToObject(nj, "shift", num_array(norm->shift, FREYR_NFEAT));
        cJSON_AddItemToObject(nj, "scale", num_array(norm->scale, FREYR_NFEAT));
    }
    cJSON_AddItemToObject(root, "actor", net_json(&a->actor));
    cJSON_AddItemToObject(root, "critic", net_json(&a->critic));
    if (prov) {
        cJSON *t = cJSON_AddObjectToObject(root, "trained");
        if (t) {
            cJSON_AddNumberToObject(t, "episodes", (double)prov->episodes);
            cJSON_AddNumberToObject(t, "seed", (double)prov->seed);
            if (prov->config)
                cJSON_AddStringToObject(t, "config", prov->config);
            if (prov->command)
                cJSON_AddStringToObject(t, "command", prov->command);
        }
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return hb_fail(err, HB_ENOMEM, "%s: out of memory", path);

    size_t n = strlen(path) + 5;
    char *tmp = malloc(n);
    if (!tmp) {
        cJSON_free(text);
        return hb_fail(err, HB_ENOMEM, "%s: out of memory", path);
    }
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = 0;
    if (!f) {
        rc = hb_fail(err, HB_EIO, "%s: %s", tmp, strerror(errno));
    } else {
        int bad = fputs(text, f) < 0 || fputc('\n', f) == EOF;
        bad |= fclose(f) != 0;
        if (bad)
            rc = hb_fail(err, HB_EIO, "%s: write failed: %s", tmp, strerror(errno));
        else if (rename(tmp, path) != 0)
            rc = hb_fail(err, HB_EIO, "%s: %s", path, strerror(errno));
        if (rc)
            remove(tmp);
    }
    free(tmp);
    cJSON_free(text);
    return rc;
}

/* ---- reading ---- */

static char *slurp(const char *path, size_t *len, hb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        hb_fail(err, HB_EINPUT, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (n < cap)
            break;
        char *b = realloc(buf, cap *= 2);
        if (!b) {
            free(buf);
            buf = NULL;
        } else {
            buf = b;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf) {
        hb_fail(err, HB_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    if (bad) {
        free(buf);
        hb_fail(err, HB_EIO, "%s: read failed", path);
        return NULL;
    }
    *len = n;
    return buf;
}

static int bad(hb_error *err, const char *path, const char *where, const char *what)
{
    return hb_fail(err, HB_EINPUT, "%s: %s: %s", path, where, what);
}

/* Reads n finite numbers from array j into out. */
static int read_nums(const cJSON *j, size_t n, double *out, const char *path, const char *where,
                     hb_error *err)
{
    if (!cJSON_IsArray(j))
        return bad(err, path, where, "expected an array of numbers");
    if ((size_t)cJSON_GetArraySize(j) != n) {
        char what[64];
        snprintf(what, sizeof what, "expected %zu numbers, found %d", n, cJSON_GetArraySize(j));
        return bad(err, path, where, what);
    }
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, j) {
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) {
            char w[160];
            snprintf(w, sizeof w, "%s[%zu]", where, i);
            return bad(err, path, w, "not a finite number");
        }
        out[i++] = x->valuedouble;
    }
    return 0;
}

static int read_net(const cJSON *root, const char *name, freyr_mlp *m, const char *path,
                    hb_error *err)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) != m->n_layers) {
        char what[64];
        snprintf(what, sizeof what, "expected an array of %d layers", m->n_layers);
        return bad(err, path, name, what);
    }
    int l = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, layers) {
        char where[128];
        int in = m->sizes[l], out = m->sizes[l + 1];
        const char *act = l < m->n_layers - 1 ? "tanh" : "linear";
        const cJSON *ji = cJSON_GetObjectItemCaseSensitive(o, "in");
        const cJSON *jo = cJSON_GetObjectItemCaseSensitive(o, "out");
        const cJSON *ja = cJSON_GetObjectItemCaseSensitive(o, "activation");
        snprintf(where, sizeof where, "%s[%d]", name, l);
        if (!cJSON_IsNumber(ji) || ji->valuedouble != in || !cJSON_IsNumber(jo) || jo->valuedouble != out) {
            char what[96];
            snprintf(what, sizeof what, "expected a layer of %d inputs and %d outputs", in, out);
            return bad(err, path, where, what);
        }
        if (!cJSON_IsString(ja) || strcmp(ja->valuestring, act) != 0) {
            char what[64];
            snprintf(what, sizeof what, "expected activation \"%s\"", act);
            return bad(err, path, where, what);
        }
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "weight");
        snprintf(where, sizeof where, "%s[%d].weight", name, l);
        if (!cJSON_IsArray(w) || cJSON_GetArraySize(w) != out) {
            char what[64];
            snprintf(what, sizeof what, "expected %d rows", out);
            return bad(err, path, where, what);
        }
        int r = 0;
        const cJSON *row;
        cJSON_ArrayForEach(row, w) {
            snprintf(where, sizeof where, "%s[%d].weight[%d]", name, l, r);
            int rc = read_nums(row, (size_t)in, m->w + m->off_w[l] + (size_t)r * (size_t)in, path,
                               where, err);
            if (rc)
                return rc;
            r++;
        }
        snprintf(where, sizeof where, "%s[%d].bias", name, l);
        int rc = read_nums(cJSON_GetObjectItemCaseSensitive(o, "bias"), (size_t)out,
                           m->w + m->off_b[l], path, where, err);
        if (rc)
            return rc;
        l++;
    }
    return 0;
}

static int line_of(const char *text, const char *at)
{
    int line = 1;
    for (const char *p = text; p < at && *p; p++)
        line += *p == '\n';
    return line;
}

int freyr_ckpt_load(const char *path, freyr_agent *a, freyr_norm *norm, hb_error *err)
{
    size_t len = 0;
    char *text = slurp(path, &len, err);
    if (!text)
        return err ? err->code : HB_EIO;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        int rc = hb_fail_at(err, HB_EINPUT, path, end ? line_of(text, end) : 0, NULL,
                            "not valid JSON");
        free(text);
        return rc;
    }
    free(text);

    int rc = 0;
    memset(a, 0, sizeof *a);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *feats = cJSON_GetObjectItemCaseSensitive(root, "features");
    const cJSON *nj = cJSON_GetObjectItemCaseSensitive(root, "norm");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, CKPT_FORMAT) != 0) {
        rc = bad(err, path, "format", "not a harvestbench Freyr checkpoint (\"format\": \"" CKPT_FORMAT "\")");
        goto out;
    }
    if (!cJSON_IsNumber(ver) || ver->valuedouble != CKPT_VERSION) {
        rc = bad(err, path, "version", "unsupported version (this build reads version 1)");
        goto out;
    }
    if (!cJSON_IsArray(feats) || cJSON_GetArraySize(feats) != FREYR_NFEAT) {
        rc = bad(err, path, "features", "expected the 11 feature names of docs/policies.md");
        goto out;
    }
    for (int k = 0; k < FREYR_NFEAT; k++) {
        const cJSON *s = cJSON_GetArrayItem(feats, k);
        if (!cJSON_IsString(s) || strcmp(s->valuestring, freyr_feature_names[k]) != 0) {
            char where[32], what[96];
            snprintf(where, sizeof where, "features[%d]", k);
            snprintf(what, sizeof what, "expected \"%s\"", freyr_feature_names[k]);
            rc = bad(err, path, where, what);
            goto out;
        }
    }
    rc = read_nums(cJSON_GetObjectItemCaseSensitive(nj, "shift"), FREYR_NFEAT, norm->shift, path,
                   "norm.shift", err);
    if (!rc)
        rc = read_nums(cJSON_GetObjectItemCaseSensitive(nj, "scale"), FREYR_NFEAT, norm->scale,
                       path, "norm.scale", err);
    if (rc)
        goto out;
    for (int k = 0; k < FREYR_NFEAT; k++)
        if (norm->scale[k] == 0.0) {
            char where[32];
            snprintf(where, sizeof where, "norm.scale[%d]", k);
            rc = bad(err, path, where, "must not be 0");
            goto out;
        }
    rc = freyr_agent_init(a, FREYR_NFEAT, NULL, NULL, err);
    if (rc)
        goto out;
    rc = read_net(root, "actor", &a->actor, path, err);
    if (!rc)
        rc = read_net(root, "critic", &a->critic, path, err);
    if (rc)
        freyr_agent_free(a);
out:
    cJSON_Delete(root);
    return rc;
}

/* ow_activation.c - see ow_activation.h. */
#include "ow_activation.h"

#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TIME_MS 9007199254740992.0
#define BAD(...) (rc = hb_fail(err, HB_EINPUT, "activation record: " __VA_ARGS__))

void ow_activation_free(ow_activation *a)
{
    free(a->cpu.t);
    free(a->cpu.v);
    free(a->mem.t);
    free(a->mem.v);
    memset(&a->cpu, 0, sizeof a->cpu);
    memset(&a->mem, 0, sizeof a->mem);
}

static int is_num(const cJSON *j) { return cJSON_IsNumber(j) && isfinite(j->valuedouble); }

/* A numeric series: both arrays present, numbers, equal lengths. 0 absent, 1 read, -1 malformed. */
static int read_series(const cJSON *res, const char *tkey, const char *vkey, ow_samples *s,
                       hb_error *err)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(res, tkey);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(res, vkey);
    if (!t && !v)
        return 0;
    if (!cJSON_IsArray(t) || !cJSON_IsArray(v)) {
        hb_fail(err, HB_EINPUT, "activation record: response.result.%s: %s and %s must both be "
                "arrays", !cJSON_IsArray(t) ? tkey : vkey, tkey, vkey);
        return -1;
    }
    int n = cJSON_GetArraySize(t);
    if (n != cJSON_GetArraySize(v)) {
        hb_fail(err, HB_EINPUT, "activation record: response.result: %s has %d samples, %s %d", tkey,
                n, vkey, cJSON_GetArraySize(v));
        return -1;
    }
    s->t = malloc(((size_t)n + 1) * sizeof *s->t);
    s->v = malloc(((size_t)n + 1) * sizeof *s->v);
    if (!s->t || !s->v) {
        hb_fail(err, HB_ENOMEM, "out of memory");
        return -1;
    }
    const cJSON *a = t->child, *b = v->child;
    for (int i = 0; i < n; i++, a = a->next, b = b->next) {
        if (!is_num(a) || !is_num(b) || b->valuedouble < 0) {
            hb_fail(err, HB_EINPUT, "activation record: response.result.%s[%d]: not a number >= 0",
                    is_num(a) ? vkey : tkey, i);
            return -1;
        }
        s->t[i] = a->valuedouble;
        s->v[i] = b->valuedouble;
    }
    s->n = (size_t)n;
    return 1;
}

static int read_usage(const cJSON *res, ow_activation *a, hb_error *err)
{
    int rc = 0;
    const cJSON *j;
    if ((j = cJSON_GetObjectItemCaseSensitive(res, "cpu_peak"))) {
        if (!is_num(j) || j->valuedouble < 0)
            return BAD("response.result.cpu_peak: not a number >= 0");
        a->cpu_peak = j->valuedouble;
    }
    if ((j = cJSON_GetObjectItemCaseSensitive(res, "mem_peak"))) {
        if (!is_num(j) || j->valuedouble < 0)
            return BAD("response.result.mem_peak: not a number >= 0");
        a->mem_peak_mb = j->valuedouble;
    }
    if ((j = cJSON_GetObjectItemCaseSensitive(res, "interval_ms"))) {
        if (!is_num(j) || j->valuedouble <= 0)
            return BAD("response.result.interval_ms: not a number > 0");
        a->interval_ms = j->valuedouble;
    }
    int c = read_series(res, "cpu_timestamp", "cpu_usage", &a->cpu, err);
    if (c < 0)
        return err->code;
    int m = read_series(res, "mem_timestamp", "mem_usage", &a->mem, err);
    if (m < 0)
        return err->code;
    a->has_usage = c > 0 && m > 0;
    return 0;
}

static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src);
}

static int read_annotations(const cJSON *anns, ow_activation *a, hb_error *err)
{
    int rc = 0, i = 0;
    if (!cJSON_IsArray(anns))
        return BAD("annotations: not an array");
    for (const cJSON *e = anns->child; e; e = e->next, i++) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
        if (!cJSON_IsObject(e) || !cJSON_IsString(k))
            return BAD("annotations[%d]: not an object with a string \"key\"", i);
        const char *key = k->valuestring;
        if (strcmp(key, "waitTime") == 0) {
            if (!is_num(v) || v->valuedouble < 0)
                return BAD("annotation waitTime: not a number >= 0");
            a->wait_ms = v->valuedouble;
            a->has_wait = 1;
        } else if (strcmp(key, "initTime") == 0) {
            if (!is_num(v) || v->valuedouble < 0)
                return BAD("annotation initTime: not a number >= 0");
            a->init_ms = v->valuedouble;
            a->has_init = 1;
        } else if (strcmp(key, "timeout") == 0) {
            if (!cJSON_IsBool(v))
                return BAD("annotation timeout: not true or false");
            a->timeout = cJSON_IsTrue(v);
        } else if (strcmp(key, "kind") == 0) {
            if (!cJSON_IsString(v))
                return BAD("annotation kind: not a string");
            copy_str(a->kind, sizeof a->kind, v->valuestring);
        } else if (strcmp(key, "limits") == 0) {
            if (!cJSON_IsObject(v))
                return BAD("annotation limits: not an object");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "timeout");
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "memory");
            if ((t && !is_num(t)) || (m && !is_num(m)))
                return BAD("annotation limits: timeout and memory must be numbers");
            a->limit_timeout_ms = t ? t->valuedouble : 0;
            a->limit_memory_mb = m ? m->valuedouble : 0;
        }
        /* other annotations (path, entry, causedBy, ...) are not needed */
    }
    return 0;
}

int ow_activation_parse(const char *text, size_t len, ow_activation *a, hb_error *err)
{
    memset(a, 0, sizeof *a);
    a->status_code = a->success = -1;
    a->cpu_peak = a->mem_peak_mb = -1;
    a->interval_ms = 100;
    int rc = 0;
    if (!text || !len)
        return BAD("empty");
    const char *end_ptr = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end_ptr, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= text && at <= text + len ? (long)(at - text) : -1;
        return BAD("not valid JSON (at byte %ld)", off);
    }
    const cJSON *j;
    if (!cJSON_IsObject(root)) {
        BAD("not a JSON object");
        goto done;
    }
    j = cJSON_GetObjectItemCaseSensitive(root, "activationId");
    if (!cJSON_IsString(j) || !j->valuestring[0] || strlen(j->valuestring) >= sizeof a->id) {
        BAD("activationId: missing or not a string");
        goto done;
    }
    copy_str(a->id, sizeof a->id, j->valuestring);
    j = cJSON_GetObjectItemCaseSensitive(root, "name");
    if (cJSON_IsString(j))
        copy_str(a->name, sizeof a->name, j->valuestring);
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(root, "start");
    const cJSON *je = cJSON_GetObjectItemCaseSensitive(root, "end");
    /* times beyond 2^53 ms (285,000 years) are not exact doubles, and would overflow int64 */
    if (!is_num(js) || js->valuedouble < 0 || js->valuedouble > MAX_TIME_MS) {
        BAD("start: missing or not a time in ms");
        goto done;
    }
    if (!is_num(je) || je->valuedouble < 0 || je->valuedouble > MAX_TIME_MS) {
        BAD("end: missing or not a time in ms");
        goto done;
    }
    a->start_ms = (int64_t)llround(js->valuedouble);
    a->end_ms = (int64_t)llround(je->valuedouble);
    if (a->end_ms < a->start_ms) {
        BAD("end %lld is before start %lld", (long long)a->end_ms, (long long)a->start_ms);
        goto done;
    }
    j = cJSON_GetObjectItemCaseSensitive(root, "duration");
    if (j && (!is_num(j) || j->valuedouble < 0)) {
        BAD("duration: not a number >= 0");
        goto done;
    }
    a->duration_ms = j ? j->valuedouble : (double)(a->end_ms - a->start_ms);
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(root, "response");
    if (!cJSON_IsObject(resp)) {
        BAD("response: missing or not an object");
        goto done;
    }
    j = cJSON_GetObjectItemCaseSensitive(resp, "status");
    if (!cJSON_IsString(j)) {
        BAD("response.status: missing or not a string");
        goto done;
    }
    copy_str(a->status, sizeof a->status, j->valuestring);
    j = cJSON_GetObjectItemCaseSensitive(resp, "statusCode");
    if (j) {
        if (!is_num(j) || fabs(j->valuedouble) > INT_MAX) {
            BAD("response.statusCode: not a number within an int's range");
            goto done;
        }
        a->status_code = (int)j->valuedouble;
    }
    j = cJSON_GetObjectItemCaseSensitive(resp, "success");
    if (j) {
        if (!cJSON_IsBool(j)) {
            BAD("response.success: not true or false");
            goto done;
        }
        a->success = cJSON_IsTrue(j);
    }
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(resp, "result");
    if (cJSON_IsObject(res)) {
        j = cJSON_GetObjectItemCaseSensitive(res, "error");
        if (cJSON_IsString(j))
            copy_str(a->error, sizeof a->error, j->valuestring);
        else if (j)
            copy_str(a->error, sizeof a->error, "(an error that is not a string)");
        if ((rc = read_usage(res, a, err)))
            goto done;
    }
    j = cJSON_GetObjectItemCaseSensitive(root, "annotations");
    if (j && (rc = read_annotations(j, a, err)))
        goto done;
    if (a->has_init && a->init_ms > a->duration_ms + 0.5) {
        BAD("initTime %.0f ms exceeds the duration %.0f ms", a->init_ms, a->duration_ms);
        goto done;
    }
done:
    cJSON_Delete(root);
    if (rc)
        ow_activation_free(a);
    return rc;
}

hb_outcome ow_activation_outcome(const ow_activation *a, char *msg, size_t n)
{
    msg[0] = '\0';
    if (strcmp(a->status, "success") == 0 && a->success != 0 && !a->timeout)
        return HB_SUCCESS;
    const char *why = a->error[0] ? a->error : "no message";
    snprintf(msg, n, "%s: %s", a->status, why);
    if (a->timeout)
        return HB_TIMEOUT;
    if (strstr(a->status, "developer error") && strstr(a->error, "exhausted its memory"))
        return HB_OOM;
    return HB_ERROR;
}

/* policy_interim.c - INTERIM definitions of the policy-API helpers that include/hb_policy.h
 * declares and main's engine will define (hb_kv_* accessors, hb_place_jsq), so that the baseline
 * policies link and their unit tests run before the engine lands. Delete this file when merging
 * main's engine (its definitions replace these). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hb_policy.h"

static hb_kv *kv_find(hb_kvlist *kv, const char *key)
{
    if (!kv)
        return NULL;
    for (size_t i = 0; i < kv->n; i++)
        if (strcmp(kv->items[i].key, key) == 0) {
            kv->items[i].used = 1;
            return &kv->items[i];
        }
    return NULL;
}

int hb_kv_double(hb_kvlist *kv, const char *key, double lo, double hi, double *out, hb_error *err)
{
    hb_kv *it = kv_find(kv, key);
    if (!it)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(it->value, &end);
    if (errno || end == it->value || *end)
        return hb_fail_at(err, HB_EINPUT, it->file, it->line, key, "not a number: '%s'", it->value);
    if (!(v >= lo && v <= hi))
        return hb_fail_at(err, HB_EINPUT, it->file, it->line, key, "%g is outside [%g, %g]", v, lo, hi);
    *out = v;
    return 0;
}

int hb_kv_int(hb_kvlist *kv, const char *key, long lo, long hi, long *out, hb_error *err)
{
    hb_kv *it = kv_find(kv, key);
    if (!it)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(it->value, &end, 10);
    if (errno || end == it->value || *end)
        return hb_fail_at(err, HB_EINPUT, it->file, it->line, key, "not an integer: '%s'", it->value);
    if (v < lo || v > hi)
        return hb_fail_at(err, HB_EINPUT, it->file, it->line, key, "%ld is outside [%ld, %ld]", v, lo, hi);
    *out = v;
    return 0;
}

int hb_kv_bool(hb_kvlist *kv, const char *key, int *out, hb_error *err)
{
    hb_kv *it = kv_find(kv, key);
    if (!it)
        return 0;
    if (strcasecmp(it->value, "true") == 0 || strcmp(it->value, "1") == 0)
        *out = 1;
    else if (strcasecmp(it->value, "false") == 0 || strcmp(it->value, "0") == 0)
        *out = 0;
    else
        return hb_fail_at(err, HB_EINPUT, it->file, it->line, key, "not a boolean: '%s'", it->value);
    return 0;
}

int hb_kv_string(hb_kvlist *kv, const char *key, const char *const *choices, const char **out,
                 hb_error *err)
{
    hb_kv *it = kv_find(kv, key);
    if (!it)
        return 0;
    if (choices) {
        size_t i = 0;
        while (choices[i] && strcmp(choices[i], it->value) != 0)
            i++;
        if (!choices[i])
            return hb_fail_at(err, HB_EINPUT, it->file, it->line, key, "unknown value '%s'", it->value);
    }
    *out = it->value;
    return 0;
}

const char *hb_kv_where(const hb_kvlist *kv, const char *key, char *buf, size_t len)
{
    for (size_t i = 0; kv && i < kv->n; i++)
        if (strcmp(kv->items[i].key, key) == 0) {
            snprintf(buf, len, "%s:%d", kv->items[i].file, kv->items[i].line);
            return buf;
        }
    snprintf(buf, len, "%s", kv && kv->section ? kv->section : "?");
    return buf;
}

int hb_place_jsq(const hb_invocation *inv, const hb_cluster_view *view)
{
    int best = -1;
    for (int i = 0; i < view->n; i++) {
        const hb_invoker_state *s = &view->inv[i];
        if (s->free.cpu < inv->reserve.cpu || s->free.mem_mb < inv->reserve.mem_mb)
            continue;
        if (best < 0 || s->inflight < view->inv[best].inflight)
            best = i;
    }
    if (best >= 0)
        return best;
    return view->rng ? (int)gsl_rng_uniform_int(view->rng, (unsigned long)view->n) : 0;
}

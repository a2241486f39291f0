/* kv.c - typed access to the keys of a [policy.NAME] or [backend.NAME] section (hb_policy.h). */
#include <stdio.h>
#include <string.h>

#include "csv_reader.h"
#include "hb_policy.h"

static hb_kv *find(hb_kvlist *kv, const char *key)
{
    for (size_t i = 0; kv && i < kv->n; i++)
        if (strcmp(kv->items[i].key, key) == 0) {
            kv->items[i].used = 1;
            return &kv->items[i];
        }
    return NULL;
}

int hb_kv_double(hb_kvlist *kv, const char *key, double lo, double hi, double *out, hb_error *err)
{
    hb_kv *e = find(kv, key);
    if (!e)
        return 0;
    double v;
    if (hb_parse_double(e->value, &v))
        return hb_fail_at(err, HB_EINPUT, e->file, e->line, key, "'%s' is not a number", e->value);
    if (v < lo || v > hi)
        return hb_fail_at(err, HB_EINPUT, e->file, e->line, key, "%g is out of range [%g, %g]", v,
                          lo, hi);
    *out = v;
    return 0;
}

int hb_kv_int(hb_kvlist *kv, const char *key, long lo, long hi, long *out, hb_error *err)
{
    hb_kv *e = find(kv, key);
    if (!e)
        return 0;
    int64_t v;
    if (hb_parse_int64(e->value, &v))
        return hb_fail_at(err, HB_EINPUT, e->file, e->line, key, "'%s' is not an integer", e->value);
    if (v < lo || v > hi)
        return hb_fail_at(err, HB_EINPUT, e->file, e->line, key, "%lld is out of range [%ld, %ld]",
                          (long long)v, lo, hi);
    *out = (long)v;
    return 0;
}

int hb_kv_bool(hb_kvlist *kv, const char *key, int *out, hb_error *err)
{
    hb_kv *e = find(kv, key);
    if (!e)
        return 0;
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(e->value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcmp(e->value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return hb_fail_at(err, HB_EINPUT, e->file, e->line, key, "'%s' is not true or false", e->value);
}

int hb_kv_string(hb_kvlist *kv, const char *key, const char *const *choices, const char **out,
                 hb_error *err)
{
    hb_kv *e = find(kv, key);
    if (!e)
        return 0;
    if (choices) {
        int ok = 0;
        char list[256] = "";
        for (int i = 0; choices[i]; i++) {
            if (strcmp(choices[i], e->value) == 0)
                ok = 1;
            strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, choices[i], sizeof list - strlen(list) - 1);
        }
        if (!ok)
            return hb_fail_at(err, HB_EINPUT, e->file, e->line, key, "'%s' is not one of: %s",
                              e->value, list);
    }
    *out = e->value;
    return 0;
}

const char *hb_kv_where(const hb_kvlist *kv, const char *key, char *buf, size_t len)
{
    for (size_t i = 0; kv && i < kv->n; i++)
        if (strcmp(kv->items[i].key, key) == 0) {
            snprintf(buf, len, "%s:%d", kv->items[i].file, kv->items[i].line);
            return buf;
        }
    snprintf(buf, len, "[%s]", kv && kv->section ? kv->section : "?");
    return buf;
}

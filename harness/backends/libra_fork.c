/* libra_fork.c - see libra_fork.h. */
#include "libra_fork.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lf_encode(int cores, int units)
{
    if (cores < 1 || cores > LF_MAX_CPU || units < 1 || units > LF_MAX_UNITS)
        return -1;
    return (cores - 1) * LF_MAX_UNITS + units;
}

int lf_decode(int x, int *cores, int *mem_mb)
{
    if (x < 1 || x > LF_MAX_ENCODED)
        return -1;
    *cores = (x - 1) / LF_MAX_UNITS + 1;
    *mem_mb = ((x - 1) % LF_MAX_UNITS + 1) * HB_MEM_UNIT_MB;
    return 0;
}

static int clamp_up(double v, double unit, int hi)
{
    /* rounds up, forgiving the last bits of a double (2.0000000001 cores is 2) */
    double k = ceil(v / unit - 1e-6);
    return !(k >= 1) ? 1 : (k > hi ? hi : (int)k);
}

int lf_encode_res(hb_res r)
{
    return lf_encode(clamp_up(r.cpu, 1, LF_MAX_CPU), clamp_up(r.mem_mb, HB_MEM_UNIT_MB, LF_MAX_UNITS));
}

int lf_parse_long(const char *text, const char *what, long lo, long hi, long *out, hb_error *err)
{
    char *end;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || errno || *end || v < lo || v > hi)
        return hb_fail(err, HB_EINPUT, "%s: '%.40s' is not an integer in [%ld, %ld]", what,
                       text ? text : "(none)", lo, hi);
    *out = v;
    return 0;
}

/* A finite number: the whole of [p, p + n). */
static int num(const char *p, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int id_ok(const char *p, size_t n)
{
    if (n == 0 || n >= LF_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] == ':' || p[i] == ';' || p[i] == ',' || p[i] == ' ' || (unsigned char)p[i] < 0x21)
            return 0;
    return 1;
}

int lf_pool_parse(const char *text, lf_pool_entry **out, size_t *n, hb_error *err)
{
    *out = NULL;
    *n = 0;
    if (!text)
        return hb_fail(err, HB_EINPUT, "pool summary: missing");
    if (strcmp(text, "None") == 0 || !*text)
        return 0;
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    lf_pool_entry *e = calloc(cap, sizeof *e);
    if (!e)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    size_t k = 0;
    for (const char *p = text;; k++) {
        size_t len = strcspn(p, ",");
        const char *colon = memchr(p, ':', len);
        const char *s1 = colon ? memchr(colon, ';', len - (size_t)(colon - p)) : NULL;
        const char *s2 = s1 ? memchr(s1 + 1, ';', len - (size_t)(s1 + 1 - p)) : NULL;
        double v, s, t;
        if (!colon || !s1 || !s2 || !id_ok(p, (size_t)(colon - p)) ||
            num(colon + 1, (size_t)(s1 - colon - 1), &v) ||
            num(s1 + 1, (size_t)(s2 - s1 - 1), &s) || num(s2 + 1, len - (size_t)(s2 + 1 - p), &t) ||
            fabs(s) > 9e15 || fabs(t) > 9e15) {
            free(e);
            return hb_fail(err, HB_EINPUT, "pool summary: entry %zu '%.*s' is not "
                           "<activationId>:<value>;<startMs>;<endMs>", k + 1,
                           (int)(len > 80 ? 80 : len), p);
        }
        memcpy(e[k].id, p, (size_t)(colon - p));
        e[k].value = v;
        e[k].start_ms = (int64_t)s;
        e[k].end_ms = (int64_t)t;
        if (!p[len])
            break;
        p += len + 1;
    }
    *out = e;
    *n = k + 1;
    return 0;
}

double lf_pool_total(const lf_pool_entry *e, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += e[i].value;
    return s;
}

/* Integers as the fork prints them (its amounts are whole cores and units); others with %g. */
static void put_num(FILE *f, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        fprintf(f, "%lld", (long long)v);
    else
        fprintf(f, "%.17g", v);
}

char *lf_pool_format(const lf_pool_entry *e, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].start_ms >= e[i].end_ms)
            continue;                  /* as PriorityMap.summary: only open windows */
        fprintf(f, "%s%s:", any ? "," : "", e[i].id);
        put_num(f, e[i].value);
        fprintf(f, ";%lld;%lld", (long long)e[i].start_ms, (long long)e[i].end_ms);
        any = 1;
    }
    if (!any)
        fputs("None", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void lf_trajectory_free(lf_trajectory *t)
{
    free(t->mem);
    free(t->cpu);
    memset(t, 0, sizeof *t);
}

/* "a b": two numbers separated by one space. */
static int pair(const char *p, size_t n, double *a, double *b)
{
    const char *sp = memchr(p, ' ', n);
    return !sp || num(p, (size_t)(sp - p), a) || num(sp + 1, n - (size_t)(sp + 1 - p), b) ? -1 : 0;
}

static int items(const char *p, size_t n, lf_traj_item **out, size_t *count, const char *which,
                 hb_error *err)
{
    *out = NULL;
    *count = 0;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++)
        cap += p[i] == ' ';
    cap++;
    lf_traj_item *it = n ? calloc(cap, sizeof *it) : NULL;
    if (n && !it)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && p[j] != ' ')
            j++;
        if (j > i) {
            const char *colon = memchr(p + i, ':', j - i);
            if (!colon || !id_ok(p + i, (size_t)(colon - p - i)) ||
                num(colon + 1, (size_t)(p + j - colon - 1), &it[k].amount)) {
                free(it);
                return hb_fail(err, HB_EINPUT, "trajectory: %s item '%.*s' is not <activationId>:<amount>",
                               which, (int)(j - i > 80 ? 80 : j - i), p + i);
            }
            memcpy(it[k].id, p + i, (size_t)(colon - p - i));
            k++;
        }
        i = j + 1;
    }
    *out = it;
    *count = k;
    return 0;
}

int lf_trajectory_parse(const char *text, lf_trajectory *t, hb_error *err)
{
    memset(t, 0, sizeof *t);
    if (!text)
        return hb_fail(err, HB_EINPUT, "trajectory: missing");
    const char *f[5];
    size_t len[5];
    const char *p = text;
    for (int i = 0; i < 5; i++) {
        f[i] = p;
        len[i] = strcspn(p, ";");
        if (i < 4 && p[len[i]] != ';')
            return hb_fail(err, HB_EINPUT, "trajectory '%.80s': %d fields, expected 5 "
                           "(<safeguard>;<memDelta> <cpuDelta>;<memIdle> <cpuIdle>;<memTraj>;<cpuTraj>)",
                           text, i + 1);
        p += len[i] + 1;
    }
    if (f[4][len[4]] != '\0')
        return hb_fail(err, HB_EINPUT, "trajectory '%.80s': more than 5 fields", text);
    double sg;
    if (num(f[0], len[0], &sg) || (sg != 0 && sg != 1))
        return hb_fail(err, HB_EINPUT, "trajectory: field 1 (safeguard) '%.*s' is not 0 or 1",
                       (int)(len[0] > 40 ? 40 : len[0]), f[0]);
    t->safeguard = (int)sg;
    if (pair(f[1], len[1], &t->mem_delta_mb, &t->cpu_delta))
        return hb_fail(err, HB_EINPUT, "trajectory: field 2 (deltas) '%.*s' is not "
                       "'<memoryDeltaMB> <cpuDelta>'", (int)(len[1] > 60 ? 60 : len[1]), f[1]);
    if (pair(f[2], len[2], &t->mem_idle, &t->cpu_idle) || t->mem_idle < 0 || t->cpu_idle < 0)
        return hb_fail(err, HB_EINPUT, "trajectory: field 3 (idle) '%.*s' is not "
                       "'<memoryIdle> <cpuIdle>' (non-negative)", (int)(len[2] > 60 ? 60 : len[2]), f[2]);
    if (items(f[3], len[3], &t->mem, &t->n_mem, "memory", err) ||
        items(f[4], len[4], &t->cpu, &t->n_cpu, "cpu", err)) {
        lf_trajectory_free(t);
        return err ? err->code : HB_EINPUT;
    }
    return 0;
}

char *lf_trajectory_format(const lf_trajectory *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "%d;", t->safeguard);
    put_num(f, t->mem_delta_mb);
    fputc(' ', f);
    put_num(f, t->cpu_delta);
    fputc(';', f);
    put_num(f, t->mem_idle);
    fputc(' ', f);
    put_num(f, t->cpu_idle);
    for (int d = 0; d < 2; d++) {
        const lf_traj_item *it = d ? t->cpu : t->mem;
        size_t n = d ? t->n_cpu : t->n_mem;
        fputc(';', f);
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "%s%s:", i ? " " : "", it[i].id);
            put_num(f, it[i].amount);
        }
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void lf_trajectory_sums(const lf_traj_item *it, size_t n, double *lent, double *borrowed)
{
    *lent = *borrowed = 0;
    for (size_t i = 0; i < n; i++) {
        if (it[i].amount < 0)
            *lent -= it[i].amount;
        else
            *borrowed += it[i].amount;
    }
}

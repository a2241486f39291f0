/* results_reader.c - reading a result directory (see results_reader.h). */
#include "results_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "csv_reader.h"
#include "dynbuf.h"
#include "files.h"
#include "results.h"
#include "stats.h"

const char *const hb_outcome_names[HB_NOUTCOMES] = {"success", "timeout", "oom", "error", "lost"};
const char *const hb_pairing_names[3] = {"none", "seed", "invocation"};

/* What reading a run needs from the manifest: the per-function timeouts (for censored latencies)
 * and the statistics window. */
#define MAX_TIMEOUTS 64
typedef struct read_env {
    size_t ntmo;
    char tmo_name[MAX_TIMEOUTS][32];
    double tmo_s[MAX_TIMEOUTS];
    double tmo_default_s;        /* [workload] timeout_s; NAN if absent */
    double lo_s, hi_s;           /* window of arrivals; -inf, +inf when none */
} read_env;

static double env_timeout_ms(const read_env *env, const char *func)
{
    for (size_t i = 0; i < env->ntmo; i++)
        if (strcmp(env->tmo_name[i], func) == 0)
            return 1e3 * env->tmo_s[i];
    return 1e3 * env->tmo_default_s;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

#define PATH_BUF 4096

/* ---- small helpers ---- */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

typedef struct dvec {
    double *v;
    size_t n, cap;
} dvec;

static int dvec_push(dvec *a, double x)
{
    if (HB_GROW(a->v, a->cap, a->n + 1) != HB_OK)
        return -1;
    a->v[a->n++] = x;
    return 0;
}

/* 0: a finite number in *out; 1: empty field; -1: not a finite number. */
static int parse_num(const char *s, double *out)
{
    const char *p = s;
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return 1;
    return hb_parse_double(s, out) == 0 && isfinite(*out) ? 0 : -1;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

static double json_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* ---- CSV by header name (on hb_csv, libcsv) ---- */

typedef int (*row_fn)(void *ctx, const char *const *vals, const char *path, long line,
                      hb_error *err);

/* Reads path row by row, calling fn with the wanted columns' values found by header name ("" where
 * the column is absent or the field empty). The first nreq columns are required; present[c] tells
 * whether column c is in the header. */
static int csv_read(const char *path, const char *const *cols, size_t ncols, size_t nreq,
                    unsigned char *present, row_fn fn, void *ctx, hb_error *err)
{
    hb_csv *c;
    int rc = hb_csv_open(path, &c, err);
    if (rc)
        return rc;
    int *idx = calloc(ncols, sizeof *idx);
    const char **vals = calloc(ncols, sizeof *vals);
    if (!idx || !vals) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    int r = hb_csv_next(c, err);
    if (r <= 0) {
        rc = r < 0 ? -r : hb_fail_at(err, HB_EINPUT, path, 0, NULL, "empty file (no header line)");
        goto out;
    }
    if ((rc = hb_csv_take_header(c, err)))
        goto out;
    size_t nheader = hb_csv_nfields(c);
    for (size_t k = 0; k < ncols; k++) {
        idx[k] = hb_csv_col(c, cols[k]);
        present[k] = idx[k] >= 0;
        if (idx[k] < 0 && k < nreq) {
            rc = hb_fail_at(err, HB_EINPUT, path, hb_csv_line(c), cols[k],
                            "missing column (the header has no '%s')", cols[k]);
            goto out;
        }
    }
    while ((r = hb_csv_next(c, err)) > 0) {
        if (hb_csv_nfields(c) != nheader) {
            rc = hb_fail_at(err, HB_EINPUT, path, hb_csv_line(c), NULL,
                            "%zu fields where the header has %zu", hb_csv_nfields(c), nheader);
            goto out;
        }
        for (size_t k = 0; k < ncols; k++)
            vals[k] = idx[k] >= 0 ? hb_csv_field(c, (size_t)idx[k]) : "";
        if ((rc = fn(ctx, vals, path, hb_csv_line(c), err)))
            goto out;
    }
    if (r < 0)
        rc = -r;
out:
    free(idx);
    free(vals);
    hb_csv_close(c);
    return rc;
}

/* ---- invocations.csv ---- */

enum { IC_OUTCOME, IC_LATENCY, IC_COLD, IC_BASE, IC_HCPU, IC_HMEM, IC_BCPU, IC_BMEM, IC_RCPU,
       IC_RMEM, IC_INDEX, IC_ARRIVAL, IC_FUNCTION, IC_LATE, IC_N };
static const char *const inv_cols[IC_N] = {
    "outcome",          "latency_ms",      "cold_start",     "base_duration_ms",
    "harvested_cpu_s",  "harvested_mem_mb_s", "borrowed_cpu_s", "borrowed_mem_mb_s",
    "borrowed_running_cpu_s", "borrowed_running_mem_mb_s",
    "index",            "arrival_s",       "function",       "dispatch_late_ms"};
#define INV_REQUIRED 3

typedef struct inv_ctx {
    hb_run *run;
    const read_env *env;
    dvec lat, slow, cens;
    int cens_ok;                 /* every failed call's timeout is known */
    hb_call *call;
    size_t ncall, capcall;
    unsigned char present[IC_N];
} inv_ctx;

static int num_field(const char *const *vals, int c, const char *path, long line, int required,
                     double *out, hb_error *err)
{
    int r = parse_num(vals[c], out);
    if (r < 0)
        return hb_fail_at(err, HB_EINPUT, path, line, inv_cols[c], "not a number: '%s'", vals[c]);
    if (r > 0 && required)
        return hb_fail_at(err, HB_EINPUT, path, line, inv_cols[c], "empty");
    if (r > 0)
        *out = NAN;
    return HB_OK;
}

static int inv_row(void *vctx, const char *const *vals, const char *path, long line, hb_error *err)
{
    inv_ctx *c = vctx;
    hb_run *run = c->run;
    int o = -1;
    for (int i = 0; i < HB_NOUTCOMES; i++)
        if (strcmp(vals[IC_OUTCOME], hb_outcome_names[i]) == 0)
            o = i;
    if (o < 0)
        return hb_fail_at(err, HB_EINPUT, path, line, "outcome",
                          "unknown outcome '%s' (expected success, timeout, oom, error or lost)",
                          vals[IC_OUTCOME]);
    double lat, base, h[6] = {0}, idx, arr, late;
    int rc = num_field(vals, IC_LATENCY, path, line, o == HB_OUT_SUCCESS, &lat, err);
    if (!rc)
        rc = num_field(vals, IC_BASE, path, line, 0, &base, err);
    if (!rc)
        rc = num_field(vals, IC_INDEX, path, line, 0, &idx, err);
    if (!rc)
        rc = num_field(vals, IC_ARRIVAL, path, line, 0, &arr, err);
    if (!rc)
        rc = num_field(vals, IC_LATE, path, line, 0, &late, err);
    for (int i = 0; !rc && i < 6; i++)
        if (i < 4 || c->present[IC_HCPU + i])
            rc = num_field(vals, IC_HCPU + i, path, line, 0, &h[i], err);
    if (rc)
        return rc;
    if (o == HB_OUT_SUCCESS && lat < 0)
        return hb_fail_at(err, HB_EINPUT, path, line, "latency_ms", "negative: '%s'",
                          vals[IC_LATENCY]);
    if (!isnan(idx) && (idx < 0 || idx != floor(idx) || idx > 9.0e15))
        return hb_fail_at(err, HB_EINPUT, path, line, "index", "not a call index: '%s'",
                          vals[IC_INDEX]);
    /* the statistics window (the CSV keeps every call; statistics leave these out) */
    if (!isnan(arr) && (arr < c->env->lo_s || arr > c->env->hi_s)) {
        run->excluded++;
        return HB_OK;
    }
    const char *cs = vals[IC_COLD];
    if (strcmp(cs, "1") == 0)
        run->cold_starts++;
    else if (strcmp(cs, "0") != 0 && cs[0] != '\0')
        return hb_fail_at(err, HB_EINPUT, path, line, "cold_start", "expected 0 or 1, found '%s'",
                          cs);
    run->calls++;
    run->outcomes[o]++;
    if (c->present[IC_HCPU] && c->present[IC_HMEM] && c->present[IC_BCPU] && c->present[IC_BMEM]) {
        if (h[0] > 0 || h[1] > 0)
            run->harvested++;
        /* accelerated: received resources while running (older files: at any time) */
        int running = c->present[IC_RCPU] && c->present[IC_RMEM];
        if (running ? h[4] > 0 || h[5] > 0 : h[2] > 0 || h[3] > 0)
            run->accelerated++;
    }
    if (o == HB_OUT_SUCCESS) {
        if (dvec_push(&c->lat, lat))
            return hb_fail(err, HB_ENOMEM, "out of memory reading %s", path);
        if (base > 0 && dvec_push(&c->slow, lat / base))
            return hb_fail(err, HB_ENOMEM, "out of memory reading %s", path);
    }
    /* a failed call counts at its function's timeout: no survivorship in the censored mean */
    double cens = o == HB_OUT_SUCCESS ? lat : env_timeout_ms(c->env, vals[IC_FUNCTION]);
    if (isnan(cens))
        c->cens_ok = 0;
    else if (dvec_push(&c->cens, cens))
        return hb_fail(err, HB_ENOMEM, "out of memory reading %s", path);
    if (HB_GROW(c->call, c->capcall, c->ncall + 1) != HB_OK)
        return hb_fail(err, HB_ENOMEM, "out of memory reading %s", path);
    /* real-time backends record when a call was sent: its scheduled arrival is that less how late
     * it was sent, and that is what identifies the call across policies */
    double sched = isnan(late) ? arr : arr - late / 1e3;
    c->call[c->ncall++] = (hb_call){isnan(idx) ? (uint64_t)c->ncall : (uint64_t)idx, sched,
                                    fnv1a(vals[IC_FUNCTION]),
                                    o == HB_OUT_SUCCESS ? lat : NAN, cens};
    return HB_OK;
}

static int cmp_call(const void *pa, const void *pb)
{
    const hb_call *a = pa, *b = pb;
    return (a->index > b->index) - (a->index < b->index);
}

static int read_invocations(const char *path, const read_env *env, hb_run *run, hb_error *err)
{
    inv_ctx c = {.run = run, .env = env, .cens_ok = 1};
    int rc = csv_read(path, inv_cols, IC_N, INV_REQUIRED, c.present, inv_row, &c, err);
    if (!rc && c.ncall > 1) {
        qsort(c.call, c.ncall, sizeof *c.call, cmp_call);
        for (size_t i = 1; i < c.ncall && !rc; i++)
            if (c.call[i].index == c.call[i - 1].index)
                rc = hb_fail_at(err, HB_EINPUT, path, 0, "index", "call index %llu appears twice",
                                (unsigned long long)c.call[i].index);
    }
    if (rc) {
        free(c.lat.v);
        free(c.slow.v);
        free(c.cens.v);
        free(c.call);
        return rc;
    }
    run->call = c.call;
    run->has_index = c.present[IC_INDEX] && c.present[IC_ARRIVAL];
    if (c.cens_ok) {
        hb_sort(c.cens.v, c.cens.n);
        run->cens = c.cens.v;
        run->ncens = c.cens.n;
    } else {
        free(c.cens.v);
    }
    hb_sort(c.lat.v, c.lat.n);
    run->lat = c.lat.v;
    run->nlat = c.lat.n;
    run->slowdown = c.slow.v;
    run->nslow = c.slow.n;
    if (!(c.present[IC_HCPU] && c.present[IC_HMEM] && c.present[IC_BCPU] && c.present[IC_BMEM]))
        run->harvested = run->accelerated = -1;
    return HB_OK;
}

/* ---- usage.csv ---- */

enum { UC_TIME, UC_CPU_CAP, UC_CPU_ALLOC, UC_CPU_USED, UC_MEM_CAP, UC_MEM_ALLOC, UC_MEM_USED,
       UC_CPU_HARV, UC_CPU_BORR, UC_MEM_HARV, UC_MEM_BORR, UC_N };
static const char *const usage_cols[UC_N] = {
    "time_s",        "cpu_capacity",  "cpu_alloc",        "cpu_used",
    "mem_capacity_mb", "mem_alloc_mb", "mem_used_mb",     "cpu_harvested",
    "cpu_borrowed",  "mem_harvested_mb", "mem_borrowed_mb"};
#define USAGE_REQUIRED 7

typedef struct usage_row {
    double v[UC_N];
    size_t order;
} usage_row;

typedef struct usage_ctx {
    usage_row *rows;
    size_t n, cap;
    unsigned char present[UC_N];
} usage_ctx;

static int usage_row_cb(void *vctx, const char *const *vals, const char *path, long line, hb_error *err)
{
    usage_ctx *c = vctx;
    if (HB_GROW(c->rows, c->cap, c->n + 1) != HB_OK)
        return hb_fail(err, HB_ENOMEM, "out of memory reading %s", path);
    usage_row *r = &c->rows[c->n];
    for (int i = 0; i < UC_N; i++) {
        int k = parse_num(vals[i], &r->v[i]);
        if (k < 0)
            return hb_fail_at(err, HB_EINPUT, path, line, usage_cols[i], "not a number: '%s'",
                              vals[i]);
        if (k > 0 && i < USAGE_REQUIRED)
            return hb_fail_at(err, HB_EINPUT, path, line, usage_cols[i], "empty");
        if (k > 0)
            r->v[i] = 0.0;
    }
    r->order = c->n++;
    return HB_OK;
}

static int cmp_usage_row(const void *pa, const void *pb)
{
    const usage_row *a = pa, *b = pb;
    if (a->v[UC_TIME] != b->v[UC_TIME])
        return (a->v[UC_TIME] > b->v[UC_TIME]) - (a->v[UC_TIME] < b->v[UC_TIME]);
    return (a->order > b->order) - (a->order < b->order);
}

static void usage_free(hb_usage *u);

static int read_usage(const char *path, hb_usage *u, hb_error *err)
{
    usage_ctx c = {0};
    int rc = csv_read(path, usage_cols, UC_N, USAGE_REQUIRED, c.present, usage_row_cb, &c, err);
    if (rc) {
        free(c.rows);
        return rc;
    }
    int harvest = 1;
    for (int i = USAGE_REQUIRED; i < UC_N; i++)
        harvest &= c.present[i];
    qsort(c.rows, c.n, sizeof *c.rows, cmp_usage_row);
    double **cols[UC_N] = {&u->time_s,          &u->cpu_capacity,  &u->cpu_alloc,
                           &u->cpu_used,        &u->mem_capacity_mb, &u->mem_alloc_mb,
                           &u->mem_used_mb,     &u->cpu_harvested, &u->cpu_borrowed,
                           &u->mem_harvested_mb, &u->mem_borrowed_mb};
    int ncols = harvest ? UC_N : USAGE_REQUIRED;
    for (int i = 0; i < ncols; i++) {
        *cols[i] = calloc(c.n ? c.n : 1, sizeof(double));
        if (!*cols[i]) {
            free(c.rows);
            usage_free(u);
            return hb_fail(err, HB_ENOMEM, "out of memory reading %s", path);
        }
    }
    /* sum the invokers' rows of each second */
    size_t n = 0;
    for (size_t r = 0; r < c.n; r++) {
        if (n == 0 || c.rows[r].v[UC_TIME] != u->time_s[n - 1]) {
            u->time_s[n] = c.rows[r].v[UC_TIME];
            n++;
        }
        for (int i = 1; i < ncols; i++)
            (*cols[i])[n - 1] += c.rows[r].v[i];
    }
    u->n = n;
    free(c.rows);
    return HB_OK;
}

static void usage_free(hb_usage *u)
{
    free(u->time_s);
    free(u->cpu_capacity);
    free(u->cpu_alloc);
    free(u->cpu_used);
    free(u->mem_capacity_mb);
    free(u->mem_alloc_mb);
    free(u->mem_used_mb);
    free(u->cpu_harvested);
    free(u->cpu_borrowed);
    free(u->mem_harvested_mb);
    free(u->mem_borrowed_mb);
    memset(u, 0, sizeof *u);
}

/* ---- summary.json ---- */

static int read_summary(const char *path, hb_run *run, hb_error *err)
{
    cJSON *j;
    int rc = hb_read_json(path, &j, err);
    if (rc)
        return rc;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return hb_fail_at(err, HB_EINPUT, path, 1, NULL, "expected a JSON object");
    }
    run->cpu_used_core_s = json_num(j, "cpu_used_core_s");
    run->cpu_alloc_core_s = json_num(j, "cpu_alloc_core_s");
    run->cpu_capacity_core_s = json_num(j, "cpu_capacity_core_s");
    run->mem_used_mb_s = json_num(j, "mem_used_mb_s");
    run->mem_alloc_mb_s = json_num(j, "mem_alloc_mb_s");
    run->mem_capacity_mb_s = json_num(j, "mem_capacity_mb_s");
    run->makespan_s = json_num(j, "makespan_s");
    cJSON_Delete(j);
    return HB_OK;
}

/* A number of a summary, 0 when absent or not a number (null: NAN written by cJSON). */
static double num0(const cJSON *o, const char *key)
{
    double v = json_num(o, key);
    return isnan(v) ? 0 : v;
}

int hb_summary_read_stats(const char *path, hb_run_stats *s, hb_error *err)
{
    cJSON *j = NULL;
    int rc = hb_read_json(path, &j, err);
    if (rc)
        return rc;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return hb_fail_at(err, HB_EINPUT, path, 1, NULL, "expected a JSON object");
    }
    cJSON *oc = cJSON_GetObjectItemCaseSensitive(j, "outcomes");
    for (int i = HB_SUCCESS; i <= HB_LOST; i++)
        s->outcomes[i] = (uint64_t)num0(oc, hb_outcome_name((hb_outcome)i));
    s->invocations = (uint64_t)num0(j, "invocations");
    s->n_success = s->outcomes[HB_SUCCESS];
    s->lat_sum = num0(cJSON_GetObjectItemCaseSensitive(j, "latency_ms"), "mean") * (double)s->n_success;
    s->harvested = (uint64_t)llround(num0(j, "harvested_share") * (double)s->invocations);
    s->accelerated = (uint64_t)llround(num0(j, "accelerated_share") * (double)s->invocations);
    s->safeguards = (uint64_t)num0(j, "safeguard_triggers");
    s->harvested_cpu_s = num0(j, "harvested_cpu_s");
    s->harvested_mem_mb_s = num0(j, "harvested_mem_mb_s");
    hb_stats_columns_from_json(s, j);  /* the extension columns the caller declared */
    s->cpu_used_core_s = num0(j, "cpu_used_core_s");
    s->cpu_alloc_core_s = num0(j, "cpu_alloc_core_s");
    s->mem_used_mb_s = num0(j, "mem_used_mb_s");
    s->mem_alloc_mb_s = num0(j, "mem_alloc_mb_s");
    double mk = num0(j, "makespan_s");
    s->makespan = (hb_time)llround(mk * 1e6);
    s->cpu_capacity = mk > 0 ? num0(j, "cpu_capacity_core_s") / mk : 0;
    s->mem_capacity_mb = mk > 0 ? num0(j, "mem_capacity_mb_s") / mk : 0;
    cJSON_Delete(j);
    return HB_OK;
}

/* ---- the directory ---- */

static void run_free(hb_run *r)
{
    free(r->lat);
    free(r->slowdown);
    free(r->cens);
    free(r->call);
    usage_free(&r->usage);
}

void hb_results_free(hb_results *r)
{
    if (!r)
        return;
    for (size_t p = 0; p < r->npolicies; p++) {
        for (size_t k = 0; k < r->policies[p].nruns; k++)
            run_free(&r->policies[p].runs[k]);
        free(r->policies[p].runs);
        free(r->policies[p].name);
    }
    free(r->policies);
    for (size_t i = 0; i < r->nwarnings; i++)
        free(r->warnings[i]);
    free(r->warnings);
    free(r->seeds);
    free(r->dir);
    free(r->experiment);
    free(r->status);
    free(r->backend);
    free(r->version);
    free(r->git_commit);
    free(r->baseline);
    memset(r, 0, sizeof *r);
}

static int warn(hb_results *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int warn(hb_results *r, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **w = realloc(r->warnings, (r->nwarnings + 1) * sizeof *w);
    if (!w)
        return -1;
    r->warnings = w;
    if (!(w[r->nwarnings] = xstrdup(buf)))
        return -1;
    r->nwarnings++;
    return 0;
}

static const cJSON *find_run(const cJSON *runs, const char *policy, int k)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, runs)
    {
        if (strcmp(json_str(e, "policy"), policy) == 0 && json_num(e, "seed_index") == (double)k)
            return e;
    }
    return NULL;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f)
        fclose(f);
    return f != NULL;
}

static int read_run(hb_results *res, const read_env *env, const char *policy, int k,
                    unsigned flags, int first, hb_run *run, hb_error *err)
{
    char path[PATH_BUF];
    int n = snprintf(path, sizeof path, "%s/%s/seed-%d/invocations.csv", res->dir, policy, k);
    if (n < 0 || (size_t)n >= sizeof path)
        return hb_fail(err, HB_EINPUT, "%s: path too long", res->dir);
    int rc = read_invocations(path, env, run, err);
    if (!rc) {
        snprintf(path, sizeof path, "%s/%s/seed-%d/summary.json", res->dir, policy, k);
        rc = read_summary(path, run, err);
    }
    if (!rc && (flags & HB_READ_USAGE) && first) {
        snprintf(path, sizeof path, "%s/%s/seed-%d/usage.csv", res->dir, policy, k);
        rc = read_usage(path, &run->usage, err);
    }
    return rc;
}

static int name_is_safe(const char *s)
{
    if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '\\')
            return 0;
    return 1;
}

/* The timeouts and the statistics window, from "config" and "statistics" (older manifests have
 * neither: no window, and censored latencies only where every call succeeded). */
static void read_env_of(hb_results *r, const cJSON *m, read_env *env)
{
    memset(env, 0, sizeof *env);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(m, "config");
    const cJSON *wl = cJSON_GetObjectItemCaseSensitive(cfg, "workload");
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(cfg, "function");
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(cfg, "experiment");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(m, "statistics");
    env->tmo_default_s = json_num(wl, "timeout_s");
    const cJSON *f;
    cJSON_ArrayForEach(f, fn)
    {
        double t = json_num(f, "timeout_s");
        if (env->ntmo < MAX_TIMEOUTS && f->string && strlen(f->string) < 32 && !isnan(t)) {
            snprintf(env->tmo_name[env->ntmo], 32, "%s", f->string);
            env->tmo_s[env->ntmo++] = t;
        }
    }
    r->timeouts_known = !isnan(env->tmo_default_s) || env->ntmo > 0;
    double w = json_num(st, "warmup_s"), d = json_num(st, "drain_s");
    if (isnan(w))
        w = json_num(ex, "warmup_s");
    if (isnan(d))
        d = json_num(ex, "drain_s");
    r->warmup_s = isnan(w) ? 0.0 : w;
    r->drain_s = isnan(d) ? 0.0 : d;
    r->trace_s = json_num(st, "trace_s");
    if (isnan(r->trace_s)) {
        double mins = json_num(cJSON_GetObjectItemCaseSensitive(m, "trace"), "minutes");
        r->trace_s = isnan(mins) ? NAN : 60.0 * mins;
    }
    env->lo_s = r->warmup_s > 0 ? r->warmup_s : -INFINITY;
    env->hi_s = r->drain_s > 0 && !isnan(r->trace_s) ? r->trace_s - r->drain_s : INFINITY;
}

static int read_manifest(hb_results *r, const char *path, cJSON *m, unsigned flags, hb_error *err)
{
    read_env env;
    read_env_of(r, m, &env);
    const cJSON *hb = cJSON_GetObjectItemCaseSensitive(m, "harvestbench");
    if (!(r->experiment = xstrdup(json_str(m, "experiment"))) ||
        !(r->status = xstrdup(json_str(m, "status"))) ||
        !(r->backend = xstrdup(json_str(m, "backend"))) ||
        !(r->version = xstrdup(json_str(hb, "version"))) ||
        !(r->git_commit = xstrdup(json_str(hb, "git_commit"))) ||
        !(r->baseline = xstrdup(json_str(m, "baseline"))))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    const cJSON *pols = cJSON_GetObjectItemCaseSensitive(m, "policies");
    const cJSON *seeds = cJSON_GetObjectItemCaseSensitive(m, "seeds");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(m, "runs");
    if (!cJSON_IsArray(pols) || cJSON_GetArraySize(pols) == 0)
        return hb_fail_at(err, HB_EINPUT, path, 0, "policies", "missing or empty list");
    if (!cJSON_IsArray(seeds) || cJSON_GetArraySize(seeds) == 0)
        return hb_fail_at(err, HB_EINPUT, path, 0, "seeds", "missing or empty list");
    r->nseeds = (size_t)cJSON_GetArraySize(seeds);
    if (!(r->seeds = calloc(r->nseeds, sizeof *r->seeds)))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, seeds)
    {
        if (!cJSON_IsNumber(e))
            return hb_fail_at(err, HB_EINPUT, path, 0, "seeds", "entry %zu is not a number", i + 1);
        r->seeds[i++] = e->valuedouble;
    }
    size_t np = (size_t)cJSON_GetArraySize(pols);
    if (!(r->policies = calloc(np, sizeof *r->policies)))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    cJSON_ArrayForEach(e, pols)
    {
        if (!cJSON_IsString(e) || !name_is_safe(e->valuestring))
            return hb_fail_at(err, HB_EINPUT, path, 0, "policies",
                              "entry %zu is not a policy name", r->npolicies + 1);
        for (size_t q = 0; q < r->npolicies; q++)
            if (strcmp(r->policies[q].name, e->valuestring) == 0)
                return hb_fail_at(err, HB_EINPUT, path, 0, "policies", "'%s' appears twice",
                                  e->valuestring);
        hb_policy_runs *pr = &r->policies[r->npolicies++];
        if (!(pr->name = xstrdup(e->valuestring)) ||
            !(pr->runs = calloc(r->nseeds, sizeof *pr->runs)))
            return hb_fail(err, HB_ENOMEM, "out of memory");
        for (size_t k = 1; k <= r->nseeds; k++) {
            double seed = r->seeds[k - 1];
            if (cJSON_IsArray(runs)) {
                const cJSON *run = find_run(runs, pr->name, (int)k);
                const char *st = run ? json_str(run, "status") : "";
                if (!run || strcmp(st, "complete") != 0) {
                    if (warn(r, "%s seed-%zu: %s, left out", pr->name, k,
                             run ? (*st ? st : "no status") : "not in the manifest's runs"))
                        return hb_fail(err, HB_ENOMEM, "out of memory");
                    continue;
                }
                if (!isnan(json_num(run, "seed")))
                    seed = json_num(run, "seed");
            } else {
                char sp[PATH_BUF];
                snprintf(sp, sizeof sp, "%s/%s/seed-%zu/summary.json", r->dir, pr->name, k);
                if (!file_exists(sp)) {
                    if (warn(r, "%s seed-%zu: no summary.json, left out", pr->name, k))
                        return hb_fail(err, HB_ENOMEM, "out of memory");
                    continue;
                }
            }
            hb_run *run = &pr->runs[pr->nruns];
            run->seed_index = (int)k;
            run->seed = seed;
            int rc = read_run(r, &env, pr->name, (int)k, flags, pr->nruns == 0, run, err);
            if (rc) {
                run_free(run);
                return rc;
            }
            pr->nruns++;
        }
    }
    return HB_OK;
}

int hb_results_read(const char *dir, unsigned flags, hb_results *out, hb_error *err)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (!(out->dir = malloc(len + 1)))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    memcpy(out->dir, dir, len);
    out->dir[len] = '\0';
    char path[PATH_BUF];
    int n = snprintf(path, sizeof path, "%s/manifest.json", out->dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        hb_results_free(out);
        return hb_fail(err, HB_EINPUT, "%s: path too long", dir);
    }
    if (!file_exists(path)) {
        /* say what is wrong with the directory, not just which file is missing */
        FILE *d = fopen(out->dir, "r");
        int rc = hb_fail(err, HB_EINPUT, "%s: %s", out->dir,
                         d ? "not a result directory of `harvestbench run` (it has no "
                             "manifest.json)"
                           : "no such directory");
        if (d)
            fclose(d);
        hb_results_free(out);
        return rc;
    }
    cJSON *m;
    int rc = hb_read_json(path, &m, err);
    if (!rc && !cJSON_IsObject(m)) {
        cJSON_Delete(m);
        rc = hb_fail_at(err, HB_EINPUT, path, 1, NULL, "expected a JSON object");
    } else if (!rc) {
        rc = read_manifest(out, path, m, flags, err);
        cJSON_Delete(m);
    }
    if (rc)
        hb_results_free(out);
    return rc;
}

const hb_policy_runs *hb_results_policy(const hb_results *r, const char *name)
{
    for (size_t p = 0; p < r->npolicies; p++)
        if (strcmp(r->policies[p].name, name) == 0)
            return &r->policies[p];
    return NULL;
}

int hb_runs_pairing(const hb_policy_runs *a, const hb_policy_runs *b)
{
    if (!hb_runs_paired(a, b))
        return HB_PAIR_NONE;
    for (size_t k = 0; k < a->nruns; k++) {
        const hb_run *x = &a->runs[k], *y = &b->runs[k];
        if (!x->has_index || !y->has_index || x->calls != y->calls)
            return HB_PAIR_SEED;
        for (size_t i = 0; i < x->calls; i++)
            if (x->call[i].index != y->call[i].index || x->call[i].func != y->call[i].func ||
                !(fabs(x->call[i].arrival_s - y->call[i].arrival_s) <= 1e-5))
                return HB_PAIR_SEED;
    }
    return HB_PAIR_INVOCATION;
}

int hb_runs_paired(const hb_policy_runs *a, const hb_policy_runs *b)
{
    if (a->nruns != b->nruns || a->nruns == 0)
        return 0;
    for (size_t k = 0; k < a->nruns; k++)
        if (a->runs[k].seed != b->runs[k].seed)
            return 0;
    return 1;
}

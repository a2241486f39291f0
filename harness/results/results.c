/* results.c - the run writer and the run statistics (see results.h). */
#include "results.h"

#include "atomic_file.h"
#include "files.h"

#include <csv.h>
#include <errno.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INVOCATIONS_HEADER                                                                         \
    "index,activation_id,function,input_size,invoker,arrival_s,start_s,end_s,wait_ms,init_ms,"    \
    "duration_ms,latency_ms,cold_start,outcome,user_cpu,user_mem_mb,pred_cpu,pred_mem_mb,"        \
    "pred_duration_ms,alloc_cpu,alloc_mem_mb,cpu_peak,mem_peak_mb,harvested_cpu_s,"               \
    "harvested_mem_mb_s,borrowed_cpu_s,borrowed_mem_mb_s,safeguard,base_duration_ms,"              \
    "dispatch_late_ms,borrowed_running_cpu_s,borrowed_running_mem_mb_s,trace_function,error"

#define USAGE_HEADER                                                                               \
    "time_s,invoker,cpu_capacity,cpu_alloc,cpu_used,mem_capacity_mb,mem_alloc_mb,mem_used_mb,"    \
    "running,queued,cpu_harvested,cpu_borrowed,mem_harvested_mb,mem_borrowed_mb"

/* The Libra artifact's headers (libra-harness spec section 3). */
#define TRAJECTORY_HEADER                                                                          \
    "index,request_id,function_id,input_size,success,timeout,cpu,memory,cpu_peak,mem_peak,"       \
    "history,predict_duration,duration,completion_time"
#define DELTA_HEADER                                                                               \
    "index,request_id,is_safeguard,cpu_delta,mem_delta,cpu_idle,memory_idle,duration,"            \
    "completion_time"

const char *hb_invocations_header(void) { return INVOCATIONS_HEADER; }

/* ---- small output helpers ---- */

typedef struct strbuf {
    char *s;
    size_t n, cap;
    int oom;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(strbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 512;
        while (cap < b->n + (size_t)k + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* Appends n bytes: what sb_printf(b, "%s", t) does, without a second pass through printf (the
 * usage rows are most of a simulated run's time). */
static void sb_put(strbuf *b, const char *t, size_t n)
{
    if (b->oom)
        return;
    if (!b->s || b->n + n >= b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 512;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->n, t, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* A number with up to 6 decimals and no trailing zeros, never in exponent form. */
static void sb_num(strbuf *b, double v)
{
    if (!isfinite(v)) {
        sb_printf(b, "%s", "");
        return;
    }
    char tmp[64];
    if (fabs(v) < 1e15 && v == (double)(long long)v) {
        /* an integer (capacities, counts, zeros: most of usage.csv) prints as "%.6f" does once its
         * zeros are stripped, without the floating-point conversion; -0 prints as 0 */
        int k = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
        sb_put(b, tmp, (size_t)k);
        return;
    }
    int k = snprintf(tmp, sizeof tmp, "%.6f", v);
    if (k <= 0 || (size_t)k >= sizeof tmp) {
        sb_printf(b, "%.17g", v);
        return;
    }
    char *dot = strchr(tmp, '.');
    if (dot) {
        char *e = tmp + k - 1;
        while (e > dot && *e == '0')
            *e-- = '\0';
        if (e == dot)
            *e = '\0';
    }
    if (strcmp(tmp, "-0") == 0)
        memcpy(tmp, "0", 2);
    sb_put(b, tmp, strlen(tmp));
}

/* Microseconds as milliseconds or seconds, exactly (no binary rounding). */
static void sb_us(strbuf *b, hb_time us, int as_seconds)
{
    const char *sign = us < 0 ? "-" : "";
    long long a = us < 0 ? -(long long)us : (long long)us;
    if (as_seconds)
        sb_printf(b, "%s%lld.%06lld", sign, a / 1000000, a % 1000000);
    else
        sb_printf(b, "%s%lld.%03lld", sign, a / 1000, a % 1000);
}

static void sb_csv_field(strbuf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        sb_printf(b, "%s", s);
        return;
    }
    size_t len = strlen(s);
    char *q = malloc(len * 2 + 3);
    if (!q) {
        b->oom = 1;
        return;
    }
    size_t n = csv_write(q, len * 2 + 3, s, len);
    sb_printf(b, "%.*s", (int)n, q);
    free(q);
}

/* ---- statistics ---- */

void hb_stats_init(hb_run_stats *st, int keep_latencies)
{
    memset(st, 0, sizeof *st);
    st->keep_latencies = keep_latencies;
}

void hb_stats_free(hb_run_stats *st)
{
    free(st->lat);
    st->lat = NULL;
    st->n_lat = st->cap_lat = 0;
}

/* ---- extension columns ---- */

size_t hb_columns_count(const hb_column *cols)
{
    size_t n = 0;
    while (cols && cols[n].name)
        n++;
    return n;
}

/* Names a column may not take: the fixed columns of invocations.csv and the keys of summary.json. */
static int fixed_name(const char *name)
{
    static const char *const keys[] = {
        "policy", "seed_index", "seed", "backend", "invocations", "outcomes", "cold_starts",
        "latency_ms", "wait_ms_mean", "makespan_s", "cpu_used_core_s", "cpu_alloc_core_s",
        "cpu_capacity_core_s", "mem_used_mb_s", "mem_alloc_mb_s", "mem_capacity_mb_s",
        "cpu_util_alloc", "cpu_util_capacity", "mem_util_alloc", "mem_util_capacity",
        "harvested_share", "accelerated_share", "safeguard_triggers", "clipped_decisions",
        "excluded_calls", "artifact", "wall_seconds", NULL};
    for (int i = 0; keys[i]; i++)
        if (strcmp(keys[i], name) == 0)
            return 1;
    size_t len = strlen(name);
    for (const char *p = INVOCATIONS_HEADER; *p;) {
        size_t k = strcspn(p, ",");
        if (k == len && strncmp(p, name, len) == 0)
            return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

int hb_columns_check(const hb_column *cols, const char *policy, hb_error *err)
{
    size_t n = hb_columns_count(cols);
    if (n > HB_MAX_COLUMNS)
        return hb_fail(err, HB_EINPUT, "policy %s declares %zu extension columns; at most %d",
                       policy, n, HB_MAX_COLUMNS);
    for (size_t i = 0; i < n; i++) {
        const char *c = cols[i].name;
        size_t len = strlen(c);
        if (len == 0 || len > 63 || strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
            return hb_fail(err, HB_EINPUT, "policy %s: extension column '%s': a name is 1 to 63 "
                           "of a-z, 0-9 and _", policy, c);
        if (fixed_name(c))
            return hb_fail(err, HB_EINPUT, "policy %s: extension column '%s' is a fixed column of "
                           "invocations.csv or key of summary.json", policy, c);
        for (size_t j = 0; j < i; j++)
            if (strcmp(cols[j].name, c) == 0)
                return hb_fail(err, HB_EINPUT, "policy %s: extension column '%s' declared twice",
                               policy, c);
    }
    return 0;
}

void hb_stats_columns(hb_run_stats *st, const hb_column *cols)
{
    st->n_columns = 0;
    for (size_t i = 0; cols && cols[i].name && st->n_columns < HB_MAX_COLUMNS; i++)
        if (cols[i].total) {
            snprintf(st->column[st->n_columns].name, sizeof st->column[0].name, "%s", cols[i].name);
            st->column[st->n_columns].col = i;
            st->column[st->n_columns++].total = 0;
        }
}

static void add_columns(hb_run_stats *st, const hb_call_ext *ext)
{
    for (size_t k = 0; ext && k < st->n_columns; k++) {
        size_t i = st->column[k].col;
        if (i < ext->n && !ext->v[i].text && isfinite(ext->v[i].num))
            st->column[k].total += ext->v[i].num;
    }
}

double hb_stats_column(const hb_run_stats *st, const char *name)
{
    for (size_t i = 0; i < st->n_columns; i++)
        if (strcmp(st->column[i].name, name) == 0)
            return st->column[i].total;
    return NAN;
}

void hb_stats_pool_columns(hb_run_stats *into, const hb_run_stats *s)
{
    for (size_t i = 0; i < s->n_columns; i++) {
        size_t j = 0;
        while (j < into->n_columns && strcmp(into->column[j].name, s->column[i].name) != 0)
            j++;
        if (j == into->n_columns) {
            if (j == HB_MAX_COLUMNS)
                continue;
            into->column[j] = s->column[i];
            into->column[j].total = 0;
            into->n_columns++;
        }
        into->column[j].total += s->column[i].total;
    }
}

void hb_stats_columns_from_json(hb_run_stats *st, const cJSON *summary)
{
    for (size_t i = 0; i < st->n_columns; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(summary, st->column[i].name);
        st->column[i].total = cJSON_IsNumber(v) ? v->valuedouble : 0;
    }
}

/* ---- statistics of a run ---- */

int hb_stats_add(hb_run_stats *st, const hb_invocation *inv, const hb_call_ext *ext)
{
    if (st->windowed && (inv->arrival < st->win_lo || inv->arrival > st->win_hi)) {
        st->excluded_calls++;
        return 0;
    }
    st->invocations++;
    st->outcomes[inv->outcome <= HB_LOST ? inv->outcome : HB_ERROR]++;
    st->cold_starts += inv->cold_start != 0;
    int harvested = inv->harvested_cpu_s > 0 || inv->harvested_mem_mb_s > 0;
    /* accelerated: it received resources while its code ran, not only during its cold start */
    int accelerated = inv->borrowed_running_cpu_s > 0 || inv->borrowed_running_mem_mb_s > 0;
    st->harvested += harvested;
    st->accelerated += accelerated;
    st->safeguards += inv->safeguard != 0;
    st->harvested_cpu_s += inv->harvested_cpu_s;
    st->harvested_mem_mb_s += inv->harvested_mem_mb_s;
    st->borrowed_cpu_s += inv->borrowed_cpu_s;
    st->borrowed_mem_mb_s += inv->borrowed_mem_mb_s;
    st->borrowed_running_cpu_s += inv->borrowed_running_cpu_s;
    st->borrowed_running_mem_mb_s += inv->borrowed_running_mem_mb_s;
    add_columns(st, ext);
    if (inv->dispatch_late_ms > st->dispatch_late_max_ms)
        st->dispatch_late_max_ms = inv->dispatch_late_ms;
    if (inv->outcome != HB_LOST) {
        st->total_duration_s += hb_time_s(inv->end - inv->exec_start);
        st->wait_sum_ms += hb_time_ms(inv->start - inv->arrival);
    }
    if (inv->outcome != HB_SUCCESS)
        return 0;
    double lat = hb_time_ms(inv->end - inv->arrival);
    st->n_success++;
    st->lat_sum += lat;
    if (lat > st->lat_max)
        st->lat_max = lat;
    if (!st->keep_latencies)
        return 0;
    if (st->n_lat == st->cap_lat) {
        size_t cap = st->cap_lat ? st->cap_lat * 2 : 1024;
        double *a = realloc(st->lat, cap * sizeof *a);
        if (!a)
            return HB_ENOMEM;
        st->lat = a;
        st->cap_lat = cap;
    }
    st->lat[st->n_lat++] = lat;
    return 0;
}

void hb_stats_add_usage(hb_run_stats *st, const hb_usage_row *r)
{
    if (st->windowed) {
        if (r->t < st->win_lo || r->t >= st->win_hi)
            return;
        st->cpu_capacity_win += r->cpu_capacity;
        st->mem_capacity_mb_win += r->mem_capacity_mb;
    }
    st->cpu_used_core_s += r->cpu_used;
    st->cpu_alloc_core_s += r->cpu_alloc;
    st->mem_used_mb_s += r->mem_used_mb;
    st->mem_alloc_mb_s += r->mem_alloc_mb;
}

double hb_stats_latency_pct(hb_run_stats *st, double p)
{
    if (st->n_lat == 0)
        return NAN;
    gsl_sort(st->lat, 1, st->n_lat);
    return gsl_stats_quantile_from_sorted_data(st->lat, 1, st->n_lat, p);
}

static double ratio(double a, double b) { return b > 0 ? a / b : NAN; }

cJSON *hb_stats_json(hb_run_stats *st, const char *policy, int seed_index, uint64_t seed,
                     const char *backend)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "policy", policy);
    cJSON_AddNumberToObject(o, "seed_index", seed_index);
    cJSON_AddNumberToObject(o, "seed", (double)seed);
    cJSON_AddStringToObject(o, "backend", backend);
    cJSON_AddNumberToObject(o, "invocations", (double)st->invocations);
    cJSON *oc = cJSON_AddObjectToObject(o, "outcomes");
    for (int i = HB_SUCCESS; i <= HB_LOST; i++)
        cJSON_AddNumberToObject(oc, hb_outcome_name((hb_outcome)i), (double)st->outcomes[i]);
    cJSON_AddNumberToObject(o, "cold_starts", (double)st->cold_starts);
    cJSON *lat = cJSON_AddObjectToObject(o, "latency_ms");
    cJSON_AddNumberToObject(lat, "mean", st->n_success ? st->lat_sum / (double)st->n_success : NAN);
    cJSON_AddNumberToObject(lat, "p50", hb_stats_latency_pct(st, 0.50));
    cJSON_AddNumberToObject(lat, "p95", hb_stats_latency_pct(st, 0.95));
    cJSON_AddNumberToObject(lat, "p99", hb_stats_latency_pct(st, 0.99));
    cJSON_AddNumberToObject(lat, "max", st->n_success ? st->lat_max : NAN);
    uint64_t ended = st->invocations - st->outcomes[HB_LOST];
    cJSON_AddNumberToObject(o, "wait_ms_mean", ended ? st->wait_sum_ms / (double)ended : NAN);
    double makespan = hb_time_s(st->makespan);
    cJSON_AddNumberToObject(o, "makespan_s", makespan);
    double cap_cpu = st->cpu_capacity * makespan, cap_mem = st->mem_capacity_mb * makespan;
    if (st->windowed) {
        cap_cpu = st->cpu_capacity_win;
        cap_mem = st->mem_capacity_mb_win;
    }
    cJSON_AddNumberToObject(o, "cpu_used_core_s", st->cpu_used_core_s);
    cJSON_AddNumberToObject(o, "cpu_alloc_core_s", st->cpu_alloc_core_s);
    cJSON_AddNumberToObject(o, "cpu_capacity_core_s", cap_cpu);
    cJSON_AddNumberToObject(o, "mem_used_mb_s", st->mem_used_mb_s);
    cJSON_AddNumberToObject(o, "mem_alloc_mb_s", st->mem_alloc_mb_s);
    cJSON_AddNumberToObject(o, "mem_capacity_mb_s", cap_mem);
    cJSON_AddNumberToObject(o, "cpu_util_alloc", ratio(st->cpu_used_core_s, st->cpu_alloc_core_s));
    cJSON_AddNumberToObject(o, "cpu_util_capacity", ratio(st->cpu_used_core_s, cap_cpu));
    cJSON_AddNumberToObject(o, "mem_util_alloc", ratio(st->mem_used_mb_s, st->mem_alloc_mb_s));
    cJSON_AddNumberToObject(o, "mem_util_capacity", ratio(st->mem_used_mb_s, cap_mem));
    double n = (double)st->invocations;
    cJSON_AddNumberToObject(o, "harvested_share", ratio((double)st->harvested, n));
    cJSON_AddNumberToObject(o, "accelerated_share", ratio((double)st->accelerated, n));
    cJSON_AddNumberToObject(o, "safeguard_triggers", (double)st->safeguards);
    cJSON_AddNumberToObject(o, "clipped_decisions", (double)st->clipped_decisions);
    cJSON_AddNumberToObject(o, "excluded_calls", (double)st->excluded_calls);
    cJSON_AddNumberToObject(o, "harvested_cpu_s", st->harvested_cpu_s);
    cJSON_AddNumberToObject(o, "harvested_mem_mb_s", st->harvested_mem_mb_s);
    cJSON_AddNumberToObject(o, "borrowed_cpu_s", st->borrowed_cpu_s);
    cJSON_AddNumberToObject(o, "borrowed_mem_mb_s", st->borrowed_mem_mb_s);
    cJSON_AddNumberToObject(o, "borrowed_running_cpu_s", st->borrowed_running_cpu_s);
    cJSON_AddNumberToObject(o, "borrowed_running_mem_mb_s", st->borrowed_running_mem_mb_s);
    for (size_t i = 0; i < st->n_columns; i++)    /* the policy's extension columns */
        cJSON_AddNumberToObject(o, st->column[i].name, st->column[i].total);
    cJSON *art = cJSON_AddObjectToObject(o, "artifact");
    cJSON_AddNumberToObject(art, "total_events", n);
    cJSON_AddNumberToObject(art, "timeout_num", (double)st->outcomes[HB_TIMEOUT]);
    cJSON_AddNumberToObject(art, "error_num", (double)(st->outcomes[HB_OOM] + st->outcomes[HB_ERROR] +
                                                       st->outcomes[HB_LOST]));
    cJSON_AddNumberToObject(art, "total_reward", -st->total_duration_s);
    cJSON_AddNumberToObject(art, "system_runtime_s", makespan);
    cJSON_AddNumberToObject(o, "wall_seconds", st->wall_seconds);
    return o;
}

/* ---- the writer ---- */

enum { F_INV, F_USAGE, F_TRAJ, F_DELTA, F_CPU, F_MEM, NFILES };

typedef struct pending {
    char *row;                         /* invocations.csv row, then trajectory row, then delta row */
    size_t inv_len, traj_len, delta_len;
} pending;

struct hb_run_writer {
    char dir[2048];
    hb_afile f[NFILES];
    /* reorder buffer: slot (index - next) % cap */
    pending *ring;
    size_t cap;
    uint64_t next;
    /* artifact usage: sums over invokers of the current second */
    int64_t bin;
    double cpu_used, cpu_alloc, mem_used, mem_alloc;
    strbuf sb;
    size_t n_columns;                  /* the policy's extension columns */
};

static int open_file(hb_run_writer *w, int k, const char *name, const char *header, hb_error *err)
{
    int rc = hb_afile_open(&w->f[k], w->dir, name, err);
    if (rc)
        return rc;
    setvbuf(w->f[k].f, NULL, _IOFBF, 1 << 16);
    if (fprintf(w->f[k].f, "%s\n", header) < 0)
        return hb_fail(err, HB_EIO, "%s: write failed", w->f[k].tmp);
    return 0;
}

int hb_writer_open(const hb_writer_spec *spec, hb_run_writer **out, hb_error *err)
{
    *out = NULL;
    hb_run_writer *w = calloc(1, sizeof *w);
    if (!w)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    snprintf(w->dir, sizeof w->dir, "%s", spec->dir);
    w->bin = -1;
    char art[2100], name[512];
    snprintf(art, sizeof art, "%s/artifact", w->dir);
    int rc = hb_mkdirs(art, err);
    const char *stem = spec->artifact_stem ? spec->artifact_stem : "run_0_0";
    static const char *const suffix[] = {"trajectory", "delta", "cpu_usage", "memory_usage"};
    static const char *const headers[] = {TRAJECTORY_HEADER, DELTA_HEADER, "time,util,alloc",
                                          "time,util,alloc"};
    w->n_columns = hb_columns_count(spec->columns);
    /* invocations.csv: the fixed columns, then the policy's extension columns */
    strbuf *h = &w->sb;
    sb_printf(h, "%s", INVOCATIONS_HEADER);
    for (size_t i = 0; i < w->n_columns; i++)
        sb_printf(h, ",%s", spec->columns[i].name);
    if (!rc && h->oom)
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
    if (!rc)
        rc = open_file(w, F_INV, "invocations.csv", h->s, err);
    if (!rc)
        rc = open_file(w, F_USAGE, "usage.csv", USAGE_HEADER, err);
    for (int k = 0; k < 4 && !rc; k++) {
        snprintf(name, sizeof name, "artifact/%s_%s.csv", stem, suffix[k]);
        rc = open_file(w, F_TRAJ + k, name, headers[k], err);
    }
    if (rc) {
        hb_writer_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* Formats the three rows of one call into one string. */
static int format_rows(hb_run_writer *w, const hb_invocation *inv, const hb_call_ext *ext,
                       pending *p, hb_error *err)
{
    static const hb_call_ext none = {0, NULL, {NULL, 0, 0}};
    if (!ext)
        ext = &none;
    strbuf *b = &w->sb;
    b->n = 0;
    int ended = inv->outcome != HB_LOST && inv->outcome != HB_PENDING;
    /* invocations.csv */
    sb_printf(b, "%llu,%s,%s,%lld,%d,", (unsigned long long)inv->index, inv->activation_id,
              hb_functions[inv->workload].id, (long long)inv->input_size, inv->invoker);
    sb_us(b, inv->arrival, 1);
    sb_put(b, ",", 1);
    if (ended) {
        sb_us(b, inv->start, 1);
        sb_put(b, ",", 1);
        sb_us(b, inv->end, 1);
        sb_put(b, ",", 1);
        sb_us(b, inv->start - inv->arrival, 0);
        sb_put(b, ",", 1);
        sb_us(b, inv->exec_start - inv->start, 0);
        sb_put(b, ",", 1);
        sb_us(b, inv->end - inv->exec_start, 0);
        sb_put(b, ",", 1);
        sb_us(b, inv->end - inv->arrival, 0);
    } else {
        sb_printf(b, ",,,,,");
    }
    sb_printf(b, ",%d,%s,", inv->cold_start, hb_outcome_name(inv->outcome));
    sb_num(b, inv->user.cpu);
    sb_put(b, ",", 1);
    sb_num(b, inv->user.mem_mb);
    sb_put(b, ",", 1);
    if (inv->pred.cpu >= 0)
        sb_num(b, inv->pred.cpu);
    sb_put(b, ",", 1);
    if (inv->pred.mem_mb >= 0)
        sb_num(b, inv->pred.mem_mb);
    sb_put(b, ",", 1);
    if (inv->pred_duration_s >= 0)
        sb_num(b, inv->pred_duration_s * 1e3);
    sb_put(b, ",", 1);
    sb_num(b, inv->alloc_mean.cpu);
    sb_put(b, ",", 1);
    sb_num(b, inv->alloc_mean.mem_mb);
    sb_put(b, ",", 1);
    sb_num(b, inv->cpu_peak);
    sb_put(b, ",", 1);
    sb_num(b, inv->mem_peak_mb);
    const double rs[] = {inv->harvested_cpu_s, inv->harvested_mem_mb_s, inv->borrowed_cpu_s,
                         inv->borrowed_mem_mb_s};
    for (int i = 0; i < 4; i++) {
        sb_put(b, ",", 1);
        sb_num(b, rs[i]);
    }
    sb_printf(b, ",%d,", inv->safeguard);
    if (inv->base_duration_ms >= 0)
        sb_num(b, inv->base_duration_ms);
    sb_put(b, ",", 1);
    sb_num(b, inv->dispatch_late_ms);
    sb_put(b, ",", 1);
    sb_num(b, inv->borrowed_running_cpu_s);
    sb_put(b, ",", 1);
    sb_num(b, inv->borrowed_running_mem_mb_s);
    sb_put(b, ",", 1);
    sb_csv_field(b, inv->trace_name ? inv->trace_name : "");
    sb_put(b, ",", 1);
    sb_csv_field(b, inv->error_msg);
    for (size_t i = 0; i < ext->n; i++) {
        sb_put(b, ",", 1);
        if (ext->v[i].text)
            sb_csv_field(b, ext->v[i].text);
        else
            sb_num(b, ext->v[i].num);   /* NaN: empty */
    }
    sb_put(b, "\n", 1);
    p->inv_len = b->n;

    /* artifact trajectory: booleans as Python writes them, times in seconds */
    int ok = inv->outcome == HB_SUCCESS;
    double dur_s = ended ? hb_time_s(inv->end - inv->exec_start) : 0;
    double lat_s = ended ? hb_time_s(inv->end - inv->arrival) : 0;
    sb_printf(b, "%llu,%s,%s,%lld,%s,%s,", (unsigned long long)inv->index, inv->activation_id,
              hb_functions[inv->workload].id, (long long)inv->input_size, ok ? "True" : "False",
              inv->outcome == HB_TIMEOUT ? "True" : "False");
    /* the artifact's cpu and memory: what the policy asked for (its prediction, else its start) */
    sb_num(b, inv->pred.cpu >= 0 ? inv->pred.cpu : inv->alloc_start.cpu);
    sb_put(b, ",", 1);
    sb_num(b, (inv->pred.mem_mb >= 0 ? inv->pred.mem_mb : inv->alloc_start.mem_mb) / HB_MEM_UNIT_MB);
    sb_put(b, ",", 1);
    sb_num(b, ok ? inv->cpu_peak : 0);
    sb_put(b, ",", 1);
    sb_num(b, ok ? inv->mem_peak_mb : 0);
    sb_put(b, ",", 1);
    if (ext->artifact.history)
        sb_csv_field(b, ext->artifact.history);
    else
        sb_printf(b, "0;0 0;0 0;;");
    sb_put(b, ",", 1);
    sb_num(b, inv->pred_duration_s > 0 ? inv->pred_duration_s : 0);
    sb_put(b, ",", 1);
    sb_num(b, dur_s);
    sb_put(b, ",", 1);
    sb_num(b, lat_s);
    sb_put(b, "\n", 1);
    p->traj_len = b->n - p->inv_len;

    /* artifact delta: positive = accelerated, negative = harvested (core x s, MB x s) */
    sb_printf(b, "%llu,%s,%s,", (unsigned long long)inv->index, inv->activation_id,
              inv->safeguard ? "True" : "False");
    sb_num(b, inv->borrowed_cpu_s - inv->harvested_cpu_s);
    sb_put(b, ",", 1);
    sb_num(b, inv->borrowed_mem_mb_s - inv->harvested_mem_mb_s);
    sb_put(b, ",", 1);
    sb_num(b, ext->artifact.cpu_idle_s);
    sb_put(b, ",", 1);
    sb_num(b, ext->artifact.memory_idle_mb_s);
    sb_put(b, ",", 1);
    sb_num(b, dur_s);
    sb_put(b, ",", 1);
    sb_num(b, lat_s);
    sb_put(b, "\n", 1);
    p->delta_len = b->n - p->inv_len - p->traj_len;
    if (b->oom)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    p->row = malloc(b->n);
    if (!p->row)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    memcpy(p->row, b->s, b->n);
    return 0;
}

static int emit(hb_run_writer *w, pending *p, hb_error *err)
{
    int bad = fwrite(p->row, 1, p->inv_len, w->f[F_INV].f) != p->inv_len;
    bad |= fwrite(p->row + p->inv_len, 1, p->traj_len, w->f[F_TRAJ].f) != p->traj_len;
    bad |= fwrite(p->row + p->inv_len + p->traj_len, 1, p->delta_len, w->f[F_DELTA].f) != p->delta_len;
    free(p->row);
    p->row = NULL;
    if (bad)
        return hb_fail(err, HB_EIO, "%s: write failed", w->dir);
    return 0;
}

static int ring_grow(hb_run_writer *w, size_t need)
{
    size_t cap = w->cap ? w->cap : 256;
    while (cap <= need)
        cap *= 2;
    pending *r = calloc(cap, sizeof *r);
    if (!r)
        return -1;
    for (size_t i = 0; i < w->cap; i++) {
        pending *p = &w->ring[(w->next + i) % w->cap];
        r[(w->next + i) % cap] = *p;
    }
    free(w->ring);
    w->ring = r;
    w->cap = cap;
    return 0;
}

int hb_writer_invocation(hb_run_writer *w, const hb_invocation *inv, const hb_call_ext *ext,
                         hb_error *err)
{
    size_t n = ext ? ext->n : 0;
    if (n != w->n_columns)
        return hb_fail(err, HB_ERUN, "%s: call %llu has %zu extension values, but the header has %zu "
                       "extension columns (hb_writer_spec.columns)", w->dir,
                       (unsigned long long)inv->index, n, w->n_columns);
    if (inv->index < w->next)
        return hb_fail(err, HB_ERUN, "call %llu ended twice", (unsigned long long)inv->index);
    size_t off = (size_t)(inv->index - w->next);
    if (off >= w->cap && ring_grow(w, off))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    pending *slot = &w->ring[inv->index % w->cap];
    if (slot->row)
        return hb_fail(err, HB_ERUN, "call %llu ended twice", (unsigned long long)inv->index);
    int rc = format_rows(w, inv, ext, slot, err);
    if (rc)
        return rc;
    while (w->cap && w->ring[w->next % w->cap].row) {
        if ((rc = emit(w, &w->ring[w->next % w->cap], err)))
            return rc;
        w->next++;
    }
    return 0;
}

static int artifact_usage_row(hb_run_writer *w, hb_error *err)
{
    if (w->bin < 0)
        return 0;
    strbuf *b = &w->sb;
    b->n = 0;
    sb_printf(b, "%lld,", (long long)w->bin + 1);
    sb_num(b, w->cpu_used);
    sb_put(b, ",", 1);
    sb_num(b, w->cpu_alloc);
    sb_put(b, "\n", 1);
    size_t k = b->n;
    sb_printf(b, "%lld,", (long long)w->bin + 1);
    sb_num(b, w->mem_used);
    sb_put(b, ",", 1);
    sb_num(b, w->mem_alloc);
    sb_put(b, "\n", 1);
    if (b->oom)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (fwrite(b->s, 1, k, w->f[F_CPU].f) != k || fwrite(b->s + k, 1, b->n - k, w->f[F_MEM].f) != b->n - k)
        return hb_fail(err, HB_EIO, "%s: write failed", w->dir);
    w->cpu_used = w->cpu_alloc = w->mem_used = w->mem_alloc = 0;
    return 0;
}

int hb_writer_usage(hb_run_writer *w, const hb_usage_row *r, hb_error *err)
{
    int64_t bin = r->t / HB_SEC;
    if (bin != w->bin) {
        int rc = artifact_usage_row(w, err);
        if (rc)
            return rc;
        w->bin = bin;
    }
    w->cpu_used += r->cpu_used;
    w->cpu_alloc += r->cpu_alloc;
    w->mem_used += r->mem_used_mb;
    w->mem_alloc += r->mem_alloc_mb;
    strbuf *b = &w->sb;
    b->n = 0;
    sb_printf(b, "%lld,%d,", (long long)bin, r->invoker);
    const double v[] = {r->cpu_capacity, r->cpu_alloc, r->cpu_used, r->mem_capacity_mb,
                        r->mem_alloc_mb, r->mem_used_mb, r->running, r->queued, r->cpu_harvested,
                        r->cpu_borrowed, r->mem_harvested_mb, r->mem_borrowed_mb};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (i)
            sb_put(b, ",", 1);
        sb_num(b, v[i]);
    }
    sb_put(b, "\n", 1);
    if (b->oom)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (fwrite(b->s, 1, b->n, w->f[F_USAGE].f) != b->n)
        return hb_fail(err, HB_EIO, "%s: write failed", w->f[F_USAGE].tmp);
    return 0;
}

static void writer_free(hb_run_writer *w)
{
    for (size_t i = 0; i < w->cap; i++)
        free(w->ring[i].row);
    free(w->ring);
    free(w->sb.s);
    free(w);
}

int hb_writer_finish(hb_run_writer *w, cJSON *summary, hb_error *err)
{
    int rc = 0;
    if (w->cap && w->ring[w->next % w->cap].row)
        rc = hb_fail(err, HB_ERUN, "%s: calls missing before index %llu", w->dir,
                     (unsigned long long)w->next);
    for (size_t i = 0; i < w->cap && !rc; i++)
        if (w->ring[i].row)
            rc = hb_fail(err, HB_ERUN, "%s: a call never ended before a later one was written",
                         w->dir);
    if (!rc)
        rc = artifact_usage_row(w, err);
    for (int k = 0; k < NFILES; k++) {
        if (!w->f[k].f)
            continue;
        if (rc)
            hb_afile_abort(&w->f[k]);
        else
            rc = hb_afile_commit(&w->f[k], err);
    }
    char path[2300];
    snprintf(path, sizeof path, "%s/summary.json", w->dir);
    /* summary.json last: its presence marks the run complete */
    if (!rc && summary)
        rc = hb_write_json(path, summary, err);
    writer_free(w);
    return rc;
}

void hb_writer_abort(hb_run_writer *w)
{
    if (!w)
        return;
    /* keep what ended: rows still waiting for an earlier call go out in index order */
    hb_error ignored;
    for (size_t i = 0; i < w->cap; i++) {
        pending *p = &w->ring[(w->next + i) % w->cap];
        if (p->row && w->f[F_INV].f && w->f[F_TRAJ].f && w->f[F_DELTA].f)
            emit(w, p, &ignored);
    }
    for (int k = 0; k < NFILES; k++)
        hb_afile_keep(&w->f[k]);       /* partial files stay as NAME.tmp */
    writer_free(w);
}

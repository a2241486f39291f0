/* config.c - INI configuration (see config.h). libinih parses; a custom line reader gives every
 * key its line number and checks section headers, since Debian's libinih is built without
 * INI_HANDLER_LINENO. The schema table below is the single list of keys, types, ranges and
 * defaults; docs/config.md documents each (a unit test checks none is missing). */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"
#include "dynbuf.h"
#include "registry.h"

typedef enum { K_INT, K_DOUBLE, K_AUTO_DOUBLE, K_STR, K_PATH, K_ENUM, K_LIST, K_SEED } ktype;

typedef struct key_schema {
    const char *section;
    const char *key;
    ktype type;
    size_t off;
    double lo, hi;
    const char *const *choices;        /* K_ENUM */
    const char *def;                   /* default, parsed like a value from a file */
} key_schema;

static const char *const FORMATS[] = {"artifact", "azure2019", "azure2021", "constant", NULL};
static const char *const ARRIVALS[] = {"even", "uniform", "poisson", "equidistant", NULL};
static const char *const SIZES[] = {"auto", "file", "random", "multi", NULL};
static const char *const MAPPINGS[] = {"order", "duration", "file", NULL};
static const char *const PROFILES[] = {"artifact", "measured", NULL};
static const char *const BACKENDS[] = {"sim", "local", "openwhisk", NULL};
static const char *const USAGES[] = {"timeline", "flat", NULL};
static const char *const BOOLS[] = {"false", "true", NULL};
static const char *const USER_MEMORY[] = {"catalog", "trace", NULL};

#define O(f) offsetof(hb_config, f)
static const key_schema SCHEMA[] = {
    {"experiment", "name", K_STR, O(name), 0, 0, NULL, ""},
    {"experiment", "policies", K_LIST, O(policies), 0, 0, NULL, "default,fixed"},
    {"experiment", "seeds", K_INT, O(seeds), 1, 1000, NULL, "1"},
    {"experiment", "seed", K_SEED, O(seed), 0, 0, NULL, "1"},
    {"experiment", "out", K_PATH, O(out), 0, 0, NULL, ""},
    {"experiment", "backend", K_ENUM, O(backend), 0, 0, BACKENDS, "sim"},
    {"experiment", "time_scale", K_DOUBLE, O(time_scale), 1e-3, 1e3, NULL, "1"},
    {"experiment", "baseline", K_STR, O(baseline), 0, 0, NULL, ""},
    {"experiment", "warmup_s", K_DOUBLE, O(warmup_s), 0, 1e7, NULL, "0"},
    {"experiment", "drain_s", K_DOUBLE, O(drain_s), 0, 1e7, NULL, "0"},

    {"cluster", "invokers", K_INT, O(invokers), 1, 1024, NULL, "1"},   /* docs/config.md: Bounds */
    {"cluster", "cores", K_DOUBLE, O(cores), 0.1, 4096, NULL, "8"},
    {"cluster", "memory_mb", K_DOUBLE, O(memory_mb), 128, 16777216, NULL, "8192"},
    {"cluster", "keep_alive_s", K_DOUBLE, O(keep_alive_s), 0, 86400, NULL, "600"},
    {"cluster", "cold_start_ms", K_AUTO_DOUBLE, O(cold_start_ms), 0, 600000, NULL, "profile"},
    {"cluster", "monitor_ms", K_DOUBLE, O(monitor_ms), 1, 60000, NULL, "100"},

    {"trace", "format", K_ENUM, O(trace_format), 0, 0, FORMATS, "artifact"},
    {"trace", "invocations", K_PATH, O(trace_invocations), 0, 0, NULL, ""},
    {"trace", "durations", K_PATH, O(trace_durations), 0, 0, NULL, ""},
    {"trace", "memory", K_PATH, O(trace_memory), 0, 0, NULL, ""},
    {"trace", "input_sizes", K_PATH, O(trace_input_sizes), 0, 0, NULL, ""},
    {"trace", "arrival", K_ENUM, O(trace_arrival), 0, 0, ARRIVALS, "even"},
    {"trace", "sizes", K_ENUM, O(trace_sizes), 0, 0, SIZES, "auto"},
    {"trace", "start_minute", K_INT, O(trace_start_minute), 1, 1000000, NULL, "1"},
    {"trace", "minutes", K_INT, O(trace_minutes), 0, 1000000, NULL, "0"},
    {"trace", "functions", K_INT, O(trace_functions), 1, 100000, NULL, "10"},
    {"trace", "mapping", K_ENUM, O(trace_mapping), 0, 0, MAPPINGS, "order"},
    {"trace", "mapping_file", K_PATH, O(trace_mapping_file), 0, 0, NULL, ""},
    {"trace", "min_per_minute", K_INT, O(trace_min_per_minute), 0, INT_MAX, NULL, "0"},
    {"trace", "max_per_minute", K_INT, O(trace_max_per_minute), 0, INT_MAX, NULL, "2147483647"},
    {"trace", "scale", K_DOUBLE, O(trace_scale), 1e-6, 1e6, NULL, "1"},
    {"trace", "per_minute", K_INT, O(trace_per_minute), 1, 60000, NULL, "1"},
    {"trace", "scale_work", K_ENUM, O(trace_scale_work), 0, 0, BOOLS, "false"},
    {"trace", "user_memory", K_ENUM, O(trace_user_memory), 0, 0, USER_MEMORY, "catalog"},

    {"workload", "profile", K_ENUM, O(workload_profile), 0, 0, PROFILES, "artifact"},
    {"workload", "profile_file", K_PATH, O(workload_profile_file), 0, 0, NULL, ""},
    {"workload", "predictors", K_PATH, O(workload_predictors), 0, 0, NULL, ""},
    {"workload", "cv", K_AUTO_DOUBLE, O(workload_cv), 0, 2, NULL, "profile"},
    {"workload", "timeout_s", K_DOUBLE, O(workload_timeout_s), 0.1, 86400, NULL, "60"},
    {"workload", "usage", K_ENUM, O(workload_usage), 0, 0, USAGES, "timeline"},
    {"workload", "timeline_file", K_PATH, O(workload_timeline_file), 0, 0, NULL, ""},
    {"workload", "cpu_class_error", K_DOUBLE, O(workload_cpu_class_error), 0, 1, NULL, "0"},
    {"workload", "mem_class_error", K_DOUBLE, O(workload_mem_class_error), 0, 1, NULL, "0"},
};
#undef O
#define NSCHEMA (sizeof SCHEMA / sizeof SCHEMA[0])

/* [function.ID] keys */
static const char *const FUNC_KEYS[] = {"user_cpu", "user_mem_mb", "timeout_s", "cpu_clip",
                                        "mem_clip_mb", NULL};

static const char *const STATIC_SECTIONS[] = {"experiment", "cluster", "trace", "workload", NULL};

const char *hb_config_schema_key(size_t i)
{
    static char buf[64];
    if (i < NSCHEMA) {
        snprintf(buf, sizeof buf, "%s.%s", SCHEMA[i].section, SCHEMA[i].key);
        return buf;
    }
    i -= NSCHEMA;
    if (i < sizeof FUNC_KEYS / sizeof FUNC_KEYS[0] - 1) {
        snprintf(buf, sizeof buf, "function.ID.%s", FUNC_KEYS[i]);
        return buf;
    }
    return NULL;
}

/* ---- parsing state ---- */

typedef struct parse_ctx {
    hb_config *cfg;
    const char *name;                  /* file name for messages */
    /* line reader */
    FILE *f;
    const char *text, *pos;
    char *line;
    size_t line_cap;
    long lineno;
    char section[128];                 /* section of the current line, as seen by the reader */
    long section_line;
    int too_long;
    /* first error */
    hb_error *err;
    int failed;
    /* lines of each static key seen, to reject duplicates */
    long seen[NSCHEMA];
    long func_seen[HB_NWORKLOADS][8];
    int override;                      /* --set: a later value replaces an earlier one */
} parse_ctx;

static int fail_line(parse_ctx *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_line(parse_ctx *p, const char *field, const char *fmt, ...)
{
    if (p->failed)
        return 0;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hb_fail_at(p->err, HB_EINPUT, p->name, p->lineno, field, "%s", msg);
    p->failed = 1;
    return 0;
}

static int section_known(const char *s, const char **why)
{
    if (strcmp(s, "sweep") == 0)       /* read by `harvestbench sweep` (sweep.c), ignored here */
        return 1;
    for (int i = 0; STATIC_SECTIONS[i]; i++)
        if (strcmp(s, STATIC_SECTIONS[i]) == 0)
            return 1;
    if (strncmp(s, "function.", 9) == 0) {
        if (hb_function_find(s + 9) >= 0)
            return 1;
        *why = "unknown function (expected one of dh, eg, ip, vp, ir, knn, alu, ms, gd, dv)";
        return 0;
    }
    if (strncmp(s, "policy.", 7) == 0) {
        if (hb_policy_find(s + 7))
            return 1;
        *why = "unknown policy (see: harvestbench help run)";
        return 0;
    }
    if (strncmp(s, "backend.", 8) == 0) {
        if (hb_backend_find(s + 8))
            return 1;
        *why = "unknown backend (expected sim, local or openwhisk)";
        return 0;
    }
    *why = "unknown section (expected experiment, cluster, trace, workload, function.ID, "
           "policy.NAME or backend.NAME)";
    return 0;
}

/* A line that could not be read (out of memory, a read error): the parse fails with it. */
static void read_failed(parse_ctx *p, int code)
{
    if (p->failed)
        return;
    hb_fail_at(p->err, code, p->name, p->lineno + 1, NULL, "%s",
               code == HB_ENOMEM ? "out of memory" : "read error");
    p->failed = 1;
}

/* The ini_reader: one physical line per call, leading blanks removed (so that libinih never sees a
 * continuation line), section headers checked here where the line number is known. */
static char *read_line(char *str, int num, void *stream)
{
    parse_ctx *p = stream;
    ssize_t n;
    if (p->f) {
        errno = 0;
        n = getline(&p->line, &p->line_cap, p->f);
        if (n < 0) {                   /* the end, or a failure that must not pass for the end */
            if (errno == ENOMEM || ferror(p->f))
                read_failed(p, errno == ENOMEM ? HB_ENOMEM : HB_EIO);
            return NULL;
        }
    } else {
        if (!*p->pos)
            return NULL;
        const char *nl = strchr(p->pos, '\n');
        size_t len = nl ? (size_t)(nl - p->pos) + 1 : strlen(p->pos);
        if (HB_GROW(p->line, p->line_cap, len + 1) != HB_OK) {
            read_failed(p, HB_ENOMEM);
            return NULL;
        }
        memcpy(p->line, p->pos, len);
        p->line[len] = '\0';
        p->pos += len;
        n = (ssize_t)len;
    }
    p->lineno++;
    char *s = p->line;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    if (len + 1 > (size_t)num) {
        fail_line(p, NULL, "line longer than %d characters", num - 2);
        p->too_long = 1;
        return NULL;
    }
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (close) {
            size_t k = (size_t)(close - s - 1);
            if (k >= sizeof p->section)
                k = sizeof p->section - 1;
            memcpy(p->section, s + 1, k);
            p->section[k] = '\0';
            p->section_line = p->lineno;
            const char *why = NULL;
            if (!section_known(p->section, &why))
                fail_line(p, NULL, "[%s]: %s", p->section, why);
        }
    }
    memcpy(str, s, len + 1);
    return str;
}

/* ---- value setters ---- */

/* Integer keys are plain decimals: an optional '-' and digits (no hex, '+', '3.0' or blanks). */
static int parse_long(const char *v, long *out)
{
    const char *d = *v == '-' ? v + 1 : v;
    if (!*d || strspn(d, "0123456789") != strlen(d))
        return -1;
    int64_t x;
    if (hb_parse_int64(v, &x) || x < LONG_MIN || x > LONG_MAX)
        return -1;
    *out = (long)x;
    return 0;
}

static int set_list(parse_ctx *p, const char *field, const char *v)
{
    hb_error e;
    if (hb_config_set_policies(p->cfg, v, NULL, &e)) {
        fail_line(p, field, "%s", e.msg);
        return -1;
    }
    return 0;
}

static int set_value(parse_ctx *p, const key_schema *k, const char *v)
{
    char field[96];
    snprintf(field, sizeof field, "%s", k->key);
    char *dst = (char *)p->cfg + k->off;
    switch (k->type) {
    case K_INT: {
        long x;
        if (parse_long(v, &x))
            return fail_line(p, field, "'%s' is not an integer", v), -1;
        if (x < k->lo || x > k->hi)
            return fail_line(p, field, "%ld is out of range [%.0f, %.0f]", x, k->lo, k->hi), -1;
        *(int *)dst = (int)x;
        return 0;
    }
    case K_AUTO_DOUBLE:
        if (strcmp(v, "profile") == 0) {
            *(double *)dst = -1;
            return 0;
        }
        /* fall through */
    case K_DOUBLE: {
        double x;
        if (hb_parse_double(v, &x))
            return fail_line(p, field, "'%s' is not a number%s", v,
                             k->type == K_AUTO_DOUBLE ? " (or 'profile')" : ""), -1;
        if (x < k->lo || x > k->hi)
            return fail_line(p, field, "%g is out of range [%g, %g]", x, k->lo, k->hi), -1;
        *(double *)dst = x;
        return 0;
    }
    case K_SEED: {
        int64_t x;
        if (strspn(v, "0123456789") != strlen(v) || hb_parse_int64(v, &x) || x < 0)
            return fail_line(p, field, "'%s' is not a non-negative integer", v), -1;
        *(uint64_t *)dst = (uint64_t)x;
        return 0;
    }
    case K_ENUM:
        for (int i = 0; k->choices[i]; i++)
            if (strcmp(v, k->choices[i]) == 0) {
                snprintf(dst, 32, "%s", v);
                return 0;
            }
        {
            char list[256] = "";
            for (int i = 0; k->choices[i]; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, k->choices[i], sizeof list - strlen(list) - 1);
            }
            return fail_line(p, field, "'%s' is not one of: %s", v, list), -1;
        }
    case K_STR:
        if (strlen(v) >= 64)
            return fail_line(p, field, "longer than 63 characters"), -1;
        for (const char *c = v; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  *c == '-' || *c == '_' || *c == '.'))
                return fail_line(p, field, "'%s': use letters, digits, '-', '_' and '.'", v), -1;
        snprintf(dst, 64, "%s", v);
        return 0;
    case K_PATH:
        if (*v == '\0') {
            dst[0] = '\0';
            return 0;
        }
        if (hb_config_path(p->cfg, v, dst, HB_PATH_MAX))
            return fail_line(p, field, "path longer than %d characters", HB_PATH_MAX - 1), -1;
        return 0;
    case K_LIST:
        return set_list(p, field, v);
    }
    return -1;
}

static int parse_pair(const char *v, double out[2])
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    char *comma = strchr(buf, ',');
    if (!comma)
        return -1;
    *comma = '\0';
    if (hb_parse_double(buf, &out[0]) || hb_parse_double(comma + 1, &out[1]))
        return -1;
    return out[0] <= out[1] ? 0 : -1;
}

static int set_function_key(parse_ctx *p, int f, const char *key, const char *v)
{
    hb_func_config *fc = &p->cfg->funcs[f];
    int k = 0;
    while (FUNC_KEYS[k] && strcmp(FUNC_KEYS[k], key) != 0)
        k++;
    if (!FUNC_KEYS[k])
        return fail_line(p, key, "unknown key in [function.%s] (expected user_cpu, user_mem_mb, "
                         "timeout_s, cpu_clip, mem_clip_mb)", hb_functions[f].id), -1;
    if (p->func_seen[f][k] && !p->override)
        return fail_line(p, key, "set twice (first at line %ld)", p->func_seen[f][k]), -1;
    p->func_seen[f][k] = p->lineno;
    double x, pair[2];
    switch (k) {
    case 0:
        if (hb_parse_double(v, &x) || x < 0.01 || x > 1024)
            return fail_line(p, key, "'%s' must be a number of cores in [0.01, 1024]", v), -1;
        fc->user.cpu = x;
        return 0;
    case 1:
        if (hb_parse_double(v, &x) || x < 1 || x > 1048576)
            return fail_line(p, key, "'%s' must be MB in [1, 1048576]", v), -1;
        fc->user.mem_mb = x;
        p->cfg->func_mem_set[f] = 1;
        return 0;
    case 2:
        if (hb_parse_double(v, &x) || x < 0.1 || x > 86400)
            return fail_line(p, key, "'%s' must be seconds in [0.1, 86400]", v), -1;
        fc->timeout = (hb_time)llround(x * 1e6);
        p->cfg->func_timeout_set[f] = 1;
        return 0;
    case 3:
        if (parse_pair(v, pair) || pair[0] < 0.01)
            return fail_line(p, key, "'%s' must be 'LO,HI' cores with 0.01 <= LO <= HI", v), -1;
        fc->cpu_clip[0] = pair[0];
        fc->cpu_clip[1] = pair[1];
        return 0;
    default:
        if (parse_pair(v, pair) || pair[0] < 1)
            return fail_line(p, key, "'%s' must be 'LO,HI' MB with 1 <= LO <= HI", v), -1;
        fc->mem_clip_mb[0] = pair[0];
        fc->mem_clip_mb[1] = pair[1];
        return 0;
    }
}

static int add_entry(parse_ctx *p, const char *section, const char *key, const char *value)
{
    hb_config *c = p->cfg;
    hb_kv *e = realloc(c->entries, (c->n_entries + 1) * sizeof *e);
    if (!e)
        return -1;
    c->entries = e;
    char *sk = malloc(strlen(section) + strlen(key) + 2);
    char *sv = strdup(value);
    char *sf = strdup(p->name);
    if (!sk || !sv || !sf) {
        free(sk);
        free(sv);
        free(sf);
        return -1;
    }
    sprintf(sk, "%s.%s", section, key);
    c->entries[c->n_entries++] = (hb_kv){sk, sv, sf, (int)p->lineno, 0};
    return 0;
}

static hb_config_section *section_get(hb_config *c, const char *name, int create)
{
    for (size_t i = 0; i < c->n_sections; i++)
        if (strcmp(c->sections[i]->name, name) == 0)
            return c->sections[i];
    if (!create)
        return NULL;
    hb_config_section **a = realloc(c->sections, (c->n_sections + 1) * sizeof *a);
    if (!a)
        return NULL;
    c->sections = a;
    hb_config_section *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    c->sections[c->n_sections++] = s;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->kv.section = s->name;
    return s;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx *p = user;
    if (p->failed)
        return 1;
    if (!*section)                     /* libinih hands these over with an empty section */
        return fail_line(p, key, "a key before the first [section] (every key belongs to one)");
    if (add_entry(p, section, key, value))
        return fail_line(p, key, "out of memory");
    for (size_t i = 0; i < NSCHEMA; i++)
        if (strcmp(SCHEMA[i].section, section) == 0 && strcmp(SCHEMA[i].key, key) == 0) {
            if (p->seen[i] && !p->override)
                return fail_line(p, key, "set twice (first at line %ld)", p->seen[i]);
            p->seen[i] = p->lineno;
            set_value(p, &SCHEMA[i], value);
            return 1;
        }
    for (int i = 0; STATIC_SECTIONS[i]; i++)
        if (strcmp(section, STATIC_SECTIONS[i]) == 0)
            return fail_line(p, key, "unknown key in [%s] (see docs/config.md)", section);
    if (strncmp(section, "function.", 9) == 0) {
        int f = hb_function_find(section + 9);
        if (f >= 0)
            set_function_key(p, f, key, value);
        return 1;
    }
    if (strncmp(section, "policy.", 7) == 0 || strncmp(section, "backend.", 8) == 0) {
        hb_config_section *s = section_get(p->cfg, section, 1);
        if (!s)
            return fail_line(p, key, "out of memory");
        hb_kv *last = &p->cfg->entries[p->cfg->n_entries - 1];
        for (size_t i = 0; i < s->kv.n; i++)
            if (strcmp(s->kv.items[i].key, key) == 0) {
                if (!p->override)
                    return fail_line(p, key, "set twice (first at line %d)", s->kv.items[i].line);
                s->kv.items[i] = (hb_kv){last->key + strlen(section) + 1, last->value, last->file,
                                         last->line, 0};
                return 1;
            }
        hb_kv *it = realloc(s->kv.items, (s->kv.n + 1) * sizeof *it);
        if (!it)
            return fail_line(p, key, "out of memory");
        s->kv.items = it;
        s->kv.items[s->kv.n++] = (hb_kv){last->key + strlen(section) + 1, last->value, last->file,
                                         last->line, 0};
        return 1;
    }
    return 1;                          /* unknown sections were reported by the reader */
}

/* ---- public ---- */

int hb_config_path(const hb_config *cfg, const char *p, char *out, size_t n)
{
    int k;
    if (p[0] == '/' || cfg->dir[0] == '\0')
        k = snprintf(out, n, "%s", p);
    else
        k = snprintf(out, n, "%s/%s", cfg->dir, p);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

int hb_config_set_policies(hb_config *cfg, const char *list, const char *where, hb_error *err)
{
    return hb_config_set_policies_in(cfg, list, where, NULL, NULL, err);
}

int hb_config_set_policies_in(hb_config *cfg, const char *list, const char *where,
                              const void *(*find)(const void *ctx, const char *name),
                              const void *ctx, hb_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    int n = 0;
    char names[HB_MAX_POLICIES][32];
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = '\0';
        if (!len)
            continue;
        if (!hb_policy_find(tok) && !(find && find(ctx, tok))) {
            char known[512] = "";
            for (int i = 0; hb_policy_table[i]; i++) {
                strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
                strncat(known, hb_policy_table[i]->name, sizeof known - strlen(known) - 1);
            }
            return hb_fail(err, HB_EINPUT, "%s%sunknown policy '%s' (known: %s)", where ? where : "",
                           where ? ": " : "", tok, known);
        }
        for (int i = 0; i < n; i++)
            if (strcmp(names[i], tok) == 0)
                return hb_fail(err, HB_EINPUT, "%s%spolicy '%s' is listed twice",
                               where ? where : "", where ? ": " : "", tok);
        if (n == HB_MAX_POLICIES)
            return hb_fail(err, HB_EINPUT, "%s%smore than %d policies", where ? where : "",
                           where ? ": " : "", HB_MAX_POLICIES);
        snprintf(names[n++], sizeof names[0], "%s", tok);
    }
    if (n == 0)
        return hb_fail(err, HB_EINPUT, "%s%sno policy given", where ? where : "", where ? ": " : "");
    memcpy(cfg->policies, names, sizeof names);
    cfg->n_policies = n;
    return 0;
}

void hb_config_free(hb_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_sections; i++) {
        free(cfg->sections[i]->kv.items);
        free(cfg->sections[i]);
    }
    free(cfg->sections);
    for (size_t i = 0; i < cfg->n_entries; i++) {
        free((char *)cfg->entries[i].key);
        free((char *)cfg->entries[i].value);
        free((char *)cfg->entries[i].file);
    }
    free(cfg->entries);
    memset(cfg, 0, sizeof *cfg);
}

const hb_kv *hb_config_entry(const hb_config *cfg, const char *section_key)
{
    for (size_t i = cfg->n_entries; i-- > 0;)
        if (strcmp(cfg->entries[i].key, section_key) == 0)
            return &cfg->entries[i];
    return NULL;
}

int hb_config_defaults(hb_config *cfg, hb_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    parse_ctx p = {.cfg = cfg, .name = "(defaults)", .err = err};
    for (size_t i = 0; i < NSCHEMA; i++)
        if (set_value(&p, &SCHEMA[i], SCHEMA[i].def))
            return err ? err->code : HB_EINPUT;
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        const hb_function *fn = &hb_functions[f];
        hb_func_config *fc = &cfg->funcs[f];
        fc->user.cpu = fn->user_cpu;
        fc->user.mem_mb = fn->user_mem_units * HB_MEM_UNIT_MB;
        fc->cpu_clip[0] = fn->cpu_clip[0];
        fc->cpu_clip[1] = fn->cpu_clip[1];
        fc->mem_clip_mb[0] = fn->mem_clip[0] * HB_MEM_UNIT_MB;
        fc->mem_clip_mb[1] = fn->mem_clip[1] * HB_MEM_UNIT_MB;
        fc->timeout = (hb_time)llround(cfg->workload_timeout_s * 1e6);
        fc->workload = f;
        fc->work_scale = 1;
    }
    return 0;
}

static void config_finish(hb_config *cfg);

static int load(parse_ctx *p, hb_config *cfg, const char *name, const char *dir, hb_error *err)
{
    int rc = hb_config_defaults(cfg, err);
    if (rc)
        return rc;
    snprintf(cfg->path, sizeof cfg->path, "%s", name);
    snprintf(cfg->dir, sizeof cfg->dir, "%s", dir);
    p->cfg = cfg;
    p->name = name;
    p->err = err;
    int line = ini_parse_stream(read_line, p, handler, p);
    free(p->line);
    p->line = NULL;
    if (!p->failed && line != 0) {
        if (line < 0)
            hb_fail(err, HB_EINPUT, "%s: cannot read the file", name);
        else
            hb_fail_at(err, HB_EINPUT, name, line, NULL,
                       "not a valid INI line (expected [section], key = value, or a ; comment)");
        p->failed = 1;
    }
    if (p->failed) {
        hb_config_free(cfg);
        return HB_EINPUT;
    }
    config_finish(cfg);
    return 0;
}

/* Values derived from others, after the file and after every --set. */
static void config_finish(hb_config *cfg)
{
    /* a timeout in [workload] applies to every function without its own */
    for (int f = 0; f < HB_NWORKLOADS; f++)
        if (!cfg->func_timeout_set[f])
            cfg->funcs[f].timeout = (hb_time)llround(cfg->workload_timeout_s * 1e6);
    if (cfg->name[0] == '\0') {
        const char *name = cfg->path;
        const char *b = strrchr(name, '/');
        b = b ? b + 1 : name;
        size_t n = strcspn(b, ".");
        if (n >= sizeof cfg->name)
            n = sizeof cfg->name - 1;
        memcpy(cfg->name, b, n);
        cfg->name[n] = '\0';
        if (cfg->name[0] == '\0')
            memcpy(cfg->name, "experiment", sizeof "experiment");
    }
}

int hb_config_set(hb_config *cfg, const char *assignment, hb_error *err)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", assignment);
    char *eq = strchr(buf, '=');
    char *dot = NULL;
    for (char *c = buf; eq && c < eq; c++)
        if (*c == '.')
            dot = c;                   /* the last dot before '=': sections may have dots */
    if (!eq || !dot || dot == buf)
        return hb_fail(err, HB_EINPUT, "--set: '%s' is not SECTION.KEY=VALUE", assignment);
    *eq = '\0';
    *dot = '\0';
    char *section = buf, *key = dot + 1, *value = eq + 1;
    while (*value == ' ')
        value++;
    const char *why = NULL;
    if (!section_known(section, &why))
        return hb_fail(err, HB_EINPUT, "--set: [%s]: %s", section, why);
    parse_ctx p;
    memset(&p, 0, sizeof p);
    p.cfg = cfg;
    p.name = "--set";
    p.err = err;
    p.override = 1;
    /* paths given on the command line are relative to the current directory */
    char dir[HB_PATH_MAX];
    memcpy(dir, cfg->dir, sizeof dir);
    cfg->dir[0] = '\0';
    handler(&p, section, key, value);
    memcpy(cfg->dir, dir, sizeof dir);
    if (p.failed)
        return HB_EINPUT;
    config_finish(cfg);
    return 0;
}

int hb_config_load(const char *path, hb_config *cfg, hb_error *err)
{
    parse_ctx p;
    memset(&p, 0, sizeof p);
    p.f = fopen(path, "r");
    if (!p.f) {
        memset(cfg, 0, sizeof *cfg);
        return hb_fail(err, HB_EINPUT, "%s: cannot open the configuration file", path);
    }
    char dir[HB_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int rc = load(&p, cfg, path, dir, err);
    fclose(p.f);
    return rc;
}

int hb_config_load_text(const char *text, const char *name, const char *dir, hb_config *cfg,
                        hb_error *err)
{
    parse_ctx p;
    memset(&p, 0, sizeof p);
    p.text = p.pos = text;
    return load(&p, cfg, name, dir ? dir : ".", err);
}

hb_kvlist *hb_config_section_kv(hb_config *cfg, const char *section)
{
    hb_config_section *s = section_get(cfg, section, 1);
    return s ? &s->kv : NULL;
}

int hb_config_check_used(const hb_kvlist *kv, hb_error *err)
{
    for (size_t i = 0; kv && i < kv->n; i++)
        if (!kv->items[i].used)
            return hb_fail_at(err, HB_EINPUT, kv->items[i].file, kv->items[i].line,
                              kv->items[i].key, "unknown key in [%s] (see docs/config.md)",
                              kv->section);
    return 0;
}

static int names_path(const char *msg, const char *path)
{
    size_t n = strlen(path);
    for (const char *m = strstr(msg, path); m; m = strstr(m + 1, path))
        if ((m == msg || m[-1] == ' ' || m[-1] == '\'') &&
            (m[n] == '\0' || m[n] == ':' || m[n] == ' ' || m[n] == '\'' || m[n] == ','))
            return 1;
    return 0;
}

int hb_config_locate_path(const hb_config *cfg, hb_error *err)
{
    if (!err || !err->msg[0])
        return err ? err->code : 0;
    for (size_t i = cfg->n_entries; i-- > 0;) {       /* the last setting of a key wins */
        const hb_kv *e = &cfg->entries[i];
        if (strlen(e->value) < 3 || !strpbrk(e->value, "./"))
            continue;                  /* not a path: a number or a word matches too much */
        char resolved[HB_PATH_MAX];
        int hit = names_path(err->msg, e->value) ||
                  (hb_config_path(cfg, e->value, resolved, sizeof resolved) == 0 &&
                   names_path(err->msg, resolved));
        if (!hit)
            continue;
        char at[HB_PATH_MAX + 32];
        snprintf(at, sizeof at, "%s:%d: ", e->file, e->line);
        if (strncmp(err->msg, e->file, strlen(e->file)) == 0 || (e->line > 0 && strstr(err->msg, at)))
            return err->code;          /* it says where already */
        if (e->line > 0)
            return hb_error_wrap(err, "%s:%d: %s", e->file, e->line, e->key);
        return hb_error_wrap(err, "%s: %s", e->file, e->key);
    }
    return err->code;
}

/* ---- the resolved configuration, for the manifest ---- */

cJSON *hb_config_json(const hb_config *cfg)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    for (size_t i = 0; i < NSCHEMA; i++) {
        const key_schema *k = &SCHEMA[i];
        cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, k->section);
        if (!sec)
            sec = cJSON_AddObjectToObject(root, k->section);
        const char *p = (const char *)cfg + k->off;
        switch (k->type) {
        case K_INT:
            cJSON_AddNumberToObject(sec, k->key, *(const int *)p);
            break;
        case K_DOUBLE:
            cJSON_AddNumberToObject(sec, k->key, *(const double *)p);
            break;
        case K_AUTO_DOUBLE:
            if (*(const double *)p < 0)
                cJSON_AddStringToObject(sec, k->key, "profile");
            else
                cJSON_AddNumberToObject(sec, k->key, *(const double *)p);
            break;
        case K_SEED:
            cJSON_AddNumberToObject(sec, k->key, (double)*(const uint64_t *)p);
            break;
        case K_LIST: {
            cJSON *a = cJSON_AddArrayToObject(sec, k->key);
            for (int j = 0; j < cfg->n_policies; j++)
                cJSON_AddItemToArray(a, cJSON_CreateString(cfg->policies[j]));
            break;
        }
        default:
            cJSON_AddStringToObject(sec, k->key, p);
        }
    }
    cJSON *fs = cJSON_AddObjectToObject(root, "function");
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        const hb_func_config *fc = &cfg->funcs[f];
        cJSON *o = cJSON_AddObjectToObject(fs, hb_functions[f].id);
        cJSON_AddNumberToObject(o, "user_cpu", fc->user.cpu);
        cJSON_AddNumberToObject(o, "user_mem_mb", fc->user.mem_mb);
        cJSON_AddNumberToObject(o, "timeout_s", hb_time_s(fc->timeout));
        cJSON *c = cJSON_AddArrayToObject(o, "cpu_clip");
        cJSON_AddItemToArray(c, cJSON_CreateNumber(fc->cpu_clip[0]));
        cJSON_AddItemToArray(c, cJSON_CreateNumber(fc->cpu_clip[1]));
        cJSON *m = cJSON_AddArrayToObject(o, "mem_clip_mb");
        cJSON_AddItemToArray(m, cJSON_CreateNumber(fc->mem_clip_mb[0]));
        cJSON_AddItemToArray(m, cJSON_CreateNumber(fc->mem_clip_mb[1]));
    }
    for (size_t i = 0; i < cfg->n_sections; i++) {
        const hb_config_section *s = cfg->sections[i];
        if (s->kv.n == 0)
            continue;
        cJSON *o = cJSON_AddObjectToObject(root, s->name);
        for (size_t j = 0; j < s->kv.n; j++)
            cJSON_AddStringToObject(o, s->kv.items[j].key, s->kv.items[j].value);
    }
    return root;
}

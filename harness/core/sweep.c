/* sweep.c - the [sweep] section, its cells, and running cells as child processes (sweep.h). */
#define _GNU_SOURCE                    /* prctl's PR_SET_PDEATHSIG */
#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>

#include "csv_reader.h"
#include "engine.h"
#include "experiment_run.h"
#include "files.h"
#include "registry.h"
#include "seed.h"

static const char *const DERIVED[] = {"overprovisioned_share", "overprovision_ratio",
                                      "underprovision_ratio", NULL};

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static void axis_free(sweep_axis *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->values[i]);
    free(a->values);
    free(a->num);
}

void sweep_free(sweep *s)
{
    for (size_t i = 0; i < s->naxes; i++)
        axis_free(&s->axes[i]);
    free(s->axes);
    memset(s, 0, sizeof *s);
}

/* Appends one value to the axis; a value listed twice is an error. */
static int add_value(const char *file, long line, sweep_axis *a, const char *v, hb_error *err)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->values[i], v) == 0)
            return hb_fail_at(err, HB_EINPUT, file, line, a->key, "the value '%s' is listed twice",
                              v);
    char **nv = realloc(a->values, (a->n + 1) * sizeof *nv);
    if (!nv)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    a->values = nv;
    if (!(nv[a->n] = strdup(v)))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    a->n++;
    return 0;
}

/* Splits "a, b, c" (or "a|b|c" when a '|' is present) into the axis' values. */
static int split_values(const char *file, long line, sweep_axis *a, const char *value, hb_error *err)
{
    char *buf = strdup(value);
    if (!buf)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    char sep = strchr(buf, '|') ? '|' : ',';
    char *p = buf;
    int rc = 0;
    for (;;) {
        char *end = strchr(p, sep);
        if (end)
            *end = '\0';
        char *v = trim(p);
        if (!*v) {
            rc = hb_fail_at(err, HB_EINPUT, file, line, a->key, "an empty value in the list "
                            "(values are separated by '%c')", sep);
            break;
        }
        long lo, hi;
        char tail;
        if (sscanf(v, "%ld..%ld%c", &lo, &hi, &tail) == 2 && strstr(v, "..")) {
            /* an integer range: every integer from lo to hi (1,000 seeds fit on a line) */
            if (hi < lo || hi - lo >= 100000) {
                rc = hb_fail_at(err, HB_EINPUT, file, line, a->key, "the range '%s' must be "
                                "LO..HI with LO <= HI and at most 100000 values", v);
                break;
            }
            char num[32];
            for (long k = lo; !rc && k <= hi; k++) {
                snprintf(num, sizeof num, "%ld", k);
                rc = add_value(file, line, a, num, err);
            }
        } else {
            rc = add_value(file, line, a, v, err);
        }
        if (rc)
            break;
        if (!end)
            break;
        p = end + 1;
    }
    free(buf);
    return rc;
}

static int derived_check(const char *file, sweep_axis *a, hb_error *err)
{
    if (!(a->num = calloc(a->n, sizeof *a->num)))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    int share = strcmp(a->key, "overprovisioned_share") == 0;
    for (size_t i = 0; i < a->n; i++) {
        double x;
        if (hb_parse_double(a->values[i], &x) || !isfinite(x) || (share && (x < 0 || x > 1)) ||
            (!share && (x <= 0 || x > 1024)))
            return hb_fail_at(err, HB_EINPUT, file, a->line, a->key, "'%s' must be %s",
                              a->values[i], share ? "a share in [0, 1]" : "a ratio in (0, 1024]");
        a->num[i] = x;
    }
    return 0;
}

/* Reads the [sweep] lines of the file (the configuration loader skips that section). */
/* One `KEY = VALUES` line of [sweep]: the seed, or an axis (a configuration key or a derived one). */
static int add_axis(const char *path, long lineno, const char *key, char *value, sweep *s,
                    int *seed_set, hb_error *err)
{
    if (strcmp(key, "seed") == 0) {
        int64_t v = 0;
        int rc = 0;
        if (hb_parse_int64(value, &v) || v < 0)
            rc = hb_fail_at(err, HB_EINPUT, path, lineno, "seed", "'%s' must be an integer "
                            ">= 0", value);
        s->seed = (uint64_t)v;
        *seed_set = 1;
        return rc;
    }
    int derived = 0;
    for (int i = 0; DERIVED[i]; i++)
        derived |= strcmp(key, DERIVED[i]) == 0;
    if (!derived && !strchr(key, '.'))
        return hb_fail_at(err, HB_EINPUT, path, lineno, key, "unknown sweep key (expected "
                          "SECTION.KEY, overprovisioned_share, overprovision_ratio, "
                          "underprovision_ratio or seed)");
    for (size_t i = 0; i < s->naxes; i++)
        if (strcmp(s->axes[i].key, key) == 0)
            return hb_fail_at(err, HB_EINPUT, path, lineno, key, "set twice (first at line %ld)",
                              s->axes[i].line);
    if (strlen(key) >= sizeof s->axes[0].key)
        return hb_fail_at(err, HB_EINPUT, path, lineno, NULL, "key too long");
    sweep_axis *na = realloc(s->axes, (s->naxes + 1) * sizeof *na);
    if (!na)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    s->axes = na;
    sweep_axis *a = &s->axes[s->naxes++];
    memset(a, 0, sizeof *a);
    snprintf(a->key, sizeof a->key, "%s", key);
    a->line = lineno;
    a->derived = derived;
    int rc = split_values(path, lineno, a, value, err);
    if (!rc && derived)
        rc = derived_check(path, a, err);
    s->has_derived |= derived;
    return rc;
}

static int parse_section(const char *path, sweep *s, int *seed_set, hb_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return hb_fail(err, HB_EINPUT, "%s: cannot open the configuration file", path);
    char line[4096], section[128] = "";
    long lineno = 0;
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *l = trim(line);
        if (!*l || *l == ';' || *l == '#')
            continue;
        if (*l == '[') {
            char *e = strchr(l, ']');
            snprintf(section, sizeof section, "%.*s", e ? (int)(e - l - 1) : 0, l + 1);
            continue;
        }
        if (strcmp(section, "sweep") != 0)
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            rc = hb_fail_at(err, HB_EINPUT, path, lineno, NULL, "not 'KEY = VALUE, VALUE, ...'");
            break;
        }
        *eq = '\0';
        char *key = trim(l), *value = eq + 1;
        char *c = strstr(value, " ;");        /* an inline comment, as the loader allows */
        if (c)
            *c = '\0';
        c = strstr(value, "\t;");
        if (c)
            *c = '\0';
        value = trim(value);
        rc = add_axis(path, lineno, key, value, s, seed_set, err);
    }
    fclose(f);
    if (!rc && s->naxes == 0)
        rc = hb_fail(err, HB_EINPUT, "%s: no [sweep] section with at least one axis "
                     "(docs/sweeps.md)", path);
    return rc;
}

/* A [policy.NAME] axis value: the policy, when the configuration runs it, reads its keys as `run`
 * has it read them before anything runs (created with a generator of its own, then destroyed). */
static int check_policy_keys(hb_config *cfg, const char *section, hb_error *err)
{
    const hb_backend_ops *be = hb_backend_find(cfg->backend);
    for (int p = 0; be && p < cfg->n_policies; p++) {
        if (strcmp(section + 7, cfg->policies[p]) != 0)
            continue;
        const hb_policy_ops *po = hb_policy_find(cfg->policies[p]);
        hb_kvlist *kv = hb_config_section_kv(cfg, section);
        int rc = 0;
        if (po && po->create) {
            gsl_rng *rng = hb_rng_new(cfg->seed, "validate");
            if (!rng)
                return hb_fail(err, HB_ENOMEM, "out of memory");
            hb_policy_ctx ctx;
            hb_engine_policy_ctx(cfg, po->name, kv, rng, 0, be->caps, &ctx);
            void *state = NULL;
            rc = po->create(&ctx, &state, err);
            if (!rc && po->destroy)
                po->destroy(state);
            gsl_rng_free(rng);
        }
        if (!rc && kv)
            rc = hb_config_check_used(kv, err);
        return rc;
    }
    return 0;
}

/* Every value of every configuration axis must pass --set's checks on the configuration. */
static int check_values(const sweep *s, hb_error *err)
{
    for (size_t a = 0; a < s->naxes; a++) {
        if (s->axes[a].derived)
            continue;
        for (size_t v = 0; v < s->axes[a].n; v++) {
            hb_config cfg;
            hb_error e = {0};
            int rc = hb_config_load(s->config, &cfg, err);
            if (rc)
                return rc;
            char as[1400];
            snprintf(as, sizeof as, "%s=%s", s->axes[a].key, s->axes[a].values[v]);
            rc = hb_config_set(&cfg, as, &e);
            if (!rc && strncmp(s->axes[a].key, "policy.", 7) == 0) {
                char sec[128];
                snprintf(sec, sizeof sec, "%.*s", (int)(strrchr(s->axes[a].key, '.') -
                                                        s->axes[a].key), s->axes[a].key);
                rc = check_policy_keys(&cfg, sec, &e);
            }
            hb_config_free(&cfg);
            if (rc) {
                const char *m = strncmp(e.msg, "--set: ", 7) == 0 ? e.msg + 7 : e.msg;
                return hb_fail_at(err, HB_EINPUT, s->config, s->axes[a].line, s->axes[a].key,
                                  "the value '%s': %s", s->axes[a].values[v], m);
            }
        }
    }
    return 0;
}

static int load(const char *config_path, int check, sweep *s, hb_error *err);

int sweep_load(const char *config_path, sweep *s, hb_error *err)
{
    return load(config_path, 1, s, err);
}

/* check 0: the values are not checked again (one configuration load per value): a stored sweep,
 * whose values were checked when it started and whose configuration is unchanged (its hash). */
static int load(const char *config_path, int check, sweep *s, hb_error *err)
{
    memset(s, 0, sizeof *s);
    if (!realpath(config_path, s->config))
        return hb_fail(err, HB_EINPUT, "%s: cannot open the configuration file (%s)", config_path,
                       strerror(errno));
    hb_config cfg;
    int rc = hb_config_load(s->config, &cfg, err);
    if (rc)
        return rc;
    s->seed = cfg.seed;
    snprintf(s->name, sizeof s->name, "%s", cfg.name);
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        s->base_cpu[f] = cfg.funcs[f].user.cpu;
        s->base_mem_mb[f] = cfg.funcs[f].user.mem_mb;
    }
    hb_config_free(&cfg);
    ssize_t n = readlink("/proc/self/exe", s->exe, sizeof s->exe - 1);
    if (n <= 0)
        return hb_fail(err, HB_EIO, "cannot find the harvestbench binary (/proc/self/exe)");
    s->exe[n] = '\0';
    int seed_set = 0;
    rc = parse_section(s->config, s, &seed_set, err);
    if (!rc && check)
        rc = check_values(s, err);
    if (rc) {
        sweep_free(s);
        return rc;
    }
    s->ncells = 1;
    for (size_t a = 0; a < s->naxes; a++) {
        if (s->ncells > ((size_t)1 << 40) / s->axes[a].n) {
            sweep_free(s);
            return hb_fail(err, HB_EINPUT, "%s: [sweep]: too many cells", s->config);
        }
        s->ncells *= s->axes[a].n;
    }
    return 0;
}

size_t sweep_value_index(const sweep *s, size_t cell, size_t axis)
{
    for (size_t a = s->naxes; a-- > axis + 1;)
        cell /= s->axes[a].n;
    return cell % s->axes[axis].n;
}

void sweep_cell_id(size_t cell, char *id)
{
    snprintf(id, SWEEP_ID_MAX, "%04zu", cell);
}

int sweep_cell_parse(const sweep *s, const char *id, size_t *cell)
{
    int64_t v;
    if (hb_parse_int64(id, &v) || v < 0 || (uint64_t)v >= s->ncells || strchr(id, '+') ||
        strchr(id, ' '))
        return -1;
    *cell = (size_t)v;
    return 0;
}

static uint64_t fnv1a64(const char *t)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *t; t++) {
        h ^= (unsigned char)*t;
        h *= 1099511628211ULL;
    }
    return h;
}

void sweep_overprovisioned(uint64_t seed, double share, int over[HB_NWORKLOADS])
{
    uint64_t h[HB_NWORKLOADS];
    int order[HB_NWORKLOADS];
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        char b[96];
        snprintf(b, sizeof b, "%llu:%s", (unsigned long long)seed, hb_functions[f].id);
        h[f] = fnv1a64(b);
        order[f] = f;
        over[f] = 0;
    }
    for (int i = 1; i < HB_NWORKLOADS; i++)          /* insertion sort by hash, stable */
        for (int j = i; j > 0 && h[order[j]] < h[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    int k = (int)lround(share * HB_NWORKLOADS);
    for (int i = 0; i < k && i < HB_NWORKLOADS; i++)
        over[order[i]] = 1;
}

void sweep_sets_free(char **sets, size_t n)
{
    for (size_t i = 0; sets && i < n; i++)
        free(sets[i]);
    free(sets);
}

static int push(char ***sets, size_t *n, const char *text)
{
    char **ns = realloc(*sets, (*n + 1) * sizeof *ns);
    if (!ns)
        return -1;
    *sets = ns;
    if (!(ns[*n] = strdup(text)))
        return -1;
    (*n)++;
    return 0;
}

int sweep_cell_sets(const sweep *s, size_t cell, char ***sets, size_t *n, hb_error *err)
{
    *sets = NULL;
    *n = 0;
    double share = 0, over_r = 1, under_r = 1;
    char buf[1400];
    for (size_t a = 0; a < s->naxes; a++) {
        const sweep_axis *ax = &s->axes[a];
        size_t v = sweep_value_index(s, cell, a);
        if (ax->derived) {
            if (strcmp(ax->key, "overprovisioned_share") == 0)
                share = ax->num[v];
            else if (strcmp(ax->key, "overprovision_ratio") == 0)
                over_r = ax->num[v];
            else
                under_r = ax->num[v];
            continue;
        }
        snprintf(buf, sizeof buf, "%s=%s", ax->key, ax->values[v]);
        if (push(sets, n, buf))
            goto oom;
    }
    if (s->has_derived) {
        int over[HB_NWORKLOADS];
        sweep_overprovisioned(s->seed, share, over);
        for (int f = 0; f < HB_NWORKLOADS; f++) {
            double r = over[f] ? over_r : under_r;
            /* CPU to the hundredth of a core and memory to the MB, the resolution of the keys */
            double cpu = fmax(0.01, round(s->base_cpu[f] * r * 100) / 100);
            double mem = fmax(1, round(s->base_mem_mb[f] * r));
            snprintf(buf, sizeof buf, "function.%s.user_cpu=%.2f", hb_functions[f].id, cpu);
            if (push(sets, n, buf))
                goto oom;
            snprintf(buf, sizeof buf, "function.%s.user_mem_mb=%.0f", hb_functions[f].id, mem);
            if (push(sets, n, buf))
                goto oom;
        }
    }
    return 0;
oom:
    sweep_sets_free(*sets, *n);
    *sets = NULL;
    *n = 0;
    return hb_fail(err, HB_ENOMEM, "out of memory");
}

void sweep_cell_dir(const sweep *s, size_t cell, char *buf, size_t n)
{
    char id[SWEEP_ID_MAX];
    sweep_cell_id(cell, id);
    snprintf(buf, n, "%s/cells/%s", s->out, id);
}

void sweep_rows_path(const sweep *s, size_t cell, const char *ext, char *buf, size_t n)
{
    char id[SWEEP_ID_MAX];
    sweep_cell_id(cell, id);
    snprintf(buf, n, "%s/cells/%s.rows.%s", s->out, id, ext);
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int sweep_cell_done(const sweep *s, size_t cell)
{
    char path[HB_PATH_MAX + 64];
    sweep_cell_dir(s, cell, path, sizeof path);
    strcat(path, "/manifest.json");
    cJSON *m = NULL;
    hb_error e = {0};
    if (!file_exists(path) || hb_read_json(path, &m, &e))
        return 0;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(m, "status");
    int done = cJSON_IsString(st) && strcmp(st->valuestring, "complete") == 0;
    cJSON_Delete(m);
    return done;
}

/* What DIR/sweep.json records: the configuration, the axes and the cell ids with their values. */
static cJSON *sweep_json(const sweep *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "config_file", s->config);
    /* the file's content, so that a resumed sweep cannot mix cells of two configurations */
    char *text = NULL;
    hb_error e = {0};
    char h[24] = "unreadable";
    if (hb_read_text(s->config, &text, NULL, &e) == 0)
        snprintf(h, sizeof h, "%016llx", (unsigned long long)fnv1a64(text));
    free(text);
    cJSON_AddStringToObject(j, "config_fnv1a64", h);
    cJSON_AddNumberToObject(j, "seed", (double)s->seed);
    cJSON *ax = cJSON_AddArrayToObject(j, "axes");
    for (size_t a = 0; a < s->naxes; a++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", s->axes[a].key);
        cJSON *v = cJSON_AddArrayToObject(o, "values");
        for (size_t i = 0; i < s->axes[a].n; i++)
            cJSON_AddItemToArray(v, cJSON_CreateString(s->axes[a].values[i]));
        cJSON_AddItemToArray(ax, o);
    }
    cJSON_AddNumberToObject(j, "cells", (double)s->ncells);
    return j;
}

static int write_cell_json(const sweep *s, size_t cell, hb_error *err)
{
    char path[HB_PATH_MAX + 64], id[SWEEP_ID_MAX];
    sweep_cell_id(cell, id);
    snprintf(path, sizeof path, "%s/cells/%s.json", s->out, id);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "cell", id);
    cJSON *v = cJSON_AddObjectToObject(j, "values");
    for (size_t a = 0; a < s->naxes; a++)
        cJSON_AddStringToObject(v, s->axes[a].key, s->axes[a].values[sweep_value_index(s, cell, a)]);
    char **sets;
    size_t n;
    int rc = sweep_cell_sets(s, cell, &sets, &n, err);
    if (!rc) {
        cJSON *a = cJSON_AddArrayToObject(j, "set");
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(sets[i]));
        sweep_sets_free(sets, n);
        rc = hb_write_json(path, j, err);
    }
    cJSON_Delete(j);
    return rc;
}

int sweep_prepare_out(sweep *s, const char *dir, int resume, hb_error *err)
{
    char sub[HB_PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/cells", dir);
    int had_cells = file_exists(sub);
    int rc = hb_mkdirs(sub, err);
    snprintf(sub, sizeof sub, "%s/logs", dir);
    if (!rc)
        rc = hb_mkdirs(sub, err);
    if (rc)
        return rc;
    if (!realpath(dir, s->out))
        return hb_fail(err, HB_EIO, "%s: %s", dir, strerror(errno));
    char path[HB_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/sweep.json", s->out);
    cJSON *now = sweep_json(s);
    if (!now)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (had_cells && file_exists(path)) {
        cJSON *old = NULL;
        rc = hb_read_json(path, &old, err);
        if (!rc && !resume)
            rc = hb_fail(err, HB_EINPUT, "%s already holds a sweep; continue it with --resume, "
                         "or choose another --out", s->out);
        else if (!rc && !cJSON_Compare(old, now, 1))
            rc = hb_fail(err, HB_EINPUT, "--resume: the configuration file (or its [sweep] "
                         "section) differs from the one in %s; choose another --out", path);
        cJSON_Delete(old);
    }
    if (!rc)
        rc = hb_write_json(path, now, err);
    cJSON_Delete(now);
    for (size_t c = 0; !rc && c < s->ncells; c++)
        rc = write_cell_json(s, c, err);
    return rc;
}

/* fork + exec of argv[] with stdout and stderr appended to log (truncated first if trunc); the
 * child is killed when we die (a killed sweep takes its cells with it; --resume redoes them). */
static int spawn(const char *exe, char *const argv[], const char *log, int trunc, pid_t *pid,
                 hb_error *err)
{
    pid_t parent = getpid();
    fflush(NULL);
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | (trunc ? O_TRUNC : 0), 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execv(exe, argv);
        _exit(127);
    }
    if (p < 0)
        return hb_fail(err, HB_EIO, "cannot start %s: %s", exe, strerror(errno));
    *pid = p;
    return 0;
}

static void log_path(const sweep *s, size_t cell, char *buf, size_t n)
{
    char id[SWEEP_ID_MAX];
    sweep_cell_id(cell, id);
    snprintf(buf, n, "%s/logs/%s.log", s->out, id);
}

int sweep_spawn_cell(const sweep *s, size_t cell, pid_t *pid, hb_error *err)
{
    char id[SWEEP_ID_MAX], log[HB_PATH_MAX + 64];
    sweep_cell_id(cell, id);
    log_path(s, cell, log, sizeof log);
    char *argv[] = {(char *)"harvestbench", (char *)"sweep", (char *)s->config, (char *)"--out",
                    (char *)s->out, (char *)"--cell", id, (char *)"--quiet", NULL};
    return spawn(s->exe, argv, log, 1, pid, err);
}

static int cell_status(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int sweep_run_cell(const sweep *s, size_t cell, const sweep_cell_hooks *hooks, hb_error *err)
{
    char rows[HB_PATH_MAX + 64];
    sweep_rows_path(s, cell, "csv", rows, sizeof rows);
    remove(rows);                      /* stale once the cell runs again */
    sweep_rows_path(s, cell, "md", rows, sizeof rows);
    remove(rows);
    char **sets;
    size_t n;
    int rc = sweep_cell_sets(s, cell, &sets, &n, err);
    if (rc)
        return rc;
    char dir[HB_PATH_MAX + 64], man[HB_PATH_MAX + 96];
    sweep_cell_dir(s, cell, dir, sizeof dir);
    snprintf(man, sizeof man, "%s/manifest.json", dir);
    /* what `harvestbench run CONFIG --out DIR/cells/ID --quiet [--resume] --set ...` does, in this
     * process: one exec (and one dynamic link of the binary) less per cell */
    hb_experiment x;
    memset(&x, 0, sizeof x);
    hb_run_spec spec = {
        .x = &x, .sets = (const char *const *)sets, .n_sets = (int)n, .out = dir,
        .resume = file_exists(man), .usage = 1, .quiet = 1, .who = "harvestbench sweep --cell",
        .catch_signals = 1, .on_run = hooks ? hooks->on_run : NULL,
        .on_run_ctx = hooks ? hooks->on_run_ctx : NULL,
    };
    hb_run_result *res = NULL;
    rc = hb_config_load(s->config, &x.cfg, err);
    if (rc)
        hb_config_locate_path(&x.cfg, err);
    else
        rc = hb_experiment_run(&spec, &res, err);
    if (res && hooks && hooks->on_result)
        hooks->on_result(res);
    char id[SWEEP_ID_MAX];
    sweep_cell_id(cell, id);
    if (!rc && res && !res->complete)
        rc = hb_fail(err, HB_EINTR, "interrupted");
    if (rc)
        rc = hb_error_wrap(err, "cell %s", id);
    hb_run_result_free(res);
    hb_experiment_free(&x);
    sweep_sets_free(sets, n);
    return rc;
}

int sweep_run_local(const sweep *s, int jobs, int quiet, hb_error *err)
{
    size_t *todo = malloc((s->ncells ? s->ncells : 1) * sizeof *todo);
    pid_t *pids = calloc((size_t)(jobs > 0 ? jobs : 1), sizeof *pids);
    size_t *slot_cell = calloc((size_t)(jobs > 0 ? jobs : 1), sizeof *slot_cell);
    if (!todo || !pids || !slot_cell) {
        free(todo);
        free(pids);
        free(slot_cell);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    size_t ntodo = 0, next = 0, done = 0, failed = 0;
    for (size_t c = 0; c < s->ncells; c++)
        if (!sweep_cell_done(s, c))
            todo[ntodo++] = c;
    if (!quiet && ntodo < s->ncells)
        fprintf(stderr, "sweep: %zu of %zu cells already complete\n", s->ncells - ntodo, s->ncells);
    int running = 0, rc = 0;
    char failed_list[600] = "";
    while (next < ntodo || running > 0) {
        while (!rc && running < jobs && next < ntodo) {
            int slot = 0;
            while (pids[slot])
                slot++;
            if ((rc = sweep_spawn_cell(s, todo[next], &pids[slot], err)))
                break;
            slot_cell[slot] = todo[next++];
            running++;
        }
        if (running == 0)
            break;
        int status;
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            rc = hb_fail(err, HB_EIO, "waitpid: %s", strerror(errno));
            break;
        }
        int slot = 0;
        while (slot < jobs && pids[slot] != p)
            slot++;
        if (slot == jobs)
            continue;                          /* not one of ours */
        pids[slot] = 0;
        running--;
        done++;
        char id[SWEEP_ID_MAX];
        sweep_cell_id(slot_cell[slot], id);
        int st = cell_status(status);
        if (st != 0) {
            failed++;
            size_t l = strlen(failed_list);
            if (l < sizeof failed_list - 40)
                snprintf(failed_list + l, sizeof failed_list - l, "%s%s (exit %d)", l ? ", " : "",
                         id, st);
        }
        if (!quiet)
            fprintf(stderr, "sweep: cell %s %s (%zu/%zu, %d running, %zu failed)\n", id,
                    st ? "FAILED" : "done", done, ntodo, running, failed);
    }
    free(todo);
    free(pids);
    free(slot_cell);
    if (!rc && failed)
        rc = hb_fail(err, HB_ERUN, "%zu cell(s) failed: %s; their output is in %s/logs/ID.log; "
                     "continue with --resume", failed, failed_list, s->out);
    return rc;
}

int sweep_load_dir(const char *dir, sweep *s, hb_error *err)
{
    char path[HB_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/sweep.json", dir);
    cJSON *old = NULL;
    int rc = hb_read_json(path, &old, err);
    if (rc)
        return hb_error_wrap(err, "%s is not a sweep directory", dir);
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(old, "config_file");
    if (!cJSON_IsString(cf)) {
        cJSON_Delete(old);
        return hb_fail(err, HB_EINPUT, "%s: no config_file", path);
    }
    rc = load(cf->valuestring, 0, s, err);
    if (!rc && !realpath(dir, s->out))
        rc = hb_fail(err, HB_EIO, "%s: %s", dir, strerror(errno));
    if (!rc) {
        cJSON *now = sweep_json(s);
        if (!cJSON_Compare(old, now, 1))
            rc = hb_fail(err, HB_EINPUT, "%s: the configuration %s has changed since the sweep "
                         "started (its [sweep] section or seed differs)", path, s->config);
        cJSON_Delete(now);
        if (rc)
            sweep_free(s);
    }
    cJSON_Delete(old);
    return rc;
}

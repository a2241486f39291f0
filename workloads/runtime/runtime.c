/* runtime.c - parameters, the three invocation modes, the result JSON, and shared helpers.
 *
 * Modes (wl_main):
 *   command line   `ID --size N --parallel P [--seed S] [--params JSON]`: one call, the result JSON
 *                  on one stdout line, exit status 0 / 1 (the function failed) / 2 (bad input).
 *   dockerskeleton OpenWhisk's native-action contract: the parameters are one JSON object, given as
 *                  argv[1] or (with no arguments and no fd 3) on stdin; the last stdout line is the
 *                  result JSON. Same exit statuses.
 *   ActionLoop     OpenWhisk's warm-process contract, chosen when there are no arguments and file
 *                  descriptor 3 is open: if __OW_WAIT_FOR_ACK is set, write {"ok":true} on fd 3;
 *                  then per stdin line {"value":{...},"activation_id":...,...} set __OW_<KEY> for the
 *                  other keys, run, and write the result as one line on fd 3; until end of input.
 *                  The log sentinels are the proxy's job, not the action's.
 * Bad parameters, broken JSON and failures of the function give an error result ({"error":...}),
 * never a crash. */
#define _GNU_SOURCE
#include "runtime.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sampler.h"

#define MAX_PARALLEL 256

/* ---- helpers ---- */

int wl_fail(wl_out *out, int code, const char *fmt, ...)
{
    if (out->code != WL_OK)            /* keep the first error */
        return out->code;
    out->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof out->error, fmt, ap);
    va_end(ap);
    return code;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

unsigned long wl_seed(uint64_t seed, uint64_t tag, uint64_t index)
{
    return (unsigned long)mix64(mix64(seed ^ mix64(tag)) + index);
}

uint64_t wl_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 32;
        b += 8;
        n -= 8;
    }
    while (n--) {
        h = (h ^ *b++) * 0x100000001b3ULL;
    }
    return h;
}

uint64_t wl_hash_u64(uint64_t h, uint64_t v) { return wl_hash(h, &v, sizeof v); }

double wl_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int wl_cpus_available(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void wl_split(int64_t n, int w, int W, int64_t *lo, int64_t *hi)
{
    /* floor(n*w/W) without overflow: n = q*W + r */
    int64_t q = n / W, r = n % W;
    *lo = q * w + r * w / W;
    *hi = q * (w + 1) + r * (w + 1) / W;
}

typedef struct job {
    wl_range_fn fn;
    void *arg;
    int worker;
    int64_t lo, hi;
    int rc;
} job;

static void *job_run(void *p)
{
    job *j = p;
    j->rc = j->fn(j->arg, j->worker, j->lo, j->hi);
    return NULL;
}

/* The most workers any wl_parallel_for of the current call ran (reported as "workers"). All
 * wl_parallel_for calls of a call are made from the thread that runs the call, so a thread-local
 * is per call; wl_invoke resets it. */
static _Thread_local int workers_used;

int wl_parallel_for(int64_t n, int workers, wl_range_fn fn, void *arg)
{
    if (n <= 0)
        return 0;
    if (workers < 1)
        workers = 1;
    if (workers > n)
        workers = (int)n;
    if (workers > workers_used)
        workers_used = workers;
    job *jobs = calloc((size_t)workers, sizeof *jobs);
    pthread_t *th = calloc((size_t)workers, sizeof *th);
    int *started = calloc((size_t)workers, sizeof *started);
    if (!jobs || !th || !started) {
        free(jobs);
        free(th);
        free(started);
        return WL_ERUN;
    }
    for (int w = 0; w < workers; w++) {
        jobs[w] = (job){fn, arg, w, 0, 0, 0};
        wl_split(n, w, workers, &jobs[w].lo, &jobs[w].hi);
    }
    for (int w = 1; w < workers; w++)
        started[w] = pthread_create(&th[w], NULL, job_run, &jobs[w]) == 0;
    job_run(&jobs[0]);
    /* a thread that could not start runs here: the result does not depend on where it runs */
    for (int w = 1; w < workers; w++)
        if (!started[w])
            job_run(&jobs[w]);
    int rc = 0;
    for (int w = 0; w < workers; w++) {
        if (w > 0 && started[w])
            pthread_join(th[w], NULL);
        if (rc == 0)
            rc = jobs[w].rc;
    }
    free(jobs);
    free(th);
    free(started);
    return rc;
}

/* ---- parameters ---- */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    default: return "a number";
    }
}

static int get_int(const json_t *params, const char *key, int64_t def, int64_t lo, int64_t hi,
                   int64_t *value, wl_out *out)
{
    const json_t *v = params ? json_object_get(params, key) : NULL;
    if (!v) {
        *value = def;
        return WL_OK;
    }
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v))
        d = json_real_value(v);
    else
        return wl_fail(out, WL_EINPUT, "%s: must be a number, got %s", key, json_kind(v));
    if (json_is_real(v) && (!isfinite(d) || d != floor(d)))
        return wl_fail(out, WL_EINPUT, "%s: must be an integer, got %g", key, d);
    /* compare as doubles first: converting an out-of-range double to int64 is undefined */
    if (d < (double)lo || d > (double)hi ||
        (json_is_integer(v) && (json_integer_value(v) < lo || json_integer_value(v) > hi)))
        return wl_fail(out, WL_EINPUT, "%s: must be in [%" PRId64 ", %" PRId64 "], got %.17g", key,
                       lo, hi, d);
    *value = json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)d;
    return WL_OK;
}

int wl_param_int(const wl_call *call, const char *key, int64_t def, int64_t lo, int64_t hi,
                 int64_t *value, wl_out *out)
{
    return get_int(call->params, key, def, lo, hi, value, out);
}

int wl_param_str(const wl_call *call, const char *key, const char *def, size_t maxlen,
                 const char **value, wl_out *out)
{
    const json_t *v = call->params ? json_object_get(call->params, key) : NULL;
    if (!v) {
        *value = def;
        return WL_OK;
    }
    if (!json_is_string(v))
        return wl_fail(out, WL_EINPUT, "%s: must be a string, got %s", key, json_kind(v));
    if (json_string_length(v) > maxlen)
        return wl_fail(out, WL_EINPUT, "%s: longer than %zu bytes", key, maxlen);
    *value = json_string_value(v);
    return WL_OK;
}

/* ---- one call ---- */

static double round_to(double x, double unit) { return round(x / unit) * unit; }

static json_t *series_json(const wl_series *s, int values, double unit)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < s->n; i++)
        json_array_append_new(a, json_real(values ? round_to(s->v[i], unit) : round_to(s->t[i], 1e-3)));
    return a;
}

static json_t *error_result(const wl_function *f, const char *msg)
{
    return json_pack("{s:s, s:s}", "function", f->id, "error", msg);
}

int wl_invoke(const wl_function *f, const json_t *params, json_t **result)
{
    wl_out out = {0};
    wl_call call = {0};
    *result = NULL;
    if (params && !json_is_object(params)) {
        *result = error_result(f, "parameters must be a JSON object");
        return WL_EINPUT;
    }
    int64_t size, par, seed;
    if (get_int(params, "size", f->default_size, 1, f->max_size, &size, &out) ||
        get_int(params, "parallel", f->default_parallel, 0, MAX_PARALLEL, &par, &out) ||
        get_int(params, "seed", 1, 0, INT64_MAX, &seed, &out)) {
        *result = error_result(f, out.error);
        return out.code;
    }
    call.size = size;
    call.parallel = par == 0 ? wl_cpus_available() : (int)par;
    call.seed = (uint64_t)seed;
    call.params = params;
    out.answer = json_object();
    if (!out.answer) {
        *result = error_result(f, "out of memory");
        return WL_ERUN;
    }

    wl_sampler *s;
    char err[WL_ERRMSG_MAX];
    if (wl_sampler_start(&s, WL_INTERVAL_MS, err, sizeof err) != 0) {
        json_decref(out.answer);
        *result = error_result(f, err);
        return WL_ERUN;
    }
    workers_used = 1;
    double t0 = wl_now();
    int rc = f->run(&call, &out);
    double wall = wl_now() - t0;
    wl_sampler_stop(s);
    if (rc != WL_OK && out.code == WL_OK)
        wl_fail(&out, rc, "failed");

    if (out.code != WL_OK) {
        *result = error_result(f, out.error);
        json_decref(out.answer);
        wl_sampler_free(s);
        return out.code;
    }
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, out.checksum);
    json_t *r = json_object();
    if (r) {
        json_object_set_new(r, "function", json_string(f->id));
        json_object_set_new(r, "size", json_integer((json_int_t)call.size));
        json_object_set_new(r, "parallel", json_integer(call.parallel));
        json_object_set_new(r, "parallel_auto", json_boolean(par == 0));
        json_object_set_new(r, "workers", json_integer(workers_used));
        json_object_set_new(r, "seed", json_integer((json_int_t)call.seed));
        json_object_set_new(r, "answer", out.answer);
        json_object_set_new(r, "checksum", json_string(hex));
        json_object_set_new(r, "wall_s", json_real(round_to(wall, 1e-6)));
        json_object_set_new(r, "cpu_s", json_real(round_to(wl_sampler_cpu_seconds(s), 1e-6)));
        json_object_set_new(r, "sampler", json_string(wl_sampler_source(s)));
        if (*wl_sampler_note(s))
            json_object_set_new(r, "sampler_note", json_string(wl_sampler_note(s)));
        json_object_set_new(r, "interval_ms", json_integer(WL_INTERVAL_MS));
        json_object_set_new(r, "cpu_timestamp", series_json(wl_sampler_cpu(s), 0, 0));
        json_object_set_new(r, "cpu_usage", series_json(wl_sampler_cpu(s), 1, 1e-4));
        json_object_set_new(r, "mem_timestamp", series_json(wl_sampler_mem(s), 0, 0));
        json_object_set_new(r, "mem_usage", series_json(wl_sampler_mem(s), 1, 1e-3));
        json_object_set_new(r, "cpu_peak", json_real(round_to(wl_sampler_cpu_peak(s), 1e-4)));
        json_object_set_new(r, "mem_peak", json_real(round_to(wl_sampler_mem_peak(s), 1e-3)));
    } else {
        json_decref(out.answer);
    }
    wl_sampler_free(s);
    if (!r) {
        *result = error_result(f, "out of memory");
        return WL_ERUN;
    }
    *result = r;
    return WL_OK;
}

/* ---- output ---- */

static char *dump(const json_t *r)
{
    return json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_PRESERVE_ORDER);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes r as one line on fd; a result that cannot be serialized becomes an error line. */
static int emit(int fd, const wl_function *f, const json_t *r)
{
    char *s = r ? dump(r) : NULL;
    if (!s) {
        char line[160];
        snprintf(line, sizeof line, "{\"function\":\"%s\",\"error\":\"out of memory\"}\n", f->id);
        return write_all(fd, line, strlen(line));
    }
    size_t n = strlen(s);
    int rc = write_all(fd, s, n);
    if (rc == 0)
        rc = write_all(fd, "\n", 1);
    free(s);
    return rc;
}

static int emit_error(int fd, const wl_function *f, int code, const char *msg)
{
    json_t *r = error_result(f, msg);
    emit(fd, f, r);
    json_decref(r);
    return code;
}

/* Parses text as the parameter object; on failure returns NULL and fills msg. */
static json_t *parse_params(const char *text, size_t len, char *msg, size_t msglen)
{
    json_error_t e;
    json_t *p = json_loadb(text, len, 0, &e);
    if (!p) {
        snprintf(msg, msglen, "parameters: broken JSON at line %d column %d: %s", e.line, e.column,
                 e.text);
        return NULL;
    }
    if (!json_is_object(p)) {
        snprintf(msg, msglen, "parameters: must be a JSON object, got %s", json_kind(p));
        json_decref(p);
        return NULL;
    }
    return p;
}

static int one_shot(const wl_function *f, json_t *params)
{
    json_t *r;
    int rc = wl_invoke(f, params, &r);
    fflush(stdout);
    if (emit(STDOUT_FILENO, f, r) != 0 && rc == WL_OK)
        rc = WL_ERUN;
    json_decref(r);
    return rc;
}

/* ---- the three modes ---- */

static void usage(const wl_function *f, FILE *to)
{
    fprintf(to,
            "usage: %s [--size N] [--parallel P] [--seed S] [--params JSON]\n"
            "       %s '{\"size\":N,...}'        (OpenWhisk dockerskeleton: params as argv[1] or stdin)\n"
            "       %s 3>RESULTS < REQUESTS     (OpenWhisk ActionLoop: one request per line)\n\n"
            "%s: %s.\n"
            "Defaults: size %" PRId64 " (1..%" PRId64 "), parallel %d%s, seed 1.\n"
            "Prints one result JSON line (see docs/workloads.md). Exit status: 0 ok, 1 the function\n"
            "failed, 2 bad parameters.\n",
            f->id, f->id, f->id, f->id, f->summary, f->default_size, f->max_size,
            f->default_parallel, f->default_parallel == 0 ? " (= CPUs available)" : "");
}

/* A flag's value as JSON: a number when it reads as one, else a string (refused later). */
static json_t *flag_value(const char *s)
{
    json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
    if (v && json_is_number(v))
        return v;
    json_decref(v);
    return json_string(s);
}

static int cli(const wl_function *f, int argc, char **argv)
{
    json_t *params = NULL, *over = json_object();
    int rc = WL_OK;
    char msg[WL_ERRMSG_MAX] = "";
    for (int i = 1; i < argc && rc == WL_OK; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(f, stdout);
            json_decref(over);
            json_decref(params);
            return 0;
        }
        const char *key = strcmp(a, "--size") == 0 ? "size"
                        : strcmp(a, "--parallel") == 0 ? "parallel"
                        : strcmp(a, "--seed") == 0 ? "seed" : NULL;
        if (key || strcmp(a, "--params") == 0) {
            if (i + 1 >= argc) {
                snprintf(msg, sizeof msg, "%s: missing value", a);
                rc = WL_EINPUT;
                break;
            }
            const char *v = argv[++i];
            if (key) {
                json_object_set_new(over, key, flag_value(v));
            } else {
                json_decref(params);
                params = parse_params(v, strlen(v), msg, sizeof msg);
                if (!params)
                    rc = WL_EINPUT;
            }
        } else {
            snprintf(msg, sizeof msg, "unknown argument '%.100s' (see --help)", a);
            rc = WL_EINPUT;
        }
    }
    if (rc != WL_OK) {
        fprintf(stderr, "%s: %s\n", f->id, msg);
        json_decref(over);
        json_decref(params);
        return emit_error(STDOUT_FILENO, f, rc, msg);
    }
    if (!params)
        params = json_object();
    json_object_update(params, over);
    json_decref(over);
    rc = one_shot(f, params);
    json_decref(params);
    return rc;
}

static int dockerskeleton_arg(const wl_function *f, const char *text)
{
    char msg[WL_ERRMSG_MAX];
    json_t *params = parse_params(text, strlen(text), msg, sizeof msg);
    if (!params)
        return emit_error(STDOUT_FILENO, f, WL_EINPUT, msg);
    int rc = one_shot(f, params);
    json_decref(params);
    return rc;
}

static int dockerskeleton_stdin(const wl_function *f)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    if (!buf)
        return emit_error(STDOUT_FILENO, f, WL_ERUN, "out of memory");
    for (;;) {
        if (len == cap) {
            char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                return emit_error(STDOUT_FILENO, f, WL_EINPUT, "parameters: input too large");
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    size_t i = 0;
    while (i < len && isspace((unsigned char)buf[i]))
        i++;
    int rc;
    if (i == len) {                    /* no input: no parameters */
        rc = one_shot(f, NULL);
    } else {
        char msg[WL_ERRMSG_MAX];
        json_t *params = parse_params(buf, len, msg, sizeof msg);
        rc = params ? one_shot(f, params) : emit_error(STDOUT_FILENO, f, WL_EINPUT, msg);
        json_decref(params);
    }
    free(buf);
    return rc;
}

/* __OW_<KEY> for the request's context fields (activation_id, deadline, ...). */
static void set_context_env(const json_t *req)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)req, key, v) {
        if (strcmp(key, "value") == 0 || strlen(key) > 64)
            continue;
        char name[80] = "__OW_";
        size_t n = strlen(name);
        for (const char *k = key; *k && n + 1 < sizeof name; k++)
            name[n++] = (char)toupper((unsigned char)*k);
        name[n] = '\0';
        if (json_is_string(v)) {
            setenv(name, json_string_value(v), 1);
        } else {
            char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            if (s)
                setenv(name, s, 1);
            free(s);
        }
    }
}

static int actionloop(const wl_function *f)
{
    const char *ack = getenv("__OW_WAIT_FOR_ACK");
    if (ack && *ack && write_all(3, "{\"ok\":true}\n", 12) != 0)
        return WL_ERUN;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = WL_OK;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        char msg[WL_ERRMSG_MAX];
        json_t *req = parse_params(line, (size_t)n, msg, sizeof msg), *r = NULL;
        if (!req) {
            r = error_result(f, msg);
        } else {
            json_t *value = json_object_get(req, "value");
            set_context_env(req);
            if (value && !json_is_object(value)) {
                snprintf(msg, sizeof msg, "value: must be a JSON object, got %s", json_kind(value));
                r = error_result(f, msg);
            } else {
                wl_invoke(f, value, &r);
            }
            json_decref(req);
        }
        fflush(stdout);
        fflush(stderr);
        if (emit(3, f, r) != 0)
            rc = WL_ERUN;
        json_decref(r);
        if (rc != WL_OK)
            break;
    }
    free(line);
    return rc;
}

int wl_main(const wl_function *f, int argc, char **argv)
{
    if (argc >= 2 && argv[1][0] == '-')
        return cli(f, argc, argv);
    if (argc >= 2) {
        if (argc > 2)
            fprintf(stderr, "%s: ignoring %d arguments after the parameters\n", f->id, argc - 2);
        return dockerskeleton_arg(f, argv[1]);
    }
    if (fcntl(3, F_GETFD) != -1)
        return actionloop(f);
    if (isatty(STDIN_FILENO)) {
        usage(f, stderr);
        return WL_EINPUT;
    }
    return dockerskeleton_stdin(f);
}

/* runtime.h - the shared runtime of the ten benchmark functions (workloads/<id>/).
 *
 * A function is a `wl_function`: an id, its defaults, and a `run` callback that computes its answer
 * for one call. The runtime does everything around it: it reads the parameters in one of three modes
 * (command line, OpenWhisk "dockerskeleton" native action, OpenWhisk ActionLoop), validates them,
 * samples the process's CPU and memory every 100 ms while the function runs (sampler.h), and writes
 * the result JSON:
 *
 *   {"function":"ms","size":N,"parallel":P,"parallel_auto":false,"workers":W,"seed":S,
 *    "answer":{...},"checksum":"16 hex digits","wall_s":x,"cpu_s":x,"sampler":"proc"|"cgroup-v1"|"cgroup-v2","interval_ms":100,
 *    "cpu_timestamp":[...],"cpu_usage":[...],"mem_timestamp":[...],"mem_usage":[...],
 *    "cpu_peak":x,"mem_peak":x}
 *
 * or {"function":"ms","error":"what is wrong"} when the parameters are bad or the function failed.
 * parallel is the worker count asked for (parallel_auto: it was 0, "as many as CPUs"); workers is
 * the most threads the call actually ran at once (fewer when there were fewer items than workers).
 * Units: seconds, cores, MB (2^20 bytes, the project's MB); timestamps are Unix epoch seconds, as in
 * the Libra artifact's monitor.
 *
 * JSON library: Jansson (libjansson-dev). The binaries are linked statically so they run in any
 * container image, and Debian ships cJSON (the harness's JSON library) without a static archive;
 * Jansson ships libjansson.a, has no dependencies, and reports parse errors with line and column.
 *
 * Randomness: every input is generated from the call's `seed` with GSL's mt19937, reseeded per item
 * or per fixed-size block from (seed, tag, index) (wl_seed), so results never depend on how the items
 * are split across threads: the parallel checksum equals the serial one. */
#ifndef WL_RUNTIME_H
#define WL_RUNTIME_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum { WL_OK = 0, WL_ERUN = 1, WL_EINPUT = 2 };   /* also the exit status of a one-shot call */

#define WL_ERRMSG_MAX 256
#define WL_INTERVAL_MS 100                         /* the usage sampling interval */

typedef struct wl_call {
    int64_t size;                      /* the input size, >= 1 */
    int parallel;                      /* worker threads, >= 1 (resolved from 0 = auto) */
    uint64_t seed;                     /* all inputs derive from it */
    const json_t *params;              /* the whole parameter object, for function knobs */
} wl_call;

typedef struct wl_out {
    json_t *answer;                    /* an object the runtime creates; the function fills it */
    uint64_t checksum;                 /* over the function's output, identical for any parallel */
    int code;                          /* WL_OK, or why it failed */
    char error[WL_ERRMSG_MAX];
} wl_out;

typedef struct wl_function {
    const char *id;                    /* "ms" */
    const char *summary;               /* one line */
    int64_t default_size;
    int64_t max_size;                  /* larger sizes are refused (memory/time sanity bound) */
    int default_parallel;              /* 0: the number of CPUs the process may run on */
    int (*run)(const wl_call *call, wl_out *out);
} wl_function;

/* Sets out->code and out->error; returns code (so `return wl_fail(out, WL_EINPUT, ...)`). */
int wl_fail(wl_out *out, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A function's own integer parameter: absent -> def; present -> an integral number in [lo, hi],
 * else WL_EINPUT with a message naming the key. */
int wl_param_int(const wl_call *call, const char *key, int64_t def, int64_t lo, int64_t hi,
                 int64_t *value, wl_out *out);
/* A function's own string parameter: absent -> def; present -> a string of at most maxlen bytes. */
int wl_param_str(const wl_call *call, const char *key, const char *def, size_t maxlen,
                 const char **value, wl_out *out);

/* Runs one call of f with the parameter object params (NULL = {}), sampling usage throughout.
 * Returns WL_OK, WL_EINPUT or WL_ERUN and always stores a result object (success or error) in
 * *result, which the caller frees with json_decref. */
int wl_invoke(const wl_function *f, const json_t *params, json_t **result);

/* The program's entry point: chooses the mode from argv and file descriptor 3 (see runtime.c). */
int wl_main(const wl_function *f, int argc, char **argv);

/* The number of CPUs this process may run on (its affinity mask), at least 1. */
int wl_cpus_available(void);

/* ---- helpers shared by the functions ---- */

/* A seed for item `index` of stream `tag` (a per-function constant) of a call with seed `seed`. */
unsigned long wl_seed(uint64_t seed, uint64_t tag, uint64_t index);

/* 64-bit checksum of bytes, chainable: h = wl_hash(h, p, n); start from WL_HASH_INIT. Not a
 * cryptographic hash: it detects differences in outputs. */
#define WL_HASH_INIT 0xcbf29ce484222325ULL
uint64_t wl_hash(uint64_t h, const void *p, size_t n);
uint64_t wl_hash_u64(uint64_t h, uint64_t v);

/* Runs fn over [0, n) split into `workers` contiguous ranges of nearly equal length (at most n
 * workers), the first on the calling thread, the others on new threads that are joined before it
 * returns. Returns the first non-zero value an fn returned, or WL_ERUN if no thread could start. */
typedef int (*wl_range_fn)(void *arg, int worker, int64_t lo, int64_t hi);
int wl_parallel_for(int64_t n, int workers, wl_range_fn fn, void *arg);

/* The range of worker w of W over [0, n), as wl_parallel_for splits it. */
void wl_split(int64_t n, int w, int W, int64_t *lo, int64_t *hi);

/* Monotonic seconds. */
double wl_now(void);

#endif

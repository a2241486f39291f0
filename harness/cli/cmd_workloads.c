/* cmd_workloads.c - `harvestbench workloads list|run` and `harvestbench profile`.
 *
 * The workload binaries live next to the harvestbench executable, in workloads/<id> (build/ after
 * `make`); they are found through /proc/self/exe, so the commands work from any directory.
 *
 * `profile` runs each function over a grid of sizes and CPU limits, repeats each point, and fits the
 * `measured` workload profile (harness/core/workload_model.h) with GSL's weighted least squares. The method is
 * documented for users in workloads/profiles/README.md ("measured"); in short, at the largest CPU
 * limit (ref_cores):
 *   exec_s(x)       the function's own wall time, fitted as a + b*x (+ c*x*log2 x for the sorts),
 *                   relative weights, held constant below the smallest measured size
 *   mem_peak_mb(x)  the group's memory peak (cgroup) or the child's max RSS: linear between the
 *                   medians at the measured sizes, continuing the last rise above them
 *   parallelism(x)  the busy cores cpu_s/wall when clearly below the cores it had, else the number of
 *                   worker threads the call ran (8, Libra's per-function cap, for the functions that
 *                   use every CPU), piecewise constant between measured sizes
 *   constants       cold_start_s = spawn-to-exit minus the function's own time (median); cv = median
 *                   run-to-run coefficient of variation of the CPU time; mem_start_frac and
 *                   mem_ramp_frac from the 100 ms memory samples of the largest runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "atomic_file.h"
#include "common/cgroup.h"
#include "commands.h"
#include "workload_model.h"
#include "local/timeline_record.h"

#define CPU_CAP 8                      /* Libra's per-function core cap: "all CPUs" functions */
#define OUT_MAX (16u << 20)            /* a result JSON larger than this is refused */

/* Per function: how `profile` treats it. */
typedef struct wl_plan {
    const char *id;
    int nlogn;                         /* exec grows as x log x (the merge sorts) */
    const char *quick_params;          /* extra parameters of --quick runs (smaller inputs) */
} wl_plan;

static const wl_plan plans[HB_NWORKLOADS] = {
    {"dh", 1, ""}, {"eg", 0, ""}, {"ip", 0, ""},
    {"vp", 0, ",\"width\":160,\"height\":96"},   /* 1/15 of the pixels: size 1 is the smallest */
    {"ir", 0, ""}, {"knn", 0, ""}, {"alu", 0, ""}, {"ms", 1, ""}, {"gd", 0, ""}, {"dv", 0, ""},
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int is_help(const char *a) { return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0; }

/* build/workloads/<id> next to this executable. */
static int workload_path(const char *id, char *path, size_t len, hb_error *err)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return hb_fail(err, HB_ERUN, "cannot find this executable (/proc/self/exe): %s",
                       strerror(errno));
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    int w = snprintf(path, len, "%.3900s/workloads/%.16s", exe, id);
    if (w < 0 || (size_t)w >= len)
        return hb_fail(err, HB_ERUN, "the path of %s is too long", id);
    if (access(path, X_OK) != 0)
        return hb_fail(err, HB_ERUN, "%s: %s (build the workloads with `make`)", path,
                       strerror(errno));
    return HB_OK;
}

/* ---- workloads list ---- */

static int workloads_list(int argc, char **argv)
{
    if (argc > 1 && is_help(argv[1])) {
        printf("usage: harvestbench workloads list\n"
               "Lists the ten benchmark functions: id, name, the artifact's user CPU (cores) and\n"
               "memory (MB), its worker count, the input-size range of random traces, and the size\n"
               "of its demo traces. What each computes: docs/workloads.md.\n");
        return 0;
    }
    if (argc > 1)
        return hb_usage_error("workloads list", "unexpected argument '%s'", argv[1]);
    printf("%-4s %-22s %4s %7s %8s %15s %8s  %s\n", "id", "name", "cpu", "mem_mb", "parallel",
           "sizes", "demo", "description");
    for (int i = 0; i < HB_NWORKLOADS; i++) {
        const hb_function *f = &hb_functions[i];
        char range[40];
        snprintf(range, sizeof range, "%lld-%lld", (long long)(f->size_base * f->size_lo),
                 (long long)(f->size_base * (f->size_hi - 1)));
        printf("%-4s %-22s %4d %7d %8d %15s %8lld  %s\n", f->id, f->name, f->user_cpu,
               f->user_mem_units * HB_MEM_UNIT_MB, f->parallel, range, (long long)f->size_multi,
               f->description);
    }
    return 0;
}

/* ---- workloads run ---- */

static int workloads_run(int argc, char **argv)
{
    static const char *usage =
        "usage: harvestbench workloads run ID [--size N] [--parallel P] [--seed S] [--params JSON]\n"
        "Runs one benchmark function on this machine (its binary next to harvestbench, in\n"
        "workloads/ID) and prints its result JSON: the answer, a checksum of the output, the wall\n"
        "time, and CPU (cores) and memory (MB) samples every 100 ms with their peaks. Without\n"
        "--size and --parallel the function's defaults apply (docs/workloads.md).\n"
        "Exit status: 0 ok, 1 the function failed, 2 bad usage or parameters.\n";
    if (argc < 2 || is_help(argv[1])) {
        if (argc < 2) {
            fputs(usage, stderr);
            return 2;
        }
        fputs(usage, stdout);
        return 0;
    }
    const char *id = argv[1];
    if (hb_function_find(id) < 0)
        return hb_usage_error("workloads run", "unknown function '%s' (see: harvestbench "
                              "workloads list)", id);
    char path[PATH_MAX];
    hb_error err;
    if (workload_path(id, path, sizeof path, &err) != HB_OK) {
        fprintf(stderr, "harvestbench workloads run: %s\n", err.msg);
        return 1;
    }
    char *args[16] = {path};
    int n = 1;
    for (int i = 2; i < argc; i++) {
        if (is_help(argv[i])) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--size") != 0 && strcmp(argv[i], "--parallel") != 0 &&
            strcmp(argv[i], "--seed") != 0 && strcmp(argv[i], "--params") != 0)
            return hb_usage_error("workloads run", "unknown option '%s'", argv[i]);
        if (i + 1 >= argc)
            return hb_usage_error("workloads run", "%s needs a value", argv[i]);
        if (n + 2 >= (int)(sizeof args / sizeof args[0]))
            return hb_usage_error("workloads run", "too many options");
        args[n++] = argv[i];
        args[n++] = argv[++i];
    }
    args[n] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "harvestbench workloads run: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execv(path, args);
        fprintf(stderr, "harvestbench workloads run: exec %s: %s\n", path, strerror(errno));
        _exit(1);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st))
        return WEXITSTATUS(st) <= 2 ? WEXITSTATUS(st) : 1;
    fprintf(stderr, "harvestbench workloads run: %s killed by signal %d\n", id, WTERMSIG(st));
    return 1;
}

int cmd_workloads(int argc, char **argv)
{
    if (argc < 2 || is_help(argv[1])) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: harvestbench workloads list\n"
                "       harvestbench workloads run ID [--size N] [--parallel P] [--seed S] "
                "[--params JSON]\n"
                "The ten benchmark functions in C: list them, or run one here and print its "
                "result.\n'harvestbench workloads list --help' and 'workloads run --help' describe "
                "each.\n");
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "list") == 0)
        return workloads_list(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return workloads_run(argc - 1, argv + 1);
    return hb_usage_error("workloads", "unknown subcommand '%s' (list or run)", argv[1]);
}

/* ---- profile: one measured run ---- */

enum limit_mode { LIMIT_CGROUP, LIMIT_THREADS };

typedef struct run_rec {
    int func;
    int64_t size;
    double cores;                      /* the CPU limit */
    double wall_s;                     /* the function's own time */
    double total_s;                    /* spawn to exit */
    double cpu_s;                      /* CPU time: the group's, or the child's rusage */
    double cpu_peak;                   /* from the 100 ms samples */
    double mem_peak_mb;                /* the group's peak, or the child's max RSS */
    double other_load;                 /* cores the rest of the machine used meanwhile */
    double mem_start_frac;             /* first memory sample / sampled peak */
    double ramp_frac;                  /* time to 90% of the sampled peak / wall; NAN if unknown */
    double start_epoch;                /* when the function's code started (Unix s); NAN unknown */
    int workers, parallel_auto;
    int attempts;                      /* runs made to get a quiet one (1 to 3) */
    double gap_s;                      /* the longest interval between two usage readings */
    hb_tl_row *tl;                     /* its usage timeline, 100 ms samples */
    size_t ntl;
} run_rec;

/* Busy CPU seconds of the whole machine so far (/proc/stat: all but idle and iowait). */
static double machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "re");
    unsigned long long v[8] = {0};
    int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                       &v[4], &v[5], &v[6], &v[7])
              : 0;
    if (f)
        fclose(f);
    if (n < 5)
        return NAN;
    unsigned long long busy = 0;
    for (int k = 0; k < n && k < 8; k++)
        if (k != 3 && k != 4)
            busy += v[k];
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Fills the record's fields that come from the result JSON (the last line of out). */
static int parse_result(const char *out, run_rec *r, hb_error *err)
{
    const char *end = out + strlen(out);
    while (end > out && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    const char *line = end;
    while (line > out && line[-1] != '\n')
        line--;
    cJSON *j = cJSON_ParseWithLength(line, (size_t)(end - line));
    if (!j)
        return hb_fail(err, HB_ERUN, "the result is not JSON: %.200s", line);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(e)) {
        hb_fail(err, HB_ERUN, "%s", e->valuestring);
        cJSON_Delete(j);
        return HB_ERUN;
    }
    r->wall_s = num(j, "wall_s");
    r->cpu_peak = num(j, "cpu_peak");
    r->workers = (int)num(j, "workers");
    r->parallel_auto = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "parallel_auto"));
    double peak = num(j, "mem_peak");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "mem_timestamp");
    const cJSON *mu = cJSON_GetObjectItemCaseSensitive(j, "mem_usage");
    int n = cJSON_GetArraySize(mu);
    r->mem_start_frac = NAN;
    r->ramp_frac = NAN;
    r->start_epoch = cJSON_GetArraySize(mt) >= 1 && cJSON_IsNumber(cJSON_GetArrayItem(mt, 0))
                         ? cJSON_GetArrayItem(mt, 0)->valuedouble
                         : NAN;
    if (n >= 1 && peak > 0)
        r->mem_start_frac = fmin(1, cJSON_GetArrayItem(mu, 0)->valuedouble / peak);
    if (n >= 4 && cJSON_GetArraySize(mt) == n && peak > 0) {
        double t0 = cJSON_GetArrayItem(mt, 0)->valuedouble, t1 = cJSON_GetArrayItem(mt, n - 1)->valuedouble;
        for (int i = 0; i < n && t1 > t0; i++)
            if (cJSON_GetArrayItem(mu, i)->valuedouble >= 0.9 * peak) {
                r->ramp_frac = (cJSON_GetArrayItem(mt, i)->valuedouble - t0) / (t1 - t0);
                break;
            }
    }
    cJSON_Delete(j);
    if (!(r->wall_s > 0))
        return hb_fail(err, HB_ERUN, "the result has no wall_s");
    return HB_OK;
}

/* The cpu.shares a group gets from this process's nice value: the kernel's weight of that nice
 * level (sched_prio_to_weight) per CPU of the machine. Under cgroup v1 a group's threads compete
 * with the rest of the machine as one entity of the group's weight, whatever their nice value, so
 * `nice -n -15 harvestbench profile` would not raise the measured call's priority without it. */
static double shares_for_nice(int nice)
{
    static const double weight[40] = {
        88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
        9548,  7620,  6100,  4904,  3906,  3121,  2501,  1991,  1586,  1277,
        1024,  820,   655,   526,   423,   335,   272,   215,   172,   137,
        110,   87,    70,    56,    45,    36,    29,    23,    18,    15};
    int k = nice < -20 ? 0 : nice > 19 ? 39 : nice + 20;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    return fmin(262144, weight[k] * (double)(ncpu > 0 ? ncpu : 1));
}

/* Runs binary `path` with params under the CPU limit; fills r, and its usage timeline (r->tl,
 * r->ntl, which the caller frees) from 10 ms readings taken from outside the call. */
static int measure(const char *path, const char *params, enum limit_mode mode, run_rec *r,
                   hb_error *err)
{
    char *argv[] = {(char *)path, "--params", (char *)params, NULL};
    hb_cgroup cg;
    memset(&cg, 0, sizeof cg);
    hb_tlrec rec;
    memset(&rec, 0, sizeof rec);
    r->tl = NULL;
    r->ntl = 0;
    int rc = HB_OK;
    if (mode == LIMIT_CGROUP) {
        rc = hb_cgroup_create(&cg, err);
        if (rc == HB_OK)
            rc = hb_cgroup_set_cpu(&cg, r->cores, err);
        errno = 0;
        int nice = getpriority(PRIO_PROCESS, 0);
        if (rc == HB_OK && errno == 0 && nice < 0)
            rc = hb_cgroup_set_weight(&cg, shares_for_nice(nice), err);
    }
    double t0 = now_s(), busy0 = machine_busy_s();
    char *out = NULL;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    int st = 0;
    if (rc == HB_OK)
        rc = hb_tlrec_spawn_run(&rec, mode == LIMIT_CGROUP ? &cg : NULL, argv, HB_TL_FINE_MS,
                                OUT_MAX, &out, &st, &ru, err);
    r->total_s = now_s() - t0;
    double busy = machine_busy_s() - busy0;
    if (rc == HB_OK && mode == LIMIT_CGROUP) {
        hb_cgroup_usage u;
        rc = hb_cgroup_usage_read(&cg, &u, err);
        r->cpu_s = (double)u.cpu_ns / 1e9;
        r->mem_peak_mb = u.mem_peak_bytes >= 0 ? (double)u.mem_peak_bytes / 1048576.0
                                               : (double)ru.ru_maxrss / 1024.0;
    } else if (rc == HB_OK) {
        r->cpu_s = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
        r->mem_peak_mb = (double)ru.ru_maxrss / 1024.0;
    }
    /* 10 ms clock ticks: only meaningful over longer runs */
    r->other_load = r->total_s > 0.2 ? fmax(0, (busy - r->cpu_s) / r->total_s) : NAN;
    if (mode == LIMIT_CGROUP && cg.ndirs > 0) {
        hb_error e2;
        if (hb_cgroup_remove(&cg, &e2) != HB_OK && rc == HB_OK)
            rc = hb_fail(err, HB_EIO, "%s", e2.msg);
    }
    if (rc == HB_OK && WIFSIGNALED(st))
        rc = hb_fail(err, HB_ERUN, "killed by signal %d", WTERMSIG(st));
    if (rc == HB_OK && !out)
        rc = hb_fail(err, HB_ERUN, "no output");
    if (rc == HB_OK)                   /* an error result says why; else the exit status */
        rc = parse_result(out, r, err);
    if (rc == HB_OK && WEXITSTATUS(st) != 0)
        rc = hb_fail(err, HB_ERUN, "exit status %d", WEXITSTATUS(st));
    if (rc == HB_OK)
        rc = hb_tlrec_timeline(&rec, r->start_epoch, r->wall_s, &r->tl, &r->ntl, err);
    r->gap_s = rec.max_gap_s;
    hb_tlrec_free(&rec);
    free(out);
    return rc;
}

/* ---- profile: fitting ---- */

static double model(const double c[3], double x)
{
    return c[0] + c[1] * x + (x >= 1 ? c[2] * x * log2(x) : 0);
}

/* Weighted least squares of y on 1, x (and x log2 x when p = 3), weights 1/y^2 (relative error).
 * Returns 0 with the coefficients, or -1. */
static int wls(const double *x, const double *y, size_t n, size_t p, double c[3])
{
    c[0] = c[1] = c[2] = 0;
    if (n < p)
        return -1;
    gsl_matrix *X = gsl_matrix_alloc(n, p), *cov = gsl_matrix_alloc(p, p);
    gsl_vector *Y = gsl_vector_alloc(n), *W = gsl_vector_alloc(n), *C = gsl_vector_alloc(p);
    gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, p);
    int rc = -1;
    if (X && cov && Y && W && C && ws) {
        for (size_t i = 0; i < n; i++) {
            gsl_matrix_set(X, i, 0, 1.0);
            if (p > 1)
                gsl_matrix_set(X, i, 1, x[i]);
            if (p > 2)
                gsl_matrix_set(X, i, 2, x[i] >= 1 ? x[i] * log2(x[i]) : 0);
            gsl_vector_set(Y, i, y[i]);
            gsl_vector_set(W, i, 1.0 / fmax(y[i] * y[i], 1e-12));
        }
        double chisq;
        size_t rank;
        /* the SVD-based solver tolerates nearly collinear columns (few sizes) */
        if (gsl_multifit_wlinear_tsvd(X, W, Y, 1e-10, C, cov, &chisq, &rank, ws) == 0) {
            for (size_t k = 0; k < p; k++)
                c[k] = gsl_vector_get(C, k);
            rc = 0;
        }
    }
    gsl_matrix_free(X);
    gsl_matrix_free(cov);
    gsl_vector_free(Y);
    gsl_vector_free(W);
    gsl_vector_free(C);
    if (ws)
        gsl_multifit_linear_free(ws);
    return rc;
}

/* A fit is usable when it is positive and does not decrease over the measured sizes and an
 * extrapolation to 10x the largest. */
static int usable(const double c[3], const double *xs, size_t nx)
{
    double xmax = 0;
    for (size_t i = 0; i < nx; i++)
        xmax = fmax(xmax, xs[i]);
    double prev = -INFINITY;
    for (size_t i = 0; i <= nx; i++) {
        double x = i < nx ? xs[i] : 10 * xmax, v = model(c, x);
        if (!(v > 0) || v < prev - 1e-12 * fabs(prev))
            return 0;
        prev = v;
    }
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Fits y(x) over the points and appends the curve: constant below the smallest size, the model
 * above it. Tries a + b x + c x log2 x (when nlogn), then a + b x, then b x, then a constant.
 * *kind receives which one was used. */
static int fit_curve(const double *x, const double *y, size_t n, int nlogn, hb_profile_curve *cv,
                     const char **kind, hb_error *err)
{
    double xs[64];
    size_t nx = 0;
    for (size_t i = 0; i < n && nx < 64; i++) {
        int seen = 0;
        for (size_t k = 0; k < nx; k++)
            seen |= xs[k] == x[i];
        if (!seen)
            xs[nx++] = x[i];
    }
    qsort(xs, nx, sizeof *xs, cmp_double);
    double c[3] = {0, 0, 0};
    *kind = NULL;
    if (nlogn && nx >= 3 && wls(x, y, n, 3, c) == 0 && usable(c, xs, nx))
        *kind = "a+b*x+c*x*log2(x)";
    if (!*kind && nx >= 2 && wls(x, y, n, 2, c) == 0 && usable(c, xs, nx))
        *kind = "a+b*x";
    if (!*kind && nx >= 2) {           /* proportional: relative-weighted b = sum(1/y) / sum(x/y^2) */
        double sw = 0, sxy = 0;
        for (size_t i = 0; i < n; i++) {
            sw += x[i] / (y[i] * y[i]) * x[i];
            sxy += x[i] / (y[i] * y[i]) * y[i];
        }
        c[0] = 0;
        c[1] = sw > 0 ? sxy / sw : 0;
        c[2] = 0;
        if (usable(c, xs, nx))
            *kind = "b*x";
    }
    if (!*kind) {                      /* flat (or too few sizes): the median */
        double *t = malloc(n * sizeof *t);
        if (!t)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        memcpy(t, y, n * sizeof *t);
        gsl_sort(t, 1, n);
        c[0] = gsl_stats_median_from_sorted_data(t, 1, n);
        c[1] = c[2] = 0;
        free(t);
        *kind = "constant";
        return hb_profile_curve_add(cv, -INFINITY, INFINITY, c[0], 0, 0, err);
    }
    int rc = hb_profile_curve_add(cv, -INFINITY, xs[0], model(c, xs[0]), 0, 0, err);
    if (rc == HB_OK)
        rc = hb_profile_curve_add(cv, xs[0], INFINITY, c[0], c[1], c[2], err);
    return rc;
}

static double median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    gsl_sort(v, 1, n);
    return gsl_stats_median_from_sorted_data(v, 1, n);
}

/* Memory: the piecewise-linear line through the median at each measured size, constant below the
 * smallest; above the largest it continues the last segment when that rose with the data (the
 * worker count stayed the same), else it stays flat. A global line would not do: several
 * functions' memory grows with their worker count, then stays flat once every worker has an item.
 * workers[i] is the worker count of point i. */
static int interp_curve(const double *x, const double *y, const int *workers, size_t n,
                        hb_profile_curve *cv, hb_error *err)
{
    int wmax[64] = {0};
    double xs[64], ms[64], t[256];
    size_t nx = 0;
    for (size_t i = 0; i < n && nx < 64; i++) {
        int seen = 0;
        for (size_t k = 0; k < nx; k++)
            seen |= xs[k] == x[i];
        if (!seen)
            xs[nx++] = x[i];
    }
    qsort(xs, nx, sizeof *xs, cmp_double);
    for (size_t k = 0; k < nx; k++) {
        size_t nt = 0;
        for (size_t i = 0; i < n && nt < 256; i++)
            if (x[i] == xs[k]) {
                t[nt++] = y[i];
                wmax[k] = workers[i] > wmax[k] ? workers[i] : wmax[k];
            }
        ms[k] = median(t, nt);
    }
    if (nx == 0)
        return hb_fail(err, HB_ERUN, "no measurements to fit");
    int rc = hb_profile_curve_add(cv, -INFINITY, nx > 1 ? xs[0] : INFINITY, ms[0], 0, 0, err);
    for (size_t k = 0; k + 1 < nx && rc == HB_OK; k++) {
        double b = (ms[k + 1] - ms[k]) / (xs[k + 1] - xs[k]), a = ms[k] - b * xs[k];
        if (k + 2 == nx && (b < 0 || wmax[k + 1] > wmax[k]))   /* the tail: flat */
            rc = hb_profile_curve_add(cv, xs[k], INFINITY, ms[k + 1], 0, 0, err);
        else
            rc = hb_profile_curve_add(cv, xs[k], k + 2 == nx ? INFINITY : xs[k + 1], a, b, 0, err);
    }
    return rc;
}

/* ---- profile: the command ---- */

typedef struct prof_opts {
    int quick, quiet, repeats;
    double max_others;                 /* retry a run when the rest of the machine used more */
    const char *out;
    const char *timelines;             /* NULL: next to out; "none": not written */
    char timelines_buf[PATH_MAX];
    int funcs[HB_NWORKLOADS], nfuncs;
    double cpus[16];
    int ncpus;
    int64_t sizes[16];                 /* --sizes: the same sizes for every function */
    int nsizes;
    enum limit_mode mode;
    char mode_note[512];
} prof_opts;

static const char *profile_usage =
    "usage: harvestbench profile [--quick] [--out FILE] [--functions ID,...] [--sizes N,...]\n"
    "                            [--cpus C,...] [--repeats N] [--limit auto|cgroup|threads]\n"
    "                            [--max-others CORES] [--timelines FILE|none] [--quiet]\n"
    "Measures the C workloads on this machine and writes the `measured` workload profile that\n"
    "`run` reads with [workload] profile = measured and profile_file = FILE.\n"
    "Each function runs over a grid of input sizes and CPU limits, each point --repeats times\n"
    "(default 2). The CPU limit is a cgroup CPU quota where this process may create groups (root\n"
    "and cgroup v1 or v2), else the worker-thread count; the output says which.\n"
    "  --quick       a small grid for CI (seconds): three small sizes per function\n"
    "  --out FILE    where to write (default workloads/profiles/measured.csv)\n"
    "  --functions   which functions (default all ten); the rest are left out of the file\n"
    "  --sizes       input sizes for every chosen function (default: four sizes spread\n"
    "                geometrically over the function's trace range, or the --quick ones)\n"
    "  --cpus        CPU limits in cores (default 1,2,... up to this machine's CPUs)\n"
    "  --max-others  retry (up to twice) a run during which the rest of the machine used more\n"
    "                than this many cores (default 0.5); the least disturbed attempt is kept\n"
    "  --timelines   where to write every kept run's usage timeline (100 ms samples of CPU\n"
    "                cores, memory and runnable threads; default timelines-measured.csv in the\n"
    "                directory of --out, i.e. workloads/profiles/timelines-measured.csv); none:\n"
    "                do not record them\n"
    "The method and the file's columns: workloads/profiles/README.md. Exit status: 0 written,\n"
    "1 a run failed, 2 bad usage.\n";

static int parse_list(const char *s, double *out, int max, int *n)
{
    *n = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    char *sv = NULL;
    for (char *t = strtok_r(buf, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
        char *end;
        double v = strtod(t, &end);
        if (end == t || *end || !(v > 0) || *n >= max)
            return -1;
        out[(*n)++] = v;
    }
    return *n > 0 ? 0 : -1;
}

static int parse_profile_args(int argc, char **argv, prof_opts *o)
{
    memset(o, 0, sizeof *o);
    o->repeats = 2;
    o->max_others = 0.5;
    o->out = "workloads/profiles/measured.csv";
    const char *limit = "auto";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "--functions") == 0 ||
                   strcmp(a, "--timelines") == 0 ||
                   strcmp(a, "--sizes") == 0 || strcmp(a, "--cpus") == 0 ||
                   strcmp(a, "--repeats") == 0 || strcmp(a, "--limit") == 0 ||
                   strcmp(a, "--max-others") == 0) {
            if (!v)
                return hb_usage_error("profile", "%s needs a value", a);
            i++;
            if (strcmp(a, "--out") == 0) {
                o->out = v;
            } else if (strcmp(a, "--timelines") == 0) {
                o->timelines = v;
            } else if (strcmp(a, "--functions") == 0) {
                char buf[256];
                snprintf(buf, sizeof buf, "%s", v);
                char *sv = NULL;
                for (char *t = strtok_r(buf, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
                    int f = hb_function_find(t);
                    if (f < 0)
                        return hb_usage_error("profile", "unknown function '%s'", t);
                    int dup = 0;
                    for (int k = 0; k < o->nfuncs; k++)
                        dup |= o->funcs[k] == f;
                    if (!dup)
                        o->funcs[o->nfuncs++] = f;
                }
            } else if (strcmp(a, "--sizes") == 0) {
                double s[16];
                if (parse_list(v, s, 16, &o->nsizes) != 0)
                    return hb_usage_error("profile", "--sizes: positive integers, comma-separated");
                for (int k = 0; k < o->nsizes; k++) {
                    if (s[k] != floor(s[k]))
                        return hb_usage_error("profile", "--sizes: '%g' is not an integer", s[k]);
                    o->sizes[k] = (int64_t)s[k];
                }
            } else if (strcmp(a, "--cpus") == 0) {
                if (parse_list(v, o->cpus, 16, &o->ncpus) != 0)
                    return hb_usage_error("profile", "--cpus: positive numbers, comma-separated");
            } else if (strcmp(a, "--max-others") == 0) {
                char *end;
                o->max_others = strtod(v, &end);
                if (*end || !(o->max_others >= 0))
                    return hb_usage_error("profile", "--max-others: cores, a number >= 0");
            } else if (strcmp(a, "--repeats") == 0) {
                char *end;
                long r = strtol(v, &end, 10);
                if (*end || r < 1 || r > 100)
                    return hb_usage_error("profile", "--repeats: an integer in 1..100");
                o->repeats = (int)r;
            } else {
                limit = v;
            }
        } else {
            return hb_usage_error("profile", "unknown option '%s'", a);
        }
    }
    if (!o->timelines) {               /* the library sits next to the profile it came from */
        const char *slash = strrchr(o->out, '/');
        int dl = slash ? (int)(slash - o->out) : 0;
        int w = snprintf(o->timelines_buf, sizeof o->timelines_buf, "%.*s%stimelines-measured.csv",
                         dl, o->out, slash ? "/" : "");
        if (w < 0 || (size_t)w >= sizeof o->timelines_buf)
            return hb_usage_error("profile", "--out: the path is too long");
        o->timelines = o->timelines_buf;
    } else if (strcmp(o->timelines, "none") == 0) {
        o->timelines = NULL;
    }
    if (o->nfuncs == 0)
        for (int f = 0; f < HB_NWORKLOADS; f++)
            o->funcs[o->nfuncs++] = f;
    if (o->ncpus == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (int c = 1; c <= n && c <= 8; c++)
            o->cpus[o->ncpus++] = c;
    }
    qsort(o->cpus, (size_t)o->ncpus, sizeof o->cpus[0], cmp_double);
    int version;
    char why[400];
    int can = hb_cgroup_probe(&version, why, sizeof why);
    if (strcmp(limit, "cgroup") == 0 && !can)
        return hb_usage_error("profile", "--limit cgroup: %s", why);
    if (strcmp(limit, "auto") != 0 && strcmp(limit, "cgroup") != 0 && strcmp(limit, "threads") != 0)
        return hb_usage_error("profile", "--limit: auto, cgroup or threads");
    if (can && strcmp(limit, "threads") != 0) {
        o->mode = LIMIT_CGROUP;
        snprintf(o->mode_note, sizeof o->mode_note, "cgroup v%d CPU quota (cfs quota / cpu.max)",
                 version);
    } else {
        o->mode = LIMIT_THREADS;
        snprintf(o->mode_note, sizeof o->mode_note, "worker-thread count (--parallel = the limit; "
                 "%s)", can ? "asked for" : why);
        for (int k = 0; k < o->ncpus; k++)
            o->cpus[k] = ceil(o->cpus[k]);
    }
    return 0;
}

/* The sizes of function f's grid. */
static int grid_sizes(const prof_opts *o, int f, int64_t *s)
{
    if (o->nsizes) {
        memcpy(s, o->sizes, (size_t)o->nsizes * sizeof *s);
        return o->nsizes;
    }
    const hb_function *fn = &hb_functions[f];
    int n = 0;
    if (o->quick) {                    /* ~1/40 of the demo size, doubling */
        int64_t s0 = fn->size_multi / 40 > 0 ? fn->size_multi / 40 : 1;
        for (int k = 0; k < 3; k++)
            s[n++] = s0 << k;
        return n;
    }
    double lo = (double)(fn->size_base * fn->size_lo), hi = (double)(fn->size_base * (fn->size_hi - 1));
    for (int k = 0; k < 4; k++) {
        int64_t v = (int64_t)llround(lo * pow(hi / lo, k / 3.0));
        if (n == 0 || v > s[n - 1])
            s[n++] = v;
    }
    return n;
}

/* Where the timelines go while measuring (the file is written at the end, with its header). */
typedef struct tl_sink {
    FILE *f;                           /* an in-memory stream; NULL: not recording */
    int runs, disturbed;
    int gappy;                         /* runs with a gap over 50 ms between readings */
    size_t samples;
} tl_sink;

static int profile_function(const prof_opts *o, int f, const char *path, hb_profile_func *pf,
                            FILE *log, tl_sink *tl, char *summary, size_t sumlen, hb_error *err)
{
    const hb_function *fn = &hb_functions[f];
    int64_t sizes[16];
    int ns = grid_sizes(o, f, sizes);
    size_t cap = (size_t)ns * (size_t)o->ncpus * (size_t)o->repeats;
    run_rec *runs = calloc(cap, sizeof *runs);
    if (!runs)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    size_t nr = 0;
    int rc = HB_OK;
    double ref = o->cpus[o->ncpus - 1];
    for (int si = 0; si < ns && rc == HB_OK; si++)
        for (int ci = 0; ci < o->ncpus && rc == HB_OK; ci++)
            for (int rep = 0; rep < o->repeats && rc == HB_OK; rep++) {
                run_rec *r = &runs[nr];
                r->func = f;
                r->size = sizes[si];
                r->cores = o->cpus[ci];
                char params[256], par[32] = "";
                if (o->mode == LIMIT_THREADS)  /* the limit is the worker count */
                    snprintf(par, sizeof par, ",\"parallel\":%d", (int)r->cores);
                snprintf(params, sizeof params, "{\"size\":%lld,\"seed\":%d%s%s}",
                         (long long)r->size, 1 + rep, o->quick ? plans[f].quick_params : "", par);
                /* on a shared machine, retry (twice at most) a run that other work slowed down,
                 * and keep the least disturbed attempt */
                run_rec best = *r;
                int tries = 0;
                for (int attempt = 0; attempt < 3 && rc == HB_OK; attempt++) {
                    run_rec a = *r;
                    if ((rc = measure(path, params, o->mode, &a, err)) != HB_OK) {
                        free(a.tl);
                        break;
                    }
                    tries++;
                    if (attempt == 0 || a.other_load < best.other_load) {
                        free(best.tl);
                        best = a;
                    } else {
                        free(a.tl);
                    }
                    if (isnan(a.other_load) || a.other_load <= o->max_others)
                        break;
                    sleep(1);
                }
                if (rc != HB_OK) {
                    free(best.tl);
                    hb_error_wrap(err, "%s size %lld at %g cores", fn->id, (long long)r->size,
                                  r->cores);
                    break;
                }
                *r = best;
                r->attempts = tries;
                nr++;
                if (tl && tl->f) {
                    int disturbed = !isnan(r->other_load) && r->other_load > o->max_others;
                    tl->runs++;
                    tl->disturbed += disturbed;
                    tl->samples += r->ntl;
                    tl->gappy += r->gap_s > 0.05;
                    /* a comment line per run: what the rows alone do not say */
                    fprintf(tl->f, "# run %s,%lld,%g,%d: wall_s %.4f, cpu_s %.4f, workers %d, "
                            "others %.2f cores, attempts %d, longest reading gap %.0f ms%s\n",
                            fn->id, (long long)r->size, r->cores, rep + 1, r->wall_s, r->cpu_s,
                            r->workers,
                            isnan(r->other_load) ? 0.0 : r->other_load, tries, r->gap_s * 1000,
                            disturbed ? ", DISTURBED" : isnan(r->other_load) ? ", others not "
                            "measurable (under 0.2 s)" : "");
                    if (hb_tl_write_run(tl->f, fn->id, r->size, r->cores, rep + 1, r->tl,
                                        r->ntl) != 0) {
                        rc = hb_fail(err, HB_EIO, "writing the timelines: %s", strerror(errno));
                    }
                }
                free(r->tl);
                r->tl = NULL;
                r->ntl = 0;
                if (!o->quiet) {
                    fprintf(log, "  %-3s size %-7lld %4.2g cores  %8.3f s  cpu %7.3f s  peak "
                            "%5.2f cores %8.1f MB  workers %d", fn->id, (long long)r->size,
                            r->cores, r->wall_s, r->cpu_s, r->cpu_peak, r->mem_peak_mb, r->workers);
                    if (!isnan(r->other_load))
                        fprintf(log, "  (others: %.2f cores%s)", r->other_load,
                                tries == 2 ? ", 2 tries" : tries == 3 ? ", 3 tries" : "");
                    fputc('\n', log);
                }
            }
    if (rc != HB_OK) {
        free(runs);
        return rc;
    }

    /* the points at the reference limit */
    double *x = malloc(nr * sizeof *x), *y = malloc(nr * sizeof *y), *m = malloc(nr * sizeof *m);
    double *tmp = malloc(nr * sizeof *tmp);
    int *wk = malloc(nr * sizeof *wk);
    if (!x || !y || !m || !tmp || !wk) {
        free(wk);
        free(runs);
        free(x);
        free(y);
        free(m);
        free(tmp);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    size_t nref = 0;
    for (size_t i = 0; i < nr; i++)
        if (runs[i].cores == ref) {
            x[nref] = (double)runs[i].size;
            y[nref] = runs[i].wall_s;
            m[nref] = runs[i].mem_peak_mb;
            wk[nref] = runs[i].workers;
            nref++;
        }
    const char *kexec;
    memset(pf, 0, sizeof *pf);
    pf->present = 1;
    pf->ref_cores = ref;
    rc = fit_curve(x, y, nref, plans[f].nlogn, &pf->exec_s, &kexec, err);
    if (rc == HB_OK)
        rc = interp_curve(x, m, wk, nref, &pf->mem_peak_mb, err);

    /* parallelism per measured size, piecewise constant (the value of each size covers the
     * interval that ends at it; the last one also everything above) */
    double par_at[16];
    for (int si = 0; si < ns && rc == HB_OK; si++) {
        size_t k = 0;
        int workers = 1, autop = 0, quiet = 0;
        for (size_t i = 0; i < nr; i++)
            if (runs[i].cores == ref && runs[i].size == sizes[si]) {
                workers = runs[i].workers > workers ? runs[i].workers : workers;
                autop |= runs[i].parallel_auto;
                /* a run while other work held cores says nothing about what the function can
                 * use: only runs on an otherwise quiet machine count */
                if (!isnan(runs[i].other_load) && runs[i].other_load < 0.2) {
                    tmp[k++] = runs[i].cpu_s / runs[i].total_s;
                    quiet++;
                }
            }
        double eff = quiet ? median(tmp, k) : INFINITY;
        double structural = autop && o->mode == LIMIT_CGROUP ? CPU_CAP : workers;
        par_at[si] = eff >= fmin(structural, ref) - 0.25 ? structural : fmax(eff, 0.05);
        par_at[si] = round(par_at[si] * 100) / 100;
        double gt = si == 0 ? -INFINITY : (double)sizes[si - 1];
        double le = si == ns - 1 ? INFINITY : (double)sizes[si];
        rc = hb_profile_curve_add(&pf->parallelism, gt, le, par_at[si], 0, 0, err);
    }

    /* constants */
    size_t k = 0;
    for (size_t i = 0; i < nr; i++)
        tmp[k++] = fmax(0, runs[i].total_s - runs[i].wall_s);
    pf->cold_start_s = median(tmp, k);
    /* cv: per point with repeats, sd/mean of the CPU time; the median over points (the larger
     * points when there are any over 50 ms, since tiny runs are dominated by start-up noise) */
    double cvs[256];
    size_t ncv = 0;
    for (int pass = 0; pass < 2 && ncv == 0; pass++)
        for (int si = 0; si < ns; si++)
            for (int ci = 0; ci < o->ncpus; ci++) {
                double v[100];
                size_t nv = 0;
                for (size_t i = 0; i < nr && nv < 100; i++)
                    if (runs[i].size == sizes[si] && runs[i].cores == o->cpus[ci])
                        v[nv++] = runs[i].cpu_s;
                double mean = nv ? gsl_stats_mean(v, 1, nv) : 0;
                if (nv >= 2 && mean > 0 && (pass == 1 || mean >= 0.05) && ncv < 256)
                    cvs[ncv++] = gsl_stats_sd(v, 1, nv) / mean;
            }
    pf->cv = ncv ? fmin(2, median(cvs, ncv)) : 0.05;
    /* memory shape: from the runs at the largest size (the most samples) */
    size_t ks = 0, kr = 0;
    double *ramp = malloc(nr * sizeof *ramp);
    for (size_t i = 0; ramp && i < nr; i++)
        if (runs[i].size == sizes[ns - 1]) {
            if (!isnan(runs[i].mem_start_frac))
                tmp[ks++] = runs[i].mem_start_frac;
            if (!isnan(runs[i].ramp_frac))
                ramp[kr++] = runs[i].ramp_frac;
        }
    pf->mem_start_frac = ks ? fmin(1, fmax(0, median(tmp, ks))) : 0.1;
    pf->mem_ramp_frac = kr ? fmin(1, fmax(0, median(ramp, kr))) : 0.5;
    free(ramp);

    int contended = 0;
    for (size_t i = 0; i < nr; i++)
        contended += !isnan(runs[i].other_load) && runs[i].other_load > o->max_others;
    if (rc == HB_OK)
        snprintf(summary, sumlen, "%s: exec_s %s (%.4g, %.4g, %.4g); mem_peak_mb %.1f..%.1f MB "
                 "over sizes %lld..%lld; parallelism %.2f..%.2f; cold_start_s %.4f; cv %.3f; "
                 "mem_start_frac %.2f; mem_ramp_frac %.2f%s; %d of %zu runs disturbed by other "
                 "work", fn->id, kexec,
                 pf->exec_s.p[pf->exec_s.n - 1].a, pf->exec_s.p[pf->exec_s.n - 1].b,
                 pf->exec_s.p[pf->exec_s.n - 1].c,
                 hb_profile_eval(&pf->mem_peak_mb, (double)sizes[0]),
                 hb_profile_eval(&pf->mem_peak_mb, (double)sizes[ns - 1]), (long long)sizes[0],
                 (long long)sizes[ns - 1], par_at[0], par_at[ns - 1], pf->cold_start_s, pf->cv,
                 pf->mem_start_frac,
                 pf->mem_ramp_frac, kr ? "" : " (ramp: too few samples, default)", contended, nr);
    free(runs);
    free(x);
    free(y);
    free(m);
    free(tmp);
    free(wk);
    return rc;
}

/* /proc/loadavg's first four fields ("1-min 5-min 15-min running/total"), or "unknown". */
static void loadavg(char *buf, size_t len)
{
    FILE *f = fopen("/proc/loadavg", "re");
    char a[32], b[32], c[32], d[32];
    if (f && fscanf(f, "%31s %31s %31s %31s", a, b, c, d) == 4)
        snprintf(buf, len, "%s %s %s %s", a, b, c, d);
    else
        snprintf(buf, len, "unknown");
    if (f)
        fclose(f);
}

typedef struct tl_meta {
    const char *host, *kernel, *date;
    long ncpus;
    const char *limit_note;
    int repeats, quick;
    double max_others;
    const char *load0, *load1;
    int nice;
    const char *partial;               /* a note that the file is not complete, or NULL */
} tl_meta;

/* Writes the timeline library: its header (format: workloads/profiles/README.md, "timelines"),
 * then the runs' rows as recorded. */
static int write_timelines(const char *path, const tl_meta *m, const tl_sink *tl, const char *body,
                           size_t len, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, NULL, path, err);
    if (rc != HB_OK)
        return rc;
    fprintf(a.f, "# harvestbench timeline library, format 1\n"
            "# machine: %s (%ld CPUs), kernel %s, %s\n"
            "# cpu limit: %s; sample period %d ms; repeats %d\n"
            "# written by harvestbench profile%s; format and method: workloads/profiles/README.md "
            "(section \"timelines\")\n"
            "# readings: every %d ms from outside the call: CPU = the group's cpuacct.usage (v1) "
            "or cpu.stat usage_usec (v2) interpolated at each sample's ends; mem_mb = memory.stat "
            "rss (v1; it includes rss_huge) or anon (v2) at the sample's end; runnable = threads "
            "in state R in /proc/PID/task/*/stat over the group's processes at the sample's end "
            "(the runtime's own 100 ms sampler thread included, which is almost always asleep)\n"
            "# t_ms = 0 is when the function's code started (its runtime sampler's first reading); "
            "the process start (exec of a static binary, ~10 ms) is not in the timeline\n"
            "# shared machine: loadavg before %s, after %s; measured at nice %d (the run's "
            "group got cpu.shares %.0f)\n"
            "# disturbed: %d of %d runs ran while the rest of the machine used more than %.2f "
            "cores (after up to 2 retries each; their '# run' line says DISTURBED)\n"
            "# reading gaps: %d of %d runs had a gap over 50 ms between two readings (this "
            "process not scheduled in time); the samples inside a gap share its average CPU\n"
            "# %d runs, %zu samples%s\n%s%s%s" HB_TL_HEADER "\n",
            m->host, m->ncpus, m->kernel, m->date, m->limit_note, HB_TL_PERIOD_MS, m->repeats,
            m->quick ? " --quick" : "", HB_TL_FINE_MS, m->load0, m->load1, m->nice,
            m->nice < 0 ? shares_for_nice(m->nice) : 1024.0, tl->disturbed, tl->runs,
            m->max_others, tl->gappy, tl->runs, tl->runs, tl->samples,
            m->quick ? "; QUICK GRID: small inputs for CI, not a library for experiments" : "",
            m->partial ? "# " : "", m->partial ? m->partial : "", m->partial ? "\n" : "");
    if (len && fwrite(body, 1, len, a.f) != len) {
        hb_afile_abort(&a);
        return hb_fail(err, HB_EIO, "%s: %s", path, strerror(errno));
    }
    return hb_afile_commit(&a, err);
}

int cmd_profile(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (is_help(argv[i])) {
            fputs(profile_usage, stdout);
            return 0;
        }
    prof_opts o;
    int rc = parse_profile_args(argc, argv, &o);
    if (rc != 0)
        return rc;
    hb_error err;
    char paths[HB_NWORKLOADS][PATH_MAX];
    for (int k = 0; k < o.nfuncs; k++)
        if (workload_path(hb_functions[o.funcs[k]].id, paths[k], sizeof paths[k], &err) != HB_OK) {
            fprintf(stderr, "harvestbench profile: %s\n", err.msg);
            return 1;
        }
    /* the output file must be writable before minutes of measuring */
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", o.out);
    FILE *probe = fopen(tmp, "w");
    if (!probe) {
        fprintf(stderr, "harvestbench profile: cannot write %s: %s (see --out)\n", o.out,
                strerror(errno));
        return 2;
    }
    fclose(probe);
    remove(tmp);
    if (o.timelines) {
        snprintf(tmp, sizeof tmp, "%s.tmp", o.timelines);
        if (!(probe = fopen(tmp, "w"))) {
            fprintf(stderr, "harvestbench profile: cannot write %s: %s (see --timelines)\n",
                    o.timelines, strerror(errno));
            return 2;
        }
        fclose(probe);
        remove(tmp);
    }
    if (o.mode == LIMIT_CGROUP) {
        int removed = 0;
        if (hb_cgroup_sweep(&removed, &err) != HB_OK)
            fprintf(stderr, "harvestbench profile: warning: %s\n", err.msg);
        else if (removed)
            fprintf(stderr, "harvestbench profile: removed %d stale group(s)\n", removed);
    }
    FILE *log = stdout;
    setvbuf(log, NULL, _IOLBF, 0);     /* progress shows as it happens, even into a file */
    fprintf(log, "profile: CPU limit by %s; limits", o.mode_note);
    for (int k = 0; k < o.ncpus; k++)
        fprintf(log, " %g", o.cpus[k]);
    fprintf(log, " cores; %d repeat(s)%s\n", o.repeats, o.quick ? "; quick grid" : "");

    hb_profile *p = calloc(1, sizeof *p);
    if (!p) {
        fprintf(stderr, "harvestbench profile: out of memory\n");
        return 1;
    }
    snprintf(p->name, sizeof p->name, "measured");
    struct utsname un;
    uname(&un);
    time_t t = time(NULL);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    snprintf(p->source, sizeof p->source, "harvestbench profile%s on %s (%ld CPUs, Linux %s), %s",
             o.quick ? " --quick" : "", un.nodename, sysconf(_SC_NPROCESSORS_ONLN), un.release, date);
    size_t clen = 8192;
    char *comment = malloc(clen);
    if (!comment) {
        hb_profile_free(p);
        return 1;
    }
    int cn = snprintf(comment, clen,
                      "measured workload profile, written by %s\n"
                      "CPU limit by %s; repeats %d%s\n"
                      "method: workloads/profiles/README.md (section \"measured\")\n"
                      "fits (last piece: a, b, c):",
                      p->source, o.mode_note, o.repeats,
                      o.quick ? "\nQUICK GRID: small inputs for CI; not a profile for experiments" : "");
    double t0 = now_s();
    rc = 0;
    tl_sink tl = {NULL, 0, 0, 0, 0};
    char *tl_body = NULL;
    size_t tl_len = 0;
    char load0[128];
    loadavg(load0, sizeof load0);
    if (o.timelines && !(tl.f = open_memstream(&tl_body, &tl_len))) {
        fprintf(stderr, "harvestbench profile: out of memory\n");
        rc = 1;
    }
    for (int k = 0; k < o.nfuncs && rc == 0; k++) {
        int f = o.funcs[k];
        char summary[512];
        if (!o.quiet)
            fprintf(log, "%s (%s):\n", hb_functions[f].id, hb_functions[f].name);
        if (profile_function(&o, f, paths[k], &p->f[f], log, &tl, summary, sizeof summary, &err) !=
            HB_OK) {
            fprintf(stderr, "harvestbench profile: %s\n", err.msg);
            rc = 1;
            break;
        }
        fprintf(log, "  fit %s\n", summary);
        if (cn > 0 && (size_t)cn < clen)
            cn += snprintf(comment + cn, clen - (size_t)cn, "\n%s", summary);
        /* a long measurement that is stopped keeps the functions it finished */
        if (tl.f && k + 1 < o.nfuncs && fflush(tl.f) == 0) {
            char load1[128], note[96];
            loadavg(load1, sizeof load1);
            snprintf(note, sizeof note, "INCOMPLETE: written after function %d of %d; the run "
                     "went on", k + 1, o.nfuncs);
            tl_meta meta = {un.nodename, un.release, date, sysconf(_SC_NPROCESSORS_ONLN),
                            o.mode_note, o.repeats, o.quick, o.max_others, load0, load1, 0, note};
            errno = 0;
            meta.nice = getpriority(PRIO_PROCESS, 0);
            if (write_timelines(o.timelines, &meta, &tl, tl_body, tl_len, &err) != HB_OK)
                fprintf(stderr, "harvestbench profile: warning: %s\n", err.msg);
        }
    }
    if (rc == 0 && hb_profile_validate(p, o.out, &err) != 0) {
        fprintf(stderr, "harvestbench profile: the fitted profile is not valid: %s\n", err.msg);
        rc = 1;
    }
    if (rc == 0 && hb_profile_save(p, o.out, comment, &err) != 0) {
        fprintf(stderr, "harvestbench profile: %s\n", err.msg);
        rc = 1;
    }
    if (rc == 0)
        fprintf(log, "profile: wrote %s (%d function(s), %.1f s)\n", o.out, o.nfuncs, now_s() - t0);
    if (tl.f) {
        if (fclose(tl.f) != 0 && rc == 0) {
            fprintf(stderr, "harvestbench profile: out of memory (timelines)\n");
            rc = 1;
        }
        if (rc == 0) {
            char load1[128];
            loadavg(load1, sizeof load1);
            tl_meta meta = {un.nodename, un.release, date, sysconf(_SC_NPROCESSORS_ONLN),
                            o.mode_note, o.repeats, o.quick, o.max_others, load0, load1, 0, NULL};
            errno = 0;
            meta.nice = getpriority(PRIO_PROCESS, 0);
            if (write_timelines(o.timelines, &meta, &tl, tl_body, tl_len, &err) != HB_OK) {
                fprintf(stderr, "harvestbench profile: %s\n", err.msg);
                rc = 1;
            } else {
                fprintf(log, "profile: wrote %s (%d runs, %zu samples, %d disturbed)\n",
                        o.timelines, tl.runs, tl.samples, tl.disturbed);
            }
        }
        free(tl_body);
    }
    free(comment);
    hb_profile_free(p);
    return rc;
}

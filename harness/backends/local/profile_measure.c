/* profile_measure.c - measuring one function over its grid for `harvestbench profile` (profile_measure.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "clock.h"
#include "common/cgroup.h"
#include "local/profile_measure.h"
#include "local/timeline_record.h"
#include "workload_fit.h"

#define OUT_MAX (16u << 20)            /* a result JSON larger than this is refused */

/* Per function: how the lab treats it. */
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

/* One attempt: what the fit reads, and what only the lab needs. */
typedef struct lab_rec {
    hb_fit_run f;
    double cpu_peak;                   /* from the 100 ms samples */
    double start_epoch;                /* when the function's code started (Unix s); NAN unknown */
    double gap_s;                      /* the longest interval between two usage readings */
    hb_tl_row *tl;                     /* its usage timeline, 100 ms samples */
    size_t ntl;
} lab_rec;

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

/* The memory shape from the result's samples: start fraction and ramp fraction. */
static void memory_shape(const cJSON *j, lab_rec *r)
{
    double peak = num(j, "mem_peak");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "mem_timestamp");
    const cJSON *mu = cJSON_GetObjectItemCaseSensitive(j, "mem_usage");
    int n = cJSON_GetArraySize(mu);
    r->f.mem_start_frac = NAN;
    r->f.ramp_frac = NAN;
    r->start_epoch = cJSON_GetArraySize(mt) >= 1 && cJSON_IsNumber(cJSON_GetArrayItem(mt, 0))
                         ? cJSON_GetArrayItem(mt, 0)->valuedouble
                         : NAN;
    if (n >= 1 && peak > 0)
        r->f.mem_start_frac = fmin(1, cJSON_GetArrayItem(mu, 0)->valuedouble / peak);
    if (n >= 4 && cJSON_GetArraySize(mt) == n && peak > 0) {
        double t0 = cJSON_GetArrayItem(mt, 0)->valuedouble, t1 = cJSON_GetArrayItem(mt, n - 1)->valuedouble;
        for (int i = 0; i < n && t1 > t0; i++)
            if (cJSON_GetArrayItem(mu, i)->valuedouble >= 0.9 * peak) {
                r->f.ramp_frac = (cJSON_GetArrayItem(mt, i)->valuedouble - t0) / (t1 - t0);
                break;
            }
    }
}

/* Fills the record's fields that come from the result JSON (the last line of out). */
static int parse_result(const char *out, lab_rec *r, hb_error *err)
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
    r->f.wall_s = num(j, "wall_s");
    r->cpu_peak = num(j, "cpu_peak");
    r->f.workers = (int)num(j, "workers");
    r->f.parallel_auto = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "parallel_auto"));
    memory_shape(j, r);
    cJSON_Delete(j);
    if (!(r->f.wall_s > 0))
        return hb_fail(err, HB_ERUN, "the result has no wall_s");
    return HB_OK;
}

/* The cpu.shares a group gets from this process's nice value: the kernel's weight of that nice
 * level (sched_prio_to_weight) per CPU of the machine. Under cgroup v1 a group's threads compete
 * with the rest of the machine as one entity of the group's weight, whatever their nice value, so
 * `nice -n -15 harvestbench profile` would not raise the measured call's priority without it. */
double hb_lab_shares_for_nice(int nice)
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

/* A group limited to the record's cores (weighted like this process when it runs at nice < 0). */
static int limit_group(hb_cgroup *cg, double cores, hb_error *err)
{
    int rc = hb_cgroup_create(cg, err);
    if (rc == HB_OK)
        rc = hb_cgroup_set_cpu(cg, cores, err);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    if (rc == HB_OK && errno == 0 && nice < 0)
        rc = hb_cgroup_set_weight(cg, hb_lab_shares_for_nice(nice), err);
    return rc;
}

/* CPU time and memory peak: the group's, or the child's rusage. */
static int read_usage(const hb_cgroup *cg, const struct rusage *ru, lab_rec *r, hb_error *err)
{
    if (cg) {
        hb_cgroup_usage u;
        int rc = hb_cgroup_usage_read(cg, &u, err);
        r->f.cpu_s = (double)u.cpu_ns / 1e9;
        r->f.mem_peak_mb = u.mem_peak_bytes >= 0 ? (double)u.mem_peak_bytes / 1048576.0
                                                 : (double)ru->ru_maxrss / 1024.0;
        return rc;
    }
    r->f.cpu_s = (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
                 (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
    r->f.mem_peak_mb = (double)ru->ru_maxrss / 1024.0;
    return HB_OK;
}

/* Runs binary `path` with params under the CPU limit; fills r, and its usage timeline (r->tl,
 * r->ntl, which the caller frees) from 10 ms readings taken from outside the call. */
static int measure(const char *path, const char *params, hb_lab_limit mode, lab_rec *r,
                   hb_error *err)
{
    char *argv[] = {(char *)path, "--params", (char *)params, NULL};
    hb_cgroup cg;
    memset(&cg, 0, sizeof cg);
    hb_tlrec rec;
    memset(&rec, 0, sizeof rec);
    r->tl = NULL;
    r->ntl = 0;
    int rc = mode == HB_LAB_CGROUP ? limit_group(&cg, r->f.cores, err) : HB_OK;
    double t0 = hb_mono_s(), busy0 = machine_busy_s();
    char *out = NULL;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    int st = 0;
    if (rc == HB_OK)
        rc = hb_tlrec_spawn_run(&rec, mode == HB_LAB_CGROUP ? &cg : NULL, argv, HB_TL_FINE_MS,
                                OUT_MAX, &out, &st, &ru, err);
    r->f.total_s = hb_mono_s() - t0;
    double busy = machine_busy_s() - busy0;
    if (rc == HB_OK)
        rc = read_usage(mode == HB_LAB_CGROUP ? &cg : NULL, &ru, r, err);
    /* 10 ms clock ticks: only meaningful over longer runs */
    r->f.other_load = r->f.total_s > 0.2 ? fmax(0, (busy - r->f.cpu_s) / r->f.total_s) : NAN;
    if (mode == HB_LAB_CGROUP && cg.ndirs > 0) {
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
        rc = hb_tlrec_timeline(&rec, r->start_epoch, r->f.wall_s, &r->tl, &r->ntl, err);
    r->gap_s = rec.max_gap_s;
    hb_tlrec_free(&rec);
    free(out);
    return rc;
}

/* The sizes of function f's grid. */
static int grid_sizes(const hb_lab_opts *o, int f, int64_t *s)
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

/* One grid point: on a shared machine, retry (twice at most) a run that other work slowed down,
 * and keep the least disturbed attempt in *best (its timeline is the caller's). */
static int measure_point(const hb_lab_opts *o, const char *path, const char *params,
                         lab_rec *best, int *tries, hb_error *err)
{
    lab_rec r0 = *best;
    int rc = HB_OK;
    *tries = 0;
    for (int attempt = 0; attempt < 3 && rc == HB_OK; attempt++) {
        lab_rec a = r0;
        if ((rc = measure(path, params, o->mode, &a, err)) != HB_OK) {
            free(a.tl);
            break;
        }
        (*tries)++;
        if (attempt == 0 || a.f.other_load < best->f.other_load) {
            free(best->tl);
            *best = a;
        } else {
            free(a.tl);
        }
        if (isnan(a.f.other_load) || a.f.other_load <= o->max_others)
            break;
        sleep(1);
    }
    if (rc != HB_OK) {
        free(best->tl);
        best->tl = NULL;
    }
    return rc;
}

/* Appends a kept run to the timeline library: a comment line (what the rows alone do not say),
 * then its rows. */
static int record_run(const hb_lab_opts *o, hb_lab_sink *tl, const char *id, int rep, int tries,
                      const lab_rec *r, hb_error *err)
{
    int disturbed = !isnan(r->f.other_load) && r->f.other_load > o->max_others;
    tl->runs++;
    tl->disturbed += disturbed;
    tl->samples += r->ntl;
    tl->gappy += r->gap_s > 0.05;
    fprintf(tl->f, "# run %s,%lld,%g,%d: wall_s %.4f, cpu_s %.4f, workers %d, "
            "others %.2f cores, attempts %d, longest reading gap %.0f ms%s\n",
            id, (long long)r->f.size, r->f.cores, rep + 1, r->f.wall_s, r->f.cpu_s, r->f.workers,
            isnan(r->f.other_load) ? 0.0 : r->f.other_load, tries, r->gap_s * 1000,
            disturbed ? ", DISTURBED" : isnan(r->f.other_load) ? ", others not "
            "measurable (under 0.2 s)" : "");
    if (hb_tl_write_run(tl->f, id, r->f.size, r->f.cores, rep + 1, r->tl, r->ntl) != 0)
        return hb_fail(err, HB_EIO, "writing the timelines: %s", strerror(errno));
    return HB_OK;
}

static void print_run(FILE *log, const char *id, const lab_rec *r, int tries)
{
    fprintf(log, "  %-3s size %-7lld %4.2g cores  %8.3f s  cpu %7.3f s  peak "
            "%5.2f cores %8.1f MB  workers %d", id, (long long)r->f.size,
            r->f.cores, r->f.wall_s, r->f.cpu_s, r->cpu_peak, r->f.mem_peak_mb, r->f.workers);
    if (!isnan(r->f.other_load))
        fprintf(log, "  (others: %.2f cores%s)", r->f.other_load,
                tries == 2 ? ", 2 tries" : tries == 3 ? ", 3 tries" : "");
    fputc('\n', log);
}

/* Measures function f's grid into runs[] (*nr of them kept). */
static int measure_grid(const hb_lab_opts *o, int f, const char *path, const int64_t *sizes,
                        int ns, hb_fit_run *runs, size_t *nr, FILE *log, hb_lab_sink *tl,
                        hb_error *err)
{
    const char *id = hb_functions[f].id;
    int rc = HB_OK;
    for (int si = 0; si < ns && rc == HB_OK; si++)
        for (int ci = 0; ci < o->ncpus && rc == HB_OK; ci++)
            for (int rep = 0; rep < o->repeats && rc == HB_OK; rep++) {
                lab_rec r;
                memset(&r, 0, sizeof r);
                r.f.size = sizes[si];
                r.f.cores = o->cpus[ci];
                char params[256], par[32] = "";
                if (o->mode == HB_LAB_THREADS)  /* the limit is the worker count */
                    snprintf(par, sizeof par, ",\"parallel\":%d", (int)r.f.cores);
                snprintf(params, sizeof params, "{\"size\":%lld,\"seed\":%d%s%s}",
                         (long long)r.f.size, 1 + rep, o->quick ? plans[f].quick_params : "", par);
                int tries = 0;
                if ((rc = measure_point(o, path, params, &r, &tries, err)) != HB_OK) {
                    hb_error_wrap(err, "%s size %lld at %g cores", id, (long long)sizes[si],
                                  o->cpus[ci]);
                    break;
                }
                runs[(*nr)++] = r.f;
                if (tl && tl->f)
                    rc = record_run(o, tl, id, rep, tries, &r, err);
                free(r.tl);
                if (!o->quiet)
                    print_run(log, id, &r, tries);
            }
    return rc;
}

int hb_lab_profile_function(const hb_lab_opts *o, int f, const char *path, hb_profile_func *pf,
                            FILE *log, hb_lab_sink *tl, char *summary, size_t sumlen,
                            hb_error *err)
{
    int64_t sizes[16];
    int ns = grid_sizes(o, f, sizes);
    size_t cap = (size_t)ns * (size_t)o->ncpus * (size_t)o->repeats;
    hb_fit_run *runs = calloc(cap ? cap : 1, sizeof *runs);
    if (!runs)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    size_t nr = 0;
    int rc = measure_grid(o, f, path, sizes, ns, runs, &nr, log, tl, err);
    hb_fit_grid g = {hb_functions[f].id, sizes, ns, o->cpus, o->ncpus, plans[f].nlogn,
                     o->mode == HB_LAB_CGROUP, o->max_others};
    if (rc == HB_OK)
        rc = hb_workload_fit(&g, runs, nr, pf, summary, sumlen, err);
    free(runs);
    return rc;
}

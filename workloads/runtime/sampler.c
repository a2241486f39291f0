/* sampler.c - usage sampling thread (see sampler.h).
 *
 * The cgroup lookup here is deliberately small and read-only (find the process's own group, read two
 * counters): the workload binaries are static and self-contained, so they do not link the harness's
 * cgroup module (harness/backends/common/cgroup.c), which creates and manages groups. */
#include "sampler.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MB (1024.0 * 1024.0)

enum src_kind { SRC_PROC, SRC_V1, SRC_V2 };

struct wl_sampler {
    enum src_kind kind;
    char cpu_file[512];                /* cgroup: cpuacct.usage or cpu.stat */
    char mem_file[512];                /* cgroup: memory.usage_in_bytes or memory.current */
    char stat_file[512];               /* cgroup: memory.stat */
    char note[160];
    long page_size;
    int interval_ms;

    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    int failed;                        /* a series could not grow: stop recording */

    struct timespec mono0;             /* start, monotonic */
    double epoch0;                     /* start, Unix epoch seconds */
    double last_mono;                  /* time and CPU of the last CPU reading */
    double last_cpu;
    double last_mem_rel;               /* seconds since start of the last memory reading */
    double cpu0;
    double cpu_total;                  /* CPU seconds between start and stop */
    double cpu_peak, mem_peak;
    wl_series cpu, mem;
};

/* ---- reading the sources ---- */

static int read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

static int read_u64(const char *path, uint64_t *v)
{
    char buf[64];
    if (read_text(path, buf, sizeof buf) != 0)
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 10);
    if (errno || end == buf)
        return -1;
    *v = x;
    return 0;
}

/* The value of "key N" in a flat keyed file (memory.stat, cpu.stat). */
static int read_keyed(const char *path, const char *key, uint64_t *v)
{
    char buf[8192];
    if (read_text(path, buf, sizeof buf) != 0)
        return -1;
    size_t kl = strlen(key);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
            *v = strtoull(line + kl + 1, NULL, 10);
            return 0;
        }
    }
    return -1;
}

static double mono_s(const struct timespec *t) { return (double)t->tv_sec + (double)t->tv_nsec / 1e9; }

static int read_cpu(const wl_sampler *s, double *sec)
{
    uint64_t v;
    switch (s->kind) {
    case SRC_V1:
        if (read_u64(s->cpu_file, &v) != 0)
            return -1;
        *sec = (double)v / 1e9;
        return 0;
    case SRC_V2:
        if (read_keyed(s->cpu_file, "usage_usec", &v) != 0)
            return -1;
        *sec = (double)v / 1e6;
        return 0;
    default: {
        struct timespec ts;
        if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
            return -1;
        *sec = mono_s(&ts);
        return 0;
    }
    }
}

static int read_mem(const wl_sampler *s, double *mb)
{
    uint64_t use, inactive = 0;
    if (s->kind == SRC_PROC) {
        char buf[128];
        unsigned long size, resident;
        if (read_text("/proc/self/statm", buf, sizeof buf) != 0 ||
            sscanf(buf, "%lu %lu", &size, &resident) != 2)
            return -1;
        *mb = (double)resident * (double)s->page_size / MB;
        return 0;
    }
    if (read_u64(s->mem_file, &use) != 0)
        return -1;
    read_keyed(s->stat_file, s->kind == SRC_V1 ? "total_inactive_file" : "inactive_file", &inactive);
    *mb = (double)(use > inactive ? use - inactive : 0) / MB;
    return 0;
}

/* ---- finding the process's own cgroup ---- */

/* The mount point and mounted root of a cgroup hierarchy: fstype "cgroup2", or "cgroup" with the v1
 * controller ctrl among its super options. */
static int find_mount(const char *fstype, const char *ctrl, char *mnt, size_t mlen, char *root,
                      size_t rlen)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -1;
    char line[1024];
    int found = -1;
    while (found != 0 && fgets(line, sizeof line, f)) {
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        char fs[32], opts[512], r[256], m[256];
        if (sscanf(sep + 3, "%31s %*s %511s", fs, opts) != 2 || strcmp(fs, fstype) != 0)
            continue;
        if (sscanf(line, "%*s %*s %*s %255s %255s", r, m) != 2)
            continue;
        if (ctrl) {
            int has = 0;
            char *sv = NULL;
            for (char *tok = strtok_r(opts, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv))
                if (strcmp(tok, ctrl) == 0)
                    has = 1;
            if (!has)
                continue;
        }
        snprintf(mnt, mlen, "%s", m);
        snprintf(root, rlen, "%s", r);
        found = 0;
    }
    fclose(f);
    return found;
}

/* The process's path in hierarchy ctrl (v1 controller name) or in the v2 hierarchy (ctrl NULL). */
static int own_path(const char *ctrl, char *path, size_t len)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return -1;
    char line[1024];
    int found = -1;
    while (found != 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *list = c1 + 1;
        if (ctrl == NULL) {
            if (strcmp(line, "0") == 0 && *list == '\0') {
                snprintf(path, len, "%s", c2 + 1);
                found = 0;
            }
            continue;
        }
        char tmp[256], *sv = NULL;
        snprintf(tmp, sizeof tmp, "%s", list);
        for (char *tok = strtok_r(tmp, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv))
            if (strcmp(tok, ctrl) == 0) {
                snprintf(path, len, "%s", c2 + 1);
                found = 0;
            }
    }
    fclose(f);
    return found;
}

/* The directory of the process's group: mount point + (path relative to the mounted root). */
static int group_dir(const char *fstype, const char *ctrl, char *dir, size_t len, char *path,
                     size_t plen)
{
    char mnt[256], root[256];
    if (find_mount(fstype, ctrl, mnt, sizeof mnt, root, sizeof root) != 0 ||
        own_path(ctrl, path, plen) != 0)
        return -1;
    const char *rel = path;
    size_t rl = strlen(root);
    if (strcmp(root, "/") != 0 && strncmp(path, root, rl) == 0)
        rel = path + rl;
    if (*rel == '/')
        rel++;
    int n = *rel ? snprintf(dir, len, "%s/%s", mnt, rel) : snprintf(dir, len, "%s", mnt);
    return (n > 0 && (size_t)n < len) ? 0 : -1;
}

/* Is this group the process's own (a harvestbench group or a container's)? */
static int own_group(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strcmp(path, "/") == 0)        /* the root group is the whole machine */
        return 0;
    if (strncmp(base, "harvestbench-", 13) == 0)
        return 1;
    return strstr(path, "docker") || strstr(path, "kubepods") || strstr(path, "containerd") ||
           strstr(path, "libpod");
}

static int pick_cgroup(wl_sampler *s, int forced)
{
    char cpu_dir[512], mem_dir[512], p1[512], p2[512];
    if (group_dir("cgroup", "cpuacct", cpu_dir, sizeof cpu_dir, p1, sizeof p1) == 0 &&
        group_dir("cgroup", "memory", mem_dir, sizeof mem_dir, p2, sizeof p2) == 0) {
        if (!forced && !own_group(p1)) {
            snprintf(s->note, sizeof s->note, "not in a group of its own (cpuacct:%.100s)", p1);
            return -1;
        }
        s->kind = SRC_V1;
        snprintf(s->cpu_file, sizeof s->cpu_file, "%.490s/cpuacct.usage", cpu_dir);
        snprintf(s->mem_file, sizeof s->mem_file, "%.480s/memory.usage_in_bytes", mem_dir);
        snprintf(s->stat_file, sizeof s->stat_file, "%.490s/memory.stat", mem_dir);
    } else if (group_dir("cgroup2", NULL, cpu_dir, sizeof cpu_dir, p1, sizeof p1) == 0) {
        if (!forced && !own_group(p1)) {
            snprintf(s->note, sizeof s->note, "not in a group of its own (%.100s)", p1);
            return -1;
        }
        s->kind = SRC_V2;
        snprintf(s->cpu_file, sizeof s->cpu_file, "%.490s/cpu.stat", cpu_dir);
        snprintf(s->mem_file, sizeof s->mem_file, "%.490s/memory.current", cpu_dir);
        snprintf(s->stat_file, sizeof s->stat_file, "%.490s/memory.stat", cpu_dir);
    } else {
        snprintf(s->note, sizeof s->note, "no cgroup hierarchy with cpuacct and memory found");
        return -1;
    }
    double c, m;
    if (read_cpu(s, &c) != 0 || read_mem(s, &m) != 0) {
        snprintf(s->note, sizeof s->note, "cannot read %.140s", s->cpu_file);
        s->kind = SRC_PROC;
        return -1;
    }
    return 0;
}

/* ---- the series ---- */

static int series_add(wl_series *x, double t, double v)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        double *nt = realloc(x->t, cap * sizeof *nt);
        if (!nt)
            return -1;
        x->t = nt;
        double *nv = realloc(x->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        x->v = nv;
        x->cap = cap;
    }
    x->t[x->n] = t;
    x->v[x->n] = v;
    x->n++;
    return 0;
}

/* Takes one reading of CPU and memory; final: the reading at stop. */
static void take(wl_sampler *s, int final)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = mono_s(&ts);
    double rel = now - mono_s(&s->mono0);
    double cpu, mem;
    if (read_cpu(s, &cpu) == 0) {
        double dt = now - s->last_mono;
        if (final)
            s->cpu_total = cpu - s->cpu0;
        if (dt >= (final ? 0.02 : 0.001)) {
            double cores = (cpu - s->last_cpu) / dt;
            if (cores < 0)
                cores = 0;
            if (!s->failed && series_add(&s->cpu, s->epoch0 + rel, cores) != 0)
                s->failed = 1;
            if (!final || dt >= s->interval_ms / 2000.0 || s->cpu.n == 1)
                if (cores > s->cpu_peak)
                    s->cpu_peak = cores;
            s->last_mono = now;
            s->last_cpu = cpu;
        }
    }
    if (read_mem(s, &mem) == 0 && (!final || rel - s->last_mem_rel >= 0.02)) {
        s->last_mem_rel = rel;
        if (!s->failed && series_add(&s->mem, s->epoch0 + rel, mem) != 0)
            s->failed = 1;
        if (mem > s->mem_peak)
            s->mem_peak = mem;
    }
}

static void *loop(void *arg)
{
    wl_sampler *s = arg;
    pthread_mutex_lock(&s->lock);
    for (long k = 1; !s->stop; k++) {
        struct timespec dl = s->mono0;
        long long ns = (long long)dl.tv_nsec + (long long)k * s->interval_ms * 1000000LL;
        dl.tv_sec += (time_t)(ns / 1000000000LL);
        dl.tv_nsec = (long)(ns % 1000000000LL);
        int rc = 0;
        while (!s->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&s->wake, &s->lock, &dl);
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->lock);
        take(s, 0);
        pthread_mutex_lock(&s->lock);
        /* if a reading took longer than an interval, skip the deadlines already past */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double behind = mono_s(&now) - mono_s(&s->mono0);
        if (behind > (double)(k + 1) * s->interval_ms / 1000.0)
            k = (long)(behind * 1000.0 / s->interval_ms);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int wl_sampler_start(wl_sampler **out, int interval_ms, char *err, size_t errlen)
{
    *out = NULL;
    wl_sampler *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "sampler: out of memory");
        return -1;
    }
    s->interval_ms = interval_ms > 0 ? interval_ms : 100;
    s->page_size = sysconf(_SC_PAGESIZE);
    s->kind = SRC_PROC;
    const char *mode = getenv("HB_SAMPLER");
    if (!mode || strcmp(mode, "proc") != 0)
        pick_cgroup(s, mode && strcmp(mode, "cgroup") == 0);

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->lock, NULL);

    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &s->mono0);
    s->epoch0 = mono_s(&rt);
    s->last_mono = mono_s(&s->mono0);
    if (read_cpu(s, &s->cpu0) != 0)
        s->cpu0 = 0;
    s->last_cpu = s->cpu0;
    double mem;
    if (read_mem(s, &mem) == 0) {
        if (series_add(&s->mem, s->epoch0, mem) != 0)
            s->failed = 1;
        s->mem_peak = mem;
    }
    int rc = pthread_create(&s->thread, NULL, loop, s);
    if (rc != 0) {
        snprintf(err, errlen, "sampler: cannot start a thread: %s", strerror(rc));
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s->mem.t);
        free(s->mem.v);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void wl_sampler_stop(wl_sampler *s)
{
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    take(s, 1);
}

const wl_series *wl_sampler_cpu(const wl_sampler *s) { return &s->cpu; }
const wl_series *wl_sampler_mem(const wl_sampler *s) { return &s->mem; }
double wl_sampler_cpu_peak(const wl_sampler *s) { return s->cpu_peak; }
double wl_sampler_mem_peak(const wl_sampler *s) { return s->mem_peak; }
double wl_sampler_cpu_seconds(const wl_sampler *s) { return s->cpu_total; }
const char *wl_sampler_note(const wl_sampler *s) { return s->note; }

const char *wl_sampler_source(const wl_sampler *s)
{
    return s->kind == SRC_V1 ? "cgroup-v1" : s->kind == SRC_V2 ? "cgroup-v2" : "proc";
}

void wl_sampler_free(wl_sampler *s)
{
    if (!s)
        return;
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->cpu.t);
    free(s->cpu.v);
    free(s->mem.t);
    free(s->mem.v);
    free(s);
}

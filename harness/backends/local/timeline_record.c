/* timeline_record.c - recording a call's usage timeline (see timeline_record.h). */
#define _GNU_SOURCE
#include "timeline_record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dynbuf.h"

extern char **environ;

static int read_text(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n + 1 < len) {
        ssize_t r = read(fd, buf + n, len - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

/* The value of "key N" in a flat keyed file (memory.stat, cpu.stat). */
static int read_keyed(const char *path, const char *key, unsigned long long *v)
{
    char buf[8192];
    if (read_text(path, buf, sizeof buf) != 0)
        return -1;
    size_t kl = strlen(key);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
            *v = strtoull(line + kl + 1, NULL, 10);
            return 0;
        }
    return -1;
}

/* The state letter of a /proc stat line: the first field after the command's closing ')'. */
static char stat_state(const char *buf)
{
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/* Threads of process pid in state R, or -1 when its task directory cannot be read. */
static int runnable_of(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char sp[128], buf[512];
        snprintf(sp, sizeof sp, "/proc/%ld/task/%.20s/stat", pid, e->d_name);
        if (read_text(sp, buf, sizeof buf) == 0 && stat_state(buf) == 'R')
            n++;
    }
    closedir(d);
    return n;
}

int hb_tl_runnable(const char *dir, pid_t pid)
{
    if (!dir)
        return runnable_of((long)pid);
    char path[HB_CGROUP_PATH_MAX + 32], buf[8192];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    close(fd);
    if (read_text(path, buf, sizeof buf) != 0)
        return 0;                      /* readable but empty: no process left */
    int n = 0;
    for (char *p = buf; *p;) {
        char *end;
        long q = strtol(p, &end, 10);
        if (end == p)
            break;
        int k = runnable_of(q);
        n += k > 0 ? k : 0;            /* a process that exited meanwhile has none */
        p = end;
        while (*p == '\n')
            p++;
    }
    return n;
}

static int read_cgroup(const hb_cgroup *cg, hb_tl_reading *x)
{
    char path[HB_CGROUP_PATH_MAX + 32];
    unsigned long long v;
    if (cg->version == 1) {
        char buf[64];
        snprintf(path, sizeof path, "%s/cpuacct.usage", cg->dir[1]);
        if (read_text(path, buf, sizeof buf) != 0)
            return -1;
        x->cpu_s = (double)strtoull(buf, NULL, 10) / 1e9;
        /* rss counts every anonymous page, transparent huge pages included (rss_huge is a part
         * of it, not an addition) */
        snprintf(path, sizeof path, "%s/memory.stat", cg->dir[2]);
        x->mem_mb = read_keyed(path, "rss", &v) == 0 ? (double)v / 1048576.0 : -1;
    } else {
        snprintf(path, sizeof path, "%s/cpu.stat", cg->dir[0]);
        if (read_keyed(path, "usage_usec", &v) != 0)
            return -1;
        x->cpu_s = (double)v / 1e6;
        snprintf(path, sizeof path, "%s/memory.stat", cg->dir[0]);
        x->mem_mb = read_keyed(path, "anon", &v) == 0 ? (double)v / 1048576.0 : -1;
    }
    x->runnable = hb_tl_runnable(cg->dir[0], 0);
    return 0;
}

static int read_pid(pid_t pid, hb_tl_reading *x)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if (read_text(path, buf, sizeof buf) != 0)
        return -1;
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    x->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    unsigned long size, res;
    snprintf(path, sizeof path, "/proc/%ld/statm", (long)pid);
    x->mem_mb = read_text(path, buf, sizeof buf) == 0 && sscanf(buf, "%lu %lu", &size, &res) == 2
                    ? (double)res * (double)sysconf(_SC_PAGESIZE) / 1048576.0
                    : -1;
    x->runnable = runnable_of((long)pid);
    return 0;
}

int hb_tlrec_read(hb_tlrec *rec, const hb_cgroup *cg, pid_t pid, double now)
{
    hb_tl_reading x = {now, 0, -1, -1};
    if ((cg ? read_cgroup(cg, &x) : read_pid(pid, &x)) != 0)
        return -1;
    if (HB_GROW(rec->r, rec->cap, rec->n + 1) != HB_OK)
        return HB_ENOMEM;
    rec->r[rec->n++] = x;
    return 0;
}

void hb_tlrec_free(hb_tlrec *rec)
{
    if (!rec)
        return;
    free(rec->r);
    rec->r = NULL;
    rec->n = rec->cap = 0;
}

int hb_tlrec_spawn_run(hb_tlrec *rec, const hb_cgroup *cg, char *const argv[], int fine_ms,
                       size_t out_max, char **out, int *status, struct rusage *ru, hb_error *err)
{
    *out = NULL;
    *status = 0;
    memset(ru, 0, sizeof *ru);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return hb_fail(err, HB_EIO, "pipe: %s", strerror(errno));
    hb_spawn_fds fds = {-1, p[1], -1, -1};
    pid_t pid;
    rec->real0 = hb_clock_s(CLOCK_REALTIME);
    rec->mono0 = hb_clock_s(CLOCK_MONOTONIC);
    int rc = hb_cgroup_spawn_env(cg, argv, environ, NULL, &fds, &pid, err);
    close(p[1]);
    if (rc != HB_OK) {
        close(p[0]);
        return rc;
    }
    double fine = (fine_ms > 0 ? fine_ms : HB_TL_FINE_MS) / 1000.0;
    hb_dynbuf buf;
    hb_dyn_init(&buf, out_max);
    int lost = 0, eof = 0, reaped = 0;     /* lost: too large or out of memory; the rest is drained */
    double next = hb_clock_s(CLOCK_MONOTONIC);
    while (!reaped) {
        double now = hb_clock_s(CLOCK_MONOTONIC);
        if (now >= next) {
            if (hb_tlrec_read(rec, cg, pid, now) == HB_ENOMEM && rc == HB_OK)
                rc = hb_fail(err, HB_ENOMEM, "out of memory recording the timeline of %s", argv[0]);
            /* -1 (nothing readable: the process is exiting) only loses that reading */
            next += fine;
            if (next <= now)           /* behind (a long stall): skip the ticks already past */
                next = now + fine;
        }
        if (eof) {                     /* output complete: sample until the child has exited */
            pid_t w = wait4(pid, status, WNOHANG, ru);
            if (w == pid || (w < 0 && errno != EINTR)) {
                reaped = 1;
                break;
            }
        }
        int timeout = (int)ceil((next - hb_clock_s(CLOCK_MONOTONIC)) * 1000.0);
        if (timeout < 0)
            timeout = 0;
        if (eof) {
            struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        struct pollfd pfd = {p[0], POLLIN, 0};
        int pr = poll(&pfd, 1, timeout);
        if (pr < 0 && errno != EINTR) {
            rc = hb_fail(err, HB_EIO, "poll: %s", strerror(errno));
            eof = 1;
        } else if (pr > 0) {
            char chunk[65536];
            ssize_t r = read(p[0], chunk, sizeof chunk);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                eof = 1;
            } else if (!lost && hb_dyn_addn(&buf, chunk, (size_t)r) != HB_OK) {
                lost = 1;
                hb_dyn_free(&buf);
            }
        }
    }
    close(p[0]);
    rec->mono_exit = hb_clock_s(CLOCK_MONOTONIC);
    /* a long gap (this process not scheduled, a slow read) flattens the samples inside it */
    for (size_t i = 1; i < rec->n; i++)
        rec->max_gap_s = fmax(rec->max_gap_s, rec->r[i].t - rec->r[i - 1].t);
    /* a group keeps its counters after its last process exits: the final cumulative CPU */
    if (cg)
        if (hb_tlrec_read(rec, cg, pid, rec->mono_exit) == HB_ENOMEM && rc == HB_OK)
            rc = hb_fail(err, HB_ENOMEM, "out of memory recording the timeline of %s", argv[0]);
    if (!lost && !(*out = hb_dyn_take(&buf, NULL)))
        lost = 1;
    if (lost)
        return rc == HB_OK ? hb_fail(err, HB_ENOMEM, "the output of %s is too large or out of "
                                     "memory", argv[0]) : rc;
    return rc;
}

/* Cumulative CPU at time t: linear between the readings around it, constant outside them. */
static double cpu_at(const hb_tl_reading *r, size_t n, double t)
{
    if (t <= r[0].t)
        return r[0].cpu_s;
    if (t >= r[n - 1].t)
        return r[n - 1].cpu_s;
    size_t lo = 0, hi = n - 1;         /* r[lo].t < t <= r[hi].t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].t < t)
            lo = mid;
        else
            hi = mid;
    }
    double span = r[hi].t - r[lo].t;
    double f = span > 0 ? (t - r[lo].t) / span : 1;
    return r[lo].cpu_s + f * (r[hi].cpu_s - r[lo].cpu_s);
}

/* The last reading at or before t (the first when none is). */
static const hb_tl_reading *reading_at(const hb_tl_reading *r, size_t n, double t)
{
    const hb_tl_reading *best = &r[0];
    for (size_t i = 0; i < n && r[i].t <= t + 1e-9; i++)
        best = &r[i];
    return best;
}

int hb_tl_aggregate(const hb_tl_reading *r, size_t n, double start, double end, int period_ms,
                    hb_tl_row **rows, size_t *nrows, hb_error *err)
{
    *rows = NULL;
    *nrows = 0;
    if (n == 0)
        return hb_fail(err, HB_ERUN, "timeline: no usage readings");
    if (!(end > start) || period_ms <= 0)
        return hb_fail(err, HB_ERUN, "timeline: an empty interval (%.6f to %.6f s)", start, end);
    double total_ms = (end - start) * 1000.0;
    int64_t nfull = (int64_t)floor(total_ms / period_ms);
    int64_t rem = llround(total_ms - (double)nfull * period_ms);
    if (rem >= period_ms) {            /* rounding reached a whole period */
        nfull++;
        rem = 0;
    }
    int64_t ns = nfull + (rem >= 1 ? 1 : 0);
    if (ns == 0)                       /* under 1 ms: one sample of 1 ms */
        ns = 1;
    hb_tl_row *o = calloc((size_t)ns, sizeof *o);
    if (!o)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    for (int64_t k = 0; k < ns; k++) {
        hb_tl_row *x = &o[k];
        x->t_ms = k * period_ms;
        int last = k == ns - 1;
        x->dt_ms = !last ? period_ms : rem >= 1 ? rem : nfull > 0 ? period_ms : 1;
        double a = start + (double)x->t_ms / 1000.0;
        double b = last ? end : a + period_ms / 1000.0;   /* the last one ends at the end exactly */
        double c = b > a ? (cpu_at(r, n, b) - cpu_at(r, n, a)) / (b - a) : 0;
        x->cpu_cores = c > 0 ? c : 0;
        const hb_tl_reading *m = reading_at(r, n, b);
        x->mem_mb = m->mem_mb > 0 ? m->mem_mb : 0;
        x->runnable = m->runnable;
    }
    *rows = o;
    *nrows = (size_t)ns;
    return HB_OK;
}

int hb_tlrec_timeline(const hb_tlrec *rec, double start_epoch, double wall_s, hb_tl_row **rows,
                      size_t *nrows, hb_error *err)
{
    double start = rec->mono0;
    if (!isnan(start_epoch) && start_epoch >= rec->real0)
        start = rec->mono0 + (start_epoch - rec->real0);
    if (start + wall_s > rec->mono_exit)   /* a clock step: keep the interval within the run */
        start = fmax(rec->mono0, rec->mono_exit - wall_s);
    return hb_tl_aggregate(rec->r, rec->n, start, start + wall_s, HB_TL_PERIOD_MS, rows, nrows, err);
}

int hb_tl_write_run(FILE *f, const char *function_id, int64_t size, double cpu_limit, int repeat,
                    const hb_tl_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fprintf(f, "%s,%lld,%g,%d,%lld,%lld,%.3f,%.2f,%d\n", function_id, (long long)size,
                    cpu_limit, repeat, (long long)rows[i].t_ms, (long long)rows[i].dt_ms,
                    rows[i].cpu_cores, rows[i].mem_mb, rows[i].runnable) < 0)
            return -1;
    return 0;
}

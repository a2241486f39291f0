/* executor.c - the local executor (see executor.h). */
#define _GNU_SOURCE
#include "executor.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "dynbuf.h"
#include "clock.h"

#define MB (1024.0 * 1024.0)

enum { C_STARTING, C_IDLE, C_BUSY };
enum { K_NONE, K_TIMEOUT, K_OOM, K_PROTOCOL, K_INIT_TIMEOUT };

typedef struct ctr {
    uint64_t id;
    int pool;
    char *key;
    int state;
    pid_t pid;                         /* 0 once reaped */
    int status;                        /* wait status, once reaped */
    struct rusage ru;                  /* ... and its rusage */
    int pidfd, req_fd, res_fd, log_fd;
    hb_cgroup cg;
    int has_cg;
    char pids_dir[HB_CGROUP_PATH_MAX + 80];   /* its group of the pids controller; "" none */
    hb_dynbuf res;                     /* what came on fd 3 and is not a full line yet (bounded) */
    char *wreq;                        /* the request line being written */
    size_t wlen, woff;
    int send_pending;                  /* write the call's request on the next loop */
    int oneshot;                       /* one process per call (dockerskeleton), else ActionLoop */
    int launch_pending;                /* one-shot: start the call's process on the next loop */
    double mem_limit;                  /* MB, its current limit */
    int64_t t_spawn, t_idle;
    int kill_reason;                   /* K_*: why the executor killed it */
    int64_t t_kill;
    char kill_msg[200];
    hb_exec_call *call;
    struct ctr *prev, *next;
} ctr;

struct hb_exec_call {
    uint64_t id;
    ctr *c;
    char *request;
    char *path;
    char **env;                        /* NULL: inherit */
    char *dir;
    int64_t timeout_ns;
    hb_exec_events ev;
    int cold;
    int running;
    int64_t t_assigned, t_running, deadline;
    uint64_t cpu0;                     /* container CPU ns at assignment */
    int64_t oom0;                      /* its OOM kills at assignment */
    int kernel_peak;                   /* the group's peak counts from the assignment */
    double peak_sampled;
    hb_dynbuf logs;                    /* bounded by max_log */
    size_t logs_out;                   /* one-shot: leading bytes of logs from standard output */
    struct hb_exec_call *prev, *next;
};

typedef struct pool {
    hb_cgroup cg;
    int has_cg;
} pool;

struct hb_exec {
    hb_exec_opts o;
    pool *pools;
    int npools;
    ctr *ctrs;
    hb_exec_call *calls;
    size_t ncalls;
    uint64_t next_id;
    int wake_fd;
    char pids_root[HB_CGROUP_PATH_MAX];   /* where containers' pids groups go; "" none */
    int subreaper;                     /* orphans of actions are this process's to reap */
    long clk_tck;
    long page;
};

int64_t hb_exec_now(void) { return hb_mono_ns(); }

const char *hb_exec_status_name(hb_exec_status s)
{
    static const char *const names[] = {"ok", "application error", "crash", "timeout", "oom",
                                        "aborted"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* ---- /proc readings (limits off) ---- */

static int proc_cpu_ns(const hb_exec *ex, pid_t pid, uint64_t *ns)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return -1;
    text[n] = '\0';
    char *p = strrchr(text, ')');      /* the command name may hold spaces and parentheses */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    *ns = (uint64_t)((ut + st) * (1000000000.0 / (double)ex->clk_tck));
    return 0;
}

static int proc_mem(const hb_exec *ex, pid_t pid, double *rss_mb, double *hwm_mb)
{
    char path[64], text[4096];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    unsigned long size, res;
    if (n <= 0)
        return -1;
    text[n] = '\0';
    if (sscanf(text, "%lu %lu", &size, &res) != 2)
        return -1;
    *rss_mb = (double)res * (double)ex->page / MB;
    *hwm_mb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        n = read(fd, text, sizeof text - 1);
        close(fd);
        if (n > 0) {
            text[n] = '\0';
            char *h = strstr(text, "VmHWM:");
            if (h)
                *hwm_mb = strtod(h + 6, NULL) / 1024.0;
        }
    }
    return 0;
}

/* ---- containers ---- */

static ctr *ctr_find(hb_exec *ex, uint64_t id)
{
    for (ctr *c = ex->ctrs; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

/* Writes `value` to dir/name; 0 or -1 (errno). */
static int write_file(const char *dir, const char *name, const char *value)
{
    char path[HB_CGROUP_PATH_MAX + 120];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, value, strlen(value));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* Kills every process in the group directory `dir` but `keep`, until none is left (a task leaves
 * cgroup.procs when it exits) or 2 s pass; returns how many remain. */
static int kill_group_rest(const char *dir, pid_t keep)
{
    char path[HB_CGROUP_PATH_MAX + 100];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    int left = 0;
    for (int round = 0; round < 2000; round++) {
        FILE *f = fopen(path, "r");
        if (!f)
            return 0;
        long pid;
        left = 0;
        while (fscanf(f, "%ld", &pid) == 1)
            if ((pid_t)pid != keep && pid > 0) {
                kill((pid_t)pid, SIGKILL);
                left++;
            }
        fclose(f);
        if (!left)
            return 0;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return left;
}

/* What is left of a container's processes but `keep` dies (its group and its pids group). */
static void ctr_kill_rest(ctr *c, pid_t keep)
{
    if (c->pids_dir[0])
        kill_group_rest(c->pids_dir, keep);
    if (c->has_cg)
        kill_group_rest(c->cg.dir[0], keep);
}

/* Reaps the zombies of processes that are not containers: orphans of actions, which came to this
 * process (a subreaper; PID 1 may never reap them, and the pids controller counts zombies). */
static void reap_orphans(hb_exec *ex)
{
    if (!ex->subreaper)
        return;
    for (int i = 0; i < 100000; i++) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
            return;
        for (const ctr *c = ex->ctrs; c; c = c->next)
            if (c->pid == si.si_pid)
                return;                /* a container's: ctr_reap collects it, with its status */
        waitpid(si.si_pid, NULL, WNOHANG);
    }
}

static void ctr_reap(ctr *c)
{
    if (c->pid <= 0)
        return;
    kill(c->pid, SIGKILL);             /* a no-op for a process already dead */
    pid_t r;
    do
        r = wait4(c->pid, &c->status, 0, &c->ru);
    while (r < 0 && errno == EINTR);
    c->pid = 0;
}

/* Kills, reaps and removes a container and its group. */
static void ctr_retire(hb_exec *ex, ctr *c)
{
    close_fd(&c->req_fd);
    close_fd(&c->res_fd);
    close_fd(&c->log_fd);
    ctr_reap(c);
    close_fd(&c->pidfd);
    /* its other processes die and their zombies are reaped first: a group that still charges a
     * zombie cannot be removed (hb_cgroup_remove would wait up to 2 s for it) */
    ctr_kill_rest(c, 0);
    reap_orphans(ex);
    if (c->has_cg) {
        hb_error err;
        if (hb_cgroup_remove(&c->cg, &err) != HB_OK)
            fprintf(stderr, "harvestbench: local executor: %s\n", err.msg);
    }
    if (c->pids_dir[0]) {
        kill_group_rest(c->pids_dir, 0);
        if (rmdir(c->pids_dir) != 0 && errno != ENOENT)
            fprintf(stderr, "harvestbench: local executor: %s: %s\n", c->pids_dir, strerror(errno));
        c->pids_dir[0] = '\0';
    }
    reap_orphans(ex);
    if (c->prev)
        c->prev->next = c->next;
    else
        ex->ctrs = c->next;
    if (c->next)
        c->next->prev = c->prev;
    hb_dyn_free(&c->res);
    free(c->wreq);
    free(c->key);
    free(c);
}

static int ctr_set_limits(ctr *c, const hb_exec_limits *l, hb_error *err)
{
    int rc = hb_cgroup_set_cpu(&c->cg, l->cpu, err);
    if (!rc)
        rc = hb_cgroup_set_weight(&c->cg, l->shares > 0 ? l->shares : 1024, err);
    if (!rc)
        rc = hb_cgroup_set_memory(&c->cg, l->mem_mb, err);
    return rc;
}

/* A new container record with its group (and limits). */
static int ctr_new(hb_exec *ex, int pool_id, const char *key, int oneshot, const hb_exec_limits *l,
                   ctr **out, hb_error *err)
{
    ctr *c = calloc(1, sizeof *c);
    char *k = strdup(key);
    if (!c || !k) {
        free(c);
        free(k);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    c->id = ++ex->next_id;
    c->pool = pool_id;
    c->key = k;
    c->oneshot = oneshot;
    /* a one-shot process's whole output, or an ActionLoop result line and its newline */
    size_t max = ex->o.max_result ? ex->o.max_result : (16u << 20);
    hb_dyn_init(&c->res, oneshot ? max : max + 1);
    c->pidfd = c->req_fd = c->res_fd = c->log_fd = -1;
    c->mem_limit = l->mem_mb;
    c->next = ex->ctrs;
    if (ex->ctrs)
        ex->ctrs->prev = c;
    ex->ctrs = c;
    int rc = HB_OK;
    if (ex->o.limits) {
        pool *p = &ex->pools[pool_id];
        rc = hb_cgroup_create_in(&c->cg, p->has_cg ? &p->cg : NULL, err);
        if (!rc) {
            c->has_cg = 1;
            rc = ctr_set_limits(c, l, err);
        }
        if (!rc && ex->pids_root[0]) {  /* named like its other groups, for sweeps */
            snprintf(c->pids_dir, sizeof c->pids_dir, "%s/%s", ex->pids_root, c->cg.name);
            char v[32];
            snprintf(v, sizeof v, "%ld", ex->o.pids_max);
            if (mkdir(c->pids_dir, 0755) != 0) {
                rc = hb_fail(err, HB_EIO, "local executor: %s: %s", c->pids_dir, strerror(errno));
                c->pids_dir[0] = '\0';
            } else if (write_file(c->pids_dir, "pids.max", v) != 0) {
                rc = hb_fail(err, HB_EIO, "local executor: %s/pids.max: %s", c->pids_dir,
                             strerror(errno));
            }
        }
    }
    if (rc) {
        ctr_retire(ex, c);
        return rc;
    }
    *out = c;
    return HB_OK;
}

/* Starts the container's process in its group: argv, with __OW_WAIT_FOR_ACK=1 added to the
 * environment when ack. Standard input is a socket (requests), fd 3 the result pipe (ActionLoop;
 * for one-shot processes their standard output is), standard error (and output) the log pipe. */
static int ctr_launch(hb_exec *ex, ctr *c, char *const argv[], char *const *env, const char *dir,
                      int ack, hb_error *err)
{
    extern char **environ;
    char *const *base = env ? env : environ;
    int sv[2] = {-1, -1}, rp[2] = {-1, -1}, lp[2] = {-1, -1};
    int rc = HB_OK;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 || pipe2(rp, O_CLOEXEC) != 0 ||
        pipe2(lp, O_CLOEXEC) != 0)
        rc = hb_fail(err, HB_EIO, "local executor: pipes: %s", strerror(errno));
    size_t ne = 0;
    while (base && base[ne])
        ne++;
    char **envp = rc ? NULL : malloc((ne + 2) * sizeof *envp);
    if (!rc && !envp)
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
    if (!rc) {
        size_t j = 0;
        for (size_t i = 0; i < ne; i++)
            if (strncmp(base[i], "__OW_WAIT_FOR_ACK=", 18) != 0)
                envp[j++] = base[i];
        if (ack)
            envp[j++] = "__OW_WAIT_FOR_ACK=1";
        envp[j] = NULL;
        hb_spawn_fds fds = c->oneshot ? (hb_spawn_fds){sv[1], rp[1], lp[1], -1}
                                      : (hb_spawn_fds){sv[1], lp[1], lp[1], rp[1]};
        c->t_spawn = hb_exec_now();
        hb_spawn_as as = {-1, ex->o.run_as, ex->o.uid, ex->o.gid};
        if (c->pids_dir[0]) {
            char p[sizeof c->pids_dir + 16];
            snprintf(p, sizeof p, "%s/cgroup.procs", c->pids_dir);
            if ((as.procs_fd = open(p, O_WRONLY | O_CLOEXEC)) < 0)
                rc = hb_fail(err, HB_EIO, "local executor: %s: %s", p, strerror(errno));
        }
        if (!rc)
            rc = hb_cgroup_spawn_as(c->has_cg ? &c->cg : NULL, &as, argv, envp, dir, &fds, &c->pid,
                                    err);
        if (as.procs_fd >= 0)
            close(as.procs_fd);
    }
    free(envp);
    close_fd(&sv[1]);                  /* the child's ends */
    close_fd(&rp[1]);
    close_fd(&lp[1]);
    c->req_fd = sv[0];
    c->res_fd = rp[0];
    c->log_fd = lp[0];
    if (rc) {
        close_fd(&c->req_fd);
        close_fd(&c->res_fd);
        close_fd(&c->log_fd);
        c->pid = 0;
        return rc;
    }
    set_nonblock(c->req_fd);
    set_nonblock(c->res_fd);
    set_nonblock(c->log_fd);
    c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);   /* -1 before Linux 5.3 */
    c->kill_reason = K_NONE;
    return HB_OK;
}

/* An ActionLoop container: a new group and its process, ready when it acknowledges. */
static int ctr_spawn(hb_exec *ex, const hb_exec_spec *s, ctr **out, hb_error *err)
{
    ctr *c;
    int rc = ctr_new(ex, s->pool, s->key, 0, &s->limits, &c, err);
    if (rc)
        return rc;
    char *argv[] = {(char *)s->path, NULL};
    if ((rc = ctr_launch(ex, c, argv, s->env, s->dir, 1, err))) {
        ctr_retire(ex, c);
        return rc;
    }
    c->state = C_STARTING;
    *out = c;
    return HB_OK;
}

/* ---- calls ---- */

typedef struct reading {
    uint64_t cpu_ns;                   /* the container's, absolute */
    double mem_mb, peak_mb;            /* peak: the group's or the process's (< 0: none) */
    int64_t oom;                       /* -1: unknown */
} reading;

static int ctr_read(hb_exec *ex, ctr *c, reading *r, hb_error *err)
{
    memset(r, 0, sizeof *r);
    r->peak_mb = -1;
    r->oom = -1;
    if (c->has_cg) {
        hb_cgroup_usage u;
        int rc = hb_cgroup_usage_read(&c->cg, &u, err);
        if (rc)
            return rc;
        r->cpu_ns = u.cpu_ns;
        r->mem_mb = (double)u.mem_bytes / MB;
        r->peak_mb = u.mem_peak_bytes >= 0 ? (double)u.mem_peak_bytes / MB : -1;
        r->oom = u.oom_kills;
        return HB_OK;
    }
    if (c->pid > 0 && proc_cpu_ns(ex, c->pid, &r->cpu_ns) == 0 &&
        proc_mem(ex, c->pid, &r->mem_mb, &r->peak_mb) == 0)
        return HB_OK;
    /* dead (or not readable): what wait4 reported */
    r->cpu_ns = (uint64_t)c->ru.ru_utime.tv_sec * 1000000000u + (uint64_t)c->ru.ru_utime.tv_usec * 1000u +
                (uint64_t)c->ru.ru_stime.tv_sec * 1000000000u + (uint64_t)c->ru.ru_stime.tv_usec * 1000u;
    r->peak_mb = c->ru.ru_maxrss > 0 ? (double)c->ru.ru_maxrss / 1024.0 : -1;
    return HB_OK;
}

static void call_unlink(hb_exec *ex, hb_exec_call *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        ex->calls = k->next;
    if (k->next)
        k->next->prev = k->prev;
    ex->ncalls--;
}

static void call_free(hb_exec_call *k)
{
    free(k->request);
    free(k->path);
    for (size_t i = 0; k->env && k->env[i]; i++)
        free(k->env[i]);
    free(k->env);
    free(k->dir);
    hb_dyn_free(&k->logs);
    free(k);
}

/* Ends the call of container c: reads its last usage, settles the container (idle when keep,
 * else removed), then calls on_done. */
static int call_finish(hb_exec *ex, ctr *c, hb_exec_status st, const char *msg, const char *line,
                       int64_t t_end, int keep, hb_error *err)
{
    hb_exec_call *k = c->call;
    reading rd;
    hb_error ignored;
    hb_exec_result r;
    memset(&r, 0, sizeof r);
    r.mem_peak_mb = -1;
    if (ctr_read(ex, c, &rd, &ignored) == HB_OK) {
        r.cpu_ns = rd.cpu_ns > k->cpu0 ? rd.cpu_ns - k->cpu0 : 0;
        if (k->kernel_peak && rd.peak_mb >= 0)
            r.mem_peak_mb = rd.peak_mb;
        if (rd.mem_mb > k->peak_sampled && c->pid > 0)
            k->peak_sampled = rd.mem_mb;
    }
    if (r.mem_peak_mb < 0 || (!k->kernel_peak && k->peak_sampled > r.mem_peak_mb))
        r.mem_peak_mb = k->peak_sampled > 0 ? k->peak_sampled : r.mem_peak_mb;
    r.status = st;
    r.message = msg ? msg : "";
    r.result = line;
    r.logs = hb_dyn_str(&k->logs);
    r.logs_out = k->logs_out;
    r.cold = k->cold;
    r.t_assigned = k->t_assigned;
    r.t_running = k->running ? k->t_running : 0;
    r.t_end = t_end;
    c->call = NULL;
    k->c = NULL;
    call_unlink(ex, k);
    if (keep && ex->o.keep_alive_ns > 0 && (c->pid > 0 || c->oneshot)) {
        if (c->oneshot) {              /* the group stays warm, without a process */
            ctr_reap(c);
            close_fd(&c->req_fd);
            close_fd(&c->res_fd);
            close_fd(&c->log_fd);
            close_fd(&c->pidfd);
            hb_dyn_reset(&c->res);
            free(c->wreq);
            c->wreq = NULL;
            c->wlen = c->woff = 0;
        }
        ctr_kill_rest(c, c->oneshot ? 0 : c->pid);   /* nothing outlives its call */
        reap_orphans(ex);
        c->state = C_IDLE;
        c->t_idle = hb_exec_now();
    } else {
        ctr_retire(ex, c);
    }
    int rc = k->ev.on_done ? k->ev.on_done(k->ev.ctx, k, &r, err) : 0;
    call_free(k);
    return rc;
}

/* The last non-empty log line, for crash messages. */
static void last_line(const hb_dynbuf *b, char *out, size_t n)
{
    const char *s = hb_dyn_str(b);
    size_t end = hb_dyn_len(b);
    while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r'))
        end--;
    size_t start = end;
    while (start > 0 && s[start - 1] != '\n')
        start--;
    snprintf(out, n, "%.*s", (int)(end - start), s + start);
}

/* A one-shot process exited by itself: its result is the last non-empty line of its standard
 * output (the dockerskeleton contract), the lines before it join its logs. */
static int oneshot_end(hb_exec *ex, ctr *c, int64_t now, hb_error *err)
{
    hb_exec_call *k = c->call;
    const char *out = hb_dyn_str(&c->res);
    size_t n = hb_dyn_len(&c->res);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        n--;
    size_t b = n;
    while (b > 0 && out[b - 1] != '\n')
        b--;
    char *line = malloc(n - b + 1);
    if (!line)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    memcpy(line, out + b, n - b);
    line[n - b] = '\0';
    if (b > 0) {                       /* its other output lines come first in the logs */
        hb_dynbuf merged;
        hb_dyn_init(&merged, k->logs.max);
        int clipped = 0;               /* the logs are bounded: what is past the bound is dropped */
        int rc = hb_dyn_addn_clip(&merged, out, b, &clipped);
        k->logs_out = hb_dyn_len(&merged);
        if (rc == HB_OK)
            rc = hb_dyn_addn_clip(&merged, hb_dyn_str(&k->logs), hb_dyn_len(&k->logs), &clipped);
        if (rc != HB_OK) {
            hb_dyn_free(&merged);
            free(line);
            return hb_fail(err, HB_ENOMEM, "out of memory");
        }
        hb_dyn_free(&k->logs);
        k->logs = merged;
    }
    cJSON *j = cJSON_ParseWithLength(line, n - b);
    hb_exec_status st;
    char msg[300] = "";
    if (!cJSON_IsObject(j)) {
        st = HB_EXEC_CRASH;
        char tail[160];
        last_line(&k->logs, tail, sizeof tail);
        if (WIFSIGNALED(c->status))
            snprintf(msg, sizeof msg, "the process was killed by signal %d (%s)%s%.150s",
                     WTERMSIG(c->status), strsignal(WTERMSIG(c->status)), *tail ? ": " : "", tail);
        else
            snprintf(msg, sizeof msg, "the last line of output is not a JSON object (exit status "
                     "%d): %.200s", WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1,
                     *line ? line : tail);
    } else {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        st = e ? HB_EXEC_APP_ERROR : HB_EXEC_OK;
        if (e)
            snprintf(msg, sizeof msg, "%.250s", cJSON_IsString(e) ? e->valuestring : "an error");
    }
    cJSON_Delete(j);
    int rc = call_finish(ex, c, st, msg, st == HB_EXEC_CRASH ? NULL : line, now,
                         st != HB_EXEC_CRASH, err);
    free(line);
    return rc;
}

/* The container's process is gone (or must be): reap it, end its call with what killed it. */
static int ctr_dead(hb_exec *ex, ctr *c, hb_error *err)
{
    int64_t now = hb_exec_now();
    reading rd;
    hb_error ignored;
    int64_t oom = -1;
    if (c->has_cg && ctr_read(ex, c, &rd, &ignored) == HB_OK)
        oom = rd.oom;
    ctr_reap(c);
    hb_exec_call *k = c->call;
    if (!k) {
        ctr_retire(ex, c);
        return HB_OK;
    }
    char msg[400], tail[160];
    last_line(&k->logs, tail, sizeof tail);
    hb_exec_status st = HB_EXEC_CRASH;
    int64_t t_end = now;
    if (c->kill_reason == K_TIMEOUT || c->kill_reason == K_INIT_TIMEOUT) {
        st = HB_EXEC_TIMEOUT;
        t_end = c->t_kill;
        snprintf(msg, sizeof msg, "%s", c->kill_msg);
    } else if (c->kill_reason == K_OOM) {
        st = HB_EXEC_OOM;
        t_end = c->t_kill;
        snprintf(msg, sizeof msg, "%s", c->kill_msg);
    } else if (oom > k->oom0 && k->oom0 >= 0) {
        st = HB_EXEC_OOM;
        snprintf(msg, sizeof msg, "killed by the kernel at its memory limit of %.0f MB",
                 c->mem_limit);
    } else if (c->kill_reason == K_PROTOCOL) {
        snprintf(msg, sizeof msg, "%s", c->kill_msg);
    } else if (c->oneshot && k->running) {
        return oneshot_end(ex, c, now, err);
    } else {
        const char *phase = k->running ? "" : " while starting";
        if (WIFSIGNALED(c->status))
            snprintf(msg, sizeof msg, "the process was killed by signal %d (%s)%s%s%s",
                     WTERMSIG(c->status), strsignal(WTERMSIG(c->status)), phase, *tail ? ": " : "",
                     tail);
        else
            snprintf(msg, sizeof msg, "the process exited with status %d%s%s%s",
                     WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1, phase, *tail ? ": " : "",
                     tail);
    }
    return call_finish(ex, c, st, msg, NULL, t_end, 0, err);
}

static void ctr_kill(ctr *c, int reason, const char *msg)
{
    if (c->kill_reason != K_NONE)
        return;
    c->kill_reason = reason;
    c->t_kill = hb_exec_now();
    snprintf(c->kill_msg, sizeof c->kill_msg, "%s", msg);
    if (c->pid > 0)
        kill(c->pid, SIGKILL);
}

/* Writes what is left of the request; when done, the call runs. */
static int ctr_send(hb_exec *ex, ctr *c, hb_error *err)
{
    (void)ex;
    while (c->woff < c->wlen) {
        ssize_t n = send(c->req_fd, c->wreq + c->woff, c->wlen - c->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->woff += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return HB_OK;              /* the rest when the socket drains (POLLOUT) */
        } else {
            ctr_kill(c, K_PROTOCOL, "the action closed its standard input");
            free(c->wreq);
            c->wreq = NULL;
            c->wlen = c->woff = 0;
            return HB_OK;              /* its death ends the call */
        }
    }
    free(c->wreq);
    c->wreq = NULL;
    c->wlen = c->woff = 0;
    if (c->oneshot) {                  /* the parameters are in: end of its input */
        shutdown(c->req_fd, SHUT_WR);
        return HB_OK;
    }
    hb_exec_call *k = c->call;
    if (!k)
        return HB_OK;
    k->running = 1;
    k->t_running = hb_exec_now();
    k->deadline = k->timeout_ns > 0 ? k->t_running + k->timeout_ns : 0;
    return k->ev.on_running ? k->ev.on_running(k->ev.ctx, k, k->t_running, err) : 0;
}

/* Queues the call's request for writing on the next loop. */
static int ctr_queue_request(ctr *c)
{
    size_t n = strlen(c->call->request);
    char *w = malloc(n + 2);
    if (!w)
        return -1;
    memcpy(w, c->call->request, n);
    w[n] = '\n';
    w[n + 1] = '\0';
    free(c->wreq);
    c->wreq = w;
    c->wlen = n + 1;
    c->woff = 0;
    c->send_pending = 1;
    return 0;
}

#define ARGV_MAX_PARAMS (64 * 1024)    /* larger parameters go on stdin (MAX_ARG_STRLEN: 128 KiB) */

/* Starts a one-shot call's process: the parameters as argv[1], or on its standard input when
 * large; the call runs from here. A process that cannot start ends the call as a crash. */
static int oneshot_launch(hb_exec *ex, ctr *c, hb_error *err)
{
    hb_exec_call *k = c->call;
    size_t n = strlen(k->request);
    int big = n > ARGV_MAX_PARAMS;
    char *argv[] = {k->path, big ? NULL : k->request, NULL};
    hb_error e2;
    hb_dyn_reset(&c->res);
    c->kill_reason = K_NONE;
    memset(&c->ru, 0, sizeof c->ru);
    if (!c->has_cg)
        k->cpu0 = 0;                   /* a new process: /proc counts from zero */
    if (ctr_launch(ex, c, argv, k->env, k->dir, 0, &e2) != HB_OK) {
        char m[400];
        snprintf(m, sizeof m, "the action could not start: %.350s", e2.msg);
        return call_finish(ex, c, HB_EXEC_CRASH, m, NULL, hb_exec_now(), 0, err);
    }
    if (big) {
        char *w = strdup(k->request);
        if (!w)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        c->wreq = w;
        c->wlen = n;
        c->woff = 0;
        int rc = ctr_send(ex, c, err);
        if (rc)
            return rc;
    } else {
        shutdown(c->req_fd, SHUT_WR);
    }
    k->running = 1;
    k->t_running = hb_exec_now();
    k->deadline = k->timeout_ns > 0 ? k->t_running + k->timeout_ns : 0;
    return k->ev.on_running ? k->ev.on_running(k->ev.ctx, k, k->t_running, err) : 0;
}

/* A one-shot process's standard output, kept whole (bounded); *eof when it closed. */
static void ctr_output(ctr *c, int *eof)
{
    char chunk[65536];
    *eof = 0;
    for (;;) {
        ssize_t n = read(c->res_fd, chunk, sizeof chunk);
        if (n > 0) {
            int clipped = 0;
            if (hb_dyn_addn_clip(&c->res, chunk, (size_t)n, &clipped) != HB_OK)
                ctr_kill(c, K_PROTOCOL, "out of memory holding the action's output");
            else if (clipped)
                ctr_kill(c, K_PROTOCOL, "the action's output is longer than the executor accepts");
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            *eof = 1;
        return;
    }
}

/* One complete line from fd 3. */
static int ctr_line(hb_exec *ex, ctr *c, char *line, hb_error *err)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (c->state == C_STARTING) {
        cJSON *j = cJSON_Parse(line);
        int ok = j && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"));
        cJSON_Delete(j);
        if (!ok) {
            char m[200];
            snprintf(m, sizeof m, "the action's first line on fd 3 was not {\"ok\":true}: %.100s", line);
            ctr_kill(c, K_PROTOCOL, m);
            return HB_OK;
        }
        if (!c->call) {                /* its call was aborted meanwhile */
            c->state = C_IDLE;
            c->t_idle = hb_exec_now();
            return HB_OK;
        }
        c->state = C_BUSY;
        if (ctr_queue_request(c))
            return hb_fail(err, HB_ENOMEM, "out of memory");
        return HB_OK;
    }
    if (c->state != C_BUSY || !c->call || !c->call->running) {
        ctr_kill(c, K_PROTOCOL, "the action wrote a result line without a request");
        return HB_OK;
    }
    int64_t now = hb_exec_now();
    cJSON *j = cJSON_ParseWithLength(line, n);
    hb_exec_status st;
    char msg[300] = "";
    if (!cJSON_IsObject(j)) {
        st = HB_EXEC_CRASH;
        snprintf(msg, sizeof msg, "the result is not a JSON object: %.200s", line);
    } else {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        st = e ? HB_EXEC_APP_ERROR : HB_EXEC_OK;
        if (e)
            snprintf(msg, sizeof msg, "%.250s", cJSON_IsString(e) ? e->valuestring : "an error");
    }
    cJSON_Delete(j);
    return call_finish(ex, c, st, msg, line, now, st == HB_EXEC_OK || st == HB_EXEC_APP_ERROR, err);
}

/* Reads fd 3 and handles every complete line; *gone when the container no longer exists (its call
 * may have ended and a callback removed it), *eof when the pipe closed. */
static int ctr_results(hb_exec *ex, uint64_t id, int *eof, hb_error *err)
{
    *eof = 0;
    ctr *c = ctr_find(ex, id);
    if (!c || c->res_fd < 0)
        return HB_OK;
    char chunk[65536];
    for (;;) {
        ssize_t n = read(c->res_fd, chunk, sizeof chunk);
        if (n > 0) {
            int clipped = 0;
            if (hb_dyn_addn_clip(&c->res, chunk, (size_t)n, &clipped) != HB_OK)
                return hb_fail(err, HB_ENOMEM, "out of memory");
            if (clipped) {
                ctr_kill(c, K_PROTOCOL, "the result line is longer than the executor accepts");
                hb_dyn_reset(&c->res);
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            *eof = 1;
        break;
    }
    /* lines, one at a time: a callback may start, kill or free containers */
    for (;;) {
        c = ctr_find(ex, id);
        if (!c || !hb_dyn_len(&c->res))
            return HB_OK;
        const char *s = hb_dyn_str(&c->res);
        const char *nl = memchr(s, '\n', hb_dyn_len(&c->res));
        if (!nl)
            return HB_OK;
        size_t len = (size_t)(nl - s);
        char *line = malloc(len + 1);
        if (!line)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        memcpy(line, s, len);
        line[len] = '\0';
        hb_dyn_tail(&c->res, hb_dyn_len(&c->res) - len - 1);
        int rc = len ? ctr_line(ex, c, line, err) : HB_OK;
        free(line);
        if (rc)
            return rc;
    }
}

static void ctr_logs(ctr *c)
{
    char chunk[16384];
    for (;;) {
        ssize_t n = read(c->log_fd, chunk, sizeof chunk);
        if (n > 0) {
            int clipped = 0;           /* the logs are bounded: what is past max_log is dropped */
            if (c->call && hb_dyn_addn_clip(&c->call->logs, chunk, (size_t)n, &clipped) != HB_OK)
                ctr_kill(c, K_PROTOCOL, "out of memory holding the action's logs");
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            close_fd(&c->log_fd);
        return;
    }
}

/* ---- public ---- */

/* The v1 pids hierarchy's group of this process (/proc/self/cgroup), where containers' pids
 * groups go; "" when there is none (v2, or no pids controller). */
static void pids_root_find(char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
        if (!b || (size_t)(b - a - 1) != 4 || strncmp(a + 1, "pids", 4) != 0)
            continue;
        b[1 + strcspn(b + 1, "\n")] = '\0';
        char dir[HB_CGROUP_PATH_MAX];
        snprintf(dir, sizeof dir, "/sys/fs/cgroup/pids%s", strcmp(b + 1, "/") ? b + 1 : "");
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            snprintf(out, n, "%s", dir);
    }
    fclose(f);
}

int hb_exec_new(const hb_exec_opts *o, hb_exec **out, hb_error *err)
{
    *out = NULL;
    if (o->limits) {
        int version;
        char why[512];
        if (!hb_cgroup_probe(&version, why, sizeof why))
            return hb_fail(err, HB_EIO, "local executor: %s", why);
    }
    hb_exec *ex = calloc(1, sizeof *ex);
    if (!ex)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    ex->o = *o;
    ex->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ex->wake_fd < 0) {
        free(ex);
        return hb_fail(err, HB_EIO, "local executor: eventfd: %s", strerror(errno));
    }
    if (o->limits && o->pids_max > 0)
        pids_root_find(ex->pids_root, sizeof ex->pids_root);
    /* untrusted actions: what they leave behind is reparented here, killed and reaped */
    if (o->run_as || o->pids_max > 0)
        ex->subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
    ex->clk_tck = sysconf(_SC_CLK_TCK);
    if (ex->clk_tck <= 0)
        ex->clk_tck = 100;
    ex->page = sysconf(_SC_PAGESIZE);
    if (ex->page <= 0)
        ex->page = 4096;
    *out = ex;
    return HB_OK;
}

int hb_exec_pool_add(hb_exec *ex, double cpu, double mem_mb, int *id, hb_error *err)
{
    pool *p = realloc(ex->pools, (size_t)(ex->npools + 1) * sizeof *p);
    if (!p)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    ex->pools = p;
    p = &ex->pools[ex->npools];
    memset(p, 0, sizeof *p);
    if (ex->o.limits) {
        int rc = hb_cgroup_create(&p->cg, err);
        if (rc)
            return rc;
        p->has_cg = 1;
        ex->npools++;                  /* from here on hb_exec_free removes it */
        /* it competes with the rest of the machine like `cpu` busy processes, or without a quota
         * like one per CPU (one group alone would weigh as one process, whatever it holds) */
        cpu_set_t set;
        int ncpu = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
        if ((rc = hb_cgroup_set_cpu(&p->cg, cpu, err)) ||
            (rc = hb_cgroup_set_weight(&p->cg, 1024 * (cpu > 0 ? cpu : ncpu), err)) ||
            (rc = hb_cgroup_set_memory(&p->cg, mem_mb, err)))
            return rc;
    } else {
        ex->npools++;
    }
    *id = ex->npools - 1;
    return HB_OK;
}

static ctr *find_idle(const hb_exec *ex, int pool_id, const char *key, int oneshot)
{
    ctr *best = NULL;
    for (ctr *c = ex->ctrs; c; c = c->next)
        if (c->state == C_IDLE && c->pool == pool_id && c->kill_reason == K_NONE &&
            c->oneshot == oneshot && strcmp(c->key, key) == 0 && (!best || c->t_idle > best->t_idle))
            best = c;                  /* the most recently idle one */
    return best;
}

int hb_exec_call_cold(const hb_exec_call *k)
{
    return k->cold;
}

int hb_exec_has_idle(const hb_exec *ex, int pool_id, const char *key)
{
    return find_idle(ex, pool_id, key, 0) != NULL || find_idle(ex, pool_id, key, 1) != NULL;
}

double hb_exec_idle_mem(const hb_exec *ex, int pool_id)
{
    double m = 0;
    for (ctr *c = ex->ctrs; c; c = c->next)
        if (c->state == C_IDLE && c->pool == pool_id && c->kill_reason == K_NONE)
            m += c->mem_limit > 0 ? c->mem_limit : 0;
    return m;
}

int hb_exec_evict_lru(hb_exec *ex, int pool_id)
{
    ctr *lru = NULL;
    for (ctr *c = ex->ctrs; c; c = c->next)
        if (c->state == C_IDLE && c->pool == pool_id && (!lru || c->t_idle < lru->t_idle))
            lru = c;
    if (!lru)
        return 0;
    ctr_retire(ex, lru);
    return 1;
}

int hb_exec_forget(hb_exec *ex, const char *key)
{
    int n = 0;
    for (ctr *c = ex->ctrs, *next; c; c = next) {
        next = c->next;
        if (c->state == C_IDLE && strcmp(c->key, key) == 0) {
            ctr_retire(ex, c);
            n++;
        }
    }
    return n;
}

int hb_exec_start(hb_exec *ex, const hb_exec_spec *s, hb_exec_call **out, hb_error *err)
{
    *out = NULL;
    if (s->pool < 0 || s->pool >= ex->npools)
        return hb_fail(err, HB_ERUN, "local executor: no pool %d", s->pool);
    hb_exec_call *k = calloc(1, sizeof *k);
    if (k)
        hb_dyn_init(&k->logs, ex->o.max_log ? ex->o.max_log : 65536);
    int nomem = !k || !(k->request = strdup(s->request)) || !(k->path = strdup(s->path)) ||
                (s->dir && !(k->dir = strdup(s->dir)));
    if (!nomem && s->env) {
        size_t n = 0;
        while (s->env[n])
            n++;
        nomem = !(k->env = calloc(n + 1, sizeof *k->env));
        for (size_t i = 0; !nomem && i < n; i++)
            nomem = !(k->env[i] = strdup(s->env[i]));
    }
    if (nomem) {
        if (k)
            call_free(k);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    k->id = ++ex->next_id;
    k->timeout_ns = s->timeout_ns;
    k->ev = s->ev;
    k->t_assigned = hb_exec_now();
    ctr *c = find_idle(ex, s->pool, s->key, s->oneshot != 0);
    int rc = HB_OK;
    if (c && c->has_cg) {
        hb_error e2;
        if (ctr_set_limits(c, &s->limits, &e2) != HB_OK) {
            /* v1 refuses a memory limit below what the idle process holds: start afresh */
            ctr_retire(ex, c);
            c = NULL;
        }
    }
    if (c) {
        c->mem_limit = s->limits.mem_mb;
        c->state = C_BUSY;
        k->cold = 0;
    } else {
        k->cold = 1;
        rc = s->oneshot ? ctr_new(ex, s->pool, s->key, 1, &s->limits, &c, err)
                        : ctr_spawn(ex, s, &c, err);
        if (rc) {
            call_free(k);
            return rc;
        }
        if (s->oneshot)
            c->state = C_BUSY;
    }
    c->call = k;
    k->c = c;
    reading rd;
    hb_error ignored;
    k->oom0 = -1;
    if (ctr_read(ex, c, &rd, &ignored) == HB_OK) {
        k->cpu0 = k->cold ? 0 : rd.cpu_ns;
        k->oom0 = rd.oom;
    }
    if (k->cold) {
        k->kernel_peak = 1;            /* a new group, or a new process */
    } else if (c->has_cg) {
        k->kernel_peak = hb_cgroup_reset_peak(&c->cg) == 0;
    } else {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)c->pid);
        int fd = open(path, O_WRONLY | O_CLOEXEC);   /* 5: reset the peak resident set */
        k->kernel_peak = fd >= 0 && write(fd, "5", 1) == 1;
        if (fd >= 0)
            close(fd);
    }
    k->next = ex->calls;
    if (ex->calls)
        ex->calls->prev = k;
    ex->calls = k;
    ex->ncalls++;
    if (c->oneshot)
        c->launch_pending = 1;
    else if (!k->cold && ctr_queue_request(c))
        ctr_kill(c, K_PROTOCOL, "out of memory");   /* its end comes on the next loop */
    *out = k;
    return HB_OK;
}

int hb_exec_resize(hb_exec *ex, hb_exec_call *k, const hb_exec_limits *l, hb_error *err)
{
    (void)ex;
    ctr *c = k->c;
    if (!c)
        return hb_fail(err, HB_ERUN, "local executor: resize of a call that has ended");
    double old = c->mem_limit;
    c->mem_limit = l->mem_mb;
    if (!c->has_cg || c->kill_reason != K_NONE)
        return HB_OK;
    int rc = hb_cgroup_set_cpu(&c->cg, l->cpu, err);
    if (!rc)
        rc = hb_cgroup_set_weight(&c->cg, l->shares > 0 ? l->shares : 1024, err);
    if (rc)
        return rc;
    hb_error e2;
    if (hb_cgroup_set_memory(&c->cg, l->mem_mb, &e2) != HB_OK) {
        reading rd;
        hb_error ignored;
        if (l->mem_mb > 0 && ctr_read(ex, c, &rd, &ignored) == HB_OK && rd.mem_mb > l->mem_mb) {
            char m[200];
            snprintf(m, sizeof m, "memory limit lowered to %.0f MB below its usage of %.0f MB "
                     "(from %.0f MB)", l->mem_mb, rd.mem_mb, old);
            ctr_kill(c, K_OOM, m);
            return HB_OK;
        }
        *err = e2;
        return e2.code;
    }
    return HB_OK;
}

int hb_exec_usage_read(hb_exec *ex, hb_exec_call *k, hb_exec_usage *u, hb_error *err)
{
    ctr *c = k->c;
    memset(u, 0, sizeof *u);
    u->t = hb_exec_now();
    u->mem_peak_mb = -1;
    if (!c)
        return hb_fail(err, HB_ERUN, "local executor: usage of a call that has ended");
    reading rd;
    int rc = ctr_read(ex, c, &rd, err);
    if (rc)
        return rc;
    u->cpu_ns = rd.cpu_ns > k->cpu0 ? rd.cpu_ns - k->cpu0 : 0;
    u->mem_mb = rd.mem_mb;
    if (rd.mem_mb > k->peak_sampled)
        k->peak_sampled = rd.mem_mb;
    u->mem_peak_mb = k->kernel_peak && rd.peak_mb >= 0 ? rd.peak_mb : k->peak_sampled;
    return HB_OK;
}

/* Deadlines and pending writes; returns the next deadline (INT64_MAX: none). */
static int service(hb_exec *ex, int64_t *next, hb_error *err)
{
    for (;;) {
        int64_t now = hb_exec_now(), nd = INT64_MAX;
        ctr *act = NULL;
        for (ctr *c = ex->ctrs; c && !act; c = c->next) {
            hb_exec_call *k = c->call;
            if ((c->send_pending || c->launch_pending) && c->state == C_BUSY) {
                act = c;
                break;
            }
            int64_t d = INT64_MAX;
            if (c->kill_reason != K_NONE) {
                /* waiting for the process to die */
            } else if (k && k->running && k->deadline) {
                d = k->deadline;
            } else if (k && c->state == C_STARTING && k->timeout_ns > 0) {
                d = k->t_assigned + k->timeout_ns;
            } else if (!k && c->state == C_IDLE) {
                d = c->t_idle + ex->o.keep_alive_ns;
            }
            if (d <= now)
                act = c;
            else if (d < nd)
                nd = d;
        }
        if (!act) {
            *next = nd;
            return HB_OK;
        }
        if (act->launch_pending && act->state == C_BUSY) {
            act->launch_pending = 0;
            int rc = oneshot_launch(ex, act, err);
            if (rc)
                return rc;
        } else if (act->send_pending && act->state == C_BUSY) {
            act->send_pending = 0;
            int rc = ctr_send(ex, act, err);
            if (rc)
                return rc;
        } else if (act->call && act->call->running) {
            char m[160];
            snprintf(m, sizeof m, "killed at its time limit of %.3f s",
                     (double)act->call->timeout_ns / 1e9);
            ctr_kill(act, K_TIMEOUT, m);
            act->t_kill = act->call->deadline;
        } else if (act->call) {
            char m[160];
            snprintf(m, sizeof m, "the container did not become ready within the time limit of "
                     "%.3f s", (double)act->call->timeout_ns / 1e9);
            ctr_kill(act, K_INIT_TIMEOUT, m);
        } else {
            ctr_retire(ex, act);       /* idle past its keep-alive */
        }
    }
}

enum { F_RES, F_LOG, F_PID, F_REQ, F_WAKE };

int hb_exec_run(hb_exec *ex, int64_t until, hb_error *err)
{
    struct pollfd *pf = NULL;
    uint64_t *ids = NULL;
    int *kinds = NULL;
    size_t cap = 0;
    int rc = HB_OK;
    for (;;) {
        int64_t next;
        reap_orphans(ex);
        if ((rc = service(ex, &next, err)))
            break;
        int64_t now = hb_exec_now();
        size_t need = 1;
        for (ctr *c = ex->ctrs; c; c = c->next)
            need += 4;
        size_t cap_pf = cap, cap_ids = cap;   /* three arrays, one capacity: each grows alike */
        if (HB_GROW(pf, cap_pf, need) != HB_OK || HB_GROW(ids, cap_ids, need) != HB_OK ||
            HB_GROW(kinds, cap, need) != HB_OK) {
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
            break;
        }
        size_t n = 0;
        pf[n] = (struct pollfd){ex->wake_fd, POLLIN, 0};
        ids[n] = 0;
        kinds[n++] = F_WAKE;
        for (ctr *c = ex->ctrs; c; c = c->next) {
            int fds[4] = {c->res_fd, c->log_fd, c->pidfd, c->woff < c->wlen && !c->send_pending ? c->req_fd : -1};
            short evs[4] = {POLLIN, POLLIN, POLLIN, POLLOUT};
            for (int j = 0; j < 4; j++)
                if (fds[j] >= 0) {
                    pf[n] = (struct pollfd){fds[j], evs[j], 0};
                    ids[n] = c->id;
                    kinds[n++] = j;
                }
        }
        int64_t wait = (next < until ? next : until) - now;
        if (wait < 0)
            wait = 0;
        struct timespec ts = {(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
        int got = ppoll(pf, (nfds_t)n, &ts, NULL);
        if (got < 0) {
            if (errno != EINTR)
                rc = hb_fail(err, HB_EIO, "local executor: poll: %s", strerror(errno));
            break;                     /* a signal: the caller looks at its flag */
        }
        int woken = 0;
        for (size_t i = 0; i < n && !rc; i++) {
            if (!pf[i].revents)
                continue;
            if (kinds[i] == F_WAKE) {
                uint64_t v;
                if (read(ex->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
                    rc = hb_fail(err, HB_EIO, "local executor: eventfd: %s", strerror(errno));
                woken = 1;
                continue;
            }
            ctr *c = ctr_find(ex, ids[i]);
            if (!c)
                continue;              /* removed by an earlier event of this round */
            if (kinds[i] == F_LOG && c->log_fd >= 0) {
                ctr_logs(c);
            } else if (kinds[i] == F_REQ && c->req_fd >= 0) {
                rc = ctr_send(ex, c, err);
            } else if (kinds[i] == F_RES && c->oneshot) {
                int eof;
                ctr_output(c, &eof);
                if (eof) {
                    close_fd(&c->res_fd);
                    if (c->pidfd < 0)  /* no pidfd: the end of its output stands for its exit */
                        rc = ctr_dead(ex, c, err);
                }
            } else if (kinds[i] == F_RES) {
                int eof;
                rc = ctr_results(ex, ids[i], &eof, err);
                if (!rc && eof && (c = ctr_find(ex, ids[i])) != NULL) {
                    close_fd(&c->res_fd);
                    if (c->log_fd >= 0)
                        ctr_logs(c);
                    /* the result pipe closed: the process is exiting, or broke the protocol and
                     * is killed; its pidfd (if any) reports the end, with its exit status */
                    struct pollfd one = {c->pidfd, POLLIN, 0};
                    if (c->pidfd < 0)
                        rc = ctr_dead(ex, c, err);
                    else if (c->kill_reason == K_NONE && poll(&one, 1, 100) == 0)
                        ctr_kill(c, K_PROTOCOL, "the action closed its result pipe (fd 3)");
                }
            } else if (kinds[i] == F_PID && c->pidfd >= 0) {
                /* it exited: first whatever it wrote, then its end */
                int eof;
                if (c->log_fd >= 0)
                    ctr_logs(c);
                if (c->oneshot && c->res_fd >= 0)
                    ctr_output(c, &eof);
                else
                    rc = ctr_results(ex, ids[i], &eof, err);
                if (!rc && (c = ctr_find(ex, ids[i])) != NULL)
                    rc = ctr_dead(ex, c, err);
            }
        }
        if (rc || woken || hb_exec_now() >= until)
            break;                     /* at least one round, even when `until` has passed */
    }
    free(pf);
    free(ids);
    free(kinds);
    return rc;
}

void hb_exec_wake(hb_exec *ex)
{
    uint64_t one = 1;
    if (write(ex->wake_fd, &one, sizeof one) < 0) {
        /* the counter is full: a wake-up is pending anyway */
    }
}

void hb_exec_abort_all(hb_exec *ex, const char *message)
{
    for (;;) {
        ctr *c = ex->ctrs;
        while (c && !c->call)
            c = c->next;
        if (!c)
            break;
        hb_error ignored;
        call_finish(ex, c, HB_EXEC_ABORTED, message, NULL, hb_exec_now(), 0, &ignored);
    }
}

size_t hb_exec_live_calls(const hb_exec *ex)
{
    return ex->ncalls;
}

void hb_exec_free(hb_exec *ex)
{
    if (!ex)
        return;
    /* kill them all first, so that the reaping below waits for no one in turn */
    for (ctr *c = ex->ctrs; c; c = c->next)
        if (c->pid > 0)
            kill(c->pid, SIGKILL);
    for (ctr *c = ex->ctrs; c; c = c->next)   /* no container zombie stops reap_orphans */
        ctr_reap(c);
    while (ex->ctrs)
        ctr_retire(ex, ex->ctrs);
    while (ex->calls) {
        hb_exec_call *k = ex->calls;
        ex->calls = k->next;
        call_free(k);
    }
    for (int i = 0; i < ex->npools; i++)
        if (ex->pools[i].has_cg) {
            hb_error err;
            if (hb_cgroup_remove(&ex->pools[i].cg, &err) != HB_OK)
                fprintf(stderr, "harvestbench: local executor: %s\n", err.msg);
        }
    free(ex->pools);
    close(ex->wake_fd);
    free(ex);
}

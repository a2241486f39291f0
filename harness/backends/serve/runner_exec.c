/* runner_exec.c - the fork/exec runner of `harvestbench serve` (runner.h): one process per call,
 * the dockerskeleton contract, a time limit, no cgroups. A "container" is a directory holding the
 * unpacked `exec`; idle ones are reused for the same code until the keep-alive passes. Each call
 * runs on a thread of its own, which waits for the process. */
#define _GNU_SOURCE
#include "runner.h"
#include "runner_job.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dynbuf.h"
#include "files.h"

#define ARGV_MAX_PARAMS (64 * 1024)    /* larger parameters go on stdin (MAX_ARG_STRLEN is 128 KB) */

int64_t hb_epoch_ms(void) { return hb_clock_ns(CLOCK_REALTIME) / 1000000; }

typedef struct container {
    char *key;
    char dir[1200];
    int busy;
    int64_t last_used;                 /* monotonic ms */
    struct container *next;
} container;

typedef struct job job;

typedef struct exec_runner {
    hb_runner pub;
    char work_dir[1024];
    int64_t keep_alive_ms;
    size_t max_output;
    pthread_mutex_t mu;
    pthread_cond_t quiet;              /* signalled when the last job ends */
    int live, stopping;
    uint64_t next_ctr;
    container *containers;
    job *jobs;
} exec_runner;

struct job {
    exec_runner *r;
    hb_run_job q;                      /* the request, copied */
    pid_t pid;                         /* under r->mu; 0 when no process runs */
    job *prev, *next;
};

static void job_free(job *j)
{
    hb_run_job_clear(&j->q);
    free(j);
}

/* ---- containers ---- */

/* Takes an idle container of the key, or makes a record for a new one; removes expired idle ones
 * (their directories are deleted by the caller, outside the lock, from *expired). */
static container *container_take(exec_runner *r, const char *key, int *cold, container **expired)
{
    int64_t now = hb_mono_ms();
    container *found = NULL, **pp = &r->containers;
    *expired = NULL;
    while (*pp) {
        container *c = *pp;
        if (!c->busy && now - c->last_used > r->keep_alive_ms) {
            *pp = c->next;
            c->next = *expired;
            *expired = c;
            continue;
        }
        if (!found && !c->busy && strcmp(c->key, key) == 0)
            found = c;
        pp = &c->next;
    }
    if (found) {
        found->busy = 1;
        *cold = 0;
        return found;
    }
    container *c = calloc(1, sizeof *c);
    if (c && !(c->key = strdup(key))) {
        free(c);
        c = NULL;
    }
    if (!c)
        return NULL;
    snprintf(c->dir, sizeof c->dir, "%s/c%llu", r->work_dir, (unsigned long long)++r->next_ctr);
    c->busy = 1;
    c->next = r->containers;
    r->containers = c;
    *cold = 1;
    return c;
}

static void container_release(exec_runner *r, container *c, int keep)
{
    pthread_mutex_lock(&r->mu);
    if (keep) {
        c->busy = 0;
        c->last_used = hb_mono_ms();
        pthread_mutex_unlock(&r->mu);
        return;
    }
    for (container **pp = &r->containers; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    pthread_mutex_unlock(&r->mu);
    /* best effort: a directory left behind only takes disk space */
    (void)hb_remove_tree(c->dir);
    free(c->key);
    free(c);
}

/* The dockerskeleton image's /init: the code into the container as `exec`. */
static int container_init(const job *j, const container *c, char *msg, size_t n)
{
    if (!j->q.code_path) {
        snprintf(msg, n, "Failed to pull container image '%s'.", j->q.image ? j->q.image : "");
        return -1;
    }
    if (mkdir(c->dir, 0700) != 0) {
        snprintf(msg, n, "cannot make the container directory: %s", strerror(errno));
        return -1;
    }
    char exec_path[1300];
    snprintf(exec_path, sizeof exec_path, "%s/exec", c->dir);
    hb_error err;
    int rc = hb_run_write_exec(&j->q, exec_path, &err);
    if (rc) {
        snprintf(msg, n, "The action failed during initialization: %.400s", err.msg);
        return -1;
    }
    return 0;
}

/* ---- one process ---- */

typedef struct proc_out {
    hb_dynbuf out, err;                /* bounded by max_output */
    int clipped[2];                    /* out, err: output past max_output was dropped */
    int nomem;                         /* output was lost for want of memory */
    int exited, code, signaled, timed_out, stopped;
    char msg[256];
} proc_out;

static int spawn_and_wait(job *j, const container *c, proc_out *po)
{
    exec_runner *r = j->r;
    int op[2] = {-1, -1}, ep[2] = {-1, -1};
    char exec_path[1300], params_path[1300];
    snprintf(exec_path, sizeof exec_path, "%s/exec", c->dir);
    snprintf(params_path, sizeof params_path, "%s/.params.json", c->dir);
    int big = strlen(j->q.params) > ARGV_MAX_PARAMS;
    if (big) {
        int fd = open(params_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        size_t len = strlen(j->q.params);
        if (fd < 0 || write(fd, j->q.params, len) != (ssize_t)len) {
            snprintf(po->msg, sizeof po->msg, "cannot write the parameters: %s", strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        close(fd);
    }
    if (pipe2(op, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
        snprintf(po->msg, sizeof po->msg, "pipe: %s", strerror(errno));
        goto fail;
    }
    hb_run_env env;
    hb_run_env_init(&env, &j->q);
    char *argv[] = {exec_path, big ? NULL : j->q.params, NULL};

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, big ? params_path : "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, op[1], 1);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
    posix_spawn_file_actions_addchdir_np(&fa, c->dir);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    pthread_mutex_lock(&r->mu);
    int src = r->stopping ? ECANCELED : posix_spawn(&pid, exec_path, &fa, &at, argv, env.envp);
    if (!src)
        j->pid = pid;
    pthread_mutex_unlock(&r->mu);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(op[1]);
    close(ep[1]);
    op[1] = ep[1] = -1;
    if (src) {
        snprintf(po->msg, sizeof po->msg, "cannot start the action: %s", strerror(src));
        goto fail;
    }
    int64_t limit = hb_mono_ms() + j->q.limits.timeout_ms;
    struct pollfd fds[2] = {{op[0], POLLIN, 0}, {ep[0], POLLIN, 0}};
    int open_fds = 2;
    char chunk[65536];
    while (open_fds) {
        int64_t left = limit - hb_mono_ms();
        if (left <= 0 && !po->timed_out) {
            po->timed_out = 1;         /* kill the whole group; the pipes close when it dies */
            kill(-pid, SIGKILL);
            left = 0;
        }
        int pr = poll(fds, 2, po->timed_out ? 1000 : (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno != EINTR)
            break;
        for (int k = 0; k < 2; k++) {
            if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(fds[k].fd, chunk, sizeof chunk);
            if (n > 0) {
                if (hb_dyn_addn_clip(k ? &po->err : &po->out, chunk, (size_t)n, &po->clipped[k]))
                    po->nomem = 1;
            } else if (n == 0 || errno != EINTR) {
                close(fds[k].fd);
                fds[k].fd = -1;
                open_fds--;
            }
        }
    }
    for (int k = 0; k < 2; k++)
        if (fds[k].fd >= 0)
            close(fds[k].fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&r->mu);
    j->pid = 0;
    po->stopped = r->stopping;
    pthread_mutex_unlock(&r->mu);
    if (WIFEXITED(status)) {
        po->exited = 1;
        po->code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        po->signaled = WTERMSIG(status);
    }
    if (big)
        unlink(params_path);
    return 0;
fail:
    for (int k = 0; k < 2; k++) {
        if (op[k] >= 0)
            close(op[k]);
        if (ep[k] >= 0)
            close(ep[k]);
    }
    if (big)
        unlink(params_path);
    return -1;
}

/* The last non-empty line of stdout (in place); the rest of stdout and stderr become log lines. */
static char *split_result(hb_dynbuf *out, const hb_dynbuf *err, hb_dynbuf *logs, const char *stamp)
{
    static char empty[1];              /* no output: an empty result line */
    size_t n = hb_dyn_len(out);
    const char *o = hb_dyn_str(out);
    while (n && (o[n - 1] == '\n' || o[n - 1] == '\r' || o[n - 1] == ' '))
        n--;
    hb_dyn_setlen(out, n);
    char *s = out->buf ? out->buf : empty;
    size_t b = n;
    while (b && s[b - 1] != '\n')
        b--;
    char *last = s + b;
    for (int k = 0; k < 2; k++) {
        const char *t = k ? hb_dyn_str(err) : s;
        size_t tn = k ? hb_dyn_len(err) : (b ? b - 1 : 0);
        const char *end = t + tn;
        for (const char *line = t; line < end;) {
            const char *nl = memchr(line, '\n', (size_t)(end - line));
            size_t ll = nl ? (size_t)(nl - line) : (size_t)(end - line);
            char head[96];
            int hn = snprintf(head, sizeof head, "%s %s: ", stamp, k ? "stderr" : "stdout");
            /* the logs are bounded (their maximum): the lines past it are dropped */
            if (hb_dyn_addn(logs, head, (size_t)hn) != HB_OK || hb_dyn_addn(logs, line, ll) != HB_OK ||
                hb_dyn_addn(logs, "\n", 1) != HB_OK)
                return last;
            line += ll + 1;
        }
    }
    return last;
}

static void iso_stamp(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char d[32];
    strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03dZ", d, (int)(ms % 1000));
}

static void *job_thread(void *arg)
{
    job *j = arg;
    exec_runner *r = j->r;
    hb_run_result res = {0};
    proc_out po;
    memset(&po, 0, sizeof po);
    hb_dyn_init(&po.out, r->max_output);
    hb_dyn_init(&po.err, r->max_output);
    hb_dynbuf logs;
    hb_dyn_init(&logs, 16u << 20);
    char msg[512] = "";
    container *expired = NULL;
    int cold = 0;
    pthread_mutex_lock(&r->mu);
    container *c = container_take(r, j->q.code_key, &cold, &expired);
    pthread_mutex_unlock(&r->mu);
    while (expired) {
        container *e = expired;
        expired = e->next;
        (void)hb_remove_tree(e->dir);
        free(e->key);
        free(e);
    }
    /* the epoch clock is read once; init and end follow from the monotonic clock, so that
     * initTime <= duration always holds (two epoch readings truncated to ms could disagree by
     * one and make the client reject the record as malformed: issue 17 #10) */
    res.start_ms = hb_epoch_ms();
    int64_t m0 = hb_mono_ms();
    res.cold = cold;
    int keep = 0;
    if (!c) {
        res.status = HB_RUN_INTERNAL;
        snprintf(msg, sizeof msg, "out of memory");
        goto report;
    }
    if (cold) {
        int irc = container_init(j, c, msg, sizeof msg);
        res.init_ms = hb_mono_ms() - m0;
        if (irc) {
            res.status = HB_RUN_DEV_ERROR;
            goto report;
        }
    }
    if (spawn_and_wait(j, c, &po)) {
        res.status = HB_RUN_INTERNAL;
        snprintf(msg, sizeof msg, "%s", po.msg);
        goto report;
    }
    res.end_ms = res.start_ms + (hb_mono_ms() - m0);
    char stamp[40];
    iso_stamp(res.end_ms, stamp, sizeof stamp);
    char *line = split_result(&po.out, &po.err, &logs, stamp);
    if (po.stopped) {
        res.status = HB_RUN_INTERNAL;
        snprintf(msg, sizeof msg, "harvestbench serve is shutting down");
    } else if (po.timed_out) {
        res.status = HB_RUN_TIMEOUT;
        snprintf(msg, sizeof msg, "The action exceeded its time limits of %lld milliseconds.",
                 (long long)j->q.limits.timeout_ms);
    } else if (po.nomem) {
        res.status = HB_RUN_INTERNAL;
        snprintf(msg, sizeof msg, "out of memory holding the action's output");
    } else if (po.clipped[0]) {
        res.status = HB_RUN_DEV_ERROR;
        snprintf(msg, sizeof msg, "The action produced more than %zu bytes of output.", r->max_output);
    } else {
        cJSON *obj = cJSON_Parse(line);
        if (cJSON_IsObject(obj)) {
            res.status = cJSON_GetObjectItemCaseSensitive(obj, "error") ? HB_RUN_APP_ERROR
                                                                        : HB_RUN_SUCCESS;
            res.result = line;
            keep = po.exited;
        } else if (po.signaled) {
            res.status = HB_RUN_DEV_ERROR;
            snprintf(msg, sizeof msg, "The action did not produce a valid response and exited "
                     "unexpectedly (signal %d).", po.signaled);
        } else {
            res.status = HB_RUN_DEV_ERROR;
            snprintf(msg, sizeof msg, "The action did not produce a valid JSON response%s%.200s",
                     line[0] ? ": " : ".", line);
        }
        cJSON_Delete(obj);
    }
report:
    if (!res.end_ms)
        res.end_ms = res.start_ms + (hb_mono_ms() - m0);
    res.message = msg;
    res.logs = hb_dyn_str(&logs);
    if (c)
        container_release(r, c, keep);
    j->q.done(j->q.ctx, &res);
    hb_dyn_free(&po.out);
    hb_dyn_free(&po.err);
    hb_dyn_free(&logs);
    pthread_mutex_lock(&r->mu);
    if (j->prev)
        j->prev->next = j->next;
    else
        r->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    if (--r->live == 0)
        pthread_cond_broadcast(&r->quiet);
    pthread_mutex_unlock(&r->mu);
    job_free(j);
    return NULL;
}

static int exec_start(hb_runner *rr, const hb_run_request *q, hb_error *err)
{
    exec_runner *r = rr->impl;
    job *j = calloc(1, sizeof *j);
    if (!j)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    j->r = r;
    int rc = hb_run_job_copy(&j->q, q, err);
    if (rc) {
        free(j);
        return rc;
    }
    pthread_mutex_lock(&r->mu);
    if (r->stopping) {
        pthread_mutex_unlock(&r->mu);
        job_free(j);
        return hb_fail(err, HB_ERUN, "the runner is shutting down");
    }
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    pthread_t t;
    int prc = pthread_create(&t, &at, job_thread, j);
    pthread_attr_destroy(&at);
    if (prc) {
        pthread_mutex_unlock(&r->mu);
        job_free(j);
        return hb_fail(err, HB_ERUN, "cannot start a thread: %s", strerror(prc));
    }
    r->live++;
    j->next = r->jobs;
    if (r->jobs)
        r->jobs->prev = j;
    r->jobs = j;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static void exec_forget(hb_runner *rr, const char *key)
{
    exec_runner *r = rr->impl;
    container *gone = NULL;
    pthread_mutex_lock(&r->mu);
    for (container **pp = &r->containers; *pp;) {
        container *c = *pp;
        if (!c->busy && strcmp(c->key, key) == 0) {
            *pp = c->next;
            c->next = gone;
            gone = c;
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&r->mu);
    while (gone) {
        container *c = gone;
        gone = c->next;
        (void)hb_remove_tree(c->dir);
        free(c->key);
        free(c);
    }
}

static void exec_close(hb_runner *rr)
{
    if (!rr)
        return;
    exec_runner *r = rr->impl;
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    for (job *j = r->jobs; j; j = j->next)
        if (j->pid > 0)
            kill(-j->pid, SIGKILL);
    while (r->live)
        pthread_cond_wait(&r->quiet, &r->mu);
    pthread_mutex_unlock(&r->mu);
    while (r->containers) {
        container *c = r->containers;
        r->containers = c->next;
        (void)hb_remove_tree(c->dir);
        free(c->key);
        free(c);
    }
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->quiet);
    free(r);
}

static const hb_runner_ops EXEC_OPS = {"exec", exec_start, exec_forget, exec_close};

int hb_runner_exec_new(const hb_runner_exec_opts *o, hb_runner **out, hb_error *err)
{
    *out = NULL;
    exec_runner *r = calloc(1, sizeof *r);
    if (!r)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (snprintf(r->work_dir, sizeof r->work_dir, "%s", o->work_dir) >= (int)sizeof r->work_dir) {
        free(r);
        return hb_fail(err, HB_EINPUT, "runner directory too long");
    }
    r->keep_alive_ms = o->keep_alive_ms;
    r->max_output = o->max_output ? o->max_output : (16u << 20);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->quiet, NULL);
    r->pub.ops = &EXEC_OPS;
    r->pub.impl = r;
    *out = &r->pub;
    return 0;
}

/* runner_local.c - serve's runner on the local executor (harness/backends/common/executor.h): every action
 * runs in a cgroup of its container with its memory limit (swap off) and its CPU (a quota of the
 * Libra fork's encoded cores, else shares in proportion to its memory), warm containers are reused
 * for the same action version until the keep-alive passes, time limits kill, and out-of-memory
 * kills are read from the group. docs/local.md describes the executor; docs/openwhisk.md serve.
 *
 * Protocols: an action whose image names an ActionLoop runtime ("actionloop") runs as a warm
 * ActionLoop process (requests on stdin, results on fd 3; the activation's context as request
 * keys, which the runtime sets as __OW_* variables); any other native action follows the
 * dockerskeleton contract (one process per call in the container's group, the parameters as
 * argv[1] or on stdin, the result the last line of stdout, __OW_* in its environment).
 * The code of each container key is unpacked once (a zip's `exec`, or the script) into a directory
 * of the runner's, which is the processes' working directory; the first call of a key counts the
 * unpacking in its init time, as OpenWhisk's /init.
 *
 * Threading: the executor is not thread-safe, so one thread of this runner drives it. start() and
 * forget() (any thread; forget with serve's lock held) only queue work under the runner's mutex and
 * wake that thread (hb_exec_wake); every callback (req->done) runs on it. close() stops it: the
 * calls in flight end as "shutting down", then it is joined. */
#define _GNU_SOURCE
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dynbuf.h"
#include "files.h"
#include "common/executor.h"
#include "runner.h"
#include "runner_job.h"

typedef struct lr_job {
    hb_run_job q;                      /* the request, copied */
    int64_t unpack_ms;                 /* the code was unpacked for this call */
    int actionloop;
    struct lr_job *next;
} lr_job;

typedef struct lr_code {
    char *key;
    char dir[1100];                    /* holds `exec` */
    struct lr_code *next;
} lr_code;

typedef struct local_runner {
    hb_runner pub;
    hb_exec *ex;
    int pool;
    char work_dir[1024];
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    lr_job *q_head, *q_tail;           /* under mu: calls to start */
    char **forget;                     /* under mu: keys whose idle containers go */
    size_t n_forget, cap_forget;
    int stopping;                      /* under mu */
    int run_as;                        /* code directories belong to the actions' user */
    uid_t uid;
    gid_t gid;
    lr_code *codes;                    /* the thread's */
    uint64_t n_codes;
} local_runner;

/* A monotonic instant (ns) as Unix epoch ms. */
static int64_t epoch_of(int64_t mono_ns)
{
    return hb_epoch_ms() - (hb_exec_now() - mono_ns) / 1000000;
}

static void job_free(lr_job *j)
{
    hb_run_job_clear(&j->q);
    free(j);
}

static void report(lr_job *j, hb_run_status st, const char *msg, int64_t start_ms)
{
    int64_t t = hb_epoch_ms();
    hb_run_result r = {st, NULL, msg, start_ms ? start_ms : t, t, 0, 0, ""};
    j->q.done(j->q.ctx, &r);
}

/* ---- code ---- */

/* The directory holding the key's `exec`, unpacked on first use (/init). */
static const char *code_dir(local_runner *r, lr_job *j, char *msg, size_t n)
{
    for (lr_code *c = r->codes; c; c = c->next)
        if (strcmp(c->key, j->q.code_key) == 0)
            return c->dir;
    if (!j->q.code_path) {
        snprintf(msg, n, "Failed to pull container image '%s'.", j->q.image ? j->q.image : "");
        return NULL;
    }
    int64_t t0 = hb_mono_ms();
    lr_code *c = calloc(1, sizeof *c);
    if (!c || !(c->key = strdup(j->q.code_key))) {
        free(c);
        snprintf(msg, n, "out of memory");
        return NULL;
    }
    snprintf(c->dir, sizeof c->dir, "%s/c%llu", r->work_dir, (unsigned long long)++r->n_codes);
    char exec_path[1200];
    snprintf(exec_path, sizeof exec_path, "%s/exec", c->dir);
    hb_error err;
    int rc = mkdir(c->dir, 0700) != 0 ? hb_fail(&err, HB_EIO, "%s: %s", c->dir, strerror(errno))
                                      : hb_run_write_exec(&j->q, exec_path, &err);
    /* the actions' user owns its code directory (its working directory, writable as /action is
     * in OpenWhisk's container); root's files stay out of its reach */
    if (!rc && r->run_as &&
        (chown(c->dir, r->uid, r->gid) != 0 || chown(exec_path, r->uid, r->gid) != 0 ||
         chmod(exec_path, 0755) != 0))
        rc = hb_fail(&err, HB_EIO, "%s: %s", c->dir, strerror(errno));
    if (rc) {
        snprintf(msg, n, "The action failed during initialization: %.400s", err.msg);
        /* best effort: a directory left behind only takes disk space */
        (void)hb_remove_tree(c->dir);
        free(c->key);
        free(c);
        return NULL;
    }
    c->next = r->codes;
    r->codes = c;
    j->unpack_ms = hb_mono_ms() - t0;
    return c->dir;
}

/* ---- calls (on the runner's thread) ---- */

static int on_done(void *ctx, hb_exec_call *x, const hb_exec_result *e, hb_error *err)
{
    (void)x;
    (void)err;
    lr_job *j = ctx;
    hb_run_result r;
    memset(&r, 0, sizeof r);
    char msg[512] = "";
    /* one clock read for the start, durations from the monotonic clock: two epoch readings
     * could disagree by a millisecond and put initTime past the duration (issue 17 #10) */
    r.start_ms = epoch_of(e->t_assigned) - j->unpack_ms;
    int64_t t_end = e->t_end > e->t_assigned ? e->t_end : e->t_assigned;
    r.end_ms = r.start_ms + j->unpack_ms + (t_end - e->t_assigned) / 1000000;
    r.cold = e->cold;
    int64_t t_run = e->t_running < t_end ? e->t_running : t_end;
    r.init_ms = e->cold && e->t_running ? (t_run - e->t_assigned) / 1000000 + j->unpack_ms : 0;
    switch (e->status) {
    case HB_EXEC_OK:
    case HB_EXEC_APP_ERROR:
        r.status = e->status == HB_EXEC_OK ? HB_RUN_SUCCESS : HB_RUN_APP_ERROR;
        r.result = e->result;
        break;
    case HB_EXEC_TIMEOUT:
        r.status = HB_RUN_TIMEOUT;
        snprintf(msg, sizeof msg, "The action exceeded its time limits of %lld milliseconds.",
                 (long long)j->q.limits.timeout_ms);
        break;
    case HB_EXEC_OOM:
        r.status = HB_RUN_OOM;
        snprintf(msg, sizeof msg, "The action exhausted its memory and was aborted.");
        break;
    case HB_EXEC_ABORTED:
        r.status = HB_RUN_INTERNAL;
        snprintf(msg, sizeof msg, "harvestbench serve is shutting down");
        break;
    default:
        r.status = HB_RUN_DEV_ERROR;
        snprintf(msg, sizeof msg, "The action did not produce a valid response: %.450s", e->message);
    }
    r.message = msg;
    /* log lines as the fork/exec runner writes them: "<time> stdout|stderr: <line>" */
    char stamp[40];
    time_t t = (time_t)(r.end_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char d[32];
    strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp, sizeof stamp, "%s.%03dZ", d, (int)(r.end_ms % 1000));
    size_t lines = 1;
    for (const char *l = e->logs; *l; l++)
        lines += *l == '\n';
    size_t cap = strlen(e->logs) + lines * 48 + 1;
    char *logs = malloc(cap), *w = logs;
    if (logs) {
        *w = '\0';
        for (const char *l = e->logs; *l;) {
            const char *nl = strchr(l, '\n');
            size_t ll = nl ? (size_t)(nl - l) : strlen(l);
            /* ActionLoop processes share one pipe for both streams */
            const char *stream = j->actionloop || (size_t)(l - e->logs) < e->logs_out ? "stdout"
                                                                                     : "stderr";
            w += snprintf(w, cap - (size_t)(w - logs), "%s %s: %.*s\n", stamp, stream, (int)ll, l);
            l += ll + (nl ? 1 : 0);
        }
    }
    r.logs = logs ? logs : "";
    j->q.done(j->q.ctx, &r);
    free(logs);
    job_free(j);
    return 0;
}

static char *actionloop_request(const lr_job *j)
{
    cJSON *req = cJSON_CreateObject(), *val = cJSON_Parse(j->q.params ? j->q.params : "{}");
    if (!req || !cJSON_IsObject(val)) {
        cJSON_Delete(req);
        cJSON_Delete(val);
        return NULL;
    }
    char name[700], ns[300], deadline[32];
    snprintf(name, sizeof name, "/%s", j->q.action);
    snprintf(ns, sizeof ns, "%.*s", (int)strcspn(j->q.action, "/"), j->q.action);
    snprintf(deadline, sizeof deadline, "%lld", (long long)j->q.deadline_ms);
    cJSON_AddItemToObject(req, "value", val);
    cJSON_AddStringToObject(req, "activation_id", j->q.activation_id);
    cJSON_AddStringToObject(req, "action_name", name);
    cJSON_AddStringToObject(req, "namespace", ns);
    cJSON_AddStringToObject(req, "deadline", deadline);
    cJSON_AddStringToObject(req, "api_host", j->q.api_host ? j->q.api_host : "");
    char *s = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return s;
}

static void start_job(local_runner *r, lr_job *j)
{
    char msg[600];
    int64_t t0 = hb_epoch_ms();
    const char *dir = code_dir(r, j, msg, sizeof msg);
    if (!dir) {
        report(j, HB_RUN_DEV_ERROR, msg, t0);
        job_free(j);
        return;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/exec", dir);
    int actionloop = j->actionloop = j->q.image && strstr(j->q.image, "actionloop");
    hb_run_env env;
    hb_run_env_init(&env, &j->q);
    char *req = actionloop ? actionloop_request(j) : NULL;
    if (actionloop && !req) {
        report(j, HB_RUN_INTERNAL, "out of memory (or parameters that are not an object)", t0);
        job_free(j);
        return;
    }
    /* the Libra fork's limits carry cores (a quota); stock OpenWhisk's CPU shares follow memory */
    hb_exec_spec s = {
        .pool = r->pool, .key = j->q.code_key, .path = path, .oneshot = !actionloop,
        .request = actionloop ? req : (j->q.params ? j->q.params : "{}"),
        .limits = {j->q.limits.cpu > 0 ? j->q.limits.cpu : 0, j->q.limits.memory_mb, j->q.limits.memory_mb},
        .timeout_ns = j->q.limits.timeout_ms > 0 ? j->q.limits.timeout_ms * 1000000 : 0,
        .env = env.envp, .dir = dir,
        .ev = {NULL, on_done, j},
    };
    hb_exec_call *x;
    hb_error err;
    int rc = hb_exec_start(r->ex, &s, &x, &err);
    free(req);
    if (rc) {
        /* a process that cannot start is the action's fault; a group that cannot be made ours */
        int dev = strstr(err.msg, "spawning") != NULL;
        snprintf(msg, sizeof msg, "%s%.500s", dev ? "The action failed during initialization: " : "",
                 err.msg);
        report(j, dev ? HB_RUN_DEV_ERROR : HB_RUN_INTERNAL, msg, t0);
        job_free(j);
    }
}

static void *runner_thread(void *arg)
{
    local_runner *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        lr_job *q = r->q_head;
        r->q_head = r->q_tail = NULL;
        char **forget = r->forget;
        size_t n_forget = r->n_forget;
        r->forget = NULL;
        r->n_forget = r->cap_forget = 0;
        int stopping = r->stopping;
        pthread_mutex_unlock(&r->mu);
        for (size_t i = 0; i < n_forget; i++) {
            hb_exec_forget(r->ex, forget[i]);
            for (lr_code **pc = &r->codes; *pc; pc = &(*pc)->next)
                if (strcmp((*pc)->key, forget[i]) == 0) {
                    lr_code *c = *pc;
                    *pc = c->next;
                    (void)hb_remove_tree(c->dir);
                    free(c->key);
                    free(c);
                    break;
                }
            free(forget[i]);
        }
        free(forget);
        while (q) {
            lr_job *j = q;
            q = j->next;
            if (stopping) {
                report(j, HB_RUN_INTERNAL, "harvestbench serve is shutting down", 0);
                job_free(j);
            } else {
                start_job(r, j);
            }
        }
        if (stopping)
            break;
        hb_error err;
        if (hb_exec_run(r->ex, hb_exec_now() + 1000000000LL, &err) != HB_OK)
            fprintf(stderr, "harvestbench serve: local runner: %s\n", err.msg);
    }
    hb_exec_abort_all(r->ex, "shutting down");   /* their callbacks say so */
    return NULL;
}

/* ---- the runner interface ---- */

static int lr_start(hb_runner *rr, const hb_run_request *q, hb_error *err)
{
    local_runner *r = rr->impl;
    lr_job *j = calloc(1, sizeof *j);
    if (!j)
        return hb_fail(err, HB_ENOMEM, "out of memory");
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
    if (r->q_tail)
        r->q_tail->next = j;
    else
        r->q_head = j;
    r->q_tail = j;
    pthread_mutex_unlock(&r->mu);
    hb_exec_wake(r->ex);
    return 0;
}

static void lr_forget(hb_runner *rr, const char *key)
{
    local_runner *r = rr->impl;
    char *k = strdup(key);
    if (!k)
        return;                        /* its containers then simply expire */
    pthread_mutex_lock(&r->mu);
    if (HB_GROW(r->forget, r->cap_forget, r->n_forget + 1) != HB_OK) {
        pthread_mutex_unlock(&r->mu);
        free(k);
        return;
    }
    r->forget[r->n_forget++] = k;
    pthread_mutex_unlock(&r->mu);
    hb_exec_wake(r->ex);
}

static void lr_free(local_runner *r)
{
    hb_exec_free(r->ex);
    while (r->codes) {
        lr_code *c = r->codes;
        r->codes = c->next;
        (void)hb_remove_tree(c->dir);
        free(c->key);
        free(c);
    }
    for (size_t i = 0; i < r->n_forget; i++)
        free(r->forget[i]);
    free(r->forget);
    if (r->work_dir[0])
        rmdir(r->work_dir);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void lr_close(hb_runner *rr)
{
    if (!rr)
        return;
    local_runner *r = rr->impl;
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    pthread_mutex_unlock(&r->mu);
    if (r->started) {
        hb_exec_wake(r->ex);
        pthread_join(r->th, NULL);
    }
    lr_free(r);
}

static const hb_runner_ops LOCAL_RUNNER_OPS = {"local", lr_start, lr_forget, lr_close};

int hb_runner_local_new(const hb_runner_local_opts *o, hb_runner **out, hb_error *err)
{
    *out = NULL;
    local_runner *r = calloc(1, sizeof *r);
    if (!r)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    pthread_mutex_init(&r->mu, NULL);
    const char *tmp = getenv("TMPDIR");
    snprintf(r->work_dir, sizeof r->work_dir, "%s/harvestbench-local.%d.XXXXXX",   /* pid: for the sweep */
             o->work_dir && *o->work_dir ? o->work_dir : tmp && *tmp ? tmp : "/tmp", (int)getpid());
    if (!mkdtemp(r->work_dir)) {
        int e = errno;
        r->work_dir[0] = '\0';
        lr_free(r);
        return hb_fail(err, HB_EIO, "local runner: cannot make a directory: %s", strerror(e));
    }
    /* the actions' user must reach its code directory inside (0711: not list it) */
    if (o->run_as && chmod(r->work_dir, 0711) != 0) {
        int e = errno;
        lr_free(r);
        return hb_fail(err, HB_EIO, "local runner: %s", strerror(e));
    }
    r->run_as = o->run_as;
    r->uid = o->uid;
    r->gid = o->gid;
    hb_exec_opts eo = {.limits = o->limits, .keep_alive_ns = o->keep_alive_ms * 1000000,
                       .run_as = o->run_as, .uid = o->uid, .gid = o->gid,
                       .pids_max = o->pids_max};
    int rc = hb_exec_new(&eo, &r->ex, err);
    if (!rc)
        rc = hb_exec_pool_add(r->ex, 0, 0, &r->pool, err);   /* the machine, no quota of its own */
    if (!rc && pthread_create(&r->th, NULL, runner_thread, r) != 0)
        rc = hb_fail(err, HB_EIO, "local runner: cannot start its thread");
    if (rc) {
        lr_free(r);
        return rc;
    }
    r->started = 1;
    r->pub.ops = &LOCAL_RUNNER_OPS;
    r->pub.impl = r;
    *out = &r->pub;
    return 0;
}

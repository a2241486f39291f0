/* serve_libra.c - see serve_libra.h. One mutex guards the pools and runs; another the Redis
 * connection, which is used outside the first so that a slow Redis never holds up the pools. */
#include "serve_libra.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libra_fork.h"
#include "libra_redis.h"

#define PUBLISH_MS 100                 /* the fork's publisher period (spec section 3) */

enum { D_MEM, D_CPU, ND };             /* memory in 128 MB units, CPU in cores */

typedef struct items {
    lf_traj_item *v;
    size_t n, cap;
} items;

typedef struct run {
    char id[LF_ID_MAX];
    int user[ND], pred[ND];
    int64_t start_ms, dur_ms;
    double delta[ND];                  /* units or cores: < 0 harvested, > 0 borrowed */
    double idle[ND];                   /* ms x units, ms x cores */
    items in[ND], out[ND];             /* lender -> borrowed; borrower -> lent (units or cores) */
    items traj[ND];                    /* the fork's trajectory, memory in MB */
    struct run *next;
} run;

typedef struct entry {
    char id[LF_ID_MAX];
    double v;
    int64_t s, e;
    uint64_t seq;
} entry;

typedef struct hrp {
    entry *v;
    size_t n, cap;
} hrp;

typedef struct pending {
    char id[LF_ID_MAX];
    char *summary;
    struct pending *next;
} pending;

struct sv_libra {
    lr_client *redis;
    pthread_mutex_t rmu;               /* the connection */
    pthread_mutex_t mu;                /* everything below */
    pthread_cond_t cv;
    int stopping;
    pthread_t thread;
    int started;
    int invoker;
    int quiet;
    run *runs;
    hrp pool[ND];
    uint64_t seq;
    pending *unwritten;
    /* counts for the closing line */
    uint64_t calls, no_prediction, read_errors, written, write_retries, publish_errors, lent;
    int64_t last_warn_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- small lists ---- */

static int items_push(items *l, const char *id, double v)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        lf_traj_item *a = realloc(l->v, nc * sizeof *a);
        if (!a)
            return -1;
        l->v = a;
        l->cap = nc;
    }
    snprintf(l->v[l->n].id, sizeof l->v[l->n].id, "%s", id);
    l->v[l->n++].amount = v;
    return 0;
}

/* Accumulates per id (the budget's in/out maps). */
static int items_add(items *l, const char *id, double v)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].id, id) == 0) {
            l->v[i].amount += v;
            return 0;
        }
    return items_push(l, id, v);
}

static void items_remove(items *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].id, id) == 0) {
            memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
            l->n--;
            return;
        }
}

static void run_free(run *r)
{
    for (int d = 0; d < ND; d++) {
        free(r->in[d].v);
        free(r->out[d].v);
        free(r->traj[d].v);
    }
    free(r);
}

static run *find_run(sv_libra *l, const char *id)
{
    for (run *r = l->runs; r; r = r->next)
        if (strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

/* ---- the harvested resource pool (PriorityMap, spec 6.3) ---- */

static entry *hrp_find(hrp *p, const char *id)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].id, id) == 0)
            return &p->v[i];
    return NULL;
}

/* Present: adds v and keeps the old window (the fork's insert does so). */
static int hrp_insert(sv_libra *l, hrp *p, const char *id, double v, int64_t s, int64_t e)
{
    entry *x = hrp_find(p, id);
    if (x) {
        x->v += v;
        return 0;
    }
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        entry *a = realloc(p->v, nc * sizeof *a);
        if (!a)
            return -1;
        p->v = a;
        p->cap = nc;
    }
    x = &p->v[p->n++];
    snprintf(x->id, sizeof x->id, "%s", id);
    x->v = v;
    x->s = s;
    x->e = e;
    x->seq = ++l->seq;
    return 0;
}

static void hrp_delete(hrp *p, entry *x)
{
    size_t i = (size_t)(x - p->v);
    memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof *p->v);
    p->n--;
}

/* ---- arrival (spec 6.2) ---- */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void warn(sv_libra *l, const char *what, const hb_error *e)
{
    int64_t now = mono_ms();
    if (now - l->last_warn_ms >= 5000) {   /* a Redis that is down would flood the log */
        l->last_warn_ms = now;
        fprintf(stderr, "harvestbench serve: %s: %s\n", what, e->msg);
    }
}

/* One dimension of a call's decision; returns the amount it runs with. */
static int decide(sv_libra *l, run *r, int d, int64_t now)
{
    int u = r->user[d], p = r->pred[d];
    double scale = d == D_MEM ? HB_MEM_UNIT_MB : 1;
    if (u > p) {                       /* a harvest source */
        if (hrp_insert(l, &l->pool[d], r->id, u - p, r->start_ms, r->start_ms + r->dur_ms))
            return u;                  /* out of memory: no harvest rather than a wrong pool */
        r->delta[d] = -(u - p);
        return p;
    }
    if (u == p || l->pool[d].n == 0)
        return u;
    /* an accelerate target: the lenders with the latest predicted end first */
    double want = p - u, got = 0;
    while (got < want && l->pool[d].n) {
        entry *best = NULL;
        for (size_t i = 0; i < l->pool[d].n; i++) {
            entry *x = &l->pool[d].v[i];
            if (!best || x->e > best->e || (x->e == best->e && x->seq < best->seq))
                best = x;
        }
        double take = fmin(best->v, want - got);
        got += take;
        run *k = find_run(l, best->id);
        if (items_add(&r->in[d], best->id, take) || items_push(&r->traj[d], best->id, take * scale))
            break;
        if (k) {
            items_add(&k->out[d], r->id, take);
            k->idle[d] += (double)(now - best->s) * take;
            items_push(&k->traj[d], r->id, -take * scale);
        }
        if (take >= best->v)
            hrp_delete(&l->pool[d], best);
        else
            best->v -= take;
        l->lent++;
    }
    r->delta[d] = got;
    return u + (int)lround(got);
}

void sv_libra_arrive(sv_libra *l, const char *activation_id, const char *action, long user_encoded,
                     int64_t now_ms, double *cpu, int *memory_mb)
{
    (void)now_ms;
    int uc = 1, um = HB_MEM_UNIT_MB;
    lf_decode((int)user_encoded, &uc, &um);
    *cpu = uc;
    *memory_mb = um;
    int enc = 0;
    long dur = 0;
    hb_error e;
    pthread_mutex_lock(&l->rmu);
    int rc = lr_get_prediction(l->redis, action, &enc, &dur, &e);
    pthread_mutex_unlock(&l->rmu);
    pthread_mutex_lock(&l->mu);
    l->calls++;
    if (rc) {
        l->read_errors++;
        warn(l, "reading the prediction (the call runs at its user allocation)", &e);
        enc = 0;
        dur = 0;
    }
    if (enc == 0) {
        l->no_prediction++;
        enc = (int)user_encoded;       /* the fork: a missing prediction is the user limit */
    }
    run *r = calloc(1, sizeof *r);
    int pc = uc, pm = um;
    if (r && lf_decode(enc, &pc, &pm) == 0) {
        snprintf(r->id, sizeof r->id, "%s", activation_id);
        r->user[D_CPU] = uc;
        r->user[D_MEM] = um / HB_MEM_UNIT_MB;
        r->pred[D_CPU] = pc;
        r->pred[D_MEM] = pm / HB_MEM_UNIT_MB;
        int64_t now = wall_ms();       /* the invoker's clock, epoch ms, as the fork publishes */
        r->start_ms = now;
        r->dur_ms = dur;
        int m = decide(l, r, D_MEM, now), c = decide(l, r, D_CPU, now);
        *memory_mb = m * HB_MEM_UNIT_MB;
        *cpu = c;
        r->next = l->runs;
        l->runs = r;
    } else {
        free(r);
    }
    pthread_mutex_unlock(&l->mu);
}

/* ---- completion (spec 6.8, 6.9) ---- */

static char *summary(const run *r)
{
    lf_trajectory t = {
        .safeguard = 0,
        .mem_delta_mb = r->delta[D_MEM] * HB_MEM_UNIT_MB, .cpu_delta = r->delta[D_CPU],
        .mem_idle = r->idle[D_MEM] * HB_MEM_UNIT_MB, .cpu_idle = r->idle[D_CPU],
        .mem = r->traj[D_MEM].v, .n_mem = r->traj[D_MEM].n,
        .cpu = r->traj[D_CPU].v, .n_cpu = r->traj[D_CPU].n,
    };
    return lf_trajectory_format(&t);
}

void sv_libra_complete(sv_libra *l, const char *activation_id, int64_t now_ms)
{
    (void)now_ms;
    int64_t now = wall_ms();
    pthread_mutex_lock(&l->mu);
    run **pp = &l->runs;
    while (*pp && strcmp((*pp)->id, activation_id) != 0)
        pp = &(*pp)->next;
    run *r = *pp;
    if (!r) {
        pthread_mutex_unlock(&l->mu);
        return;
    }
    *pp = r->next;
    for (int d = 0; d < ND; d++) {
        /* 1. what it borrowed goes back to its lenders (those still running) */
        for (size_t i = 0; i < r->in[d].n; i++) {
            run *k = find_run(l, r->in[d].v[i].id);
            if (k)
                hrp_insert(l, &l->pool[d], k->id, r->in[d].v[i].amount, now, k->start_ms + k->dur_ms);
        }
        /* 2. its borrowers forget it (the fork also shrinks them: not possible here) */
        for (size_t i = 0; i < r->out[d].n; i++) {
            run *j = find_run(l, r->out[d].v[i].id);
            if (j)
                for (int e = 0; e < ND; e++)
                    items_remove(&j->in[e], r->id);
        }
        /* 3. its unlent harvest leaves the pool, counted as idle */
        entry *x = hrp_find(&l->pool[d], r->id);
        if (x) {
            r->idle[d] += (double)(now - x->s) * x->v;
            hrp_delete(&l->pool[d], x);
        }
    }
    char *text = summary(r);
    pthread_mutex_unlock(&l->mu);
    hb_error e;
    int rc = 1;
    if (text) {
        pthread_mutex_lock(&l->rmu);
        rc = lr_hset(l->redis, "invocations", r->id, text, NULL, NULL, &e);
        pthread_mutex_unlock(&l->rmu);
    }
    pthread_mutex_lock(&l->mu);
    if (!rc) {
        l->written++;
        free(text);
    } else if (text) {                 /* the publisher writes it once Redis is back */
        warn(l, "writing a trajectory (kept, written again later)", &e);
        pending *q = calloc(1, sizeof *q);
        if (q) {
            snprintf(q->id, sizeof q->id, "%s", r->id);
            q->summary = text;
            q->next = l->unwritten;
            l->unwritten = q;
        } else {
            free(text);
        }
    }
    pthread_mutex_unlock(&l->mu);
    run_free(r);
}

/* ---- the publisher ---- */

static char *pool_text(const hrp *p)
{
    lf_pool_entry *e = p->n ? calloc(p->n, sizeof *e) : NULL;
    if (p->n && !e)
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        snprintf(e[i].id, sizeof e[i].id, "%s", p->v[i].id);
        e[i].value = p->v[i].v;
        e[i].start_ms = p->v[i].s;
        e[i].end_ms = p->v[i].e;
    }
    char *t = lf_pool_format(e, p->n);
    free(e);
    return t;
}

static void publish(sv_libra *l)
{
    pthread_mutex_lock(&l->mu);
    char *mem = pool_text(&l->pool[D_MEM]), *cpu = pool_text(&l->pool[D_CPU]);
    pending *retry = l->unwritten;
    l->unwritten = NULL;
    pthread_mutex_unlock(&l->mu);
    char key[32];
    snprintf(key, sizeof key, "invoker%d", l->invoker);
    hb_error e;
    int failed = 0;
    pthread_mutex_lock(&l->rmu);
    if (mem && cpu && lr_hset(l->redis, key, "memory_summary", mem, "cpu_summary", cpu, &e))
        failed = 1;
    pending *keep = NULL;
    uint64_t done = 0;
    while (retry) {
        pending *q = retry;
        retry = q->next;
        if (!failed && lr_hset(l->redis, "invocations", q->id, q->summary, NULL, NULL, &e) == 0) {
            free(q->summary);
            free(q);
            done++;
        } else {
            failed = 1;
            q->next = keep;
            keep = q;
        }
    }
    pthread_mutex_unlock(&l->rmu);
    free(mem);
    free(cpu);
    pthread_mutex_lock(&l->mu);
    l->written += done;
    l->write_retries += done;
    if (failed)
        l->publish_errors++;
    while (keep) {
        pending *q = keep;
        keep = q->next;
        q->next = l->unwritten;
        l->unwritten = q;
    }
    pthread_mutex_unlock(&l->mu);
}

static void *publisher(void *arg)
{
    sv_libra *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stopping) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_nsec += PUBLISH_MS * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&l->cv, &l->mu, &dl);
        if (l->stopping)
            break;
        pthread_mutex_unlock(&l->mu);
        publish(l);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int sv_libra_start(const sv_libra_opts *o, sv_libra **out, hb_error *err)
{
    *out = NULL;
    sv_libra *l = calloc(1, sizeof *l);
    if (!l)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->rmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    l->invoker = o->invoker;
    l->quiet = o->quiet;
    lr_opts ro;
    int rc = lr_opts_init(&ro, o->redis, o->db, o->password_file,
                          o->timeout_ms > 0 ? o->timeout_ms : 1000, "--redis", err);
    if (!rc)
        rc = lr_open(&ro, &l->redis, err);
    lr_opts_free(&ro);
    if (!rc && pthread_create(&l->thread, NULL, publisher, l) != 0)
        rc = hb_fail(err, HB_EIO, "serve: cannot start a thread");
    if (rc) {
        lr_close(l->redis);
        pthread_mutex_destroy(&l->mu);
        pthread_mutex_destroy(&l->rmu);
        pthread_cond_destroy(&l->cv);
        free(l);
        return rc;
    }
    l->started = 1;
    *out = l;
    return 0;
}

void sv_libra_stop(sv_libra *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stopping = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (l->started)
        pthread_join(l->thread, NULL);
    publish(l);                        /* the last state, and what could not be written */
    size_t unwritten = 0;
    while (l->unwritten) {
        pending *q = l->unwritten;
        l->unwritten = q->next;
        free(q->summary);
        free(q);
        unwritten++;
    }
    if (!l->quiet)
        fprintf(stderr, "harvestbench serve: redis %s: %llu calls (%llu without a prediction: user "
                "allocation; %llu failed reads), %llu trajectories written (%llu late), %zu not "
                "written, %llu loans\n", lr_name(l->redis), (unsigned long long)l->calls,
                (unsigned long long)l->no_prediction, (unsigned long long)l->read_errors,
                (unsigned long long)l->written, (unsigned long long)l->write_retries, unwritten,
                (unsigned long long)l->lent);
    while (l->runs) {
        run *r = l->runs;
        l->runs = r->next;
        run_free(r);
    }
    for (int d = 0; d < ND; d++)
        free(l->pool[d].v);
    lr_close(l->redis);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->rmu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

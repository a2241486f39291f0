/* engine.c - see engine.h. */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "placement.h"
#include "seed.h"
#include "trace_mapping.h"

#define CHUNK 256

/* Records are carved from chunks the engine owns, so that calls still in flight when a run stops
 * are found (their policy state released) and freed with the chunks. */
typedef struct rec {
    hb_invocation inv;                 /* first: a record is reached from its hb_invocation */
    struct rec *next_free;
    int live;                          /* handed out and not yet done */
} rec;

typedef struct rec_chunk {
    struct rec_chunk *next;
    size_t used;
    rec recs[CHUNK];
} rec_chunk;

typedef struct engine {
    const hb_engine_spec *spec;
    const hb_policy_ops *pol;
    void *pstate;
    unsigned use;                      /* HB_CAP_* groups of the policy the engine calls */
    void *bstate;
    hb_invoker_state *ctl;             /* controller view of each invoker */
    hb_observation obs;
    gsl_rng *rng_place;
    rec *free_list;                    /* recycled records */
    size_t n_columns;                  /* the policy's extension columns */
    rec_chunk *chunks;
    uint64_t sent, ended;
    uint64_t id_key;                   /* hb_seed_derive(seed, "activation") */
    hb_time last_end;
    struct clip_invoker *wrap;         /* one per invoker: what invoker-side hooks are handed */
    const hb_func_config *funcs;       /* the run's function table, one per trace function */
    int n_funcs;
    hb_func_config *own_funcs;         /* the table when no experiment bound one to the config */
    gsl_rng *r_arr, *r_size, *r_pol;   /* the run's streams: arrivals, input sizes, the policy */
    hb_eventgen *gen;
    hb_shard_route *routes;            /* per trace function: its sharding route (step 0: not yet) */
    int policy_made;                   /* 1: the engine created the policy instance (and destroys it) */
} engine;

/* The invoker a policy's invoker-side hooks see: the backend's, with resize() clipped to the
 * function's ranges first, so that no policy can give a call more (or less) than any other could. */
typedef struct clip_invoker {
    hb_invoker pub;
    hb_invoker *real;
    engine *e;
} clip_invoker;

unsigned hb_engine_dropped(const hb_policy_ops *p, const hb_backend_ops *b)
{
    unsigned uses = 0;
    if (p->size || p->observe)
        uses |= HB_CAP_SIZING;
    if (p->place)
        uses |= HB_CAP_PLACEMENT;
    if (p->on_start || p->on_tick || p->on_end)
        uses |= HB_CAP_INVOKER;
    return uses & ~b->caps;
}

void hb_engine_policy_ctx(const hb_config *cfg, const char *name, hb_kvlist *params, gsl_rng *rng,
                          int training, unsigned caps, hb_policy_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->name = name;
    ctx->n_invokers = cfg->invokers;
    ctx->invoker_capacity = (hb_res){cfg->cores, cfg->memory_mb};
    ctx->funcs = hb_config_run_funcs(cfg, &ctx->n_funcs);
    ctx->rng = rng;
    ctx->params = params;
    ctx->config_dir = cfg->dir;
    ctx->monitor_interval = (hb_time)llround(cfg->monitor_ms * 1e3);
    ctx->training = training;
    ctx->backend_caps = caps;
}

/* ---- the clip ranges (hb_policy.h): every decision, every policy ---- */

/* Clips a into the ranges of inv's function. CPU is clipped only when it is a quota (cpu_hard):
 * CPU shares in proportion to memory (stock OpenWhisk) are a weight, not an amount a call gets.
 * Returns 1 if anything changed, and then counts the decision and flags the call. */
static int clip_alloc(engine *e, hb_invocation *inv, int cpu_hard, hb_res *a)
{
    const hb_func_config *fc = &e->funcs[inv->func];
    hb_res c = *a;
    if (cpu_hard)
        c.cpu = hb_clip(c.cpu, fc->cpu_clip[0], fc->cpu_clip[1]);
    c.mem_mb = hb_clip(c.mem_mb, fc->mem_clip_mb[0], fc->mem_clip_mb[1]);
    if (c.cpu == a->cpu && c.mem_mb == a->mem_mb)
        return 0;
    *a = c;
    inv->clipped = 1;
    e->spec->stats->clipped_decisions++;
    return 1;
}

static hb_time clip_now(void *impl)
{
    clip_invoker *w = impl;
    return w->real->ops->now(w->real->impl);
}

static int clip_resize(void *impl, hb_invocation *inv, hb_res alloc, hb_error *err)
{
    clip_invoker *w = impl;
    if (isfinite(alloc.cpu) && isfinite(alloc.mem_mb))   /* the backend rejects the others */
        clip_alloc(w->e, inv, inv->cpu_hard, &alloc);
    return hb_invoker_resize(w->real, inv, alloc, err);
}

static size_t clip_running(void *impl, hb_invocation *const **out)
{
    clip_invoker *w = impl;
    return w->real->ops->running(w->real->impl, out);
}

static const hb_invoker_ops clip_ops = {clip_now, clip_resize, clip_running};

/* The wrapper of the backend's invoker iv (made on first use; backends keep their handles). */
static hb_invoker *clipped_invoker(engine *e, hb_invoker *iv)
{
    if (!iv || iv->id < 0 || iv->id >= e->spec->cfg->invokers)
        return iv;
    clip_invoker *w = &e->wrap[iv->id];
    if (w->real != iv)
        *w = (clip_invoker){{iv->id, iv->capacity, &clip_ops, w}, iv, e};
    return &w->pub;
}

/* ---- records ---- */

static hb_invocation *record_new(engine *e)
{
    rec *r = e->free_list;
    if (r) {
        e->free_list = r->next_free;
    } else {
        if (!e->chunks || e->chunks->used == CHUNK) {
            rec_chunk *c = malloc(sizeof *c);
            if (!c)
                return NULL;
            c->next = e->chunks;
            c->used = 0;
            e->chunks = c;
        }
        r = &e->chunks->recs[e->chunks->used++];
    }
    memset(r, 0, sizeof *r);
    r->live = 1;
    return &r->inv;
}

/* The policy's per-call state goes back to it (hb_policy_ops.release). */
static void release_call(engine *e, hb_invocation *inv)
{
    if (inv->policy_data && e->pol->release)
        e->pol->release(e->pstate, inv);
    inv->policy_data = NULL;
}

static void record_free(engine *e, hb_invocation *inv)
{
    rec *r = (rec *)inv;
    release_call(e, inv);
    r->live = 0;
    r->next_free = e->free_list;
    e->free_list = r;
}

/* What the policy writes about an ended call (extension columns, artifact fields). */
static void call_ext(engine *e, const hb_invocation *inv, hb_column_value *v, hb_call_ext *ext)
{
    ext->n = e->n_columns;
    ext->v = v;
    ext->artifact = (hb_artifact_fields){NULL, 0, 0};
    for (size_t i = 0; i < e->n_columns; i++) {
        v[i] = (hb_column_value){NAN, NULL};
        if (e->pol->column)
            e->pol->column(e->pstate, inv, i, &v[i]);
    }
    if (e->pol->artifact && e->spec->writer)   /* only files have the artifact's fields */
        e->pol->artifact(e->pstate, inv, &ext->artifact);
}

/* ---- backend hooks ---- */

static int hook_start(void *ctx, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    engine *e = ctx;
    inv->started = 1;
    if ((e->use & HB_CAP_INVOKER) && e->pol->on_start)
        return e->pol->on_start(e->pstate, clipped_invoker(e, iv), inv, err);
    return 0;
}

static int hook_tick(void *ctx, hb_invoker *iv, const hb_usage_sample *s, size_t n, hb_error *err)
{
    engine *e = ctx;
    if ((e->use & HB_CAP_INVOKER) && e->pol->on_tick)
        return e->pol->on_tick(e->pstate, clipped_invoker(e, iv), s, n, err);
    return 0;
}

static int hook_end(void *ctx, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    engine *e = ctx;
    const hb_engine_spec *sp = e->spec;
    int rc = 0;
    if (inv->started && (e->use & HB_CAP_INVOKER) && e->pol->on_end &&
        (rc = e->pol->on_end(e->pstate, clipped_invoker(e, iv), inv, err)))
        return rc;
    if (inv->invoker >= 0 && inv->invoker < sp->cfg->invokers) {
        hb_invoker_state *c = &e->ctl[inv->invoker];
        c->inflight--;
        c->free.cpu += inv->reserve.cpu;
        c->free.mem_mb += inv->reserve.mem_mb;
    }
    e->obs.inflight--;
    e->obs.free.cpu += inv->reserve.cpu;
    e->obs.free.mem_mb += inv->reserve.mem_mb;
    e->ended++;
    if (inv->end > e->last_end)
        e->last_end = inv->end;
    hb_column_value v[HB_MAX_COLUMNS];
    hb_call_ext ext;
    call_ext(e, inv, v, &ext);
    if (hb_stats_add(sp->stats, inv, &ext))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (sp->writer && (rc = hb_writer_invocation(sp->writer, inv, &ext, err)))
        return rc;
    if ((e->use & HB_CAP_SIZING) && e->pol->observe)
        e->pol->observe(e->pstate, inv);
    if (sp->on_record)
        sp->on_record(sp->on_record_ctx, inv);
    record_free(e, inv);
    return 0;
}

static int hook_usage(void *ctx, const hb_usage_row *row, hb_error *err)
{
    engine *e = ctx;
    hb_stats_add_usage(e->spec->stats, row);
    return e->spec->writer ? hb_writer_usage(e->spec->writer, row, err) : 0;
}

/* ---- one call ---- */

static int size_call(engine *e, hb_invocation *inv, hb_error *err)
{
    const hb_config *cfg = e->spec->cfg;
    hb_sizing s;
    /* the default: stock OpenWhisk, memory limit and CPU shares in proportion to memory; alloc.cpu
     * is then the CPU the container is guaranteed under contention */
    s.alloc.mem_mb = inv->user.mem_mb;
    s.alloc.cpu = inv->user.mem_mb / cfg->memory_mb * cfg->cores;
    s.reserve = s.alloc;
    s.cpu_hard = 0;
    s.pred = (hb_res){-1, -1};
    s.pred_duration_s = -1;
    if ((e->use & HB_CAP_SIZING) && e->pol->size) {
        e->obs.now = e->spec->backend->now(e->bstate);
        int rc = e->pol->size(e->pstate, inv, &e->obs, &s, err);
        if (rc)
            return hb_error_wrap(err, "policy %s: sizing call %llu", e->pol->name,
                                 (unsigned long long)inv->index);
    }
    if (!isfinite(s.alloc.cpu) || !isfinite(s.alloc.mem_mb) || s.alloc.cpu < 0 ||
        !(s.alloc.mem_mb > 0) || !isfinite(s.reserve.cpu) || !isfinite(s.reserve.mem_mb))
        return hb_fail(err, HB_ERUN, "policy %s sized call %llu to (%g cores, %g MB): not a valid "
                       "allocation", e->pol->name, (unsigned long long)inv->index, s.alloc.cpu,
                       s.alloc.mem_mb);
    clip_alloc(e, inv, s.cpu_hard, &s.alloc);
    /* a call always holds at least what it starts with */
    s.reserve.cpu = fmax(s.reserve.cpu, s.alloc.cpu);
    s.reserve.mem_mb = fmax(s.reserve.mem_mb, s.alloc.mem_mb);
    inv->alloc_start = inv->alloc = s.alloc;
    inv->reserve = s.reserve;
    inv->cpu_hard = s.cpu_hard;
    inv->pred = s.pred;
    inv->pred_duration_s = s.pred_duration_s;
    return 0;
}

static int place_call(engine *e, hb_invocation *inv, hb_error *err)
{
    hb_cluster_view v = {e->spec->backend->now(e->bstate), e->spec->cfg->invokers, e->ctl,
                         e->rng_place};
    int k;
    if ((e->use & HB_CAP_PLACEMENT) && e->pol->place) {
        k = e->pol->place(e->pstate, inv, &v, err);
        if (k < 0 || k >= v.n)
            return k < 0 ? hb_error_wrap(err, "policy %s: placing call %llu", e->pol->name,
                                         (unsigned long long)inv->index)
                         : hb_fail(err, HB_ERUN, "policy %s placed call %llu on invoker %d of %d",
                                   e->pol->name, (unsigned long long)inv->index, k, v.n);
    } else {
        hb_shard_route *r = &e->routes[inv->trace_func];   /* it depends on the name: hashed once */
        if (r->step == 0)
            *r = hb_sharding_route(hb_sharding_name(inv), v.n);
        k = hb_place_sharding_routed(*r, inv, &v);
    }
    inv->invoker = k;
    e->ctl[k].inflight++;
    e->ctl[k].free.cpu -= inv->reserve.cpu;
    e->ctl[k].free.mem_mb -= inv->reserve.mem_mb;
    e->obs.inflight++;
    e->obs.free.cpu -= inv->reserve.cpu;
    e->obs.free.mem_mb -= inv->reserve.mem_mb;
    return 0;
}

static int dispatch(engine *e, const hb_event *ev, hb_error *err)
{
    const hb_engine_spec *sp = e->spec;
    hb_invocation *inv = record_new(e);
    if (!inv)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    inv->index = ev->index;
    hb_activation_id(e->id_key, ev->index, inv->activation_id);
    inv->func = ev->func;
    inv->workload = ev->workload;
    inv->trace_func = ev->trace_func;
    inv->trace_name = sp->trace->funcs[ev->trace_func].name;
    inv->input_size = ev->input_size;
    inv->user = e->funcs[ev->func].user;
    inv->timeout = e->funcs[ev->func].timeout;
    inv->arrival = ev->t;
    inv->invoker = -1;
    inv->base_duration_ms = -1;
    int rc = size_call(e, inv, err);
    if (!rc)
        rc = place_call(e, inv, err);
    if (rc) {
        record_free(e, inv);
        return rc;
    }
    e->sent++;
    return sp->backend->submit(e->bstate, inv, err);
}

static void progress(engine *e, double *next, int final)
{
    const hb_engine_spec *sp = e->spec;
    double now = hb_mono_s();
    if (!final && now < *next)
        return;
    *next = now + 0.25;
    uint64_t total = sp->trace->total;
    fprintf(stderr, "\r%s: %llu/%llu calls ended (%.0f%%), trace time %.0f s   ", sp->progress_label,
            (unsigned long long)e->ended, (unsigned long long)total,
            total ? 100.0 * (double)e->ended / (double)total : 100.0,
            hb_time_s(sp->backend->now(e->bstate)));
    if (final)
        fprintf(stderr, "\r%*s\r", 78, "");
    fflush(stderr);
}

/* The run's streams, the controller's view of the invokers, and the event generator. */
static int engine_alloc(engine *e, hb_error *err)
{
    const hb_engine_spec *sp = e->spec;
    const hb_config *cfg = sp->cfg;
    e->r_arr = hb_rng_new(sp->seed, "arrivals");
    e->r_size = hb_rng_new(sp->seed, "sizes");
    char stream[96];
    snprintf(stream, sizeof stream, "policy:%s", sp->policy->name);
    e->r_pol = hb_rng_new(sp->seed, stream);
    e->rng_place = hb_rng_new(sp->seed, "placement");
    e->id_key = hb_seed_derive(sp->seed, "activation");
    e->ctl = calloc((size_t)cfg->invokers, sizeof *e->ctl);
    e->wrap = calloc((size_t)cfg->invokers, sizeof *e->wrap);
    size_t nf = sp->trace->n_funcs ? sp->trace->n_funcs : 1;
    e->routes = calloc(nf, sizeof *e->routes);
    if (!e->r_arr || !e->r_size || !e->r_pol || !e->rng_place || !e->ctl || !e->wrap || !e->routes)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    for (int i = 0; i < cfg->invokers; i++)
        e->ctl[i] = (hb_invoker_state){0, {cfg->cores, cfg->memory_mb}, {cfg->cores, cfg->memory_mb}};
    e->obs.capacity = e->obs.free =
        (hb_res){cfg->cores * cfg->invokers, cfg->memory_mb * cfg->invokers};
    return hb_eventgen_new(sp->trace, sp->arrival, sp->sizes, e->r_arr, e->r_size, &e->gen, err);
}

/* The run's functions: the experiment's table when it bound one, else one built here from the
 * trace (the same rules: trace_mapping.h). */
static int bind_funcs(engine *e, hb_error *err)
{
    const hb_engine_spec *sp = e->spec;
    const hb_config *cfg = sp->cfg;
    if (cfg->run_funcs && cfg->run_funcs_trace == (const void *)sp->trace &&
        (size_t)cfg->n_run_funcs == sp->trace->n_funcs) {
        e->funcs = cfg->run_funcs;
        e->n_funcs = cfg->n_run_funcs;
        return 0;
    }
    int rc = hb_run_funcs_build(cfg, sp->trace, sp->profile, &e->own_funcs, err);
    e->funcs = e->own_funcs;
    e->n_funcs = (int)sp->trace->n_funcs;
    return rc;
}

/* The statistics: the policy's extension columns, the capacity, the statistics window. */
static int stats_setup(engine *e, hb_error *err)
{
    const hb_engine_spec *sp = e->spec;
    const hb_config *cfg = sp->cfg;
    int rc = hb_columns_check(sp->policy->columns, sp->policy->name, err);
    if (rc)
        return rc;
    e->n_columns = hb_columns_count(sp->policy->columns);
    hb_stats_columns(sp->stats, sp->policy->columns);
    sp->stats->cpu_capacity = cfg->cores * cfg->invokers;
    sp->stats->mem_capacity_mb = cfg->memory_mb * cfg->invokers;
    if (cfg->warmup_s > 0 || cfg->drain_s > 0) {
        /* the statistics window: the trace's span less its first warmup_s and last drain_s */
        double span = 60.0 * (double)sp->trace->n_minutes;
        sp->stats->windowed = 1;
        sp->stats->win_lo = (hb_time)llround(cfg->warmup_s * 1e6);
        sp->stats->win_hi = (hb_time)llround(fmax(span - cfg->drain_s, 0.0) * 1e6);
    }
    return 0;
}

/* The policy instance: the caller's (training), else one created here with the run's context. */
static int policy_open(engine *e, hb_error *err)
{
    const hb_engine_spec *sp = e->spec;
    if (sp->policy_state) {
        e->pstate = sp->policy_state;
        return 0;
    }
    if (sp->policy->create) {
        hb_policy_ctx ctx;
        hb_engine_policy_ctx(sp->cfg, sp->policy->name, sp->policy_params, e->r_pol, sp->training,
                             sp->backend->caps, &ctx);
        ctx.funcs = e->funcs;
        ctx.n_funcs = e->n_funcs;
        int rc = sp->policy->create(&ctx, &e->pstate, err);
        if (rc) {
            hb_error_wrap(err, "policy %s", sp->policy->name);
            return rc;
        }
        e->policy_made = 1;
    }
    return hb_config_check_used(sp->policy_params, err);
}

static int backend_open(engine *e, hb_error *err)
{
    const hb_engine_spec *sp = e->spec;
    const hb_config *cfg = sp->cfg;
    hb_backend_hooks hooks = {e, hook_start, hook_tick, hook_end, hook_usage, 0};
    if ((e->use & HB_CAP_INVOKER) && sp->policy->on_tick)
        hooks.tick_interval = (hb_time)llround(cfg->monitor_ms * 1e3);
    hb_backend_args args = {
        .n_invokers = cfg->invokers,
        .capacity = {cfg->cores, cfg->memory_mb},
        .keep_alive = (hb_time)llround(cfg->keep_alive_s * 1e6),
        .monitor = (hb_time)llround(cfg->monitor_ms * 1e3),
        .cold_start = cfg->cold_start_ms < 0 ? -1 : (hb_time)llround(cfg->cold_start_ms * 1e3),
        .cv = cfg->workload_cv,
        .n_funcs = e->n_funcs,
        .funcs = e->funcs,
        .workloads = cfg->funcs,
        .profile = sp->profile,
        .seed = sp->seed,
        .params = sp->backend_params,
        .config_dir = cfg->dir,
        .usage_rows = sp->usage,
        .time_scale = cfg->time_scale,
        .stop = sp->stop,
    };
    int rc = sp->backend->open(&args, &hooks, &e->bstate, err);
    return rc ? rc : hb_config_check_used(sp->backend_params, err);
}

/* The replay: each arrival after the backend has run up to its time, then the drain. */
static int replay(engine *e, hb_error *err)
{
    const hb_engine_spec *sp = e->spec;
    double next_progress = 0;
    hb_event ev;
    int rc;
    for (hb_time t; (t = hb_eventgen_peek(e->gen)) != HB_TIME_NEVER;) {
        if ((rc = sp->backend->advance(e->bstate, t, err)))
            return rc;
        if (sp->stop && *sp->stop)
            return hb_fail(err, HB_EINTR, "stopped by a signal");
        if (hb_eventgen_next(e->gen, &ev) < 0)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        if ((rc = dispatch(e, &ev, err)))
            return rc;
        if (sp->progress_label && (e->sent & 1023) == 0)
            progress(e, &next_progress, 0);
    }
    if ((rc = sp->backend->drain(e->bstate, err)))
        return rc;
    if (e->ended != e->sent)
        rc = hb_fail(err, HB_ERUN, "%llu calls were sent but %llu ended",
                     (unsigned long long)e->sent, (unsigned long long)e->ended);
    sp->stats->makespan = e->last_end;
    if (sp->progress_label)
        progress(e, &next_progress, 1);
    return rc;
}

/* Closes the backend, gives the policy the state of calls that never ended (a stopped or failed
 * run) and destroys it if the engine made it, and frees the rest. */
static void engine_close(engine *e)
{
    const hb_engine_spec *sp = e->spec;
    if (e->bstate)
        sp->backend->close(e->bstate);
    for (rec_chunk *c = e->chunks; c; c = c->next)
        for (size_t i = 0; i < c->used; i++)
            if (c->recs[i].live)
                release_call(e, &c->recs[i].inv);
    if (e->policy_made && sp->policy->destroy)
        sp->policy->destroy(e->pstate);
    while (e->chunks) {
        rec_chunk *c = e->chunks;
        e->chunks = c->next;
        free(c);
    }
    hb_eventgen_free(e->gen);
    free(e->ctl);
    free(e->routes);
    free(e->wrap);
    free(e->own_funcs);
    gsl_rng_free(e->r_arr);
    gsl_rng_free(e->r_size);
    gsl_rng_free(e->r_pol);
    gsl_rng_free(e->rng_place);
}

int hb_engine_run(const hb_engine_spec *sp, hb_error *err)
{
    double t_wall = hb_mono_s();
    engine e;
    memset(&e, 0, sizeof e);
    e.spec = sp;
    e.pol = sp->policy;
    unsigned dropped = hb_engine_dropped(sp->policy, sp->backend);
    e.use = (HB_CAP_SIZING | HB_CAP_PLACEMENT | HB_CAP_INVOKER) & ~dropped;
    int rc = engine_alloc(&e, err);
    if (!rc)
        rc = bind_funcs(&e, err);
    if (!rc)
        rc = stats_setup(&e, err);
    if (!rc)
        rc = policy_open(&e, err);
    if (!rc)
        rc = backend_open(&e, err);
    if (!rc)
        rc = replay(&e, err);
    engine_close(&e);
    sp->stats->wall_seconds = hb_mono_s() - t_wall;
    return rc;
}

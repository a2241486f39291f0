/* libra_trainer.c - see libra_trainer.h. */
#include "libra_trainer.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "experiment_run.h"
#include "files.h"
#include "seed.h"

static const char *const TARGETS[HB_NTARGETS] = {"cpu", "memory", "duration"};

/* ---- profiling ---- */

size_t lt_grid(int f, int n, double *out)
{
    const hb_function *fn = &hb_functions[f];
    double lo = (double)fn->size_base * fn->size_lo, hi = (double)fn->size_base * (fn->size_hi - 1);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        double x = n == 1 ? lo : round(lo + (hi - lo) * i / (n - 1));
        if (k == 0 || x != out[k - 1])
            out[k++] = x;
    }
    return k;
}

/* The profiling policy: every call at 8 cores (a quota) and 1024 MB, holding just that. */
static int profile_size(void *state, const hb_invocation *inv, const hb_observation *obs,
                        hb_sizing *out, hb_error *err)
{
    (void)state, (void)inv, (void)obs, (void)err;
    out->alloc = out->reserve = (hb_res){LT_CORES, LT_MEM_MB};
    out->cpu_hard = 1;
    return 0;
}

static const hb_policy_ops profile_policy = {
    .name = "libra-profiling",
    .summary = "8 cores and 1024 MB for every call (train libra)",
    .size = profile_size,
};

typedef struct collect {
    lt_obs *obs;
    size_t n, failed;
    int not_cold;
} collect;

static void on_record(void *ctx, const hb_invocation *inv)
{
    collect *c = ctx;
    if (!inv->cold_start)
        c->not_cold++;
    if (inv->outcome != HB_SUCCESS) {
        c->failed++;
        return;
    }
    c->obs[c->n++] = (lt_obs){inv->workload, (double)inv->input_size, inv->cpu_peak, inv->mem_peak_mb,
                              hb_time_s(inv->end - inv->start)};
}

/* One trace row per function and one call per minute, in order: function, size, repetition. */
static int profiling_trace(const lt_profile_opts *o, hb_trace **out, hb_error *err)
{
    *out = NULL;
    double *grid = malloc((size_t)o->sizes * sizeof *grid);
    size_t ns[HB_NWORKLOADS], total = 0;
    if (!grid)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    for (int f = 0; f < HB_NWORKLOADS; f++)
        total += (ns[f] = lt_grid(f, o->sizes, grid)) * (size_t)o->reps;
    hb_trace *t = calloc(1, sizeof *t);
    if (t) {
        t->funcs = calloc(HB_NWORKLOADS, sizeof *t->funcs);
        t->counts = calloc(HB_NWORKLOADS * total, sizeof *t->counts);
        t->sizes = malloc(total * sizeof *t->sizes);
    }
    if (!t || !t->funcs || !t->counts || !t->sizes) {
        free(grid);
        hb_trace_free(t);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    snprintf(t->source, sizeof t->source, "train libra: profiling grid");
    snprintf(t->format, sizeof t->format, "synthetic");
    t->n_funcs = HB_NWORKLOADS;
    t->n_minutes = t->n_sizes = total;
    t->total = total;
    size_t m = 0;
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        hb_trace_func *tf = &t->funcs[f];
        snprintf(tf->name, sizeof tf->name, "%s", hb_functions[f].id);
        snprintf(tf->trigger, sizeof tf->trigger, "profiling");
        tf->bench = f;
        tf->dur_avg_ms = tf->mem_avg_mb = -1;
        tf->total = ns[f] * (size_t)o->reps;
        lt_grid(f, o->sizes, grid);
        for (size_t i = 0; i < ns[f]; i++)
            for (int r = 0; r < o->reps; r++, m++) {
                t->counts[(size_t)f * total + m] = 1;
                t->sizes[m] = (int64_t)grid[i];
            }
    }
    free(grid);
    *out = t;
    return 0;
}

/* The configuration keys profiling overrides, to be put back. */
typedef struct saved_keys {
    int invokers, n_policies, seeds;
    double cores, mem, keep;
    uint64_t seed;
    char policies[HB_MAX_POLICIES][32], backend[32];
    hb_func_config funcs[HB_NWORKLOADS];
} saved_keys;

/* Each call alone: the invoker holds exactly one call's allocation, so a second one waits for the
 * first to end (and one call per minute rarely waits at all); nothing stays warm. The engine clips
 * every decision to the functions' ranges; profiling measures peaks with the whole invoker, outside
 * them. One run of the profiling policy on the simulator. */
static void profiling_keys(hb_config *cfg, uint64_t seed, saved_keys *sv)
{
    sv->invokers = cfg->invokers;
    sv->n_policies = cfg->n_policies;
    sv->seeds = cfg->seeds;
    sv->cores = cfg->cores;
    sv->mem = cfg->memory_mb;
    sv->keep = cfg->keep_alive_s;
    sv->seed = cfg->seed;
    memcpy(sv->policies, cfg->policies, sizeof sv->policies);
    memcpy(sv->backend, cfg->backend, sizeof sv->backend);
    memcpy(sv->funcs, cfg->funcs, sizeof sv->funcs);
    cfg->invokers = 1;
    cfg->cores = LT_CORES;
    cfg->memory_mb = LT_MEM_MB;
    cfg->keep_alive_s = 0;
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        cfg->funcs[f].cpu_clip[0] = 0;
        cfg->funcs[f].cpu_clip[1] = LT_CORES;
        cfg->funcs[f].mem_clip_mb[0] = 0;
        cfg->funcs[f].mem_clip_mb[1] = LT_MEM_MB;
    }
    snprintf(cfg->policies[0], sizeof cfg->policies[0], "%s", profile_policy.name);
    cfg->n_policies = 1;
    cfg->seeds = 1;
    cfg->seed = seed;
    snprintf(cfg->backend, sizeof cfg->backend, "sim");
}

static void restore_keys(hb_config *cfg, const saved_keys *sv)
{
    cfg->invokers = sv->invokers;
    cfg->cores = sv->cores;
    cfg->memory_mb = sv->mem;
    cfg->keep_alive_s = sv->keep;
    memcpy(cfg->funcs, sv->funcs, sizeof sv->funcs);
    memcpy(cfg->policies, sv->policies, sizeof sv->policies);
    cfg->n_policies = sv->n_policies;
    cfg->seeds = sv->seeds;
    cfg->seed = sv->seed;
    memcpy(cfg->backend, sv->backend, sizeof sv->backend);
}

int lt_profile(hb_experiment *x, const lt_profile_opts *o, lt_obs **out, size_t *n, size_t *failed,
               hb_error *err)
{
    *out = NULL;
    *n = *failed = 0;
    if (o->sizes < 1 || o->reps < 1)
        return hb_fail(err, HB_EINPUT, "train libra: need at least one size and one repetition");
    hb_trace *tr;
    int rc = profiling_trace(o, &tr, err);
    if (rc)
        return rc;
    collect c = {calloc(tr->total, sizeof *c.obs), 0, 0, 0};
    if (!c.obs) {
        hb_trace_free(tr);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    saved_keys sv;
    profiling_keys(&x->cfg, o->seed, &sv);
    hb_trace *trace0 = x->trace;       /* the profiling grid, in order, at its own sizes */
    hb_arrival arrival0 = x->arrival;
    hb_sizes sizes0 = x->sizes;
    x->trace = tr, x->arrival = HB_ARRIVAL_EVEN, x->sizes = HB_SIZES_FILE;
    const hb_policy_ops *extra[] = {&profile_policy};
    hb_run_spec spec = {.x = x, .no_files = 1, .no_latencies = 1, .training = 1,
                        .extra_policies = extra, .n_extra_policies = 1, .on_record = on_record,
                        .on_record_ctx = &c};
    hb_run_result *res = NULL;
    rc = hb_experiment_run(&spec, &res, err);
    hb_run_result_free(res);
    x->trace = trace0, x->arrival = arrival0, x->sizes = sizes0;
    restore_keys(&x->cfg, &sv);
    if (!rc && c.not_cold)
        rc = hb_fail(err, HB_ERUN, "%d calls were warm starts", c.not_cold);
    hb_trace_free(tr);
    if (rc) {
        free(c.obs);
        return hb_error_wrap(err, "train libra: profiling");
    }
    *out = c.obs;
    *n = c.n;
    *failed = c.failed;
    return 0;
}

double lt_target(const lt_obs *o, int target)
{
    switch (target) {
    case HB_TARGET_CPU:
        return hb_clip(floor(o->cpu_peak) + 1, 1, LT_CLASSES);
    case HB_TARGET_MEM:
        return hb_clip(floor(o->mem_peak_mb / HB_MEM_UNIT_MB) + 1, 1, LT_CLASSES);
    default:
        return o->dur_s;
    }
}

/* ---- fitting ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int in_sorted(const double *a, size_t n, double x)
{
    return bsearch(&x, a, n, sizeof *a, cmp_double) != NULL;
}

void lt_model_free(lt_model *m)
{
    hb_predictor_table_free(m->table);
    for (int f = 0; f < HB_NWORKLOADS; f++)
        for (int k = 0; k < HB_NTARGETS; k++)
            lf_free(m->forest[f][k]);
    memset(m, 0, sizeof *m);
}

/* The artifact's own prediction of a target (its class or duration, unclipped). */
static double artifact_value(const hb_predictor_table *a, int f, int k, double x)
{
    double v = hb_step_eval(&a->f[f][k], x);
    return k == HB_TARGET_DUR ? v : floor(v);
}

/* The table must equal the forest at every profiled size and on both sides of every breakpoint. */
static int check_export(lf_forest *fo, const hb_step_fn *fn, const double *sizes, size_t ns,
                        hb_error *err)
{
    size_t n = ns + 2 * fn->n;
    double *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v);
    int rc = 0;
    if (!x || !v) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < ns; i++)
        x[k++] = sizes[i];
    for (size_t i = 0; i < fn->n; i++)
        if (isfinite(fn->s[i].x_le)) {
            x[k++] = fn->s[i].x_le;
            x[k++] = fn->s[i].x_le + 1;
        }
    if ((rc = lf_predict(fo, x, k, v, err)))
        goto done;
    for (size_t i = 0; i < k; i++)
        if ((float)hb_step_eval(fn, x[i]) != (float)v[i]) {
            rc = hb_fail(err, HB_ERUN, "the exported table gives %.9g at size %.0f, the forest %.9g",
                         hb_step_eval(fn, x[i]), x[i], v[i]);
            break;
        }
done:
    free(x);
    free(v);
    return rc;
}

static void score(const lt_obs *obs, size_t n, int f, int k, const double *test, size_t nt,
                  const hb_step_fn *fn, const hb_predictor_table *art, lt_score *s)
{
    double hit = 0, ahit = 0, sse = 0, asse = 0, sum = 0, sum2 = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (obs[i].func != f || !in_sorted(test, nt, obs[i].size))
            continue;
        double y = lt_target(&obs[i], k), p = hb_step_eval(fn, obs[i].size);
        double a = artifact_value(art, f, k, obs[i].size);
        hit += p == y;
        ahit += a == y;
        sse += (p - y) * (p - y);
        asse += (a - y) * (a - y);
        sum += y;
        sum2 += y * y;
        m++;
    }
    s->n_test = m;
    s->accuracy = s->mse = s->r2 = s->artifact_accuracy = s->artifact_mse = NAN;
    if (m == 0)
        return;
    if (k != HB_TARGET_DUR) {
        s->accuracy = hit / (double)m;
        s->artifact_accuracy = ahit / (double)m;
        return;
    }
    double sst = sum2 - sum * sum / (double)m;
    s->mse = sse / (double)m;
    s->artifact_mse = asse / (double)m;
    s->r2 = sst > 1e-12 ? 1 - sse / sst : NAN;
}

/* The distinct sizes of function f, sorted. */
static size_t sizes_of(const lt_obs *obs, size_t n, int f, double *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (obs[i].func == f)
            out[k++] = obs[i].size;
    qsort(out, k, sizeof *out, cmp_double);
    size_t w = 0;
    for (size_t i = 0; i < k; i++)
        if (w == 0 || out[i] != out[w - 1])
            out[w++] = out[i];
    return w;
}

/* Work arrays of fit_function, sized for every observation. */
typedef struct fit_buf {
    double *all, *train, *test, *x, *y;
} fit_buf;

static int fit_function(const lt_obs *obs, size_t n, int f, const lt_fit_opts *o, gsl_rng *split,
                        const hb_predictor_table *art, fit_buf *b, lt_model *m, hb_error *err)
{
    size_t ns = sizes_of(obs, n, f, b->all);
    if (ns == 0)
        return hb_fail(err, HB_ERUN, "train libra: function %s: no successful profiling call",
                       hb_functions[f].id);
    /* held out: a seeded draw of whole sizes (every repetition of a size on the same side), so the
     * score is on sizes the forest never saw */
    size_t nt = (size_t)llround(o->test_share * (double)ns);
    if (nt >= ns)
        nt = ns - 1;
    memcpy(b->train, b->all, ns * sizeof *b->all);
    gsl_ran_shuffle(split, b->train, ns, sizeof *b->train);
    memcpy(b->test, b->train, nt * sizeof *b->test);
    memmove(b->train, b->train + nt, (ns - nt) * sizeof *b->train);
    qsort(b->test, nt, sizeof *b->test, cmp_double);
    qsort(b->train, ns - nt, sizeof *b->train, cmp_double);
    for (int k = 0; k < HB_NTARGETS; k++) {
        size_t nr = 0;
        for (size_t i = 0; i < n; i++)
            if (obs[i].func == f && in_sorted(b->train, ns - nt, obs[i].size)) {
                b->x[nr] = obs[i].size;
                b->y[nr++] = lt_target(&obs[i], k);
            }
        char stream[64], what[32];
        snprintf(stream, sizeof stream, "train-libra:forest:%s:%s", hb_functions[f].id, TARGETS[k]);
        snprintf(what, sizeof what, "%s %s", hb_functions[f].id, TARGETS[k]);
        lf_params p = lf_defaults(k == HB_TARGET_DUR ? 0 : LT_CLASSES,
                                  (int)(hb_seed_derive(o->seed, stream) & 0x7fffffff));
        p.trees = o->trees;
        hb_step_fn *fn = &m->table->f[f][k];
        int rc = lf_train(b->x, b->y, nr, &p, &m->forest[f][k], err);
        if (!rc)
            rc = lf_export(m->forest[f][k], fn, err);
        if (!rc)
            rc = check_export(m->forest[f][k], fn, b->all, ns, err);
        if (rc)
            return hb_error_wrap(err, "train libra: %s", what);
        lt_score *s = &m->score[f][k];
        s->n_train = nr;
        s->sizes_train = ns - nt;
        s->sizes_test = nt;
        s->pieces = fn->n;
        score(obs, n, f, k, b->test, nt, fn, art, s);
    }
    return 0;
}

int lt_fit(const lt_obs *obs, size_t n, const lt_fit_opts *o, lt_model *m, hb_error *err)
{
    memset(m, 0, sizeof *m);
    if (!(o->test_share >= 0 && o->test_share <= 0.9) || o->trees < 1)
        return hb_fail(err, HB_EINPUT, "train libra: test share %g outside [0, 0.9] or %d trees",
                       o->test_share, o->trees);
    hb_predictor_table *art = NULL;
    gsl_rng *split = hb_rng_new(o->seed, "train-libra:split");
    fit_buf b = {0};
    size_t cap = n ? n : 1;
    b.all = malloc(cap * sizeof *b.all);
    b.train = malloc(cap * sizeof *b.train);
    b.test = malloc(cap * sizeof *b.test);
    b.x = malloc(cap * sizeof *b.x);
    b.y = malloc(cap * sizeof *b.y);
    m->table = calloc(1, sizeof *m->table);
    int rc = 0;
    if (!split || !b.all || !b.train || !b.test || !b.x || !b.y || !m->table) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(m->table->source, sizeof m->table->source, "train libra");
    if ((rc = hb_predictor_table_load(NULL, &art, err)))
        goto done;
    for (int f = 0; f < HB_NWORKLOADS && !rc; f++)
        rc = fit_function(obs, n, f, o, split, art, &b, m, err);
done:
    hb_predictor_table_free(art);
    gsl_rng_free(split);
    free(b.all);
    free(b.train);
    free(b.test);
    free(b.x);
    free(b.y);
    if (rc)
        lt_model_free(m);
    return rc;
}

/* ---- files ---- */

static void fmt_x(double x, char *buf, size_t len)
{
    if (isinf(x))
        snprintf(buf, len, "%s", x < 0 ? "-inf" : "inf");
    else
        snprintf(buf, len, "%.17g", x);
}

/* Classes as integers; durations as the shortest text that reads back as the forest's float. */
static void fmt_v(double v, int target, char *buf, size_t len)
{
    if (target != HB_TARGET_DUR) {
        snprintf(buf, len, "%.0f", v);
        return;
    }
    for (int p = 1; p <= 9; p++) {     /* 9 significant digits always read back as the float */
        snprintf(buf, len, "%.*g", p, v);
        if ((float)strtod(buf, NULL) == (float)v)
            return;
    }
}

int lt_write_table(const hb_predictor_table *t, const char *header, const char *path, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, NULL, path, err);
    if (rc)
        return rc;
    for (const char *s = header; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        fprintf(a.f, "#%s%.*s\n", n ? " " : "", (int)n, s);
        s += n + (nl ? 1 : 0);
    }
    fprintf(a.f, "function_id,target,x_gt,x_le,value\n");
    for (int f = 0; f < HB_NWORKLOADS; f++)
        for (int k = 0; k < HB_NTARGETS; k++) {
            const hb_step_fn *fn = &t->f[f][k];
            for (size_t i = 0; i < fn->n; i++) {
                char gt[40], le[40], v[40];
                fmt_x(fn->s[i].x_gt, gt, sizeof gt);
                fmt_x(fn->s[i].x_le, le, sizeof le);
                fmt_v(fn->s[i].v, k, v, sizeof v);
                fprintf(a.f, "%s,%s,%s,%s,%s\n", hb_functions[f].id, TARGETS[k], gt, le, v);
            }
        }
    return hb_afile_commit(&a, err);
}

static void csv_num(FILE *f, double v, int last)
{
    if (isnan(v))
        fputs(last ? "\n" : ",", f);
    else
        fprintf(f, "%.6g%s", v, last ? "\n" : ",");
}

int lt_write_accuracy(const lt_model *m, const char *path, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, NULL, path, err);
    if (rc)
        return rc;
    fprintf(a.f, "function_id,target,sizes_train,sizes_test,n_train,n_test,pieces,accuracy,mse,r2,"
                 "artifact_accuracy,artifact_mse\n");
    for (int f = 0; f < HB_NWORKLOADS; f++)
        for (int k = 0; k < HB_NTARGETS; k++) {
            const lt_score *s = &m->score[f][k];
            fprintf(a.f, "%s,%s,%zu,%zu,%zu,%zu,%zu,", hb_functions[f].id, TARGETS[k], s->sizes_train,
                    s->sizes_test, s->n_train, s->n_test, s->pieces);
            csv_num(a.f, s->accuracy, 0);
            csv_num(a.f, s->mse, 0);
            csv_num(a.f, s->r2, 0);
            csv_num(a.f, s->artifact_accuracy, 0);
            csv_num(a.f, s->artifact_mse, 1);
        }
    return hb_afile_commit(&a, err);
}

int lt_write_models(lt_model *m, const char *dir, hb_error *err)
{
    int rc = hb_mkdirs(dir, err);
    for (int f = 0; f < HB_NWORKLOADS && !rc; f++)
        for (int k = 0; k < HB_NTARGETS && !rc; k++) {
            char path[HB_PATH_MAX + 64];
            snprintf(path, sizeof path, "%s/%s_%s.json", dir, hb_functions[f].id, TARGETS[k]);
            rc = lf_save_json(m->forest[f][k], path, err);
        }
    return rc;
}

void lt_print_scores(const lt_model *m, FILE *out)
{
    fprintf(out, "held-out scores (the artifact's own predictor on the same calls in brackets):\n"
                 "  function  cpu accuracy     memory accuracy  duration MSE (s^2)      R^2     "
                 "pieces cpu/mem/dur\n");
    double acc[2] = {0, 0};
    int n = 0;
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        const lt_score *c = &m->score[f][HB_TARGET_CPU], *me = &m->score[f][HB_TARGET_MEM],
                       *d = &m->score[f][HB_TARGET_DUR];
        fprintf(out, "  %-8s  %5.3f (%5.3f)    %5.3f (%5.3f)    %8.4f (%8.4f)    %7.3f  %zu/%zu/%zu\n",
                hb_functions[f].id, c->accuracy, c->artifact_accuracy, me->accuracy,
                me->artifact_accuracy, d->mse, d->artifact_mse, d->r2, c->pieces, me->pieces,
                d->pieces);
        if (!isnan(c->accuracy)) {
            acc[0] += c->accuracy;
            acc[1] += me->accuracy;
            n++;
        }
    }
    if (n)
        fprintf(out, "  mean      %5.3f            %5.3f\n", acc[0] / n, acc[1] / n);
}

/* ---- provenance ---- */

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void lt_header(const lt_provenance *p, char *out, size_t len)
{
    char ver[64], split[HB_PATH_MAX + 160];
    lf_library_version(ver, sizeof ver);
    lf_params fp = lf_defaults(LT_CLASSES, 0);
    if (p->test_share > 0)
        snprintf(split, sizeof split, "trained on %g%% of each function's sizes, scored on the "
                 "others (%s)", 100 * (1 - p->test_share), base_name(p->accuracy_path));
    else
        snprintf(split, sizeof split, "trained on every size, no held-out score");
    snprintf(out, len,
             "Libra's trained predictors (docs/libra.md, \"Trained predictors\"): per function,\n"
             "random forests of the input size, exported exactly as step functions (equal to the\n"
             "forest at every integer size); intervals (x_gt, x_le].\n"
             "made by: harvestbench train libra %s --reps %ld --sizes %ld --seed %llu "
             "--test-share %g\n"
             "workload: the %s profile (%s), on the simulator, usage = %s;\n"
             "every call alone and cold at %g cores (CPU quota) and %g MB;\n"
             "%zu calls profiled, %zu failed (not used).\n"
             "targets: cpu = int(peak cores)+1 and memory = int(peak MB/128)+1, clipped to 1..%d\n"
             "(the forest regresses on the class, its mean rounded half up);\n"
             "duration = OpenWhisk duration (init + execution), s.\n"
             "forests: %s, random-forest mode: %d trees, subsample %g, colsample_bynode 1,\n"
             "learning_rate 1, lambda 0, max_depth %d, tree_method exact, one round;\n"
             "%s;\nxgboost models: %s/",
             p->config_path, p->reps, p->sizes, (unsigned long long)p->seed, p->test_share,
             p->profile->name, p->profile->source,
             p->profile->usage == HB_USAGE_TIMELINE ? "timeline (cpu peak: the 100 ms monitor's)" : "flat",
             LT_CORES, LT_MEM_MB, p->profiled, p->failed, LT_CLASSES, ver, fp.trees, fp.subsample,
             fp.max_depth, split, base_name(p->models_dir));
}

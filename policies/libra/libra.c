/* libra.c - Libra (HPDC'23): harvest what calls predictably will not use, lend it to calls that need
 * more, place calls that need more where harvested resources cover them, and give everything back
 * safely (docs/libra.md; the artifact's behaviour: libra-algorithm spec sections 4 and 6).
 *
 *   size      predicts (CPU cores, memory, duration) from the input size and clips it to the
 *             function's range; the call starts at, and reserves, its user allocation.
 *   place     calls that need no more than their user allocation go to join-shortest-queue; the
 *             others to the invoker whose harvest pools best cover their deficit over their
 *             predicted window (CPU weighted 0.9, memory 0.1).
 *   on_start  (the invoker) a call predicted below its user allocation shrinks to the prediction and
 *             puts the difference in the invoker's pool; one predicted above borrows up to the
 *             difference, latest-predicted-end lender first, partial grants allowed.
 *   on_tick   the safeguard: a lender whose usage reaches the threshold of its reduced allocation is
 *             restored to its user allocation, taking back what it lent.
 *   on_end    (any outcome) what it borrowed returns to its lenders' pool entries, what it lent is
 *             taken back from its borrowers, its unlent harvest leaves the pool.
 * The design space ([policy.libra] keys, docs/libra.md, "The design space"): borrow = continuous re-offers
 * the pool to running calls below their prediction at every tick and whenever resource enters the
 * pool; admit = predicted admits a call at min(prediction, user allocation), so lent resource is also
 * free capacity and every grow is capped by what the invoker has not allocated; placement = jsq places
 * every call by join-shortest-queue; safeguard = off and safeguard_threshold tune the safeguard.
 * A call's state (libra_call) lives on inv->policy_data from on_start until the engine's release:
 * its unlent harvest is written as the extension columns pool_idle_cpu_s and pool_idle_mem_mb_s,
 * and its trajectory as the artifact's history string.
 * libra-np is the same invoker side with a moving-window estimate instead of the predictor. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harvest_pool.h"
#include "hb_backend.h"
#include "libra.h"
#include "predictor.h"

#define EPS 1e-9
enum { D_MEM, D_CPU, ND };

static double get(hb_res r, int d) { return d == D_MEM ? r.mem_mb : r.cpu; }
static void set(hb_res *r, int d, double v)
{
    if (d == D_MEM)
        r->mem_mb = v;
    else
        r->cpu = v;
}

/* A loan as the history string names it; formatted only when the history is written. */
typedef struct traj_entry {
    char id[sizeof ((hb_invocation *)0)->activation_id];   /* the other call's */
    double v;                          /* + received, - lent */
} traj_entry;

typedef struct traj {
    traj_entry *e;
    size_t n, cap;
} traj;

typedef struct libra_call {
    hb_invocation *inv;
    hb_time start, pred_end;
    int lends[ND];                     /* has an entry in the pool of that dimension */
    double delta0[ND];                 /* at start: minus harvested, plus borrowed (MB, cores) */
    double idle[ND];                   /* unlent harvest x microseconds */
    int restore[ND];                   /* safeguarded, still below its user allocation (admit =
                                        * predicted: restored as the invoker's capacity frees) */
    traj t[ND];                        /* "otherId:+v" received, "otherId:-v" lent */
    char *history;                     /* the artifact's history string: room made at on_end,
                                        * written by the artifact hook (only runs that write it) */
    size_t history_cap;
    struct libra_call *prev, *next;    /* every call not yet released, for clean-up */
} libra_call;

typedef struct loan {
    libra_call *lender, *borrower;
    int dim;
    double amount;
} loan;

typedef struct libra_invoker {
    harvest_pool pool[ND];
    loan *loans;
    size_t n_loans, cap_loans;
} libra_invoker;

typedef struct libra {
    const char *name;
    libra_predictor pred;
    const hb_func_config *funcs;
    int n_invokers;
    libra_invoker *iv;
    libra_call *live;
    int invoker_side;                  /* the backend runs on_start/on_tick/on_end */
    int artifact_coverage;
    double cpu_weight;
    int safeguard;
    double threshold;
    int continuous;                    /* borrow = continuous */
    int admit_predicted;               /* admit = predicted */
    int jsq;                           /* placement = jsq */
    libra_call **scratch;              /* re-offer candidates */
    size_t cap_scratch;
} libra;

/* ---- trajectories (the artifact's history string) ---- */

static int traj_add(traj *t, const char *id, double v)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        traj_entry *e = realloc(t->e, cap * sizeof *e);
        if (!e)
            return -1;
        t->e = e;
        t->cap = cap;
    }
    traj_entry *e = &t->e[t->n++];
    memcpy(e->id, id, sizeof e->id);
    e->id[sizeof e->id - 1] = '\0';
    e->v = v;
    return 0;
}

/* Bytes an entry takes at most: " " id ":" "-" and %g of a finite or infinite double (<= 12). */
#define TRAJ_ENTRY_MAX (sizeof ((traj_entry *)0)->id + 16)
/* "%d;%g %g;%.0f %.0f;" at most: two %.0f of doubles up to 1e308 and the rest */
#define HISTORY_HEAD_MAX 768

/* "otherId:+v" received, "otherId:-v" lent, separated by spaces. */
static size_t traj_format(const traj *t, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < t->n && k < cap; i++) {
        const traj_entry *e = &t->e[i];
        int w = snprintf(out + k, cap - k, "%s%s:%s%g", i ? " " : "", e->id, e->v < 0 ? "-" : "",
                         fabs(e->v));
        if (w < 0)
            break;
        k += (size_t)w;
    }
    return k < cap ? k : cap - 1;
}

/* ---- loans ---- */

static int loan_add(libra_invoker *li, libra_call *lender, libra_call *borrower, int d, double v,
                    hb_error *err)
{
    if (li->n_loans == li->cap_loans) {
        size_t cap = li->cap_loans ? li->cap_loans * 2 : 16;
        loan *a = realloc(li->loans, cap * sizeof *a);
        if (!a)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        li->loans = a;
        li->cap_loans = cap;
    }
    li->loans[li->n_loans++] = (loan){lender, borrower, d, v};
    if (traj_add(&lender->t[d], borrower->inv->activation_id, -v) ||
        traj_add(&borrower->t[d], lender->inv->activation_id, v))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    return 0;
}

static void loan_drop(libra_invoker *li, size_t i)
{
    li->loans[i] = li->loans[--li->n_loans];
}

/* Takes back everything `lc` lent: its borrowers shrink by the amounts (never below their user
 * allocation, which is where they started), and its unlent harvest leaves the pool. */
static int take_back(libra *L, hb_invoker *iv, libra_invoker *li, libra_call *lc, hb_time now,
                     hb_error *err)
{
    for (size_t i = 0; i < li->n_loans;) {
        loan *l = &li->loans[i];
        if (l->lender != lc) {
            i++;
            continue;
        }
        hb_invocation *b = l->borrower->inv;
        hb_res a = b->alloc;
        set(&a, l->dim, fmax(get(b->user, l->dim), get(a, l->dim) - l->amount));
        loan_drop(li, i);
        int rc = hb_invoker_resize(iv, b, a, err);
        if (rc)
            return hb_error_wrap(err, "%s: taking back a loan from call %llu", L->name,
                                 (unsigned long long)b->index);
    }
    for (int d = 0; d < ND; d++)
        if (lc->lends[d]) {
            hp_remove(&li->pool[d], lc, now, &lc->idle[d]);
            lc->lends[d] = 0;
        }
    return 0;
}

/* ---- the design space: capped grows, restores, re-offers ---- */

/* What the invoker has not allocated to its running calls. Under admit = user the pool is backed by
 * the lenders' reserves and this never binds; under admit = predicted what a lender lends is also
 * free capacity that admission may have given to another call. */
static double unallocated(hb_invoker *iv, int d)
{
    hb_invocation *const *run;
    size_t n = hb_invoker_running(iv, &run);
    double f = get(hb_invoker_capacity(iv), d);
    for (size_t i = 0; i < n; i++)
        f -= get(run[i]->alloc, d);
    return f > 0 ? f : 0;
}

/* lc borrows up to `want` in dimension d from its invoker's pool (latest predicted end first,
 * partial grants allowed); the loans are recorded, the resize is the caller's. */
static int borrow(libra *L, hb_invoker *iv, libra_invoker *li, libra_call *lc, int d, double want,
                  hb_time now, double *got, hb_error *err)
{
    if (L->admit_predicted)
        want = fmin(want, unallocated(iv, d));
    hp_grant g[64];
    size_t n = 0;
    *got = want > EPS ? hp_take(&li->pool[d], want, now, g, 64, &n) : 0;
    for (size_t k = 0; k < n; k++) {
        int rc = loan_add(li, g[k].lender, lc, d, g[k].amount, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Grows a safeguarded lender back to its user allocation in the dimensions it lent; under admit =
 * predicted only as far as the invoker has capacity unallocated, the rest later (restore[d] stays). */
static int restore(libra *L, hb_invoker *iv, libra_call *lc, hb_error *err)
{
    hb_invocation *inv = lc->inv;
    hb_res a = inv->alloc;
    int grow = 0;
    for (int d = 0; d < ND; d++) {
        if (!lc->restore[d])
            continue;
        grow = 1;
        double want = get(inv->user, d) - get(a, d);
        if (L->admit_predicted && want > unallocated(iv, d) + EPS) {
            set(&a, d, get(a, d) + unallocated(iv, d));
            continue;
        }
        set(&a, d, get(inv->user, d));
        lc->restore[d] = 0;
    }
    if (!grow)
        return 0;
    int rc = hb_invoker_resize(iv, inv, a, err);
    return rc ? hb_error_wrap(err, "%s: safeguard of call %llu", L->name,
                              (unsigned long long)inv->index)
              : 0;
}

static int by_start(const void *a, const void *b)
{
    const libra_call *x = *(libra_call *const *)a, *y = *(libra_call *const *)b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->inv->index > y->inv->index) - (x->inv->index < y->inv->index);
}

/* borrow = continuous: safeguarded lenders still short first (admit = predicted), then every
 * running call below its prediction in a dimension where the prediction is above its user
 * allocation is offered the pool again, in order of start (then event index). */
static int reoffer(libra *L, hb_invoker *iv, libra_invoker *li, hb_error *err)
{
    hb_invocation *const *run;
    size_t n = hb_invoker_running(iv, &run);
    int offer = L->continuous && (hp_total(&li->pool[D_MEM]) > EPS || hp_total(&li->pool[D_CPU]) > EPS);
    if (n > L->cap_scratch) {
        libra_call **a = realloc(L->scratch, n * 2 * sizeof *a);
        if (!a)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        L->scratch = a;
        L->cap_scratch = n * 2;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        libra_call *lc = run[i]->policy_data;
        if (lc && (offer || lc->restore[D_MEM] || lc->restore[D_CPU]))
            L->scratch[m++] = lc;
    }
    if (m == 0)
        return 0;
    qsort(L->scratch, m, sizeof *L->scratch, by_start);
    for (size_t i = 0; i < m; i++) {
        libra_call *lc = L->scratch[i];
        if (lc->restore[D_MEM] || lc->restore[D_CPU]) {
            int rc = restore(L, iv, lc, err);
            if (rc)
                return rc;
        }
    }
    hb_time now = hb_invoker_now(iv);
    for (size_t i = 0; offer && i < m; i++) {
        libra_call *lc = L->scratch[i];
        hb_invocation *inv = lc->inv;
        hb_res a = inv->alloc;
        for (int d = 0; d < ND; d++) {
            double u = get(inv->user, d), p = get(inv->pred, d);
            if (p < 0 || !(u < p - EPS) || get(a, d) >= p - EPS || hp_total(&li->pool[d]) <= EPS)
                continue;
            double got;
            int rc = borrow(L, iv, li, lc, d, p - get(a, d), now, &got, err);
            if (rc)
                return rc;
            set(&a, d, get(a, d) + got);
        }
        if (a.cpu != inv->alloc.cpu || a.mem_mb != inv->alloc.mem_mb) {
            int rc = hb_invoker_resize(iv, inv, a, err);
            if (rc)
                return hb_error_wrap(err, "%s: re-offering the pool to call %llu", L->name,
                                     (unsigned long long)inv->index);
        }
    }
    return 0;
}

/* ---- lifecycle ---- */

static void call_free(libra *L, libra_call *lc)
{
    if (lc->prev)
        lc->prev->next = lc->next;
    else
        L->live = lc->next;
    if (lc->next)
        lc->next->prev = lc->prev;
    for (int d = 0; d < ND; d++)
        free(lc->t[d].e);
    free(lc->history);
    free(lc);
}

static void libra_destroy(void *state)
{
    libra *L = state;
    if (!L)
        return;
    while (L->live) {                  /* calls nobody released (the engine releases every call) */
        if (L->live->inv)
            L->live->inv->policy_data = NULL;
        call_free(L, L->live);
    }
    for (int i = 0; i < L->n_invokers; i++) {
        for (int d = 0; d < ND; d++)
            hp_free(&L->iv[i].pool[d]);
        free(L->iv[i].loans);
    }
    free(L->iv);
    free(L->scratch);
    libra_predictor_free(&L->pred);
    free(L);
}

static int common_keys(libra *L, hb_kvlist *kv, hb_error *err)
{
    static const char *const coverage[] = {"paper", "artifact", NULL};
    static const char *const borrow[] = {"start", "continuous", NULL};
    static const char *const admit[] = {"user", "predicted", NULL};
    static const char *const placement[] = {"coverage", "jsq", NULL};
    const char *cov = "paper", *bor = "start", *adm = "user", *pla = "coverage";
    int rc = hb_kv_string(kv, "coverage", coverage, &cov, err);
    if (!rc)
        rc = hb_kv_string(kv, "borrow", borrow, &bor, err);
    if (!rc)
        rc = hb_kv_string(kv, "admit", admit, &adm, err);
    if (!rc)
        rc = hb_kv_string(kv, "placement", placement, &pla, err);
    if (!rc)
        rc = hb_kv_double(kv, "cpu_weight", 0, 1, &L->cpu_weight, err);
    if (!rc)
        rc = hb_kv_bool(kv, "safeguard", &L->safeguard, err);
    if (!rc)
        rc = hb_kv_double(kv, "safeguard_threshold", 0.01, 1, &L->threshold, err);
    L->artifact_coverage = strcmp(cov, "artifact") == 0;
    L->continuous = strcmp(bor, "continuous") == 0;
    L->admit_predicted = strcmp(adm, "predicted") == 0;
    L->jsq = strcmp(pla, "jsq") == 0;
    return rc;
}

static libra *libra_new(const hb_policy_ctx *ctx, hb_error *err)
{
    libra *L = calloc(1, sizeof *L);
    if (!L) {
        hb_fail(err, HB_ENOMEM, "out of memory");
        return NULL;
    }
    L->name = ctx->name;
    L->funcs = ctx->funcs;
    L->n_invokers = ctx->n_invokers;
    L->invoker_side = (ctx->backend_caps & HB_CAP_INVOKER) != 0;
    L->cpu_weight = 0.9;
    L->safeguard = 1;
    L->threshold = 0.8;
    L->iv = calloc((size_t)ctx->n_invokers, sizeof *L->iv);
    if (!L->iv) {
        free(L);
        hb_fail(err, HB_ENOMEM, "out of memory");
        return NULL;
    }
    return L;
}

static int libra_create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    libra *L = libra_new(ctx, err);
    if (!L)
        return err->code;
    static const char *const kinds[] = {"artifact", "trained", NULL};
    const char *kind = "artifact", *table = "", *model = "";
    int rc = common_keys(L, ctx->params, err);
    if (!rc)
        rc = hb_kv_string(ctx->params, "predictor", kinds, &kind, err);
    if (!rc)
        rc = hb_kv_string(ctx->params, "table", NULL, &table, err);
    if (!rc)
        rc = hb_kv_string(ctx->params, "model", NULL, &model, err);
    char path[2048] = "";
    const char *file = strcmp(kind, "trained") == 0 ? model : table;
    if (!rc && strcmp(kind, "trained") == 0 && !*model) {
        char where[256];
        rc = hb_fail(err, HB_EINPUT, "%s: predictor = trained needs model = FILE (written by "
                     "harvestbench train libra)", hb_kv_where(ctx->params, "predictor", where, sizeof where));
    }
    if (!rc && *file)
        snprintf(path, sizeof path, "%s%s%s", file[0] == '/' ? "" : ctx->config_dir,
                 file[0] == '/' ? "" : "/", file);
    if (!rc)
        rc = libra_predictor_table(&L->pred, strcmp(kind, "trained") == 0 ? LP_TRAINED : LP_ARTIFACT,
                                   path, err);
    if (rc) {
        libra_destroy(L);
        return rc;
    }
    *state = L;
    return 0;
}

static int libra_np_create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    libra *L = libra_new(ctx, err);
    if (!L)
        return err->code;
    long window = 5;
    int rc = common_keys(L, ctx->params, err);
    if (!rc)
        rc = hb_kv_int(ctx->params, "window", 1, 1000, &window, err);
    if (!rc)
        rc = libra_predictor_window(&L->pred, (int)window, ctx->n_funcs, err);
    if (rc) {
        libra_destroy(L);
        return rc;
    }
    *state = L;
    return 0;
}

/* ---- sizing ---- */

static int libra_size(void *state, const hb_invocation *inv, const hb_observation *obs,
                      hb_sizing *out, hb_error *err)
{
    (void)obs;
    (void)err;
    libra *L = state;
    const hb_func_config *fc = &L->funcs[inv->func];
    libra_pred p;
    libra_predict(&L->pred, inv->func, inv->workload, (double)inv->input_size, inv->user, &p);
    hb_res pred = {hb_clip(p.cpu, fc->cpu_clip[0], fc->cpu_clip[1]),
                   hb_clip(p.mem_mb, fc->mem_clip_mb[0], fc->mem_clip_mb[1])};
    out->pred = pred;
    out->pred_duration_s = p.dur_s;
    out->cpu_hard = 1;
    if (L->invoker_side && !L->admit_predicted) {
        /* starts at, and holds, its user allocation: the invoker lends or borrows the difference */
        out->alloc = out->reserve = inv->user;
    } else {
        /* admit = predicted: admitted and started at its prediction, never above its user size
         * (a call that will borrow starts at its user size); what it will lend is free capacity.
         * Without an invoker side: harvesting reduces to sizing down; nothing to borrow from. */
        out->alloc = (hb_res){fmin(pred.cpu, inv->user.cpu), fmin(pred.mem_mb, inv->user.mem_mb)};
        out->reserve = out->alloc;
    }
    return 0;
}

static void libra_observe(void *state, const hb_invocation *done)
{
    libra_predictor_observe(&((libra *)state)->pred, done);
}

/* ---- placement ---- */

static int fits(const hb_invoker_state *s, const hb_invocation *inv)
{
    return s->free.cpu >= inv->reserve.cpu - EPS && s->free.mem_mb >= inv->reserve.mem_mb - EPS;
}

static int place_artifact(libra *L, const hb_invocation *inv, const hb_cluster_view *v)
{
    /* the artifact's ranking, reproduced (spec 4.4): the full predicted peak as demand, memory
     * demand in MB against supply in 128 MB units, descending order, NaN last, ties by index */
    hb_time t0 = v->now, t1 = v->now + (hb_time)llround(fmax(inv->pred_duration_s, 0) * 1e6);
    int best = -1;
    double best_score = 0;
    for (int i = 0; i < v->n; i++) {
        if (!fits(&v->inv[i], inv))
            continue;
        libra_invoker *li = &L->iv[i];
        double mem = hp_coverage_artifact(&li->pool[D_MEM], inv->pred.mem_mb, HB_MEM_UNIT_MB, t0, t1);
        double cpu = hp_coverage_artifact(&li->pool[D_CPU], inv->pred.cpu, 1, t0, t1);
        double score = (1 - L->cpu_weight) * mem + L->cpu_weight * cpu;
        if (isnan(score))
            continue;                  /* NaN sorts last: only if nothing else fits */
        if (best < 0 || score > best_score) {
            best = i;
            best_score = score;
        }
    }
    if (best < 0)                      /* every score NaN (zero duration): index order */
        for (int i = 0; i < v->n && best < 0; i++)
            if (fits(&v->inv[i], inv))
                best = i;
    return best >= 0 ? best : hb_place_jsq(inv, v);
}

static int libra_place(void *state, const hb_invocation *inv, const hb_cluster_view *v, hb_error *err)
{
    (void)err;
    libra *L = state;
    double need_cpu = inv->pred.cpu - inv->user.cpu, need_mem = inv->pred.mem_mb - inv->user.mem_mb;
    if (!L->invoker_side || L->jsq || (need_cpu <= EPS && need_mem <= EPS))
        return hb_place_jsq(inv, v);                  /* type 1: nothing to borrow; or the ablation */
    if (L->artifact_coverage)
        return place_artifact(L, inv, v);
    /* type 2: the invoker whose pools cover the most of the deficit over the predicted window */
    hb_time t0 = v->now, t1 = v->now + (hb_time)llround(fmax(inv->pred_duration_s, 0) * 1e6);
    int best = -1;
    double best_score = -1;
    for (int i = 0; i < v->n; i++) {
        if (!fits(&v->inv[i], inv))
            continue;
        libra_invoker *li = &L->iv[i];
        double cpu = hp_coverage(&li->pool[D_CPU], fmax(need_cpu, 0), t0, t1);
        double mem = hp_coverage(&li->pool[D_MEM], fmax(need_mem, 0), t0, t1);
        double score = L->cpu_weight * cpu + (1 - L->cpu_weight) * mem;
        if (best < 0 || score > best_score + 1e-12 ||
            (fabs(score - best_score) <= 1e-12 && v->inv[i].inflight < v->inv[best].inflight)) {
            best = i;
            best_score = score;
        }
    }
    return best >= 0 ? best : hb_place_jsq(inv, v);
}

/* ---- invoker side ---- */

static int libra_start(void *state, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    libra *L = state;
    libra_invoker *li = &L->iv[hb_invoker_id(iv)];
    libra_call *lc = calloc(1, sizeof *lc);
    if (!lc)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    lc->inv = inv;
    lc->next = L->live;
    if (L->live)
        L->live->prev = lc;
    L->live = lc;
    inv->policy_data = lc;
    hb_time now = hb_invoker_now(iv);
    lc->start = now;
    lc->pred_end = now + (hb_time)llround(fmax(inv->pred_duration_s, 0) * 1e6);
    hb_res a = inv->alloc;
    for (int d = 0; d < ND; d++) {
        double u = get(inv->user, d), p = get(inv->pred, d);
        if (p < 0)
            continue;                  /* no prediction in this dimension */
        if (u > p + EPS) {             /* harvest: lend what the prediction leaves */
            if (hp_put(&li->pool[d], lc, inv->index, u - p, now, lc->pred_end, now))
                return hb_fail(err, HB_ENOMEM, "out of memory");
            lc->lends[d] = 1;
            lc->delta0[d] = -(u - p);
            set(&a, d, p);
        } else if (u < p - EPS) {      /* accelerate: borrow up to the deficit */
            double got;
            int rc = borrow(L, iv, li, lc, d, p - u, now, &got, err);
            if (rc)
                return rc;
            lc->delta0[d] = got;
            set(&a, d, u + got);
        }
    }
    if (a.cpu != inv->alloc.cpu || a.mem_mb != inv->alloc.mem_mb) {
        int rc = hb_invoker_resize(iv, inv, a, err);
        if (rc)
            return hb_error_wrap(err, "%s: sizing call %llu at its start", L->name,
                                 (unsigned long long)inv->index);
    }
    /* borrow = continuous: what it lends is offered to the calls already running */
    if (L->continuous && (lc->lends[D_MEM] || lc->lends[D_CPU]))
        return reoffer(L, iv, li, err);
    return 0;
}

static int libra_tick(void *state, hb_invoker *iv, const hb_usage_sample *s, size_t n, hb_error *err)
{
    libra *L = state;
    libra_invoker *li = &L->iv[hb_invoker_id(iv)];
    for (size_t i = 0; L->safeguard && i < n; i++) {
        hb_invocation *inv = s[i].inv;
        libra_call *lc = inv->policy_data;
        if (!lc || inv->safeguard || !(lc->lends[D_MEM] || lc->lends[D_CPU]))
            continue;
        int hit = (lc->lends[D_MEM] && s[i].mem_mb >= L->threshold * inv->alloc.mem_mb) ||
                  (lc->lends[D_CPU] && s[i].cpu >= L->threshold * inv->alloc.cpu);
        if (!hit)
            continue;
        /* restore the user allocation: borrowers shrink first, then the lender grows */
        for (int d = 0; d < ND; d++)
            lc->restore[d] = lc->lends[d];
        int rc = take_back(L, iv, li, lc, hb_invoker_now(iv), err);
        if (!rc)
            rc = restore(L, iv, lc, err);
        if (rc)
            return rc;
        inv->safeguard = 1;
    }
    /* admit = predicted: restores still short; borrow = continuous: the pool offered again */
    return L->continuous || L->admit_predicted ? reoffer(L, iv, li, err) : 0;
}

static int libra_end(void *state, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    libra *L = state;
    libra_call *lc = inv->policy_data;
    if (!lc)
        return 0;
    libra_invoker *li = &L->iv[hb_invoker_id(iv)];
    hb_time now = hb_invoker_now(iv);
    /* what it borrowed goes back to its lenders (whose entries live while they lend) */
    for (size_t i = 0; i < li->n_loans;) {
        loan *l = &li->loans[i];
        if (l->borrower != lc) {
            i++;
            continue;
        }
        libra_call *lender = l->lender;
        if (hp_put(&li->pool[l->dim], lender, lender->inv->index, l->amount, lender->start,
                   lender->pred_end, now))
            return hb_fail(err, HB_ENOMEM, "out of memory");
        loan_drop(li, i);
    }
    /* what it lent is taken back; its unlent harvest leaves the pool */
    int rc = take_back(L, iv, li, lc, now, err);
    if (rc)
        return rc;
    /* its resources are free: restores still short, and (continuous) the pool offered again */
    if ((L->continuous || L->admit_predicted) && (rc = reoffer(L, iv, li, err)))
        return rc;
    /* room for the artifact's history, formatted by the artifact hook only when a run writes it
     * (formatting every loan cost bench an eighth of its time); the call's state stays on
     * policy_data until the engine has written it and releases it */
    size_t len = HISTORY_HEAD_MAX + (lc->t[D_MEM].n + lc->t[D_CPU].n) * TRAJ_ENTRY_MAX;
    free(lc->history);
    lc->history = malloc(len);
    if (!lc->history)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    lc->history_cap = len;
    lc->history[0] = '\0';
    return 0;
}

/* ---- per-call state and what Libra writes (hb_policy.h) ---- */

static void libra_release(void *state, hb_invocation *inv)
{
    libra_call *lc = inv->policy_data;
    if (lc)
        call_free(state, lc);
    inv->policy_data = NULL;
}

/* resource x seconds a call lent that no other call took: harvested = borrowed + idle, per run */
static const hb_column libra_columns[] = {
    {"pool_idle_cpu_s", 1},            /* core x s */
    {"pool_idle_mem_mb_s", 1},         /* MB x s */
    {NULL, 0},
};

static void libra_column(void *state, const hb_invocation *inv, size_t col, hb_column_value *out)
{
    (void)state;
    const libra_call *lc = inv->policy_data;
    out->num = lc ? lc->idle[col == 0 ? D_CPU : D_MEM] / 1e6 : 0;
}

static void libra_artifact(void *state, const hb_invocation *inv, hb_artifact_fields *out)
{
    (void)state;
    const libra_call *lc = inv->policy_data;
    if (!lc)
        return;
    /* the artifact's history: S;MD CD;MI CI;MEMTRAJ;CPUTRAJ (MB, cores, MB x ms, core x ms) */
    libra_call *w = inv->policy_data;
    if (w->history && !w->history[0]) {
        size_t cap = w->history_cap;
        int k = snprintf(w->history, cap, "%d;%g %g;%.0f %.0f;", inv->safeguard, lc->delta0[D_MEM],
                         lc->delta0[D_CPU], lc->idle[D_MEM] / 1e3, lc->idle[D_CPU] / 1e3);
        size_t at = k > 0 && (size_t)k < cap ? (size_t)k : 0;
        at += traj_format(&lc->t[D_MEM], w->history + at, cap - at);
        if (at + 1 < cap) {
            w->history[at++] = ';';
            traj_format(&lc->t[D_CPU], w->history + at, cap - at);
        }
    }
    out->history = lc->history;
    out->cpu_idle_s = lc->idle[D_CPU] / 1e6;
    out->memory_idle_mb_s = lc->idle[D_MEM] / 1e6;
}

/* ---- audit (tests) ---- */

int hb_libra_audit(void *state, hb_invoker *iv, hb_error *err)
{
    libra *L = state;
    libra_invoker *li = &L->iv[hb_invoker_id(iv)];
    hb_invocation *const *run;
    size_t n = hb_invoker_running(iv, &run);
    for (int d = 0; d < ND; d++) {
        double lent = 0, received = 0, loans = 0;
        for (size_t i = 0; i < n; i++) {
            libra_call *lc = run[i]->policy_data;
            if (!lc)
                continue;
            double diff = get(run[i]->user, d) - get(run[i]->alloc, d);
            if (lc->lends[d])
                lent += diff;
            else if (diff < -EPS)
                received -= diff;
        }
        for (size_t k = 0; k < li->n_loans; k++)
            if (li->loans[k].dim == d)
                loans += li->loans[k].amount;
        double pool = hp_total(&li->pool[d]);
        if (fabs(lent - (loans + pool)) > 1e-6 || fabs(received - loans) > 1e-6)
            return hb_fail(err, HB_ERUN, "invoker %d %s: lent %g, but loans %g + pool %g; received %g",
                           hb_invoker_id(iv), d == D_MEM ? "memory" : "cpu", lent, loans, pool,
                           received);
    }
    return 0;
}

int hb_libra_empty(void *state, hb_error *err)
{
    libra *L = state;
    for (int i = 0; i < L->n_invokers; i++)
        for (int d = 0; d < ND; d++)
            if (L->iv[i].pool[d].n || L->iv[i].n_loans)
                return hb_fail(err, HB_ERUN, "invoker %d: %zu pool entries and %zu loans left", i,
                               L->iv[i].pool[d].n, L->iv[i].n_loans);
    return L->live ? hb_fail(err, HB_ERUN, "calls left in the policy (not released)") : 0;
}

const hb_policy_ops hb_policy_libra = {
    .name = "libra",
    .summary = "Libra: predict, harvest into per-invoker pools, accelerate, coverage placement, safeguard",
    .create = libra_create, .destroy = libra_destroy,
    .size = libra_size, .observe = libra_observe, .place = libra_place,
    .on_start = libra_start, .on_tick = libra_tick, .on_end = libra_end,
    .release = libra_release, .columns = libra_columns, .column = libra_column,
    .artifact = libra_artifact,
    .artifact_name = "libra_{trace}",
};

const hb_policy_ops hb_policy_libra_np = {
    .name = "libra-np",
    .summary = "Libra's invoker side with a moving window of the last calls instead of a predictor",
    .create = libra_np_create, .destroy = libra_destroy,
    .size = libra_size, .observe = libra_observe, .place = libra_place,
    .on_start = libra_start, .on_tick = libra_tick, .on_end = libra_end,
    .release = libra_release, .columns = libra_columns, .column = libra_column,
    .artifact = libra_artifact,
    .artifact_name = "Libra-NP",
};

/* test_libra.c - Libra: the harvest pool (order, partial grants, coverage), the predictor, and the
 * invoker side on the simulator (lending, borrowing, safeguards by memory and by CPU, release in
 * every order and on failure), then properties on random traces: allocations within capacity,
 * lent = borrowed + idle in pool at every instant, every pool empty at the end; and the design space
 * ([policy.libra] borrow, admit, placement, safeguard, safeguard_threshold): what each knob changes,
 * and the same properties for every combination, libra and libra-np. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policies/libra/harvest_pool.h"
#include "../../policies/libra/libra.h"
#include "../../policies/libra/predictor.h"
#include "engine.h"
#include "experiment_run.h"
#include "hb_test.h"
#include "registry.h"

extern const hb_backend_ops hb_backend_sim;

#define S(x) ((hb_time)llround((x) * 1e6))

/* ---- the pool alone ---- */

START_TEST(pool_lends_latest_end_first_with_partial_grants)
{
    harvest_pool p = {0};
    int a, b, c;                       /* three lenders, by address */
    ck_assert_int_eq(hp_put(&p, &a, 1, 512, 0, S(10), 0), 0);
    ck_assert_int_eq(hp_put(&p, &b, 2, 256, 0, S(20), 0), 0);
    ck_assert_int_eq(hp_put(&p, &c, 3, 128, 0, S(20), 0), 0);   /* same end as b, inserted later */
    hp_grant g[8];
    size_t n;
    /* 600 wanted: b (end 20, first inserted) 256, then c (end 20) 128, then a (end 10) 216 */
    ck_assert_double_eq(hp_take(&p, 600, S(1), g, 8, &n), 600);
    ck_assert_uint_eq(n, 3);
    ck_assert_ptr_eq(g[0].lender, &b);
    ck_assert_double_eq(g[0].amount, 256);
    ck_assert_ptr_eq(g[1].lender, &c);
    ck_assert_double_eq(g[1].amount, 128);
    ck_assert_ptr_eq(g[2].lender, &a);
    ck_assert_double_eq(g[2].amount, 216);
    ck_assert_double_eq(hp_total(&p), 296);
    /* a partial grant: 1000 wanted, 296 left */
    ck_assert_double_eq(hp_take(&p, 1000, S(2), g, 8, &n), 296);
    ck_assert_double_eq(hp_total(&p), 0);
    /* returns are credited to the lender, whose window stays its own */
    ck_assert_int_eq(hp_put(&p, &b, 2, 100, S(3), S(99), S(3)), 0);
    ck_assert_double_eq(hp_amount(&p, &b), 100);
    ck_assert_int_eq(p.e[1].end, S(20));
    /* idle: a held 512 for 1 s, then 296 for 1 s, then 0 */
    double idle = 0;
    ck_assert_double_eq(hp_remove(&p, &a, S(5), &idle), 0);
    ck_assert_double_eq_tol(idle, 512e6 + 296e6, 1e-3);
    ck_assert(!hp_has(&p, &a));
    hp_free(&p);
}
END_TEST

START_TEST(coverage_of_overlapping_windows)
{
    harvest_pool p = {0};
    int a, b;
    hp_put(&p, &a, 1, 2, 0, S(10), 0);                       /* 2 units over [0, 10] */
    hp_put(&p, &b, 2, 1, S(5), S(20), 0);                    /* 1 unit over [5, 20] */
    /* demand 2 over [0, 20]: level 2 on [0,5), min(3, 2) = 2 on [5,10), 1 on [10,20):
     * (2x5 + 2x5 + 1x10) / (2 x 20) = 0.75 */
    ck_assert_double_eq_tol(hp_coverage(&p, 2, 0, S(20)), 0.75, 1e-12);
    /* demand 1 over [12, 30]: only b, until 20: 8 / 18 */
    ck_assert_double_eq_tol(hp_coverage(&p, 1, S(12), S(30)), 8.0 / 18, 1e-12);
    ck_assert_double_eq(hp_coverage(&p, 0, 0, S(20)), 1);     /* nothing needed */
    ck_assert_double_eq(hp_coverage(&p, 4, S(7), S(7)), 0.75);  /* an instant: 3 of 4 */
    /* the artifact's: demand area / covered area, memory supply in units of 128 */
    ck_assert_double_eq_tol(hp_coverage_artifact(&p, 2, 1, 0, S(20)), 40.0 / 30, 1e-12);
    ck_assert(isinf(hp_coverage_artifact(&p, 2, 1, S(30), S(40))));
    ck_assert(isnan(hp_coverage_artifact(&p, 2, 1, S(3), S(3))));
    hp_free(&p);
}
END_TEST

START_TEST(artifact_predictor_matches_the_demo_actions)
{
    /* libra-harness spec 4.2: the demo's actions after the artifact's clip */
    libra_predictor lp;
    hb_error e;
    ck_assert_int_eq(libra_predictor_table(&lp, LP_ARTIFACT, "", &e), 0);
    static const struct { const char *id; double size, cpu_class, mem_class, dur; } want[] = {
        {"dh", 1000, 7, 1, 1.94}, {"vp", 1, 8, 5, 9.10}, {"knn", 50, 8, 5, 6.29},
        {"alu", 100000, 5, 1, 1.96}, {"gd", 10, 8, 3, 5.65}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int f = hb_function_find(want[i].id);
        libra_pred p;
        libra_predict(&lp, f, f, want[i].size, (hb_res){1, 128}, &p);
        ck_assert_double_eq(p.cpu, want[i].cpu_class);
        ck_assert_double_eq(p.mem_mb, want[i].mem_class * 128);
        ck_assert_double_eq_tol(p.dur_s, want[i].dur, 0.006);
    }
    libra_predictor_free(&lp);
    /* the moving window: the user's until a call ends, then the mean peaks rounded up */
    ck_assert_int_eq(libra_predictor_window(&lp, 3, HB_NWORKLOADS, &e), 0);
    libra_pred p;
    libra_predict(&lp, 2, 2, 1, (hb_res){2, 256}, &p);
    ck_assert_double_eq(p.cpu, 2);
    ck_assert_double_eq(p.mem_mb, 256);
    hb_invocation done = {.func = 2, .workload = 2, .outcome = HB_SUCCESS, .cpu_peak = 1.5, .mem_peak_mb = 100,
                          .exec_start = 0, .end = S(4)};
    libra_predictor_observe(&lp, &done);
    done.cpu_peak = 2.7;
    done.mem_peak_mb = 300;
    done.end = S(6);
    libra_predictor_observe(&lp, &done);
    libra_predict(&lp, 2, 2, 1, (hb_res){2, 256}, &p);
    ck_assert_double_eq(p.cpu, 3);                           /* mean 2.1 -> 3 cores */
    ck_assert_double_eq(p.mem_mb, 256);                      /* mean 200 MB -> 2 units */
    ck_assert_double_eq(p.dur_s, 5);
    libra_predict(&lp, 3, 3, 1, (hb_res){2, 256}, &p);           /* another function: no history */
    ck_assert_double_eq(p.cpu, 2);
    libra_predictor_free(&lp);
}
END_TEST

/* ---- the invoker side on the simulator, driven by hand ---- */

/* A [policy.libra] section from "key=value" strings (NULL-terminated; at most 8). */
typedef struct params {
    hb_kv items[8];
    char buf[8][64];
    hb_kvlist kv;
} params;

static hb_kvlist *params_of(params *p, const char *const *kv)
{
    memset(p, 0, sizeof *p);
    p->kv = (hb_kvlist){"policy.libra", p->items, 0};
    for (size_t i = 0; kv && kv[i]; i++) {
        snprintf(p->buf[i], sizeof p->buf[i], "%s", kv[i]);
        char *eq = strchr(p->buf[i], '=');
        *eq = 0;
        p->items[i] = (hb_kv){p->buf[i], eq + 1, "t.ini", (int)i + 1, 0};
        p->kv.n++;
    }
    return &p->kv;
}

typedef struct world {
    void *sim, *libra;
    hb_invocation inv[8];
    hb_profile *prof;
    hb_func_config funcs[HB_NWORKLOADS];
    hb_invoker *iv[2];
    int audits;
    hb_error audit_err;
    int audit_failed;
} world;

static void audit(world *w, hb_invoker *iv)
{
    hb_error e;
    w->audits++;
    if (!w->audit_failed && hb_libra_audit(w->libra, iv, &e)) {
        w->audit_err = e;
        w->audit_failed = 1;
    }
}

static int w_start(void *ctx, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    world *w = ctx;
    w->iv[hb_invoker_id(iv)] = iv;
    inv->started = 1;
    int rc = hb_policy_libra.on_start(w->libra, iv, inv, err);
    audit(w, iv);
    return rc;
}

static int w_tick(void *ctx, hb_invoker *iv, const hb_usage_sample *s, size_t n, hb_error *err)
{
    world *w = ctx;
    int rc = hb_policy_libra.on_tick(w->libra, iv, s, n, err);
    audit(w, iv);
    return rc;
}

static int w_end(void *ctx, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    world *w = ctx;
    int rc = hb_policy_libra.on_end(w->libra, iv, inv, err);
    audit(w, iv);
    return rc;
}

/* Function f: `work` core-s at most `par` cores; memory from start_frac x peak over ramp_frac. */
static void set_func(hb_profile *p, int f, double work, double par, double peak, double start_frac,
                     double ramp_frac)
{
    hb_profile_func *pf = &p->f[f];
    hb_error e;
    free(pf->exec_s.p);
    free(pf->parallelism.p);
    free(pf->mem_peak_mb.p);
    memset(pf, 0, sizeof *pf);
    pf->present = 1;
    pf->ref_cores = 1;
    pf->mem_start_frac = start_frac;
    pf->mem_ramp_frac = ramp_frac;
    hb_profile_curve_add(&pf->exec_s, -INFINITY, INFINITY, work, 0, 0, &e);
    hb_profile_curve_add(&pf->parallelism, -INFINITY, INFINITY, par, 0, 0, &e);
    hb_profile_curve_add(&pf->mem_peak_mb, -INFINITY, INFINITY, peak, 0, 0, &e);
}

static void world_open_kv(world *w, int invokers, const char *const *kv)
{
    memset(w, 0, sizeof *w);
    w->prof = calloc(1, sizeof *w->prof);
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        set_func(w->prof, f, 100, 1, 50, 1, 0);              /* long, small: no surprises */
        w->funcs[f] = (hb_func_config){{1, 128}, {1, 8}, {128, 1024}, 600 * HB_SEC, f, NULL, 1};
    }
    hb_policy_ctx ctx = {.name = "libra", .n_invokers = invokers, .invoker_capacity = {8, 8192},
                         .n_funcs = HB_NWORKLOADS, .funcs = w->funcs, .monitor_interval = 100 * HB_MS,
                         .backend_caps = hb_backend_sim.caps};
    params pr;
    ctx.params = params_of(&pr, kv);
    hb_error e;
    ck_assert_msg(hb_policy_libra.create(&ctx, &w->libra, &e) == 0, "%s", e.msg);
}

static void world_open(world *w, int invokers) { world_open_kv(w, invokers, NULL); }

static void world_start_sim(world *w, int invokers)
{
    hb_backend_hooks hooks = {w, w_start, w_tick, w_end, NULL, 100 * HB_MS};
    hb_backend_args a = {.n_invokers = invokers, .capacity = {8, 8192}, .keep_alive = 0,
                         .cold_start = 0, .cv = 0, .n_funcs = HB_NWORKLOADS, .funcs = w->funcs, .profile = w->prof, .seed = 1};
    hb_error e;
    ck_assert_int_eq(hb_backend_sim.open(&a, &hooks, &w->sim, &e), 0);
}

/* The artifact's history of an ended call (Libra's artifact hook), "" when it has none. */
static const char *hist(world *w, const hb_invocation *inv)
{
    hb_artifact_fields a = {NULL, 0, 0};
    hb_policy_libra.artifact(w->libra, inv, &a);
    return a.history ? a.history : "";
}

static void world_close(world *w)
{
    hb_error e;
    ck_assert_msg(!w->audit_failed, "audit: %s", w->audit_err.msg);
    ck_assert_msg(hb_libra_empty(w->libra, &e) != 0, "ended calls are kept until released");
    for (size_t k = 0; k < sizeof w->inv / sizeof w->inv[0]; k++)   /* as the engine does */
        if (w->inv[k].policy_data)
            hb_policy_libra.release(w->libra, &w->inv[k]);
    ck_assert_msg(hb_libra_empty(w->libra, &e) == 0, "%s", e.msg);
    hb_backend_sim.close(w->sim);
    hb_policy_libra.destroy(w->libra);
    hb_profile_free(w->prof);
}

/* Call k of function f at time t: user (cpu, mem), prediction (cpu, mem, duration s); admitted at
 * its user size (admit = user) or, with `predicted`, at min(prediction, user) as libra_size does. */
static hb_invocation *submit_as(world *w, int k, double t, int f, hb_res user, hb_res pred,
                                double dur, int invoker, int predicted)
{
    hb_error e;
    ck_assert_int_eq(hb_backend_sim.advance(w->sim, S(t), &e), 0);
    hb_invocation *inv = &w->inv[k];
    memset(inv, 0, sizeof *inv);
    inv->index = (uint64_t)k;
    snprintf(inv->activation_id, sizeof inv->activation_id, "call%d", k);
    inv->func = inv->workload = f;
    inv->input_size = 1;
    inv->user = user;
    inv->pred = pred;
    inv->pred_duration_s = dur;
    inv->alloc_start = inv->reserve = user;
    if (predicted)
        inv->alloc_start = inv->reserve = (hb_res){fmin(user.cpu, pred.cpu), fmin(user.mem_mb, pred.mem_mb)};
    inv->cpu_hard = 1;
    inv->timeout = 600 * HB_SEC;
    inv->arrival = S(t);
    inv->invoker = invoker;
    ck_assert_msg(hb_backend_sim.submit(w->sim, inv, &e) == 0, "%s", e.msg);
    return inv;
}

static hb_invocation *submit(world *w, int k, double t, int f, hb_res user, hb_res pred, double dur,
                             int invoker)
{
    return submit_as(w, k, t, f, user, pred, dur, invoker, 0);
}

static void run_to(world *w, double t)
{
    hb_error e;
    ck_assert_msg(hb_backend_sim.advance(w->sim, S(t), &e) == 0, "%s", e.msg);
}

START_TEST(lenders_shrink_and_borrowers_grow_latest_end_first)
{
    world w;
    world_open(&w, 1);
    world_start_sim(&w, 1);
    hb_invocation *l1 = submit(&w, 0, 0, 0, (hb_res){1, 1024}, (hb_res){1, 512}, 10, 0);
    hb_invocation *l2 = submit(&w, 1, 0, 1, (hb_res){1, 1024}, (hb_res){1, 768}, 20, 0);
    hb_invocation *b = submit(&w, 2, 1, 2, (hb_res){1, 256}, (hb_res){1, 1024}, 5, 0);
    ck_assert_double_eq(l1->alloc.mem_mb, 512);
    ck_assert_double_eq(l2->alloc.mem_mb, 768);
    ck_assert_double_eq(b->alloc.mem_mb, 1024);              /* 256 from l2 (later end), 512 from l1 */
    hb_invocation *c = submit(&w, 3, 2, 3, (hb_res){1, 256}, (hb_res){1, 512}, 5, 0);
    ck_assert_double_eq(c->alloc.mem_mb, 256);               /* the pool is empty: its user size */
    run_to(&w, 500);                                         /* all end together at t = 100..102 */
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(w.inv[k].outcome, HB_SUCCESS);
    }
    world_close(&w);
}
END_TEST

START_TEST(release_cascade_in_every_order)
{
    world w;
    world_open(&w, 1);
    set_func(w.prof, 0, 10, 1, 50, 1, 0);                    /* lender A: ends at t = 10 */
    set_func(w.prof, 1, 30, 1, 50, 1, 0);                    /* lender B: ends at t = 30 */
    set_func(w.prof, 2, 20, 1, 50, 1, 0);                    /* borrower X: starts 1, ends 21 */
    set_func(w.prof, 3, 5, 1, 50, 1, 0);                     /* borrower Y: starts 2, ends 7 */
    world_start_sim(&w, 1);
    hb_invocation *a = submit(&w, 0, 0, 0, (hb_res){1, 1024}, (hb_res){1, 512}, 40, 0);
    hb_invocation *bl = submit(&w, 1, 0, 1, (hb_res){1, 1024}, (hb_res){1, 768}, 30, 0);
    /* X borrows 256 from A (later end 40) then 256 from B; Y takes B's... pool: A 512, B 256 */
    hb_invocation *x = submit(&w, 2, 1, 2, (hb_res){1, 256}, (hb_res){1, 768}, 20, 0);
    ck_assert_double_eq(x->alloc.mem_mb, 768);               /* 512 from A (end 40) */
    hb_invocation *y = submit(&w, 3, 2, 3, (hb_res){1, 256}, (hb_res){1, 512}, 5, 0);
    ck_assert_double_eq(y->alloc.mem_mb, 512);               /* 256 from B */
    /* borrower ends first: Y at 7 returns 256 to B */
    run_to(&w, 8);
    ck_assert_int_eq(y->outcome, HB_SUCCESS);
    ck_assert_double_eq(bl->alloc.mem_mb, 768);              /* B still lends 256, now in the pool */
    /* lender ends first: A at 10 takes its 512 back from X, which returns to its user size */
    run_to(&w, 11);
    ck_assert_int_eq(a->outcome, HB_SUCCESS);
    ck_assert_double_eq(x->alloc.mem_mb, 256);
    ck_assert_double_eq_tol(x->borrowed_mem_mb_s, 512 * 9, 1e-6);   /* 512 MB from 1 to 10 */
    /* a lender that fails: Z borrows from B, then B times out */
    hb_invocation *z = submit(&w, 4, 12, 4, (hb_res){1, 256}, (hb_res){1, 512}, 5, 0);
    ck_assert_double_eq(z->alloc.mem_mb, 512);
    run_to(&w, 13);
    hb_invoker *iv = w.iv[0];
    /* kill B by taking its memory below its 50 MB usage: it ends as oom */
    hb_error e;
    ck_assert_int_eq(hb_invoker_resize(iv, bl, (hb_res){1, 10}, &e), 0);
    run_to(&w, 14);
    ck_assert_int_eq(bl->outcome, HB_OOM);
    ck_assert_double_eq(z->alloc.mem_mb, 256);               /* its loan taken back */
    ck_assert_msg(strstr(hist(&w, a), "call2:-512") != NULL, "%s", hist(&w, a));
    ck_assert_msg(strncmp(hist(&w, a), "0;-512 0;", 9) == 0, "%s", hist(&w, a));
    run_to(&w, 200);
    ck_assert_msg(strstr(hist(&w, x), "call0:512") != NULL, "%s", hist(&w, x));
    world_close(&w);
}
END_TEST

START_TEST(safeguard_on_a_memory_ramp_restores_the_lender_and_shrinks_its_borrower)
{
    world w;
    world_open(&w, 1);
    /* the lender: 10 s at 1 core; memory 60 -> 300 MB over 5 s (48 MB/s); predicted 256 MB:
     * 0.8 x 256 = 204.8 MB is crossed at 3.02 s, the limit 256 MB at 4.08 s */
    set_func(w.prof, 0, 10, 1, 300, 0.2, 0.5);
    set_func(w.prof, 1, 10, 1, 100, 1, 0);                   /* the borrower uses 100 MB */
    world_start_sim(&w, 1);
    hb_invocation *l = submit(&w, 0, 0, 0, (hb_res){1, 1024}, (hb_res){1, 256}, 10, 0);
    hb_invocation *b = submit(&w, 1, 0.5, 1, (hb_res){1, 128}, (hb_res){1, 512}, 10, 0);
    ck_assert_double_eq(b->alloc.mem_mb, 512);
    run_to(&w, 3.0);
    ck_assert_int_eq(l->safeguard, 0);
    run_to(&w, 3.2);                                         /* the tick at 3.1 s */
    ck_assert_int_eq(l->safeguard, 1);
    ck_assert_double_eq(l->alloc.mem_mb, 1024);
    ck_assert_double_eq(b->alloc.mem_mb, 128);
    run_to(&w, 100);
    ck_assert_int_eq(l->outcome, HB_SUCCESS);                /* no oom: restored in time */
    ck_assert_int_eq(b->outcome, HB_SUCCESS);
    ck_assert_msg(hist(&w, l)[0] == '1', "%s", hist(&w, l));
    world_close(&w);
}
END_TEST

START_TEST(safeguard_on_cpu_use)
{
    world w;
    world_open(&w, 1);
    set_func(w.prof, 0, 8, 4, 50, 1, 0);                     /* wants 4 cores */
    world_start_sim(&w, 1);
    hb_invocation *l = submit(&w, 0, 0, 0, (hb_res){4, 256}, (hb_res){1, 256}, 8, 0);
    ck_assert_double_eq(l->alloc.cpu, 1);                    /* lends 3 cores */
    run_to(&w, 0.15);                                        /* 1 core used of 1: over 0.8 */
    ck_assert_int_eq(l->safeguard, 1);
    ck_assert_double_eq(l->alloc.cpu, 4);
    run_to(&w, 10);
    /* 0.1 s at 1 core, then 7.9 core-s at 4 cores */
    ck_assert_int_eq(l->end, S(0.1 + 7.9 / 4));
    ck_assert_double_eq_tol(l->harvested_cpu_s, 3 * 0.1, 1e-9);
    world_close(&w);
}
END_TEST

START_TEST(placement_follows_coverage_for_calls_that_need_more)
{
    world w;
    world_open(&w, 2);
    world_start_sim(&w, 2);
    /* invoker 1 has a lender with 4 spare cores until t = 30 */
    submit(&w, 0, 0, 0, (hb_res){6, 256}, (hb_res){2, 256}, 30, 1);
    hb_invoker_state st[2] = {{0, {8, 8192}, {8, 8192}}, {1, {2, 7936}, {8, 8192}}};
    hb_cluster_view v = {S(1), 2, st, NULL};
    hb_invocation need = {.func = 1, .workload = 1, .user = {1, 128}, .pred = {3, 128}, .pred_duration_s = 10,
                          .reserve = {1, 128}};
    hb_error e;
    ck_assert_int_eq(hb_policy_libra.place(w.libra, &need, &v, &e), 1);   /* covered there */
    hb_invocation plain = need;
    plain.pred = (hb_res){1, 128};                            /* type 1: join-shortest-queue */
    ck_assert_int_eq(hb_policy_libra.place(w.libra, &plain, &v, &e), 0);
    st[1].free.cpu = 0.5;                                     /* it no longer fits on invoker 1 */
    ck_assert_int_eq(hb_policy_libra.place(w.libra, &need, &v, &e), 0);
    run_to(&w, 100);
    world_close(&w);
}
END_TEST

/* ---- the design space ---- */

/* A borrower that starts before any lender (cold start 0 here, so it runs at once): start-only
 * borrowing leaves it at its user size; borrow = continuous gives it the lender's cores as soon as they
 * enter the pool and takes them back when the lender ends. */
static void borrower_before_lender(const char *borrow, double *mid, double *after, double *running)
{
    const char *kv[] = {borrow, NULL};
    world w;
    world_open_kv(&w, 1, kv);
    set_func(w.prof, 0, 90, 3, 50, 1, 0);                    /* 90 core-s at up to 3 cores */
    set_func(w.prof, 1, 20, 0.5, 50, 1, 0);                  /* 20 s at half a core: no safeguard */
    world_start_sim(&w, 1);
    hb_invocation *b = submit(&w, 0, 0, 0, (hb_res){1, 256}, (hb_res){3, 256}, 30, 0);
    ck_assert_double_eq(b->alloc.cpu, 1);                    /* the pool is empty */
    hb_invocation *l = submit(&w, 1, 1, 1, (hb_res){4, 256}, (hb_res){1, 256}, 20, 0);
    run_to(&w, 2);
    *mid = b->alloc.cpu;
    run_to(&w, 22);                                          /* the lender ended at 21 */
    *after = b->alloc.cpu;
    run_to(&w, 200);
    ck_assert_int_eq(b->outcome, HB_SUCCESS);
    ck_assert_int_eq(l->outcome, HB_SUCCESS);
    ck_assert_int_eq(l->safeguard, 0);
    *running = b->borrowed_running_cpu_s;
    world_close(&w);
}

START_TEST(continuous_borrowing_reoffers_the_pool_to_running_calls)
{
    double mid, after, running;
    borrower_before_lender("borrow=start", &mid, &after, &running);
    ck_assert_double_eq(mid, 1);
    ck_assert_double_eq(running, 0);
    borrower_before_lender("borrow=continuous", &mid, &after, &running);
    ck_assert_double_eq(mid, 3);                             /* 2 of the lender's 3 cores */
    ck_assert_double_eq(after, 1);                           /* taken back at the lender's end */
    ck_assert_double_eq_tol(running, 2 * 20, 1e-6);          /* 2 cores from 1 s to 21 s */

    /* and when a borrower returns what it took: B1 takes all 3 cores, B2 (later) finds none; at
     * B1's end the 3 cores go back to the pool and, continuous only, on to B2 */
    for (int cont = 0; cont <= 1; cont++) {
        const char *kv[] = {cont ? "borrow=continuous" : "borrow=start", NULL};
        world w;
        world_open_kv(&w, 1, kv);
        set_func(w.prof, 0, 200, 0.5, 50, 1, 0);             /* the lender: 200 s, no safeguard */
        set_func(w.prof, 1, 16, 4, 50, 1, 0);                /* B1: 4 s at 4 cores */
        set_func(w.prof, 2, 100, 4, 50, 1, 0);               /* B2 */
        world_start_sim(&w, 1);
        submit(&w, 0, 0, 0, (hb_res){4, 256}, (hb_res){1, 256}, 200, 0);
        hb_invocation *b1 = submit(&w, 1, 1, 1, (hb_res){1, 256}, (hb_res){4, 256}, 4, 0);
        hb_invocation *b2 = submit(&w, 2, 2, 2, (hb_res){1, 256}, (hb_res){4, 256}, 30, 0);
        ck_assert_double_eq(b1->alloc.cpu, 4);
        ck_assert_double_eq(b2->alloc.cpu, 1);
        run_to(&w, 6);                                       /* B1 ended at 5 */
        ck_assert_int_eq(b1->outcome, HB_SUCCESS);
        ck_assert_double_eq(b2->alloc.cpu, cont ? 4 : 1);
        run_to(&w, 1000);
        world_close(&w);
    }
}
END_TEST

START_TEST(admit_predicted_admits_over_provisioned_calls_at_their_prediction)
{
    for (int predicted = 0; predicted <= 1; predicted++) {
        const char *kv[] = {predicted ? "admit=predicted" : "admit=user", NULL};
        world w;
        world_open_kv(&w, 1, kv);
        for (int f = 0; f < 6; f++)
            set_func(w.prof, f, 20, 0.5, 50, 1, 0);          /* 20 s at half a core */
        world_start_sim(&w, 1);
        hb_invocation *c[6];
        for (int k = 0; k < 6; k++)                          /* 4 cores asked, 1 predicted */
            c[k] = submit_as(&w, k, 0, k, (hb_res){4, 1024}, (hb_res){1, 256}, 20, 0, predicted);
        run_to(&w, 1);
        hb_invocation *const *run;
        /* 8 cores: two calls at their user size, all six at their prediction */
        ck_assert_uint_eq(hb_invoker_running(w.iv[0], &run), predicted ? 6 : 2);
        run_to(&w, 500);
        hb_time last = 0;
        for (int k = 0; k < 6; k++) {
            ck_assert_int_eq(c[k]->outcome, HB_SUCCESS);
            last = c[k]->end > last ? c[k]->end : last;
        }
        ck_assert_int_eq(last, predicted ? S(20) : S(60)); /* one wave, or three */
        world_close(&w);
    }
    /* the sizing itself: dh at 1000 is predicted at 7 cores and 128 MB (the artifact's table) */
    for (int predicted = 0; predicted <= 1; predicted++) {
        const char *kv[] = {predicted ? "admit=predicted" : "admit=user", NULL};
        world w;
        world_open_kv(&w, 1, kv);
        int f = hb_function_find("dh");
        hb_invocation inv = {.func = f, .workload = f, .input_size = 1000, .user = {8, 1024}};
        hb_sizing sz = {{0, 0}, {0, 0}, 0, {-1, -1}, -1};
        hb_error e;
        ck_assert_int_eq(hb_policy_libra.size(w.libra, &inv, NULL, &sz, &e), 0);
        ck_assert_double_eq(sz.reserve.cpu, predicted ? 7 : 8);
        ck_assert_double_eq(sz.reserve.mem_mb, predicted ? 128 : 1024);
        ck_assert(sz.alloc.cpu == sz.reserve.cpu && sz.alloc.mem_mb == sz.reserve.mem_mb);
        hb_profile_free(w.prof);                             /* nothing started */
        hb_policy_libra.destroy(w.libra);
    }
}
END_TEST

START_TEST(admit_predicted_restores_a_safeguarded_lender_as_capacity_frees)
{
    const char *kv[] = {"admit=predicted", NULL};
    world w;
    world_open_kv(&w, 1, kv);
    set_func(w.prof, 0, 100, 4, 50, 1, 0);                   /* the lender wants 4 cores */
    for (int f = 1; f < 8; f++)
        set_func(w.prof, f, 10 * f, 1, 50, 1, 0);            /* one core each, ending 10 s apart */
    world_start_sim(&w, 1);
    hb_invocation *l = submit_as(&w, 0, 0, 0, (hb_res){4, 256}, (hb_res){1, 256}, 40, 0, 1);
    for (int k = 1; k < 8; k++)                              /* admitted on the 3 lent cores */
        submit_as(&w, k, 0.01, k, (hb_res){1, 256}, (hb_res){1, 256}, 10, 0, 1);
    hb_invocation *const *run;
    ck_assert_uint_eq(hb_invoker_running(w.iv[0], &run), 8);
    run_to(&w, 0.2);                                         /* 1 core used of 1: safeguarded, */
    ck_assert_int_eq(l->safeguard, 1);
    ck_assert_double_eq(l->alloc.cpu, 1);                    /* but the invoker is full */
    run_to(&w, 10.1);
    ck_assert_double_eq(l->alloc.cpu, 2);                    /* a core at each end */
    run_to(&w, 20.1);
    ck_assert_double_eq(l->alloc.cpu, 3);
    run_to(&w, 30.1);
    ck_assert_double_eq(l->alloc.cpu, 4);                    /* restored */
    run_to(&w, 500);
    for (int k = 0; k < 8; k++)
        ck_assert_int_eq(w.inv[k].outcome, HB_SUCCESS);
    /* 10 + 20 + 30 core-s at 1, 2, 3 cores, then 40 at 4 */
    ck_assert_int_le(llabs(l->end - S(40.0075)), S(0.001));
    world_close(&w);
}
END_TEST

START_TEST(placement_jsq_is_join_shortest_queue)
{
    const char *kv[] = {"placement=jsq", NULL};
    world w;
    world_open_kv(&w, 2, kv);
    world_start_sim(&w, 2);
    submit(&w, 0, 0, 0, (hb_res){6, 256}, (hb_res){2, 256}, 30, 1);   /* coverage is on invoker 1 */
    hb_invoker_state st[2] = {{0, {8, 8192}, {8, 8192}}, {1, {2, 7936}, {8, 8192}}};
    hb_cluster_view v = {S(1), 2, st, NULL};
    hb_invocation need = {.func = 1, .workload = 1, .user = {1, 128}, .pred = {3, 128}, .pred_duration_s = 10,
                          .reserve = {1, 128}};
    hb_error e;
    ck_assert_int_eq(hb_place_jsq(&need, &v), 0);
    ck_assert_int_eq(hb_policy_libra.place(w.libra, &need, &v, &e), 0);   /* not 1 */
    st[0].inflight = 2;
    ck_assert_int_eq(hb_place_jsq(&need, &v), 1);
    ck_assert_int_eq(hb_policy_libra.place(w.libra, &need, &v, &e), 1);
    run_to(&w, 100);
    world_close(&w);
}
END_TEST

/* The memory ramp of the safeguard test above, with the safeguard off or at another threshold. */
START_TEST(safeguard_off_and_its_threshold)
{
    for (int off = 1; off >= 0; off--) {
        const char *kv[] = {off ? "safeguard=off" : "safeguard_threshold=0.9", NULL};
        world w;
        world_open_kv(&w, 1, kv);
        set_func(w.prof, 0, 10, 1, 300, 0.2, 0.5);           /* 60 -> 300 MB at 48 MB/s */
        set_func(w.prof, 1, 10, 1, 100, 1, 0);
        world_start_sim(&w, 1);
        hb_invocation *l = submit(&w, 0, 0, 0, (hb_res){1, 1024}, (hb_res){1, 256}, 10, 0);
        hb_invocation *b = submit(&w, 1, 0.5, 1, (hb_res){1, 128}, (hb_res){1, 512}, 10, 0);
        run_to(&w, 3.55);                                    /* 0.8 of 256 MB crossed at 3.02 s */
        ck_assert_int_eq(l->safeguard, 0);
        run_to(&w, 3.65);                                    /* 0.9 of it at 3.55 s: the 3.6 tick */
        ck_assert_int_eq(l->safeguard, !off);
        run_to(&w, 4.2);                                     /* the 256 MB limit at 4.08 s */
        ck_assert_int_eq(l->outcome, off ? HB_OOM : HB_PENDING);
        ck_assert_double_eq(b->alloc.mem_mb, 128);           /* the loan is back either way */
        run_to(&w, 100);
        ck_assert_int_eq(l->outcome, off ? HB_OOM : HB_SUCCESS);
        ck_assert_int_eq(b->outcome, HB_SUCCESS);
        world_close(&w);
    }
}
END_TEST

/* ---- properties on random traces ---- */

static const hb_policy_ops *g_base;    /* libra or libra-np, audited */
static void *g_libra;
static unsigned long g_audits, g_audit_fail, g_places, g_jsq_mismatch;
static int g_jsq;
static char g_audit_msg[HB_ERRMSG_MAX];

static void audit_g(hb_invoker *iv)
{
    hb_error e;
    g_audits++;
    if (hb_libra_audit(g_libra, iv, &e) && !g_audit_fail++)
        snprintf(g_audit_msg, sizeof g_audit_msg, "%s", e.msg);
    hb_invocation *const *run;
    size_t n = hb_invoker_running(iv, &run);
    double cpu = 0, mem = 0;
    for (size_t i = 0; i < n; i++) {
        cpu += run[i]->alloc.cpu;
        mem += run[i]->alloc.mem_mb;
    }
    if ((cpu > hb_invoker_capacity(iv).cpu + 1e-6 || mem > hb_invoker_capacity(iv).mem_mb + 1e-6) &&
        !g_audit_fail++)
        snprintf(g_audit_msg, sizeof g_audit_msg, "over capacity: %g cores, %g MB", cpu, mem);
}

static int p_start(void *s, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    int rc = g_base->on_start(s, iv, inv, err);
    audit_g(iv);
    return rc;
}

static int p_tick(void *s, hb_invoker *iv, const hb_usage_sample *x, size_t n, hb_error *err)
{
    int rc = g_base->on_tick(s, iv, x, n, err);
    audit_g(iv);
    return rc;
}

static int p_end(void *s, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    int rc = g_base->on_end(s, iv, inv, err);
    audit_g(iv);
    return rc;
}

/* placement = jsq: every choice is hb_place_jsq's (on a copy of the generator it may draw from) */
static int p_place(void *s, const hb_invocation *inv, const hb_cluster_view *v, hb_error *err)
{
    hb_cluster_view w = *v;
    w.rng = gsl_rng_clone(v->rng);
    int got = g_base->place(s, inv, v, err);
    g_places++;
    if (g_jsq && got != hb_place_jsq(inv, &w))
        g_jsq_mismatch++;
    gsl_rng_free(w.rng);
    return got;
}

/* One run of `base` with the keys `kv` on the Freyr trace (its rate x scale) through the engine on
 * `cluster` ([cluster] keys), over-provisioned users and wide clips, so that CPU and memory are both
 * lent; checking at
 * every event the audit and the capacity, and after the run that every call ended once, the pools
 * are empty and, summed over the run, lent = borrowed + idle in the pools. */
static void run_random(const hb_policy_ops *base, const char *const *kv, uint64_t seed, double scale,
                       const char *cluster, hb_run_stats *st)
{
    hb_policy_ops audited = *base;
    audited.on_start = p_start;
    audited.on_tick = p_tick;
    audited.on_end = p_end;
    audited.place = p_place;
    g_base = base;
    hb_config cfg;
    hb_error e;
    char text[256];
    snprintf(text, sizeof text, "[cluster]\n%s\nkeep_alive_s = 30\n[workload]\ntimeout_s = 40\n", cluster);
    ck_assert_int_eq(hb_config_load_text(text, "t.ini", ".", &cfg, &e), 0);
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        cfg.funcs[f].user = (hb_res){f % 2 ? 4 : 1, f % 3 ? 1024 : 256};
        cfg.funcs[f].cpu_clip[0] = 1;
        cfg.funcs[f].cpu_clip[1] = 8;
        cfg.funcs[f].mem_clip_mb[0] = 128;
        cfg.funcs[f].mem_clip_mb[1] = 1024;
    }
    hb_profile *prof;
    ck_assert_int_eq(hb_profile_artifact(NULL, 0, NULL, &prof, &e), 0);
    hb_trace_spec ts = {.format = "artifact",
                        .invocations = "data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv",
                        .start_minute = 1, .scale = scale, .functions = 10, .max_per_minute = 1 << 30,
                        .mapping = "order"};
    hb_trace *tr;
    ck_assert_int_eq(hb_trace_load(&ts, &tr, &e), 0);
    hb_policy_ctx ctx;
    params pr;
    hb_kvlist *kvl = params_of(&pr, kv);
    kvl->section = base == &hb_policy_libra ? "policy.libra" : "policy.libra-np";
    hb_engine_policy_ctx(&cfg, base->name, kvl, NULL, 0, hb_backend_sim.caps, &ctx);
    ck_assert_msg(base->create(&ctx, &g_libra, &e) == 0, "%s", e.msg);
    g_jsq = 0;
    for (size_t i = 0; kv && kv[i]; i++)
        g_jsq |= strcmp(kv[i], "placement=jsq") == 0;
    g_audits = g_audit_fail = g_places = g_jsq_mismatch = 0;
    hb_stats_init(st, 1);
    hb_engine_spec es = {.cfg = &cfg, .trace = tr, .profile = prof, .arrival = HB_ARRIVAL_POISSON,
                         .sizes = HB_SIZES_RANDOM, .policy = &audited, .policy_state = g_libra,
                         .policy_params = kvl, .backend = &hb_backend_sim, .seed = seed,
                         .seed_index = 1, .stats = st, .usage = 1};
    ck_assert_msg(hb_engine_run(&es, &e) == 0, "%s", e.msg);
    ck_assert_msg(g_audit_fail == 0, "seed %llu: %lu audit failures, first: %s",
                  (unsigned long long)seed, g_audit_fail, g_audit_msg);
    ck_assert_uint_gt(g_audits, 1000);
    ck_assert_msg(hb_libra_empty(g_libra, &e) == 0, "%s", e.msg);
    /* no call lost: every call of the trace ended once, with an outcome */
    ck_assert_uint_eq(st->invocations, tr->total);
    uint64_t ended = 0;
    for (int o = HB_SUCCESS; o <= HB_LOST; o++)
        ended += st->outcomes[o];
    ck_assert_uint_eq(ended, tr->total);
    ck_assert_uint_eq(st->outcomes[HB_LOST], 0);
    ck_assert_uint_eq(g_places, tr->total);
    ck_assert_uint_eq(g_jsq_mismatch, 0);
    /* lent = borrowed + idle in the pools (Libra's extension columns), summed over the run; under
     * admit = predicted a safeguarded lender may wait below its user size outside the pool */
    double idle_mem = hb_stats_column(st, "pool_idle_mem_mb_s");
    double idle_cpu = hb_stats_column(st, "pool_idle_cpu_s");
    int predicted = 0;
    for (size_t i = 0; kv && kv[i]; i++)
        predicted |= strcmp(kv[i], "admit=predicted") == 0;
    if (!predicted) {
        ck_assert_double_eq_tol(st->harvested_mem_mb_s, st->borrowed_mem_mb_s + idle_mem,
                                1e-6 * st->harvested_mem_mb_s + 1e-9);
        ck_assert_double_eq_tol(st->harvested_cpu_s, st->borrowed_cpu_s + idle_cpu,
                                1e-6 * st->harvested_cpu_s + 1e-9);
    } else {
        ck_assert(st->harvested_mem_mb_s >= (st->borrowed_mem_mb_s + idle_mem) * (1 - 1e-6) - 1e-9);
        ck_assert(st->harvested_cpu_s >= (st->borrowed_cpu_s + idle_cpu) * (1 - 1e-6) - 1e-9);
    }
    base->destroy(g_libra);
    hb_trace_free(tr);
    hb_profile_free(prof);
    hb_config_free(&cfg);
}

START_TEST(random_traces_keep_lending_balanced_and_end_with_empty_pools)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        hb_run_stats st;
        run_random(&hb_policy_libra, NULL, seed, 4, "invokers = 3\ncores = 16\nmemory_mb = 8192", &st);
        ck_assert_uint_gt(g_audits, 10000);
        ck_assert_uint_gt(st.harvested, 100);                /* it did lend ... */
        ck_assert_uint_gt(st.accelerated, 10);               /* ... and borrow */
        ck_assert(st.borrowed_cpu_s > 0 && st.harvested_cpu_s > 0);
        ck_assert_uint_gt(st.safeguards, 0);
        hb_stats_free(&st);
    }
}
END_TEST

/* a cluster where calls queue, so that admission matters */
#define CROWDED "invokers = 2\ncores = 8\nmemory_mb = 4096"

/* Every combination of the design space (borrow x admit x placement x safeguard off / on at two
 * thresholds), libra and libra-np: within capacity at every event, no call lost, the pools balanced
 * and empty at the end; and the knobs move the run in the direction they should. */
START_TEST(every_design_combination_is_safe)
{
    static const char *const borrow[] = {"borrow=start", "borrow=continuous"};
    static const char *const admit[] = {"admit=user", "admit=predicted"};
    static const char *const place[] = {"placement=coverage", "placement=jsq"};
    static const char *const guard[][2] = {{"safeguard=off", "safeguard_threshold=0.8"},
                                           {"safeguard=on", "safeguard_threshold=0.5"},
                                           {"safeguard=on", "safeguard_threshold=0.95"}};
    const hb_policy_ops *pols[] = {&hb_policy_libra, &hb_policy_libra_np};
    for (int p = 0; p < 2; p++) {
        /* [borrow][admit][place][guard] */
        double running_cpu[2][2][2][3], harvested_cpu[2][2][2][3], lat[2][2][2][3];
        unsigned long guards[2][2][2][3];
        for (int b = 0; b < 2; b++)
            for (int a = 0; a < 2; a++)
                for (int l = 0; l < 2; l++)
                    for (int g = 0; g < 3; g++) {
                        const char *kv[] = {borrow[b], admit[a], place[l], guard[g][0], guard[g][1],
                                            NULL};
                        hb_run_stats st;
                        run_random(pols[p], kv, 7, 3, CROWDED, &st);
                        running_cpu[b][a][l][g] = st.borrowed_running_cpu_s;
                        harvested_cpu[b][a][l][g] = st.harvested_cpu_s;
                        lat[b][a][l][g] = st.lat_sum;
                        guards[b][a][l][g] = st.safeguards;
                        if (getenv("HB_TEST_VERBOSE"))
                            fprintf(stderr, "%s b%d a%d l%d g%d: running %g harvested %g lat %g guards %lu\n",
                                    pols[p]->name, b, a, l, g, running_cpu[b][a][l][g],
                                    harvested_cpu[b][a][l][g], lat[b][a][l][g],
                                    guards[b][a][l][g]);
                        hb_stats_free(&st);
                    }
        for (int a = 0; a < 2; a++)
            for (int l = 0; l < 2; l++)
                for (int g = 0; g < 3; g++) {
                    /* continuous borrowing borrows more while running; the safeguard off never
                     * triggers, and a lower threshold triggers at least as often */
                    ck_assert_msg(running_cpu[1][a][l][g] > running_cpu[0][a][l][g],
                                  "%s a%d l%d g%d: continuous %g, start %g", pols[p]->name, a, l, g,
                                  running_cpu[1][a][l][g], running_cpu[0][a][l][g]);
                    for (int b = 0; b < 2; b++) {
                        ck_assert_uint_eq(guards[b][a][l][0], 0);
                        ck_assert_uint_gt(guards[b][a][l][1], 0);
                        ck_assert_uint_ge(guards[b][a][l][1], guards[b][a][l][2]);
                        /* admission at the prediction changes the run (calls queue here) */
                        ck_assert(harvested_cpu[b][0][l][g] != harvested_cpu[b][1][l][g] ||
                                  lat[b][0][l][g] != lat[b][1][l][g]);
                    }
                }
        /* the placement changes the run where pools hold something to cover */
        for (int b = 0; b < 2; b++)
            for (int a = 0; a < 2; a++)
                ck_assert(lat[b][a][0][0] != lat[b][a][1][0]);
    }
}
END_TEST

HB_TEST_MAIN("libra", pool_lends_latest_end_first_with_partial_grants, coverage_of_overlapping_windows,
             artifact_predictor_matches_the_demo_actions,
             lenders_shrink_and_borrowers_grow_latest_end_first, release_cascade_in_every_order,
             safeguard_on_a_memory_ramp_restores_the_lender_and_shrinks_its_borrower,
             safeguard_on_cpu_use, placement_follows_coverage_for_calls_that_need_more,
             continuous_borrowing_reoffers_the_pool_to_running_calls,
             admit_predicted_admits_over_provisioned_calls_at_their_prediction,
             admit_predicted_restores_a_safeguarded_lender_as_capacity_frees,
             placement_jsq_is_join_shortest_queue, safeguard_off_and_its_threshold,
             random_traces_keep_lending_balanced_and_end_with_empty_pools,
             every_design_combination_is_safe)

/* test_sim.c - the simulator: hand-computed scenarios (CPU limits and shares, cold and warm
 * starts, FIFO queueing, out-of-memory, timeouts, resizing) and invariants on random traces. */
#include <math.h>
#include <string.h>

#include "engine.h"
#include "experiment_run.h"
#include "hb_test.h"
#include "registry.h"
#include "seed.h"
#include "timeline.h"

extern const hb_backend_ops hb_backend_sim;

/* Every function the same: `work` core-seconds at most `par` cores (ref_cores 1 makes exec_s the
 * work), memory from start_frac x peak to peak over ramp_frac of the run. */
static hb_profile *flat_profile(double work, double par, double peak, double start_frac,
                                double ramp_frac)
{
    hb_profile *p = calloc(1, sizeof *p);
    hb_error e;
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        hb_profile_func *pf = &p->f[f];
        pf->present = 1;
        pf->ref_cores = 1;
        pf->cold_start_s = 0.5;
        pf->cv = 0;
        pf->mem_start_frac = start_frac;
        pf->mem_ramp_frac = ramp_frac;
        hb_profile_curve_add(&pf->exec_s, -INFINITY, INFINITY, work, 0, 0, &e);
        hb_profile_curve_add(&pf->parallelism, -INFINITY, INFINITY, par, 0, 0, &e);
        hb_profile_curve_add(&pf->mem_peak_mb, -INFINITY, INFINITY, peak, 0, 0, &e);
    }
    return p;
}

/* ---- driving the backend by hand ---- */

typedef struct world {
    void *sim;
    hb_invocation inv[8];
    int ended[8];
    double cpu_used_core_s, cpu_alloc_core_s, mem_alloc_mb_s;
    hb_func_config funcs[HB_NWORKLOADS];
    hb_profile *prof;
    hb_invoker *iv;                    /* the invoker the last on_start saw */
} world;

static int w_start(void *ctx, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    (void)inv;
    (void)err;
    ((world *)ctx)->iv = iv;
    return 0;
}

static int w_end(void *ctx, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    (void)iv;
    (void)err;
    world *w = ctx;
    w->ended[inv - w->inv]++;
    return 0;
}

static int w_usage(void *ctx, const hb_usage_row *r, hb_error *err)
{
    (void)err;
    world *w = ctx;
    w->cpu_used_core_s += r->cpu_used;
    w->cpu_alloc_core_s += r->cpu_alloc;
    w->mem_alloc_mb_s += r->mem_alloc_mb;
    return 0;
}

static hb_time g_monitor;              /* [cluster] monitor_ms of the next world; 0: none */

static void world_open(world *w, hb_profile *prof, double cores, double mem, double keep_alive_s)
{
    memset(w, 0, sizeof *w);
    w->prof = prof;
    for (int f = 0; f < HB_NWORKLOADS; f++)
        w->funcs[f] = (hb_func_config){{1, 256}, {1, 8}, {128, 1024}, 600 * HB_SEC, f, NULL, 1};
    hb_backend_hooks hooks = {w, w_start, NULL, w_end, w_usage, 0};
    hb_backend_args a = {.n_invokers = 1, .capacity = {cores, mem},
                         .keep_alive = (hb_time)(keep_alive_s * 1e6), .cold_start = -1, .cv = -1,
                         .n_funcs = HB_NWORKLOADS, .funcs = w->funcs, .profile = prof, .seed = 1, .usage_rows = 1,
                         .monitor = g_monitor};
    hb_error e;
    ck_assert_int_eq(hb_backend_sim.open(&a, &hooks, &w->sim, &e), 0);
}

static void world_close(world *w)
{
    hb_backend_sim.close(w->sim);
    hb_profile_free(w->prof);
}

/* Submits call k at time t (seconds) with an allocation; hard: CPU quota. */
static void submit(world *w, int k, double t, int func, double cpu, double mem, int hard)
{
    hb_error e;
    ck_assert_int_eq(hb_backend_sim.advance(w->sim, (hb_time)llround(t * 1e6), &e), 0);
    hb_invocation *inv = &w->inv[k];
    memset(inv, 0, sizeof *inv);
    inv->index = (uint64_t)k;
    inv->func = inv->workload = func;
    inv->input_size = 1;
    inv->user = (hb_res){cpu, mem};
    inv->alloc_start = inv->reserve = (hb_res){cpu, mem};
    inv->cpu_hard = hard;
    inv->timeout = 600 * HB_SEC;
    inv->arrival = (hb_time)llround(t * 1e6);
    inv->invoker = 0;
    ck_assert_msg(hb_backend_sim.submit(w->sim, inv, &e) == 0, "%s", e.msg);
}

static void drain(world *w)
{
    hb_error e;
    ck_assert_msg(hb_backend_sim.drain(w->sim, &e) == 0, "%s", e.msg);
}

#define ASSERT_T(t, seconds) ck_assert_int_eq((t), (hb_time)llround((seconds) * 1e6))

START_TEST(hard_limit_runs_at_min_of_quota_and_parallelism)
{
    world w;
    world_open(&w, flat_profile(10, 4, 100, 1, 0), 8, 8192, 600);
    submit(&w, 0, 0, 0, 2, 256, 1);                          /* 10 core-s at 2 cores: 5 s */
    drain(&w);
    hb_invocation *a = &w.inv[0];
    ck_assert_int_eq(w.ended[0], 1);
    ck_assert_int_eq(a->outcome, HB_SUCCESS);
    ck_assert_int_eq(a->cold_start, 1);
    ASSERT_T(a->start, 0);
    ASSERT_T(a->exec_start, 0.5);                            /* the profile's cold start */
    ASSERT_T(a->end, 5.5);
    ck_assert_double_eq(a->cpu_peak, 2);
    ck_assert_double_eq_tol(a->base_duration_ms, 5000, 1e-6);   /* at the user's 2 cores */
    ck_assert_double_eq_tol(w.cpu_used_core_s, 10, 1e-9);    /* usage integrates the work */
    ck_assert_double_eq_tol(w.cpu_alloc_core_s, 2 * 5.5, 1e-9);
    world_close(&w);
}
END_TEST

START_TEST(warm_start_within_keep_alive_only)
{
    for (int keep = 0; keep <= 1; keep++) {
        world w;
        world_open(&w, flat_profile(1, 1, 100, 1, 0), 8, 8192, keep ? 600 : 0);
        submit(&w, 0, 0, 2, 1, 256, 1);
        submit(&w, 1, 10, 2, 1, 256, 1);                     /* same function, after the first */
        submit(&w, 2, 20, 3, 1, 256, 1);                     /* another function: always cold */
        drain(&w);
        ck_assert_int_eq(w.inv[0].cold_start, 1);
        ck_assert_int_eq(w.inv[1].cold_start, keep ? 0 : 1);
        ck_assert_int_eq(w.inv[2].cold_start, 1);
        ASSERT_T(w.inv[1].end - w.inv[1].start, keep ? 1.0 : 1.5);
        world_close(&w);
    }
}
END_TEST

START_TEST(shares_split_oversubscribed_cores_by_memory)
{
    /* 4 cores; A (2048 MB) and B (1024 MB) both want 4 cores: A gets 8/3, B 4/3. A's 8 core-s end
     * at t = 3; B then has 4 core-s left at 4 cores: it ends at t = 4. */
    world w;
    hb_profile *p = flat_profile(8, 4, 100, 1, 0);
    for (int f = 0; f < HB_NWORKLOADS; f++)
        p->f[f].cold_start_s = 0;
    world_open(&w, p, 4, 8192, 600);
    submit(&w, 0, 0, 0, 1, 2048, 0);
    submit(&w, 1, 0, 1, 0.5, 1024, 0);
    drain(&w);
    ASSERT_T(w.inv[0].end, 3);
    ASSERT_T(w.inv[1].end, 4);
    ck_assert_double_eq_tol(w.inv[0].cpu_peak, 8.0 / 3, 1e-12);
    ck_assert_double_eq_tol(w.inv[1].cpu_peak, 4, 1e-12);
    ck_assert_double_eq_tol(w.cpu_used_core_s, 16, 1e-6);
    world_close(&w);
}
END_TEST

START_TEST(shares_are_work_conserving_with_small_jobs)
{
    /* 4 cores; A can use only 1 core, B up to 4: B gets the other 3 (not a 2/2 split) */
    world w;
    hb_profile *p = flat_profile(3, 4, 100, 1, 0);
    for (int f = 0; f < HB_NWORKLOADS; f++)
        p->f[f].cold_start_s = 0;
    hb_profile_curve_add(&p->f[0].parallelism, 0, 0, 0, 0, 0, NULL);   /* rejected: no change */
    p->f[0].parallelism.p[0].a = 1;
    world_open(&w, p, 4, 8192, 600);
    submit(&w, 0, 0, 0, 1, 1024, 0);                         /* 3 core-s at 1 core: 3 s */
    submit(&w, 1, 0, 1, 1, 1024, 0);                         /* 3 core-s at 3 cores: 1 s */
    drain(&w);
    ASSERT_T(w.inv[0].end, 3);
    ASSERT_T(w.inv[1].end, 1);
    world_close(&w);
}
END_TEST

START_TEST(queue_is_fifo_with_head_of_line_blocking)
{
    world w;
    world_open(&w, flat_profile(4, 2, 100, 1, 0), 3, 8192, 0);
    submit(&w, 0, 0, 0, 2, 256, 1);                          /* runs: 0.5 + 2 s */
    submit(&w, 1, 0.1, 1, 2, 256, 1);                        /* 1 core free: waits */
    submit(&w, 2, 0.2, 2, 1, 256, 1);                        /* fits, but waits behind B */
    drain(&w);
    ASSERT_T(w.inv[0].end, 2.5);
    ASSERT_T(w.inv[1].start, 2.5);
    ASSERT_T(w.inv[2].start, 2.5);                           /* admitted with B when A ends */
    ASSERT_T(w.inv[2].end, 2.5 + 0.5 + 4);                   /* 4 core-s at 1 core */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(w.ended[i], 1);
    world_close(&w);
}
END_TEST

START_TEST(memory_over_the_limit_is_killed_where_the_ramp_crosses_it)
{
    /* peak 1000 MB starting at 200 MB, ramp over half of a 10 s run: 200 + 160 MB/s; a 600 MB
     * limit is crossed 2.5 s into the run */
    world w;
    world_open(&w, flat_profile(10, 1, 1000, 0.2, 0.5), 8, 8192, 600);
    submit(&w, 0, 0, 0, 1, 600, 1);
    drain(&w);
    ck_assert_int_eq(w.inv[0].outcome, HB_OOM);
    ASSERT_T(w.inv[0].end - w.inv[0].exec_start, 2.5);
    ck_assert_double_eq_tol(w.inv[0].mem_peak_mb, 600, 1e-3);
    ck_assert(strstr(w.inv[0].error_msg, "600 MB limit") != NULL);
    world_close(&w);
}
END_TEST

START_TEST(timeout_kills_at_the_limit)
{
    world w;
    world_open(&w, flat_profile(10, 1, 100, 1, 0), 8, 8192, 600);
    submit(&w, 0, 0, 0, 1, 256, 1);
    w.inv[0].timeout = 3 * HB_SEC;                            /* read when the run starts */
    drain(&w);
    ck_assert_int_eq(w.inv[0].outcome, HB_TIMEOUT);
    ASSERT_T(w.inv[0].end - w.inv[0].exec_start, 3);
    world_close(&w);
}
END_TEST

/* A call's timeout waits outside the event queue while its end is sure to come first (sim.c,
 * timeout_check); when sharing moves the end past the timeout, or onto it, the timeout fires where it
 * always did: at exec_start + timeout, and before an end at the same microsecond (it was set first). */
static void timeout_case(double timeout_s, double second_at, hb_outcome want, double want_end)
{
    world w;
    /* 4 core-s at up to 2 cores, on 2 cores; CPU shares, a core reserved each: alone 2 s */
    world_open(&w, flat_profile(4, 2, 100, 1, 0), 2, 8192, 600);
    submit(&w, 0, 0, 0, 1, 256, 0);                          /* runs from 0.5 (cold start) */
    w.inv[0].timeout = (hb_time)llround(timeout_s * 1e6);    /* read when the run starts */
    if (second_at >= 0)
        submit(&w, 1, second_at, 1, 1, 256, 0);              /* from second_at + 0.5: 1 core each */
    drain(&w);
    ck_assert_int_eq(w.inv[0].outcome, want);
    ASSERT_T(w.inv[0].end, want_end);
    world_close(&w);
}

START_TEST(a_timeout_fires_where_it_would_when_sharing_moves_the_end)
{
    timeout_case(2.8, -1, HB_SUCCESS, 2.5);                  /* alone: ends at 2.5, before 3.3 */
    timeout_case(2.8, 1.0, HB_TIMEOUT, 3.3);                 /* shared from 1.5: its end 3.5 > 3.3 */
    timeout_case(3.0, 1.0, HB_TIMEOUT, 3.5);                 /* its end 3.5 = its timeout: timeout */
    timeout_case(3.2, 1.0, HB_SUCCESS, 3.5);                 /* its end 3.5 < 3.7 */
}
END_TEST

START_TEST(resize_respects_capacity_and_kills_below_usage)
{
    world w;
    world_open(&w, flat_profile(10, 4, 500, 1, 0), 4, 1024, 600);
    submit(&w, 0, 0, 0, 2, 512, 1);
    submit(&w, 1, 0, 1, 1, 512, 1);
    hb_error e;
    ck_assert_int_eq(hb_backend_sim.advance(w.sim, 1 * HB_SEC, &e), 0);   /* both running */
    hb_invoker *iv = w.iv;
    hb_invocation *const *run;
    ck_assert_uint_eq(hb_invoker_running(iv, &run), 2);
    /* 3 + 1 cores fit in 4; 3.5 + 1 do not */
    ck_assert_int_eq(hb_invoker_resize(iv, &w.inv[0], (hb_res){3, 512}, &e), 0);
    ck_assert_int_eq(hb_invoker_resize(iv, &w.inv[0], (hb_res){3.5, 512}, &e), HB_ERUN);
    ck_assert(strstr(e.msg, "capacity") != NULL);
    ck_assert_double_eq(w.inv[0].alloc.cpu, 3);
    /* B uses 500 MB (no ramp: at its peak from the start); a 300 MB limit kills it */
    ck_assert_int_eq(hb_invoker_resize(iv, &w.inv[1], (hb_res){1, 300}, &e), 0);
    ck_assert_int_eq(hb_backend_sim.advance(w.sim, 1 * HB_SEC, &e), 0);
    ck_assert_int_eq(w.inv[1].outcome, HB_OOM);
    ASSERT_T(w.inv[1].end, 1);
    drain(&w);
    /* A: 0.5 s init, 0.5 s at 2 cores (1 core-s), then 9 core-s at 3 cores */
    ASSERT_T(w.inv[0].end, 1 + 3);
    ck_assert_double_eq_tol(w.inv[0].alloc_mean.cpu, (2 * 0.5 + 3 * 3) / 3.5, 1e-9);
    ck_assert_double_eq_tol(w.inv[0].borrowed_cpu_s, 1 * 3, 1e-9);   /* 1 core over user, 3 s */
    world_close(&w);
}
END_TEST

START_TEST(an_impossible_call_ends_as_error)
{
    world w;
    world_open(&w, flat_profile(1, 1, 100, 1, 0), 2, 1024, 600);
    submit(&w, 0, 0, 0, 4, 256, 1);                          /* 4 cores on a 2-core invoker */
    drain(&w);
    ck_assert_int_eq(w.ended[0], 1);
    ck_assert_int_eq(w.inv[0].outcome, HB_ERROR);
    ck_assert(strstr(w.inv[0].error_msg, "more than an invoker has") != NULL);
    world_close(&w);
}
END_TEST

START_TEST(resources_received_during_a_cold_start_do_not_accelerate)
{
    world w;
    world_open(&w, flat_profile(4, 4, 100, 1, 0), 8, 8192, 600);
    submit(&w, 0, 0, 0, 2, 256, 1);
    submit(&w, 1, 0, 1, 2, 256, 1);
    hb_error e;
    for (int k = 0; k < 2; k++)
        w.inv[k].user.cpu = 1;                      /* both hold 1 core above their user's */
    ck_assert_int_eq(hb_invoker_resize(w.iv, &w.inv[0], (hb_res){2, 256}, &e), 0);
    ck_assert_int_eq(hb_invoker_resize(w.iv, &w.inv[1], (hb_res){2, 256}, &e), 0);
    ck_assert_int_eq(hb_backend_sim.advance(w.sim, HB_SEC / 2, &e), 0);   /* code starts */
    ck_assert_int_eq(hb_invoker_resize(w.iv, &w.inv[0], (hb_res){1, 256}, &e), 0);
    drain(&w);
    /* A: 0.5 core-s received during its cold start only; B: also 2 s while running */
    ck_assert_double_eq_tol(w.inv[0].borrowed_cpu_s, 0.5, 1e-9);
    ck_assert_double_eq(w.inv[0].borrowed_running_cpu_s, 0);
    ck_assert_double_eq_tol(w.inv[1].borrowed_cpu_s, 0.5 + 2, 1e-9);
    ck_assert_double_eq_tol(w.inv[1].borrowed_running_cpu_s, 2, 1e-9);
    hb_run_stats st;
    hb_stats_init(&st, 0);
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(hb_stats_add(&st, &w.inv[k], NULL), 0);
    ck_assert_uint_eq(st.accelerated, 1);           /* B only */
    ck_assert_double_eq_tol(st.borrowed_running_cpu_s, 2, 1e-9);
    hb_stats_free(&st);
    world_close(&w);
}
END_TEST

/* ---- usage = timeline ---- */

/* A profile whose truth is the timeline library `text` (every call of dh, size 1). */
static hb_profile *timeline_profile(const char *text)
{
    hb_profile *p = flat_profile(1, 1, 100, 1, 0);
    hb_error e;
    ck_assert_msg(hb_timeline_parse(text, strlen(text), "test", &p->timelines, &e) == 0, "%s", e.msg);
    p->usage = HB_USAGE_TIMELINE;
    return p;
}

#define TL_HEAD "# harvestbench timeline library, format 1\n# machine: t (4 CPUs)\n"             \
                "function_id,size,cpu_limit,repeat,t_ms,dt_ms,cpu_cores,mem_mb,runnable\n"

/* Phase A: 1 s at 1 core, 100 MB; phase B: 3 core-s at 3 cores, 300 MB (unthrottled samples). */
static const char TWO_PHASES[] = TL_HEAD "dh,1,0,1,0,1000,1,100,1\ndh,1,0,1,1000,1000,3,300,3\n";

START_TEST(timeline_two_phases_under_a_cap_take_the_computed_time)
{
    world w;
    world_open(&w, timeline_profile(TWO_PHASES), 8, 8192, 600);
    submit(&w, 0, 0, 0, 2, 512, 1);                 /* quota 2: A 1 s, B 3 / 2 = 1.5 s */
    submit(&w, 1, 0, 0, 4, 512, 1);                 /* quota 4: A 1 s, B 1 s */
    drain(&w);
    ck_assert_int_eq(w.inv[0].outcome, HB_SUCCESS);
    ASSERT_T(w.inv[0].exec_start, 0.5);
    ASSERT_T(w.inv[0].end, 0.5 + 1 + 1.5);
    ASSERT_T(w.inv[1].end, 0.5 + 1 + 1);
    ck_assert_double_eq(w.inv[0].cpu_peak, 2);
    ck_assert_double_eq(w.inv[1].cpu_peak, 3);
    ck_assert_double_eq(w.inv[0].mem_peak_mb, 300);
    ck_assert_double_eq_tol(w.inv[0].base_duration_ms, 2500, 1e-6);  /* alone at user 2 cores */
    ck_assert_double_eq_tol(w.cpu_used_core_s, 2 * (1 + 3), 1e-6);  /* the work, exactly */
    world_close(&w);
}
END_TEST

START_TEST(timeline_resize_mid_phase_recomputes_the_completion)
{
    world w;
    world_open(&w, timeline_profile(TWO_PHASES), 8, 8192, 600);
    submit(&w, 0, 0, 0, 1, 512, 1);                 /* A 1 s; B at 1 core ... */
    hb_error e;
    ck_assert_int_eq(hb_backend_sim.advance(w.sim, 2 * HB_SEC, &e), 0);   /* 0.5 s into B */
    ck_assert_int_eq(hb_invoker_resize(w.iv, &w.inv[0], (hb_res){3, 512}, &e), 0);
    drain(&w);
    /* B: 0.5 core-s done at 1 core, the other 2.5 at 3 cores: 2.5 / 3 s more */
    ck_assert_int_eq(w.inv[0].end, 2 * HB_SEC + (hb_time)ceil(2.5e6 / 3));
    world_close(&w);
}
END_TEST

START_TEST(timeline_memory_over_the_limit_fails_at_its_sample)
{
    world w;
    world_open(&w, timeline_profile(TWO_PHASES), 8, 8192, 600);
    submit(&w, 0, 0, 0, 2, 256, 1);                 /* 256 MB: A's 100 fit, B's 300 do not */
    submit(&w, 1, 0, 0, 2, 300, 1);                 /* exactly B's memory: fits */
    drain(&w);
    ck_assert_int_eq(w.inv[0].outcome, HB_OOM);
    ASSERT_T(w.inv[0].end, 0.5 + 1);                /* when B starts */
    ck_assert_double_eq(w.inv[0].mem_peak_mb, 300);
    ck_assert_int_eq(w.inv[1].outcome, HB_SUCCESS);
    world_close(&w);
}
END_TEST

START_TEST(timeline_cpu_peak_is_the_monitor_view_of_a_burst)
{
    /* a 100 ms burst at 4 cores between two 50 ms at 1 core straddles two 100 ms windows */
    static const char BURST[] = TL_HEAD "dh,1,0,1,0,50,1,10,1\ndh,1,0,1,50,100,4,10,4\n"
                                        "dh,1,0,1,150,50,1,10,1\n";
    g_monitor = 100 * HB_MS;
    world w;
    world_open(&w, timeline_profile(BURST), 8, 8192, 600);
    submit(&w, 0, 0, 0, 8, 512, 1);                 /* code starts at 0.5 s, on the grid */
    drain(&w);
    ck_assert_int_eq(w.inv[0].outcome, HB_SUCCESS);
    ck_assert_double_eq_tol(w.inv[0].cpu_peak, (0.05 * 1 + 0.05 * 4) / 0.1, 1e-9);
    world_close(&w);
    g_monitor = 0;
}
END_TEST

/* Two repeats of different memory for every function: which one a call replays shows in its peak. */
static void two_repeats(char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%s", TL_HEAD);
    for (int f = 0; f < HB_NWORKLOADS; f++)
        for (int r = 1; r <= 2; r++)
            n += (size_t)snprintf(buf + n, cap - n, "%s,1,0,%d,0,500,1,%d,1\n", hb_functions[f].id, r,
                                  100 * r);
}

static void record_peak(void *ctx, const hb_invocation *inv)
{
    double *peaks = ctx;
    if (inv->index < 4096)
        peaks[inv->index] = inv->outcome == HB_SUCCESS ? inv->mem_peak_mb : -2;
}

static void run_policy(const char *policy, hb_profile *prof, double *peaks, size_t n)
{
    hb_experiment x = {0};
    hb_error e;
    ck_assert_int_eq(hb_config_defaults(&x.cfg, &e), 0);
    snprintf(x.cfg.policies[0], sizeof x.cfg.policies[0], "%s", policy);
    x.cfg.n_policies = 1;
    x.cfg.seeds = 1;
    x.cfg.seed = 3;
    hb_trace_spec ts = {.format = "artifact",
                        .invocations = "data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv",
                        .start_minute = 1, .minutes = 5, .scale = 1, .functions = 10,
                        .max_per_minute = 1 << 30, .mapping = "order"};
    ck_assert_int_eq(hb_trace_load(&ts, &x.trace, &e), 0);
    ck_assert_uint_le((size_t)x.trace->total, n);
    x.profile = prof;                  /* the caller's: not freed here */
    x.arrival = HB_ARRIVAL_EVEN;
    x.sizes = HB_SIZES_MULTI;
    hb_run_spec spec = {.x = &x, .no_files = 1, .no_latencies = 1, .on_record = record_peak,
                        .on_record_ctx = peaks};
    hb_run_result *res;
    ck_assert_msg(hb_experiment_run(&spec, &res, &e) == 0, "%s", e.msg);
    hb_run_result_free(res);
    x.profile = NULL;
    hb_experiment_free(&x);
}

START_TEST(timeline_choice_does_not_depend_on_the_policy)
{
    double a[4096], b[4096];
    for (size_t i = 0; i < 4096; i++)
        a[i] = b[i] = -1;
    char text[4096];
    two_repeats(text, sizeof text);
    hb_profile *p = timeline_profile(text);
    run_policy("fixed", p, a, 4096);
    run_policy("default", p, b, 4096);
    size_t n = 0, hi = 0;
    for (size_t i = 0; i < 4096; i++) {
        ck_assert_double_eq(a[i], b[i]);
        if (a[i] >= 0) {
            n++;
            hi += a[i] == 200;
        }
    }
    ck_assert_uint_gt(n, 10);
    ck_assert_uint_gt(hi, 0);                       /* both repeats are drawn */
    ck_assert_uint_lt(hi, n);
    hb_profile_free(p);
}
END_TEST

/* ---- invariants on random traces, through the engine ---- */

typedef struct chaos {
    gsl_rng *rng;
    unsigned char *ended;
    size_t cap;
    unsigned long ticks, violations, resizes, cap_violations, sample_violations;
    hb_res capacity;
} chaos;

static chaos g_chaos;                  /* the test policy's state, inspected after the run */

static int chaos_create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    (void)err;
    g_chaos.rng = ctx->rng;
    g_chaos.capacity = ctx->invoker_capacity;
    *state = &g_chaos;
    return 0;
}

static int chaos_size(void *st, const hb_invocation *inv, const hb_observation *obs, hb_sizing *out,
                      hb_error *err)
{
    (void)obs;
    (void)err;
    chaos *c = st;
    /* half the calls with CPU quotas of random size, the others with shares */
    out->cpu_hard = gsl_rng_uniform(c->rng) < 0.5;
    out->alloc.cpu = 0.25 + 2 * gsl_rng_uniform(c->rng);
    out->alloc.mem_mb = inv->user.mem_mb * (0.5 + gsl_rng_uniform(c->rng));
    out->reserve = out->alloc;
    return 0;
}

static void check_capacity(chaos *c, hb_invoker *iv)
{
    hb_invocation *const *run;
    size_t n = hb_invoker_running(iv, &run);
    double cpu = 0, mem = 0;
    for (size_t i = 0; i < n; i++) {
        cpu += run[i]->alloc.cpu;
        mem += run[i]->alloc.mem_mb;
    }
    if (cpu > c->capacity.cpu + 1e-6 || mem > c->capacity.mem_mb + 1e-6)
        c->cap_violations++;
}

static int chaos_start(void *st, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    chaos *c = st;
    /* try a random resize: the invoker must refuse what does not fit */
    hb_res want = {inv->alloc.cpu * (0.5 + gsl_rng_uniform(c->rng)),
                   inv->alloc.mem_mb * (0.8 + 0.4 * gsl_rng_uniform(c->rng))};
    if (hb_invoker_resize(iv, inv, want, err) == 0)
        c->resizes++;
    check_capacity(c, iv);
    return 0;
}

static int chaos_tick(void *st, hb_invoker *iv, const hb_usage_sample *s, size_t n, hb_error *err)
{
    (void)err;
    chaos *c = st;
    c->ticks++;
    for (size_t i = 0; i < n; i++)
        if (s[i].cpu < -1e-9 || s[i].cpu > s[i].inv->alloc.cpu + 8 + 1e-9 || s[i].mem_mb < 0)
            c->sample_violations++;
    check_capacity(c, iv);
    return 0;
}

static int chaos_end(void *st, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    (void)err;
    chaos *c = st;
    if (inv->index >= c->cap || c->ended[inv->index]++)
        c->violations++;                                      /* ended twice */
    if (inv->outcome < HB_SUCCESS || inv->outcome > HB_LOST)
        c->violations++;
    if (inv->end - inv->arrival != (inv->start - inv->arrival) + (inv->exec_start - inv->start) +
                                       (inv->end - inv->exec_start))
        c->violations++;
    check_capacity(c, iv);
    return 0;
}

static const hb_policy_ops chaos_policy = {
    .name = "chaos", .create = chaos_create, .size = chaos_size, .on_start = chaos_start,
    .on_tick = chaos_tick, .on_end = chaos_end,
};

/* One run of the chaos policy through the front door; *st takes the run's statistics. */
static void run_chaos(uint64_t seed, hb_run_stats *st)
{
    hb_experiment x = {0};
    hb_error e;
    ck_assert_int_eq(hb_config_defaults(&x.cfg, &e), 0);
    x.cfg.invokers = 3;
    x.cfg.cores = 4;
    x.cfg.memory_mb = 4096;
    x.cfg.keep_alive_s = 30;
    snprintf(x.cfg.policies[0], sizeof x.cfg.policies[0], "chaos");
    x.cfg.n_policies = 1;
    x.cfg.seeds = 1;
    x.cfg.seed = seed;
    ck_assert_int_eq(hb_profile_artifact(NULL, 0, NULL, &x.profile, &e), 0);
    hb_trace_spec ts = {.format = "artifact",
                        .invocations = "data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv",
                        .start_minute = 1, .scale = 3, .functions = 10, .max_per_minute = 1 << 30,
                        .mapping = "order"};
    ck_assert_int_eq(hb_trace_load(&ts, &x.trace, &e), 0);
    x.arrival = HB_ARRIVAL_POISSON;
    x.sizes = HB_SIZES_RANDOM;
    memset(&g_chaos, 0, sizeof g_chaos);
    g_chaos.cap = (size_t)x.trace->total;
    g_chaos.ended = calloc(g_chaos.cap, 1);
    const hb_policy_ops *extra[] = {&chaos_policy};
    hb_run_spec spec = {.x = &x, .no_files = 1, .usage = 1, .extra_policies = extra,
                        .n_extra_policies = 1};
    hb_run_result *res;
    ck_assert_msg(hb_experiment_run(&spec, &res, &e) == 0, "%s", e.msg);
    *st = res->policies[0].pooled;     /* one seed: the run's own; its latencies are taken over */
    res->policies[0].pooled.lat = NULL;
    hb_run_result_free(res);
    ck_assert_uint_eq(st->invocations, x.trace->total);
    for (size_t i = 0; i < g_chaos.cap; i++)
        ck_assert_msg(g_chaos.ended[i] == 1, "call %zu ended %d times", i, g_chaos.ended[i]);
    ck_assert_uint_eq(g_chaos.violations, 0);
    ck_assert_uint_eq(g_chaos.cap_violations, 0);
    ck_assert_uint_eq(g_chaos.sample_violations, 0);
    ck_assert_uint_gt(g_chaos.ticks, 1000);
    ck_assert_uint_gt(g_chaos.resizes, 10);
    free(g_chaos.ended);
    hb_experiment_free(&x);
}

START_TEST(random_runs_keep_the_invariants_and_repeat_exactly)
{
    hb_run_stats a, b, c;
    run_chaos(11, &a);
    run_chaos(11, &b);
    run_chaos(12, &c);
    ck_assert_uint_eq(a.n_lat, b.n_lat);
    for (size_t i = 0; i < a.n_lat; i++)
        ck_assert_double_eq(a.lat[i], b.lat[i]);             /* same seed: the same run */
    ck_assert_double_eq(a.cpu_used_core_s, b.cpu_used_core_s);
    ck_assert(a.lat_sum != c.lat_sum);                        /* another seed: another run */
    ck_assert_uint_gt(a.outcomes[HB_OOM] + c.outcomes[HB_OOM], 0);   /* shrunk memory kills some */
    hb_stats_free(&a);
    hb_stats_free(&b);
    hb_stats_free(&c);
}
END_TEST

HB_TEST_MAIN("sim", hard_limit_runs_at_min_of_quota_and_parallelism, warm_start_within_keep_alive_only,
             shares_split_oversubscribed_cores_by_memory, shares_are_work_conserving_with_small_jobs,
             queue_is_fifo_with_head_of_line_blocking,
             memory_over_the_limit_is_killed_where_the_ramp_crosses_it, timeout_kills_at_the_limit,
             a_timeout_fires_where_it_would_when_sharing_moves_the_end,
             resize_respects_capacity_and_kills_below_usage, an_impossible_call_ends_as_error,
             resources_received_during_a_cold_start_do_not_accelerate,
             timeline_two_phases_under_a_cap_take_the_computed_time,
             timeline_resize_mid_phase_recomputes_the_completion,
             timeline_memory_over_the_limit_fails_at_its_sample,
             timeline_cpu_peak_is_the_monitor_view_of_a_burst,
             timeline_choice_does_not_depend_on_the_policy,
             random_runs_keep_the_invariants_and_repeat_exactly)

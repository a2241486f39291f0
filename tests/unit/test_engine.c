/* test_engine.c - the engine enforces every function's clip ranges on every policy decision
 * (hb_policy.h): a toy policy that asks for more than the clip gets the clip, and the engine
 * counts what it clipped. And a policy's per-call state: the engine hands every call's policy_data
 * back through the release hook, once, also for calls a stopped run never ended, and reads the
 * policy's extension columns while the state is still there. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hb_test.h"
#include "registry.h"

extern const hb_backend_ops hb_backend_sim;   /* harness/backends/sim/sim.c */

typedef struct toy {
    hb_res ask_size, ask_resize;      /* what the policy asks for at sizing and at start */
    int cpu_hard;
    unsigned long calls, outside, flagged;
    double max_cpu, max_mem;          /* largest allocation any running call had */
} toy;

static toy g_toy;

static int toy_create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    (void)ctx;
    (void)err;
    *state = &g_toy;
    return 0;
}

static int toy_size(void *st, const hb_invocation *inv, const hb_observation *obs, hb_sizing *out,
                    hb_error *err)
{
    (void)inv;
    (void)obs;
    (void)err;
    toy *t = st;
    out->alloc = t->ask_size;
    out->reserve = out->alloc;
    out->cpu_hard = t->cpu_hard;
    return 0;
}

static int toy_start(void *st, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    toy *t = st;
    if (t->ask_resize.cpu > 0 && hb_invoker_resize(iv, inv, t->ask_resize, err) != 0)
        return -1;
    return 0;
}

static int toy_tick(void *st, hb_invoker *iv, const hb_usage_sample *s, size_t n, hb_error *err)
{
    (void)iv;
    (void)err;
    toy *t = st;
    for (size_t i = 0; i < n; i++) {
        t->max_cpu = fmax(t->max_cpu, s[i].inv->alloc.cpu);
        t->max_mem = fmax(t->max_mem, s[i].inv->alloc.mem_mb);
    }
    return 0;
}

static void toy_observe(void *st, const hb_invocation *inv)
{
    toy *t = st;
    t->calls++;
    t->flagged += inv->clipped != 0;
    if (inv->alloc_start.mem_mb > 1024 || (t->cpu_hard && inv->alloc_start.cpu > 2))
        t->outside++;
}

static const hb_policy_ops toy_policy = {
    .name = "toy", .summary = "asks for more than the clip", .create = toy_create,
    .size = toy_size, .observe = toy_observe, .on_start = toy_start, .on_tick = toy_tick,
};

static int run_policy(const hb_policy_ops *pol, int scale, volatile sig_atomic_t *stop,
                      hb_run_stats *st, hb_error *e);

static void run_toy(hb_res ask_size, hb_res ask_resize, int cpu_hard, hb_run_stats *st)
{
    memset(&g_toy, 0, sizeof g_toy);
    g_toy.ask_size = ask_size;
    g_toy.ask_resize = ask_resize;
    g_toy.cpu_hard = cpu_hard;
    hb_error e;
    ck_assert_msg(run_policy(&toy_policy, 1, NULL, st, &e) == 0, "%s", e.msg);
    ck_assert_uint_gt(g_toy.calls, 20);
}

/* One run of a policy over ten minutes of the demo trace (its calls x scale), every function clipped
 * to 1-2 cores and 256-1024 MB (the artifact's dh). */
static int run_policy(const hb_policy_ops *pol, int scale, volatile sig_atomic_t *stop,
                      hb_run_stats *st, hb_error *err)
{
    hb_config cfg;
    hb_error e;
    ck_assert_int_eq(hb_config_load_text("[workload]\ntimeout_s = 300\n", "t.ini", ".", &cfg, &e), 0);
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        cfg.funcs[f].cpu_clip[0] = 1;
        cfg.funcs[f].cpu_clip[1] = 2;
        cfg.funcs[f].mem_clip_mb[0] = 256;
        cfg.funcs[f].mem_clip_mb[1] = 1024;
    }
    hb_profile *prof;
    ck_assert_int_eq(hb_profile_artifact(NULL, 0, NULL, &prof, &e), 0);
    hb_trace_spec ts = {.format = "artifact",
                        .invocations = "data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv",
                        .start_minute = 1, .minutes = 10, .scale = scale, .functions = 10,
                        .max_per_minute = 1 << 30, .mapping = "order"};
    hb_trace *tr;
    ck_assert_int_eq(hb_trace_load(&ts, &tr, &e), 0);
    hb_kvlist none = {"policy.toy", NULL, 0};
    hb_stats_init(st, 1);
    hb_engine_spec es = {.cfg = &cfg, .trace = tr, .profile = prof, .arrival = HB_ARRIVAL_EVEN,
                         .sizes = HB_SIZES_RANDOM, .policy = pol, .policy_params = &none,
                         .backend = &hb_backend_sim, .seed = 3, .seed_index = 1, .stats = st,
                         .usage = 1, .stop = stop};
    int rc = hb_engine_run(&es, err);
    hb_trace_free(tr);
    hb_profile_free(prof);
    hb_config_free(&cfg);
    return rc;
}

START_TEST(a_sizing_above_the_clip_is_clipped_and_counted)
{
    hb_run_stats st;
    run_toy((hb_res){3, 2048}, (hb_res){0, 0}, 1, &st);
    ck_assert_uint_eq(g_toy.outside, 0);                      /* no call started above the clip */
    ck_assert_uint_eq(g_toy.flagged, g_toy.calls);            /* every call was flagged */
    ck_assert_uint_eq(st.clipped_decisions, g_toy.calls);     /* one sizing each */
    ck_assert_double_le(g_toy.max_cpu, 2.0);
    ck_assert_double_le(g_toy.max_mem, 1024.0);
    hb_stats_free(&st);
}
END_TEST

START_TEST(a_resize_above_the_clip_is_clipped_and_counted)
{
    hb_run_stats st;
    /* sized inside the clip, then grown to 5 cores and 4 GB once running */
    run_toy((hb_res){1, 512}, (hb_res){5, 4096}, 1, &st);
    ck_assert_uint_eq(g_toy.flagged, g_toy.calls);
    ck_assert_uint_eq(st.clipped_decisions, g_toy.calls);     /* one resize each */
    ck_assert_double_gt(g_toy.max_cpu, 1.0);                  /* the resize happened ... */
    ck_assert_double_le(g_toy.max_cpu, 2.0);                  /* ... up to the clip only */
    ck_assert_double_eq(g_toy.max_mem, 1024.0);
    hb_stats_free(&st);
}
END_TEST

START_TEST(inside_the_clip_nothing_is_clipped_and_shares_are_not_quotas)
{
    hb_run_stats st;
    run_toy((hb_res){2, 1024}, (hb_res){0, 0}, 1, &st);
    ck_assert_uint_eq(st.clipped_decisions, 0);
    ck_assert_uint_eq(g_toy.flagged, 0);
    hb_stats_free(&st);
    /* CPU shares (cpu_hard = 0) are a weight, not an amount: 0.25 is below the clip and stays */
    run_toy((hb_res){0.25, 512}, (hb_res){0, 0}, 0, &st);
    ck_assert_uint_eq(st.clipped_decisions, 0);
    hb_stats_free(&st);
}
END_TEST

/* ---- per-call state (release) and extension columns ---- */

typedef struct keeper {
    unsigned long started, observed, observed_with_state, released, twice, stop_after;
    double index_sum;                  /* sum of the index of every observed call */
    volatile sig_atomic_t stop;
} keeper;

static keeper g_keep;

static int keep_create(const hb_policy_ctx *ctx, void **state, hb_error *err)
{
    (void)ctx;
    (void)err;
    *state = &g_keep;
    return 0;
}

static int keep_start(void *st, hb_invoker *iv, hb_invocation *inv, hb_error *err)
{
    (void)iv;
    keeper *k = st;
    uint64_t *mine = malloc(sizeof *mine);    /* the policy's own record of the call */
    if (!mine)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    *mine = inv->index;
    inv->policy_data = mine;
    if (++k->started == k->stop_after)
        k->stop = 1;                          /* as SIGINT would: the run stops at the next event */
    return 0;
}

static void keep_observe(void *st, const hb_invocation *inv)
{
    keeper *k = st;
    k->observed++;
    k->observed_with_state += inv->policy_data != NULL;
    k->index_sum += (double)inv->index;
}

static void keep_release(void *st, hb_invocation *inv)
{
    keeper *k = st;
    uint64_t *mine = inv->policy_data;
    k->twice += *mine == UINT64_MAX;
    *mine = UINT64_MAX;
    free(mine);
    k->released++;
}

static const hb_column keep_columns[] = {{"keep_index", 1}, {"keep_note", 0}, {NULL, 0}};

static void keep_column(void *st, const hb_invocation *inv, size_t col, hb_column_value *out)
{
    (void)st;
    const uint64_t *mine = inv->policy_data;  /* still there: read before release */
    if (col == 0 && mine)
        out->num = (double)*mine;
    if (col == 1)
        out->text = "kept";
}

static const hb_policy_ops keep_policy = {
    .name = "keep", .summary = "keeps a record per call", .create = keep_create,
    .observe = keep_observe, .on_start = keep_start, .release = keep_release,
    .columns = keep_columns, .column = keep_column,
};

START_TEST(every_call_state_is_released_once_and_its_columns_are_read_first)
{
    hb_run_stats st;
    hb_error e;
    memset(&g_keep, 0, sizeof g_keep);
    ck_assert_msg(run_policy(&keep_policy, 1, NULL, &st, &e) == 0, "%s", e.msg);
    ck_assert_uint_gt(g_keep.started, 20);
    ck_assert_uint_eq(g_keep.observed, g_keep.started);
    ck_assert_uint_eq(g_keep.observed_with_state, g_keep.observed);   /* released after observe */
    ck_assert_uint_eq(g_keep.released, g_keep.started);
    ck_assert_uint_eq(g_keep.twice, 0);
    ck_assert_double_eq(hb_stats_column(&st, "keep_index"), g_keep.index_sum);
    ck_assert(isnan(hb_stats_column(&st, "keep_note")));
    hb_stats_free(&st);
}
END_TEST

START_TEST(a_stopped_run_releases_the_calls_it_never_ended)
{
    hb_run_stats st;
    hb_error e;
    memset(&g_keep, 0, sizeof g_keep);
    g_keep.stop_after = 40;                  /* 20 x the calls: many in flight at once */
    ck_assert_int_eq(run_policy(&keep_policy, 20, &g_keep.stop, &st, &e), HB_EINTR);
    ck_assert_uint_ge(g_keep.started, 40);
    ck_assert_uint_lt(g_keep.observed, g_keep.started);      /* some calls never ended ... */
    ck_assert_uint_eq(g_keep.released, g_keep.started);      /* ... and were released all the same */
    ck_assert_uint_eq(g_keep.twice, 0);
    hb_stats_free(&st);
}
END_TEST

START_TEST(a_policy_with_a_bad_column_name_fails_before_it_runs)
{
    static const hb_column bad[] = {{"latency_ms", 1}, {NULL, 0}};
    hb_policy_ops pol = keep_policy;
    pol.columns = bad;
    hb_run_stats st;
    hb_error e;
    memset(&g_keep, 0, sizeof g_keep);
    ck_assert_int_eq(run_policy(&pol, 1, NULL, &st, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "latency_ms") != NULL, "%s", e.msg);
    ck_assert_uint_eq(g_keep.started, 0);
    hb_stats_free(&st);
}
END_TEST

HB_TEST_MAIN("engine", a_sizing_above_the_clip_is_clipped_and_counted,
             a_resize_above_the_clip_is_clipped_and_counted,
             inside_the_clip_nothing_is_clipped_and_shares_are_not_quotas,
             every_call_state_is_released_once_and_its_columns_are_read_first,
             a_stopped_run_releases_the_calls_it_never_ended,
             a_policy_with_a_bad_column_name_fails_before_it_runs)

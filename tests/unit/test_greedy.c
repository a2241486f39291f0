/* test_greedy.c - GreedyRM's decisions, driven through its hooks. */
#include <check.h>

#include "policies.h"
#include "unit/policy_testkit.h"

#include "hb_test.h"

typedef struct run {
    testkit k;
    void *st;
} run;

static void run_open(run *r)
{
    testkit_init(&r->k, "greedy", 1);
    hb_error err;
    ck_assert_int_eq(hb_policy_greedy.create(&r->k.ctx, &r->st, &err), 0);
}

static void run_close(run *r)
{
    hb_policy_greedy.destroy(r->st);
    testkit_free(&r->k);
}

/* Sizes one call of `id` and returns its decision. */
static hb_sizing size_call(run *r, hb_invocation *inv)
{
    hb_sizing s = testkit_default_sizing(inv);
    hb_observation o = testkit_obs(hb_time_s(inv->arrival), 0, 8, 8192);
    hb_error err;
    ck_assert_int_eq(hb_policy_greedy.size(r->st, inv, &o, &s, &err), 0);
    return s;
}

START_TEST(first_call_gets_user_allocation)
{
    run r;
    run_open(&r);
    hb_invocation inv = testkit_call(&r.k, "dh", 0, 0, 1000);
    hb_sizing s = size_call(&r, &inv);
    ck_assert_double_eq(s.alloc.cpu, 2);
    ck_assert_double_eq(s.alloc.mem_mb, 1024);
    ck_assert_double_eq(s.reserve.cpu, 2);
    ck_assert_double_eq(s.reserve.mem_mb, 1024);
    ck_assert_int_eq(s.cpu_hard, 1);
    ck_assert(s.pred.cpu < 0 && s.pred.mem_mb < 0 && s.pred_duration_s < 0);
    run_close(&r);
}
END_TEST

START_TEST(next_call_follows_last_peak_in_like_units)
{
    run r;
    run_open(&r);
    /* alu: user 2 cores, 8 units; clip cpu [1,2], mem [1,8] units */
    hb_invocation a = testkit_call(&r.k, "alu", 0, 0, 10);
    hb_sizing s = size_call(&r, &a);
    testkit_end(&a, &s, 0, 0.5, 2.0, 0.8, 300.0, HB_SUCCESS);
    hb_policy_greedy.observe(r.st, &a);

    hb_invocation b = testkit_call(&r.k, "alu", 1, 1, 10);
    s = size_call(&r, &b);
    ck_assert_double_eq(s.alloc.cpu, 1);          /* floor(0.8) + 1 */
    ck_assert_double_eq(s.alloc.mem_mb, 384);     /* 300 MB -> 3 units, the unit above the peak */
    ck_assert_double_eq(s.reserve.mem_mb, 384);

    /* another function's history does not leak */
    hb_invocation c = testkit_call(&r.k, "ms", 2, 1, 10);
    s = size_call(&r, &c);
    ck_assert_double_eq(s.alloc.cpu, 2);
    ck_assert_double_eq(s.alloc.mem_mb, 512);
    run_close(&r);
}
END_TEST

START_TEST(overflow_or_oom_jumps_to_the_cap_then_clips)
{
    run r;
    run_open(&r);
    /* knn: user 2, 8; clip cpu [1,2], mem [4,8] units */
    hb_invocation a = testkit_call(&r.k, "knn", 0, 0, 10);
    hb_sizing s = size_call(&r, &a);
    s.alloc = (hb_res){1, 512};
    testkit_end(&a, &s, 0, 0, 3.0, 1.0, 512.0, HB_OOM);
    hb_policy_greedy.observe(r.st, &a);
    hb_invocation b = testkit_call(&r.k, "knn", 1, 5, 10);
    s = size_call(&r, &b);
    ck_assert_double_eq(s.alloc.cpu, 2);          /* floor(1.0) + 1 */
    ck_assert_double_eq(s.alloc.mem_mb, 1024);    /* killed for memory: 8 units */

    /* a tiny peak is clipped up to the function's range */
    testkit_end(&b, &s, 0, 0, 3.0, 0.2, 50.0, HB_SUCCESS);
    hb_policy_greedy.observe(r.st, &b);
    hb_invocation c = testkit_call(&r.k, "knn", 2, 9, 10);
    s = size_call(&r, &c);
    ck_assert_double_eq(s.alloc.cpu, 1);
    ck_assert_double_eq(s.alloc.mem_mb, 512);     /* 1 unit, clipped to 4 units */

    /* an error without measurements is ignored */
    testkit_end(&c, &s, 0, 0, 0.0, 0.0, 0.0, HB_ERROR);
    hb_policy_greedy.observe(r.st, &c);
    hb_invocation d = testkit_call(&r.k, "knn", 3, 12, 10);
    s = size_call(&r, &d);
    ck_assert_double_eq(s.alloc.cpu, 1);
    ck_assert_double_eq(s.alloc.mem_mb, 512);
    run_close(&r);
}
END_TEST

START_TEST(places_by_join_shortest_queue)
{
    run r;
    run_open(&r);
    hb_invocation inv = testkit_call(&r.k, "dh", 0, 0, 1000);
    inv.reserve = (hb_res){2, 1024};
    hb_invoker_state st[3] = {
        {.inflight = 1, .free = {8, 8192}, .capacity = {8, 8192}},
        {.inflight = 0, .free = {1, 8192}, .capacity = {8, 8192}},   /* too little CPU */
        {.inflight = 0, .free = {4, 4096}, .capacity = {8, 8192}},
    };
    hb_cluster_view v = {.now = 0, .n = 3, .inv = st, .rng = r.k.rng};
    hb_error err;
    ck_assert_int_eq(hb_policy_greedy.place(r.st, &inv, &v, &err), 2);
    run_close(&r);
}
END_TEST

HB_TEST_MAIN("greedy", first_call_gets_user_allocation, next_call_follows_last_peak_in_like_units,
             overflow_or_oom_jumps_to_the_cap_then_clips, places_by_join_shortest_queue)

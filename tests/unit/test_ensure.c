/* test_ensure.c - ENSURE's CPU controller, driven through its hooks. */
#include <check.h>

#include "policies.h"
#include "unit/policy_testkit.h"

#include "hb_test.h"

typedef struct run {
    testkit k;
    void *st;
    uint64_t next_index;
} run;

/* The artifact's ranges, except ip and dh may use 1..8 cores so that steps are visible. */
static void run_open(run *r)
{
    testkit_init(&r->k, "ensure", 1);
    r->k.funcs[hb_function_find("ip")].cpu_clip[1] = 8;
    r->k.funcs[hb_function_find("dh")].cpu_clip[1] = 8;
    r->next_index = 0;
    hb_error err;
    ck_assert_int_eq(hb_policy_ensure.create(&r->k.ctx, &r->st, &err), 0);
}

static void run_close(run *r)
{
    hb_policy_ensure.destroy(r->st);
    testkit_free(&r->k);
}

/* Sizes one call of `id` at t with `free_cpu` free in the cluster. */
static hb_invocation call(run *r, const char *id, double t, double free_cpu, hb_sizing *s)
{
    hb_invocation inv = testkit_call(&r->k, id, r->next_index++, t, 10);
    *s = testkit_default_sizing(&inv);
    hb_observation o = testkit_obs(t, 0, free_cpu, 8192);
    hb_error err;
    ck_assert_int_eq(hb_policy_ensure.size(r->st, &inv, &o, s, &err), 0);
    ck_assert_int_eq(s->cpu_hard, 1);
    ck_assert_double_eq(s->reserve.cpu, s->alloc.cpu);
    ck_assert_double_eq(s->alloc.mem_mb, inv.user.mem_mb);   /* CPU only */
    return inv;
}

/* Sizes and ends a call with the given latency (all of it execution). */
static double call_and_end(run *r, const char *id, double t, double free_cpu, double latency,
                           hb_outcome outcome)
{
    hb_sizing s;
    hb_invocation inv = call(r, id, t, free_cpu, &s);
    testkit_end(&inv, &s, 0, 0, latency, s.alloc.cpu, 100, outcome);
    hb_policy_ensure.observe(r->st, &inv);
    return s.alloc.cpu;
}

START_TEST(raises_cpu_when_latency_degrades)
{
    run r;
    run_open(&r);
    /* ip: user 1 core; ET class (threshold 3, step 2) */
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq(call_and_end(&r, "ip", i, 8, 1.0, HB_SUCCESS), 1);
    /* 4th call: counter at 3, window mean 1.0 = reference: unchanged, counter restarts */
    ck_assert_double_eq(call_and_end(&r, "ip", 3, 8, 1.0, HB_SUCCESS), 1);
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq(call_and_end(&r, "ip", 4 + i, 8, 2.0, HB_SUCCESS), 1);
    /* window (2, 2, 2) / reference 1.0 >= 1.10 and free CPU 8 > 2: 1 + 2 cores */
    ck_assert_double_eq(call_and_end(&r, "ip", 8, 8, 2.0, HB_SUCCESS), 3);
    /* the function keeps it between updates */
    ck_assert_double_eq(call_and_end(&r, "ip", 9, 8, 2.0, HB_SUCCESS), 3);
    run_close(&r);
}
END_TEST

START_TEST(lowers_cpu_when_the_cluster_is_short)
{
    run r;
    run_open(&r);
    /* dh: user 2 cores */
    for (int i = 0; i < 3; i++)
        call_and_end(&r, "dh", i, 8, 1.0, HB_SUCCESS);
    /* free CPU 2 is not above the step 2: W[0]'s 2 cores - 2, floored at 1 */
    ck_assert_double_eq(call_and_end(&r, "dh", 3, 2, 1.0, HB_SUCCESS), 1);
    run_close(&r);
}
END_TEST

START_TEST(slow_functions_use_the_mp_class)
{
    run r;
    run_open(&r);
    /* from the 2nd call the mean completion time exceeds 5 s: MP, threshold 5, step 1 */
    for (int i = 0; i < 5; i++)
        call_and_end(&r, "ip", 10.0 * i, 8, i < 2 ? 6.0 : 7.0, HB_SUCCESS);
    /* counter 5: window (7, 7, 7), reference 6: 7/6 >= 1.10: 1 + 1 core */
    ck_assert_double_eq(call_and_end(&r, "ip", 50, 8, 7.0, HB_SUCCESS), 2);
    run_close(&r);
}
END_TEST

START_TEST(counters_are_per_function)
{
    run r;
    run_open(&r);
    for (int i = 0; i < 3; i++)
        call_and_end(&r, "ip", i, 8, 1.0, HB_SUCCESS);
    call_and_end(&r, "dh", 3, 8, 1.0, HB_SUCCESS);
    call_and_end(&r, "dh", 4, 8, 1.0, HB_SUCCESS);
    /* the cluster is short now: ip (counter 3) steps down from 1 core (stays 1), dh does not act
     * yet (counter 2), so it keeps its 2 cores; a global counter would have lowered dh */
    ck_assert_double_eq(call_and_end(&r, "ip", 5, 1, 1.0, HB_SUCCESS), 1);
    ck_assert_double_eq(call_and_end(&r, "dh", 6, 1, 1.0, HB_SUCCESS), 2);
    /* dh's 4th call acts: 2 - 2 -> 1 */
    ck_assert_double_eq(call_and_end(&r, "dh", 7, 1, 1.0, HB_SUCCESS), 1);
    run_close(&r);
}
END_TEST

START_TEST(window_mean_uses_the_calls_it_has)
{
    run r;
    run_open(&r);
    hb_sizing s[3];
    hb_invocation inv[3];
    for (int i = 0; i < 3; i++)
        inv[i] = call(&r, "ip", i, 8, &s[i]);
    /* two of three ended: latencies 1.0 (the reference) and 1.5 */
    testkit_end(&inv[0], &s[0], 0, 0, 1.0, 1, 100, HB_SUCCESS);
    hb_policy_ensure.observe(r.st, &inv[0]);
    testkit_end(&inv[1], &s[1], 0, 0.5, 1.0, 1, 100, HB_SUCCESS);
    hb_policy_ensure.observe(r.st, &inv[1]);
    /* mean (1.5 + 1.0) / 2 = 1.25 >= 1.10: raise (dividing by 3 would give 0.83 and no raise) */
    hb_sizing s4;
    call(&r, "ip", 3, 8, &s4);
    ck_assert_double_eq(s4.alloc.cpu, 3);
    run_close(&r);
}
END_TEST

START_TEST(decisions_are_clipped)
{
    run r;
    testkit_init(&r.k, "ensure", 1);   /* the artifact's ranges: cpu [1, 2] */
    hb_error err;
    ck_assert_int_eq(hb_policy_ensure.create(&r.k.ctx, &r.st, &err), 0);
    r.next_index = 0;
    for (int i = 0; i < 3; i++)
        call_and_end(&r, "ip", i, 8, i == 0 ? 1.0 : 3.0, HB_SUCCESS);
    ck_assert_double_eq(call_and_end(&r, "ip", 3, 8, 3.0, HB_SUCCESS), 2);   /* 1 + 2 -> 2 */
    run_close(&r);
}
END_TEST

HB_TEST_MAIN("ensure", raises_cpu_when_latency_degrades, lowers_cpu_when_the_cluster_is_short,
             slow_functions_use_the_mp_class, counters_are_per_function,
             window_mean_uses_the_calls_it_has, decisions_are_clipped)

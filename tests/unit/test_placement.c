/* test_placement.c - OpenWhisk's sharding balancer and join-shortest-queue. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hb_policy.h"
#include "hb_test.h"
#include "placement.h"
#include "seed.h"

static hb_invoker_state inv[10];

static hb_cluster_view view(int n, gsl_rng *r)
{
    for (int i = 0; i < n; i++)
        inv[i] = (hb_invoker_state){0, {8, 8192}, {8, 8192}};
    return (hb_cluster_view){0, n, inv, r};
}

static hb_invocation call(int func, double cpu, double mem)
{
    hb_invocation c;
    memset(&c, 0, sizeof c);
    c.func = c.workload = func;
    c.reserve = (hb_res){cpu, mem};
    return c;
}

START_TEST(sharding_goes_home_then_steps_by_a_coprime)
{
    gsl_rng *r = hb_rng_new(1, "placement");
    hb_cluster_view v = view(10, r);
    /* Java hashCode("guest") ^ hashCode("guest/dh") = 98708952 ^ -1414160357 = -1369993789
     * (h = 31 h + c over the characters, 32-bit); |hash| mod 10 = 9 is home; the pairwise coprime
     * numbers up to 10 are 1, 3, 7, 9 and |hash| mod 4 = 1 picks step 3 */
    hb_invocation dh = call(0, 2, 1024);
    ck_assert_int_eq(hb_place_sharding(&dh, &v), 9);
    inv[9].free.mem_mb = 512;                                /* home full: next is 9 + 3 = 12 -> 2 */
    ck_assert_int_eq(hb_place_sharding(&dh, &v), 2);
    for (int i = 0; i < 10; i++)
        inv[i].free.mem_mb = 0;                              /* all full: a random invoker */
    int k = hb_place_sharding(&dh, &v);
    ck_assert(k >= 0 && k < 10);
    /* CPU is not a permit of stock OpenWhisk */
    v = view(10, r);
    for (int i = 0; i < 10; i++)
        inv[i].free.cpu = -3;
    ck_assert_int_eq(hb_place_sharding(&dh, &v), 9);
    gsl_rng_free(r);
}
END_TEST

START_TEST(jsq_takes_the_least_loaded_that_fits)
{
    gsl_rng *r = hb_rng_new(1, "placement");
    hb_cluster_view v = view(4, r);
    inv[0].inflight = 3;
    inv[1].inflight = 1;
    inv[2].inflight = 1;
    inv[3].inflight = 2;
    hb_invocation c = call(0, 2, 1024);
    ck_assert_int_eq(hb_place_jsq(&c, &v), 1);               /* ties go to the lower index */
    inv[1].free.cpu = 1;                                     /* 1 no longer holds 2 cores */
    ck_assert_int_eq(hb_place_jsq(&c, &v), 2);
    inv[2].free.mem_mb = 512;                                /* nor 2 the memory */
    ck_assert_int_eq(hb_place_jsq(&c, &v), 3);
    gsl_rng_free(r);
}
END_TEST

/* The balancer's home as OpenWhisk computes it: Java's hash of "guest" xor that of the name as a
 * 128-byte buffer holds "guest/NAME", modulo n. */
static int ref_home(const char *name, int n)
{
    char fqn[128];
    snprintf(fqn, sizeof fqn, "guest/%s", name);
    uint32_t g = 0, h = 0;
    for (const char *p = "guest"; *p; p++)
        g = 31u * g + (unsigned char)*p;
    for (const char *p = fqn; *p; p++)
        h = 31u * h + (unsigned char)*p;
    int32_t x = (int32_t)(g ^ h);
    int64_t a = x < 0 ? -(int64_t)x : x;
    return (int)(a % n);
}

START_TEST(the_engine_route_is_the_balancer_s)
{
    gsl_rng *r = hb_rng_new(1, "placement");
    hb_cluster_view v = view(10, r);
    /* "guest/dh": home 9, step 3 (above) */
    hb_shard_route dh = hb_sharding_route("dh", 10);
    ck_assert_int_eq(dh.home, 9);
    ck_assert_int_eq(dh.step, 3);
    /* a trace's name: the same invoker either way, also when the 128-byte name buffer of the
     * balancer cuts it (the 127 characters of "guest/NAME" kept) */
    char lng[201], cut[122];
    memset(lng, 'q', 200);
    lng[200] = '\0';
    lng[7] = 'x';
    memcpy(cut, lng, 121);
    cut[121] = '\0';
    hb_shard_route a = hb_sharding_route(lng, 7), b = hb_sharding_route(cut, 7);
    ck_assert_int_eq(a.home, b.home);
    ck_assert_int_eq(a.step, b.step);
    const char *names[] = {"dh", "func-0003", lng, cut};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        for (int n = 2; n <= 10; n++) {
            ck_assert_int_eq(hb_sharding_route(names[i], n).home, ref_home(names[i], n));
            v = view(n, r);
            hb_invocation c = call(0, 2, 1024);
            c.trace_name = names[i];
            inv[hb_sharding_route(names[i], n).home].free.mem_mb = 0;   /* home full: the step */
            ck_assert_int_eq(hb_place_sharding(&c, &v),
                             hb_place_sharding_routed(hb_sharding_route(names[i], n), &c, &v));
        }
    gsl_rng_free(r);
}
END_TEST

HB_TEST_MAIN("placement", sharding_goes_home_then_steps_by_a_coprime, jsq_takes_the_least_loaded_that_fits,
             the_engine_route_is_the_balancer_s)

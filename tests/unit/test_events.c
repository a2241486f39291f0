/* test_events.c - arrival modes, event order and input sizes. */
#include <string.h>

#include "events.h"
#include "hb_test.h"
#include "seed.h"

/* A hand-made trace: two functions (dh, vp) over two minutes. */
static hb_trace *small_trace(uint32_t c00, uint32_t c01, uint32_t c10, uint32_t c11)
{
    static hb_trace_func funcs[2];
    static uint32_t counts[4];
    static hb_trace t;
    memset(&t, 0, sizeof t);
    memset(funcs, 0, sizeof funcs);
    funcs[0].bench = 0;                                      /* dh */
    funcs[1].bench = 3;                                      /* vp */
    counts[0] = c00; counts[1] = c01; counts[2] = c10; counts[3] = c11;
    t.funcs = funcs;
    t.counts = counts;
    t.n_funcs = 2;
    t.n_minutes = 2;
    t.total = (uint64_t)c00 + c01 + c10 + c11;
    return &t;
}

static size_t collect(hb_eventgen *g, hb_event *out, size_t max)
{
    size_t n = 0;
    while (n < max && hb_eventgen_next(g, &out[n]) == 1)
        n++;
    return n;
}

START_TEST(even_is_the_artifacts_formula)
{
    /* minute m, n calls: call i at 60m + floor(60/n) i seconds; index minute-major, row order */
    hb_trace *t = small_trace(3, 1, 7, 0);
    hb_eventgen *g;
    hb_error e;
    ck_assert_int_eq(hb_eventgen_new(t, HB_ARRIVAL_EVEN, HB_SIZES_MULTI, NULL, NULL, &g, &e), 0);
    hb_event ev[16];
    ck_assert_uint_eq(collect(g, ev, 16), 11);
    /* minute 0: dh x3 at 0, 20, 40 (indices 0..2); vp x7 at 0, 8, ..., 48 (indices 3..9) */
    static const long long want_t[] = {0, 0, 8, 16, 20, 24, 32, 40, 40, 48, 60};
    static const int want_idx[] = {0, 3, 4, 5, 1, 6, 7, 2, 8, 9, 10};
    for (int i = 0; i < 11; i++) {
        ck_assert_int_eq(ev[i].t, want_t[i] * HB_SEC);
        ck_assert_int_eq((int)ev[i].index, want_idx[i]);
    }
    ck_assert_int_eq(ev[0].input_size, 1000);                /* dh's demo size */
    ck_assert_int_eq(ev[1].input_size, 1);                   /* vp's */
    ck_assert_int_eq(ev[10].func, 0);
    ck_assert_int_eq(hb_eventgen_peek(g), HB_TIME_NEVER);
    hb_eventgen_free(g);
}
END_TEST

START_TEST(even_with_more_than_60_calls_fires_at_the_minute)
{
    hb_trace *t = small_trace(61, 0, 0, 0);
    hb_eventgen *g;
    hb_error e;
    ck_assert_int_eq(hb_eventgen_new(t, HB_ARRIVAL_EVEN, HB_SIZES_MULTI, NULL, NULL, &g, &e), 0);
    hb_event ev[64];
    ck_assert_uint_eq(collect(g, ev, 64), 61);
    for (int i = 0; i < 61; i++)
        ck_assert_int_eq(ev[i].t, 0);
    hb_eventgen_free(g);
}
END_TEST

START_TEST(equidistant_spreads_exactly)
{
    hb_trace *t = small_trace(0, 0, 7, 0);
    hb_eventgen *g;
    hb_error e;
    ck_assert_int_eq(hb_eventgen_new(t, HB_ARRIVAL_EQUIDISTANT, HB_SIZES_MULTI, NULL, NULL, &g, &e), 0);
    hb_event ev[8];
    ck_assert_uint_eq(collect(g, ev, 8), 7);
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(ev[i].t, 60 * HB_SEC * i / 7);
    hb_eventgen_free(g);
}
END_TEST

static void random_mode(hb_arrival mode)
{
    hb_trace *t = small_trace(50, 40, 30, 20);
    gsl_rng *a = hb_rng_new(3, "arrivals"), *b = hb_rng_new(3, "arrivals");
    hb_eventgen *g1, *g2;
    hb_error e;
    ck_assert_int_eq(hb_eventgen_new(t, mode, HB_SIZES_MULTI, a, NULL, &g1, &e), 0);
    ck_assert_int_eq(hb_eventgen_new(t, mode, HB_SIZES_MULTI, b, NULL, &g2, &e), 0);
    static hb_event x[200], y[200];
    ck_assert_uint_eq(collect(g1, x, 200), 140);
    ck_assert_uint_eq(collect(g2, y, 200), 140);
    size_t in_minute[2] = {0, 0};
    for (int i = 0; i < 140; i++) {
        ck_assert_int_eq(x[i].t, y[i].t);                    /* same seed, same times */
        ck_assert_int_eq((int)x[i].index, (int)y[i].index);
        if (i)
            ck_assert(x[i].t >= x[i - 1].t);                 /* sorted */
        int m = (int)(x[i].t / (60 * HB_SEC));
        ck_assert_int_lt(m, 2);
        in_minute[m]++;
    }
    ck_assert_uint_eq(in_minute[0], 80);                     /* every call stays in its minute */
    ck_assert_uint_eq(in_minute[1], 60);
    hb_eventgen_free(g1);
    hb_eventgen_free(g2);
    gsl_rng_free(a);
    gsl_rng_free(b);
}

START_TEST(uniform_and_poisson_are_seeded_and_stay_in_the_minute)
{
    random_mode(HB_ARRIVAL_UNIFORM);
    random_mode(HB_ARRIVAL_POISSON);
}
END_TEST

START_TEST(random_sizes_follow_the_artifacts_ranges)
{
    hb_trace *t = small_trace(60, 60, 60, 60);
    gsl_rng *r = hb_rng_new(9, "sizes");
    hb_eventgen *g;
    hb_error e;
    ck_assert_int_eq(hb_eventgen_new(t, HB_ARRIVAL_EVEN, HB_SIZES_RANDOM, NULL, r, &g, &e), 0);
    hb_event ev;
    int64_t lo[2] = {INT64_MAX, INT64_MAX}, hi[2] = {0, 0};
    while (hb_eventgen_next(g, &ev) == 1) {
        int k = ev.func == 0 ? 0 : 1;
        lo[k] = ev.input_size < lo[k] ? ev.input_size : lo[k];
        hi[k] = ev.input_size > hi[k] ? ev.input_size : hi[k];
    }
    /* dh: 100 x [1, 101) -> [100, 10099]; vp: [1, 10] */
    ck_assert_int_ge(lo[0], 100);
    ck_assert_int_le(hi[0], 10099);
    ck_assert_int_lt(lo[0], 1000);
    ck_assert_int_gt(hi[0], 9000);
    ck_assert_int_eq(lo[1], 1);
    ck_assert_int_eq(hi[1], 10);
    hb_eventgen_free(g);
    gsl_rng_free(r);
}
END_TEST

START_TEST(file_sizes_go_by_event_index)
{
    hb_trace *t = small_trace(2, 0, 1, 0);
    int64_t sizes[] = {11, 22, 33};
    t->sizes = sizes;
    t->n_sizes = 3;
    hb_eventgen *g;
    hb_error e;
    ck_assert_int_eq(hb_eventgen_new(t, HB_ARRIVAL_EVEN, HB_SIZES_FILE, NULL, NULL, &g, &e), 0);
    hb_event ev[3];
    ck_assert_uint_eq(collect(g, ev, 3), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ev[i].input_size, sizes[ev[i].index]);
    hb_eventgen_free(g);
    t->sizes = NULL;
    hb_sizes mode;
    ck_assert_int_eq(hb_sizes_parse("auto", t, &mode, &e), 0);
    ck_assert_int_eq(mode, HB_SIZES_RANDOM);
    ck_assert_int_eq(hb_sizes_parse("file", t, &mode, &e), HB_EINPUT);
}
END_TEST

/* Many functions, many ties: the minute comes out in (time, index) order with every event once,
 * whether the per-function runs are merged (generated times) or sorted (a trace's own times). */
static void check_order(hb_trace *t, hb_arrival arr)
{
    gsl_rng *r = hb_rng_new(7, "arrivals");
    hb_eventgen *g;
    hb_error e;
    ck_assert_int_eq(hb_eventgen_new(t, arr, HB_SIZES_MULTI, r, NULL, &g, &e), 0);
    static hb_event ev[20000];
    static unsigned char seen[20000];
    memset(seen, 0, sizeof seen);
    size_t n = collect(g, ev, 20000);
    ck_assert_uint_eq(n, t->total);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_lt(ev[i].index, t->total);
        ck_assert(!seen[ev[i].index]);
        seen[ev[i].index] = 1;
        if (i)
            ck_assert(ev[i - 1].t < ev[i].t || (ev[i - 1].t == ev[i].t && ev[i - 1].index < ev[i].index));
    }
    hb_eventgen_free(g);
    gsl_rng_free(r);
}

START_TEST(a_minute_comes_out_in_time_then_index_order)
{
    enum { NF = 40, NM = 3 };
    static hb_trace_func funcs[NF];
    static uint32_t counts[NF * NM];
    static hb_time offs[20000];
    hb_trace t;
    memset(&t, 0, sizeof t);
    memset(funcs, 0, sizeof funcs);
    t.funcs = funcs;
    t.counts = counts;
    t.n_funcs = NF;
    t.n_minutes = NM;
    for (int f = 0; f < NF; f++) {
        funcs[f].bench = f % HB_NWORKLOADS;
        for (int m = 0; m < NM; m++) {
            counts[f * NM + m] = (uint32_t)((f * 7 + m * 13) % 90);   /* some zero, up to 89 */
            t.total += counts[f * NM + m];
        }
    }
    check_order(&t, HB_ARRIVAL_POISSON);
    check_order(&t, HB_ARRIVAL_UNIFORM);
    check_order(&t, HB_ARRIVAL_EVEN);  /* ties at the same seconds across functions */
    /* a trace's own times, out of order within a function: sorted, not merged */
    for (uint64_t i = 0; i < t.total; i++)
        offs[i] = (hb_time)((i * 7919) % 60) * HB_SEC;
    t.offsets = offs;
    check_order(&t, HB_ARRIVAL_EVEN);
}
END_TEST

HB_TEST_MAIN("events", a_minute_comes_out_in_time_then_index_order, even_is_the_artifacts_formula, even_with_more_than_60_calls_fires_at_the_minute,
             equidistant_spreads_exactly, uniform_and_poisson_are_seeded_and_stay_in_the_minute,
             random_sizes_follow_the_artifacts_ranges, file_sizes_go_by_event_index)

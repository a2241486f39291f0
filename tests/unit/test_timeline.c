/* test_timeline.c - usage timelines: the library reader (its errors), the demand rule, the replay
 * of measured runs (choice of repeat, time-scaling between sizes), the synthetic artifact
 * timelines (shape, determinism) and the misprediction knob's rate. */
#include <math.h>
#include <string.h>

#include "hb_test.h"
#include "seed.h"
#include "timeline.h"

#define FIX "tests/fixtures/timelines/"
#define EPS 1e-9

static hb_timeline_lib *load_small(void)
{
    hb_timeline_lib *lib;
    hb_error e;
    ck_assert_msg(hb_timeline_load(FIX "small.csv", &lib, &e) == 0, "%s", e.msg);
    return lib;
}

START_TEST(reader_keeps_the_least_limited_runs_of_each_size)
{
    hb_timeline_lib *lib = load_small();
    ck_assert_int_eq(lib->machine_cpus, 4);
    ck_assert_uint_eq(lib->nruns, 5);
    int dh = hb_function_find("dh");
    ck_assert_uint_eq(lib->nsizes[dh], 2);
    ck_assert_int_eq(lib->sizes[dh][0].size, 10);
    ck_assert_uint_eq(lib->sizes[dh][0].count, 2);       /* the limit-2 runs, not the limit-1 one */
    for (size_t k = 0; k < 2; k++)
        ck_assert_double_eq(lib->runs[lib->sel[lib->sizes[dh][0].first + k]].cpu_limit, 2);
    ck_assert_double_eq_tol(lib->sizes[dh][0].work, (0.225 + 0.13) / 2, EPS);
    ck_assert_double_eq_tol(lib->sizes[dh][0].mem_peak_mb, 90, EPS);
    ck_assert_uint_eq(lib->nsizes[hb_function_find("eg")], 0);
    hb_timeline_free(lib);
}
END_TEST

START_TEST(demand_extrapolates_only_throttled_samples)
{
    hb_tl_sample thr = {100e3, 1.95, 60, 3}, free_ = {100e3, 1.0, 60, 3}, unk = {100e3, 1.95, 60, -1};
    ck_assert_double_eq(hb_tl_sample_demand(&thr, 2, 4), 3);     /* at its limit: runnable */
    ck_assert_double_eq(hb_tl_sample_demand(&free_, 2, 4), 1.0); /* clearly below: what it used */
    ck_assert_double_eq(hb_tl_sample_demand(&unk, 2, 4), 1.95);  /* runnable unknown */
    ck_assert_double_eq(hb_tl_sample_demand(&thr, 0, 2), 3);     /* no limit: the machine's CPUs */
    ck_assert_double_eq(hb_tl_sample_demand(&thr, 0, 4), 1.95);
    ck_assert_double_eq(hb_tl_sample_demand(&thr, 0, 0), 1.95);  /* neither known */
}
END_TEST

START_TEST(replay_picks_the_repeat_by_u_and_scales_between_sizes)
{
    hb_timeline_lib *lib = load_small();
    int dh = hb_function_find("dh");
    hb_call_timeline t = {0};
    hb_error e;
    ck_assert_int_eq(hb_timeline_measured(lib, dh, 10, 0.2, &t, &e), 0);
    ck_assert_uint_eq(t.n, 3);                                  /* repeat 1: work, work, wait */
    ck_assert_double_eq_tol(t.p[0].work, 0.3 * 100e3, EPS);
    ck_assert_double_eq_tol(t.p[0].demand, 0.3, EPS);
    ck_assert_double_eq_tol(t.p[1].work, 1.95 * 100e3, EPS);
    ck_assert_double_eq_tol(t.p[1].demand, 3, EPS);             /* throttled at 2: 3 runnable */
    ck_assert_double_eq(t.p[2].work, 0);
    ck_assert_double_eq_tol(t.p[2].wait_us, 50e3, EPS);
    ck_assert_double_eq(t.p[1].mem_mb, 60);
    ck_assert_double_eq(t.peak_cpu, 3);
    ck_assert_double_eq(t.mem_peak_mb, 60);
    /* alone at 1 core: 0.1 s + 0.195 s + the 0.05 s wait */
    ck_assert_double_eq_tol(hb_call_timeline_duration_us(&t, 1), 100e3 + 195e3 + 50e3, 1e-6);
    ck_assert_int_eq(hb_timeline_measured(lib, dh, 10, 0.7, &t, &e), 0);
    ck_assert_uint_eq(t.n, 2);                                  /* repeat 2 */
    ck_assert_double_eq(t.mem_peak_mb, 120);
    /* 15 is nearer 20 (in ratio); the work interpolates to 0.26625 core-s of 0.355 there */
    ck_assert_int_eq(hb_timeline_measured(lib, dh, 15, 0.2, &t, &e), 0);
    ck_assert_double_eq_tol(t.p[0].wait_us + t.p[0].work / t.p[0].demand, 0.75 * 200e3, 1e-6);
    ck_assert_double_eq_tol(t.p[1].work, 0.75 * 1.95 * 200e3, 1e-6);
    /* above the largest size the last segment's slope continues: 40 -> twice the work of 20 */
    ck_assert_int_eq(hb_timeline_measured(lib, dh, 40, 0.2, &t, &e), 0);
    ck_assert_double_eq_tol(t.p[1].work, 2 * 1.95 * 200e3, 1e-6);
    /* below the smallest: as measured there */
    ck_assert_int_eq(hb_timeline_measured(lib, dh, 5, 0.2, &t, &e), 0);
    ck_assert_double_eq_tol(t.p[1].work, 1.95 * 100e3, 1e-6);
    /* a function the library lacks is an error naming it */
    ck_assert_int_eq(hb_timeline_measured(lib, hb_function_find("eg"), 10, 0.2, &t, &e), HB_EINPUT);
    ck_assert(strstr(e.msg, "eg") != NULL);
    hb_call_timeline_free(&t);
    hb_timeline_free(lib);
}
END_TEST

static void expect_error(const char *text, const char *needle)
{
    hb_timeline_lib *lib = NULL;
    hb_error e;
    ck_assert_int_ne(hb_timeline_parse(text, strlen(text), "x.csv", &lib, &e), 0);
    ck_assert_ptr_null(lib);
    ck_assert_msg(strstr(e.msg, needle) != NULL, "'%s' lacks '%s'", e.msg, needle);
}

#define MAGIC "# harvestbench timeline library, format 1\n"
#define HDR "function_id,size,cpu_limit,repeat,t_ms,dt_ms,cpu_cores,mem_mb,runnable\n"

START_TEST(reader_rejects_bad_files_naming_line_and_field)
{
    hb_timeline_lib *lib;
    hb_error e;
    ck_assert_int_ne(hb_timeline_load(FIX "bad-order.csv", &lib, &e), 0);
    ck_assert_msg(strstr(e.msg, ":4") && strstr(e.msg, "t_ms"), "%s", e.msg);
    ck_assert_int_ne(hb_timeline_load(FIX "bad-split.csv", &lib, &e), 0);
    ck_assert_msg(strstr(e.msg, ":5") && strstr(e.msg, "reappears"), "%s", e.msg);
    expect_error(HDR "dh,1,1,1,0,100,1,1,1\n", "not a timeline library");
    expect_error(MAGIC "function_id,size,cpu_limit,repeat,t_ms,dt_ms,cpu,mem_mb,runnable\n", "header");
    expect_error(MAGIC HDR "xx,1,1,1,0,100,1,1,1\n", "unknown function");
    expect_error(MAGIC HDR "dh,1,1,1,0,100,-1,1,1\n", "cpu_cores");
    expect_error(MAGIC HDR "dh,1,1,1,0,0,1,1,1\n", "dt_ms");
    expect_error(MAGIC HDR "dh,1,1,1,0,100,1,1\n", "8 fields");
    expect_error(MAGIC HDR "dh,1,1,1,0,100,1,1,-2\n", "runnable");
    expect_error(MAGIC HDR, "no run");
}
END_TEST

/* ---- synthetic artifact timelines ---- */

static hb_tl_artifact_call art(int func, int64_t size, uint64_t stream)
{
    return (hb_tl_artifact_call){.func = func, .size = size, .exec_s = 10, .cpu_class = 7,
                                 .mem_class = 2, .mem_cap_mb = 1000, .work_factor = 1,
                                 .stream = stream};
}

START_TEST(sustained_parallelism_follows_the_process_structure)
{
    ck_assert_double_eq(hb_tl_artifact_sustained(hb_function_find("dh"), 1000), 2);
    ck_assert_double_eq(hb_tl_artifact_sustained(hb_function_find("eg"), 20000), 1);
    ck_assert_double_eq(hb_tl_artifact_sustained(hb_function_find("ip"), 100), 8);
    ck_assert_double_eq(hb_tl_artifact_sustained(hb_function_find("ip"), 3), 3);
    ck_assert_double_eq(hb_tl_artifact_sustained(hb_function_find("alu"), 100000), 2);
    ck_assert(hb_tl_artifact_sustained(hb_function_find("vp"), 1) < 0);   /* multi-threaded */
}
END_TEST

START_TEST(artifact_shape_start_compute_bursts_output)
{
    hb_call_timeline t = {0};
    hb_error e;
    hb_tl_artifact_call a = art(hb_function_find("dh"), 1000, 42);
    ck_assert_int_eq(hb_timeline_artifact(&a, &t, &e), 0);
    ck_assert(t.peak_cpu >= 6 && t.peak_cpu < 7);               /* class 7: a peak in [6, 7) */
    /* 10 s in 100 ms samples (equal neighbours merged into one phase): walk them in time */
    double at = 0, burst_us = 0, mid_mem = -1;
    for (size_t i = 0; i < t.n; i++) {
        double d = t.p[i].demand, len = t.p[i].work / d;
        ck_assert(t.p[i].work > 0);
        ck_assert_double_eq_tol(fmod(len + 1e-6, 100e3), 0, 1e-3);   /* whole samples */
        if (at < 1e6 - 1 || at >= 9e6 - 1)
            ck_assert_double_eq(d, 0.5);                        /* start-up and output */
        else if (d == t.peak_cpu)
            burst_us += len;
        else
            ck_assert_double_eq(d, 2);                          /* dh: 2 worker processes */
        if (at <= 6e6 && at + len > 6e6)
            mid_mem = t.p[i].mem_mb;
        at += len;
    }
    ck_assert_double_eq_tol(at, 10e6, 1e-3);
    ck_assert(burst_us >= 100e3);
    ck_assert(burst_us < 3e6);                                  /* bursts, not the sustained level */
    /* at 8 cores it takes the artifact's execution time; at 1 core much longer */
    ck_assert_double_eq_tol(hb_call_timeline_duration_us(&t, 8), 10e6, 1e-3);
    ck_assert(hb_call_timeline_duration_us(&t, 1) > 15e6);
    /* memory: 30% of the peak at the start, the peak (class 2: [122, 244) MiB) by mid-compute */
    ck_assert(t.mem_peak_mb >= 122 && t.mem_peak_mb < 245);
    ck_assert_double_eq_tol(t.p[0].mem_mb, 0.3 * t.mem_peak_mb, 1e-9);
    ck_assert_double_eq(mid_mem, t.mem_peak_mb);
    /* the same stream gives the same timeline; another one another peak */
    hb_call_timeline u = {0};
    ck_assert_int_eq(hb_timeline_artifact(&a, &u, &e), 0);
    ck_assert_uint_eq(u.n, t.n);
    ck_assert(memcmp(u.p, t.p, t.n * sizeof *t.p) == 0);
    a.stream = 43;
    ck_assert_int_eq(hb_timeline_artifact(&a, &u, &e), 0);
    ck_assert(u.peak_cpu != t.peak_cpu);
    hb_call_timeline_free(&t);
    hb_call_timeline_free(&u);
}
END_TEST

START_TEST(misprediction_knob_rate_is_honoured)
{
    const int N = 20000;
    uint64_t key = hb_seed_derive(7, "timeline");
    for (int pass = 0; pass < 3; pass++) {
        double pc = pass == 0 ? 0 : pass == 1 ? 0.25 : 0.1, pm = pass == 0 ? 0 : 0.4;
        int dc = 0, dm = 0;
        for (int i = 0; i < N; i++) {
            hb_tl_artifact_call a = art(hb_function_find("knn"), 50, 0);
            a.cpu_class = i % 2 ? 8 : 5;                        /* 8: only -1 is possible */
            a.mem_class = 1 + i % 8;
            a.cpu_class_error = pc;
            a.mem_class_error = pm;
            a.stream = (uint64_t)(hb_index_uniform(key, (uint64_t)i) * 9007199254740992.0);
            int c, m;
            hb_tl_artifact_classes(&a, &c, &m);
            ck_assert(abs(c - a.cpu_class) <= 1 && c >= 1 && c <= 8);
            ck_assert(abs(m - a.mem_class) <= 1 && m >= 1 && m <= 8);
            dc += c != a.cpu_class;
            dm += m != a.mem_class;
            /* the same call draws the same classes whatever the other knob says */
            hb_tl_artifact_call b = a;
            b.mem_class_error = 1 - pm;
            int c2, m2;
            hb_tl_artifact_classes(&b, &c2, &m2);
            ck_assert_int_eq(c2, c);
        }
        /* binomial: 4 standard deviations of N draws at p = 0.25 is 0.012 */
        ck_assert_msg(fabs((double)dc / N - pc) < 0.013, "cpu: %d of %d at %g", dc, N, pc);
        ck_assert_msg(fabs((double)dm / N - pm) < 0.015, "mem: %d of %d at %g", dm, N, pm);
    }
}
END_TEST

HB_TEST_MAIN("timeline", reader_keeps_the_least_limited_runs_of_each_size,
             demand_extrapolates_only_throttled_samples,
             replay_picks_the_repeat_by_u_and_scales_between_sizes,
             reader_rejects_bad_files_naming_line_and_field,
             sustained_parallelism_follows_the_process_structure,
             artifact_shape_start_compute_bursts_output, misprediction_knob_rate_is_honoured)

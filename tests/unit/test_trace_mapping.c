/* test_trace_mapping.c - the run's function table (trace_mapping.h): one function per trace
 * function, each starting from its workload's configuration; [trace] user_memory = trace and
 * scale_work; an explicit [function.ID] user_mem_mb wins over the trace; the function-count and
 * empty-window errors; the load estimate. */
#include <math.h>
#include <string.h>

#include "experiment.h"
#include "hb_test.h"
#include "registry.h"
#include "trace_mapping.h"

/* Three trace functions, two of them on workload ms: functions of their own in the run. */
static hb_trace *three(void)
{
    static hb_trace_func funcs[3];
    static uint32_t counts[6] = {60, 60, 6, 6, 0, 1};
    static hb_trace t;
    memset(&t, 0, sizeof t);
    memset(funcs, 0, sizeof funcs);
    const char *names[] = {"a", "b", "c"};
    int bench[] = {7, 7, 0};           /* ms, ms, dh */
    double mem[] = {300, -1, 1000}, dur[] = {50, 200, -1};
    for (int i = 0; i < 3; i++) {
        snprintf(funcs[i].name, sizeof funcs[i].name, "%s", names[i]);
        funcs[i].bench = bench[i];
        funcs[i].mem_avg_mb = mem[i];
        funcs[i].dur_avg_ms = dur[i];
    }
    t.funcs = funcs;
    t.counts = counts;
    t.n_funcs = 3;
    t.n_minutes = 2;
    t.total = 133;
    snprintf(t.source, sizeof t.source, "three.csv");
    return &t;
}

START_TEST(table_follows_the_trace)
{
    hb_config cfg;
    hb_error e;
    ck_assert_int_eq(hb_config_load_text("[trace]\nuser_memory = trace\nscale_work = true\n"
                                         "[function.dh]\nuser_mem_mb = 640\n", "t.ini", ".", &cfg, &e), 0);
    hb_profile *p;
    ck_assert_int_eq(hb_experiment_profile(&cfg, &p, &e), 0);
    hb_trace *t = three();
    hb_func_config *f;
    ck_assert_int_eq(hb_run_funcs_build(&cfg, t, p, &f, &e), 0);
    ck_assert_int_eq(f[0].workload, 7);
    ck_assert_int_eq(f[1].workload, 7);
    ck_assert_str_eq(f[1].name, "b");
    ck_assert_double_eq(f[0].user.mem_mb, 384);              /* 300 MB -> 3 units */
    ck_assert_double_eq(f[1].user.mem_mb, cfg.funcs[7].user.mem_mb);   /* no memory: the workload's */
    ck_assert_double_eq(f[2].user.mem_mb, 640);              /* [function.dh] wins over 1000 MB */
    ck_assert(f[0].mem_clip_mb[0] <= 384 && f[0].mem_clip_mb[1] >= 384);
    /* scale_work: modelled duration = the trace's; none without a duration */
    double ref = hb_workload_reference_ms(p, 7, f[0].user.cpu);
    ck_assert_double_eq_tol(ref * f[0].work_scale, 50, 1e-9);
    ck_assert_double_eq_tol(ref * f[1].work_scale, 200, 1e-9);
    ck_assert_double_eq(f[2].work_scale, 1);
    /* the load estimate grows with the work and names nothing negative */
    hb_load_estimate le;
    hb_load_estimate_run(&cfg, t, p, f, &le);
    ck_assert(le.cpu_mean > 0 && le.mem_mean_mb > 0);
    ck_assert_uint_eq(le.peak_minute, 1);                    /* dh's one call is in minute 2 */
    ck_assert_double_eq(le.cpu_capacity, 8);
    free(f);
    hb_config_free(&cfg);
    /* defaults: the catalogue's memory, the workload's work */
    ck_assert_int_eq(hb_config_load_text("[trace]\nformat = artifact\n", "t.ini", ".", &cfg, &e), 0);
    ck_assert_int_eq(hb_run_funcs_build(&cfg, t, p, &f, &e), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq(f[i].user.mem_mb, cfg.funcs[f[i].workload].user.mem_mb);
        ck_assert_double_eq(f[i].work_scale, 1);
    }
    free(f);
    hb_config_free(&cfg);
    hb_profile_free(p);
}
END_TEST

START_TEST(requests_the_file_cannot_meet)
{
    hb_config cfg;
    hb_error e;
    hb_trace *t = three();
    ck_assert_int_eq(hb_config_load_text("[trace]\nformat = azure2019\nfunctions = 5\n", "t.ini", ".",
                                         &cfg, &e), 0);
    ck_assert_int_eq(hb_trace_check_request(&cfg, t, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "t.ini:3: trace.functions: 5 functions asked, but three.csv has only 3"),
                  "%s", e.msg);
    hb_config_free(&cfg);
    /* the default of 10 is "up to": a 3-function file is replayed whole */
    ck_assert_int_eq(hb_config_load_text("[trace]\nformat = azure2019\n", "t.ini", ".", &cfg, &e), 0);
    ck_assert_int_eq(hb_trace_check_request(&cfg, t, &e), 0);
    t->total = 0;
    ck_assert_int_eq(hb_trace_check_request(&cfg, t, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "start_minute = 1, minutes = 0: three.csv has no call"), "%s", e.msg);
    hb_config_free(&cfg);
}
END_TEST

/* Twelve functions, the last two both running ms: every policy that keeps per-function state keeps
 * it for each function apart, past the ten workloads. */
START_TEST(policies_keep_each_function_apart)
{
    enum { N = 12 };
    hb_func_config f[N];
    for (int i = 0; i < N; i++) {
        int w = i < 10 ? i : 7;
        const hb_function *fn = &hb_functions[w];
        f[i] = (hb_func_config){{fn->user_cpu, fn->user_mem_units * HB_MEM_UNIT_MB},
                                {fn->cpu_clip[0], fn->cpu_clip[1]},
                                {fn->mem_clip[0] * HB_MEM_UNIT_MB, fn->mem_clip[1] * HB_MEM_UNIT_MB},
                                300 * HB_SEC, w, NULL, 1};
    }
    const char *names[] = {"greedy", "libra-np", "ensure"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const hb_policy_ops *po = hb_policy_find(names[k]);
        hb_kvlist none = {names[k], NULL, 0};
        hb_policy_ctx ctx = {.name = names[k], .n_invokers = 1, .invoker_capacity = {8, 8192},
                             .n_funcs = N, .funcs = f, .params = &none, .config_dir = ".",
                             .monitor_interval = 100 * HB_MS, .backend_caps = 7};
        void *st = NULL;
        hb_error e;
        ck_assert_int_eq(po->create(&ctx, &st, &e), 0);
        /* function 11 (ms) ends five calls that peaked at 700 MB; function 10 (ms) has none */
        for (int j = 0; j < 5; j++) {
            hb_invocation done = {.index = (uint64_t)j, .func = 11, .workload = 7,
                                  .user = f[11].user, .timeout = f[11].timeout,
                                  .outcome = HB_SUCCESS, .alloc_start = {2, 1024},
                                  .cpu_peak = 1.5, .mem_peak_mb = 700, .arrival = j * HB_SEC,
                                  .start = j * HB_SEC, .end = j * HB_SEC + HB_SEC / 2};
            po->observe(st, &done);
        }
        hb_observation obs = {.now = 10 * HB_SEC, .free = {8, 8192}, .capacity = {8, 8192}};
        hb_sizing a = {0}, b = {0};
        hb_invocation c10 = {.index = 5, .func = 10, .workload = 7, .user = f[10].user,
                             .timeout = f[10].timeout, .arrival = 10 * HB_SEC, .input_size = 5000};
        hb_invocation c11 = c10;
        c11.func = 11;
        c11.index = 6;
        ck_assert_int_eq(po->size(st, &c10, &obs, &a, &e), 0);
        ck_assert_int_eq(po->size(st, &c11, &obs, &b, &e), 0);
        if (strcmp(names[k], "ensure") != 0) {
            /* memory from function 11's history (700 MB -> 768), not function 10's (none):
             * greedy allocates it, Libra-NP predicts it (and harvests on the invoker) */
            int pred = strcmp(names[k], "libra-np") == 0;
            double ma = pred ? a.pred.mem_mb : a.alloc.mem_mb, mb = pred ? b.pred.mem_mb : b.alloc.mem_mb;
            ck_assert_msg(ma == f[10].user.mem_mb, "%s: function 10 got %g MB", names[k], ma);
            ck_assert_msg(mb == 768, "%s: function 11 got %g MB", names[k], mb);
        } else {
            /* ENSURE: both start at their user CPU; function 11 counted five calls, 10 none */
            ck_assert_double_eq(a.alloc.cpu, b.alloc.cpu);
        }
        po->destroy(st);
    }
}
END_TEST

HB_TEST_MAIN("trace_mapping", table_follows_the_trace, requests_the_file_cannot_meet,
             policies_keep_each_function_apart)

/* test_policy_example.c - the worked example of docs/policies.md compiles, runs in the engine
 * and does what the text says: after the first call of a function, memory follows its peak. */
#include <string.h>

#include "../../docs/examples/lastpeak.c"
#include "engine.h"
#include "hb_test.h"
#include "registry.h"

static double alloc_mb_s(const char *policy_name, const hb_policy_ops *ops, uint64_t *oom)
{
    hb_config cfg;
    hb_error e;
    ck_assert_int_eq(hb_config_load_text("", "t.ini", ".", &cfg, &e), 0);
    hb_profile *prof;
    ck_assert_int_eq(hb_profile_artifact(NULL, 0, NULL, &prof, &e), 0);
    hb_trace_spec ts = {.format = "artifact",
                        .invocations = "data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv",
                        .start_minute = 1, .scale = 1, .functions = 10, .max_per_minute = 1 << 30,
                        .mapping = "order"};
    hb_trace *tr;
    ck_assert_int_eq(hb_trace_load(&ts, &tr, &e), 0);
    hb_run_stats st;
    hb_stats_init(&st, 1);
    char sec[64];
    snprintf(sec, sizeof sec, "policy.%s", policy_name);
    hb_engine_spec es = {.cfg = &cfg, .trace = tr, .profile = prof, .arrival = HB_ARRIVAL_EVEN,
                         .sizes = HB_SIZES_MULTI, .policy = ops,
                         .policy_params = hb_config_section_kv(&cfg, sec),
                         .backend = hb_backend_find("sim"), .seed = 1, .seed_index = 1, .stats = &st,
                         .usage = 1};
    ck_assert_msg(hb_engine_run(&es, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(st.invocations, 268);
    double mem = st.mem_alloc_mb_s;
    *oom = st.outcomes[HB_OOM];
    hb_stats_free(&st);
    hb_trace_free(tr);
    hb_profile_free(prof);
    hb_config_free(&cfg);
    return mem;
}

START_TEST(example_policy_runs_and_right_sizes_memory)
{
    uint64_t oom_fixed, oom_lp;
    double fixed = alloc_mb_s("fixed", hb_policy_find("fixed"), &oom_fixed);
    double lp = alloc_mb_s("lastpeak", &hb_policy_lastpeak, &oom_lp);
    ck_assert_msg(lp < 0.75 * fixed, "lastpeak allocated %.0f MB s, fixed %.0f", lp, fixed);
    ck_assert_uint_eq(oom_lp, 0);                           /* peaks are stable at the demo sizes */
}
END_TEST

START_TEST(example_policy_reports_bad_keys_with_their_line)
{
    hb_config cfg;
    hb_error e;
    ck_assert_int_eq(hb_config_load_text("[policy.fixed]\n\nmargin = lots\n", "x.ini", ".", &cfg, &e), 0);
    hb_policy_ctx ctx;
    hb_engine_policy_ctx(&cfg, "lastpeak", hb_config_section_kv(&cfg, "policy.fixed"), NULL, 0, 0, &ctx);
    void *state = NULL;
    ck_assert_int_eq(hb_policy_lastpeak.create(&ctx, &state, &e), HB_EINPUT);
    ck_assert_str_eq(e.msg, "x.ini:3: margin: 'lots' is not a number");
    hb_config_free(&cfg);
}
END_TEST

HB_TEST_MAIN("policy_example", example_policy_runs_and_right_sizes_memory,
             example_policy_reports_bad_keys_with_their_line)

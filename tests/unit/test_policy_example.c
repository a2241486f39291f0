/* test_policy_example.c - the worked example of docs/policies.md compiles, runs in the engine
 * and does what the text says: after the first call of a function, memory follows its peak. */
#include <string.h>

#include "../../docs/examples/lastpeak.c"
#include "engine.h"
#include "experiment_run.h"
#include "hb_test.h"
#include "registry.h"

/* One run of a policy on the demo trace's first minutes, the example passed as an out-of-tree
 * policy (the built-in table does not have it). */
static double alloc_mb_s(const char *policy_name, uint64_t *oom)
{
    hb_experiment x = {0};
    hb_error e;
    ck_assert_int_eq(hb_config_load_text("", "t.ini", ".", &x.cfg, &e), 0);
    snprintf(x.cfg.policies[0], sizeof x.cfg.policies[0], "%s", policy_name);
    x.cfg.n_policies = 1;
    x.cfg.seeds = 1;
    x.cfg.seed = 1;
    ck_assert_int_eq(hb_profile_artifact(NULL, 0, NULL, &x.profile, &e), 0);
    hb_trace_spec ts = {.format = "artifact",
                        .invocations = "data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv",
                        .start_minute = 1, .scale = 1, .functions = 10, .max_per_minute = 1 << 30,
                        .mapping = "order"};
    ck_assert_int_eq(hb_trace_load(&ts, &x.trace, &e), 0);
    x.arrival = HB_ARRIVAL_EVEN;
    x.sizes = HB_SIZES_MULTI;
    const hb_policy_ops *extra[] = {&hb_policy_lastpeak};
    hb_run_spec spec = {.x = &x, .no_files = 1, .usage = 1, .extra_policies = extra,
                        .n_extra_policies = 1};
    hb_run_result *res;
    ck_assert_msg(hb_experiment_run(&spec, &res, &e) == 0, "%s", e.msg);
    const hb_run_stats *st = &res->policies[0].pooled;
    ck_assert_uint_eq(st->invocations, 268);
    double mem = st->mem_alloc_mb_s;
    *oom = st->outcomes[HB_OOM];
    hb_run_result_free(res);
    hb_experiment_free(&x);
    return mem;
}

START_TEST(example_policy_runs_and_right_sizes_memory)
{
    uint64_t oom_fixed, oom_lp;
    double fixed = alloc_mb_s("fixed", &oom_fixed);
    double lp = alloc_mb_s("lastpeak", &oom_lp);
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

/* test_policy_harvest_idle.c - the harvesting example of docs/policies.md (compiled in here as well
 * as out of tree by tests/e2e/outoftree.sh) does what the text says on the demo trace: it lends
 * exactly what it harvests, never has a decision clipped, makes calls faster than `fixed`, and is
 * `fixed` to the bit when the clip ranges leave nothing to lend. */
#include <string.h>

#include "../../docs/examples/harvest_idle.c"
#include "engine.h"
#include "experiment.h"
#include "hb_test.h"
#include "registry.h"

static void run(const char *ini, const hb_policy_ops *ops, hb_run_stats *st)
{
    hb_config cfg;
    hb_error e;
    ck_assert_int_eq(hb_config_load_text(ini, "t.ini", ".", &cfg, &e), 0);
    hb_profile *prof;
    ck_assert_int_eq(hb_experiment_profile(&cfg, &prof, &e), 0);   /* timelines, as the demo */
    hb_trace_spec ts = {.format = "artifact",
                        .invocations = "data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv",
                        .start_minute = 1, .scale = 1, .functions = 10, .max_per_minute = 1 << 30,
                        .mapping = "order"};
    hb_trace *tr;
    ck_assert_int_eq(hb_trace_load(&ts, &tr, &e), 0);
    hb_stats_init(st, 1);
    hb_engine_spec es = {.cfg = &cfg, .trace = tr, .profile = prof, .arrival = HB_ARRIVAL_EVEN,
                         .sizes = HB_SIZES_MULTI, .policy = ops,
                         .policy_params = hb_config_section_kv(&cfg, "policy.harvest-idle"),
                         .backend = hb_backend_find("sim"), .seed = 1, .seed_index = 1, .stats = st,
                         .usage = 1};
    ck_assert_msg(hb_engine_run(&es, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(st->invocations, 268);
    hb_trace_free(tr);
    hb_profile_free(prof);
    hb_config_free(&cfg);
}

START_TEST(lends_what_it_harvests_and_is_faster)
{
    hb_run_stats f, h;
    run("", hb_policy_find("fixed"), &f);
    run("", &hb_policy_harvest_idle, &h);
    ck_assert_uint_eq(h.n_success, 268);
    ck_assert_uint_eq(h.clipped_decisions, 0);
    ck_assert_msg(h.harvested_cpu_s > 10, "harvested %.3f core-s", h.harvested_cpu_s);
    ck_assert_msg(fabs(h.harvested_cpu_s - h.borrowed_cpu_s) < 1e-9 * h.harvested_cpu_s,
                  "harvested %.9f, borrowed %.9f", h.harvested_cpu_s, h.borrowed_cpu_s);
    ck_assert_double_eq(h.harvested_mem_mb_s + h.borrowed_mem_mb_s, 0);   /* CPU only */
    ck_assert_msg(h.lat_sum < f.lat_sum, "harvest-idle %.0f ms, fixed %.0f", h.lat_sum, f.lat_sum);
    hb_stats_free(&f);
    hb_stats_free(&h);
}
END_TEST

START_TEST(nothing_to_lend_is_fixed)
{
    /* each function's CPU range is its user allocation: no call can lend or borrow */
    char ini[1024] = "";
    static const char *const two[] = {"dh", "eg", "vp", "knn", "alu", "ms"};
    static const char *const one[] = {"ip", "ir", "gd", "dv"};
    for (size_t i = 0; i < 6; i++)
        snprintf(ini + strlen(ini), sizeof ini - strlen(ini), "[function.%s]\ncpu_clip = 2,2\n", two[i]);
    for (size_t i = 0; i < 4; i++)
        snprintf(ini + strlen(ini), sizeof ini - strlen(ini), "[function.%s]\ncpu_clip = 1,1\n", one[i]);
    hb_run_stats f, h;
    run(ini, hb_policy_find("fixed"), &f);
    run(ini, &hb_policy_harvest_idle, &h);
    ck_assert_double_eq(h.harvested_cpu_s, 0);
    ck_assert_double_eq(h.lat_sum, f.lat_sum);
    ck_assert_double_eq(h.cpu_used_core_s, f.cpu_used_core_s);
    hb_stats_free(&f);
    hb_stats_free(&h);
}
END_TEST

START_TEST(bad_headroom_names_its_line)
{
    hb_config cfg;
    hb_error e;
    ck_assert_int_eq(hb_config_load_text("[policy.fixed]\nheadroom = -1\n", "x.ini", ".", &cfg, &e), 0);
    hb_policy_ctx ctx;
    hb_engine_policy_ctx(&cfg, "harvest-idle", hb_config_section_kv(&cfg, "policy.fixed"), NULL, 0, 0,
                         &ctx);
    void *state = NULL;
    ck_assert_int_eq(hb_policy_harvest_idle.create(&ctx, &state, &e), HB_EINPUT);
    ck_assert_ptr_null(state);
    ck_assert_msg(strstr(e.msg, "x.ini:2: headroom") != NULL, "%s", e.msg);
    hb_config_free(&cfg);
}
END_TEST

HB_TEST_MAIN("policy_harvest_idle", lends_what_it_harvests_and_is_faster, nothing_to_lend_is_fixed,
             bad_headroom_names_its_line)

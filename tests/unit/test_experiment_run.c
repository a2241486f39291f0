/* test_experiment_run.c - the front door (experiment_run.h): one call runs every policy x seed
 * into a results directory and returns pooled statistics; --resume keeps finished runs; a bad key
 * fails before anything runs, naming file, line and key; extra policies come before the
 * built-in ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "experiment_run.h"
#include "files.h"
#include "hb_test.h"

/* Two policies x two seeds of the constant trace: 10 functions once a minute for 2 minutes. */
static const char TINY[] = "[experiment]\nname = tiny\npolicies = default, fixed\nseeds = 2\n"
                           "seed = 7\n[cluster]\ninvokers = 2\n[trace]\nformat = constant\n"
                           "per_minute = 1\nminutes = 2\n";

static char g_dir[64];

static const char *tmpdir(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/hb-xrun-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    return g_dir;
}

static void rm_tmpdir(void) { hb_remove_tree(g_dir); }

static int exists(const char *dir, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    struct stat st;
    return stat(p, &st) == 0;
}

typedef struct tally {
    int kept, done, failed;
} tally;

static void count(void *ctx, const hb_run_entry *r, const hb_run_stats *st, const hb_error *err)
{
    tally *t = ctx;
    (void)r;
    if (err)
        t->failed++;
    else if (st)
        t->done++;
    else
        t->kept++;
}

/* Loads TINY (plus extra text) and runs it into out; returns the code, *res the result. */
static int run_tiny(const char *extra, const char *out, int resume, tally *t, hb_run_result **res,
                    hb_error *e)
{
    char text[1024];
    snprintf(text, sizeof text, "%s%s", TINY, extra);
    hb_experiment x = {0};
    ck_assert_msg(hb_config_load_text(text, "tiny.ini", ".", &x.cfg, e) == 0, "%s", e->msg);
    hb_run_spec spec = {.x = &x, .out = out, .resume = resume, .usage = 1, .on_run = count,
                        .on_run_ctx = t};
    int rc = hb_experiment_run(&spec, res, e);
    hb_experiment_free(&x);
    return rc;
}

START_TEST(one_call_runs_every_policy_and_seed_and_pools_them)
{
    const char *dir = tmpdir();
    hb_run_result *res;
    hb_error e;
    tally t = {0};
    ck_assert_msg(run_tiny("", dir, 0, &t, &res, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(t.done, 4);
    ck_assert(res->complete && !res->interrupted && !res->failed);
    ck_assert_str_eq(res->out, dir);
    ck_assert_int_eq(res->n_policies, 2);
    ck_assert_uint_eq(res->n_runs, 4);
    ck_assert_str_eq(res->runs[2].policy, "fixed");
    ck_assert_int_eq(res->runs[3].seed_index, 2);
    ck_assert_uint_eq(res->runs[3].seed, 8);                 /* seed + k - 1 */
    for (int p = 0; p < 2; p++) {
        const hb_policy_result *pr = &res->policies[p];
        ck_assert_int_eq(pr->seeds, 2);
        ck_assert_uint_eq(pr->pooled.invocations, 40);       /* 20 calls x 2 seeds */
        ck_assert_uint_eq(pr->pooled.n_lat, pr->pooled.n_success);
        ck_assert(pr->pooled.cpu_alloc_core_s > 0 && pr->makespan_sum > 0);
    }
    ck_assert_ptr_eq(hb_run_result_policy(res, "fixed"), &res->policies[1]);
    ck_assert_int_eq(hb_run_exit_status(res), 0);
    ck_assert(exists(dir, "manifest.json"));
    ck_assert(exists(dir, "fixed/seed-2/summary.json"));
    ck_assert(exists(dir, "default/seed-1/invocations.csv"));
    /* the artifact's names come from the policies: FixedRM for fixed, the constant trace's prefix */
    ck_assert(exists(dir, "fixed/seed-2/artifact/FixedRM_0_1_trajectory.csv"));
    hb_run_result_free(res);
    rm_tmpdir();
}
END_TEST

START_TEST(resume_keeps_finished_runs_and_reruns_the_rest)
{
    const char *dir = tmpdir();
    hb_run_result *res;
    hb_error e;
    tally t = {0};
    ck_assert_int_eq(run_tiny("", dir, 0, &t, &res, &e), 0);
    uint64_t ok = res->policies[1].pooled.n_success;
    hb_run_result_free(res);
    char p[512];
    snprintf(p, sizeof p, "%s/fixed/seed-2/summary.json", dir);   /* as if interrupted there */
    ck_assert_int_eq(remove(p), 0);
    tally r = {0};
    ck_assert_msg(run_tiny("", dir, 1, &r, &res, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(r.kept, 3);
    ck_assert_int_eq(r.done, 1);
    ck_assert(res->runs[0].kept && !res->runs[3].kept);
    ck_assert(res->complete);
    ck_assert_uint_eq(res->policies[1].pooled.n_success, ok); /* kept runs count in the pool */
    ck_assert(exists(dir, "fixed/seed-2/summary.json"));
    hb_run_result_free(res);
    /* another configuration is not resumed */
    tally c = {0};
    ck_assert_int_eq(run_tiny("[cluster]\ncores = 4\n", dir, 1, &c, &res, &e), HB_EINPUT);
    ck_assert_ptr_null(res);
    ck_assert_msg(strstr(e.msg, "the configuration differs") != NULL, "%s", e.msg);
    rm_tmpdir();
}
END_TEST

START_TEST(a_bad_key_fails_before_anything_runs_and_names_file_line_and_key)
{
    const char *dir = tmpdir();
    hb_run_result *res;
    hb_error e;
    tally t = {0};
    /* TINY has 11 lines; the bad key is line 13 */
    ck_assert_int_eq(run_tiny("[policy.fixed]\nbogus = 1\n", dir, 0, &t, &res, &e), HB_EINPUT);
    ck_assert_ptr_null(res);
    ck_assert_int_eq(t.done + t.failed, 0);
    ck_assert_msg(strstr(e.msg, "tiny.ini:13: bogus: unknown key") != NULL, "%s", e.msg);
    ck_assert(!exists(dir, "manifest.json"));                /* nothing was replaced */
    /* an override that is wrong fails too, before the trace is read */
    hb_experiment x = {0};
    ck_assert_int_eq(hb_config_load_text(TINY, "tiny.ini", ".", &x.cfg, &e), 0);
    const char *sets[] = {"cluster.invokers=many"};
    hb_run_spec spec = {.x = &x, .out = dir, .sets = sets, .n_sets = 1};
    ck_assert_int_eq(hb_experiment_run(&spec, &res, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "invokers") != NULL, "%s", e.msg);
    ck_assert_ptr_null(x.trace);
    hb_experiment_free(&x);
    rm_tmpdir();
}
END_TEST

/* After the first run, manifest.json.tmp becomes a directory: the manifest can no longer be
 * written. */
static void block_manifest(void *ctx, const hb_run_entry *r, const hb_run_stats *st,
                           const hb_error *err)
{
    (void)r, (void)st, (void)err;
    char p[512];
    snprintf(p, sizeof p, "%s/manifest.json.tmp", (const char *)ctx);
    mkdir(p, 0755);
}

START_TEST(a_manifest_that_cannot_be_written_stops_the_runs_and_says_so)
{
    const char *dir = tmpdir();
    hb_experiment x = {0};
    hb_error e;
    ck_assert_int_eq(hb_config_load_text(TINY, "tiny.ini", ".", &x.cfg, &e), 0);
    hb_run_spec spec = {.x = &x, .out = dir, .on_run = block_manifest, .on_run_ctx = (void *)dir};
    hb_run_result *res;
    ck_assert_int_eq(hb_experiment_run(&spec, &res, &e), HB_EIO);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(res->experiment_rc, HB_EIO);
    ck_assert_msg(strstr(e.msg, "manifest.json.tmp") != NULL, "%s", e.msg);
    ck_assert_int_eq(res->runs[0].status, HB_RUN_COMPLETE);
    ck_assert_int_eq(res->runs[1].status, HB_RUN_PENDING);  /* the loop stopped */
    ck_assert(!res->complete);
    ck_assert_int_eq(hb_run_exit_status(res), 1);
    hb_run_result_free(res);
    hb_experiment_free(&x);
    rm_tmpdir();
}
END_TEST

/* An out-of-tree "fixed" that counts its calls: found before the built-in one. */
static int g_sized;

static int count_size(void *state, const hb_invocation *inv, const hb_observation *obs,
                      hb_sizing *out, hb_error *err)
{
    (void)state, (void)inv, (void)obs, (void)out, (void)err;
    g_sized++;
    return 0;
}

START_TEST(extra_policies_come_before_the_built_in_table)
{
    hb_policy_ops mine = {.name = "fixed", .summary = "counts", .size = count_size,
                          .artifact_name = "Mine_{trace}"};
    hb_policy_ops other = mine;
    other.name = "counting";           /* no built-in policy has this name */
    const hb_policy_ops *extra[] = {&mine, &other};
    hb_run_spec spec = {.extra_policies = extra, .n_extra_policies = 2};
    ck_assert_ptr_eq(hb_run_policy_find(&spec, "fixed"), &mine);
    ck_assert_ptr_nonnull(hb_run_policy_find(&spec, "default"));
    ck_assert_ptr_null(hb_run_policy_find(&spec, "nope"));

    const char *dir = tmpdir();
    hb_experiment x = {0};
    hb_error e;
    ck_assert_int_eq(hb_config_load_text(TINY, "tiny.ini", ".", &x.cfg, &e), 0);
    spec.x = &x;
    spec.out = dir;
    spec.policies = "fixed, counting";
    spec.seeds = 1;
    hb_run_result *res;
    g_sized = 0;
    ck_assert_msg(hb_experiment_run(&spec, &res, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(g_sized, 40);
    ck_assert(exists(dir, "fixed/seed-1/artifact/Mine_multi_1_0_0_trajectory.csv"));
    ck_assert(exists(dir, "counting/seed-1/summary.json"));
    hb_run_result_free(res);
    hb_experiment_free(&x);
    rm_tmpdir();
}
END_TEST

HB_TEST_MAIN("experiment_run", one_call_runs_every_policy_and_seed_and_pools_them,
             resume_keeps_finished_runs_and_reruns_the_rest,
             a_bad_key_fails_before_anything_runs_and_names_file_line_and_key,
             extra_policies_come_before_the_built_in_table,
             a_manifest_that_cannot_be_written_stops_the_runs_and_says_so)

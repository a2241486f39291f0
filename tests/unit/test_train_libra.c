/* test_train_libra.c - Libra's trained predictor: the forest -> step table export is exact, the
 * profiling grid, training on the simulator's artifact profile recovers the artifact's classes, the
 * command is deterministic, the table it writes drives `predictor = trained` in the engine, and a
 * malformed table is reported with its file and line. */
#define _XOPEN_SOURCE 700             /* nftw */
#include <ftw.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../policies/libra/forest.h"
#include "experiment_run.h"
#include "libra_trainer.h"
#include "train.h"
#include "engine.h"
#include "hb_test.h"
#include "registry.h"
#include "seed.h"

static char g_dir[64];

static const char *tmpdir(void)
{
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/hb-train-libra-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(g_dir));
    }
    return g_dir;
}

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    return remove(p);
}

/* Each test runs in its own process (Check forks): each removes the directory it made. */
static void rm_tmpdir(void)
{
    if (g_dir[0])
        ck_assert_int_eq(nftw(g_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
    g_dir[0] = '\0';
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Every integer in [lo, hi]: the table and the forest agree (as the float the forest returns). */
static void assert_equal_on(lf_forest *fo, const hb_step_fn *fn, double lo, double hi)
{
    size_t n = (size_t)(hi - lo) + 1;
    double *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v);
    hb_error e;
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (double)i;
    ck_assert_msg(lf_predict(fo, x, n, v, &e) == 0, "%s", e.msg);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg((float)hb_step_eval(fn, x[i]) == (float)v[i], "size %.0f: table %.9g, forest %.9g",
                      x[i], hb_step_eval(fn, x[i]), v[i]);
    free(x);
    free(v);
}

START_TEST(forest_export_is_exact_at_every_integer_size)
{
    /* 100 sizes 100..10000, 3 noisy repetitions each: a step class and a rising duration */
    enum { N = 300 };
    double x[N], yc[N], yd[N];
    gsl_rng *r = hb_rng_new(7, "test");
    for (int i = 0; i < N; i++) {
        x[i] = 100.0 * (i / 3 + 1);
        yc[i] = 2 + (x[i] > 3050) + 3 * (x[i] > 7000) + (gsl_rng_uniform(r) < 0.15);
        yd[i] = 1 + x[i] / 1000 + gsl_ran_gaussian(r, 0.3);
    }
    gsl_rng_free(r);
    hb_error e;
    for (int k = 0; k < 2; k++) {
        lf_params p = lf_defaults(k == 0 ? 8 : 0, 11);
        lf_forest *fo;
        ck_assert_msg(lf_train(x, k == 0 ? yc : yd, N, &p, &fo, &e) == 0, "%s", e.msg);
        hb_step_fn fn;
        ck_assert_msg(lf_export(fo, &fn, &e) == 0, "%s", e.msg);
        ck_assert_uint_gt(fn.n, 2);
        ck_assert(isinf(fn.s[0].x_gt) && fn.s[0].x_gt < 0 && isinf(fn.s[fn.n - 1].x_le));
        for (size_t i = 1; i < fn.n; i++) {
            ck_assert(fn.s[i].x_gt == fn.s[i - 1].x_le);      /* contiguous */
            ck_assert(fn.s[i].v != fn.s[i - 1].v);            /* equal neighbours merged */
        }
        /* every breakpoint is ceil(t) - 1 of some split threshold t */
        double *t;
        size_t nt;
        ck_assert_msg(lf_thresholds(fo, &t, &nt, &e) == 0, "%s", e.msg);
        ck_assert_uint_ge(nt, fn.n - 1);
        for (size_t i = 0; i + 1 < fn.n; i++) {
            int found = 0;
            for (size_t j = 0; j < nt && !found; j++)
                found = ceil(t[j]) - 1 == fn.s[i].x_le;
            ck_assert_msg(found, "breakpoint %g is no threshold's", fn.s[i].x_le);
        }
        free(t);
        /* dense: every integer from below the data to past it, crossing every threshold */
        assert_equal_on(fo, &fn, -50, 10200);
        if (k == 0)
            for (size_t i = 0; i < fn.n; i++)                 /* classes: whole, in 1..8 */
                ck_assert(fn.s[i].v == floor(fn.s[i].v) && fn.s[i].v >= 1 && fn.s[i].v <= 8);
        free(fn.s);
        lf_free(fo);
    }
}
END_TEST

START_TEST(a_class_forest_rounds_the_mean_class_half_up)
{
    lf_params p = lf_defaults(8, 1);
    ck_assert_double_eq(lf_value(&p, 2.5f), 3);
    ck_assert_double_eq(lf_value(&p, 2.4999f), 2);
    ck_assert_double_eq(lf_value(&p, 0.2f), 1);              /* clipped to the class range */
    ck_assert_double_eq(lf_value(&p, 9.7f), 8);
    lf_params d = lf_defaults(0, 1);
    ck_assert_double_eq(lf_value(&d, 2.5f), 2.5);
}
END_TEST

START_TEST(the_grid_is_the_artifacts_sweep)
{
    double g[200];
    int dh = hb_function_find("dh"), vp = hb_function_find("vp");
    ck_assert_uint_eq(lt_grid(dh, 100, g), 100);
    for (int i = 0; i < 100; i++)
        ck_assert_double_eq(g[i], 100.0 * (i + 1));          /* base x [1, 101) */
    ck_assert_uint_eq(lt_grid(vp, 100, g), 10);             /* vp: its ten sizes 1..10 */
    for (int i = 0; i < 10; i++)
        ck_assert_double_eq(g[i], i + 1);
    ck_assert_uint_eq(lt_grid(dh, 3, g), 3);
    ck_assert_double_eq(g[0], 100);
    ck_assert_double_eq(g[1], 5050);
    ck_assert_double_eq(g[2], 10000);
}
END_TEST

/* The artifact's class at x, with its class 0 (below each range, from a synthetic training point)
 * read as the next piece's class, as the artifact profile does. */
static double artifact_class(const hb_predictor_table *a, int f, int k, double x)
{
    const hb_step_fn *fn = &a->f[f][k];
    for (size_t i = 0; i < fn->n; i++)
        if (x <= fn->s[i].x_le || i + 1 == fn->n) {
            while (fn->s[i].v == 0 && i + 1 < fn->n)
                i++;
            return floor(fn->s[i].v);
        }
    return NAN;
}

START_TEST(training_on_the_artifact_profile_recovers_its_classes)
{
    hb_experiment x = {0};
    hb_error e;
    ck_assert_int_eq(hb_config_defaults(&x.cfg, &e), 0);
    x.cfg.invokers = 3;
    ck_assert_int_eq(hb_profile_artifact(NULL, 0, NULL, &x.profile, &e), 0);
    lt_obs *obs;
    size_t n, failed;
    lt_profile_opts po = {100, 5, 1};
    ck_assert_msg(lt_profile(&x, &po, &obs, &n, &failed, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(failed, 0);
    ck_assert_uint_eq(n, (9 * 100 + 10) * 5);
    ck_assert_int_eq(x.cfg.invokers, 3);                     /* the caller's config is restored */
    ck_assert_double_eq(x.cfg.keep_alive_s, 600);
    ck_assert_int_eq(x.cfg.n_policies, 2);
    ck_assert_str_eq(x.cfg.policies[1], "fixed");
    ck_assert_ptr_null(x.trace);
    for (size_t i = 0; i < n; i++)
        ck_assert(obs[i].cpu_peak > 0 && obs[i].cpu_peak <= 8 && obs[i].dur_s > 0.5);

    lt_model m;
    lt_fit_opts fo = {0.3, 1, 100};
    ck_assert_msg(lt_fit(obs, n, &fo, &m, &e) == 0, "%s", e.msg);   /* includes the export check */

    /* Held-out class accuracy. The simulator's peaks are the artifact classes' midpoints (class c:
     * c - 0.5 cores, (c - 0.5) x 128 x 10^6 / 2^20 MiB), which fall in class c again, and do not
     * vary between repetitions: labels are exact. A held-out size can only be misclassified when it
     * lies between a class boundary and the nearest training size across it; with at most 3 class
     * changes per function over 100 sizes, 30 of them held out, that is a few sizes at most. */
    hb_predictor_table *art;
    ck_assert_int_eq(hb_predictor_table_load(NULL, &art, &e), 0);
    double sum = 0;
    for (int f = 0; f < HB_NWORKLOADS; f++)
        for (int k = HB_TARGET_CPU; k <= HB_TARGET_MEM; k++) {
            const lt_score *s = &m.score[f][k];
            ck_assert_uint_eq(s->sizes_test, f == hb_function_find("vp") ? 3 : 30);
            ck_assert_msg(s->accuracy >= 0.9, "%s target %d: held-out accuracy %.3f",
                          hb_functions[f].id, k, s->accuracy);
            sum += s->accuracy;
        }
    ck_assert_msg(sum / (2 * HB_NWORKLOADS) >= 0.97, "mean held-out class accuracy %.3f",
                  sum / (2 * HB_NWORKLOADS));

    /* Over the whole grid the trained classes are the artifact's, except vp's memory: the artifact
     * profile caps vp's peak at 0.95 x its 512 MB user memory (486 MiB, class 4, not 5). */
    double g[100];
    int vp = hb_function_find("vp");
    size_t agree = 0, total = 0;
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        size_t ng = lt_grid(f, 100, g);
        for (int k = HB_TARGET_CPU; k <= HB_TARGET_MEM; k++)
            for (size_t i = 0; i < ng; i++) {
                double want = f == vp && k == HB_TARGET_MEM ? 4 : artifact_class(art, f, k, g[i]);
                agree += hb_step_eval(&m.table->f[f][k], g[i]) == want;
                total++;
            }
    }
    ck_assert_msg((double)agree / (double)total >= 0.98, "%zu of %zu grid classes agree", agree, total);

    /* Durations: the artifact's table is the model's mean, so it is the best predictor up to the
     * run-to-run noise; the forest, from 70 sizes, is within 3x of its held-out MSE (vp, from 7
     * sizes 1.5 s apart, is left out) and explains most of the variance where duration grows */
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        const lt_score *s = &m.score[f][HB_TARGET_DUR];
        if (f == vp)
            continue;
        ck_assert_msg(s->mse <= 3 * s->artifact_mse, "%s: duration MSE %.4f, the artifact's %.4f",
                      hb_functions[f].id, s->mse, s->artifact_mse);
        const char *id = hb_functions[f].id;
        if (!strcmp(id, "eg") || !strcmp(id, "ip") || !strcmp(id, "knn") || !strcmp(id, "ms") ||
            !strcmp(id, "gd"))
            ck_assert_msg(s->r2 >= 0.9, "%s: duration R^2 %.3f", id, s->r2);
    }

    /* the written file reads back as the same table */
    char path[128];
    snprintf(path, sizeof path, "%s/recover.csv", tmpdir());
    ck_assert_msg(lt_write_table(m.table, "a comment\nof two lines", path, &e) == 0, "%s", e.msg);
    hb_predictor_table *back;
    ck_assert_msg(hb_predictor_table_load(path, &back, &e) == 0, "%s", e.msg);
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        size_t ng = lt_grid(f, 100, g);
        for (int k = 0; k < HB_NTARGETS; k++) {
            ck_assert_uint_eq(back->f[f][k].n, m.table->f[f][k].n);
            for (size_t i = 0; i < ng; i++)
                ck_assert((float)hb_step_eval(&back->f[f][k], g[i]) ==
                          (float)hb_step_eval(&m.table->f[f][k], g[i]));
        }
    }
    hb_predictor_table_free(back);
    rm_tmpdir();
    hb_predictor_table_free(art);
    lt_model_free(&m);
    free(obs);
    hb_experiment_free(&x);
}
END_TEST

static int train_cmd(const char *out, const char *seed)
{
    char *argv[] = {"libra", "configs/demo.ini", "--out", (char *)out, "--sizes", "40", "--reps", "3",
                    "--seed", (char *)seed, NULL};
    return hb_train_libra(10, argv);
}

/* Under the timeline truth the labels are what a 100 ms monitor saw of bursts drawn inside the
 * artifact's classes: the trained (and the artifact's own) CPU classes are no longer read back
 * exactly, so the held-out accuracy must not be a trivial 1. */
START_TEST(training_under_timeline_truth_is_not_trivially_exact)
{
    hb_experiment x = {0};
    hb_error e;
    ck_assert_int_eq(hb_config_defaults(&x.cfg, &e), 0);
    ck_assert_int_eq(hb_profile_artifact(NULL, 0, NULL, &x.profile, &e), 0);
    x.profile->usage = HB_USAGE_TIMELINE;
    x.profile->synthetic = 1;
    lt_obs *obs;
    size_t n, failed;
    lt_profile_opts po = {100, 5, 1};
    ck_assert_msg(lt_profile(&x, &po, &obs, &n, &failed, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(failed, 0);
    lt_model m;
    lt_fit_opts fo = {0.3, 1, 100};
    ck_assert_msg(lt_fit(obs, n, &fo, &m, &e) == 0, "%s", e.msg);
    double cpu = 0, art = 0;
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        cpu += m.score[f][HB_TARGET_CPU].accuracy / HB_NWORKLOADS;
        art += m.score[f][HB_TARGET_CPU].artifact_accuracy / HB_NWORKLOADS;
    }
    ck_assert_msg(cpu > 0.5 && cpu < 0.95, "mean held-out cpu accuracy %.3f", cpu);
    ck_assert_msg(art < 0.95, "the artifact's own table scores %.3f", art);
    lt_model_free(&m);
    free(obs);
    hb_experiment_free(&x);
}
END_TEST

START_TEST(the_command_is_deterministic_for_a_seed)
{
    /* the same file name in three directories: the header names the files beside the table */
    char a[128], b[128], c[128], acc_a[128], acc_b[128];
    snprintf(a, sizeof a, "%s/1/t.csv", tmpdir());
    snprintf(b, sizeof b, "%s/2/t.csv", tmpdir());
    snprintf(c, sizeof c, "%s/3/t.csv", tmpdir());
    ck_assert_int_eq(train_cmd(a, "3"), 0);
    ck_assert_int_eq(train_cmd(b, "3"), 0);
    ck_assert_int_eq(train_cmd(c, "4"), 0);
    size_t na, nb, nc;
    char *ta = slurp(a, &na), *tb = slurp(b, &nb), *tc = slurp(c, &nc);
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(ta, tb, na) == 0);                       /* same seed: the same bytes */
    ck_assert(na != nc || memcmp(ta, tc, na) != 0);           /* another seed: other noise */
    ck_assert_ptr_nonnull(strstr(ta, "# made by: harvestbench train libra configs/demo.ini --reps 3 "
                                     "--sizes 40 --seed 3 --test-share 0.3\n"));
    snprintf(acc_a, sizeof acc_a, "%s/1/t.accuracy.csv", tmpdir());
    snprintf(acc_b, sizeof acc_b, "%s/2/t.accuracy.csv", tmpdir());
    free(tb);
    tb = slurp(acc_b, &nb);
    free(tc);
    tc = slurp(acc_a, &nc);
    ck_assert(nb == nc && memcmp(tb, tc, nb) == 0);
    ck_assert(strncmp(tc, "function_id,target,sizes_train,sizes_test,", 42) == 0);
    snprintf(acc_a, sizeof acc_a, "%s/1/t.models/knn_duration.json", tmpdir());
    ck_assert_int_eq(access(acc_a, R_OK), 0);
    free(ta);
    free(tb);
    free(tc);
    /* bad usage is exit status 2 */
    char *bad[] = {"libra", "configs/demo.ini", "--test-share", "0.95", NULL};
    ck_assert_int_eq(hb_train_libra(4, bad), 2);
    char *missing[] = {"libra", NULL};
    ck_assert_int_eq(hb_train_libra(1, missing), 2);
    rm_tmpdir();
}
END_TEST

/* ---- the produced table in the engine ---- */

typedef struct seen {
    const hb_predictor_table *t;
    const hb_config *cfg;
    size_t calls, mismatches;
} seen;

static void check_pred(void *ctx, const hb_invocation *inv)
{
    seen *s = ctx;
    const hb_func_config *fc = &s->cfg->funcs[inv->func];
    double x = (double)inv->input_size;
    double cpu = hb_clip(floor(hb_step_eval(&s->t->f[inv->func][HB_TARGET_CPU], x)), fc->cpu_clip[0],
                         fc->cpu_clip[1]);
    double mem = hb_clip(floor(hb_step_eval(&s->t->f[inv->func][HB_TARGET_MEM], x)) * HB_MEM_UNIT_MB,
                         fc->mem_clip_mb[0], fc->mem_clip_mb[1]);
    double dur = hb_step_eval(&s->t->f[inv->func][HB_TARGET_DUR], x);
    s->calls++;
    s->mismatches += inv->pred.cpu != cpu || inv->pred.mem_mb != mem || inv->pred_duration_s != dur;
}

START_TEST(a_trained_table_drives_libra_in_the_engine)
{
    char path[128], ini[512];
    snprintf(path, sizeof path, "%s/engine.csv", tmpdir());
    ck_assert_int_eq(train_cmd(path, "5"), 0);
    hb_experiment x = {0};
    hb_error e;
    snprintf(ini, sizeof ini, "[experiment]\npolicies = libra\n[cluster]\ninvokers = 2\n"
             "[policy.libra]\npredictor = trained\nmodel = %s\n", path);
    ck_assert_msg(hb_config_load_text(ini, "t.ini", ".", &x.cfg, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(hb_profile_artifact(NULL, 0, NULL, &x.profile, &e), 0);
    hb_trace_spec ts = {.format = "artifact",
                        .invocations = "data/traces/freyr-60min/exp_openwhisk_invocation_traces_0.csv",
                        .start_minute = 1, .scale = 1, .functions = 10, .max_per_minute = 1 << 30,
                        .mapping = "order"};
    ck_assert_int_eq(hb_trace_load(&ts, &x.trace, &e), 0);
    x.arrival = HB_ARRIVAL_EVEN;
    x.sizes = HB_SIZES_RANDOM;
    hb_predictor_table *t;
    ck_assert_msg(hb_predictor_table_load(path, &t, &e) == 0, "%s", e.msg);
    seen s = {t, &x.cfg, 0, 0};
    hb_run_spec spec = {.x = &x, .no_files = 1, .usage = 1, .on_record = check_pred,
                        .on_record_ctx = &s};
    hb_run_result *res;
    ck_assert_msg(hb_experiment_run(&spec, &res, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(res->policies[0].pooled.invocations, 268);
    ck_assert_uint_eq(s.calls, 268);
    ck_assert_uint_eq(s.mismatches, 0);                       /* every prediction is the table's */
    hb_run_result_free(res);
    rm_tmpdir();
    hb_predictor_table_free(t);
    hb_experiment_free(&x);
}
END_TEST

static void expect_model_error(const char *text, const char *want)
{
    char path[128], ini[512];
    snprintf(path, sizeof path, "%s/bad.csv", tmpdir());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    hb_config cfg;
    hb_error e;
    snprintf(ini, sizeof ini, "[policy.libra]\npredictor = trained\nmodel = %s\n", path);
    ck_assert_int_eq(hb_config_load_text(ini, "t.ini", ".", &cfg, &e), 0);
    hb_policy_ctx ctx;
    hb_engine_policy_ctx(&cfg, "libra", hb_config_section_kv(&cfg, "policy.libra"), NULL, 0,
                         hb_backend_find("sim")->caps, &ctx);
    void *state = NULL;
    ck_assert_int_eq(hb_policy_find("libra")->create(&ctx, &state, &e), HB_EINPUT);
    char full[256];
    snprintf(full, sizeof full, "%s%s", path, want);
    ck_assert_msg(strstr(e.msg, full) != NULL, "message '%s' lacks '%s'", e.msg, full);
    hb_config_free(&cfg);
}

START_TEST(a_malformed_model_file_names_its_file_and_line)
{
    /* comment lines count: the bad row is line 5 */
    expect_model_error("# made by hand\n# second comment\nfunction_id,target,x_gt,x_le,value\n"
                       "dh,cpu,-inf,inf,2\ndh,memory,-inf,inf,two\n", ":5: value: 'two' is not a number");
    expect_model_error("# x\nfunction_id,target,x_gt,x_le,value\nzz,cpu,-inf,inf,2\n",
                       ":3: function_id: unknown function 'zz'");
    expect_model_error("function_id,target,x_gt,x_le,value\ndh,cpu,-inf,inf,2\n",
                       ": function dh has no memory predictor");
    rm_tmpdir();
}
END_TEST

HB_TEST_MAIN("train_libra", forest_export_is_exact_at_every_integer_size,
             a_class_forest_rounds_the_mean_class_half_up, the_grid_is_the_artifacts_sweep,
             training_on_the_artifact_profile_recovers_its_classes,
             training_under_timeline_truth_is_not_trivially_exact,
             the_command_is_deterministic_for_a_seed, a_trained_table_drives_libra_in_the_engine,
             a_malformed_model_file_names_its_file_and_line)

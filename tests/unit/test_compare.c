/* test_compare.c - `compare` and `check` on hand-made result directories: every number of the tiny
 * fixture against values worked out by hand, a policy whose every call failed, determinism, the
 * three output files, the plots (valid PNGs), a missing gnuplot, and the command-line errors. */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "analysis.h"
#include "commands.h"
#include "results_reader.h"

#include "hb_test.h"

#define FIX "tests/fixtures/results"
#define TMP "tests/fixtures/tmp/compare"
#define EPS 1e-9

/* ---- helpers ---- */

static void copy_fixture(const char *name, const char *dest)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && rm -rf %s/%s && cp -r %s/%s %s/%s", TMP, TMP, dest,
             FIX, name, TMP, dest);
    ck_assert_int_eq(system(cmd), 0);
}

/* Runs a command with stdout and stderr going to TMP/out.txt; returns its exit status. */
static int run_cmd(int (*cmd)(int, char **), int argc, char **argv)
{
    mkdir(TMP, 0755);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fd = open(TMP "/out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    int rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    return rc;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

static int output_has(const char *sub)
{
    char *o = slurp(TMP "/out.txt");
    int yes = o && strstr(o, sub) != NULL;
    free(o);
    return yes;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void compute(const hb_results *r, const char *name, unsigned long seed, hb_policy_stats *s)
{
    hb_boot_opts o = {2000, seed, 0.95};
    hb_error err;
    const hb_policy_runs *pr = hb_results_policy(r, name);
    ck_assert_ptr_nonnull(pr);
    ck_assert_int_eq(hb_policy_stats_compute(pr, &o, hb_stream_seed(seed, "", "seeds"),
                                             hb_stream_seed(seed, name, "calls"), s, &err),
                     HB_OK);
}

/* Compares policy a with policy b of r as `compare` does (streams and pairing). */
static void vs_of(const hb_results *r, const char *a, const char *b, unsigned long seed,
                  int pairing, const hb_policy_stats *sa, const hb_policy_stats *sb,
                  hb_vs_baseline *v)
{
    hb_boot_opts o = {2000, seed, 0.95};
    hb_error err;
    const hb_policy_runs *pa = hb_results_policy(r, a), *pb = hb_results_policy(r, b);
    hb_streams st = {hb_stream_seed(seed, "", "seeds"), hb_stream_seed(seed, "", "seeds"),
                     hb_stream_seed(seed, a, "calls"), hb_stream_seed(seed, b, "calls"),
                     hb_stream_seed(seed, a, "paired-calls")};
    ck_assert_int_eq(hb_vs_compute(pa, pb, sa, sb, pairing, &o, &st, v, &err), HB_OK);
}

/* ---- the tiny fixture, by hand ---- */

START_TEST(tiny_fixture_by_hand)
{
    hb_results r;
    hb_error err;
    ck_assert_int_eq(hb_results_read(FIX "/tiny", 0, &r, &err), HB_OK);
    hb_policy_stats d, f;
    compute(&r, "default", 1, &d);
    compute(&r, "fast", 1, &f);
    /* default: successes 100,200,300,400 | 150,250,350,450,550 -> 9 values summing to 2750 */
    ck_assert_uint_eq(d.calls, 10);
    ck_assert_uint_eq(d.seeds, 2);
    ck_assert_uint_eq(d.nlat, 9);
    ck_assert_uint_eq(d.outcomes[HB_OUT_TIMEOUT], 1);
    ck_assert_double_eq_tol(d.success_share, 0.9, EPS);
    ck_assert_double_eq_tol(d.cold_start_share, 3.0 / 10.0, EPS);
    ck_assert_double_eq_tol(d.lat_mean, 2750.0 / 9.0, EPS);
    ck_assert_double_eq_tol(d.lat_p50, 300.0, EPS);      /* h = 4 */
    ck_assert_double_eq_tol(d.lat_p90, 470.0, EPS);      /* h = 7.2: 450 + 0.2*100 */
    ck_assert_double_eq_tol(d.lat_p95, 510.0, EPS);      /* h = 7.6: 450 + 0.6*100 */
    ck_assert_double_eq_tol(d.lat_p99, 542.0, EPS);      /* h = 7.92: 450 + 0.92*100 */
    ck_assert_double_eq(d.lat_max, 550.0);
    ck_assert_double_eq(d.p50_ci.lo, 150.0);             /* n = 9: x_(2), x_(8) */
    ck_assert_double_eq(d.p50_ci.hi, 450.0);
    ck_assert_double_eq_tol(d.slowdown_mean, 2.0, EPS);  /* every known base is latency / 2 */
    ck_assert_uint_eq(d.nslowdown, 8);
    /* default's CPU is a share, not a quota: no used/allocated utilization */
    ck_assert(d.cpu_share && isnan(d.cpu_util_alloc) && isnan(d.cpu_util_alloc_ci.lo));
    ck_assert_double_eq_tol(d.mem_util_alloc, 4000.0 / 10000.0, EPS);
    ck_assert_double_eq_tol(d.cpu_util_capacity, 40.0 / 160.0, EPS);
    ck_assert_double_eq_tol(d.mem_util_capacity, 4000.0 / 32000.0, EPS);
    ck_assert_double_eq(d.harvested_share, 0.0);
    /* the intervals hold the estimates and lie within the data's range */
    ck_assert(d.mean_ci.lo < d.lat_mean && d.lat_mean < d.mean_ci.hi);
    ck_assert(d.mean_ci.lo >= 100.0 && d.mean_ci.hi <= 550.0);
    ck_assert(d.p99_ci.lo <= d.lat_p99 && d.p99_ci.hi <= 550.0);
    /* fast: 50,100,150,200,250 | 60,120,180,240 (and a lost call) */
    ck_assert_uint_eq(f.nlat, 9);
    ck_assert_uint_eq(f.outcomes[HB_OUT_LOST], 1);
    ck_assert_double_eq_tol(f.lat_mean, 150.0, EPS);
    ck_assert_double_eq_tol(f.lat_p99, 249.2, EPS);      /* 240 + 0.92*10 */
    ck_assert_double_eq_tol(f.slowdown_mean, 1.0, EPS);
    ck_assert_double_eq_tol(f.harvested_share, 3.0 / 10.0, EPS);
    ck_assert_double_eq_tol(f.accelerated_share, 1.0 / 10.0, EPS);
    ck_assert_double_eq_tol(f.cpu_util_alloc, 50.0 / 60.0, EPS);

    ck_assert(!f.cpu_share);
    /* no timeouts in tiny's manifest and a failed call in both: no censored latency */
    ck_assert_uint_eq(d.ncens, 0);
    ck_assert(isnan(d.cens_mean) && isnan(d.cens_mean_ci.lo));
    hb_vs_baseline v;
    /* the same seeds, but no arrival_s column: paired by seed, not by invocation */
    ck_assert_int_eq(hb_runs_pairing(hb_results_policy(&r, "fast"),
                                     hb_results_policy(&r, "default")), HB_PAIR_SEED);
    vs_of(&r, "fast", "default", 1, HB_PAIR_SEED, &f, &d, &v);
    ck_assert_int_eq(v.pairing, HB_PAIR_SEED);
    ck_assert_double_eq_tol(v.mean.pct, 100.0 * (150.0 - 2750.0 / 9.0) / (2750.0 / 9.0), EPS);
    ck_assert_double_eq_tol(v.p99.pct, 100.0 * (249.2 - 542.0) / 542.0, EPS);
    ck_assert(isnan(v.cpu_util_alloc.pct));   /* the baseline's is undefined */
    ck_assert_double_eq_tol(v.cpu_util_capacity.pct, 100.0 * (50.0 - 40.0) / 40.0, EPS);
    ck_assert(v.mean.ci.lo < v.mean.pct && v.mean.pct < v.mean.ci.hi && v.mean.ci.hi < 0.0);
    /* Pairs fast > default: 120>100, 150>100, 180>{100,150}, 200>{100,150}, 240>{100,150,200},
     * 250>{100,150,200}: 12; ties at 100, 150, 200, 250: 4; so U = 14, fast < default in 65 pairs
     * and delta = (12 - 65)/81. Ties t = 2 four times: sigma^2 = 81/12 (19 - 24/306) = 127.72;
     * z = -(26.5 - 0.5)/11.3014 = -2.30061, p = 0.021414 (scipy: 0.021413718336684043). */
    ck_assert_double_eq_tol(v.mwu.u, 14.0, EPS);
    ck_assert_double_eq_tol(v.cliffs_delta, -53.0 / 81.0, EPS);
    ck_assert_double_eq_tol(v.mwu.p, 0.021413718336684043, 1e-12);
    /* per-seed means: default 250, 350; fast 150, 150 -> d = -100, -200: W+ = 0, p = 2/4;
     * the sign-flip test: |-300| is reached by 2 of the 4 sign assignments, p = 0.5 */
    ck_assert_double_eq_tol(v.seed_mean.p, 0.5, EPS);
    ck_assert_double_eq_tol(v.seed_mean.mean_diff, -150.0, EPS);
    ck_assert(isnan(v.seed_cens_mean.p));
    ck_assert_uint_eq(v.wilcoxon.n_used, 2);
    ck_assert_double_eq(v.wilcoxon.w_plus, 0.0);
    ck_assert_double_eq_tol(v.wilcoxon.p, 0.5, EPS);
    hb_policy_stats_free(&d);
    hb_policy_stats_free(&f);
    hb_results_free(&r);
}
END_TEST

START_TEST(bootstrap_deterministic_and_seeded)
{
    hb_results r;
    hb_error err;
    ck_assert_int_eq(hb_results_read(FIX "/two-policies", 0, &r, &err), HB_OK);
    hb_policy_stats a, b, c;
    compute(&r, "libra", 1, &a);
    compute(&r, "libra", 1, &b);
    compute(&r, "libra", 2, &c);
    ck_assert_double_eq(a.mean_ci.lo, b.mean_ci.lo);
    ck_assert_double_eq(a.p99_ci.hi, b.p99_ci.hi);
    ck_assert_mem_eq(a.rep[HB_REP_MEAN], b.rep[HB_REP_MEAN], a.B * sizeof(double));
    ck_assert(a.mean_ci.lo != c.mean_ci.lo);
    /* ... yet the two seeds agree to within Monte Carlo error (a few % of the width) */
    double w = a.mean_ci.hi - a.mean_ci.lo;
    ck_assert(fabs(a.mean_ci.lo - c.mean_ci.lo) < 0.1 * w);
    hb_policy_stats_free(&a);
    hb_policy_stats_free(&b);
    hb_policy_stats_free(&c);
    hb_results_free(&r);

    /* the whole comparison.json is byte-identical for a seed, and differs for another */
    copy_fixture("two-policies", "det");
    char *argv1[] = {"compare", TMP "/det", "--no-plots", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 3, argv1), 0);
    char *j1 = slurp(TMP "/det/comparison.json");
    ck_assert_int_eq(run_cmd(cmd_compare, 3, argv1), 0);
    char *j2 = slurp(TMP "/det/comparison.json");
    char *argv2[] = {"compare", TMP "/det", "--no-plots", "--seed", "2", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 5, argv2), 0);
    char *j3 = slurp(TMP "/det/comparison.json");
    ck_assert_ptr_nonnull(j1);
    ck_assert_str_eq(j1, j2);
    ck_assert_str_ne(j1, j3);
    free(j1);
    free(j2);
    free(j3);
}
END_TEST

START_TEST(one_seed_gives_no_utilization_interval)
{
    hb_results r;
    hb_error err;
    ck_assert_int_eq(hb_results_read(FIX "/tiny", 0, &r, &err), HB_OK);
    const hb_policy_runs *d = hb_results_policy(&r, "default"), *f = hb_results_policy(&r, "fast");
    hb_policy_runs d1 = {d->name, 1, d->runs}, f1 = {f->name, 1, f->runs};
    hb_boot_opts o = {2000, 1, 0.95};
    hb_policy_stats sd, sf;
    ck_assert_int_eq(hb_policy_stats_compute(&d1, &o, 1, 2, &sd, &err), HB_OK);
    ck_assert_int_eq(hb_policy_stats_compute(&f1, &o, 1, 3, &sf, &err), HB_OK);
    ck_assert_double_eq_tol(sd.mem_util_alloc, 0.25, EPS);   /* seed 1: 1000 / 4000 */
    ck_assert(isnan(sd.cpu_util_alloc_ci.lo) && isnan(sd.mem_util_alloc_ci.hi));
    ck_assert(!isnan(sd.mean_ci.lo));   /* latency still has its within-run interval */
    hb_vs_baseline v;
    hb_streams st = {1, 1, 2, 3, 4};
    ck_assert_int_eq(hb_vs_compute(&f1, &d1, &sf, &sd, HB_PAIR_SEED, &o, &st, &v, &err), HB_OK);
    ck_assert_double_eq_tol(v.cpu_util_capacity.pct, 50.0, EPS);   /* 15/80 vs 10/80 */
    ck_assert(isnan(v.cpu_util_capacity.ci.lo) && !hb_change_significant(&v.cpu_util_capacity));
    ck_assert(!isnan(v.mean.ci.lo));
    hb_policy_stats_free(&sd);
    hb_policy_stats_free(&sf);
    hb_results_free(&r);
}
END_TEST

/* ---- a policy whose every call failed ---- */

static void assert_no_nan_text(const char *path)
{
    char *t = slurp(path);
    ck_assert_ptr_nonnull(t);
    for (char *p = t; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    ck_assert_msg(strstr(t, "nan") == NULL && strstr(t, "inf,") == NULL, "%s has nan/inf", path);
    free(t);
}

START_TEST(every_call_failed)
{
    hb_results r;
    hb_error err;
    ck_assert_int_eq(hb_results_read(FIX "/all-failed", 0, &r, &err), HB_OK);
    hb_policy_stats d, x;
    compute(&r, "default", 1, &d);
    compute(&r, "broken", 1, &x);
    ck_assert_uint_eq(x.nlat, 0);
    ck_assert_uint_eq(x.calls, 60);
    ck_assert_double_eq(x.success_share, 0.0);
    ck_assert(isnan(x.lat_mean) && isnan(x.lat_p50) && isnan(x.lat_p99) && isnan(x.lat_max));
    ck_assert(isnan(x.mean_ci.lo) && isnan(x.p99_ci.hi) && isnan(x.p50_ci.lo));
    ck_assert(isnan(x.slowdown_mean));
    hb_vs_baseline v;
    vs_of(&r, "broken", "default", 1, hb_runs_pairing(hb_results_policy(&r, "broken"),
                                                      hb_results_policy(&r, "default")),
          &x, &d, &v);
    ck_assert(isnan(v.mean.pct) && isnan(v.mean.ci.lo));
    ck_assert(isnan(v.mwu.p) && isnan(v.cliffs_delta));
    ck_assert(isnan(v.wilcoxon.p));   /* no seed has a mean on both sides */
    ck_assert_double_eq_tol(v.success_share.pct, -100.0, EPS);
    hb_policy_stats_free(&d);
    hb_policy_stats_free(&x);
    hb_results_free(&r);

    /* the command writes nulls, never NaN, and does not fail */
    copy_fixture("all-failed", "failed");
    char *argv[] = {"compare", TMP "/failed", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 2, argv), 0);
    assert_no_nan_text(TMP "/failed/comparison.json");
    assert_no_nan_text(TMP "/failed/comparison.csv");
    assert_no_nan_text(TMP "/failed/comparison.md");
    char *t = slurp(TMP "/failed/comparison.json");
    cJSON *j = cJSON_Parse(t);
    free(t);
    ck_assert_ptr_nonnull(j);
    cJSON *b = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "policies"), "broken");
    cJSON *lat = cJSON_GetObjectItem(b, "latency_ms");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(lat, "mean")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(lat, "p99")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(lat, "mean_ci")));
    cJSON *vb = cJSON_GetObjectItem(b, "vs_baseline");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(vb, "mean_change_pct")));
    cJSON *desc = cJSON_GetObjectItem(vb, "descriptive");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(desc, "mann_whitney_p")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(desc, "mann_whitney_p_holm")));
    ck_assert_double_eq(cJSON_GetObjectItem(b, "invocations")->valuedouble, 60);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j,
                                                                                         "policies"),
                                                                      "default"),
                                               "vs_baseline")));
    cJSON_Delete(j);
}
END_TEST

/* ---- outputs ---- */

START_TEST(json_has_the_brief_keys)
{
    copy_fixture("tiny", "keys");
    char *argv[] = {"compare", TMP "/keys", "--baseline", "default", "--no-plots", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 5, argv), 0);
    ck_assert(output_has("| fast"));   /* the table is printed */
    char *t = slurp(TMP "/keys/comparison.json");
    cJSON *j = cJSON_Parse(t);
    free(t);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "baseline")->valuestring, "default");
    cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "policies"), "fast");
    ck_assert_ptr_nonnull(f);
    static const char *const top[] = {"invocations", "seeds", "latency_ms", "latency_censored_ms",
                                      "cpu_util_alloc", "mem_util_alloc", "cpu_util_capacity",
                                      "mem_util_capacity", "vs_baseline"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        ck_assert_msg(cJSON_HasObjectItem(f, top[i]), "missing %s", top[i]);
    static const char *const lat[] = {"mean", "p50", "p95", "p99", "mean_ci", "p99_ci"};
    for (size_t i = 0; i < sizeof lat / sizeof lat[0]; i++)
        ck_assert_msg(cJSON_HasObjectItem(cJSON_GetObjectItem(f, "latency_ms"), lat[i]),
                      "missing %s", lat[i]);
    static const char *const vs[] = {"pairing", "mean_change_pct", "mean_change_ci",
                                     "p99_change_pct", "censored_mean_change_pct",
                                     "censored_mean_change_ci", "cpu_util_capacity_change_pct",
                                     "seed_level", "descriptive"};
    cJSON *v = cJSON_GetObjectItem(f, "vs_baseline");
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++)
        ck_assert_msg(cJSON_HasObjectItem(v, vs[i]), "missing %s", vs[i]);
    ck_assert_str_eq(cJSON_GetObjectItem(v, "pairing")->valuestring, "seed");
    /* default's CPU is a share: used/allocated is null, with a note */
    cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "policies"), "default");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(d, "cpu_util_alloc")));
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(d, "cpu_util_alloc_note")));
    ck_assert(!cJSON_IsNull(cJSON_GetObjectItem(d, "cpu_util_capacity")));
    cJSON *sl = cJSON_GetObjectItem(v, "seed_level");
    ck_assert_double_eq_tol(cJSON_GetObjectItem(sl, "mean_p")->valuedouble, 0.5, EPS);
    cJSON *ds = cJSON_GetObjectItem(v, "descriptive");
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(ds, "note")));
    ck_assert_double_eq_tol(cJSON_GetObjectItem(ds, "mann_whitney_u")->valuedouble, 14.0, EPS);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(ds, "cliffs_delta")->valuedouble, -53.0 / 81.0,
                            EPS);
    /* one comparison: Holm leaves p alone */
    ck_assert_double_eq(cJSON_GetObjectItem(ds, "mann_whitney_p_holm")->valuedouble,
                        cJSON_GetObjectItem(ds, "mann_whitney_p")->valuedouble);
    cJSON *mci = cJSON_GetObjectItem(cJSON_GetObjectItem(f, "latency_ms"), "mean_ci");
    ck_assert_int_eq(cJSON_GetArraySize(mci), 2);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "latency_ms"), "p99")
                                ->valuedouble, 249.2, EPS);
    cJSON_Delete(j);
    /* csv: a header and one row per policy, all with the same number of fields */
    char *csv = slurp(TMP "/keys/comparison.csv");
    ck_assert_ptr_nonnull(csv);
    int lines = 0, fields = -1;
    for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n")) {
        int n = 1;
        for (char *p = line; *p; p++)
            n += *p == ',';
        if (fields < 0)
            fields = n;
        ck_assert_int_eq(n, fields);
        lines++;
    }
    ck_assert_int_eq(lines, 3);
    free(csv);
    ck_assert(exists(TMP "/keys/comparison.md"));
    ck_assert(!exists(TMP "/keys/comparison.json.tmp"));
    ck_assert(!exists(TMP "/keys/plots"));
}
END_TEST

/* ---- plots ---- */

static void assert_png(const char *path, unsigned w, unsigned h)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s missing", path);
    unsigned char b[24];
    ck_assert_uint_eq(fread(b, 1, 24, f), 24);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    ck_assert_msg(memcmp(b, sig, 8) == 0, "%s: not a PNG signature", path);
    ck_assert_msg(memcmp(b + 12, "IHDR", 4) == 0, "%s: no IHDR first", path);
    unsigned width = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
    unsigned height = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
    ck_assert_uint_eq(width, w);
    ck_assert_uint_eq(height, h);
    ck_assert_msg(size > 5000, "%s: only %ld bytes", path, size);   /* axes, text, lines */
}

START_TEST(plots_are_valid_pngs)
{
    copy_fixture("two-policies", "plots");
    char *argv[] = {"compare", TMP "/plots", "--baseline", "default", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 4, argv), 0);
    assert_png(TMP "/plots/plots/forest.png", 1400, 300);   /* one row */
    assert_png(TMP "/plots/plots/latency_cdf.png", 960, 600);
    assert_png(TMP "/plots/plots/latency_bars.png", 1100, 520);
    assert_png(TMP "/plots/plots/usage_default.png", 1000, 700);
    assert_png(TMP "/plots/plots/usage_libra.png", 1000, 700);
    assert_png(TMP "/plots/plots/harvest_libra.png", 1000, 700);
    ck_assert(!exists(TMP "/plots/plots/harvest_default.png"));   /* default lends nothing */
    static const char *const data[] = {"latency_cdf.gp", "latency_cdf.default.dat",
                                       "latency_cdf.libra.dat", "latency_bars.dat",
                                       "usage_libra.dat", "harvest_libra.gp"};
    char path[256];
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++) {
        snprintf(path, sizeof path, TMP "/plots/plots/%s", data[i]);
        ck_assert_msg(exists(path), "%s missing", path);
    }
    char *md = slurp(TMP "/plots/comparison.md");
    ck_assert(strstr(md, "](plots/latency_cdf.png)") && strstr(md, "](plots/harvest_libra.png)"));
    /* the forest plot is the first plot, above the latency tables */
    char *forest = strstr(md, "](plots/forest.png)"), *first_png = strstr(md, ".png)");
    ck_assert(forest && first_png && first_png < forest + 20);
    ck_assert(forest < strstr(md, "## Latency"));
    free(md);
    /* titles, axis labels with units and a key in every script */
    static const char *const gp[] = {"latency_cdf.gp", "latency_bars.gp", "usage_libra.gp",
                                     "harvest_libra.gp"};
    for (size_t i = 0; i < sizeof gp / sizeof gp[0]; i++) {
        snprintf(path, sizeof path, TMP "/plots/plots/%s", gp[i]);
        char *s = slurp(path);
        ck_assert(strstr(s, "title '") && strstr(s, "set xlabel") && strstr(s, "set ylabel"));
        ck_assert(strstr(s, "set key") && (strstr(s, "(ms") || strstr(s, "cores")));
        free(s);
    }
}
END_TEST

START_TEST(missing_gnuplot_still_writes_tables)
{
    copy_fixture("tiny", "nognuplot");
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    mkdir(TMP "/emptybin", 0755);
    setenv("PATH", TMP "/emptybin", 1);
    char *argv[] = {"compare", TMP "/nognuplot", NULL};
    int rc = run_cmd(cmd_compare, 2, argv);
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    }
    ck_assert_int_eq(rc, 0);
    ck_assert(output_has("warning: gnuplot is not on PATH, so no plot was drawn"));
    ck_assert(exists(TMP "/nognuplot/comparison.md"));
    ck_assert(exists(TMP "/nognuplot/comparison.csv"));
    ck_assert(exists(TMP "/nognuplot/comparison.json"));
    ck_assert(exists(TMP "/nognuplot/plots/latency_cdf.gp"));
    ck_assert(!exists(TMP "/nognuplot/plots/latency_cdf.png"));
    char *md = slurp(TMP "/nognuplot/comparison.md");
    ck_assert(strstr(md, "gnuplot was not found") != NULL);
    ck_assert(strstr(md, ".png") == NULL);
    free(md);
}
END_TEST

/* ---- the command lines ---- */

START_TEST(compare_usage_errors)
{
    char *help[] = {"compare", "--help", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 2, help), 0);
    ck_assert(output_has("usage: harvestbench compare DIR"));
    char *none[] = {"compare", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 1, none), 2);
    char *unk[] = {"compare", FIX "/tiny", "--frobnicate", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 3, unk), 2);
    char *few[] = {"compare", FIX "/tiny", "--resamples", "100", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 4, few), 2);
    ck_assert(output_has("--resamples needs an integer from 2000"));
    char *nob[] = {"compare", FIX "/tiny", "--baseline", "libra", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 4, nob), 2);
    ck_assert(output_has("the baseline policy 'libra' (--baseline) is not in this run (policies: "
                         "default fast)"));
    char *nodir[] = {"compare", TMP "/nowhere", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 2, nodir), 2);
    ck_assert(output_has("nowhere: no such directory"));
    /* a directory that is not a result directory says so (exit 2) */
    char *notres[] = {"compare", "tests/fixtures", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 2, notres), 2);
    ck_assert(output_has("tests/fixtures: not a result directory of `harvestbench run` (it has no "
                         "manifest.json)"));
}
END_TEST

START_TEST(check_cli)
{
    char *help[] = {"check", "--help", NULL};
    ck_assert_int_eq(run_cmd(cmd_check, 2, help), 0);
    ck_assert(output_has("usage: harvestbench check DIR --against BASELINE_DIR"));
    char *noag[] = {"check", FIX "/tiny", NULL};
    ck_assert_int_eq(run_cmd(cmd_check, 2, noag), 2);
    char *bad[] = {"check", FIX "/tiny", "--against", FIX "/tiny", "--max-regression", "x", NULL};
    ck_assert_int_eq(run_cmd(cmd_check, 6, bad), 2);
    /* a run against itself passes, one line per metric */
    char *same[] = {"check", FIX "/two-policies", "--against", FIX "/two-policies", NULL};
    ck_assert_int_eq(run_cmd(cmd_check, 4, same), 0);
    ck_assert(output_has("libra        latency_censored_mean_ms"));
    ck_assert(output_has("libra        latency_mean_ms"));
    ck_assert(output_has("info (not gated; see --metric)"));
    ck_assert(output_has("default      mem_util_capacity"));
    ck_assert(output_has("default      pairing                  invocation"));
    ck_assert(output_has("0 regressions in 8 metrics of 2 policies -> pass"));
    char *badm[] = {"check", FIX "/two-policies", "--against", FIX "/two-policies", "--metric",
                    "median", NULL};
    ck_assert_int_eq(run_cmd(cmd_check, 6, badm), 2);
    ck_assert(output_has("--metric needs censored-mean, mean or p99"));
    /* no policy in common: nothing to check is bad input */
    copy_fixture("tiny", "disjoint");
    ck_assert_int_eq(system("cd " TMP "/disjoint && mv default other && mv fast quick && "
                            "sed -i 's/\"default\"/\"other\"/g; s/\"fast\"/\"quick\"/g' "
                            "manifest.json"),
                     0);
    char *disj[] = {"check", FIX "/tiny", "--against", TMP "/disjoint", NULL};
    ck_assert_int_eq(run_cmd(cmd_check, 4, disj), 2);
    ck_assert(output_has("fast         not in the baseline: not checked"));
    ck_assert(output_has("other        only in the baseline: not checked"));
    ck_assert(output_has("nothing to check"));
    /* an incomplete run fails the gate */
    copy_fixture("tiny", "incomplete");
    ck_assert_int_eq(system("sed -i '0,/\"complete\"/s//\"incomplete\"/' " TMP
                            "/incomplete/manifest.json"),
                     0);
    char *inc[] = {"check", TMP "/incomplete", "--against", FIX "/tiny", NULL};
    ck_assert_int_eq(run_cmd(cmd_check, 4, inc), 1);
    ck_assert(output_has("the run is not complete (status \"incomplete\")"));
}
END_TEST

START_TEST(check_fails_on_a_worse_run)
{
    /* the tiny run's 'fast' policy checked against itself renamed 'default' would be better;
     * the reverse, 'default' checked against a baseline whose default is the fast one, is 104%
     * slower: a copy of tiny whose default directory holds fast's files. */
    copy_fixture("tiny", "worse-base");
    ck_assert_int_eq(system("rm -rf " TMP "/worse-base/default && cp -r " TMP
                            "/worse-base/fast " TMP "/worse-base/default"),
                     0);
    /* tiny has no timeouts in its manifest: the censored mean is n/a, so gate on the mean */
    char *argv[] = {"check", FIX "/tiny", "--against", TMP "/worse-base", "--metric", "mean",
                    NULL};
    ck_assert_int_eq(run_cmd(cmd_check, 6, argv), 1);
    ck_assert(output_has("default      latency_mean_ms"));
    ck_assert(output_has("REGRESSION"));
    ck_assert(output_has("-> FAIL"));
    /* with a tolerance above the change (+103.7%), it passes */
    char *loose[] = {"check", FIX "/tiny", "--against", TMP "/worse-base", "--max-regression",
                     "150", "--metric", "mean", NULL};
    ck_assert_int_eq(run_cmd(cmd_check, 8, loose), 0);
    ck_assert(output_has("ok (worse, within the tolerance)"));
}
END_TEST

/* ---- pairing by invocation, the censored mean, the statistics window (fixture paired/) ---- */

START_TEST(paired_bootstrap_known_answer)
{
    hb_results r;
    hb_error err;
    ck_assert_int_eq(hb_results_read(FIX "/paired", 0, &r, &err), HB_OK);
    ck_assert_str_eq(r.baseline, "base");
    const hb_policy_runs *b = hb_results_policy(&r, "base"), *f = hb_results_policy(&r, "fast");
    ck_assert_int_eq(hb_runs_pairing(f, b), HB_PAIR_INVOCATION);
    hb_policy_stats sb, sf;
    compute(&r, "base", 1, &sb);
    compute(&r, "fast", 1, &sf);
    /* fast is exactly half of base on every call, so every paired replicate's change is -50% */
    hb_vs_baseline v;
    vs_of(&r, "fast", "base", 1, HB_PAIR_INVOCATION, &sf, &sb, &v);
    ck_assert_int_eq(v.pairing, HB_PAIR_INVOCATION);
    const hb_change *c[3] = {&v.mean, &v.p99, &v.cens_mean};
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq_tol(c[i]->pct, -50.0, 1e-9);
        ck_assert_double_eq_tol(c[i]->ci.lo, -50.0, 1e-9);
        ck_assert_double_eq_tol(c[i]->ci.hi, -50.0, 1e-9);
    }
    /* resampled unpaired (the old scheme) the same data give a wide interval */
    hb_vs_baseline u;
    vs_of(&r, "fast", "base", 1, HB_PAIR_SEED, &sf, &sb, &u);
    ck_assert_double_eq_tol(u.mean.pct, -50.0, 1e-9);
    ck_assert(u.mean.ci.hi - u.mean.ci.lo > 20.0);
    /* utilization is paired by seed: the replicates drew the same seeds, 20/80 vs 10/80 and
     * 40/80 vs 30/80 */
    ck_assert_double_eq_tol(v.cpu_util_capacity.pct, 50.0, 1e-9);
    ck_assert(v.cpu_util_capacity.ci.lo >= 100.0 * (40.0 / 30.0 - 1) - 1e-9);
    ck_assert(v.cpu_util_capacity.ci.hi <= 100.0 + 1e-9);
    hb_policy_stats_free(&sb);
    hb_policy_stats_free(&sf);
    hb_results_free(&r);
}
END_TEST

START_TEST(censored_mean_counts_failures_at_their_timeout)
{
    hb_results r;
    hb_error err;
    ck_assert_int_eq(hb_results_read(FIX "/paired", 0, &r, &err), HB_OK);
    hb_policy_stats sb, sx;
    compute(&r, "base", 1, &sb);
    compute(&r, "flaky", 1, &sx);
    ck_assert_double_eq_tol(sb.cens_mean, 275.0, EPS);   /* all succeed: the mean itself */
    ck_assert_double_eq_tol(sb.lat_mean, 275.0, EPS);
    ck_assert_uint_eq(sx.ncens, 8);
    ck_assert_uint_eq(sx.nlat, 7);
    ck_assert_double_eq_tol(sx.lat_mean, 1900.0 / 7.0, EPS);   /* survivors look faster ... */
    ck_assert_double_eq_tol(sx.cens_mean, 487.5, EPS);         /* ... dh's timeout is 2 s */
    ck_assert_double_eq_tol(sx.cens_p99, 2000.0 - 0.07 * (2000.0 - 450.0), EPS);
    hb_vs_baseline v;
    vs_of(&r, "flaky", "base", 1, HB_PAIR_INVOCATION, &sx, &sb, &v);
    ck_assert(v.mean.pct < 0);
    ck_assert_double_eq_tol(v.cens_mean.pct, 100.0 * (487.5 - 275.0) / 275.0, EPS);
    /* per seed: +212.5*... seed 1: (2700 - 1000)/4 = +425, seed 2: 0 */
    ck_assert_double_eq_tol(v.seed_cens_mean.mean_diff, 212.5, EPS);
    ck_assert_double_eq_tol(v.seed_cens_mean.p, 1.0, EPS);   /* |425| reached by all 4 */
    hb_policy_stats_free(&sb);
    hb_policy_stats_free(&sx);
    hb_results_free(&r);

    /* `check` gates on the censored mean by default: flaky as the run, base as the baseline */
    copy_fixture("paired", "cens-now");
    ck_assert_int_eq(system("cd " TMP "/cens-now && rm -rf base && cp -r flaky base"), 0);
    char *gate[] = {"check", TMP "/cens-now", "--against", FIX "/paired", NULL};
    run_cmd(cmd_check, 4, gate);
    ck_assert(output_has("gate latency_censored_mean_ms"));
    ck_assert(output_has("base         latency_censored_mean_ms       275.00 -> 487.50"));
}
END_TEST

START_TEST(pairing_detection_and_window)
{
    /* another arrival in one seed: still the same seeds, but no longer the same calls */
    copy_fixture("paired", "shifted");
    ck_assert_int_eq(system("sed -i 's/^2,dh,2.5,/2,dh,2.6,/' " TMP
                            "/shifted/fast/seed-2/invocations.csv"), 0);
    hb_results r;
    hb_error err;
    ck_assert_int_eq(hb_results_read(TMP "/shifted", 0, &r, &err), HB_OK);
    ck_assert_int_eq(hb_runs_pairing(hb_results_policy(&r, "fast"), hb_results_policy(&r, "base")),
                     HB_PAIR_SEED);
    ck_assert_int_eq(hb_runs_pairing(hb_results_policy(&r, "flaky"),
                                     hb_results_policy(&r, "base")), HB_PAIR_INVOCATION);
    hb_results_free(&r);
    /* a real-time backend sent call 1 of seed 1 late: its recorded arrival is later by
     * dispatch_late_ms, and it is still the same call */
    copy_fixture("paired", "late");
    ck_assert_int_eq(system("cd " TMP "/late/fast/seed-1 && awk -F, -v OFS=, 'NR == 1 { print $0, "
                            "\"dispatch_late_ms\"; next } $1 == 1 { $3 = 1.25; print $0, 250; next } "
                            "{ print $0, 0 }' invocations.csv > x && mv x invocations.csv"), 0);
    ck_assert_int_eq(hb_results_read(TMP "/late", 0, &r, &err), HB_OK);
    ck_assert_int_eq(hb_runs_pairing(hb_results_policy(&r, "fast"), hb_results_policy(&r, "base")),
                     HB_PAIR_INVOCATION);
    hb_results_free(&r);
    /* other seeds: unpaired */
    copy_fixture("paired", "reseeded");
    ck_assert_int_eq(system("sed -i 's/\"policy\": \"fast\", \"seed_index\": 2, \"seed\": 2/"
                            "\"policy\": \"fast\", \"seed_index\": 2, \"seed\": 9/' " TMP
                            "/reseeded/manifest.json"), 0);
    ck_assert_int_eq(hb_results_read(TMP "/reseeded", 0, &r, &err), HB_OK);
    ck_assert_int_eq(hb_runs_pairing(hb_results_policy(&r, "fast"), hb_results_policy(&r, "base")),
                     HB_PAIR_NONE);
    hb_results_free(&r);
    char *argv[] = {"compare", TMP "/reseeded", "--no-plots", NULL};
    ck_assert_int_eq(run_cmd(cmd_compare, 3, argv), 0);
    char *t = slurp(TMP "/reseeded/comparison.json");
    cJSON *j = cJSON_Parse(t);
    free(t);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "baseline")->valuestring, "base");   /* manifest */
    cJSON *pol = cJSON_GetObjectItem(j, "policies");
    cJSON *vf = cJSON_GetObjectItem(cJSON_GetObjectItem(pol, "fast"), "vs_baseline");
    cJSON *vx = cJSON_GetObjectItem(cJSON_GetObjectItem(pol, "flaky"), "vs_baseline");
    ck_assert_str_eq(cJSON_GetObjectItem(vf, "pairing")->valuestring, "none");
    ck_assert_str_eq(cJSON_GetObjectItem(vx, "pairing")->valuestring, "invocation");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(vf, "seed_level"),
                                               "censored_mean_p")));
    cJSON_Delete(j);
    char *csv = slurp(TMP "/reseeded/comparison.csv");
    ck_assert(strstr(csv, ",pairing,") && strstr(csv, ",none,") && strstr(csv, ",invocation,"));
    ck_assert(strstr(csv, "latency_censored_mean_ms"));
    free(csv);

    /* the statistics window: warmup 0.75 s leaves out each seed's call 0 (arrivals 0 and 0.5),
     * drain 57 s of a 60 s trace the calls after 3 s (seed 2's call 3 at 3.5 s) */
    copy_fixture("paired", "window");
    ck_assert_int_eq(system("sed -i 's/\"statistics\": {\"warmup_s\": 0, \"drain_s\": 0/"
                            "\"statistics\": {\"warmup_s\": 0.75, \"drain_s\": 57/' " TMP
                            "/window/manifest.json"), 0);
    ck_assert_int_eq(hb_results_read(TMP "/window", 0, &r, &err), HB_OK);
    const hb_policy_runs *b = hb_results_policy(&r, "base");
    ck_assert_uint_eq(b->runs[0].calls, 3);   /* 200, 300, 400 */
    ck_assert_uint_eq(b->runs[1].calls, 2);   /* 250, 350 */
    ck_assert_uint_eq(b->runs[0].excluded + b->runs[1].excluded, 3);
    hb_policy_stats sb;
    compute(&r, "base", 1, &sb);
    ck_assert_double_eq_tol(sb.lat_mean, 1500.0 / 5.0, EPS);
    ck_assert_uint_eq(sb.excluded, 3);
    ck_assert_int_eq(hb_runs_pairing(hb_results_policy(&r, "fast"), b), HB_PAIR_INVOCATION);
    hb_policy_stats_free(&sb);
    hb_results_free(&r);
}
END_TEST

HB_TEST_MAIN("compare", tiny_fixture_by_hand, bootstrap_deterministic_and_seeded,
             one_seed_gives_no_utilization_interval, every_call_failed, json_has_the_brief_keys,
             plots_are_valid_pngs, missing_gnuplot_still_writes_tables, compare_usage_errors,
             check_cli, check_fails_on_a_worse_run, paired_bootstrap_known_answer,
             censored_mean_counts_failures_at_their_timeout, pairing_detection_and_window)

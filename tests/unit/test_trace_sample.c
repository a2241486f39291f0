/* test_trace_sample.c - `trace sample` on raw Azure 2019 datasets the tests write themselves (plain
 * and gzip, well formed and broken), the Wasserstein distance, the benchmark mapping, mapping.csv
 * applied to a trace, and the Azure 2021 per-invocation reader. */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "hb_test.h"
#include "hb_types.h"
#include "seed.h"
#include "trace.h"
#include "trace_sample.h"

/* ---- a dataset writer: F functions x M minutes, function i called (i % 7) times a minute ---- */

typedef struct ds_opts {
    int functions, minutes;
    int gz;
    const char *brk;                   /* NULL or the kind of damage */
} ds_opts;

static void put(void *f, int gz, const char *s)
{
    if (gz)
        gzputs(f, s);
    else
        fputs(s, f);
}

static void *openw(const char *dir, const char *stem, int gz)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s.d01.csv%s", dir, stem, gz ? ".gz" : "");
    void *f = gz ? (void *)gzopen(p, "wb") : (void *)fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    return f;
}

static void closew(void *f, int gz)
{
    if (gz)
        gzclose(f);
    else
        fclose(f);
}

static char *make_dataset(const ds_opts *o)
{
    char *dir = strdup("/tmp/hb-sample-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    void *inv = openw(dir, "invocations_per_function_md.anon", o->gz);
    void *dur = openw(dir, "function_durations_percentiles.anon", o->gz);
    void *mem = openw(dir, "app_memory_percentiles.anon", o->gz);
    char b[256];
    put(inv, o->gz, "HashOwner,HashApp,HashFunction,Trigger");
    for (int m = 1; m <= o->minutes; m++) {
        snprintf(b, sizeof b, ",%d", m);
        put(inv, o->gz, b);
    }
    put(inv, o->gz, "\n");
    put(dur, o->gz, "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,"
                    "percentile_Average_0,percentile_Average_1,percentile_Average_25,"
                    "percentile_Average_50,percentile_Average_75,percentile_Average_99,"
                    "percentile_Average_100\n");
    put(mem, o->gz, "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,"
                    "AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,"
                    "AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,"
                    "AverageAllocatedMb_pct100\n");
    for (int i = 0; i < o->functions; i++) {
        int app = i / 2;               /* two functions per app */
        snprintf(b, sizeof b, "o%d,a%d,f%d,http", app, app, i);
        put(inv, o->gz, b);
        for (int m = 0; m < o->minutes; m++) {
            const char *cell = (o->brk && !strcmp(o->brk, "bad-count") && i == 1 && m == 1) ? "x1" : NULL;
            if (o->brk && !strcmp(o->brk, "short-row") && i == 2 && m == o->minutes - 1)
                break;
            if (cell)
                snprintf(b, sizeof b, ",%s", cell);
            else
                snprintf(b, sizeof b, ",%d", i % 7);
            put(inv, o->gz, b);
        }
        put(inv, o->gz, "\n");
        double avg = 10.0 * (i + 1);
        if (o->brk && !strcmp(o->brk, "bad-duration") && i == 3)
            snprintf(b, sizeof b, "o%d,a%d,f%d,abc,1,1,1,1,1,1,1,1,1,1\n", app, app, i);
        else
            snprintf(b, sizeof b, "o%d,a%d,f%d,%.1f,%d,1,2,1,1,1,1,1,1,1\n", app, app, i, avg,
                     o->minutes * (i % 7));
        put(dur, o->gz, b);
        if (i % 2 == 0) {
            snprintf(b, sizeof b, "o%d,a%d,100,%d,1,1,1,1,1,1,1,1\n", app, app, 100 + 50 * app);
            put(mem, o->gz, b);
        }
    }
    closew(inv, o->gz);
    closew(dur, o->gz);
    closew(mem, o->gz);
    return dir;
}

static hb_sample_opts opts(const char *dir, const char *out, int n, int representative)
{
    hb_sample_opts o = {.dir = dir, .out = out, .functions = n, .day = 1, .start_minute = 1,
                        .representative = representative, .seed = 7,
                        .max_per_minute = UINT32_MAX, .trials = 8, .swaps = 2000};
    for (int b = 0; b < HB_NWORKLOADS; b++) {
        o.ref_ms[b] = 10.0 * (b + 1) * (b + 1);
        o.ref_mem_mb[b] = 128.0 * (b + 1);
    }
    return o;
}

static char *slurp(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strdup(buf);
}

static void rm_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- Wasserstein ---- */

/* W1 by integrating |F_s - F_p| over x on the merged support: an independent formula */
static double w1_cdf(const double *s, size_t n, const double *p, size_t m)
{
    double all[256];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        all[k++] = s[i];
    for (size_t i = 0; i < m; i++)
        all[k++] = p[i];
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && all[j - 1] > all[j]; j--) {
            double t = all[j];
            all[j] = all[j - 1];
            all[j - 1] = t;
        }
    double w = 0;
    for (size_t i = 0; i + 1 < k; i++) {
        double x = all[i], fs = 0, fp = 0;
        for (size_t j = 0; j < n; j++)
            fs += s[j] <= x;
        for (size_t j = 0; j < m; j++)
            fp += p[j] <= x;
        w += fabs(fs / n - fp / m) * (all[i + 1] - x);
    }
    return w;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

START_TEST(wasserstein_matches_the_cdf_formula)
{
    double pop[] = {0, 1, 2, 3}, pre[5] = {0, 0, 1, 3, 6};
    double s1[] = {0, 3};
    ck_assert_double_eq_tol(hb_wasserstein1(s1, 2, pop, pre, 4), 0.5, 1e-12);
    ck_assert_double_eq_tol(hb_wasserstein1(pop, 4, pop, pre, 4), 0.0, 1e-12);
    double half[] = {1.5};
    ck_assert_double_eq_tol(hb_wasserstein1(half, 1, pop, pre, 4), 1.0, 1e-12);
    gsl_rng *r = hb_rng_new(3, "test");
    for (int trial = 0; trial < 50; trial++) {
        size_t n = 1 + gsl_rng_uniform_int(r, 20), m = 1 + gsl_rng_uniform_int(r, 100);
        double s[32], p[128], pf[129];
        for (size_t i = 0; i < n; i++)
            s[i] = gsl_rng_uniform(r) * 5;
        for (size_t i = 0; i < m; i++)
            p[i] = gsl_rng_uniform(r) * 4 + 0.5;
        qsort(s, n, sizeof *s, cmpd);
        qsort(p, m, sizeof *p, cmpd);
        pf[0] = 0;
        for (size_t i = 0; i < m; i++)
            pf[i + 1] = pf[i] + p[i];
        ck_assert_double_eq_tol(hb_wasserstein1(s, n, p, pf, m), w1_cdf(s, n, p, m), 1e-9);
    }
    gsl_rng_free(r);
}
END_TEST

START_TEST(mapping_uses_duration_and_memory)
{
    double ms[HB_NWORKLOADS], mem[HB_NWORKLOADS];
    for (int b = 0; b < HB_NWORKLOADS; b++) {
        ms[b] = 1000;                  /* every duration equal: memory decides */
        mem[b] = 128.0 * (b + 1);
    }
    ck_assert_int_eq(hb_sample_map_bench(1000, 130, ms, mem), 0);
    ck_assert_int_eq(hb_sample_map_bench(1000, 1280, ms, mem), 9);
    ck_assert_int_eq(hb_sample_map_bench(1000, -1, ms, mem), 0);   /* no memory: first nearest */
    ms[4] = 50;
    ck_assert_int_eq(hb_sample_map_bench(55, 300, ms, mem), 4);    /* duration dominates */
}
END_TEST

/* ---- sampling ---- */

START_TEST(artifact_sample_is_seeded_and_filters)
{
    ds_opts d = {.functions = 30, .minutes = 20};
    char *dir = make_dataset(&d);
    char out1[600], out2[600];
    snprintf(out1, sizeof out1, "%s/out1", dir);
    snprintf(out2, sizeof out2, "%s/out2", dir);
    hb_sample_opts o = opts(dir, out1, 5, 0);
    hb_sample_result r;
    hb_error e;
    ck_assert_msg(hb_trace_sample(&o, &r, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(r.rows, 30);
    ck_assert_uint_eq(r.no_calls, 5);          /* f0, f7, f14, f21, f28: i % 7 == 0 */
    ck_assert_uint_eq(r.population, 25);
    ck_assert_uint_eq(r.chosen, 5);
    o.out = out2;
    hb_sample_result r2;
    ck_assert_msg(hb_trace_sample(&o, &r2, &e) == 0, "%s", e.msg);
    char *a = slurp(out1, "sample_invocation_traces_0.csv"), *b = slurp(out2, "sample_invocation_traces_0.csv");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a, b);                    /* same seed, same sample */
    ck_assert(strncmp(a, "HashFunction,Trigger,1,2,", 25) == 0);
    int lines = 0;
    for (char *p = a; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 6);
    free(a);
    free(b);
    /* the trace written reads back as an artifact trace with the mapping applied */
    char inv[700], durf[700], memf[700], map[700];
    snprintf(inv, sizeof inv, "%s/sample_invocation_traces_0.csv", out1);
    snprintf(durf, sizeof durf, "%s/sample_duration_traces_0.csv", out1);
    snprintf(memf, sizeof memf, "%s/sample_memory_traces_0.csv", out1);
    snprintf(map, sizeof map, "%s/mapping.csv", out1);
    hb_trace_spec s = {.format = "artifact", .invocations = inv, .durations = durf, .memory = memf,
                       .start_minute = 1, .scale = 1, .functions = 10, .max_per_minute = 1 << 30,
                       .mapping = "file"};
    hb_trace *t;
    ck_assert_msg(hb_trace_load(&s, &t, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(t->n_funcs, 5);
    ck_assert_msg(hb_trace_mapping_apply(t, map, &e) == 0, "%s", e.msg);
    for (size_t i = 0; i < t->n_funcs; i++) {
        int k = atoi(t->funcs[i].name + 1);
        ck_assert_double_eq(t->funcs[i].dur_avg_ms, 10.0 * (k + 1));
        ck_assert_double_eq(t->funcs[i].mem_avg_mb, 100 + 50 * (k / 2));
        int want = hb_sample_map_bench(10.0 * (k + 1), (100 + 50 * (k / 2)) / 2.0, o.ref_ms,
                                       o.ref_mem_mb);
        ck_assert_int_eq(t->funcs[i].bench, want);
        ck_assert_uint_eq(t->funcs[i].total, 20u * (unsigned)(k % 7));
    }
    hb_trace_free(t);
    rm_tree(dir);
    free(dir);
}
END_TEST

START_TEST(gzip_reads_like_plain)
{
    ds_opts d = {.functions = 12, .minutes = 10};
    char *plain = make_dataset(&d);
    d.gz = 1;
    char *gz = make_dataset(&d);
    char o1[600], o2[600];
    snprintf(o1, sizeof o1, "%s/out", plain);
    snprintf(o2, sizeof o2, "%s/out", gz);
    hb_sample_opts a = opts(plain, o1, 4, 1), b = opts(gz, o2, 4, 1);
    hb_sample_result ra, rb;
    hb_error e;
    ck_assert_msg(hb_trace_sample(&a, &ra, &e) == 0, "%s", e.msg);
    ck_assert_msg(hb_trace_sample(&b, &rb, &e) == 0, "%s", e.msg);
    ck_assert_double_eq(ra.wd, rb.wd);
    char *x = slurp(o1, "mapping.csv"), *y = slurp(o2, "mapping.csv");
    ck_assert_str_eq(x, y);
    free(x);
    free(y);
    rm_tree(plain);
    rm_tree(gz);
    free(plain);
    free(gz);
}
END_TEST

START_TEST(representative_beats_random)
{
    ds_opts d = {.functions = 200, .minutes = 5};
    char *dir = make_dataset(&d);
    char out[600];
    snprintf(out, sizeof out, "%s/out", dir);
    hb_sample_opts o = opts(dir, out, 10, 0);
    hb_sample_result art, rep;
    hb_error e;
    ck_assert_msg(hb_trace_sample(&o, &art, &e) == 0, "%s", e.msg);
    o.representative = 1;
    ck_assert_msg(hb_trace_sample(&o, &rep, &e) == 0, "%s", e.msg);
    ck_assert(rep.wd <= art.wd);               /* the artifact's pick is where the search starts */
    ck_assert(rep.wd < 0.5 * rep.wd_random);
    ck_assert_double_eq_tol(rep.wd, (rep.wd_rate + rep.wd_duration) / 2, 1e-12);
    char *sum = slurp(out, "sample_summary.csv");
    ck_assert_ptr_nonnull(strstr(sum, "method,representative\n"));
    ck_assert_ptr_nonnull(strstr(sum, "wasserstein_mean,"));
    free(sum);
    rm_tree(dir);
    free(dir);
}
END_TEST

static void expect_error(const char *brk, const char *what)
{
    ds_opts d = {.functions = 8, .minutes = 6, .brk = brk};
    char *dir = make_dataset(&d);
    char out[600];
    snprintf(out, sizeof out, "%s/out", dir);
    hb_sample_opts o = opts(dir, out, 2, 0);
    hb_sample_result r;
    hb_error e;
    hb_error_clear(&e);
    ck_assert_int_eq(hb_trace_sample(&o, &r, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, what) != NULL, "%s: '%s' has no '%s'", brk, e.msg, what);
    ck_assert_int_ne(access(out, F_OK), 0);    /* nothing written */
    rm_tree(dir);
    free(dir);
}

START_TEST(malformed_datasets_name_file_line_field)
{
    expect_error("bad-count", "invocations_per_function_md.anon.d01.csv:3: minute 2: 'x1'");
    expect_error("short-row", "invocations_per_function_md.anon.d01.csv:4: 9 fields where the header has 10");
    expect_error("bad-duration", "function_durations_percentiles.anon.d01.csv:5: Average");
}
END_TEST

START_TEST(too_few_functions_and_missing_files_are_errors)
{
    ds_opts d = {.functions = 8, .minutes = 6};
    char *dir = make_dataset(&d);
    char out[600];
    snprintf(out, sizeof out, "%s/out", dir);
    hb_sample_opts o = opts(dir, out, 8, 0);  /* f0 and f7 have no calls: 6 eligible */
    hb_sample_result r;
    hb_error e;
    ck_assert_int_eq(hb_trace_sample(&o, &r, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "6 functions are eligible but --functions 8") != NULL, "%s", e.msg);
    o.functions = 2;
    o.day = 2;
    ck_assert_int_eq(hb_trace_sample(&o, &r, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "invocations_per_function_md.anon.d02.csv: no such file") != NULL,
                  "%s", e.msg);
    rm_tree(dir);
    free(dir);
}
END_TEST

START_TEST(mapping_file_errors)
{
    char dir[] = "/tmp/hb-map-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char p[600];
    snprintf(p, sizeof p, "%s/mapping.csv", dir);
    FILE *f = fopen(p, "w");
    fputs("trace_function,bench\nf1,dh\nf2,zz\n", f);
    fclose(f);
    hb_trace_func funcs[2] = {{.name = "f1"}, {.name = "f3"}};
    hb_trace t = {.n_funcs = 2, .funcs = funcs};
    hb_error e;
    ck_assert_int_eq(hb_trace_mapping_apply(&t, p, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "mapping.csv:3: bench: 'zz'") != NULL, "%s", e.msg);
    f = fopen(p, "w");
    fputs("trace_function,bench\nf1,knn\n", f);
    fclose(f);
    ck_assert_int_eq(hb_trace_mapping_apply(&t, p, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "'f3'") != NULL, "%s", e.msg);
    ck_assert_int_eq(funcs[0].bench, hb_function_find("knn"));
    rm_tree(dir);
}
END_TEST

/* ---- Azure 2021 ---- */

static char *write_2021(const char *text)
{
    char *dir = strdup("/tmp/hb-2021-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char p[600];
    snprintf(p, sizeof p, "%s/trace.csv", dir);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return dir;
}

static hb_trace_spec spec2021(const char *path)
{
    return (hb_trace_spec){.format = "azure2021", .invocations = path, .start_minute = 1,
                           .scale = 1, .functions = 10, .max_per_minute = 1 << 30,
                           .mapping = "order"};
}

START_TEST(azure2021_calls_at_their_real_times)
{
    char *dir = write_2021("app,func,end_timestamp,duration\n"
                           "a1,f1,1.5,0.5\n"
                           "a1,f1,30.25,0.25\n"
                           "a2,f2,70.0,2.0\n"
                           "a1,f1,65.0,1.0\n"
                           "a1,f2,125.5,0.5\n");  /* same func name, other app: a function of its own */
    char p[600];
    snprintf(p, sizeof p, "%s/trace.csv", dir);
    hb_trace_spec s = spec2021(p);
    hb_trace *t;
    hb_error e;
    ck_assert_msg(hb_trace_load(&s, &t, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(t->n_funcs, 3);
    ck_assert_uint_eq(t->n_minutes, 3);
    ck_assert_uint_eq(t->total, 5);
    ck_assert_str_eq(t->funcs[0].app, "a1");
    ck_assert_str_eq(t->funcs[1].app, "a2");
    ck_assert_uint_eq(hb_trace_count(t, 0, 0), 2);
    ck_assert_uint_eq(hb_trace_count(t, 0, 1), 1);
    ck_assert_uint_eq(hb_trace_count(t, 1, 1), 1);
    ck_assert_uint_eq(hb_trace_count(t, 2, 2), 1);
    ck_assert_double_eq_tol(t->funcs[0].dur_avg_ms, (500 + 250 + 1000) / 3.0, 1e-3);
    /* event order: minute 0: f1 at 1 s, 30 s; minute 1: f1 at 64 s, f2 at 68 s; minute 2: 125 s */
    hb_time want[] = {1 * HB_SEC, 30 * HB_SEC, 4 * HB_SEC, 8 * HB_SEC, 5 * HB_SEC};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(t->offsets[i], want[i]);
    hb_trace_free(t);
    s.start_minute = 2;
    s.minutes = 1;
    ck_assert_msg(hb_trace_load(&s, &t, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(t->total, 2);
    ck_assert_uint_eq(t->n_funcs, 2);
    ck_assert_int_eq(t->offsets[0], 4 * HB_SEC);
    hb_trace_free(t);
    rm_tree(dir);
    free(dir);
}
END_TEST

START_TEST(azure2021_bad_rows_are_errors)
{
    static const struct { const char *text, *what; } cases[] = {
        {"app,func,end_timestamp,duration\na1,f1,1.5,0.5\na1,f1,2.5,-1\n", "trace.csv:3: duration"},
        {"app,func,end_timestamp,duration\na1,f1,abc,0.5\n", "trace.csv:2: end_timestamp"},
        {"app,func,end_timestamp,duration\na1,f1,1.5\n", "trace.csv:2: 3 fields where the header has 4"},
        {"app,func,end,duration\na1,f1,1.5,0.5\n", "trace.csv:1: header"},
        {"app,func,end_timestamp,duration\n,f1,1.5,0.5\n", "trace.csv:2: app: empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = write_2021(cases[i].text);
        char p[600];
        snprintf(p, sizeof p, "%s/trace.csv", dir);
        hb_trace_spec s = spec2021(p);
        hb_trace *t = NULL;
        hb_error e;
        ck_assert_int_eq(hb_trace_load(&s, &t, &e), HB_EINPUT);
        ck_assert_msg(strstr(e.msg, cases[i].what) != NULL, "'%s' has no '%s'", e.msg, cases[i].what);
        ck_assert_ptr_null(t);
        rm_tree(dir);
        free(dir);
    }
}
END_TEST

HB_TEST_MAIN("trace_sample", wasserstein_matches_the_cdf_formula, mapping_uses_duration_and_memory,
             artifact_sample_is_seeded_and_filters, gzip_reads_like_plain, representative_beats_random,
             malformed_datasets_name_file_line_field, too_few_functions_and_missing_files_are_errors,
             mapping_file_errors, azure2021_calls_at_their_real_times, azure2021_bad_rows_are_errors)

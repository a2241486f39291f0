/* test_trace.c - trace readers: the artifact samples, the Azure 2019 schema, and bad files. */
#include <stdio.h>
#include <string.h>

#include "hb_test.h"
#include "hb_types.h"
#include "seed.h"
#include "trace.h"

#define DEMO "data/traces/libra-demo/demo_1_"
#define FREYR "data/traces/freyr-60min/exp_openwhisk_"
#define FIX "tests/fixtures/traces/"

static hb_trace_spec artifact_spec(const char *inv, const char *sizes)
{
    return (hb_trace_spec){.format = "artifact", .invocations = inv, .input_sizes = sizes,
                           .start_minute = 1, .scale = 1, .functions = 10,
                           .max_per_minute = 1 << 30, .mapping = "order"};
}

START_TEST(libra_demo_is_ten_calls_at_minute_one)
{
    hb_trace_spec s = artifact_spec(DEMO "invocation_traces_0.csv", DEMO "input_size_traces_0.csv");
    s.durations = DEMO "duration_traces_0.csv";
    s.memory = DEMO "memory_traces_0.csv";
    hb_trace *t;
    hb_error e;
    ck_assert_msg(hb_trace_load(&s, &t, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(t->n_funcs, 10);
    ck_assert_uint_eq(t->n_minutes, 1);
    ck_assert_uint_eq(t->total, 10);
    ck_assert_uint_eq(t->n_sizes, 10);
    static const long long sizes[] = {1000, 20000, 100, 1, 100, 50, 100000, 100000, 10, 500};
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(t->funcs[i].bench, i);             /* ids map to themselves */
        ck_assert_int_eq(t->sizes[i], sizes[i]);
    }
    ck_assert_str_eq(t->funcs[2].trigger, "event");
    ck_assert_double_eq(t->funcs[3].dur_avg_ms, 4893);      /* vp's Average */
    ck_assert_double_eq(t->funcs[5].mem_avg_mb, 282);       /* knn's AverageAllocatedMb */
    hb_trace_free(t);
}
END_TEST

START_TEST(freyr_trace_has_268_calls_over_60_minutes)
{
    hb_trace_spec s = artifact_spec(FREYR "invocation_traces_0.csv", NULL);
    hb_trace *t;
    hb_error e;
    ck_assert_msg(hb_trace_load(&s, &t, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(t->n_funcs, 10);
    ck_assert_uint_eq(t->n_minutes, 60);
    ck_assert_uint_eq(t->total, 268);
    ck_assert_uint_eq(hb_trace_count(t, 0, 0), 1);          /* dh: 1,0,1,0,... */
    ck_assert_uint_eq(hb_trace_count(t, 0, 1), 0);
    ck_assert_uint_eq(t->funcs[0].total, 30);
    hb_trace_free(t);

    s.start_minute = 3;                                      /* a window: minutes 3..12 */
    s.minutes = 10;
    ck_assert_int_eq(hb_trace_load(&s, &t, &e), 0);
    ck_assert_uint_eq(t->n_minutes, 10);
    ck_assert_uint_eq(t->funcs[0].total, 5);
    hb_trace_free(t);
}
END_TEST

START_TEST(window_keeps_the_matching_input_sizes)
{
    /* the demo has one minute, so windows are checked on a scaled copy of its sizes instead */
    hb_trace_spec s = artifact_spec(DEMO "invocation_traces_0.csv", DEMO "input_size_traces_0.csv");
    s.scale = 2;
    hb_trace *t;
    hb_error e;
    ck_assert_int_eq(hb_trace_load(&s, &t, &e), HB_EINPUT);  /* sizes no longer line up */
    ck_assert_msg(strstr(e.msg, "scale") != NULL, "%s", e.msg);
    s.input_sizes = FIX "sizes_short.csv";
    s.scale = 1;
    ck_assert_int_eq(hb_trace_load(&s, &t, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "3 input sizes") && strstr(e.msg, "10 invocations"), "%s", e.msg);
}
END_TEST

START_TEST(scale_keeps_totals_without_random_draws)
{
    hb_trace_spec s = artifact_spec(FREYR "invocation_traces_0.csv", NULL);
    hb_trace *full, *t;
    hb_error e;
    ck_assert_int_eq(hb_trace_load(&s, &full, &e), 0);
    s.scale = 0.5;
    ck_assert_int_eq(hb_trace_load(&s, &t, &e), 0);
    ck_assert_uint_eq(t->funcs[0].total, 15);               /* 30 x 0.5 */
    for (size_t f = 0; f < t->n_funcs; f++)                  /* remainders carried per function */
        ck_assert_uint_eq(t->funcs[f].total, full->funcs[f].total / 2);
    for (size_t f = 0; f < t->n_funcs; f++)                  /* never more than the original */
        for (size_t m = 0; m < t->n_minutes; m++)
            ck_assert_uint_le(hb_trace_count(t, f, m), hb_trace_count(full, f, m));
    hb_trace_free(t);
    hb_trace_free(full);

    /* a scaled count past the trace's 32-bit counts is an error, not a wrapped count (a
     * float-to-integer overflow seen writing tests/fuzz/fuzz_trace_artifact, confirmed by it) */
    char path[] = "/tmp/hb-test-scale-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("HashFunction,Trigger,1,2\ndh,timer,4294967295,1\n", f);
    fclose(f);
    s = artifact_spec(path, NULL);
    s.scale = 2;
    int rc = hb_trace_load(&s, &t, &e);
    remove(path);
    ck_assert_int_eq(rc, HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "minute 1 of function 'dh' would hold 8589934590 invocations"), "%s",
                  e.msg);
}
END_TEST

static void expect_error(const char *path, const char *where, const char *what)
{
    hb_trace_spec s = artifact_spec(path, NULL);
    hb_trace *t = NULL;
    hb_error e;
    hb_error_clear(&e);
    ck_assert_int_eq(hb_trace_load(&s, &t, &e), HB_EINPUT);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(e.msg, where) && strstr(e.msg, what), "'%s' lacks '%s' / '%s'", e.msg,
                  where, what);
}

START_TEST(malformed_traces_name_file_and_line)
{
    expect_error(FIX "truncated_invocations.csv", "truncated_invocations.csv:5:", "truncated");
    expect_error(FIX "garbled_invocations.csv", "garbled_invocations.csv:7: minute 1:",
                 "'x1' is not a count");
    expect_error(FIX "badquote_invocations.csv", "badquote_invocations.csv:", "malformed CSV");
    expect_error(FIX "sizes_short.csv", "sizes_short.csv:1: header:", "not an invocation trace");
    expect_error(FIX "azure_invocations.csv", "azure_invocations.csv:1: header:",
                 "azure2019 trace but [trace] format = artifact");
    expect_error(FIX "does_not_exist.csv", "does_not_exist.csv", "cannot open");
}
END_TEST

START_TEST(azure2019_is_filtered_sampled_and_mapped)
{
    double ref[HB_NWORKLOADS];
    for (int i = 0; i < HB_NWORKLOADS; i++)
        ref[i] = 1000.0 * (i + 1);                           /* dh 1 s, eg 2 s, ..., dv 10 s */
    gsl_rng *r = hb_rng_new(7, "trace-sample");
    hb_trace_spec s = {.format = "azure2019", .invocations = FIX "azure_invocations.csv",
                       .durations = FIX "azure_durations.csv", .memory = FIX "azure_memory.csv",
                       .start_minute = 1, .scale = 1, .functions = 10, .min_per_minute = 0,
                       .max_per_minute = 8, .mapping = "duration", .ref_duration_ms = ref, .rng = r};
    hb_trace *t;
    hb_error e;
    ck_assert_msg(hb_trace_load(&s, &t, &e) == 0, "%s", e.msg);
    /* f3 is never called, f4 has a minute over 8, the second f1 is a duplicate */
    ck_assert_uint_eq(t->n_funcs, 3);
    ck_assert_str_eq(t->funcs[0].name, "f1");
    ck_assert_str_eq(t->funcs[1].name, "f2");
    ck_assert_str_eq(t->funcs[2].name, "f5");
    ck_assert_uint_eq(t->total, 7 + 5 + 10);
    ck_assert_double_eq(t->funcs[2].mem_avg_mb, 300);      /* joined on HashApp */
    ck_assert_int_eq(t->funcs[0].bench, 0);                 /* 120 ms: nearest is dh's 1 s */
    ck_assert_int_eq(t->funcs[1].bench, 9);                 /* 30 s: nearest is dv's 10 s */
    ck_assert_int_eq(t->funcs[2].bench, 1);                 /* 2 s: eg */
    hb_trace_free(t);

    s.functions = 2;                                         /* sample 2 of the 3, in order */
    s.mapping = "order";
    ck_assert_int_eq(hb_trace_load(&s, &t, &e), 0);
    ck_assert_uint_eq(t->n_funcs, 2);
    ck_assert_int_eq(t->funcs[0].bench, 0);
    ck_assert_int_eq(t->funcs[1].bench, 1);
    char first[2][72];
    strcpy(first[0], t->funcs[0].name);
    strcpy(first[1], t->funcs[1].name);
    hb_trace_free(t);
    gsl_rng_set(r, (unsigned long)(hb_seed_derive(7, "trace-sample") & 0xffffffffUL));
    ck_assert_int_eq(hb_trace_load(&s, &t, &e), 0);          /* same seed, same sample */
    ck_assert_str_eq(t->funcs[0].name, first[0]);
    ck_assert_str_eq(t->funcs[1].name, first[1]);
    hb_trace_free(t);
    gsl_rng_free(r);
}
END_TEST

START_TEST(info_describes_each_kind_of_file)
{
    char buf[8192];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    hb_error e;
    ck_assert_int_eq(hb_trace_info(FREYR "invocation_traces_0.csv", f, &e), 0);
    ck_assert_int_eq(hb_trace_info(DEMO "input_size_traces_0.csv", f, &e), 0);
    ck_assert_int_eq(hb_trace_info(DEMO "duration_traces_0.csv", f, &e), 0);
    fclose(f);
    ck_assert_msg(strstr(buf, "functions   10") && strstr(buf, "minutes     60") &&
                  strstr(buf, "invocations 268") && strstr(buf, "4.467 invocations/minute"), "%s", buf);
    ck_assert_msg(strstr(buf, "events      10") && strstr(buf, "max 100000"), "%s", buf);
    ck_assert_msg(strstr(buf, "4893.0"), "%s", buf);
    f = fmemopen(buf, sizeof buf, "w");
    ck_assert_int_eq(hb_trace_info(FIX "garbled_invocations.csv", f, &e), HB_EINPUT);
    fclose(f);
    ck_assert_msg(strstr(e.msg, "garbled_invocations.csv:7"), "%s", e.msg);
}
END_TEST

/* Writes text to a new temporary file named *.csv; path receives its name. */
static void temp_csv(char *path, size_t len, const char *text)
{
    snprintf(path, len, "/tmp/hb-test-trace-XXXXXX.csv");
    int fd = mkstemps(path, 4);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
}

/* issue 17, 8: a third line in an input-size file is an error; the sizes read before it must be
 * freed (the SAN=1 build's leak checker fails this test otherwise). */
START_TEST(sizes_error_after_the_sizes_frees_them)
{
    char path[64], buf[512];
    temp_csv(path, sizeof path, "1,2\n5,6\n7\n");
    FILE *f = fmemopen(buf, sizeof buf, "w");
    hb_error e;
    ck_assert_int_eq(hb_trace_info(path, f, &e), HB_EINPUT);
    fclose(f);
    ck_assert_msg(strstr(e.msg, ":3:") && strstr(e.msg, "unexpected third line"), "%s", e.msg);
    hb_trace_spec spec = artifact_spec(DEMO "invocation_traces_0.csv", path);
    hb_trace *t = NULL;
    ck_assert_int_eq(hb_trace_load(&spec, &t, &e), HB_EINPUT);
    ck_assert_ptr_null(t);
    remove(path);
}
END_TEST

static void expect_stat_error(const char *text, const char *what)
{
    char path[64], buf[1024];
    temp_csv(path, sizeof path, text);
    FILE *f = fmemopen(buf, sizeof buf, "w");
    hb_error e;
    ck_assert_int_eq(hb_trace_info(path, f, &e), HB_EINPUT);
    fclose(f);
    ck_assert_msg(strstr(e.msg, path) && strstr(e.msg, what), "info: '%s' lacks '%s'", e.msg, what);
    hb_trace_spec spec = artifact_spec(DEMO "invocation_traces_0.csv", DEMO "input_size_traces_0.csv");
    spec.durations = path;
    hb_trace *t = NULL;
    ck_assert_int_eq(hb_trace_load(&spec, &t, &e), HB_EINPUT);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(e.msg, path) && strstr(e.msg, what), "load: '%s' lacks '%s'", e.msg, what);
    remove(path);
}

/* issue 17, 7: docs/traces.md promises that statistics files reject short or long lines,
 * duplicate rows and negative values, and that messages do not echo control bytes. */
START_TEST(statistics_files_are_checked_row_by_row)
{
    expect_stat_error("HashFunction,Average,Count\ndh,5,287\neg,1046\n",
                      ":3: 2 fields where the header has 3");
    expect_stat_error("HashFunction,Average,Count\ndh,5,287\neg,1046,1,2\n",
                      ":3: 4 fields where the header has 3");
    expect_stat_error("HashFunction,Average,Count\ndh,5,287\neg,7,1\ndh,6,287\n",
                      ":4: a duplicate row: 'dh' is already on line 2");
    expect_stat_error("HashFunction,Average,Count\ndh,5,287\nzz,-3,1\n", ":3: Average: negative");
    expect_stat_error("HashFunction,Average,Count\ndh,5,287\nzz,1\x1b[2J,1\n",
                      ":3: Average: '1\\x1b[2J' is not a number");
}
END_TEST

START_TEST(synthetic_trace_reaches_the_count)
{
    hb_trace *t;
    hb_error e;
    ck_assert_int_eq(hb_trace_synthetic(1001, 10, 10, &t, &e), 0);
    ck_assert_uint_eq(t->n_minutes, 11);
    ck_assert_uint_eq(t->total, 1100);
    ck_assert_int_eq(t->funcs[3].bench, 3);
    hb_trace_free(t);
}
END_TEST

HB_TEST_MAIN("trace", libra_demo_is_ten_calls_at_minute_one, freyr_trace_has_268_calls_over_60_minutes,
             window_keeps_the_matching_input_sizes, scale_keeps_totals_without_random_draws,
             malformed_traces_name_file_and_line, azure2019_is_filtered_sampled_and_mapped,
             info_describes_each_kind_of_file, sizes_error_after_the_sizes_frees_them,
             statistics_files_are_checked_row_by_row, synthetic_trace_reaches_the_count)

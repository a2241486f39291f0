/* test_io.c - the CSV reader (quoting, line numbers, typed fields), seeds and activation ids, and
 * the run writer (index order, atomic files, partial files kept on abort). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv_reader.h"
#include "files.h"
#include "hb_test.h"
#include "results.h"
#include "seed.h"

START_TEST(csv_rows_know_their_lines)
{
    const char *text = "a,b,c\n\n1,\"x,y\",3\n\"multi\nline\",5,6\n  7 , 8.5 ,-inf\n";
    hb_csv *c;
    hb_error e;
    ck_assert_int_eq(hb_csv_open_mem(text, strlen(text), "t.csv", &c, &e), 0);
    ck_assert_int_eq(hb_csv_next(c, &e), 1);
    ck_assert_int_eq(hb_csv_take_header(c, &e), 0);
    ck_assert_int_eq(hb_csv_col(c, "b"), 1);
    ck_assert_int_eq(hb_csv_col(c, "z"), -1);
    ck_assert_int_eq(hb_csv_next(c, &e), 1);                 /* the blank line is skipped */
    ck_assert_int_eq(hb_csv_line(c), 3);
    ck_assert_str_eq(hb_csv_field(c, 1), "x,y");
    ck_assert_int_eq(hb_csv_next(c, &e), 1);
    ck_assert_int_eq(hb_csv_line(c), 5);                     /* ends on the line it closes */
    ck_assert_str_eq(hb_csv_field(c, 0), "multi\nline");
    ck_assert_int_eq(hb_csv_next(c, &e), 1);
    int64_t i;
    double d;
    ck_assert_int_eq(hb_csv_int64(c, 0, NULL, &i, &e), 0);
    ck_assert_int_eq(i, 7);
    ck_assert_int_eq(hb_csv_double(c, 1, NULL, &d, &e), 0);
    ck_assert_double_eq(d, 8.5);
    ck_assert_int_eq(hb_csv_double(c, 2, NULL, &d, &e), 0);
    ck_assert(isinf(d) && d < 0);
    ck_assert_int_eq(hb_csv_int64(c, 1, NULL, &i, &e), HB_EINPUT);
    ck_assert_str_eq(e.msg, "t.csv:6: b: '8.5' is not an integer");
    ck_assert_int_eq(hb_csv_double(c, 7, "extra", &d, &e), HB_EINPUT);
    ck_assert_str_eq(e.msg, "t.csv:6: extra: missing field (the row has 3)");
    ck_assert_int_eq(hb_csv_next(c, &e), 0);
    hb_csv_close(c);
    /* a broken quote and a NUL byte */
    ck_assert_int_eq(hb_csv_open_mem("a\n\"x\"y\n", 7, "q.csv", &c, &e), 0);
    ck_assert_int_eq(hb_csv_next(c, &e), 1);
    ck_assert_int_eq(hb_csv_next(c, &e), -HB_EINPUT);
    ck_assert(strncmp(e.msg, "q.csv:2: malformed CSV", 22) == 0);
    hb_csv_close(c);
    ck_assert_int_eq(hb_csv_open_mem("a\nb\0c\n", 6, "n.csv", &c, &e), 0);
    ck_assert_int_eq(hb_csv_next(c, &e), 1);
    ck_assert_int_eq(hb_csv_next(c, &e), -HB_EINPUT);
    ck_assert(strstr(e.msg, "n.csv:2:") && strstr(e.msg, "NUL"));
    hb_csv_close(c);
    /* the same from a file (read through zlib): the NUL is found, not cut off with the line's end */
    char path[] = "/tmp/hb-test-io.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "a\n5,6,\0\0\0007\n", 10), 10);
    close(fd);
    ck_assert_int_eq(hb_csv_open(path, &c, &e), 0);
    ck_assert_int_eq(hb_csv_next(c, &e), 1);
    ck_assert_int_eq(hb_csv_next(c, &e), -HB_EINPUT);
    ck_assert(strstr(e.msg, ":2:") && strstr(e.msg, "NUL"));
    hb_csv_close(c);
    unlink(path);
}
END_TEST

START_TEST(streams_and_ids_are_reproducible_and_distinct)
{
    ck_assert(hb_seed_derive(1, "arrivals") == hb_seed_derive(1, "arrivals"));
    ck_assert(hb_seed_derive(1, "arrivals") != hb_seed_derive(1, "sizes"));
    ck_assert(hb_seed_derive(1, "arrivals") != hb_seed_derive(2, "arrivals"));
    char a[33], b[33], c[33];
    uint64_t key = hb_seed_derive(1, "activation");
    hb_activation_id(key, 5, a);
    hb_activation_id(key, 5, b);
    hb_activation_id(key, 6, c);
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
    ck_assert_uint_eq(strlen(a), 32);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
    /* the index draws are uniform: mean 1/2, never 0 or 1 */
    double sum = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        double u = hb_index_uniform(key, i);
        ck_assert(u > 0 && u < 1);
        sum += u;
    }
    ck_assert_double_eq_tol(sum / 100000, 0.5, 0.005);
}
END_TEST

static hb_invocation call(uint64_t index)
{
    hb_invocation inv;
    memset(&inv, 0, sizeof inv);
    inv.index = index;
    snprintf(inv.activation_id, sizeof inv.activation_id, "id%llu", (unsigned long long)index);
    inv.func = inv.workload = 0;
    inv.outcome = HB_SUCCESS;
    inv.arrival = (hb_time)index * HB_SEC;
    inv.start = inv.arrival + 1;
    inv.exec_start = inv.start + 1000;
    inv.end = inv.exec_start + 123456;
    inv.pred = (hb_res){-1, -1};
    inv.pred_duration_s = -1;
    inv.base_duration_ms = -1;
    inv.trace_name = "dh";
    return inv;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

START_TEST(writer_orders_rows_and_renames_at_the_end)
{
    char dir[] = "/tmp/hb-writer-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    hb_writer_spec spec = {dir, "FixedRM_0_0", NULL};
    hb_run_writer *w;
    hb_error e;
    ck_assert_int_eq(hb_writer_open(&spec, &w, &e), 0);
    static const uint64_t order[] = {2, 0, 3, 1, 4};
    for (int i = 0; i < 5; i++) {
        hb_invocation inv = call(order[i]);
        ck_assert_int_eq(hb_writer_invocation(w, &inv, NULL, &e), 0);
    }
    hb_invocation dup = call(3);
    ck_assert_int_eq(hb_writer_invocation(w, &dup, NULL, &e), HB_ERUN);   /* ended twice */
    char path[256];
    snprintf(path, sizeof path, "%s/invocations.csv", dir);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);                    /* not there until the run completes */
    cJSON *sum = cJSON_CreateObject();
    ck_assert_int_eq(hb_writer_finish(w, sum, &e), 0);
    cJSON_Delete(sum);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[2048];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert(strncmp(line, hb_invocations_header(), strlen(hb_invocations_header())) == 0);
    for (int i = 0; i < 5; i++) {
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        char want[32];
        snprintf(want, sizeof want, "%d,id%d,dh,", i, i);
        ck_assert_msg(strncmp(line, want, strlen(want)) == 0, "row %d: %s", i, line);
    }
    ck_assert_ptr_nonnull(strstr(line, ",4.000000,4.000001,4.124457,0.001,1.000,123.456,124.457,"));
    fclose(f);
    snprintf(path, sizeof path, "%s/artifact/FixedRM_0_0_trajectory.csv", dir);
    ck_assert_int_eq(count_lines(path), 6);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(an_aborted_writer_keeps_its_rows_as_tmp_files)
{
    char dir[] = "/tmp/hb-writer-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    hb_writer_spec spec = {dir, "x_0_0", NULL};
    hb_run_writer *w;
    hb_error e;
    ck_assert_int_eq(hb_writer_open(&spec, &w, &e), 0);
    hb_invocation a = call(1), b = call(3);                  /* 0 and 2 never end */
    ck_assert_int_eq(hb_writer_invocation(w, &a, NULL, &e), 0);
    ck_assert_int_eq(hb_writer_invocation(w, &b, NULL, &e), 0);
    hb_writer_abort(w);
    char path[256];
    snprintf(path, sizeof path, "%s/invocations.csv.tmp", dir);
    ck_assert_int_eq(count_lines(path), 3);                  /* header and both rows kept */
    snprintf(path, sizeof path, "%s/invocations.csv", dir);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(json_files_round_trip_and_report_their_line)
{
    char path[] = "/tmp/hb-json-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "x", 1.5);
    hb_error e;
    ck_assert_int_eq(hb_write_json(path, o, &e), 0);
    cJSON_Delete(o);
    cJSON *back;
    ck_assert_int_eq(hb_read_json(path, &back, &e), 0);
    ck_assert_double_eq(cJSON_GetObjectItem(back, "x")->valuedouble, 1.5);
    cJSON_Delete(back);
    FILE *f = fopen(path, "w");
    fputs("{\n  \"x\": 1,\n  \"y\": ]\n}\n", f);
    fclose(f);
    ck_assert_int_eq(hb_read_json(path, &back, &e), HB_EINPUT);
    char want[64];
    snprintf(want, sizeof want, "%s:3: malformed JSON", path);
    ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "%s", e.msg);
    remove(path);
    ck_assert_int_eq(hb_read_json("/nonexistent/x.json", &back, &e), HB_EINPUT);
}
END_TEST

START_TEST(extension_columns_are_appended_totalled_and_checked)
{
    static const hb_column cols[] = {{"x_idle", 1}, {"x_note", 0}, {NULL, 0}};
    hb_error e;
    ck_assert_int_eq(hb_columns_check(cols, "p", &e), 0);
    static const hb_column fixed[] = {{"outcome", 1}, {NULL, 0}}, twice[] = {{"a", 0}, {"a", 0}, {NULL, 0}},
                           upper[] = {{"Idle", 0}, {NULL, 0}}, key[] = {{"seed", 0}, {NULL, 0}};
    ck_assert_int_eq(hb_columns_check(fixed, "p", &e), HB_EINPUT);
    ck_assert_int_eq(hb_columns_check(twice, "p", &e), HB_EINPUT);
    ck_assert_int_eq(hb_columns_check(upper, "p", &e), HB_EINPUT);
    ck_assert_int_eq(hb_columns_check(key, "p", &e), HB_EINPUT);
    ck_assert_int_eq(hb_columns_check(NULL, "p", &e), 0);

    char dir[] = "/tmp/hb-writer-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    hb_writer_spec spec = {dir, "x_0_0", cols};
    hb_run_writer *w;
    ck_assert_int_eq(hb_writer_open(&spec, &w, &e), 0);
    hb_run_stats st;
    hb_stats_init(&st, 0);
    hb_stats_columns(&st, cols);
    hb_column_value v0[] = {{1.5, NULL}, {NAN, "a,b"}}, v1[] = {{NAN, NULL}, {2, NULL}};
    hb_call_ext x0 = {2, v0, {"1;-512 0;3 0;;", 0.25, 64}}, x1 = {2, v1, {NULL, 0, 0}};
    hb_invocation a = call(0), b = call(1);
    ck_assert_int_eq(hb_writer_invocation(w, &a, NULL, &e), HB_ERUN);   /* a value per column */
    ck_assert_int_eq(hb_writer_invocation(w, &a, &x0, &e), 0);
    ck_assert_int_eq(hb_writer_invocation(w, &b, &x1, &e), 0);
    ck_assert_int_eq(hb_stats_add(&st, &a, &x0), 0);
    ck_assert_int_eq(hb_stats_add(&st, &b, &x1), 0);
    ck_assert_double_eq(hb_stats_column(&st, "x_idle"), 1.5);          /* NaN (empty) adds nothing */
    ck_assert(isnan(hb_stats_column(&st, "x_note")));                   /* no total asked for */
    cJSON *sum = hb_stats_json(&st, "p", 1, 1, "sim");
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(sum, "x_idle")->valuedouble, 1.5);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(sum, "x_note"));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(sum, "pool_idle_cpu_s"));
    hb_run_stats back;                                                   /* --resume reads it back */
    hb_stats_init(&back, 0);
    hb_stats_columns(&back, cols);
    hb_stats_columns_from_json(&back, sum);
    ck_assert_double_eq(hb_stats_column(&back, "x_idle"), 1.5);
    hb_stats_pool_columns(&back, &st);
    ck_assert_double_eq(hb_stats_column(&back, "x_idle"), 3);
    ck_assert_int_eq(hb_writer_finish(w, sum, &e), 0);
    cJSON_Delete(sum);
    hb_stats_free(&st);

    char path[256], line[2048];
    snprintf(path, sizeof path, "%s/invocations.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    char want[2048];
    snprintf(want, sizeof want, "%s,x_idle,x_note\n", hb_invocations_header());
    ck_assert_str_eq(line, want);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_msg(strstr(line, ",dh,,1.5,\"a,b\"\n") != NULL, "%s", line);   /* after error */
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_msg(strstr(line, ",dh,,,2\n") != NULL, "%s", line);
    fclose(f);
    snprintf(path, sizeof path, "%s/artifact/x_0_0_trajectory.csv", dir);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_msg(strstr(line, ",1;-512 0;3 0;;,") != NULL, "%s", line);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_msg(strstr(line, ",0;0 0;0 0;;,") != NULL, "%s", line);  /* no history: the default */
    fclose(f);
    snprintf(path, sizeof path, "%s/artifact/x_0_0_delta.csv", dir);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_msg(strstr(line, ",0,0,0.25,64,") != NULL, "%s", line);
    fclose(f);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

HB_TEST_MAIN("io", csv_rows_know_their_lines, streams_and_ids_are_reproducible_and_distinct,
             writer_orders_rows_and_renames_at_the_end, an_aborted_writer_keeps_its_rows_as_tmp_files,
             json_files_round_trip_and_report_their_line,
             extension_columns_are_appended_totalled_and_checked)

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
    hb_writer_spec spec = {dir, "FixedRM_0_0"};
    hb_run_writer *w;
    hb_error e;
    ck_assert_int_eq(hb_writer_open(&spec, &w, &e), 0);
    static const uint64_t order[] = {2, 0, 3, 1, 4};
    for (int i = 0; i < 5; i++) {
        hb_invocation inv = call(order[i]);
        ck_assert_int_eq(hb_writer_invocation(w, &inv, &e), 0);
    }
    hb_invocation dup = call(3);
    ck_assert_int_eq(hb_writer_invocation(w, &dup, &e), HB_ERUN);   /* ended twice */
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
    hb_writer_spec spec = {dir, "x_0_0"};
    hb_run_writer *w;
    hb_error e;
    ck_assert_int_eq(hb_writer_open(&spec, &w, &e), 0);
    hb_invocation a = call(1), b = call(3);                  /* 0 and 2 never end */
    ck_assert_int_eq(hb_writer_invocation(w, &a, &e), 0);
    ck_assert_int_eq(hb_writer_invocation(w, &b, &e), 0);
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

HB_TEST_MAIN("io", csv_rows_know_their_lines, streams_and_ids_are_reproducible_and_distinct,
             writer_orders_rows_and_renames_at_the_end, an_aborted_writer_keeps_its_rows_as_tmp_files,
             json_files_round_trip_and_report_their_line)

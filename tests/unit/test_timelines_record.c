/* test_timelines_record.c - the usage-timeline recorder of `harvestbench profile`
 * (harness/backends/local/timeline_record.h): cutting 10 ms readings into 100 ms samples on known readings, the
 * row format of the timeline library, and a short real call of the `alu` workload recorded in a
 * cgroup with a 1-core quota (skipped, saying why, where groups cannot be created) and as a plain
 * child (runs everywhere). */
#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cgroup.h"
#include "hb_test.h"
#include "local/timeline_record.h"

/* Readings every 10 ms over [0, 0.35] s: 1.5 cores and 2 runnable threads until 0.2 s, then 0.5
 * cores and 1; memory 10 + 100 t MB. */
static size_t known_readings(hb_tl_reading *r)
{
    size_t n = 0;
    for (int i = 0; i <= 35; i++) {
        double t = i / 100.0;
        r[n].t = t;
        r[n].cpu_s = t <= 0.2 ? 1.5 * t : 0.3 + 0.5 * (t - 0.2);
        r[n].mem_mb = 10 + 100 * t;
        r[n].runnable = t < 0.2 ? 2 : 1;
        n++;
    }
    return n;
}

START_TEST(aggregate_known_readings)
{
    hb_tl_reading r[64];
    size_t n = known_readings(r);
    hb_tl_row *rows;
    size_t nr;
    hb_error err;
    ck_assert_int_eq(hb_tl_aggregate(r, n, 0.0, 0.35, 100, &rows, &nr, &err), HB_OK);
    ck_assert_uint_eq(nr, 4);
    const int64_t t[4] = {0, 100, 200, 300}, dt[4] = {100, 100, 100, 50};
    const double cpu[4] = {1.5, 1.5, 0.5, 0.5}, mem[4] = {20, 30, 40, 45};
    const int run[4] = {2, 1, 1, 1};   /* at 0.2 s the phase has changed */
    for (size_t k = 0; k < nr; k++) {
        ck_assert_int_eq(rows[k].t_ms, t[k]);
        ck_assert_int_eq(rows[k].dt_ms, dt[k]);
        ck_assert_double_eq_tol(rows[k].cpu_cores, cpu[k], 1e-9);
        ck_assert_double_eq_tol(rows[k].mem_mb, mem[k], 1e-9);
        ck_assert_int_eq(rows[k].runnable, run[k]);
    }
    free(rows);
}
END_TEST

/* A start between readings: the CPU is interpolated; a remainder under 1 ms joins the sample
 * before it instead of becoming a zero-length one. */
START_TEST(aggregate_offset_and_tiny_remainder)
{
    hb_tl_reading r[64];
    size_t n = known_readings(r);
    hb_tl_row *rows;
    size_t nr;
    hb_error err;
    ck_assert_int_eq(hb_tl_aggregate(r, n, 0.105, 0.3054, 100, &rows, &nr, &err), HB_OK);
    ck_assert_uint_eq(nr, 2);
    ck_assert_int_eq(rows[1].t_ms, 100);
    ck_assert_int_eq(rows[1].dt_ms, 100);
    /* [0.105, 0.205]: 0.095 s at 1.5 cores and 0.005 s at 0.5 */
    ck_assert_double_eq_tol(rows[0].cpu_cores, (0.095 * 1.5 + 0.005 * 0.5) / 0.1, 1e-9);
    ck_assert_double_eq_tol(rows[1].cpu_cores, 0.5, 1e-9);
    free(rows);
    /* shorter than a period: one partial sample */
    ck_assert_int_eq(hb_tl_aggregate(r, n, 0.0, 0.042, 100, &rows, &nr, &err), HB_OK);
    ck_assert_uint_eq(nr, 1);
    ck_assert_int_eq(rows[0].dt_ms, 42);
    free(rows);
}
END_TEST

START_TEST(aggregate_rejects_empty)
{
    hb_tl_reading r[64];
    size_t n = known_readings(r);
    hb_tl_row *rows;
    size_t nr;
    hb_error err;
    ck_assert_int_ne(hb_tl_aggregate(r, 0, 0.0, 0.3, 100, &rows, &nr, &err), HB_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "no usage readings"));
    ck_assert_int_ne(hb_tl_aggregate(r, n, 0.3, 0.3, 100, &rows, &nr, &err), HB_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty interval"));
    ck_assert_ptr_null(rows);
}
END_TEST

START_TEST(write_rows_in_library_format)
{
    hb_tl_row rows[2] = {{0, 100, 0.6234, 2.126, 3}, {100, 37, 0, 0, -1}};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(hb_tl_write_run(f, "dh", 100, 1, 2, rows, 2), 0);
    fclose(f);
    ck_assert_str_eq(buf, "dh,100,1,2,0,100,0.623,2.13,3\n"
                          "dh,100,1,2,100,37,0.000,0.00,-1\n");
    free(buf);
}
END_TEST

/* ---- a real call ---- */

static char alu_path[PATH_MAX];

/* build/workloads/alu next to this test's build/tests/ directory */
static int find_alu(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *s = strrchr(exe, '/');
    if (!s)
        return -1;
    *s = '\0';
    snprintf(alu_path, sizeof alu_path, "%.3000s/../workloads/alu", exe);
    return access(alu_path, X_OK);
}

/* Records alu (2 workers) in cg (NULL: a plain child) and checks the timeline's invariants. */
static void record_alu(hb_cgroup *cg)
{
    char *argv[] = {alu_path, "--params", "{\"size\":150000,\"parallel\":2,\"seed\":1}", NULL};
    hb_tlrec rec;
    memset(&rec, 0, sizeof rec);
    char *out;
    int st;
    struct rusage ru;
    hb_error err;
    int rc = hb_tlrec_spawn_run(&rec, cg, argv, HB_TL_FINE_MS, 1 << 20, &out, &st, &ru, &err);
    ck_assert_msg(rc == HB_OK, "%s", err.msg);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_uint_ge(rec.n, 2);
    cJSON *j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    double wall = cJSON_GetObjectItem(j, "wall_s")->valuedouble;
    double start = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "mem_timestamp"), 0)->valuedouble;
    cJSON_Delete(j);
    free(out);
    ck_assert(wall > 0);
    hb_tl_row *rows;
    size_t nr;
    ck_assert_int_eq(hb_tlrec_timeline(&rec, start, wall, &rows, &nr, &err), HB_OK);
    ck_assert_uint_ge(nr, 1);
    double cpu = 0, total = 0, busiest = 0;
    int most = -1;
    for (size_t k = 0; k < nr; k++) {
        ck_assert_int_eq(rows[k].t_ms, (int64_t)k * 100);    /* contiguous, from the start */
        ck_assert_int_gt(rows[k].dt_ms, 0);
        if (k + 1 < nr)
            ck_assert_int_eq(rows[k].dt_ms, 100);
        ck_assert(rows[k].cpu_cores >= 0);
        ck_assert(rows[k].mem_mb >= 0);
        ck_assert_int_ge(rows[k].runnable, -1);
        cpu += rows[k].cpu_cores * (double)rows[k].dt_ms / 1000.0;
        total += (double)rows[k].dt_ms / 1000.0;
        busiest = fmax(busiest, rows[k].cpu_cores);
        most = rows[k].runnable > most ? rows[k].runnable : most;
    }
    ck_assert_double_eq_tol(total, wall, 0.0011);            /* the samples cover the call */
    ck_assert(busiest > 0.2);                                 /* it computed */
    /* no more CPU than the process used in all (the readings are of the same counters) */
    ck_assert(cpu <= rec.r[rec.n - 1].cpu_s - rec.r[0].cpu_s + 0.02);
    ck_assert_int_ge(most, 1);                                /* its workers were seen running */
    free(rows);
    hb_tlrec_free(&rec);
}

START_TEST(real_call_in_cgroup)
{
    if (find_alu() != 0) {
        printf("test_timelines_record: real_call_in_cgroup skipped: %s is not built\n", alu_path);
        return;
    }
    int version;
    char why[400];
    if (!hb_cgroup_probe(&version, why, sizeof why)) {
        printf("test_timelines_record: real_call_in_cgroup skipped: cannot create cgroups (%s)\n",
               why);
        return;
    }
    hb_cgroup cg;
    hb_error err;
    ck_assert_msg(hb_cgroup_create(&cg, &err) == HB_OK, "%s", err.msg);
    ck_assert_msg(hb_cgroup_set_cpu(&cg, 1, &err) == HB_OK, "%s", err.msg);
    record_alu(&cg);
    ck_assert_msg(hb_cgroup_remove(&cg, &err) == HB_OK, "%s", err.msg);
}
END_TEST

START_TEST(real_call_plain_child)
{
    if (find_alu() != 0) {
        printf("test_timelines_record: real_call_plain_child skipped: %s is not built\n", alu_path);
        return;
    }
    record_alu(NULL);
}
END_TEST

HB_TEST_MAIN("timelines_record", aggregate_known_readings, aggregate_offset_and_tiny_remainder,
             aggregate_rejects_empty, write_rows_in_library_format, real_call_in_cgroup,
             real_call_plain_child)

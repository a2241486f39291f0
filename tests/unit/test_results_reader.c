/* test_results_reader.c - reading result directories: columns by header name, aggregation of
 * usage.csv, runs left out, and errors that name the file, the line and the column. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "results.h"
#include "results_reader.h"

#include "hb_test.h"

#define FIX "tests/fixtures/results"
#define TMP "tests/fixtures/tmp/reader"

static void mkdirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdirs(path);
    *slash = '/';
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static const char *MANIFEST =
    "{\"experiment\":\"t\",\"backend\":\"sim\",\"status\":\"complete\",\"policies\":[\"default\"],"
    "\"seeds\":[7],\"runs\":[{\"policy\":\"default\",\"seed_index\":1,\"seed\":7,"
    "\"status\":\"complete\"}]}\n";
static const char *SUMMARY = "{\"cpu_used_core_s\":1,\"cpu_alloc_core_s\":2}\n";
static const char *USAGE =
    "time_s,invoker,cpu_capacity,cpu_alloc,cpu_used,mem_capacity_mb,mem_alloc_mb,mem_used_mb\n"
    "0,0,8,1,1,100,10,5\n";

/* A one-run directory whose invocations.csv is inv; returns the read's code and message. */
static int read_with(const char *name, const char *manifest, const char *inv, const char *summary,
                     hb_error *err)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", TMP, name);
    put(dir, "manifest.json", manifest);
    if (inv)
        put(dir, "default/seed-1/invocations.csv", inv);
    if (summary)
        put(dir, "default/seed-1/summary.json", summary);
    put(dir, "default/seed-1/usage.csv", USAGE);
    hb_results r;
    int rc = hb_results_read(dir, HB_READ_USAGE, &r, err);
    if (rc == HB_OK)
        hb_results_free(&r);
    return rc;
}

#define ASSERT_MSG(err, sub) ck_assert_msg(strstr((err).msg, (sub)) != NULL, "message '%s' lacks '%s'", (err).msg, (sub))

START_TEST(reads_columns_by_name_and_counts)
{
    hb_results r;
    hb_error err;
    ck_assert_int_eq(hb_results_read(FIX "/tiny/", HB_READ_USAGE, &r, &err), HB_OK);
    ck_assert_str_eq(r.dir, FIX "/tiny");
    ck_assert_str_eq(r.experiment, "tiny");
    ck_assert_str_eq(r.status, "complete");
    ck_assert_uint_eq(r.npolicies, 2);
    ck_assert_uint_eq(r.nwarnings, 0);
    const hb_policy_runs *d = hb_results_policy(&r, "default"), *f = hb_results_policy(&r, "fast");
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_null(hb_results_policy(&r, "libra"));
    ck_assert_uint_eq(d->nruns, 2);
    /* default seed-1: 4 successes (100..400, unsorted in the file order), one timeout */
    const hb_run *r1 = &d->runs[0];
    ck_assert_int_eq(r1->seed_index, 1);
    ck_assert_double_eq(r1->seed, 1.0);
    ck_assert_uint_eq(r1->calls, 5);
    ck_assert_uint_eq(r1->outcomes[HB_OUT_SUCCESS], 4);
    ck_assert_uint_eq(r1->outcomes[HB_OUT_TIMEOUT], 1);
    ck_assert_uint_eq(r1->nlat, 4);
    ck_assert_double_eq(r1->lat[0], 100);
    ck_assert_double_eq(r1->lat[3], 400);
    ck_assert_uint_eq(r1->cold_starts, 1);
    ck_assert_uint_eq(r1->nslow, 3);   /* the success without base_duration_ms has none */
    ck_assert_double_eq(r1->slowdown[0], 2.0);
    ck_assert_double_eq(r1->cpu_used_core_s, 10);
    ck_assert_double_eq(r1->mem_alloc_mb_s, 4000);
    ck_assert(isnan(r1->makespan_s) == 0);
    /* fast: columns in another order; the lost call has no latency but lent memory */
    const hb_run *f2 = &f->runs[1];
    ck_assert_uint_eq(f2->calls, 5);
    ck_assert_uint_eq(f2->outcomes[HB_OUT_LOST], 1);
    ck_assert_uint_eq(f2->nlat, 4);
    ck_assert_double_eq(f2->lat[0], 60);
    ck_assert_int_eq(f2->harvested, 1);
    ck_assert_int_eq(f->runs[0].harvested, 2);
    ck_assert_int_eq(f->runs[0].accelerated, 1);
    ck_assert(hb_runs_paired(d, f));
    hb_results_free(&r);
}
END_TEST

/* accelerated: received resources while running; with the borrowed_running_* columns a call that
 * received them only during its cold start does not count */
START_TEST(accelerated_counts_resources_received_while_running)
{
    const char *tmp = "build/tests/tmp-results-running";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r " FIX "/tiny %s && cd %s/default/seed-1 && "
             "printf 'index,function,outcome,cold_start,latency_ms,base_duration_ms,"
             "harvested_cpu_s,harvested_mem_mb_s,borrowed_cpu_s,borrowed_mem_mb_s,"
             "borrowed_running_cpu_s,borrowed_running_mem_mb_s\\n"
             "0,dh,success,1,100,50,0,0,0.5,0,0,0\\n1,eg,success,0,200,100,0,0,2,0,1.5,0\\n"
             "2,ip,success,0,300,100,0,0,0,64,0,32\\n' > invocations.csv", tmp, tmp, tmp);
    ck_assert_int_eq(system(cmd), 0);
    hb_results r;
    hb_error err;
    ck_assert_msg(hb_results_read(tmp, 0, &r, &err) == HB_OK, "%s", err.msg);
    ck_assert_uint_eq(r.policies[0].runs[0].calls, 3);
    ck_assert_int_eq(r.policies[0].runs[0].accelerated, 2);     /* eg and ip, not dh */
    hb_results_free(&r);
}
END_TEST

START_TEST(usage_is_summed_over_invokers_by_second)
{
    hb_results r;
    hb_error err;
    ck_assert_int_eq(hb_results_read(FIX "/tiny", HB_READ_USAGE, &r, &err), HB_OK);
    const hb_usage *u = &r.policies[0].runs[0].usage;
    /* rows (time, invoker) = (1,1) (0,0) (0,1) (1,0) (2,0): seconds 0, 1, 2 */
    ck_assert_uint_eq(u->n, 3);
    ck_assert_double_eq(u->time_s[0], 0);
    ck_assert_double_eq(u->time_s[2], 2);
    ck_assert_double_eq(u->cpu_alloc[0], 1 + 3);
    ck_assert_double_eq(u->cpu_used[0], 0.5 + 1.5);
    ck_assert_double_eq(u->cpu_capacity[1], 16);
    ck_assert_double_eq(u->cpu_alloc[1], 2 + 4);
    ck_assert_double_eq(u->mem_alloc_mb[0], 512 + 1536);
    ck_assert_double_eq(u->cpu_harvested[1], 0.5);
    ck_assert_double_eq(u->cpu_borrowed[0], 0.25);
    ck_assert_double_eq(u->mem_harvested_mb[1], 64);
    ck_assert_double_eq(u->cpu_capacity[2], 8);
    /* only the first run of a policy has its usage read */
    ck_assert_uint_eq(r.policies[0].runs[1].usage.n, 0);
    hb_results_free(&r);
    /* without the flag, none */
    ck_assert_int_eq(hb_results_read(FIX "/tiny", 0, &r, &err), HB_OK);
    ck_assert_uint_eq(r.policies[0].runs[0].usage.n, 0);
    hb_results_free(&r);
}
END_TEST

START_TEST(malformed_numbers_name_file_line_column)
{
    hb_error err;
    int rc = read_with("badnum", MANIFEST,
                       "outcome,latency_ms,cold_start\nsuccess,10,0\nsuccess,abc,0\n", SUMMARY,
                       &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "default/seed-1/invocations.csv:3: latency_ms: not a number: 'abc'");
    rc = read_with("empty-lat", MANIFEST, "outcome,latency_ms,cold_start\nsuccess,,0\n", SUMMARY,
                   &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "invocations.csv:2: latency_ms: empty");
    rc = read_with("nan-lat", MANIFEST, "outcome,latency_ms,cold_start\nsuccess,nan,0\n", SUMMARY,
                   &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "latency_ms: not a number: 'nan'");
    rc = read_with("neg-lat", MANIFEST, "outcome,latency_ms,cold_start\nsuccess,-4,0\n", SUMMARY,
                   &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "invocations.csv:2: latency_ms: negative");
    rc = read_with("cold", MANIFEST, "outcome,latency_ms,cold_start\nsuccess,4,2\n", SUMMARY, &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "invocations.csv:2: cold_start: expected 0 or 1, found '2'");
    rc = read_with("outcome", MANIFEST,
                   "outcome,latency_ms,cold_start\nsuccess,4,0\n\nmaybe,4,0\n", SUMMARY, &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "invocations.csv:4: outcome: unknown outcome 'maybe'");
}
END_TEST

START_TEST(malformed_rows_and_headers)
{
    hb_error err;
    int rc = read_with("nocol", MANIFEST, "latency_ms,cold_start\n4,0\n", SUMMARY, &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "invocations.csv:1: outcome: missing column");
    rc = read_with("fields", MANIFEST,
                   "outcome,latency_ms,cold_start\nsuccess,4,0\nsuccess,5,0\nsuccess,6\n", SUMMARY,
                   &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "invocations.csv:4: 2 fields where the header has 3");
    rc = read_with("quote", MANIFEST, "outcome,latency_ms,cold_start\nsuccess,\"4\"x,0\n", SUMMARY,
                   &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "invocations.csv:2: malformed CSV");
    rc = read_with("emptyfile", MANIFEST, "", SUMMARY, &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "invocations.csv: empty file");
    rc = read_with("noinv", MANIFEST, NULL, SUMMARY, &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "invocations.csv: cannot open");
    rc = read_with("nosummary", MANIFEST, "outcome,latency_ms,cold_start\nsuccess,4,0\n", NULL,
                   &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "summary.json: cannot open");
    rc = read_with("badsummary", MANIFEST, "outcome,latency_ms,cold_start\nsuccess,4,0\n",
                   "{\n  \"cpu_used_core_s\": 1,\n  oops\n}\n", &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "summary.json:3: malformed JSON near column");
}
END_TEST

START_TEST(manifest_errors_and_skipped_runs)
{
    hb_error err;
    const char *inv = "outcome,latency_ms,cold_start\nsuccess,4,0\n";
    int rc = read_with("m1", "{\"policies\": [\"default\"],\n \"seeds\": [1,\n}", inv, SUMMARY, &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "manifest.json:3: malformed JSON near column");
    rc = read_with("m2", "{\"seeds\": [1]}", inv, SUMMARY, &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "manifest.json: policies: missing or empty list");
    rc = read_with("m3", "{\"policies\": [\"default\"]}", inv, SUMMARY, &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "manifest.json: seeds: missing or empty list");
    rc = read_with("m4", "{\"policies\": [\"../etc\"], \"seeds\": [1]}", inv, SUMMARY, &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "policies: entry 1 is not a policy name");
    rc = read_with("m5", "[1, 2]", inv, SUMMARY, &err);
    ck_assert_int_eq(rc, HB_EINPUT);
    ASSERT_MSG(err, "expected a JSON object");
    ck_assert_int_eq(hb_results_read(TMP "/does-not-exist", 0, &(hb_results){0}, &err),
                     HB_EINPUT);
    ASSERT_MSG(err, "does-not-exist: no such directory");
    /* a directory that exists but was not written by `run` says so */
    put(TMP "/not-results", "notes.txt", "hello\n");
    ck_assert_int_eq(hb_results_read(TMP "/not-results", 0, &(hb_results){0}, &err), HB_EINPUT);
    ASSERT_MSG(err, "not-results: not a result directory of `harvestbench run` (it has no "
                    "manifest.json)");

    /* an incomplete run is left out with a warning; a run missing from runs[] too */
    const char *m = "{\"status\":\"incomplete\",\"policies\":[\"default\"],\"seeds\":[7,8,9],"
                    "\"runs\":[{\"policy\":\"default\",\"seed_index\":1,\"seed\":7,"
                    "\"status\":\"complete\"},{\"policy\":\"default\",\"seed_index\":2,"
                    "\"seed\":8,\"status\":\"incomplete\"}]}";
    char dir[] = TMP "/skip";
    put(dir, "manifest.json", m);
    put(dir, "default/seed-1/invocations.csv", inv);
    put(dir, "default/seed-1/summary.json", SUMMARY);
    hb_results r;
    ck_assert_int_eq(hb_results_read(dir, 0, &r, &err), HB_OK);
    ck_assert_str_eq(r.status, "incomplete");
    ck_assert_uint_eq(r.policies[0].nruns, 1);
    ck_assert_uint_eq(r.nwarnings, 2);
    ck_assert_str_eq(r.warnings[0], "default seed-2: incomplete, left out");
    ck_assert_str_eq(r.warnings[1], "default seed-3: not in the manifest's runs, left out");
    /* summary.json without the integrals: utilization unknown, not an error */
    ck_assert(isnan(r.policies[0].runs[0].mem_used_mb_s));
    ck_assert_double_eq(r.policies[0].runs[0].cpu_used_core_s, 1);
    hb_results_free(&r);
}
END_TEST

START_TEST(pairing_needs_the_same_seeds)
{
    hb_run a[2] = {{.seed = 1}, {.seed = 2}}, b[2] = {{.seed = 1}, {.seed = 3}};
    hb_policy_runs pa = {"a", 2, a}, pb = {"b", 2, b}, pc = {"c", 1, a}, pe = {"e", 0, NULL};
    ck_assert(hb_runs_paired(&pa, &pa));
    ck_assert(!hb_runs_paired(&pa, &pb));
    ck_assert(!hb_runs_paired(&pa, &pc));
    ck_assert(!hb_runs_paired(&pe, &pe));
}
END_TEST

/* A run written with a policy's extension columns (appended after the fixed columns) and without
 * the pool_idle_* columns older files had in the middle reads like any other: columns by name. */
START_TEST(extension_columns_and_no_pool_idle_read_alike)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/ext", TMP);
    put(dir, "manifest.json", MANIFEST);
    snprintf(dir, sizeof dir, "%s/ext/default/seed-1", TMP);
    static const hb_column cols[] = {{"x_idle", 1}, {"x_note", 0}, {NULL, 0}};
    hb_writer_spec spec = {dir, "x_0_0", cols};
    hb_run_writer *w;
    hb_error err;
    ck_assert_msg(hb_writer_open(&spec, &w, &err) == 0, "%s", err.msg);
    for (uint64_t i = 0; i < 3; i++) {
        hb_invocation inv;
        memset(&inv, 0, sizeof inv);
        inv.index = i;
        snprintf(inv.activation_id, sizeof inv.activation_id, "a%llu", (unsigned long long)i);
        inv.outcome = HB_SUCCESS;
        inv.arrival = (hb_time)i * HB_SEC;
        inv.start = inv.exec_start = inv.arrival;
        inv.end = inv.arrival + (hb_time)(i + 1) * 100 * HB_MS;
        inv.pred = (hb_res){-1, -1};
        inv.pred_duration_s = inv.base_duration_ms = -1;
        hb_column_value v[] = {{(double)i, NULL}, {NAN, "a,b"}};
        hb_call_ext ext = {2, v, {NULL, 0, 0}};
        ck_assert_msg(hb_writer_invocation(w, &inv, &ext, &err) == 0, "%s", err.msg);
    }
    ck_assert_msg(hb_writer_finish(w, NULL, &err) == 0, "%s", err.msg);
    put(dir, "summary.json", SUMMARY);
    put(dir, "usage.csv", USAGE);
    hb_results r;
    snprintf(dir, sizeof dir, "%s/ext", TMP);
    ck_assert_msg(hb_results_read(dir, 0, &r, &err) == HB_OK, "%s", err.msg);
    const hb_run *run = &r.policies[0].runs[0];
    ck_assert_uint_eq(run->calls, 3);
    ck_assert_uint_eq(run->nlat, 3);
    ck_assert_double_eq(run->lat[0], 100);
    ck_assert_double_eq(run->lat[2], 300);
    ck_assert(run->has_index);
    hb_results_free(&r);
}
END_TEST

HB_TEST_MAIN("results_reader", reads_columns_by_name_and_counts,
             usage_is_summed_over_invokers_by_second,
             accelerated_counts_resources_received_while_running,
             malformed_numbers_name_file_line_column, malformed_rows_and_headers,
             manifest_errors_and_skipped_runs, pairing_needs_the_same_seeds,
             extension_columns_and_no_pool_idle_read_alike)

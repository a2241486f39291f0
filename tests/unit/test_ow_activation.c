/* test_ow_activation.c - OpenWhisk activation records read by key (harness/backends/openwhisk/ow_activation.h):
 * annotations in any order, cold and warm starts, outcomes, the workloads' usage samples, and
 * malformed or incomplete records rejected with a message naming the field, never a crash. */
#include <stdio.h>
#include <string.h>

#include "hb_test.h"
#include "openwhisk/ow_activation.h"

/* A record as OpenWhisk writes it, with the annotations given as one JSON fragment. */
static char *record(const char *annotations, const char *status, const char *result)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "{\"namespace\":\"guest\",\"name\":\"hb-ms-m512\",\"version\":\"0.0.1\",\"subject\":\"guest\","
             "\"activationId\":\"a1b2c3d4e5f60718293a4b5c6d7e8f90\",\"start\":1700000000100,"
             "\"end\":1700000000350,\"duration\":250,\"statusCode\":0,"
             "\"response\":{\"status\":\"%s\",\"statusCode\":0,\"success\":%s,\"result\":%s},"
             "\"logs\":[],\"annotations\":[%s],\"publish\":false}",
             status, strcmp(status, "success") == 0 ? "true" : "false", result, annotations);
    return buf;
}

#define A_PATH "{\"key\":\"path\",\"value\":\"guest/hb-ms-m512\"}"
#define A_WAIT "{\"key\":\"waitTime\",\"value\":12}"
#define A_KIND "{\"key\":\"kind\",\"value\":\"blackbox\"}"
#define A_TIMEOUT "{\"key\":\"timeout\",\"value\":false}"
#define A_LIMITS "{\"key\":\"limits\",\"value\":{\"concurrency\":1,\"logs\":10,\"memory\":512,\"timeout\":60000}}"
#define A_INIT "{\"key\":\"initTime\",\"value\":40}"

static const char *RESULT_OK =
    "{\"function\":\"ms\",\"interval_ms\":100,\"cpu_timestamp\":[1700000000.25,1700000000.35],"
    "\"cpu_usage\":[1.5,0.5],\"mem_timestamp\":[1700000000.25,1700000000.35],"
    "\"mem_usage\":[10,20],\"cpu_peak\":1.5,\"mem_peak\":20}";

static int parse(const char *text, ow_activation *a, hb_error *e)
{
    return ow_activation_parse(text, strlen(text), a, e);
}

START_TEST(documented_order_is_read_by_key)
{
    ow_activation a;
    hb_error e;
    const char *r = record(A_PATH "," A_WAIT "," A_KIND "," A_INIT "," A_LIMITS "," A_TIMEOUT,
                           "success", RESULT_OK);
    ck_assert_msg(parse(r, &a, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(a.id, "a1b2c3d4e5f60718293a4b5c6d7e8f90");
    ck_assert_str_eq(a.name, "hb-ms-m512");
    ck_assert_int_eq(a.start_ms, 1700000000100LL);
    ck_assert_int_eq(a.end_ms, 1700000000350LL);
    ck_assert_double_eq(a.duration_ms, 250);
    ck_assert(a.has_wait && a.wait_ms == 12);
    ck_assert(a.has_init && a.init_ms == 40);
    ck_assert_int_eq(a.timeout, 0);
    ck_assert_str_eq(a.kind, "blackbox");
    ck_assert_double_eq(a.limit_memory_mb, 512);
    ck_assert_double_eq(a.limit_timeout_ms, 60000);
    ck_assert_str_eq(a.status, "success");
    ck_assert_int_eq(a.status_code, 0);
    ck_assert_int_eq(a.success, 1);
    ck_assert(a.has_usage);
    ck_assert_uint_eq(a.cpu.n, 2);
    ck_assert_double_eq(a.cpu.v[0], 1.5);
    ck_assert_double_eq(a.mem.v[1], 20);
    ck_assert_double_eq(a.cpu_peak, 1.5);
    ck_assert_double_eq(a.mem_peak_mb, 20);
    char msg[96];
    ck_assert_int_eq(ow_activation_outcome(&a, msg, sizeof msg), HB_SUCCESS);
    ow_activation_free(&a);
}
END_TEST

/* Every order of the six standard annotations gives the same reading (Libra's code assumed
 * positions 1, 3 and 5; the documentation's example has another order). */
START_TEST(any_annotation_order_gives_the_same_record)
{
    const char *ann[] = {A_PATH, A_WAIT, A_KIND, A_INIT, A_LIMITS, A_TIMEOUT};
    int idx[6] = {0, 1, 2, 3, 4, 5}, perms = 0;
    for (;;) {
        char frag[2048] = "";
        for (int i = 0; i < 6; i++) {
            if (i)
                strcat(frag, ",");
            strcat(frag, ann[idx[i]]);
        }
        ow_activation a;
        hb_error e;
        ck_assert_msg(parse(record(frag, "success", "{}"), &a, &e) == 0, "%s", e.msg);
        ck_assert(a.has_wait && a.wait_ms == 12);
        ck_assert(a.has_init && a.init_ms == 40);
        ck_assert_double_eq(a.limit_memory_mb, 512);
        ck_assert_str_eq(a.kind, "blackbox");
        ck_assert_int_eq(a.timeout, 0);
        ow_activation_free(&a);
        perms++;
        /* next permutation (lexicographic) */
        int i = 4;
        while (i >= 0 && idx[i] > idx[i + 1])
            i--;
        if (i < 0)
            break;
        int j = 5;
        while (idx[j] < idx[i])
            j--;
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        for (int l = i + 1, r = 5; l < r; l++, r--) {
            t = idx[l];
            idx[l] = idx[r];
            idx[r] = t;
        }
    }
    ck_assert_int_eq(perms, 720);
}
END_TEST

START_TEST(warm_start_has_no_init_and_other_keys_are_ignored)
{
    ow_activation a;
    hb_error e;
    const char *r = record("{\"key\":\"causedBy\",\"value\":\"sequence\"}," A_LIMITS "," A_WAIT
                           ",{\"key\":\"entry\",\"value\":{\"x\":[1,2]}}",
                           "success", "{\"answer\":42}");
    ck_assert_msg(parse(r, &a, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(a.has_init, 0);
    ck_assert_double_eq(a.init_ms, 0);
    ck_assert_int_eq(a.has_usage, 0);            /* a result without samples */
    ck_assert_double_eq(a.cpu_peak, -1);
    ow_activation_free(&a);
    /* no annotations at all (an old OpenWhisk): no waitTime, a warm start */
    const char *bare = "{\"activationId\":\"x1\",\"start\":5,\"end\":9,\"response\":{\"status\":\"success\"}}";
    ck_assert_msg(parse(bare, &a, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(a.has_wait, 0);
    ck_assert_double_eq(a.duration_ms, 4);       /* end - start when duration is absent */
    ow_activation_free(&a);
}
END_TEST

START_TEST(outcomes_follow_status_and_annotations)
{
    ow_activation a;
    hb_error e;
    char msg[96];
    ck_assert_int_eq(parse(record(A_WAIT, "application error", "{\"error\":\"size: must be in [1, 5]\"}"),
                           &a, &e), 0);
    ck_assert_int_eq(ow_activation_outcome(&a, msg, sizeof msg), HB_ERROR);
    ck_assert_str_eq(msg, "application error: size: must be in [1, 5]");
    ow_activation_free(&a);
    ck_assert_int_eq(parse(record(A_WAIT ",{\"key\":\"timeout\",\"value\":true}", "action developer error",
                                  "{\"error\":\"The action exceeded its time limits of 100 milliseconds.\"}"),
                           &a, &e), 0);
    ck_assert_int_eq(ow_activation_outcome(&a, msg, sizeof msg), HB_TIMEOUT);
    ow_activation_free(&a);
    ck_assert_int_eq(parse(record(A_WAIT, "action developer error",
                                  "{\"error\":\"The action exhausted its memory and was aborted.\"}"),
                           &a, &e), 0);
    ck_assert_int_eq(ow_activation_outcome(&a, msg, sizeof msg), HB_OOM);
    ow_activation_free(&a);
    ck_assert_int_eq(parse(record(A_WAIT, "whisk internal error", "{\"error\":\"boom\"}"), &a, &e), 0);
    ck_assert_int_eq(ow_activation_outcome(&a, msg, sizeof msg), HB_ERROR);
    ck_assert_str_eq(msg, "whisk internal error: boom");
    ow_activation_free(&a);
}
END_TEST

/* Malformed and incomplete records: a clear message naming the field, and nothing leaks (ASan). */
START_TEST(malformed_records_are_rejected_with_the_field)
{
    struct { const char *text, *expect; } cases[] = {
        {"", "empty"},
        {"{\"activationId\":", "not valid JSON"},
        {"[1,2,3]", "not a JSON object"},
        {"null", "not a JSON object"},
        {"{\"start\":1,\"end\":2,\"response\":{\"status\":\"success\"}}", "activationId"},
        {"{\"activationId\":7,\"start\":1,\"end\":2,\"response\":{\"status\":\"success\"}}", "activationId"},
        {"{\"activationId\":\"x\",\"end\":2,\"response\":{\"status\":\"success\"}}", "start"},
        {"{\"activationId\":\"x\",\"start\":\"soon\",\"end\":2,\"response\":{\"status\":\"success\"}}", "start"},
        {"{\"activationId\":\"x\",\"start\":1,\"response\":{\"status\":\"success\"}}", "end"},
        {"{\"activationId\":\"x\",\"start\":9,\"end\":2,\"response\":{\"status\":\"success\"}}", "before start"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2}", "response"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":[]}", "response"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{}}", "response.status"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"duration\":-3,\"response\":{\"status\":\"success\"}}", "duration"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\",\"success\":\"yes\"}}", "response.success"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\"},\"annotations\":{}}", "annotations"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\"},\"annotations\":[3]}", "annotations[0]"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\"},"
         "\"annotations\":[{\"key\":\"waitTime\",\"value\":\"12\"}]}", "waitTime"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\"},"
         "\"annotations\":[{\"key\":\"initTime\",\"value\":-1}]}", "initTime"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":20,\"duration\":19,\"response\":{\"status\":\"success\"},"
         "\"annotations\":[{\"key\":\"initTime\",\"value\":400}]}", "exceeds the duration"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\"},"
         "\"annotations\":[{\"key\":\"timeout\",\"value\":\"no\"}]}", "timeout"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\"},"
         "\"annotations\":[{\"key\":\"limits\",\"value\":{\"memory\":\"big\"}}]}", "limits"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\",\"result\":"
         "{\"cpu_timestamp\":[1,2],\"cpu_usage\":[1],\"mem_timestamp\":[],\"mem_usage\":[]}}}", "cpu_timestamp"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\",\"result\":"
         "{\"cpu_timestamp\":[1],\"mem_timestamp\":[1],\"mem_usage\":[1]}}}", "cpu_usage"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\",\"result\":"
         "{\"cpu_timestamp\":[1],\"cpu_usage\":[\"a\"],\"mem_timestamp\":[1],\"mem_usage\":[1]}}}", "cpu_usage[0]"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\",\"result\":"
         "{\"cpu_peak\":-2}}}", "cpu_peak"},
        /* times past int64 ms (found by tests/fuzz/fuzz_ow_activation), a code past int (seen
         * writing its dictionary): both undefined behaviour before */
        {"{\"activationId\":\"x\",\"start\":1e19,\"end\":2,\"response\":{\"status\":\"success\"}}", "start"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":1e300,\"response\":{\"status\":\"success\"}}", "end"},
        {"{\"activationId\":\"x\",\"start\":1,\"end\":2,\"response\":{\"status\":\"success\",\"statusCode\":1e10}}",
         "response.statusCode"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ow_activation a;
        hb_error e;
        e.msg[0] = '\0';
        int rc = parse(cases[i].text, &a, &e);
        ck_assert_msg(rc == HB_EINPUT, "case %zu accepted: %s", i, cases[i].text);
        ck_assert_msg(strstr(e.msg, "activation record: ") == e.msg, "case %zu: '%s'", i, e.msg);
        ck_assert_msg(strstr(e.msg, cases[i].expect), "case %zu: '%s' lacks '%s'", i, e.msg,
                      cases[i].expect);
    }
}
END_TEST

/* Every prefix of a good record is malformed or complete, never a crash (ASan watches reads). */
START_TEST(truncated_records_never_crash)
{
    const char *r = record(A_PATH "," A_WAIT "," A_KIND "," A_INIT "," A_LIMITS "," A_TIMEOUT,
                           "success", RESULT_OK);
    size_t n = strlen(r), accepted = 0;
    for (size_t k = 0; k <= n; k++) {
        char *copy = malloc(k + 1);
        memcpy(copy, r, k);
        copy[k] = '\0';
        ow_activation a;
        hb_error e;
        if (ow_activation_parse(copy, k, &a, &e) == 0) {
            accepted++;
            ow_activation_free(&a);
        } else {
            ck_assert(e.msg[0]);
        }
        free(copy);
    }
    ck_assert_uint_eq(accepted, 1);             /* only the whole record */
}
END_TEST

HB_TEST_MAIN("ow_activation", documented_order_is_read_by_key,
             any_annotation_order_gives_the_same_record,
             warm_start_has_no_init_and_other_keys_are_ignored, outcomes_follow_status_and_annotations,
             malformed_records_are_rejected_with_the_field, truncated_records_never_crash)

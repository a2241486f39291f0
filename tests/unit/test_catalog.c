/* test_catalog.c - the benchmark function table and the error helpers. */
#include <check.h>
#include <string.h>

#include "hb_error.h"
#include "hb_types.h"

#include "hb_test.h"

START_TEST(catalog_matches_artifact_user_configs)
{
    /* libra-harness spec 6.2: user cpu / mem units */
    static const struct { const char *id; int cpu, mem; } want[] = {
        {"dh", 2, 8}, {"eg", 2, 8}, {"ip", 1, 2}, {"vp", 2, 4}, {"ir", 1, 8},
        {"knn", 2, 8}, {"alu", 2, 8}, {"ms", 2, 4}, {"gd", 1, 8}, {"dv", 1, 8},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int f = hb_function_find(want[i].id);
        ck_assert_int_eq(f, (int)i);
        ck_assert_int_eq(hb_functions[f].user_cpu, want[i].cpu);
        ck_assert_int_eq(hb_functions[f].user_mem_units, want[i].mem);
    }
    ck_assert_int_eq(hb_function_find("nope"), -1);
}
END_TEST

START_TEST(fail_at_names_file_line_field)
{
    hb_error e;
    int rc = hb_fail_at(&e, HB_EINPUT, "t.csv", 7, "HashFunction", "empty %s", "id");
    ck_assert_int_eq(rc, HB_EINPUT);
    ck_assert_str_eq(e.msg, "t.csv:7: HashFunction: empty id");
    hb_error_wrap(&e, "loading %s", "trace");
    ck_assert_str_eq(e.msg, "loading trace: t.csv:7: HashFunction: empty id");
    ck_assert_int_eq(hb_exit_status(HB_EINPUT), 2);
    ck_assert_int_eq(hb_exit_status(HB_ERUN), 1);
    ck_assert_int_eq(hb_exit_status(HB_OK), 0);
}
END_TEST

HB_TEST_MAIN("catalog", catalog_matches_artifact_user_configs, fail_at_names_file_line_field)

/* hb_test.h - the one `main` of every Check test binary (tests/unit/, tests/workloads/).
 *
 *   HB_TEST_MAIN("suite", test1, test2, ...)       the whole main, for one test case
 *   hb_test_case(s, "name", timeout, tests, n)     more test cases, or tests chosen at run time
 *   return hb_test_run(s);                         the end of a main of one's own
 *
 * Results: Check writes its TAP log where CK_TAP_LOG_FILE_NAME names (tests/run.sh sets it, one file
 * a binary) and tests/run.sh counts from that file, not from the text printed here. A test left out
 * at run time is announced with hb_test_skipped(), the one line tests/run.sh reads from the output
 * (Check has no notion of a skipped test). */
#ifndef HB_TEST_H
#define HB_TEST_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Adds a test case of n tests to s; timeout in seconds, 0 for Check's default (CK_DEFAULT_TIMEOUT). */
static inline TCase *hb_test_case(Suite *s, const char *name, int timeout, const TTest *const *tests,
                                  size_t n)
{
    TCase *tc = tcase_create(name);
    if (timeout > 0)
        tcase_set_timeout(tc, timeout);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return tc;
}

/* Runs every test of s (Check forks one process a test, so a crash fails that test only) and frees
 * it. Exit status 0 when all passed, else 1. */
static inline int hb_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* Announces n tests left out, and why: "SKIPPED N test(s): WHY" (counted by tests/run.sh). */
static inline void hb_test_skipped(size_t n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void hb_test_skipped(size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("SKIPPED %zu test(s): ", n);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

#define HB_TEST_N(a) (sizeof(a) / sizeof((a)[0]))

/* The whole main of a binary with one test case "core" (timeout 300 s). */
#define HB_TEST_MAIN(suite_name, ...)                                                              \
    int main(void)                                                                                 \
    {                                                                                              \
        const TTest *tests_[] = {__VA_ARGS__};                                                      \
        Suite *s = suite_create(suite_name);                                                       \
        hb_test_case(s, "core", 300, tests_, HB_TEST_N(tests_));                                   \
        return hb_test_run(s);                                                                     \
    }

#endif

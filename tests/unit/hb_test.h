/* hb_test.h - the boilerplate of a Check test binary: HB_TEST_MAIN("suite", test1, test2, ...). */
#ifndef HB_TEST_H
#define HB_TEST_H

#include <check.h>
#include <stdlib.h>

#define HB_TEST_MAIN(suite_name, ...)                                                              \
    int main(void)                                                                                 \
    {                                                                                              \
        const TTest *tests[] = {__VA_ARGS__};                                                      \
        Suite *s = suite_create(suite_name);                                                       \
        TCase *tc = tcase_create("core");                                                          \
        tcase_set_timeout(tc, 300);                                                                \
        for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)                                \
            tcase_add_test(tc, tests[i]);                                             \
        suite_add_tcase(s, tc);                                                                    \
        SRunner *sr = srunner_create(s);                                                           \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        return failed ? 1 : 0;                                                                     \
    }

#endif

/*
 * suite.h: building a Check suite from lists of tests.
 */
#ifndef GFUSE_TEST_SUITE_H
#define GFUSE_TEST_SUITE_H

#include <check.h>
#include <stddef.h>

/* Adds to s the test case name: the checked fixture setup/teardown (either may be NULL) around
 * each of the n tests, in order. Returns it for further settings (a timeout). */
static inline TCase *tu_tcase_tests(Suite *s, const char *name, SFun setup, SFun teardown,
                                    const TTest *const *tests, size_t n)
{
    TCase *tc = tcase_create(name);
    if (setup || teardown) tcase_add_checked_fixture(tc, setup, teardown);
    for (size_t k = 0; k < n; k++) tcase_add_test(tc, tests[k]);
    suite_add_tcase(s, tc);
    return tc;
}

/* tu_tcase_tests with the tests listed as arguments. */
#define TU_TCASE(s, name, setup, teardown, ...)                                                  \
    tu_tcase_tests((s), (name), (setup), (teardown), (const TTest *const[]){__VA_ARGS__},        \
                   sizeof((const TTest *const[]){__VA_ARGS__}) / sizeof(const TTest *))

#endif

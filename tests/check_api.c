/*
 * check_api.c: the library's public conventions: version macros, status strings, the
 * init/finalize session, the per-thread last error, and frees that accept NULL.
 */
#include "config.h"
#include "testutil.h"

#include "core/internal.h"

#include <pthread.h>
#include <signal.h>

START_TEST(test_version)
{
    ck_assert_str_eq(gfuse_version(), GFUSE_VERSION_STRING);
    ck_assert_str_eq(gfuse_version(), PACKAGE_VERSION);
    char built[64];
    snprintf(built, sizeof built, "%d.%d.%d", GFUSE_VERSION_MAJOR, GFUSE_VERSION_MINOR,
             GFUSE_VERSION_PATCH);
    ck_assert_str_eq(built, GFUSE_VERSION_STRING);
    ck_assert_int_eq(GFUSE_VERSION_HEX, (GFUSE_VERSION_MAJOR << 16) | (GFUSE_VERSION_MINOR << 8) |
                                            GFUSE_VERSION_PATCH);
    int major, minor, patch;
    ck_assert_int_eq(sscanf(gfuse_version(), "%d.%d.%d", &major, &minor, &patch), 3);
    ck_assert_int_eq(major, GFUSE_VERSION_MAJOR);
    ck_assert_int_eq(minor, GFUSE_VERSION_MINOR);
    ck_assert_int_eq(patch, GFUSE_VERSION_PATCH);
}
END_TEST

START_TEST(test_status_strings)
{
    const gfuse_status all[] = {GFUSE_OK,         GFUSE_ERR_NOMEM, GFUSE_ERR_ARG,
                                GFUSE_ERR_IO,     GFUSE_ERR_DATA,  GFUSE_ERR_MODEL,
                                GFUSE_ERR_RUNTIME, GFUSE_ERR_STATE,
                                GFUSE_ERR_INTERRUPTED};
    ck_assert_str_eq(gfuse_status_string(GFUSE_OK), "success");
    ck_assert_str_eq(gfuse_status_string(GFUSE_ERR_DATA), "bad input data");
    ck_assert_str_eq(gfuse_status_string(GFUSE_ERR_IO), "input/output error");
    ck_assert_str_eq(gfuse_status_string((gfuse_status)-99), "unknown status");
    /* every status has its own, known name */
    for (size_t a = 0; a < sizeof all / sizeof *all; a++) {
        ck_assert_str_ne(gfuse_status_string(all[a]), "unknown status");
        for (size_t b = 0; b < a; b++)
            ck_assert_str_ne(gfuse_status_string(all[a]), gfuse_status_string(all[b]));
    }
    /* 0 is success and every error is negative */
    ck_assert_int_eq(GFUSE_OK, 0);
    for (size_t a = 1; a < sizeof all / sizeof *all; a++) ck_assert_int_lt(all[a], 0);
}
END_TEST

START_TEST(test_init_nesting)
{
    ck_assert(!gfuse_i_initialised());
    ck_assert_int_eq(gfuse_init(), GFUSE_OK);
    ck_assert_int_eq(gfuse_init(), GFUSE_OK);
    ck_assert(gfuse_i_initialised());
    gfuse_finalize();
    ck_assert(gfuse_i_initialised()); /* still one session open */
    gfuse_finalize();
    ck_assert(!gfuse_i_initialised());
    gfuse_finalize(); /* an extra finalize is harmless */
    ck_assert(!gfuse_i_initialised());
    ck_assert_int_eq(gfuse_init(), GFUSE_OK); /* and a new session can start */
    ck_assert(gfuse_i_initialised());
    gfuse_finalize();
}
END_TEST

START_TEST(test_threads_setting)
{
    ck_assert_int_eq(gfuse_init(), GFUSE_OK);
    ck_assert_int_eq(gfuse_set_threads(-1), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "n_threads must be at least 0, got -1");
    ck_assert_int_eq(gfuse_set_threads(1), GFUSE_OK);
    ck_assert_int_eq(gfuse_get_threads(), 1);
    ck_assert_int_eq(gfuse_set_threads(0), GFUSE_OK);
    ck_assert_int_ge(gfuse_get_threads(), 1);
    gfuse_finalize();
}
END_TEST

/* Each thread makes its own failure and must read back its own message. */
typedef struct {
    int n_samples;
    char message[256];
    char initial[256];
} thread_case;

static void *fail_in_thread(void *arg)
{
    thread_case *t = arg;
    snprintf(t->initial, sizeof t->initial, "%s", gfuse_last_error());
    for (int round = 0; round < 1000; round++) {
        gfuse_cohort *c = NULL;
        const char *ids[] = {"x"};
        gfuse_cohort_new(&c, -t->n_samples, ids);
        snprintf(t->message, sizeof t->message, "%s", gfuse_last_error());
    }
    return NULL;
}

START_TEST(test_last_error_per_thread)
{
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, 0, NULL), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "n_samples must be at least 1, got 0");
    thread_case t[2] = {{.n_samples = 5}, {.n_samples = 7}};
    pthread_t th[2];
    for (int k = 0; k < 2; k++) ck_assert_int_eq(pthread_create(&th[k], NULL, fail_in_thread, &t[k]), 0);
    for (int k = 0; k < 2; k++) ck_assert_int_eq(pthread_join(th[k], NULL), 0);
    ck_assert_str_eq(t[0].initial, ""); /* a new thread starts with no error */
    ck_assert_str_eq(t[1].initial, "");
    ck_assert_str_eq(t[0].message, "n_samples must be at least 1, got -5");
    ck_assert_str_eq(t[1].message, "n_samples must be at least 1, got -7");
    /* this thread's message is untouched */
    ck_assert_str_eq(gfuse_last_error(), "n_samples must be at least 1, got 0");
}
END_TEST

START_TEST(test_error_formatting)
{
    ck_assert_int_eq(gfuse_i_error_at(GFUSE_ERR_DATA, "f.csv", 3, 4, "bad %s", "cell"),
                     GFUSE_ERR_DATA);
    ck_assert_str_eq(gfuse_last_error(), "f.csv:3:4: bad cell");
    gfuse_i_error_at(GFUSE_ERR_DATA, "f.csv", 3, 0, "bad row");
    ck_assert_str_eq(gfuse_last_error(), "f.csv:3: bad row");
    ck_assert_int_eq(gfuse_i_nomem("a thing"), GFUSE_ERR_NOMEM);
    ck_assert_str_eq(gfuse_last_error(), "out of memory while allocating a thing");
    gfuse_i_clear_error();
    ck_assert_str_eq(gfuse_last_error(), "");
}
END_TEST

/* The BLAS kernel advice names a tuned family or nothing, and nothing once OPENBLAS_CORETYPE
 * is set (OpenBLAS then runs what the user chose). */
START_TEST(test_blas_core_suggestion)
{
    const char *core = gfuse_blas_core_suggestion();
    ck_assert(core == NULL || strcmp(core, "SkylakeX") == 0 || strcmp(core, "Haswell") == 0);
    ck_assert_int_eq(setenv("OPENBLAS_CORETYPE", "Haswell", 1), 0);
    ck_assert_ptr_null(gfuse_blas_core_suggestion());
    unsetenv("OPENBLAS_CORETYPE");
}
END_TEST

START_TEST(test_free_accepts_null)
{
    gfuse_cohort *c = NULL;
    gfuse_cohort_free(&c);
    gfuse_cohort_free(NULL);
    ck_assert_ptr_null(c);
    gfuse_patterns p = {0};
    gfuse_patterns_free(&p);
    gfuse_patterns_free(NULL);
    gfuse_cohort_options_init(NULL);
    const char *ids[] = {"a"};
    ck_assert_int_eq(gfuse_cohort_new(&c, 1, ids), GFUSE_OK);
    gfuse_cohort_free(&c);
    ck_assert_ptr_null(c);
    gfuse_cohort_free(&c); /* freeing twice through the handle is safe */
}
END_TEST

START_TEST(test_out_param_null_on_failure)
{
    gfuse_cohort *c = (gfuse_cohort *)&c;
    const char *ids[] = {"a", "a"};
    ck_assert_int_eq(gfuse_cohort_new(&c, 2, ids), GFUSE_ERR_ARG);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(gfuse_cohort_new(NULL, 2, ids), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "out must not be NULL");
    gfuse_patterns p;
    ck_assert_int_eq(gfuse_cohort_patterns(NULL, &p), GFUSE_ERR_ARG);
    ck_assert_ptr_null(p.pattern);
    ck_assert_int_eq(p.n_patterns, 0);
}
END_TEST

/* gfuse_temp_hold keeps SIGTERM from the calling thread until the outermost release (holds
 * nest); the signal then acts once. */
static volatile sig_atomic_t terms_seen;
static void count_term(int sig)
{
    (void)sig;
    terms_seen++;
}

START_TEST(test_temp_hold)
{
    struct sigaction sa, before;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_term;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGTERM, &sa, &before), 0);
    terms_seen = 0;
    gfuse_temp_hold();
    gfuse_temp_hold();
    ck_assert_int_eq(raise(SIGTERM), 0);
    ck_assert_int_eq(terms_seen, 0);
    gfuse_temp_release();
    ck_assert_int_eq(terms_seen, 0); /* still held by the outer hold */
    gfuse_temp_release();
    ck_assert_int_eq(terms_seen, 1);
    gfuse_temp_release(); /* an unmatched release changes nothing */
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    ck_assert(!sigismember(&now, SIGTERM));
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    /* pending while blocked by the caller's own mask: the hold leaves it to the caller */
    pthread_sigmask(SIG_BLOCK, &term, NULL);
    raise(SIGTERM);
    gfuse_temp_hold();
    ck_assert_int_eq(terms_seen, 1);
    gfuse_temp_release();
    ck_assert_int_eq(terms_seen, 1);
    pthread_sigmask(SIG_UNBLOCK, &term, NULL);
    ck_assert_int_eq(terms_seen, 2);
    sigaction(SIGTERM, &before, NULL);
}
END_TEST

Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_status_strings);
    tcase_add_test(tc, test_init_nesting);
    tcase_add_test(tc, test_threads_setting);
    tcase_add_test(tc, test_last_error_per_thread);
    tcase_add_test(tc, test_error_formatting);
    tcase_add_test(tc, test_blas_core_suggestion);
    tcase_add_test(tc, test_free_accepts_null);
    tcase_add_test(tc, test_out_param_null_on_failure);
    tcase_add_test(tc, test_temp_hold);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(api_suite()); }

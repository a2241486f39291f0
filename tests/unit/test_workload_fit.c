/* test_workload_fit.c - the fit of the measured workload model (core/workload_fit.h) recovers
 * known curves and constants from made-up runs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hb_test.h"
#include "workload_fit.h"

static const hb_profile_piece *last(const hb_profile_curve *c) { return &c->p[c->n - 1]; }

START_TEST(exec_fit_recovers_a_line)
{
    double x[] = {1, 2, 3, 4, 5, 1, 3}, y[7];
    for (int i = 0; i < 7; i++)
        y[i] = 2 + 3 * x[i];
    hb_profile_curve cv = {0};
    const char *kind;
    hb_error e;
    ck_assert_int_eq(hb_fit_exec_curve(x, y, 7, 0, &cv, &kind, &e), HB_OK);
    ck_assert_str_eq(kind, "a+b*x");
    ck_assert_uint_eq(cv.n, 2);
    ck_assert_double_eq_tol(last(&cv)->a, 2, 1e-9);
    ck_assert_double_eq_tol(last(&cv)->b, 3, 1e-9);
    ck_assert_double_eq_tol(last(&cv)->c, 0, 1e-12);
    /* held constant below the smallest size, the model above it */
    ck_assert_double_eq_tol(hb_profile_eval(&cv, 0.5), 5, 1e-9);
    ck_assert_double_eq_tol(hb_profile_eval(&cv, 100), 302, 1e-6);
    free(cv.p);
}
END_TEST

START_TEST(exec_fit_recovers_x_log_x)
{
    double x[] = {2, 4, 8, 16, 32, 64}, y[6];
    for (int i = 0; i < 6; i++)
        y[i] = 1 + 0.5 * x[i] + 0.25 * x[i] * log2(x[i]);
    hb_profile_curve cv = {0};
    const char *kind;
    hb_error e;
    ck_assert_int_eq(hb_fit_exec_curve(x, y, 6, 1, &cv, &kind, &e), HB_OK);
    ck_assert_str_eq(kind, "a+b*x+c*x*log2(x)");
    ck_assert_double_eq_tol(last(&cv)->a, 1, 1e-8);
    ck_assert_double_eq_tol(last(&cv)->b, 0.5, 1e-8);
    ck_assert_double_eq_tol(last(&cv)->c, 0.25, 1e-8);
    free(cv.p);
}
END_TEST

START_TEST(exec_fit_of_one_size_is_the_median)
{
    double x[] = {4, 4, 4}, y[] = {1, 3, 2};
    hb_profile_curve cv = {0};
    const char *kind;
    hb_error e;
    ck_assert_int_eq(hb_fit_exec_curve(x, y, 3, 1, &cv, &kind, &e), HB_OK);
    ck_assert_str_eq(kind, "constant");
    ck_assert_double_eq(hb_profile_eval(&cv, 1000), 2);
    free(cv.p);
}
END_TEST

START_TEST(memory_fit_goes_through_the_medians)
{
    double x[] = {1, 1, 2, 2, 4}, y[] = {10, 12, 20, 22, 40};
    int same[] = {1, 1, 1, 1, 1}, more[] = {1, 1, 1, 1, 2};
    hb_profile_curve cv = {0}, flat = {0};
    hb_error e;
    ck_assert_int_eq(hb_fit_memory_curve(x, y, same, 5, &cv, &e), HB_OK);
    ck_assert_double_eq_tol(hb_profile_eval(&cv, 0.5), 11, 1e-12);
    ck_assert_double_eq_tol(hb_profile_eval(&cv, 1.5), 16, 1e-12);
    ck_assert_double_eq_tol(hb_profile_eval(&cv, 4), 40, 1e-12);
    ck_assert_double_eq_tol(hb_profile_eval(&cv, 6), 59, 1e-12);   /* the last rise continues */
    /* a rise that came with more workers stays flat above the largest size */
    ck_assert_int_eq(hb_fit_memory_curve(x, y, more, 5, &flat, &e), HB_OK);
    ck_assert_double_eq_tol(hb_profile_eval(&flat, 6), 40, 1e-12);
    free(cv.p);
    free(flat.p);
}
END_TEST

START_TEST(whole_fit_recovers_the_model)
{
    const int64_t sizes[] = {1, 2, 4};
    const double cpus[] = {1, 2};
    hb_fit_run runs[12];
    size_t n = 0;
    for (int s = 0; s < 3; s++)
        for (int c = 0; c < 2; c++)
            for (int rep = 0; rep < 2; rep++) {
                hb_fit_run *r = &runs[n++];
                memset(r, 0, sizeof *r);
                r->size = sizes[s];
                r->cores = cpus[c];
                r->wall_s = (0.1 + 0.05 * (double)sizes[s]) * (rep ? 1.01 : 0.99);
                r->total_s = r->wall_s + 0.02;
                r->cpu_s = 2 * r->total_s;        /* both cores busy */
                r->mem_peak_mb = 100 + 10 * (double)sizes[s];
                r->other_load = 0;
                r->mem_start_frac = 0.25;
                r->ramp_frac = 0.5;
                r->workers = 2;
            }
    hb_fit_grid g = {"alu", sizes, 3, cpus, 2, 0, 1, 0.5};
    hb_profile_func pf;
    char summary[512];
    hb_error e;
    ck_assert_int_eq(hb_workload_fit(&g, runs, n, &pf, summary, sizeof summary, &e), HB_OK);
    ck_assert_int_eq(pf.present, 1);
    ck_assert_double_eq(pf.ref_cores, 2);
    ck_assert_double_eq_tol(hb_profile_eval(&pf.exec_s, 3), 0.25, 1e-3);
    ck_assert_double_eq_tol(hb_profile_eval(&pf.mem_peak_mb, 3), 130, 1e-9);
    ck_assert_double_eq(hb_profile_eval(&pf.parallelism, 3), 2);
    ck_assert_double_eq_tol(pf.cold_start_s, 0.02, 1e-12);
    ck_assert_double_eq(pf.mem_start_frac, 0.25);
    ck_assert_double_eq(pf.mem_ramp_frac, 0.5);
    ck_assert_msg(pf.cv > 0.005 && pf.cv < 0.03, "cv %g", pf.cv);
    ck_assert_ptr_nonnull(strstr(summary, "alu: exec_s a+b*x"));
    ck_assert_ptr_nonnull(strstr(summary, "0 of 12 runs disturbed"));
    free(pf.exec_s.p);
    free(pf.mem_peak_mb.p);
    free(pf.parallelism.p);
}
END_TEST

HB_TEST_MAIN("workload_fit", exec_fit_recovers_a_line, exec_fit_recovers_x_log_x,
             exec_fit_of_one_size_is_the_median, memory_fit_goes_through_the_medians,
             whole_fit_recovers_the_model)
